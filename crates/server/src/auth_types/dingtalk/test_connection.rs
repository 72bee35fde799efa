//! `dingtalk:testConnection`: the admin's check of a Client ID/Secret, by fetching an app
//! token from DingTalk (uncached) and reporting exactly what DingTalk said.

use super::messages::{Failed, Lang};
use super::{DingTalkShared, TYPE_NAME};
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult, Text};
use crate::http::extract::ApiJson;
use crate::http::response::{data, Data};
use crate::state::AppState;
use authgate_dingtalk::ClientCredentials;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestConnectionBody {
    client_id: Option<String>,
    /// Empty or absent with `authenticator`: the stored secret is used.
    client_secret: Option<String>,
    /// A saved DingTalk authenticator whose credentials to test.
    authenticator: Option<String>,
}

/// `{ok: true, clientId}`, or `ok: false` with what DingTalk said.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionTest {
    /// Whether DingTalk accepted the credentials; `status`, `code`, `message`, `detail`,
    /// `requestid` and `hint` come only when it did not.
    ok: bool,
    client_id: String,
    // The fields of a failure: absent on success (outer `None`), null when DingTalk did not
    // say (inner `None`).
    /// DingTalk's HTTP status, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Option<u16>>,
    /// DingTalk's error code: `code` of the new API, `errcode` of the old one.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<Option<String>>,
    /// DingTalk's own words.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// The whole error, as the server log shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    /// DingTalk's request id, for their support.
    #[serde(skip_serializing_if = "Option::is_none")]
    requestid: Option<Option<String>>,
    /// What to do about it, in the reader's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
}

#[utoipa::path(post, path = "/api/dingtalk:testConnection", tag = "dingtalk",
    request_body = TestConnectionBody,
    responses((status = 200, description = "Whether DingTalk accepts the credentials, and its complaint when it does not", body = Data<ConnectionTest>),
              (status = 400, description = "Missing Client ID/Secret or unknown authenticator"),
              (status = 403, description = "Admins only")))]
pub async fn test_connection(
    State(state): State<AppState>,
    Extension(dt): Extension<Arc<DingTalkShared>>,
    _admin: AdminUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<TestConnectionBody>,
) -> ApiResult<Json<Data<ConnectionTest>>> {
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
                ApiError::bad_request(Text::new(
                    format!("'{name}' is not a DingTalk authenticator"),
                    format!("“{name}”不是钉钉认证器"),
                ))
            })?;
        let stored = super::options::DingTalkOptions::from_stored(&a.options)
            .map_err(ApiError::bad_request)?;
        if secret.is_none() {
            let creds = stored.credentials(&state).map_err(ApiError::bad_request)?;
            secret = Some(creds.client_secret.expose().to_string());
        }
        client_id = client_id.or(Some(stored.client_id));
    }
    let client_id = client_id.ok_or_else(|| {
        ApiError::bad_request(Text::new("Client ID is required", "请填写 Client ID"))
    })?;
    let secret = secret.ok_or_else(|| {
        ApiError::bad_request(Text::new(
            "Client Secret is required",
            "请填写 Client Secret",
        ))
    })?;
    let creds = ClientCredentials::new(client_id.clone(), secret);
    Ok(match dt.client.fetch_app_access_token(&creds).await {
        Ok(_) => data(ConnectionTest {
            ok: true,
            client_id,
            status: None,
            code: None,
            message: None,
            detail: None,
            requestid: None,
            hint: None,
        }),
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
                .message(Lang::from_request(&headers));
            data(ConnectionTest {
                ok: false,
                client_id,
                status: Some(status),
                code: Some(code),
                message: Some(message),
                detail: Some(summary),
                requestid: Some(request_id),
                hint: Some(hint),
            })
        }
    })
}
