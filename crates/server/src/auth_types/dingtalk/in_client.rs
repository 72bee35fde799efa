//! Login-free sign-in inside the DingTalk client: the page posts the `dd.requestAuthCode`
//! code; the identity of that fresh code is always the one signed in, and a session of
//! whoever was signed in before is revoked (an account switch never keeps the old user).

use super::messages::{Failed, Failure, Lang};
use super::outcome::record_failed_sign_in;
use super::resolution::{Facts, SignInWith};
use super::DingTalkShared;
use crate::api::auth::{signed_in_response, SignedIn};
use crate::auth::sessions::IssuedSession;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, Text};
use crate::http::client::ClientInfo;
use crate::http::extract::ApiJson;
use crate::http::response::{Data, WithCookies};
use crate::state::AppState;
use authgate_core::clock::now_ms;
use authgate_core::model::User;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Extension;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InClientBody {
    /// The code from `dd.requestAuthCode` (single-use, 5 minutes).
    code: Option<String>,
    /// The authenticator, when the X-Authenticator header is not sent.
    authenticator: Option<String>,
}

#[utoipa::path(post, path = "/api/dingtalk:signInInClient", tag = "dingtalk",
    params(("X-Authenticator" = Option<String>, Header, description = "DingTalk authenticator (or `authenticator` in the body)")),
    request_body = InClientBody,
    responses((status = 200, description = "Signed in as the code's user: the token in the body and in session cookies", body = Data<SignedIn>),
              (status = 400, description = "Missing code or authenticator"),
              (status = 401, description = "The code is invalid, expired or used"),
              (status = 403, description = "Refused (not found, sign-up off, login-free disabled, ...)"),
              (status = 502, description = "DingTalk unavailable")))]
pub async fn sign_in_in_client(
    State(state): State<AppState>,
    Extension(dt): Extension<Arc<DingTalkShared>>,
    client: ClientInfo,
    headers: HeaderMap,
    current: Result<CurrentUser, ApiError>,
    ApiJson(body): ApiJson<InClientBody>,
) -> ApiResult<WithCookies<Data<SignedIn>>> {
    let name = headers
        .get("x-authenticator")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .or(body.authenticator.clone());
    let Some(name) = name.filter(|n| n.len() <= 64) else {
        return Err(ApiError::bad_request(
            Text::new("The authenticator is required: send X-Authenticator (or `authenticator` in the body) with the name of a DingTalk authenticator", "缺少认证器：请在 X-Authenticator 请求头（或请求内容的 `authenticator`）中给出钉钉认证器的名称"),
        ));
    };
    let result = sign_in(&state, &dt, &client, &name, body.code.as_deref()).await;
    match result {
        Ok((user, issued)) => {
            // Whoever the request was signed in as before, that session ends now.
            if let Ok(CurrentUser(previous)) = current {
                let reason = if previous.user.id == user.id {
                    "replaced by a login-free sign-in"
                } else {
                    "another DingTalk account signed in"
                };
                state
                    .store
                    .revoke_session(&previous.session_id, reason, Some(user.id), now_ms())
                    .await?;
            }
            Ok(signed_in_response(&state, user, issued))
        }
        Err(failed) => {
            record_failed_sign_in(&state, &client, Some(&name), "inClient", &failed).await;
            let mut refused = ApiError::new(
                failed.failure.status(),
                failed.failure.code(),
                Text::new(
                    failed.failure.message(Lang::En),
                    failed.failure.message(Lang::Zh),
                ),
            );
            if failed.failure == Failure::DatabaseUnavailable {
                refused.retry_after_secs = Some(crate::error::UNAVAILABLE_RETRY_AFTER_SECS);
            }
            Err(refused)
        }
    }
}

/// The user and their new session (already stored with its audit entries).
async fn sign_in(
    state: &AppState,
    dt: &DingTalkShared,
    client: &ClientInfo,
    name: &str,
    code: Option<&str>,
) -> Result<(User, IssuedSession), Failed> {
    let with = SignInWith::load(state, name).await?;
    if !with.options.auto_login_in_client {
        return Err(Failure::LoginFreeDisabled.into());
    }
    let code = code
        .map(str::trim)
        .filter(|c| !c.is_empty() && c.len() <= 1024)
        .ok_or(Failure::MissingCode)?;
    let who = dt.client.user_info_by_code(&with.creds, code).await?;
    let mut facts = Facts {
        union_id: who.unionid.or(who.associated_unionid),
        userid: Some(who.userid),
        userid_looked_up: true,
        nick: who.name,
        corp_id: Some(with.options.corp_id.clone()).filter(|c| !c.is_empty()),
        ..Default::default()
    };
    with.resolver(state, dt)
        .sign_in(&mut facts, client, "inClient")
        .await
}
