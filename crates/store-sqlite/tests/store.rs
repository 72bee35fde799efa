//! The SQLite store through its public interface, on a file in a temporary folder.

use authgate_core::audit::{event, NewAuditEntry, Outcome};
use authgate_core::failure_limit::{FailureLimit, Settle};
use authgate_core::model::{
    AuthenticatorPatch, IssuedToken, NewAuthenticator, NewUser, Session, UserPatch,
};
use authgate_store::prelude::*;
use authgate_store::{
    AuditQuery, ExternalIdentity, FailureSlots, FirstSignIn, LinkOutcome, MatchCandidate, Page,
    RenewOutcome, Resolved, Returned, ReturningSignIn, SessionQuery, SessionStart,
    SigningKeyRecord, StoreError, UserQuery, UserSort,
};
use authgate_store_sqlite::SqliteStore;

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("authgate.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    store
        .create_authenticator(
            &NewAuthenticator {
                name: "dingtalk".into(),
                auth_type: "dingtalk".into(),
                title: "DingTalk".into(),
                description: String::new(),
                options: Default::default(),
                enabled: true,
            },
            1,
        )
        .await
        .unwrap();
    (dir, store)
}

fn user(username: &str) -> NewUser {
    NewUser {
        username: Some(username.into()),
        enabled: true,
        ..Default::default()
    }
}

fn identity(uuid: &str, nickname: &str) -> ExternalIdentity {
    let mut meta = serde_json::Map::new();
    meta.insert("unionId".into(), uuid.into());
    ExternalIdentity {
        authenticator: "dingtalk".into(),
        uuid: uuid.into(),
        nickname: Some(nickname.into()),
        avatar: None,
        meta,
    }
}

/// A session `id` with token `id-t`, started at `at`.
fn start(id: &str, at: i64) -> SessionStart {
    SessionStart {
        session: Session {
            id: id.into(),
            user_id: 0,
            authenticator: "dingtalk".into(),
            signed_in_at: at,
            last_renewed_at: None,
            ip: Some("10.0.0.1".into()),
            user_agent: None,
            revoked_at: None,
        },
        token: IssuedToken {
            jti: format!("{id}-t"),
            session_id: id.into(),
            user_id: 0,
            issued_at: at,
            expires_at: at + 1000,
            renewed_to: None,
            renewed_at: None,
        },
        audit: NewAuditEntry {
            at,
            event: event::SIGN_IN.into(),
            outcome: Outcome::Success,
            user_id: None,
            actor_id: None,
            authenticator: Some("dingtalk".into()),
            ip: Some("10.0.0.1".into()),
            user_agent: None,
            reason: None,
            detail: Default::default(),
        },
    }
}

/// The first page of the audit log, newest first.
fn all_audit() -> AuditQuery {
    AuditQuery {
        page: Page::new(1, 50),
        ..Default::default()
    }
}

fn first_sign_in(ext: ExternalIdentity, candidates: Vec<MatchCandidate>) -> FirstSignIn {
    FirstSignIn {
        identity: ext,
        candidates,
        sync_profile: true,
        sign_up: Some(user("newcomer")),
        link_requires_password: false,
        start: start("s1", 10),
        now: 10,
    }
}

#[tokio::test]
async fn the_last_enabled_admin_is_kept() {
    let (_dir, store) = store().await;
    let admin = store
        .create_first_admin(&user("root"), 1)
        .await
        .unwrap()
        .unwrap();
    assert!(store
        .create_first_admin(&user("again"), 1)
        .await
        .unwrap()
        .is_none());
    let demote = UserPatch {
        is_admin: Some(false),
        ..Default::default()
    };
    let disable = UserPatch {
        enabled: Some(false),
        ..Default::default()
    };
    for patch in [&demote, &disable] {
        let e = store.update_user(admin.id, patch, 2).await.unwrap_err();
        assert!(matches!(e, StoreError::LastEnabledAdmin), "{e}");
    }
    let e = store.delete_user(admin.id).await.unwrap_err();
    assert!(matches!(e, StoreError::LastEnabledAdmin), "{e}");
    assert_eq!(store.count_enabled_admins().await.unwrap(), 1);
    // With a second administrator, the first may go.
    let second = store
        .create_user(
            &NewUser {
                is_admin: true,
                ..user("second")
            },
            3,
        )
        .await
        .unwrap();
    let demoted = store
        .update_user(admin.id, &demote, 4)
        .await
        .unwrap()
        .unwrap();
    assert!(!demoted.is_admin);
    assert_eq!(demoted.updated_at, 4);
    let e = store.delete_user(second.id).await.unwrap_err();
    assert!(matches!(e, StoreError::LastEnabledAdmin), "{e}");
}

