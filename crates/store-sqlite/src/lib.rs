//! authgate's SQLite store: one file in WAL mode, driven through rusqlite.
//!
//! Every write of this process runs on one thread, the writer (`writer.rs`): a write is a
//! closure that makes its decisions between its statements right there, inside a transaction
//! begun with BEGIN IMMEDIATE, and writes queued meanwhile share one commit. Reads run on a
//! few read-only connections, each on its own thread (`readers.rs`), which never wait for the
//! writer. WAL checkpoints run on a thread of their own (`checkpointer.rs`), not at commits.
//! Migrations are writes too (`migrate.rs`). Each capability of the store is one file
//! (`sign_in.rs`, `users.rs`, `authenticators.rs`, `sessions.rs`, `audit.rs`,
//! `settings.rs`, `oidc/`), with SQLite's errors told in the store's words in `errors.rs` alone.
//!
//! Statements name their values by number (`?1`, `?2`...), which SQLite binds by number
//! whatever the order they appear in.

mod access_rules;
mod audit;
mod authenticators;
mod backup;
pub use backup::backup_into;
mod checkpointer;
mod connection;
mod errors;
mod filters;
mod migrate;
mod oidc;
mod oidc_rows;
mod readers;
mod rows;
mod rules;
mod session_rows;
mod sessions;
mod settings;
mod sign_in;
mod users;
mod writer;

use async_trait::async_trait;
use authgate_store::short_cache::HotReads;
use authgate_store::{Store, StoreError, StoreResult};
use errors::DbError;
use readers::Readers;
use rusqlite::Connection;
use std::path::PathBuf;
use writer::Writer;

/// The store on one SQLite file: see the crate's documentation.
pub struct SqliteStore {
    writer: Writer,
    readers: Readers,
    /// Token contexts, authenticators by name, the token policy, OIDC clients and access
    /// token contexts.
    caches: HotReads,
}

impl SqliteStore {
    /// Opens (creating it and its folder when missing) the file of a `sqlite://path` or
    /// `sqlite:path` URL; a query string (`?mode=rwc`) is ignored. Migrations are not applied
    /// here: call [`Store::migrate`].
    pub async fn connect(url: &str) -> StoreResult<SqliteStore> {
        let path = database_file(url)?;
        if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|e| {
                StoreError::Config(format!("cannot create {}: {e}", folder.display()))
            })?;
        }
        // The writer first: it creates the file and puts it in WAL mode for the readers.
        let writer = Writer::start(&path).map_err(DbError::from)?;
        let readers = Readers::start(&path).map_err(DbError::from)?;
        Ok(SqliteStore {
            writer,
            readers,
            caches: HotReads::default(),
        })
    }

    /// Runs `write` on the writer thread, in a transaction; see `writer.rs`.
    async fn write<T, F>(&self, write: F) -> StoreResult<T>
    where
        F: Fn(&Connection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        Ok(self.writer.write(write).await?)
    }

    /// Runs `read` on a reader.
    async fn read<T, F>(&self, read: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        Ok(self.readers.read(read).await?)
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> StoreResult<()> {
        Ok(migrate::run(&self.writer).await?)
    }

    async fn ping(&self) -> StoreResult<()> {
        self.read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }
}

/// The file a `sqlite://path` or `sqlite:path` URL names: its path percent-decoded (`%20` is a
/// space), its query string (`?mode=rwc`) left out. The writer thread and the readers open the
/// file on connections of their own, so an in-memory database (one per connection) cannot work.
pub fn database_file(url: &str) -> StoreResult<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| StoreError::Config(format!("not a SQLite URL: {url}")))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || url.contains(":memory:") || url.contains("mode=memory") {
        return Err(StoreError::Config(
            "authgate's SQLite database must be a file: use sqlite://path/to/authgate.db".into(),
        ));
    }
    let path = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| StoreError::Config(format!("the path of {url} is not UTF-8")))?;
    Ok(PathBuf::from(path.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_file() {
        let file = |url| database_file(url).map_err(|e| e.to_string());
        assert_eq!(file("sqlite://./data/a.db"), Ok("./data/a.db".into()));
        assert_eq!(
            file("sqlite:///var/lib/a.db?mode=rwc"),
            Ok("/var/lib/a.db".into())
        );
        assert_eq!(file("sqlite:a.db"), Ok("a.db".into()));
        assert_eq!(
            file("sqlite:///srv/my%20app/a.db"),
            Ok("/srv/my app/a.db".into())
        );
        assert!(file("postgres://u@h/db").is_err());
        for memory in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://a?mode=memory",
        ] {
            assert!(
                file(memory).unwrap_err().contains("must be a file"),
                "{memory}"
            );
        }
    }

    #[tokio::test]
    async fn connecting_creates_the_folder_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/folder/authgate.db");
        let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        store.ping().await.unwrap();
        assert!(path.is_file());
    }
}
