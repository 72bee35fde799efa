//! Rows as the statements return them, decoded into the store's values. Columns are read by
//! name; each `*_COLUMNS` list is what its decoder reads.

use crate::errors;
use authgate_core::audit::{AuditEntry, NewAuditEntry, Outcome};
use authgate_core::failure_limit::FailureCount;
use authgate_core::model::{Authenticator, Identity, IssuedToken, Session, User};
use authgate_store::{
    json_object, OAuthState, SessionInfo, SigningKeyRecord, StoreError, StoreResult, StoredProfile,
    TokenContext,
};
use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

pub(crate) const USER_COLUMNS: &str = "id, username, email, phone, nickname, is_admin, enabled, \
     password_hash, password_changed_at, created_at, updated_at";
/// [`USER_COLUMNS`] of the table aliased `u`.
pub(crate) const U_USER_COLUMNS: &str = "u.id, u.username, u.email, u.phone, u.nickname, \
     u.is_admin, u.enabled, u.password_hash, u.password_changed_at, u.created_at, u.updated_at";
pub(crate) const AUTHENTICATOR_COLUMNS: &str =
    "id, name, auth_type, title, description, options, enabled, sort, created_at, updated_at";
pub(crate) const IDENTITY_COLUMNS: &str =
    "id, authenticator, uuid, user_id, nickname, avatar, meta, created_at, updated_at";
pub(crate) const AUDIT_COLUMNS: &str =
    "id, at, event, result, user_id, actor_id, authenticator, ip, user_agent, reason, detail";
pub(crate) const SIGNING_KEY_COLUMNS: &str =
    "kid, alg, private_key, public_key, active, created_at, retired_at";
pub(crate) const OAUTH_STATE_COLUMNS: &str =
    "state_hash, authenticator, redirect, binding_hash, created_at, expires_at, link_user_id";
pub(crate) const FAILURE_COUNT_COLUMNS: &str =
    "key, failures, window_started_at, locked_until, strikes, pending, pending_until";

/// A session with its revocation and its user's names, for the admin pages.
pub(crate) const SESSION_INFO_SELECT: &str = "SELECT s.id, s.user_id, s.authenticator, \
     s.signed_in_at, s.last_renewed_at, s.ip, s.user_agent, r.revoked_at, u.username, u.nickname \
     FROM sessions s JOIN users u ON u.id = s.user_id \
     LEFT JOIN revocations r ON r.session_id = s.id";

/// Token, session, revocation and user in one row (the read behind every request).
pub(crate) const TOKEN_CONTEXT_SELECT: &str = "SELECT t.jti, t.session_id, t.issued_at, \
     t.expires_at, t.renewed_to, t.renewed_at, s.authenticator, s.signed_in_at, \
     s.last_renewed_at, s.ip, s.user_agent, r.revoked_at, u.id, u.username, u.email, u.phone, \
     u.nickname, u.is_admin, u.enabled, u.password_hash, u.password_changed_at, u.created_at, \
     u.updated_at \
     FROM issued_tokens t JOIN sessions s ON s.id = t.session_id \
     JOIN users u ON u.id = s.user_id \
     LEFT JOIN revocations r ON r.session_id = s.id WHERE t.jti = $1";

/// A binding's profile beside its user ([`USER_COLUMNS`]), by authenticator ($1) and uuid ($2).
pub(crate) const BOUND_PROFILE_SELECT: &str = "SELECT i.nickname AS identity_nickname, \
     i.avatar AS identity_avatar, i.meta AS identity_meta, u.id, u.username, u.email, u.phone, \
     u.nickname, u.is_admin, u.enabled, u.password_hash, u.password_changed_at, u.created_at, \
     u.updated_at FROM identities i JOIN users u ON u.id = i.user_id \
     WHERE i.authenticator = $1 AND i.uuid = $2";

/// A column's value; a stored value of another type than the schema's is corrupt data.
pub(crate) fn get<'r, T: FromSql<'r>>(row: &'r Row, column: &str) -> StoreResult<T> {
    row.try_get(column)
        .map_err(|e| StoreError::Corrupt(format!("{column}: {}", errors::describe(&e))))
}

