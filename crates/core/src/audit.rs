//! Audit log entries: who did what, from where, and how it ended.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Outcome {
    #[default]
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// Event names recorded in the log (stable: admins filter by them).
pub mod event {
    pub const SIGN_IN: &str = "auth.signIn";
    pub const SIGN_UP: &str = "auth.signUp";
    pub const SIGN_OUT: &str = "auth.signOut";
    pub const TOKEN_RENEW: &str = "auth.tokenRenew";
    pub const PASSWORD_CHANGE: &str = "auth.changePassword";
    pub const IDENTITY_LINK: &str = "auth.linkIdentity";
    pub const IDENTITY_UNLINK: &str = "auth.unlinkIdentity";
    pub const ADMIN_CHANGE: &str = "admin.change";
    pub const SESSION_REVOKE: &str = "admin.sessionRevoke";
    pub const OIDC_GRANT: &str = "oidc.grant";
    pub const OIDC_TOKEN: &str = "oidc.token";
    pub const OIDC_REVOKE: &str = "oidc.revoke";
    pub const OIDC_LOGOUT: &str = "oidc.logout";
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewAuditEntry {
    pub at: i64,
    pub event: String,
    pub outcome: Outcome,
    pub user_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub authenticator: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub reason: Option<String>,
    pub detail: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub entry: NewAuditEntry,
}
