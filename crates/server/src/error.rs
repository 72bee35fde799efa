//! API errors in NocoBase's shape: `{"errors": [{"message": "...", "code": "..."}]}` with the
//! HTTP status. Internal errors are logged with their cause and answered with a generic text.
//! Every message has its English and Chinese text; the answer is written in English and
//! `http::layers::answer_in_the_readers_language` puts the Chinese one in for Chinese readers.

pub use authgate_core::text::Text;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    /// Boxed: errors travel in every `Result` of the API, which stays small this way.
    pub message: Box<Text>,
    pub retry_after_secs: Option<i64>,
    /// What the audit log records, when it says more than the message.
    pub reason: Option<String>,
    /// Whom the refusal concerns, for the audit log (never in the answer: a wrong password
    /// answers the same whether or not the account exists).
    pub audit_user: Option<i64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: Text) -> Self {
        Self {
            status,
            code,
            message: Box::new(message),
            retry_after_secs: None,
            reason: None,
            audit_user: None,
        }
    }
    pub fn about_user(mut self, id: i64) -> Self {
        self.audit_user = Some(id);
        self
    }
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
    /// The reason for the audit log.
    pub fn audit_reason(&self) -> String {
        self.reason
            .clone()
            .unwrap_or_else(|| self.message.en.clone())
    }
    pub fn bad_request(message: Text) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
    }
    pub fn not_found(message: Text) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }
    pub fn forbidden(message: Text) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }
    pub fn unauthorized(code: &'static str, message: Text) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }
    pub fn too_many(retry_after_secs: i64, message: Text) -> Self {
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
            Text::new(
                "Something went wrong on the server; the administrator can find details in its log",
                "服务器出错了；管理员可以在服务器日志中查看详情",
            ),
        )
    }
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "service unavailable");
        Self {
            retry_after_secs: Some(UNAVAILABLE_RETRY_AFTER_SECS),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                Text::new(
                    "The server cannot reach its database right now; please try again shortly",
                    "服务器暂时无法连接数据库，请稍后再试",
                ),
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
            self.message.en
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
    /// For people, in the reader's language (`lang` cookie, else `Accept-Language`: English
    /// or Chinese).
    message: String,
    /// For programs: INVALID_REQUEST, EMPTY_TOKEN, INVALID_CREDENTIALS, FORBIDDEN, NOT_FOUND,
    /// TOO_MANY_ATTEMPTS, ...
    code: &'static str,
}

/// The message of an error answer in both languages, for the layer that picks one.
#[derive(Clone)]
pub struct ErrorMessage {
    pub code: &'static str,
    pub text: Text,
}

/// NocoBase's error body with one message.
pub fn error_body(code: &'static str, message: &str) -> axum::Json<ErrorBody> {
    axum::Json(ErrorBody {
        errors: vec![ErrorItem {
            message: message.to_string(),
            code,
        }],
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, error_body(self.code, &self.message.en)).into_response();
        if let Some(secs) = self.retry_after_secs {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response.extensions_mut().insert(ErrorMessage {
            code: self.code,
            text: *self.message,
        });
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
            | E::LastEnabledAdmin => ApiError::bad_request(e.text()),
            // Unreachable or busy: the same answer on both databases.
            e if e.is_temporary() => ApiError::unavailable(e),
            other => ApiError::internal(other),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
