//! Which store a `database_url` names: SQLite (`sqlite://path`, embedded, the default) or
//! PostgreSQL (`postgres://...`, several nodes).

use authgate_store::{redact_url, Store, StoreError, StoreResult};
use authgate_store_postgres::PgStore;
use authgate_store_sqlite::SqliteStore;
use std::sync::Arc;

/// Opens the database, creating a SQLite file and its folder when missing. Migrations are not
/// applied here: call [`Store::migrate`].
pub async fn connect(database_url: &str) -> StoreResult<Arc<dyn Store>> {
    if database_url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(database_url).await?))
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(database_url).await?))
    } else {
        Err(StoreError::Config(format!(
            "unsupported database_url '{}': use sqlite://path or postgres://...",
            redact_url(database_url)
        )))
    }
}
