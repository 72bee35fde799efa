//! Row shapes as both databases return them, and their conversion to domain types.

use crate::error::StoreError;
use crate::queries::{SessionInfo, SigningKeyRecord, TokenContext};
use authgate_core::audit::{AuditEntry, NewAuditEntry, Outcome};
use authgate_core::model::*;
use serde_json::{Map, Value};

pub(crate) const USER_COLUMNS: &str = "id, username, email, phone, nickname, is_admin, enabled, \
     password_hash, password_changed_at, created_at, updated_at";
pub(crate) const AUTHENTICATOR_COLUMNS: &str =
    "id, name, auth_type, title, description, options, enabled, sort, created_at, updated_at";
pub(crate) const SESSION_INFO_SELECT: &str = "SELECT s.id, s.user_id, s.authenticator, \
     s.signed_in_at, s.last_renewed_at, s.ip, s.user_agent, r.revoked_at, u.username, u.nickname \
     FROM sessions s JOIN users u ON u.id = s.user_id \
     LEFT JOIN revocations r ON r.session_id = s.id";

pub(crate) fn json_object(text: &str) -> Result<Map<String, Value>, StoreError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(StoreError::Corrupt(format!(
            "expected a JSON object, found {text:.40}"
        ))),
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    username: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    nickname: Option<String>,
    is_admin: bool,
    enabled: bool,
    password_hash: Option<String>,
    password_changed_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            username: r.username,
            email: r.email,
            phone: r.phone,
            nickname: r.nickname,
            is_admin: r.is_admin,
            enabled: r.enabled,
            password_hash: r.password_hash,
            password_changed_at: r.password_changed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuthenticatorRow {
    id: i64,
    name: String,
    auth_type: String,
    title: String,
    description: String,
    options: String,
    enabled: bool,
    sort: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<AuthenticatorRow> for Authenticator {
    type Error = StoreError;
    fn try_from(r: AuthenticatorRow) -> Result<Self, StoreError> {
        Ok(Authenticator {
            id: r.id,
            name: r.name,
            auth_type: r.auth_type,
            title: r.title,
            description: r.description,
            options: json_object(&r.options)?,
            enabled: r.enabled,
            sort: r.sort,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct IdentityRow {
    id: i64,
    authenticator: String,
    uuid: String,
    user_id: i64,
    nickname: Option<String>,
    avatar: Option<String>,
    meta: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<IdentityRow> for Identity {
    type Error = StoreError;
    fn try_from(r: IdentityRow) -> Result<Self, StoreError> {
        Ok(Identity {
            id: r.id,
            authenticator: r.authenticator,
            uuid: r.uuid,
            user_id: r.user_id,
            nickname: r.nickname,
            avatar: r.avatar,
            meta: json_object(&r.meta)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    jti: String,
    session_id: String,
    user_id: i64,
    issued_at: i64,
    expires_at: i64,
    renewed_to: Option<String>,
    renewed_at: Option<i64>,
}

impl From<TokenRow> for IssuedToken {
    fn from(r: TokenRow) -> Self {
        IssuedToken {
            jti: r.jti,
            session_id: r.session_id,
            user_id: r.user_id,
            issued_at: r.issued_at,
            expires_at: r.expires_at,
            renewed_to: r.renewed_to,
            renewed_at: r.renewed_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionInfoRow {
    id: String,
    user_id: i64,
    authenticator: String,
    signed_in_at: i64,
    last_renewed_at: Option<i64>,
    ip: Option<String>,
    user_agent: Option<String>,
    revoked_at: Option<i64>,
    username: Option<String>,
    nickname: Option<String>,
}

impl From<SessionInfoRow> for SessionInfo {
    fn from(r: SessionInfoRow) -> Self {
        SessionInfo {
            session: Session {
                id: r.id,
                user_id: r.user_id,
                authenticator: r.authenticator,
                signed_in_at: r.signed_in_at,
                last_renewed_at: r.last_renewed_at,
                ip: r.ip,
                user_agent: r.user_agent,
                revoked_at: r.revoked_at,
            },
            username: r.username,
            nickname: r.nickname,
        }
    }
}

/// Token, session, revocation and user in one row (the hot path of every request).
#[derive(sqlx::FromRow)]
pub(crate) struct TokenContextRow {
    jti: String,
    session_id: String,
    issued_at: i64,
    expires_at: i64,
    renewed_to: Option<String>,
    renewed_at: Option<i64>,
    authenticator: String,
    signed_in_at: i64,
    last_renewed_at: Option<i64>,
    ip: Option<String>,
    user_agent: Option<String>,
    revoked_at: Option<i64>,
    #[sqlx(flatten)]
    user: UserRow,
}

/// An identity's binding with its user, read in one statement when a returning user signs in.
#[derive(sqlx::FromRow)]
pub(crate) struct BoundIdentityRow {
    pub identity_nickname: Option<String>,
    pub identity_avatar: Option<String>,
    pub identity_meta: String,
    #[sqlx(flatten)]
    pub user: UserRow,
}

pub(crate) const BOUND_IDENTITY_SELECT: &str = "SELECT i.nickname AS identity_nickname, \
     i.avatar AS identity_avatar, i.meta AS identity_meta, u.id, u.username, u.email, u.phone, \
     u.nickname, u.is_admin, u.enabled, u.password_hash, u.password_changed_at, u.created_at, \
     u.updated_at FROM identities i JOIN users u ON u.id = i.user_id \
     WHERE i.authenticator = $1 AND i.uuid = $2";

pub(crate) const TOKEN_CONTEXT_SELECT: &str = "SELECT t.jti, t.session_id, t.issued_at, \
     t.expires_at, t.renewed_to, t.renewed_at, s.authenticator, s.signed_in_at, \
     s.last_renewed_at, s.ip, s.user_agent, r.revoked_at, u.id, u.username, u.email, u.phone, \
     u.nickname, u.is_admin, u.enabled, u.password_hash, u.password_changed_at, u.created_at, \
     u.updated_at \
     FROM issued_tokens t JOIN sessions s ON s.id = t.session_id \
     JOIN users u ON u.id = s.user_id \
     LEFT JOIN revocations r ON r.session_id = s.id WHERE t.jti = $1";

impl From<TokenContextRow> for TokenContext {
    fn from(r: TokenContextRow) -> Self {
        let user = User::from(r.user);
        TokenContext {
            token: IssuedToken {
                jti: r.jti,
                session_id: r.session_id.clone(),
                user_id: user.id,
                issued_at: r.issued_at,
                expires_at: r.expires_at,
                renewed_to: r.renewed_to,
                renewed_at: r.renewed_at,
            },
            session: Session {
                id: r.session_id,
                user_id: user.id,
                authenticator: r.authenticator,
                signed_in_at: r.signed_in_at,
                last_renewed_at: r.last_renewed_at,
                ip: r.ip,
                user_agent: r.user_agent,
                revoked_at: r.revoked_at,
            },
            user,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    id: i64,
    at: i64,
    event: String,
    result: String,
    user_id: Option<i64>,
    actor_id: Option<i64>,
    authenticator: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    reason: Option<String>,
    detail: String,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self, StoreError> {
        Ok(AuditEntry {
            id: r.id,
            entry: NewAuditEntry {
                at: r.at,
                event: r.event,
                outcome: if r.result == "success" {
                    Outcome::Success
                } else {
                    Outcome::Failure
                },
                user_id: r.user_id,
                actor_id: r.actor_id,
                authenticator: r.authenticator,
                ip: r.ip,
                user_agent: r.user_agent,
                reason: r.reason,
                detail: json_object(&r.detail)?,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SigningKeyRow {
    kid: String,
    alg: String,
    private_key: String,
    public_key: String,
    active: bool,
    created_at: i64,
}

impl From<SigningKeyRow> for SigningKeyRecord {
    fn from(r: SigningKeyRow) -> Self {
        SigningKeyRecord {
            kid: r.kid,
            alg: r.alg,
            private_key: r.private_key,
            public_key: r.public_key,
            active: r.active,
            created_at: r.created_at,
        }
    }
}
