use serde_json::{json, Value};

use crate::common::{env, REDIRECT};

#[tokio::test]
async fn apps_users_and_codes_over_http() {
    let env = env().await;
    let health: Value = env
        .get(&env.url("/_fake/health"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");

    let app = json!({"clientId": "httpapp", "clientSecret": "hs", "corpId": "dingcorp777", "redirectUris": [REDIRECT]});
    assert_eq!(env.post_json("/_fake/apps", &app).await.status(), 204);
    let user = json!({"userid": "newbie", "unionId": "nEwBiEunion", "nick": "Newbie", "mobile": "13100131000", "stateCode": "86", "corpIds": ["dingcorp777"]});
    assert_eq!(env.post_json("/_fake/users", &user).await.status(), 204);

    let apps: Value = env.get(&env.url("/_fake/apps")).await.json().await.unwrap();
    assert!(apps
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["clientId"] == "httpapp"));
    let users: Value = env
        .get(&env.url("/_fake/users"))
        .await
        .json()
        .await
        .unwrap();
    assert!(users
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["userid"] == "newbie"));

    // The new app and user work end to end.
    let code = env.code_for("httpapp", "newbie", "openid corpid").await;
    let token: Value = env
        .exchange("httpapp", "hs", &code)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(token["corpId"], "dingcorp777");

    let minted: Value = env
        .post_json(
            "/_fake/in-client-codes",
            &json!({"clientId": "httpapp", "userid": "newbie"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(minted["code"].is_string());
    let web: Value = env
        .post_json(
            "/_fake/web-codes",
            &json!({"clientId": "httpapp", "user": "nEwBiEunion"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let response = env
        .exchange("httpapp", "hs", web["code"].as_str().unwrap())
        .await;
    assert_eq!(response.status(), 200);

    let refused = env
        .post_json(
            "/_fake/in-client-codes",
            &json!({"clientId": "httpapp", "userid": "alice"}),
        )
        .await;
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("not a member"));
}

#[tokio::test]
async fn faults_over_http() {
    let env = env().await;
    let rule = json!({"fault": {"kind": "serverError"}, "endpoint": "accessToken", "times": 1});
    assert_eq!(env.post_json("/_fake/faults", &rule).await.status(), 204);
    let listed: Value = env
        .get(&env.url("/_fake/faults"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["fault"]["status"], 502);
    let r = env.post_json("/v1.0/oauth2/accessToken", &json!({})).await;
    assert_eq!(r.status(), 502);

    let rule = json!({"fault": {"kind": "delay", "ms": 1}});
    assert_eq!(env.post_json("/_fake/faults", &rule).await.status(), 204);
    let r = env
        .http
        .delete(env.url("/_fake/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(env.fake.faults().is_empty());

    for bad in [
        json!({"fault": {"kind": "maskedMobile"}, "endpoint": "accessToken"}),
        json!({"fault": {"kind": "nonsense"}}),
        json!({"fault": {"kind": "serverError", "status": 404}}),
        json!({"fault": {"kind": "delay", "ms": 5}, "times": 0}),
    ] {
        let r = env.post_json("/_fake/faults", &bad).await;
        assert_eq!(r.status(), 400, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"].is_string());
    }
}

#[tokio::test]
async fn revoke_and_reset_over_http() {
    let env = env().await;
    let token = env.app_token().await;
    let r = env
        .http
        .post(env.url("/_fake/app-tokens/revoke"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let answer = env
        .legacy(
            "/topapi/user/getbyunionid",
            &token,
            &json!({"unionid": "x"}),
        )
        .await;
    assert_eq!(answer["errcode"], 40014);

    env.post_json(
        "/_fake/users",
        &json!({"userid": "temp", "unionId": "tempU"}),
    )
    .await;
    assert_eq!(
        env.http
            .post(env.url("/_fake/reset"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let users: Value = env
        .get(&env.url("/_fake/users"))
        .await
        .json()
        .await
        .unwrap();
    assert!(!users
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["userid"] == "temp"));
    assert!(env.fake.requests().is_empty());
}

#[tokio::test]
async fn invalid_control_bodies_are_400() {
    let env = env().await;
    let r = env
        .http
        .post(env.url("/_fake/apps"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = env
        .post_json("/_fake/users", &json!({"userid": "", "unionId": "x"}))
        .await;
    assert_eq!(r.status(), 400);
    let r = env
        .post_json(
            "/_fake/users",
            &json!({"userid": "someoneelse", "unionId": "aLiCe0unionIdQvHZqQiEiE"}),
        )
        .await;
    assert_eq!(r.status(), 400, "a unionId belongs to one user");
}
