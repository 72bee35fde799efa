//! Authenticators ([`AuthenticatorStore`]), with the rules over the whole table: one stays
//! enabled, every administrator keeps a way in, and the order is dense. Changes that a rule
//! decides take the table's lock first (`lock_authenticators`), so two of them on two nodes
//! are decided one after the other.

use crate::connection::{Db, Tx};
use crate::rows::{self, AUTHENTICATOR_COLUMNS};
use crate::PgStore;
use async_trait::async_trait;
use authgate_core::model::{Authenticator, AuthenticatorPatch, NewAuthenticator};
use authgate_store::{AuthenticatorStore, StoreError, StoreResult};

#[async_trait]
impl AuthenticatorStore for PgStore {
    async fn list_authenticators(&self) -> StoreResult<Vec<Authenticator>> {
        let sql = format!("SELECT {AUTHENTICATOR_COLUMNS} FROM authenticators ORDER BY sort, id");
        let rows = self.conn().await?.query(&sql, &[]).await?;
        rows.iter().map(rows::authenticator).collect()
    }

    async fn get_authenticator(&self, id: i64) -> StoreResult<Option<Authenticator>> {
        let sql = format!("SELECT {AUTHENTICATOR_COLUMNS} FROM authenticators WHERE id = $1");
        let row = self.conn().await?.query_opt(&sql, &[&id]).await?;
        row.map(|r| rows::authenticator(&r)).transpose()
    }

    async fn get_authenticator_by_name(&self, name: &str) -> StoreResult<Option<Authenticator>> {
        let cache = &self.caches.authenticators;
        if let Some(hit) = cache.get(name) {
            return Ok(hit);
        }
        let generation = cache.generation();
        let sql = format!("SELECT {AUTHENTICATOR_COLUMNS} FROM authenticators WHERE name = $1");
        let row = self.conn().await?.query_opt(&sql, &[&name]).await?;
        let found = row.map(|r| rows::authenticator(&r)).transpose()?;
        cache.put(name, &found, generation);
        Ok(found)
    }

    async fn create_authenticator(
        &self,
        a: &NewAuthenticator,
        now: i64,
    ) -> StoreResult<Authenticator> {
        let sql = format!("{INSERT} RETURNING {AUTHENTICATOR_COLUMNS}");
        let row = self
            .conn()
            .await?
            .query_one(&sql, &insert_params(a, &options_text(a), &now))
            .await;
        self.caches.authenticators.forget_all();
        rows::authenticator(&row?)
    }

    async fn ensure_authenticator(&self, a: &NewAuthenticator, now: i64) -> StoreResult<()> {
        let sql = format!("{INSERT} ON CONFLICT (name) DO NOTHING");
        self.conn()
            .await?
            .execute(&sql, &insert_params(a, &options_text(a), &now))
            .await?;
        self.caches.authenticators.forget_all();
        Ok(())
    }

    async fn update_authenticator(
        &self,
        id: i64,
        p: &AuthenticatorPatch,
        now: i64,
    ) -> StoreResult<Option<Authenticator>> {
        let disabling = p.enabled == Some(false);
        let mut conn = self.conn().await?;
        let mut tx = conn.transaction().await?;
        let stranded_before = if disabling {
            lock_authenticators(&mut tx).await?;
            if enabled_others(&mut tx, id).await? == 0 {
                return Err(StoreError::LastEnabledAuthenticator);
            }
            Some(stranded_admins(&mut tx).await?)
        } else {
            None
        };
        let sql = format!(
            "UPDATE authenticators SET title = COALESCE($2, title), \
             description = COALESCE($3, description), options = COALESCE($4, options), \
             enabled = COALESCE($5, enabled), updated_at = $6 WHERE id = $1 \
             RETURNING {AUTHENTICATOR_COLUMNS}"
        );
        let options = p
            .options
            .as_ref()
            .map(|o| serde_json::to_string(o).expect("a JSON object serialises"));
        let row = tx
            .query_opt(
                &sql,
                &[&id, &p.title, &p.description, &options, &p.enabled, &now],
            )
            .await?;
        if let Some(before) = stranded_before {
            keep_every_admin_a_way_in(&mut tx, &before).await?;
        }
        tx.commit().await?;
        self.caches.authenticators.forget_all();
        row.map(|r| rows::authenticator(&r)).transpose()
    }

