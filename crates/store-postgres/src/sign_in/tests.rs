//! The sign-in path against a real PostgreSQL (support: `crate::tests`).

use super::one_statement::{self, Returning};
use crate::tests::{client, count, entry, identity, new_user, start, store};
use crate::PgStore;
use authgate_core::audit::event;
use authgate_core::failure_limit::{FailureLimit, Settle};
use authgate_core::model::{NewUser, User};
use authgate_store::prelude::*;
use authgate_store::{
    stored_meta, ConsumedState, ExternalIdentity, FailureSlots, FirstSignIn, LinkOutcome,
    MatchCandidate, OAuthState, Resolved, Returned, ReturningSignIn,
};
use std::sync::Arc;

fn first(ext: &ExternalIdentity, sign_up: Option<NewUser>) -> FirstSignIn {
    FirstSignIn {
        identity: ext.clone(),
        candidates: Vec::new(),
        sync_profile: true,
        sign_up,
        link_requires_password: false,
        start: start(),
        now: 20,
    }
}

fn returning(ext: &ExternalIdentity, sync_profile: bool) -> ReturningSignIn {
    ReturningSignIn {
        identity: ext.clone(),
        sync_profile,
        start: start(),
        now: 30,
    }
}

/// A user signed up by `ext`, with its nickname (the profile as DingTalk describes it).
async fn signed_up(store: &PgStore, ext: &ExternalIdentity) -> User {
    let mut new = new_user(&ext.uuid);
    new.nickname = ext.nickname.clone();
    match store
        .sign_in_first_time(&first(ext, Some(new)))
        .await
        .unwrap()
    {
        Resolved::SignedUp(user) => user,
        other => panic!("expected a sign-up, got {other:?}"),
    }
}

