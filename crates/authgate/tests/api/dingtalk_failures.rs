//! Every way a DingTalk sign-in fails ends on the sign-in page with its own message, an
//! audit entry with the reason (and DingTalk's requestid), and nothing else written.

use crate::both_databases;
use crate::dingtalk_support::*;
use crate::support::*;
use fake_dingtalk::{Endpoint, Fault, FaultRule};
use serde_json::json;

async fn state_failures(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    let s = &env.s;
    let before = env.counts().await;

    // Unknown (forged) state.
    let mut b = Browser::new();
    let forged = b
        .callback(&format!("{}?authCode=abc&state=forged", env.redirect_url()))
        .await;
    let page = forged.signin_page().unwrap();
    assert_eq!((page.authenticator, page.redirect.as_str()), (None, "/"));
    env.assert_refused(
        &forged,
        before,
        "state_unknown",
        "invalid or was already used",
    )
    .await;

    // Expired: the state row outlived its 10 minutes.
    let url = b.get_auth_url(s, AUTHENTICATOR, Some("/after")).await;
    s.sql("UPDATE oauth_states SET expires_at = 1").await;
    let back = b.authorize(&url, "&login_as=alice").await;
    let expired = b.callback(&back).await;
    let page = expired.signin_page().unwrap();
    assert_eq!(
        (page.authenticator.as_deref(), page.redirect.as_str()),
        (Some(AUTHENTICATOR), "/after")
    );
    env.assert_refused(&expired, before, "state_expired", "expired")
        .await;

    // Another browser presents the callback (no binding cookie, or another one).
    let url = b.get_auth_url(s, AUTHENTICATOR, None).await;
    let back = b.authorize(&url, "&login_as=alice").await;
    let mut thief = Browser::new();
    thief.get_auth_url(s, AUTHENTICATOR, None).await;
    let foreign = thief.callback(&back).await;
    env.assert_refused(
        &foreign,
        env.counts().await,
        "state_foreign_browser",
        "another browser",
    )
    .await;
    // ...and that burnt the state: the rightful browser cannot use it afterwards either.
    let replay = b.callback(&back).await;
    env.assert_refused(&replay, before, "state_unknown", "already used")
        .await;

    // Reused after a successful sign-in.
    let url = b.get_auth_url(s, AUTHENTICATOR, None).await;
    let back = b.authorize(&url, "&login_as=zhangsan").await;
    assert_eq!(b.callback(&back).await.location, "/");
    let after = env.counts().await;
    let reused = b.callback(&back).await;
    env.assert_refused(&reused, after, "state_unknown", "already used")
        .await;

    // Missing code.
    let url = b.get_auth_url(s, AUTHENTICATOR, None).await;
    let missing = b
        .callback(&format!("{}?state={}", env.redirect_url(), state_of(&url)))
        .await;
    env.assert_refused(&missing, after, "missing_code", "no sign-in code")
        .await;

    // The user denied consent at DingTalk.
    let url = b.get_auth_url(s, AUTHENTICATOR, None).await;
    let back = b.authorize(&url, "&deny=1").await;
    assert!(back.contains("error=access_denied"));
    let denied = b.callback(&back).await;
    env.assert_refused(&denied, after, "consent_denied", "did not allow")
        .await;

    // In Chinese when the browser prefers it.
    b.accept_language = Some("zh-CN,zh;q=0.9,en;q=0.5".into());
    let url = b.get_auth_url(s, AUTHENTICATOR, None).await;
    s.sql("UPDATE oauth_states SET expires_at = 1").await;
    let back = b.authorize(&url, "&login_as=alice").await;
    let zh = b.callback(&back).await;
    env.assert_refused(&zh, after, "state_expired", "登录链接已过期")
        .await;
}

async fn state_of_one_authenticator_cannot_carry_another_apps_code(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    env.register_redirect("dingother", "other-secret-0123456789");
    env.create_authenticator(
        "dingtalk2",
        json!({"clientId": "dingother", "clientSecret": "other-secret-0123456789"}),
    )
    .await;
    let before = env.counts().await;
    let mut b = Browser::new();
    // The state belongs to `dingtalk`, the code to the other app.
    let url_a = b.get_auth_url(&env.s, AUTHENTICATOR, None).await;
    let url_b = b.get_auth_url(&env.s, "dingtalk2", None).await;
    let back_b = b.authorize(&url_b, "&login_as=alice").await;
    let swapped = format!(
        "{}?authCode={}&state={}",
        env.redirect_url(),
        query_param(&back_b, "authCode").unwrap(),
        state_of(&url_a)
    );
    let out = b.callback(&swapped).await;
    let page = out.signin_page().unwrap();
    assert_eq!(page.authenticator.as_deref(), Some(AUTHENTICATOR));
    let detail = env
        .assert_refused(
            &out,
            before,
            "invalid_code",
            "invalid, expired or was already used",
        )
        .await;
    assert!(detail["requestid"].is_string(), "{detail}");
}

