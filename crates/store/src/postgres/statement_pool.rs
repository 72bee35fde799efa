//! Connections for the sign-in path's single statements on PostgreSQL.
//!
//! sqlx's pool pings every connection it takes back: a whole round trip after each statement,
//! paid by authgate and the server alike (a sign-in's three statements cost six round trips).
//! These connections go back as they are. Nothing is lost by it: before its next statement
//! sqlx drains whatever answer an abandoned query left on the connection, and a connection
//! whose transport failed is discarded here instead of going back.

use crate::error::StoreError;
use deadpool::managed::{self, Metrics, Object, PoolError, RecycleResult};
use sqlx::postgres::{
    PgConnectOptions, PgConnection, PgDatabaseError, PgQueryResult, PgRow, PgSeverity,
};
use sqlx::{ConnectOptions, Connection, Executor, Postgres};
use std::time::Duration;

/// At most this many connections (besides sqlx's pool): a statement holds one for a round trip.
const CONNECTIONS: usize = 8;
/// As long as sqlx's pool waits for a connection.
const WAIT: Duration = Duration::from_secs(5);

pub(super) struct Connector {
    options: PgConnectOptions,
    /// A connection idle this long is pinged before use.
    idle_check_after: Duration,
}

impl managed::Manager for Connector {
    type Type = PgConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<PgConnection, sqlx::Error> {
        self.options.connect().await
    }

    async fn recycle(&self, conn: &mut PgConnection, m: &Metrics) -> RecycleResult<sqlx::Error> {
        if m.last_used() > self.idle_check_after {
            conn.ping().await?;
        }
        Ok(())
    }
}

pub(super) struct StatementPool(managed::Pool<Connector>);

impl StatementPool {
    pub(super) fn new(
        options: PgConnectOptions,
        idle_check_after: Duration,
    ) -> Result<Self, StoreError> {
        managed::Pool::builder(Connector {
            options,
            idle_check_after,
        })
        .max_size(CONNECTIONS)
        .wait_timeout(Some(WAIT))
        .create_timeout(Some(WAIT))
        .recycle_timeout(Some(WAIT))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map(Self)
        .map_err(|e| StoreError::Config(format!("PostgreSQL connections: {e}")))
    }

    pub(super) async fn get(&self) -> Result<Lease, StoreError> {
        match self.0.get().await {
            Ok(conn) => Ok(Lease(conn)),
            Err(PoolError::Backend(e)) => Err(e.into()),
            Err(PoolError::Timeout(_)) => Err(sqlx::Error::PoolTimedOut.into()),
            Err(PoolError::Closed) => Err(sqlx::Error::PoolClosed.into()),
            Err(e) => Err(StoreError::Config(format!("PostgreSQL connections: {e}"))),
        }
    }

    /// Runs one statement on a connection of the pool.
    pub(super) async fn execute<'q>(
        &self,
        query: impl sqlx::Execute<'q, Postgres> + 'q,
    ) -> Result<PgQueryResult, StoreError> {
        let mut c = self.get().await?;
        let done = c.conn().execute(query).await;
        c.done(done)
    }

    /// Runs one statement on a connection of the pool and returns its row, if any.
    pub(super) async fn fetch_optional<'q>(
        &self,
        query: impl sqlx::Execute<'q, Postgres> + 'q,
    ) -> Result<Option<PgRow>, StoreError> {
        let mut c = self.get().await?;
        let row = c.conn().fetch_optional(query).await;
        c.done(row)
    }
}

/// One connection, for one statement (or one statement built by the caller on it).
pub(super) struct Lease(Object<Connector>);

impl Lease {
    pub(super) fn conn(&mut self) -> &mut PgConnection {
        &mut self.0
    }

    /// Passes the statement's result on; a connection that failed is not reused.
    pub(super) fn done<T>(self, result: Result<T, sqlx::Error>) -> Result<T, StoreError> {
        if let Err(e) = &result {
            if connection_lost(e) {
                drop(Object::take(self.0));
            }
        }
        Ok(result?)
    }
}

/// The transport failed, or the server ended the session (a FATAL error: shutdown,
/// `pg_terminate_backend`, an idle timeout).
fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<PgDatabaseError>()
            .is_some_and(|pg| matches!(pg.severity(), PgSeverity::Fatal | PgSeverity::Panic)),
        _ => false,
    }
}
