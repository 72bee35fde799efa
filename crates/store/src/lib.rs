//! What authgate keeps, as an interface: the [`Store`] traits, the values they take and give,
//! and what can go wrong ([`StoreError`]). No database driver lives here: the backends are
//! their own crates (`authgate-store-sqlite`, `authgate-store-postgres`), each implementing
//! these traits in plain Rust, and the server sees only this crate.
//!
//! The interface is split by capability so that each caller sees a small surface:
//! [`SignInStore`] (the sign-in path: one-time states, failure limits, identities),
//! [`UserStore`], [`AuthenticatorStore`], [`SessionStore`] (sessions, tokens, token policy),
//! [`AuditStore`], [`SettingsStore`] (settings and signing keys), [`OidcStore`] (the OpenID
//! Connect provider's clients, grants and tokens) and [`AccessRuleStore`] (forward auth's
//! rules). [`Store`] is all of them.
//! `use authgate_store::prelude::*` brings every trait into scope.

mod access_rules;
mod audit;
mod authenticators;
mod encoding;
mod error;
pub mod migrations;
mod oidc;
mod sessions;
mod settings;
pub mod short_cache;
mod sign_in;
mod users;

pub use access_rules::{order_after_move, AccessRuleRecord, AccessRuleStore};
pub use audit::{merge_repeat, AuditQuery, AuditStore};
pub use authenticators::AuthenticatorStore;
pub use encoding::{json_object, like_pattern, stored_meta};
pub use error::{conflict_field, StoreError, StoreResult};
pub use oidc::{
    AccessTokenContext, CodeRedemption, GrantContext, GrantQuery, GrantSummary, OidcClientRecord,
    OidcGrant, OidcStore, RefreshTokenRecord, Rotation,
};
pub use sessions::{RenewOutcome, SessionInfo, SessionQuery, SessionStore, TokenContext};
pub use settings::{SettingsStore, SigningKeyRecord};
pub use sign_in::{
    decide_failure_slots, ConsumedState, ExternalIdentity, FailureSlots, FirstSignIn, LinkOutcome,
    MatchCandidate, OAuthState, ProfileChanges, Resolved, Returned, ReturningSignIn, SessionStart,
    SignInStore, SignedInBy, StoredProfile,
};
pub use users::{Page, UserQuery, UserSort, UserStore};

use async_trait::async_trait;

/// Every trait, for `use authgate_store::prelude::*`.
pub mod prelude {
    pub use crate::{
        AccessRuleStore, AuditStore, AuthenticatorStore, OidcStore, SessionStore, SettingsStore,
        SignInStore, Store, UserStore,
    };
}

/// The whole store: every capability, plus what the process needs of the database itself.
#[async_trait]
pub trait Store:
    SignInStore
    + UserStore
    + AuthenticatorStore
    + SessionStore
    + AuditStore
    + SettingsStore
    + OidcStore
    + AccessRuleStore
{
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// Applies the migrations this database lacks (`migrations`).
    async fn migrate(&self) -> StoreResult<()>;
    /// A round trip to the database (readiness).
    async fn ping(&self) -> StoreResult<()>;
}

/// Hides a password in a database URL before it is shown anywhere.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:****{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact_url("postgres://bob:hunter2@db:5432/x"),
            "postgres://bob:****@db:5432/x"
        );
        assert_eq!(
            super::redact_url("sqlite://./data/a.db"),
            "sqlite://./data/a.db"
        );
    }
}
