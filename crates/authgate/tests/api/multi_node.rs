//! Two authgate nodes on one PostgreSQL database, as behind a load balancer: whatever one node
//! does, the other honours (at once, or within the 1 s DESIGN promises).

use crate::dingtalk_support::*;
use crate::postgres_only;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

/// Shared by every node of a deployment (each node has its own data folder).
pub const SHARED_SECRET_KEY: &str = "bm9kZXMtc2hhcmUtdGhpcy1rZXktMDEyMzQ1Njc4OTA=";

/// The address of the load balancer in front of the nodes (their shared public URL; tests
/// deliver what is sent there to one node or the other).
pub const LOAD_BALANCER: &str = "http://authgate.lb.test";

/// The promise: a change made on one node reaches the others within this.
const PROPAGATION: Duration = Duration::from_secs(1);

/// What every node of the deployment shares: the secret key and the public URL.
pub fn node_options() -> ServerOptions {
    ServerOptions {
        secret_key: Some(SHARED_SECRET_KEY.into()),
        ..Default::default()
    }
    .env("AUTHGATE_PUBLIC_URL", LOAD_BALANCER)
}

async fn two_nodes(db: Db) -> (Server, Server) {
    let a = Server::start_with(db, node_options()).await;
    let b = a.start_node(node_options()).await;
    (a, b)
}