async fn dingtalk_refusals(db: Db) {
    let env = DingEnv::start_with(
        db,
        json!({}),
        ServerOptions::default().env("AUTHGATE_DINGTALK_TIMEOUT", "400ms"),
    )
    .await;
    let s = &env.s;
    let before = env.counts().await;
    let mut b = Browser::new();

    // Wrong Client Secret.
    env.create_authenticator("wrongsecret", json!({"clientSecret": "not-the-secret"}))
        .await;
    let out = b.sign_in_as(s, "wrongsecret", "alice", None).await;
    let detail = env
        .assert_refused(
            &out,
            before,
            "invalid_client_credentials",
            "Client ID or Client Secret",
        )
        .await;
    assert_eq!(detail["dingtalkCode"], "invalidClientIdOrSecret");
    assert!(detail["requestid"].is_string());
    assert!(!out.location.contains("not-the-secret"));

    // A code used twice.
    let url = b.get_auth_url(s, AUTHENTICATOR, None).await;
    let back = b.authorize(&url, "&login_as=zhangsan").await;
    b.callback(&back).await;
    let after = env.counts().await;
    let url2 = b.get_auth_url(s, AUTHENTICATOR, None).await;
    let reused_code = format!(
        "{}?authCode={}&state={}",
        env.redirect_url(),
        query_param(&back, "authCode").unwrap(),
        state_of(&url2)
    );
    let out = b.callback(&reused_code).await;
    env.assert_refused(&out, after, "invalid_code", "already used")
        .await;

    // The app lacks a permission: named.
    env.fake.set_fault(
        FaultRule::new(Fault::PermissionDenied {
            required_scopes: vec!["Contact.User.mobile".into()],
        })
        .on(Endpoint::UsersMe)
        .times(1),
    );
    let out = b.sign_in_as(s, AUTHENTICATOR, "alice", None).await;
    let detail = env
        .assert_refused(&out, after, "permission_missing", "Contact.User.mobile")
        .await;
    assert_eq!(detail["requiredScopes"], json!(["Contact.User.mobile"]));

    // DingTalk unreachable, slow, 5xx, malformed.
    let cases = [
        (
            Fault::ConnectionReset,
            Endpoint::UserAccessToken,
            "dingtalk_unavailable",
            "did not answer in time or is unavailable",
        ),
        (
            Fault::Delay { ms: 1500 },
            Endpoint::UserAccessToken,
            "dingtalk_unavailable",
            "did not answer in time",
        ),
        (
            Fault::ServerError { status: 502 },
            Endpoint::UsersMe,
            "dingtalk_unavailable",
            "unavailable",
        ),
        (
            Fault::MalformedJson,
            Endpoint::UsersMe,
            "dingtalk_unexpected_answer",
            "unexpected answer",
        ),
    ];
    for (fault, endpoint, reason, message) in cases {
        env.fake
            .set_fault(FaultRule::new(fault.clone()).on(endpoint).times(1));
        let out = b.sign_in_as(s, AUTHENTICATOR, "alice", None).await;
        env.assert_refused(&out, after, reason, message).await;
        env.fake.clear_faults();
    }
    // The exchange was never retried after a failure.
    let exchanges = env.fake.requests_to(Endpoint::UserAccessToken).len();
    assert!(
        exchanges <= 8,
        "at most one exchange per sign-in attempt, got {exchanges}"
    );
}

