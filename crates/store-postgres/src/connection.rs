//! Statements on a pooled connection, or in a transaction on one ([`Db`]): each prepared once
//! per connection and cached (`prepare_cached`), its errors classified (`errors.rs`), and a
//! connection found broken kept out of the pool.

use crate::errors;
use crate::sql::Sql;
use authgate_store::StoreResult;
use deadpool_postgres::{GenericClient, Object, Transaction};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// A connection taken from the pool; it goes back when dropped, unless it was found broken.
pub(crate) struct Conn {
    /// Always `Some` until dropped.
    client: Option<Object>,
    lost: bool,
}

impl Conn {
    pub(crate) fn new(client: Object) -> Self {
        Self {
            client: Some(client),
            lost: false,
        }
    }

    pub(crate) async fn transaction(&mut self) -> StoreResult<Tx<'_>> {
        let client = self.client.as_mut().expect("present until dropped");
        // The rules held with FOR UPDATE and the migrations' advisory lock read what
        // committed before each statement, whatever the server's default isolation.
        let begun = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::ReadCommitted)
            .start()
            .await;
        let tx = checked(begun, &mut self.lost)?;
        Ok(Tx {
            tx,
            lost: &mut self.lost,
        })
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if self.lost {
            if let Some(client) = self.client.take() {
                // Out of the pool for good: dropping it closes the connection.
                drop(Object::take(client));
            }
        }
    }
}

/// A transaction on a [`Conn`]. Dropped without [`Tx::commit`], it is rolled back (the
/// ROLLBACK goes ahead of the connection's next statement, no waiting for it).
pub(crate) struct Tx<'c> {
    tx: Transaction<'c>,
    lost: &'c mut bool,
}

impl Tx<'_> {
    pub(crate) async fn commit(self) -> StoreResult<()> {
        let committed = self.tx.commit().await;
        checked(committed, self.lost)
    }
}

/// What runs statements: a connection, or a transaction on one.
pub(crate) trait Db: Send {
    type Client: GenericClient;

    /// The client, and the flag that keeps a broken connection out of the pool.
    fn parts(&mut self) -> (&Self::Client, &mut bool);

    async fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Vec<Row>> {
        let (client, lost) = self.parts();
        let rows = match client.prepare_cached(sql).await {
            Ok(statement) => client.query(&statement, params).await,
            Err(e) => Err(e),
        };
        checked(rows, lost)
    }

    /// The row, if any (the statement returns at most one).
    async fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<Option<Row>> {
        let (client, lost) = self.parts();
        let row = match client.prepare_cached(sql).await {
            Ok(statement) => client.query_opt(&statement, params).await,
            Err(e) => Err(e),
        };
        checked(row, lost)
    }

    /// The one row the statement returns.
    async fn query_one(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Row> {
        let (client, lost) = self.parts();
        let row = match client.prepare_cached(sql).await {
            Ok(statement) => client.query_one(&statement, params).await,
            Err(e) => Err(e),
        };
        checked(row, lost)
    }

    /// How many rows the statement changed.
    async fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<u64> {
        let (client, lost) = self.parts();
        let done = match client.prepare_cached(sql).await {
            Ok(statement) => client.execute(&statement, params).await,
            Err(e) => Err(e),
        };
        checked(done, lost)
    }

    /// Statements without parameters, run as they are (migrations).
    async fn batch_execute(&mut self, sql: &str) -> StoreResult<()> {
        let (client, lost) = self.parts();
        let done = client.batch_execute(sql).await;
        checked(done, lost)
    }

    async fn query_sql(&mut self, sql: &Sql<'_>) -> StoreResult<Vec<Row>> {
        self.query(sql.text(), &sql.params()).await
    }

    async fn query_opt_sql(&mut self, sql: &Sql<'_>) -> StoreResult<Option<Row>> {
        self.query_opt(sql.text(), &sql.params()).await
    }

    async fn query_one_sql(&mut self, sql: &Sql<'_>) -> StoreResult<Row> {
        self.query_one(sql.text(), &sql.params()).await
    }

    async fn execute_sql(&mut self, sql: &Sql<'_>) -> StoreResult<u64> {
        self.execute(sql.text(), &sql.params()).await
    }
}

impl Db for Conn {
    type Client = Object;

    fn parts(&mut self) -> (&Object, &mut bool) {
        (
            self.client.as_ref().expect("present until dropped"),
            &mut self.lost,
        )
    }
}

impl<'c> Db for Tx<'c> {
    type Client = Transaction<'c>;

    fn parts(&mut self) -> (&Transaction<'c>, &mut bool) {
        (&self.tx, self.lost)
    }
}

/// Classifies the error, and marks the connection lost if it cannot be used again.
fn checked<T>(result: Result<T, tokio_postgres::Error>, lost: &mut bool) -> StoreResult<T> {
    result.map_err(|e| {
        if errors::connection_lost(&e) {
            *lost = true;
        }
        errors::classify(&e)
    })
}
