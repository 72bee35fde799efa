//! `authgate authenticators list|enable|disable`: offline recovery for an administrator locked
//! out by a disabled password authenticator, without SQL. The store's own rules apply (the
//! last enabled authenticator, an administrator's way in), as they do in the admin API.

use super::open_store;
use crate::cli::AuthenticatorsCommand;
use crate::settings::Settings;
use anyhow::{bail, Context};
use authgate_core::clock::now_ms;
use authgate_core::model::{Authenticator, AuthenticatorPatch};
use authgate_store::Store;

pub async fn run(settings: Settings, cmd: AuthenticatorsCommand) -> anyhow::Result<()> {
    let store = open_store(&settings).await?;
    match cmd {
        AuthenticatorsCommand::List => {
            print!("{}", table(&store.list_authenticators().await?));
            Ok(())
        }
        AuthenticatorsCommand::Enable { name } => set_enabled(store.as_ref(), &name, true).await,
        AuthenticatorsCommand::Disable { name } => set_enabled(store.as_ref(), &name, false).await,
    }
}

async fn set_enabled(store: &dyn Store, name: &str, enabled: bool) -> anyhow::Result<()> {
    let verb = if enabled { "enable" } else { "disable" };
    let Some(current) = store.get_authenticator_by_name(name).await? else {
        let known: Vec<String> = store
            .list_authenticators()
            .await?
            .into_iter()
            .map(|a| format!("'{}'", a.name))
            .collect();
        if known.is_empty() {
            bail!(
                "no authenticator is named '{name}': there are none yet (`authgate serve` \
                 creates 'basic' at first start)"
            );
        }
        bail!(
            "no authenticator is named '{name}'; the authenticators are: {}",
            known.join(", ")
        );
    };
    if current.enabled == enabled {
        println!("authgate: the authenticator '{name}' is already {verb}d");
        return Ok(());
    }
    let patch = AuthenticatorPatch {
        enabled: Some(enabled),
        ..Default::default()
    };
    store
        .update_authenticator(current.id, &patch, now_ms())
        .await
        .with_context(|| format!("cannot {verb} the authenticator '{name}'"))?
        .with_context(|| format!("the authenticator '{name}' was deleted meanwhile"))?;
    println!(
        "authgate: {verb}d the authenticator '{name}' ({}); running servers apply it within a second",
        current.auth_type
    );
    Ok(())
}

/// One line per authenticator under a header, columns padded to the widest entry.
fn table(authenticators: &[Authenticator]) -> String {
    let rows: Vec<[&str; 4]> = std::iter::once(["NAME", "TYPE", "ENABLED", "TITLE"])
        .chain(authenticators.iter().map(|a| {
            let enabled = if a.enabled { "yes" } else { "no" };
            [
                a.name.as_str(),
                a.auth_type.as_str(),
                enabled,
                a.title.as_str(),
            ]
        }))
        .collect();
    let width = |column: usize| {
        rows.iter()
            .map(|row| row[column].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2)];
    let mut out = String::new();
    for [name, auth_type, enabled, title] in rows {
        let line = format!(
            "{name:<w0$}  {auth_type:<w1$}  {enabled:<w2$}  {title}",
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
