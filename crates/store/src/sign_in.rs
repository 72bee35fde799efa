//! The sign-in path's storage: one-time OAuth states, failure limits, and the two ways an
//! external identity (DingTalk) signs someone in, each one unit of work that also writes the
//! session, its first token and its audit entries.

use crate::error::StoreResult;
use async_trait::async_trait;
use authgate_core::audit::{event, NewAuditEntry};
use authgate_core::failure_limit::{FailureCount, FailureLimit, Settle, SlotDecision};
use authgate_core::model::{IssuedToken, NewUser, Session, User};
use serde_json::Value;

#[async_trait]
pub trait SignInStore: Send + Sync + 'static {
    // One-time OAuth states, shared by every node.
    async fn create_oauth_state(&self, state: &OAuthState) -> StoreResult<()>;
    /// Deletes and returns the state in one statement, so only one request can ever use it.
    async fn consume_oauth_state(&self, state_hash: &str, now: i64) -> StoreResult<ConsumedState>;
    /// Removes states that expired before `now`; returns how many.
    async fn purge_expired_oauth_states(&self, now: i64) -> StoreResult<u64>;

    // Failure limits (the rule is `authgate_core::failure_limit`).
    /// The latest lock among `keys` that has not ended by `now` (a read: no slot is taken).
    async fn locked_until(&self, keys: &[String], now: i64) -> StoreResult<Option<i64>>;
    /// Takes one slot under every key, or none: in one transaction that holds the keys' rows,
    /// so concurrent attempts on every node are counted one after the other.
    async fn take_failure_slots(
        &self,
        keys: &[(String, FailureLimit)],
        now: i64,
    ) -> StoreResult<FailureSlots>;
    /// Settles the slots an attempt took, each key as its outcome says.
    async fn settle_failure_slots(
        &self,
        keys: &[(String, FailureLimit, Settle)],
        now: i64,
    ) -> StoreResult<()>;
    /// Deletes the counters of keys with nothing pending, locked or counted since `before`
    /// (every guess with a made-up account name leaves one); returns how many.
    async fn purge_idle_failure_counters(&self, before: i64) -> StoreResult<u64>;

    // External identities.
    /// A returning user: when the identity is bound to an enabled user, that user's profile
    /// is brought up to date (if `sync_profile`) and the session is written, in one unit of
    /// work. Nothing is written for a disabled user or an unbound identity.
    async fn sign_in_returning(&self, sign_in: &ReturningSignIn) -> StoreResult<Returned>;
    /// A first-time identity: bound meanwhile (then as a returning user), else matched by the
    /// candidates and linked, else signed up; then the binding and the session. One unit of
    /// work, safe when many nodes resolve the same identity at once (exactly one user and one
    /// binding result). Outcomes that sign no one in write nothing.
    async fn sign_in_first_time(&self, sign_in: &FirstSignIn) -> StoreResult<Resolved>;
    /// Links `identity` to the (signed-in) user `user_id`, with its audit entry, in one unit
    /// of work; refused when either side is linked already.
    async fn link_identity(
        &self,
        user_id: i64,
        identity: &ExternalIdentity,
        audit: &NewAuditEntry,
        now: i64,
    ) -> StoreResult<LinkOutcome>;
}

