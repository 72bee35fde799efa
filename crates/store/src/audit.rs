//! The audit log.

use crate::error::StoreResult;
use async_trait::async_trait;
use authgate_core::audit::{AuditEntry, NewAuditEntry};
use serde_json::{Map, Value};

#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    async fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<()>;
    /// Like `append_audit`, but a failure identical to the latest of its kind recorded since
    /// `since` (same event, result, reason, user, authenticator, address, user agent and
    /// detail) is counted on that row instead of written again: its detail gets `repeated`
    /// (how many more) and `lastAt` ([`merge_repeat`] decides).
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

/// The audit detail to store when `entry` repeats the row whose detail is `stored`: the
/// count goes up by one and `lastAt` becomes `entry.at`. `None` when the details differ
/// (then `entry` is a row of its own).
pub fn merge_repeat(stored: &str, entry: &NewAuditEntry) -> Option<String> {
    let mut detail: Map<String, Value> = serde_json::from_str(stored).unwrap_or_default();
    let repeated = detail
        .remove("repeated")
        .and_then(|v| v.as_i64())
        .unwrap_or(0);
    detail.remove("lastAt");
    if detail != entry.detail {
        return None;
    }
    detail.insert("repeated".into(), (repeated + 1).into());
    detail.insert("lastAt".into(), entry.at.into());
    Some(Value::Object(detail).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_counted_only_when_the_details_match() {
        let mut entry = NewAuditEntry {
            at: 5,
            event: "e".into(),
            ..Default::default()
        };
        entry.detail.insert("via".into(), "web".into());
        let first = merge_repeat(r#"{"via":"web"}"#, &entry).unwrap();
        assert_eq!(first, r#"{"lastAt":5,"repeated":1,"via":"web"}"#);
        entry.at = 9;
        let second = merge_repeat(&first, &entry).unwrap();
        assert_eq!(second, r#"{"lastAt":9,"repeated":2,"via":"web"}"#);
        assert_eq!(merge_repeat(r#"{"via":"inClient"}"#, &entry), None);
    }
}
