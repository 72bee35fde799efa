//! The browser "Sign in with DingTalk" round trip against the fake DingTalk, and what
//! authgate sent to DingTalk on the way.

use crate::both_databases;
use crate::dingtalk_support::*;
use crate::support::*;
use fake_dingtalk::{Endpoint, DEFAULT_CLIENT_SECRET};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

async fn first_sign_in_links_by_phone_and_the_second_reuses_the_binding(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    let s = &env.s;
    // Another spelling of alice's DingTalk number (13800138000, stateCode 86).
    let id = s
        .create_user(
            &env.admin,
            json!({"username": "alicew", "phone": "+86 138-0013-8000"}),
        )
        .await;
    let users_before = env.counts().await.0;

    let mut browser = Browser::new();
    let auth_url = browser
        .get_auth_url(s, AUTHENTICATOR, Some("/dashboard?tab=1"))
        .await;
    // The exact authorize URL of the reference 1.1.
    let state = state_of(&auth_url);
    assert_eq!(state.len(), 22, "128-bit nonce");
    let expected = format!(
        "{}oauth2/auth?redirect_uri={}&response_type=code&client_id=dingdemo&scope=openid&state={state}&prompt=consent",
        env.fake.base_url(),
        url::form_urlencoded::byte_serialize(env.redirect_url().as_bytes()).collect::<String>()
    );
    assert_eq!(auth_url, expected);
    let binding = browser
        .cookies
        .get("authgate_dingtalk_binding")
        .cloned()
        .expect("binding cookie");
    assert_ne!(binding, state);
    // Only hashes are stored.
    let stored = s
        .sql_text("SELECT state_hash || ' ' || binding_hash FROM oauth_states")
        .await
        .unwrap();
    assert!(!stored.contains(&state) && !stored.contains(&binding));

    let back = browser.authorize(&auth_url, "&login_as=alice").await;
    let done = browser.callback(&back).await;
    assert_eq!(done.location, "/dashboard?tab=1");
    assert!(!done.location.contains("token="));
    let me = browser.whoami(s).await;
    me.assert_ok();
    assert_eq!(me.body["data"]["id"], id);
    assert_eq!(me.body["data"]["authenticator"], AUTHENTICATOR);
    assert_eq!(env.counts().await.0, users_before, "linked, not signed up");

    // What authgate sent to DingTalk: the JSON body of the exchange and the token header.
    let exchange = env.fake.requests_to(Endpoint::UserAccessToken);
    assert_eq!(exchange.len(), 1);
    assert!(exchange[0]
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let code = query_param(&back, "authCode").unwrap();
    assert_eq!(
        exchange[0].json().unwrap(),
        json!({"clientId": "dingdemo", "clientSecret": DEFAULT_CLIENT_SECRET, "code": code, "grantType": "authorization_code"})
    );
    let me_calls = env.fake.requests_to(Endpoint::UsersMe);
    assert_eq!(me_calls.len(), 1);
    assert!(me_calls[0]
        .header("x-acs-dingtalk-access-token")
        .is_some_and(|t| !t.is_empty()));
    // restrictToOrg (default on) asked getbyunionid with the app token.
    let lookup = env.fake.requests_to(Endpoint::GetByUnionId);
    assert_eq!(lookup.len(), 1);
    assert_eq!(
        lookup[0].json().unwrap(),
        json!({"unionid": "aLiCe0unionIdQvHZqQiEiE"})
    );
    assert!(lookup[0].query_param("access_token").is_some());

    // The identity keeps DingTalk's ids and profile.
    let meta = s.sql_text("SELECT meta FROM identities").await.unwrap();
    let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    assert_eq!(meta["unionId"], "aLiCe0unionIdQvHZqQiEiE");
    assert_eq!(meta["userid"], "alice");
    assert_eq!(meta["nick"], "Alice Wang");
    assert!(meta["openId"].is_string() && meta["avatar"].is_string());
    assert_eq!(
        s.sql_text("SELECT uuid FROM identities").await.unwrap(),
        "aLiCe0unionIdQvHZqQiEiE"
    );
    let (result, _, detail) = env.last_sign_in_audit().await;
    assert_eq!(result, "success");
    assert_eq!(detail["linkedBy"], "phone");

    // A second sign-in (another browser) reuses the binding.
    let mut other = Browser::new();
    let again = other.sign_in_as(s, AUTHENTICATOR, "alice", None).await;
    assert_eq!(again.location, "/");
    assert_eq!(other.whoami(s).await.body["data"]["id"], id);
    let (users, identities, _) = env.counts().await;
    assert_eq!((users, identities), (users_before, 1));
    // The second sign-in copied her DingTalk nickname; a third changes nothing about her and
    // still writes its own session, token and audit entry.
    let mut third = Browser::new();
    assert_eq!(
        third
            .sign_in_as(s, AUTHENTICATOR, "alice", None)
            .await
            .location,
        "/"
    );
    assert_eq!(third.whoami(s).await.body["data"]["id"], id);
    assert_eq!(
        s.sql_count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE user_id = {id}"
        ))
        .await,
        3
    );
    assert_eq!(
        s.sql_count(&format!(
            "SELECT COUNT(*) FROM issued_tokens WHERE user_id = {id}"
        ))
        .await,
        3
    );
    assert_eq!(
        s.sql_count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE event = 'auth.signIn' AND user_id = {id} \
             AND authenticator = '{AUTHENTICATOR}' AND result = 'success'"
        ))
        .await,
        3
    );
    let (result, _, detail) = env.last_sign_in_audit().await;
    assert_eq!(result, "success");
    assert_eq!(
        detail,
        json!({"via": "web"}),
        "neither linked nor signed up"
    );
    // The code was never retried, nor the state reusable.
    assert_eq!(env.fake.requests_to(Endpoint::UserAccessToken).len(), 3);
    assert_eq!(s.sql_count("SELECT COUNT(*) FROM oauth_states").await, 0);
}

