use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A unique field already holds this value; the field's name is given.
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("Please keep and enable at least one authenticator")]
    LastEnabledAuthenticator,
    /// The change would leave an administrator with no way to sign in.
    #[error("An administrator signs in only with a password: keep a password authenticator enabled, or link their DingTalk account first")]
    AdminsNeedPassword,
    /// The change would leave no enabled administrator.
    #[error("This is the last enabled administrator; make another one first")]
    LastEnabledAdmin,
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Config(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// From SQLite's writer thread (`sqlite/writer.rs`).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A concurrent writer got there first (unique violation) or the database asked to retry:
/// a fresh attempt will see the winner's rows.
pub(crate) fn lost_race(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            db.is_unique_violation()
                || matches!(code.as_ref(), "40001" | "40P01" | "5" | "6" | "517")
        }
        _ => false,
    }
}

/// Maps a unique violation to the field it concerns, from the index or constraint name.
pub(crate) fn map_unique(err: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &err {
        if db.is_unique_violation() {
            let text = format!("{} {}", db.constraint().unwrap_or_default(), db.message());
            for field in ["username", "email", "phone", "name", "uuid"] {
                if text.contains(&format!("_{field}_")) || text.contains(&format!(".{field}")) {
                    return StoreError::Conflict(match field {
                        "username" => "Username",
                        "email" => "E-mail",
                        "phone" => "Phone number",
                        "name" => "Authenticator name",
                        _ => "Identity",
                    });
                }
            }
            return StoreError::Conflict("Record");
        }
    }
    StoreError::Db(err)
}
