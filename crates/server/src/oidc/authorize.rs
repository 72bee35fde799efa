//! The authorization endpoint (GET and POST): with a usable session, a code for the client;
//! without one, the sign-in page (any authenticator), then back here.
//!
//! A request that must sign the person in again (`prompt=login`, an exceeded `max_age`, an
//! `id_token_hint` for someone else) resumes with `authgate_signed_in_after=<ms>`: a session
//! begun after that instant satisfies it, so the resumed request does not loop.

use crate::audit::Entry;
use crate::auth::request_auth::MaybeUser;
use crate::auth::sessions::Authenticated;
use crate::error::ApiResult;
use crate::http::client::ClientInfo;
use crate::oidc::claims::subject;
use crate::oidc::pages;
use crate::oidc::params::parse;
use crate::oidc::request::{
    self, client_error, AuthorizationRequest, Checked, ClientError, ReplyTo, ResponseMode,
};
use crate::oidc::{hash_code, AUTHORIZE_PATH};
use crate::random_id::random_id;
use crate::state::AppState;
use authgate_core::audit::event;
use authgate_core::clock::now_ms;
use authgate_store::OidcGrant;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;

/// Codes are redeemed within seconds; RFC 6749 4.1.2 recommends at most ten minutes.
pub const CODE_TTL_MS: i64 = 60_000;
pub const SIGNED_IN_AFTER: &str = "authgate_signed_in_after";
/// Marks a request already sent through the login-free page inside DingTalk.
const IN_CLIENT_TRIED: &str = "authgate_in_client";

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeUser(me): MaybeUser,
    client: ClientInfo,
    RawQuery(query): RawQuery,
) -> Response {
    let params = parse(query.as_deref().unwrap_or_default().as_bytes());
    respond(&state, &headers, me, &client, params).await
}

pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeUser(me): MaybeUser,
    client: ClientInfo,
    body: Bytes,
) -> Response {
    if me.is_none() {
        // A POST from another site comes without the session cookie (SameSite=Lax); the same
        // request by GET, a top-level navigation, carries it.
        let location = format!("{AUTHORIZE_PATH}?{}", String::from_utf8_lossy(&body));
        if location.len() <= 8192 && !body.is_empty() {
            return Redirect::to(&location).into_response();
        }
    }
    respond(&state, &headers, me, &client, parse(&body)).await
}

async fn respond(
    state: &AppState,
    headers: &HeaderMap,
    me: Option<Authenticated>,
    client: &ClientInfo,
    params: Vec<(String, String)>,
) -> Response {
    match authorize(state, headers, me, client, params).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    me: Option<Authenticated>,
    client: &ClientInfo,
    params: Vec<(String, String)>,
) -> ApiResult<Response> {
    let request = match request::check(state, params).await? {
        Checked::Ok(r) => r,
        Checked::Refused(reply, e) => return Ok(answer_error(state, headers, &reply, e)),
        Checked::Unanswerable(why) => {
            tracing::info!(reason = ?why, "authorization request shown as an error page");
            return Ok(pages::unanswerable(headers, why));
        }
    };
    let now = now_ms();
    let none = request.prompts("none");
    let Some(me) = me else {
        if let Some(r) = in_dingtalk(state, headers, &request, now).await {
            return Ok(r);
        }
        if none {
            return Ok(refuse(
                state,
                headers,
                &request,
                "login_required",
                "nobody is signed in",
            ));
        }
        return Ok(to_sign_in(&request, now));
    };
    let signed_in_after = request
        .params
        .iter()
        .find(|(k, _)| k == SIGNED_IN_AFTER)
        .and_then(|(_, v)| v.parse::<i64>().ok());
    let fresh = signed_in_after.is_some_and(|t| me.signed_in_at >= t);
    // The mark is there when the request asked for a new sign-in (and the resumed request no
    // longer carries the prompt=login that did): a session older than it does not answer.
    let mut sign_in_again = !fresh
        && (signed_in_after.is_some()
            || request.prompts("login")
            || request.prompts("select_account"));
    if let Some(max_age) = request.max_age {
        sign_in_again |= !fresh && now - me.signed_in_at > max_age.saturating_mul(1000);
    }
    if let Some(hint) = &request.id_token_hint {
        let someone_else = hint.get("sub").and_then(|s| s.as_str()) != Some(&subject(me.user.id));
        sign_in_again |= someone_else && !fresh;
    }
    if sign_in_again {
        if let Some(r) = in_dingtalk(state, headers, &request, now).await {
            return Ok(r);
        }
        if none {
            return Ok(refuse(
                state,
                headers,
                &request,
                "login_required",
                "the person must sign in again",
            ));
        }
        return Ok(to_sign_in(&request, now));
    }
    let c = &request.reply.client;
    if c.settings.admins_only && !me.user.is_admin {
        return Ok(refuse(
            state,
            headers,
            &request,
            "access_denied",
            "only administrators may use this application",
        ));
    }
    if c.settings.third_party || request.prompts("consent") {
        let given = if request.prompts("consent") {
            None
        } else {
            state.store.consent(me.user.id, &c.id).await?
        };
        let covered = given.is_some_and(|g| {
            request
                .scope
                .iter()
                .all(|s| g.split(' ').any(|have| have == s))
        });
        if !covered {
            if none {
                return Ok(refuse(
                    state,
                    headers,
                    &request,
                    "consent_required",
                    "the person has not consented",
                ));
            }
            return Ok(ask_consent(headers, &request, &me));
        }
    }
    issue_code(state, headers, &request, &me, client, now).await
}

