//! authgate's HTTP server: the NocoBase-compatible API, sessions and tokens, and the auth
//! types (password first; others plug in through [`auth_types::AuthType`]), and the OpenID
//! Connect provider ([`oidc`]).

pub mod api;
pub mod audit;
pub mod auth;
pub mod auth_types;
pub mod bootstrap;
pub mod config;
pub mod error;
pub mod forward_auth;
pub mod housekeeping;
pub mod http;
pub mod lang;
pub mod metrics;
pub mod oidc;
pub mod pages;
pub mod passwords;
pub mod random_id;
pub mod state;

pub use config::ServerConfig;
pub use state::AppState;

/// The whole application router, middleware included.
pub fn app(state: AppState) -> axum::Router {
    http::router::build(state)
}
