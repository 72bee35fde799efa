//! The one-time `state` of the browser flow: a random nonce (only its hash is stored) bound to
//! the browser that asked for it by a random value in an HttpOnly cookie (only its hash stored).

use crate::auth::cookies;
use crate::config::ServerConfig;
use axum::http::{HeaderMap, HeaderValue};
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const BINDING_COOKIE: &str = "authgate_dingtalk_binding";
pub const STATE_TTL_MS: i64 = 10 * 60_000;

pub fn hash(value: &str) -> String {
    B64URL.encode(Sha256::digest(value.as_bytes()))
}

fn well_formed(v: &str) -> bool {
    v.len() == 22
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The browser's binding value. Reused when present, so sign-ins started in two tabs both work.
pub fn binding_of(headers: &HeaderMap) -> Option<String> {
    cookies::read(headers, BINDING_COOKIE).filter(|v| well_formed(v))
}

pub fn binding_matches(headers: &HeaderMap, stored_hash: &str) -> bool {
    binding_of(headers)
        .is_some_and(|v| bool::from(hash(&v).as_bytes().ct_eq(stored_hash.as_bytes())))
}

pub fn binding_cookie(config: &ServerConfig, value: &str) -> Option<HeaderValue> {
    let mut c = Cookie::new(BINDING_COOKIE, value.to_string());
    // Only the callback needs it; Lax still sends it on DingTalk's top-level redirect back.
    c.set_path("/api/");
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_secure(config.is_https());
    c.set_max_age(time::Duration::milliseconds(STATE_TTL_MS));
    HeaderValue::from_str(&c.to_string()).ok()
}
