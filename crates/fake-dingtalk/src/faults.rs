//! Faults a test switches on to see how a client copes with a misbehaving DingTalk.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The DingTalk endpoints the fake serves (the names are also the control API's spelling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Endpoint {
    /// `GET /oauth2/auth` (login host)
    #[serde(rename = "authorize")]
    Authorize,
    /// `POST /v1.0/oauth2/userAccessToken`
    #[serde(rename = "userAccessToken")]
    UserAccessToken,
    /// `GET /v1.0/contact/users/me`
    #[serde(rename = "usersMe")]
    UsersMe,
    /// `POST /v1.0/oauth2/accessToken` (app token)
    #[serde(rename = "accessToken")]
    AppAccessToken,
    /// `POST /topapi/user/getbyunionid`
    #[serde(rename = "getbyunionid")]
    GetByUnionId,
    /// `POST /topapi/v2/user/get`
    #[serde(rename = "userGet")]
    UserGet,
    /// `POST /topapi/v2/user/getuserinfo`
    #[serde(rename = "getuserinfo")]
    GetUserInfo,
}

impl Endpoint {
    pub const ALL: [Endpoint; 7] = [
        Endpoint::Authorize,
        Endpoint::UserAccessToken,
        Endpoint::UsersMe,
        Endpoint::AppAccessToken,
        Endpoint::GetByUnionId,
        Endpoint::UserGet,
        Endpoint::GetUserInfo,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Authorize => "/oauth2/auth",
            Endpoint::UserAccessToken => "/v1.0/oauth2/userAccessToken",
            Endpoint::UsersMe => "/v1.0/contact/users/me",
            Endpoint::AppAccessToken => "/v1.0/oauth2/accessToken",
            Endpoint::GetByUnionId => "/topapi/user/getbyunionid",
            Endpoint::UserGet => "/topapi/v2/user/get",
            Endpoint::GetUserInfo => "/topapi/v2/user/getuserinfo",
        }
    }

    pub fn from_path(path: &str) -> Option<Endpoint> {
        Self::ALL.into_iter().find(|e| e.path() == path)
    }

    /// Legacy ("oapi") endpoints report errors as HTTP 200 with `errcode`.
    pub fn is_legacy(self) -> bool {
        matches!(
            self,
            Endpoint::GetByUnionId | Endpoint::UserGet | Endpoint::GetUserInfo
        )
    }
}

fn default_error_status() -> u16 {
    502
}

fn default_required_scopes() -> Vec<String> {
    vec!["Contact.User.mobile".to_owned()]
}

/// One kind of misbehaviour. JSON form: `{"kind": "delay", "ms": 300}`, `{"kind": "maskedMobile"}`...
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Fault {
    /// Answer only after this many milliseconds (combines with the other faults).
    Delay { ms: u64 },
    /// A gateway error page: this status (default 502) with an HTML body.
    ServerError {
        #[serde(default = "default_error_status")]
        status: u16,
    },
    /// Status 200 with a truncated JSON body.
    MalformedJson,
    /// Close the connection (TCP reset) without answering.
    ConnectionReset,
    /// The profile / directory entry has no `mobile` (and no `stateCode`).
    MissingMobile,
    /// The mobile number is masked like `155****3240`, as ISV apps receive it.
    MaskedMobile,
    /// The app lacks a permission: 403 `Forbidden.AccessDenied.AccessTokenPermissionDenied`
    /// naming `requiredScopes` (legacy endpoints: errcode 60011).
    PermissionDenied {
        #[serde(default = "default_required_scopes", rename = "requiredScopes")]
        required_scopes: Vec<String>,
    },
    /// `expireIn` is sent as a JSON string, as seen in the wild.
    StringExpireIn,
    /// Successful JSON answers carry unknown extra fields.
    ExtraFields,
}

impl Fault {
    /// Whether this fault means anything on that endpoint.
    pub fn applies_to(&self, endpoint: Endpoint) -> bool {
        use Endpoint::*;
        match self {
            Fault::Delay { .. } | Fault::ServerError { .. } | Fault::ConnectionReset => true,
            Fault::MalformedJson | Fault::ExtraFields | Fault::PermissionDenied { .. } => {
                endpoint != Authorize
            }
            Fault::MissingMobile | Fault::MaskedMobile => matches!(endpoint, UsersMe | UserGet),
            Fault::StringExpireIn => matches!(endpoint, UserAccessToken | AppAccessToken),
        }
    }
}

