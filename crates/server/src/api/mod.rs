//! The NocoBase-compatible `/api/<resource>:<action>` API.

pub mod access_rules;
pub mod audit_logs;
pub mod auth;
pub mod authenticators;
pub mod device;
pub mod oidc_clients;
pub mod openapi;
pub mod ops;
pub mod people;
pub mod sessions;
pub mod token_policy;
pub mod users;
pub mod views;

use crate::error::{ApiError, ApiResult, Text};
use crate::state::AppState;
use authgate_core::model::Authenticator;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth:signIn", post(auth::sign_in))
        .route("/api/auth:signUp", post(auth::sign_up))
        .route("/api/auth:signOut", post(auth::sign_out))
        .route("/api/auth:check", get(auth::check))
        .route("/api/auth:changePassword", post(auth::change_password))
        .route("/api/auth:unlinkIdentity", post(auth::unlink_identity))
        .route("/api/auth:sessions", get(sessions::mine))
        .route("/api/auth:revokeSession", post(sessions::revoke_mine))
        .route(
            "/api/authenticators:publicList",
            get(authenticators::public_list),
        )
        .route(
            "/api/authenticators:listTypes",
            get(authenticators::list_types),
        )
        .route("/api/authenticators:list", get(authenticators::list))
        .route("/api/authenticators:get", get(authenticators::get_one))
        .route("/api/authenticators:create", post(authenticators::create))
        .route("/api/authenticators:update", post(authenticators::update))
        .route("/api/authenticators:destroy", post(authenticators::destroy))
        .route("/api/authenticators:move", post(authenticators::move_one))
        .route("/api/users:list", get(users::list))
        .route("/api/users:get", get(users::get_one))
        .route("/api/users:create", post(users::create))
        .route("/api/users:update", post(users::update))
        .route("/api/users:destroy", post(users::destroy))
        .route("/api/users:unlinkIdentity", post(users::unlink_identity))
        .route("/api/tokenPolicies:get", get(token_policy::get_policy))
        .route(
            "/api/tokenPolicies:update",
            post(token_policy::update_policy),
        )
        .route("/api/auditLogs:list", get(audit_logs::list))
        .route("/api/sessions:list", get(sessions::list))
        .route("/api/sessions:revoke", post(sessions::revoke))
        .route("/api/sessions:revokeUser", post(sessions::revoke_user))
        .route("/api/oidcClients:list", get(oidc_clients::list))
        .route("/api/oidcClients:get", get(oidc_clients::get_one))
        .route("/api/oidcClients:create", post(oidc_clients::create))
        .route("/api/oidcClients:update", post(oidc_clients::update))
        .route("/api/oidcClients:destroy", post(oidc_clients::destroy))
        .route(
            "/api/oidcClients:rotateSecret",
            post(oidc_clients::rotate_secret),
        )
        .route("/api/oidcGrants:list", get(oidc_clients::list_grants))
        .route("/api/oidcGrants:revoke", post(oidc_clients::revoke_grants))
        .route("/api/auth:applications", get(oidc_clients::mine))
        .route(
            "/api/auth:removeApplication",
            post(oidc_clients::remove_mine),
        )
        .route("/api/accessRules:list", get(access_rules::list))
        .route("/api/accessRules:create", post(access_rules::create))
        .route("/api/accessRules:update", post(access_rules::update))
        .route("/api/accessRules:destroy", post(access_rules::destroy))
        .route("/api/accessRules:move", post(access_rules::move_rule))
        .route("/api/accessRules:explain", get(access_rules::explain))
        .route("/api/openapi.json", get(openapi::document))
        .route("/.well-known/jwks.json", get(ops::jwks))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
}

/// The authenticator named by `X-Authenticator`: missing, unknown or disabled is a 400 that
/// says so (NocoBase silently falls back to another one; we never do).
pub async fn authenticator_from_header(
    state: &AppState,
    headers: &HeaderMap,
) -> ApiResult<Authenticator> {
    let name = headers
        .get("x-authenticator")
        .map(|v| v.to_str().map(str::trim))
        .transpose()
        .map_err(|_| ApiError::bad_request(Text::new("The X-Authenticator header is not valid text", "X-Authenticator 请求头不是有效的文本")))?
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                Text::new("The X-Authenticator header is required: the name of the authenticator to use, e.g. basic", "缺少 X-Authenticator 请求头：请给出要使用的认证器名称，例如 basic"),
            )
        })?;
    if name.len() > 64 {
        return Err(ApiError::bad_request(Text::new(
            "The X-Authenticator header is too long",
            "X-Authenticator 请求头太长了",
        )));
    }
    let a = state
        .store
        .get_authenticator_by_name(name)
        .await?
        .ok_or_else(|| {
            ApiError::bad_request(Text::new(
                format!("Authenticator '{name}' does not exist"),
                format!("认证器“{name}”不存在"),
            ))
        })?;
    if !a.enabled {
        return Err(ApiError::bad_request(Text::new(
            format!("Authenticator '{name}' is disabled"),
            format!("认证器“{name}”已停用"),
        )));
    }
    Ok(a)
}
