//! The OpenID Connect provider's part of the SQLite store, through its public interface.

use authgate_core::audit::{event, NewAuditEntry, Outcome};
use authgate_core::model::{IssuedToken, NewUser, Session};
use authgate_store::prelude::*;
use authgate_store::{
    AuditQuery, CodeRedemption, GrantQuery, OidcClientRecord, OidcGrant, Page, RefreshTokenRecord,
    Rotation, StoreError,
};
use authgate_store_sqlite::SqliteStore;
use std::sync::Arc;

/// A migrated store with users `alice` and `bob`, each signed in (sessions `s-alice` and
/// `s-bob`), and clients `app` and `other`.
struct Fixture {
    dir: tempfile::TempDir,
    store: SqliteStore,
    alice: i64,
    bob: i64,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::connect(&url(&dir)).await.unwrap();
        store.migrate().await.unwrap();
        let mut ids = Vec::new();
        for name in ["alice", "bob"] {
            let user = NewUser {
                username: Some(name.into()),
                enabled: true,
                ..Default::default()
            };
            let id = store.create_user(&user, 1).await.unwrap().id;
            let (session, token) = session(&format!("s-{name}"), id);
            store.create_session(&session, &token, &[]).await.unwrap();
            ids.push(id);
        }
        for id in ["app", "other"] {
            store.create_oidc_client(&client(id, 1)).await.unwrap();
        }
        Fixture {
            dir,
            store,
            alice: ids[0],
            bob: ids[1],
        }
    }

    /// Another store on the same file: another process, as far as SQLite can tell.
    async fn another_process(&self) -> SqliteStore {
        SqliteStore::connect(&url(&self.dir)).await.unwrap()
    }
}

fn url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("authgate.db").display())
}

fn session(id: &str, user_id: i64) -> (Session, IssuedToken) {
    let session = Session {
        id: id.into(),
        user_id,
        authenticator: "basic".into(),
        signed_in_at: 1,
        last_renewed_at: None,
        ip: None,
        user_agent: None,
        revoked_at: None,
    };
    let token = IssuedToken {
        jti: format!("{id}-t"),
        session_id: id.into(),
        user_id,
        issued_at: 1,
        expires_at: 1_000,
        renewed_to: None,
        renewed_at: None,
    };
    (session, token)
}

fn client(id: &str, at: i64) -> OidcClientRecord {
    let mut settings = serde_json::Map::new();
    settings.insert(
        "redirectUris".into(),
        serde_json::json!([format!("https://{id}.example/cb")]),
    );
    OidcClientRecord {
        id: id.into(),
        name: format!("Client {id}"),
        secret_hash: Some("secret-hash".into()),
        settings,
        enabled: true,
        created_at: at,
        updated_at: at,
    }
}

/// Grant `id` of `client_id` to `user_id` (in session `s-alice` or `s-bob`), with code
/// `{id}-code`, valid until 100, the grant until 10,000.
fn grant(id: &str, client_id: &str, user_id: i64, session_id: &str) -> OidcGrant {
    OidcGrant {
        id: id.into(),
        client_id: client_id.into(),
        user_id,
        session_id: session_id.into(),
        offline: false,
        refreshable: true,
        scope: "openid profile".into(),
        claims: None,
        nonce: Some("n".into()),
        auth_time: 1,
        amr: "pwd".into(),
        redirect_uri: format!("https://{client_id}.example/cb"),
        code_challenge: Some("challenge".into()),
        code_hash: format!("{id}-code"),
        code_expires_at: 100,
        code_used_at: None,
        created_at: 10,
        expires_at: 10_000,
        revoked_at: None,
    }
}

fn refresh(hash: &str) -> RefreshTokenRecord {
    RefreshTokenRecord {
        hash: hash.into(),
        // The store takes the grant from the code.
        grant_id: String::new(),
        issued_at: 20,
        used_at: None,
    }
}

/// The audit entry of a grant given at 10.
fn granted() -> NewAuditEntry {
    NewAuditEntry {
        at: 10,
        event: event::OIDC_GRANT.into(),
        outcome: Outcome::Success,
        ..Default::default()
    }
}

