//! First start on an empty database: the `basic` password authenticator and the root admin.
//! Safe when several nodes start at once: whichever insert wins, the others change nothing.

use crate::auth_types::password::default_options;
use crate::state::AppState;
use authgate_core::clock::now_ms;
use authgate_core::model::{validate_username, NewAuthenticator, NewUser};
use authgate_core::password::check_password_rules;

pub struct RootAdmin {
    pub username: String,
    /// Set when the password was generated: shown once, never stored in clear.
    pub generated_password: Option<String>,
}

pub async fn first_start(
    state: &AppState,
    admin_username: &str,
    admin_password: Option<&str>,
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
    let (password, generated) = match admin_password {
        Some(p) => {
            check_password_rules(p).map_err(|e| anyhow::anyhow!("AUTHGATE_ADMIN_PASSWORD: {e}"))?;
            (p.to_string(), None)
        }
        None => {
            let p = generate_password();
            (p.clone(), Some(p))
        }
    };
    let hash = state.passwords.hash(password).await;
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