/// A one-time OAuth state as stored: the nonce and the browser binding only as hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// What taking one slot under every key decided: the answer, and the counters to write (those
/// of the keys the decision changed). Both backends hold the keys' counters, call this, write
/// what it says and commit.
pub fn decide_failure_slots<'k>(
    keys: &'k [(String, FailureLimit)],
    held: &[FailureCount],
    now: i64,
) -> (FailureSlots, Vec<(&'k str, FailureCount)>) {
    let decisions: Vec<(&str, SlotDecision)> = keys
        .iter()
        .zip(held)
        .map(|((key, limit), count)| (key.as_str(), limit.take_slot(*count, now)))
        .collect();
    // The latest lock is the one to wait for. Only locks decided just now are written then;
    // no slot is taken.
    let mut locked_until = None;
    let mut new_locks = Vec::new();
    for (key, decision) in &decisions {
        match decision {
            SlotDecision::Locked { until } => locked_until = locked_until.max(Some(*until)),
            SlotDecision::LockedNow(count) => {
                locked_until = locked_until.max(Some(count.locked_until));
                new_locks.push((*key, *count));
            }
            _ => {}
        }
    }
    if let Some(until) = locked_until {
        return (FailureSlots::Locked { until }, new_locks);
    }
    if decisions.iter().any(|(_, d)| *d == SlotDecision::Busy) {
        return (FailureSlots::Busy, Vec::new());
    }
    let taken = decisions
        .iter()
        .filter_map(|(key, d)| match d {
            SlotDecision::Taken(count) => Some((*key, *count)),
            _ => None,
        })
        .collect();
    (FailureSlots::Taken, taken)
}

/// An external account as the identity provider describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalIdentity {
    pub authenticator: String,
    /// The binding key (e.g. DingTalk unionId).
    pub uuid: String,
    pub nickname: Option<String>,
    pub avatar: Option<String>,
    pub meta: serde_json::Map<String, Value>,
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

    /// The normalised value a user's phone or e-mail is compared with.
    pub fn value(&self) -> &str {
        match self {
            MatchCandidate::Phone(v) | MatchCandidate::Email { value: v, .. } => v,
        }
    }
}

/// The session a sign-in starts, written in the sign-in's own unit of work (one commit per
/// sign-in). The user id in `session`, `token` and `audit` is replaced by the user's.
#[derive(Debug, Clone)]
pub struct SessionStart {
    pub session: Session,
    pub token: IssuedToken,
    /// The sign-in's audit entry ([`event::SIGN_IN`]); [`SessionStart::audit_for`] completes
    /// it with how the user was found.
    pub audit: NewAuditEntry,
}

impl SessionStart {
    /// The session and token for `user_id`.
    pub fn for_user(&self, user_id: i64) -> (Session, IssuedToken) {
        let session = Session {
            user_id,
            ..self.session.clone()
        };
        let token = IssuedToken {
            user_id,
            ..self.token.clone()
        };
        (session, token)
    }

    /// The audit entries of a sign-in of `user_id` found `by`: the sign-in entry, with
    /// `linkedBy` (the field that matched) or `signedUp`, preceded by a sign-up entry.
    pub fn audit_for(&self, user_id: i64, by: SignedInBy) -> Vec<NewAuditEntry> {
        let mut sign_in = NewAuditEntry {
            user_id: Some(user_id),
            ..self.audit.clone()
        };
        let mut entries = Vec::with_capacity(2);
        match by {
            SignedInBy::Binding => {}
            SignedInBy::Link { field } => {
                sign_in
                    .detail
                    .insert("linkedBy".into(), Value::String(field.into()));
            }
            SignedInBy::SignUp => {
                entries.push(NewAuditEntry {
                    event: event::SIGN_UP.into(),
                    detail: Default::default(),
                    ..sign_in.clone()
                });
                sign_in.detail.insert("signedUp".into(), Value::Bool(true));
            }
        }
        entries.push(sign_in);
        entries
    }
}

/// How a sign-in found its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedInBy {
    Binding,
    Link { field: &'static str },
    SignUp,
}

/// [`SignInStore::sign_in_returning`]'s request.
#[derive(Debug, Clone)]
pub struct ReturningSignIn {
    pub identity: ExternalIdentity,
    /// Refresh the stored nickname, avatar and meta of the binding, and the user's nickname.
    pub sync_profile: bool,
    pub start: SessionStart,
    pub now: i64,
}

/// A binding's profile as stored, beside its user's nickname.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProfile {
    pub nickname: Option<String>,
    pub avatar: Option<String>,
    /// As stored (text).
    pub meta: String,
    pub user_nickname: Option<String>,
}

/// What a returning sign-in with `sync_profile` writes besides the session. Most sign-ins
/// change nothing, and then nothing else is written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileChanges {
    /// The binding's nickname, avatar or meta differ from the identity's.
    pub identity: bool,
    /// The user's new nickname (the identity has one, and it differs).
    pub user_nickname: Option<String>,
}

