//! A short write that needs no decision between its statements, so it can be queued and run
//! later on the writer: PostgreSQL runs it at once as one statement, SQLite lets several of
//! them share one transaction (see `sqlite_group_commit`).

use sqlx::QueryBuilder;

/// The statements of one write. Pushing twice must give the same statements: a group whose
/// transaction failed is run again one write at a time.
pub(crate) trait WriteScript<DB: sqlx::Database>: Send + Sync + 'static {
    fn push<'a>(&'a self, qb: &mut QueryBuilder<'a, DB>);
}
