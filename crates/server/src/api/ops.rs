//! Operations: liveness, readiness, metrics, and the public keys that verify our tokens.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;

/// `/healthz`: `{"status": "ok"}`. (The probes are for orchestrators, not part of the API's
/// description.)
#[derive(Serialize)]
pub struct Health {
    status: &'static str,
}

/// `/readyz`: `{"status": "ok", "database": "sqlite"}`.
#[derive(Serialize)]
pub struct Ready {
    status: &'static str,
    database: &'static str,
}

pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Ready when the database answers.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Ready>, ApiError> {
    state.store.ping().await.map_err(ApiError::unavailable)?;
    Ok(Json(Ready {
        status: "ok",
        database: state.store.backend(),
    }))
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    // On a brand-new database the RSA key is still being made for a moment: a JWKS without
    // it would send relying parties away with an incomplete set. (After the wait, what there is.)
    state.tokens.keys().rsa_ready().await;
    (
        [
            (header::CACHE_CONTROL, "public, max-age=300"),
            // A public document: browser applications verify tokens with it.
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        Json(state.tokens.keys().jwks()),
    )
}