/// Stores `g` and redeems its code at 20, with refresh token `{id}-r1`.
async fn redeemed(store: &SqliteStore, g: &OidcGrant) {
    store.create_grant(g, &granted()).await.unwrap();
    let r = refresh(&format!("{}-r1", g.id));
    let outcome = store
        .redeem_code(&g.code_hash, &g.client_id, Some(&r), 20)
        .await
        .unwrap();
    assert!(
        matches!(outcome, CodeRedemption::Redeemed { .. }),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn clients_are_created_read_updated_and_deleted() {
    let f = Fixture::new().await;
    let store = &f.store;
    let e = store
        .create_oidc_client(&client("app", 2))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict("clientId")), "{e}");
    assert_eq!(
        store.get_oidc_client("app").await.unwrap(),
        Some(client("app", 1))
    );
    // An absence read (and cached) is forgotten by the creation.
    assert_eq!(store.get_oidc_client("late").await.unwrap(), None);
    store.create_oidc_client(&client("late", 0)).await.unwrap();
    assert!(store.get_oidc_client("late").await.unwrap().is_some());
    let ids: Vec<String> = store
        .list_oidc_clients()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["late", "app", "other"], "by creation");

    let changed = OidcClientRecord {
        name: "Renamed".into(),
        secret_hash: None,
        enabled: false,
        updated_at: 5,
        ..client("app", 1)
    };
    assert!(store.update_oidc_client(&changed).await.unwrap());
    assert_eq!(store.get_oidc_client("app").await.unwrap(), Some(changed));
    assert!(!store
        .update_oidc_client(&client("nobody", 5))
        .await
        .unwrap());
    assert!(store.delete_oidc_client("late").await.unwrap());
    assert!(!store.delete_oidc_client("late").await.unwrap());
    assert_eq!(store.get_oidc_client("late").await.unwrap(), None);
}

