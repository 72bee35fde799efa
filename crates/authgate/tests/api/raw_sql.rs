//! SQL straight to a test's database, beside the server (setting up and checking state), with
//! the same drivers as the stores: rusqlite and tokio-postgres.

use std::time::Duration;

/// A PostgreSQL client whose connection runs on a task of its own.
pub async fn pg_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL is reachable");
    tokio::spawn(connection);
    client
}

/// Runs `f` on a connection of its own to the SQLite file `url` names (off the test's runtime:
/// it may wait for the server's writer).
pub async fn with_sqlite<T: Send + 'static>(
    url: &str,
    f: impl FnOnce(&rusqlite::Connection) -> T + Send + 'static,
) -> T {
    let path = url.trim_start_matches("sqlite://").to_string();
    tokio::task::spawn_blocking(move || {
        let conn = rusqlite::Connection::open(path).expect("the test database opens");
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        f(&conn)
    })
    .await
    .unwrap()
}
