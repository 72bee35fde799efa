//! Forward auth: reverse proxies (nginx `auth_request`, Traefik ForwardAuth, Caddy
//! `forward_auth`) ask authgate about every request to the applications they protect. The
//! session cookie reaches every host under `cookie_domain`; the access rules decide who may
//! pass; the person's identity goes to the application in `Remote-*` headers.

mod check;
mod identity;
mod original_request;
pub mod rules;

pub use check::{current_rules, person_of};

use crate::state::AppState;
use authgate_store::AccessRuleRecord;
use axum::routing::get;
use axum::Router;
use std::sync::{Arc, Mutex};

/// What forward auth keeps per node: the rules as last parsed, with the list they came from.
#[derive(Default)]
pub struct ForwardAuthState {
    parsed: Mutex<Option<ParsedRules>>,
}

type ParsedRules = (Arc<Vec<AccessRuleRecord>>, Arc<Vec<rules::Rule>>);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/authz/auth-request", get(check::auth_request))
        .route("/api/authz/forward-auth", get(check::forward_auth))
}
