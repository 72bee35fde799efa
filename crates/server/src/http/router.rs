//! The router and its middleware stack.

use crate::auth::request_auth;
use crate::error::{ApiError, Text};
use crate::http::layers;
use crate::state::AppState;
use axum::http::{Request, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub fn build(state: AppState) -> Router {
    let mut router = crate::api::routes()
        .merge(crate::pages::routes())
        .merge(crate::oidc::routes(state.clone()))
        .merge(crate::forward_auth::routes());
    for t in state.auth_types.all() {
        router = router.merge(t.routes());
    }
    router
        .fallback(not_found)
        .layer(from_fn_with_state(state.clone(), request_auth::resolve))
        .layer(from_fn_with_state(state.clone(), layers::read_body_in_time))
        .layer(axum::middleware::from_fn(
            layers::answer_in_the_readers_language,
        ))
        .layer(from_fn_with_state(state.clone(), layers::record_metrics))
        .layer(from_fn_with_state(state.clone(), layers::security_headers))
        .layer(CatchPanicLayer::custom(|_| panic_response()))
        .layer(
            // Only the path is logged: query strings can carry codes and states.
            TraceLayer::new_for_http()
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
                .make_span_with(|req: &Request<_>| {
                let request_id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id)
            }),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// A browser asking for a page gets a page; programs (and anything under `/api/`) get JSON.
async fn not_found(uri: axum::http::Uri, headers: axum::http::HeaderMap) -> Response {
    let wants_html = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html && !uri.path().starts_with("/api/") {
        return crate::pages::not_found_page(&headers);
    }
    ApiError::not_found(Text::new(
        "No such route; see /api/openapi.json for the API",
        "没有这个接口；API 说明见 /api/openapi.json",
    ))
    .into_response()
}

fn panic_response() -> Response {
    tracing::error!("a request handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        ApiError::internal("handler panicked"),
    )
        .into_response()
}
