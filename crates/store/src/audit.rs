//! The audit log.

use crate::error::StoreResult;
use async_trait::async_trait;
use authgate_core::audit::{AuditEntry, NewAuditEntry};

#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    async fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<()>;
    /// Like `append_audit`, but a failure identical to the latest of its kind recorded since
    /// `since` (same event, result, reason, user, authenticator, address, user agent and
    /// detail) is counted on that row instead of written again: its detail gets `repeated`
    /// (how many more) and `lastAt` ([`crate::merge_repeat`] decides).
    async fn append_audit_merging(&self, entry: &NewAuditEntry, since: i64) -> StoreResult<()>;
    async fn list_audit(&self, query: &AuditQuery) -> StoreResult<(Vec<AuditEntry>, i64)>;
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub user_id: Option<i64>,
    pub event: Option<String>,
    pub result: Option<String>,
    pub authenticator: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub page: crate::Page,
}
