//! Who the person is, in the headers the proxy copies onto the request it lets through:
//! `Remote-User` (the username, else the stable user id), `Remote-Name`, `Remote-Email`,
//! `Remote-Groups` (comma-separated; empty until groups exist) and, when asked for,
//! `Remote-Jwt`: the same, signed (EdDSA, verifiable against `/.well-known/jwks.json`), for
//! one minute, with the application's origin as its audience.

use crate::auth::keys::JwsAlg;
use crate::auth::sessions::Authenticated;
use crate::oidc::jwt;
use crate::state::AppState;
use authgate_core::clock::now_ms;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::json;
use url::Url;

pub const REMOTE_USER: &str = "remote-user";
pub const REMOTE_NAME: &str = "remote-name";
pub const REMOTE_EMAIL: &str = "remote-email";
pub const REMOTE_GROUPS: &str = "remote-groups";
pub const REMOTE_JWT: &str = "remote-jwt";

/// How long a `Remote-Jwt` is good for: the app checks it on the request it came with.
const JWT_TTL_S: i64 = 60;

pub fn add_headers(
    state: &AppState,
    me: &Authenticated,
    app: &Url,
    with_jwt: bool,
    out: &mut HeaderMap,
) {
    let u = &me.user;
    let user = u.username.clone().unwrap_or_else(|| u.id.to_string());
    let name = u
        .nickname
        .clone()
        .or_else(|| u.username.clone())
        .unwrap_or_default();
    let email = u.email.clone().unwrap_or_default();
    let mut set = |header: &'static str, value: &str| {
        // Names are UTF-8 (Chinese names): sent as bytes, which HTTP allows; a value that
        // cannot be a header (a line break) is left out rather than cut.
        if let Ok(v) = HeaderValue::from_bytes(value.as_bytes()) {
            out.insert(HeaderName::from_static(header), v);
        }
    };
    set(REMOTE_USER, &user);
    set(REMOTE_NAME, &name);
    set(REMOTE_EMAIL, &email);
    set(REMOTE_GROUPS, "");
    if with_jwt {
        let now = now_ms() / 1000;
        let claims = json!({
            "iss": state.config.public_origin(),
            "sub": crate::oidc::claims::subject(u.id),
            "aud": app.origin().ascii_serialization(),
            "iat": now,
            "exp": now + JWT_TTL_S,
            "preferred_username": user,
            "name": name,
            "email": u.email,
            "groups": Vec::<String>::new(),
        });
        let token = jwt::sign(state.tokens.keys(), JwsAlg::EdDSA, "JWT", &claims);
        set(REMOTE_JWT, &token);
    }
}