impl ProfileChanges {
    /// `meta` is the identity's meta as [`crate::stored_meta`] writes it.
    pub fn between(stored: &StoredProfile, ext: &ExternalIdentity, meta: &str) -> Self {
        Self {
            identity: stored.nickname != ext.nickname
                || stored.avatar != ext.avatar
                || stored.meta != meta,
            user_nickname: ext
                .nickname
                .clone()
                .filter(|n| stored.user_nickname.as_ref() != Some(n)),
        }
    }

    pub fn is_empty(&self) -> bool {
        !self.identity && self.user_nickname.is_none()
    }
}

/// What [`SignInStore::sign_in_returning`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Returned {
    /// The bound user, signed in.
    SignedIn(User),
    /// The bound user is disabled; nothing was written.
    Disabled(User),
    /// The identity is bound to no one; nothing was written.
    NotBound,
}

/// [`SignInStore::sign_in_first_time`]'s request.
#[derive(Debug, Clone)]
pub struct FirstSignIn {
    pub identity: ExternalIdentity,
    /// In the order the administrator chose.
    pub candidates: Vec<MatchCandidate>,
    /// As in [`ReturningSignIn`], when the identity turns out to be bound.
    pub sync_profile: bool,
    /// The user to create when nothing matches; `None` when sign-up is off. A username,
    /// e-mail or phone another user holds is left out of it.
    pub sign_up: Option<NewUser>,
    /// A match that has a password is not linked (its owner links from their account).
    pub link_requires_password: bool,
    pub start: SessionStart,
    pub now: i64,
}

/// What [`SignInStore::sign_in_first_time`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// The identity was bound meanwhile (another sign-in of it won): signed in.
    Bound(User),
    /// Linked to an existing user through `field`, and signed in.
    Linked { user: User, field: &'static str },
    /// A new user was created and signed in.
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

#[cfg(test)]
mod tests {
    use super::*;
    use authgate_core::audit::Outcome;

    fn start() -> SessionStart {
        let mut detail = serde_json::Map::new();
        detail.insert("via".into(), "web".into());
        SessionStart {
            session: Session {
                id: "s".into(),
                user_id: 0,
                authenticator: "dingtalk".into(),
                signed_in_at: 1,
                last_renewed_at: None,
                ip: Some("10.0.0.1".into()),
                user_agent: None,
                revoked_at: None,
            },
            token: IssuedToken {
                jti: "j".into(),
                session_id: "s".into(),
                user_id: 0,
                issued_at: 1,
                expires_at: 2,
                renewed_to: None,
                renewed_at: None,
            },
            audit: NewAuditEntry {
                at: 1,
                event: event::SIGN_IN.into(),
                outcome: Outcome::Success,
                user_id: None,
                actor_id: None,
                authenticator: Some("dingtalk".into()),
                ip: Some("10.0.0.1".into()),
                user_agent: None,
                reason: None,
                detail,
            },
        }
    }

    #[test]
    fn a_sign_up_is_recorded_before_its_sign_in_and_a_link_names_its_field() {
        let s = start();
        let signed_up = s.audit_for(7, SignedInBy::SignUp);
        assert_eq!(signed_up.len(), 2);
        assert_eq!(signed_up[0].event, event::SIGN_UP);
        assert!(signed_up[0].detail.is_empty());
        assert_eq!(signed_up[1].detail["signedUp"], true);
        assert_eq!(signed_up[1].detail["via"], "web");
        assert!(signed_up.iter().all(|e| e.user_id == Some(7)));
        let linked = s.audit_for(8, SignedInBy::Link { field: "phone" });
        assert_eq!(linked.len(), 1);
        assert_eq!(linked[0].detail["linkedBy"], "phone");
        let bound = s.audit_for(9, SignedInBy::Binding);
        assert_eq!(bound[0].detail.len(), 1);
        assert_eq!(s.for_user(9).0.user_id, 9);
        assert_eq!(s.for_user(9).1.user_id, 9);
    }
}
