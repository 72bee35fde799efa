//! Linking DingTalk to existing accounts safely (attack campaign: an admin whose phone matched
//! a DingTalk member's was linked and signed in as that admin on the member's first sign-in).
//! Automatic linking never reaches an administrator, can require the account's password,
//! and people link and unlink DingTalk themselves from "My account".

use crate::both_databases;
use crate::dingtalk_support::*;
use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// alice's DingTalk number (stateCode 86).
const ALICE_PHONE: &str = "+8613800138000";

const PASSWORD: &str = "alice-Passw0rd!";

async fn an_administrator_is_never_linked_automatically(db: Db) {
    // Someone from another company (restrictToOrg off) whose phone is the admin's; someone
    // whose personal, unverified e-mail is the admin's (matchBy email).
    for (options, admin_field, dingtalk_user) in [
        (
            json!({"restrictToOrg": false}),
            json!({"phone": "+8613700137000"}),
            "eve.outsider",
        ),
        (
            json!({"matchBy": ["email"]}),
            json!({"email": "alice@example.com"}),
            "alice",
        ),
    ] {
        let env = DingEnv::start(db, options).await;
        let s = &env.s;
        s.post(
            "/api/users:update?filterByTk=1",
            Some(&env.admin),
            admin_field,
        )
        .await
        .assert_ok();
        let before = env.counts().await;
        let mut b = Browser::new();
        let out = b.sign_in_as(s, AUTHENTICATOR, dingtalk_user, None).await;
        env.assert_refused(
            &out,
            before,
            "admin_not_linked",
            "never linked automatically",
        )
        .await;
        assert!(b.token().is_none(), "not signed in as the admin");
    }
}

async fn linking_can_require_the_accounts_password(db: Db) {
    let env = DingEnv::start(db, json!({"linkRequiresPassword": true})).await;
    let s = &env.s;
    let alice = s
        .create_user(
            &env.admin,
            json!({"username": "alicew", "phone": ALICE_PHONE, "password": PASSWORD}),
        )
        .await;
    let before = env.counts().await;
    let mut b = Browser::new();
    let out = b.sign_in_as(s, AUTHENTICATOR, "alice", None).await;
    env.assert_refused(
        &out,
        before,
        "link_needs_password",
        "sign in with that password once",
    )
    .await;
    // The password once, then "Link" on My account: from then on DingTalk signs her in.
    let mut b = signed_in(s, "alicew", PASSWORD).await;
    let out = link_from_account(&mut b, s, "alice").await;
    assert_eq!(out.location, "/");
    let mut later = Browser::new();
    later.sign_in_as(s, AUTHENTICATOR, "alice", None).await;
    assert_eq!(later.whoami(s).await.body["data"]["id"], alice);
    // Someone without a password is still linked by phone as before.
    let zhang = s
        .create_user(
            &env.admin,
            json!({"username": "zhangw", "phone": "+8613900139000"}),
        )
        .await;
    let mut b = Browser::new();
    b.sign_in_as(s, AUTHENTICATOR, "zhangsan", None).await;
    assert_eq!(b.whoami(s).await.body["data"]["id"], zhang);
}

/// A browser signed in with a password.
async fn signed_in(s: &Server, account: &str, password: &str) -> Browser {
    let mut b = Browser::new();
    b.authgate(
        Method::POST,
        &s.url("/api/auth:signIn"),
        &[("x-authenticator", "basic")],
        Some(json!({"account": account, "password": password})),
    )
    .await
    .assert_ok();
    b
}

/// "Link" on My account: getAuthUrl with `link`, DingTalk as `userid`, the callback.
async fn link_from_account(b: &mut Browser, s: &Server, userid: &str) -> Outcome {
    let csrf = b.cookies.get("authgate_csrf").cloned().unwrap();
    let r = b
        .authgate(
            Method::POST,
            &s.url("/api/dingtalk:getAuthUrl"),
            &[("x-authenticator", AUTHENTICATOR), ("x-csrf-token", &csrf)],
            Some(json!({"redirect": "/", "link": true})),
        )
        .await;
    r.assert_ok();
    let url = r.body["data"]["url"].as_str().unwrap().to_string();
    let back = b.authorize(&url, &format!("&login_as={userid}")).await;
    b.callback(&at_node(&back, &s.base)).await
}

