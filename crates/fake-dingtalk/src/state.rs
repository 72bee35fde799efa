//! The fake's in-memory world: apps, users, codes and tokens, and the rules DingTalk applies to them.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rand::Rng as _;
use sha2::{Digest as _, Sha256};

use crate::config::{FakeApp, FakeConfig, FakeUser};
use crate::expiring::ExpiringMap;
use crate::faults::FaultTable;
use crate::request_log::RequestLog;

/// Why an in-process or control-API call on the fake was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FakeError {
    #[error("no app with client ID {0}")]
    UnknownApp(String),
    #[error("no user with userid or unionId {0}")]
    UnknownUser(String),
    #[error("user {userid} is not a member of organisation {corp_id}")]
    NotAMember { userid: String, corp_id: String },
    #[error("app {0} has no organisation (corpId)")]
    AppWithoutCorp(String),
    #[error("invalid fault rule: {0}")]
    InvalidFault(String),
    #[error("invalid {0}")]
    Invalid(String),
}

/// A DingTalk error in new-API terms (`code` string, HTTP status).
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad_credentials() -> Self {
        Self::new(
            400,
            "invalidClientIdOrSecret",
            "无效的clientId或者clientSecret",
        )
    }

    fn invalid_code() -> Self {
        Self::new(400, "invalidCode", "不合法的临时授权码")
    }

    fn bad_token() -> Self {
        Self::new(401, "InvalidAuthentication", "不合法的access_token")
    }
}

/// A DingTalk error in legacy terms (`errcode`, HTTP 200).
#[derive(Debug, Clone)]
pub(crate) struct LegacyError {
    pub(crate) errcode: i64,
    pub(crate) errmsg: String,
}

impl LegacyError {
    pub(crate) fn new(errcode: i64, errmsg: impl Into<String>) -> Self {
        Self {
            errcode,
            errmsg: errmsg.into(),
        }
    }

    fn bad_token() -> Self {
        Self::new(40014, "不合法的access_token")
    }

    fn no_user() -> Self {
        Self::new(60121, "找不到该用户")
    }
}

#[derive(Clone)]
struct WebCode {
    client_id: String,
    union_id: String,
    corp_id: Option<String>,
}

#[derive(Clone)]
struct InClientCode {
    client_id: String,
    userid: String,
}

#[derive(Clone)]
struct UserGrant {
    client_id: String,
    union_id: String,
    corp_id: Option<String>,
}

/// The answer to a successful code exchange.
pub(crate) struct IssuedUserToken {
    pub(crate) access_token: String,
    pub(crate) refresh_token: String,
    pub(crate) corp_id: Option<String>,
}

#[derive(Default)]
struct Directory {
    apps: HashMap<String, FakeApp>,
    users: Vec<FakeUser>,
    by_userid: HashMap<String, usize>,
    by_union_id: HashMap<String, usize>,
}

impl Directory {
    fn from_config(config: &FakeConfig) -> Self {
        let mut dir = Directory::default();
        for app in &config.apps {
            dir.apps.insert(app.client_id.clone(), app.clone());
        }
        for user in &config.users {
            dir.upsert_user(user.clone());
        }
        dir
    }

    fn upsert_user(&mut self, user: FakeUser) {
        if let Some(&i) = self.by_userid.get(&user.userid) {
            let old_union = std::mem::take(&mut self.users[i].union_id);
            self.by_union_id.remove(&old_union);
            self.by_union_id.insert(user.union_id.clone(), i);
            self.users[i] = user;
        } else {
            let i = self.users.len();
            self.by_userid.insert(user.userid.clone(), i);
            self.by_union_id.insert(user.union_id.clone(), i);
            self.users.push(user);
        }
    }

    fn user_by_union_id(&self, union_id: &str) -> Option<&FakeUser> {
        self.by_union_id.get(union_id).map(|&i| &self.users[i])
    }

    fn user_by_userid(&self, userid: &str) -> Option<&FakeUser> {
        self.by_userid.get(userid).map(|&i| &self.users[i])
    }
}

struct AppTokens {
    by_client: HashMap<String, (String, Instant)>,
    by_token: HashMap<String, String>,
}

