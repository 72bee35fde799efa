//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). With a valid `id_token_hint`
//! for the signed-in person, the session ends at once and the browser goes to the client's
//! registered `post_logout_redirect_uri`. Anything less (no hint, a forged or foreign one) asks
//! the person first, and never redirects to a URI it could not vouch for.

use crate::auth::cookies::{self, CSRF_COOKIE};
use crate::auth::request_auth::{csrf_matches, MaybeUser};
use crate::auth::sessions::Authenticated;
use crate::auth::sign_out::{self, Ending};
use crate::error::ApiResult;
use crate::http::client::ClientInfo;
use crate::oidc::claims::subject;
use crate::oidc::client::Client;
use crate::oidc::jwt::{verify_signed, IdTokenClaims};
use crate::oidc::params::{param, parse};
use crate::oidc::{pages, END_SESSION_PATH};
use crate::state::AppState;
use authgate_core::audit::event;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeUser(me): MaybeUser,
    from: ClientInfo,
    RawQuery(query): RawQuery,
) -> Response {
    let params = parse(query.unwrap_or_default().as_bytes());
    respond(&state, &headers, me, &from, params, false).await
}

pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeUser(me): MaybeUser,
    from: ClientInfo,
    body: Bytes,
) -> Response {
    let params = parse(&body);
    let confirming = params.iter().any(|(k, _)| k == "logout");
    if me.is_none() && !confirming && !body.is_empty() {
        // A POST from the client's site comes without the session cookie (SameSite=Lax); the
        // same request by GET carries it.
        let location = format!("{END_SESSION_PATH}?{}", String::from_utf8_lossy(&body));
        if location.len() <= 8192 {
            return Redirect::to(&location).into_response();
        }
    }
    respond(&state, &headers, me, &from, params, true).await
}

async fn respond(
    state: &AppState,
    headers: &HeaderMap,
    me: Option<Authenticated>,
    from: &ClientInfo,
    params: Vec<(String, String)>,
    posted: bool,
) -> Response {
    match end_session(state, headers, me, from, params, posted).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn audiences(claims: &IdTokenClaims) -> Vec<String> {
    match claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(all)) => all
            .iter()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

async fn end_session(
    state: &AppState,
    headers: &HeaderMap,
    me: Option<Authenticated>,
    from: &ClientInfo,
    params: Vec<(String, String)>,
    posted: bool,
) -> ApiResult<Response> {
    let issuer = state.config.public_origin();
    let hint = param(&params, "id_token_hint")
        .and_then(|h| verify_signed::<IdTokenClaims>(state.tokens.keys(), &issuer, h));
    let client_id = param(&params, "client_id");
    // The hint names the client; a `client_id` that disagrees makes it someone else's.
    let hint = hint.filter(|h| client_id.is_none_or(|id| audiences(h).iter().any(|a| a == id)));
    let client = match hint.as_ref().and_then(|h| audiences(h).into_iter().next()) {
        Some(id) => state
            .store
            .get_oidc_client(&id)
            .await?
            .and_then(|r| Client::from_record(r).ok())
            .filter(|c| c.enabled),
        None => None,
    };
    let target = match (&client, param(&params, "post_logout_redirect_uri")) {
        (Some(c), Some(uri)) if c.has_post_logout_uri(uri) => {
            let mut target = uri.to_string();
            if let Some(s) = param(&params, "state") {
                let q: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("state", s)
                    .finish();
                target.push(if target.contains('?') { '&' } else { '?' });
                target.push_str(&q);
            }
            Some(target)
        }
        (_, Some(_)) => {
            tracing::info!("post_logout_redirect_uri refused: no valid id_token_hint, or not registered for its client");
            None
        }
        _ => None,
    };
    let Some(me) = me else {
        return Ok(leave(state, headers, target.as_deref(), false));
    };
    let hint_is_for_me = hint
        .as_ref()
        .is_some_and(|h| h.get("sub").and_then(Value::as_str) == Some(&subject(me.user.id)));
    let confirmed = posted
        && param(&params, "logout").is_some()
        && csrf_matches(headers, param(&params, "csrf").unwrap_or_default());
    if !(hint_is_for_me || confirmed) {
        let fields = params
            .iter()
            .filter(|(k, _)| {
                matches!(
                    k.as_str(),
                    "id_token_hint"
                        | "post_logout_redirect_uri"
                        | "state"
                        | "client_id"
                        | "ui_locales"
                )
            })
            .cloned()
            .collect();
        let csrf = cookies::read(headers, CSRF_COOKIE).unwrap_or_default();
        let user = me
            .user
            .nickname
            .clone()
            .or_else(|| me.user.username.clone());
        return Ok(pages::logout_question(
            headers,
            user,
            fields,
            csrf,
            target.as_deref(),
        ));
    }
    let how = Ending {
        reason: "signed out by an application",
        event: event::OIDC_LOGOUT,
        detail: serde_json::json!({"clientId": client.as_ref().map(|c| c.id.clone())})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        from,
    };
    sign_out::end_session(state, &me, how).await?;
    Ok(leave(state, headers, target.as_deref(), true))
}

/// To the client's page when vouched for, else a page saying the person is signed out.
fn leave(state: &AppState, headers: &HeaderMap, target: Option<&str>, clear: bool) -> Response {
    let mut r = match target {
        Some(t) => {
            let mut r = StatusCode::SEE_OTHER.into_response();
            if let Ok(v) = HeaderValue::from_str(t) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        None => pages::signed_out(headers),
    };
    if clear {
        for c in cookies::clearing_cookies(&state.config) {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
    }
    r
}
