//! The sign-in path's short writes, as data. Each backend runs them its own way, in one go:
//! PostgreSQL as one statement of data-modifying CTEs (`postgres/sign_in_writes.rs`), SQLite
//! on its writer thread (`sqlite/sign_in_writes.rs`).

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

/// `ext.meta` serialised the way it is stored (keys in order): serialised once per sign-in,
/// compared and written as text.
pub(crate) fn stored_meta(ext: &ExternalIdentity) -> String {
    serde_json::to_string(&ext.meta).expect("a JSON object serialises")
}
