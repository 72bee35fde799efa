//! The sign-in path's short writes on PostgreSQL: each is one statement (the sign-in ones of
//! data-modifying CTEs), run at once (the server runs writes side by side) on a connection of
//! the statement pool (no release ping: `statement_pool.rs`).

use super::{
    insert_session_rows, push_audit_values, push_session_values, push_token_values, PgStore,
    UserIdFrom,
};
use crate::error::StoreError;
use crate::queries::{ExternalIdentity, MatchCandidate, OAuthState};
use crate::rows::{UserRow, USER_COLUMNS};
use crate::sign_in_writes::{
    QuickSignIn, SignInBound, SignUpFresh, AUDIT_INSERT, IDENTITY_INSERT, OAUTH_STATE_INSERT,
    OAUTH_STATE_TAKE, SESSION_INSERT, TOKEN_INSERT,
};
use authgate_core::audit::NewAuditEntry;
use authgate_core::model::{IssuedToken, Session, User};
use sqlx::{FromRow, Postgres, QueryBuilder, Row};

impl PgStore {
    pub(super) async fn write_oauth_state(&self, s: &OAuthState) -> Result<(), StoreError> {
        let insert = sqlx::query(OAUTH_STATE_INSERT)
            .bind(&s.state_hash)
            .bind(&s.authenticator)
            .bind(&s.redirect)
            .bind(&s.binding_hash)
            .bind(s.created_at)
            .bind(s.expires_at)
            .bind(s.link_user_id);
        self.statements.execute(insert).await?;
        Ok(())
    }

    /// Deletes the state and returns it: a state is used once.
    pub(super) async fn take_oauth_state(
        &self,
        state_hash: &str,
    ) -> Result<Option<OAuthState>, StoreError> {
        let take = sqlx::query(OAUTH_STATE_TAKE).bind(state_hash);
        let row = self.statements.fetch_optional(take).await?;
        Ok(row.map(|row| OAuthState::from_row(&row)).transpose()?)
    }

    /// A session started elsewhere (password sign-in): its rows, in one statement.
    pub(super) async fn write_session(
        &self,
        s: &Session,
        t: &IssuedToken,
        audit: &[NewAuditEntry],
    ) -> Result<(), StoreError> {
        let mut c = self.statements.get().await?;
        let done = insert_session_rows(c.conn(), None, s, t, audit).await;
        c.done(done)
    }

    /// A successful sign-in forgets the account's failures.
    pub(super) async fn write_bound_sign_in(
        &self,
        w: SignInBound,
    ) -> Result<QuickSignIn, StoreError> {
        let mut qb = QueryBuilder::new("WITH b AS (");
        push_binding_lookup(&mut qb, &w.ext, &w.meta, w.sync_profile);
        qb.push("), s AS (");
        push_session_insert_for_bound(&mut qb, &w.session);
        qb.push(" FROM b WHERE b.unchanged), t AS (");
        push_token_and_audit(&mut qb, &w.token, &w.audit, " FROM b WHERE b.unchanged");
        // The bound user, if any, and whether they were signed in.
        qb.push(format_args!(
            ") SELECT {USER_COLUMNS}, b.unchanged AS signed_in FROM users \
             JOIN b ON b.bound_id = users.id"
        ));
        let Some(row) = self.statements.fetch_optional(qb.build()).await? else {
            return Ok(QuickSignIn::NotBound);
        };
        Ok(if row.try_get::<bool, _>("signed_in")? {
            QuickSignIn::SignedIn(UserRow::from_row(&row)?.into())
        } else {
            QuickSignIn::Undecided
        })
    }

