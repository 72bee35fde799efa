//! The HTTP surface: DingTalk's three hosts on one base URL, plus the `/_fake/` control API.

mod authorize;
mod contact;
mod control;
mod oauth;
mod topapi;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};

use crate::faults::Endpoint;
use crate::request_log::RecordedRequest;
use crate::responses::{api_error, new_request_id, RequestId, REQUEST_ID_HEADER};
use crate::state::{ApiError, Shared};

/// Far above anything DingTalk accepts; keeps a hostile client from filling memory.
const MAX_BODY_BYTES: usize = 1 << 20;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(Endpoint::Authorize.path(), get(authorize::authorize))
        .route(
            Endpoint::UserAccessToken.path(),
            post(oauth::user_access_token),
        )
        .route(
            Endpoint::AppAccessToken.path(),
            post(oauth::app_access_token),
        )
        .route(Endpoint::UsersMe.path(), get(contact::me))
        .route(Endpoint::GetByUnionId.path(), post(topapi::getbyunionid))
        .route(Endpoint::UserGet.path(), post(topapi::user_get))
        .route(Endpoint::GetUserInfo.path(), post(topapi::getuserinfo))
        .nest("/_fake", control::router())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            record_and_tag,
        ))
        .with_state(shared)
}

async fn not_found(Extension(rid): Extension<RequestId>) -> Response {
    let err = ApiError::new(
        404,
        "InvalidAction.NotFound",
        "Specified api is not found, please check your url and method.",
    );
    api_error(&rid, &err)
}

/// Gives every request an id (echoed in the answer) and logs DingTalk-bound requests.
async fn record_and_tag(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let rid = new_request_id();
    let path = req.uri().path().to_owned();
    let mut req = if path.starts_with("/_fake/") {
        req
    } else {
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(bytes) => bytes,
            Err(_) => {
                let err = ApiError::new(413, "RequestTooLarge", "request body too large");
                return api_error(&RequestId(rid), &err);
            }
        };
        let headers: BTreeMap<String, String> = parts
            .headers
            .iter()
            .filter(|(name, _)| *name != "host")
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        shared.log.record(RecordedRequest {
            seq: 0,
            method: parts.method.to_string(),
            path: path.clone(),
            query: parts.uri.query().map(str::to_owned),
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            request_id: rid.clone(),
            endpoint: Endpoint::from_path(&path),
        });
        Request::from_parts(parts, Body::from(bytes))
    };
    req.extensions_mut().insert(RequestId(rid.clone()));
    let mut response = next.run(req).await;
    if let Ok(value) = HeaderValue::from_str(&rid) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// Parses a JSON object body, as DingTalk does: only with a JSON content type.
pub(crate) fn json_object(
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Option<serde_json::Map<String, serde_json::Value>> {
    let is_json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !is_json {
        return None;
    }
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// A string field of a JSON body, if present and a non-empty string.
pub(crate) fn str_field<'a>(
    body: &'a serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<&'a str> {
    body.get(name)
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
}
