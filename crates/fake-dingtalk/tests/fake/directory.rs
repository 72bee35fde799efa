use fake_dingtalk::{FakeError, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use serde_json::{json, Value};

use crate::common::{assert_api_error, env, OTHER_ID};

#[tokio::test]
async fn app_token_is_reused_while_valid() {
    let env = env().await;
    let first = env.app_token().await;
    let second = env.app_token().await;
    assert_eq!(first, second);
    let body = json!({"appKey": DEFAULT_CLIENT_ID, "appSecret": DEFAULT_CLIENT_SECRET});
    let response: Value = env
        .post_json("/v1.0/oauth2/accessToken", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(response["expireIn"], 7200);

    let body = json!({"appKey": DEFAULT_CLIENT_ID, "appSecret": "wrong"});
    let response = env.post_json("/v1.0/oauth2/accessToken", &body).await;
    assert_api_error(response, 400, "invalidClientIdOrSecret").await;
}

#[tokio::test]
async fn getbyunionid_members_and_outsiders() {
    let env = env().await;
    let token = env.app_token().await;
    let path = "/topapi/user/getbyunionid";
    let ok = env
        .legacy(
            path,
            &token,
            &json!({"unionid": "zHaNgSaN0unionId7aRvQiEiE"}),
        )
        .await;
    assert_eq!(ok["errcode"], 0);
    assert_eq!(ok["errmsg"], "ok");
    assert_eq!(ok["result"]["userid"], "zhangsan");
    assert_eq!(ok["result"]["contact_type"], 0);
    assert!(ok["request_id"].is_string());

    let outsider = env
        .legacy(
            path,
            &token,
            &json!({"unionid": "eVeOuTsIdEr0unionIdM3QiEiE"}),
        )
        .await;
    assert_eq!(outsider["errcode"], 60121);
    assert!(outsider["errmsg"].is_string());
    assert!(outsider["request_id"].is_string());
    assert!(outsider.get("result").is_none());

    let bad = env.legacy(path, "bogus", &json!({"unionid": "x"})).await;
    assert_eq!(bad["errcode"], 40014);
    let missing = env.legacy(path, &token, &json!({})).await;
    assert_eq!(missing["errcode"], 40035);
}

#[tokio::test]
async fn user_get_returns_the_directory_entry() {
    let env = env().await;
    let token = env.app_token().await;
    let alice = env
        .legacy("/topapi/v2/user/get", &token, &json!({"userid": "alice"}))
        .await;
    let r = &alice["result"];
    assert_eq!(r["userid"], "alice");
    assert_eq!(r["unionid"], "aLiCe0unionIdQvHZqQiEiE");
    assert_eq!(r["name"], "Alice Wang");
    assert_eq!(r["mobile"], "13800138000");
    assert_eq!(r["state_code"], "86");
    assert_eq!(r["org_email"], "alice@corp.example.com");
    assert_eq!(r["title"], "Engineering Manager");
    assert_eq!(r["job_number"], "E0001");
    assert_eq!(r["active"], true);
    assert_eq!(r["admin"], true);
    assert_eq!(r["dept_id_list"], json!([1, 100]));

    let bob = env
        .legacy(
            "/topapi/v2/user/get",
            &token,
            &json!({"userid": "bob.noemail"}),
        )
        .await;
    assert!(bob["result"].get("email").is_none());
    assert!(bob["result"].get("org_email").is_none());
    let eve = env
        .legacy(
            "/topapi/v2/user/get",
            &token,
            &json!({"userid": "eve.outsider"}),
        )
        .await;
    assert_eq!(eve["errcode"], 60121);
}

#[tokio::test]
async fn in_client_codes_are_single_use_and_bound_to_the_app() {
    let env = env().await;
    let token = env.app_token().await;
    let path = "/topapi/v2/user/getuserinfo";
    let code = env
        .fake
        .mint_in_client_code(DEFAULT_CLIENT_ID, "alice")
        .unwrap();
    let ok = env.legacy(path, &token, &json!({"code": code})).await;
    assert_eq!(ok["errcode"], 0);
    let r = &ok["result"];
    assert_eq!(r["userid"], "alice");
    assert_eq!(r["unionid"], "aLiCe0unionIdQvHZqQiEiE");
    assert_eq!(r["name"], "Alice Wang");
    assert_eq!(r["sys"], true);
    assert_eq!(r["sys_level"], 1);
    assert!(r["device_id"].is_string());
    assert!(r["associated_unionid"].is_string());

    let reused = env.legacy(path, &token, &json!({"code": code})).await;
    assert_eq!(reused["errcode"], 40078);
    let unknown = env.legacy(path, &token, &json!({"code": "nope"})).await;
    assert_eq!(unknown["errcode"], 40078);

    // Minted for another app: refused by this one.
    let foreign = env.fake.mint_in_client_code(OTHER_ID, "alice").unwrap();
    let refused = env.legacy(path, &token, &json!({"code": foreign})).await;
    assert_eq!(refused["errcode"], 40078);

    assert!(matches!(
        env.fake
            .mint_in_client_code(DEFAULT_CLIENT_ID, "eve.outsider"),
        Err(FakeError::NotAMember { .. })
    ));
    assert!(matches!(
        env.fake.mint_in_client_code("nope", "alice"),
        Err(FakeError::UnknownApp(_))
    ));
}

#[tokio::test]
async fn revoked_app_tokens_answer_40014() {
    let env = env().await;
    let token = env.app_token().await;
    env.fake.revoke_app_tokens(Some(DEFAULT_CLIENT_ID));
    let answer = env
        .legacy(
            "/topapi/user/getbyunionid",
            &token,
            &json!({"unionid": "aLiCe0unionIdQvHZqQiEiE"}),
        )
        .await;
    assert_eq!(answer["errcode"], 40014);
    let fresh = env.app_token().await;
    assert_ne!(fresh, token);
}
