//! `tokenPolicies:get/update` (admins): NocoBase's token policy.

use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult, Text};
use crate::http::client::ClientInfo;
use crate::http::extract::ApiJson;
use crate::http::response::{data, Data};
use crate::state::AppState;
use authgate_core::clock::now_ms;
use authgate_core::token_policy::{TokenPolicy, TokenPolicyConfig};
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};
use utoipa::ToSchema;

/// The one token policy.
#[derive(Serialize, ToSchema)]
#[schema(as = TokenPolicy)]
pub struct TokenPolicyView {
    /// Always `default`.
    key: &'static str,
    config: TokenPolicyConfigView,
}

/// Durations such as `30m`, `1d`, `7d`.
// The wire form of the core's `TokenPolicyConfig` (the core knows nothing of OpenAPI), built
// by taking all its fields, so that a field added there fails to compile here.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TokenPolicyConfig)]
pub struct TokenPolicyConfigView {
    token_expiration_time: String,
    session_expiration_time: String,
    expired_token_renew_limit: String,
}

impl From<TokenPolicy> for TokenPolicyView {
    fn from(policy: TokenPolicy) -> Self {
        let TokenPolicyConfig {
            token_expiration_time,
            session_expiration_time,
            expired_token_renew_limit,
        } = policy.to_config();
        Self {
            key: "default",
            config: TokenPolicyConfigView {
                token_expiration_time,
                session_expiration_time,
                expired_token_renew_limit,
            },
        }
    }
}

#[utoipa::path(get, path = "/api/tokenPolicies:get", tag = "tokenPolicies",
    responses((status = 200, description = "The token policy", body = Data<TokenPolicyView>), (status = 403, description = "Admins only")))]
pub async fn get_policy(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> ApiResult<Json<Data<TokenPolicyView>>> {
    let policy = state.store.token_policy().await?;
    Ok(data(policy.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TokenPolicyUpdate, example = json!({"key": "default", "config": {"tokenExpirationTime": "1d", "sessionExpirationTime": "7d", "expiredTokenRenewLimit": "1d"}}))]
pub struct UpdateBody {
    #[schema(value_type = TokenPolicyConfigView)]
    config: TokenPolicyConfig,
    key: Option<String>,
}

#[utoipa::path(post, path = "/api/tokenPolicies:update", tag = "tokenPolicies",
    request_body = UpdateBody,
    responses((status = 200, description = "Saved", body = Data<TokenPolicyView>), (status = 400, description = "A duration is invalid, or the token outlives the session"), (status = 403, description = "Admins only")))]
pub async fn update_policy(
    State(state): State<AppState>,
    admin: AdminUser,
    client: ClientInfo,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Json<Data<TokenPolicyView>>> {
    if body.key.as_deref().is_some_and(|k| k != "default") {
        return Err(ApiError::bad_request(Text::new(
            "There is only one token policy: key 'default'",
            "令牌策略只有一个：key 为“default”",
        )));
    }
    let policy =
        TokenPolicy::try_from(&body.config).map_err(|e| ApiError::bad_request(e.text()))?;
    // A policy that signs out the admin saving it may sign out every admin, and then only SQL
    // could undo it.
    if admin.0.signed_in_at.saturating_add(policy.session_ttl_ms) <= now_ms() {
        return Err(ApiError::bad_request(
            Text::new("This session lifetime would end your own session at once: choose a longer sessionExpirationTime", "这个会话有效期会让你自己的会话立即结束：请设置更长的 sessionExpirationTime"),
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
    Ok(data(policy.into()))
}
