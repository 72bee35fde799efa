//! The UserInfo endpoint (OIDC Core 5.3): GET or POST, the access token in the
//! `Authorization: Bearer` header or (POST) the `access_token` form field.

use crate::auth::request_auth::bearer_token;
use crate::oidc::access::judge;
use crate::oidc::claims;
use crate::oidc::errors::OAuthError;
use crate::oidc::params::parse;
use crate::oidc::token::no_store;
use crate::state::AppState;
use authgate_core::clock::now_ms;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

pub async fn get(State(state): State<AppState>, headers: HeaderMap) -> Response {
    answer(&state, &headers, None).await
}

pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    answer(&state, &headers, Some(&body)).await
}

async fn answer(state: &AppState, headers: &HeaderMap, body: Option<&[u8]>) -> Response {
    match userinfo(state, headers, body).await {
        Ok(v) => no_store(Json(v).into_response()),
        Err(e) => e.into_response(),
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    bearer_token(value)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

async fn userinfo(
    state: &AppState,
    headers: &HeaderMap,
    body: Option<&[u8]>,
) -> Result<Value, OAuthError> {
    let in_header = bearer(headers);
    let in_body = body.and_then(|b| {
        parse(b)
            .into_iter()
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v)
    });
    let token = match (in_header, in_body) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "send the access token once: in the header or in the body",
            ))
        }
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => return Err(OAuthError::invalid_token("no access token")),
    };
    let live = match judge(state, &token, now_ms()).await? {
        Ok(live) => live,
        Err(why) => return Err(OAuthError::invalid_token(why)),
    };
    let Some(grant) = live.grant else {
        return Err(OAuthError::invalid_token(
            "a client_credentials token names no user",
        ));
    };
    let asked: Option<Value> = grant
        .grant
        .claims
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok());
    let names = claims::requested(&live.claims.scope, asked.as_ref(), "userinfo");
    let mut out = claims::values(&grant.user, &live.identities, &names);
    out.insert("sub".into(), json!(live.claims.sub));
    Ok(Value::Object(out))
}
