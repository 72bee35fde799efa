//! What the OpenID Connect provider keeps: registered clients, grants (one per authorization:
//! the code, then the tokens issued from it), refresh tokens, revoked access tokens and
//! consents. Codes and refresh tokens are stored as SHA-256 hashes, never as themselves.
//!
//! The store decides nothing about validity beyond what must be atomic (a code is redeemed
//! once, a refresh token rotated once, a reuse revokes the family in the same unit of work);
//! the server judges a [`GrantContext`] (revoked? session ended? user disabled? expired?).

use crate::error::StoreResult;
use async_trait::async_trait;
use authgate_core::audit::NewAuditEntry;
use authgate_core::model::User;
use serde_json::{Map, Value};

#[async_trait]
pub trait OidcStore: Send + Sync + 'static {
    /// `Conflict("clientId")` when the id is taken.
    async fn create_oidc_client(&self, client: &OidcClientRecord) -> StoreResult<()>;
    /// Read by every OIDC request. Answers may be up to 500 ms old for changes made by another
    /// process; changes made through this store are seen at once.
    async fn get_oidc_client(&self, client_id: &str) -> StoreResult<Option<OidcClientRecord>>;
    /// Ordered by creation.
    async fn list_oidc_clients(&self) -> StoreResult<Vec<OidcClientRecord>>;
    /// Replaces name, secret hash, settings, enabled and updated_at; false if unknown.
    async fn update_oidc_client(&self, client: &OidcClientRecord) -> StoreResult<bool>;
    /// Deletes the client with its grants, refresh tokens and consents; false if unknown.
    async fn delete_oidc_client(&self, client_id: &str) -> StoreResult<bool>;

    /// Stores a grant with its (unused) code, and its audit entry: the authorization
    /// endpoint's one write.
    async fn create_grant(&self, grant: &OidcGrant, audit: &NewAuditEntry) -> StoreResult<()>;
    /// Marks the code used, once, for this client only; in the same unit of work inserts
    /// `refresh` (when given and the grant is `refreshable`). A code already used revokes its
    /// grant (and so every token issued from it) and answers `Reused`. An expired code, a code
    /// of another client, or an unknown one answers `Unknown` and changes nothing.
    async fn redeem_code(
        &self,
        code_hash: &str,
        client_id: &str,
        refresh: Option<&RefreshTokenRecord>,
        now: i64,
    ) -> StoreResult<CodeRedemption>;
    /// Replaces an unused refresh token of this client's by `new_hash` (same grant), once. A
    /// token already rotated revokes its grant (the whole family) and answers `Reused`. A
    /// token of another client, of a revoked grant, or an unknown one answers `Unknown` and
    /// changes nothing. Expiry is the server's to judge (from the grant).
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        client_id: &str,
        new_hash: &str,
        now: i64,
    ) -> StoreResult<Rotation>;
    /// A refresh token with its grant (introspection, revocation).
    async fn refresh_token_context(
        &self,
        hash: &str,
    ) -> StoreResult<Option<(RefreshTokenRecord, GrantContext)>>;
    /// What judging an access token needs, in one read: whether its `jti` was revoked, and
    /// its grant (none for `client_credentials` tokens). Answers may be up to 500 ms old for
    /// changes made by another process; changes made through this store are seen at once.
    async fn access_token_context(
        &self,
        jti: &str,
        grant_id: Option<&str>,
    ) -> StoreResult<AccessTokenContext>;
    /// Remembers a revoked access token until it would have expired anyway.
    async fn revoke_access_token(&self, jti: &str, expires_at: i64) -> StoreResult<()>;
    /// False when already revoked or unknown.
    async fn revoke_grant(&self, grant_id: &str, now: i64) -> StoreResult<bool>;
    /// Revokes the user's live grants (of one client, or all); with a client, its consent is
    /// forgotten too ("remove access"). Returns how many grants were revoked.
    async fn revoke_user_grants(
        &self,
        user_id: i64,
        client_id: Option<&str>,
        now: i64,
    ) -> StoreResult<u64>;
    /// Grants neither revoked nor expired whose code was redeemed, newest first.
    async fn list_grants(&self, query: &GrantQuery) -> StoreResult<Vec<GrantSummary>>;

    /// The scopes (space-separated) the user consented to for this client, if any.
    async fn consent(&self, user_id: i64, client_id: &str) -> StoreResult<Option<String>>;
    /// Creates or replaces the user's consent for this client.
    async fn save_consent(
        &self,
        user_id: i64,
        client_id: &str,
        scope: &str,
        now: i64,
    ) -> StoreResult<()>;

    /// Deletes grants past `expires_at` whose code expired, and revoked-token rows past
    /// their expiry. Returns how many rows went.
    async fn purge_expired_oidc(&self, now: i64) -> StoreResult<u64>;
}

