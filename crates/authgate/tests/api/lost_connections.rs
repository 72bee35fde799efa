//! PostgreSQL ending authgate's sessions (a restart, a failover, a proxy's idle timeout):
//! authgate replaces the connections it lost, and sign-ins work again without a restart.

use crate::dingtalk_support::*;
use crate::postgres_only;
use crate::support::*;
use serde_json::json;

async fn sign_ins_work_again_after_postgresql_ends_every_session(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    // Sign-ins side by side, so that several connections are open.
    let rounds: Vec<_> = (0..12)
        .map(|_| {
            let base = env.s.base.clone();
            tokio::spawn(async move {
                Browser::new()
                    .try_sign_in_as(&base, AUTHENTICATOR, "zhangsan", "/done")
                    .await
            })
        })
        .collect();
    for r in rounds {
        assert_eq!(r.await.unwrap().unwrap().location, "/done");
    }
    env.s
        .sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await;
    // Each lost connection may fail the one request that finds it lost; then it is replaced.
    // authgate holds at most 8 + 16 connections (sign-in statements, everything else).
    let (mut failures, mut in_a_row) = (Vec::new(), 0);
    while in_a_row < 40 {
        let out = Browser::new()
            .try_sign_in_as(&env.s.base, AUTHENTICATOR, "zhangsan", "/done")
            .await;
        match out {
            Ok(o) if o.location == "/done" => in_a_row += 1,
            other => {
                in_a_row = 0;
                failures.push(other);
                assert!(
                    failures.len() <= 24,
                    "more sign-ins failed than authgate had connections: {failures:?}"
                );
            }
        }
    }
}

postgres_only!(sign_ins_work_again_after_postgresql_ends_every_session);
