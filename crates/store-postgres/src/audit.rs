//! The audit log ([`AuditStore`]).

use crate::connection::Db;
use crate::inserts::{push_audit, UserFrom};
use crate::rows::{self, AUDIT_COLUMNS};
use crate::sql::Sql;
use crate::PgStore;
use async_trait::async_trait;
use authgate_core::audit::{AuditEntry, NewAuditEntry};
use authgate_store::{merge_repeat, AuditQuery, AuditStore, StoreResult};

#[async_trait]
impl AuditStore for PgStore {
    async fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<()> {
        let mut insert = Sql::new("");
        push_audit(&mut insert, std::slice::from_ref(entry), UserFrom::Values);
        self.conn().await?.execute_sql(&insert).await?;
        Ok(())
    }

    async fn append_audit_merging(&self, e: &NewAuditEntry, since: i64) -> StoreResult<()> {
        let Some(ip) = e.ip.as_deref() else {
            return self.append_audit(e).await;
        };
        let mut conn = self.conn().await?;
        let mut tx = conn.transaction().await?;
        // The latest entry of its kind, held until the count is written: concurrent repeats
        // are counted one after another.
        let latest = tx
            .query_opt(
                "SELECT id, detail FROM audit_log WHERE ip = $6 AND event = $1 AND result = $2 \
                 AND reason IS NOT DISTINCT FROM $3 AND user_id IS NOT DISTINCT FROM $4 \
                 AND authenticator IS NOT DISTINCT FROM $5 \
                 AND user_agent IS NOT DISTINCT FROM $8 AND at >= $7 \
                 ORDER BY at DESC, id DESC LIMIT 1 FOR UPDATE",
                &[
                    &e.event,
                    &e.outcome.as_str(),
                    &e.reason,
                    &e.user_id,
                    &e.authenticator,
                    &ip,
                    &since,
                    &e.user_agent,
                ],
            )
            .await?;
        let repeat = match &latest {
            Some(row) => {
                let id: i64 = rows::get(row, "id")?;
                merge_repeat(rows::get(row, "detail")?, e).map(|detail| (id, detail))
            }
            None => None,
        };
        match repeat {
            Some((id, detail)) => {
                tx.execute(
                    "UPDATE audit_log SET detail = $2 WHERE id = $1",
                    &[&id, &detail],
                )
                .await?;
            }
            None => {
                let mut insert = Sql::new("");
                push_audit(&mut insert, std::slice::from_ref(e), UserFrom::Values);
                tx.execute_sql(&insert).await?;
            }
        }
        tx.commit().await
    }

    async fn list_audit(&self, q: &AuditQuery) -> StoreResult<(Vec<AuditEntry>, i64)> {
        let mut conn = self.conn().await?;
        let mut list = Sql::new(&format!("SELECT {AUDIT_COLUMNS} FROM audit_log"));
        push_audit_filters(&mut list, q);
        list.push(" ORDER BY id DESC LIMIT ").bind(q.page.page_size);
        list.push(" OFFSET ").bind(q.page.offset());
        let entries = conn
            .query_sql(&list)
            .await?
            .iter()
            .map(rows::audit_entry)
            .collect::<StoreResult<Vec<_>>>()?;
        let mut count = Sql::new("SELECT COUNT(*) AS total FROM audit_log");
        push_audit_filters(&mut count, q);
        let total = rows::get(&conn.query_one_sql(&count).await?, "total")?;
        Ok((entries, total))
    }
}

/// The WHERE clause of `list_audit` and its count.
fn push_audit_filters<'a>(sql: &mut Sql<'a>, q: &'a AuditQuery) {
    sql.push(" WHERE TRUE");
    if let Some(v) = q.user_id {
        let user = sql.param(v);
        sql.push(&format!(" AND (user_id = {user} OR actor_id = {user})"));
    }
    if let Some(v) = &q.event {
        sql.push(" AND event = ").bind(v);
    }
    if let Some(v) = &q.result {
        sql.push(" AND result = ").bind(v);
    }
    if let Some(v) = &q.authenticator {
        sql.push(" AND authenticator = ").bind(v);
    }
    if let Some(v) = q.since {
        sql.push(" AND at >= ").bind(v);
    }
    if let Some(v) = q.until {
        sql.push(" AND at <= ").bind(v);
    }
}
