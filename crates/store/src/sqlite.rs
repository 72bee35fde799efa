//! SQLite: embedded, WAL, one file. This process writes through one connection; write
//! transactions start with BEGIN IMMEDIATE so they never deadlock upgrading a read lock with
//! another process's writer (the CLI).

use crate::sqlite_group_commit::GroupCommit;
use crate::write_script::WriteScript;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// Reading connections (each has its own thread in sqlx).
const READERS: u32 = 4;

pub struct SqliteStore {
    /// For reads.
    pool: SqlitePool,
    /// The one connection that writes.
    writer: SqlitePool,
    /// Short writes on `writer`, grouped under load.
    group_commit: GroupCommit,
    caches: crate::short_cache::HotReads,
}

impl SqliteStore {
    const BACKEND: &'static str = "sqlite";
    /// Several statements run in one call on SQLite's connection thread: one hand-off.
    const BATCH_AS_CTE: bool = false;

    pub async fn connect(url: &str) -> Result<Self, crate::StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        if let Some(dir) = options.get_filename().parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    crate::StoreError::Config(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
        // SQLite lets one writer in at a time. Writers queue here, on one connection, instead
        // of contending for the file lock (whose busy handler sleeps for milliseconds); readers
        // have their own connections and never wait for a writer (WAL).
        let writer = Self::pool(1).connect_with(options.clone()).await?;
        let pool = Self::pool(READERS).connect_with(options).await?;
        Ok(Self {
            pool,
            group_commit: GroupCommit::start(writer.clone()),
            writer,
            caches: Default::default(),
        })
    }

    fn pool(max_connections: u32) -> SqlitePoolOptions {
        SqlitePoolOptions::new()
            .max_connections(max_connections)
            .min_connections(1)
            // An in-process file cannot drop a connection; sqlx's default ping before every
            // query is a wasted hand-off to the connection's thread.
            .test_before_acquire(false)
    }

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    async fn run_write(
        &self,
        script: impl WriteScript<Sqlite>,
    ) -> Result<Vec<sqlx::sqlite::SqliteRow>, sqlx::Error> {
        self.group_commit.write(script).await
    }

    /// BEGIN IMMEDIATE already holds the database's only write lock.
    async fn lock_authenticators(
        _tx: &mut Transaction<'static, Sqlite>,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

crate::sql_store::impl_sql_store!(SqliteStore, sqlx::Sqlite);