    async fn delete_authenticator(&self, id: i64) -> StoreResult<bool> {
        let mut conn = self.conn().await?;
        let mut tx = conn.transaction().await?;
        lock_authenticators(&mut tx).await?;
        if enabled_others(&mut tx, id).await? == 0 {
            let exists = tx
                .query_opt("SELECT id FROM authenticators WHERE id = $1", &[&id])
                .await?;
            if exists.is_some() {
                return Err(StoreError::LastEnabledAuthenticator);
            }
        }
        let before = stranded_admins(&mut tx).await?;
        let deleted = tx
            .execute("DELETE FROM authenticators WHERE id = $1", &[&id])
            .await?;
        keep_every_admin_a_way_in(&mut tx, &before).await?;
        tx.commit().await?;
        self.caches.authenticators.forget_all();
        Ok(deleted == 1)
    }

    async fn move_authenticator(
        &self,
        source_id: i64,
        target_id: i64,
        now: i64,
    ) -> StoreResult<bool> {
        let mut conn = self.conn().await?;
        let mut tx = conn.transaction().await?;
        lock_authenticators(&mut tx).await?;
        let mut ids = tx
            .query("SELECT id FROM authenticators ORDER BY sort, id", &[])
            .await?
            .iter()
            .map(|r| rows::get(r, "id"))
            .collect::<StoreResult<Vec<i64>>>()?;
        let (Some(from), Some(to)) = (
            ids.iter().position(|&i| i == source_id),
            ids.iter().position(|&i| i == target_id),
        ) else {
            return Ok(false);
        };
        let moved = ids.remove(from);
        ids.insert(to, moved);
        // Sorts become 1, 2, 3... in the new order; rows already in place are not touched.
        tx.execute(
            "UPDATE authenticators a SET sort = n.sort, updated_at = $2 \
             FROM unnest($1::bigint[]) WITH ORDINALITY AS n(id, sort) \
             WHERE a.id = n.id AND a.sort <> n.sort",
            &[&ids, &now],
        )
        .await?;
        tx.commit().await?;
        self.caches.authenticators.forget_all();
        Ok(true)
    }
}

/// A new authenticator goes last; $1..$7 are [`insert_params`].
const INSERT: &str = "INSERT INTO authenticators (name, auth_type, title, description, options, \
     enabled, sort, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, \
     (SELECT COALESCE(MAX(sort), 0) + 1 FROM authenticators), $7, $7)";

fn options_text(a: &NewAuthenticator) -> String {
    serde_json::to_string(&a.options).expect("a JSON object serialises")
}

fn insert_params<'a>(
    a: &'a NewAuthenticator,
    options: &'a String,
    now: &'a i64,
) -> [&'a (dyn tokio_postgres::types::ToSql + Sync); 7] {
    [
        &a.name,
        &a.auth_type,
        &a.title,
        &a.description,
        options,
        &a.enabled,
        now,
    ]
}

async fn enabled_others(tx: &mut Tx<'_>, id: i64) -> StoreResult<i64> {
    let row = tx
        .query_one(
            "SELECT COUNT(*) AS others FROM authenticators WHERE enabled AND id <> $1",
            &[&id],
        )
        .await?;
    rows::get(&row, "others")
}

/// Makes every other writer of the table wait until this transaction ends (readers are not
/// blocked).
pub(crate) async fn lock_authenticators(tx: &mut Tx<'_>) -> StoreResult<()> {
    tx.execute("LOCK TABLE authenticators IN SHARE ROW EXCLUSIVE MODE", &[])
        .await?;
    Ok(())
}

/// Enabled administrators who could not sign in: no password with an enabled password
/// authenticator to use it (passwords belong to users: any one will do), and no identity on
/// an enabled authenticator.
pub(crate) async fn stranded_admins(tx: &mut Tx<'_>) -> StoreResult<Vec<i64>> {
    tx.query(
        "SELECT u.id FROM users u WHERE u.is_admin AND u.enabled \
         AND NOT (u.password_hash IS NOT NULL AND EXISTS (SELECT 1 FROM authenticators p \
                  WHERE p.enabled AND p.auth_type = 'password')) \
         AND NOT EXISTS (SELECT 1 FROM identities i JOIN authenticators a \
                         ON a.name = i.authenticator WHERE i.user_id = u.id AND a.enabled) \
         ORDER BY u.id",
        &[],
    )
    .await?
    .iter()
    .map(|r| rows::get(r, "id"))
    .collect()
}

/// Refuses (AdminsNeedPassword) a change, made in `tx` but not committed, that leaves an
/// administrator with no way to sign in who had one `before` it. Every change that can (an
/// authenticator disabled or deleted, an identity unlinked) holds the authenticators' lock
/// first.
pub(crate) async fn keep_every_admin_a_way_in(tx: &mut Tx<'_>, before: &[i64]) -> StoreResult<()> {
    let after = stranded_admins(tx).await?;
    if after.iter().any(|id| !before.contains(id)) {
        return Err(StoreError::AdminsNeedPassword);
    }
    Ok(())
}
