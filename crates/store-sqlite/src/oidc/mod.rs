//! The OpenID Connect provider's clients, grants, tokens and consents ([`OidcStore`]).
//!
//! What must happen once (a code redeemed, a refresh token rotated) is decided by a
//! conditional UPDATE inside one write (`redemption.rs`): writes run one at a time on the
//! writer thread, in BEGIN IMMEDIATE transactions that also shut out another process's writer,
//! so only the first finds the code unused. The grant contexts read with tokens are in
//! `contexts.rs`. Clients and access token contexts go through the short cache; the writes
//! here that can change them forget them.

mod contexts;
mod redemption;

use crate::audit::insert_audit;
use crate::filters::Filters;
use crate::oidc_rows::{self, CLIENT_COLUMNS, GRANT_SUMMARY_SELECT};
use crate::SqliteStore;
use async_trait::async_trait;
use authgate_core::audit::NewAuditEntry;
use authgate_store::short_cache::{access_key, ALL_KEY};
use authgate_store::{
    AccessTokenContext, CodeRedemption, GrantContext, GrantQuery, GrantSummary, OidcClientRecord,
    OidcGrant, OidcStore, RefreshTokenRecord, Rotation, StoreError, StoreResult,
};
use rusqlite::{params_from_iter, OptionalExtension};

fn settings_text(settings: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::to_string(settings).expect("a JSON object serialises")
}

#[async_trait]
impl OidcStore for SqliteStore {
    async fn create_oidc_client(&self, client: &OidcClientRecord) -> StoreResult<()> {
        let c = client.clone();
        let inserted = self
            .write(move |conn| {
                let rows = conn
                    .prepare_cached(
                        "INSERT INTO oidc_clients (id, name, secret_hash, settings, enabled, \
                         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                         ON CONFLICT (id) DO NOTHING",
                    )?
                    .execute((
                        &c.id,
                        &c.name,
                        &c.secret_hash,
                        settings_text(&c.settings),
                        c.enabled,
                        c.created_at,
                        c.updated_at,
                    ))?;
                Ok(rows == 1)
            })
            .await?;
        if !inserted {
            return Err(StoreError::Conflict("clientId"));
        }
        // Its absence may be cached, and the list lacks it.
        self.caches.forget_client(&client.id);
        Ok(())
    }

    async fn get_oidc_client(&self, client_id: &str) -> StoreResult<Option<OidcClientRecord>> {
        let cache = &self.caches.oidc_clients;
        if let Some(hit) = cache.get(client_id) {
            return Ok(hit);
        }
        let generation = cache.generation();
        let key = client_id.to_string();
        let found = self
            .read(move |conn| {
                let sql = format!("SELECT {CLIENT_COLUMNS} FROM oidc_clients WHERE id = ?1");
                Ok(conn
                    .prepare_cached(&sql)?
                    .query_row([&key], oidc_rows::client)
                    .optional()?)
            })
            .await?;
        cache.put(client_id, &found, generation);
        Ok(found)
    }

    async fn list_oidc_clients(&self) -> StoreResult<Vec<OidcClientRecord>> {
        let cache = &self.caches.oidc_client_list;
        if let Some(hit) = cache.get(ALL_KEY) {
            return Ok(hit);
        }
        let generation = cache.generation();
        let clients = self
            .read(|conn| {
                let sql =
                    format!("SELECT {CLIENT_COLUMNS} FROM oidc_clients ORDER BY created_at, id");
                Ok(conn
                    .prepare_cached(&sql)?
                    .query_map([], oidc_rows::client)?
                    .collect::<rusqlite::Result<_>>()?)
            })
            .await?;
        cache.put(ALL_KEY, &clients, generation);
        Ok(clients)
    }

