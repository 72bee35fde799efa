//! Settings shared by every node, and the token signing keys ([`SettingsStore`]).

use crate::connection::Db;
use crate::rows::{self, SIGNING_KEY_COLUMNS};
use crate::PgStore;
use async_trait::async_trait;
use authgate_store::{SettingsStore, SigningKeyRecord, StoreError, StoreResult};

/// The advisory lock rotations hold (any constant of ours; see `migrate.rs`'s).
const ROTATION_LOCK: i64 = 0x6175_7468_6b65_7973; // "authkeys"

/// A key inserted as the active key of its algorithm (never retired): $1 to $5.
const NEW_ACTIVE_KEY: &str = "INSERT INTO signing_keys (kid, alg, private_key, public_key, \
     active, created_at) VALUES ($1, $2, $3, $4, TRUE, $5)";

#[async_trait]
impl SettingsStore for PgStore {
    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        let row = self
            .conn()
            .await?
            .query_opt("SELECT value FROM settings WHERE key = $1", &[&key])
            .await?;
        row.map(|r| rows::get(&r, "value")).transpose()
    }

    async fn put_setting_if_absent(
        &self,
        key: &str,
        value: &str,
        sealed: bool,
        now: i64,
    ) -> StoreResult<String> {
        self.conn()
            .await?
            .execute(
                "INSERT INTO settings (key, value, sealed, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (key) DO NOTHING",
                &[&key, &value, &sealed, &now],
            )
            .await?;
        self.get_setting(key)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("setting {key} vanished")))
    }

    async fn ensure_active_signing_key(
        &self,
        k: &SigningKeyRecord,
    ) -> StoreResult<SigningKeyRecord> {
        let mut conn = self.conn().await?;
        // At most one key per algorithm is active (a unique index): a node that loses the race
        // reads the winner's.
        let sql = format!("{NEW_ACTIVE_KEY} ON CONFLICT DO NOTHING");
        conn.execute(
            &sql,
            &[&k.kid, &k.alg, &k.private_key, &k.public_key, &k.created_at],
        )
        .await?;
        let sql =
            format!("SELECT {SIGNING_KEY_COLUMNS} FROM signing_keys WHERE active AND alg = $1");
        rows::signing_key(&conn.query_one(&sql, &[&k.alg]).await?)
    }

    async fn rotate_signing_key(&self, k: &SigningKeyRecord, now: i64) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let mut tx = conn.transaction().await?;
        // Rotations take turns, so that one racing this one (another node) retires the key
        // inserted here rather than failing on the unique index: its UPDATE, run after this
        // transaction committed, sees it.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&ROTATION_LOCK])
            .await?;
        tx.execute(
            "UPDATE signing_keys SET active = FALSE, retired_at = $2 WHERE active AND alg = $1",
            &[&k.alg, &now],
        )
        .await?;
        tx.execute(
            NEW_ACTIVE_KEY,
            &[&k.kid, &k.alg, &k.private_key, &k.public_key, &k.created_at],
        )
        .await?;
        tx.commit().await
    }

    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        let sql = format!("SELECT {SIGNING_KEY_COLUMNS} FROM signing_keys ORDER BY created_at");
        let rows = self.conn().await?.query(&sql, &[]).await?;
        rows.iter().map(rows::signing_key).collect()
    }
}
