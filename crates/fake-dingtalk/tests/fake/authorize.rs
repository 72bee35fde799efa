use fake_dingtalk::{FakeApp, FakeConfig, DEFAULT_CLIENT_ID};
use url::Url;

use crate::common::{env, REDIRECT};

fn location(response: &reqwest::Response) -> Url {
    Url::parse(response.headers()["location"].to_str().unwrap()).unwrap()
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn login_as_redirects_with_code_and_state_unchanged() {
    let env = env().await;
    let state = "a b+c/é&x=1";
    let mut params = env.valid_params(&[("login_as", "alice")]);
    params.retain(|(k, _)| *k != "state");
    params.push(("state", state));
    let response = env.get(&env.auth_url(&params)).await;
    assert_eq!(response.status(), 302);
    let loc = location(&response);
    assert!(loc.as_str().starts_with(REDIRECT));
    let code = param(&loc, "authCode").unwrap();
    assert_eq!(param(&loc, "code").as_deref(), Some(code.as_str()));
    assert_eq!(code.len(), 32);
    assert_eq!(param(&loc, "state").as_deref(), Some(state));
}

#[tokio::test]
async fn login_as_accepts_union_id_and_omits_absent_state() {
    let env = env().await;
    let mut params = env.valid_params(&[("login_as", "zHaNgSaN0unionId7aRvQiEiE")]);
    params.retain(|(k, _)| *k != "state");
    let response = env.get(&env.auth_url(&params)).await;
    assert_eq!(response.status(), 302);
    let loc = location(&response);
    assert!(param(&loc, "authCode").is_some());
    assert_eq!(param(&loc, "state"), None);
}

#[tokio::test]
async fn redirect_uri_with_query_keeps_it() {
    let env = env().await;
    let redirect = "http://127.0.0.1:9/cb?tenant=7";
    env.fake
        .add_app(FakeConfig::default_app().with_redirect_uri(redirect))
        .unwrap();
    let params = [
        ("redirect_uri", redirect),
        ("response_type", "code"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("scope", "openid corpid"),
        ("state", "s"),
        ("prompt", "login consent"),
        ("login_as", "alice"),
    ];
    let response = env.get(&env.auth_url(&params)).await;
    assert_eq!(response.status(), 302);
    let loc = location(&response);
    assert_eq!(param(&loc, "tenant").as_deref(), Some("7"));
    assert!(param(&loc, "authCode").is_some());
}

#[tokio::test]
async fn deny_comes_back_with_access_denied() {
    let env = env().await;
    let response = env
        .get(&env.auth_url(&env.valid_params(&[("deny", "1")])))
        .await;
    assert_eq!(response.status(), 302);
    let loc = location(&response);
    assert_eq!(param(&loc, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&loc, "state").as_deref(), Some("st4te"));
    assert_eq!(param(&loc, "authCode"), None);
}

#[tokio::test]
async fn picker_page_lists_users_and_a_deny_button() {
    let env = env().await;
    let response = env.get(&env.auth_url(&env.valid_params(&[]))).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = response.text().await.unwrap();
    for userid in [
        "alice",
        "zhangsan",
        "bob.noemail",
        "carol.nomobile",
        "dave.us",
        "eve.outsider",
    ] {
        assert!(
            page.contains(&format!("data-userid=\"{userid}\"")),
            "{userid} missing"
        );
    }
    assert!(page.contains("张三"));
    assert!(page.contains("name=\"deny\""));
    assert!(page.contains("<input type=\"hidden\" name=\"state\" value=\"st4te\">"));
    assert!(page.contains("action=\"/oauth2/auth\""));
    assert!(!page.contains("<script"));
}

#[tokio::test]
async fn invalid_requests_get_an_error_page_naming_the_problem() {
    let env = env().await;
    let cases: Vec<(&str, Option<&str>, &str)> = vec![
        ("client_id", None, "missing client_id"),
        ("client_id", Some("nope"), "unknown client_id nope"),
        ("response_type", Some("token"), "response_type must be"),
        ("response_type", None, "missing response_type"),
        ("scope", Some("openid email"), "invalid scope"),
        ("scope", None, "missing scope"),
        ("prompt", Some("none"), "invalid prompt"),
        ("prompt", None, "missing prompt"),
        ("redirect_uri", None, "missing redirect_uri"),
        (
            "redirect_uri",
            Some("http://127.0.0.1:9/api/dingtalk:redirect/"),
            "is not registered",
        ),
        (
            "redirect_uri",
            Some("HTTP://127.0.0.1:9/api/dingtalk:redirect"),
            "is not registered",
        ),
    ];
    for (name, value, expected) in cases {
        let mut params = env.valid_params(&[("login_as", "alice")]);
        params.retain(|(k, _)| *k != name);
        if let Some(value) = value {
            params.push((name, value));
        }
        let response = env.get(&env.auth_url(&params)).await;
        assert_eq!(response.status(), 400, "{name}={value:?}");
        assert!(response.headers().contains_key("x-acs-request-id"));
        let page = response.text().await.unwrap();
        assert!(page.contains(expected), "{name}={value:?}: {page}");
    }
}

#[tokio::test]
async fn app_without_registered_redirect_is_refused() {
    let env = env().await;
    env.fake
        .add_app(FakeApp::new("bare", "x").with_corp_id("dingcorp001"))
        .unwrap();
    let mut params = env.valid_params(&[]);
    params.retain(|(k, _)| *k != "client_id");
    params.push(("client_id", "bare"));
    let response = env.get(&env.auth_url(&params)).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("registered: none"));
}

#[tokio::test]
async fn unknown_login_as_user_is_refused() {
    let env = env().await;
    let response = env
        .get(&env.auth_url(&env.valid_params(&[("login_as", "ghost")])))
        .await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("ghost"));
}
