//! One module per subcommand.

mod admin;
mod authenticators;
mod backup;
mod demo;
mod fake;
mod keys;
mod serve;
mod token_policy;

use crate::cli::{Cli, Command};
use crate::settings::Settings;
use anyhow::Context;
use authgate_store::Store;
use std::sync::Arc;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let serve_args = match &cli.command {
        Command::Serve(args) => Some(args),
        Command::Demo(args) => Some(&args.serve),
        _ => None,
    };
    if let Command::FakeDingtalk(args) = &cli.command {
        crate::logging::init(cli.global.log_format.as_deref().unwrap_or("text"));
        return fake::run(args).await;
    }
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
        Command::Authenticators(cmd) => authenticators::run(settings, cmd).await,
        Command::TokenPolicy(cmd) => token_policy::run(settings, cmd).await,
        Command::Keys(cmd) => keys::run(settings, cmd).await,
        Command::Backup { file } => backup::run(&settings, &file),
        Command::Demo(args) => demo::run(settings, args.fake_port).await,
        Command::FakeDingtalk(args) => fake::run(&args).await,
    }
}

/// Tightens the data files' permissions, connects and applies migrations.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    crate::private_files::tighten_existing(settings);
    let url = settings.database_url();
    let store = crate::database::connect(&url).await.with_context(|| {
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
