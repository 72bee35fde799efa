//! `kill -9` under a steady DingTalk sign-in load loses nothing: every sign-in that was answered
//! with success keeps its user, identity and session; nothing is duplicated; the database passes
//! its integrity checks; the restarted node serves at once.
//! SQLite: the only node is killed. PostgreSQL: one of two nodes is killed while the other
//! keeps serving.

use crate::both_databases;
use crate::dingtalk_support::*;
use crate::support::*;
use fake_dingtalk::{FakeUser, DEFAULT_CORP_ID};
use reqwest::StatusCode;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WORKERS: usize = 8;
const FAKE_USERS: usize = 2000;
/// kill -9 and restart, this many times in one run.
const KILLS: usize = 3;

fn crash_user(i: usize) -> String {
    format!("crash{}", i % FAKE_USERS)
}

#[derive(Default)]
struct Load {
    stop: AtomicBool,
    next: AtomicUsize,
    /// (node index, DingTalk userid, token) of every sign-in answered with success.
    signed_in: Mutex<Vec<(usize, String, String)>>,
    transport_errors: AtomicUsize,
    /// Sign-ins that ended on the sign-in page: none are expected.
    refused: Mutex<Vec<String>>,
}

impl Load {
    fn successes(&self) -> usize {
        self.signed_in.lock().unwrap().len()
    }

    fn successes_on(&self, node: usize) -> usize {
        let all = self.signed_in.lock().unwrap();
        all.iter().filter(|(n, _, _)| *n == node).count()
    }

