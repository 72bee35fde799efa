//! Browser sessions: the token in an HttpOnly cookie, and a CSRF token in a cookie that
//! scripts can read and must echo in `X-CSRF-Token` on unsafe requests.

use crate::config::ServerConfig;
use authgate_core::token_policy::MAX_LIFETIME_MS;
use axum::http::{HeaderMap, HeaderValue};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use time::Duration;

pub const TOKEN_COOKIE: &str = "authgate_token";
pub const CSRF_COOKIE: &str = "authgate_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

fn base(name: &'static str, value: String, config: &ServerConfig) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_path("/");
    // With a cookie domain, every app under it receives the session (forward auth); without
    // one, the cookie is host-only.
    if let Some(domain) = &config.cookie_domain {
        c.set_domain(domain.clone());
    }
    c.set_same_site(SameSite::Lax);
    c.set_secure(config.is_https());
    c
}

/// `Set-Cookie` values for a signed-in browser. The cookies live as long as the session can.
pub fn session_cookies(
    config: &ServerConfig,
    token: &str,
    csrf: &str,
    max_age_ms: i64,
) -> Vec<HeaderValue> {
    let max_age = Duration::milliseconds(max_age_ms.clamp(0, MAX_LIFETIME_MS));
    let mut token_cookie = base(TOKEN_COOKIE, token.to_string(), config);
    token_cookie.set_http_only(true);
    token_cookie.set_max_age(max_age);
    let mut csrf_cookie = base(CSRF_COOKIE, csrf.to_string(), config);
    csrf_cookie.set_http_only(false);
    csrf_cookie.set_max_age(max_age);
    [token_cookie, csrf_cookie]
        .iter()
        .filter_map(|c| HeaderValue::from_str(&c.to_string()).ok())
        .collect()
}

/// Only the token cookie (renewal keeps the CSRF token).
pub fn token_cookie(config: &ServerConfig, token: &str, max_age_ms: i64) -> Option<HeaderValue> {
    let mut c = base(TOKEN_COOKIE, token.to_string(), config);
    c.set_http_only(true);
    c.set_max_age(Duration::milliseconds(max_age_ms.clamp(0, MAX_LIFETIME_MS)));
    HeaderValue::from_str(&c.to_string()).ok()
}

pub fn clearing_cookies(config: &ServerConfig) -> Vec<HeaderValue> {
    [TOKEN_COOKIE, CSRF_COOKIE]
        .into_iter()
        .filter_map(|name| {
            let mut c = base(name, String::new(), config);
            c.set_http_only(name == TOKEN_COOKIE);
            c.set_max_age(Duration::ZERO);
            HeaderValue::from_str(&c.to_string()).ok()
        })
        .collect()
}

pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}
