//! The browser flow (DESIGN.md section 2, steps 1-8): `dingtalk:getAuthUrl` issues a one-time,
//! browser-bound state and the authorize URL; `dingtalk:redirect` is DingTalk's callback.

use super::browser_state::{self, STATE_TTL_MS};
use super::messages::{Failed, Failure};
use super::options::DingTalkOptions;
use super::outcome::{
    account_page_redirect, record_failed_sign_in, signed_in_redirect, signin_page_redirect,
};
use super::resolution::{Facts, SignInWith};
use super::{DingTalkShared, TYPE_NAME};
use crate::api::authenticator_from_header;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, Text};
use crate::http::client::ClientInfo;
use crate::http::redirect_target::redirect_target;
use crate::http::response::{data, Data, WithCookies};
use crate::random_id::random_id;
use crate::state::AppState;
use authgate_core::clock::now_ms;
use authgate_dingtalk::{AuthorizeRequest, Callback, Scope};
use authgate_store::{ConsumedState, OAuthState};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GetAuthUrlBody {
    /// Where to go after signing in: a path of this site, or an allowed origin. Else `/`.
    redirect: Option<String>,
    /// Link the DingTalk account to the signed-in user instead of signing in (My account).
    link: Option<bool>,
}

/// Where to send the browser: DingTalk's authorize page.
#[derive(Serialize, ToSchema)]
pub struct AuthUrl {
    url: String,
}

#[utoipa::path(post, path = "/api/dingtalk:getAuthUrl", tag = "dingtalk",
    params(("X-Authenticator" = String, Header, description = "Name of a DingTalk authenticator")),
    request_body = GetAuthUrlBody,
    responses((status = 200, description = "Send the browser to `url`; a browser-binding cookie is set", body = Data<AuthUrl>),
              (status = 400, description = "Missing, unknown, disabled or non-DingTalk authenticator; invalid body"),
              (status = 401, description = "`link` asked for without a signed-in user"),
              (status = 403, description = "`link` asked for by a session signed in more than 10 minutes ago (SIGN_IN_AGAIN)"),
              (status = 429, description = "Too many sign-ins started by this address or browser in the last minute")))]
pub async fn get_auth_url(
    State(state): State<AppState>,
    Extension(dt): Extension<Arc<DingTalkShared>>,
    headers: HeaderMap,
    client: ClientInfo,
    signed_in: Result<CurrentUser, ApiError>,
    body: Bytes,
) -> ApiResult<WithCookies<Data<AuthUrl>>> {
    // Each call stores a state row: a budget per address and per browser bounds the writes
    // one client can cause.
    let existing_binding = browser_state::binding_of(&headers);
    // The address first: a made-up binding cookie then costs its address's budget too.
    let over_budget =
        dt.starts_per_ip
            .check(&client.limit_key())
            .and_then(|()| match &existing_binding {
                Some(b) => dt.starts_per_browser.check(b),
                None => Ok(()),
            });
    if let Err(wait) = over_budget {
        return Err(ApiError::too_many(
            wait as i64,
            Text::new(
                "Too many DingTalk sign-ins started from here, please wait a minute and try again",
                "从这里发起的钉钉登录太多了，请等一分钟再试",
            ),
        ));
    }
    let a = authenticator_from_header(&state, &headers).await?;
    if a.auth_type != TYPE_NAME {
        return Err(ApiError::bad_request(Text::new(
            format!("Authenticator '{}' is not a DingTalk authenticator", a.name),
            format!("认证器“{}”不是钉钉认证器", a.name),
        )));
    }
    // NocoBase's client may post no body at all.
    let body: GetAuthUrlBody = if body.iter().all(u8::is_ascii_whitespace) {
        GetAuthUrlBody::default()
    } else {
        crate::http::extract::parse_json(&body).map_err(ApiError::bad_request)?
    };
    // `a` is enabled and of this type (checked above): its options need no second read.
    let options = DingTalkOptions::from_stored(&a.options).map_err(ApiError::internal)?;
    let target = redirect_target(body.redirect.as_deref(), &state.config);
    let link_user_id = match body.link {
        Some(true) => Some(recently_signed_in(signed_in?)?),
        _ => None,
    };
    let nonce = random_id();
    let binding = existing_binding.clone().unwrap_or_else(random_id);
    let now = now_ms();
    state
        .store
        .create_oauth_state(&OAuthState {
            state_hash: browser_state::hash(&nonce),
            authenticator: a.name.clone(),
            redirect: target,
            binding_hash: browser_state::hash(&binding),
            created_at: now,
            expires_at: now + STATE_TTL_MS,
            link_user_id,
        })
        .await?;
    let mut request = AuthorizeRequest::new(
        options.client_id.clone(),
        options.redirect_url(&state),
        nonce,
    );
    request.prompt = options.prompt;
    if !options.allowed_corp_ids.is_empty() {
        request.scope = Scope::OpenIdCorpId;
    }
    let url = dt.client.authorize_url(&request);
    Ok(WithCookies {
        // Re-sent even when reused, so the cookie lives as long as the newest state.
        cookies: browser_state::binding_cookie(&state.config, &binding)
            .into_iter()
            .collect(),
        body: data(AuthUrl { url: url.into() }),
    })
}