async fn account_refusals(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    let s = &env.s;
    let mut b = Browser::new();
    let before = env.counts().await;

    // No phone number shared (no permission, or none on the account).
    env.fake.set_fault(FaultRule::new(Fault::MissingMobile));
    let out = b.sign_in_as(s, AUTHENTICATOR, "alice", None).await;
    env.assert_refused(&out, before, "no_phone", "did not share your phone number")
        .await;
    env.fake.clear_faults();
    let out = b.sign_in_as(s, AUTHENTICATOR, "carol.nomobile", None).await;
    let detail = env
        .assert_refused(&out, before, "no_phone", "Contact.User.mobile")
        .await;
    // The audit log names who was turned away.
    assert_eq!(
        (&detail["nick"], &detail["unionId"], &detail["userid"]),
        (
            &json!("Carol Chen"),
            &json!("cArOlNoMoBiLe0unionId9QiEiE"),
            &json!("carol.nomobile")
        ),
        "{detail}"
    );

    // A masked number is never matched, even when a user has exactly those digits.
    s.create_user(
        &env.admin,
        json!({"username": "bob", "phone": "15500003240"}),
    )
    .await;
    let before = env.counts().await;
    env.fake.set_fault(FaultRule::new(Fault::MaskedMobile));
    let out = b.sign_in_as(s, AUTHENTICATOR, "bob.noemail", None).await;
    env.assert_refused(&out, before, "masked_phone", "masked phone number")
        .await;
    env.fake.clear_faults();

    // Not a member of the app's organisation (getbyunionid 60121).
    let out = b.sign_in_as(s, AUTHENTICATOR, "eve.outsider", None).await;
    let detail = env
        .assert_refused(
            &out,
            before,
            "not_org_member",
            "not a member of the organisation",
        )
        .await;
    assert_eq!(detail["dingtalkCode"], "60121");
    assert_eq!(
        (&detail["nick"], &detail["unionId"]),
        (&json!("Eve Outsider"), &json!("eVeOuTsIdEr0unionIdM3QiEiE")),
        "{detail}"
    );

    // Nobody matches and sign-up is off.
    assert!(env
        .update_options(AUTHENTICATOR, json!({"autoSignup": false}))
        .await
        .status
        .is_success());
    let out = b.sign_in_as(s, AUTHENTICATOR, "zhangsan", None).await;
    env.assert_refused(&out, before, "user_not_found", "User not found")
        .await;

    // Two users match on different fields: refuse, never guess.
    s.create_user(
        &env.admin,
        json!({"username": "a1", "phone": "13800138000"}),
    )
    .await;
    s.create_user(
        &env.admin,
        json!({"username": "a2", "email": "alice@corp.example.com"}),
    )
    .await;
    assert!(env
        .update_options(AUTHENTICATOR, json!({"matchBy": ["phone", "orgEmail"]}))
        .await
        .status
        .is_success());
    let before = env.counts().await;
    let out = b.sign_in_as(s, AUTHENTICATOR, "alice", None).await;
    env.assert_refused(&out, before, "ambiguous_match", "more than one account")
        .await;

    // The organisation chosen at DingTalk is not among allowedCorpIds.
    assert!(env
        .update_options(
            AUTHENTICATOR,
            json!({"allowedCorpIds": ["dingcorp002"], "matchBy": ["phone"]})
        )
        .await
        .status
        .is_success());
    let out = b.sign_in_as(s, AUTHENTICATOR, "zhangsan", None).await;
    env.assert_refused(&out, before, "corp_not_allowed", "organisation you chose")
        .await;

    // A disabled authenticator's state.
    let url = b.get_auth_url(s, AUTHENTICATOR, None).await;
    let back = b.authorize(&url, "&login_as=alice").await;
    let id = env.authenticator_id(AUTHENTICATOR).await;
    s.post(
        &format!("/api/authenticators:update?filterByTk={id}"),
        Some(&env.admin),
        json!({"enabled": false}),
    )
    .await
    .assert_ok();
    let out = b.callback(&back).await;
    env.assert_refused(
        &out,
        before,
        "authenticator_unavailable",
        "no longer exists or was disabled",
    )
    .await;
}

async fn a_bound_user_who_was_disabled_is_refused(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    let s = &env.s;
    let id = s
        .create_user(
            &env.admin,
            json!({"username": "alicew", "phone": "+8613800138000"}),
        )
        .await;
    // Linked, then signed in again (which copies her DingTalk nickname): from now on nothing
    // about her changes between sign-ins.
    for _ in 0..2 {
        let out = Browser::new()
            .sign_in_as(s, AUTHENTICATOR, "alice", None)
            .await;
        assert_eq!(out.location, "/");
    }
    s.post(
        &format!("/api/users:update?filterByTk={id}"),
        Some(&env.admin),
        json!({"enabled": false}),
    )
    .await
    .assert_ok();
    let before = env.counts().await;
    let mut other = Browser::new();
    let out = other.sign_in_as(s, AUTHENTICATOR, "alice", None).await;
    env.assert_refused(&out, before, "user_disabled", "This account is disabled")
        .await;
    assert_eq!(
        s.sql_count(&format!(
            "SELECT COUNT(*) FROM issued_tokens WHERE user_id = {id}"
        ))
        .await,
        2,
        "no token for the refused sign-in"
    );

    // Enabled again, the same binding signs in.
    s.post(
        &format!("/api/users:update?filterByTk={id}"),
        Some(&env.admin),
        json!({"enabled": true}),
    )
    .await
    .assert_ok();
    let again = other.sign_in_as(s, AUTHENTICATOR, "alice", None).await;
    assert_eq!(again.location, "/");
    assert_eq!(other.whoami(s).await.body["data"]["id"], id);
}

both_databases!(
    a_bound_user_who_was_disabled_is_refused,
    state_failures,
    state_of_one_authenticator_cannot_carry_another_apps_code,
    dingtalk_refusals,
    account_refusals,
);
