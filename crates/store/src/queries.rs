//! Parameters and results of the store's list and compound operations.

use authgate_core::model::{IssuedToken, Session, User};

#[derive(Debug, Clone, Default)]
pub struct Page {
    /// 1-based.
    pub page: i64,
    pub page_size: i64,
}

impl Page {
    pub fn new(page: i64, page_size: i64) -> Self {
        Self {
            page: page.max(1),
            page_size: page_size.clamp(1, 200),
        }
    }
    pub fn offset(&self) -> i64 {
        (self.page.max(1) - 1) * self.page_size
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserSort {
    #[default]
    IdAsc,
    IdDesc,
    UsernameAsc,
    UsernameDesc,
    CreatedAsc,
    CreatedDesc,
}

#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Case-insensitive substring of username, e-mail, phone or nickname.
    pub search: Option<String>,
    pub id: Option<i64>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub is_admin: Option<bool>,
    pub enabled: Option<bool>,
    pub sort: UserSort,
    pub page: Page,
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub user_id: Option<i64>,
    pub event: Option<String>,
    pub result: Option<String>,
    pub authenticator: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub page: Page,
}

#[derive(Debug, Clone, Default)]
pub struct SessionQuery {
    pub user_id: Option<i64>,
    /// Only sessions neither revoked nor older than this instant (ms).
    pub active_since: Option<i64>,
    pub page: Page,
}

/// A session row with what the admin pages show beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    pub session: Session,
    pub username: Option<String>,
    pub nickname: Option<String>,
}

/// Everything needed to judge a presented token, read in one query.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenContext {
    pub token: IssuedToken,
    pub session: Session,
    pub user: User,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RenewOutcome {
    /// This call renewed the token; the new row was written.
    Renewed,
    /// Another request renewed it first: here is the token it was renewed to.
    AlreadyRenewed(IssuedToken),
    /// No such token.
    Missing,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub alg: String,
    /// Sealed with the secret key.
    pub private_key: String,
    /// Base64url of the raw public key.
    pub public_key: String,
    pub active: bool,
    pub created_at: i64,
}

/// Sign-in failure limits: `max_failures` within `window_ms` locks the key for `lock_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureLimit {
    pub max_failures: i64,
    pub window_ms: i64,
    pub lock_ms: i64,
}