pub(crate) struct Shared {
    initial: FakeConfig,
    directory: RwLock<Directory>,
    web_codes: Mutex<ExpiringMap<WebCode>>,
    in_client_codes: Mutex<ExpiringMap<InClientCode>>,
    user_tokens: Mutex<ExpiringMap<UserGrant>>,
    refresh_tokens: Mutex<ExpiringMap<UserGrant>>,
    app_tokens: Mutex<AppTokens>,
    pub(crate) faults: FaultTable,
    pub(crate) log: RequestLog,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking handler must not take the whole fake down with it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// 128 random bits, hex: unguessable codes and tokens.
fn random_token() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Per-app id, stable for (app, user) like the real `openId`.
pub(crate) fn open_id(client_id: &str, union_id: &str) -> String {
    let digest = Sha256::new()
        .chain_update(client_id.as_bytes())
        .chain_update([0u8])
        .chain_update(union_id.as_bytes())
        .finalize();
    let mut id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    id.truncate(26);
    id.push_str("iE");
    id
}

impl Shared {
    pub(crate) fn new(config: FakeConfig) -> Self {
        let cap = config.max_live_entries;
        Self {
            directory: RwLock::new(Directory::from_config(&config)),
            web_codes: Mutex::new(ExpiringMap::new(cap)),
            in_client_codes: Mutex::new(ExpiringMap::new(cap)),
            user_tokens: Mutex::new(ExpiringMap::new(cap)),
            refresh_tokens: Mutex::new(ExpiringMap::new(cap)),
            app_tokens: Mutex::new(AppTokens {
                by_client: HashMap::new(),
                by_token: HashMap::new(),
            }),
            faults: FaultTable::default(),
            log: RequestLog::new(config.max_log_entries),
            initial: config,
        }
    }

    fn dir(&self) -> std::sync::RwLockReadGuard<'_, Directory> {
        self.directory.read().unwrap_or_else(|p| p.into_inner())
    }

    fn dir_mut(&self) -> std::sync::RwLockWriteGuard<'_, Directory> {
        self.directory.write().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn token_ttl(&self) -> Duration {
        self.initial.token_ttl
    }

    // ---- directory administration -------------------------------------------------

    pub(crate) fn app(&self, client_id: &str) -> Option<FakeApp> {
        self.dir().apps.get(client_id).cloned()
    }

    pub(crate) fn apps(&self) -> Vec<FakeApp> {
        let mut apps: Vec<_> = self.dir().apps.values().cloned().collect();
        apps.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        apps
    }

    pub(crate) fn upsert_app(&self, app: FakeApp) -> Result<(), FakeError> {
        if app.client_id.is_empty() || app.client_secret.is_empty() {
            return Err(FakeError::Invalid(
                "app: clientId and clientSecret must not be empty".into(),
            ));
        }
        let mut dir = self.dir_mut();
        dir.apps.insert(app.client_id.clone(), app);
        Ok(())
    }

    pub(crate) fn users(&self) -> Vec<FakeUser> {
        self.dir().users.clone()
    }

    pub(crate) fn upsert_user(&self, user: FakeUser) -> Result<(), FakeError> {
        if user.userid.is_empty() || user.union_id.is_empty() {
            return Err(FakeError::Invalid(
                "user: userid and unionId must not be empty".into(),
            ));
        }
        let mut dir = self.dir_mut();
        if let Some(&i) = dir.by_union_id.get(&user.union_id) {
            if dir.users[i].userid != user.userid {
                return Err(FakeError::Invalid(format!(
                    "user: unionId {} already belongs to {}",
                    user.union_id, dir.users[i].userid
                )));
            }
        }
        dir.upsert_user(user);
        Ok(())
    }

    /// Finds a user by userid or unionId (the `login_as` convenience accepts both).
    pub(crate) fn find_user(&self, id: &str) -> Option<FakeUser> {
        let dir = self.dir();
        dir.user_by_userid(id)
            .or_else(|| dir.user_by_union_id(id))
            .cloned()
    }

    /// Users for the account picker page (bounded: benchmarks may load thousands).
    pub(crate) fn users_for_picker(&self, limit: usize) -> Vec<FakeUser> {
        self.dir().users.iter().take(limit).cloned().collect()
    }

