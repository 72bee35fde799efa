//! The sign-in path ([`SignInStore`]): one-time OAuth states, failure limits, and the ways
//! an external identity (DingTalk) signs someone in or is linked.
//!
//! Each operation that writes is one closure run on the writer thread (`writer.rs`), inside
//! a transaction begun with BEGIN IMMEDIATE; the writer commits it (with any other writes
//! queued meanwhile) and only then answers. An error (a refusal, a failed statement) rolls
//! back everything the closure wrote. As that transaction holds the database's only write
//! lock from its first statement, no other write, from this process or another, comes in
//! between what a sign-in reads and what it writes: there is no race to lose and nothing to
//! retry. For the same reason the failure counters need no row locks: reading them in the
//! write is holding them.
//!
//! A DingTalk sign-in reads from the trait method down: `sign_in_returning` or
//! `sign_in_first_time`, then `first_time` (the binding, the candidates, then `link` or
//! `sign_up`), `sign_in_bound` for a binding that exists, and `start_session` for the rows
//! every sign-in writes.

mod failure_limits;

use crate::audit::insert_audit;
use crate::errors::{is_unique_violation, DbError};
use crate::rows::{self, BOUND_USER_SELECT, OAUTH_STATE_COLUMNS, USER_COLUMNS};
use crate::session_rows::insert_session_rows;
use crate::users::{insert_user, user_by_id};
use crate::SqliteStore;
use async_trait::async_trait;
use authgate_core::audit::NewAuditEntry;
use authgate_core::failure_limit::{FailureCount, FailureLimit, Settle};
use authgate_core::model::NewUser;
use authgate_store::{
    stored_meta, ConsumedState, ExternalIdentity, FailureSlots, FirstSignIn, LinkOutcome,
    MatchCandidate, OAuthState, ProfileChanges, Resolved, Returned, ReturningSignIn, SessionStart,
    SignInStore, SignedInBy, StoreResult,
};
use rusqlite::{params_from_iter, Connection, OptionalExtension};

