//! An OpenID Connect application opened from the DingTalk workbench: the authorization request
//! goes through the login-free page (which asks DingTalk who this is, `dd.requestAuthCode`),
//! then resumes and answers with a code, without a click; `prompt=none` too.

use crate::both_databases;
use crate::dingtalk_support::*;
use crate::support::*;
use fake_dingtalk::DEFAULT_CLIENT_ID;
use reqwest::{Method, StatusCode};
use serde_json::json;

const IN_DINGTALK: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 AliApp(DingTalk/7.6.0) com.laiwang.DingTalk/32812345 Channel/201200 language/zh-Hans-CN";
const CALLBACK: &str = "http://127.0.0.1:9/cb";

/// A confidential client: its id and secret.
async fn client_with_secret(env: &DingEnv) -> (String, String) {
    let r = env
        .s
        .post(
            "/api/oidcClients:create",
            Some(&env.admin),
            json!({"name": "报销系统", "redirectUris": [CALLBACK]}),
        )
        .await;
    r.assert_ok();
    let text = |k: &str| r.body["data"][k].as_str().unwrap().to_string();
    (text("clientId"), text("clientSecret"))
}

async fn client(env: &DingEnv) -> String {
    client_with_secret(env).await.0
}

/// What `auto.js` does on the login-free page: a code from the DingTalk client, posted to
/// authgate with the page's cookies; then the page goes to its redirect target.
async fn login_free_page(env: &DingEnv, browser: &mut Browser, page: &str, userid: &str) -> String {
    let page_url = format!("{}{page}", env.s.base);
    let r = browser
        .authgate(Method::GET, &page_url, &[("user-agent", IN_DINGTALK)], None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let code = env
        .fake
        .mint_in_client_code(DEFAULT_CLIENT_ID, userid)
        .unwrap();
    let signed_in = browser
        .authgate(
            Method::POST,
            &env.s.url("/api/dingtalk:signInInClient"),
            &[
                ("x-authenticator", AUTHENTICATOR),
                ("user-agent", IN_DINGTALK),
            ],
            Some(json!({"code": code})),
        )
        .await;
    signed_in.assert_ok();
    query_param(&page_url, "redirect").unwrap()
}

async fn authorize(browser: &mut Browser, env: &DingEnv, path: &str) -> (StatusCode, String) {
    let r = browser
        .authgate(
            Method::GET,
            &env.s.url(path),
            &[("user-agent", IN_DINGTALK)],
            None,
        )
        .await;
    (
        r.status,
        r.header("location").unwrap_or_default().to_string(),
    )
}

async fn opened_from_the_workbench_the_app_gets_a_code_without_a_click(db: Db) {
    let env = DingEnv::start(
        db,
        json!({"autoLoginInClient": true, "corpId": "dingcorp001"}),
    )
    .await;
    let client_id = client(&env).await;
    for prompt in ["", "&prompt=none"] {
        let mut browser = Browser::new();
        let request = format!(
            "/oidc/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid%20profile&state=s1&nonce=n1{prompt}",
            urlencode(CALLBACK)
        );
        let (status, to_page) = authorize(&mut browser, &env, &request).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(
            to_page.starts_with("/dingtalk/auto?authenticator=dingtalk&redirect="),
            "not the sign-in form, the login-free page: {to_page}"
        );
        let resume = login_free_page(&env, &mut browser, &to_page, "alice").await;
        let (status, back) = authorize(&mut browser, &env, &resume).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(
            back.starts_with(&format!("{CALLBACK}?code=")),
            "{prompt}: {back}"
        );
        assert_eq!(query_param(&back, "state").as_deref(), Some("s1"));
    }
}

async fn a_failed_login_free_attempt_ends_like_any_other(db: Db) {
    let env = DingEnv::start(
        db,
        json!({"autoLoginInClient": true, "corpId": "dingcorp001"}),
    )
    .await;
    let client_id = client(&env).await;
    let mut browser = Browser::new();
    let request = format!(
        "/oidc/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid&state=s2&prompt=none",
        urlencode(CALLBACK)
    );
    let (_, to_page) = authorize(&mut browser, &env, &request).await;
    // The page came back without a session (DingTalk refused): no second trip, the client is
    // told the person must sign in.
    let resume = query_param(&format!("{}{to_page}", env.s.base), "redirect").unwrap();
    let (status, back) = authorize(&mut browser, &env, &resume).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(back.starts_with(CALLBACK), "{back}");
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("login_required")
    );

    // Outside DingTalk, or without login-free sign-in, the request goes to the sign-in form.
    let r = Browser::new()
        .authgate(
            Method::GET,
            &env.s.url(&request.replace("&prompt=none", "")),
            &[],
            None,
        )
        .await;
    assert!(r
        .header("location")
        .unwrap()
        .starts_with("/signin?redirect="));
}

/// The `dingtalk` scope tells the application who the person is in DingTalk; unlinking
/// DingTalk takes those claims away at once.
async fn the_dingtalk_scope_answers_the_person_s_dingtalk_ids(db: Db) {
    let env = DingEnv::start(
        db,
        json!({"autoLoginInClient": true, "corpId": "dingcorp001"}),
    )
    .await;
    let (client_id, secret) = client_with_secret(&env).await;
    let mut browser = Browser::new();
    let request = format!(
        "/oidc/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid%20dingtalk&state=s3&nonce=n3",
        urlencode(CALLBACK)
    );
    let (_, to_page) = authorize(&mut browser, &env, &request).await;
    let resume = login_free_page(&env, &mut browser, &to_page, "alice").await;
    let (_, back) = authorize(&mut browser, &env, &resume).await;
    let code = query_param(&back, "code").expect("a code");
    let http = reqwest::Client::new();
    let tokens = redeem_code(&http, &env.s, (&client_id, &secret), &code, CALLBACK).await;
    let access = tokens["access_token"].as_str().expect("an access token");
    let userinfo = || async {
        let r = http
            .get(env.s.url("/oidc/userinfo"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<serde_json::Value>().await.unwrap()
    };
    let info = userinfo().await;
    assert_eq!(info["dingtalk_userid"], json!("alice"), "{info}");
    assert_eq!(info["dingtalk_corpid"], json!("dingcorp001"), "{info}");
    assert!(
        info["dingtalk_unionid"]
            .as_str()
            .is_some_and(|u| !u.is_empty()),
        "{info}"
    );

    let user_id = info["sub"].as_str().unwrap();
    let user = env
        .s
        .get(
            &format!("/api/users:get?filterByTk={user_id}"),
            Some(&env.admin),
        )
        .await;
    user.assert_ok();
    let identity = user.body["data"]["identities"][0]["id"].as_i64().unwrap();
    env.s
        .post(
            &format!("/api/users:unlinkIdentity?filterByTk={user_id}&identityId={identity}"),
            Some(&env.admin),
            json!({}),
        )
        .await
        .assert_ok();
    let info = userinfo().await;
    assert_eq!(info["sub"], json!(user_id));
    assert!(info.get("dingtalk_unionid").is_none(), "{info}");
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

both_databases!(
    opened_from_the_workbench_the_app_gets_a_code_without_a_click,
    a_failed_login_free_attempt_ends_like_any_other,
    the_dingtalk_scope_answers_the_person_s_dingtalk_ids
);