#[tokio::test]
async fn a_unique_value_taken_is_a_conflict_naming_its_field() {
    let (_dir, store) = store().await;
    store.create_user(&user("Alice"), 1).await.unwrap();
    let e = store.create_user(&user("alice"), 1).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict("Username")), "{e}");
}

#[tokio::test]
async fn values_bind_by_their_number_whatever_their_order() {
    let (_dir, store) = store().await;
    let first = store.create_user(&user("first"), 1).await.unwrap();
    let second = store.create_user(&user("second"), 1).await.unwrap();
    // The UPDATE names the id (?1) last, after ?2, ?3 and ?4.
    assert!(store
        .set_password_hash(second.id, "hash", Some(5), 7)
        .await
        .unwrap());
    let changed = store.get_user(second.id).await.unwrap().unwrap();
    assert_eq!(changed.password_hash.as_deref(), Some("hash"));
    assert_eq!(changed.password_changed_at, Some(5));
    assert_eq!(changed.updated_at, 7);
    assert_eq!(store.get_user(first.id).await.unwrap().unwrap(), first);
    // A silent rehash keeps the time of the last change.
    store
        .set_password_hash(second.id, "rehash", None, 9)
        .await
        .unwrap();
    let rehashed = store.get_user(second.id).await.unwrap().unwrap();
    assert_eq!(rehashed.password_changed_at, Some(5));
    assert_eq!(rehashed.password_hash.as_deref(), Some("rehash"));
}

#[tokio::test]
async fn a_first_time_sign_up_leaves_out_values_another_user_holds() {
    let (_dir, store) = store().await;
    store
        .create_user(
            &NewUser {
                email: Some("a@example.com".into()),
                ..user("Alice")
            },
            1,
        )
        .await
        .unwrap();
    let mut sign_in = first_sign_in(
        identity("u1", "Al"),
        vec![MatchCandidate::Phone("+8613800000000".into())],
    );
    sign_in.sign_up = Some(NewUser {
        email: Some("a@example.com".into()),
        phone: Some("+8613800000000".into()),
        nickname: Some("Al".into()),
        ..user("alice")
    });
    let Resolved::SignedUp(new) = store.sign_in_first_time(&sign_in).await.unwrap() else {
        panic!("not signed up");
    };
    assert_eq!(new.username, None, "the username is taken (in any case)");
    assert_eq!(new.email, None, "the e-mail is taken");
    assert_eq!(new.phone.as_deref(), Some("+8613800000000"));
    let context = store.token_context("s1-t").await.unwrap().unwrap();
    assert_eq!(context.user.id, new.id);
    assert_eq!(context.session.user_id, new.id);
    let identities = store.list_identities(new.id).await.unwrap();
    assert_eq!(identities.len(), 1);
    assert_eq!(identities[0].meta["unionId"], "u1");
    let (audit, total) = store.list_audit(&all_audit()).await.unwrap();
    assert_eq!(total, 2);
    // Newest first: the sign-in, after the sign-up.
    assert_eq!(audit[0].entry.event, event::SIGN_IN);
    assert_eq!(audit[0].entry.detail["signedUp"], true);
    assert_eq!(audit[1].entry.event, event::SIGN_UP);
    assert!(audit.iter().all(|a| a.entry.user_id == Some(new.id)));
}