#[utoipa::path(get, path = "/api/dingtalk:redirect", tag = "dingtalk",
    params(("authCode" = Option<String>, Query, description = "The sign-in code (also accepted as `code`)"),
           ("state" = Option<String>, Query, description = "The one-time state from dingtalk:getAuthUrl"),
           ("error" = Option<String>, Query, description = "Set when the user denied consent")),
    responses((status = 302, description = "Signed in: to the redirect target with the session cookie; \
        failed: to /signin?authenticator=<name>&error=<reason>&redirect=<target>")))]
pub async fn redirect(
    State(state): State<AppState>,
    Extension(dt): Extension<Arc<DingTalkShared>>,
    client: ClientInfo,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let cb = Callback::parse(query.as_deref());
    let fail = |authenticator: Option<String>, target: String, failed: Failed| {
        let state = state.clone();
        let client = client.clone();
        async move {
            record_failed_sign_in(&state, &client, authenticator.as_deref(), "web", &failed).await;
            signin_page_redirect(authenticator.as_deref(), &failed, &target)
        }
    };
    let Some(nonce) = cb.state.as_deref() else {
        return fail(None, "/".into(), Failure::StateUnknown.into()).await;
    };
    let consumed = match state
        .store
        .consume_oauth_state(&browser_state::hash(nonce), now_ms())
        .await
    {
        Ok(c) => c,
        Err(e) => return fail(None, "/".into(), e.into()).await,
    };
    let stored = match consumed {
        ConsumedState::Valid(s) => s,
        ConsumedState::Expired(s) => {
            return fail(
                Some(s.authenticator),
                s.redirect,
                Failure::StateExpired.into(),
            )
            .await
        }
        ConsumedState::Unknown => {
            return fail(None, "/".into(), Failure::StateUnknown.into()).await
        }
    };
    let (name, target) = (stored.authenticator.clone(), stored.redirect.clone());
    if let Some(user_id) = stored.link_user_id {
        return link(&state, &dt, &client, &headers, &stored, &cb, user_id).await;
    }
    if !browser_state::binding_matches(&headers, &stored.binding_hash) {
        return fail(Some(name), target, Failure::StateForeignBrowser.into()).await;
    }
    if cb.error.is_some() {
        return fail(Some(name), target, Failure::ConsentDenied.into()).await;
    }
    let Some(code) = cb.code else {
        return fail(Some(name), target, Failure::MissingCode.into()).await;
    };
    match sign_in(&state, &dt, &client, &name, &target, &code).await {
        Ok(response) => response,
        Err(failed) => fail(Some(name), target, failed).await,
    }
}

