//! The secret key that seals client secrets and signing keys: from AUTHGATE_SECRET_KEY, or a
//! key file generated once (mode 0600) in the data folder. Every node must share it; a check
//! value in the database catches a node started with another key before it does harm.

use anyhow::{bail, Context};
use authgate_core::clock::now_ms;
use authgate_core::secret_box::SecretBox;
use authgate_store::Store;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

pub const KEY_FILE: &str = "secret.key";
const CHECK_SETTING: &str = "secret_key_check";

pub struct LoadedKey {
    pub secrets: SecretBox,
    /// The key file was created just now: the data folder is new.
    pub generated_now: bool,
}

pub fn load(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<LoadedKey> {
    let loaded = |secrets, generated_now| LoadedKey {
        secrets,
        generated_now,
    };
    if let Some(text) = configured.filter(|t| !t.trim().is_empty()) {
        return SecretBox::from_base64(text)
            .map(|s| loaded(s, false))
            .context("AUTHGATE_SECRET_KEY must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)");
    }
    let path = data_dir.join(KEY_FILE);
    // Private from the start (see `private_files`), whatever the umask.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data_dir)
        .with_context(|| format!("cannot create the data folder {}", data_dir.display()))?;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut file) => {
            let key = SecretBox::generate_key_base64();
            file.write_all(key.as_bytes())?;
            file.sync_all()?;
            tracing::info!(path = %path.display(), "generated a new secret key");
            Ok(loaded(SecretBox::from_base64(&key)?, true))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            SecretBox::from_base64(&text)
                .map(|s| loaded(s, false))
                .with_context(|| format!("{} is not a valid key", path.display()))
        }
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

/// Refuses to run with a key other than the one that sealed this database's secrets.
pub async fn verify_against_store(secrets: &SecretBox, store: &dyn Store) -> anyhow::Result<()> {
    let check = secrets.seal(b"authgate");
    let stored = store
        .put_setting_if_absent(CHECK_SETTING, &check, true, now_ms())
        .await?;
    if secrets.open(&stored).is_err() {
        bail!(
            "this database was set up with another secret key: start every node with the same \
             AUTHGATE_SECRET_KEY (or the same secret.key file)"
        );
    }
    Ok(())
}
