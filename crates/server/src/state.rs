//! Everything a request handler can reach.

use crate::auth::keys::SigningKeys;
use crate::auth::tokens::TokenCodec;
use crate::auth_types::AuthTypes;
use crate::config::ServerConfig;
use crate::error::ApiResult;
use crate::metrics::Metrics;
use crate::passwords::PasswordPool;
use authgate_core::clock::now_ms;
use authgate_core::secret_box::SecretBox;
use authgate_core::token_policy::TokenPolicy;
use authgate_store::Store;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A policy change on one node reaches the others within this time (DESIGN: within 1 s).
const POLICY_CACHE_TTL: Duration = Duration::from_millis(500);

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: ServerConfig,
    pub store: Arc<dyn Store>,
    pub secrets: SecretBox,
    pub tokens: TokenCodec,
    pub passwords: PasswordPool,
    pub auth_types: AuthTypes,
    pub metrics: Metrics,
    policy_cache: Mutex<Option<(Instant, TokenPolicy)>>,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Loads (or on an empty database creates) the signing key; the store must be migrated.
    pub async fn new(
        config: ServerConfig,
        store: Arc<dyn Store>,
        secrets: SecretBox,
    ) -> anyhow::Result<Self> {
        let keys = SigningKeys::load_or_create(store.as_ref(), &secrets, now_ms()).await?;
        let tokens = TokenCodec::new(Arc::new(keys), config.public_origin());
        let passwords = PasswordPool::new(config.hashing).map_err(anyhow::Error::msg)?;
        Ok(Self(Arc::new(Inner {
            auth_types: AuthTypes::builtin(&config),
            config,
            store,
            secrets,
            tokens,
            passwords,
            metrics: Metrics::default(),
            policy_cache: Mutex::new(None),
        })))
    }

    pub async fn token_policy(&self) -> ApiResult<TokenPolicy> {
        if let Some((at, policy)) = *self.policy_cache.lock().expect("not poisoned") {
            if at.elapsed() < POLICY_CACHE_TTL {
                return Ok(policy);
            }
        }
        let policy = self.store.token_policy().await?;
        *self.policy_cache.lock().expect("not poisoned") = Some((Instant::now(), policy));
        Ok(policy)
    }

    pub fn forget_token_policy(&self) {
        *self.policy_cache.lock().expect("not poisoned") = None;
    }
}
