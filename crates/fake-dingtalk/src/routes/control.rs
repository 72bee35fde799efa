//! `/_fake/...`: drive the fake from another process (tests, demo, benchmarks).
//! Documented in the crate docs; answers JSON, errors as 400 `{"error": "..."}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use crate::config::{FakeApp, FakeUser};
use crate::faults::{Endpoint, FaultRule};
use crate::state::{FakeError, Shared};

pub(super) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/apps", get(list_apps).post(upsert_app))
        .route("/users", get(list_users).post(upsert_user))
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/requests", get(list_requests).delete(clear_requests))
        .route("/in-client-codes", post(mint_in_client_code))
        .route("/web-codes", post(mint_web_code))
        .route("/app-tokens/revoke", post(revoke_app_tokens))
        .route("/reset", post(reset))
}

fn bad_request(message: impl std::fmt::Display) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": message.to_string()})),
    )
        .into_response()
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}

fn done(result: Result<(), FakeError>) -> Response {
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => bad_request(e),
    }
}

async fn list_apps(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.apps()).into_response()
}

async fn upsert_app(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<FakeApp>(&body) {
        Ok(app) => done(shared.upsert_app(app)),
        Err(e) => bad_request(e),
    }
}

async fn list_users(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.users()).into_response()
}

async fn upsert_user(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<FakeUser>(&body) {
        Ok(user) => done(shared.upsert_user(user)),
        Err(e) => bad_request(e),
    }
}

async fn list_faults(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.faults.list()).into_response()
}

async fn add_fault(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let rule = match parse::<FaultRule>(&body) {
        Ok(rule) => rule,
        Err(e) => return bad_request(e),
    };
    if let Err(e) = rule.validate() {
        return bad_request(FakeError::InvalidFault(e));
    }
    shared.faults.add(rule);
    StatusCode::NO_CONTENT.into_response()
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    shared.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct RequestFilter {
    endpoint: Option<Endpoint>,
}

async fn list_requests(
    State(shared): State<Arc<Shared>>,
    Query(filter): Query<RequestFilter>,
) -> Response {
    let mut requests = shared.log.snapshot();
    if let Some(endpoint) = filter.endpoint {
        requests.retain(|r| r.endpoint == Some(endpoint));
    }
    Json(requests).into_response()
}

async fn clear_requests(State(shared): State<Arc<Shared>>) -> Response {
    shared.log.clear();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MintRequest {
    client_id: String,
    userid: String,
}

async fn mint_in_client_code(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request = match parse::<MintRequest>(&body) {
        Ok(request) => request,
        Err(e) => return bad_request(e),
    };
    match shared.mint_in_client_code(&request.client_id, &request.userid) {
        Ok(code) => Json(json!({"code": code})).into_response(),
        Err(e) => bad_request(e),
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RevokeRequest {
    client_id: Option<String>,
}

async fn revoke_app_tokens(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        RevokeRequest::default()
    } else {
        match parse::<RevokeRequest>(&body) {
            Ok(request) => request,
            Err(e) => return bad_request(e),
        }
    };
    shared.revoke_app_tokens(request.client_id.as_deref());
    StatusCode::NO_CONTENT.into_response()
}

async fn reset(State(shared): State<Arc<Shared>>) -> Response {
    shared.reset();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebCodeRequest {
    client_id: String,
    /// userid or unionId.
    user: String,
    #[serde(default)]
    corp_id_scope: bool,
}

async fn mint_web_code(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request = match parse::<WebCodeRequest>(&body) {
        Ok(request) => request,
        Err(e) => return bad_request(e),
    };
    let Some(app) = shared.app(&request.client_id) else {
        return bad_request(FakeError::UnknownApp(request.client_id));
    };
    let Some(user) = shared.find_user(&request.user) else {
        return bad_request(FakeError::UnknownUser(request.user));
    };
    let code = shared.issue_web_code(&app, &user, request.corp_id_scope, None);
    Json(json!({"code": code})).into_response()
}
