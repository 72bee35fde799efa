use thiserror::Error;

/// What went wrong, in the store's words: each backend classifies its own driver's errors
/// into these, so no caller needs to know a driver.
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
    /// The database cannot be reached (refused, dropped, no connection free in time, the
    /// writer stopped): worth retrying later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database is locked by other writers, or asked to retry, for longer than we wait.
    #[error("database busy: {0}")]
    Busy(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Config(String),
    #[error("migration failed: {0}")]
    Migration(String),
    /// Anything else the database reported (a bug of ours, most likely).
    #[error("database error: {0}")]
    Internal(String),
}

impl StoreError {
    /// Whether a later attempt may succeed (the server answers 503 with `Retry-After`).
    pub fn is_temporary(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Busy(_))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The field a unique index or constraint guards, from its name (`users_username_key`,
/// `idx_users_email`, `users.phone`...), as messages name it.
pub fn conflict_field(constraint_or_message: &str) -> &'static str {
    for (field, name) in [
        ("username", "Username"),
        ("email", "E-mail"),
        ("phone", "Phone number"),
        ("name", "Authenticator name"),
        ("uuid", "Identity"),
    ] {
        if constraint_or_message.contains(&format!("_{field}_"))
            || constraint_or_message.contains(&format!(".{field}"))
        {
            return name;
        }
    }
    "Record"
}

impl StoreError {
    /// The refusals people read (a taken name, the last admin...), in both languages.
    pub fn text(&self) -> authgate_core::text::Text {
        use authgate_core::text::Text;
        match self {
            StoreError::Conflict(field) => {
                let zh_field = match *field {
                    "Authenticator name" => "认证器名称",
                    "E-mail" => "电子邮箱",
                    "Username" => "用户名",
                    "clientId" => "clientId",
                    _ => "该记录",
                };
                Text::new(self.to_string(), format!("{zh_field}已存在"))
            }
            StoreError::LastEnabledAuthenticator => {
                Text::new(self.to_string(), "请至少保留并启用一个认证器")
            }
            StoreError::AdminsNeedPassword => Text::new(
                self.to_string(),
                "管理员只能用密码登录：请保持一个密码认证器处于启用状态，或先为其绑定钉钉账号",
            ),
            StoreError::LastEnabledAdmin => Text::new(
                self.to_string(),
                "这是最后一个启用的管理员；请先设置另一位管理员",
            ),
            other => Text::new(other.to_string(), "数据库出错了"),
        }
    }
}
