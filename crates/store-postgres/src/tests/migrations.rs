//! Migrations: adopting sqlx's history, and nodes that start at once.

use super::{client, count, fresh_database, new_user};
use crate::migrate::MIGRATIONS;
use crate::PgStore;
use authgate_store::prelude::*;

/// `_sqlx_migrations` as sqlx's migrator creates it.
const SQLX_HISTORY: &str = "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, \
     description TEXT NOT NULL, installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), \
     success BOOLEAN NOT NULL, checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL)";

/// A database made by the sqlx-based store, migrated up to `versions`.
async fn made_by_sqlx(versions: &[i64]) -> String {
    let url = fresh_database().await;
    let db = client(&url).await;
    db.batch_execute(SQLX_HISTORY).await.unwrap();
    for m in MIGRATIONS.iter().filter(|m| versions.contains(&m.version)) {
        db.batch_execute(m.sql).await.unwrap();
        db.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
             execution_time) VALUES ($1, $2, TRUE, $3, 1)",
            &[&m.version, &m.name, &m.sqlx_checksum()],
        )
        .await
        .unwrap();
    }
    url
}

async fn history(url: &str) -> Vec<(i64, String)> {
    client(url)
        .await
        .query(
            "SELECT version, checksum FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn all_applied() -> Vec<(i64, String)> {
    MIGRATIONS
        .iter()
        .map(|m| (m.version, m.checksum()))
        .collect()
}

#[tokio::test]
async fn a_database_sqlx_migrated_is_adopted_without_running_anything_again() {
    let url = made_by_sqlx(&[1, 2]).await;
    client(&url)
        .await
        .execute(
            "INSERT INTO users (username, created_at, updated_at) VALUES ('kept', 1, 1)",
            &[],
        )
        .await
        .unwrap();

    let store = PgStore::connect(&url).await.unwrap();
    // Running 0001 again would fail: its tables exist.
    store.migrate().await.expect("adopts the history");
    store.migrate().await.expect("and finds nothing left to do");

    assert_eq!(history(&url).await, all_applied());
    let kept = store.find_user_by_account("kept").await.unwrap();
    assert!(kept.is_some(), "the user is still there");
    assert_eq!(
        count(&url, "SELECT 1 FROM _sqlx_migrations").await,
        2,
        "sqlx's history is left in place"
    );
}

#[tokio::test]
async fn a_database_sqlx_migrated_halfway_gets_the_rest() {
    let url = made_by_sqlx(&[1]).await;
    let store = PgStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(history(&url).await, all_applied());
    // 0002's column is there.
    assert_eq!(count(&url, "SELECT strikes FROM signin_failures").await, 0);
}

#[tokio::test]
async fn a_database_at_0002_gets_0003_and_keeps_its_signing_key() {
    // As this runner left it under the release before OIDC.
    let url = fresh_database().await;
    let db = client(&url).await;
    db.batch_execute(authgate_store::migrations::HISTORY_TABLE)
        .await
        .unwrap();
    for m in MIGRATIONS.iter().filter(|m| m.version <= 2) {
        db.batch_execute(m.sql).await.unwrap();
        db.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) \
             VALUES ($1, $2, $3, 1)",
            &[&m.version, &m.name, &m.checksum()],
        )
        .await
        .unwrap();
    }
    db.batch_execute(
        "INSERT INTO signing_keys (kid, alg, private_key, public_key, active, created_at) \
         VALUES ('old', 'EdDSA', 'sealed', 'pub', TRUE, 1)",
    )
    .await
    .unwrap();

    let store = PgStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(history(&url).await, all_applied());
    let keys = store.list_signing_keys().await.unwrap();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].active && keys[0].retired_at.is_none());
    // The old index (one active key overall) is gone: RS256 has one of its own now.
    let rsa = authgate_store::SigningKeyRecord {
        kid: "rsa".into(),
        alg: "RS256".into(),
        ..keys[0].clone()
    };
    assert_eq!(store.ensure_active_signing_key(&rsa).await.unwrap(), rsa);
    assert_eq!(store.list_oidc_clients().await.unwrap(), []);
}

#[tokio::test]
async fn nodes_starting_at_once_migrate_once() {
    let url = fresh_database().await;
    let nodes = [
        PgStore::connect(&url).await.unwrap(),
        PgStore::connect(&url).await.unwrap(),
        PgStore::connect(&url).await.unwrap(),
    ];
    let (a, b, c) = tokio::join!(nodes[0].migrate(), nodes[1].migrate(), nodes[2].migrate());
    a.unwrap();
    b.unwrap();
    c.unwrap();
    assert_eq!(history(&url).await, all_applied());
    // And the schema works from every node.
    nodes[0].create_user(&new_user("first"), 1).await.unwrap();
    assert!(nodes[2]
        .find_user_by_account("first")
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn a_url_that_is_not_postgres_is_refused() {
    let refused = PgStore::connect("sqlite://x.db").await;
    assert!(matches!(
        refused,
        Err(authgate_store::StoreError::Config(_))
    ));
}

#[tokio::test]
async fn an_unreachable_database_is_unavailable() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = PgStore::connect(&format!("postgres://nobody:secret@127.0.0.1:{port}/x")).await;
    match refused {
        Err(e @ authgate_store::StoreError::Unavailable(_)) => {
            assert!(!e.to_string().contains("secret"), "{e}");
        }
        Err(e) => panic!("expected Unavailable, got {e:?}"),
        Ok(_) => panic!("connected to nothing"),
    }
}
