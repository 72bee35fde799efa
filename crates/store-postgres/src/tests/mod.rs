//! Tests against a real PostgreSQL: `scripts/with-postgres cargo test -p
//! authgate-store-postgres` starts a throwaway cluster and sets `AUTHGATE_TEST_PG_URL` (a
//! superuser URL); each test makes a database of its own.

mod connections;
mod migrations;
mod oidc;
mod placeholders;
mod rules;
mod statements;

use crate::PgStore;
use authgate_core::audit::{event, NewAuditEntry, Outcome};
use authgate_core::model::{IssuedToken, NewAuthenticator, NewUser, Session};
use authgate_store::prelude::*;
use authgate_store::{ExternalIdentity, SessionStart};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio_postgres::NoTls;

pub(crate) fn admin_url() -> String {
    std::env::var("AUTHGATE_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "AUTHGATE_TEST_PG_URL is not set: run these tests through scripts/with-postgres \
             (it starts a throwaway PostgreSQL and sets the variable)"
        )
    })
}

/// A unique suffix for names in one test run.
pub(crate) fn unique() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", h.finish())
}

/// The URL of a new, empty database.
pub(crate) async fn fresh_database() -> String {
    let admin = admin_url();
    let name = format!("agpg_{}", unique());
    client(&admin)
        .await
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    let base = admin.rsplit_once('/').expect("the URL names a database").0;
    format!("{base}/{name}")
}

/// A plain connection, for what the tests do behind the store's back.
pub(crate) async fn client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .expect("PostgreSQL at AUTHGATE_TEST_PG_URL is reachable");
    tokio::spawn(connection);
    client
}

/// A migrated store on a new database, with the `dingtalk` authenticator.
pub(crate) async fn store() -> (PgStore, String) {
    let url = fresh_database().await;
    let store = PgStore::connect(&url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
        .ensure_authenticator(&authenticator("dingtalk", "dingtalk"), 1)
        .await
        .unwrap();
    (store, url)
}

pub(crate) fn authenticator(name: &str, auth_type: &str) -> NewAuthenticator {
    NewAuthenticator {
        name: name.into(),
        auth_type: auth_type.into(),
        title: name.into(),
        description: String::new(),
        options: Default::default(),
        enabled: true,
    }
}

pub(crate) fn new_user(username: &str) -> NewUser {
    NewUser {
        username: Some(username.into()),
        email: None,
        phone: None,
        nickname: None,
        is_admin: false,
        enabled: true,
        password_hash: None,
    }
}

pub(crate) fn identity(uuid: &str) -> ExternalIdentity {
    let mut meta = serde_json::Map::new();
    meta.insert("unionId".into(), uuid.into());
    ExternalIdentity {
        authenticator: "dingtalk".into(),
        uuid: uuid.into(),
        nickname: Some("Nick".into()),
        avatar: None,
        meta,
    }
}

/// A session to start, with ids of its own.
pub(crate) fn start() -> SessionStart {
    let tag = unique();
    SessionStart {
        session: Session {
            id: format!("s-{tag}"),
            user_id: 0,
            authenticator: "dingtalk".into(),
            signed_in_at: 10,
            last_renewed_at: None,
            ip: Some("10.0.0.1".into()),
            user_agent: Some("test".into()),
            revoked_at: None,
        },
        token: IssuedToken {
            jti: format!("j-{tag}"),
            session_id: format!("s-{tag}"),
            user_id: 0,
            issued_at: 10,
            expires_at: 1_000,
            renewed_to: None,
            renewed_at: None,
        },
        audit: entry(event::SIGN_IN),
    }
}

pub(crate) fn entry(event: &str) -> NewAuditEntry {
    NewAuditEntry {
        at: 10,
        event: event.into(),
        outcome: Outcome::Success,
        user_id: None,
        actor_id: None,
        authenticator: Some("dingtalk".into()),
        ip: Some("10.0.0.1".into()),
        user_agent: Some("test".into()),
        reason: None,
        detail: Default::default(),
    }
}

/// `SELECT COUNT(*)` of a statement's rows.
pub(crate) async fn count(url: &str, sql: &str) -> i64 {
    client(url)
        .await
        .query_one(&format!("SELECT COUNT(*) FROM ({sql}) AS x"), &[])
        .await
        .unwrap()
        .get(0)
}
