//! Authenticators: the configured ways to sign in.

use crate::error::StoreResult;
use async_trait::async_trait;
use authgate_core::model::{Authenticator, AuthenticatorPatch, NewAuthenticator};

#[async_trait]
pub trait AuthenticatorStore: Send + Sync + 'static {
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
    /// Refuses to disable the last enabled one (LastEnabledAuthenticator) or to leave an
    /// administrator with no way in (AdminsNeedPassword).
    async fn update_authenticator(
        &self,
        id: i64,
        patch: &AuthenticatorPatch,
        now: i64,
    ) -> StoreResult<Option<Authenticator>>;
    /// Refuses as `update_authenticator` does.
    async fn delete_authenticator(&self, id: i64) -> StoreResult<bool>;
    /// Puts `source` at `target`'s place, shifting the ones between. False if either is unknown.
    async fn move_authenticator(
        &self,
        source_id: i64,
        target_id: i64,
        now: i64,
    ) -> StoreResult<bool>;
}
