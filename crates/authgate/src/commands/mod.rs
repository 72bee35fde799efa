//! One module per subcommand.

mod admin;
mod serve;

use crate::cli::{Cli, Command};
use crate::settings::Settings;
use anyhow::Context;
use authgate_store::Store;
use std::sync::Arc;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let serve_args = match &cli.command {
        Command::Serve(args) => Some(args),
        _ => None,
    };
    let settings = Settings::load(&cli.global, serve_args)?;
    crate::logging::init(&settings.log_format);
    match cli.command {
        Command::Serve(_) => serve::run(settings).await,
        Command::Migrate => {
            let store = open_store(&settings).await?;
            println!("authgate: the {} database is up to date", store.backend());
            Ok(())
        }
        Command::Admin(cmd) => admin::run(settings, cmd).await,
    }
}

/// Connects and applies migrations.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let url = settings.database_url();
    let store = authgate_store::connect(&url).await.with_context(|| {
        format!(
            "cannot open the database {}",
            authgate_store::redact_url(&url)
        )
    })?;
    store
        .migrate()
        .await
        .context("cannot apply database migrations")?;
    Ok(store)
}
