//! Users and their linked identities.

use crate::error::StoreResult;
use async_trait::async_trait;
use authgate_core::model::{Identity, NewUser, User, UserPatch};

#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    async fn create_user(&self, user: &NewUser, now: i64) -> StoreResult<User>;
    /// Creates the root admin only when the database has no admin yet (first start, also
    /// when several nodes start at once). Returns the user it created.
    async fn create_first_admin(&self, user: &NewUser, now: i64) -> StoreResult<Option<User>>;
    async fn get_user(&self, id: i64) -> StoreResult<Option<User>>;
    /// By username (case-insensitive) or e-mail.
    async fn find_user_by_account(&self, account: &str) -> StoreResult<Option<User>>;
    async fn list_users(&self, query: &UserQuery) -> StoreResult<(Vec<User>, i64)>;
    /// Refuses (LastEnabledAdmin) to demote or disable the last enabled administrator,
    /// deciding with every enabled admin's row held.
    async fn update_user(&self, id: i64, patch: &UserPatch, now: i64) -> StoreResult<Option<User>>;
    /// `changed_at`: when set, also records a password change (older tokens die); `None` is a
    /// silent rehash (upgrade of an old hash).
    async fn set_password_hash(
        &self,
        id: i64,
        hash: &str,
        changed_at: Option<i64>,
        now: i64,
    ) -> StoreResult<bool>;
    /// Refuses (LastEnabledAdmin) to delete the last enabled administrator.
    async fn delete_user(&self, id: i64) -> StoreResult<bool>;
    async fn count_enabled_admins(&self) -> StoreResult<i64>;

    async fn list_identities(&self, user_id: i64) -> StoreResult<Vec<Identity>>;
    /// Refuses (AdminsNeedPassword) to leave an administrator with no way in.
    async fn delete_identity(&self, user_id: i64, identity_id: i64) -> StoreResult<bool>;
}

#[derive(Debug, Clone, Default)]
pub struct Page {
    /// 1-based.
    pub page: i64,
    pub page_size: i64,
}

impl Page {
    pub fn new(page: i64, page_size: i64) -> Self {
        Self {
            page: page.max(1),
            page_size: page_size.clamp(1, 200),
        }
    }
    pub fn offset(&self) -> i64 {
        (self.page.max(1) - 1).saturating_mul(self.page_size)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserSort {
    #[default]
    IdAsc,
    IdDesc,
    UsernameAsc,
    UsernameDesc,
    CreatedAsc,
    CreatedDesc,
}

impl UserSort {
    /// The ORDER BY clause (both databases).
    pub fn order_by(self) -> &'static str {
        match self {
            UserSort::IdAsc => " ORDER BY id",
            UserSort::IdDesc => " ORDER BY id DESC",
            UserSort::UsernameAsc => " ORDER BY lower(username), id",
            UserSort::UsernameDesc => " ORDER BY lower(username) DESC, id DESC",
            UserSort::CreatedAsc => " ORDER BY created_at, id",
            UserSort::CreatedDesc => " ORDER BY created_at DESC, id DESC",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Case-insensitive substring of username, e-mail, phone or nickname.
    pub search: Option<String>,
    pub id: Option<i64>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub is_admin: Option<bool>,
    pub enabled: Option<bool>,
    pub sort: UserSort,
    pub page: Page,
}
