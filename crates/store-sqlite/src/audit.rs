//! The audit log ([`AuditStore`]).

use crate::errors::DbError;
use crate::filters::Filters;
use crate::rows::{self, AUDIT_COLUMNS};
use crate::SqliteStore;
use async_trait::async_trait;
use authgate_core::audit::{AuditEntry, NewAuditEntry};
use authgate_store::{merge_repeat, AuditQuery, AuditStore, StoreResult};
use rusqlite::{Connection, OptionalExtension};

/// The one INSERT of an audit entry: here, and with every session (`sign_in.rs`).
pub(crate) fn insert_audit(conn: &Connection, e: &NewAuditEntry) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT INTO audit_log (at, event, result, user_id, actor_id, authenticator, ip, \
         user_agent, reason, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute((
        e.at,
        &e.event,
        e.outcome.as_str(),
        e.user_id,
        e.actor_id,
        &e.authenticator,
        &e.ip,
        &e.user_agent,
        &e.reason,
        serde_json::to_string(&e.detail).expect("a JSON object serialises"),
    ))?;
    Ok(())
}

/// Counts `e` on the latest identical failure from its address since `since`, or inserts it.
fn append_merging(
    conn: &Connection,
    e: &NewAuditEntry,
    ip: &str,
    since: i64,
) -> Result<(), DbError> {
    let latest = conn
        .prepare_cached(
            "SELECT id, detail FROM audit_log WHERE ip = ?6 AND event = ?1 AND result = ?2 \
             AND reason IS ?3 AND user_id IS ?4 AND authenticator IS ?5 AND user_agent IS ?8 \
             AND at >= ?7 ORDER BY at DESC, id DESC LIMIT 1",
        )?
        .query_row(
            (
                &e.event,
                e.outcome.as_str(),
                &e.reason,
                e.user_id,
                &e.authenticator,
                ip,
                since,
                &e.user_agent,
            ),
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
        )
        .optional()?;
    let merged = latest.and_then(|(id, detail)| Some((id, merge_repeat(&detail, e)?)));
    match merged {
        Some((id, detail)) => {
            conn.prepare_cached("UPDATE audit_log SET detail = ?2 WHERE id = ?1")?
                .execute((id, detail))?;
            Ok(())
        }
        None => insert_audit(conn, e),
    }
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<()> {
        let entry = entry.clone();
        self.write(move |conn| insert_audit(conn, &entry)).await
    }

    async fn append_audit_merging(&self, entry: &NewAuditEntry, since: i64) -> StoreResult<()> {
        let Some(ip) = entry.ip.clone() else {
            return self.append_audit(entry).await;
        };
        let entry = entry.clone();
        self.write(move |conn| append_merging(conn, &entry, &ip, since))
            .await
    }

    async fn list_audit(&self, query: &AuditQuery) -> StoreResult<(Vec<AuditEntry>, i64)> {
        let mut f = Filters::new();
        if let Some(v) = query.user_id {
            let p = f.bind(v);
            f.and(&format!("(user_id = {p} OR actor_id = {p})"));
        }
        if let Some(v) = &query.event {
            let p = f.bind(v.clone());
            f.and(&format!("event = {p}"));
        }
        if let Some(v) = &query.result {
            let p = f.bind(v.clone());
            f.and(&format!("result = {p}"));
        }
        if let Some(v) = &query.authenticator {
            let p = f.bind(v.clone());
            f.and(&format!("authenticator = {p}"));
        }
        if let Some(v) = query.since {
            let p = f.bind(v);
            f.and(&format!("at >= {p}"));
        }
        if let Some(v) = query.until {
            let p = f.bind(v);
            f.and(&format!("at <= {p}"));
        }
        let paged = f.page(
            &format!("SELECT {AUDIT_COLUMNS} FROM audit_log"),
            "SELECT COUNT(*) FROM audit_log",
            " ORDER BY id DESC",
            &query.page,
        );
        self.read(move |conn| paged.run(conn, rows::audit_entry))
            .await
    }
}
