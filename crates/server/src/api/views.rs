//! What clients see of stored records: never a password hash or a sealed secret. Each view is
//! built by moving the record's fields (no copies), serialises straight into the body, and is
//! the schema `/api/openapi.json` shows for it.

use authgate_core::audit::AuditEntry;
use authgate_core::clock::to_rfc3339;
use authgate_core::model::{Identity, User};
use authgate_store::SessionInfo;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A user as clients see it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = User)]
pub struct UserView {
    id: i64,
    username: Option<String>,
    email: Option<String>,
    /// E.164.
    phone: Option<String>,
    nickname: Option<String>,
    is_admin: bool,
    enabled: bool,
    has_password: bool,
    created_at: String,
    updated_at: String,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            username: u.username,
            email: u.email,
            phone: u.phone,
            nickname: u.nickname,
            is_admin: u.is_admin,
            enabled: u.enabled,
            has_password: u.password_hash.is_some(),
            created_at: to_rfc3339(u.created_at),
            updated_at: to_rfc3339(u.updated_at),
        }
    }
}

/// A user's link to an account of another authenticator (e.g. DingTalk).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Identity)]
pub struct IdentityView {
    id: i64,
    authenticator: String,
    uuid: String,
    user_id: i64,
    nickname: Option<String>,
    avatar: Option<String>,
    #[schema(value_type = Object)]
    meta: Map<String, Value>,
    created_at: String,
}

impl From<Identity> for IdentityView {
    fn from(i: Identity) -> Self {
        Self {
            id: i.id,
            authenticator: i.authenticator,
            uuid: i.uuid,
            user_id: i.user_id,
            nickname: i.nickname,
            avatar: i.avatar,
            meta: i.meta,
            created_at: to_rfc3339(i.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Session)]
pub struct SessionView {
    id: String,
    user_id: i64,
    username: Option<String>,
    nickname: Option<String>,
    authenticator: String,
    signed_in_at: String,
    last_renewed_at: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    /// The device as people name it, from the user agent (e.g. "Chrome 120 · Windows").
    device: Option<String>,
    revoked: bool,
    /// The session of the request's own token.
    current: bool,
}

impl SessionView {
    /// `current`: the session id of the request's own token.
    pub fn new(s: SessionInfo, current: &str) -> Self {
        let session = s.session;
        Self {
            current: session.id == current,
            id: session.id,
            user_id: session.user_id,
            username: s.username,
            nickname: s.nickname,
            authenticator: session.authenticator,
            signed_in_at: to_rfc3339(session.signed_in_at),
            last_renewed_at: session.last_renewed_at.map(to_rfc3339),
            ip: session.ip,
            device: session
                .user_agent
                .as_deref()
                .and_then(super::device::describe),
            user_agent: session.user_agent,
            revoked: session.revoked_at.is_some(),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditEntry)]
pub struct AuditEntryView {
    id: i64,
    created_at: String,
    /// e.g. auth.signIn
    event: String,
    /// success or failure
    result: &'static str,
    user_id: Option<i64>,
    /// The user's name as people know it (nickname, else username...), when they still exist.
    user_name: Option<String>,
    actor_id: Option<i64>,
    actor_name: Option<String>,
    authenticator: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    reason: Option<String>,
    #[schema(value_type = Object)]
    detail: Map<String, Value>,
}

impl AuditEntryView {
    /// `names`: display names by user id.
    pub fn new(e: AuditEntry, names: &std::collections::HashMap<i64, String>) -> Self {
        let a = e.entry;
        let name = |id: Option<i64>| id.and_then(|id| names.get(&id).cloned());
        Self {
            user_name: name(a.user_id),
            actor_name: name(a.actor_id),
            id: e.id,
            created_at: to_rfc3339(a.at),
            event: a.event,
            result: a.outcome.as_str(),
            user_id: a.user_id,
            actor_id: a.actor_id,
            authenticator: a.authenticator,
            ip: a.ip,
            user_agent: a.user_agent,
            reason: a.reason,
            detail: a.detail,
        }
    }
}

/// The id of what was deleted or unlinked.
#[derive(Serialize, ToSchema)]
pub struct Id {
    pub id: i64,
}
