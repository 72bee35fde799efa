//! Every other statement of the store, run once against PostgreSQL (tokio-postgres checks each
//! parameter's Rust type against the type the server gave it).

use super::{authenticator, entry, new_user, start, store};
use authgate_core::audit::{event, Outcome};
use authgate_core::model::{AuthenticatorPatch, IssuedToken, UserPatch};
use authgate_core::token_policy::TokenPolicy;
use authgate_store::prelude::*;
use authgate_store::{
    AuditQuery, Page, RenewOutcome, SessionQuery, SigningKeyRecord, StoreError, UserQuery, UserSort,
};

#[tokio::test]
async fn users() {
    let (store, _) = store().await;
    let mut root = new_user("Root");
    root.email = Some("root@example.com".into());
    let root = store.create_first_admin(&root, 1).await.unwrap().unwrap();
    assert!(root.is_admin && root.enabled);
    assert_eq!(
        store
            .create_first_admin(&new_user("again"), 1)
            .await
            .unwrap(),
        None
    );

    let mut carol = new_user("carol_100%");
    carol.phone = Some("+8613800000002".into());
    carol.nickname = Some("Caro".into());
    let carol = store.create_user(&carol, 2).await.unwrap();
    assert!(matches!(
        store.create_user(&new_user("ROOT"), 3).await,
        Err(StoreError::Conflict("Username"))
    ));

    assert_eq!(
        store.get_user(carol.id).await.unwrap().as_ref(),
        Some(&carol)
    );
    assert_eq!(
        store
            .find_user_by_account("root")
            .await
            .unwrap()
            .map(|u| u.id),
        Some(root.id)
    );
    assert_eq!(
        store
            .find_user_by_account("ROOT@example.com")
            .await
            .unwrap()
            .map(|u| u.id),
        Some(root.id)
    );

    let list = |q: UserQuery| {
        let store = &store;
        async move {
            let (users, total) = store
                .list_users(&UserQuery {
                    page: Page::new(1, 10),
                    ..q
                })
                .await
                .unwrap();
            (users.iter().map(|u| u.id).collect::<Vec<_>>(), total)
        }
    };
    let search = |term: &str| UserQuery {
        search: Some(term.into()),
        ..Default::default()
    };
    assert_eq!(list(search("0%")).await, (vec![carol.id], 1));
    assert_eq!(list(search("l_1")).await, (vec![carol.id], 1));
    assert_eq!(
        list(search("r_l")).await,
        (vec![], 0),
        "_ is not a wildcard"
    );
    assert_eq!(list(search("caro")).await, (vec![carol.id], 1));
    assert_eq!(list(search("8000")).await, (vec![carol.id], 1));
    assert_eq!(list(search("EXAMPLE")).await, (vec![root.id], 1));
    assert_eq!(list(search("  ")).await.1, 2);
    for q in [
        UserQuery {
            id: Some(root.id),
            ..Default::default()
        },
        UserQuery {
            username: Some("ROOT".into()),
            ..Default::default()
        },
        UserQuery {
            email: Some("Root@Example.com".into()),
            ..Default::default()
        },
        UserQuery {
            is_admin: Some(true),
            enabled: Some(true),
            ..Default::default()
        },
    ] {
        assert_eq!(list(q).await, (vec![root.id], 1));
    }
    assert_eq!(
        list(UserQuery {
            phone: Some("+8613800000002".into()),
            ..Default::default()
        })
        .await,
        (vec![carol.id], 1)
    );
    assert_eq!(
        list(UserQuery {
            sort: UserSort::UsernameDesc,
            ..Default::default()
        })
        .await
        .0,
        vec![root.id, carol.id]
    );
    let (page_two, total) = store
        .list_users(&UserQuery {
            sort: UserSort::IdDesc,
            page: Page::new(2, 1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((page_two[0].id, total), (root.id, 2));

    let patch = UserPatch {
        username: Some(Some("carol".into())),
        email: Some(Some("carol@example.com".into())),
        phone: Some(None),
        nickname: Some(Some("C".into())),
        is_admin: Some(true),
        enabled: Some(true),
    };
    let carol = store
        .update_user(carol.id, &patch, 9)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(carol.username.as_deref(), Some("carol"));
    assert_eq!(carol.email.as_deref(), Some("carol@example.com"));
    assert_eq!(carol.phone, None);
    assert!(carol.is_admin);
    assert_eq!(carol.updated_at, 9);
    let clash = UserPatch {
        email: Some(Some("root@example.com".into())),
        ..Default::default()
    };
    assert!(matches!(
        store.update_user(carol.id, &clash, 10).await,
        Err(StoreError::Conflict("E-mail"))
    ));
    assert_eq!(store.update_user(999, &clash, 10).await.unwrap(), None);
    assert_eq!(store.count_enabled_admins().await.unwrap(), 2);
    assert!(store.delete_user(carol.id).await.unwrap());
    assert!(!store.delete_user(carol.id).await.unwrap());
}

#[tokio::test]
async fn authenticators() {
    let (store, _) = store().await;
    let mut basic = authenticator("basic", "password");
    basic.options.insert("minLength".into(), 8.into());
    let basic = store.create_authenticator(&basic, 2).await.unwrap();
    assert_eq!(basic.sort, 2);
    assert_eq!(basic.options["minLength"], 8);
    assert!(matches!(
        store
            .create_authenticator(&authenticator("basic", "password"), 2)
            .await,
        Err(StoreError::Conflict("Authenticator name"))
    ));
    store
        .ensure_authenticator(&authenticator("basic", "password"), 3)
        .await
        .unwrap();
    let third = store
        .create_authenticator(&authenticator("third", "password"), 3)
        .await
        .unwrap();
    assert_eq!(store.list_authenticators().await.unwrap().len(), 3);

    // Read through the cache, and seen changed at once after a change made here.
    assert_eq!(
        store.get_authenticator_by_name("basic").await.unwrap(),
        Some(basic.clone())
    );
    assert_eq!(store.get_authenticator_by_name("none").await.unwrap(), None);
    let patch = AuthenticatorPatch {
        title: Some("Password".into()),
        description: None,
        options: Some(Default::default()),
        enabled: None,
    };
    let changed = store
        .update_authenticator(basic.id, &patch, 4)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.title, "Password");
    assert!(changed.options.is_empty());
    assert_eq!(
        store.get_authenticator_by_name("basic").await.unwrap(),
        Some(changed)
    );
    assert_eq!(
        store
            .get_authenticator(basic.id)
            .await
            .unwrap()
            .unwrap()
            .title,
        "Password"
    );

    let dingtalk = store.get_authenticator_by_name("dingtalk").await.unwrap();
    assert!(store
        .move_authenticator(third.id, dingtalk.unwrap().id, 5)
        .await
        .unwrap());
    let names: Vec<String> = store
        .list_authenticators()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["third", "dingtalk", "basic"]);
    assert!(!store.move_authenticator(third.id, 999, 5).await.unwrap());
    assert!(store.delete_authenticator(third.id).await.unwrap());
    assert!(!store.delete_authenticator(third.id).await.unwrap());
}

#[tokio::test]
async fn sessions_and_tokens() {
    let (store, _) = store().await;
    let user = store.create_user(&new_user("dave"), 1).await.unwrap();
    let (session, token) = start().for_user(user.id);
    let mut second = entry(event::SIGN_IN);
    second.user_id = Some(user.id);
    second.outcome = Outcome::Failure;
    store
        .create_session(&session, &token, &[entry(event::SIGN_UP), second])
        .await
        .unwrap();

    let context = store.token_context(&token.jti).await.unwrap().unwrap();
    assert_eq!(context.user, user);
    assert_eq!(context.session, session);
    assert_eq!(context.token, token);
    assert_eq!(store.token_context("nope").await.unwrap(), None);

    let renewed = IssuedToken {
        jti: format!("{}-2", token.jti),
        issued_at: 20,
        expires_at: 2_000,
        ..token.clone()
    };
    assert_eq!(
        store.renew_token(&token.jti, &renewed, 20).await.unwrap(),
        RenewOutcome::Renewed
    );
    let other = IssuedToken {
        jti: format!("{}-3", token.jti),
        ..renewed.clone()
    };
    assert_eq!(
        store.renew_token(&token.jti, &other, 21).await.unwrap(),
        RenewOutcome::AlreadyRenewed(renewed.clone())
    );
    assert_eq!(
        store.renew_token("nope", &other, 21).await.unwrap(),
        RenewOutcome::Missing
    );
    // Past the context cache's half second (a renewal leaves cached contexts alone).
    tokio::time::sleep(authgate_store::short_cache::TTL).await;
    let context = store.token_context(&token.jti).await.unwrap().unwrap();
    assert_eq!(
        context.token.renewed_to.as_deref(),
        Some(renewed.jti.as_str())
    );
    assert_eq!(context.session.last_renewed_at, Some(20));

    // A second session, then revocations.
    let (session2, token2) = start().for_user(user.id);
    store.create_session(&session2, &token2, &[]).await.unwrap();
    assert!(store
        .revoke_session(&session.id, "signOut", Some(user.id), 30)
        .await
        .unwrap());
    assert!(!store
        .revoke_session(&session.id, "signOut", None, 31)
        .await
        .unwrap());
    let revoked = store.token_context(&renewed.jti).await.unwrap().unwrap();
    assert_eq!(revoked.session.revoked_at, Some(30));
    assert_eq!(
        store
            .revoke_user_sessions(user.id, Some(&session2.id), "admin", None, 32)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .revoke_user_sessions(user.id, None, "admin", None, 33)
            .await
            .unwrap(),
        1
    );

    let info = store.get_session(&session2.id).await.unwrap().unwrap();
    assert_eq!(info.username.as_deref(), Some("dave"));
    assert_eq!(info.session.revoked_at, Some(33));
    let all = SessionQuery {
        user_id: Some(user.id),
        active_since: None,
        page: Page::new(1, 10),
    };
    assert_eq!(store.list_sessions(&all).await.unwrap().1, 2);
    let active = SessionQuery {
        active_since: Some(0),
        ..all
    };
    assert_eq!(store.list_sessions(&active).await.unwrap(), (vec![], 0));

    assert_eq!(store.token_policy().await.unwrap().token_ttl_ms, 86_400_000);
    let policy = TokenPolicy {
        token_ttl_ms: 1_000,
        session_ttl_ms: 10_000,
        renew_window_ms: 500,
    };
    store.set_token_policy(&policy, 40).await.unwrap();
    assert_eq!(store.token_policy().await.unwrap(), policy);
}

#[tokio::test]
async fn audit() {
    let (store, _) = store().await;
    let mut failure = entry("auth.signIn");
    failure.outcome = Outcome::Failure;
    failure.reason = Some("badPassword".into());
    failure.detail.insert("account".into(), "eve".into());
    store.append_audit_merging(&failure, 0).await.unwrap();
    failure.at = 15;
    store.append_audit_merging(&failure, 0).await.unwrap();
    failure.at = 16;
    store.append_audit_merging(&failure, 0).await.unwrap();
    let mut different = failure.clone();
    different.detail.insert("account".into(), "mallory".into());
    store.append_audit_merging(&different, 0).await.unwrap();
    let mut anonymous = failure.clone();
    anonymous.ip = None;
    store.append_audit_merging(&anonymous, 0).await.unwrap();
    let mut by_admin = entry(event::ADMIN_CHANGE);
    by_admin.actor_id = Some(7);
    by_admin.at = 50;
    store.append_audit(&by_admin).await.unwrap();

    let list = |q: AuditQuery| {
        let store = &store;
        async move {
            store
                .list_audit(&AuditQuery {
                    page: Page::new(1, 10),
                    ..q
                })
                .await
                .unwrap()
        }
    };
    let (entries, total) = list(AuditQuery::default()).await;
    assert_eq!(total, 4);
    let merged = &entries[3].entry;
    assert_eq!(merged.detail["repeated"], 2);
    assert_eq!(merged.detail["lastAt"], 16);
    assert_eq!(merged.at, 10);
    assert_eq!(entries[0].entry, by_admin);
    assert_eq!(
        list(AuditQuery {
            user_id: Some(7),
            ..Default::default()
        })
        .await
        .1,
        1
    );
    assert_eq!(
        list(AuditQuery {
            event: Some("auth.signIn".into()),
            result: Some("failure".into()),
            authenticator: Some("dingtalk".into()),
            since: Some(10),
            until: Some(16),
            ..Default::default()
        })
        .await
        .1,
        3
    );
}

#[tokio::test]
async fn settings_and_signing_keys() {
    let (store, _) = store().await;
    assert_eq!(store.get_setting("k").await.unwrap(), None);
    assert_eq!(
        store
            .put_setting_if_absent("k", "first", true, 1)
            .await
            .unwrap(),
        "first"
    );
    assert_eq!(
        store
            .put_setting_if_absent("k", "second", false, 2)
            .await
            .unwrap(),
        "first"
    );
    let key = |kid: &str, alg: &str| SigningKeyRecord {
        kid: kid.into(),
        alg: alg.into(),
        private_key: "sealed".into(),
        public_key: "pub".into(),
        active: true,
        created_at: 1,
        retired_at: None,
    };
    assert_eq!(
        store
            .ensure_active_signing_key(&key("a", "EdDSA"))
            .await
            .unwrap(),
        key("a", "EdDSA")
    );
    assert_eq!(
        store
            .ensure_active_signing_key(&key("b", "EdDSA"))
            .await
            .unwrap(),
        key("a", "EdDSA")
    );
    // One active key per algorithm: an RS256 key beside the EdDSA one.
    assert_eq!(
        store
            .ensure_active_signing_key(&key("r", "RS256"))
            .await
            .unwrap(),
        key("r", "RS256")
    );
    assert_eq!(
        store.list_signing_keys().await.unwrap(),
        vec![key("a", "EdDSA"), key("r", "RS256")]
    );
    // A rotation retires the old key and keeps it; the other algorithm's is untouched.
    store
        .rotate_signing_key(&key("c", "EdDSA"), 5)
        .await
        .unwrap();
    let retired = SigningKeyRecord {
        active: false,
        retired_at: Some(5),
        ..key("a", "EdDSA")
    };
    let mut keys = store.list_signing_keys().await.unwrap();
    keys.sort_by(|x, y| x.kid.cmp(&y.kid));
    assert_eq!(keys, vec![retired, key("c", "EdDSA"), key("r", "RS256")]);
    assert_eq!(
        store
            .ensure_active_signing_key(&key("d", "EdDSA"))
            .await
            .unwrap(),
        key("c", "EdDSA")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_key_rotations_racing_on_two_nodes_both_succeed() {
    let (node_a, url) = store().await;
    let node_b = crate::PgStore::connect(&url).await.unwrap();
    let key = |kid: &str| SigningKeyRecord {
        kid: kid.into(),
        alg: "EdDSA".into(),
        private_key: "sealed".into(),
        public_key: "pub".into(),
        active: true,
        created_at: 1,
        retired_at: None,
    };
    node_a.ensure_active_signing_key(&key("a")).await.unwrap();
    let (b, c) = (key("b"), key("c"));
    let (b, c) = tokio::join!(
        node_a.rotate_signing_key(&b, 2),
        node_b.rotate_signing_key(&c, 2)
    );
    b.unwrap();
    c.unwrap();
    let keys = node_a.list_signing_keys().await.unwrap();
    assert_eq!(keys.len(), 3);
    assert_eq!(keys.iter().filter(|k| k.active).count(), 1);
    assert_eq!(keys.iter().filter(|k| k.retired_at == Some(2)).count(), 2);
}
