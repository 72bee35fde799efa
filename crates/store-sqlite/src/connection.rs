//! Opening a connection to the database file, with the settings every connection of the
//! store has: WAL journal (a property of the file, set by the writer, which opens first),
//! synchronous=NORMAL, foreign keys on, no checkpoints at commits (`checkpointer.rs` runs
//! them), a short busy handler and a statement cache.

use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// How long a connection waits for another process's write (the `authgate` CLI) to end.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long to wait between tries for the lock.
const BUSY_RETRY: Duration = Duration::from_micros(100);

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
    // SQLite's own busy handler sleeps 1, 2, 5, 10... ms, while every request in flight
    // waits for the writer thread: shorter tries.
    conn.busy_handler(Some(wait_for_the_lock))?;
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

/// SQLite's busy handler: true to try again. Gives up after [`BUSY_TIMEOUT`] at the least
/// (each sleep may overrun); the statement then fails with SQLITE_BUSY (`StoreError::Busy`).
fn wait_for_the_lock(attempts: std::ffi::c_int) -> bool {
    let waited = BUSY_RETRY * attempts.max(0) as u32;
    if waited >= BUSY_TIMEOUT {
        return false;
    }
    std::thread::sleep(BUSY_RETRY);
    true
}
