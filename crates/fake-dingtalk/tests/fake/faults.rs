use std::time::{Duration, Instant};

use fake_dingtalk::{Endpoint, Fault, FaultRule, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use serde_json::{json, Value};

use crate::common::env;

fn app_token_body() -> Value {
    json!({"appKey": DEFAULT_CLIENT_ID, "appSecret": DEFAULT_CLIENT_SECRET})
}

#[tokio::test]
async fn delay_slows_answers_down() {
    let env = env().await;
    env.fake.set_fault(
        FaultRule::new(Fault::Delay { ms: 300 })
            .on(Endpoint::AppAccessToken)
            .times(1),
    );
    let started = Instant::now();
    let response = env
        .post_json("/v1.0/oauth2/accessToken", &app_token_body())
        .await;
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    env.post_json("/v1.0/oauth2/accessToken", &app_token_body())
        .await;
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "used up after one request"
    );
}

#[tokio::test]
async fn server_error_is_an_html_page() {
    let env = env().await;
    env.fake.set_fault(Fault::ServerError { status: 503 });
    let response = env
        .post_json("/v1.0/oauth2/accessToken", &app_token_body())
        .await;
    assert_eq!(response.status(), 503);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("<h1>503 Service Unavailable</h1>"));
    // Global: the login host fails too.
    let response = env.get(&env.auth_url(&env.valid_params(&[]))).await;
    assert_eq!(response.status(), 503);
    env.fake.clear_faults();
    let response = env
        .post_json("/v1.0/oauth2/accessToken", &app_token_body())
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn malformed_json_does_not_parse() {
    let env = env().await;
    env.fake
        .set_fault(FaultRule::new(Fault::MalformedJson).on(Endpoint::GetByUnionId));
    let token = env.app_token().await;
    let response = env
        .http
        .post(format!(
            "{}?access_token={token}",
            env.url("/topapi/user/getbyunionid")
        ))
        .json(&json!({"unionid": "aLiCe0unionIdQvHZqQiEiE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
}

#[tokio::test]
async fn connection_reset_gives_no_response() {
    let env = env().await;
    env.fake.set_fault(
        FaultRule::new(Fault::ConnectionReset)
            .on(Endpoint::UserAccessToken)
            .times(1),
    );
    let code = env.code_for(DEFAULT_CLIENT_ID, "alice", "openid").await;
    let result = env
        .http
        .post(env.url("/v1.0/oauth2/userAccessToken"))
        .json(&json!({"clientId": DEFAULT_CLIENT_ID, "clientSecret": DEFAULT_CLIENT_SECRET, "code": code, "grantType": "authorization_code"}))
        .send()
        .await;
    let err = result.expect_err("the connection must fail");
    assert!(!err.is_timeout());
    // The server still works for the next request.
    let response = env
        .exchange(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, &code)
        .await;
    assert_eq!(
        response.status(),
        200,
        "the reset happened before the code was used"
    );
}

#[tokio::test]
async fn missing_and_masked_mobile() {
    let env = env().await;
    let token = env.user_token("bob.noemail").await;
    env.fake.set_fault(
        FaultRule::new(Fault::MaskedMobile)
            .on(Endpoint::UsersMe)
            .times(1),
    );
    let masked: Value = env.me(&token).await.json().await.unwrap();
    assert_eq!(masked["mobile"], "155****3240");
    env.fake
        .set_fault(FaultRule::new(Fault::MissingMobile).times(1));
    let missing: Value = env.me(&token).await.json().await.unwrap();
    assert!(missing.get("mobile").is_none());
    assert!(missing.get("stateCode").is_none());
    let normal: Value = env.me(&token).await.json().await.unwrap();
    assert_eq!(normal["mobile"], "15500003240");

    env.fake.set_fault(
        FaultRule::new(Fault::MaskedMobile)
            .on(Endpoint::UserGet)
            .times(1),
    );
    let app_token = env.app_token().await;
    let entry = env
        .legacy(
            "/topapi/v2/user/get",
            &app_token,
            &json!({"userid": "bob.noemail"}),
        )
        .await;
    assert_eq!(entry["result"]["mobile"], "155****3240");
}

#[tokio::test]
async fn permission_denied_names_the_scopes() {
    let env = env().await;
    let token = env.user_token("alice").await;
    env.fake.set_fault(
        FaultRule::new(Fault::PermissionDenied {
            required_scopes: vec!["Contact.User.mobile".into()],
        })
        .on(Endpoint::UsersMe),
    );
    let response = env.me(&token).await;
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["code"],
        "Forbidden.AccessDenied.AccessTokenPermissionDenied"
    );
    assert_eq!(
        body["accessdenieddetail"]["requiredScopes"],
        json!(["Contact.User.mobile"])
    );
    assert!(body["requestid"].is_string());
}

#[tokio::test]
async fn string_expire_in_and_extra_fields() {
    let env = env().await;
    env.fake
        .set_fault(FaultRule::new(Fault::StringExpireIn).on(Endpoint::UserAccessToken));
    env.fake.set_fault(Fault::ExtraFields);
    let code = env.code_for(DEFAULT_CLIENT_ID, "alice", "openid").await;
    let body: Value = env
        .exchange(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, &code)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["expireIn"], "7200");
    assert!(body.get("fakeUnknownField").is_some());
    let app: Value = env
        .post_json("/v1.0/oauth2/accessToken", &app_token_body())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        app["expireIn"], 7200,
        "string expireIn was only for userAccessToken"
    );
    assert!(app.get("fakeUnknownObject").is_some());
    let token = app["accessToken"].as_str().unwrap();
    let legacy = env
        .legacy(
            "/topapi/user/getbyunionid",
            token,
            &json!({"unionid": "aLiCe0unionIdQvHZqQiEiE"}),
        )
        .await;
    assert!(legacy["result"].get("fakeUnknownField").is_some());
    assert_eq!(legacy["result"]["userid"], "alice");
}

#[tokio::test]
async fn counted_faults_disappear() {
    let env = env().await;
    env.fake
        .set_fault(FaultRule::new(Fault::ServerError { status: 500 }).times(2));
    assert_eq!(env.fake.faults().len(), 1);
    for _ in 0..2 {
        let r = env
            .post_json("/v1.0/oauth2/accessToken", &app_token_body())
            .await;
        assert_eq!(r.status(), 500);
    }
    assert!(env.fake.faults().is_empty());
    let r = env
        .post_json("/v1.0/oauth2/accessToken", &app_token_body())
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
#[should_panic(expected = "does not apply")]
async fn rules_that_can_never_fire_are_refused() {
    let env = env().await;
    env.fake
        .set_fault(FaultRule::new(Fault::MissingMobile).on(Endpoint::AppAccessToken));
}
