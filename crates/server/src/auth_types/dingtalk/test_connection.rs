//! `dingtalk:testConnection`: the admin's check of a Client ID/Secret, by fetching an app
//! token from DingTalk (uncached) and reporting exactly what DingTalk said.

use super::messages::{Failed, Lang};
use super::{DingTalkShared, TYPE_NAME};
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::http::response::data;
use crate::state::AppState;
use authgate_dingtalk::ClientCredentials;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestConnectionBody {
    client_id: Option<String>,
    /// Empty or absent with `authenticator`: the stored secret is used.
    client_secret: Option<String>,
    /// A saved DingTalk authenticator whose credentials to test.
    authenticator: Option<String>,
}

#[utoipa::path(post, path = "/api/dingtalk:testConnection", tag = "dingtalk",
    request_body = TestConnectionBody,
    responses((status = 200, description = "{data: {ok: true}} or {data: {ok: false, code, message, requestid, hint}} with DingTalk's complaint"),
              (status = 400, description = "Missing Client ID/Secret or unknown authenticator"),
              (status = 403, description = "Admins only")))]
pub async fn test_connection(
    State(state): State<AppState>,
    Extension(dt): Extension<Arc<DingTalkShared>>,
    _admin: AdminUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<TestConnectionBody>,
) -> ApiResult<Json<Value>> {
    let text = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let mut client_id = text(body.client_id);
    let mut secret = text(body.client_secret);
    if let Some(name) = text(body.authenticator) {
        let a = state
            .store
            .get_authenticator_by_name(&name)
            .await?
            .filter(|a| a.auth_type == TYPE_NAME)
            .ok_or_else(|| {
                ApiError::bad_request(format!("'{name}' is not a DingTalk authenticator"))
            })?;
        let stored = super::options::DingTalkOptions::from_stored(&a.options)
            .map_err(ApiError::bad_request)?;
        if secret.is_none() {
            let creds = stored.credentials(&state).map_err(ApiError::bad_request)?;
            secret = Some(creds.client_secret.expose().to_string());
        }
        client_id = client_id.or(Some(stored.client_id));
    }
    let client_id = client_id.ok_or_else(|| ApiError::bad_request("Client ID is required"))?;
    let secret = secret.ok_or_else(|| ApiError::bad_request("Client Secret is required"))?;
    let creds = ClientCredentials::new(client_id.clone(), secret);
    Ok(match dt.client.fetch_app_access_token(&creds).await {
        Ok(_) => data(json!({"ok": true, "clientId": client_id})),
        Err(e) => {
            let code = e
                .api_code()
                .map(str::to_string)
                .or_else(|| e.errcode().map(|c| c.to_string()));
            let (status, request_id, summary) = (
                e.status(),
                e.request_id().map(str::to_string),
                e.to_string(),
            );
            let message = match &e {
                authgate_dingtalk::Error::Api { message, .. } => message.clone(),
                authgate_dingtalk::Error::Legacy { errmsg, .. } => errmsg.clone(),
                _ => summary.clone(),
            };
            let hint = Failed::from(e)
                .failure
                .message(Lang::from_headers(&headers));
            data(json!({
                "ok": false,
                "clientId": client_id,
                "status": status,
                "code": code,
                "message": message,
                "detail": summary,
                "requestid": request_id,
                "hint": hint,
            }))
        }
    })
}
