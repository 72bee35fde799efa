//! The provider's JWTs: ID tokens (RS256 by default, EdDSA on request), access tokens
//! (RFC 9068 `at+jwt`, EdDSA: cheap to sign, verifiable by resource servers against the JWKS,
//! and judged for revocation by introspection), and the verification of both.

use crate::auth::keys::{JwsAlg, SigningKeys};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use jsonwebtoken::Validation;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// ID tokens are read once, at sign-in: an hour is plenty.
pub const ID_TOKEN_TTL_S: i64 = 3600;
const VERIFIED_CACHE_MAX: usize = 20_000;
const MAX_TOKEN_LEN: usize = 4096;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// The grant it was issued from; none for `client_credentials`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub gid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub auth_time: Option<i64>,
}

pub fn sign(keys: &SigningKeys, alg: JwsAlg, typ: &str, claims: &impl Serialize) -> String {
    let header = json!({"alg": alg.name(), "typ": typ, "kid": keys.kid(alg)});
    let payload = serde_json::to_vec(claims).expect("claims serialise");
    keys.sign_compact(alg, header.to_string().as_bytes(), &payload)
}

pub fn sign_access_token(keys: &SigningKeys, claims: &AccessClaims) -> String {
    sign(keys, JwsAlg::EdDSA, "at+jwt", claims)
}

/// `at_hash` (OIDC Core 3.1.3.6): the left half of the hash of the access token, with the
/// hash of the ID token's algorithm: SHA-256 for RS256, SHA-512 for EdDSA over Ed25519.
pub fn at_hash(alg: JwsAlg, access_token: &str) -> String {
    match alg {
        JwsAlg::RS256 => B64URL.encode(&Sha256::digest(access_token.as_bytes())[..16]),
        JwsAlg::EdDSA => B64URL.encode(&sha2::Sha512::digest(access_token.as_bytes())[..32]),
    }
}

/// Access tokens whose signature was verified (a token is immutable; revocation and expiry
/// are judged on every use).
#[derive(Default)]
pub struct VerifiedAccessTokens(Mutex<HashMap<String, AccessClaims>>);

impl VerifiedAccessTokens {
    /// The claims of one of our access tokens with a valid signature and issuer, whatever its
    /// expiry (the caller judges that).
    pub fn verify(&self, keys: &SigningKeys, issuer: &str, token: &str) -> Option<AccessClaims> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        if let Some(hit) = self.0.lock().expect("not poisoned").get(token) {
            return Some(hit.clone());
        }
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.typ.as_deref() != Some("at+jwt") {
            return None;
        }
        let claims: AccessClaims = verify_signed(keys, issuer, token)?;
        let mut cache = self.0.lock().expect("not poisoned");
        if cache.len() >= VERIFIED_CACHE_MAX {
            cache.clear();
        }
        cache.insert(token.to_string(), claims.clone());
        Some(claims)
    }
}

/// The claims of a JWT signed by one of our keys with that key's algorithm and naming
/// `issuer`; expiry is not checked (ID token hints may have expired, and access tokens'
/// expiry is judged by the caller).
pub fn verify_signed<T: serde::de::DeserializeOwned>(
    keys: &SigningKeys,
    issuer: &str,
    token: &str,
) -> Option<T> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let header = jsonwebtoken::decode_header(token).ok()?;
    let (alg, key) = keys.verifying_key(header.kid.as_deref()?)?;
    if header.alg != alg {
        return None;
    }
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims = ["iss".to_string()].into();
    validation.set_issuer(&[issuer]);
    jsonwebtoken::decode::<T>(token, &key, &validation)
        .ok()
        .map(|d| d.claims)
}

/// An ID token's claims as sent, for `id_token_hint`.
pub type IdTokenClaims = Map<String, Value>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_spec_example() {
        // OpenID Connect Core 1.0, Appendix A.3.
        assert_eq!(
            at_hash(JwsAlg::RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(at_hash(JwsAlg::EdDSA, "x").len(), 43, "half of SHA-512");
    }
}
