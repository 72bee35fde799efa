//! The SQL both databases understand. The two backends differ only in their migrations,
//! connection setup, how a write transaction begins and how a table is locked, so the shared
//! implementation is written once here and instantiated for each pool type.

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn like_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() + 2);
    p.push('%');
    for c in term.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

macro_rules! impl_sql_store {
    ($store:ty, $db:ty) => {
        use async_trait::async_trait;
        use authgate_core::audit::{AuditEntry, NewAuditEntry};
        use authgate_core::failure_limit::{FailureCount, FailureLimit, Settle, SlotDecision};
        use authgate_core::model::*;
        use authgate_core::token_policy::TokenPolicy;
        use sqlx::{QueryBuilder, Row};
        use $crate::error::{lost_race, map_unique, StoreError, StoreResult};
        use $crate::queries::*;
        use $crate::rows::*;
        use $crate::sign_in_writes::{
            stored_meta, QuickSignIn, SignInBound, SignUpFresh, AUDIT_INSERT, IDENTITY_INSERT,
            SESSION_INSERT, TOKEN_INSERT,
        };
        use $crate::sql_store::like_pattern;

        fn push_user_filters<'a>(qb: &mut QueryBuilder<'a, $db>, q: &'a UserQuery) {
            qb.push(" WHERE 1=1");
            if let Some(term) = q.search.as_deref().filter(|t| !t.trim().is_empty()) {
                let pattern = like_pattern(term.trim());
                qb.push(" AND (lower(username) LIKE ");
                qb.push_bind(pattern.clone());
                qb.push(" ESCAPE '\\' OR email LIKE ");
                qb.push_bind(pattern.clone());
                qb.push(" ESCAPE '\\' OR phone LIKE ");
                qb.push_bind(pattern.clone());
                qb.push(" ESCAPE '\\' OR lower(nickname) LIKE ");
                qb.push_bind(pattern);
                qb.push(" ESCAPE '\\')");
            }
            if let Some(id) = q.id {
                qb.push(" AND id = ").push_bind(id);
            }
            if let Some(v) = &q.username {
                qb.push(" AND lower(username) = lower(").push_bind(v).push(")");
            }
            if let Some(v) = &q.email {
                qb.push(" AND email = lower(").push_bind(v).push(")");
            }
            if let Some(v) = &q.phone {
                qb.push(" AND phone = ").push_bind(v);
            }
            if let Some(v) = q.is_admin {
                qb.push(" AND is_admin = ").push_bind(v);
            }
            if let Some(v) = q.enabled {
                qb.push(" AND enabled = ").push_bind(v);
            }
        }

        fn push_audit_filters<'a>(qb: &mut QueryBuilder<'a, $db>, q: &'a AuditQuery) {
            qb.push(" WHERE 1=1");
            if let Some(v) = q.user_id {
                qb.push(" AND (user_id = ").push_bind(v).push(" OR actor_id = ").push_bind(v).push(")");
            }
            if let Some(v) = &q.event {
                qb.push(" AND event = ").push_bind(v);
            }
            if let Some(v) = &q.result {
                qb.push(" AND result = ").push_bind(v);
            }
            if let Some(v) = &q.authenticator {
                qb.push(" AND authenticator = ").push_bind(v);
            }
            if let Some(v) = q.since {
                qb.push(" AND at >= ").push_bind(v);
            }
            if let Some(v) = q.until {
                qb.push(" AND at <= ").push_bind(v);
            }
        }

        fn push_session_filters<'a>(qb: &mut QueryBuilder<'a, $db>, q: &'a SessionQuery) {
            qb.push(" WHERE 1=1");
            if let Some(v) = q.user_id {
                qb.push(" AND s.user_id = ").push_bind(v);
            }
            if let Some(v) = q.active_since {
                qb.push(" AND r.revoked_at IS NULL AND s.signed_in_at >= ").push_bind(v);
            }
        }

        async fn count(mut qb: QueryBuilder<'_, $db>, pool: &sqlx::Pool<$db>) -> StoreResult<i64> {
            Ok(qb.build().fetch_one(pool).await?.try_get::<i64, _>(0)?)
        }

        #[async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> &'static str {
                Self::BACKEND
            }

            async fn migrate(&self) -> StoreResult<()> {
                Self::migrator().run(&self.writer).await?;
                Ok(())
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn create_user(&self, u: &NewUser, now: i64) -> StoreResult<User> {
                let row = insert_user(&self.writer, u, now).await.map_err(map_unique)?;
                Ok(row.into())
            }

            async fn create_first_admin(&self, u: &NewUser, now: i64) -> StoreResult<Option<User>> {
                let sql = format!(
                    "INSERT INTO users (username, email, phone, nickname, is_admin, enabled, \
                     password_hash, created_at, updated_at) \
                     SELECT $1, $2, $3, $4, TRUE, TRUE, $5, $6, $6 \
                     WHERE NOT EXISTS (SELECT 1 FROM users WHERE is_admin) \
                     ON CONFLICT DO NOTHING RETURNING {USER_COLUMNS}"
                );
                let row: Option<UserRow> = sqlx::query_as(&sql)
                    .bind(&u.username)
                    .bind(&u.email)
                    .bind(&u.phone)
                    .bind(&u.nickname)
                    .bind(&u.password_hash)
                    .bind(now)
                    .fetch_optional(&self.writer)
                    .await?;
                Ok(row.map(Into::into))
            }

            async fn get_user(&self, id: i64) -> StoreResult<Option<User>> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
                let row: Option<UserRow> =
                    sqlx::query_as(&sql).bind(id).fetch_optional(&self.pool).await?;
                Ok(row.map(Into::into))
            }

            async fn find_user_by_account(&self, account: &str) -> StoreResult<Option<User>> {
                let sql = format!(
                    "SELECT {USER_COLUMNS} FROM users \
                     WHERE lower(username) = lower($1) OR email = lower($1) LIMIT 1"
                );
                let row: Option<UserRow> =
                    sqlx::query_as(&sql).bind(account).fetch_optional(&self.pool).await?;
                Ok(row.map(Into::into))
            }

            async fn list_users(&self, q: &UserQuery) -> StoreResult<(Vec<User>, i64)> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {USER_COLUMNS} FROM users"));
                push_user_filters(&mut qb, q);
                qb.push(match q.sort {
                    UserSort::IdAsc => " ORDER BY id",
                    UserSort::IdDesc => " ORDER BY id DESC",
                    UserSort::UsernameAsc => " ORDER BY lower(username), id",
                    UserSort::UsernameDesc => " ORDER BY lower(username) DESC, id DESC",
                    UserSort::CreatedAsc => " ORDER BY created_at, id",
                    UserSort::CreatedDesc => " ORDER BY created_at DESC, id DESC",
                });
                qb.push(" LIMIT ").push_bind(q.page.page_size);
                qb.push(" OFFSET ").push_bind(q.page.offset());
                let rows: Vec<UserRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                let mut cq = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM users");
                push_user_filters(&mut cq, q);
                let total = count(cq, &self.pool).await?;
                Ok((rows.into_iter().map(Into::into).collect(), total))
            }

            async fn update_user(&self, id: i64, p: &UserPatch, now: i64) -> StoreResult<Option<User>> {
                let mut tx = self.begin_write().await?;
                if p.is_admin == Some(false) || p.enabled == Some(false) {
                    keep_an_enabled_admin(&mut tx, id).await?;
                }
                let mut qb = QueryBuilder::<$db>::new("UPDATE users SET updated_at = ");
                qb.push_bind(now);
                if let Some(v) = &p.username {
                    qb.push(", username = ").push_bind(v);
                }
                if let Some(v) = &p.email {
                    qb.push(", email = ").push_bind(v);
                }
                if let Some(v) = &p.phone {
                    qb.push(", phone = ").push_bind(v);
                }
                if let Some(v) = &p.nickname {
                    qb.push(", nickname = ").push_bind(v);
                }
                if let Some(v) = p.is_admin {
                    qb.push(", is_admin = ").push_bind(v);
                }
                if let Some(v) = p.enabled {
                    qb.push(", enabled = ").push_bind(v);
                }
                qb.push(" WHERE id = ").push_bind(id);
                qb.push(format!(" RETURNING {USER_COLUMNS}"));
                let row: Option<UserRow> = qb
                    .build_query_as()
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_unique)?;
                tx.commit().await?;
                self.caches.contexts.forget_all();
                Ok(row.map(Into::into))
            }

            async fn set_password_hash(
                &self,
                id: i64,
                hash: &str,
                changed_at: Option<i64>,
                now: i64,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE users SET password_hash = $2, \
                     password_changed_at = COALESCE($3, password_changed_at), updated_at = $4 \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(hash)
                .bind(changed_at)
                .bind(now)
                .execute(&self.writer)
                .await?;
                self.caches.contexts.forget_all();
                Ok(done.rows_affected() == 1)
            }

            async fn delete_user(&self, id: i64) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                keep_an_enabled_admin(&mut tx, id).await?;
                let done = sqlx::query("DELETE FROM users WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                self.caches.contexts.forget_all();
                Ok(done.rows_affected() == 1)
            }

            async fn count_enabled_admins(&self) -> StoreResult<i64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_admin AND enabled")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n)
            }

            async fn list_authenticators(&self) -> StoreResult<Vec<Authenticator>> {
                let sql = format!("SELECT {AUTHENTICATOR_COLUMNS} FROM authenticators ORDER BY sort, id");
                let rows: Vec<AuthenticatorRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn get_authenticator(&self, id: i64) -> StoreResult<Option<Authenticator>> {
                let sql = format!("SELECT {AUTHENTICATOR_COLUMNS} FROM authenticators WHERE id = $1");
                let row: Option<AuthenticatorRow> =
                    sqlx::query_as(&sql).bind(id).fetch_optional(&self.pool).await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn get_authenticator_by_name(&self, name: &str) -> StoreResult<Option<Authenticator>> {
                let cache = &self.caches.authenticators;
                if let Some(hit) = cache.get(name) {
                    return Ok(hit);
                }
                let generation = cache.generation();
                let sql = format!("SELECT {AUTHENTICATOR_COLUMNS} FROM authenticators WHERE name = $1");
                let row: Option<AuthenticatorRow> =
                    sqlx::query_as(&sql).bind(name).fetch_optional(&self.pool).await?;
                let found: Option<Authenticator> = row.map(TryInto::try_into).transpose()?;
                cache.put(name, &found, generation);
                Ok(found)
            }

            async fn create_authenticator(&self, a: &NewAuthenticator, now: i64) -> StoreResult<Authenticator> {
                let sql = format!(
                    "INSERT INTO authenticators (name, auth_type, title, description, options, enabled, \
                     sort, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, \
                     (SELECT COALESCE(MAX(sort), 0) + 1 FROM authenticators), $7, $7) \
                     RETURNING {AUTHENTICATOR_COLUMNS}"
                );
                let row: AuthenticatorRow = sqlx::query_as(&sql)
                    .bind(&a.name)
                    .bind(&a.auth_type)
                    .bind(&a.title)
                    .bind(&a.description)
                    .bind(serde_json::Value::Object(a.options.clone()).to_string())
                    .bind(a.enabled)
                    .bind(now)
                    .fetch_one(&self.writer)
                    .await
                    .map_err(map_unique)?;
                self.caches.authenticators.forget_all();
                row.try_into()
            }

            async fn ensure_authenticator(&self, a: &NewAuthenticator, now: i64) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO authenticators (name, auth_type, title, description, options, enabled, \
                     sort, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, \
                     (SELECT COALESCE(MAX(sort), 0) + 1 FROM authenticators), $7, $7) \
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(&a.name)
                .bind(&a.auth_type)
                .bind(&a.title)
                .bind(&a.description)
                .bind(serde_json::Value::Object(a.options.clone()).to_string())
                .bind(a.enabled)
                .bind(now)
                .execute(&self.writer)
                .await?;
                self.caches.authenticators.forget_all();
                Ok(())
            }

            async fn update_authenticator(
                &self,
                id: i64,
                p: &AuthenticatorPatch,
                now: i64,
            ) -> StoreResult<Option<Authenticator>> {
                let mut tx = self.begin_write().await?;
                if p.enabled == Some(false) {
                    Self::lock_authenticators(&mut tx).await?;
                    let others: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM authenticators WHERE enabled AND id <> $1",
                    )
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                    if others == 0 {
                        return Err(StoreError::LastEnabledAuthenticator);
                    }
                }
                let stranded_before = match p.enabled {
                    Some(false) => Some(stranded_admins(&mut tx).await?),
                    _ => None,
                };
                let sql = format!(
                    "UPDATE authenticators SET title = COALESCE($2, title), \
                     description = COALESCE($3, description), options = COALESCE($4, options), \
                     enabled = COALESCE($5, enabled), updated_at = $6 WHERE id = $1 \
                     RETURNING {AUTHENTICATOR_COLUMNS}"
                );
                let row: Option<AuthenticatorRow> = sqlx::query_as(&sql)
                    .bind(id)
                    .bind(&p.title)
                    .bind(&p.description)
                    .bind(p.options.as_ref().map(|o| serde_json::Value::Object(o.clone()).to_string()))
                    .bind(p.enabled)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(before) = stranded_before {
                    keep_every_admin_a_way_in(&mut tx, &before).await?;
                }
                tx.commit().await?;
                self.caches.authenticators.forget_all();
                row.map(TryInto::try_into).transpose()
            }

            async fn delete_authenticator(&self, id: i64) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                Self::lock_authenticators(&mut tx).await?;
                let enabled_others: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM authenticators WHERE enabled AND id <> $1",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                if enabled_others == 0 {
                    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM authenticators WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if exists.is_some() {
                        return Err(StoreError::LastEnabledAuthenticator);
                    }
                }
                let before = stranded_admins(&mut tx).await?;
                let done = sqlx::query("DELETE FROM authenticators WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                keep_every_admin_a_way_in(&mut tx, &before).await?;
                tx.commit().await?;
                self.caches.authenticators.forget_all();
                Ok(done.rows_affected() == 1)
            }

            async fn move_authenticator(&self, source_id: i64, target_id: i64, now: i64) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                Self::lock_authenticators(&mut tx).await?;
                let mut ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM authenticators ORDER BY sort, id")
                    .fetch_all(&mut *tx)
                    .await?;
                let (Some(from), Some(to)) = (
                    ids.iter().position(|&i| i == source_id),
                    ids.iter().position(|&i| i == target_id),
                ) else {
                    return Ok(false);
                };
                let moved = ids.remove(from);
                ids.insert(to, moved);
                for (index, id) in ids.iter().enumerate() {
                    sqlx::query("UPDATE authenticators SET sort = $2, updated_at = $3 WHERE id = $1 AND sort <> $2")
                        .bind(id)
                        .bind(index as i64 + 1)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                self.caches.authenticators.forget_all();
                Ok(true)
            }

            async fn list_identities(&self, user_id: i64) -> StoreResult<Vec<Identity>> {
                let rows: Vec<IdentityRow> = sqlx::query_as(
                    "SELECT id, authenticator, uuid, user_id, nickname, avatar, meta, created_at, \
                     updated_at FROM identities WHERE user_id = $1 ORDER BY id",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn delete_identity(&self, user_id: i64, identity_id: i64) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                Self::lock_authenticators(&mut tx).await?;
                let before = stranded_admins(&mut tx).await?;
                let done = sqlx::query("DELETE FROM identities WHERE id = $1 AND user_id = $2")
                    .bind(identity_id)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                keep_every_admin_a_way_in(&mut tx, &before).await?;
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            async fn link_identity(
                &self,
                user_id: i64,
                ext: &ExternalIdentity,
                audit: &NewAuditEntry,
                now: i64,
            ) -> StoreResult<LinkOutcome> {
                let mut tx = self.begin_write().await?;
                let bound_to: Option<i64> = sqlx::query_scalar(
                    "SELECT user_id FROM identities WHERE authenticator = $1 AND uuid = $2",
                )
                .bind(&ext.authenticator)
                .bind(&ext.uuid)
                .fetch_optional(&mut *tx)
                .await?;
                match bound_to {
                    Some(id) if id == user_id => return Ok(LinkOutcome::AlreadyYours),
                    Some(_) => return Ok(LinkOutcome::LinkedToAnother),
                    None => {}
                }
                let enabled: Option<bool> = sqlx::query_scalar("SELECT enabled FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if enabled != Some(true) {
                    return Ok(LinkOutcome::UserGone);
                }
                let has_another: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM identities WHERE authenticator = $1 AND user_id = $2",
                )
                .bind(&ext.authenticator)
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
                if has_another.is_some() {
                    return Ok(LinkOutcome::HasAnother);
                }
                let insert = sqlx::query(&format!("{IDENTITY_INSERT} VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"))
                    .bind(&ext.authenticator)
                    .bind(&ext.uuid)
                    .bind(user_id)
                    .bind(&ext.nickname)
                    .bind(&ext.avatar)
                    .bind(stored_meta(ext))
                    .bind(now)
                    .execute(&mut *tx)
                    .await;
                match insert {
                    // A first sign-in of this identity won the race.
                    Err(e) if lost_race(&e) => return Ok(LinkOutcome::LinkedToAnother),
                    other => other?,
                };
                insert_audit(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(LinkOutcome::Linked)
            }

            async fn resolve_identity(
                &self,
                r: &IdentityResolution,
                start: &SessionStart,
                now: i64,
            ) -> StoreResult<Resolved> {
                let mut unbound = r.unbound_just_now;
                if !unbound {
                    match sign_in_bound(self, r, start).await? {
                        QuickSignIn::SignedIn(user) => return Ok(Resolved::Bound(user)),
                        // Nothing to match by and nobody to sign up.
                        QuickSignIn::NotBound
                            if r.candidates.is_empty() && r.sign_up.is_none() =>
                        {
                            return Ok(Resolved::NotFound)
                        }
                        QuickSignIn::NotBound => unbound = true,
                        QuickSignIn::Undecided => {}
                    }
                }
                if let Some(new) = r.sign_up.as_ref().filter(|_| unbound) {
                    // An error (a concurrent first sign-in won a unique key on PostgreSQL, a
                    // busy database) goes the full way below, which retries and reports.
                    match sign_up_fresh(self, r, new, start, now).await {
                        Ok(Some(user)) => return Ok(Resolved::SignedUp(user)),
                        Ok(None) => {}
                        Err(e) => tracing::debug!("sign-up in one write fell back: {e}"),
                    }
                }
                // Losers of a race (unique violation, busy database) retry from scratch and then
                // find the winner's binding; a few attempts are plenty.
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let outcome = match self.begin_write().await {
                        Ok(mut tx) => match resolve_and_start_in_tx(&mut tx, r, start, now).await {
                            Ok(resolved) => tx.commit().await.map(|_| resolved),
                            Err(e) => {
                                let _ = tx.rollback().await;
                                Err(e)
                            }
                        },
                        Err(e) => Err(e),
                    };
                    match outcome {
                        Ok(resolved) => return Ok(resolved),
                        Err(e) if attempt < 8 && lost_race(&e) => continue,
                        Err(e) => return Err(map_unique(e)),
                    }
                }
            }

            async fn create_oauth_state(&self, s: &OAuthState) -> StoreResult<()> {
                self.write_oauth_state(s).await
            }

            async fn consume_oauth_state(&self, state_hash: &str, now: i64) -> StoreResult<ConsumedState> {
                let Some(state) = self.take_oauth_state(state_hash).await? else {
                    return Ok(ConsumedState::Unknown);
                };
                Ok(if state.expires_at <= now {
                    ConsumedState::Expired(state)
                } else {
                    ConsumedState::Valid(state)
                })
            }

            async fn purge_expired_oauth_states(&self, now: i64) -> StoreResult<u64> {
                let done = sqlx::query("DELETE FROM oauth_states WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&self.writer)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn create_session(&self, s: &Session, t: &IssuedToken, audit: &[NewAuditEntry]) -> StoreResult<()> {
                self.write_session(s, t, audit).await
            }

            async fn token_context(&self, jti: &str) -> StoreResult<Option<TokenContext>> {
                if let Some(hit) = self.caches.contexts.get(jti) {
                    return Ok(Some(hit));
                }
                let generation = self.caches.contexts.generation();
                let row: Option<TokenContextRow> = sqlx::query_as(TOKEN_CONTEXT_SELECT)
                    .bind(jti)
                    .fetch_optional(&self.pool)
                    .await?;
                let context: Option<TokenContext> = row.map(Into::into);
                if let Some(c) = &context {
                    self.caches.contexts.put(jti, c, generation);
                }
                Ok(context)
            }

            async fn renew_token(&self, old_jti: &str, new: &IssuedToken, now: i64) -> StoreResult<RenewOutcome> {
                let mut tx = self.begin_write().await?;
                let claimed = sqlx::query(
                    "UPDATE issued_tokens SET renewed_to = $2, renewed_at = $3 \
                     WHERE jti = $1 AND renewed_to IS NULL",
                )
                .bind(old_jti)
                .bind(&new.jti)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if claimed == 1 {
                    insert_token(&mut tx, new).await?;
                    sqlx::query("UPDATE sessions SET last_renewed_at = $2 WHERE id = $1")
                        .bind(&new.session_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    return Ok(RenewOutcome::Renewed);
                }
                let winner: Option<TokenRow> = sqlx::query_as(
                    "SELECT n.jti, n.session_id, n.user_id, n.issued_at, n.expires_at, n.renewed_to, \
                     n.renewed_at FROM issued_tokens o JOIN issued_tokens n ON n.jti = o.renewed_to \
                     WHERE o.jti = $1",
                )
                .bind(old_jti)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(match winner {
                    Some(row) => RenewOutcome::AlreadyRenewed(row.into()),
                    None => RenewOutcome::Missing,
                })
            }

            async fn revoke_session(&self, session_id: &str, reason: &str, by: Option<i64>, now: i64) -> StoreResult<bool> {
                let done = sqlx::query(
                    "INSERT INTO revocations (session_id, revoked_at, reason, revoked_by) \
                     SELECT id, $2, $3, $4 FROM sessions WHERE id = $1 ON CONFLICT DO NOTHING",
                )
                .bind(session_id)
                .bind(now)
                .bind(reason)
                .bind(by)
                .execute(&self.writer)
                .await?;
                self.caches.contexts.forget_all();
                Ok(done.rows_affected() == 1)
            }

            async fn revoke_user_sessions(
                &self,
                user_id: i64,
                except: Option<&str>,
                reason: &str,
                by: Option<i64>,
                now: i64,
            ) -> StoreResult<u64> {
                let done = sqlx::query(
                    "INSERT INTO revocations (session_id, revoked_at, reason, revoked_by) \
                     SELECT s.id, $3, $4, $5 FROM sessions s WHERE s.user_id = $1 \
                     AND s.id <> COALESCE($2, '') \
                     AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.session_id = s.id) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(user_id)
                .bind(except)
                .bind(now)
                .bind(reason)
                .bind(by)
                .execute(&self.writer)
                .await?;
                self.caches.contexts.forget_all();
                Ok(done.rows_affected())
            }

            async fn get_session(&self, session_id: &str) -> StoreResult<Option<SessionInfo>> {
                let sql = format!("{SESSION_INFO_SELECT} WHERE s.id = $1");
                let row: Option<SessionInfoRow> =
                    sqlx::query_as(&sql).bind(session_id).fetch_optional(&self.pool).await?;
                Ok(row.map(Into::into))
            }

            async fn list_sessions(&self, q: &SessionQuery) -> StoreResult<(Vec<SessionInfo>, i64)> {
                let mut qb = QueryBuilder::<$db>::new(SESSION_INFO_SELECT);
                push_session_filters(&mut qb, q);
                qb.push(" ORDER BY s.signed_in_at DESC, s.id LIMIT ").push_bind(q.page.page_size);
                qb.push(" OFFSET ").push_bind(q.page.offset());
                let rows: Vec<SessionInfoRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                let mut cq = QueryBuilder::<$db>::new(
                    "SELECT COUNT(*) FROM sessions s LEFT JOIN revocations r ON r.session_id = s.id",
                );
                push_session_filters(&mut cq, q);
                let total = count(cq, &self.pool).await?;
                Ok((rows.into_iter().map(Into::into).collect(), total))
            }

            async fn token_policy(&self) -> StoreResult<TokenPolicy> {
                let cache = &self.caches.policy;
                if let Some(hit) = cache.get("") {
                    return Ok(hit);
                }
                let generation = cache.generation();
                let row = sqlx::query(
                    "SELECT token_ttl_ms, session_ttl_ms, renew_window_ms FROM token_policy WHERE id = 1",
                )
                .fetch_optional(&self.pool)
                .await?;
                let policy = match row {
                    Some(r) => TokenPolicy {
                        token_ttl_ms: r.try_get(0)?,
                        session_ttl_ms: r.try_get(1)?,
                        renew_window_ms: r.try_get(2)?,
                    },
                    None => TokenPolicy::default(),
                };
                cache.put("", &policy, generation);
                Ok(policy)
            }

            async fn set_token_policy(&self, p: &TokenPolicy, now: i64) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO token_policy (id, token_ttl_ms, session_ttl_ms, renew_window_ms, updated_at) \
                     VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET \
                     token_ttl_ms = excluded.token_ttl_ms, session_ttl_ms = excluded.session_ttl_ms, \
                     renew_window_ms = excluded.renew_window_ms, updated_at = excluded.updated_at",
                )
                .bind(p.token_ttl_ms)
                .bind(p.session_ttl_ms)
                .bind(p.renew_window_ms)
                .bind(now)
                .execute(&self.writer)
                .await?;
                self.caches.policy.forget_all();
                Ok(())
            }

            async fn locked_until(&self, keys: &[String], now: i64) -> StoreResult<Option<i64>> {
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT MAX(locked_until) FROM signin_failures WHERE key IN (",
                );
                let mut list = qb.separated(", ");
                for k in keys {
                    list.push_bind(k);
                }
                qb.push(")");
                let until: Option<i64> = qb.build().fetch_one(&self.pool).await?.try_get(0)?;
                Ok(until.filter(|&u| u > now))
            }

            async fn take_failure_slots(
                &self,
                keys: &[(String, FailureLimit)],
                now: i64,
            ) -> StoreResult<FailureSlots> {
                let mut tx = self.begin_write().await?;
                let keys = in_lock_order(keys, |k| &k.0);
                let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
                let held = hold_failure_rows(&mut tx, &names).await?;
                let decisions: Vec<(&str, SlotDecision)> = keys
                    .iter()
                    .zip(held)
                    .map(|((key, limit), count)| (key.as_str(), limit.take_slot(count, now)))
                    .collect();
                // The latest lock is the one to wait for. Only locks decided just now are
                // written then; no slot is taken.
                let mut locked_until = None;
                let mut new_locks = Vec::new();
                for (key, decision) in &decisions {
                    match decision {
                        SlotDecision::Locked { until } => locked_until = locked_until.max(Some(*until)),
                        SlotDecision::LockedNow(count) => {
                            locked_until = locked_until.max(Some(count.locked_until));
                            new_locks.push((*key, *count));
                        }
                        _ => {}
                    }
                }
                if let Some(until) = locked_until {
                    write_failure_rows(&mut tx, &new_locks).await?;
                    tx.commit().await?;
                    return Ok(FailureSlots::Locked { until });
                }
                if decisions.iter().any(|(_, d)| *d == SlotDecision::Busy) {
                    // Dropping the transaction rolls it back: nothing is taken.
                    return Ok(FailureSlots::Busy);
                }
                let taken: Vec<(&str, FailureCount)> = decisions
                    .iter()
                    .filter_map(|(key, d)| match d {
                        SlotDecision::Taken(count) => Some((*key, *count)),
                        _ => None,
                    })
                    .collect();
                write_failure_rows(&mut tx, &taken).await?;
                tx.commit().await?;
                Ok(FailureSlots::Taken)
            }

            async fn purge_idle_failure_counters(&self, before: i64) -> StoreResult<u64> {
                let done = sqlx::query(
                    "DELETE FROM signin_failures WHERE (pending = 0 OR pending_until < $1) \
                     AND locked_until < $1 AND window_started_at < $1",
                )
                .bind(before)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected())
            }

            async fn settle_failure_slots(
                &self,
                keys: &[(String, FailureLimit, Settle)],
                now: i64,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let keys = in_lock_order(keys, |k| &k.0);
                let names: Vec<&str> = keys.iter().map(|(k, _, _)| k.as_str()).collect();
                let held = hold_failure_rows(&mut tx, &names).await?;
                let settled: Vec<(&str, FailureCount)> = keys
                    .iter()
                    .zip(held)
                    .map(|((key, limit, how), count)| (key.as_str(), limit.settle(count, *how, now)))
                    .collect();
                write_failure_rows(&mut tx, &settled).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn append_audit(&self, e: &NewAuditEntry) -> StoreResult<()> {
                insert_audit(&self.writer, e).await?;
                Ok(())
            }

            async fn append_audit_merging(&self, e: &NewAuditEntry, since: i64) -> StoreResult<()> {
                let Some(ip) = e.ip.as_deref() else {
                    return self.append_audit(e).await;
                };
                let mut tx = self.begin_write().await?;
                // Held until the count is written: concurrent repeats count one after another.
                let sql = format!(
                    "SELECT id, detail FROM audit_log WHERE ip = $6 AND event = $1 AND result = $2 \
                     AND reason IS NOT DISTINCT FROM $3 AND user_id IS NOT DISTINCT FROM $4 \
                     AND authenticator IS NOT DISTINCT FROM $5 \
                     AND user_agent IS NOT DISTINCT FROM $8 AND at >= $7 ORDER BY at DESC, id DESC LIMIT 1{}",
                    <$store>::FOR_UPDATE
                );
                let earlier = sqlx::query(&sql)
                .bind(&e.event)
                .bind(e.outcome.as_str())
                .bind(&e.reason)
                .bind(e.user_id)
                .bind(&e.authenticator)
                .bind(ip)
                .bind(since)
                .bind(&e.user_agent)
                .fetch_optional(&mut *tx)
                .await?;
                // Identical but for when: the stored detail (less the count) is this one's.
                let same = |row: &<$db as sqlx::Database>::Row| -> StoreResult<Option<(i64, serde_json::Map<String, serde_json::Value>)>> {
                    let text: String = row.try_get(1)?;
                    let mut detail: serde_json::Map<String, serde_json::Value> =
                        serde_json::from_str(&text).unwrap_or_default();
                    let mut bare = detail.clone();
                    bare.remove("repeated");
                    bare.remove("lastAt");
                    if bare != e.detail {
                        return Ok(None);
                    }
                    detail.remove("lastAt");
                    Ok(Some((row.try_get(0)?, detail)))
                };
                match earlier.as_ref().map(same).transpose()?.flatten() {
                    Some((id, mut detail)) => {
                        let repeated = detail.get("repeated").and_then(|v| v.as_i64()).unwrap_or(0);
                        detail.insert("repeated".into(), (repeated + 1).into());
                        detail.insert("lastAt".into(), e.at.into());
                        sqlx::query("UPDATE audit_log SET detail = $2 WHERE id = $1")
                            .bind(id)
                            .bind(serde_json::Value::Object(detail).to_string())
                            .execute(&mut *tx)
                            .await?;
                    }
                    None => insert_audit(&mut *tx, e).await?,
                }
                tx.commit().await?;
                Ok(())
            }

            async fn list_audit(&self, q: &AuditQuery) -> StoreResult<(Vec<AuditEntry>, i64)> {
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT id, at, event, result, user_id, actor_id, authenticator, ip, user_agent, \
                     reason, detail FROM audit_log",
                );
                push_audit_filters(&mut qb, q);
                qb.push(" ORDER BY id DESC LIMIT ").push_bind(q.page.page_size);
                qb.push(" OFFSET ").push_bind(q.page.offset());
                let rows: Vec<AuditRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                let mut cq = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM audit_log");
                push_audit_filters(&mut cq, q);
                let total = count(cq, &self.pool).await?;
                let entries = rows.into_iter().map(TryInto::try_into).collect::<StoreResult<_>>()?;
                Ok((entries, total))
            }

            async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
                Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn put_setting_if_absent(&self, key: &str, value: &str, sealed: bool, now: i64) -> StoreResult<String> {
                sqlx::query(
                    "INSERT INTO settings (key, value, sealed, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (key) DO NOTHING",
                )
                .bind(key)
                .bind(value)
                .bind(sealed)
                .bind(now)
                .execute(&self.writer)
                .await?;
                self.get_setting(key)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("setting {key} vanished")))
            }

            async fn ensure_active_signing_key(&self, k: &SigningKeyRecord) -> StoreResult<SigningKeyRecord> {
                sqlx::query(
                    "INSERT INTO signing_keys (kid, alg, private_key, public_key, active, created_at) \
                     VALUES ($1, $2, $3, $4, TRUE, $5) ON CONFLICT DO NOTHING",
                )
                .bind(&k.kid)
                .bind(&k.alg)
                .bind(&k.private_key)
                .bind(&k.public_key)
                .bind(k.created_at)
                .execute(&self.writer)
                .await?;
                let row: SigningKeyRow = sqlx::query_as(
                    "SELECT kid, alg, private_key, public_key, active, created_at FROM signing_keys \
                     WHERE active",
                )
                .fetch_one(&self.writer)
                .await?;
                Ok(row.into())
            }

            async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
                let rows: Vec<SigningKeyRow> = sqlx::query_as(
                    "SELECT kid, alg, private_key, public_key, active, created_at FROM signing_keys \
                     ORDER BY created_at",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }
        }

