//! The OpenID Connect provider's clients, grants, tokens and consents ([`OidcStore`]).
//!
//! What must happen once, on any node (a code redeemed, a refresh token rotated), is decided
//! by a statement that starts with a conditional UPDATE (`redemption.rs`). The grant contexts read with
//! tokens are in `contexts.rs`. Clients and access token contexts are kept briefly on this node
//! (`authgate_store::short_cache`), and forgotten by the writes made here that change them.

mod contexts;
mod redemption;

use crate::connection::Db;
use crate::inserts::{push_audit, UserFrom};
use crate::oidc_rows::{self, CLIENT_COLUMNS, GRANT_SUMMARY_SELECT};
use crate::rows::get;
use crate::sql::Sql;
use crate::PgStore;
use async_trait::async_trait;
use authgate_core::audit::NewAuditEntry;
use authgate_store::short_cache::{access_key, ALL_KEY};
use authgate_store::{
    AccessTokenContext, CodeRedemption, GrantContext, GrantQuery, GrantSummary, OidcClientRecord,
    OidcGrant, OidcStore, RefreshTokenRecord, Rotation, StoreError, StoreResult,
};

fn settings_text(settings: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::to_string(settings).expect("a JSON object serialises")
}

#[async_trait]
impl OidcStore for PgStore {
    async fn create_oidc_client(&self, c: &OidcClientRecord) -> StoreResult<()> {
        let inserted = self
            .conn()
            .await?
            .execute(
                "INSERT INTO oidc_clients (id, name, secret_hash, settings, enabled, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &c.id,
                    &c.name,
                    &c.secret_hash,
                    &settings_text(&c.settings),
                    &c.enabled,
                    &c.created_at,
                    &c.updated_at,
                ],
            )
            .await?;
        if inserted == 0 {
            return Err(StoreError::Conflict("clientId"));
        }
        // Its absence may be cached, and the list lacks it.
        self.caches.forget_client(&c.id);
        Ok(())
    }

    async fn get_oidc_client(&self, client_id: &str) -> StoreResult<Option<OidcClientRecord>> {
        let cache = &self.caches.oidc_clients;
        if let Some(hit) = cache.get(client_id) {
            return Ok(hit);
        }
        let generation = cache.generation();
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM oidc_clients WHERE id = $1");
        let row = self.conn().await?.query_opt(&sql, &[&client_id]).await?;
        let found = row.map(|r| oidc_rows::client(&r)).transpose()?;
        cache.put(client_id, &found, generation);
        Ok(found)
    }

    async fn list_oidc_clients(&self) -> StoreResult<Vec<OidcClientRecord>> {
        let cache = &self.caches.oidc_client_list;
        if let Some(hit) = cache.get(ALL_KEY) {
            return Ok(hit);
        }
        let generation = cache.generation();
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM oidc_clients ORDER BY created_at, id");
        let rows = self.conn().await?.query(&sql, &[]).await?;
        let clients = rows
            .iter()
            .map(oidc_rows::client)
            .collect::<StoreResult<Vec<_>>>()?;
        cache.put(ALL_KEY, &clients, generation);
        Ok(clients)
    }

    async fn update_oidc_client(&self, c: &OidcClientRecord) -> StoreResult<bool> {
        let updated = self
            .conn()
            .await?
            .execute(
                "UPDATE oidc_clients SET name = $2, secret_hash = $3, settings = $4, \
                 enabled = $5, updated_at = $6 WHERE id = $1",
                &[
                    &c.id,
                    &c.name,
                    &c.secret_hash,
                    &settings_text(&c.settings),
                    &c.enabled,
                    &c.updated_at,
                ],
            )
            .await?;
        self.caches.forget_client(&c.id);
        Ok(updated == 1)
    }

    async fn delete_oidc_client(&self, client_id: &str) -> StoreResult<bool> {
        // Its grants (with their refresh tokens) and consents go by ON DELETE CASCADE.
        let deleted = self
            .conn()
            .await?
            .execute("DELETE FROM oidc_clients WHERE id = $1", &[&client_id])
            .await?;
        self.caches.forget_client(client_id);
        Ok(deleted == 1)
    }

    async fn create_grant(&self, g: &OidcGrant, audit: &NewAuditEntry) -> StoreResult<()> {
        // One statement: one round trip, one commit.
        let mut sql = Sql::new(
            "WITH g AS (INSERT INTO oidc_grants (id, client_id, user_id, session_id, offline, \
             refreshable, scope, claims, nonce, auth_time, amr, redirect_uri, code_challenge, \
             code_hash, code_expires_at, code_used_at, created_at, expires_at, revoked_at) \
             VALUES (",
        );
        sql.bind(&g.id).push(", ").bind(&g.client_id);
        sql.push(", ")
            .bind(g.user_id)
            .push(", ")
            .bind(&g.session_id);
        sql.push(", ")
            .bind(g.offline)
            .push(", ")
            .bind(g.refreshable);
        sql.push(", ").bind(&g.scope).push(", ").bind(&g.claims);
        sql.push(", ").bind(&g.nonce).push(", ").bind(g.auth_time);
        sql.push(", ").bind(&g.amr).push(", ").bind(&g.redirect_uri);
        sql.push(", ")
            .bind(&g.code_challenge)
            .push(", ")
            .bind(&g.code_hash);
        sql.push(", ")
            .bind(g.code_expires_at)
            .push(", ")
            .bind(g.code_used_at);
        sql.push(", ")
            .bind(g.created_at)
            .push(", ")
            .bind(g.expires_at);
        sql.push(", ").bind(g.revoked_at).push(")), a AS (");
        push_audit(&mut sql, std::slice::from_ref(audit), UserFrom::Values);
        sql.push(") SELECT 1");
        self.conn().await?.execute_sql(&sql).await?;
        Ok(())
    }

    async fn redeem_code(
        &self,
        code_hash: &str,
        client_id: &str,
        refresh: Option<&RefreshTokenRecord>,
        now: i64,
    ) -> StoreResult<CodeRedemption> {
        let mut conn = self.conn().await?;
        let outcome = redemption::redeem(&mut conn, code_hash, client_id, refresh, now).await?;
        if let CodeRedemption::Reused { grant_id } = &outcome {
            self.caches.forget_grant(grant_id);
        }
        Ok(outcome)
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        client_id: &str,
        new_hash: &str,
        now: i64,
    ) -> StoreResult<Rotation> {
        let mut conn = self.conn().await?;
        let outcome = redemption::rotate(&mut conn, old_hash, client_id, new_hash, now).await?;
        if let Rotation::Reused { grant_id } = &outcome {
            self.caches.forget_grant(grant_id);
        }
        Ok(outcome)
    }

    async fn refresh_token_context(
        &self,
        hash: &str,
    ) -> StoreResult<Option<(RefreshTokenRecord, GrantContext)>> {
        contexts::refresh_token_context(&mut self.conn().await?, hash).await
    }

    async fn access_token_context(
        &self,
        jti: &str,
        grant_id: Option<&str>,
    ) -> StoreResult<AccessTokenContext> {
        let key = access_key(jti, grant_id);
        let cache = &self.caches.access;
        if let Some(hit) = cache.get(&key) {
            return Ok(hit);
        }
        let generation = cache.generation();
        let context =
            contexts::access_token_context(&mut self.conn().await?, jti, grant_id).await?;
        cache.put(&key, &context, generation);
        Ok(context)
    }

    async fn revoke_access_token(&self, jti: &str, expires_at: i64) -> StoreResult<()> {
        self.conn()
            .await?
            .execute(
                "INSERT INTO oidc_revoked_tokens (jti, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (jti) DO NOTHING",
                &[&jti, &expires_at],
            )
            .await?;
        // Entries are kept by jti and grant: whichever grant it was asked with goes.
        self.caches.access.forget_all();
        Ok(())
    }

    async fn revoke_grant(&self, grant_id: &str, now: i64) -> StoreResult<bool> {
        let revoked = self
            .conn()
            .await?
            .execute(
                "UPDATE oidc_grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[&grant_id, &now],
            )
            .await?;
        self.caches.forget_grant(grant_id);
        Ok(revoked == 1)
    }

    async fn revoke_user_grants(
        &self,
        user_id: i64,
        client_id: Option<&str>,
        now: i64,
    ) -> StoreResult<u64> {
        let mut conn = self.conn().await?;
        let mut tx = conn.transaction().await?;
        let mut revoke = Sql::new("UPDATE oidc_grants SET revoked_at = ");
        revoke.bind(now).push(" WHERE user_id = ").bind(user_id);
        if let Some(client_id) = client_id {
            revoke.push(" AND client_id = ").bind(client_id);
        }
        revoke
            .push(" AND revoked_at IS NULL AND expires_at > ")
            .bind(now);
        let revoked = tx.execute_sql(&revoke).await?;
        if let Some(client_id) = client_id {
            tx.execute(
                "DELETE FROM oidc_consents WHERE user_id = $1 AND client_id = $2",
                &[&user_id, &client_id],
            )
            .await?;
        }
        tx.commit().await?;
        self.caches.forget_user_grants(user_id);
        Ok(revoked)
    }

    async fn list_grants(&self, q: &GrantQuery) -> StoreResult<Vec<GrantSummary>> {
        let mut list = Sql::new(GRANT_SUMMARY_SELECT);
        list.push(" WHERE g.code_used_at IS NOT NULL AND g.revoked_at IS NULL AND g.expires_at > ")
            .bind(q.now);
        if let Some(v) = q.user_id {
            list.push(" AND g.user_id = ").bind(v);
        }
        if let Some(v) = &q.client_id {
            list.push(" AND g.client_id = ").bind(v);
        }
        if let Some(v) = &q.session_id {
            list.push(" AND g.session_id = ").bind(v);
        }
        list.push(" ORDER BY g.created_at DESC, g.id");
        let rows = self.conn().await?.query_sql(&list).await?;
        rows.iter().map(oidc_rows::grant_summary).collect()
    }

    async fn consent(&self, user_id: i64, client_id: &str) -> StoreResult<Option<String>> {
        let row = self
            .conn()
            .await?
            .query_opt(
                "SELECT scope FROM oidc_consents WHERE user_id = $1 AND client_id = $2",
                &[&user_id, &client_id],
            )
            .await?;
        row.map(|r| get(&r, "scope")).transpose()
    }

    async fn save_consent(
        &self,
        user_id: i64,
        client_id: &str,
        scope: &str,
        now: i64,
    ) -> StoreResult<()> {
        self.conn()
            .await?
            .execute(
                "INSERT INTO oidc_consents (user_id, client_id, scope, granted_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, client_id) DO UPDATE SET \
                 scope = excluded.scope, granted_at = excluded.granted_at",
                &[&user_id, &client_id, &scope, &now],
            )
            .await?;
        Ok(())
    }

    async fn purge_expired_oidc(&self, now: i64) -> StoreResult<u64> {
        let mut conn = self.conn().await?;
        // A grant's refresh tokens go with it (ON DELETE CASCADE), uncounted.
        let grants = conn
            .execute(
                "DELETE FROM oidc_grants WHERE expires_at < $1 AND code_expires_at < $1",
                &[&now],
            )
            .await?;
        let revoked = conn
            .execute(
                "DELETE FROM oidc_revoked_tokens WHERE expires_at < $1",
                &[&now],
            )
            .await?;
        Ok(grants + revoked)
    }
}
