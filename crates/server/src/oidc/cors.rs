//! Cross-origin calls from browser applications (single-page apps, public clients): allowed
//! from the origins of registered redirect URIs only, on the endpoints such an application
//! calls itself (token, UserInfo, revocation, introspection). Discovery and the JWKS are public
//! documents and say `*` (see `configuration` and `ops::jwks`).

use crate::oidc::client::Client;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn allow_registered_origins(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_string)
    else {
        return next.run(req).await;
    };
    let allowed = registered(&state, &origin).await;
    let preflight = req.method() == Method::OPTIONS;
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    if allowed {
        let h = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&origin) {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        if preflight {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Authorization, Content-Type, DPoP"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
    }
    response
}

/// Whether an enabled client has a redirect URI at `origin`.
async fn registered(state: &AppState, origin: &str) -> bool {
    if origin.len() > 300 {
        return false;
    }
    let Ok(clients) = state.store.list_oidc_clients().await else {
        return false;
    };
    clients
        .into_iter()
        .filter_map(|r| Client::from_record(r).ok())
        .filter(|c| c.enabled)
        .any(|c| c.web_origins().any(|o| o == origin))
}
