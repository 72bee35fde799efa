//! Sessions, their tokens and the token policy ([`SessionStore`]). The token context (read
//! by every authenticated request) and the policy are kept briefly on this node
//! (`authgate_store::short_cache`), and forgotten by the writes made here that change them.

use crate::connection::Db;
use crate::inserts::{push_token, SessionRows, UserFrom};
use crate::rows::{self, SESSION_INFO_SELECT, TOKEN_CONTEXT_SELECT};
use crate::sql::Sql;
use crate::PgStore;
use async_trait::async_trait;
use authgate_core::audit::NewAuditEntry;
use authgate_core::model::{IssuedToken, Session};
use authgate_core::token_policy::TokenPolicy;
use authgate_store::{
    RenewOutcome, SessionInfo, SessionQuery, SessionStore, StoreResult, TokenContext,
};

#[async_trait]
impl SessionStore for PgStore {
    async fn create_session(
        &self,
        session: &Session,
        token: &IssuedToken,
        audit: &[NewAuditEntry],
    ) -> StoreResult<()> {
        let rows = SessionRows {
            session,
            token,
            audit,
            binding: None,
        };
        rows.write(&mut self.conn().await?).await
    }

    async fn token_context(&self, jti: &str) -> StoreResult<Option<TokenContext>> {
        let cache = &self.caches.contexts;
        if let Some(hit) = cache.get(jti) {
            return Ok(Some(hit));
        }
        let generation = cache.generation();
        let row = self
            .conn()
            .await?
            .query_opt(TOKEN_CONTEXT_SELECT, &[&jti])
            .await?;
        let context = row.map(|r| rows::token_context(&r)).transpose()?;
        if let Some(c) = &context {
            cache.put(jti, c, generation);
        }
        Ok(context)
    }

    async fn renew_token(
        &self,
        old_jti: &str,
        new: &IssuedToken,
        now: i64,
    ) -> StoreResult<RenewOutcome> {
        let mut conn = self.conn().await?;
        let mut tx = conn.transaction().await?;
        // Only one renewal can claim the old token, on any node.
        let claimed = tx
            .execute(
                "UPDATE issued_tokens SET renewed_to = $2, renewed_at = $3 \
                 WHERE jti = $1 AND renewed_to IS NULL",
                &[&old_jti, &new.jti, &now],
            )
            .await?;
        if claimed == 1 {
            let mut insert = Sql::new("");
            push_token(&mut insert, new, UserFrom::Values);
            tx.execute_sql(&insert).await?;
            tx.execute(
                "UPDATE sessions SET last_renewed_at = $2 WHERE id = $1",
                &[&new.session_id, &now],
            )
            .await?;
            tx.commit().await?;
            return Ok(RenewOutcome::Renewed);
        }
        let sql = "SELECT n.jti, n.session_id, n.user_id, n.issued_at, n.expires_at, \
             n.renewed_to, n.renewed_at FROM issued_tokens o \
             JOIN issued_tokens n ON n.jti = o.renewed_to WHERE o.jti = $1";
        let winner = tx.query_opt(sql, &[&old_jti]).await?;
        tx.commit().await?;
        Ok(match winner {
            Some(row) => RenewOutcome::AlreadyRenewed(rows::token(&row)?),
            None => RenewOutcome::Missing,
        })
    }

    async fn revoke_session(
        &self,
        session_id: &str,
        reason: &str,
        by: Option<i64>,
        now: i64,
    ) -> StoreResult<bool> {
        let revoked = self
            .conn()
            .await?
            .execute(
                "INSERT INTO revocations (session_id, revoked_at, reason, revoked_by) \
                 SELECT id, $2, $3, $4 FROM sessions WHERE id = $1 ON CONFLICT DO NOTHING",
                &[&session_id, &now, &reason, &by],
            )
            .await?;
        self.caches.forget_session(session_id);
        Ok(revoked == 1)
    }

