//! The browser sign-in URL (reference 1.1).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::endpoint_url;

/// What the sign-in asks DingTalk for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// `openid`: who the user is.
    #[default]
    #[serde(rename = "openid")]
    OpenId,
    /// `openid corpid`: also which organisation the user picked.
    #[serde(rename = "openid corpid")]
    OpenIdCorpId,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::OpenId => "openid",
            Scope::OpenIdCorpId => "openid corpid",
        }
    }
}

/// What DingTalk shows the user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Prompt {
    /// `consent`
    #[default]
    #[serde(rename = "consent")]
    Consent,
    /// `login consent`: an account picker first.
    #[serde(rename = "login consent")]
    LoginConsent,
}

impl Prompt {
    pub fn as_str(self) -> &'static str {
        match self {
            Prompt::Consent => "consent",
            Prompt::LoginConsent => "login consent",
        }
    }
}

/// A value that is not one of DingTalk's spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what}: {value:?}")]
pub struct UnknownValue {
    what: &'static str,
    value: String,
}

impl FromStr for Scope {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "openid" => Ok(Scope::OpenId),
            "openid corpid" => Ok(Scope::OpenIdCorpId),
            _ => Err(UnknownValue {
                what: "scope",
                value: s.to_owned(),
            }),
        }
    }
}

impl FromStr for Prompt {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "consent" => Ok(Prompt::Consent),
            "login consent" => Ok(Prompt::LoginConsent),
            _ => Err(UnknownValue {
                what: "prompt",
                value: s.to_owned(),
            }),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Prompt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parameters of `GET /oauth2/auth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub client_id: String,
    /// Must equal, byte for byte, a redirect URL registered in the DingTalk console.
    pub redirect_uri: String,
    /// Echoed back unchanged (authgate's CSRF nonce).
    pub state: String,
    pub scope: Scope,
    pub prompt: Prompt,
    /// `corpId`: pre-selects an organisation (with [`Scope::OpenIdCorpId`]).
    pub corp_id: Option<String>,
    /// `org_type`, e.g. `management` (with [`Scope::OpenIdCorpId`]).
    pub org_type: Option<String>,
    /// `exclusiveLogin=true&exclusiveCorpId=..`: only this organisation's accounts.
    pub exclusive_corp_id: Option<String>,
}

impl AuthorizeRequest {
    /// Scope `openid`, prompt `consent`, no extras.
    pub fn new(
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
        state: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            state: state.into(),
            scope: Scope::OpenId,
            prompt: Prompt::Consent,
            corp_id: None,
            org_type: None,
            exclusive_corp_id: None,
        }
    }
}

/// The authorize URL on `login_base`, parameters in the reference's order.
pub fn authorize_url(login_base: &Url, request: &AuthorizeRequest) -> Url {
    let mut params: Vec<(&str, &str)> = vec![
        ("redirect_uri", &request.redirect_uri),
        ("response_type", "code"),
        ("client_id", &request.client_id),
        ("scope", request.scope.as_str()),
        ("state", &request.state),
        ("prompt", request.prompt.as_str()),
    ];
    if let Some(corp_id) = &request.corp_id {
        params.push(("corpId", corp_id));
    }
    if let Some(org_type) = &request.org_type {
        params.push(("org_type", org_type));
    }
    if let Some(corp_id) = &request.exclusive_corp_id {
        params.push(("exclusiveLogin", "true"));
        params.push(("exclusiveCorpId", corp_id));
    }
    let query = params
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut url = endpoint_url(login_base, "/oauth2/auth");
    url.set_query(Some(&query));
    url
}

/// Percent-encodes everything but unreserved characters; a space becomes `%20` (not `+`),
/// which every server decodes the same way.
fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        // byte_serialize writes a space as '+' and a real '+' as "%2B", so this is exact.
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_example() {
        let base = Url::parse("https://login.dingtalk.com").unwrap();
        let req = AuthorizeRequest::new(
            "dingabc",
            "https://auth.example.com/api/dingtalk:redirect",
            "n0nce",
        );
        assert_eq!(
            authorize_url(&base, &req).as_str(),
            "https://login.dingtalk.com/oauth2/auth?redirect_uri=https%3A%2F%2Fauth.example.com%2Fapi%2Fdingtalk%3Aredirect\
             &response_type=code&client_id=dingabc&scope=openid&state=n0nce&prompt=consent"
        );
    }

    #[test]
    fn spaces_and_extras() {
        let base = Url::parse("https://login.dingtalk.com/").unwrap();
        let mut req = AuthorizeRequest::new("c", "https://x/cb", "s+1 2");
        req.scope = Scope::OpenIdCorpId;
        req.prompt = Prompt::LoginConsent;
        req.corp_id = Some("ding1".into());
        req.org_type = Some("management".into());
        req.exclusive_corp_id = Some("ding2".into());
        let url = authorize_url(&base, &req);
        let q = url.query().unwrap();
        assert!(q.contains("scope=openid%20corpid"), "{q}");
        assert!(q.contains("prompt=login%20consent"), "{q}");
        assert!(q.contains("state=s%2B1%202"), "{q}");
        assert!(
            q.ends_with(
                "&corpId=ding1&org_type=management&exclusiveLogin=true&exclusiveCorpId=ding2"
            ),
            "{q}"
        );
        assert_eq!("openid corpid".parse::<Scope>(), Ok(Scope::OpenIdCorpId));
        assert!("email".parse::<Scope>().is_err());
    }
}
