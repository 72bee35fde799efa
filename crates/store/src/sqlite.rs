//! SQLite: embedded, WAL, one file. This process writes through two connections: the
//! sign-in path's short writes on the writer thread (`sqlite/writer.rs`), and write
//! transactions with decisions between their statements on one sqlx connection. Both start
//! with BEGIN IMMEDIATE, so neither deadlocks upgrading a read lock with another writer (the
//! other connection, or the CLI in another process); SQLite's file lock orders them. WAL
//! checkpoints run on a thread of their own (`sqlite/checkpointer.rs`), not at commits.

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;
use writer::SqliteWriter;

mod checkpointer;
mod sign_in_writes;
mod writer;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a writer waits for another connection's write to end.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Reading connections (each has its own thread in sqlx).
const READERS: u32 = 4;

pub struct SqliteStore {
    /// For reads.
    pool: SqlitePool,
    /// The connection for write transactions (the rest of the writes).
    writer: SqlitePool,
    /// The sign-in path's short writes, grouped under load, on a thread of their own.
    writer_thread: SqliteWriter,
    caches: crate::short_cache::HotReads,
}

impl SqliteStore {
    const BACKEND: &'static str = "sqlite";
    /// Several statements run in one call on a sqlx connection's thread: one hand-off.
    const BATCH_AS_CTE: bool = false;
    /// BEGIN IMMEDIATE already holds the database's only write lock: rows need no lock.
    const FOR_UPDATE: &'static str = "";

    pub async fn connect(url: &str) -> Result<Self, crate::StoreError> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            // The writer thread opens the file on its own connection.
            return Err(crate::StoreError::Config(
                "authgate's SQLite database must be a file: use sqlite://path/to/authgate.db"
                    .into(),
            ));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            // Checkpoints have a thread of their own (`sqlite/checkpointer.rs`).
            .pragma("wal_autocheckpoint", "0");
        if let Some(dir) = options.get_filename().parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    crate::StoreError::Config(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
        // SQLite lets one writer in at a time. Write transactions queue on one connection,
        // and the sign-in path's writes on the writer thread, instead of many connections
        // contending for the file lock (whose busy handler sleeps for milliseconds); readers
        // have their own connections and never wait for a writer (WAL).
        let writer = Self::pool(1).connect_with(options.clone()).await?;
        let writer_thread = SqliteWriter::start(options.get_filename())?;
        let pool = Self::pool(READERS).connect_with(options).await?;
        Ok(Self {
            pool,
            writer,
            writer_thread,
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

    /// BEGIN IMMEDIATE already holds the database's only write lock.
    async fn lock_authenticators(
        _tx: &mut Transaction<'static, Sqlite>,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

crate::sql_store::impl_sql_store!(SqliteStore, sqlx::Sqlite);
