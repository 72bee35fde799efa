//! Where DingTalk lives and how long to wait for it.

use std::time::Duration;

use url::Url;

/// Base URLs of DingTalk's three hosts and the per-request timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DingTalkConfig {
    /// Browser sign-in host (`/oauth2/auth`).
    pub login_base: Url,
    /// New API host (`/v1.0/...`).
    pub api_base: Url,
    /// Legacy API host (`/topapi/...`).
    pub oapi_base: Url,
    /// Limit for connecting plus the whole exchange of one request.
    pub timeout: Duration,
}

impl Default for DingTalkConfig {
    fn default() -> Self {
        Self {
            login_base: parse_static("https://login.dingtalk.com"),
            api_base: parse_static("https://api.dingtalk.com"),
            oapi_base: parse_static("https://oapi.dingtalk.com"),
            timeout: Duration::from_secs(5),
        }
    }
}

fn parse_static(url: &str) -> Url {
    Url::parse(url).expect("built-in DingTalk URLs are valid")
}

impl DingTalkConfig {
    /// All three hosts on one base URL (how the fake DingTalk serves them).
    pub fn single_host(base: Url) -> Self {
        Self {
            login_base: base.clone(),
            api_base: base.clone(),
            oapi_base: base,
            ..Self::default()
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// `base` + `path`, keeping any path prefix of `base` (e.g. a proxy mounted under `/dingtalk`).
pub(crate) fn endpoint_url(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!("{}{}", base.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    url.set_query(None);
    url.set_fragment(None);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_keeps_prefix() {
        let base = Url::parse("http://proxy.local/dingtalk/").unwrap();
        assert_eq!(
            endpoint_url(&base, "/v1.0/oauth2/accessToken").as_str(),
            "http://proxy.local/dingtalk/v1.0/oauth2/accessToken"
        );
        let base = Url::parse("https://api.dingtalk.com").unwrap();
        assert_eq!(
            endpoint_url(&base, "/v1.0/contact/users/me").as_str(),
            "https://api.dingtalk.com/v1.0/contact/users/me"
        );
    }
}
