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
    /// Inserts `candidate` as the active key of its algorithm unless one is active; returns
    /// the active key of that algorithm.
    async fn ensure_active_signing_key(
        &self,
        candidate: &SigningKeyRecord,
    ) -> StoreResult<SigningKeyRecord>;
    /// Makes `candidate` the active key of its algorithm; the one it replaces stays (inactive,
    /// `retired_at` = now) so tokens it signed can still be verified.
    async fn rotate_signing_key(&self, candidate: &SigningKeyRecord, now: i64) -> StoreResult<()>;
    /// Every key, retired ones included, oldest first.
    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>>;
}

#[derive(Debug, Clone, PartialEq)]
pub struct SigningKeyRecord {
    pub kid: String,
    /// `EdDSA` or `RS256`.
    pub alg: String,
    /// Sealed with the secret key.
    pub private_key: String,
    /// Base64url of the public key: raw for Ed25519, PKCS#1 DER for RSA.
    pub public_key: String,
    pub active: bool,
    pub created_at: i64,
    /// When a rotation replaced it (ms).
    pub retired_at: Option<i64>,
}
