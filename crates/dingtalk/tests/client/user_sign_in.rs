use authgate_dingtalk::{ClientCredentials, Error};
use fake_dingtalk::{Endpoint, Fault, FaultRule, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use serde_json::json;

use crate::common::{assert_redacted, env};

#[tokio::test]
async fn exchange_sends_exactly_the_reference_body() {
    let env = env().await;
    let code = env.code("alice");
    let token = env
        .client
        .user_access_token(&env.creds, &code)
        .await
        .unwrap();
    assert_eq!(token.access_token.len(), 32);
    assert!(token.refresh_token.is_some());
    assert_eq!(token.expire_in, 7200);
    assert_eq!(token.corp_id, None);
    assert!(
        !format!("{token:?}").contains(&token.access_token),
        "Debug hides tokens"
    );

    let sent = env.fake.requests_to(Endpoint::UserAccessToken);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    assert!(sent[0]
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(
        sent[0].json().unwrap(),
        json!({"clientId": DEFAULT_CLIENT_ID, "clientSecret": DEFAULT_CLIENT_SECRET, "code": code, "grantType": "authorization_code"})
    );
}

#[tokio::test]
async fn exchange_reports_the_organisation() {
    let env = env().await;
    let token = env
        .client
        .user_access_token(&env.creds, &env.code_with_corp("zhangsan"))
        .await
        .unwrap();
    assert_eq!(token.corp_id.as_deref(), Some("dingcorp001"));
}

#[tokio::test]
async fn string_expire_in_and_extra_fields_parse() {
    let env = env().await;
    env.fake
        .set_fault(FaultRule::new(Fault::StringExpireIn).on(Endpoint::UserAccessToken));
    env.fake.set_fault(Fault::ExtraFields);
    let token = env
        .client
        .user_access_token(&env.creds, &env.code("alice"))
        .await
        .unwrap();
    assert_eq!(token.expire_in, 7200);
    let profile = env.client.me(&token.access_token).await.unwrap();
    assert_eq!(profile.nick.as_deref(), Some("Alice Wang"));
}

#[tokio::test]
async fn used_or_unknown_codes_are_recognisable() {
    let env = env().await;
    let code = env.code("alice");
    env.client
        .user_access_token(&env.creds, &code)
        .await
        .unwrap();
    let err = env
        .client
        .user_access_token(&env.creds, &code)
        .await
        .unwrap_err();
    assert!(err.is_invalid_code(), "{err}");
    assert!(!err.is_invalid_credentials());
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.api_code(), Some("invalidCode"));
    let rid = err
        .request_id()
        .expect("DingTalk's requestid is kept")
        .to_owned();
    let logged = env.fake.requests_to(Endpoint::UserAccessToken);
    assert_eq!(logged.last().unwrap().request_id, rid);
    assert_redacted(&err, &[&code, DEFAULT_CLIENT_SECRET]);
}

#[tokio::test]
async fn wrong_secret_is_recognisable_and_never_shown() {
    let env = env().await;
    let creds = ClientCredentials::new(DEFAULT_CLIENT_ID, "wrong-secret-value");
    let code = env.code("alice");
    let err = env
        .client
        .user_access_token(&creds, &code)
        .await
        .unwrap_err();
    assert!(err.is_invalid_credentials(), "{err}");
    assert_redacted(&err, &["wrong-secret-value", &code]);
    assert!(!format!("{creds:?}").contains("wrong-secret-value"));
}

#[tokio::test]
async fn profile_is_read_with_the_token_header() {
    let env = env().await;
    let token = env
        .client
        .user_access_token(&env.creds, &env.code("alice"))
        .await
        .unwrap();
    let profile = env.client.me(&token.access_token).await.unwrap();
    assert_eq!(profile.union_id, "aLiCe0unionIdQvHZqQiEiE");
    assert!(profile.open_id.is_some());
    assert_eq!(profile.nick.as_deref(), Some("Alice Wang"));
    assert_eq!(profile.mobile.as_deref(), Some("13800138000"));
    assert_eq!(profile.state_code.as_deref(), Some("86"));
    assert_eq!(profile.email.as_deref(), Some("alice@example.com"));
    assert_eq!(profile.visitor, Some(false));
    assert!(!profile.mobile_is_masked());

    let sent = env.fake.requests_to(Endpoint::UsersMe);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "GET");
    assert_eq!(
        sent[0].header("x-acs-dingtalk-access-token"),
        Some(token.access_token.as_str())
    );
    assert_eq!(sent[0].header("authorization"), None);
}