/// The request minus what made it ask for a sign-in, marked so that a session begun from
/// now on satisfies it.
fn resume_path(
    request: &AuthorizationRequest,
    signed_in_after: Option<i64>,
    drop_prompts: &[&str],
) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &request.params {
        if (k == SIGNED_IN_AFTER && signed_in_after.is_some()) || k == IN_CLIENT_TRIED {
            continue;
        }
        if k == "prompt" {
            let kept: Vec<&str> = v
                .split(' ')
                .filter(|p| !p.is_empty() && !drop_prompts.contains(p))
                .collect();
            if !kept.is_empty() {
                q.append_pair(k, &kept.join(" "));
            }
            continue;
        }
        q.append_pair(k, v);
    }
    if let Some(t) = signed_in_after {
        q.append_pair(SIGNED_IN_AFTER, &t.to_string());
    }
    format!("{AUTHORIZE_PATH}?{}", q.finish())
}

/// Inside the DingTalk client, where an authenticator signs people in without a click: the
/// login-free page checks the DingTalk identity afresh and resumes the request. It asks nothing
/// of the person, so `prompt=none` goes there too. Tried once per request: a request that
/// comes back from it without a session is answered as usual.
async fn in_dingtalk(
    state: &AppState,
    headers: &HeaderMap,
    request: &AuthorizationRequest,
    now: i64,
) -> Option<Response> {
    let agent = headers.get(header::USER_AGENT)?.to_str().ok()?;
    if !agent.contains("DingTalk") || request.params.iter().any(|(k, _)| k == IN_CLIENT_TRIED) {
        return None;
    }
    let authenticators = state.store.list_authenticators().await.ok()?;
    let login_free = authenticators.iter().find(|a| {
        a.enabled
            && a.auth_type == crate::auth_types::dingtalk::TYPE_NAME
            && a.options.get("autoLoginInClient") == Some(&serde_json::Value::Bool(true))
    })?;
    let mut resume = resume_path(request, Some(now), &["login", "select_account"]);
    resume.push_str(&format!("&{IN_CLIENT_TRIED}=1"));
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("authenticator", &login_free.name)
        .append_pair("redirect", &resume)
        .finish();
    Some(Redirect::to(&format!("/dingtalk/auto?{q}")).into_response())
}

fn to_sign_in(request: &AuthorizationRequest, now: i64) -> Response {
    let resume = resume_path(request, Some(now), &["login", "select_account"]);
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("redirect", &resume);
    // The client's hints carry over to the sign-in page: its language and the account asked for.
    for (name, value) in &request.params {
        if matches!(name.as_str(), "ui_locales" | "login_hint") && !value.is_empty() {
            q.append_pair(name, value);
        }
    }
    Redirect::to(&format!("/signin?{}", q.finish())).into_response()
}

