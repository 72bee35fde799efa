//! Users and their linked identities ([`UserStore`]), with the rule that guards them: an
//! enabled administrator always remains.

use crate::authenticators::{keep_every_admin_a_way_in, lock_authenticators, stranded_admins};
use crate::connection::{Db, Tx};
use crate::rows::{self, IDENTITY_COLUMNS, USER_COLUMNS};
use crate::sql::Sql;
use crate::PgStore;
use async_trait::async_trait;
use authgate_core::model::{Identity, NewUser, User, UserPatch};
use authgate_store::{like_pattern, StoreError, StoreResult, UserQuery, UserStore};

#[async_trait]
impl UserStore for PgStore {
    async fn create_user(&self, u: &NewUser, now: i64) -> StoreResult<User> {
        let sql = format!(
            "INSERT INTO users (username, email, phone, nickname, is_admin, enabled, \
             password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             RETURNING {USER_COLUMNS}"
        );
        let row = self
            .conn()
            .await?
            .query_one(
                &sql,
                &[
                    &u.username,
                    &u.email,
                    &u.phone,
                    &u.nickname,
                    &u.is_admin,
                    &u.enabled,
                    &u.password_hash,
                    &now,
                ],
            )
            .await?;
        rows::user(&row)
    }

    async fn create_first_admin(&self, u: &NewUser, now: i64) -> StoreResult<Option<User>> {
        // Nodes starting at once on an empty database: one insert wins, the others find an
        // admin (or meet the unique username and do nothing).
        let sql = format!(
            "INSERT INTO users (username, email, phone, nickname, is_admin, enabled, \
             password_hash, created_at, updated_at) \
             SELECT $1, $2, $3, $4, TRUE, TRUE, $5, $6, $6 \
             WHERE NOT EXISTS (SELECT 1 FROM users WHERE is_admin) \
             ON CONFLICT DO NOTHING RETURNING {USER_COLUMNS}"
        );
        let row = self
            .conn()
            .await?
            .query_opt(
                &sql,
                &[
                    &u.username,
                    &u.email,
                    &u.phone,
                    &u.nickname,
                    &u.password_hash,
                    &now,
                ],
            )
            .await?;
        row.map(|r| rows::user(&r)).transpose()
    }

    async fn get_user(&self, id: i64) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = self.conn().await?.query_opt(&sql, &[&id]).await?;
        row.map(|r| rows::user(&r)).transpose()
    }

    async fn find_user_by_account(&self, account: &str) -> StoreResult<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users \
             WHERE lower(username) = lower($1) OR email = lower($1) LIMIT 1"
        );
        let row = self.conn().await?.query_opt(&sql, &[&account]).await?;
        row.map(|r| rows::user(&r)).transpose()
    }

    async fn list_users(&self, q: &UserQuery) -> StoreResult<(Vec<User>, i64)> {
        let mut conn = self.conn().await?;
        let mut list = Sql::new(&format!("SELECT {USER_COLUMNS} FROM users"));
        push_user_filters(&mut list, q);
        list.push(q.sort.order_by());
        list.push(" LIMIT ").bind(q.page.page_size);
        list.push(" OFFSET ").bind(q.page.offset());
        let users = conn
            .query_sql(&list)
            .await?
            .iter()
            .map(rows::user)
            .collect::<StoreResult<Vec<_>>>()?;
        let mut count = Sql::new("SELECT COUNT(*) AS total FROM users");
        push_user_filters(&mut count, q);
        let total = rows::get(&conn.query_one_sql(&count).await?, "total")?;
        Ok((users, total))
    }

    async fn update_user(&self, id: i64, p: &UserPatch, now: i64) -> StoreResult<Option<User>> {
        let mut conn = self.conn().await?;
        let mut tx = conn.transaction().await?;
        if p.is_admin == Some(false) || p.enabled == Some(false) {
            keep_an_enabled_admin(&mut tx, id).await?;
        }
        let mut sql = Sql::new("UPDATE users SET updated_at = ");
        sql.bind(now);
        if let Some(v) = &p.username {
            sql.push(", username = ").bind(v);
        }
        if let Some(v) = &p.email {
            sql.push(", email = ").bind(v);
        }
        if let Some(v) = &p.phone {
            sql.push(", phone = ").bind(v);
        }
        if let Some(v) = &p.nickname {
            sql.push(", nickname = ").bind(v);
        }
        if let Some(v) = p.is_admin {
            sql.push(", is_admin = ").bind(v);
        }
        if let Some(v) = p.enabled {
            sql.push(", enabled = ").bind(v);
        }
        sql.push(" WHERE id = ").bind(id);
        sql.push(&format!(" RETURNING {USER_COLUMNS}"));
        let row = tx.query_opt_sql(&sql).await?;
        tx.commit().await?;
        self.caches.forget_user(id);
        row.map(|r| rows::user(&r)).transpose()
    }

    async fn set_password_hash(
        &self,
        id: i64,
        hash: &str,
        changed_at: Option<i64>,
        now: i64,
    ) -> StoreResult<bool> {
        // The id is $1 but named last: PostgreSQL binds by number.
        let changed = self
            .conn()
            .await?
            .execute(
                "UPDATE users SET password_hash = $2, \
                 password_changed_at = COALESCE($3, password_changed_at), updated_at = $4 \
                 WHERE id = $1",
                &[&id, &hash, &changed_at, &now],
            )
            .await?;
        self.caches.forget_user(id);
        Ok(changed == 1)
    }

    async fn delete_user(&self, id: i64) -> StoreResult<bool> {
        let mut conn = self.conn().await?;
        let mut tx = conn.transaction().await?;
        keep_an_enabled_admin(&mut tx, id).await?;
        let deleted = tx
            .execute("DELETE FROM users WHERE id = $1", &[&id])
            .await?;
        tx.commit().await?;
        self.caches.forget_user(id);
        Ok(deleted == 1)
    }

    async fn count_enabled_admins(&self) -> StoreResult<i64> {
        let row = self
            .conn()
            .await?
            .query_one(
                "SELECT COUNT(*) AS admins FROM users WHERE is_admin AND enabled",
                &[],
            )
            .await?;
        rows::get(&row, "admins")
    }

    async fn list_identities(&self, user_id: i64) -> StoreResult<Vec<Identity>> {
        identities_of(&mut self.conn().await?, user_id).await
    }

    async fn delete_identity(&self, user_id: i64, identity_id: i64) -> StoreResult<bool> {
        let mut conn = self.conn().await?;
        let mut tx = conn.transaction().await?;
        lock_authenticators(&mut tx).await?;
        let before = stranded_admins(&mut tx).await?;
        let deleted = tx
            .execute(
                "DELETE FROM identities WHERE id = $1 AND user_id = $2",
                &[&identity_id, &user_id],
            )
            .await?;
        keep_every_admin_a_way_in(&mut tx, &before).await?;
        tx.commit().await?;
        self.caches.forget_identities(user_id);
        Ok(deleted == 1)
    }
}

