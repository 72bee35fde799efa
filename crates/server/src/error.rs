//! API errors in NocoBase's shape: `{"errors": [{"message": "...", "code": "..."}]}` with the
//! HTTP status. Internal errors are logged with their cause and answered with a generic text.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after_secs: Option<i64>,
    /// What the audit log records, when it says more than the message.
    pub reason: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
            reason: None,
        }
    }
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
    /// The reason for the audit log.
    pub fn audit_reason(&self) -> String {
        self.reason.clone().unwrap_or_else(|| self.message.clone())
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }
    pub fn too_many(retry_after_secs: i64, message: impl Into<String>) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS", message)
        }
    }
    /// Logs the cause; the client only learns that something failed on our side.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "Something went wrong on the server; the administrator can find details in its log",
        )
    }
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "service unavailable");
        Self {
            retry_after_secs: Some(UNAVAILABLE_RETRY_AFTER_SECS),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                "The server cannot reach its database right now; please try again shortly",
            )
        }
    }
}

/// A database that is unreachable or busy is usually back within seconds.
pub const UNAVAILABLE_RETRY_AFTER_SECS: i64 = 2;

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

/// Every error: NocoBase's `{"errors": [{"message", "code"}]}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    errors: Vec<ErrorItem>,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorItem {
    /// For people, in English.
    message: String,
    /// For programs: INVALID_REQUEST, EMPTY_TOKEN, INVALID_CREDENTIALS, FORBIDDEN, NOT_FOUND,
    /// TOO_MANY_ATTEMPTS, ...
    code: &'static str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            errors: vec![ErrorItem {
                message: self.message,
                code: self.code,
            }],
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

impl From<authgate_store::StoreError> for ApiError {
    fn from(e: authgate_store::StoreError) -> Self {
        use authgate_store::StoreError as E;
        match e {
            // The store's own words for the rules it keeps.
            E::Conflict(_)
            | E::LastEnabledAuthenticator
            | E::AdminsNeedPassword
            | E::LastEnabledAdmin => ApiError::bad_request(e.to_string()),
            // Unreachable or busy: the same answer on both databases.
            e if e.is_temporary() => ApiError::unavailable(e),
            other => ApiError::internal(other),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