#[async_trait]
impl SignInStore for SqliteStore {
    async fn create_oauth_state(&self, state: &OAuthState) -> StoreResult<()> {
        let s = state.clone();
        self.write(move |conn| {
            let sql = format!(
                "INSERT INTO oauth_states ({OAUTH_STATE_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            );
            conn.prepare_cached(&sql)?.execute((
                &s.state_hash,
                &s.authenticator,
                &s.redirect,
                &s.binding_hash,
                s.created_at,
                s.expires_at,
                s.link_user_id,
            ))?;
            Ok(())
        })
        .await
    }

    async fn consume_oauth_state(&self, state_hash: &str, now: i64) -> StoreResult<ConsumedState> {
        let hash = state_hash.to_string();
        let taken = self
            .write(move |conn| {
                let sql = format!(
                    "DELETE FROM oauth_states WHERE state_hash = ?1 RETURNING {OAUTH_STATE_COLUMNS}"
                );
                Ok(conn
                    .prepare_cached(&sql)?
                    .query_row([&hash], rows::oauth_state)
                    .optional()?)
            })
            .await?;
        Ok(match taken {
            None => ConsumedState::Unknown,
            Some(state) if state.expires_at <= now => ConsumedState::Expired(state),
            Some(state) => ConsumedState::Valid(state),
        })
    }

    async fn purge_expired_oauth_states(&self, now: i64) -> StoreResult<u64> {
        self.write(move |conn| {
            let rows = conn
                .prepare_cached("DELETE FROM oauth_states WHERE expires_at <= ?1")?
                .execute([now])?;
            Ok(rows as u64)
        })
        .await
    }

    async fn locked_until(&self, keys: &[String], now: i64) -> StoreResult<Option<i64>> {
        if keys.is_empty() {
            return Ok(None);
        }
        let keys = keys.to_vec();
        let until: Option<i64> = self
            .read(move |conn| {
                let sql = format!(
                    "SELECT MAX(locked_until) FROM signin_failures WHERE key IN ({})",
                    failure_limits::placeholders(1, keys.len())
                );
                Ok(conn
                    .prepare_cached(&sql)?
                    .query_row(params_from_iter(&keys), |r| r.get(0))?)
            })
            .await?;
        Ok(until.filter(|&u| u > now))
    }

    async fn take_failure_slots(
        &self,
        keys: &[(String, FailureLimit)],
        now: i64,
    ) -> StoreResult<FailureSlots> {
        let keys = keys.to_vec();
        self.write(move |conn| failure_limits::take_slots(conn, &keys, now))
            .await
    }

    async fn settle_failure_slots(
        &self,
        keys: &[(String, FailureLimit, Settle)],
        now: i64,
    ) -> StoreResult<()> {
        let keys = keys.to_vec();
        self.write(move |conn| {
            let names: Vec<&str> = keys.iter().map(|(k, _, _)| k.as_str()).collect();
            let counts = failure_limits::failure_counts(conn, &names)?;
            let settled: Vec<(&str, FailureCount)> = keys
                .iter()
                .zip(counts)
                .map(|((key, limit, how), count)| (key.as_str(), limit.settle(count, *how, now)))
                .collect();
            failure_limits::write_failure_counts(conn, &settled)
        })
        .await
    }

    async fn purge_idle_failure_counters(&self, before: i64) -> StoreResult<u64> {
        self.write(move |conn| {
            let rows = conn
                .prepare_cached(
                    "DELETE FROM signin_failures WHERE (pending = 0 OR pending_until < ?1) \
                     AND locked_until < ?1 AND window_started_at < ?1",
                )?
                .execute([before])?;
            Ok(rows as u64)
        })
        .await
    }

    async fn sign_in_returning(&self, sign_in: &ReturningSignIn) -> StoreResult<Returned> {
        let s = sign_in.clone();
        let meta = stored_meta(&s.identity);
        let returned = self
            .write(move |conn| {
                sign_in_bound(conn, &s.identity, &meta, s.sync_profile, &s.start, s.now)
            })
            .await?;
        if let Returned::SignedIn(user) = &returned {
            self.forget_if_renamed(user, sign_in.now);
        }
        Ok(returned)
    }

    async fn sign_in_first_time(&self, sign_in: &FirstSignIn) -> StoreResult<Resolved> {
        let s = sign_in.clone();
        let meta = stored_meta(&s.identity);
        let resolved = self.write(move |conn| first_time(conn, &s, &meta)).await?;
        if let Resolved::Bound(user) = &resolved {
            self.forget_if_renamed(user, sign_in.now);
        }
        Ok(resolved)
    }

    async fn link_identity(
        &self,
        user_id: i64,
        identity: &ExternalIdentity,
        audit: &NewAuditEntry,
        now: i64,
    ) -> StoreResult<LinkOutcome> {
        let (identity, audit) = (identity.clone(), audit.clone());
        let meta = stored_meta(&identity);
        let outcome = self
            .write(move |conn| link_to_account(conn, user_id, &identity, &meta, &audit, now))
            .await?;
        self.caches.forget_identities(user_id);
        Ok(outcome)
    }
}

impl SqliteStore {
    /// A profile sync that renamed the user stamped `updated_at` with the sign-in's time:
    /// their cached contexts hold the old nickname.
    fn forget_if_renamed(&self, user: &authgate_core::model::User, now: i64) {
        if user.updated_at == now {
            self.caches.forget_user(user.id);
        }
    }
}

/// A first-time identity: bound meanwhile (then as a returning user), else matched by the
/// candidates and linked, else signed up.
fn first_time(conn: &Connection, s: &FirstSignIn, meta: &str) -> Result<Resolved, DbError> {
    match sign_in_bound(conn, &s.identity, meta, s.sync_profile, &s.start, s.now)? {
        Returned::SignedIn(user) => return Ok(Resolved::Bound(user)),
        Returned::Disabled(user) => return Ok(Resolved::Disabled(user)),
        Returned::NotBound => {}
    }
    let matches = users_matching(conn, &s.candidates)?;
    match matches.as_slice() {
        [] => sign_up(conn, s, meta),
        [(user_id, field)] => link(conn, s, meta, *user_id, field),
        _ => Ok(Resolved::Ambiguous {
            fields: matches.iter().map(|(_, field)| *field).collect(),
        }),
    }
}

/// The identity's binding, if any: a disabled user is reported, an enabled one has their
/// profile brought up to date (when `sync_profile`) and is signed in.
fn sign_in_bound(
    conn: &Connection,
    identity: &ExternalIdentity,
    meta: &str,
    sync_profile: bool,
    start: &SessionStart,
    now: i64,
) -> Result<Returned, DbError> {
    let found = conn
        .prepare_cached(BOUND_USER_SELECT)?
        .query_row((&identity.authenticator, &identity.uuid), rows::bound_user)
        .optional()?;
    let Some((mut user, stored)) = found else {
        return Ok(Returned::NotBound);
    };
    if !user.enabled {
        return Ok(Returned::Disabled(user));
    }
    if sync_profile {
        // Most sign-ins change nothing, and then nothing but the session is written.
        let changes = ProfileChanges::between(&stored, identity, meta);
        if changes.identity {
            conn.prepare_cached(
                "UPDATE identities SET nickname = ?3, avatar = ?4, meta = ?5, updated_at = ?6 \
                 WHERE authenticator = ?1 AND uuid = ?2",
            )?
            .execute((
                &identity.authenticator,
                &identity.uuid,
                &identity.nickname,
                &identity.avatar,
                meta,
                now,
            ))?;
        }
        if let Some(nickname) = &changes.user_nickname {
            let sql = format!(
                "UPDATE users SET nickname = ?2, updated_at = ?3 WHERE id = ?1 \
                 RETURNING {USER_COLUMNS}"
            );
            user = conn
                .prepare_cached(&sql)?
                .query_row((user.id, nickname, now), rows::user_row)?;
        }
    }
    start_session(conn, start, user.id, SignedInBy::Binding)?;
    Ok(Returned::SignedIn(user))
}

/// The users the candidates point at, each once, in the candidates' order, with the field
/// that found them.
fn users_matching(
    conn: &Connection,
    candidates: &[MatchCandidate],
) -> Result<Vec<(i64, &'static str)>, DbError> {
    let mut found: Vec<(i64, &'static str)> = Vec::new();
    for candidate in candidates {
        let id = user_holding(conn, candidate)?;
        if let Some(id) = id.filter(|id| !found.iter().any(|(f, _)| f == id)) {
            found.push((id, candidate.field()));
        }
    }
    Ok(found)
}

/// The user whose phone or e-mail is the candidate's value.
fn user_holding(conn: &Connection, candidate: &MatchCandidate) -> Result<Option<i64>, DbError> {
    let sql = match candidate {
        MatchCandidate::Phone(_) => "SELECT id FROM users WHERE phone = ?1 LIMIT 1",
        MatchCandidate::Email { .. } => "SELECT id FROM users WHERE email = ?1 LIMIT 1",
    };
    Ok(conn
        .prepare_cached(sql)?
        .query_row([candidate.value()], |r| r.get(0))
        .optional()?)
}

/// Links the identity to the one user a candidate found through `field`, and signs them in,
/// unless the user may not be linked this way.
fn link(
    conn: &Connection,
    s: &FirstSignIn,
    meta: &str,
    user_id: i64,
    field: &'static str,
) -> Result<Resolved, DbError> {
    let Some(user) = user_by_id(conn, user_id)? else {
        return Ok(Resolved::NotFound);
    };
    if !user.enabled {
        return Ok(Resolved::Disabled(user));
    }
    // Not this identity: its binding would have been found first, in this same transaction.
    let has_another = conn
        .prepare_cached("SELECT 1 FROM identities WHERE authenticator = ?1 AND user_id = ?2")?
        .exists((&s.identity.authenticator, user.id))?;
    if has_another {
        return Ok(Resolved::AlreadyLinked { field });
    }
    // A matching phone or address proves less than the account's own password: an
    // administrator is never linked by it, others only if the option allows.
    if user.is_admin || (s.link_requires_password && user.password_hash.is_some()) {
        return Ok(Resolved::LinkRefused {
            field,
            admin: user.is_admin,
        });
    }
    insert_identity(conn, &s.identity, meta, user.id, s.now)?;
    start_session(conn, &s.start, user.id, SignedInBy::Link { field })?;
    Ok(Resolved::Linked { user, field })
}

/// Creates the user (when sign-up is on), binds the identity to them and signs them in.
fn sign_up(conn: &Connection, s: &FirstSignIn, meta: &str) -> Result<Resolved, DbError> {
    let Some(new) = &s.sign_up else {
        return Ok(Resolved::NotFound);
    };
    let new = without_taken_values(conn, new, &s.candidates)?;
    let user = insert_user(conn, &new, s.now)?;
    insert_identity(conn, &s.identity, meta, user.id, s.now)?;
    start_session(conn, &s.start, user.id, SignedInBy::SignUp)?;
    Ok(Resolved::SignedUp(user))
}

/// `new` without the username, e-mail or phone another user holds: left out rather than
/// failing the sign-up. The candidates' values matched no one a moment ago, in this same
/// transaction: they are not looked up again.
fn without_taken_values(
    conn: &Connection,
    new: &NewUser,
    candidates: &[MatchCandidate],
) -> Result<NewUser, DbError> {
    let was_candidate = |value: &str, phone: bool| {
        candidates
            .iter()
            .any(|c| matches!(c, MatchCandidate::Phone(_)) == phone && c.value() == value)
    };
    let taken = |sql: &str, value: &str| -> Result<bool, DbError> {
        Ok(conn.prepare_cached(sql)?.exists([value])?)
    };
    let mut new = new.clone();
    if let Some(phone) = &new.phone {
        if !was_candidate(phone, true) && taken("SELECT 1 FROM users WHERE phone = ?1", phone)? {
            new.phone = None;
        }
    }
    if let Some(email) = &new.email {
        if !was_candidate(email, false) && taken("SELECT 1 FROM users WHERE email = ?1", email)? {
            new.email = None;
        }
    }
    if let Some(username) = &new.username {
        if taken(
            "SELECT 1 FROM users WHERE lower(username) = lower(?1)",
            username,
        )? {
            new.username = None;
        }
    }
    Ok(new)
}

/// The binding of `identity` to `user_id`.
fn insert_identity(
    conn: &Connection,
    identity: &ExternalIdentity,
    meta: &str,
    user_id: i64,
    now: i64,
) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT INTO identities (authenticator, uuid, user_id, nickname, avatar, meta, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
    )?
    .execute((
        &identity.authenticator,
        &identity.uuid,
        user_id,
        &identity.nickname,
        &identity.avatar,
        meta,
        now,
    ))?;
    Ok(())
}

/// The session a sign-in of `user_id` found `by` starts: its rows and its audit entries.
fn start_session(
    conn: &Connection,
    start: &SessionStart,
    user_id: i64,
    by: SignedInBy,
) -> Result<(), DbError> {
    let (session, token) = start.for_user(user_id);
    insert_session_rows(conn, &session, &token, &start.audit_for(user_id, by))
}

/// Links `identity` to the signed-in user `user_id` (from their account page), with its
/// audit entry; refused when either side is linked already.
fn link_to_account(
    conn: &Connection,
    user_id: i64,
    identity: &ExternalIdentity,
    meta: &str,
    audit: &NewAuditEntry,
    now: i64,
) -> Result<LinkOutcome, DbError> {
    let bound_to: Option<i64> = conn
        .prepare_cached("SELECT user_id FROM identities WHERE authenticator = ?1 AND uuid = ?2")?
        .query_row((&identity.authenticator, &identity.uuid), |r| r.get(0))
        .optional()?;
    match bound_to {
        Some(id) if id == user_id => return Ok(LinkOutcome::AlreadyYours),
        Some(_) => return Ok(LinkOutcome::LinkedToAnother),
        None => {}
    }
    let enabled: Option<bool> = conn
        .prepare_cached("SELECT enabled FROM users WHERE id = ?1")?
        .query_row([user_id], |r| r.get(0))
        .optional()?;
    if enabled != Some(true) {
        return Ok(LinkOutcome::UserGone);
    }
    let has_another = conn
        .prepare_cached("SELECT 1 FROM identities WHERE authenticator = ?1 AND user_id = ?2")?
        .exists((&identity.authenticator, user_id))?;
    if has_another {
        return Ok(LinkOutcome::HasAnother);
    }
    match insert_identity(conn, identity, meta, user_id, now) {
        // The identity's binding is unique: someone else holds it.
        Err(DbError::Sqlite(e)) if is_unique_violation(&e) => {
            return Ok(LinkOutcome::LinkedToAnother)
        }
        other => other?,
    }
    insert_audit(conn, audit)?;
    Ok(LinkOutcome::Linked)
}
