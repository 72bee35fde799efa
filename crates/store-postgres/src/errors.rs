//! tokio-postgres and pool errors in the store's words ([`StoreError`]): the one place that
//! decides what a failure means, and whether the connection it happened on may be used again.

use authgate_store::{conflict_field, StoreError};
use deadpool_postgres::PoolError;
use tokio_postgres::error::{DbError, Severity, SqlState};
use tokio_postgres::Error;

/// What `e` means to the store's callers.
pub(crate) fn classify(e: &Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => classify_db(db),
        None if e.is_closed() || transport_failed(e) => StoreError::Unavailable(describe(e)),
        None => StoreError::Internal(describe(e)),
    }
}

fn classify_db(db: &DbError) -> StoreError {
    let code = db.code();
    if *code == SqlState::UNIQUE_VIOLATION {
        return StoreError::Conflict(conflict_field(db.constraint().unwrap_or(db.message())));
    }
    // Asked to retry. Callers that retry (the sign-in resolution) do so before passing it on.
    if [
        SqlState::T_R_SERIALIZATION_FAILURE,
        SqlState::T_R_DEADLOCK_DETECTED,
        SqlState::LOCK_NOT_AVAILABLE,
    ]
    .contains(code)
    {
        return StoreError::Busy(summary(db));
    }
    // A log-in refused for its password or role, or a database that does not exist: the
    // configuration is wrong, and retrying will not mend it.
    if [
        SqlState::INVALID_PASSWORD,
        SqlState::INVALID_AUTHORIZATION_SPECIFICATION,
        SqlState::INVALID_CATALOG_NAME,
    ]
    .contains(code)
    {
        return StoreError::Config(format!(
            "PostgreSQL refused the connection: {}",
            summary(db)
        ));
    }
    // Shutdown (57P01), a terminated backend, too many connections (53300), a read-only
    // standby after a failover (25006), a statement timeout (57014), a full disk (53100):
    // the database is there but cannot serve now.
    if ends_session(db)
        || code.code().starts_with("53")
        || [
            SqlState::READ_ONLY_SQL_TRANSACTION,
            SqlState::QUERY_CANCELED,
        ]
        .contains(code)
    {
        return StoreError::Unavailable(summary(db));
    }
    StoreError::Internal(summary(db))
}

/// What the server said, without its DETAIL: that quotes row values (a session id, a token's
/// jti), and messages end up in logs.
fn summary(db: &DbError) -> String {
    format!("{} {}: {}", db.severity(), db.code().code(), db.message())
}

/// The connection `e` happened on cannot be used again: its transport failed, or the server
/// ended the session (a FATAL error: shutdown, `pg_terminate_backend`, an idle timeout).
pub(crate) fn connection_lost(e: &Error) -> bool {
    match e.as_db_error() {
        Some(db) => ends_session(db),
        None => e.is_closed() || transport_failed(e),
    }
}

/// A connection could not be had from the pool in time, or not made.
pub(crate) fn from_pool(e: PoolError) -> StoreError {
    match e {
        PoolError::Backend(e) => classify(&e),
        PoolError::Timeout(_) => StoreError::Unavailable(format!("PostgreSQL: {e}")),
        PoolError::Closed => StoreError::Unavailable("PostgreSQL: the pool is closed".into()),
        other => StoreError::Internal(format!("PostgreSQL pool: {other}")),
    }
}

fn ends_session(db: &DbError) -> bool {
    matches!(
        db.parsed_severity(),
        Some(Severity::Fatal | Severity::Panic)
    )
}

/// Reading, writing or connecting failed underneath the protocol.
fn transport_failed(e: &Error) -> bool {
    std::error::Error::source(e).is_some_and(|cause| cause.is::<std::io::Error>())
}

/// The error with its cause: tokio-postgres's own text names only the kind ("db error").
pub(crate) fn describe(e: &Error) -> String {
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}
