//! PostgreSQL: shared by several stateless authgate nodes.

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool, Postgres, Transaction};
use statement_pool::StatementPool;
use std::str::FromStr;
use std::time::Duration;

mod sign_in_writes;
mod statement_pool;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// A connection idle this long is pinged before use (the server or a proxy may have closed it).
const IDLE_CHECK_AFTER: Duration = Duration::from_secs(30);

pub struct PgStore {
    pool: PgPool,
    /// The same pool: PostgreSQL has no single-writer rule.
    writer: PgPool,
    /// The sign-in path's single statements (`statement_pool.rs`).
    statements: StatementPool,
    caches: crate::short_cache::HotReads,
}

impl PgStore {
    const BACKEND: &'static str = "postgres";
    /// Batched INSERTs are one statement of data-modifying CTEs: one round trip.
    const BATCH_AS_CTE: bool = true;
    /// Rows a rule reads stay locked until the deciding transaction ends.
    const FOR_UPDATE: &'static str = " FOR UPDATE";

    pub async fn connect(url: &str) -> Result<Self, crate::StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            // sqlx pings every connection it hands out: a whole round trip to the server per
            // query. Only connections idle long enough to have been dropped are checked.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > IDLE_CHECK_AFTER {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options.clone())
            .await?;
        Ok(Self {
            statements: StatementPool::new(options, IDLE_CHECK_AFTER)?,
            writer: pool.clone(),
            pool,
            caches: Default::default(),
        })
    }

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    /// Rules over the whole table (the last enabled authenticator, the order) need every
    /// concurrent writer to wait; readers are not blocked.
    async fn lock_authenticators(
        tx: &mut Transaction<'static, Postgres>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("LOCK TABLE authenticators IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

crate::sql_store::impl_sql_store!(PgStore, sqlx::Postgres);
