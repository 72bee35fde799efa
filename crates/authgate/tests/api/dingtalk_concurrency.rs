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