/// Refuses (LastEnabledAdmin) when user `id` is the only enabled administrator, inside a
        /// write transaction that holds every enabled admin's row until it ends: concurrent
        /// demotions, disables and deletions are decided one after the other, on every node.
        async fn keep_an_enabled_admin(
            tx: &mut sqlx::Transaction<'static, $db>,
            id: i64,
        ) -> StoreResult<()> {
            let sql = format!(
                "SELECT id FROM users WHERE is_admin AND enabled ORDER BY id{}",
                <$store>::FOR_UPDATE
            );
            let admins: Vec<i64> = sqlx::query_scalar(&sql).fetch_all(&mut **tx).await?;
            if admins == [id] {
                return Err(StoreError::LastEnabledAdmin);
            }
            Ok(())
        }

/// One order for every transaction that holds failure rows, so that two never wait for
        /// each other's rows in opposite orders.
        fn in_lock_order<T>(items: &[T], key: impl Fn(&T) -> &String) -> Vec<&T> {
            let mut sorted: Vec<&T> = items.iter().collect();
            sorted.sort_by(|a, b| key(a).cmp(key(b)));
            sorted
        }

        /// The keys' failure counters (in the order of `keys`), their rows created if needed
        /// and held until the transaction ends (the no-op update takes the row locks on
        /// PostgreSQL, in the order given).
        async fn hold_failure_rows(
            tx: &mut sqlx::Transaction<'static, $db>,
            keys: &[&str],
        ) -> StoreResult<Vec<FailureCount>> {
            let mut qb = QueryBuilder::<$db>::new(
                "INSERT INTO signin_failures (key, failures, window_started_at, locked_until) ",
            );
            qb.push_values(keys, |mut row, key| {
                row.push_bind(*key).push("0").push("0").push("0");
            });
            qb.push(
                " ON CONFLICT (key) DO UPDATE SET failures = signin_failures.failures \
                 RETURNING key, failures, window_started_at, locked_until, strikes, pending, pending_until",
            );
            let rows = qb.build().fetch_all(&mut **tx).await?;
            let mut counts = Vec::with_capacity(keys.len());
            for key in keys {
                let row = rows
                    .iter()
                    .find(|r| r.try_get::<String, _>(0).is_ok_and(|k| k == *key))
                    .ok_or_else(|| StoreError::Corrupt(format!("no failure counter for {key}")))?;
                counts.push(FailureCount {
                    failures: row.try_get(1)?,
                    window_started_at: row.try_get(2)?,
                    locked_until: row.try_get(3)?,
                    strikes: row.try_get(4)?,
                    pending: row.try_get(5)?,
                    pending_until: row.try_get(6)?,
                });
            }
            Ok(counts)
        }

        /// Stores the keys' new counters (rows held by `hold_failure_rows`), in one statement.
        async fn write_failure_rows(
            tx: &mut sqlx::Transaction<'static, $db>,
            counts: &[(&str, FailureCount)],
        ) -> StoreResult<()> {
            if counts.is_empty() {
                return Ok(());
            }
            let mut qb = QueryBuilder::<$db>::new(
                "INSERT INTO signin_failures (key, failures, window_started_at, locked_until, \
                 strikes, pending, pending_until) ",
            );
            qb.push_values(counts, |mut row, (key, c)| {
                row.push_bind(*key)
                    .push_bind(c.failures)
                    .push_bind(c.window_started_at)
                    .push_bind(c.locked_until)
                    .push_bind(c.strikes)
                    .push_bind(c.pending)
                    .push_bind(c.pending_until);
            });
            qb.push(
                " ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, \
                 window_started_at = excluded.window_started_at, locked_until = excluded.locked_until, \
                 strikes = excluded.strikes, pending = excluded.pending, pending_until = excluded.pending_until",
            );
            qb.build().execute(&mut **tx).await?;
            Ok(())
        }