/// A relying party. `settings` holds the client's configuration (redirect URIs, auth method,
/// scopes, lifetimes...) as the server wrote it; the store keeps it as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct OidcClientRecord {
    pub id: String,
    pub name: String,
    /// SHA-256 (hex) of the secret; `None` for public clients.
    pub secret_hash: Option<String>,
    pub settings: Map<String, Value>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One authorization of a client by a user: the code, then the tokens issued from it.
#[derive(Debug, Clone, PartialEq)]
pub struct OidcGrant {
    pub id: String,
    pub client_id: String,
    pub user_id: i64,
    /// The authgate session it was given in (its `sid`, and the end of non-offline grants).
    pub session_id: String,
    /// `offline_access`: outlives the session.
    pub offline: bool,
    /// Whether redeeming the code issues a refresh token.
    pub refreshable: bool,
    /// Space-separated, as granted.
    pub scope: String,
    /// The `claims` request parameter (JSON text), if any.
    pub claims: Option<String>,
    pub nonce: Option<String>,
    /// When the user signed in (ms).
    pub auth_time: i64,
    /// How they signed in (`pwd`, `dingtalk`...).
    pub amr: String,
    pub redirect_uri: String,
    /// The S256 PKCE challenge, if any.
    pub code_challenge: Option<String>,
    pub code_hash: String,
    pub code_expires_at: i64,
    pub code_used_at: Option<i64>,
    pub created_at: i64,
    /// When the grant and its refresh tokens end at the latest (ms).
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

/// A grant with what judging it needs, read together.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantContext {
    pub grant: OidcGrant,
    pub user: User,
    /// Whether the authgate session it was given in was revoked.
    pub session_revoked: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RefreshTokenRecord {
    pub hash: String,
    pub grant_id: String,
    pub issued_at: i64,
    /// Set when it was rotated (a second use is a reuse).
    pub used_at: Option<i64>,
}

// Answered once per token request and matched at once: boxing the context would only add an
// allocation (and a `Box` to every match).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum CodeRedemption {
    /// The grant as it stands after this redemption; `refresh_issued` says whether the
    /// refresh token passed in was stored.
    Redeemed {
        context: GrantContext,
        refresh_issued: bool,
    },
    /// The code had been redeemed before: its grant is now revoked.
    Reused {
        grant_id: String,
    },
    Unknown,
}

// As `CodeRedemption`: the context is not boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Rotation {
    /// The new token is stored; here is its grant.
    Rotated(GrantContext),
    /// The token had been rotated before: its grant (the whole family) is now revoked.
    Reused {
        grant_id: String,
    },
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccessTokenContext {
    pub revoked: bool,
    pub grant: Option<GrantContext>,
    /// The grant's user's linked identities (UserInfo's `picture` and DingTalk claims come from
    /// them), in the order they were linked; none without a grant.
    pub identities: Vec<authgate_core::model::Identity>,
}

#[derive(Debug, Clone, Default)]
pub struct GrantQuery {
    pub user_id: Option<i64>,
    pub client_id: Option<String>,
    /// Only those given in this authgate session.
    pub session_id: Option<String>,
    /// Grants expiring before this instant (ms) are left out.
    pub now: i64,
}

/// A live grant as the account and admin pages list it.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantSummary {
    pub grant_id: String,
    pub client_id: String,
    pub client_name: String,
    pub user_id: i64,
    pub username: Option<String>,
    /// The authgate session it was given in.
    pub session_id: String,
    pub scope: String,
    pub offline: bool,
    pub created_at: i64,
    pub expires_at: i64,
}
