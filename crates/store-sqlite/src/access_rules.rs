//! Forward auth's access rules ([`AccessRuleStore`]), read through the short cache.

use crate::errors::DbError;
use crate::rows::object;
use crate::SqliteStore;
use async_trait::async_trait;
use authgate_store::short_cache::ALL_KEY;
use authgate_store::{order_after_move, AccessRuleRecord, AccessRuleStore, StoreResult};
use rusqlite::{Connection, OptionalExtension, Row};
use serde_json::{Map, Value};
use std::sync::Arc;

const COLUMNS: &str = "id, position, rule, created_at, updated_at";

fn record(r: &Row<'_>) -> rusqlite::Result<AccessRuleRecord> {
    Ok(AccessRuleRecord {
        id: r.get(0)?,
        position: r.get(1)?,
        rule: object(r, 2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
    })
}

fn all(conn: &Connection) -> Result<Vec<AccessRuleRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM access_rules ORDER BY position, id");
    Ok(conn
        .prepare_cached(&sql)?
        .query_map([], record)?
        .collect::<rusqlite::Result<_>>()?)
}

fn text(rule: &Map<String, Value>) -> String {
    serde_json::to_string(rule).expect("a JSON object serialises")
}

#[async_trait]
impl AccessRuleStore for SqliteStore {
    async fn list_access_rules(&self) -> StoreResult<Arc<Vec<AccessRuleRecord>>> {
        let cache = &self.caches.access_rules;
        if let Some(hit) = cache.get(ALL_KEY) {
            return Ok(hit);
        }
        let generation = cache.generation();
        let rules = Arc::new(self.read(all).await?);
        cache.put(ALL_KEY, &rules, generation);
        Ok(rules)
    }

    async fn create_access_rule(
        &self,
        rule: &Map<String, Value>,
        now: i64,
    ) -> StoreResult<AccessRuleRecord> {
        let rule = text(rule);
        let created = self
            .write(move |conn| {
                let sql = format!(
                    "INSERT INTO access_rules (position, rule, created_at, updated_at) \
                     SELECT COALESCE(MAX(position), 0) + 1, ?1, ?2, ?2 FROM access_rules \
                     RETURNING {COLUMNS}"
                );
                Ok(conn.prepare_cached(&sql)?.query_row((&rule, now), record)?)
            })
            .await?;
        self.caches.access_rules.forget_all();
        Ok(created)
    }

    async fn update_access_rule(
        &self,
        id: i64,
        rule: &Map<String, Value>,
        now: i64,
    ) -> StoreResult<Option<AccessRuleRecord>> {
        let rule = text(rule);
        let updated = self
            .write(move |conn| {
                let sql = format!(
                    "UPDATE access_rules SET rule = ?2, updated_at = ?3 WHERE id = ?1 \
                     RETURNING {COLUMNS}"
                );
                Ok(conn
                    .prepare_cached(&sql)?
                    .query_row((id, &rule, now), record)
                    .optional()?)
            })
            .await?;
        self.caches.access_rules.forget_all();
        Ok(updated)
    }

    async fn delete_access_rule(&self, id: i64) -> StoreResult<bool> {
        let deleted = self
            .write(move |conn| {
                Ok(conn
                    .prepare_cached("DELETE FROM access_rules WHERE id = ?1")?
                    .execute([id])?
                    == 1)
            })
            .await?;
        self.caches.access_rules.forget_all();
        Ok(deleted)
    }

    async fn move_access_rule(&self, id: i64, index: usize, now: i64) -> StoreResult<bool> {
        let moved = self
            .write(move |conn| {
                let ids: Vec<i64> = all(conn)?.iter().map(|r| r.id).collect();
                let Some(order) = order_after_move(&ids, id, index) else {
                    return Ok(false);
                };
                let mut renumber = conn.prepare_cached(
                    "UPDATE access_rules SET position = ?2, \
                     updated_at = CASE WHEN id = ?3 THEN ?4 ELSE updated_at END WHERE id = ?1",
                )?;
                for (n, rule_id) in order.iter().enumerate() {
                    renumber.execute((rule_id, n as i64 + 1, id, now))?;
                }
                Ok(true)
            })
            .await?;
        self.caches.access_rules.forget_all();
        Ok(moved)
    }
}
