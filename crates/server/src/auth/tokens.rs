//! The JWT itself: NocoBase's claims, signed with EdDSA. Signing is deterministic, so the
//! same claims always give the same token (concurrent renewals rely on this).

use crate::auth::keys::SigningKeys;
use crate::error::{ApiError, Text};
use authgate_core::model::IssuedToken;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use ed25519_dalek::Signer;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub user_id: i64,
    pub temp: bool,
    /// Seconds since the epoch, as JWT requires.
    pub iat: i64,
    /// Milliseconds since the epoch, as NocoBase writes it.
    pub sign_in_time: i64,
    pub exp: i64,
    pub jti: String,
    pub iss: String,
}

/// Tokens whose signature was already verified. A token is immutable, so a repeat needs no
/// second Ed25519 verification (the costliest step of every authenticated request); what can
/// change (revocation, expiry, the user) is still checked on every request.
const VERIFIED_CACHE_MAX: usize = 20_000;

#[derive(Clone)]
pub struct TokenCodec {
    keys: Arc<SigningKeys>,
    /// `{"typ":"JWT","alg":"EdDSA","kid":..}`, the same for every token.
    header_json: Vec<u8>,
    issuer: String,
    validation: Validation,
    verified: Arc<Mutex<HashMap<String, Claims>>>,
}

impl TokenCodec {
    pub fn new(keys: Arc<SigningKeys>, issuer: String) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        // Expiry is judged by the session rules (renewal window), not by the decoder.
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "iss"].iter().map(|s| s.to_string()).collect();
        validation.set_issuer(&[issuer.as_str()]);
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(keys.active_kid.clone());
        Self {
            header_json: serde_json::to_vec(&header).expect("a header serialises"),
            keys,
            issuer,
            validation,
            verified: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub fn keys(&self) -> &SigningKeys {
        &self.keys
    }

    pub fn claims_for(&self, token: &IssuedToken, sign_in_time: i64) -> Claims {
        Claims {
            user_id: token.user_id,
            temp: true,
            iat: token.issued_at / 1000,
            sign_in_time,
            exp: token.expires_at / 1000,
            jti: token.jti.clone(),
            iss: self.issuer.clone(),
        }
    }

    /// The compact JWS `jsonwebtoken::encode` writes (the tests compare them), signed with the
    /// key parsed once: `encode` parses the PKCS#8 key and derives its public half, as costly
    /// as the signature itself, on every call.
    pub fn sign(&self, claims: &Claims) -> Result<String, ApiError> {
        let mut jws = B64URL.encode(&self.header_json);
        jws.push('.');
        B64URL.encode_string(
            serde_json::to_vec(claims).map_err(ApiError::internal)?,
            &mut jws,
        );
        let signature = self.keys.signing_key().sign(jws.as_bytes());
        jws.push('.');
        B64URL.encode_string(signature.to_bytes(), &mut jws);
        Ok(jws)
    }

    /// Checks the signature, algorithm, key and issuer; any failure is INVALID_TOKEN.
    pub fn decode(&self, token: &str) -> Result<Claims, ApiError> {
        let invalid = || {
            ApiError::unauthorized(
                "INVALID_TOKEN",
                Text::new(
                    "The token is invalid, please sign in again",
                    "令牌无效，请重新登录",
                ),
            )
        };
        if token.len() > 4096 {
            return Err(invalid());
        }
        if let Some(claims) = self.verified.lock().expect("not poisoned").get(token) {
            return Ok(claims.clone());
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.alg != Algorithm::EdDSA {
            return Err(invalid());
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.decoding_key(kid))
            .ok_or_else(invalid)?;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| invalid())?;
        let mut cache = self.verified.lock().expect("not poisoned");
        if cache.len() >= VERIFIED_CACHE_MAX {
            // Crude but bounded: live tokens are re-verified once and cached again.
            cache.clear();
        }
        cache.insert(token.to_string(), claims.clone());
        Ok(claims)
    }
}

/// The body of the fuzz target `jwt` (`fuzz/`), shared with the regression test that replays
/// `fuzz/corpus/jwt/` and `fuzz/regressions/jwt/`. Panics when a property does not hold.
#[doc(hidden)]
pub mod fuzzing {
    use super::{Claims, TokenCodec};
    use crate::auth::keys::SigningKeys;
    use crate::error::ApiError;
    use axum::http::StatusCode;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
    use base64::Engine;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use std::sync::{Arc, OnceLock};

    const ISSUER: &str = "https://auth.example.com";

    struct Fixture {
        codec: TokenCodec,
        /// Another key (and so another kid).
        other_key: TokenCodec,
        /// The same key, another issuer.
        other_issuer: TokenCodec,
    }