    async fn wait_for(&self, what: &str, mut enough: impl FnMut(&Load) -> bool) {
        let since = Instant::now();
        while !enough(self) {
            assert!(
                since.elapsed() < Duration::from_secs(60),
                "no progress while waiting for {what}: {} successes, {} transport errors, refused {:?}",
                self.successes(),
                self.transport_errors.load(Ordering::Relaxed),
                self.refused.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Sign-ins on `nodes` in turn: mostly new users (sign-up), every fourth a returning one.
fn start_workers(load: &Arc<Load>, nodes: Vec<String>) -> Vec<tokio::task::JoinHandle<()>> {
    (0..WORKERS)
        .map(|_| {
            let load = load.clone();
            let nodes = nodes.clone();
            tokio::spawn(async move {
                while !load.stop.load(Ordering::Relaxed) {
                    let i = load.next.fetch_add(1, Ordering::Relaxed);
                    let userid = if i % 4 == 3 {
                        crash_user(i - 3)
                    } else {
                        crash_user(i)
                    };
                    let node = i % nodes.len();
                    let mut b = Browser::new();
                    match b
                        .try_sign_in_as(&nodes[node], AUTHENTICATOR, &userid, "/done")
                        .await
                    {
                        Ok(out) if out.location == "/done" => {
                            let token = b.token().expect("a session cookie with the success");
                            load.signed_in.lock().unwrap().push((node, userid, token));
                        }
                        Ok(out) => load.refused.lock().unwrap().push(out.location),
                        Err(_) => {
                            load.transport_errors.fetch_add(1, Ordering::Relaxed);
                            // A node is down: do not spin.
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
            })
        })
        .collect()
}

async fn assert_database_is_intact(s: &Server) {
    match s.db {
        Db::Sqlite => {
            assert_eq!(
                s.sql_text("SELECT integrity_check FROM pragma_integrity_check")
                    .await
                    .as_deref(),
                Some("ok")
            );
            assert_eq!(
                s.sql_count("SELECT COUNT(*) FROM pragma_foreign_key_check")
                    .await,
                0
            );
        }
        Db::Postgres => {
            s.sql("CREATE EXTENSION IF NOT EXISTS amcheck").await;
            // Every B-tree index agrees with its table, and no heap page is corrupt.
            let indexes = s
                .sql_count(
                    "SELECT COUNT(bt_index_check(c.oid, true)::text) FROM pg_index i \
                     JOIN pg_class c ON c.oid = i.indexrelid \
                     JOIN pg_am am ON am.oid = c.relam \
                     WHERE c.relnamespace = 'public'::regnamespace AND am.amname = 'btree'",
                )
                .await;
            assert!(indexes > 10, "{indexes} indexes checked");
            assert_eq!(
                s.sql_count(
                    "SELECT COUNT(*) FROM pg_class c, verify_heapam(c.oid) \
                     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'",
                )
                .await,
                0
            );
        }
    }
}

async fn kill_9_under_sign_in_load_loses_nothing(db: Db) {
    let opts = crate::multi_node::node_options();
    let mut env = DingEnv::start_with(db, json!({"matchBy": ["phone"]}), opts).await;
    for i in 0..FAKE_USERS {
        let mut u = FakeUser::new(format!("crash{i}"), format!("crashUnion{i:06}"));
        u.nick = Some(format!("Crash {i}"));
        u.mobile = Some(format!("1380000{i:04}"));
        u.state_code = Some("86".into());
        u.corp_ids = vec![DEFAULT_CORP_ID.into()];
        env.add_user(u);
    }
    // PostgreSQL: a second node keeps serving while the first is down.
    let survivor = match db {
        Db::Sqlite => None,
        Db::Postgres => Some(env.start_node().await),
    };
    let mut nodes = vec![env.s.base.clone()];
    nodes.extend(survivor.iter().map(|s| s.base.clone()));

    let load = Arc::new(Load::default());
    let workers = start_workers(&load, nodes.clone());
    load.wait_for("sign-ins before the first crash", |l| l.successes() >= 40)
        .await;
    for _ in 0..KILLS {
        env.s.kill9();
        let on_survivor = load.successes_on(1);
        match &survivor {
            // The other node goes on signing people in.
            Some(_) => {
                load.wait_for("sign-ins on the surviving node", |l| {
                    l.successes_on(1) >= on_survivor + 20
                })
                .await
            }
            None => tokio::time::sleep(Duration::from_millis(200)).await,
        }
        let on_killed = load.successes_on(0);
        env.s.restart().await;
        // The restarted node answers sign-ins at once.
        load.wait_for("sign-ins on the restarted node", |l| {
            l.successes_on(0) >= on_killed + 20
        })
        .await;
    }
    load.stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    assert!(
        load.refused.lock().unwrap().is_empty(),
        "sign-ins refused: {:?}",
        load.refused.lock().unwrap()
    );
    assert!(
        load.transport_errors.load(Ordering::Relaxed) > 0,
        "the kill cut no request: the test proved nothing"
    );

    // Every answered sign-in kept its user, identity and session.
    let signed_in = load.signed_in.lock().unwrap().clone();
    eprintln!(
        "{db:?}: {} sign-ins answered with success across {KILLS} kills; \
         {} attempts failed while a node was down",
        signed_in.len(),
        load.transport_errors.load(Ordering::Relaxed)
    );
    let s = &env.s;
    for (_, userid, token) in &signed_in {
        let me = s.get("/api/auth:check", Some(token)).await;
        assert_eq!(me.status, StatusCode::OK, "{userid}: {}", me.text);
        let n: usize = userid.trim_start_matches("crash").parse().unwrap();
        assert_eq!(me.body["data"]["phone"], format!("+861380000{n:04}"));
        let uid = me.body["data"]["id"].as_i64().unwrap();
        assert_eq!(
            s.sql_count(&format!(
                "SELECT COUNT(*) FROM identities WHERE user_id = {uid} \
                 AND authenticator = 'dingtalk' AND uuid = 'crashUnion{n:06}'"
            ))
            .await,
            1,
            "{userid}"
        );
    }
    // No duplicates, and no user without its binding (sign-up writes both or neither).
    assert_eq!(
        s.sql_count(
            "SELECT COUNT(*) FROM (SELECT phone FROM users WHERE phone IS NOT NULL \
             GROUP BY phone HAVING COUNT(*) > 1) d"
        )
        .await,
        0
    );
    assert_eq!(
        s.sql_count(
            "SELECT COUNT(*) FROM (SELECT user_id FROM identities \
             GROUP BY authenticator, user_id HAVING COUNT(*) > 1) d"
        )
        .await,
        0
    );
    assert_eq!(
        s.sql_count(
            "SELECT COUNT(*) FROM users u WHERE u.phone LIKE '+861380000%' \
             AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.user_id = u.id)"
        )
        .await,
        0
    );
    let distinct: std::collections::BTreeSet<_> = signed_in.iter().map(|(_, u, _)| u).collect();
    assert!(
        s.sql_count("SELECT COUNT(*) FROM identities").await >= distinct.len() as i64,
        "bindings lost"
    );
    assert_database_is_intact(s).await;
}

both_databases!(kill_9_under_sign_in_load_loses_nothing);