    async fn update_oidc_client(&self, client: &OidcClientRecord) -> StoreResult<bool> {
        let c = client.clone();
        let updated = self
            .write(move |conn| {
                let rows = conn
                    .prepare_cached(
                        "UPDATE oidc_clients SET name = ?2, secret_hash = ?3, settings = ?4, \
                         enabled = ?5, updated_at = ?6 WHERE id = ?1",
                    )?
                    .execute((
                        &c.id,
                        &c.name,
                        &c.secret_hash,
                        settings_text(&c.settings),
                        c.enabled,
                        c.updated_at,
                    ))?;
                Ok(rows == 1)
            })
            .await?;
        self.caches.forget_client(&client.id);
        Ok(updated)
    }

    async fn delete_oidc_client(&self, client_id: &str) -> StoreResult<bool> {
        let id = client_id.to_string();
        let deleted = self
            .write(move |conn| {
                // Its grants (with their refresh tokens) and consents go by ON DELETE CASCADE:
                // every connection has foreign keys on (`connection.rs`).
                let rows = conn
                    .prepare_cached("DELETE FROM oidc_clients WHERE id = ?1")?
                    .execute([&id])?;
                Ok(rows == 1)
            })
            .await?;
        self.caches.forget_client(client_id);
        Ok(deleted)
    }