    /// Back to the start-up configuration: no codes, tokens, faults or log entries.
    pub(crate) fn reset(&self) {
        *self.dir_mut() = Directory::from_config(&self.initial);
        lock(&self.web_codes).clear();
        lock(&self.in_client_codes).clear();
        lock(&self.user_tokens).clear();
        lock(&self.refresh_tokens).clear();
        let mut app_tokens = lock(&self.app_tokens);
        app_tokens.by_client.clear();
        app_tokens.by_token.clear();
        drop(app_tokens);
        self.faults.clear();
        self.log.clear();
    }

    // ---- web sign-in ---------------------------------------------------------------

    /// A single-use code for `user` signing in to `app`. With scope `corpid` the user "picks"
    /// the requested organisation if they belong to it, else the app's, else their first.
    pub(crate) fn issue_web_code(
        &self,
        app: &FakeApp,
        user: &FakeUser,
        with_corp: bool,
        requested_corp: Option<&str>,
    ) -> String {
        let corp_id = with_corp
            .then(|| {
                requested_corp
                    .filter(|c| user.is_member_of(c))
                    .or(app.corp_id.as_deref().filter(|c| user.is_member_of(c)))
                    .or(user.corp_ids.first().map(String::as_str))
                    .map(str::to_owned)
            })
            .flatten();
        let code = random_token();
        let grant = WebCode {
            client_id: app.client_id.clone(),
            union_id: user.union_id.clone(),
            corp_id,
        };
        lock(&self.web_codes).insert(code.clone(), grant, self.initial.code_ttl);
        code
    }

    fn check_app_secret(&self, client_id: &str, secret: &str) -> Result<FakeApp, ApiError> {
        match self.app(client_id) {
            Some(app) if app.client_secret == secret => Ok(app),
            _ => Err(ApiError::bad_credentials()),
        }
    }

    fn issue_user_token(&self, grant: UserGrant) -> IssuedUserToken {
        let access_token = random_token();
        let refresh_token = random_token();
        let corp_id = grant.corp_id.clone();
        lock(&self.user_tokens).insert(access_token.clone(), grant.clone(), self.token_ttl());
        lock(&self.refresh_tokens).insert(
            refresh_token.clone(),
            grant,
            Duration::from_secs(30 * 24 * 3600),
        );
        IssuedUserToken {
            access_token,
            refresh_token,
            corp_id,
        }
    }

    /// `grantType: authorization_code`. The code is consumed even when it belongs to another
    /// app, as a leaked code must never become usable later.
    pub(crate) fn exchange_code(
        &self,
        client_id: &str,
        secret: &str,
        code: &str,
    ) -> Result<IssuedUserToken, ApiError> {
        self.check_app_secret(client_id, secret)?;
        let grant = lock(&self.web_codes)
            .take(code)
            .ok_or_else(ApiError::invalid_code)?;
        if grant.client_id != client_id {
            return Err(ApiError::invalid_code());
        }
        Ok(self.issue_user_token(UserGrant {
            client_id: grant.client_id,
            union_id: grant.union_id,
            corp_id: grant.corp_id,
        }))
    }

    /// `grantType: refresh_token`: a new pair; the old refresh token is used up.
    pub(crate) fn refresh(
        &self,
        client_id: &str,
        secret: &str,
        refresh_token: &str,
    ) -> Result<IssuedUserToken, ApiError> {
        self.check_app_secret(client_id, secret)?;
        let grant = lock(&self.refresh_tokens)
            .take(refresh_token)
            .filter(|g| g.client_id == client_id)
            .ok_or_else(|| ApiError::new(400, "invalid.refreshtoken", "不合法的refresh_token"))?;
        Ok(self.issue_user_token(grant))
    }

    /// The user behind a user access token, and the app it was issued to.
    pub(crate) fn user_for_token(&self, token: &str) -> Result<(FakeUser, String), ApiError> {
        let grant = lock(&self.user_tokens)
            .get(token)
            .cloned()
            .ok_or_else(ApiError::bad_token)?;
        let user = self
            .dir()
            .user_by_union_id(&grant.union_id)
            .cloned()
            .ok_or_else(|| ApiError::new(404, "invalidParameter.user.notFound", "用户不存在"))?;
        Ok((user, grant.client_id))
    }

    // ---- app token and directory ---------------------------------------------------

