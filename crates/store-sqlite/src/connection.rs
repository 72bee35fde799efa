//! Opening a connection to the database file, with the settings every connection of the
//! store has: WAL journal (a property of the file, set by the writer, which opens first),
//! synchronous=NORMAL, foreign keys on, no checkpoints at commits (`checkpointer.rs` runs
//! them), SQLite's busy timeout and a statement cache.

use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// How long a connection waits for another process's write (the `authgate` CLI) to end.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Statements kept prepared per connection: every statement of the store, with room for the
/// list queries' filter combinations.
const STATEMENT_CACHE: usize = 128;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// The writer thread's connection: creates the file, sets WAL.
    ReadWrite,
    /// A reader's: can never write, by SQLite's own check.
    ReadOnly,
}

pub(crate) fn open(path: &Path, access: Access) -> rusqlite::Result<Connection> {
    let flags = match access {
        Access::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    // Only another process writes beside the writer thread (the `authgate` CLI): waiting for
    // it with SQLite's own handler (tries after 1, 2, 5, 10... ms) is good enough.
    conn.busy_timeout(BUSY_TIMEOUT)?;
    if access == Access::ReadWrite {
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
                Some(format!(
                    "the database stays in {mode} journal mode, not WAL"
                )),
            ));
        }
    }
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;",
    )?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}