    async fn create_grant(&self, grant: &OidcGrant, audit: &NewAuditEntry) -> StoreResult<()> {
        let (g, audit) = (grant.clone(), audit.clone());
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO oidc_grants (id, client_id, user_id, session_id, offline, \
                 refreshable, scope, claims, nonce, auth_time, amr, redirect_uri, \
                 code_challenge, code_hash, code_expires_at, code_used_at, created_at, \
                 expires_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, \
                 ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
            )?
            .execute(rusqlite::params![
                &g.id,
                &g.client_id,
                g.user_id,
                &g.session_id,
                g.offline,
                g.refreshable,
                &g.scope,
                &g.claims,
                &g.nonce,
                g.auth_time,
                &g.amr,
                &g.redirect_uri,
                &g.code_challenge,
                &g.code_hash,
                g.code_expires_at,
                g.code_used_at,
                g.created_at,
                g.expires_at,
                g.revoked_at,
            ])?;
            insert_audit(conn, &audit)
        })
        .await
    }

    async fn redeem_code(
        &self,
        code_hash: &str,
        client_id: &str,
        refresh: Option<&RefreshTokenRecord>,
        now: i64,
    ) -> StoreResult<CodeRedemption> {
        let (code_hash, client_id) = (code_hash.to_string(), client_id.to_string());
        let refresh = refresh.cloned();
        let outcome = self
            .write(move |conn| {
                redemption::redeem(conn, &code_hash, &client_id, refresh.as_ref(), now)
            })
            .await?;
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
        let hashes = (old_hash.to_string(), new_hash.to_string());
        let client_id = client_id.to_string();
        let outcome = self
            .write(move |conn| redemption::rotate(conn, &hashes.0, &client_id, &hashes.1, now))
            .await?;
        if let Rotation::Reused { grant_id } = &outcome {
            self.caches.forget_grant(grant_id);
        }
        Ok(outcome)
    }

    async fn refresh_token_context(
        &self,
        hash: &str,
    ) -> StoreResult<Option<(RefreshTokenRecord, GrantContext)>> {
        let hash = hash.to_string();
        self.read(move |conn| contexts::refresh_token_context(conn, &hash))
            .await
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
        let (jti, grant_id) = (jti.to_string(), grant_id.map(str::to_string));
        let context = self
            .read(move |conn| contexts::access_token_context(conn, &jti, grant_id.as_deref()))
            .await?;
        cache.put(&key, &context, generation);
        Ok(context)
    }

    async fn revoke_access_token(&self, jti: &str, expires_at: i64) -> StoreResult<()> {
        let jti = jti.to_string();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO oidc_revoked_tokens (jti, expires_at) VALUES (?1, ?2) \
                 ON CONFLICT (jti) DO NOTHING",
            )?
            .execute((&jti, expires_at))?;
            Ok(())
        })
        .await?;
        // Entries are kept by jti and grant: whichever grant it was asked with goes.
        self.caches.access.forget_all();
        Ok(())
    }

    async fn revoke_grant(&self, grant_id: &str, now: i64) -> StoreResult<bool> {
        let id = grant_id.to_string();
        let revoked = self
            .write(move |conn| {
                let rows = conn
                    .prepare_cached(
                        "UPDATE oidc_grants SET revoked_at = ?2 \
                         WHERE id = ?1 AND revoked_at IS NULL",
                    )?
                    .execute((&id, now))?;
                Ok(rows == 1)
            })
            .await?;
        self.caches.forget_grant(grant_id);
        Ok(revoked)
    }

    async fn revoke_user_grants(
        &self,
        user_id: i64,
        client_id: Option<&str>,
        now: i64,
    ) -> StoreResult<u64> {
        let client_id = client_id.map(str::to_string);
        let revoked = self
            .write(move |conn| {
                let rows = conn
                    .prepare_cached(
                        "UPDATE oidc_grants SET revoked_at = ?3 WHERE user_id = ?1 \
                         AND (?2 IS NULL OR client_id = ?2) AND revoked_at IS NULL \
                         AND expires_at > ?3",
                    )?
                    .execute((user_id, &client_id, now))?;
                if let Some(client_id) = &client_id {
                    conn.prepare_cached(
                        "DELETE FROM oidc_consents WHERE user_id = ?1 AND client_id = ?2",
                    )?
                    .execute((user_id, client_id))?;
                }
                Ok(rows as u64)
            })
            .await?;
        self.caches.forget_user_grants(user_id);
        Ok(revoked)
    }

    async fn list_grants(&self, query: &GrantQuery) -> StoreResult<Vec<GrantSummary>> {
        let mut f = Filters::new();
        let now = f.bind(query.now);
        f.and(&format!(
            "g.code_used_at IS NOT NULL AND g.revoked_at IS NULL AND g.expires_at > {now}"
        ));
        if let Some(v) = query.user_id {
            let p = f.bind(v);
            f.and(&format!("g.user_id = {p}"));
        }
        if let Some(v) = &query.client_id {
            let p = f.bind(v.clone());
            f.and(&format!("g.client_id = {p}"));
        }
        if let Some(v) = &query.session_id {
            let p = f.bind(v.clone());
            f.and(&format!("g.session_id = {p}"));
        }
        let (sql, values) = f.all(GRANT_SUMMARY_SELECT, " ORDER BY g.created_at DESC, g.id");
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&sql)?
                .query_map(params_from_iter(&values), oidc_rows::grant_summary)?
                .collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn consent(&self, user_id: i64, client_id: &str) -> StoreResult<Option<String>> {
        let client_id = client_id.to_string();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT scope FROM oidc_consents WHERE user_id = ?1 AND client_id = ?2",
                )?
                .query_row((user_id, &client_id), |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn save_consent(
        &self,
        user_id: i64,
        client_id: &str,
        scope: &str,
        now: i64,
    ) -> StoreResult<()> {
        let (client_id, scope) = (client_id.to_string(), scope.to_string());
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO oidc_consents (user_id, client_id, scope, granted_at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (user_id, client_id) DO UPDATE SET \
                 scope = excluded.scope, granted_at = excluded.granted_at",
            )?
            .execute((user_id, &client_id, &scope, now))?;
            Ok(())
        })
        .await
    }

    async fn purge_expired_oidc(&self, now: i64) -> StoreResult<u64> {
        self.write(move |conn| {
            // A grant's refresh tokens go with it (ON DELETE CASCADE), uncounted.
            let grants = conn
                .prepare_cached(
                    "DELETE FROM oidc_grants WHERE expires_at < ?1 AND code_expires_at < ?1",
                )?
                .execute([now])?;
            let revoked = conn
                .prepare_cached("DELETE FROM oidc_revoked_tokens WHERE expires_at < ?1")?
                .execute([now])?;
            Ok((grants + revoked) as u64)
        })
        .await
    }
}
