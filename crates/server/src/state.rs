//! Everything a request handler can reach.

use crate::auth::keys::SigningKeys;
use crate::auth::tokens::TokenCodec;
use crate::auth_types::AuthTypes;
use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::passwords::PasswordPool;
use authgate_core::clock::now_ms;
use authgate_core::secret_box::SecretBox;
use authgate_store::Store;
use std::ops::Deref;
use std::sync::Arc;

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
    pub oidc: crate::oidc::OidcState,
    pub forward_auth: crate::forward_auth::ForwardAuthState,
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
        let keys = SigningKeys::load_or_create(store.clone(), &secrets, now_ms()).await?;
        let tokens = TokenCodec::new(keys, config.public_origin());
        let passwords = PasswordPool::new(config.hashing).map_err(anyhow::Error::msg)?;
        Ok(Self(Arc::new(Inner {
            auth_types: AuthTypes::builtin(&config),
            config,
            store,
            secrets,
            tokens,
            passwords,
            metrics: Metrics::default(),
            oidc: crate::oidc::OidcState::default(),
            forward_auth: Default::default(),
        })))
    }
}