/// Polls `done` until it holds; returns how long after `since` it first held. Panics when it
/// still does not hold well past the promise (the exact figure is asserted by the caller).
async fn first_true<F, Fut>(since: Instant, mut done: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    loop {
        if done().await {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < PROPAGATION * 5,
            "the change never reached the other node"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The time a poll may add to the promise: one round trip after the change became visible.
fn within_promise(took: Duration, what: &str) {
    assert!(
        took <= PROPAGATION + Duration::from_millis(300),
        "{what} took {took:?} to reach the other node"
    );
}

async fn dingtalk_sign_in_started_on_one_node_completes_on_the_other(db: Db) {
    let env = DingEnv::start_with(db, json!({}), node_options()).await;
    let b = env.start_node().await;
    let before = env.counts().await;
    let mut browser = Browser::new();
    let url = browser
        .get_auth_url(&env.s, AUTHENTICATOR, Some("/after"))
        .await;
    let back = browser.authorize(&url, "&login_as=zhangsan").await;
    // The load balancer sends DingTalk's redirect back to the other node.
    let done = browser.callback(&at_node(&back, &b.base)).await;
    assert_eq!(done.location, "/after", "{done:?}");
    let me = browser.whoami(&b).await;
    me.assert_ok();
    assert_eq!(me.body["data"]["nickname"], "张三");
    // Node A knows the session too, and exactly one user, identity and session were written.
    assert_eq!(browser.whoami(&env.s).await.status, StatusCode::OK);
    assert_eq!(
        env.counts().await,
        (before.0 + 1, before.1 + 1, before.2 + 1)
    );
    // The state was consumed on B: replaying the callback on A is refused.
    let replay = browser.callback(&at_node(&back, &env.s.base)).await;
    env.assert_refused(&replay, env.counts().await, "state_unknown", "already used")
        .await;
}

async fn revocation_on_one_node_is_refused_on_the_other(db: Db) {
    let (a, b) = two_nodes(db).await;
    let admin = a.admin_token().await;
    // Signed on A, accepted on B: the signing key is shared through the database.
    let token = a.sign_in("admin", ADMIN_PASSWORD).await;
    b.get("/api/auth:check", Some(&token)).await.assert_ok();
    // Sign-out on A.
    a.post("/api/auth:signOut", Some(&token), json!({}))
        .await
        .assert_ok();
    let since = Instant::now();
    let took = first_true(since, || async {
        b.get("/api/auth:check", Some(&token)).await.status == StatusCode::UNAUTHORIZED
    })
    .await;
    within_promise(took, "sign-out");
    // An admin revoking every session of a user on B reaches A.
    let other = a.sign_in("admin", ADMIN_PASSWORD).await;
    a.get("/api/auth:check", Some(&other)).await.assert_ok();
    let uid = jwt_claims(&other)["userId"].as_i64().unwrap();
    b.post(
        &format!("/api/sessions:revokeUser?userId={uid}"),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_ok();
    let since = Instant::now();
    let took = first_true(since, || async {
        a.get("/api/auth:check", Some(&other)).await.status == StatusCode::UNAUTHORIZED
    })
    .await;
    within_promise(took, "revoking a user's sessions");
}

async fn a_token_renewed_on_one_node_is_not_renewed_again_on_the_other(db: Db) {
    let (a, b) = two_nodes(db).await;
    let admin = a.admin_token().await;
    a.post(
        "/api/tokenPolicies:update",
        Some(&admin),
        json!({"config": {"tokenExpirationTime": "2s", "sessionExpirationTime": "1h", "expiredTokenRenewLimit": "1h"}}),
    )
    .await
    .assert_ok();
    tokio::time::sleep(PROPAGATION).await;
    let token = b.sign_in("admin", ADMIN_PASSWORD).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // Both nodes at once, several times each.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let node = if i % 2 == 0 { a.url("") } else { b.url("") };
        let http = a.http.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let r = http
                .get(format!("{node}/api/auth:check"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.headers()["x-new-token"].to_str().unwrap().to_string()
        }));
    }
    let mut renewed = Vec::new();
    for t in tasks {
        renewed.push(t.await.unwrap());
    }
    assert!(renewed.iter().all(|t| *t == renewed[0]), "{renewed:?}");
    assert_ne!(renewed[0], token);
    // Later, on either node, the old token still maps to that one renewal.
    for node in [&a, &b] {
        let again = node.get("/api/auth:check", Some(&token)).await;
        assert_eq!(again.header("x-new-token"), Some(renewed[0].as_str()));
    }
    assert_eq!(
        a.sql_count("SELECT COUNT(*) FROM audit_log WHERE event = 'auth.tokenRenew'")
            .await,
        1
    );
}

async fn policy_and_authenticator_changes_reach_the_other_node(db: Db) {
    let (a, b) = two_nodes(db).await;
    let admin = a.admin_token().await;
    // B has the default policy (1 day) in its cache.
    let t = b.sign_in("admin", ADMIN_PASSWORD).await;
    let lifetime = |t: &str| {
        let c = jwt_claims(t);
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap()
    };
    assert_eq!(lifetime(&t), 86_400);
    a.post(
        "/api/tokenPolicies:update",
        Some(&admin),
        json!({"config": {"tokenExpirationTime": "1h", "sessionExpirationTime": "7d", "expiredTokenRenewLimit": "1d"}}),
    )
    .await
    .assert_ok();
    let since = Instant::now();
    let took = first_true(since, || async {
        lifetime(&b.sign_in("admin", ADMIN_PASSWORD).await) == 3600
    })
    .await;
    within_promise(took, "the token policy");

    // A second password authenticator, used on B, then disabled on A.
    a.post(
        "/api/authenticators:create",
        Some(&admin),
        json!({"name": "staff", "authType": "password", "title": "Staff"}),
    )
    .await
    .assert_ok();
    let id = a
        .sql_count("SELECT id FROM authenticators WHERE name = 'staff'")
        .await;
    assert_eq!(
        b.sign_in_reply("staff", "admin", ADMIN_PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
    a.post(
        &format!("/api/authenticators:update?filterByTk={id}"),
        Some(&admin),
        json!({"enabled": false}),
    )
    .await
    .assert_ok();
    let since = Instant::now();
    let took = first_true(since, || async {
        b.sign_in_reply("staff", "admin", ADMIN_PASSWORD)
            .await
            .status
            == StatusCode::BAD_REQUEST
    })
    .await;
    within_promise(took, "disabling an authenticator");
}

async fn failure_limits_count_across_nodes(db: Db) {
    let opts = node_options().env("AUTHGATE_IP_MAX_FAILURES", "8");
    let a = Server::start_with(db, opts.clone()).await;
    let b = a.start_node(opts).await;
    // Five wrong passwords for one account, alternating nodes: the account is locked on both.
    for i in 0..5 {
        let node = if i % 2 == 0 { &a } else { &b };
        let r = node.sign_in_reply("basic", "admin", "wrong-password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    for node in [&a, &b] {
        let r = node.sign_in_reply("basic", "admin", ADMIN_PASSWORD).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
        assert!(r.header("retry-after").is_some());
    }
    // Per IP: three more failures on other accounts (8 in all from this address), spread
    // over both nodes, and then every account from this address is refused on both.
    for (i, account) in ["u1", "u2", "u3"].iter().enumerate() {
        let node = if i % 2 == 0 { &b } else { &a };
        let r = node.sign_in_reply("basic", account, "whatever-pw").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{account}");
    }
    for node in [&a, &b] {
        let r = node.sign_in_reply("basic", "someone", "whatever-pw").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    }
}

async fn keys_and_client_secrets_sealed_by_one_node_are_read_by_the_other(db: Db) {
    let env = DingEnv::start_with(db, json!({}), node_options()).await;
    let b = env.start_node().await;
    // One signing key per algorithm (Ed25519, RSA), published identically by both.
    let jwks_a = env.s.get("/.well-known/jwks.json", None).await;
    let jwks_b = b.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks_a.body, jwks_b.body);
    let types: Vec<_> = jwks_a.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kty"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, ["OKP", "RSA"]);
    // A token B signs is accepted by A.
    let token = b.sign_in("admin", ADMIN_PASSWORD).await;
    env.s.get("/api/auth:check", Some(&token)).await.assert_ok();
    // The client secret was sealed by A (the authenticator was created there) ...
    let sealed = env
        .s
        .sql_text("SELECT options FROM authenticators WHERE name = 'dingtalk'")
        .await
        .unwrap();
    assert!(!sealed.contains(fake_dingtalk::DEFAULT_CLIENT_SECRET));
    // ... and B opens it: its test connection and a whole sign-in use the secret.
    let tested = b
        .post(
            "/api/dingtalk:testConnection",
            Some(&env.admin),
            json!({"authenticator": AUTHENTICATOR}),
        )
        .await;
    tested.assert_ok();
    assert_eq!(tested.body["data"]["ok"], true, "{}", tested.text);
    let mut browser = Browser::new();
    let done = browser
        .sign_in_as(&b, AUTHENTICATOR, "alice", Some("/x"))
        .await;
    assert_eq!(done.location, "/x", "{done:?}");
    // A secret changed on B is read by A.
    let id = env.authenticator_id(AUTHENTICATOR).await;
    env.fake
        .add_app(
            fake_dingtalk::FakeApp::new(
                fake_dingtalk::DEFAULT_CLIENT_ID,
                "rotated-secret-0123456789",
            )
            .with_corp_id(fake_dingtalk::DEFAULT_CORP_ID)
            .with_redirect_uri(env.redirect_url()),
        )
        .unwrap();
    b.post(
        &format!("/api/authenticators:update?filterByTk={id}"),
        Some(&env.admin),
        json!({"options": {"clientSecret": "rotated-secret-0123456789"}}),
    )
    .await
    .assert_ok();
    tokio::time::sleep(PROPAGATION).await;
    let mut browser = Browser::new();
    let done = browser
        .sign_in_as(&env.s, AUTHENTICATOR, "bob.noemail", None)
        .await;
    assert_eq!(done.location, "/", "{done:?}");
}

postgres_only!(
    dingtalk_sign_in_started_on_one_node_completes_on_the_other,
    revocation_on_one_node_is_refused_on_the_other,
    a_token_renewed_on_one_node_is_not_renewed_again_on_the_other,
    policy_and_authenticator_changes_reach_the_other_node,
    failure_limits_count_across_nodes,
    keys_and_client_secrets_sealed_by_one_node_are_read_by_the_other,
);