    /// Like DingTalk, the same token comes back while it is valid.
    pub(crate) fn app_access_token(
        &self,
        app_key: &str,
        app_secret: &str,
    ) -> Result<String, ApiError> {
        self.check_app_secret(app_key, app_secret)?;
        let now = Instant::now();
        let mut tokens = lock(&self.app_tokens);
        if let Some((token, expires)) = tokens.by_client.get(app_key) {
            if *expires > now {
                return Ok(token.clone());
            }
        }
        let token = random_token();
        let old = tokens
            .by_client
            .insert(app_key.to_owned(), (token.clone(), now + self.token_ttl()));
        if let Some((old_token, _)) = old {
            tokens.by_token.remove(&old_token);
        }
        tokens.by_token.insert(token.clone(), app_key.to_owned());
        Ok(token)
    }

    /// Invalidates app tokens (one app's, or all), so clients see 40014 next.
    pub(crate) fn revoke_app_tokens(&self, client_id: Option<&str>) {
        let mut tokens = lock(&self.app_tokens);
        match client_id {
            Some(id) => {
                if let Some((token, _)) = tokens.by_client.remove(id) {
                    tokens.by_token.remove(&token);
                }
            }
            None => {
                tokens.by_client.clear();
                tokens.by_token.clear();
            }
        }
    }

    /// The app a legacy call's `access_token` belongs to.
    pub(crate) fn app_for_app_token(&self, token: Option<&str>) -> Result<FakeApp, LegacyError> {
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or_else(LegacyError::bad_token)?;
        let client_id = {
            let tokens = lock(&self.app_tokens);
            let client_id = tokens
                .by_token
                .get(token)
                .cloned()
                .ok_or_else(LegacyError::bad_token)?;
            match tokens.by_client.get(&client_id) {
                Some((_, expires)) if *expires > Instant::now() => client_id,
                _ => return Err(LegacyError::bad_token()),
            }
        };
        self.app(&client_id).ok_or_else(LegacyError::bad_token)
    }

    /// A member of the app's organisation, by unionId.
    pub(crate) fn member_by_union_id(
        &self,
        app: &FakeApp,
        union_id: &str,
    ) -> Result<FakeUser, LegacyError> {
        let dir = self.dir();
        dir.user_by_union_id(union_id)
            .filter(|u| app.corp_id.as_deref().is_some_and(|c| u.is_member_of(c)))
            .cloned()
            .ok_or_else(LegacyError::no_user)
    }

    /// A member of the app's organisation, by userid.
    pub(crate) fn member_by_userid(
        &self,
        app: &FakeApp,
        userid: &str,
    ) -> Result<FakeUser, LegacyError> {
        let dir = self.dir();
        dir.user_by_userid(userid)
            .filter(|u| app.corp_id.as_deref().is_some_and(|c| u.is_member_of(c)))
            .cloned()
            .ok_or_else(LegacyError::no_user)
    }

    // ---- in-client login-free --------------------------------------------------------

    /// What `dd.requestAuthCode` would hand a page opened by `userid` in the app's workbench.
    pub(crate) fn mint_in_client_code(
        &self,
        client_id: &str,
        userid: &str,
    ) -> Result<String, FakeError> {
        let app = self
            .app(client_id)
            .ok_or_else(|| FakeError::UnknownApp(client_id.to_owned()))?;
        let corp_id = app
            .corp_id
            .clone()
            .ok_or_else(|| FakeError::AppWithoutCorp(client_id.to_owned()))?;
        let user = self
            .find_user(userid)
            .ok_or_else(|| FakeError::UnknownUser(userid.to_owned()))?;
        if !user.is_member_of(&corp_id) {
            return Err(FakeError::NotAMember {
                userid: user.userid,
                corp_id,
            });
        }
        let code = random_token();
        let grant = InClientCode {
            client_id: client_id.to_owned(),
            userid: user.userid,
        };
        lock(&self.in_client_codes).insert(code.clone(), grant, self.initial.in_client_code_ttl);
        Ok(code)
    }

    /// Consumes an in-client code; 40078 when unknown, used, expired or minted for another app.
    pub(crate) fn take_in_client_code(
        &self,
        app: &FakeApp,
        code: &str,
    ) -> Result<FakeUser, LegacyError> {
        let invalid = || LegacyError::new(40078, "不存在的临时授权码");
        let grant = lock(&self.in_client_codes).take(code).ok_or_else(invalid)?;
        if grant.client_id != app.client_id {
            return Err(invalid());
        }
        self.member_by_userid(app, &grant.userid)
            .map_err(|_| invalid())
    }
}
