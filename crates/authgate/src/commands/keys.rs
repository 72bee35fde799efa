//! `authgate keys list|rotate`: the signing keys, and replacing one. The key it replaces stays
//! published in the JWKS (and accepted) until every token it signed has expired; every node
//! signs with the new key once restarted.

use super::open_store;
use crate::cli::{KeyAlg, KeysCommand};
use crate::secret_key;
use crate::settings::Settings;
use authgate_core::clock::{now_ms, to_rfc3339};
use authgate_server::auth::keys::{JwsAlg, SigningKeys};

pub async fn run(settings: Settings, cmd: KeysCommand) -> anyhow::Result<()> {
    let store = open_store(&settings).await?;
    match cmd {
        KeysCommand::List => {
            for k in store.list_signing_keys().await? {
                let state = match (k.active, k.retired_at) {
                    (true, _) => "active".to_string(),
                    (false, Some(at)) => format!("retired {}", to_rfc3339(at)),
                    (false, None) => "inactive".to_string(),
                };
                println!(
                    "{}  {:<6} created {}  {state}",
                    k.kid,
                    k.alg,
                    to_rfc3339(k.created_at)
                );
            }
        }
        KeysCommand::Rotate { alg } => {
            let key = secret_key::load(settings.secret_key.as_deref(), &settings.data_dir)?;
            secret_key::verify_against_store(&key.secrets, store.as_ref()).await?;
            let alg = match alg {
                KeyAlg::Rs256 => JwsAlg::RS256,
                KeyAlg::EdDsa => JwsAlg::EdDSA,
            };
            let kid = SigningKeys::rotate(store.as_ref(), &key.secrets, alg, now_ms()).await?;
            println!(
                "authgate: the {} key is now {kid}; restart every node to sign with it (the old key \
                 stays published until the tokens it signed have expired)",
                alg.name()
            );
        }
    }
    Ok(())
}