    async fn revoke_user_sessions(
        &self,
        user_id: i64,
        except: Option<&str>,
        reason: &str,
        by: Option<i64>,
        now: i64,
    ) -> StoreResult<u64> {
        let revoked = self
            .conn()
            .await?
            .execute(
                "INSERT INTO revocations (session_id, revoked_at, reason, revoked_by) \
                 SELECT s.id, $3, $4, $5 FROM sessions s WHERE s.user_id = $1 \
                 AND s.id <> COALESCE($2, '') \
                 AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.session_id = s.id) \
                 ON CONFLICT DO NOTHING",
                &[&user_id, &except, &now, &reason, &by],
            )
            .await?;
        self.caches.forget_user(user_id);
        Ok(revoked)
    }

    async fn get_session(&self, session_id: &str) -> StoreResult<Option<SessionInfo>> {
        let sql = format!("{SESSION_INFO_SELECT} WHERE s.id = $1");
        let row = self.conn().await?.query_opt(&sql, &[&session_id]).await?;
        row.map(|r| rows::session_info(&r)).transpose()
    }

    async fn list_sessions(&self, q: &SessionQuery) -> StoreResult<(Vec<SessionInfo>, i64)> {
        let mut conn = self.conn().await?;
        let mut list = Sql::new(SESSION_INFO_SELECT);
        push_session_filters(&mut list, q);
        list.push(" ORDER BY s.signed_in_at DESC, s.id LIMIT ")
            .bind(q.page.page_size);
        list.push(" OFFSET ").bind(q.page.offset());
        let sessions = conn
            .query_sql(&list)
            .await?
            .iter()
            .map(rows::session_info)
            .collect::<StoreResult<Vec<_>>>()?;
        let mut count = Sql::new(
            "SELECT COUNT(*) AS total FROM sessions s \
             LEFT JOIN revocations r ON r.session_id = s.id",
        );
        push_session_filters(&mut count, q);
        let total = rows::get(&conn.query_one_sql(&count).await?, "total")?;
        Ok((sessions, total))
    }

    async fn token_policy(&self) -> StoreResult<TokenPolicy> {
        let cache = &self.caches.policy;
        if let Some(hit) = cache.get("") {
            return Ok(hit);
        }
        let generation = cache.generation();
        let row = self
            .conn()
            .await?
            .query_opt(
                "SELECT token_ttl_ms, session_ttl_ms, renew_window_ms FROM token_policy \
                 WHERE id = 1",
                &[],
            )
            .await?;
        let policy = match row {
            Some(r) => TokenPolicy {
                token_ttl_ms: rows::get(&r, "token_ttl_ms")?,
                session_ttl_ms: rows::get(&r, "session_ttl_ms")?,
                renew_window_ms: rows::get(&r, "renew_window_ms")?,
            },
            None => TokenPolicy::default(),
        };
        cache.put("", &policy, generation);
        Ok(policy)
    }

    async fn set_token_policy(&self, p: &TokenPolicy, now: i64) -> StoreResult<()> {
        self.conn()
            .await?
            .execute(
                "INSERT INTO token_policy (id, token_ttl_ms, session_ttl_ms, renew_window_ms, \
                 updated_at) VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET \
                 token_ttl_ms = excluded.token_ttl_ms, session_ttl_ms = excluded.session_ttl_ms, \
                 renew_window_ms = excluded.renew_window_ms, updated_at = excluded.updated_at",
                &[&p.token_ttl_ms, &p.session_ttl_ms, &p.renew_window_ms, &now],
            )
            .await?;
        self.caches.policy.forget_all();
        Ok(())
    }
}

/// The WHERE clause of `list_sessions` and its count.
fn push_session_filters<'a>(sql: &mut Sql<'a>, q: &'a SessionQuery) {
    sql.push(" WHERE TRUE");
    if let Some(v) = q.user_id {
        sql.push(" AND s.user_id = ").bind(v);
    }
    if let Some(v) = q.active_since {
        sql.push(" AND r.revoked_at IS NULL AND s.signed_in_at >= ")
            .bind(v);
    }
}
