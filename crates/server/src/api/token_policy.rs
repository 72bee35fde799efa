//! `tokenPolicies:get/update` (admins): NocoBase's token policy.

use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::http::client::ClientInfo;
use crate::http::extract::ApiJson;
use crate::http::response::data;
use crate::state::AppState;
use authgate_core::clock::now_ms;
use authgate_core::token_policy::{TokenPolicy, TokenPolicyConfig};
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[utoipa::path(get, path = "/api/tokenPolicies:get", tag = "tokenPolicies",
    responses((status = 200, description = "The token policy", body = super::openapi::Data<super::openapi::TokenPolicy>), (status = 403, description = "Admins only")))]
pub async fn get_policy(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> ApiResult<Json<Value>> {
    let policy = state.store.token_policy().await?;
    Ok(data(
        json!({"key": "default", "config": policy.to_config()}),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TokenPolicyUpdate, example = json!({"key": "default", "config": {"tokenExpirationTime": "1d", "sessionExpirationTime": "7d", "expiredTokenRenewLimit": "1d"}}))]
pub struct UpdateBody {
    #[schema(value_type = super::openapi::TokenPolicyConfig)]
    config: TokenPolicyConfig,
    key: Option<String>,
}

#[utoipa::path(post, path = "/api/tokenPolicies:update", tag = "tokenPolicies",
    request_body = UpdateBody,
    responses((status = 200, description = "Saved", body = super::openapi::Data<super::openapi::TokenPolicy>), (status = 400, description = "A duration is invalid, or the token outlives the session"), (status = 403, description = "Admins only")))]
pub async fn update_policy(
    State(state): State<AppState>,
    admin: AdminUser,
    client: ClientInfo,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Json<Value>> {
    if body.key.as_deref().is_some_and(|k| k != "default") {
        return Err(ApiError::bad_request(
            "There is only one token policy: key 'default'",
        ));
    }
    let policy =
        TokenPolicy::try_from(&body.config).map_err(|e| ApiError::bad_request(e.to_string()))?;
    // A policy that signs out the admin saving it may sign out every admin, and then only SQL
    // could undo it.
    if admin.0.signed_in_at.saturating_add(policy.session_ttl_ms) <= now_ms() {
        return Err(ApiError::bad_request(
            "This session lifetime would end your own session at once: choose a longer sessionExpirationTime",
        ));
    }
    state.store.set_token_policy(&policy, now_ms()).await?;
    let mut detail = Map::new();
    detail.insert("config".into(), json!(policy.to_config()));
    let admin_id = admin.0.user.id;
    state
        .audit_admin_change(
            admin_id,
            admin_id,
            None,
            &client,
            "tokenPolicies:update",
            detail,
        )
        .await;
    Ok(data(
        json!({"key": "default", "config": policy.to_config()}),
    ))
}
