use crate::error::StoreResult;
use crate::queries::*;
use async_trait::async_trait;
use authgate_core::audit::{AuditEntry, NewAuditEntry};
use authgate_core::failure_limit::{FailureLimit, Settle};
use authgate_core::model::*;
use authgate_core::token_policy::TokenPolicy;

/// The one storage interface. Every method is a complete unit of work: those that touch
/// several rows run in one transaction.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    async fn migrate(&self) -> StoreResult<()>;
    async fn ping(&self) -> StoreResult<()>;

    // Users
    async fn create_user(&self, user: &NewUser, now: i64) -> StoreResult<User>;
    /// Creates the root admin only when the database has no admin yet (first start, also
    /// when several nodes start at once). Returns the user it created.
    async fn create_first_admin(&self, user: &NewUser, now: i64) -> StoreResult<Option<User>>;
    async fn get_user(&self, id: i64) -> StoreResult<Option<User>>;
    /// By username (case-insensitive) or e-mail.
    async fn find_user_by_account(&self, account: &str) -> StoreResult<Option<User>>;
    async fn list_users(&self, query: &UserQuery) -> StoreResult<(Vec<User>, i64)>;
    async fn update_user(&self, id: i64, patch: &UserPatch, now: i64) -> StoreResult<Option<User>>;
    /// `changed_at`: when set, also records a password change (older tokens die); `None` is a
    /// silent rehash (upgrade of an old hash).
    async fn set_password_hash(
        &self,
        id: i64,
        hash: &str,
        changed_at: Option<i64>,
        now: i64,
    ) -> StoreResult<bool>;
    async fn delete_user(&self, id: i64) -> StoreResult<bool>;
    async fn count_enabled_admins(&self) -> StoreResult<i64>;

    // Authenticators
    async fn list_authenticators(&self) -> StoreResult<Vec<Authenticator>>;
    async fn get_authenticator(&self, id: i64) -> StoreResult<Option<Authenticator>>;
    /// Read by every sign-in. Answers may be up to 500 ms old for changes made by another
    /// process (node, CLI); changes made through this store are seen at once.
    async fn get_authenticator_by_name(&self, name: &str) -> StoreResult<Option<Authenticator>>;
    async fn create_authenticator(
        &self,
        a: &NewAuthenticator,
        now: i64,
    ) -> StoreResult<Authenticator>;
    /// Creates it unless one of that name exists (first start).
    async fn ensure_authenticator(&self, a: &NewAuthenticator, now: i64) -> StoreResult<()>;
    /// Refuses (LastEnabledAuthenticator) to disable the last enabled one.
    async fn update_authenticator(
        &self,
        id: i64,
        patch: &AuthenticatorPatch,
        now: i64,
    ) -> StoreResult<Option<Authenticator>>;
    /// Refuses (LastEnabledAuthenticator) to delete the last enabled one.
    async fn delete_authenticator(&self, id: i64) -> StoreResult<bool>;
    /// Puts `source` at `target`'s place, shifting the ones between. False if either is unknown.
    async fn move_authenticator(
        &self,
        source_id: i64,
        target_id: i64,
        now: i64,
    ) -> StoreResult<bool>;

    // Identities
    async fn list_identities(&self, user_id: i64) -> StoreResult<Vec<Identity>>;
    async fn delete_identity(&self, user_id: i64, identity_id: i64) -> StoreResult<bool>;
    /// Links `identity` to the (signed-in) user `user_id`, with its audit entry, in one
    /// transaction; refused when either side is linked already.
    async fn link_identity(
        &self,
        user_id: i64,
        identity: &ExternalIdentity,
        audit: &NewAuditEntry,
        now: i64,
    ) -> StoreResult<LinkOutcome>;
    /// Binding, else matching, else sign-up, in one transaction; safe when many nodes resolve
    /// the same first-time identity at once (exactly one user and one binding result). When
    /// the outcome signs a user in (bound, linked, signed up), `start`'s session, token and
    /// audit entries are written in the same transaction. With no candidates and no sign-up,
    /// an identity that is not bound yet gives `NotFound` and writes nothing.
    async fn resolve_identity(
        &self,
        r: &IdentityResolution,
        start: &SessionStart,
        now: i64,
    ) -> StoreResult<Resolved>;

    // OAuth states (one-time, shared by every node)
    async fn create_oauth_state(&self, state: &OAuthState) -> StoreResult<()>;
    /// Deletes and returns the state in one statement, so only one request can ever use it.
    async fn consume_oauth_state(&self, state_hash: &str, now: i64) -> StoreResult<ConsumedState>;
    /// Removes states that expired before `now`; returns how many.
    async fn purge_expired_oauth_states(&self, now: i64) -> StoreResult<u64>;

    // Sessions and tokens
    /// The session, its first token and the audit entries that record it, in one transaction.
    async fn create_session(
        &self,
        session: &Session,
        token: &IssuedToken,
        audit: &[NewAuditEntry],
    ) -> StoreResult<()>;
    /// The token, its session and its user. Answers may be up to 500 ms old for changes made
    /// by another process (node, CLI); changes made through this store are seen at once.
    async fn token_context(&self, jti: &str) -> StoreResult<Option<TokenContext>>;
    /// Renews `old_jti` to `new_token` exactly once, whichever node asks.
    async fn renew_token(
        &self,
        old_jti: &str,
        new_token: &IssuedToken,
        now: i64,
    ) -> StoreResult<RenewOutcome>;
    async fn revoke_session(
        &self,
        session_id: &str,
        reason: &str,
        by: Option<i64>,
        now: i64,
    ) -> StoreResult<bool>;
    /// Revokes every live session of a user but `except`; returns how many.
    async fn revoke_user_sessions(
        &self,
        user_id: i64,
        except: Option<&str>,
        reason: &str,
        by: Option<i64>,
        now: i64,
    ) -> StoreResult<u64>;
    async fn get_session(&self, session_id: &str) -> StoreResult<Option<SessionInfo>>;
    async fn list_sessions(&self, query: &SessionQuery) -> StoreResult<(Vec<SessionInfo>, i64)>;

    // Token policy
    /// Answers may be up to 500 ms old for changes made by another process; changes made
    /// through this store are seen at once.
    async fn token_policy(&self) -> StoreResult<TokenPolicy>;
    async fn set_token_policy(&self, policy: &TokenPolicy, now: i64) -> StoreResult<()>;

    // Sign-in failure limits (the rule is `authgate_core::failure_limit`)
    /// The latest lock among `keys` that has not ended by `now` (a read: no slot is taken).
    async fn locked_until(&self, keys: &[String], now: i64) -> StoreResult<Option<i64>>;
    /// Takes one slot under every key, or none: in one transaction that holds the keys' rows,
    /// so concurrent attempts on every node are counted one after the other.
    async fn take_failure_slots(
        &self,
        keys: &[(String, FailureLimit)],
        now: i64,
    ) -> StoreResult<FailureSlots>;
    /// Deletes the counters of keys with nothing pending, locked or counted since `before`
    /// (every guess with a made-up account name leaves one); returns how many.
    async fn purge_idle_failure_counters(&self, before: i64) -> StoreResult<u64>;
    /// Settles the slots an attempt took, each key as its outcome says.
    async fn settle_failure_slots(
        &self,
        keys: &[(String, FailureLimit, Settle)],
        now: i64,
    ) -> StoreResult<()>;

    // Audit log
    async fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<()>;
    /// Like `append_audit`, but a failure identical to the latest of its kind recorded since
    /// `since` (same event, reason, user, authenticator, address, user agent and detail) is
    /// counted on that row instead of written again: its detail gets `repeated` (how many more)
    /// and `lastAt`.
    async fn append_audit_merging(&self, entry: &NewAuditEntry, since: i64) -> StoreResult<()>;
    async fn list_audit(&self, query: &AuditQuery) -> StoreResult<(Vec<AuditEntry>, i64)>;

    // Settings and keys
    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>>;
    /// Stores `value` unless the key exists; returns the value that won.
    async fn put_setting_if_absent(
        &self,
        key: &str,
        value: &str,
        sealed: bool,
        now: i64,
    ) -> StoreResult<String>;
    /// Inserts `candidate` as the active key unless one is active; returns the active key.
    async fn ensure_active_signing_key(
        &self,
        candidate: &SigningKeyRecord,
    ) -> StoreResult<SigningKeyRecord>;
    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>>;
}
