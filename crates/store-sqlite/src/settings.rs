//! Settings shared by every node, and the token signing keys ([`SettingsStore`]). Each
//! "insert unless present" writes and reads the winner in one write; a key rotation retires
//! the old key and inserts the new one in one write.

use crate::rows::{self, SIGNING_KEY_COLUMNS};
use crate::SqliteStore;
use async_trait::async_trait;
use authgate_store::{SettingsStore, SigningKeyRecord, StoreError, StoreResult};
use rusqlite::OptionalExtension;

/// A key inserted as the active key of its algorithm (never retired): ?1 to ?5.
const NEW_ACTIVE_KEY: &str = "INSERT INTO signing_keys (kid, alg, private_key, public_key, \
     active, created_at) VALUES (?1, ?2, ?3, ?4, TRUE, ?5)";

#[async_trait]
impl SettingsStore for SqliteStore {
    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        let key = key.to_string();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
                .query_row([&key], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn put_setting_if_absent(
        &self,
        key: &str,
        value: &str,
        sealed: bool,
        now: i64,
    ) -> StoreResult<String> {
        let (key, value) = (key.to_string(), value.to_string());
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO settings (key, value, sealed, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (key) DO NOTHING",
            )?
            .execute((&key, &value, sealed, now))?;
            let kept: Option<String> = conn
                .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
                .query_row([&key], |r| r.get(0))
                .optional()?;
            Ok(kept.ok_or_else(|| StoreError::Corrupt(format!("setting {key} vanished")))?)
        })
        .await
    }

    async fn ensure_active_signing_key(
        &self,
        candidate: &SigningKeyRecord,
    ) -> StoreResult<SigningKeyRecord> {
        let k = candidate.clone();
        self.write(move |conn| {
            // The unique index (one active key per algorithm) turns a second candidate away.
            conn.prepare_cached(&format!("{NEW_ACTIVE_KEY} ON CONFLICT DO NOTHING"))?
                .execute((&k.kid, &k.alg, &k.private_key, &k.public_key, k.created_at))?;
            let sql =
                format!("SELECT {SIGNING_KEY_COLUMNS} FROM signing_keys WHERE active AND alg = ?1");
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([&k.alg], rows::signing_key)?)
        })
        .await
    }

    async fn rotate_signing_key(&self, candidate: &SigningKeyRecord, now: i64) -> StoreResult<()> {
        let k = candidate.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE signing_keys SET active = FALSE, retired_at = ?2 \
                 WHERE active AND alg = ?1",
            )?
            .execute((&k.alg, now))?;
            conn.prepare_cached(NEW_ACTIVE_KEY)?.execute((
                &k.kid,
                &k.alg,
                &k.private_key,
                &k.public_key,
                k.created_at,
            ))?;
            Ok(())
        })
        .await
    }

    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        self.read(|conn| {
            let sql = format!("SELECT {SIGNING_KEY_COLUMNS} FROM signing_keys ORDER BY created_at");
            Ok(conn
                .prepare_cached(&sql)?
                .query_map([], rows::signing_key)?
                .collect::<rusqlite::Result<_>>()?)
        })
        .await
    }
}
