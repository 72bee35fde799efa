//! The one pool of PostgreSQL connections: every statement, transaction and migration takes
//! its connection here.
//!
//! A connection goes back to the pool as it is: taking it again checks only that its
//! transport is still open (`RecyclingMethod::Fast`, no round trip). A connection idle for
//! longer than [`IDLE_CHECK_AFTER`] may have been dropped by the server or a proxy meanwhile,
//! so it answers a cheap query before it is handed out; one that does not is replaced. A
//! connection whose statement found it broken never returns (`connection.rs`).

use crate::connection::Conn;
use crate::errors;
use authgate_store::{StoreError, StoreResult};
use deadpool_postgres::{
    Hook, HookError, Manager, ManagerConfig, Metrics, RecyclingMethod, Runtime,
};
use std::time::Duration;
use tokio_postgres::NoTls;

/// Connections per node. A statement holds one for its round trips only, so a few serve many
/// requests; more only add server processes contending for the same cores. Measured under
/// DingTalk sign-in load on 2 cores shared with PostgreSQL: 24 connections cost PostgreSQL
/// 10-20% more CPU per sign-in than 8.
const CONNECTIONS: usize = 8;
/// How long a statement waits for a free connection, or for a new one, before the database
/// counts as unavailable.
const WAIT: Duration = Duration::from_secs(5);
/// A connection idle this long is checked before use.
const IDLE_CHECK_AFTER: Duration = Duration::from_secs(30);

pub(crate) struct Pool(deadpool_postgres::Pool);

impl Pool {
    /// No connection is made here.
    pub(crate) fn new(config: tokio_postgres::Config) -> StoreResult<Self> {
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        deadpool_postgres::Pool::builder(manager)
            .max_size(CONNECTIONS)
            .wait_timeout(Some(WAIT))
            .create_timeout(Some(WAIT))
            .recycle_timeout(Some(WAIT))
            .runtime(Runtime::Tokio1)
            .pre_recycle(Hook::async_fn(|client, metrics| {
                Box::pin(check_if_idle(client, metrics))
            }))
            .build()
            .map(Self)
            .map_err(|e| StoreError::Config(format!("PostgreSQL pool: {e}")))
    }

    pub(crate) async fn get(&self) -> StoreResult<Conn> {
        self.0.get().await.map(Conn::new).map_err(errors::from_pool)
    }
}

/// Runs before an idle connection is handed out again; an error drops it (the pool then
/// takes another, or makes a new one).
async fn check_if_idle(
    client: &mut deadpool_postgres::ClientWrapper,
    metrics: &Metrics,
) -> Result<(), HookError> {
    if metrics.last_used() < IDLE_CHECK_AFTER {
        return Ok(());
    }
    match tokio::time::timeout(WAIT, client.simple_query("SELECT 1")).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => {
            tracing::debug!("an idle PostgreSQL connection was dropped: {e}");
            Err(HookError::Backend(e))
        }
        Err(_) => Err(HookError::message(
            "an idle PostgreSQL connection did not answer",
        )),
    }
}
