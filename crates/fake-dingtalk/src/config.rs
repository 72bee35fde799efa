//! Start-up data of the fake: registered apps, the employee directory and lifetimes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Client ID of the app every default configuration registers, for the demo.
pub const DEFAULT_CLIENT_ID: &str = "dingdemo";
/// Client secret of the default app.
pub const DEFAULT_CLIENT_SECRET: &str = "dingdemo-secret-0123456789abcdef";
/// Organisation (corpId) of the default app; most fixture users belong to it.
pub const DEFAULT_CORP_ID: &str = "dingcorp001";

const FIXTURE_USERS: &str = include_str!("../fixtures/users.json");

/// An app registered in the fake "developer console".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FakeApp {
    pub client_id: String,
    pub client_secret: String,
    /// The organisation that owns the app; `getbyunionid` answers 60121 for anyone outside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corp_id: Option<String>,
    /// Redirect URLs accepted by `/oauth2/auth`, compared byte for byte.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
}

impl FakeApp {
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            corp_id: None,
            redirect_uris: Vec::new(),
        }
    }

    pub fn with_corp_id(mut self, corp_id: impl Into<String>) -> Self {
        self.corp_id = Some(corp_id.into());
        self
    }

    pub fn with_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }
}

/// A DingTalk account. Optional fields the user lacks are omitted from every answer,
/// as real DingTalk does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FakeUser {
    /// Organisation directory id (the same in every organisation, for simplicity).
    pub userid: String,
    pub union_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nick: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_email: Option<String>,
    /// Organisations the user is a member of.
    #[serde(default)]
    pub corp_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_number: Option<String>,
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub dept_id_list: Vec<i64>,
}

impl FakeUser {
    pub fn new(userid: impl Into<String>, union_id: impl Into<String>) -> Self {
        Self {
            userid: userid.into(),
            union_id: union_id.into(),
            ..Self::default()
        }
    }

    pub fn is_member_of(&self, corp_id: &str) -> bool {
        self.corp_ids.iter().any(|c| c == corp_id)
    }

    /// What the account picker shows.
    pub fn display_name(&self) -> &str {
        self.nick
            .as_deref()
            .or(self.name.as_deref())
            .unwrap_or(&self.userid)
    }
}

/// Everything the fake starts with. `Default` = the embedded fixture users and the `dingdemo` app.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    pub apps: Vec<FakeApp>,
    pub users: Vec<FakeUser>,
    /// Lifetime of a web sign-in code.
    pub code_ttl: Duration,
    /// Lifetime of an in-client (login-free) code.
    pub in_client_code_ttl: Duration,
    /// Lifetime of user and app access tokens (reported as `expireIn`).
    pub token_ttl: Duration,
    /// Oldest entries of the request log are dropped beyond this.
    pub max_log_entries: usize,
    /// Upper bound for each table of live codes and tokens (memory stays bounded under load).
    pub max_live_entries: usize,
}

impl Default for FakeConfig {
    fn default() -> Self {
        let users = parse_users_document(FIXTURE_USERS)
            .map(|doc| doc.users)
            .unwrap_or_default();
        Self {
            apps: vec![Self::default_app()],
            users,
            code_ttl: Duration::from_secs(300),
            in_client_code_ttl: Duration::from_secs(300),
            token_ttl: Duration::from_secs(7200),
            max_log_entries: 10_000,
            max_live_entries: 200_000,
        }
    }
}

/// Why a users file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read users file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("users file is not valid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("users file is not valid: {0}")]
    Invalid(String),
}

/// A users file is either a JSON array of users or `{"users": [...], "apps": [...]}`.
#[derive(Deserialize)]
struct UsersDocument {
    users: Vec<FakeUser>,
    #[serde(default)]
    apps: Vec<FakeApp>,
}

fn parse_users_document(json: &str) -> Result<UsersDocument, ConfigError> {
    let value: serde_json::Value = serde_json::from_str(json)?;
    let doc = if value.is_array() {
        UsersDocument {
            users: serde_json::from_value(value)?,
            apps: Vec::new(),
        }
    } else {
        serde_json::from_value(value)?
    };
    validate_users(&doc.users)?;
    Ok(doc)
}

fn validate_users(users: &[FakeUser]) -> Result<(), ConfigError> {
    let mut userids = HashSet::new();
    let mut union_ids = HashSet::new();
    for user in users {
        if user.userid.is_empty() || user.union_id.is_empty() {
            return Err(ConfigError::Invalid(
                "every user needs a non-empty userid and unionId".into(),
            ));
        }
        if !userids.insert(user.userid.as_str()) {
            return Err(ConfigError::Invalid(format!(
                "duplicate userid {}",
                user.userid
            )));
        }
        if !union_ids.insert(user.union_id.as_str()) {
            return Err(ConfigError::Invalid(format!(
                "duplicate unionId {}",
                user.union_id
            )));
        }
    }
    Ok(())
}

impl FakeConfig {
    /// The demo app: `dingdemo`, organisation `dingcorp001`, no redirect URL registered yet.
    pub fn default_app() -> FakeApp {
        FakeApp::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET).with_corp_id(DEFAULT_CORP_ID)
    }

    /// The users of `fixtures/users.json`.
    pub fn fixture_users() -> Vec<FakeUser> {
        Self::default().users
    }

    /// Default configuration with the users (and optional apps) of a JSON file instead of the fixture.
    pub fn from_users_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_users_json(&json)
    }

    /// Like [`FakeConfig::from_users_file`], from the file's text.
    pub fn from_users_json(json: &str) -> Result<Self, ConfigError> {
        let doc = parse_users_document(json)?;
        let mut config = Self {
            users: doc.users,
            ..Self::default()
        };
        for app in doc.apps {
            config = config.with_app(app);
        }
        Ok(config)
    }

    /// Registers an app, replacing one with the same client ID.
    pub fn with_app(mut self, app: FakeApp) -> Self {
        self.apps.retain(|a| a.client_id != app.client_id);
        self.apps.push(app);
        self
    }

    /// Adds a user, replacing one with the same userid.
    pub fn with_user(mut self, user: FakeUser) -> Self {
        self.users.retain(|u| u.userid != user.userid);
        self.users.push(user);
        self
    }

    pub fn with_code_ttl(mut self, ttl: Duration) -> Self {
        self.code_ttl = ttl;
        self.in_client_code_ttl = ttl;
        self
    }
}
