//! Writing the audit log. A failed write is logged, never turned into a failed request: the
//! user's action already happened.

use crate::http::client::ClientInfo;
use crate::state::AppState;
use authgate_core::audit::{NewAuditEntry, Outcome};
use authgate_core::clock::now_ms;
use serde_json::{Map, Value};

#[derive(Default)]
pub struct Entry<'a> {
    pub event: &'static str,
    pub outcome: Outcome,
    pub user_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub authenticator: Option<String>,
    pub client: Option<&'a ClientInfo>,
    pub reason: Option<String>,
    pub detail: Map<String, Value>,
}

impl Entry<'_> {
    /// The row, stamped now: for writes that carry it in their own transaction.
    pub fn into_record(self) -> NewAuditEntry {
        NewAuditEntry {
            at: now_ms(),
            event: self.event.to_string(),
            outcome: self.outcome,
            user_id: self.user_id,
            actor_id: self.actor_id,
            authenticator: self.authenticator,
            ip: self.client.map(|c| c.ip.clone()),
            user_agent: self.client.and_then(|c| c.user_agent.clone()),
            reason: self.reason,
            detail: self.detail,
        }
    }
}

/// Identical failures within this time share one audit row.
const FAILURE_MERGE_WINDOW_MS: i64 = 60_000;

impl AppState {
    /// Writes the entry. A failure that repeats one from the last minute exactly (someone
    /// hammering: same event, reason, user, authenticator, address, user agent and detail) is
    /// counted on the earlier row.
    pub async fn audit(&self, e: Entry<'_>) {
        let entry = e.into_record();
        let written = match entry.outcome {
            Outcome::Failure => {
                let since = entry.at - FAILURE_MERGE_WINDOW_MS;
                self.store.append_audit_merging(&entry, since).await
            }
            Outcome::Success => self.store.append_audit(&entry).await,
        };
        if let Err(err) = written {
            tracing::error!(error = %err, event = %entry.event, "could not write the audit log");
        }
    }
}

impl AppState {
    /// An administrator's change: `action` is the API action (e.g. "users:update"); `detail`
    /// adds what else the entry should carry.
    pub async fn audit_admin_change(
        &self,
        admin_id: i64,
        subject_user: i64,
        authenticator: Option<String>,
        client: &ClientInfo,
        action: &str,
        mut detail: Map<String, Value>,
    ) {
        detail.insert("action".into(), Value::String(action.into()));
        self.audit(Entry {
            event: authgate_core::audit::event::ADMIN_CHANGE,
            actor_id: Some(admin_id),
            user_id: Some(subject_user),
            authenticator,
            client: Some(client),
            detail,
            ..Default::default()
        })
        .await;
    }
}