/// How recent a sign-in must be to link a DingTalk account to it: a token stolen from a long
/// session must not turn into a lasting way into the account.
const LINK_SIGN_IN_MAX_AGE_MS: i64 = 10 * 60_000;

/// The user asking to link, if they signed in within the last minutes.
fn recently_signed_in(signed_in: CurrentUser) -> ApiResult<i64> {
    let me = signed_in.0;
    if now_ms() - me.signed_in_at > LINK_SIGN_IN_MAX_AGE_MS {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "SIGN_IN_AGAIN",
            Text::new(
                "For your safety, sign in again before linking an account",
                "为了你的安全，绑定账号前请重新登录",
            ),
        ));
    }
    Ok(me.user.id)
}

/// The callback of a round trip started from "My account": the DingTalk account is linked to
/// the user who started it, and the browser goes back to their account page. No session is
/// started (the user has one).
async fn link(
    state: &AppState,
    dt: &DingTalkShared,
    client: &ClientInfo,
    headers: &HeaderMap,
    stored: &OAuthState,
    cb: &Callback,
    user_id: i64,
) -> Response {
    let name = stored.authenticator.as_str();
    let linked = if !browser_state::binding_matches(headers, &stored.binding_hash) {
        Err(Failure::StateForeignBrowser.into())
    } else if cb.error.is_some() {
        Err(Failure::ConsentDenied.into())
    } else if let Some(code) = cb.code.as_deref() {
        match verified_facts(state, dt, name, code).await {
            Ok((with, mut facts)) => {
                let resolver = with.resolver(state, dt);
                resolver.link_to(user_id, &mut facts, client).await
            }
            Err(failed) => Err(failed),
        }
    } else {
        Err(Failure::MissingCode.into())
    };
    match linked {
        Ok(()) => account_page_redirect(state, &stored.redirect, None),
        Err(failed) => {
            record_failed_sign_in(state, client, Some(name), "link", &failed).await;
            account_page_redirect(state, &stored.redirect, Some(&failed))
        }
    }
}

async fn sign_in(
    state: &AppState,
    dt: &DingTalkShared,
    client: &ClientInfo,
    name: &str,
    target: &str,
    code: &str,
) -> Result<Response, Failed> {
    let (with, mut facts) = verified_facts(state, dt, name, code).await?;
    let (_, issued) = with
        .resolver(state, dt)
        .sign_in(&mut facts, client, "web")
        .await?;
    Ok(signed_in_redirect(
        state,
        target,
        &with.authenticator.name,
        &issued,
        with.options.token_in_redirect,
    ))
}

/// The code exchanged, the profile read and the organisation rules checked: what DingTalk
/// says about the account, with the authenticator that asked.
async fn verified_facts(
    state: &AppState,
    dt: &DingTalkShared,
    name: &str,
    code: &str,
) -> Result<(SignInWith, Facts), Failed> {
    let with = SignInWith::load(state, name).await?;
    let options = &with.options;
    let token = dt.client.user_access_token(&with.creds, code).await?;
    if !options.allowed_corp_ids.is_empty()
        && !token
            .corp_id
            .as_ref()
            .is_some_and(|c| options.allowed_corp_ids.contains(c))
    {
        return Err(Failed {
            detail: Some(format!(
                "corpId {}",
                token.corp_id.as_deref().unwrap_or("(none)")
            )),
            ..Failure::CorpNotAllowed.into()
        });
    }
    let profile = dt.client.me(&token.access_token).await?;
    let mut facts = Facts {
        union_id: Some(profile.union_id),
        open_id: profile.open_id,
        corp_id: token.corp_id,
        nick: profile.nick,
        avatar: profile.avatar_url,
        mobile: profile.mobile,
        state_code: profile.state_code,
        email: profile.email,
        ..Default::default()
    };
    if options.restrict_to_org {
        let member = with.resolver(state, dt).lookup_userid(&mut facts).await;
        member.map_err(|mut refused| {
            refused.tried_by = Box::new(facts.who());
            refused
        })?;
    }
    Ok((with, facts))
}
