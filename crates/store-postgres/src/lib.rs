//! authgate's PostgreSQL store: the [`authgate_store`] traits for several stateless nodes
//! sharing one database.
//!
//! One driver and one pool serve every statement, transaction and migration: tokio-postgres
//! clients in a deadpool (`pool.rs`). That driver because it prepares each statement once per
//! connection and keeps it (`prepare_cached`), so a hot statement costs one round trip (bind
//! and execute); it pipelines what is sent on a connection; and a connection goes back to the
//! pool as it is, with no ping on release (only a connection idle long enough to have been
//! dropped is checked before reuse). Connections are not encrypted (`NoTls`; a URL with
//! `sslmode=require` is refused): reach PostgreSQL over a private network or a local socket.
//!
//! Where to look:
//! - `pool.rs` (the pool, the idle check), `connection.rs` (statements on a pooled connection,
//!   broken connections kept out), `errors.rs` (what a driver error means), `migrate.rs`;
//! - `sql.rs` (statements built with their parameters), `rows.rs` (rows into values),
//!   `inserts.rs` (a session's rows in one statement);
//! - one file per capability: `sign_in.rs` (with `sign_in/`: failure limits, the one-statement
//!   sign-ins, the resolution in a transaction), `users.rs`, `authenticators.rs`,
//!   `sessions.rs`, `audit.rs`, `settings.rs`, `oidc/` (the OpenID Connect provider's clients,
//!   grants and tokens, with its rows in `oidc_rows.rs`).

mod access_rules;
mod audit;
mod authenticators;
mod connection;
mod environment;
mod errors;
mod inserts;
mod migrate;
mod oidc;
mod oidc_rows;
mod pool;
mod rows;
mod sessions;
mod settings;
mod sign_in;
mod sql;
mod users;

#[cfg(test)]
mod tests;

use async_trait::async_trait;
use authgate_store::short_cache::HotReads;
use authgate_store::{redact_url, Store, StoreError, StoreResult};
use connection::{Conn, Db};
use pool::Pool;
use tokio_postgres::config::SslMode;

/// The PostgreSQL store.
pub struct PgStore {
    pool: Pool,
    /// Hot reads kept briefly on this node (`authgate_store::short_cache`).
    caches: HotReads,
}

impl PgStore {
    /// Opens a pool on the database at `url` (`postgres://` or `postgresql://`, as
    /// `tokio_postgres::Config` reads it; the host defaults to localhost) and makes sure it
    /// can be reached. Migrations are not applied here: call [`Store::migrate`].
    pub async fn connect(url: &str) -> StoreResult<PgStore> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::Config(format!(
                "not a PostgreSQL URL: '{}' (use postgres://...)",
                redact_url(url)
            )));
        }
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
            StoreError::Config(format!(
                "invalid PostgreSQL URL '{}': {}",
                redact_url(url),
                errors::describe(&e)
            ))
        })?;
        environment::fill_in(&mut config, url);
        if config.get_ssl_mode() == SslMode::Require {
            return Err(StoreError::Config(
                "sslmode=require: authgate connects to PostgreSQL without TLS".into(),
            ));
        }
        let store = PgStore {
            pool: Pool::new(config)?,
            caches: HotReads::default(),
        };
        store.ping().await?;
        Ok(store)
    }

    async fn conn(&self) -> StoreResult<Conn> {
        self.pool.get().await
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> StoreResult<()> {
        migrate::run(&mut self.conn().await?).await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.conn().await?.execute("SELECT 1", &[]).await?;
        Ok(())
    }
}