/// Enabled administrators who could not sign in: no password with an enabled password
        /// authenticator to use it (passwords belong to users: any one will do), and no identity
        /// on an enabled authenticator.
        async fn stranded_admins(tx: &mut sqlx::Transaction<'static, $db>) -> StoreResult<Vec<i64>> {
            Ok(sqlx::query_scalar(
                "SELECT u.id FROM users u WHERE u.is_admin AND u.enabled \
                 AND NOT (u.password_hash IS NOT NULL AND EXISTS (SELECT 1 FROM authenticators p \
                          WHERE p.enabled AND p.auth_type = 'password')) \
                 AND NOT EXISTS (SELECT 1 FROM identities i JOIN authenticators a \
                                 ON a.name = i.authenticator WHERE i.user_id = u.id AND a.enabled) \
                 ORDER BY u.id",
            )
            .fetch_all(&mut **tx)
            .await?)
        }

        /// Refuses (AdminsNeedPassword) a change, made in `tx` but not committed, that leaves an
        /// administrator with no way to sign in who had one `before` it. Every change that can
        /// (an authenticator disabled or deleted, an identity unlinked) holds the authenticators'
        /// lock first, so two such changes on two nodes are decided one after the other.
        async fn keep_every_admin_a_way_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            before: &[i64],
        ) -> StoreResult<()> {
            let after = stranded_admins(tx).await?;
            if after.iter().any(|id| !before.contains(id)) {
                return Err(StoreError::AdminsNeedPassword);
            }
            Ok(())
        }

        async fn user_in_tx(
            tx: &mut sqlx::Transaction<'static, $db>,
            id: i64,
        ) -> Result<Option<User>, sqlx::Error> {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
            let row: Option<UserRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut **tx).await?;
            Ok(row.map(Into::into))
        }

        /// The one INSERT of a user: `create_user`, and sign-up while resolving an identity.
        async fn insert_user<'e, E>(ex: E, u: &NewUser, now: i64) -> Result<UserRow, sqlx::Error>
        where
            E: sqlx::Executor<'e, Database = $db>,
        {
            let sql = format!(
                "INSERT INTO users (username, email, phone, nickname, is_admin, enabled, \
                 password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
                 RETURNING {USER_COLUMNS}"
            );
            sqlx::query_as(&sql)
                .bind(&u.username)
                .bind(&u.email)
                .bind(&u.phone)
                .bind(&u.nickname)
                .bind(u.is_admin)
                .bind(u.enabled)
                .bind(&u.password_hash)
                .bind(now)
                .fetch_one(ex)
                .await
        }

        async fn user_id_where(
            tx: &mut sqlx::Transaction<'static, $db>,
            condition: &str,
            value: &str,
        ) -> Result<Option<i64>, sqlx::Error> {
            sqlx::query_scalar(&format!("SELECT id FROM users WHERE {condition} LIMIT 1"))
                .bind(value)
                .fetch_optional(&mut **tx)
                .await
        }

        /// One attempt of [`Store::resolve_identity`]; errors roll the whole attempt back.
        /// `Linked` and `SignedUp` still lack their binding: the caller inserts it.
        async fn resolve_in_tx(
            tx: &mut sqlx::Transaction<'static, $db>,
            r: &IdentityResolution,
            meta: &str,
            now: i64,
        ) -> Result<Resolved, sqlx::Error> {
            let ext = &r.identity;
            let bound: Option<BoundIdentityRow> = sqlx::query_as(BOUND_IDENTITY_SELECT)
                .bind(&ext.authenticator)
                .bind(&ext.uuid)
                .fetch_optional(&mut **tx)
                .await?;
            if let Some(bound) = bound {
                let mut user = User::from(bound.user);
                if !user.enabled {
                    return Ok(Resolved::Disabled(user));
                }
                if r.sync_profile {
                    // Most sign-ins change nothing: no write then. (`meta` is serialised the
                    // way it was stored: keys in order.)
                    if bound.identity_nickname != ext.nickname
                        || bound.identity_avatar != ext.avatar
                        || bound.identity_meta != meta
                    {
                        sqlx::query(
                            "UPDATE identities SET nickname = $3, avatar = $4, meta = $5, updated_at = $6 \
                             WHERE authenticator = $1 AND uuid = $2",
                        )
                        .bind(&ext.authenticator)
                        .bind(&ext.uuid)
                        .bind(&ext.nickname)
                        .bind(&ext.avatar)
                        .bind(&meta)
                        .bind(now)
                        .execute(&mut **tx)
                        .await?;
                    }
                    if let Some(nick) = ext.nickname.as_ref().filter(|n| user.nickname.as_ref() != Some(*n)) {
                        let sql = format!(
                            "UPDATE users SET nickname = $2, updated_at = $3 WHERE id = $1 RETURNING {USER_COLUMNS}"
                        );
                        let row: UserRow = sqlx::query_as(&sql)
                            .bind(user.id)
                            .bind(nick)
                            .bind(now)
                            .fetch_one(&mut **tx)
                            .await?;
                        user = row.into();
                    }
                }
                return Ok(Resolved::Bound(user));
            }

            let mut found: Vec<(i64, &'static str)> = Vec::new();
            for candidate in &r.candidates {
                let id = match candidate {
                    MatchCandidate::Phone(phone) => user_id_where(tx, "phone = $1", phone).await?,
                    MatchCandidate::Email { value, .. } => user_id_where(tx, "email = $1", value).await?,
                };
                if let Some(id) = id.filter(|id| !found.iter().any(|(f, _)| f == id)) {
                    found.push((id, candidate.field()));
                }
            }
            if found.len() > 1 {
                return Ok(Resolved::Ambiguous {
                    fields: found.iter().map(|(_, f)| *f).collect(),
                });
            }
            let (user, linked_by) = if let Some(&(id, field)) = found.first() {
                let Some(user) = user_in_tx(tx, id).await? else {
                    return Ok(Resolved::NotFound);
                };
                if !user.enabled {
                    return Ok(Resolved::Disabled(user));
                }
                let other: Option<String> = sqlx::query_scalar(
                    "SELECT uuid FROM identities WHERE authenticator = $1 AND user_id = $2 LIMIT 1",
                )
                .bind(&ext.authenticator)
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
                match other {
                    // A concurrent first sign-in of this very identity committed between our
                    // statements (PostgreSQL reads each statement's own snapshot).
                    Some(uuid) if uuid == ext.uuid => return Ok(Resolved::Bound(user)),
                    Some(_) => return Ok(Resolved::AlreadyLinked { field }),
                    None => {}
                }
                // A matching phone or address proves less than the account's own password:
                // an administrator is never linked by it, others only if the option allows.
                if user.is_admin || (r.link_requires_password && user.password_hash.is_some()) {
                    return Ok(Resolved::LinkRefused { field, admin: user.is_admin });
                }
                (user, Some(field))
            } else if let Some(new) = &r.sign_up {
                let mut new = new.clone();
                // A value another user holds is left out rather than failing the sign-up. The
                // candidates all matched no one just now: their values need no second look.
                let was_candidate = |value: &MatchCandidate| r.candidates.contains(value);
                if let Some(p) = new.phone.clone() {
                    if !was_candidate(&MatchCandidate::Phone(p.clone()))
                        && user_id_where(tx, "phone = $1", &p).await?.is_some()
                    {
                        new.phone = None;
                    }
                }
                if let Some(e) = new.email.clone() {
                    let as_candidate = |field| MatchCandidate::Email { field, value: e.clone() };
                    if !was_candidate(&as_candidate("orgEmail"))
                        && !was_candidate(&as_candidate("email"))
                        && user_id_where(tx, "email = $1", &e).await?.is_some()
                    {
                        new.email = None;
                    }
                }
                if let Some(u) = new.username.clone() {
                    if user_id_where(tx, "lower(username) = lower($1)", &u).await?.is_some() {
                        new.username = None;
                    }
                }
                let row = insert_user(&mut **tx, &new, now).await?;
                (row.into(), None)
            } else {
                return Ok(Resolved::NotFound);
            };
            // The binding itself is written with the session (one batch).
            Ok(match linked_by {
                Some(field) => Resolved::Linked { user, field },
                None => Resolved::SignedUp(user),
            })
        }

        /// [`resolve_in_tx`], then, when a user signs in, `start`'s rows for that user.
        async fn resolve_and_start_in_tx(
            tx: &mut sqlx::Transaction<'static, $db>,
            r: &IdentityResolution,
            start: &SessionStart,
            now: i64,
        ) -> Result<Resolved, sqlx::Error> {
            let meta = stored_meta(&r.identity);
            let resolved = resolve_in_tx(tx, r, &meta, now).await?;
            let Some((user, by)) = resolved.signed_in() else {
                return Ok(resolved);
            };
            let user_id = user.id;
            let session = Session { user_id, ..start.session.clone() };
            let token = IssuedToken { user_id, ..start.token.clone() };
            let mut audit = (start.audit)(by);
            for entry in &mut audit {
                entry.user_id = Some(user_id);
            }
            let new_binding = (by != SignedInBy::Binding).then_some(NewBinding {
                identity: &r.identity,
                meta: &meta,
                at: now,
            });
            insert_session_rows(&mut **tx, new_binding, &session, &token, &audit).await?;
            Ok(resolved)
        }

        /// The returning-user shortcut ([`SignInBound`]), in one write.
        async fn sign_in_bound(
            store: &$store,
            r: &IdentityResolution,
            start: &SessionStart,
        ) -> Result<QuickSignIn, StoreError> {
            let write = SignInBound {
                meta: stored_meta(&r.identity),
                ext: r.identity.clone(),
                sync_profile: r.sync_profile,
                session: start.session.clone(),
                token: start.token.clone(),
                audit: (start.audit)(SignedInBy::Binding),
            };
            store.write_bound_sign_in(write).await
        }

        /// The common first sign-in ([`SignUpFresh`]), in one write.
        async fn sign_up_fresh(
            store: &$store,
            r: &IdentityResolution,
            new: &NewUser,
            start: &SessionStart,
            now: i64,
        ) -> Result<Option<User>, StoreError> {
            let write = SignUpFresh {
                ext: r.identity.clone(),
                meta: stored_meta(&r.identity),
                candidates: r.candidates.clone(),
                new: new.clone(),
                now,
                session: start.session.clone(),
                token: start.token.clone(),
                audit: (start.audit)(SignedInBy::SignUp),
            };
            store.write_fresh_sign_up(write).await
        }

        /// An identity's first binding to `s`'s user.
        struct NewBinding<'a> {
            identity: &'a ExternalIdentity,
            /// `identity.meta` as stored.
            meta: &'a str,
            at: i64,
        }

        /// A session, its first token, its audit entries and, on a first sign-in, the binding
        /// in one batch of statements: one hand-off to SQLite's connection thread, one round
        /// trip to PostgreSQL. A binding that another sign-in wrote first fails the whole
        /// batch with a unique violation (the caller retries and finds it).
        async fn insert_session_rows(
            conn: &mut <$db as sqlx::Database>::Connection,
            binding: Option<NewBinding<'_>>,
            s: &Session,
            t: &IssuedToken,
            audit: &[NewAuditEntry],
        ) -> Result<(), sqlx::Error> {
            let mut qb = QueryBuilder::<$db>::new("");
            let statements = 2 + usize::from(binding.is_some()) + usize::from(!audit.is_empty());
            let mut batch = Batch::new(statements);
            if let Some(b) = &binding {
                batch.open(&mut qb);
                qb.push(IDENTITY_INSERT);
                qb.push_values([b], |mut v, b| {
                    v.push_bind(&b.identity.authenticator)
                        .push_bind(&b.identity.uuid)
                        .push_bind(s.user_id)
                        .push_bind(&b.identity.nickname)
                        .push_bind(&b.identity.avatar)
                        .push_bind(b.meta)
                        .push_bind(b.at)
                        .push_bind(b.at);
                });
                batch.close(&mut qb);
            }
            batch.open(&mut qb);
            qb.push(SESSION_INSERT);
            qb.push_values([s], |mut v, s| {
                push_session_values(&mut v, s, UserIdFrom::Value(Some(s.user_id)))
            });
            batch.close(&mut qb);
            batch.open(&mut qb);
            push_token_insert(&mut qb, t);
            batch.close(&mut qb);
            if !audit.is_empty() {
                batch.open(&mut qb);
                push_audit_insert(&mut qb, audit);
            }
            qb.build().execute(conn).await?;
            Ok(())
        }

        /// Joins INSERTs into one statement batch the backend runs in one go: PostgreSQL as
        /// data-modifying CTEs (`WITH c0 AS (..), c1 AS (..) last`), SQLite as `;`-separated
        /// statements.
        struct Batch {
            len: usize,
            at: usize,
        }

        impl Batch {
            fn new(len: usize) -> Self {
                Self { len, at: 0 }
            }

            fn is_last(&self) -> bool {
                self.at + 1 == self.len
            }

            fn open(&self, qb: &mut QueryBuilder<'_, $db>) {
                if <$store>::BATCH_AS_CTE && !self.is_last() {
                    qb.push(if self.at == 0 { "WITH " } else { ", " });
                    qb.push(format_args!("c{} AS (", self.at));
                }
            }

            fn close(&mut self, qb: &mut QueryBuilder<'_, $db>) {
                if !self.is_last() {
                    qb.push(if <$store>::BATCH_AS_CTE { ") " } else { "; " });
                }
                self.at += 1;
            }
        }

        async fn insert_audit<'e, E>(ex: E, e: &NewAuditEntry) -> Result<(), sqlx::Error>
        where
            E: sqlx::Executor<'e, Database = $db>,
        {
            let mut qb = QueryBuilder::<$db>::new("");
            push_audit_insert(&mut qb, std::slice::from_ref(e));
            qb.build().execute(ex).await?;
            Ok(())
        }

        async fn insert_token(tx: &mut sqlx::Transaction<'static, $db>, t: &IssuedToken) -> Result<(), sqlx::Error> {
            let mut qb = QueryBuilder::<$db>::new("");
            push_token_insert(&mut qb, t);
            qb.build().execute(&mut **tx).await?;
            Ok(())
        }

        /// Where an inserted row's user id comes from: a value, or the `bound_id` column of
        /// the rows selected `FROM b` (PostgreSQL's one-statement sign-in writes).
        #[derive(Clone, Copy)]
        enum UserIdFrom {
            Value(Option<i64>),
            // SQLite's sign-in writes pass the user id as a value (`sqlite/sign_in_writes.rs`).
            #[allow(dead_code)]
            Bound,
        }

        type Values<'q, 'a> = sqlx::query_builder::Separated<'q, 'a, $db, &'static str>;

        fn push_user_id(v: &mut Values<'_, '_>, user: UserIdFrom) {
            match user {
                UserIdFrom::Value(id) => v.push_bind(id),
                UserIdFrom::Bound => v.push("b.bound_id"),
            };
        }

        /// The values of [`SESSION_INSERT`], in its column order.
        fn push_session_values<'a>(v: &mut Values<'_, 'a>, s: &'a Session, user: UserIdFrom) {
            v.push_bind(&s.id);
            push_user_id(v, user);
            v.push_bind(&s.authenticator);
            v.push_bind(s.signed_in_at);
            v.push_bind(s.last_renewed_at);
            v.push_bind(&s.ip);
            v.push_bind(&s.user_agent);
        }

        /// The values of [`TOKEN_INSERT`], in its column order.
        fn push_token_values<'a>(v: &mut Values<'_, 'a>, t: &'a IssuedToken, user: UserIdFrom) {
            v.push_bind(&t.jti);
            v.push_bind(&t.session_id);
            push_user_id(v, user);
            v.push_bind(t.issued_at);
            v.push_bind(t.expires_at);
        }

        /// The values of [`AUDIT_INSERT`], in its column order.
        fn push_audit_values<'a>(v: &mut Values<'_, 'a>, e: &'a NewAuditEntry, user: UserIdFrom) {
            v.push_bind(e.at);
            v.push_bind(&e.event);
            v.push_bind(e.outcome.as_str());
            push_user_id(v, user);
            v.push_bind(e.actor_id);
            v.push_bind(&e.authenticator);
            v.push_bind(&e.ip);
            v.push_bind(&e.user_agent);
            v.push_bind(&e.reason);
            v.push_bind(serde_json::Value::Object(e.detail.clone()).to_string());
        }

        fn push_token_insert<'a>(qb: &mut QueryBuilder<'a, $db>, t: &'a IssuedToken) {
            qb.push(TOKEN_INSERT);
            qb.push_values([t], |mut v, t| {
                push_token_values(&mut v, t, UserIdFrom::Value(Some(t.user_id)))
            });
        }

        fn push_audit_insert<'a>(qb: &mut QueryBuilder<'a, $db>, entries: &'a [NewAuditEntry]) {
            qb.push(AUDIT_INSERT);
            qb.push_values(entries, |mut v, e| {
                push_audit_values(&mut v, e, UserIdFrom::Value(e.user_id))
            });
        }
    };
}

pub(crate) use impl_sql_store;
