//! Storage for authgate: one [`Store`] interface with two native implementations, SQLite
//! (embedded, the default) and PostgreSQL (several stateless nodes). Everything that must be
//! shared between nodes lives here.

mod error;
mod postgres;
mod queries;
mod rows;
mod short_cache;
mod sign_in_writes;
mod sql_store;
mod sqlite;
mod store;

pub use error::{StoreError, StoreResult};
pub use postgres::PgStore;
pub use queries::*;
pub use sqlite::SqliteStore;
pub use store::Store;

use std::sync::Arc;

/// Opens the database named by `database_url` (`sqlite://...` or `postgres://...`), creating
/// a SQLite file and its folder when missing. Migrations are not applied here: call
/// [`Store::migrate`].
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

/// Hides a password in a database URL before it is shown anywhere.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:****{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact_url("postgres://bob:hunter2@db:5432/x"),
            "postgres://bob:****@db:5432/x"
        );
        assert_eq!(
            super::redact_url("sqlite://./data/a.db"),
            "sqlite://./data/a.db"
        );
    }
}
