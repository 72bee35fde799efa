//! The sign-in path ([`SignInStore`]): one-time OAuth states, failure limits
//! (`sign_in/failure_limits.rs`) and external identities.
//!
//! An identity signs in the shortest way that is safe:
//! - a returning user whose profile has not changed, and a first sign-in that signs up (the
//!   identity unbound, no candidate matching anyone): one statement each
//!   (`sign_in/one_statement.rs`);
//! - anything else (a changed profile, a match to link or report, a race lost): one
//!   transaction (`sign_in/in_transaction.rs`), attempted again from scratch when a concurrent
//!   sign-in got there first, up to [`ATTEMPTS`] times.

mod failure_limits;
mod in_transaction;
mod one_statement;
#[cfg(test)]
mod tests;

use crate::connection::Db;
use crate::rows::{self, OAUTH_STATE_COLUMNS};
use crate::PgStore;
use async_trait::async_trait;
use authgate_core::audit::NewAuditEntry;
use authgate_core::failure_limit::{FailureLimit, Settle};
use authgate_store::{
    stored_meta, ConsumedState, ExternalIdentity, FailureSlots, FirstSignIn, LinkOutcome,
    OAuthState, Resolved, Returned, ReturningSignIn, SignInStore, StoreError, StoreResult,
};
use one_statement::Returning;
use std::future::Future;

/// Attempts of a resolution that loses races (several nodes resolving one identity at once).
const ATTEMPTS: u32 = 8;

#[async_trait]
impl SignInStore for PgStore {
    async fn create_oauth_state(&self, s: &OAuthState) -> StoreResult<()> {
        self.conn()
            .await?
            .execute(
                "INSERT INTO oauth_states (state_hash, authenticator, redirect, binding_hash, \
                 created_at, expires_at, link_user_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &s.state_hash,
                    &s.authenticator,
                    &s.redirect,
                    &s.binding_hash,
                    &s.created_at,
                    &s.expires_at,
                    &s.link_user_id,
                ],
            )
            .await?;
        Ok(())
    }

    async fn consume_oauth_state(&self, state_hash: &str, now: i64) -> StoreResult<ConsumedState> {
        let sql = format!(
            "DELETE FROM oauth_states WHERE state_hash = $1 RETURNING {OAUTH_STATE_COLUMNS}"
        );
        let taken = self.conn().await?.query_opt(&sql, &[&state_hash]).await?;
        let Some(row) = taken else {
            return Ok(ConsumedState::Unknown);
        };
        let state = rows::oauth_state(&row)?;
        Ok(if state.expires_at <= now {
            ConsumedState::Expired(state)
        } else {
            ConsumedState::Valid(state)
        })
    }

    async fn purge_expired_oauth_states(&self, now: i64) -> StoreResult<u64> {
        self.conn()
            .await?
            .execute("DELETE FROM oauth_states WHERE expires_at <= $1", &[&now])
            .await
    }

    async fn locked_until(&self, keys: &[String], now: i64) -> StoreResult<Option<i64>> {
        let row = self
            .conn()
            .await?
            .query_one(
                "SELECT MAX(locked_until) AS until FROM signin_failures WHERE key = ANY($1)",
                &[&keys],
            )
            .await?;
        let until: Option<i64> = rows::get(&row, "until")?;
        Ok(until.filter(|&u| u > now))
    }

    async fn take_failure_slots(
        &self,
        keys: &[(String, FailureLimit)],
        now: i64,
    ) -> StoreResult<FailureSlots> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        failure_limits::take(tx, keys, now).await
    }

    async fn settle_failure_slots(
        &self,
        keys: &[(String, FailureLimit, Settle)],
        now: i64,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        failure_limits::settle(tx, keys, now).await
    }

    async fn purge_idle_failure_counters(&self, before: i64) -> StoreResult<u64> {
        self.conn()
            .await?
            .execute(
                "DELETE FROM signin_failures WHERE (pending = 0 OR pending_until < $1) \
                 AND locked_until < $1 AND window_started_at < $1",
                &[&before],
            )
            .await
    }

    async fn sign_in_returning(&self, r: &ReturningSignIn) -> StoreResult<Returned> {
        let meta = stored_meta(&r.identity);
        let quick = one_statement::sign_in_returning(&mut self.conn().await?, r, &meta).await?;
        match quick {
            Returning::NotBound => Ok(Returned::NotBound),
            Returning::SignedIn(user) => Ok(Returned::SignedIn(user)),
            Returning::Undecided(user) if !user.enabled => Ok(Returned::Disabled(user)),
            // The profile changed: written with the session, in a transaction.
            Returning::Undecided(_) => {
                retrying_lost_races(|| self.returning_in_transaction(r, &meta)).await
            }
        }
    }

    async fn sign_in_first_time(&self, r: &FirstSignIn) -> StoreResult<Resolved> {
        let meta = stored_meta(&r.identity);
        if let Some(new) = &r.sign_up {
            let signed_up = one_statement::sign_up(&mut self.conn().await?, r, new, &meta).await;
            match signed_up {
                Ok(Some(user)) => return Ok(Resolved::SignedUp(user)),
                // Bound meanwhile, or a candidate matches: the transaction decides.
                Ok(None) => {}
                // A concurrent sign-in got a unique value first: the transaction finds it.
                Err(e) if lost_race(&e) => tracing::debug!("one-statement sign-up lost: {e}"),
                Err(e) => return Err(e),
            }
        }
        retrying_lost_races(|| self.first_time_in_transaction(r, &meta)).await
    }

    async fn link_identity(
        &self,
        user_id: i64,
        identity: &ExternalIdentity,
        audit: &NewAuditEntry,
        now: i64,
    ) -> StoreResult<LinkOutcome> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let outcome = in_transaction::link(tx, user_id, identity, audit, now).await?;
        self.caches.forget_identities(user_id);
        Ok(outcome)
    }
}

