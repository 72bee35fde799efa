//! authgate as an OpenID Connect provider: discovery, the authorization code flow (PKCE,
//! `query` and `form_post` answers), the token endpoint, UserInfo, introspection, revocation
//! and RP-initiated logout. Every code, grant, refresh token and revocation lives in the store,
//! so any node answers any step.

mod access;
pub mod authorize;
pub mod backchannel;
pub mod claims;
pub mod client;
mod client_auth;
mod consent;
mod cors;
mod discovery;
mod end_session;
mod errors;
pub mod grants;
mod introspection;
pub mod jwt;
mod pages;
pub mod params;
mod request;
mod token;
mod userinfo;

use crate::http::rate_limit::RateLimit;
use crate::state::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use sha2::{Digest, Sha256};
use std::time::Duration;

pub const AUTHORIZE_PATH: &str = "/oidc/authorize";
pub const TOKEN_PATH: &str = "/oidc/token";
pub const USERINFO_PATH: &str = "/oidc/userinfo";
pub const INTROSPECT_PATH: &str = "/oidc/introspect";
pub const REVOKE_PATH: &str = "/oidc/revoke";
pub const END_SESSION_PATH: &str = "/oidc/end_session";
pub const CONSENT_PATH: &str = "/oidc/consent";

/// Failed client authentications one address may make per minute on one node.
const CLIENT_AUTH_FAILURES_PER_MINUTE: u32 = 30;

/// What the provider keeps in memory: nothing a node needs to agree with another on.
pub struct OidcState {
    pub verified: jwt::VerifiedAccessTokens,
    pub client_auth_failures: RateLimit,
    /// Back-channel logout deliveries.
    pub http: reqwest::Client,
}

impl Default for OidcState {
    fn default() -> Self {
        Self {
            verified: jwt::VerifiedAccessTokens::default(),
            client_auth_failures: RateLimit::new(
                CLIENT_AUTH_FAILURES_PER_MINUTE,
                Duration::from_secs(60),
            ),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
        }
    }
}

pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(configuration))
        .route(AUTHORIZE_PATH, get(authorize::get).post(authorize::post))
        .route(CONSENT_PATH, post(consent::answer))
        .route(
            END_SESSION_PATH,
            get(end_session::get).post(end_session::post),
        )
        .merge(
            Router::new()
                .route(TOKEN_PATH, post(token::token).options(preflight))
                .route(
                    USERINFO_PATH,
                    get(userinfo::get).post(userinfo::post).options(preflight),
                )
                .route(
                    INTROSPECT_PATH,
                    post(introspection::introspect).options(preflight),
                )
                .route(REVOKE_PATH, post(introspection::revoke).options(preflight))
                .route_layer(axum::middleware::from_fn_with_state(
                    state,
                    cors::allow_registered_origins,
                )),
        )
}

/// Answered by the CORS layer; reached only without an `Origin` header.
async fn preflight() -> axum::http::StatusCode {
    axum::http::StatusCode::NO_CONTENT
}

async fn configuration(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (axum::http::header::CACHE_CONTROL, "public, max-age=300"),
            (axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        Json(discovery::document(&state.config.public_origin())),
    )
}

/// POSTs that carry no CSRF header: the authorization request may come from any site and does
/// what its GET does; the consent and sign-out forms carry the CSRF value as a form field,
/// which their handlers check.
pub fn checks_csrf_itself(path: &str) -> bool {
    matches!(path, AUTHORIZE_PATH | CONSENT_PATH | END_SESSION_PATH)
}

/// The endpoint whose bearer token is an OpenID Connect access token, not an authgate session:
/// the session middleware leaves it to the endpoint (judging it as a session would cost a
/// signature check and a database read, and fail).
pub fn takes_access_tokens(path: &str) -> bool {
    path == USERINFO_PATH
}

/// Codes and refresh tokens are kept as SHA-256 hashes: 256 random bits need no slow hash, and
/// a copy of the database yields none of them.
pub fn hash_code(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}