pub(crate) fn user(row: &Row) -> StoreResult<User> {
    Ok(User {
        id: get(row, "id")?,
        username: get(row, "username")?,
        email: get(row, "email")?,
        phone: get(row, "phone")?,
        nickname: get(row, "nickname")?,
        is_admin: get(row, "is_admin")?,
        enabled: get(row, "enabled")?,
        password_hash: get(row, "password_hash")?,
        password_changed_at: get(row, "password_changed_at")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

/// A row of [`BOUND_PROFILE_SELECT`].
pub(crate) fn bound_profile(row: &Row) -> StoreResult<(User, StoredProfile)> {
    let user = user(row)?;
    let profile = StoredProfile {
        nickname: get(row, "identity_nickname")?,
        avatar: get(row, "identity_avatar")?,
        meta: get(row, "identity_meta")?,
        user_nickname: user.nickname.clone(),
    };
    Ok((user, profile))
}

pub(crate) fn authenticator(row: &Row) -> StoreResult<Authenticator> {
    Ok(Authenticator {
        id: get(row, "id")?,
        name: get(row, "name")?,
        auth_type: get(row, "auth_type")?,
        title: get(row, "title")?,
        description: get(row, "description")?,
        options: json_object(get(row, "options")?)?,
        enabled: get(row, "enabled")?,
        sort: get(row, "sort")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(crate) fn identity(row: &Row) -> StoreResult<Identity> {
    Ok(Identity {
        id: get(row, "id")?,
        authenticator: get(row, "authenticator")?,
        uuid: get(row, "uuid")?,
        user_id: get(row, "user_id")?,
        nickname: get(row, "nickname")?,
        avatar: get(row, "avatar")?,
        meta: json_object(get(row, "meta")?)?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(crate) fn token(row: &Row) -> StoreResult<IssuedToken> {
    Ok(IssuedToken {
        jti: get(row, "jti")?,
        session_id: get(row, "session_id")?,
        user_id: get(row, "user_id")?,
        issued_at: get(row, "issued_at")?,
        expires_at: get(row, "expires_at")?,
        renewed_to: get(row, "renewed_to")?,
        renewed_at: get(row, "renewed_at")?,
    })
}

/// A row of [`SESSION_INFO_SELECT`].
pub(crate) fn session_info(row: &Row) -> StoreResult<SessionInfo> {
    Ok(SessionInfo {
        session: Session {
            id: get(row, "id")?,
            user_id: get(row, "user_id")?,
            authenticator: get(row, "authenticator")?,
            signed_in_at: get(row, "signed_in_at")?,
            last_renewed_at: get(row, "last_renewed_at")?,
            ip: get(row, "ip")?,
            user_agent: get(row, "user_agent")?,
            revoked_at: get(row, "revoked_at")?,
        },
        username: get(row, "username")?,
        nickname: get(row, "nickname")?,
    })
}

/// A row of [`TOKEN_CONTEXT_SELECT`].
pub(crate) fn token_context(row: &Row) -> StoreResult<TokenContext> {
    let user = user(row)?;
    let session_id: String = get(row, "session_id")?;
    Ok(TokenContext {
        token: IssuedToken {
            jti: get(row, "jti")?,
            session_id: session_id.clone(),
            user_id: user.id,
            issued_at: get(row, "issued_at")?,
            expires_at: get(row, "expires_at")?,
            renewed_to: get(row, "renewed_to")?,
            renewed_at: get(row, "renewed_at")?,
        },
        session: Session {
            id: session_id,
            user_id: user.id,
            authenticator: get(row, "authenticator")?,
            signed_in_at: get(row, "signed_in_at")?,
            last_renewed_at: get(row, "last_renewed_at")?,
            ip: get(row, "ip")?,
            user_agent: get(row, "user_agent")?,
            revoked_at: get(row, "revoked_at")?,
        },
        user,
    })
}

pub(crate) fn audit_entry(row: &Row) -> StoreResult<AuditEntry> {
    let result: &str = get(row, "result")?;
    Ok(AuditEntry {
        id: get(row, "id")?,
        entry: NewAuditEntry {
            at: get(row, "at")?,
            event: get(row, "event")?,
            outcome: if result == Outcome::Success.as_str() {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            user_id: get(row, "user_id")?,
            actor_id: get(row, "actor_id")?,
            authenticator: get(row, "authenticator")?,
            ip: get(row, "ip")?,
            user_agent: get(row, "user_agent")?,
            reason: get(row, "reason")?,
            detail: json_object(get(row, "detail")?)?,
        },
    })
}

pub(crate) fn signing_key(row: &Row) -> StoreResult<SigningKeyRecord> {
    Ok(SigningKeyRecord {
        kid: get(row, "kid")?,
        alg: get(row, "alg")?,
        private_key: get(row, "private_key")?,
        public_key: get(row, "public_key")?,
        active: get(row, "active")?,
        created_at: get(row, "created_at")?,
        retired_at: get(row, "retired_at")?,
    })
}

pub(crate) fn oauth_state(row: &Row) -> StoreResult<OAuthState> {
    Ok(OAuthState {
        state_hash: get(row, "state_hash")?,
        authenticator: get(row, "authenticator")?,
        redirect: get(row, "redirect")?,
        binding_hash: get(row, "binding_hash")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        link_user_id: get(row, "link_user_id")?,
    })
}

/// A row of [`FAILURE_COUNT_COLUMNS`]: the key and its counters.
pub(crate) fn failure_count(row: &Row) -> StoreResult<(String, FailureCount)> {
    Ok((
        get(row, "key")?,
        FailureCount {
            failures: get(row, "failures")?,
            window_started_at: get(row, "window_started_at")?,
            locked_until: get(row, "locked_until")?,
            strikes: get(row, "strikes")?,
            pending: get(row, "pending")?,
            pending_until: get(row, "pending_until")?,
        },
    ))
}