#[tokio::test]
async fn a_first_time_identity_is_linked_refused_or_ambiguous_by_its_candidates() {
    let (_dir, store) = store().await;
    let phone = "+8613800000001";
    let by_phone = store
        .create_user(
            &NewUser {
                phone: Some(phone.into()),
                ..user("bob")
            },
            1,
        )
        .await
        .unwrap();
    store
        .create_user(
            &NewUser {
                email: Some("c@example.com".into()),
                is_admin: true,
                ..user("carol")
            },
            1,
        )
        .await
        .unwrap();
    let email = |value: &str| MatchCandidate::Email {
        field: "orgEmail",
        value: value.into(),
    };
    let both = first_sign_in(
        identity("u2", "B"),
        vec![MatchCandidate::Phone(phone.into()), email("c@example.com")],
    );
    assert_eq!(
        store.sign_in_first_time(&both).await.unwrap(),
        Resolved::Ambiguous {
            fields: vec!["phone", "orgEmail"]
        }
    );
    let admin = first_sign_in(identity("u2", "B"), vec![email("c@example.com")]);
    assert_eq!(
        store.sign_in_first_time(&admin).await.unwrap(),
        Resolved::LinkRefused {
            field: "orgEmail",
            admin: true
        }
    );
    assert!(
        store.token_context("s1-t").await.unwrap().is_none(),
        "nothing written"
    );
    let linked = first_sign_in(
        identity("u2", "B"),
        vec![MatchCandidate::Phone(phone.into())],
    );
    let Resolved::Linked { user, field } = store.sign_in_first_time(&linked).await.unwrap() else {
        panic!("not linked");
    };
    assert_eq!((user.id, field), (by_phone.id, "phone"));
    // The same identity again is bound now: signed in as a returning user.
    let again = FirstSignIn {
        start: start("s2", 20),
        ..linked.clone()
    };
    let Resolved::Bound(bound) = store.sign_in_first_time(&again).await.unwrap() else {
        panic!("not bound");
    };
    assert_eq!(bound.id, user.id);
    assert_eq!(
        bound.nickname.as_deref(),
        Some("B"),
        "its profile is synced"
    );
    // Another identity of the same authenticator cannot take the same user.
    let other = first_sign_in(
        identity("u3", "B"),
        vec![MatchCandidate::Phone(phone.into())],
    );
    assert_eq!(
        store.sign_in_first_time(&other).await.unwrap(),
        Resolved::AlreadyLinked { field: "phone" }
    );
}

