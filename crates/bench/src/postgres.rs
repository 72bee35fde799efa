//! A PostgreSQL client for the harness's own statements (databases, seeding, statistics).

/// Connects to `url`; the connection runs on a task of its own.
pub async fn connect(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}
