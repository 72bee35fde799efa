//! The columns the store selects and how a row becomes a domain value: each column list sits
//! beside the function that reads it by position, so the two change together.
//!
//! Decoders return `rusqlite::Result`, so they can be given to `query_row` and `query_map`
//! as they are; stored JSON that is not an object fails like a value of the wrong type
//! (`StoreError::Corrupt`, in `errors.rs`).

use authgate_core::audit::{AuditEntry, NewAuditEntry, Outcome};
use authgate_core::failure_limit::FailureCount;
use authgate_core::model::{Authenticator, Identity, IssuedToken, Session, User};
use authgate_store::{
    json_object, OAuthState, SessionInfo, SigningKeyRecord, StoredProfile, TokenContext,
};
use rusqlite::types::Type;
use rusqlite::Row;
use serde_json::{Map, Value};

pub(crate) const USER_COLUMNS: &str = "id, username, email, phone, nickname, is_admin, enabled, \
     password_hash, password_changed_at, created_at, updated_at";

/// A user from [`USER_COLUMNS`], starting at column `at`.
pub(crate) fn user(r: &Row<'_>, at: usize) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(at)?,
        username: r.get(at + 1)?,
        email: r.get(at + 2)?,
        phone: r.get(at + 3)?,
        nickname: r.get(at + 4)?,
        is_admin: r.get(at + 5)?,
        enabled: r.get(at + 6)?,
        password_hash: r.get(at + 7)?,
        password_changed_at: r.get(at + 8)?,
        created_at: r.get(at + 9)?,
        updated_at: r.get(at + 10)?,
    })
}

/// A row of [`USER_COLUMNS`] alone.
pub(crate) fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    user(r, 0)
}

/// An identity's binding with its user: the user, then the binding's profile.
pub(crate) const BOUND_USER_SELECT: &str = "SELECT u.id, u.username, u.email, u.phone, \
     u.nickname, u.is_admin, u.enabled, u.password_hash, u.password_changed_at, u.created_at, \
     u.updated_at, i.nickname, i.avatar, i.meta FROM identities i \
     JOIN users u ON u.id = i.user_id WHERE i.authenticator = ?1 AND i.uuid = ?2";

pub(crate) fn bound_user(r: &Row<'_>) -> rusqlite::Result<(User, StoredProfile)> {
    let user = user(r, 0)?;
    let profile = StoredProfile {
        nickname: r.get(11)?,
        avatar: r.get(12)?,
        meta: r.get(13)?,
        user_nickname: user.nickname.clone(),
    };
    Ok((user, profile))
}

pub(crate) const AUTHENTICATOR_COLUMNS: &str =
    "id, name, auth_type, title, description, options, enabled, sort, created_at, updated_at";

