//! Simultaneous first sign-ins of one DingTalk user: one user, one binding, no failure.

use crate::both_databases;
use crate::dingtalk_support::*;
use crate::support::*;
use fake_dingtalk::FakeUser;
use serde_json::json;

const PARALLEL: usize = 20;

async fn twenty_simultaneous_first_sign_ins(who: &str, env: &DingEnv) {
    // Each browser gets its own state and DingTalk code first; then all callbacks at once.
    let mut pending = Vec::new();
    for _ in 0..PARALLEL {
        let mut b = Browser::new();
        let url = b.get_auth_url(&env.s, AUTHENTICATOR, Some("/done")).await;
        let back = b.authorize(&url, &format!("&login_as={who}")).await;
        pending.push((b, back));
    }
    let tasks: Vec<_> = pending
        .into_iter()
        .map(|(mut b, back)| tokio::spawn(async move { b.callback(&back).await }))
        .collect();
    for t in tasks {
        let out = t.await.unwrap();
        assert_eq!(
            out.location, "/done",
            "a concurrent sign-in failed: {out:?}"
        );
    }
}

async fn simultaneous_first_sign_ins_make_one_user_and_one_binding(db: Db) {
    let env = DingEnv::start(db, json!({"matchBy": ["phone"]})).await;
    let users = env.counts().await.0;
    // With a phone number (users' unique phone index races too)...
    twenty_simultaneous_first_sign_ins("zhangsan", &env).await;
    assert_eq!(env.counts().await.0, users + 1);
    assert_eq!(env.s.sql_count("SELECT COUNT(*) FROM identities").await, 1);
    // ...and without any unique field: only the binding's unique index decides.
    let mut frank = FakeUser::new("frank", "fRaNk0unionIdZZZQiEiE");
    frank.nick = Some("Frank".into());
    frank.corp_ids = vec!["dingcorp001".into()];
    env.add_user(frank);
    assert!(env
        .update_options(AUTHENTICATOR, json!({"matchBy": []}))
        .await
        .status
        .is_success());
    twenty_simultaneous_first_sign_ins("frank", &env).await;
    assert_eq!(env.counts().await.0, users + 2);
    assert_eq!(env.s.sql_count("SELECT COUNT(*) FROM identities").await, 2);
    assert!(!env.s.output().contains("database error"));
}

both_databases!(simultaneous_first_sign_ins_make_one_user_and_one_binding);

/// Sign-ins that write through different connections at once.
mod mixed_writers {
    use crate::both_databases;
    use crate::dingtalk_support::*;
    use crate::support::*;
    use fake_dingtalk::FakeUser;
    use serde_json::json;

