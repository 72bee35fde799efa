use std::time::Duration;

use fake_dingtalk::{FakeConfig, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use serde_json::{json, Value};

use crate::common::{assert_api_error, env, env_with, OTHER_ID, OTHER_SECRET};

#[tokio::test]
async fn code_exchanges_once() {
    let env = env().await;
    let code = env.code_for(DEFAULT_CLIENT_ID, "alice", "openid").await;
    let response = env
        .exchange(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, &code)
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["accessToken"].as_str().is_some_and(|t| t.len() == 32));
    assert!(body["refreshToken"].is_string());
    assert_eq!(body["expireIn"], 7200);
    assert!(
        body.get("corpId").is_none(),
        "no corpId without the corpid scope"
    );

    let again = env
        .exchange(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, &code)
        .await;
    assert_api_error(again, 400, "invalidCode").await;
}

#[tokio::test]
async fn corpid_scope_reports_the_organisation() {
    let env = env().await;
    let code = env
        .code_for(DEFAULT_CLIENT_ID, "zhangsan", "openid corpid")
        .await;
    let body: Value = env
        .exchange(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, &code)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["corpId"], "dingcorp001");

    let code = env
        .code_for(DEFAULT_CLIENT_ID, "eve.outsider", "openid corpid")
        .await;
    let body: Value = env
        .exchange(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, &code)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["corpId"], "dingcorp999");
}

#[tokio::test]
async fn codes_expire() {
    let env = env_with(FakeConfig::default().with_code_ttl(Duration::from_millis(150))).await;
    let code = env.code_for(DEFAULT_CLIENT_ID, "alice", "openid").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let response = env
        .exchange(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, &code)
        .await;
    assert_api_error(response, 400, "invalidCode").await;
}

#[tokio::test]
async fn a_code_is_bound_to_its_app() {
    let env = env().await;
    let code = env.code_for(DEFAULT_CLIENT_ID, "alice", "openid").await;
    let response = env.exchange(OTHER_ID, OTHER_SECRET, &code).await;
    assert_api_error(response, 400, "invalidCode").await;
    // A code tried by the wrong app is burnt.
    let response = env
        .exchange(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, &code)
        .await;
    assert_api_error(response, 400, "invalidCode").await;
}

#[tokio::test]
async fn unknown_code_and_bad_credentials() {
    let env = env().await;
    let response = env
        .exchange(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "madeup")
        .await;
    assert_api_error(response, 400, "invalidCode").await;

    let code = env.code_for(DEFAULT_CLIENT_ID, "alice", "openid").await;
    let response = env.exchange(DEFAULT_CLIENT_ID, "wrong", &code).await;
    assert_api_error(response, 400, "invalidClientIdOrSecret").await;
    let response = env.exchange("nobody", DEFAULT_CLIENT_SECRET, &code).await;
    assert_api_error(response, 400, "invalidClientIdOrSecret").await;
    // A credentials failure does not burn the code.
    let response = env
        .exchange(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, &code)
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn only_json_bodies_are_accepted() {
    let env = env().await;
    let code = env.code_for(DEFAULT_CLIENT_ID, "alice", "openid").await;
    let form = [
        ("clientId", DEFAULT_CLIENT_ID),
        ("clientSecret", DEFAULT_CLIENT_SECRET),
        ("code", code.as_str()),
        ("grantType", "authorization_code"),
    ];
    let url = env.url("/v1.0/oauth2/userAccessToken");
    let response = env.http.post(&url).form(&form).send().await.unwrap();
    assert_api_error(response, 400, "MissingclientId").await;

    let response = env
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_api_error(response, 400, "MissingclientId").await;

    let response = env
        .post_json("/v1.0/oauth2/userAccessToken", &json!({"clientId": DEFAULT_CLIENT_ID, "clientSecret": DEFAULT_CLIENT_SECRET, "code": code}))
        .await;
    assert_api_error(response, 400, "MissinggrantType").await;

    // None of that used the code up.
    let response = env
        .exchange(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, &code)
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn refresh_token_grant() {
    let env = env().await;
    let code = env.code_for(DEFAULT_CLIENT_ID, "alice", "openid").await;
    let first: Value = env
        .exchange(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, &code)
        .await
        .json()
        .await
        .unwrap();
    let body = json!({"clientId": DEFAULT_CLIENT_ID, "clientSecret": DEFAULT_CLIENT_SECRET,
        "grantType": "refresh_token", "refreshToken": first["refreshToken"]});
    let response = env.post_json("/v1.0/oauth2/userAccessToken", &body).await;
    assert_eq!(response.status(), 200);
    let second: Value = response.json().await.unwrap();
    assert_ne!(second["accessToken"], first["accessToken"]);
    let profile = env.me(second["accessToken"].as_str().unwrap()).await;
    assert_eq!(profile.status(), 200);
    // The refresh token is used up.
    let response = env.post_json("/v1.0/oauth2/userAccessToken", &body).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn profile_requires_the_token_header() {
    let env = env().await;
    let response = env
        .http
        .get(env.url("/v1.0/contact/users/me"))
        .send()
        .await
        .unwrap();
    assert_api_error(response, 401, "InvalidAuthentication").await;
    let response = env.me("not-a-token").await;
    assert_api_error(response, 401, "InvalidAuthentication").await;
    let response = env
        .http
        .get(env.url("/v1.0/contact/users/me"))
        .header(
            "authorization",
            format!("Bearer {}", env.user_token("alice").await),
        )
        .send()
        .await
        .unwrap();
    assert_api_error(response, 401, "InvalidAuthentication").await;
}

#[tokio::test]
async fn profile_has_the_reference_shape() {
    let env = env().await;
    let token = env.user_token("alice").await;
    let response = env.me(&token).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-acs-request-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["nick"], "Alice Wang");
    assert_eq!(body["unionId"], "aLiCe0unionIdQvHZqQiEiE");
    assert_eq!(body["mobile"], "13800138000");
    assert_eq!(body["stateCode"], "86");
    assert_eq!(body["email"], "alice@example.com");
    assert_eq!(body["visitor"], false);
    assert!(body["avatarUrl"].is_string());
    assert!(
        body.get("requestid").is_none(),
        "success bodies carry no requestid"
    );

    // openId: stable per app, different between apps.
    let again: Value = env
        .me(&env.user_token("alice").await)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["openId"], body["openId"]);
    let code = env.code_for(OTHER_ID, "alice", "openid").await;
    let other: Value = env
        .exchange(OTHER_ID, OTHER_SECRET, &code)
        .await
        .json()
        .await
        .unwrap();
    let other: Value = env
        .me(other["accessToken"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(other["openId"], body["openId"]);
    assert_eq!(other["unionId"], body["unionId"]);
}

#[tokio::test]
async fn profile_omits_what_the_user_lacks() {
    let env = env().await;
    let bob: Value = env
        .me(&env.user_token("bob.noemail").await)
        .await
        .json()
        .await
        .unwrap();
    assert!(bob.get("email").is_none());
    assert_eq!(bob["mobile"], "15500003240");
    let carol: Value = env
        .me(&env.user_token("carol.nomobile").await)
        .await
        .json()
        .await
        .unwrap();
    assert!(carol.get("mobile").is_none());
    assert!(carol.get("stateCode").is_none());
    assert!(carol.get("avatarUrl").is_none());
    let dave: Value = env
        .me(&env.user_token("dave.us").await)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dave["stateCode"], "1");
    let zhang: Value = env
        .me(&env.user_token("zhangsan").await)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(zhang["nick"], "张三");
}
