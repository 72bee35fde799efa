use std::time::Duration;

use authgate_dingtalk::{ClientCredentials, DingTalkClient, DingTalkConfig};
use fake_dingtalk::{FakeConfig, FakeDingTalk, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use url::Url;

pub const REDIRECT: &str = "https://auth.example.test/api/dingtalk:redirect";

pub struct Env {
    pub fake: FakeDingTalk,
    pub client: DingTalkClient,
    pub creds: ClientCredentials,
}

pub async fn env() -> Env {
    env_with_timeout(Duration::from_secs(5)).await
}

pub async fn env_with_timeout(timeout: Duration) -> Env {
    let config =
        FakeConfig::default().with_app(FakeConfig::default_app().with_redirect_uri(REDIRECT));
    let fake = FakeDingTalk::start(config).await;
    let client =
        DingTalkClient::new(DingTalkConfig::single_host(fake.base_url()).with_timeout(timeout));
    Env {
        fake,
        client,
        creds: ClientCredentials::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    }
}

impl Env {
    /// A web sign-in code for `user`, minted as if they had consented.
    pub fn code(&self, user: &str) -> String {
        self.fake
            .mint_web_code(DEFAULT_CLIENT_ID, user, false)
            .unwrap()
    }

    pub fn code_with_corp(&self, user: &str) -> String {
        self.fake
            .mint_web_code(DEFAULT_CLIENT_ID, user, true)
            .unwrap()
    }

    /// Follows an authorize URL the way a browser would, choosing `user`; returns the callback URL.
    pub async fn consent(&self, authorize_url: &Url, user: &str) -> Url {
        let mut url = authorize_url.clone();
        url.query_pairs_mut().append_pair("login_as", user);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = http.get(url).send().await.unwrap();
        assert_eq!(response.status(), 302, "{}", response.text().await.unwrap());
        Url::parse(response.headers()["location"].to_str().unwrap()).unwrap()
    }
}

pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Asserts that none of `needles` occurs in the error's text or debug form.
pub fn assert_redacted(err: &authgate_dingtalk::Error, needles: &[&str]) {
    let shown = format!("{err} {err:?}");
    for needle in needles {
        assert!(!shown.contains(needle), "{needle:?} leaked into: {shown}");
    }
}
