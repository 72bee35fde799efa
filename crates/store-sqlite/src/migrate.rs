//! The schema's migrations, embedded, applied on the writer thread: one write per migration,
//! so each commits on its own, with its row in `schema_migrations`. Which ones to apply is
//! decided by `authgate_store::migrations`; a database made before this runner has its
//! history in sqlx's `_sqlx_migrations`, which is adopted once (and left in place).
//!
//! Each write decides again what is left, inside its transaction: another process (the
//! `authgate` CLI) migrating at the same time applies nothing twice.

use crate::errors::DbError;
use crate::writer::Writer;
use authgate_core::clock::now_ms;
use authgate_store::migrations::{
    adopted_from_sqlx, pending, Applied, Migration, SqlxApplied, HISTORY_TABLE,
};
use authgate_store::StoreError;
use rusqlite::{Connection, OptionalExtension};

/// Byte-identical to the files the previous releases applied.
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

/// Applies the migrations the database lacks.
pub(crate) async fn run(writer: &Writer) -> Result<(), DbError> {
    while writer.write(apply_next).await?.is_some() {}
    Ok(())
}

/// Applies the first migration the database lacks; returns its version (`None`: none left).
fn apply_next(conn: &Connection) -> Result<Option<i64>, DbError> {
    conn.execute_batch(HISTORY_TABLE)?;
    adopt_sqlx_history(conn)?;
    let applied = applied(conn)?;
    let Some(next) = pending(&MIGRATIONS, &applied)?.first().copied() else {
        return Ok(None);
    };
    conn.execute_batch(next.sql).map_err(|e| {
        StoreError::Migration(format!("migration {} ({}): {e}", next.version, next.name))
    })?;
    record(conn, next.version, next.name, &next.checksum())?;
    Ok(Some(next.version))
}

fn applied(conn: &Connection) -> rusqlite::Result<Vec<Applied>> {
    conn.prepare("SELECT version, checksum FROM schema_migrations ORDER BY version")?
        .query_map([], |r| {
            Ok(Applied {
                version: r.get(0)?,
                checksum: r.get(1)?,
            })
        })?
        .collect()
}

fn record(conn: &Connection, version: i64, name: &str, checksum: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) \
         VALUES (?1, ?2, ?3, ?4)",
        (version, name, checksum, now_ms()),
    )?;
    Ok(())
}

