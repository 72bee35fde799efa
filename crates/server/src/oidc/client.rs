//! A registered relying party as the provider uses it: the stored record with its settings
//! read into types, and the rules a registration must follow.

use crate::auth::keys::JwsAlg;
use crate::error::Text;
use authgate_store::OidcClientRecord;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;
use utoipa::ToSchema;

/// Scopes a client may be allowed (and the provider answers for).
pub const SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "phone",
    "dingtalk",
    "offline_access",
];

pub const ACCESS_TOKEN_TTL_S: i64 = 3600;
pub const REFRESH_TOKEN_TTL_S: i64 = 30 * 86_400;
const MAX_TTL_S: i64 = 366 * 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// A public client (single-page or native app): no secret, PKCE required.
    None,
}

impl AuthMethod {
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::None => "none",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum IdTokenAlg {
    RS256,
    EdDSA,
}

impl From<IdTokenAlg> for JwsAlg {
    fn from(a: IdTokenAlg) -> JwsAlg {
        match a {
            IdTokenAlg::RS256 => JwsAlg::RS256,
            IdTokenAlg::EdDSA => JwsAlg::EdDSA,
        }
    }
}

/// What an administrator configures, as stored in the record's `settings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientSettings {
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub token_endpoint_auth_method: AuthMethod,
    /// Scopes this client may ask for; others are left out of what it gets.
    pub allowed_scopes: Vec<String>,
    pub id_token_signed_response_alg: IdTokenAlg,
    pub access_token_ttl_s: i64,
    /// How long a refresh-token family lives (`offline_access`); others end with the session.
    pub refresh_token_ttl_s: i64,
    /// Refresh tokens even without `offline_access` (they then end with the session).
    pub refresh_without_offline_access: bool,
    /// `client_credentials` for this (confidential) client: tokens about the client itself.
    pub client_credentials: bool,
    /// Third-party clients ask the user's consent; first-party ones do not.
    pub third_party: bool,
    /// Only administrators may sign in to it.
    pub admins_only: bool,
    pub backchannel_logout_uri: Option<String>,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            token_endpoint_auth_method: AuthMethod::ClientSecretBasic,
            allowed_scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
            id_token_signed_response_alg: IdTokenAlg::RS256,
            access_token_ttl_s: ACCESS_TOKEN_TTL_S,
            refresh_token_ttl_s: REFRESH_TOKEN_TTL_S,
            refresh_without_offline_access: false,
            client_credentials: false,
            third_party: false,
            admins_only: false,
            backchannel_logout_uri: None,
        }
    }
}

/// A client ready to use.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub settings: ClientSettings,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Client {
    pub fn from_record(r: OidcClientRecord) -> Result<Client, serde_json::Error> {
        let settings = serde_json::from_value(serde_json::Value::Object(r.settings))?;
        Ok(Client {
            id: r.id,
            name: r.name,
            secret_hash: r.secret_hash,
            settings,
            enabled: r.enabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }

    pub fn to_record(&self) -> OidcClientRecord {
        let settings = match serde_json::to_value(&self.settings) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => unreachable!("settings serialise to an object"),
        };
        OidcClientRecord {
            id: self.id.clone(),
            name: self.name.clone(),
            secret_hash: self.secret_hash.clone(),
            settings,
            enabled: self.enabled,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    pub fn is_public(&self) -> bool {
        self.settings.token_endpoint_auth_method == AuthMethod::None
    }

    /// Exactly as registered: no prefix, no wildcard, no normalisation.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.settings.redirect_uris.iter().any(|u| u == uri)
    }

    pub fn has_post_logout_uri(&self, uri: &str) -> bool {
        self.settings
            .post_logout_redirect_uris
            .iter()
            .any(|u| u == uri)
    }

    pub fn allows_scope(&self, scope: &str) -> bool {
        self.settings.allowed_scopes.iter().any(|s| s == scope)
    }

    /// Compares in constant time (the hash of a wrong secret differs anywhere).
    pub fn secret_matches(&self, secret: &str) -> bool {
        let Some(stored) = &self.secret_hash else {
            return false;
        };
        bool::from(hash_secret(secret).as_bytes().ct_eq(stored.as_bytes()))
    }

    /// The origins of the redirect URIs: where a browser application runs (CORS).
    pub fn web_origins(&self) -> impl Iterator<Item = String> + '_ {
        self.settings
            .redirect_uris
            .iter()
            .filter_map(|u| Url::parse(u).ok())
            .map(|u| u.origin().ascii_serialization())
    }
}

