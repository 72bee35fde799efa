//! Sessions, the tokens issued for them, and the token policy.

use crate::error::StoreResult;
use async_trait::async_trait;
use authgate_core::audit::NewAuditEntry;
use authgate_core::model::{IssuedToken, Session, User};
use authgate_core::token_policy::TokenPolicy;

#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// The session, its first token and the audit entries that record it, in one unit of work.
    async fn create_session(
        &self,
        session: &Session,
        token: &IssuedToken,
        audit: &[NewAuditEntry],
    ) -> StoreResult<()>;
    /// The token, its session and its user. Answers may be up to 500 ms old for changes made
    /// by another process (node, CLI); changes made through this store are seen at once.
    async fn token_context(&self, jti: &str) -> StoreResult<Option<TokenContext>>;
    /// Renews `old_jti` to `new_token` exactly once, whichever node asks.
    async fn renew_token(
        &self,
        old_jti: &str,
        new_token: &IssuedToken,
        now: i64,
    ) -> StoreResult<RenewOutcome>;
    async fn revoke_session(
        &self,
        session_id: &str,
        reason: &str,
        by: Option<i64>,
        now: i64,
    ) -> StoreResult<bool>;
    /// Revokes every live session of a user but `except`; returns how many.
    async fn revoke_user_sessions(
        &self,
        user_id: i64,
        except: Option<&str>,
        reason: &str,
        by: Option<i64>,
        now: i64,
    ) -> StoreResult<u64>;
    async fn get_session(&self, session_id: &str) -> StoreResult<Option<SessionInfo>>;
    async fn list_sessions(&self, query: &SessionQuery) -> StoreResult<(Vec<SessionInfo>, i64)>;

    /// Answers may be up to 500 ms old for changes made by another process; changes made
    /// through this store are seen at once.
    async fn token_policy(&self) -> StoreResult<TokenPolicy>;
    async fn set_token_policy(&self, policy: &TokenPolicy, now: i64) -> StoreResult<()>;
}

#[derive(Debug, Clone, Default)]
pub struct SessionQuery {
    pub user_id: Option<i64>,
    /// Only sessions neither revoked nor older than this instant (ms).
    pub active_since: Option<i64>,
    pub page: crate::Page,
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