    fn fixture() -> &'static Fixture {
        static FIXTURE: OnceLock<Fixture> = OnceLock::new();
        FIXTURE.get_or_init(|| {
            let keys = Arc::new(SigningKeys::from_seed([7; 32]));
            Fixture {
                codec: TokenCodec::new(keys.clone(), ISSUER.into()),
                other_key: TokenCodec::new(
                    Arc::new(SigningKeys::from_seed([9; 32])),
                    ISSUER.into(),
                ),
                other_issuer: TokenCodec::new(keys, "https://other.example.com".into()),
            }
        })
    }

    #[track_caller]
    fn assert_rejected(result: Result<Claims, ApiError>, token: &str) {
        match result {
            Ok(claims) => panic!("accepted {token:?} as {claims:?}"),
            Err(e) => {
                assert_eq!(e.status, StatusCode::UNAUTHORIZED, "{token:?}");
                assert_eq!(e.code, "INVALID_TOKEN", "{token:?}");
            }
        }
    }

    /// Even byte 0: the rest is a token, which cannot be valid (the fuzzer does not hold the
    /// key). Odd: claims read from the rest are signed with the key; the token decodes to them,
    /// is refused by another key or issuer, cannot be forged, and a changed byte either makes
    /// it invalid or leaves the claims as they were.
    pub fn jwt(data: &[u8]) {
        let f = fixture();
        let rest = data.get(1..).unwrap_or_default();
        if data.first().copied().unwrap_or(0) % 2 == 0 {
            let token = String::from_utf8_lossy(rest);
            assert_rejected(f.codec.decode(&token), &token);
            return;
        }
        let mut input = Input(rest);
        let flags = input.byte();
        let claims = Claims {
            user_id: input.i64(),
            temp: flags & 1 == 1,
            iat: input.i64(),
            sign_in_time: input.i64(),
            exp: input.i64(),
            jti: String::new(),
            iss: if flags & 2 == 0 {
                ISSUER.into()
            } else {
                format!("{ISSUER}/")
            },
        };
        let position = usize::from(u16::from_le_bytes([input.byte(), input.byte()]));
        let flip = input.byte().max(1);
        let claims = Claims {
            jti: String::from_utf8_lossy(input.0).into_owned(),
            ..claims
        };

        let token = f.codec.sign(&claims).expect("signing cannot fail");
        match f.codec.decode(&token) {
            Ok(decoded) => assert_eq!(decoded, claims, "{token}"),
            Err(_) if claims.iss != ISSUER || claims.exp < 0 || token.len() > 4096 => {}
            Err(e) => panic!("own token refused ({}): {claims:?}", e.message),
        }
        // Decoding again (now from the cache) gives the same answer.
        assert_eq!(
            f.codec.decode(&token).ok(),
            f.codec.decode(&token).ok(),
            "{token}"
        );
        assert_rejected(f.other_key.decode(&token), &token);
        assert_rejected(f.other_issuer.decode(&token), &token);

        // Signed by another key under our kid.
        let header = Header {
            kid: Some(f.codec.keys().active_kid.clone()),
            ..Header::new(Algorithm::EdDSA)
        };
        let forged = jsonwebtoken::encode(&header, &claims, &f.other_key.keys().encoding)
            .expect("signing cannot fail");
        assert_rejected(f.codec.decode(&forged), &forged);
        // Algorithm confusion: HMAC keyed with the public key, or no signature at all.
        let public = f.codec.keys().jwks()["keys"][0]["x"].to_string();
        let hmac = Header {
            kid: header.kid.clone(),
            ..Header::new(Algorithm::HS256)
        };
        let forged =
            jsonwebtoken::encode(&hmac, &claims, &EncodingKey::from_secret(public.as_bytes()))
                .expect("signing cannot fail");
        assert_rejected(f.codec.decode(&forged), &forged);
        let payload = token.split('.').nth(1).expect("three parts");
        let none_header = serde_json::json!({"alg": "none", "typ": "JWT", "kid": header.kid});
        let forged = format!("{}.{payload}.", B64URL.encode(none_header.to_string()));
        assert_rejected(f.codec.decode(&forged), &forged);

        // One changed byte.
        let mut changed = token.clone().into_bytes();
        let at = position % changed.len();
        changed[at] ^= flip;
        if let Ok(changed) = String::from_utf8(changed) {
            if let Ok(decoded) = f.codec.decode(&changed) {
                assert_eq!(decoded, claims, "{changed:?} from {token:?}");
            }
        }
    }

    /// Fixed-size fields from the front of the input; zeros once it runs out.
    struct Input<'a>(&'a [u8]);

    impl Input<'_> {
        fn byte(&mut self) -> u8 {
            let (first, rest) = self.0.split_first().unwrap_or((&0, &[]));
            self.0 = rest;
            *first
        }

        fn i64(&mut self) -> i64 {
            i64::from_le_bytes(std::array::from_fn(|_| self.byte()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{fuzzing, Claims, TokenCodec};
    use crate::auth::keys::SigningKeys;
    use jsonwebtoken::{Algorithm, Header};
    use std::path::PathBuf;
    use std::sync::Arc;

    #[test]
    fn signs_exactly_what_jsonwebtoken_would() {
        let keys = Arc::new(SigningKeys::from_seed([3; 32]));
        let codec = TokenCodec::new(keys.clone(), "https://auth.example.com".into());
        let claims = Claims {
            user_id: 42,
            temp: true,
            iat: 1_700_000_000,
            sign_in_time: 1_700_000_000_123,
            exp: 1_700_086_400,
            jti: "jti-\"quoted\"-é".into(),
            iss: "https://auth.example.com".into(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(keys.active_kid.clone());
        let theirs = jsonwebtoken::encode(&header, &claims, &keys.encoding).unwrap();
        let ours = codec.sign(&claims).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(codec.decode(&ours).unwrap(), claims);
    }

    #[test]
    fn jwt_fuzz_corpus() {
        let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
        let mut seen = 0;
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join("jwt")) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                if std::panic::catch_unwind(|| fuzzing::jwt(&data)).is_err() {
                    panic!("fuzz input {} fails", path.display());
                }
                seen += 1;
            }
        }
        assert!(seen > 0, "no corpus for jwt under {fuzz:?}");
    }

    #[test]
    fn own_tokens_round_trip() {
        // Odd first byte: sign claims (user 1, exp 1, jti "abc") and check them.
        let mut data = vec![1, 0, 1, 0, 0, 0, 0, 0, 0, 0];
        data.extend([0; 16]);
        data.extend([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        data.extend(b"abc");
        fuzzing::jwt(&data);
        fuzzing::jwt(b"\0eyJhbGciOiJub25lIn0.e30.");
    }
}