async fn session_exists(url: &str, id: &str) -> bool {
    count(url, &format!("SELECT 1 FROM sessions WHERE id = '{id}'")).await == 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn first_sign_ins_of_one_identity_on_two_nodes_make_one_user_and_one_binding() {
    // With a username (the racers meet on it), and without (they meet on the binding).
    for username in [Some("racer"), None] {
        let (node_a, url) = store().await;
        let node_b = PgStore::connect(&url).await.unwrap();
        let nodes = [Arc::new(node_a), Arc::new(node_b)];
        let ext = identity(&format!("race-{}", username.unwrap_or("anonymous")));
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let node = nodes[i % 2].clone();
                let mut new = new_user("racer");
                new.username = username.map(Into::into);
                let request = first(&ext, Some(new));
                tokio::spawn(async move { node.sign_in_first_time(&request).await })
            })
            .collect();
        let mut signed_up = 0;
        let mut users = Vec::new();
        for task in tasks {
            match task.await.unwrap().expect("every racer signs in") {
                Resolved::SignedUp(user) => {
                    signed_up += 1;
                    users.push(user.id);
                }
                Resolved::Bound(user) => users.push(user.id),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(signed_up, 1, "one sign-up ({username:?})");
        users.dedup();
        assert_eq!(users.len(), 1, "everyone signed in as one user");
        assert_eq!(count(&url, "SELECT 1 FROM users").await, 1);
        assert_eq!(count(&url, "SELECT 1 FROM identities").await, 1);
        assert_eq!(count(&url, "SELECT 1 FROM sessions").await, 8);
    }
}

#[tokio::test]
async fn a_returning_sign_in_with_an_unchanged_profile_is_one_statement() {
    let (store, url) = store().await;
    let ext = identity("steady");
    let user = signed_up(&store, &ext).await;
    let meta = stored_meta(&ext);

    // The statement alone signs the user in: session, token and audit rows are written.
    let r = returning(&ext, true);
    let mut conn = store.conn().await.unwrap();
    match one_statement::sign_in_returning(&mut conn, &r, &meta)
        .await
        .unwrap()
    {
        Returning::SignedIn(u) => assert_eq!(u, user),
        _ => panic!("not signed in by the one statement"),
    }
    assert!(session_exists(&url, &r.start.session.id).await);
    let token_user: i64 = client(&url)
        .await
        .query_one(
            "SELECT user_id FROM issued_tokens WHERE jti = $1",
            &[&r.start.token.jti],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(token_user, user.id);
    assert_eq!(
        count(
            &url,
            &format!(
                "SELECT 1 FROM audit_log WHERE user_id = {} AND event = '{}' AND at = 10",
                user.id,
                event::SIGN_IN
            )
        )
        .await,
        2,
        "the sign-up's sign-in and this one"
    );

    // Through the store, the same.
    let r = returning(&ext, true);
    assert_eq!(
        store.sign_in_returning(&r).await.unwrap(),
        Returned::SignedIn(user)
    );
    assert!(session_exists(&url, &r.start.session.id).await);
}

#[tokio::test]
async fn a_returning_sign_in_with_a_changed_nickname_updates_it() {
    let (store, url) = store().await;
    let ext = identity("renamed");
    let user = signed_up(&store, &ext).await;
    let mut renamed = ext.clone();
    renamed.nickname = Some("New Nick".into());

    // The one statement leaves it to the transaction, writing nothing.
    let r = returning(&renamed, true);
    let meta = stored_meta(&renamed);
    let mut conn = store.conn().await.unwrap();
    assert!(matches!(
        one_statement::sign_in_returning(&mut conn, &r, &meta)
            .await
            .unwrap(),
        Returning::Undecided(_)
    ));
    assert!(!session_exists(&url, &r.start.session.id).await);

    let Returned::SignedIn(now) = store.sign_in_returning(&r).await.unwrap() else {
        panic!("not signed in");
    };
    assert_eq!(now.id, user.id);
    assert_eq!(now.nickname.as_deref(), Some("New Nick"));
    assert_eq!(now.updated_at, 30);
    assert!(session_exists(&url, &r.start.session.id).await);
    let stored: Option<String> = client(&url)
        .await
        .query_one(
            "SELECT nickname FROM identities WHERE uuid = $1",
            &[&ext.uuid],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored.as_deref(), Some("New Nick"));

    // Without profile sync, a changed profile is not written, and one statement signs in.
    let mut again = renamed.clone();
    again.nickname = Some("Ignored".into());
    let r = returning(&again, false);
    let meta = stored_meta(&again);
    assert!(matches!(
        one_statement::sign_in_returning(&mut conn, &r, &meta)
            .await
            .unwrap(),
        Returning::SignedIn(u) if u.nickname.as_deref() == Some("New Nick")
    ));
}

#[tokio::test]
async fn returning_sign_ins_of_disabled_or_unknown_identities_write_nothing() {
    let (store, url) = store().await;
    let ext = identity("off");
    let user = signed_up(&store, &ext).await;
    let patch = authgate_core::model::UserPatch {
        enabled: Some(false),
        ..Default::default()
    };
    store.update_user(user.id, &patch, 40).await.unwrap();
    let r = returning(&ext, true);
    assert!(matches!(
        store.sign_in_returning(&r).await.unwrap(),
        Returned::Disabled(u) if u.id == user.id
    ));
    let r2 = returning(&identity("nobody"), true);
    assert_eq!(
        store.sign_in_returning(&r2).await.unwrap(),
        Returned::NotBound
    );
    assert!(!session_exists(&url, &r.start.session.id).await);
    assert!(!session_exists(&url, &r2.start.session.id).await);
}

#[tokio::test]
async fn a_sign_up_leaves_out_values_another_user_holds_and_is_audited_in_order() {
    let (store, url) = store().await;
    let mut holder = new_user("Taken");
    holder.email = Some("taken@example.com".into());
    store.create_user(&holder, 1).await.unwrap();

    let ext = identity("newcomer");
    let mut new = new_user("taken");
    new.email = Some("taken@example.com".into());
    new.phone = Some("+8613800000000".into());
    let request = first(&ext, Some(new));
    let Resolved::SignedUp(user) = store.sign_in_first_time(&request).await.unwrap() else {
        panic!("not signed up");
    };
    assert_eq!(user.username, None);
    assert_eq!(user.email, None);
    assert_eq!(user.phone.as_deref(), Some("+8613800000000"));

    let (entries, _) = store
        .list_audit(&authgate_store::AuditQuery {
            user_id: Some(user.id),
            page: authgate_store::Page::new(1, 10),
            ..Default::default()
        })
        .await
        .unwrap();
    let events: Vec<&str> = entries.iter().map(|e| e.entry.event.as_str()).collect();
    assert_eq!(events, [event::SIGN_IN, event::SIGN_UP], "newest first");
    assert_eq!(entries[0].entry.detail["signedUp"], true);
    assert!(session_exists(&url, &request.start.session.id).await);
}

#[tokio::test]
async fn first_sign_ins_link_or_refuse_matching_users() {
    let (store, url) = store().await;
    let mut by_phone = new_user("phone-user");
    by_phone.phone = Some("+8613800000001".into());
    let by_phone = store.create_user(&by_phone, 1).await.unwrap();
    let mut by_email = new_user("email-user");
    by_email.email = Some("e@example.com".into());
    by_email.password_hash = Some("hash".into());
    let by_email = store.create_user(&by_email, 1).await.unwrap();
    let phone = MatchCandidate::Phone("+8613800000001".into());
    let email = MatchCandidate::Email {
        field: "orgEmail",
        value: "e@example.com".into(),
    };
    let with = |uuid: &str, candidates: Vec<MatchCandidate>| FirstSignIn {
        candidates,
        sign_up: Some(new_user(uuid)),
        ..first(&identity(uuid), None)
    };

    // Two users match: nothing is written.
    let both = with("both", vec![phone.clone(), email.clone()]);
    assert_eq!(
        store.sign_in_first_time(&both).await.unwrap(),
        Resolved::Ambiguous {
            fields: vec!["phone", "orgEmail"]
        }
    );
    // A user with a password is not linked when the option says so.
    let mut careful = with("careful", vec![email.clone()]);
    careful.link_requires_password = true;
    assert_eq!(
        store.sign_in_first_time(&careful).await.unwrap(),
        Resolved::LinkRefused {
            field: "orgEmail",
            admin: false
        }
    );
    // Linked by phone.
    let linked = with("linked", vec![phone.clone()]);
    assert_eq!(
        store.sign_in_first_time(&linked).await.unwrap(),
        Resolved::Linked {
            user: by_phone.clone(),
            field: "phone"
        }
    );
    assert!(session_exists(&url, &linked.start.session.id).await);
    // That user has a DingTalk identity now: another one is not linked to them.
    let other = with("other", vec![phone.clone()]);
    assert_eq!(
        store.sign_in_first_time(&other).await.unwrap(),
        Resolved::AlreadyLinked { field: "phone" }
    );
    // No match and no sign-up.
    let lost = FirstSignIn {
        sign_up: None,
        ..with("lost", Vec::new())
    };
    assert_eq!(
        store.sign_in_first_time(&lost).await.unwrap(),
        Resolved::NotFound
    );
    // An administrator is never linked by a match.
    let patch = authgate_core::model::UserPatch {
        is_admin: Some(true),
        ..Default::default()
    };
    store.update_user(by_email.id, &patch, 2).await.unwrap();
    let admin = with("admin", vec![email.clone()]);
    assert_eq!(
        store.sign_in_first_time(&admin).await.unwrap(),
        Resolved::LinkRefused {
            field: "orgEmail",
            admin: true
        }
    );
    assert_eq!(count(&url, "SELECT 1 FROM identities").await, 1);
    assert_eq!(count(&url, "SELECT 1 FROM users").await, 2);
}

#[tokio::test]
async fn identities_link_to_signed_in_users_once() {
    let (store, _) = store().await;
    let alice = store.create_user(&new_user("alice"), 1).await.unwrap();
    let bob = store.create_user(&new_user("bob"), 1).await.unwrap();
    let link = |user: i64, uuid: &str| {
        let ext = identity(uuid);
        let store = &store;
        async move {
            store
                .link_identity(user, &ext, &entry(event::IDENTITY_LINK), 5)
                .await
                .unwrap()
        }
    };
    assert_eq!(link(alice.id, "a1").await, LinkOutcome::Linked);
    assert_eq!(link(alice.id, "a1").await, LinkOutcome::AlreadyYours);
    assert_eq!(link(bob.id, "a1").await, LinkOutcome::LinkedToAnother);
    assert_eq!(link(alice.id, "a2").await, LinkOutcome::HasAnother);
    assert_eq!(link(999_999, "a3").await, LinkOutcome::UserGone);
    let identities = store.list_identities(alice.id).await.unwrap();
    assert_eq!(identities.len(), 1);
    assert_eq!(identities[0].meta["unionId"], "a1");
}

#[tokio::test]
async fn oauth_states_are_used_once() {
    let (store, _) = store().await;
    let state = |hash: &str, expires_at| OAuthState {
        state_hash: hash.into(),
        authenticator: "dingtalk".into(),
        redirect: "/".into(),
        binding_hash: "b".into(),
        created_at: 1,
        expires_at,
        link_user_id: Some(3),
    };
    store
        .create_oauth_state(&state("fresh", 100))
        .await
        .unwrap();
    store.create_oauth_state(&state("stale", 5)).await.unwrap();
    store.create_oauth_state(&state("old", 5)).await.unwrap();
    assert_eq!(
        store.consume_oauth_state("fresh", 10).await.unwrap(),
        ConsumedState::Valid(state("fresh", 100))
    );
    assert_eq!(
        store.consume_oauth_state("fresh", 10).await.unwrap(),
        ConsumedState::Unknown
    );
    assert_eq!(
        store.consume_oauth_state("stale", 10).await.unwrap(),
        ConsumedState::Expired(state("stale", 5))
    );
    assert_eq!(store.purge_expired_oauth_states(10).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failure_slots_are_shared_by_concurrent_attempts_and_lock() {
    let (store, _) = store().await;
    let store = Arc::new(store);
    let limit = FailureLimit {
        max_failures: 3,
        window_ms: 10_000,
        lock_ms: 500,
        max_lock_ms: 500,
    };
    let keys = vec![("user:a".to_string(), limit), ("ip:1".to_string(), limit)];
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (store, keys) = (store.clone(), keys.clone());
            tokio::spawn(async move { store.take_failure_slots(&keys, 100).await })
        })
        .collect();
    let mut taken = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            FailureSlots::Taken => taken += 1,
            FailureSlots::Busy => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(taken, 3, "as many checks as the limit allows");

    let failed: Vec<_> = keys
        .iter()
        .map(|(k, l)| (k.clone(), *l, Settle::Failed))
        .collect();
    for _ in 0..3 {
        store.settle_failure_slots(&failed, 110).await.unwrap();
    }
    let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(store.locked_until(&names, 120).await.unwrap(), Some(610));
    assert_eq!(store.locked_until(&names, 700).await.unwrap(), None);
    assert_eq!(
        store.take_failure_slots(&keys, 120).await.unwrap(),
        FailureSlots::Locked { until: 610 }
    );
    assert_eq!(store.purge_idle_failure_counters(700).await.unwrap(), 2);
}
