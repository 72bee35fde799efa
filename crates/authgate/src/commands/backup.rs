//! `authgate backup FILE`: an online copy of the SQLite database, safe while servers run.
//! PostgreSQL has its own tools for that (`pg_dump`), which also know its roles and settings.

use crate::settings::Settings;
use anyhow::{bail, Context};
use std::path::Path;

pub fn run(settings: &Settings, file: &Path) -> anyhow::Result<()> {
    let url = settings.database_url();
    if !url.starts_with("sqlite:") {
        bail!(
            "authgate backup copies SQLite databases; this one is PostgreSQL: back it up with \
             pg_dump (for example `pg_dump --format=custom --file=authgate.dump \"$DATABASE_URL\"`) \
             and keep the secret key with it"
        );
    }
    authgate_store_sqlite::backup_into(&url, file)
        .with_context(|| format!("cannot back up {}", authgate_store::redact_url(&url)))?;
    let key = match &settings.secret_key {
        Some(_) => "the AUTHGATE_SECRET_KEY this server runs with".to_string(),
        None => settings
            .data_dir
            .join(crate::secret_key::KEY_FILE)
            .display()
            .to_string(),
    };
    println!(
        "authgate: the database is copied to {}. Keep {key} with it: without the same secret \
         key the copy's sealed secrets (DingTalk client secrets, signing keys) cannot be opened.",
        file.display()
    );
    Ok(())
}
