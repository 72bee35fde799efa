//! DingTalk-shaped answers: both error formats, success bodies, and fault responses.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::connection::ConnHandle;
use crate::faults::{ActiveFaults, Endpoint};
use crate::state::{ApiError, LegacyError};

/// The id of the current request, put in every answer (`requestid` / `request_id` and the
/// `x-acs-request-id` header).
#[derive(Clone)]
pub(crate) struct RequestId(pub(crate) String);

pub(crate) const REQUEST_ID_HEADER: &str = "x-acs-request-id";

pub(crate) fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string().to_ascii_uppercase()
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// New API error: status + `{code, message, requestid}`.
pub(crate) fn api_error(rid: &RequestId, err: &ApiError) -> Response {
    let body = json!({"code": err.code, "message": err.message, "requestid": rid.0});
    (status(err.status), axum::Json(body)).into_response()
}

/// New API 403 naming the missing permissions.
pub(crate) fn api_permission_denied(rid: &RequestId, scopes: &[String]) -> Response {
    let body = json!({
        "code": "Forbidden.AccessDenied.AccessTokenPermissionDenied",
        "message": format!("没有调用该接口的权限，接口权限申请参考：{}", scopes.join(",")),
        "requestid": rid.0,
        "accessdenieddetail": {"requiredScopes": scopes},
    });
    (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
}

/// New API success: the bare object (no request id in the body, as DingTalk does).
pub(crate) fn api_ok(mut body: Map<String, Value>, faults: &ActiveFaults) -> Response {
    if faults.extra_fields {
        add_extra_fields(&mut body);
    }
    axum::Json(Value::Object(body)).into_response()
}

/// Legacy error: HTTP 200 with a non-zero `errcode`.
pub(crate) fn legacy_error(rid: &RequestId, err: &LegacyError) -> Response {
    let body = json!({"errcode": err.errcode, "errmsg": err.errmsg, "request_id": rid.0});
    axum::Json(body).into_response()
}

/// Legacy success: `{"errcode": 0, "errmsg": "ok", "result": ..., "request_id": ...}`.
pub(crate) fn legacy_ok(
    rid: &RequestId,
    mut result: Map<String, Value>,
    faults: &ActiveFaults,
) -> Response {
    let mut body = Map::new();
    body.insert("errcode".into(), json!(0));
    body.insert("errmsg".into(), json!("ok"));
    if faults.extra_fields {
        add_extra_fields(&mut result);
        add_extra_fields(&mut body);
    }
    body.insert("result".into(), Value::Object(result));
    body.insert("request_id".into(), json!(rid.0));
    axum::Json(Value::Object(body)).into_response()
}

fn add_extra_fields(map: &mut Map<String, Value>) {
    map.insert("fakeUnknownField".into(), json!("clients must ignore this"));
    map.insert(
        "fakeUnknownObject".into(),
        json!({"nested": [1, "two", null, {"deep": true}]}),
    );
}

pub(crate) fn html(status_code: StatusCode, body: String) -> Response {
    (
        status_code,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// What a gateway in front of DingTalk shows when the backend is down.
fn gateway_error_page(code: u16) -> Response {
    let status = status(code);
    let reason = status.canonical_reason().unwrap_or("Server Error");
    let page = format!(
        "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}</h1></center>\r\n<hr><center>Tengine</center>\r\n</body>\r\n</html>\r\n"
    );
    html(status, page)
}

fn malformed_json() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json;charset=utf-8")],
        "{\"errcode\":0,\"result\":{\"items\":[1,2,",
    )
        .into_response()
}

/// Applies the faults that replace the normal answer. `None`: carry on, normally.
pub(crate) async fn preempt(
    faults: &ActiveFaults,
    conn: &ConnHandle,
    rid: &RequestId,
    endpoint: Endpoint,
) -> Option<Response> {
    if let Some(delay) = faults.delay {
        tokio::time::sleep(delay).await;
    }
    if faults.connection_reset {
        conn.kill();
        // Never written: the connection fails on the first byte.
        return Some(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    }
    if let Some(code) = faults.server_error {
        return Some(gateway_error_page(code));
    }
    if let Some(scopes) = &faults.permission_denied {
        return Some(if endpoint.is_legacy() {
            let msg = format!(
                "没有调用该接口的权限，接口权限申请参考：{}",
                scopes.join(",")
            );
            legacy_error(rid, &LegacyError::new(60011, msg))
        } else {
            api_permission_denied(rid, scopes)
        });
    }
    if faults.malformed_json {
        return Some(malformed_json());
    }
    None
}

/// `155****3240`: what ISV apps receive instead of the number.
pub(crate) fn mask_mobile(mobile: &str) -> String {
    let chars: Vec<char> = mobile.chars().collect();
    if chars.len() < 8 {
        return "****".to_owned();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// Minimal HTML escaping for the pages.
pub(crate) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_dingtalk() {
        assert_eq!(mask_mobile("15500003240"), "155****3240");
        assert_eq!(mask_mobile("123"), "****");
    }
}
