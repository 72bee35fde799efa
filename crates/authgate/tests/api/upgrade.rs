//! A database made by authgate 0.1 (whose store recorded its migrations with sqlx) opens with
//! today's store and keeps its users, identities, sessions and signing key. The databases in
//! `tests/fixtures/made-by-0.1` were made by that release (`make.sh` there says how).

use crate::both_databases;
use crate::raw_sql::{pg_client, with_sqlite};
use crate::support::*;
use fake_dingtalk::{FakeConfig, FakeDingTalk, DEFAULT_CLIENT_ID};
use reqwest::StatusCode;
use serde_json::json;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/made-by-0.1");
/// The key 0.1's signing key was sealed with.
const SECRET_KEY: &str = include_str!("../fixtures/made-by-0.1/secret.key");
fn fixture(db: Db) -> String {
    let file = match db {
        Db::Sqlite => "sqlite.sql",
        Db::Postgres => "postgres.sql",
    };
    std::fs::read_to_string(format!("{FIXTURES}/{file}")).unwrap()
}

/// The id of the signing key 0.1 generated: the first value of its row in the dump.
fn signing_kid(db: Db) -> String {
    let dump = fixture(db);
    let row = dump
        .lines()
        .find(|l| l.contains("signing_keys\" VALUES(") || l.contains("signing_keys VALUES ("))
        .expect("the dump has the signing key");
    row.split('\'').nth(1).unwrap().to_string()
}

async fn load(db: Db, url: String) {
    let sql = fixture(db);
    match db {
        Db::Sqlite => {
            // The dump inserts rows in table order, not in the order their keys need.
            with_sqlite(&url, move |c| {
                c.execute_batch(&format!("PRAGMA foreign_keys = OFF; {sql}"))
                    .unwrap()
            })
            .await;
        }
        Db::Postgres => {
            // pg_dump's own lines for psql (`\restrict`) are not SQL.
            let sql: Vec<&str> = sql.lines().filter(|l| !l.starts_with('\\')).collect();
            pg_client(&url)
                .await
                .batch_execute(&sql.join("\n"))
                .await
                .unwrap();
        }
    }
}

async fn a_database_made_by_0_1_opens_and_keeps_everything(db: Db) {
    let fake = FakeDingTalk::start(FakeConfig::default()).await;
    let base = fake.base_url().to_string();
    let opts = ServerOptions {
        admin_password: false,
        secret_key: Some(SECRET_KEY.trim().to_string()),
        ..Default::default()
    }
    .env("AUTHGATE_DINGTALK_LOGIN_BASE", &base)
    .env("AUTHGATE_DINGTALK_API_BASE", &base)
    .env("AUTHGATE_DINGTALK_OAPI_BASE", &base);
    let s = Server::start_on_filled(db, opts, |url| load(db, url)).await;
    // Every migration of this release (0004 made access_rules) is recorded.
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM schema_migrations").await,
        4
    );
    assert_eq!(s.sql_count("SELECT COUNT(*) FROM access_rules").await, 0);

    // Users and their password hashes.
    let admin = s.sign_in("admin", "Fixture-Admin-1").await;
    s.sign_in("wangwu", "Wangwu-Pass-1").await;
    let users = s.get("/api/users:list?pageSize=50", Some(&admin)).await;
    assert_eq!(users.body["meta"]["count"], 4, "{}", users.body);

    // The signing key: tokens 0.1 issued still verify.
    let jwks = s.get("/.well-known/jwks.json", None).await;
    assert_eq!(
        jwks.body["keys"][0]["kid"],
        signing_kid(db),
        "{}",
        jwks.body
    );

    // Sessions, with who signed in and how.
    let sessions = s.get("/api/sessions:list?pageSize=50", Some(&admin)).await;
    let made_by_0_1: Vec<(i64, String)> = sessions.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| {
            x["userAgent"]
                .as_str()
                .is_some_and(|ua| ua.starts_with("curl/"))
        })
        .map(|x| {
            let user = x["userId"].as_i64().unwrap();
            (user, x["authenticator"].as_str().unwrap().to_string())
        })
        .collect();
    for kept in [(1, "basic"), (2, "dingtalk"), (3, "dingtalk")] {
        assert!(
            made_by_0_1.contains(&(kept.0, kept.1.to_string())),
            "{kept:?} in {made_by_0_1:?}"
        );
    }

    // Identities: Alice's DingTalk account still signs in as her user.
    let alice = s.get("/api/users:get?filterByTk=2", Some(&admin)).await;
    assert_eq!(
        alice.body["data"]["identities"][0]["uuid"], "aLiCe0unionIdQvHZqQiEiE",
        "{}",
        alice.body
    );
    let code = fake
        .mint_in_client_code(DEFAULT_CLIENT_ID, "alice")
        .unwrap();
    let signed_in = s
        .http
        .post(s.url("/api/dingtalk:signInInClient"))
        .header("x-authenticator", "dingtalk")
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    let body: serde_json::Value = signed_in.json().await.unwrap();
    assert_eq!(body["data"]["user"]["id"], 2, "{body}");
    let users = s.get("/api/users:list?pageSize=50", Some(&admin)).await;
    assert_eq!(users.body["meta"]["count"], 4, "no one was signed up anew");
}

both_databases!(a_database_made_by_0_1_opens_and_keeps_everything);
