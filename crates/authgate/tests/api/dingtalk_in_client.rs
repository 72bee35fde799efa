//! Login-free sign-in inside the DingTalk client, and the admin's "Test connection".

use crate::both_databases;
use crate::dingtalk_support::*;
use crate::support::*;
use fake_dingtalk::{Endpoint, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use reqwest::StatusCode;
use serde_json::json;

async fn post_code(env: &DingEnv, token: Option<&str>, body: serde_json::Value) -> Reply {
    let mut req = env
        .s
        .http
        .post(env.s.url("/api/dingtalk:signInInClient"))
        .header("x-authenticator", AUTHENTICATOR)
        .json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    Reply::from(req.send().await.unwrap()).await
}

async fn switching_accounts_signs_in_the_new_one_never_the_old(db: Db) {
    let env = DingEnv::start(
        db,
        json!({"autoLoginInClient": true, "corpId": "dingcorp001"}),
    )
    .await;
    let code_a = env
        .fake
        .mint_in_client_code(DEFAULT_CLIENT_ID, "alice")
        .unwrap();
    let a = post_code(&env, None, json!({"code": code_a})).await;
    a.assert_ok();
    assert_eq!(a.body["data"]["user"]["nickname"], "Alice Wang");
    let token_a = a.body["data"]["token"].as_str().unwrap().to_string();
    assert!(a
        .headers
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("authgate_token=")));
    // getuserinfo was called with the app token and the code.
    let info = env.fake.requests_to(Endpoint::GetUserInfo);
    assert_eq!(info[0].json().unwrap(), json!({"code": code_a}));

    // The DingTalk client switched to zhangsan; the page still holds alice's token.
    let code_b = env
        .fake
        .mint_in_client_code(DEFAULT_CLIENT_ID, "zhangsan")
        .unwrap();
    let b = post_code(&env, Some(&token_a), json!({"code": code_b})).await;
    b.assert_ok();
    assert_eq!(b.body["data"]["user"]["nickname"], "张三");
    let token_b = b.body["data"]["token"].as_str().unwrap();
    assert_eq!(
        env.s.get("/api/auth:check", Some(token_b)).await.body["data"]["nickname"],
        "张三"
    );
    let old = env.s.get("/api/auth:check", Some(&token_a)).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    assert_eq!(old.code(), "BLOCKED_TOKEN");

    // Body `authenticator` instead of the header.
    let code = env
        .fake
        .mint_in_client_code(DEFAULT_CLIENT_ID, "alice")
        .unwrap();
    let r = env
        .s
        .post(
            "/api/dingtalk:signInInClient",
            None,
            json!({"code": code, "authenticator": AUTHENTICATOR}),
        )
        .await;
    assert_eq!(r.body["data"]["user"]["nickname"], "Alice Wang");
}

async fn in_client_refusals(db: Db) {
    let env = DingEnv::start(db, json!({"autoLoginInClient": true})).await;
    let before = env.counts().await;
    let missing = post_code(&env, None, json!({})).await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::BAD_REQUEST, "DINGTALK_MISSING_CODE")
    );
    let forged = post_code(&env, None, json!({"code": "forged"})).await;
    assert_eq!(
        (forged.status, forged.code()),
        (StatusCode::UNAUTHORIZED, "DINGTALK_INVALID_CODE")
    );
    let code = env
        .fake
        .mint_in_client_code(DEFAULT_CLIENT_ID, "zhangsan")
        .unwrap();
    post_code(&env, None, json!({"code": code}))
        .await
        .assert_ok();
    let before_reuse = env.counts().await;
    let reused = post_code(&env, None, json!({"code": code})).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(env.counts().await, before_reuse);
    let (_, reason, _) = env.last_sign_in_audit().await;
    assert_eq!(reason, "invalid_code");
    let wrong_type = post_code(&env, None, json!({"code": 5})).await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    // Login-free is off on this one.
    env.create_authenticator("plain", json!({})).await;
    let code = env
        .fake
        .mint_in_client_code(DEFAULT_CLIENT_ID, "alice")
        .unwrap();
    let off = env
        .s
        .post(
            "/api/dingtalk:signInInClient",
            None,
            json!({"code": code, "authenticator": "plain"}),
        )
        .await;
    assert_eq!(off.status, StatusCode::FORBIDDEN);
    assert!(off.message().contains("not enabled"), "{}", off.text);
    let unknown = env
        .s
        .post(
            "/api/dingtalk:signInInClient",
            None,
            json!({"code": "x", "authenticator": "nope"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(env.counts().await.0, before.0 + 1);
}

async fn test_connection_reports_dingtalks_complaint(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    let s = &env.s;
    let ok = s
        .post(
            "/api/dingtalk:testConnection",
            Some(&env.admin),
            json!({"clientId": DEFAULT_CLIENT_ID, "clientSecret": DEFAULT_CLIENT_SECRET}),
        )
        .await;
    ok.assert_ok();
    assert_eq!(ok.body["data"]["ok"], true);
    let stored = s
        .post(
            "/api/dingtalk:testConnection",
            Some(&env.admin),
            json!({"authenticator": AUTHENTICATOR}),
        )
        .await;
    assert_eq!(stored.body["data"]["ok"], true, "{}", stored.text);
    let wrong = s
        .post(
            "/api/dingtalk:testConnection",
            Some(&env.admin),
            json!({"clientId": DEFAULT_CLIENT_ID, "clientSecret": "wrong-secret"}),
        )
        .await;
    wrong.assert_ok();
    let d = &wrong.body["data"];
    assert_eq!(d["ok"], false);
    assert_eq!(d["code"], "invalidClientIdOrSecret");
    assert_eq!(d["status"], 400);
    assert!(d["requestid"].is_string() && d["message"].is_string());
    assert!(!wrong.text.contains("wrong-secret") && !stored.text.contains(DEFAULT_CLIENT_SECRET));
    // Each test fetched a token from DingTalk (never the cache).
    assert_eq!(env.fake.requests_to(Endpoint::AppAccessToken).len(), 3);
    let missing = s
        .post(
            "/api/dingtalk:testConnection",
            Some(&env.admin),
            json!({"clientId": "x"}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let anonymous = s
        .post(
            "/api/dingtalk:testConnection",
            None,
            json!({"authenticator": AUTHENTICATOR}),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

both_databases!(
    switching_accounts_signs_in_the_new_one_never_the_old,
    in_client_refusals,
    test_connection_reports_dingtalks_complaint,
);