    /// DingTalk sign-ins (sign-ups, then returning users) for as long as password sign-ins
    /// and an administrator's user updates are running: every request succeeds. (On SQLite
    /// they all queue for the one writer thread; on PostgreSQL they run side by side.)
    async fn dingtalk_and_password_sign_ins_at_once_all_succeed(db: Db) {
        const PEOPLE: usize = 24;
        let env = DingEnv::start(db, json!({"matchBy": []})).await;
        let (users, identities, _) = env.counts().await;
        let people: Vec<String> = (0..PEOPLE).map(|i| format!("mixed{i}")).collect();
        for (i, userid) in people.iter().enumerate() {
            let mut person = FakeUser::new(userid.clone(), format!("mIxEd{i:02}unionIdZZZQiEiE"));
            person.nick = Some(format!("Mixed {i}"));
            person.corp_ids = vec!["dingcorp001".into()];
            env.add_user(person);
        }
        let passwords: Vec<_> = (0..8)
            .map(|_| {
                let sign_in = env
                    .s
                    .http
                    .post(env.s.url("/api/auth:signIn"))
                    .header("X-Authenticator", "basic")
                    .json(&json!({"account": "admin", "password": ADMIN_PASSWORD}));
                tokio::spawn(async move { sign_in.send().await.unwrap().status() })
            })
            .collect();
        // Administrators' updates, one after another on each of three users, until the end.
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut updaters = Vec::new();
        for name in ["bystander1", "bystander2", "bystander3"] {
            let id = env
                .s
                .create_user(&env.admin, json!({"username": name}))
                .await;
            let (http, admin, done) = (env.s.http.clone(), env.admin.clone(), done.clone());
            let url = env.s.url(&format!("/api/users:update?filterByTk={id}"));
            updaters.push((
                id,
                tokio::spawn(async move {
                    let mut made = 0;
                    while !done.load(std::sync::atomic::Ordering::Relaxed) {
                        let r = http.post(&url).bearer_auth(&admin);
                        let r = r.json(&json!({"nickname": format!("update {made}")}));
                        assert_eq!(r.send().await.unwrap().status(), reqwest::StatusCode::OK);
                        made += 1;
                    }
                    made
                }),
            ));
        }
        let mut rounds = 0;
        while rounds < 6 || passwords.iter().any(|p| !p.is_finished()) {
            let tasks: Vec<_> = people
                .iter()
                .map(|userid| {
                    let (base, userid) = (env.s.base.clone(), userid.clone());
                    tokio::spawn(async move {
                        let mut b = Browser::new();
                        let out = b.try_sign_in_as(&base, AUTHENTICATOR, &userid, "/done");
                        out.await.map(|out| out.location)
                    })
                })
                .collect();
            for t in tasks {
                assert_eq!(t.await.unwrap().as_deref(), Ok("/done"), "round {rounds}");
            }
            rounds += 1;
        }
        for p in passwords {
            assert_eq!(p.await.unwrap(), reqwest::StatusCode::OK);
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        for (id, updater) in updaters {
            let made = updater.await.unwrap();
            assert!(made > 0);
            let nickname = format!("SELECT nickname FROM users WHERE id = {id}");
            let last = format!("update {}", made - 1);
            assert_eq!(env.s.sql_text(&nickname).await, Some(last));
        }
        let (users_after, identities_after, _) = env.counts().await;
        assert_eq!(users_after, users + 3 + PEOPLE as i64);
        assert_eq!(identities_after, identities + PEOPLE as i64);
        assert!(!env.s.output().contains("database error"));
    }

    both_databases!(dingtalk_and_password_sign_ins_at_once_all_succeed);
}

/// PostgreSQL only: a transaction held open from the test is what makes the race happen at a
/// known point (SQLite's single writer cannot interleave two sign-ins this way).
mod lost_race {
    use crate::dingtalk_support::*;
    use crate::postgres_only;
    use crate::support::*;
    use serde_json::json;

    /// Two first sign-ins of one DingTalk account at once. The one-statement sign-up finds no
    /// binding, then loses the race for the binding's unique key to the other sign-in, which
    /// commits first. Its new user must roll back with it, and the full resolution it falls
    /// back to must sign in as the winner's user.
    async fn a_sign_up_that_loses_the_binding_race_signs_in_as_the_winner(db: Db) {
        let env = DingEnv::start(db, json!({})).await;
        let s = &env.s;
        let winner = s
            .create_user(&env.admin, json!({"username": "winner"}))
            .await;
        let union_id = env.fake_user("zhangsan").union_id;
        let (users_before, identities_before, _) = env.counts().await;
        // The other sign-in's binding, written but not yet committed.
        let other = crate::raw_sql::pg_client(&s.database_url).await;
        other.batch_execute("BEGIN").await.unwrap();
        other
            .execute(
                "INSERT INTO identities (authenticator, uuid, user_id, meta, created_at, \
                 updated_at) VALUES ($1, $2, $3, '{}', 0, 0)",
                &[&AUTHENTICATOR, &union_id, &winner],
            )
            .await
            .unwrap();
        let mut browser = Browser::new();
        let commit_once_blocked = async {
            let watcher = crate::raw_sql::pg_client(&s.database_url).await;
            let blocked = "SELECT COUNT(*) FROM pg_stat_activity \
                           WHERE datname = current_database() AND wait_event_type = 'Lock'";
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            loop {
                let waiting: i64 = watcher.query_one(blocked, &[]).await.unwrap().get(0);
                if waiting > 0 {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "authgate's sign-up never waited on the uncommitted binding"
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            other.batch_execute("COMMIT").await.unwrap();
        };
        let (outcome, ()) = tokio::join!(
            browser.sign_in_as(s, AUTHENTICATOR, "zhangsan", None),
            commit_once_blocked
        );
        assert!(outcome.signin_page().is_none(), "{outcome:?}");
        assert_eq!(browser.whoami(s).await.body["data"]["id"], winner);
        let (users, identities, _) = env.counts().await;
        assert_eq!(
            users, users_before,
            "the losing sign-up's user was rolled back"
        );
        assert_eq!(
            identities,
            identities_before + 1,
            "only the winner's binding"
        );
    }

    postgres_only!(a_sign_up_that_loses_the_binding_race_signs_in_as_the_winner);
}
