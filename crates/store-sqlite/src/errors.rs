//! What can go wrong on this crate's connections, and the one place where it becomes a
//! [`StoreError`]: no rusqlite type leaves the crate.
//!
//! Work on a connection (a write on the writer thread, a read on a reader) returns
//! [`DbError`]: either SQLite's own error, or a [`StoreError`] already in the store's words (a
//! rule that refused the write, such as `LastEnabledAdmin`, which rolls the write back).

use authgate_store::{conflict_field, StoreError};
use rusqlite::ffi;
use std::fmt;

/// An error of work done on a connection; [`StoreError::from`] tells it in the store's words.
#[derive(Debug)]
pub(crate) enum DbError {
    Sqlite(rusqlite::Error),
    /// Already decided: a refusal of the store's rules, or a fault of the threads.
    Store(StoreError),
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::Sqlite(e)
    }
}

impl From<StoreError> for DbError {
    fn from(e: StoreError) -> Self {
        DbError::Store(e)
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::Sqlite(e) => e.fmt(f),
            DbError::Store(e) => e.fmt(f),
        }
    }
}

impl From<DbError> for StoreError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Store(e) => e,
            DbError::Sqlite(e) => classify(e),
        }
    }
}

/// SQLite's error in the store's words.
fn classify(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match &e {
        rusqlite::Error::SqliteFailure(code, message) => {
            if is_unique_code(code) {
                return StoreError::Conflict(conflict_field(message.as_deref().unwrap_or("")));
            }
            match code.code {
                // Another connection (the CLI in another process) held the lock for longer
                // than the busy handler waits.
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                    StoreError::Busy(e.to_string())
                }
                // The file cannot be opened or written (a full disk, an I/O error, a file or
                // folder made read-only): the database is there but cannot serve now.
                ErrorCode::CannotOpen
                | ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure
                | ErrorCode::ReadOnly => StoreError::Unavailable(e.to_string()),
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                    StoreError::Corrupt(e.to_string())
                }
                _ => StoreError::Internal(e.to_string()),
            }
        }
        // A stored value of the wrong type, or JSON that is not an object (`rows.rs`).
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::IntegralValueOutOfRange(..) => StoreError::Corrupt(e.to_string()),
        _ => StoreError::Internal(e.to_string()),
    }
}

fn is_unique_code(code: &ffi::Error) -> bool {
    matches!(
        code.extended_code,
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

/// A unique index refused the row: someone holds the value already.
pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(code, _) if is_unique_code(code))
}

/// The writer thread or the readers' threads are gone (the store is shutting down).
pub(crate) fn threads_stopped(which: &str) -> DbError {
    DbError::Store(StoreError::Unavailable(format!(
        "the SQLite {which} stopped"
    )))
}

/// A bug in a write or read: it fails alone, the thread carries on.
pub(crate) fn panicked(what: &str) -> DbError {
    DbError::Store(StoreError::Internal(format!("the {what} panicked")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(extended_code: i32, message: &str) -> DbError {
        DbError::Sqlite(rusqlite::Error::SqliteFailure(
            ffi::Error::new(extended_code),
            Some(message.into()),
        ))
    }

    #[test]
    fn unique_violations_name_their_field() {
        let e = failure(
            ffi::SQLITE_CONSTRAINT_UNIQUE,
            "UNIQUE constraint failed: users.email",
        );
        assert!(matches!(
            StoreError::from(e),
            StoreError::Conflict("E-mail")
        ));
        let e = failure(
            ffi::SQLITE_CONSTRAINT_UNIQUE,
            "UNIQUE constraint failed: index 'users_username_key'",
        );
        assert!(matches!(
            StoreError::from(e),
            StoreError::Conflict("Username")
        ));
        let e = failure(
            ffi::SQLITE_CONSTRAINT_PRIMARYKEY,
            "UNIQUE constraint failed: sessions.id",
        );
        assert!(matches!(
            StoreError::from(e),
            StoreError::Conflict("Record")
        ));
    }

    #[test]
    fn a_busy_database_is_temporary_and_other_failures_are_internal() {
        let busy = StoreError::from(failure(ffi::SQLITE_BUSY, "database is locked"));
        assert!(matches!(busy, StoreError::Busy(_)) && busy.is_temporary());
        let e = failure(
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY,
            "FOREIGN KEY constraint failed",
        );
        assert!(matches!(StoreError::from(e), StoreError::Internal(_)));
        assert!(StoreError::from(threads_stopped("writer")).is_temporary());
    }
}
