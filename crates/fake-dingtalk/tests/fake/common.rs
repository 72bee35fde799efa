use fake_dingtalk::{FakeApp, FakeConfig, FakeDingTalk, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use serde_json::{json, Value};
use url::Url;

pub const REDIRECT: &str = "http://127.0.0.1:9/api/dingtalk:redirect";
pub const OTHER_ID: &str = "other-app";
pub const OTHER_SECRET: &str = "other-secret";

pub struct Env {
    pub fake: FakeDingTalk,
    pub http: reqwest::Client,
}

/// The default fake, with a redirect URL registered for `dingdemo` and a second app in the
/// same organisation.
pub async fn env() -> Env {
    env_with(FakeConfig::default()).await
}

pub async fn env_with(config: FakeConfig) -> Env {
    let config = config
        .with_app(FakeConfig::default_app().with_redirect_uri(REDIRECT))
        .with_app(
            FakeApp::new(OTHER_ID, OTHER_SECRET)
                .with_corp_id("dingcorp001")
                .with_redirect_uri(REDIRECT),
        );
    let fake = FakeDingTalk::start(config).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Env { fake, http }
}

impl Env {
    pub fn url(&self, path_and_query: &str) -> String {
        format!(
            "{}{}",
            self.fake.base_url(),
            path_and_query.trim_start_matches('/')
        )
    }

    /// `/oauth2/auth` with the given parameters (already the decoded values).
    pub fn auth_url(&self, params: &[(&str, &str)]) -> String {
        let mut url = Url::parse(&self.url("/oauth2/auth")).unwrap();
        url.query_pairs_mut().extend_pairs(params);
        url.to_string()
    }

    pub fn valid_params<'a>(&self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut params = vec![
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("scope", "openid"),
            ("state", "st4te"),
            ("prompt", "consent"),
        ];
        params.extend_from_slice(extra);
        params
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    /// Signs `user` in through `/oauth2/auth?login_as=` and returns the code.
    pub async fn code_for(&self, client_id: &str, user: &str, scope: &str) -> String {
        let params = [
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("client_id", client_id),
            ("scope", scope),
            ("state", "s"),
            ("prompt", "consent"),
            ("login_as", user),
        ];
        let response = self.get(&self.auth_url(&params)).await;
        assert_eq!(response.status(), 302, "{}", response.text().await.unwrap());
        let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        location
            .query_pairs()
            .find(|(k, _)| k == "authCode")
            .map(|(_, v)| v.into_owned())
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn exchange(&self, client_id: &str, secret: &str, code: &str) -> reqwest::Response {
        let body = json!({"clientId": client_id, "clientSecret": secret, "code": code, "grantType": "authorization_code"});
        self.post_json("/v1.0/oauth2/userAccessToken", &body).await
    }

    /// A user access token for `user` on the default app.
    pub async fn user_token(&self, user: &str) -> String {
        let code = self.code_for(DEFAULT_CLIENT_ID, user, "openid").await;
        let response = self
            .exchange(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, &code)
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["accessToken"].as_str().unwrap().to_owned()
    }

    pub async fn me(&self, token: &str) -> reqwest::Response {
        self.http
            .get(self.url("/v1.0/contact/users/me"))
            .header("x-acs-dingtalk-access-token", token)
            .send()
            .await
            .unwrap()
    }

    pub async fn app_token(&self) -> String {
        let body = json!({"appKey": DEFAULT_CLIENT_ID, "appSecret": DEFAULT_CLIENT_SECRET});
        let response = self.post_json("/v1.0/oauth2/accessToken", &body).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["accessToken"].as_str().unwrap().to_owned()
    }

    pub async fn legacy(&self, path: &str, token: &str, body: &Value) -> Value {
        let url = format!("{}?access_token={token}", self.url(path));
        let response = self.http.post(url).json(body).send().await.unwrap();
        assert_eq!(response.status(), 200, "legacy errors are HTTP 200");
        response.json().await.unwrap()
    }
}

/// Asserts a new-API error: status, `code`, and a `requestid` equal to the header.
pub async fn assert_api_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let header_rid = response.headers()["x-acs-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(body["requestid"], header_rid.as_str());
    body
}
