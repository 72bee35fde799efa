//! `POST /v1.0/oauth2/userAccessToken` and `POST /v1.0/oauth2/accessToken` (new API).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Map, Value};

use super::{json_object, str_field};
use crate::connection::ConnHandle;
use crate::faults::{ActiveFaults, Endpoint};
use crate::responses::{api_error, api_ok, preempt, RequestId};
use crate::state::{ApiError, IssuedUserToken, Shared};

/// What the API gateway says when a required body field is absent (also for non-JSON bodies,
/// where it finds no field at all).
fn missing(field: &'static str) -> ApiError {
    let code = match field {
        "clientId" => "MissingclientId",
        "clientSecret" => "MissingclientSecret",
        "grantType" => "MissinggrantType",
        "code" => "Missingcode",
        "refreshToken" => "MissingrefreshToken",
        "appKey" => "MissingappKey",
        _ => "MissingappSecret",
    };
    ApiError::new(400, code, format!("{field} is mandatory for this action."))
}

fn expire_in(shared: &Shared, faults: &ActiveFaults) -> Value {
    let secs = shared.token_ttl().as_secs();
    if faults.string_expire_in {
        json!(secs.to_string())
    } else {
        json!(secs)
    }
}

pub(crate) async fn user_access_token(
    State(shared): State<Arc<Shared>>,
    Extension(rid): Extension<RequestId>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let faults = shared.faults.take(Endpoint::UserAccessToken);
    if let Some(response) = preempt(&faults, &conn, &rid, Endpoint::UserAccessToken).await {
        return response;
    }
    match exchange(&shared, &headers, &body) {
        Ok(issued) => {
            let mut out = Map::new();
            out.insert("accessToken".into(), json!(issued.access_token));
            out.insert("refreshToken".into(), json!(issued.refresh_token));
            out.insert("expireIn".into(), expire_in(&shared, &faults));
            if let Some(corp_id) = issued.corp_id {
                out.insert("corpId".into(), json!(corp_id));
            }
            api_ok(out, &faults)
        }
        Err(err) => api_error(&rid, &err),
    }
}

fn exchange(
    shared: &Shared,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<IssuedUserToken, ApiError> {
    let body = json_object(headers, body).ok_or_else(|| missing("clientId"))?;
    let client_id = str_field(&body, "clientId").ok_or_else(|| missing("clientId"))?;
    let secret = str_field(&body, "clientSecret").ok_or_else(|| missing("clientSecret"))?;
    match str_field(&body, "grantType") {
        Some("authorization_code") => {
            let code = str_field(&body, "code").ok_or_else(|| missing("code"))?;
            shared.exchange_code(client_id, secret, code)
        }
        Some("refresh_token") => {
            let token = str_field(&body, "refreshToken").ok_or_else(|| missing("refreshToken"))?;
            shared.refresh(client_id, secret, token)
        }
        Some(other) => Err(ApiError::new(
            400,
            "invalidParameter.grantType.invalid",
            format!("grantType {other} is not supported"),
        )),
        None => Err(missing("grantType")),
    }
}

pub(crate) async fn app_access_token(
    State(shared): State<Arc<Shared>>,
    Extension(rid): Extension<RequestId>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let faults = shared.faults.take(Endpoint::AppAccessToken);
    if let Some(response) = preempt(&faults, &conn, &rid, Endpoint::AppAccessToken).await {
        return response;
    }
    let result = json_object(&headers, &body)
        .ok_or_else(|| missing("appKey"))
        .and_then(|body| {
            let key = str_field(&body, "appKey").ok_or_else(|| missing("appKey"))?;
            let secret = str_field(&body, "appSecret").ok_or_else(|| missing("appSecret"))?;
            shared.app_access_token(key, secret)
        });
    match result {
        Ok(token) => {
            let mut out = Map::new();
            out.insert("accessToken".into(), json!(token));
            out.insert("expireIn".into(), expire_in(&shared, &faults));
            api_ok(out, &faults)
        }
        Err(err) => api_error(&rid, &err),
    }
}
