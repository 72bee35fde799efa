//! Sessions, the tokens issued for them, and the token policy ([`SessionStore`]). Token
//! contexts (read by every authenticated request) and the policy go through the short cache.

use crate::filters::Filters;
use crate::rows::{self, RENEWED_TO_SELECT, SESSION_INFO_SELECT, TOKEN_CONTEXT_SELECT};
use crate::session_rows::{insert_session_rows, insert_token};
use crate::SqliteStore;
use async_trait::async_trait;
use authgate_core::audit::NewAuditEntry;
use authgate_core::model::{IssuedToken, Session};
use authgate_core::token_policy::TokenPolicy;
use authgate_store::{
    RenewOutcome, SessionInfo, SessionQuery, SessionStore, StoreResult, TokenContext,
};
use rusqlite::OptionalExtension;

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(
        &self,
        session: &Session,
        token: &IssuedToken,
        audit: &[NewAuditEntry],
    ) -> StoreResult<()> {
        let (session, token, audit) = (session.clone(), token.clone(), audit.to_vec());
        self.write(move |conn| insert_session_rows(conn, &session, &token, &audit))
            .await
    }

    async fn token_context(&self, jti: &str) -> StoreResult<Option<TokenContext>> {
        let cache = &self.caches.contexts;
        if let Some(hit) = cache.get(jti) {
            return Ok(Some(hit));
        }
        let generation = cache.generation();
        let key = jti.to_string();
        let context = self
            .read(move |conn| {
                Ok(conn
                    .prepare_cached(TOKEN_CONTEXT_SELECT)?
                    .query_row([&key], rows::token_context)
                    .optional()?)
            })
            .await?;
        if let Some(c) = &context {
            cache.put(jti, c, generation);
        }
        Ok(context)
    }

    async fn renew_token(
        &self,
        old_jti: &str,
        new_token: &IssuedToken,
        now: i64,
    ) -> StoreResult<RenewOutcome> {
        let (old_jti, new) = (old_jti.to_string(), new_token.clone());
        self.write(move |conn| {
            // Only the first renewal of a token finds `renewed_to` empty.
            let claimed = conn
                .prepare_cached(
                    "UPDATE issued_tokens SET renewed_to = ?2, renewed_at = ?3 \
                     WHERE jti = ?1 AND renewed_to IS NULL",
                )?
                .execute((&old_jti, &new.jti, now))?;
            if claimed == 1 {
                insert_token(conn, &new)?;
                conn.prepare_cached("UPDATE sessions SET last_renewed_at = ?2 WHERE id = ?1")?
                    .execute((&new.session_id, now))?;
                return Ok(RenewOutcome::Renewed);
            }
            let winner = conn
                .prepare_cached(RENEWED_TO_SELECT)?
                .query_row([&old_jti], rows::issued_token)
                .optional()?;
            Ok(match winner {
                Some(token) => RenewOutcome::AlreadyRenewed(token),
                None => RenewOutcome::Missing,
            })
        })
        .await
    }

    async fn revoke_session(
        &self,
        session_id: &str,
        reason: &str,
        by: Option<i64>,
        now: i64,
    ) -> StoreResult<bool> {
        let (id, reason) = (session_id.to_string(), reason.to_string());
        let revoked = self
            .write(move |conn| {
                let rows = conn
                    .prepare_cached(
                        "INSERT INTO revocations (session_id, revoked_at, reason, revoked_by) \
                         SELECT id, ?2, ?3, ?4 FROM sessions WHERE id = ?1 ON CONFLICT DO NOTHING",
                    )?
                    .execute((&id, now, &reason, by))?;
                Ok(rows == 1)
            })
            .await?;
        self.caches.forget_session(session_id);
        Ok(revoked)
    }

    async fn revoke_user_sessions(
        &self,
        user_id: i64,
        except: Option<&str>,
        reason: &str,
        by: Option<i64>,
        now: i64,
    ) -> StoreResult<u64> {
        let (except, reason) = (except.map(str::to_string), reason.to_string());
        let revoked = self
            .write(move |conn| {
                let rows = conn
                    .prepare_cached(
                        "INSERT INTO revocations (session_id, revoked_at, reason, revoked_by) \
                         SELECT s.id, ?3, ?4, ?5 FROM sessions s WHERE s.user_id = ?1 \
                         AND s.id <> COALESCE(?2, '') \
                         AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.session_id = s.id) \
                         ON CONFLICT DO NOTHING",
                    )?
                    .execute((user_id, &except, now, &reason, by))?;
                Ok(rows as u64)
            })
            .await?;
        self.caches.forget_user(user_id);
        Ok(revoked)
    }

    async fn get_session(&self, session_id: &str) -> StoreResult<Option<SessionInfo>> {
        let id = session_id.to_string();
        self.read(move |conn| {
            let sql = format!("{SESSION_INFO_SELECT} WHERE s.id = ?1");
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([&id], rows::session_info)
                .optional()?)
        })
        .await
    }

    async fn list_sessions(&self, query: &SessionQuery) -> StoreResult<(Vec<SessionInfo>, i64)> {
        let mut f = Filters::new();
        if let Some(v) = query.user_id {
            let p = f.bind(v);
            f.and(&format!("s.user_id = {p}"));
        }
        if let Some(v) = query.active_since {
            let p = f.bind(v);
            f.and(&format!("r.revoked_at IS NULL AND s.signed_in_at >= {p}"));
        }
        let paged = f.page(
            SESSION_INFO_SELECT,
            "SELECT COUNT(*) FROM sessions s LEFT JOIN revocations r ON r.session_id = s.id",
            " ORDER BY s.signed_in_at DESC, s.id",
            &query.page,
        );
        self.read(move |conn| paged.run(conn, rows::session_info))
            .await
    }

    async fn token_policy(&self) -> StoreResult<TokenPolicy> {
        let cache = &self.caches.policy;
        if let Some(hit) = cache.get("") {
            return Ok(hit);
        }
        let generation = cache.generation();
        let policy = self
            .read(|conn| {
                let stored = conn
                    .prepare_cached(
                        "SELECT token_ttl_ms, session_ttl_ms, renew_window_ms FROM token_policy \
                         WHERE id = 1",
                    )?
                    .query_row([], |r| {
                        Ok(TokenPolicy {
                            token_ttl_ms: r.get(0)?,
                            session_ttl_ms: r.get(1)?,
                            renew_window_ms: r.get(2)?,
                        })
                    })
                    .optional()?;
                Ok(stored.unwrap_or_default())
            })
            .await?;
        cache.put("", &policy, generation);
        Ok(policy)
    }

    async fn set_token_policy(&self, policy: &TokenPolicy, now: i64) -> StoreResult<()> {
        let p = *policy;
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO token_policy (id, token_ttl_ms, session_ttl_ms, renew_window_ms, \
                 updated_at) VALUES (1, ?1, ?2, ?3, ?4) ON CONFLICT (id) DO UPDATE SET \
                 token_ttl_ms = excluded.token_ttl_ms, session_ttl_ms = excluded.session_ttl_ms, \
                 renew_window_ms = excluded.renew_window_ms, updated_at = excluded.updated_at",
            )?
            .execute((p.token_ttl_ms, p.session_ttl_ms, p.renew_window_ms, now))?;
            Ok(())
        })
        .await?;
        self.caches.policy.forget_all();
        Ok(())
    }
}
