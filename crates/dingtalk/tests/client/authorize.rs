use authgate_dingtalk::{AuthorizeRequest, Prompt, Scope};
use fake_dingtalk::{Endpoint, DEFAULT_CLIENT_ID};

use crate::common::{env, param, REDIRECT};

#[tokio::test]
async fn authorize_url_is_the_reference_url_and_the_fake_accepts_it() {
    let env = env().await;
    let request = AuthorizeRequest::new(DEFAULT_CLIENT_ID, REDIRECT, "n0nce/+ =");
    let url = env.client.authorize_url(&request);
    assert_eq!(url.path(), "/oauth2/auth");
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let expected: Vec<(String, String)> = [
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("scope", "openid"),
        ("state", "n0nce/+ ="),
        ("prompt", "consent"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(pairs, expected);

    let callback = env.consent(&url, "alice").await;
    assert!(callback.as_str().starts_with(REDIRECT));
    assert_eq!(param(&callback, "state").as_deref(), Some("n0nce/+ ="));
    let code = param(&callback, "authCode").unwrap();
    assert_eq!(param(&callback, "code"), Some(code.clone()));

    // What reached "DingTalk" is exactly that.
    let logged = env.fake.requests_to(Endpoint::Authorize);
    assert_eq!(logged.len(), 1);
    let mut sent = logged[0].query_pairs();
    assert_eq!(sent.pop(), Some(("login_as".into(), "alice".into())));
    assert_eq!(sent, expected);

    let token = env
        .client
        .user_access_token(&env.creds, &code)
        .await
        .unwrap();
    assert_eq!(token.corp_id, None);
}

#[tokio::test]
async fn corpid_scope_and_account_picker() {
    let env = env().await;
    let mut request = AuthorizeRequest::new(DEFAULT_CLIENT_ID, REDIRECT, "s");
    request.scope = Scope::OpenIdCorpId;
    request.prompt = Prompt::LoginConsent;
    request.corp_id = Some("dingcorp002".into());
    request.org_type = Some("management".into());
    request.exclusive_corp_id = Some("dingcorp002".into());
    let url = env.client.authorize_url(&request);
    assert_eq!(param(&url, "scope").as_deref(), Some("openid corpid"));
    assert_eq!(param(&url, "prompt").as_deref(), Some("login consent"));
    assert_eq!(param(&url, "corpId").as_deref(), Some("dingcorp002"));
    assert_eq!(param(&url, "org_type").as_deref(), Some("management"));
    assert_eq!(param(&url, "exclusiveLogin").as_deref(), Some("true"));
    assert_eq!(
        param(&url, "exclusiveCorpId").as_deref(),
        Some("dingcorp002")
    );
    assert!(url.query().unwrap().contains("scope=openid%20corpid"));

    let callback = env.consent(&url, "alice").await;
    let code = param(&callback, "authCode").unwrap();
    let token = env
        .client
        .user_access_token(&env.creds, &code)
        .await
        .unwrap();
    assert_eq!(
        token.corp_id.as_deref(),
        Some("dingcorp002"),
        "the requested organisation"
    );
}
