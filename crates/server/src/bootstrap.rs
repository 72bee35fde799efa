//! First start on an empty database: the `basic` password authenticator and the root admin.
//! Safe when several nodes start at once: whichever insert wins, the others change nothing.

use crate::auth_types::password::default_options;
use crate::state::AppState;
use authgate_core::clock::now_ms;
use authgate_core::model::{validate_username, NewAuthenticator, NewUser};
use authgate_core::password::{check_password_rules, PasswordHasher};
use tokio::task::JoinHandle;

pub struct RootAdmin {
    pub username: String,
    /// Set when the password was generated: shown once, never stored in clear.
    pub generated_password: Option<String>,
}

/// The root admin's password: `AUTHGATE_ADMIN_PASSWORD`, or one generated for this start (used
/// and shown only if the admin is created now).
pub struct AdminPassword {
    password: String,
    generated: bool,
    /// Hashing started early (see [`AdminPassword::hash_ahead`]).
    hash: Option<JoinHandle<String>>,
}

impl AdminPassword {
    pub fn new(configured: Option<&str>) -> Self {
        match configured {
            Some(p) => Self {
                password: p.to_string(),
                generated: false,
                hash: None,
            },
            None => Self {
                password: generate_password(),
                generated: true,
                hash: None,
            },
        }
    }

    /// Starts hashing now, on a blocking thread: on a first start the hash is about half the
    /// time to ready, and it can run while the database is being set up. Only worth it when
    /// the admin will most likely be created (a fresh data folder); otherwise the work is
    /// thrown away.
    pub fn hash_ahead(&mut self, hasher: PasswordHasher) {
        if check_password_rules(&self.password).is_err() {
            return;
        }
        let password = self.password.clone();
        self.hash = Some(tokio::task::spawn_blocking(move || hasher.hash(&password)));
    }

    async fn hashed(self, state: &AppState) -> anyhow::Result<String> {
        match self.hash {
            Some(early) => Ok(early.await?),
            None => Ok(state.passwords.hash(self.password).await),
        }
    }
}

pub async fn first_start(
    state: &AppState,
    admin_username: &str,
    admin_password: AdminPassword,
) -> anyhow::Result<Option<RootAdmin>> {
    let now = now_ms();
    state
        .store
        .ensure_authenticator(
            &NewAuthenticator {
                name: "basic".into(),
                auth_type: "password".into(),
                title: "Password".into(),
                description: "Sign in with username/e-mail and password".into(),
                options: default_options(),
                enabled: true,
            },
            now,
        )
        .await?;
    if state.store.count_enabled_admins().await? > 0 {
        return Ok(None);
    }
    let username = validate_username(admin_username)
        .map_err(|e| anyhow::anyhow!("AUTHGATE_ADMIN_USERNAME: {e}"))?;
    if !admin_password.generated {
        check_password_rules(&admin_password.password)
            .map_err(|e| anyhow::anyhow!("AUTHGATE_ADMIN_PASSWORD: {e}"))?;
    }
    let generated = admin_password
        .generated
        .then(|| admin_password.password.clone());
    let hash = admin_password.hashed(state).await?;
    let created = state
        .store
        .create_first_admin(
            &NewUser {
                username: Some(username.clone()),
                nickname: Some("Super Admin".into()),
                is_admin: true,
                enabled: true,
                password_hash: Some(hash),
                ..Default::default()
            },
            now,
        )
        .await?;
    Ok(created.map(|_| RootAdmin {
        username,
        generated_password: generated,
    }))
}

/// 20 characters from an alphabet without look-alikes (about 110 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..20)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}