/// Records what sqlx's migrator applied, when our history is still empty.
fn adopt_sqlx_history(conn: &Connection) -> Result<(), DbError> {
    let ours: i64 = conn.query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))?;
    let sqlx_made = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if ours > 0 || !sqlx_made {
        return Ok(());
    }
    let sqlx = conn
        .prepare("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")?
        .query_map([], |r| {
            Ok(SqlxApplied {
                version: r.get(0)?,
                success: r.get(1)?,
                checksum: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for adopted in adopted_from_sqlx(&MIGRATIONS, &sqlx)? {
        let name = MIGRATIONS
            .iter()
            .find(|m| m.version == adopted.version)
            .map_or("", |m| m.name);
        record(conn, adopted.version, name, &adopted.checksum)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;
    use authgate_store::prelude::*;

    /// The migrations sqlx's migrator applied, before this runner: 0001 and 0002.
    fn sqlx_era() -> impl Iterator<Item = &'static Migration> {
        MIGRATIONS.iter().filter(|m| m.version <= 2)
    }

    /// A database as the release before this runner left it: sqlx's history, both of its
    /// files applied.
    fn made_by_sqlx(path: &std::path::Path) {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; \
             CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
             installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
             checksum BLOB NOT NULL, execution_time BIGINT NOT NULL);",
        )
        .unwrap();
        for m in sqlx_era() {
            conn.execute_batch(m.sql).unwrap();
            conn.execute(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
                 execution_time) VALUES (?1, ?2, TRUE, ?3, 1)",
                (m.version, m.name, m.sqlx_checksum()),
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO users (username, is_admin, enabled, created_at, updated_at) \
             VALUES ('old', TRUE, TRUE, 1, 1)",
            [],
        )
        .unwrap();
    }

    fn history(path: &std::path::Path) -> Vec<(i64, String)> {
        let conn = Connection::open(path).unwrap();
        let mut stmt = conn
            .prepare("SELECT version, checksum FROM schema_migrations ORDER BY version")
            .unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.map(Result::unwrap).collect()
    }

    fn url(path: &std::path::Path) -> String {
        format!("sqlite://{}", path.display())
    }

    #[tokio::test]
    async fn a_database_migrated_by_sqlx_is_adopted_without_running_anything_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        made_by_sqlx(&path);
        let store = SqliteStore::connect(&url(&path)).await.unwrap();
        // 0001 run again would fail: its tables exist.
        store.migrate().await.unwrap();
        store.migrate().await.unwrap();
        let old = store.get_user(1).await.unwrap().unwrap();
        assert_eq!(old.username.as_deref(), Some("old"));
        assert!(old.is_admin);
        let expected: Vec<(i64, String)> = MIGRATIONS
            .iter()
            .map(|m| (m.version, m.checksum()))
            .collect();
        assert_eq!(history(&path), expected);
        let sqlx_rows: i64 = Connection::open(&path)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM _sqlx_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sqlx_rows, 2, "sqlx's history stays");
    }

    #[tokio::test]
    async fn a_database_sqlx_migrated_halfway_gets_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("half.db");
        made_by_sqlx(&path);
        {
            // As if the release before had only 0001 (its columns are 0002's).
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "DELETE FROM _sqlx_migrations WHERE version = 2; \
                 DROP INDEX audit_log_ip_event_idx; \
                 ALTER TABLE oauth_states DROP COLUMN link_user_id; \
                 ALTER TABLE signin_failures DROP COLUMN strikes; \
                 ALTER TABLE signin_failures DROP COLUMN pending; \
                 ALTER TABLE signin_failures DROP COLUMN pending_until;",
            )
            .unwrap();
        }
        let store = SqliteStore::connect(&url(&path)).await.unwrap();
        store.migrate().await.unwrap();
        assert_eq!(
            history(&path).iter().map(|h| h.0).collect::<Vec<_>>(),
            every_version()
        );
    }

    fn every_version() -> Vec<i64> {
        MIGRATIONS.iter().map(|m| m.version).collect()
    }

    #[tokio::test]
    async fn a_new_database_gets_every_migration_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        let store = SqliteStore::connect(&url(&path)).await.unwrap();
        store.migrate().await.unwrap();
        store.migrate().await.unwrap();
        assert_eq!(
            history(&path).iter().map(|h| h.0).collect::<Vec<_>>(),
            every_version()
        );
        assert_eq!(store.count_enabled_admins().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_database_at_0002_gets_0003_and_keeps_its_signing_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("at2.db");
        {
            // As this runner left it under the release before OIDC.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&format!("PRAGMA journal_mode = WAL; {HISTORY_TABLE}"))
                .unwrap();
            for m in sqlx_era() {
                conn.execute_batch(m.sql).unwrap();
                record(&conn, m.version, m.name, &m.checksum()).unwrap();
            }
            conn.execute(
                "INSERT INTO signing_keys (kid, alg, private_key, public_key, active, \
                 created_at) VALUES ('old', 'EdDSA', 'sealed', 'pub', TRUE, 1)",
                [],
            )
            .unwrap();
        }
        let store = SqliteStore::connect(&url(&path)).await.unwrap();
        store.migrate().await.unwrap();
        assert_eq!(
            history(&path).iter().map(|h| h.0).collect::<Vec<_>>(),
            every_version()
        );
        let keys = store.list_signing_keys().await.unwrap();
        assert_eq!(keys.len(), 1);
        assert!(keys[0].active && keys[0].retired_at.is_none());
        // The old index (one active key overall) is gone: RS256 has one of its own now.
        let rsa = authgate_store::SigningKeyRecord {
            kid: "rsa".into(),
            alg: "RS256".into(),
            retired_at: None,
            ..keys[0].clone()
        };
        assert_eq!(store.ensure_active_signing_key(&rsa).await.unwrap(), rsa);
        assert_eq!(store.list_oidc_clients().await.unwrap(), []);
    }

    #[tokio::test]
    async fn a_changed_migration_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("changed.db");
        let store = SqliteStore::connect(&url(&path)).await.unwrap();
        store.migrate().await.unwrap();
        Connection::open(&path)
            .unwrap()
            .execute(
                "UPDATE schema_migrations SET checksum = 'x' WHERE version = 1",
                [],
            )
            .unwrap();
        let e = store.migrate().await.unwrap_err();
        assert!(matches!(e, StoreError::Migration(m) if m.contains("changed")));
    }
}
