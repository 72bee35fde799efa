//! Forward auth's access rules ([`AccessRuleStore`]), read through the short cache. A move
//! renumbers the rules in one transaction holding them all, so concurrent moves queue.

use crate::connection::Db;
use crate::rows::get;
use crate::PgStore;
use async_trait::async_trait;
use authgate_store::short_cache::ALL_KEY;
use authgate_store::{
    json_object, order_after_move, AccessRuleRecord, AccessRuleStore, StoreResult,
};
use serde_json::{Map, Value};
use std::sync::Arc;
use tokio_postgres::Row;

const COLUMNS: &str = "id, position, rule, created_at, updated_at";

fn record(row: &Row) -> StoreResult<AccessRuleRecord> {
    Ok(AccessRuleRecord {
        id: get(row, "id")?,
        position: get(row, "position")?,
        rule: json_object(get(row, "rule")?)?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

fn text(rule: &Map<String, Value>) -> String {
    serde_json::to_string(rule).expect("a JSON object serialises")
}

#[async_trait]
impl AccessRuleStore for PgStore {
    async fn list_access_rules(&self) -> StoreResult<Arc<Vec<AccessRuleRecord>>> {
        let cache = &self.caches.access_rules;
        if let Some(hit) = cache.get(ALL_KEY) {
            return Ok(hit);
        }
        let generation = cache.generation();
        let sql = format!("SELECT {COLUMNS} FROM access_rules ORDER BY position, id");
        let rows = self.conn().await?.query(&sql, &[]).await?;
        let rules = Arc::new(rows.iter().map(record).collect::<StoreResult<Vec<_>>>()?);
        cache.put(ALL_KEY, &rules, generation);
        Ok(rules)
    }

    async fn create_access_rule(
        &self,
        rule: &Map<String, Value>,
        now: i64,
    ) -> StoreResult<AccessRuleRecord> {
        let mut conn = self.conn().await?;
        let mut tx = conn.transaction().await?;
        // Held until commit: two rules created at once get distinct positions.
        tx.execute("LOCK TABLE access_rules IN SHARE ROW EXCLUSIVE MODE", &[])
            .await?;
        let sql = format!(
            "INSERT INTO access_rules (position, rule, created_at, updated_at) \
             SELECT COALESCE(MAX(position), 0) + 1, $1, $2, $2 FROM access_rules \
             RETURNING {COLUMNS}"
        );
        let row = tx.query_one(&sql, &[&text(rule), &now]).await?;
        tx.commit().await?;
        self.caches.access_rules.forget_all();
        record(&row)
    }

    async fn update_access_rule(
        &self,
        id: i64,
        rule: &Map<String, Value>,
        now: i64,
    ) -> StoreResult<Option<AccessRuleRecord>> {
        let sql = format!(
            "UPDATE access_rules SET rule = $2, updated_at = $3 WHERE id = $1 RETURNING {COLUMNS}"
        );
        let row = self
            .conn()
            .await?
            .query_opt(&sql, &[&id, &text(rule), &now])
            .await?;
        self.caches.access_rules.forget_all();
        row.as_ref().map(record).transpose()
    }

    async fn delete_access_rule(&self, id: i64) -> StoreResult<bool> {
        let deleted = self
            .conn()
            .await?
            .execute("DELETE FROM access_rules WHERE id = $1", &[&id])
            .await?;
        self.caches.access_rules.forget_all();
        Ok(deleted == 1)
    }

    async fn move_access_rule(&self, id: i64, index: usize, now: i64) -> StoreResult<bool> {
        let mut conn = self.conn().await?;
        let mut tx = conn.transaction().await?;
        tx.execute("LOCK TABLE access_rules IN SHARE ROW EXCLUSIVE MODE", &[])
            .await?;
        let ids: Vec<i64> = tx
            .query("SELECT id FROM access_rules ORDER BY position, id", &[])
            .await?
            .iter()
            .map(|r| get(r, "id"))
            .collect::<StoreResult<_>>()?;
        let Some(order) = order_after_move(&ids, id, index) else {
            return Ok(false);
        };
        for (n, rule_id) in order.iter().enumerate() {
            tx.execute(
                "UPDATE access_rules SET position = $2, \
                 updated_at = CASE WHEN id = $3 THEN $4 ELSE updated_at END WHERE id = $1",
                &[rule_id, &(n as i64 + 1), &id, &now],
            )
            .await?;
        }
        tx.commit().await?;
        self.caches.access_rules.forget_all();
        Ok(true)
    }
}
