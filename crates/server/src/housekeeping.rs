//! Work no request waits for, run by each node in the background: at start and then every
//! minute or every few minutes. Several nodes doing it at once is harmless (each deletion is
//! idempotent).

use crate::state::AppState;
use authgate_core::clock::now_ms;
use std::time::Duration;

/// Expired OAuth states (each sign-in started and never finished leaves one), and expired
/// OpenID Connect grants and revoked-token records.
const OAUTH_STATES_EVERY: Duration = Duration::from_secs(60);
const FAILURE_COUNTERS_EVERY: Duration = Duration::from_secs(600);

pub fn start(state: AppState) {
    let states = state.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(OAUTH_STATES_EVERY);
        loop {
            ticks.tick().await;
            purge_expired_oauth_states(&states).await;
            purge_expired_oidc(&states).await;
        }
    });
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(FAILURE_COUNTERS_EVERY);
        loop {
            ticks.tick().await;
            purge_idle_failure_counters(&state).await;
        }
    });
}

async fn purge_expired_oauth_states(state: &AppState) {
    match state.store.purge_expired_oauth_states(now_ms()).await {
        Ok(0) => {}
        Ok(n) => tracing::debug!(deleted = n, "purged expired OAuth states"),
        Err(e) => tracing::warn!(error = %e, "could not purge expired OAuth states"),
    }
}

async fn purge_expired_oidc(state: &AppState) {
    match state.store.purge_expired_oidc(now_ms()).await {
        Ok(0) => {}
        Ok(n) => tracing::debug!(deleted = n, "purged expired OpenID Connect grants"),
        Err(e) => tracing::warn!(error = %e, "could not purge expired OpenID Connect grants"),
    }
}

/// Failure counters nobody has touched for twice the longest window or lock: by then they hold
/// no failure, lock or strike that still counts.
async fn purge_idle_failure_counters(state: &AppState) {
    let c = &state.config;
    let longest = [c.account_failures, c.account_total_failures, c.ip_failures]
        .iter()
        .map(|l| l.window_ms.max(l.max_lock_ms))
        .max()
        .unwrap_or_default();
    let before = now_ms().saturating_sub(longest.saturating_mul(2));
    match state.store.purge_idle_failure_counters(before).await {
        Ok(0) => {}
        Ok(n) => tracing::debug!(deleted = n, "purged idle sign-in failure counters"),
        Err(e) => tracing::warn!(error = %e, "could not purge sign-in failure counters"),
    }
}