/// A fault, where it applies (every endpoint when `endpoint` is absent) and for how many
/// requests (for ever when `times` is absent).
/// JSON form: `{"fault": {"kind": "connectionReset"}, "endpoint": "userAccessToken", "times": 1}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    pub fault: Fault,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Endpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

impl FaultRule {
    pub fn new(fault: Fault) -> Self {
        Self {
            fault,
            endpoint: None,
            times: None,
        }
    }

    /// Only on this endpoint.
    pub fn on(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// Only for the next `n` requests it applies to.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Refuses rules that could never fire, so a test does not silently test nothing.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(endpoint) = self.endpoint {
            if !self.fault.applies_to(endpoint) {
                return Err(format!(
                    "fault {:?} does not apply to endpoint {endpoint:?}",
                    self.fault
                ));
            }
        }
        if let Fault::ServerError { status } = self.fault {
            if !(500..=599).contains(&status) {
                return Err(format!("serverError status must be 5xx, got {status}"));
            }
        }
        if self.times == Some(0) {
            return Err("times must be at least 1".into());
        }
        Ok(())
    }
}

impl From<Fault> for FaultRule {
    fn from(fault: Fault) -> Self {
        FaultRule::new(fault)
    }
}

/// The faults in force for one request.
#[derive(Debug, Default, Clone)]
pub(crate) struct ActiveFaults {
    pub(crate) delay: Option<Duration>,
    pub(crate) connection_reset: bool,
    pub(crate) server_error: Option<u16>,
    pub(crate) permission_denied: Option<Vec<String>>,
    pub(crate) malformed_json: bool,
    pub(crate) missing_mobile: bool,
    pub(crate) masked_mobile: bool,
    pub(crate) string_expire_in: bool,
    pub(crate) extra_fields: bool,
}

impl ActiveFaults {
    fn add(&mut self, fault: &Fault) {
        match fault {
            Fault::Delay { ms } => {
                let total = self.delay.unwrap_or_default() + Duration::from_millis(*ms);
                self.delay = Some(total);
            }
            Fault::ServerError { status } => self.server_error = Some(*status),
            Fault::MalformedJson => self.malformed_json = true,
            Fault::ConnectionReset => self.connection_reset = true,
            Fault::MissingMobile => self.missing_mobile = true,
            Fault::MaskedMobile => self.masked_mobile = true,
            Fault::PermissionDenied { required_scopes } => {
                self.permission_denied = Some(required_scopes.clone())
            }
            Fault::StringExpireIn => self.string_expire_in = true,
            Fault::ExtraFields => self.extra_fields = true,
        }
    }
}

/// The switched-on rules. A flag keeps the no-fault path (benchmarks) free of locking.
#[derive(Default)]
pub(crate) struct FaultTable {
    any: AtomicBool,
    rules: Mutex<Vec<FaultRule>>,
}

impl FaultTable {
    pub(crate) fn add(&self, rule: FaultRule) {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        rules.push(rule);
        self.any.store(true, Ordering::Release);
    }

    pub(crate) fn clear(&self) {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        rules.clear();
        self.any.store(false, Ordering::Release);
    }

    pub(crate) fn list(&self) -> Vec<FaultRule> {
        self.rules.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The faults for one request to `endpoint`; counted rules are used up here.
    pub(crate) fn take(&self, endpoint: Endpoint) -> ActiveFaults {
        let mut active = ActiveFaults::default();
        if !self.any.load(Ordering::Acquire) {
            return active;
        }
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        for rule in rules.iter_mut() {
            let here = rule.endpoint.is_none_or(|e| e == endpoint);
            if here && rule.fault.applies_to(endpoint) {
                active.add(&rule.fault);
                if let Some(n) = rule.times.as_mut() {
                    *n = n.saturating_sub(1);
                }
            }
        }
        rules.retain(|r| r.times != Some(0));
        self.any.store(!rules.is_empty(), Ordering::Release);
        active
    }
}
