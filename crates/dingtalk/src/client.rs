//! [`DingTalkClient`]: the calls authgate makes, each with its retry rule.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::json;
use url::Url;

use crate::app_token::AppTokenCache;
use crate::authorize::{self, AuthorizeRequest};
use crate::config::{endpoint_url, DingTalkConfig};
use crate::error::Result;
use crate::response::{
    Endpoint, APP_ACCESS_TOKEN, GET_BY_UNIONID, GET_USER_INFO, USERS_ME, USER_ACCESS_TOKEN,
    USER_GET,
};
use crate::secret::ClientCredentials;
use crate::transport::send;
use crate::types::{AppAccessToken, InClientUser, OrgUser, UnionIdLookup, UserProfile, UserToken};

const USER_TOKEN_HEADER: &str = "x-acs-dingtalk-access-token";

struct Endpoints {
    user_access_token: Url,
    app_access_token: Url,
    users_me: Url,
    getbyunionid: Url,
    user_get: Url,
    getuserinfo: Url,
}

struct Inner {
    config: DingTalkConfig,
    http: reqwest::Client,
    endpoints: Endpoints,
    app_tokens: AppTokenCache,
}

/// A DingTalk client. Cheap to clone: clones share one connection pool and one app-token cache.
#[derive(Clone)]
pub struct DingTalkClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for DingTalkClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DingTalkClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl DingTalkClient {
    pub fn new(config: DingTalkConfig) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .timeout(config.timeout)
            .pool_idle_timeout(std::time::Duration::from_secs(60))
            // API answers never redirect; following one could leak the token header elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("authgate-dingtalk/", env!("CARGO_PKG_VERSION")))
            .build()
            // Only fails if the TLS backend cannot initialise; rustls with bundled roots always can.
            .expect("HTTP client configuration is valid");
        let endpoints = Endpoints {
            user_access_token: endpoint_url(&config.api_base, "/v1.0/oauth2/userAccessToken"),
            app_access_token: endpoint_url(&config.api_base, "/v1.0/oauth2/accessToken"),
            users_me: endpoint_url(&config.api_base, "/v1.0/contact/users/me"),
            getbyunionid: endpoint_url(&config.oapi_base, "/topapi/user/getbyunionid"),
            user_get: endpoint_url(&config.oapi_base, "/topapi/v2/user/get"),
            getuserinfo: endpoint_url(&config.oapi_base, "/topapi/v2/user/getuserinfo"),
        };
        Self {
            inner: Arc::new(Inner {
                config,
                http,
                endpoints,
                app_tokens: AppTokenCache::default(),
            }),
        }
    }

    pub fn config(&self) -> &DingTalkConfig {
        &self.inner.config
    }

    /// The URL to send the browser to (reference 1.1).
    pub fn authorize_url(&self, request: &AuthorizeRequest) -> Url {
        authorize::authorize_url(&self.inner.config.login_base, request)
    }

    fn timeout(&self) -> std::time::Duration {
        self.inner.config.timeout
    }

    /// Sends `request` and parses the answer with `endpoint`'s rules.
    async fn call<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint<T>,
        request: reqwest::RequestBuilder,
    ) -> Result<T> {
        let raw = send(endpoint.name(), self.timeout(), request).await?;
        endpoint.parse(raw.status, raw.request_id.as_deref(), &raw.body)
    }

    async fn post_new_api<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint<T>,
        url: &Url,
        body: &serde_json::Value,
    ) -> Result<T> {
        let request = self.inner.http.post(url.clone()).json(body);
        self.call(endpoint, request).await
    }

    /// Exchanges a sign-in code for a user access token. Never retried: the code is single-use.
    pub async fn user_access_token(
        &self,
        creds: &ClientCredentials,
        code: &str,
    ) -> Result<UserToken> {
        let body = json!({
            "clientId": creds.client_id,
            "clientSecret": creds.client_secret.expose(),
            "code": code,
            "grantType": "authorization_code",
        });
        self.post_new_api(
            USER_ACCESS_TOKEN,
            &self.inner.endpoints.user_access_token,
            &body,
        )
        .await
    }

    /// A new user token pair from a refresh token. Never retried: the refresh token is used up.
    pub async fn refresh_user_access_token(
        &self,
        creds: &ClientCredentials,
        refresh_token: &str,
    ) -> Result<UserToken> {
        let body = json!({
            "clientId": creds.client_id,
            "clientSecret": creds.client_secret.expose(),
            "refreshToken": refresh_token,
            "grantType": "refresh_token",
        });
        self.post_new_api(
            USER_ACCESS_TOKEN,
            &self.inner.endpoints.user_access_token,
            &body,
        )
        .await
    }

    /// The profile of the user a user access token belongs to.
    pub async fn me(&self, user_access_token: &str) -> Result<UserProfile> {
        let request = self
            .inner
            .http
            .get(self.inner.endpoints.users_me.clone())
            .header(USER_TOKEN_HEADER, user_access_token);
        self.call(USERS_ME, request).await
    }

    /// Fetches an app access token, bypassing the cache (an admin's "Test connection").
    pub async fn fetch_app_access_token(
        &self,
        creds: &ClientCredentials,
    ) -> Result<AppAccessToken> {
        let body = json!({
            "appKey": creds.client_id,
            "appSecret": creds.client_secret.expose(),
        });
        self.post_new_api(
            APP_ACCESS_TOKEN,
            &self.inner.endpoints.app_access_token,
            &body,
        )
        .await
    }

    /// The app's access token, cached until 5 minutes before it expires. Concurrent callers
    /// for one app wait for a single fetch and share its outcome.
    pub async fn app_access_token(&self, creds: &ClientCredentials) -> Result<String> {
        self.inner
            .app_tokens
            .get_or_fetch(creds, || self.fetch_app_access_token(creds))
            .await
    }

    /// Forgets the cached app token (e.g. after the app's secret was changed).
    pub fn invalidate_app_token(&self, client_id: &str) {
        self.inner.app_tokens.invalidate(client_id);
    }

    /// A legacy call with the app token. On 40014 the token is dropped from the cache and,
    /// when `retry_on_invalid_token`, the call is repeated once with a fresh token.
    async fn legacy_call<T: DeserializeOwned>(
        &self,
        creds: &ClientCredentials,
        endpoint: Endpoint<T>,
        url: &Url,
        body: &serde_json::Value,
        retry_on_invalid_token: bool,
    ) -> Result<T> {
        let token = self.app_access_token(creds).await?;
        match self.legacy_post(endpoint, url, &token, body).await {
            Err(err) if err.is_invalid_token() => {
                self.inner
                    .app_tokens
                    .invalidate_if(&creds.client_id, &token);
                if !retry_on_invalid_token {
                    return Err(err);
                }
                tracing::debug!(
                    endpoint = endpoint.name(),
                    "app token rejected; retrying with a fresh one"
                );
                let token = self.app_access_token(creds).await?;
                self.legacy_post(endpoint, url, &token, body).await
            }
            other => other,
        }
    }

    async fn legacy_post<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint<T>,
        url: &Url,
        token: &str,
        body: &serde_json::Value,
    ) -> Result<T> {
        let mut url = url.clone();
        url.query_pairs_mut().append_pair("access_token", token);
        let request = self.inner.http.post(url).json(body);
        self.call(endpoint, request).await
    }

    /// The user's org directory id. [`crate::Error::is_not_org_member`] (errcode 60121) means
    /// the user is not in the app's organisation.
    pub async fn userid_by_unionid(
        &self,
        creds: &ClientCredentials,
        unionid: &str,
    ) -> Result<UnionIdLookup> {
        let body = json!({ "unionid": unionid });
        let url = &self.inner.endpoints.getbyunionid;
        self.legacy_call(creds, GET_BY_UNIONID, url, &body, true)
            .await
    }

    /// The organisation's directory entry for `userid`.
    pub async fn user_get(&self, creds: &ClientCredentials, userid: &str) -> Result<OrgUser> {
        let body = json!({ "userid": userid, "language": "zh_CN" });
        let url = &self.inner.endpoints.user_get;
        self.legacy_call(creds, USER_GET, url, &body, true).await
    }

    /// Who opened the page inside the DingTalk client, from a `dd.requestAuthCode` code.
    /// Never retried: the code is single-use.
    pub async fn user_info_by_code(
        &self,
        creds: &ClientCredentials,
        in_client_code: &str,
    ) -> Result<InClientUser> {
        let body = json!({ "code": in_client_code });
        let url = &self.inner.endpoints.getuserinfo;
        self.legacy_call(creds, GET_USER_INFO, url, &body, false)
            .await
    }
}