impl PgStore {
    /// One attempt of a returning sign-in's transaction.
    async fn returning_in_transaction(
        &self,
        r: &ReturningSignIn,
        meta: &str,
    ) -> StoreResult<Returned> {
        let mut conn = self.conn().await?;
        let mut tx = conn.transaction().await?;
        let returned = in_transaction::sign_in_bound(
            &mut tx,
            &r.identity,
            meta,
            r.sync_profile,
            &r.start,
            r.now,
        )
        .await?;
        tx.commit().await?;
        // The profile sync may have renamed the user.
        if let Returned::SignedIn(user) = &returned {
            self.caches.forget_user(user.id);
        }
        Ok(returned)
    }

    /// One attempt of a first sign-in's transaction.
    async fn first_time_in_transaction(
        &self,
        r: &FirstSignIn,
        meta: &str,
    ) -> StoreResult<Resolved> {
        let mut conn = self.conn().await?;
        let mut tx = conn.transaction().await?;
        let resolved = in_transaction::resolve_first_time(&mut tx, r, meta).await?;
        tx.commit().await?;
        // The profile sync may have renamed the user.
        if let Resolved::Bound(user) = &resolved {
            self.caches.forget_user(user.id);
        }
        Ok(resolved)
    }
}

/// Runs `attempt` until it succeeds, fails for another reason than a race lost, or has been
/// made [`ATTEMPTS`] times.
async fn retrying_lost_races<T, F, Fut>(mut attempt: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    let mut made = 1;
    loop {
        match attempt().await {
            Err(e) if made < ATTEMPTS && lost_race(&e) => made += 1,
            done => return done,
        }
    }
}

/// A concurrent writer got there first (a unique value), or the database asked to retry (a
/// deadlock, a serialization failure): a fresh attempt sees the winner's rows.
fn lost_race(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict(_) | StoreError::Busy(_))
}
