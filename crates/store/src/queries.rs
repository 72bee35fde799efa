//! Parameters and results of the store's list and compound operations.

use authgate_core::audit::NewAuditEntry;
use authgate_core::model::{IssuedToken, NewUser, Session, User};

#[derive(Debug, Clone, Default)]
pub struct Page {
    /// 1-based.
    pub page: i64,
    pub page_size: i64,
}

impl Page {
    pub fn new(page: i64, page_size: i64) -> Self {
        Self {
            page: page.max(1),
            page_size: page_size.clamp(1, 200),
        }
    }
    pub fn offset(&self) -> i64 {
        (self.page.max(1) - 1).saturating_mul(self.page_size)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserSort {
    #[default]
    IdAsc,
    IdDesc,
    UsernameAsc,
    UsernameDesc,
    CreatedAsc,
    CreatedDesc,
}

#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Case-insensitive substring of username, e-mail, phone or nickname.
    pub search: Option<String>,
    pub id: Option<i64>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub is_admin: Option<bool>,
    pub enabled: Option<bool>,
    pub sort: UserSort,
    pub page: Page,
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub user_id: Option<i64>,
    pub event: Option<String>,
    pub result: Option<String>,
    pub authenticator: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub page: Page,
}

#[derive(Debug, Clone, Default)]
pub struct SessionQuery {
    pub user_id: Option<i64>,
    /// Only sessions neither revoked nor older than this instant (ms).
    pub active_since: Option<i64>,
    pub page: Page,
}

/// A session row with what the admin pages show beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    pub session: Session,
    pub username: Option<String>,
    pub nickname: Option<String>,
}

/// Everything needed to judge a presented token, read in one query.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenContext {
    pub token: IssuedToken,
    pub session: Session,
    pub user: User,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RenewOutcome {
    /// This call renewed the token; the new row was written.
    Renewed,
    /// Another request renewed it first: here is the token it was renewed to.
    AlreadyRenewed(IssuedToken),
    /// No such token.
    Missing,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub alg: String,
    /// Sealed with the secret key.
    pub private_key: String,
    /// Base64url of the raw public key.
    pub public_key: String,
    pub active: bool,
    pub created_at: i64,
}

/// A one-time OAuth state as stored: the nonce and the browser binding only as hashes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OAuthState {
    pub state_hash: String,
    pub authenticator: String,
    /// The validated redirect target.
    pub redirect: String,
    pub binding_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// Set when a signed-in user links this identity to their own account (no sign-in).
    pub link_user_id: Option<i64>,
}

/// What consuming a state found. Either way the state is gone afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumedState {
    Valid(OAuthState),
    Expired(OAuthState),
    /// Never issued, already used (by any node), or purged.
    Unknown,
}

/// An external account as the identity provider describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalIdentity {
    pub authenticator: String,
    /// The binding key (e.g. DingTalk unionId).
    pub uuid: String,
    pub nickname: Option<String>,
    pub avatar: Option<String>,
    pub meta: serde_json::Map<String, serde_json::Value>,
}

/// What `link_identity` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    Linked,
    /// The identity was linked to this user already; nothing written.
    AlreadyYours,
    /// The identity is linked to another user; nothing written.
    LinkedToAnother,
    /// The user has another identity of this authenticator; nothing written.
    HasAnother,
    /// The user was deleted or disabled meanwhile; nothing written.
    UserGone,
}

/// A normalised value that may link a first-time identity to an existing user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchCandidate {
    /// E.164.
    Phone(String),
    /// Lower case; `field` names the source for messages (e.g. "orgEmail").
    Email { field: &'static str, value: String },
}

impl MatchCandidate {
    pub fn field(&self) -> &'static str {
        match self {
            MatchCandidate::Phone(_) => "phone",
            MatchCandidate::Email { field, .. } => field,
        }
    }
}

/// The session a successful resolution starts, written in the resolution's own transaction
/// (one commit per sign-in). The user id in `session` and `token` is replaced by the resolved
/// user's.
pub struct SessionStart {
    pub session: Session,
    pub token: IssuedToken,
    /// The audit entries of the outcome (e.g. a sign-up and a sign-in); their `user_id` is
    /// set to the resolved user's.
    pub audit: AuditFor,
}

/// The audit entries that record how a user was signed in.
pub type AuditFor = Box<dyn Fn(SignedInBy) -> Vec<NewAuditEntry> + Send + Sync>;

/// How a resolution that signs a user in found them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedInBy {
    Binding,
    Link { field: &'static str },
    SignUp,
}

/// Everything [`crate::Store::resolve_identity`] needs to decide in one transaction.
#[derive(Debug, Clone)]
pub struct IdentityResolution {
    pub identity: ExternalIdentity,
    /// In the order the administrator chose.
    pub candidates: Vec<MatchCandidate>,
    /// Refresh the stored nickname/avatar/meta (and the user's nickname) of an existing binding.
    pub sync_profile: bool,
    /// The user to create when nothing matches; `None` when sign-up is off. Its phone or
    /// e-mail are dropped when another user already holds them.
    pub sign_up: Option<NewUser>,
    /// The binding was looked up a moment ago and did not exist: the returning-user shortcut
    /// is not worth a round trip (the full resolution still reads the binding first).
    pub unbound_just_now: bool,
    /// A match that has a password is not linked (its owner links from their account).
    pub link_requires_password: bool,
}

impl Resolved {
    /// The user signed in and how, when the outcome signs someone in.
    pub fn signed_in(&self) -> Option<(&User, SignedInBy)> {
        match self {
            Resolved::Bound(u) => Some((u, SignedInBy::Binding)),
            Resolved::Linked { user, field } => Some((user, SignedInBy::Link { field })),
            Resolved::SignedUp(u) => Some((u, SignedInBy::SignUp)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// The identity was bound before.
    Bound(User),
    /// First sign-in: linked to an existing user through `field`.
    Linked { user: User, field: &'static str },
    /// First sign-in: a new user was created.
    SignedUp(User),
    /// Candidates point at more than one user; nothing was written.
    Ambiguous { fields: Vec<&'static str> },
    /// The matching user already has another identity of this authenticator; nothing written.
    AlreadyLinked { field: &'static str },
    /// The matching user may not be linked automatically (an administrator, or one with a
    /// password when `link_requires_password`); nothing written.
    LinkRefused { field: &'static str, admin: bool },
    /// The user is disabled; nothing was written.
    Disabled(User),
    /// No binding, no match, sign-up off; nothing was written.
    NotFound,
}

/// What `take_failure_slots` gives a sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureSlots {
    /// A key is locked until then; nothing was taken.
    Locked { until: i64 },
    /// A key's slots are all held by attempts being checked; nothing was taken.
    Busy,
    /// One slot under each key, to settle when the attempt ends.
    Taken,
}
