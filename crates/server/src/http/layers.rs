//! Middleware: metrics per route, security headers, request ids in logs.

use crate::error::{error_body, ApiError, ErrorMessage, Text};
use crate::lang::Lang;
use crate::metrics::{RequestLabels, RouteLabels};
use crate::state::AppState;
use axum::body::{Body, HttpBody};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

/// Reads the request body before the handler runs, within the header timeout and up to
/// `max_body_bytes` (413 past it): a body trickled in a byte at a time would otherwise hold its
/// connection for as long as the client likes (the listener's timers pause while a request is
/// handled). Bodies are small and every handler reads its whole body anyway.
pub async fn read_body_in_time(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    // Most requests (every GET) have no body: nothing to wait for.
    if req.body().size_hint().exact() == Some(0) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let limit = state.config.max_body_bytes;
    let deadline = state.config.connections.header_read_timeout;
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(e)) if is_over_limit(&e) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            Text::new("The request body is too large", "请求内容太大了"),
        )
        .into_response(),
        Ok(Err(_)) => ApiError::bad_request(Text::new(
            "The request body could not be read",
            "无法读取请求内容",
        ))
        .into_response(),
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "REQUEST_TIMEOUT",
            Text::new(
                "The request body did not arrive in time",
                "请求内容未能及时送达",
            ),
        )
        .into_response(),
    }
}

/// Error answers are written in English with both texts attached (`ErrorMessage`); a reader
/// whose language is Chinese (`lang` cookie, else `Accept-Language`) gets the Chinese one.
pub async fn answer_in_the_readers_language(req: Request, next: Next) -> Response {
    // Only the two headers that choose the language are kept, and read only for an error.
    let mut chooses = axum::http::HeaderMap::new();
    for name in [header::COOKIE, header::ACCEPT_LANGUAGE] {
        if let Some(v) = req.headers().get(&name) {
            chooses.insert(name, v.clone());
        }
    }
    let mut response = next.run(req).await;
    let Some(message) = response.extensions_mut().remove::<ErrorMessage>() else {
        return response;
    };
    if Lang::from_request(&chooses) != Lang::Zh {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    // The length of the English body no longer holds.
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = error_body(message.code, &message.text.zh).into_response();
    Response::from_parts(parts, body.into_body())
}

fn is_over_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

pub async fn record_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(req).await;
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route: route.clone(),
            status: response.status().as_u16(),
        })
        .inc();
    state
        .metrics
        .latency
        .get_or_create(&RouteLabels { route })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Headers every answer carries. Pages that DingTalk must frame set their own
/// `frame-ancestors`; a handler's own Content-Security-Policy is kept.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    set(header::CACHE_CONTROL, "no-store");
    if state.config.is_https() {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}
