use fake_dingtalk::{Endpoint, RecordedRequest, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use serde_json::{json, Value};

use crate::common::env;

#[tokio::test]
async fn records_what_was_sent() {
    let env = env().await;
    let code = env.code_for(DEFAULT_CLIENT_ID, "alice", "openid").await;
    let token: Value = env
        .exchange(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, &code)
        .await
        .json()
        .await
        .unwrap();
    let access = token["accessToken"].as_str().unwrap();
    env.me(access).await;
    env.get(&env.url("/_fake/health")).await;

    let log = env.fake.requests();
    assert_eq!(log.len(), 3, "control API calls are not recorded");
    let authorize = &log[0];
    assert_eq!(authorize.method, "GET");
    assert_eq!(authorize.endpoint, Some(Endpoint::Authorize));
    assert_eq!(authorize.query_param("scope").as_deref(), Some("openid"));
    assert_eq!(authorize.query_param("login_as").as_deref(), Some("alice"));

    let exchange = &log[1];
    assert_eq!(exchange.method, "POST");
    assert_eq!(exchange.path, "/v1.0/oauth2/userAccessToken");
    assert!(exchange
        .header("Content-Type")
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(
        exchange.json().unwrap(),
        json!({"clientId": DEFAULT_CLIENT_ID, "clientSecret": DEFAULT_CLIENT_SECRET, "code": code, "grantType": "authorization_code"})
    );
    let me = &log[2];
    assert_eq!(me.header("x-acs-dingtalk-access-token"), Some(access));
    assert!(me.seq > exchange.seq && exchange.seq > authorize.seq);
    assert!(!me.request_id.is_empty());

    assert_eq!(env.fake.requests_to(Endpoint::UsersMe).len(), 1);
}

#[tokio::test]
async fn log_over_http_with_filter_and_clear() {
    let env = env().await;
    env.app_token().await;
    env.user_token("zhangsan").await;
    let all: Vec<RecordedRequest> = env
        .get(&env.url("/_fake/requests"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    let only: Vec<RecordedRequest> = env
        .get(&env.url("/_fake/requests?endpoint=accessToken"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].json().unwrap()["appKey"], DEFAULT_CLIENT_ID);

    let r = env
        .http
        .delete(env.url("/_fake/requests"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(env.fake.requests().is_empty());
}

#[tokio::test]
async fn non_utf8_bodies_are_logged_lossily() {
    let env = env().await;
    let r = env
        .http
        .post(env.url("/v1.0/oauth2/accessToken"))
        .header("content-type", "application/json")
        .body(vec![0xff, 0xfe, b'{'])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(env.fake.requests()[0].body.contains('\u{fffd}'));
}
