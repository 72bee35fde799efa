//! Authenticators, the configured ways to sign in ([`AuthenticatorStore`]). Read by name on
//! every sign-in, through the short cache; every change here forgets it.

use crate::errors::DbError;
use crate::rows::{self, AUTHENTICATOR_COLUMNS};
use crate::rules::{keep_every_admin_a_way_in, stranded_admins};
use crate::SqliteStore;
use async_trait::async_trait;
use authgate_core::model::{Authenticator, AuthenticatorPatch, NewAuthenticator};
use authgate_store::{AuthenticatorStore, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension};

/// The columns of a new authenticator and their values (?1 to ?7): it goes last.
const NEW_AUTHENTICATOR: &str = "INSERT INTO authenticators (name, auth_type, title, \
     description, options, enabled, sort, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, \
     ?6, (SELECT COALESCE(MAX(sort), 0) + 1 FROM authenticators), ?7, ?7)";

fn options_text(options: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::to_string(options).expect("a JSON object serialises")
}

/// How many enabled authenticators there are besides `id`.
fn enabled_besides(conn: &Connection, id: i64) -> Result<i64, DbError> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM authenticators WHERE enabled AND id <> ?1")?
        .query_row([id], |r| r.get(0))?)
}

#[async_trait]
impl AuthenticatorStore for SqliteStore {
    async fn list_authenticators(&self) -> StoreResult<Vec<Authenticator>> {
        self.read(|conn| {
            let sql =
                format!("SELECT {AUTHENTICATOR_COLUMNS} FROM authenticators ORDER BY sort, id");
            Ok(conn
                .prepare_cached(&sql)?
                .query_map([], rows::authenticator)?
                .collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn get_authenticator(&self, id: i64) -> StoreResult<Option<Authenticator>> {
        self.read(move |conn| {
            let sql = format!("SELECT {AUTHENTICATOR_COLUMNS} FROM authenticators WHERE id = ?1");
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([id], rows::authenticator)
                .optional()?)
        })
        .await
    }

    async fn get_authenticator_by_name(&self, name: &str) -> StoreResult<Option<Authenticator>> {
        let cache = &self.caches.authenticators;
        if let Some(hit) = cache.get(name) {
            return Ok(hit);
        }
        let generation = cache.generation();
        let key = name.to_string();
        let found = self
            .read(move |conn| {
                let sql =
                    format!("SELECT {AUTHENTICATOR_COLUMNS} FROM authenticators WHERE name = ?1");
                Ok(conn
                    .prepare_cached(&sql)?
                    .query_row([&key], rows::authenticator)
                    .optional()?)
            })
            .await?;
        cache.put(name, &found, generation);
        Ok(found)
    }

    async fn create_authenticator(
        &self,
        a: &NewAuthenticator,
        now: i64,
    ) -> StoreResult<Authenticator> {
        let a = a.clone();
        let options = options_text(&a.options);
        let created = self
            .write(move |conn| {
                let sql = format!("{NEW_AUTHENTICATOR} RETURNING {AUTHENTICATOR_COLUMNS}");
                Ok(conn.prepare_cached(&sql)?.query_row(
                    (
                        &a.name,
                        &a.auth_type,
                        &a.title,
                        &a.description,
                        &options,
                        a.enabled,
                        now,
                    ),
                    rows::authenticator,
                )?)
            })
            .await?;
        self.caches.authenticators.forget_all();
        Ok(created)
    }

    async fn ensure_authenticator(&self, a: &NewAuthenticator, now: i64) -> StoreResult<()> {
        let a = a.clone();
        let options = options_text(&a.options);
        self.write(move |conn| {
            let sql = format!("{NEW_AUTHENTICATOR} ON CONFLICT (name) DO NOTHING");
            conn.prepare_cached(&sql)?.execute((
                &a.name,
                &a.auth_type,
                &a.title,
                &a.description,
                &options,
                a.enabled,
                now,
            ))?;
            Ok(())
        })
        .await?;
        self.caches.authenticators.forget_all();
        Ok(())
    }

    async fn update_authenticator(
        &self,
        id: i64,
        patch: &AuthenticatorPatch,
        now: i64,
    ) -> StoreResult<Option<Authenticator>> {
        let patch = patch.clone();
        let options = patch.options.as_ref().map(options_text);
        let updated = self
            .write(move |conn| {
                let disabling = patch.enabled == Some(false);
                if disabling && enabled_besides(conn, id)? == 0 {
                    return Err(StoreError::LastEnabledAuthenticator.into());
                }
                let before = if disabling {
                    Some(stranded_admins(conn)?)
                } else {
                    None
                };
                let sql = format!(
                    "UPDATE authenticators SET title = COALESCE(?2, title), \
                     description = COALESCE(?3, description), options = COALESCE(?4, options), \
                     enabled = COALESCE(?5, enabled), updated_at = ?6 WHERE id = ?1 \
                     RETURNING {AUTHENTICATOR_COLUMNS}"
                );
                let updated = conn
                    .prepare_cached(&sql)?
                    .query_row(
                        (
                            id,
                            &patch.title,
                            &patch.description,
                            &options,
                            patch.enabled,
                            now,
                        ),
                        rows::authenticator,
                    )
                    .optional()?;
                if let Some(before) = before {
                    keep_every_admin_a_way_in(conn, &before)?;
                }
                Ok(updated)
            })
            .await?;
        self.caches.authenticators.forget_all();
        Ok(updated)
    }

    async fn delete_authenticator(&self, id: i64) -> StoreResult<bool> {
        let deleted = self
            .write(move |conn| {
                if enabled_besides(conn, id)? == 0 {
                    let exists = conn
                        .prepare_cached("SELECT 1 FROM authenticators WHERE id = ?1")?
                        .exists([id])?;
                    if exists {
                        return Err(StoreError::LastEnabledAuthenticator.into());
                    }
                }
                let before = stranded_admins(conn)?;
                let rows = conn
                    .prepare_cached("DELETE FROM authenticators WHERE id = ?1")?
                    .execute([id])?;
                keep_every_admin_a_way_in(conn, &before)?;
                Ok(rows == 1)
            })
            .await?;
        self.caches.authenticators.forget_all();
        Ok(deleted)
    }

    async fn move_authenticator(
        &self,
        source_id: i64,
        target_id: i64,
        now: i64,
    ) -> StoreResult<bool> {
        let moved = self
            .write(move |conn| {
                let mut ids = conn
                    .prepare_cached("SELECT id FROM authenticators ORDER BY sort, id")?
                    .query_map([], |r| r.get::<_, i64>(0))?
                    .collect::<rusqlite::Result<Vec<i64>>>()?;
                let (Some(from), Some(to)) = (
                    ids.iter().position(|&i| i == source_id),
                    ids.iter().position(|&i| i == target_id),
                ) else {
                    return Ok(false);
                };
                let moved = ids.remove(from);
                ids.insert(to, moved);
                let mut set_sort = conn.prepare_cached(
                    "UPDATE authenticators SET sort = ?2, updated_at = ?3 \
                     WHERE id = ?1 AND sort <> ?2",
                )?;
                for (index, id) in ids.iter().enumerate() {
                    set_sort.execute((id, index as i64 + 1, now))?;
                }
                Ok(true)
            })
            .await?;
        self.caches.authenticators.forget_all();
        Ok(moved)
    }
}