pub(crate) fn authenticator(r: &Row<'_>) -> rusqlite::Result<Authenticator> {
    Ok(Authenticator {
        id: r.get(0)?,
        name: r.get(1)?,
        auth_type: r.get(2)?,
        title: r.get(3)?,
        description: r.get(4)?,
        options: object(r, 5)?,
        enabled: r.get(6)?,
        sort: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

pub(crate) const IDENTITY_COLUMNS: &str =
    "id, authenticator, uuid, user_id, nickname, avatar, meta, created_at, updated_at";

pub(crate) fn identity(r: &Row<'_>) -> rusqlite::Result<Identity> {
    Ok(Identity {
        id: r.get(0)?,
        authenticator: r.get(1)?,
        uuid: r.get(2)?,
        user_id: r.get(3)?,
        nickname: r.get(4)?,
        avatar: r.get(5)?,
        meta: object(r, 6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

/// The token `old_jti` (?1) was renewed to.
pub(crate) const RENEWED_TO_SELECT: &str = "SELECT n.jti, n.session_id, n.user_id, \
     n.issued_at, n.expires_at, n.renewed_to, n.renewed_at FROM issued_tokens o \
     JOIN issued_tokens n ON n.jti = o.renewed_to WHERE o.jti = ?1";

pub(crate) fn issued_token(r: &Row<'_>) -> rusqlite::Result<IssuedToken> {
    Ok(IssuedToken {
        jti: r.get(0)?,
        session_id: r.get(1)?,
        user_id: r.get(2)?,
        issued_at: r.get(3)?,
        expires_at: r.get(4)?,
        renewed_to: r.get(5)?,
        renewed_at: r.get(6)?,
    })
}

/// Completed with a WHERE clause on `s` (sessions) and `r` (revocations).
pub(crate) const SESSION_INFO_SELECT: &str = "SELECT s.id, s.user_id, s.authenticator, \
     s.signed_in_at, s.last_renewed_at, s.ip, s.user_agent, r.revoked_at, u.username, u.nickname \
     FROM sessions s JOIN users u ON u.id = s.user_id \
     LEFT JOIN revocations r ON r.session_id = s.id";

pub(crate) fn session_info(r: &Row<'_>) -> rusqlite::Result<SessionInfo> {
    Ok(SessionInfo {
        session: Session {
            id: r.get(0)?,
            user_id: r.get(1)?,
            authenticator: r.get(2)?,
            signed_in_at: r.get(3)?,
            last_renewed_at: r.get(4)?,
            ip: r.get(5)?,
            user_agent: r.get(6)?,
            revoked_at: r.get(7)?,
        },
        username: r.get(8)?,
        nickname: r.get(9)?,
    })
}

/// Token, session, revocation and user in one row (behind every authenticated request).
pub(crate) const TOKEN_CONTEXT_SELECT: &str = "SELECT t.jti, t.session_id, t.issued_at, \
     t.expires_at, t.renewed_to, t.renewed_at, s.authenticator, s.signed_in_at, \
     s.last_renewed_at, s.ip, s.user_agent, r.revoked_at, u.id, u.username, u.email, u.phone, \
     u.nickname, u.is_admin, u.enabled, u.password_hash, u.password_changed_at, u.created_at, \
     u.updated_at \
     FROM issued_tokens t JOIN sessions s ON s.id = t.session_id \
     JOIN users u ON u.id = s.user_id \
     LEFT JOIN revocations r ON r.session_id = s.id WHERE t.jti = ?1";

pub(crate) fn token_context(r: &Row<'_>) -> rusqlite::Result<TokenContext> {
    let user = user(r, 12)?;
    let session_id: String = r.get(1)?;
    Ok(TokenContext {
        token: IssuedToken {
            jti: r.get(0)?,
            session_id: session_id.clone(),
            user_id: user.id,
            issued_at: r.get(2)?,
            expires_at: r.get(3)?,
            renewed_to: r.get(4)?,
            renewed_at: r.get(5)?,
        },
        session: Session {
            id: session_id,
            user_id: user.id,
            authenticator: r.get(6)?,
            signed_in_at: r.get(7)?,
            last_renewed_at: r.get(8)?,
            ip: r.get(9)?,
            user_agent: r.get(10)?,
            revoked_at: r.get(11)?,
        },
        user,
    })
}

pub(crate) const AUDIT_COLUMNS: &str =
    "id, at, event, result, user_id, actor_id, authenticator, ip, user_agent, reason, detail";

pub(crate) fn audit_entry(r: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    let result: String = r.get(3)?;
    Ok(AuditEntry {
        id: r.get(0)?,
        entry: NewAuditEntry {
            at: r.get(1)?,
            event: r.get(2)?,
            outcome: if result == Outcome::Success.as_str() {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            user_id: r.get(4)?,
            actor_id: r.get(5)?,
            authenticator: r.get(6)?,
            ip: r.get(7)?,
            user_agent: r.get(8)?,
            reason: r.get(9)?,
            detail: object(r, 10)?,
        },
    })
}

pub(crate) const SIGNING_KEY_COLUMNS: &str =
    "kid, alg, private_key, public_key, active, created_at, retired_at";

pub(crate) fn signing_key(r: &Row<'_>) -> rusqlite::Result<SigningKeyRecord> {
    Ok(SigningKeyRecord {
        kid: r.get(0)?,
        alg: r.get(1)?,
        private_key: r.get(2)?,
        public_key: r.get(3)?,
        active: r.get(4)?,
        created_at: r.get(5)?,
        retired_at: r.get(6)?,
    })
}

/// In [`OAuthState`]'s field order.
pub(crate) const OAUTH_STATE_COLUMNS: &str =
    "state_hash, authenticator, redirect, binding_hash, created_at, expires_at, link_user_id";

pub(crate) fn oauth_state(r: &Row<'_>) -> rusqlite::Result<OAuthState> {
    Ok(OAuthState {
        state_hash: r.get(0)?,
        authenticator: r.get(1)?,
        redirect: r.get(2)?,
        binding_hash: r.get(3)?,
        created_at: r.get(4)?,
        expires_at: r.get(5)?,
        link_user_id: r.get(6)?,
    })
}

/// The key, then [`FailureCount`]'s fields in order.
pub(crate) const FAILURE_COLUMNS: &str =
    "key, failures, window_started_at, locked_until, strikes, pending, pending_until";

pub(crate) fn failure_count(r: &Row<'_>) -> rusqlite::Result<(String, FailureCount)> {
    Ok((
        r.get(0)?,
        FailureCount {
            failures: r.get(1)?,
            window_started_at: r.get(2)?,
            locked_until: r.get(3)?,
            strikes: r.get(4)?,
            pending: r.get(5)?,
            pending_until: r.get(6)?,
        },
    ))
}

/// A stored JSON object.
pub(crate) fn object(r: &Row<'_>, column: usize) -> rusqlite::Result<Map<String, Value>> {
    let text: String = r.get(column)?;
    json_object(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(column, Type::Text, Box::new(e)))
}
