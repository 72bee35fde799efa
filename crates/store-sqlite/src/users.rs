//! Users and their linked identities ([`UserStore`]).

use crate::errors::DbError;
use crate::filters::Filters;
use crate::rows::{self, IDENTITY_COLUMNS, USER_COLUMNS};
use crate::rules::{keep_an_enabled_admin, keep_every_admin_a_way_in, stranded_admins};
use crate::SqliteStore;
use async_trait::async_trait;
use authgate_core::model::{Identity, NewUser, User, UserPatch};
use authgate_store::{like_pattern, StoreResult, UserQuery, UserStore};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OptionalExtension};

/// The one INSERT of a user: `create_user`, and a sign-up (`sign_in.rs`).
pub(crate) fn insert_user(conn: &Connection, u: &NewUser, now: i64) -> Result<User, DbError> {
    let sql = format!(
        "INSERT INTO users (username, email, phone, nickname, is_admin, enabled, \
         password_hash, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) \
         RETURNING {USER_COLUMNS}"
    );
    Ok(conn.prepare_cached(&sql)?.query_row(
        (
            &u.username,
            &u.email,
            &u.phone,
            &u.nickname,
            u.is_admin,
            u.enabled,
            &u.password_hash,
            now,
        ),
        rows::user_row,
    )?)
}

