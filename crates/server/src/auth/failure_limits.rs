//! Password guesses are limited under three keys, counted in the database so that every node
//! sees the same numbers (the counting rule: `authgate_core::failure_limit`):
//! - the account from this client address (`account_max_failures`, then locked for `lockout`):
//!   someone guessing locks out only their own address, not the account's owner;
//! - the account from anywhere (`account_total_max_failures`, a higher threshold, with locks
//!   that start at a minute and double up to `lockout`): guessing spread over many addresses
//!   still stops, while a denial of service against one person stays short at first;
//! - the client address, whatever account it tries (`ip_max_failures`, then `lockout`).
//!
//! The account is the user it resolves to when it exists (username and e-mail share one
//! count), else the text typed.

use crate::error::Text;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use authgate_core::clock::now_ms;
use authgate_core::failure_limit::Settle;
use authgate_store::FailureSlots;
use std::time::{Duration, Instant};

pub struct FailureKeys {
    account_from_ip: String,
    account: String,
    ip: String,
}

impl FailureKeys {
    /// `user_id`: the account's user when it exists; `typed`: what was typed otherwise;
    /// `client`: the client's limit key (`ClientInfo::limit_key`).
    pub fn new(user_id: Option<i64>, typed: &str, client: &str) -> Self {
        let account = match user_id {
            Some(id) => format!("user:{id}"),
            None => format!("typed:{}", typed.trim().to_lowercase()),
        };
        Self {
            account_from_ip: format!("account-ip:{account}:{client}"),
            account: format!("account:{account}"),
            ip: format!("ip:{client}"),
        }
    }
}

/// The slots one attempt holds while its password is checked. Settle them with
/// [`Attempt::succeeded`] or [`Attempt::failed`]; one left unsettled (a crash) is given up
/// after `SLOT_TTL_MS`.
#[must_use = "an attempt's slots must be settled"]
pub struct Attempt {
    keys: FailureKeys,
}

/// How long an attempt waits for a slot held by others being checked before it gives up.
const WAIT_FOR_SLOT: Duration = Duration::from_secs(10);

/// Takes the attempt's slots before the password is checked; 429 with Retry-After when a key
/// is locked (nothing is checked then). While every slot is held by attempts being checked
/// (someone signing in from several tabs at once), it waits its turn.
pub async fn begin(state: &AppState, keys: FailureKeys) -> ApiResult<Attempt> {
    let limits = &state.config;
    let wanted = [
        (keys.account_from_ip.clone(), limits.account_failures),
        (keys.account.clone(), limits.account_total_failures),
        (keys.ip.clone(), limits.ip_failures),
    ];
    // A locked key is seen with a read: a flood of refused guesses writes nothing.
    let names: Vec<String> = wanted.iter().map(|(k, _)| k.clone()).collect();
    let now = now_ms();
    if let Some(until) = state.store.locked_until(&names, now).await? {
        return Err(locked(until - now));
    }
    let started = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        let now = now_ms();
        match state.store.take_failure_slots(&wanted, now).await? {
            FailureSlots::Taken => return Ok(Attempt { keys }),
            FailureSlots::Locked { until } => return Err(locked(until - now)),
            FailureSlots::Busy if started.elapsed() < WAIT_FOR_SLOT => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            FailureSlots::Busy => {
                return Err(ApiError::too_many(
                    1,
                    Text::new(
                        "Too many sign-in attempts at once, please try again in a moment",
                        "同时进行的登录尝试太多，请稍后再试",
                    ),
                ))
            }
        }
    }
}

fn locked(remaining_ms: i64) -> ApiError {
    let secs = (remaining_ms.max(1) + 999) / 1000;
    let minutes = (secs + 59) / 60;
    ApiError::too_many(
        secs,
        Text::new(
            format!(
                "Too many failed sign-in attempts. Please try again in {minutes} minute{}",
                if minutes == 1 { "" } else { "s" }
            ),
            format!("登录失败次数过多，请在 {minutes} 分钟后重试"),
        ),
    )
}

impl Attempt {
    /// The password was right: the slots are freed. (Earlier failures are not wiped: see
    /// `Settle::Freed`.)
    pub async fn succeeded(self, state: &AppState) -> ApiResult<()> {
        self.settle(state, Settle::Freed).await
    }

    /// The password was wrong (or the account cannot sign in): every slot becomes a failure.
    pub async fn failed(self, state: &AppState) -> ApiResult<()> {
        self.settle(state, Settle::Failed).await
    }

    async fn settle(self, state: &AppState, how: Settle) -> ApiResult<()> {
        let c = &state.config;
        let keys = [
            (self.keys.account_from_ip, c.account_failures, how),
            (self.keys.account, c.account_total_failures, how),
            (self.keys.ip, c.ip_failures, how),
        ];
        Ok(state.store.settle_failure_slots(&keys, now_ms()).await?)
    }
}
