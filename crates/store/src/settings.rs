//! Settings shared by every node, and the token signing keys.

use crate::error::StoreResult;
use async_trait::async_trait;

#[async_trait]
pub trait SettingsStore: Send + Sync + 'static {
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