pub(crate) fn user_by_id(conn: &Connection, id: i64) -> Result<Option<User>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], rows::user_row)
        .optional()?)
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, user: &NewUser, now: i64) -> StoreResult<User> {
        let user = user.clone();
        self.write(move |conn| insert_user(conn, &user, now)).await
    }

    async fn create_first_admin(&self, user: &NewUser, now: i64) -> StoreResult<Option<User>> {
        let u = user.clone();
        self.write(move |conn| {
            let sql = format!(
                "INSERT INTO users (username, email, phone, nickname, is_admin, enabled, \
                 password_hash, created_at, updated_at) \
                 SELECT ?1, ?2, ?3, ?4, TRUE, TRUE, ?5, ?6, ?6 \
                 WHERE NOT EXISTS (SELECT 1 FROM users WHERE is_admin) \
                 ON CONFLICT DO NOTHING RETURNING {USER_COLUMNS}"
            );
            Ok(conn
                .prepare_cached(&sql)?
                .query_row(
                    (
                        &u.username,
                        &u.email,
                        &u.phone,
                        &u.nickname,
                        &u.password_hash,
                        now,
                    ),
                    rows::user_row,
                )
                .optional()?)
        })
        .await
    }

    async fn get_user(&self, id: i64) -> StoreResult<Option<User>> {
        self.read(move |conn| user_by_id(conn, id)).await
    }

    async fn find_user_by_account(&self, account: &str) -> StoreResult<Option<User>> {
        let account = account.to_string();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {USER_COLUMNS} FROM users \
                 WHERE lower(username) = lower(?1) OR email = lower(?1) LIMIT 1"
            );
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([&account], rows::user_row)
                .optional()?)
        })
        .await
    }

    async fn list_users(&self, query: &UserQuery) -> StoreResult<(Vec<User>, i64)> {
        let mut f = Filters::new();
        if let Some(term) = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            let p = f.bind(like_pattern(term));
            f.and(&format!(
                "(lower(username) LIKE {p} ESCAPE '\\' OR email LIKE {p} ESCAPE '\\' \
                 OR phone LIKE {p} ESCAPE '\\' OR lower(nickname) LIKE {p} ESCAPE '\\')"
            ));
        }
        if let Some(id) = query.id {
            let p = f.bind(id);
            f.and(&format!("id = {p}"));
        }
        if let Some(v) = &query.username {
            let p = f.bind(v.clone());
            f.and(&format!("lower(username) = lower({p})"));
        }
        if let Some(v) = &query.email {
            let p = f.bind(v.clone());
            f.and(&format!("email = lower({p})"));
        }
        if let Some(v) = &query.phone {
            let p = f.bind(v.clone());
            f.and(&format!("phone = {p}"));
        }
        if let Some(v) = query.is_admin {
            let p = f.bind(v);
            f.and(&format!("is_admin = {p}"));
        }
        if let Some(v) = query.enabled {
            let p = f.bind(v);
            f.and(&format!("enabled = {p}"));
        }
        let paged = f.page(
            &format!("SELECT {USER_COLUMNS} FROM users"),
            "SELECT COUNT(*) FROM users",
            query.sort.order_by(),
            &query.page,
        );
        self.read(move |conn| paged.run(conn, rows::user_row)).await
    }

    async fn update_user(&self, id: i64, patch: &UserPatch, now: i64) -> StoreResult<Option<User>> {
        let demotes_or_disables = patch.is_admin == Some(false) || patch.enabled == Some(false);
        let mut values: Vec<Value> = vec![now.into()];
        let mut set = String::from("updated_at = ?1");
        let mut assign = |column: &str, value: Value| {
            values.push(value);
            set.push_str(&format!(", {column} = ?{}", values.len()));
        };
        if let Some(v) = &patch.username {
            assign("username", v.clone().into());
        }
        if let Some(v) = &patch.email {
            assign("email", v.clone().into());
        }
        if let Some(v) = &patch.phone {
            assign("phone", v.clone().into());
        }
        if let Some(v) = &patch.nickname {
            assign("nickname", v.clone().into());
        }
        if let Some(v) = patch.is_admin {
            assign("is_admin", v.into());
        }
        if let Some(v) = patch.enabled {
            assign("enabled", v.into());
        }
        values.push(id.into());
        let sql = format!(
            "UPDATE users SET {set} WHERE id = ?{} RETURNING {USER_COLUMNS}",
            values.len()
        );
        let updated = self
            .write(move |conn| {
                if demotes_or_disables {
                    keep_an_enabled_admin(conn, id)?;
                }
                Ok(conn
                    .prepare_cached(&sql)?
                    .query_row(params_from_iter(&values), rows::user_row)
                    .optional()?)
            })
            .await?;
        self.caches.forget_user(id);
        Ok(updated)
    }

    async fn set_password_hash(
        &self,
        id: i64,
        hash: &str,
        changed_at: Option<i64>,
        now: i64,
    ) -> StoreResult<bool> {
        let hash = hash.to_string();
        let changed = self
            .write(move |conn| {
                let rows = conn
                    .prepare_cached(
                        "UPDATE users SET password_hash = ?2, \
                         password_changed_at = COALESCE(?3, password_changed_at), \
                         updated_at = ?4 WHERE id = ?1",
                    )?
                    .execute((id, &hash, changed_at, now))?;
                Ok(rows == 1)
            })
            .await?;
        self.caches.forget_user(id);
        Ok(changed)
    }

    async fn delete_user(&self, id: i64) -> StoreResult<bool> {
        let deleted = self
            .write(move |conn| {
                keep_an_enabled_admin(conn, id)?;
                let rows = conn
                    .prepare_cached("DELETE FROM users WHERE id = ?1")?
                    .execute([id])?;
                Ok(rows == 1)
            })
            .await?;
        self.caches.forget_user(id);
        Ok(deleted)
    }

    async fn count_enabled_admins(&self) -> StoreResult<i64> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT COUNT(*) FROM users WHERE is_admin AND enabled")?
                .query_row([], |r| r.get(0))?)
        })
        .await
    }

    async fn list_identities(&self, user_id: i64) -> StoreResult<Vec<Identity>> {
        self.read(move |conn| identities_of(conn, user_id)).await
    }

    async fn delete_identity(&self, user_id: i64, identity_id: i64) -> StoreResult<bool> {
        let deleted = self
            .write(move |conn| {
                let before = stranded_admins(conn)?;
                let rows = conn
                    .prepare_cached("DELETE FROM identities WHERE id = ?1 AND user_id = ?2")?
                    .execute((identity_id, user_id))?;
                keep_every_admin_a_way_in(conn, &before)?;
                Ok(rows == 1)
            })
            .await?;
        self.caches.forget_identities(user_id);
        Ok(deleted)
    }
}

/// User `user_id`'s identities, in the order they were linked.
pub(crate) fn identities_of(conn: &Connection, user_id: i64) -> Result<Vec<Identity>, DbError> {
    let sql = format!("SELECT {IDENTITY_COLUMNS} FROM identities WHERE user_id = ?1 ORDER BY id");
    Ok(conn
        .prepare_cached(&sql)?
        .query_map([user_id], rows::identity)?
        .collect::<rusqlite::Result<_>>()?)
}
