//! `authgate admin create` and `authgate admin reset-password`.

use super::open_store;
use crate::cli::AdminCommand;
use crate::settings::Settings;
use anyhow::{bail, Context};
use authgate_core::clock::now_ms;
use authgate_core::model::{normalize_email, validate_username, NewUser};
use authgate_core::password::{check_password_rules, PasswordHasher};
use authgate_server::bootstrap::generate_password;

/// The password from stdin, or a generated one that is printed once.
fn obtain_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        let password = line.trim_end_matches(['\r', '\n']).to_string();
        check_password_rules(&password)?;
        Ok((password, false))
    } else {
        Ok((generate_password(), true))
    }
}

pub async fn run(settings: Settings, cmd: AdminCommand) -> anyhow::Result<()> {
    let store = open_store(&settings).await?;
    let h = &settings.hashing;
    let hasher = PasswordHasher::new(h.memory_kib, h.iterations, h.parallelism)
        .map_err(anyhow::Error::msg)?;
    match cmd {
        AdminCommand::Create {
            username,
            email,
            password_stdin,
        } => {
            let username = validate_username(&username)?;
            let email = email.map(|e| normalize_email(&e)).transpose()?;
            let (password, generated) = obtain_password(password_stdin)?;
            let user = store
                .create_user(
                    &NewUser {
                        username: Some(username.clone()),
                        email,
                        is_admin: true,
                        enabled: true,
                        password_hash: Some(hasher.hash(&password)),
                        ..Default::default()
                    },
                    now_ms(),
                )
                .await
                .with_context(|| format!("cannot create '{username}'"))?;
            println!(
                "authgate: created administrator '{username}' (id {})",
                user.id
            );
            if generated {
                println!("password (shown once): {password}");
            }
        }
        AdminCommand::ResetPassword {
            username,
            password_stdin,
        } => {
            let Some(user) = store.find_user_by_account(&username).await? else {
                bail!("no user has the username or e-mail '{username}'");
            };
            let (password, generated) = obtain_password(password_stdin)?;
            let now = now_ms();
            store
                .set_password_hash(user.id, &hasher.hash(&password), Some(now), now)
                .await?;
            let revoked = store
                .revoke_user_sessions(
                    user.id,
                    None,
                    "password reset from the command line",
                    None,
                    now,
                )
                .await?;
            println!(
                "authgate: new password set for '{username}'; {revoked} session(s) signed out"
            );
            if generated {
                println!("password (shown once): {password}");
            }
        }
    }
    Ok(())
}