/// Client secrets are 256 random bits: a fast hash resists guessing as well as a slow one
/// would, and keeps the token endpoint fast.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Why a registration is refused (the message names the field).
pub fn validate(name: &str, s: &ClientSettings, https_only: bool) -> Result<(), Text> {
    if name.trim().is_empty() || name.chars().count() > 100 {
        return Err(Text::new(
            "name: 1 to 100 characters",
            "name：须为 1 到 100 个字符",
        ));
    }
    if s.redirect_uris.is_empty() && !s.client_credentials {
        return Err(Text::new(
            "redirectUris: at least one is needed",
            "redirectUris：至少需要一个重定向 URI",
        ));
    }
    if s.redirect_uris.len() > 20 || s.post_logout_redirect_uris.len() > 20 {
        return Err(Text::new(
            "redirectUris, postLogoutRedirectUris: at most 20 each",
            "redirectUris、postLogoutRedirectUris：各最多 20 个",
        ));
    }
    for uri in &s.redirect_uris {
        check_uri("redirectUris", uri, https_only)?;
    }
    for uri in &s.post_logout_redirect_uris {
        check_uri("postLogoutRedirectUris", uri, https_only)?;
    }
    if let Some(uri) = &s.backchannel_logout_uri {
        check_uri("backchannelLogoutUri", uri, https_only)?;
    }
    if let Some(bad) = s
        .allowed_scopes
        .iter()
        .find(|scope| !SCOPES.contains(&scope.as_str()))
    {
        return Err(Text::new(
            format!("allowedScopes: '{bad}' is not one of {}", SCOPES.join(", ")),
            format!(
                "allowedScopes：“{bad}”不在可用范围内（{}）",
                SCOPES.join("、")
            ),
        ));
    }
    if !s.allowed_scopes.iter().any(|s| s == "openid") {
        return Err(Text::new(
            "allowedScopes: must include openid",
            "allowedScopes：必须包含 openid",
        ));
    }
    for (field, ttl) in [
        ("accessTokenTtlS", s.access_token_ttl_s),
        ("refreshTokenTtlS", s.refresh_token_ttl_s),
    ] {
        if !(60..=MAX_TTL_S).contains(&ttl) {
            return Err(Text::new(
                format!("{field}: between 60 and {MAX_TTL_S} seconds"),
                format!("{field}：须介于 60 到 {MAX_TTL_S} 秒之间"),
            ));
        }
    }
    if s.client_credentials && s.token_endpoint_auth_method == AuthMethod::None {
        return Err(Text::new(
            "clientCredentials: only for clients with a secret",
            "clientCredentials：仅适用于有密钥的应用",
        ));
    }
    Ok(())
}

/// An absolute URL without a fragment; http only for loopback addresses or when authgate
/// itself runs on http (RFC 8252 native apps may use custom schemes, e.g. `com.example.app:/cb`).
fn check_uri(field: &str, uri: &str, https_only: bool) -> Result<(), Text> {
    // Why, in English and in Chinese.
    let refuse = |why: &str, why_zh: &str| {
        Err(Text::new(
            format!("{field}: '{uri}' {why}"),
            format!("{field}：“{uri}”{why_zh}"),
        ))
    };
    if uri.len() > 2000 || uri.chars().any(|c| c.is_control() || c == '\\') {
        return refuse("is not a valid URL", "不是有效的 URL");
    }
    let Ok(url) = Url::parse(uri) else {
        return refuse("is not an absolute URL", "不是绝对 URL");
    };
    if url.fragment().is_some() {
        return refuse("must not have a fragment (#)", "不能包含片段（#）");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return refuse(
            "must not carry a user name or password",
            "不能包含用户名或密码",
        );
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
            if https_only && !loopback {
                refuse(
                    "must use https (http only for localhost)",
                    "必须使用 https（http 仅限 localhost）",
                )
            } else {
                Ok(())
            }
        }
        "javascript" | "data" | "file" | "vbscript" | "blob" | "about" => {
            refuse("uses a scheme that is not allowed", "使用了不允许的协议")
        }
        // Native apps' private-use schemes (reverse domain names).
        scheme if scheme.contains('.') => Ok(()),
        _ => refuse(
            "must be https, http on localhost, or an app's reverse-domain scheme",
            "必须使用 https、仅限 localhost 的 http，或应用的反向域名协议",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(uris: &[&str]) -> ClientSettings {
        ClientSettings {
            redirect_uris: uris.iter().map(|u| u.to_string()).collect(),
            ..ClientSettings::default()
        }
    }

    #[test]
    fn redirect_uris_are_checked() {
        assert!(validate("App", &settings(&["https://app.example.com/cb"]), true).is_ok());
        assert!(validate("App", &settings(&["http://127.0.0.1:9/cb"]), true).is_ok());
        assert!(validate("App", &settings(&["com.example.app:/cb"]), true).is_ok());
        for bad in [
            "http://app.example.com/cb",
            "javascript:alert(1)",
            "https://app.example.com/cb#x",
            "/cb",
            "https://u:p@app.example.com/cb",
            "https://app.example.com\\@evil.com/",
        ] {
            assert!(validate("App", &settings(&[bad]), true).is_err(), "{bad}");
        }
        assert!(validate("App", &settings(&["http://app.example.com/cb"]), false).is_ok());
        assert!(validate("", &settings(&["https://a.example/cb"]), true).is_err());
        assert!(validate("App", &settings(&[]), true).is_err());
    }

    #[test]
    fn secrets_compare_by_hash() {
        let c = Client {
            id: "c".into(),
            name: "c".into(),
            secret_hash: Some(hash_secret("s3cret")),
            settings: ClientSettings::default(),
            enabled: true,
            created_at: 0,
            updated_at: 0,
        };
        assert!(c.secret_matches("s3cret"));
        assert!(!c.secret_matches("s3cres"));
        assert!(!c.secret_matches(""));
    }
}