fn ask_consent(
    headers: &HeaderMap,
    request: &AuthorizationRequest,
    me: &Authenticated,
) -> Response {
    let resume = resume_path(request, None, &["consent"]);
    let csrf =
        crate::auth::cookies::read(headers, crate::auth::cookies::CSRF_COOKIE).unwrap_or_default();
    pages::consent(
        headers,
        pages::Consent {
            client_name: &request.reply.client.name,
            scope: &request.scope,
            user: me
                .user
                .nickname
                .clone()
                .or_else(|| me.user.username.clone())
                .unwrap_or_else(|| subject(me.user.id)),
            request: resume,
            csrf,
            redirect_uri: &request.reply.redirect_uri,
            ui_locales: request
                .params
                .iter()
                .find(|(k, _)| k == "ui_locales")
                .map(|(_, v)| v.as_str()),
        },
    )
}

async fn issue_code(
    state: &AppState,
    headers: &HeaderMap,
    request: &AuthorizationRequest,
    me: &Authenticated,
    client: &ClientInfo,
    now: i64,
) -> ApiResult<Response> {
    let c = &request.reply.client;
    let code = B64URL.encode(rand::random::<[u8; 32]>());
    let offline = request.scope.iter().any(|s| s == "offline_access");
    let expires_at = if offline {
        now.saturating_add(c.settings.refresh_token_ttl_s.saturating_mul(1000))
    } else {
        me.session_expires_at
    };
    let grant = OidcGrant {
        id: random_id(),
        client_id: c.id.clone(),
        user_id: me.user.id,
        session_id: me.session_id.clone(),
        offline,
        refreshable: offline || c.settings.refresh_without_offline_access,
        scope: request.scope_text(),
        claims: request.claims.as_ref().map(|c| c.to_string()),
        nonce: request.nonce.clone(),
        auth_time: me.signed_in_at,
        amr: amr(state, &me.authenticator).await,
        redirect_uri: request.reply.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        code_hash: hash_code(&code),
        code_expires_at: now + CODE_TTL_MS,
        code_used_at: None,
        created_at: now,
        expires_at,
        revoked_at: None,
    };
    let audit = Entry {
        event: event::OIDC_GRANT,
        user_id: Some(me.user.id),
        authenticator: Some(me.authenticator.clone()),
        client: Some(client),
        detail: serde_json::json!({"clientId": c.id, "scope": grant.scope})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        ..Default::default()
    };
    state
        .store
        .create_grant(&grant, &audit.into_record())
        .await?;
    Ok(answer(
        state,
        headers,
        &request.reply,
        vec![("code".into(), code)],
    ))
}

/// `amr` (RFC 8176 names where one fits): how the session was signed in.
async fn amr(state: &AppState, authenticator: &str) -> String {
    let auth_type = match state.store.get_authenticator_by_name(authenticator).await {
        Ok(Some(a)) => a.auth_type,
        _ => String::new(),
    };
    match auth_type.as_str() {
        crate::auth_types::password::TYPE_NAME => "pwd".into(),
        crate::auth_types::dingtalk::TYPE_NAME => "dingtalk".into(),
        other if !other.is_empty() => other.to_string(),
        _ => "unknown".into(),
    }
}

fn refuse(
    state: &AppState,
    headers: &HeaderMap,
    request: &AuthorizationRequest,
    error: &'static str,
    description: &str,
) -> Response {
    answer_error(
        state,
        headers,
        &request.reply,
        client_error(error, description),
    )
}

pub fn answer_error(
    state: &AppState,
    headers: &HeaderMap,
    reply: &ReplyTo,
    e: ClientError,
) -> Response {
    answer(
        state,
        headers,
        reply,
        vec![
            ("error".into(), e.error.to_string()),
            ("error_description".into(), e.description),
        ],
    )
}

/// Sends `fields` (plus `state` and `iss`, RFC 9207) to the client's redirect URI.
pub fn answer(
    state: &AppState,
    headers: &HeaderMap,
    reply: &ReplyTo,
    mut fields: Vec<(String, String)>,
) -> Response {
    if let Some(s) = &reply.state {
        fields.push(("state".into(), s.clone()));
    }
    fields.push(("iss".into(), state.config.public_origin()));
    match reply.mode {
        ResponseMode::FormPost => pages::form_post(headers, &reply.redirect_uri, fields),
        ResponseMode::Query => {
            let mut target = reply.redirect_uri.clone();
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            q.extend_pairs(fields.iter());
            target.push(if target.contains('?') { '&' } else { '?' });
            target.push_str(&q.finish());
            let mut r = StatusCode::SEE_OTHER.into_response();
            if let Ok(v) = HeaderValue::from_str(&target) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
    }
}
