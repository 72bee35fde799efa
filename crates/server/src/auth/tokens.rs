//! The JWT itself: NocoBase's claims, signed with EdDSA. Signing is deterministic, so the
//! same claims always give the same token (concurrent renewals rely on this).

use crate::auth::keys::SigningKeys;
use crate::error::ApiError;
use authgate_core::model::IssuedToken;
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
        Self {
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

    pub fn sign(&self, claims: &Claims) -> Result<String, ApiError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.keys.active_kid.clone());
        jsonwebtoken::encode(&header, claims, &self.keys.encoding).map_err(ApiError::internal)
    }

    /// Checks the signature, algorithm, key and issuer; any failure is INVALID_TOKEN.
    pub fn decode(&self, token: &str) -> Result<Claims, ApiError> {
        let invalid = || {
            ApiError::unauthorized(
                "INVALID_TOKEN",
                "The token is invalid, please sign in again",
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
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
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
