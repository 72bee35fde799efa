//! What clients see of stored records: never a password hash or a sealed secret.

use authgate_core::audit::AuditEntry;
use authgate_core::clock::to_rfc3339;
use authgate_core::model::{Identity, User};
use authgate_store::SessionInfo;
use serde::Serialize;
use serde_json::{json, Value};

/// A user as clients see it. Typed, so that a hot answer (`auth:check`) serialises straight
/// into the body instead of through a map of owned keys.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView<'a> {
    id: i64,
    username: &'a Option<String>,
    email: &'a Option<String>,
    phone: &'a Option<String>,
    nickname: &'a Option<String>,
    is_admin: bool,
    enabled: bool,
    has_password: bool,
    created_at: String,
    updated_at: String,
}

impl<'a> From<&'a User> for UserView<'a> {
    fn from(u: &'a User) -> Self {
        Self {
            id: u.id,
            username: &u.username,
            email: &u.email,
            phone: &u.phone,
            nickname: &u.nickname,
            is_admin: u.is_admin,
            enabled: u.enabled,
            has_password: u.password_hash.is_some(),
            created_at: to_rfc3339(u.created_at),
            updated_at: to_rfc3339(u.updated_at),
        }
    }
}

pub fn user(u: &User) -> Value {
    serde_json::to_value(UserView::from(u)).expect("a user serialises")
}

pub fn identity(i: &Identity) -> Value {
    json!({
        "id": i.id,
        "authenticator": i.authenticator,
        "uuid": i.uuid,
        "userId": i.user_id,
        "nickname": i.nickname,
        "avatar": i.avatar,
        "meta": i.meta,
        "createdAt": to_rfc3339(i.created_at),
    })
}

pub fn session(s: &SessionInfo, current: Option<&str>) -> Value {
    json!({
        "id": s.session.id,
        "userId": s.session.user_id,
        "username": s.username,
        "nickname": s.nickname,
        "authenticator": s.session.authenticator,
        "signedInAt": to_rfc3339(s.session.signed_in_at),
        "lastRenewedAt": s.session.last_renewed_at.map(to_rfc3339),
        "ip": s.session.ip,
        "userAgent": s.session.user_agent,
        "revoked": s.session.revoked_at.is_some(),
        "current": current == Some(s.session.id.as_str()),
    })
}

pub fn audit(e: &AuditEntry) -> Value {
    let a = &e.entry;
    json!({
        "id": e.id,
        "createdAt": to_rfc3339(a.at),
        "event": a.event,
        "result": a.outcome.as_str(),
        "userId": a.user_id,
        "actorId": a.actor_id,
        "authenticator": a.authenticator,
        "ip": a.ip,
        "userAgent": a.user_agent,
        "reason": a.reason,
        "detail": a.detail,
    })
}