#[tokio::test]
async fn a_code_is_redeemed_once_and_a_reuse_revokes_its_grant() {
    let f = Fixture::new().await;
    let store = &f.store;
    let g = grant("g1", "app", f.alice, "s-alice");
    store.create_grant(&g, &granted()).await.unwrap();
    // The grant's audit entry is written with it.
    let (entries, total) = store
        .list_audit(&AuditQuery {
            event: Some(event::OIDC_GRANT.into()),
            page: Page::new(1, 10),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((total, entries[0].entry.at), (1, 10));
    // Another client's attempt changes nothing.
    let r1 = refresh("r1");
    assert_eq!(
        store
            .redeem_code("g1-code", "other", Some(&r1), 20)
            .await
            .unwrap(),
        CodeRedemption::Unknown
    );
    let CodeRedemption::Redeemed {
        context,
        refresh_issued,
    } = store
        .redeem_code("g1-code", "app", Some(&r1), 20)
        .await
        .unwrap()
    else {
        panic!("not redeemed");
    };
    assert!(refresh_issued);
    assert_eq!(context.grant.code_used_at, Some(20));
    assert_eq!(context.grant.revoked_at, None);
    assert_eq!(context.user.username.as_deref(), Some("alice"));
    assert!(!context.session_revoked);
    let (token, live) = store.refresh_token_context("r1").await.unwrap().unwrap();
    assert_eq!((token.grant_id.as_str(), token.used_at), ("g1", None));
    assert_eq!(live, context);

    assert_eq!(
        store.redeem_code("g1-code", "app", None, 30).await.unwrap(),
        CodeRedemption::Reused {
            grant_id: "g1".into()
        }
    );
    let (_, revoked) = store.refresh_token_context("r1").await.unwrap().unwrap();
    assert_eq!(revoked.grant.revoked_at, Some(30));
    assert_eq!(
        store
            .rotate_refresh_token("r1", "app", "r2", 40)
            .await
            .unwrap(),
        Rotation::Unknown,
        "a token of a revoked grant"
    );
}

#[tokio::test]
async fn expired_unknown_and_unrefreshable_codes() {
    let f = Fixture::new().await;
    let store = &f.store;
    store
        .create_grant(&grant("g1", "app", f.alice, "s-alice"), &granted())
        .await
        .unwrap();
    assert_eq!(
        store
            .redeem_code("g1-code", "app", None, 100)
            .await
            .unwrap(),
        CodeRedemption::Unknown,
        "expired"
    );
    assert_eq!(
        store.redeem_code("nothing", "app", None, 20).await.unwrap(),
        CodeRedemption::Unknown
    );
    // Neither used nor revoked by those: redeemable until it expires.
    let CodeRedemption::Redeemed { context, .. } =
        store.redeem_code("g1-code", "app", None, 99).await.unwrap()
    else {
        panic!("not redeemed");
    };
    assert_eq!(context.grant.revoked_at, None);

    let fixed = OidcGrant {
        refreshable: false,
        ..grant("g2", "app", f.alice, "s-alice")
    };
    store.create_grant(&fixed, &granted()).await.unwrap();
    let CodeRedemption::Redeemed { refresh_issued, .. } = store
        .redeem_code("g2-code", "app", Some(&refresh("r")), 20)
        .await
        .unwrap()
    else {
        panic!("not redeemed");
    };
    assert!(!refresh_issued);
    assert_eq!(store.refresh_token_context("r").await.unwrap(), None);
}

#[tokio::test]
async fn a_refresh_token_is_rotated_once_and_a_reuse_revokes_the_family() {
    let f = Fixture::new().await;
    let store = &f.store;
    redeemed(store, &grant("g1", "app", f.alice, "s-alice")).await;
    assert_eq!(
        store
            .rotate_refresh_token("g1-r1", "other", "x", 30)
            .await
            .unwrap(),
        Rotation::Unknown,
        "another client's"
    );
    assert_eq!(
        store
            .rotate_refresh_token("none", "app", "x", 30)
            .await
            .unwrap(),
        Rotation::Unknown
    );
    let Rotation::Rotated(context) = store
        .rotate_refresh_token("g1-r1", "app", "g1-r2", 30)
        .await
        .unwrap()
    else {
        panic!("not rotated");
    };
    assert_eq!(context.grant.id, "g1");
    let (old, _) = store.refresh_token_context("g1-r1").await.unwrap().unwrap();
    assert_eq!(old.used_at, Some(30));
    let (new, _) = store.refresh_token_context("g1-r2").await.unwrap().unwrap();
    assert_eq!((new.issued_at, new.used_at), (30, None));

    assert_eq!(
        store
            .rotate_refresh_token("g1-r1", "app", "g1-r3", 40)
            .await
            .unwrap(),
        Rotation::Reused {
            grant_id: "g1".into()
        }
    );
    let (_, family) = store.refresh_token_context("g1-r2").await.unwrap().unwrap();
    assert_eq!(family.grant.revoked_at, Some(40));
    assert_eq!(
        store
            .rotate_refresh_token("g1-r2", "app", "g1-r3", 50)
            .await
            .unwrap(),
        Rotation::Unknown,
        "the family is revoked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_redemptions_and_rotations_succeed_once_across_processes() {
    let f = Fixture::new().await;
    let stores = [
        Arc::new(f.another_process().await),
        Arc::new(f.another_process().await),
    ];
    let g = grant("g1", "app", f.alice, "s-alice");
    f.store.create_grant(&g, &granted()).await.unwrap();
    let redemptions: Vec<_> = (0..16)
        .map(|n| {
            let store = stores[n % 2].clone();
            tokio::spawn(async move {
                let r = refresh(&format!("r{n}"));
                store.redeem_code("g1-code", "app", Some(&r), 20).await
            })
        })
        .collect();
    let mut redeemed = 0;
    for task in redemptions {
        match task.await.unwrap().unwrap() {
            CodeRedemption::Redeemed { .. } => redeemed += 1,
            CodeRedemption::Reused { .. } => {}
            CodeRedemption::Unknown => panic!("the code is known"),
        }
    }
    assert_eq!(redeemed, 1);

    redeemed_fresh_and_rotated_once(&f, &stores).await;
}

/// 16 rotations of one refresh token at once, from two processes: one wins.
async fn redeemed_fresh_and_rotated_once(f: &Fixture, stores: &[Arc<SqliteStore>; 2]) {
    redeemed(&f.store, &grant("g2", "app", f.alice, "s-alice")).await;
    let rotations: Vec<_> = (0..16)
        .map(|n| {
            let store = stores[n % 2].clone();
            tokio::spawn(async move {
                store
                    .rotate_refresh_token("g2-r1", "app", &format!("g2-n{n}"), 30)
                    .await
            })
        })
        .collect();
    let mut rotated = 0;
    for task in rotations {
        if let Rotation::Rotated(_) = task.await.unwrap().unwrap() {
            rotated += 1;
        }
    }
    assert_eq!(rotated, 1);
}

#[tokio::test]
async fn access_token_contexts_see_local_revocations_at_once() {
    let f = Fixture::new().await;
    let store = &f.store;
    redeemed(store, &grant("g1", "app", f.alice, "s-alice")).await;
    let none = store.access_token_context("j1", None).await.unwrap();
    assert!(!none.revoked && none.grant.is_none());
    let context = store.access_token_context("j1", Some("g1")).await.unwrap();
    assert!(!context.revoked);
    assert_eq!(context.grant.as_ref().unwrap().grant.id, "g1");
    assert!(store
        .access_token_context("j1", Some("unknown"))
        .await
        .unwrap()
        .grant
        .is_none());

    store.revoke_access_token("j1", 500).await.unwrap();
    assert!(
        store
            .access_token_context("j1", Some("g1"))
            .await
            .unwrap()
            .revoked
    );
    assert!(
        store
            .access_token_context("j1", None)
            .await
            .unwrap()
            .revoked
    );

    // Cached, then revoked here: seen at once.
    let before = store.access_token_context("j2", Some("g1")).await.unwrap();
    assert!(!before.grant.unwrap().session_revoked);
    store
        .revoke_session("s-alice", "test", None, 60)
        .await
        .unwrap();
    let after = store.access_token_context("j2", Some("g1")).await.unwrap();
    assert!(after.grant.unwrap().session_revoked);
    assert!(store.revoke_grant("g1", 70).await.unwrap());
    assert!(!store.revoke_grant("g1", 71).await.unwrap());
    let revoked = store.access_token_context("j2", Some("g1")).await.unwrap();
    assert_eq!(revoked.grant.unwrap().grant.revoked_at, Some(70));
}

#[tokio::test]
async fn removing_access_revokes_grants_and_forgets_the_consent() {
    let f = Fixture::new().await;
    let store = &f.store;
    for (id, client_id) in [("g1", "app"), ("g2", "app"), ("g3", "other")] {
        redeemed(store, &grant(id, client_id, f.alice, "s-alice")).await;
    }
    redeemed(store, &grant("g4", "app", f.bob, "s-bob")).await;
    for client_id in ["app", "other"] {
        store
            .save_consent(f.alice, client_id, "openid", 5)
            .await
            .unwrap();
    }
    store
        .save_consent(f.alice, "app", "openid email", 6)
        .await
        .unwrap();
    assert_eq!(
        store.consent(f.alice, "app").await.unwrap().as_deref(),
        Some("openid email"),
        "replaced"
    );
    assert_eq!(store.consent(f.bob, "app").await.unwrap(), None);

    assert_eq!(
        store
            .revoke_user_grants(f.alice, Some("app"), 50)
            .await
            .unwrap(),
        2
    );
    assert_eq!(store.consent(f.alice, "app").await.unwrap(), None);
    assert!(store.consent(f.alice, "other").await.unwrap().is_some());
    assert_eq!(
        store
            .revoke_user_grants(f.alice, Some("app"), 51)
            .await
            .unwrap(),
        0
    );
    // Without a client: every grant of the user's, consents kept.
    assert_eq!(
        store.revoke_user_grants(f.alice, None, 52).await.unwrap(),
        1
    );
    assert!(store.consent(f.alice, "other").await.unwrap().is_some());
    let (_, bobs) = store.refresh_token_context("g4-r1").await.unwrap().unwrap();
    assert_eq!(bobs.grant.revoked_at, None, "another user's grant");
}

#[tokio::test]
async fn live_redeemed_grants_are_listed_newest_first() {
    let f = Fixture::new().await;
    let store = &f.store;
    let at = |g: OidcGrant, created_at: i64| OidcGrant { created_at, ..g };
    redeemed(store, &at(grant("a1", "app", f.alice, "s-alice"), 11)).await;
    redeemed(store, &at(grant("a2", "other", f.alice, "s-alice"), 12)).await;
    redeemed(store, &at(grant("b1", "app", f.bob, "s-bob"), 13)).await;
    // Left out: a code not redeemed, a revoked grant, an expired one.
    store
        .create_grant(&grant("pending", "app", f.alice, "s-alice"), &granted())
        .await
        .unwrap();
    redeemed(store, &grant("revoked", "app", f.alice, "s-alice")).await;
    store.revoke_grant("revoked", 30).await.unwrap();
    let expired = OidcGrant {
        expires_at: 999,
        ..grant("expired", "app", f.alice, "s-alice")
    };
    redeemed(store, &expired).await;

    let list = |user_id, client_id: Option<&str>| {
        let query = GrantQuery {
            user_id,
            client_id: client_id.map(str::to_string),
            session_id: None,
            now: 1_000,
        };
        async move {
            store
                .list_grants(&query)
                .await
                .unwrap()
                .into_iter()
                .map(|g| g.grant_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(None, None).await, ["b1", "a2", "a1"]);
    assert_eq!(list(Some(f.alice), None).await, ["a2", "a1"]);
    assert_eq!(list(None, Some("app")).await, ["b1", "a1"]);
    assert_eq!(list(Some(f.alice), Some("app")).await, ["a1"]);
    let in_session = store
        .list_grants(&GrantQuery {
            session_id: Some("s-bob".into()),
            now: 1_000,
            ..GrantQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        in_session
            .iter()
            .map(|g| g.grant_id.as_str())
            .collect::<Vec<_>>(),
        ["b1"]
    );
    let summary = &store
        .list_grants(&GrantQuery {
            user_id: Some(f.bob),
            client_id: None,
            session_id: None,
            now: 1_000,
        })
        .await
        .unwrap()[0];
    assert_eq!(summary.client_name, "Client app");
    assert_eq!(summary.username.as_deref(), Some("bob"));
    assert_eq!((summary.created_at, summary.expires_at), (13, 10_000));
}

#[tokio::test]
async fn deleting_a_client_deletes_its_grants_tokens_and_consents() {
    let f = Fixture::new().await;
    let store = &f.store;
    redeemed(store, &grant("g1", "app", f.alice, "s-alice")).await;
    redeemed(store, &grant("g2", "other", f.alice, "s-alice")).await;
    store
        .save_consent(f.alice, "app", "openid", 5)
        .await
        .unwrap();
    let cached = store.access_token_context("j", Some("g1")).await.unwrap();
    assert!(cached.grant.is_some());

    assert!(store.delete_oidc_client("app").await.unwrap());
    assert_eq!(store.refresh_token_context("g1-r1").await.unwrap(), None);
    assert_eq!(store.consent(f.alice, "app").await.unwrap(), None);
    assert!(store
        .access_token_context("j", Some("g1"))
        .await
        .unwrap()
        .grant
        .is_none());
    assert!(store
        .refresh_token_context("g2-r1")
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn expired_grants_and_revoked_tokens_are_purged() {
    let f = Fixture::new().await;
    let store = &f.store;
    redeemed(store, &grant("g1", "app", f.alice, "s-alice")).await;
    store.revoke_access_token("j1", 500).await.unwrap();
    store.revoke_access_token("j2", 20_000).await.unwrap();
    assert_eq!(store.purge_expired_oidc(600).await.unwrap(), 1);
    assert!(
        store
            .access_token_context("j2", None)
            .await
            .unwrap()
            .revoked
    );
    assert_eq!(store.purge_expired_oidc(10_001).await.unwrap(), 1);
    assert_eq!(store.refresh_token_context("g1-r1").await.unwrap(), None);
}
