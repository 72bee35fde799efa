//! Sign-in failure limits per account and per client IP, counted in the database so that
//! every node sees the same numbers.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use authgate_core::clock::now_ms;

pub struct FailureKeys {
    pub account: String,
    pub ip: String,
}

impl FailureKeys {
    pub fn new(authenticator: &str, account: &str, ip: &str) -> Self {
        Self {
            account: format!("account:{authenticator}:{}", account.trim().to_lowercase()),
            ip: format!("ip:{ip}"),
        }
    }
}

/// 429 with Retry-After while either key is locked.
pub async fn ensure_not_locked(state: &AppState, keys: &FailureKeys) -> ApiResult<()> {
    let now = now_ms();
    let locked = state
        .store
        .locked_until(&[keys.account.clone(), keys.ip.clone()], now)
        .await?;
    match locked {
        Some(until) => {
            let secs = (until - now + 999) / 1000;
            let minutes = (secs + 59) / 60;
            Err(ApiError::too_many(
                secs,
                format!(
                    "Too many failed sign-in attempts. Please try again in {minutes} minute{}",
                    if minutes == 1 { "" } else { "s" }
                ),
            ))
        }
        None => Ok(()),
    }
}

pub async fn record_failure(state: &AppState, keys: &FailureKeys) -> ApiResult<()> {
    let now = now_ms();
    state
        .store
        .record_failure(&keys.account, state.config.account_failures, now)
        .await?;
    state
        .store
        .record_failure(&keys.ip, state.config.ip_failures, now)
        .await?;
    Ok(())
}

/// A successful sign-in forgives the account's earlier failures (not the IP's).
pub async fn clear_account(state: &AppState, keys: &FailureKeys) -> ApiResult<()> {
    Ok(state.store.clear_failures(&keys.account).await?)
}