    pub(super) async fn write_fresh_sign_up(
        &self,
        w: SignUpFresh,
    ) -> Result<Option<User>, StoreError> {
        let SignUpFresh {
            ext,
            meta,
            candidates,
            new,
            now,
            session,
            token,
            audit,
        } = &w;
        let mut qb = QueryBuilder::new(
            "WITH b AS (INSERT INTO users (username, email, phone, nickname, is_admin, enabled, \
             password_hash, created_at, updated_at) SELECT ",
        );
        // A username, e-mail or phone another user holds is left out, as in `resolve_in_tx`
        // (candidates among them matched no one, or nothing is written).
        for (condition, value) in [
            ("lower(username) = lower(", &new.username),
            ("email = (", &new.email),
            ("phone = (", &new.phone),
        ] {
            qb.push("CASE WHEN EXISTS (SELECT 1 FROM users WHERE ");
            qb.push(condition);
            qb.push_bind(value);
            qb.push(")) THEN NULL ELSE ");
            qb.push_bind(value);
            qb.push(" END, ");
        }
        let mut v = qb.separated(", ");
        v.push_bind(&new.nickname);
        v.push_bind(new.is_admin);
        v.push_bind(new.enabled);
        v.push_bind(&new.password_hash);
        v.push_bind(*now);
        v.push_bind(*now);
        qb.push(" WHERE NOT EXISTS (SELECT 1 FROM identities WHERE authenticator = ");
        qb.push_bind(&ext.authenticator);
        qb.push(" AND uuid = ");
        qb.push_bind(&ext.uuid);
        qb.push(")");
        for candidate in candidates {
            let (condition, value) = match candidate {
                MatchCandidate::Phone(phone) => ("phone = ", phone),
                MatchCandidate::Email { value, .. } => ("email = ", value),
            };
            qb.push(" AND NOT EXISTS (SELECT 1 FROM users WHERE ");
            qb.push(condition);
            qb.push_bind(value);
            qb.push(")");
        }
        qb.push(format_args!(
            " RETURNING {USER_COLUMNS}, id AS bound_id), i AS ("
        ));
        qb.push(IDENTITY_INSERT);
        qb.push("SELECT ");
        let mut v = qb.separated(", ");
        v.push_bind(&ext.authenticator);
        v.push_bind(&ext.uuid);
        v.push("b.bound_id");
        v.push_bind(&ext.nickname);
        v.push_bind(&ext.avatar);
        v.push_bind(meta);
        v.push_bind(*now);
        v.push_bind(*now);
        qb.push(" FROM b), s AS (");
        push_session_insert_for_bound(&mut qb, session);
        qb.push(" FROM b), t AS (");
        push_token_and_audit(&mut qb, token, audit, " FROM b");
        // The new user, if signed up.
        qb.push(format_args!(") SELECT {USER_COLUMNS} FROM b"));
        let row = self.statements.fetch_optional(qb.build()).await?;
        Ok(match row {
            Some(row) => Some(UserRow::from_row(&row)?.into()),
            None => None,
        })
    }
}

/// The session `s`, for the user `b.bound_id` of the rows that follow.
fn push_session_insert_for_bound<'a>(qb: &mut QueryBuilder<'a, Postgres>, s: &'a Session) {
    qb.push(SESSION_INSERT);
    qb.push("SELECT ");
    push_session_values(&mut qb.separated(", "), s, UserIdFrom::Bound);
}

/// The token and audit rows of the session inserted before them, for `b.bound_id`
/// (`from` selects the row).
fn push_token_and_audit<'a>(
    qb: &mut QueryBuilder<'a, Postgres>,
    t: &'a IssuedToken,
    audit: &'a [NewAuditEntry],
    from: &'static str,
) {
    qb.push(TOKEN_INSERT);
    qb.push("SELECT ");
    push_token_values(&mut qb.separated(", "), t, UserIdFrom::Bound);
    qb.push(from);
    for (i, e) in audit.iter().enumerate() {
        qb.push(format_args!("), a{i} AS ("));
        qb.push(AUDIT_INSERT);
        qb.push("SELECT ");
        push_audit_values(&mut qb.separated(", "), e, UserIdFrom::Bound);
        qb.push(from);
    }
}

/// The user `ext` is bound to (`bound_id`), and whether a full resolution would write
/// nothing but the session (`unchanged`): the user is enabled and, if the profile is
/// synchronised, nothing in it changed.
fn push_binding_lookup<'a>(
    qb: &mut QueryBuilder<'a, Postgres>,
    ext: &'a ExternalIdentity,
    meta: &'a str,
    sync_profile: bool,
) {
    qb.push("SELECT u.id AS bound_id, u.enabled");
    if sync_profile {
        qb.push(" AND i.nickname IS NOT DISTINCT FROM ");
        qb.push_bind(&ext.nickname);
        qb.push(" AND i.avatar IS NOT DISTINCT FROM ");
        qb.push_bind(&ext.avatar);
        qb.push(" AND i.meta = ");
        qb.push_bind(meta);
        if let Some(nick) = &ext.nickname {
            qb.push(" AND u.nickname IS NOT DISTINCT FROM ");
            qb.push_bind(nick);
        }
    }
    qb.push(
        " AS unchanged FROM identities i JOIN users u ON u.id = i.user_id \
         WHERE i.authenticator = ",
    );
    qb.push_bind(&ext.authenticator);
    qb.push(" AND i.uuid = ");
    qb.push_bind(&ext.uuid);
}