#[tokio::test]
async fn profiles_with_missing_fields_parse() {
    let env = env().await;
    for (user, check) in [("bob.noemail", "email"), ("carol.nomobile", "mobile")] {
        let token = env
            .client
            .user_access_token(&env.creds, &env.code(user))
            .await
            .unwrap();
        let profile = env.client.me(&token.access_token).await.unwrap();
        match check {
            "email" => assert_eq!(profile.email, None),
            _ => {
                assert_eq!(profile.mobile, None);
                assert_eq!(profile.state_code, None);
                assert_eq!(profile.avatar_url, None);
            }
        }
    }
    let token = env
        .client
        .user_access_token(&env.creds, &env.code("dave.us"))
        .await
        .unwrap();
    let dave = env.client.me(&token.access_token).await.unwrap();
    assert_eq!(
        (dave.state_code.as_deref(), dave.mobile.as_deref()),
        (Some("1"), Some("4155550123"))
    );
    let token = env
        .client
        .user_access_token(&env.creds, &env.code("zhangsan"))
        .await
        .unwrap();
    assert_eq!(
        env.client
            .me(&token.access_token)
            .await
            .unwrap()
            .nick
            .as_deref(),
        Some("张三")
    );
}

#[tokio::test]
async fn masked_and_missing_mobile() {
    let env = env().await;
    let token = env
        .client
        .user_access_token(&env.creds, &env.code("bob.noemail"))
        .await
        .unwrap();
    env.fake
        .set_fault(FaultRule::new(Fault::MaskedMobile).times(1));
    let masked = env.client.me(&token.access_token).await.unwrap();
    assert_eq!(masked.mobile.as_deref(), Some("155****3240"));
    assert!(masked.mobile_is_masked());
    env.fake
        .set_fault(FaultRule::new(Fault::MissingMobile).times(1));
    let missing = env.client.me(&token.access_token).await.unwrap();
    assert_eq!(missing.mobile, None);
}

#[tokio::test]
async fn missing_permission_names_the_scope() {
    let env = env().await;
    let token = env
        .client
        .user_access_token(&env.creds, &env.code("alice"))
        .await
        .unwrap();
    env.fake.set_fault(
        FaultRule::new(Fault::PermissionDenied {
            required_scopes: vec!["Contact.User.mobile".into()],
        })
        .on(Endpoint::UsersMe),
    );
    let err = env.client.me(&token.access_token).await.unwrap_err();
    assert!(err.is_permission_denied());
    assert_eq!(err.missing_scopes(), ["Contact.User.mobile".to_owned()]);
    assert_eq!(err.status(), Some(403));
    assert!(err.request_id().is_some());
    assert_redacted(&err, &[&token.access_token]);
}

#[tokio::test]
async fn bad_user_token_is_recognisable() {
    let env = env().await;
    let err = env.client.me("not-a-token").await.unwrap_err();
    assert!(err.is_invalid_token(), "{err}");
    assert!(matches!(err, Error::Api { status: 401, .. }));
    assert_redacted(&err, &["not-a-token"]);
}

#[tokio::test]
async fn refresh_gives_a_new_pair() {
    let env = env().await;
    let token = env
        .client
        .user_access_token(&env.creds, &env.code("alice"))
        .await
        .unwrap();
    let refreshed = env
        .client
        .refresh_user_access_token(&env.creds, token.refresh_token.as_deref().unwrap())
        .await
        .unwrap();
    assert_ne!(refreshed.access_token, token.access_token);
    let sent = env.fake.requests_to(Endpoint::UserAccessToken);
    assert_eq!(sent[1].json().unwrap()["grantType"], "refresh_token");
}
