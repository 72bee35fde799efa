//! Applies the schema migrations this database lacks (the decision is
//! `authgate_store::migrations`'): all of them in one transaction that first takes an
//! advisory lock, so that nodes starting at once apply them once, one after the other (the
//! later ones find nothing left to do). PostgreSQL's DDL is transactional: a failed migration
//! leaves nothing behind.

use crate::connection::{Conn, Db, Tx};
use crate::rows::get;
use authgate_core::clock::now_ms;
use authgate_store::migrations::{
    adopted_from_sqlx, pending, Applied, Migration, SqlxApplied, HISTORY_TABLE,
};
use authgate_store::{StoreError, StoreResult};

pub(crate) const MIGRATIONS: [Migration; 4] = [
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "sign_in_safety",
        sql: include_str!("../migrations/0002_sign_in_safety.sql"),
    },
    Migration {
        version: 3,
        name: "oidc",
        sql: include_str!("../migrations/0003_oidc.sql"),
    },
    Migration {
        version: 4,
        name: "access_rules",
        sql: include_str!("../migrations/0004_access_rules.sql"),
    },
];

/// The advisory lock migrations hold (any constant of ours; the lock is per database).
const MIGRATION_LOCK: i64 = 0x6175_7468_6761_7465; // "authgate"

pub(crate) async fn run(conn: &mut Conn) -> StoreResult<()> {
    let mut tx = conn.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(HISTORY_TABLE).await?;
    let mut applied = history(&mut tx).await?;
    if applied.is_empty() {
        applied = adopt_sqlx_history(&mut tx).await?;
    }
    for m in pending(&MIGRATIONS, &applied)? {
        tx.batch_execute(m.sql)
            .await
            .map_err(|e| StoreError::Migration(format!("{} ({}): {e}", m.version, m.name)))?;
        record(&mut tx, m.version, m.name, &m.checksum()).await?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    tx.commit().await
}

async fn history(tx: &mut Tx<'_>) -> StoreResult<Vec<Applied>> {
    let rows = tx
        .query(
            "SELECT version, checksum FROM schema_migrations ORDER BY version",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Applied {
                version: get(r, "version")?,
                checksum: get(r, "checksum")?,
            })
        })
        .collect()
}

/// A database that sqlx's migrator made keeps its history in `_sqlx_migrations` (left in
/// place): what it applied successfully is recorded as applied here.
async fn adopt_sqlx_history(tx: &mut Tx<'_>) -> StoreResult<Vec<Applied>> {
    let found = tx
        .query_one(
            "SELECT to_regclass('_sqlx_migrations') IS NOT NULL AS made_by_sqlx",
            &[],
        )
        .await?;
    if !get::<bool>(&found, "made_by_sqlx")? {
        return Ok(Vec::new());
    }
    let sqlx = tx
        .query(
            "SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(SqlxApplied {
                version: get(r, "version")?,
                success: get(r, "success")?,
                checksum: get(r, "checksum")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let adopted = adopted_from_sqlx(&MIGRATIONS, &sqlx)?;
    for a in &adopted {
        let name = MIGRATIONS
            .iter()
            .find(|m| m.version == a.version)
            .map_or("", |m| m.name);
        record(tx, a.version, name, &a.checksum).await?;
    }
    if !adopted.is_empty() {
        tracing::info!(
            migrations = adopted.len(),
            "adopted sqlx's migration history"
        );
    }
    Ok(adopted)
}

async fn record(tx: &mut Tx<'_>, version: i64, name: &str, checksum: &str) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) \
         VALUES ($1, $2, $3, $4)",
        &[&version, &name, &checksum, &now_ms()],
    )
    .await?;
    Ok(())
}
