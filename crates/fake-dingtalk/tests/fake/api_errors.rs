use serde_json::{json, Value};

use crate::common::{assert_api_error, env};

#[tokio::test]
async fn unknown_paths_get_a_new_api_error() {
    let env = env().await;
    let response = env.get(&env.url("/v1.0/nothing/here")).await;
    assert_api_error(response, 404, "InvalidAction.NotFound").await;
}

#[tokio::test]
async fn every_response_has_a_request_id() {
    let env = env().await;
    let responses = vec![
        env.get(&env.url("/oauth2/auth")).await,
        env.get(&env.url("/v1.0/contact/users/me")).await,
        env.post_json("/v1.0/oauth2/accessToken", &json!({})).await,
        env.http
            .post(env.url("/topapi/v2/user/get"))
            .send()
            .await
            .unwrap(),
        env.get(&env.url("/_fake/health")).await,
    ];
    let mut ids = Vec::new();
    for response in responses {
        let id = response.headers()["x-acs-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(!id.is_empty());
        ids.push(id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "request ids are unique");
}

#[tokio::test]
async fn legacy_errors_are_http_200_with_errcode() {
    let env = env().await;
    let response = env
        .http
        .post(env.url("/topapi/user/getbyunionid"))
        .json(&json!({"unionid": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let rid = response.headers()["x-acs-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errcode"], 40014);
    assert_eq!(body["request_id"], rid.as_str());
    assert!(body["errmsg"].is_string());
}
