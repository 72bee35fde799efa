//! How a DingTalk sign-in ends: the audit entry and metrics, then the browser's redirect (web
//! flow) or the JSON answer (in-client). A failure writes nothing but its audit entry.

use super::messages::Failed;
use crate::audit::Entry;
use crate::auth::cookies;
use crate::auth::sessions::IssuedSession;
use crate::http::client::ClientInfo;
use crate::http::redirect_target::redirect_target;
use crate::random_id::random_id;
use crate::state::AppState;
use authgate_core::audit::{event, NewAuditEntry, Outcome};
use authgate_core::clock::now_ms;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

pub async fn record_failed_sign_in(
    state: &AppState,
    client: &ClientInfo,
    authenticator: Option<&str>,
    via: &str,
    failed: &Failed,
) {
    tracing::warn!(
        authenticator = authenticator.unwrap_or("-"),
        reason = failed.failure.reason(),
        requestid = failed.request_id.as_deref().unwrap_or("-"),
        detail = failed.detail.as_deref().unwrap_or("-"),
        "DingTalk sign-in failed"
    );
    state
        .metrics
        .sign_in(authenticator.unwrap_or("unknown"), "failure");
    let mut detail = failed.audit_detail();
    detail.insert("via".into(), Value::String(via.into()));
    state
        .audit(Entry {
            event: event::SIGN_IN,
            outcome: Outcome::Failure,
            authenticator: authenticator.map(str::to_string),
            client: Some(client),
            reason: Some(failed.failure.reason().to_string()),
            detail,
            ..Default::default()
        })
        .await;
}

/// The audit entry of a successful sign-in. The store completes it with how the user was
/// found (`SessionStart::audit_for`) and writes it with the session, in one unit of work.
pub fn success_audit(client: &ClientInfo, authenticator: &str, via: &'static str) -> NewAuditEntry {
    let mut detail = Map::new();
    detail.insert("via".into(), Value::String(via.into()));
    Entry {
        event: event::SIGN_IN,
        authenticator: Some(authenticator.to_string()),
        client: Some(client),
        detail,
        ..Default::default()
    }
    .into_record()
}

fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => (
            StatusCode::FOUND,
            [(header::LOCATION, HeaderValue::from_static("/"))],
        )
            .into_response(),
    }
}

/// `/signin?authenticator=<name>&error=<reason>&redirect=<target>`: the page shows its own
/// text for the reason, in the reader's language (a link never carries text to show).
pub fn signin_page_redirect(
    authenticator: Option<&str>,
    failed: &Failed,
    target: &str,
) -> Response {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if let Some(a) = authenticator {
        q.append_pair("authenticator", a);
    }
    q.append_pair("error", failed.failure.reason());
    if let Some(scopes) = failed.failure.scopes() {
        q.append_pair("scopes", &scopes);
    }
    q.append_pair("redirect", target);
    found(&format!("/signin?{}", q.finish()))
}

/// After linking from "My account": back to the page that started it, with the failure's
/// reason (`?linkError=<reason>`) when it failed.
pub fn account_page_redirect(state: &AppState, target: &str, failed: Option<&Failed>) -> Response {
    let Some(failed) = failed else {
        return found(&redirect_target(Some(target), &state.config));
    };
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("linkError", failed.failure.reason());
    found(&format!("/?{}", q.finish()))
}

/// The browser goes to its target with the session cookies set (and, only with the NocoBase
/// compatibility option, the token in the URL).
pub fn signed_in_redirect(
    state: &AppState,
    target: &str,
    authenticator: &str,
    issued: &IssuedSession,
    token_in_url: bool,
) -> Response {
    // Checked when the state was stored; checked again because a token may ride along.
    let target = redirect_target(Some(target), &state.config);
    let target = target.as_str();
    let location = if token_in_url {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("authenticator", authenticator);
        q.append_pair("token", &issued.token);
        let (before_fragment, fragment) = match target.split_once('#') {
            Some((b, f)) => (b, Some(f)),
            None => (target, None),
        };
        let sep = if before_fragment.contains('?') {
            '&'
        } else {
            '?'
        };
        let mut l = format!("{before_fragment}{sep}{}", q.finish());
        if let Some(f) = fragment {
            l.push('#');
            l.push_str(f);
        }
        l
    } else {
        target.to_string()
    };
    let mut response = found(&location);
    let max_age = issued.session_expires_at - now_ms();
    for c in cookies::session_cookies(&state.config, &issued.token, &random_id(), max_age) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}
