//! Per-app cache of app access tokens: DingTalk rate-limits fetching them, so each app has at
//! most one fetch in flight and concurrent callers share its outcome.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::secret::ClientCredentials;
use crate::types::AppAccessToken;

/// A token is replaced this long before DingTalk says it expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

struct Cached {
    token: String,
    /// The secret it was fetched with: a changed secret must not reuse it.
    secret_fingerprint: [u8; 32],
    refresh_at: Instant,
}

#[derive(Default)]
struct Slot {
    cached: Mutex<Option<Cached>>,
    /// Held while fetching: the "single flight".
    fetch_gate: tokio::sync::Mutex<Option<Error>>,
    /// Number of fetches completed, so a waiter can tell that one finished while it waited.
    fetches: AtomicU64,
}

impl Slot {
    fn valid_token(&self, fingerprint: &[u8; 32]) -> Option<String> {
        let cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        cached
            .as_ref()
            .filter(|c| &c.secret_fingerprint == fingerprint && Instant::now() < c.refresh_at)
            .map(|c| c.token.clone())
    }
}

#[derive(Default)]
pub(crate) struct AppTokenCache {
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

impl AppTokenCache {
    fn slot(&self, client_id: &str) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(client_id.to_owned()).or_default().clone()
    }

    /// The cached token, or the result of `fetch` (run by one caller at a time per app).
    pub(crate) async fn get_or_fetch<F, Fut>(
        &self,
        creds: &ClientCredentials,
        fetch: F,
    ) -> Result<String>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AppAccessToken>>,
    {
        let fingerprint = creds.client_secret.fingerprint();
        let slot = self.slot(&creds.client_id);
        if let Some(token) = slot.valid_token(&fingerprint) {
            return Ok(token);
        }
        let fetches_seen = slot.fetches.load(Ordering::Acquire);
        let mut last_error = slot.fetch_gate.lock().await;
        // Whoever held the gate before us may have fetched what we need.
        if let Some(token) = slot.valid_token(&fingerprint) {
            return Ok(token);
        }
        if slot.fetches.load(Ordering::Acquire) != fetches_seen {
            if let Some(err) = last_error.as_ref() {
                // The fetch we waited for failed: share its error instead of hammering DingTalk.
                return Err(err.clone());
            }
        }
        let result = fetch().await;
        match &result {
            Ok(token) => {
                *last_error = None;
                let lifetime = Duration::from_secs(token.expire_in);
                let early = if lifetime > REFRESH_MARGIN * 2 {
                    lifetime - REFRESH_MARGIN
                } else {
                    lifetime / 2
                };
                let mut cached = slot.cached.lock().unwrap_or_else(|p| p.into_inner());
                *cached = Some(Cached {
                    token: token.access_token.clone(),
                    secret_fingerprint: fingerprint,
                    refresh_at: Instant::now() + early,
                });
            }
            Err(err) => *last_error = Some(err.clone()),
        }
        slot.fetches.fetch_add(1, Ordering::AcqRel);
        result.map(|t| t.access_token)
    }

    /// Forgets the app's token.
    pub(crate) fn invalidate(&self, client_id: &str) {
        let slot = self.slot(client_id);
        *slot.cached.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Forgets the app's token only if it is still `token` (another caller may have refreshed it).
    pub(crate) fn invalidate_if(&self, client_id: &str, token: &str) {
        let slot = self.slot(client_id);
        let mut cached = slot.cached.lock().unwrap_or_else(|p| p.into_inner());
        if cached.as_ref().is_some_and(|c| c.token == token) {
            *cached = None;
        }
    }
}
