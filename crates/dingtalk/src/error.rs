//! One error type for every DingTalk call. Its text never contains a secret, code or token.

use std::time::Duration;

/// A DingTalk call failed. `endpoint` names the call (e.g. `userAccessToken`), never its URL.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The new API (`api.dingtalk.com`) refused: non-2xx status with a DingTalk error body.
    #[error(
        "DingTalk {endpoint} refused (HTTP {status}, {code}): {message}{}",
        rid(request_id)
    )]
    Api {
        endpoint: &'static str,
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
        /// From `accessdenieddetail.requiredScopes` (on 403).
        required_scopes: Vec<String>,
    },
    /// The legacy API (`oapi.dingtalk.com`) answered a non-zero `errcode`.
    #[error(
        "DingTalk {endpoint} refused (errcode {errcode}): {errmsg}{}",
        rid(request_id)
    )]
    Legacy {
        endpoint: &'static str,
        errcode: i64,
        errmsg: String,
        request_id: Option<String>,
    },
    /// No complete answer within the configured timeout.
    #[error("DingTalk {endpoint} did not answer within {} ms", timeout.as_millis())]
    Timeout {
        endpoint: &'static str,
        timeout: Duration,
    },
    /// No connection, or it broke before a complete answer (refused, reset, DNS...).
    #[error("DingTalk {endpoint} unreachable: {detail}")]
    Unreachable {
        endpoint: &'static str,
        detail: String,
    },
    /// An answer that is not what DingTalk sends (e.g. a 5xx HTML page or malformed JSON).
    /// `detail` holds a short body snippet for error statuses, only the parse error otherwise.
    #[error(
        "DingTalk {endpoint} gave an unexpected answer (HTTP {status}): {detail}{}",
        rid(request_id)
    )]
    InvalidResponse {
        endpoint: &'static str,
        status: u16,
        detail: String,
        request_id: Option<String>,
    },
}

fn rid(request_id: &Option<String>) -> String {
    request_id
        .as_deref()
        .map(|id| format!(" [requestid {id}]"))
        .unwrap_or_default()
}

/// Legacy errcodes worth naming.
pub mod errcode {
    /// Invalid or expired app access token.
    pub const INVALID_ACCESS_TOKEN: i64 = 40014;
    /// Invalid or expired login-free (in-client) code.
    pub const INVALID_IN_CLIENT_CODE: i64 = 40078;
    /// The app lacks a permission.
    pub const NO_PERMISSION: i64 = 60011;
    /// The user is not a member of the app's organisation ("找不到该用户").
    pub const USER_NOT_FOUND: i64 = 60121;
}

impl Error {
    /// The call that failed, e.g. `userAccessToken`, `getbyunionid`.
    pub fn endpoint(&self) -> &'static str {
        match self {
            Error::Api { endpoint, .. }
            | Error::Legacy { endpoint, .. }
            | Error::Timeout { endpoint, .. }
            | Error::Unreachable { endpoint, .. }
            | Error::InvalidResponse { endpoint, .. } => endpoint,
        }
    }

    /// DingTalk's request id, for the server log and the admin.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. }
            | Error::Legacy { request_id, .. }
            | Error::InvalidResponse { request_id, .. } => request_id.as_deref(),
            Error::Timeout { .. } | Error::Unreachable { .. } => None,
        }
    }

    /// The HTTP status, when an answer arrived.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::InvalidResponse { status, .. } => Some(*status),
            Error::Legacy { .. } => Some(200),
            Error::Timeout { .. } | Error::Unreachable { .. } => None,
        }
    }

    /// The new API's error `code` string.
    pub fn api_code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The legacy API's `errcode`.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            Error::Legacy { errcode, .. } => Some(*errcode),
            _ => None,
        }
    }

    /// Wrong Client ID or Client Secret (an admin problem).
    pub fn is_invalid_credentials(&self) -> bool {
        self.api_code()
            .is_some_and(|c| c.eq_ignore_ascii_case("invalidClientIdOrSecret"))
    }

    /// The sign-in code is invalid, expired or already used (the user should retry).
    pub fn is_invalid_code(&self) -> bool {
        match self {
            Error::Api { code, .. } => {
                code.eq_ignore_ascii_case("invalidCode")
                    || code.eq_ignore_ascii_case("invalid.authcode")
            }
            Error::Legacy { errcode, .. } => *errcode == errcode::INVALID_IN_CLIENT_CODE,
            _ => false,
        }
    }

    /// A bad or expired access token (user token on the new API, app token on the legacy one).
    pub fn is_invalid_token(&self) -> bool {
        match self {
            Error::Api { code, .. } => {
                code.eq_ignore_ascii_case("InvalidAuthentication")
                    || code.eq_ignore_ascii_case("accesstoken.expired")
            }
            Error::Legacy { errcode, .. } => *errcode == errcode::INVALID_ACCESS_TOKEN,
            _ => false,
        }
    }

    /// The app lacks a permission (see [`Error::missing_scopes`] for which).
    pub fn is_permission_denied(&self) -> bool {
        match self {
            Error::Api { status, code, .. } => {
                *status == 403 || code.starts_with("Forbidden.AccessDenied")
            }
            Error::Legacy { errcode, .. } => *errcode == errcode::NO_PERMISSION,
            _ => false,
        }
    }

    /// Permissions DingTalk says the app lacks (`accessdenieddetail.requiredScopes`).
    pub fn missing_scopes(&self) -> &[String] {
        match self {
            Error::Api {
                required_scopes, ..
            } => required_scopes,
            _ => &[],
        }
    }

    /// The user is not a member of the app's organisation (errcode 60121).
    pub fn is_not_org_member(&self) -> bool {
        self.errcode() == Some(errcode::USER_NOT_FOUND)
    }

    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    pub fn is_unreachable(&self) -> bool {
        matches!(self, Error::Unreachable { .. })
    }

    /// DingTalk (or its gateway) failed rather than refused: worth telling the user to retry later.
    pub fn is_dingtalk_down(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::Unreachable { .. } => true,
            Error::InvalidResponse { status, .. } => *status >= 500,
            Error::Api { status, .. } => *status >= 500,
            Error::Legacy { .. } => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