async fn people_link_and_unlink_dingtalk_themselves(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    let s = &env.s;
    // Not signed in: no linking.
    let mut stranger = Browser::new();
    let r = stranger
        .authgate(
            Method::POST,
            &s.url("/api/dingtalk:getAuthUrl"),
            &[("x-authenticator", AUTHENTICATOR)],
            Some(json!({"link": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);

    // A session older than ten minutes signs in again first (a stolen token must not turn
    // into a lasting way in).
    let old_session = s.admin_token().await;
    s.sql("UPDATE sessions SET signed_in_at = signed_in_at - 660000")
        .await;
    let r = s
        .http
        .post(s.url("/api/dingtalk:getAuthUrl"))
        .bearer_auth(&old_session)
        .header("x-authenticator", AUTHENTICATOR)
        .json(&json!({"link": true}))
        .send()
        .await
        .unwrap();
    let r = Reply::from(r).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "SIGN_IN_AGAIN"),
        "{}",
        r.text
    );

    // The admin links zhangsan's DingTalk account to their own.
    let mut admin = signed_in(s, "admin", ADMIN_PASSWORD).await;
    let page = admin.authgate(Method::GET, &s.url("/"), &[], None).await;
    assert!(page.text.contains("link-dingtalk"), "a Link button");
    let out = link_from_account(&mut admin, s, "zhangsan").await;
    assert_eq!(out.location, "/");
    let page = admin.authgate(Method::GET, &s.url("/"), &[], None).await;
    assert!(
        !page.text.contains("link-dingtalk"),
        "linked: no Link button"
    );
    assert!(page.text.contains("class=\"unlink\""));
    let audited = s
        .sql_count(
            "SELECT COUNT(*) FROM audit_log WHERE event = 'auth.linkIdentity' AND user_id = 1",
        )
        .await;
    assert_eq!(audited, 1);
    let mut dingtalk = Browser::new();
    dingtalk
        .sign_in_as(s, AUTHENTICATOR, "zhangsan", None)
        .await;
    assert_eq!(dingtalk.whoami(s).await.body["data"]["id"], 1);

    // alice signs up through DingTalk; her DingTalk account cannot be linked to the admin too,
    // and the admin, linked already, cannot link a second one of this authenticator.
    let mut alice = Browser::new();
    alice.sign_in_as(s, AUTHENTICATOR, "alice", None).await;
    let alice_id = alice.whoami(s).await.body["data"]["id"].as_i64().unwrap();
    let out = link_from_account(&mut admin, s, "alice").await;
    assert!(
        out.location.contains("linkError=linked_elsewhere"),
        "{out:?}"
    );
    let shown = shown_link_error(&mut admin, s, &out).await;
    assert!(
        shown.contains("already linked to another account"),
        "{shown}"
    );

    // alice has no password: unlinking her only way in is refused.
    let identity = s
        .sql_count(&format!(
            "SELECT id FROM identities WHERE user_id = {alice_id}"
        ))
        .await;
    let csrf = alice.cookies.get("authgate_csrf").cloned().unwrap();
    let unlink = |id: i64| format!("/api/auth:unlinkIdentity?identityId={id}");
    let r = alice
        .authgate(
            Method::POST,
            &s.url(&unlink(identity)),
            &[("x-csrf-token", &csrf)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.message().contains("only way you can sign in"));
    // Nobody unlinks someone else's identity.
    let admins_identity = s
        .sql_count("SELECT id FROM identities WHERE user_id = 1")
        .await;
    let r = alice
        .authgate(
            Method::POST,
            &s.url(&unlink(admins_identity)),
            &[("x-csrf-token", &csrf)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    // The admin (who has a password) unlinks theirs; zhangsan's next sign-in is a first one.
    let csrf = admin.cookies.get("authgate_csrf").cloned().unwrap();
    admin
        .authgate(
            Method::POST,
            &s.url(&unlink(admins_identity)),
            &[("x-csrf-token", &csrf)],
            None,
        )
        .await
        .assert_ok();
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM identities WHERE user_id = 1")
            .await,
        0
    );
}

/// An administrator who signs in only through DingTalk (the password authenticator is off)
/// cannot unlink that account, nor have it unlinked: nobody could sign in as them after.
async fn an_administrator_keeps_a_way_in(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    let s = &env.s;
    let mut admin = signed_in(s, "admin", ADMIN_PASSWORD).await;
    link_from_account(&mut admin, s, "zhangsan").await;
    let basic = env.authenticator_id("basic").await;
    s.post(
        &format!("/api/authenticators:update?filterByTk={basic}"),
        Some(&env.admin),
        json!({"enabled": false}),
    )
    .await
    .assert_ok();
    let identity = s
        .sql_count("SELECT id FROM identities WHERE user_id = 1")
        .await;
    let csrf = admin.cookies.get("authgate_csrf").cloned().unwrap();
    let r = admin
        .authgate(
            Method::POST,
            &s.url(&format!("/api/auth:unlinkIdentity?identityId={identity}")),
            &[("x-csrf-token", &csrf)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = s
        .post(
            &format!("/api/users:unlinkIdentity?filterByTk=1&identityId={identity}"),
            Some(&env.admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(
        r.message().starts_with("An administrator signs in only"),
        "{}",
        r.message()
    );
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM identities WHERE user_id = 1")
            .await,
        1
    );
}

/// The message My account shows for `?linkError=`.
async fn shown_link_error(b: &mut Browser, s: &Server, out: &Outcome) -> String {
    let page = b
        .authgate(Method::GET, &s.url(&out.location), &[], None)
        .await;
    let start = page.text.find("id=\"link-error\">").expect("a link error") + 16;
    page.text[start..].split("</p>").next().unwrap().to_string()
}

both_databases!(
    an_administrator_is_never_linked_automatically,
    linking_can_require_the_accounts_password,
    people_link_and_unlink_dingtalk_themselves,
    an_administrator_keeps_a_way_in,
);