/// Sign-ins started and never finished leave their states: expired ones are deleted in the
/// background (at start and then every minute), live ones kept.
async fn expired_states_are_deleted_in_the_background(db: Db) {
    let mut env = DingEnv::start(db, json!({})).await;
    let mut browser = Browser::new();
    for _ in 0..3 {
        browser.get_auth_url(&env.s, AUTHENTICATOR, None).await;
    }
    let count = "SELECT COUNT(*) FROM oauth_states";
    assert_eq!(env.s.sql_count(count).await, 3);
    env.s
        .sql(
            "UPDATE oauth_states SET expires_at = 1 WHERE state_hash IN \
             (SELECT state_hash FROM oauth_states ORDER BY state_hash LIMIT 2)",
        )
        .await;
    env.s.restart().await;
    let since = std::time::Instant::now();
    while env.s.sql_count(count).await != 1 {
        assert!(
            since.elapsed() < Duration::from_secs(5),
            "not deleted: {}",
            env.s.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let live = "SELECT COUNT(*) FROM oauth_states WHERE expires_at > 1";
    assert_eq!(env.s.sql_count(live).await, 1, "the live state is kept");
}

async fn sign_up_when_nothing_matches(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    let mut browser = Browser::new();
    let done = browser
        .sign_in_as(&env.s, AUTHENTICATOR, "zhangsan", Some("/"))
        .await;
    assert_eq!(done.location, "/");
    let me = browser.whoami(&env.s).await;
    me.assert_ok();
    assert_eq!(me.body["data"]["nickname"], "张三");
    assert_eq!(me.body["data"]["phone"], "+8613900139000");
    // Only the organisation e-mail is trusted enough to keep.
    assert_eq!(me.body["data"]["email"], "zhangsan@corp.example.com");
    assert_eq!(me.body["data"]["hasPassword"], false);
    assert_eq!(env.counts().await.1, 1);
    let (_, _, detail) = env.last_sign_in_audit().await;
    assert_eq!(detail["signedUp"], true);
}

async fn sign_up_leaves_out_a_phone_or_email_another_user_holds(db: Db) {
    // Matched by organisation e-mail only: zhangsan's phone, held by someone else, is no match.
    let env = DingEnv::start(db, json!({"matchBy": ["orgEmail"]})).await;
    let s = &env.s;
    let holder = s
        .create_user(
            &env.admin,
            json!({"username": "holder", "phone": "+8613900139000", "email": "wangwu@corp.example.com"}),
        )
        .await;
    let users_before = env.counts().await.0;
    let mut browser = Browser::new();
    browser.sign_in_as(s, AUTHENTICATOR, "zhangsan", None).await;
    let me = browser.whoami(s).await;
    assert_ne!(me.body["data"]["id"], holder);
    assert_eq!(me.body["data"]["nickname"], "张三");
    assert!(me.body["data"]["phone"].is_null(), "{}", me.body);
    assert_eq!(me.body["data"]["email"], "zhangsan@corp.example.com");

    // Matched by phone only: wangwu's organisation e-mail is the holder's.
    env.create_authenticator("byphone", json!({"matchBy": ["phone"]}))
        .await;
    let mut wangwu = env.fake_user("zhangsan");
    wangwu.userid = "wangwu".into();
    wangwu.union_id = "union-wangwu".into();
    wangwu.nick = Some("王五".into());
    wangwu.mobile = Some("13700137000".into());
    wangwu.org_email = Some("wangwu@corp.example.com".into());
    env.add_user(wangwu);
    let mut browser = Browser::new();
    browser.sign_in_as(s, "byphone", "wangwu", None).await;
    let me = browser.whoami(s).await;
    assert_ne!(me.body["data"]["id"], holder);
    assert_eq!(me.body["data"]["nickname"], "王五");
    assert_eq!(me.body["data"]["phone"], "+8613700137000");
    assert!(me.body["data"]["email"].is_null(), "{}", me.body);
    assert_eq!(env.counts().await.0, users_before + 2);
}

async fn dave_with_a_us_number_is_matched_in_e164(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    let id = env
        .s
        .create_user(
            &env.admin,
            json!({"username": "dave", "phone": "+1 (415) 555-0123"}),
        )
        .await;
    let mut browser = Browser::new();
    browser
        .sign_in_as(&env.s, AUTHENTICATOR, "dave.us", None)
        .await;
    assert_eq!(browser.whoami(&env.s).await.body["data"]["id"], id);
}

async fn open_redirect_payloads_fall_back_to_root(db: Db) {
    let env = DingEnv::start_with(
        db,
        json!({}),
        ServerOptions::default().env(
            "AUTHGATE_ALLOWED_REDIRECT_ORIGINS",
            "https://app.example.com",
        ),
    )
    .await;
    let s = &env.s;
    let cases = [
        ("//evil.com/x", "/"),
        ("/\\evil.com", "/"),
        ("https://evil.com/", "/"),
        ("https://app.example.com.evil.com/", "/"),
        ("javascript:alert(1)", "/"),
        ("http://app.example.com/", "/"),
        ("/ok?x=1", "/ok?x=1"),
        (
            "https://app.example.com/home",
            "https://app.example.com/home",
        ),
    ];
    for (payload, expected) in cases {
        s.sql("DELETE FROM oauth_states").await;
        let mut b = Browser::new();
        b.get_auth_url(s, AUTHENTICATOR, Some(payload)).await;
        assert_eq!(
            s.sql_text("SELECT redirect FROM oauth_states")
                .await
                .unwrap(),
            expected,
            "{payload}"
        );
    }
    // And the whole round trip lands on `/`.
    let mut b = Browser::new();
    let done = b
        .sign_in_as(s, AUTHENTICATOR, "zhangsan", Some("//evil.com"))
        .await;
    assert_eq!(done.location, "/");
}

async fn token_in_redirect_only_with_the_option(db: Db) {
    let env = DingEnv::start(db, json!({"tokenInRedirect": true})).await;
    let mut b = Browser::new();
    let done = b
        .sign_in_as(&env.s, AUTHENTICATOR, "zhangsan", Some("/app?x=1"))
        .await;
    assert!(
        done.location
            .starts_with("/app?x=1&authenticator=dingtalk&token="),
        "{}",
        done.location
    );
    let token = query_param(&format!("http://h{}", done.location), "token").unwrap();
    let me = env.s.get("/api/auth:check", Some(&token)).await;
    assert_eq!(me.body["data"]["nickname"], "张三");
}

async fn get_auth_url_refuses_bad_requests(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    let s = &env.s;
    let mut b = Browser::new();
    let no_header = b
        .authgate(
            reqwest::Method::POST,
            &s.url("/api/dingtalk:getAuthUrl"),
            &[],
            Some(json!({})),
        )
        .await;
    assert_eq!(no_header.status, StatusCode::BAD_REQUEST);
    let basic = b
        .authgate(
            reqwest::Method::POST,
            &s.url("/api/dingtalk:getAuthUrl"),
            &[("x-authenticator", "basic")],
            Some(json!({})),
        )
        .await;
    assert_eq!(basic.status, StatusCode::BAD_REQUEST);
    assert!(basic.message().contains("not a DingTalk authenticator"));
    let wrong_type = b
        .authgate(
            reqwest::Method::POST,
            &s.url("/api/dingtalk:getAuthUrl"),
            &[("x-authenticator", AUTHENTICATOR)],
            Some(json!({"redirect": 5})),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    // A callback with garbage never answers 5xx.
    for q in [
        "",
        "?state=",
        "?state=%ff%fe&authCode=x",
        "?authCode=a&authCode=b&state=zz",
    ] {
        let r = b
            .authgate(
                reqwest::Method::GET,
                &format!("{}{q}", env.redirect_url()),
                &[],
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::FOUND, "{q}");
    }
    // The route is documented.
    let doc = s.get("/api/openapi.json", None).await;
    for p in [
        "/api/dingtalk:getAuthUrl",
        "/api/dingtalk:redirect",
        "/api/dingtalk:testConnection",
        "/api/dingtalk:signInInClient",
    ] {
        assert!(
            doc.body["paths"].get(p).is_some(),
            "{p} missing from openapi.json"
        );
    }
}

both_databases!(
    first_sign_in_links_by_phone_and_the_second_reuses_the_binding,
    expired_states_are_deleted_in_the_background,
    sign_up_when_nothing_matches,
    sign_up_leaves_out_a_phone_or_email_another_user_holds,
    dave_with_a_us_number_is_matched_in_e164,
    open_redirect_payloads_fall_back_to_root,
    token_in_redirect_only_with_the_option,
    get_auth_url_refuses_bad_requests,
);