/// Refuses (LastEnabledAdmin) when user `id` is the only enabled administrator, deciding with
/// every enabled admin's row held until the transaction ends: concurrent demotions, disables
/// and deletions are decided one after the other, on every node.
async fn keep_an_enabled_admin(tx: &mut Tx<'_>, id: i64) -> StoreResult<()> {
    let admins = tx
        .query(
            "SELECT id FROM users WHERE is_admin AND enabled ORDER BY id FOR UPDATE",
            &[],
        )
        .await?
        .iter()
        .map(|r| rows::get(r, "id"))
        .collect::<StoreResult<Vec<i64>>>()?;
    if admins == [id] {
        return Err(StoreError::LastEnabledAdmin);
    }
    Ok(())
}

/// The WHERE clause of `list_users` and its count.
fn push_user_filters<'a>(sql: &mut Sql<'a>, q: &'a UserQuery) {
    sql.push(" WHERE TRUE");
    if let Some(term) = q.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = sql.param(like_pattern(term));
        sql.push(&format!(
            " AND (lower(username) LIKE {pattern} ESCAPE '\\' OR email LIKE {pattern} ESCAPE '\\' \
             OR phone LIKE {pattern} ESCAPE '\\' OR lower(nickname) LIKE {pattern} ESCAPE '\\')"
        ));
    }
    if let Some(id) = q.id {
        sql.push(" AND id = ").bind(id);
    }
    if let Some(v) = &q.username {
        sql.push(" AND lower(username) = lower(").bind(v).push(")");
    }
    if let Some(v) = &q.email {
        sql.push(" AND email = lower(").bind(v).push(")");
    }
    if let Some(v) = &q.phone {
        sql.push(" AND phone = ").bind(v);
    }
    if let Some(v) = q.is_admin {
        sql.push(" AND is_admin = ").bind(v);
    }
    if let Some(v) = q.enabled {
        sql.push(" AND enabled = ").bind(v);
    }
}

/// User `user_id`'s identities, in the order they were linked.
pub(crate) async fn identities_of(db: &mut impl Db, user_id: i64) -> StoreResult<Vec<Identity>> {
    let sql = format!("SELECT {IDENTITY_COLUMNS} FROM identities WHERE user_id = $1 ORDER BY id");
    let rows = db.query(&sql, &[&user_id]).await?;
    rows.iter().map(rows::identity).collect()
}