#[tokio::test]
async fn a_returning_sign_in_brings_a_changed_nickname_up_to_date_and_writes_the_session() {
    let (_dir, store) = store().await;
    let sign_up = first_sign_in(identity("u4", "Old"), Vec::new());
    let Resolved::SignedUp(new) = store.sign_in_first_time(&sign_up).await.unwrap() else {
        panic!("not signed up");
    };
    let returning = ReturningSignIn {
        identity: identity("u4", "New"),
        sync_profile: true,
        start: start("s2", 20),
        now: 20,
    };
    let Returned::SignedIn(signed_in) = store.sign_in_returning(&returning).await.unwrap() else {
        panic!("not signed in");
    };
    assert_eq!(signed_in.id, new.id);
    assert_eq!(signed_in.nickname.as_deref(), Some("New"));
    assert_eq!(signed_in.updated_at, 20);
    let identities = store.list_identities(new.id).await.unwrap();
    assert_eq!(identities[0].nickname.as_deref(), Some("New"));
    assert_eq!(identities[0].updated_at, 20);
    let context = store.token_context("s2-t").await.unwrap().unwrap();
    assert_eq!(context.user, signed_in);
    // Unchanged: nothing but the session is written.
    let unchanged = ReturningSignIn {
        start: start("s3", 30),
        now: 30,
        ..returning.clone()
    };
    let Returned::SignedIn(same) = store.sign_in_returning(&unchanged).await.unwrap() else {
        panic!("not signed in");
    };
    assert_eq!(same.updated_at, 20);
    assert!(store.token_context("s3-t").await.unwrap().is_some());
    // Disabled, or never bound: nothing is written.
    store
        .update_user(
            new.id,
            &UserPatch {
                enabled: Some(false),
                ..Default::default()
            },
            40,
        )
        .await
        .unwrap();
    let disabled = ReturningSignIn {
        start: start("s4", 40),
        ..returning.clone()
    };
    assert!(matches!(
        store.sign_in_returning(&disabled).await.unwrap(),
        Returned::Disabled(_)
    ));
    let stranger = ReturningSignIn {
        identity: identity("nobody", "N"),
        start: start("s5", 40),
        ..returning
    };
    assert_eq!(
        store.sign_in_returning(&stranger).await.unwrap(),
        Returned::NotBound
    );
    for jti in ["s4-t", "s5-t"] {
        assert!(store.token_context(jti).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn linking_from_an_account_reports_each_outcome() {
    let (_dir, store) = store().await;
    let alice = store.create_user(&user("alice"), 1).await.unwrap();
    let bob = store.create_user(&user("bob"), 1).await.unwrap();
    let audit = start("s", 1).audit;
    let link = |user_id, uuid: &'static str| {
        let store = &store;
        let audit = audit.clone();
        async move {
            store
                .link_identity(user_id, &identity(uuid, "x"), &audit, 2)
                .await
                .unwrap()
        }
    };
    assert_eq!(link(alice.id, "a").await, LinkOutcome::Linked);
    assert_eq!(link(alice.id, "a").await, LinkOutcome::AlreadyYours);
    assert_eq!(link(bob.id, "a").await, LinkOutcome::LinkedToAnother);
    assert_eq!(link(alice.id, "b").await, LinkOutcome::HasAnother);
    assert_eq!(link(999, "c").await, LinkOutcome::UserGone);
}

#[tokio::test]
async fn a_token_is_renewed_exactly_once() {
    let (_dir, store) = store().await;
    let alice = store.create_user(&user("alice"), 1).await.unwrap();
    let (session, token) = start("s", 1).for_user(alice.id);
    store.create_session(&session, &token, &[]).await.unwrap();
    let renewed = |jti: &str| IssuedToken {
        jti: jti.into(),
        ..token.clone()
    };
    assert_eq!(
        store.renew_token("s-t", &renewed("n1"), 5).await.unwrap(),
        RenewOutcome::Renewed
    );
    let RenewOutcome::AlreadyRenewed(winner) =
        store.renew_token("s-t", &renewed("n2"), 6).await.unwrap()
    else {
        panic!("renewed twice");
    };
    assert_eq!(winner.jti, "n1");
    assert_eq!(
        store.renew_token("none", &renewed("n3"), 6).await.unwrap(),
        RenewOutcome::Missing
    );
    let info = store.get_session("s").await.unwrap().unwrap();
    assert_eq!(info.session.last_renewed_at, Some(5));
    assert!(store.revoke_session("s", "test", None, 7).await.unwrap());
    assert!(!store.revoke_session("s", "test", None, 8).await.unwrap());
    let context = store.token_context("n1").await.unwrap().unwrap();
    assert_eq!(context.session.revoked_at, Some(7));
}

#[tokio::test]
async fn failure_slots_are_taken_settled_and_lock() {
    let (_dir, store) = store().await;
    let limit = FailureLimit {
        max_failures: 1,
        window_ms: 60_000,
        lock_ms: 1_000,
        max_lock_ms: 8_000,
    };
    let keys = vec![
        ("ip:1".to_string(), limit),
        ("account:a".to_string(), limit),
    ];
    assert_eq!(
        store.take_failure_slots(&keys, 100).await.unwrap(),
        FailureSlots::Taken
    );
    // The only slot is held by the attempt being checked.
    assert_eq!(
        store.take_failure_slots(&keys, 101).await.unwrap(),
        FailureSlots::Busy
    );
    let failed: Vec<_> = keys
        .iter()
        .map(|(k, l)| (k.clone(), *l, Settle::Failed))
        .collect();
    store.settle_failure_slots(&failed, 102).await.unwrap();
    let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(store.locked_until(&names, 103).await.unwrap(), Some(1_102));
    assert_eq!(
        store.take_failure_slots(&keys, 104).await.unwrap(),
        FailureSlots::Locked { until: 1_102 }
    );
    assert_eq!(store.locked_until(&names, 2_000).await.unwrap(), None);
    assert_eq!(store.purge_idle_failure_counters(1_000).await.unwrap(), 0);
    assert_eq!(store.purge_idle_failure_counters(10_000).await.unwrap(), 2);
}

#[tokio::test]
async fn repeated_failures_are_counted_on_one_audit_entry() {
    let (_dir, store) = store().await;
    let mut failure = start("s", 1).audit;
    failure.outcome = Outcome::Failure;
    failure.reason = Some("bad password".into());
    store.append_audit_merging(&failure, 0).await.unwrap();
    failure.at = 5;
    store.append_audit_merging(&failure, 0).await.unwrap();
    let (entries, total) = store.list_audit(&all_audit()).await.unwrap();
    assert_eq!(total, 1);
    assert_eq!(entries[0].entry.detail["repeated"], 1);
    assert_eq!(entries[0].entry.detail["lastAt"], 5);
    // Older than `since`: a row of its own.
    failure.at = 9;
    store.append_audit_merging(&failure, 6).await.unwrap();
    assert_eq!(store.list_audit(&all_audit()).await.unwrap().1, 2);
}

#[tokio::test]
async fn authenticators_keep_one_enabled_and_every_admin_a_way_in() {
    let (_dir, store) = store().await;
    let basic = store
        .create_authenticator(
            &NewAuthenticator {
                name: "basic".into(),
                auth_type: "password".into(),
                title: "Password".into(),
                description: String::new(),
                options: Default::default(),
                enabled: true,
            },
            1,
        )
        .await
        .unwrap();
    let dingtalk = store
        .get_authenticator_by_name("dingtalk")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((dingtalk.sort, basic.sort), (1, 2));
    store
        .create_first_admin(
            &NewUser {
                password_hash: Some("hash".into()),
                ..user("root")
            },
            1,
        )
        .await
        .unwrap();
    let disable = AuthenticatorPatch {
        enabled: Some(false),
        ..Default::default()
    };
    let e = store
        .update_authenticator(basic.id, &disable, 2)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::AdminsNeedPassword), "{e}");
    let e = store.delete_authenticator(basic.id).await.unwrap_err();
    assert!(matches!(e, StoreError::AdminsNeedPassword), "{e}");
    let disabled = store
        .update_authenticator(dingtalk.id, &disable, 3)
        .await
        .unwrap()
        .unwrap();
    assert!(!disabled.enabled);
    // Seen at once through the cache.
    let cached = store
        .get_authenticator_by_name("dingtalk")
        .await
        .unwrap()
        .unwrap();
    assert!(!cached.enabled);
    let e = store
        .update_authenticator(basic.id, &disable, 4)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::LastEnabledAuthenticator), "{e}");
    assert!(store
        .move_authenticator(basic.id, dingtalk.id, 5)
        .await
        .unwrap());
    let order: Vec<String> = store
        .list_authenticators()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(order, ["basic", "dingtalk"]);
    assert!(!store.move_authenticator(basic.id, 999, 6).await.unwrap());
    assert!(store.delete_authenticator(dingtalk.id).await.unwrap());
    assert!(store
        .get_authenticator_by_name("dingtalk")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn lists_filter_sort_and_count_their_rows() {
    let (_dir, store) = store().await;
    for name in ["ann", "a_b", "bob", "abe"] {
        store.create_user(&user(name), 1).await.unwrap();
    }
    let query = |search: &str, sort| UserQuery {
        search: Some(search.into()),
        sort,
        page: Page::new(1, 2),
        ..Default::default()
    };
    // `_` is a letter to search for, not a wildcard.
    let (found, total) = store
        .list_users(&query("A_", UserSort::IdAsc))
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(found[0].username.as_deref(), Some("a_b"));
    let (page, total) = store
        .list_users(&query("a", UserSort::UsernameDesc))
        .await
        .unwrap();
    assert_eq!(total, 3);
    let names: Vec<_> = page.iter().filter_map(|u| u.username.as_deref()).collect();
    assert_eq!(names, ["ann", "abe"]);

    let bob = store.find_user_by_account("BOB").await.unwrap().unwrap();
    for (id, at) in [("s1", 10), ("s2", 20)] {
        let (session, token) = start(id, at).for_user(bob.id);
        store.create_session(&session, &token, &[]).await.unwrap();
    }
    store
        .revoke_user_sessions(bob.id, Some("s2"), "test", None, 30)
        .await
        .unwrap();
    let active = SessionQuery {
        user_id: Some(bob.id),
        active_since: Some(0),
        page: Page::new(1, 10),
    };
    let (sessions, total) = store.list_sessions(&active).await.unwrap();
    assert_eq!(total, 1);
    assert_eq!(sessions[0].session.id, "s2");
    assert_eq!(sessions[0].username.as_deref(), Some("bob"));
}

#[tokio::test]
async fn settings_and_signing_keys_keep_the_first_value() {
    let (_dir, store) = store().await;
    assert_eq!(
        store
            .put_setting_if_absent("k", "first", false, 1)
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
    assert_eq!(
        store.get_setting("k").await.unwrap().as_deref(),
        Some("first")
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
    let active = |kid: &str, alg: &str| {
        let store = &store;
        let candidate = key(kid, alg);
        async move {
            store
                .ensure_active_signing_key(&candidate)
                .await
                .unwrap()
                .kid
        }
    };
    assert_eq!(active("a", "EdDSA").await, "a");
    assert_eq!(active("b", "EdDSA").await, "a");
    // One active key per algorithm: an RS256 key beside the EdDSA one.
    assert_eq!(active("r", "RS256").await, "r");
    assert_eq!(active("s", "RS256").await, "r");
    assert_eq!(store.list_signing_keys().await.unwrap().len(), 2);
    // A rotation retires the old key and keeps it; the other algorithm's is untouched.
    store
        .rotate_signing_key(&key("c", "EdDSA"), 5)
        .await
        .unwrap();
    assert_eq!(active("d", "EdDSA").await, "c");
    let keys = store.list_signing_keys().await.unwrap();
    let state = |kid: &str| {
        let k = keys.iter().find(|k| k.kid == kid).unwrap();
        (k.active, k.retired_at)
    };
    assert_eq!(keys.len(), 3);
    assert_eq!(state("a"), (false, Some(5)));
    assert_eq!(state("c"), (true, None));
    assert_eq!(state("r"), (true, None));
    assert_eq!(store.token_policy().await.unwrap(), Default::default());
}
