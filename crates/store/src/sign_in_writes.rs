//! The sign-in path's short writes, as data. Each backend runs them its own way, in one go:
//! PostgreSQL as one statement of data-modifying CTEs (`postgres/sign_in_writes.rs`), SQLite
//! on its writer thread (`sqlite/sign_in_writes.rs`).

#[cfg(doc)]
use crate::queries::OAuthState;
use crate::queries::{ExternalIdentity, MatchCandidate};
use authgate_core::audit::NewAuditEntry;
use authgate_core::model::{IssuedToken, NewUser, Session, User};

/// The common case: a returning, enabled user whose DingTalk profile has not changed (so
/// nothing but the session is written). The session, token and audit rows are inserted only
/// if the binding qualifies.
pub(crate) struct SignInBound {
    pub ext: ExternalIdentity,
    /// `ext.meta` as stored.
    pub meta: String,
    pub sync_profile: bool,
    /// Its user id is the bound user's, filled in by the write.
    pub session: Session,
    pub token: IssuedToken,
    pub audit: Vec<NewAuditEntry>,
}

/// What [`SignInBound`] found.
pub(crate) enum QuickSignIn {
    /// The bound user, signed in: session, token and audit rows are written.
    SignedIn(User),
    /// The identity is bound to no one.
    NotBound,
    /// Bound, but the user is disabled or the profile changed: nothing written.
    Undecided,
}

/// The common first sign-in: the identity is still unbound and no candidate matches anyone,
/// so the new user, the binding, the session, its token and the audit entries are inserted,
/// as the full resolution would. Anything else (a binding appeared, a candidate matches:
/// linking, or reporting ambiguity) inserts nothing and returns no user, and the full
/// resolution decides. A username, e-mail or phone another user holds is left out.
pub(crate) struct SignUpFresh {
    pub ext: ExternalIdentity,
    /// `ext.meta` as stored.
    pub meta: String,
    pub candidates: Vec<MatchCandidate>,
    pub new: NewUser,
    pub now: i64,
    pub session: Session,
    pub token: IssuedToken,
    pub audit: Vec<NewAuditEntry>,
}

// Statement heads both backends complete (PostgreSQL with `SELECT ... FROM b` or `VALUES`,
// SQLite with `VALUES ($1, ...)`: it binds `$n` by position too).
pub(crate) const SESSION_INSERT: &str = "INSERT INTO sessions (id, user_id, authenticator, \
     signed_in_at, last_renewed_at, ip, user_agent) ";
pub(crate) const TOKEN_INSERT: &str =
    "INSERT INTO issued_tokens (jti, session_id, user_id, issued_at, expires_at) ";
pub(crate) const AUDIT_INSERT: &str = "INSERT INTO audit_log (at, event, result, user_id, \
     actor_id, authenticator, ip, user_agent, reason, detail) ";
pub(crate) const IDENTITY_INSERT: &str = "INSERT INTO identities (authenticator, uuid, \
     user_id, nickname, avatar, meta, created_at, updated_at) ";

pub(crate) const OAUTH_STATE_INSERT: &str = "INSERT INTO oauth_states (state_hash, \
     authenticator, redirect, binding_hash, created_at, expires_at, link_user_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
/// Deletes the state and returns it (columns in `OAuthState`'s field order): used once.
pub(crate) const OAUTH_STATE_TAKE: &str = "DELETE FROM oauth_states WHERE state_hash = $1 \
     RETURNING state_hash, authenticator, redirect, binding_hash, created_at, expires_at, \
     link_user_id";

/// `ext.meta` serialised the way it is stored (keys in order): serialised once per sign-in,
/// compared and written as text.
pub(crate) fn stored_meta(ext: &ExternalIdentity) -> String {
    serde_json::to_string(&ext.meta).expect("a JSON object serialises")
}
