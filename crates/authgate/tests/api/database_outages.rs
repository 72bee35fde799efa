//! A database that cannot be reached, or is busy for longer than authgate waits, answers
//! 503 with `Retry-After` (not a 500), the API and DingTalk sign-ins alike, and authgate
//! recovers by itself once the database is back.

use crate::dingtalk_support::*;
use crate::support::*;
use crate::{postgres_only, sqlite_only};
use fake_dingtalk::DEFAULT_CLIENT_ID;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

fn assert_unavailable(r: &Reply) {
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.body["errors"][0]["code"], "UNAVAILABLE", "{}", r.body);
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After: {retry}");
}

/// A login-free DingTalk sign-in of `userid`.
async fn sign_in_in_client(env: &DingEnv, userid: &str) -> Reply {
    let code = env
        .fake
        .mint_in_client_code(DEFAULT_CLIENT_ID, userid)
        .unwrap();
    let r = env
        .s
        .http
        .post(env.s.url("/api/dingtalk:signInInClient"))
        .header("x-authenticator", AUTHENTICATOR)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    Reply::from(r).await
}

/// PostgreSQL stops accepting authgate's connections and ends the ones it has.
async fn an_unreachable_postgresql_answers_503_then_recovers(db: Db) {
    let env = DingEnv::start(db, json!({"autoLoginInClient": true})).await;
    let (s, admin) = (&env.s, &env.admin);
    let name = s.database_url.rsplit('/').next().unwrap().to_string();
    let admin_url = std::env::var("AUTHGATE_TEST_PG_URL").unwrap();
    let pg = crate::raw_sql::pg_client(&admin_url).await;
    pg.batch_execute(&format!(
        "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .await
    .unwrap();
    // Past the caches' half second, so that every answer needs the database.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_unavailable(&s.get("/api/users:list", Some(admin)).await);
    assert_unavailable(&s.get("/readyz", None).await);
    assert_unavailable(&sign_in_in_client(&env, "zhangsan").await);
    pg.batch_execute(&format!(
        "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true"
    ))
    .await
    .unwrap();
    let again = s.get("/api/users:list", Some(admin)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    sign_in_in_client(&env, "zhangsan").await.assert_ok();
}

postgres_only!(an_unreachable_postgresql_answers_503_then_recovers);

/// Another process holds SQLite's write lock (an administrator's tool, a backup) for longer
/// than authgate waits for it. Reads go on meanwhile.
async fn a_sqlite_database_locked_by_another_process_answers_503_then_recovers(db: Db) {
    let env = DingEnv::start(db, json!({"autoLoginInClient": true})).await;
    let (s, admin) = (&env.s, &env.admin);
    let path = s.database_url.trim_start_matches("sqlite://").to_string();
    let (locked, release) = std::sync::mpsc::channel::<()>();
    let (taken, lock_taken) = tokio::sync::oneshot::channel();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        taken.send(()).unwrap();
        release.recv().unwrap();
        conn.execute_batch("COMMIT").unwrap();
    });
    lock_taken.await.unwrap();
    let users = s.get("/api/users:list", Some(admin)).await;
    assert_eq!(users.status, StatusCode::OK, "reads go on: {}", users.body);
    // Both wait for the lock at once.
    let (created, signed_in) = tokio::join!(
        s.post(
            "/api/users:create",
            Some(admin),
            json!({"username": "waitsforthelock"}),
        ),
        sign_in_in_client(&env, "zhangsan"),
    );
    assert_unavailable(&created);
    assert_unavailable(&signed_in);
    locked.send(()).unwrap();
    holder.join().unwrap();
    let created = s
        .post(
            "/api/users:create",
            Some(admin),
            json!({"username": "afterthelock"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    sign_in_in_client(&env, "zhangsan").await.assert_ok();
    let count = "SELECT COUNT(*) FROM users WHERE username = 'waitsforthelock'";
    assert_eq!(
        s.sql_count(count).await,
        0,
        "the refused write changed nothing"
    );
}

sqlite_only!(a_sqlite_database_locked_by_another_process_answers_503_then_recovers);
