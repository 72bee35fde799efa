//! A per-key request budget for endpoints that write something on every call without
//! signing anyone in (`dingtalk:getAuthUrl` stores a state row each time): at most `limit`
//! calls per key in each `window`. Counted in this process only: the budget bounds what one
//! client can make one node write, and N nodes simply allow N times as much.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept before windows that ended are swept out; if all are in use, a new key is refused
/// (a flood of made-up keys must not grow memory, nor make every call sweep).
const SWEEP_AT: usize = 100_000;

pub struct RateLimit {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
    last_sweep: Mutex<Option<Instant>>,
}

impl RateLimit {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            windows: Mutex::new(HashMap::new()),
            last_sweep: Mutex::new(None),
        }
    }

    /// Counts one call for `key`: `Err(seconds to wait)` when its budget is spent.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        self.check_at(key, Instant::now())
    }

    /// `Some(seconds to wait)` when `key`'s budget is spent, without counting a call.
    pub fn spent(&self, key: &str) -> Option<u64> {
        let now = Instant::now();
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let (started, count) = windows.get(key)?;
        let left = self.window.checked_sub(now.duration_since(*started))?;
        (*count >= self.limit).then(|| left.as_secs().max(1))
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= SWEEP_AT && !windows.contains_key(key) {
            let mut last_sweep = self.last_sweep.lock().unwrap_or_else(|e| e.into_inner());
            if last_sweep.is_none_or(|at| now.duration_since(at) >= self.window / 60) {
                windows.retain(|_, (started, _)| now.duration_since(*started) < self.window);
                *last_sweep = Some(now);
            }
            if windows.len() >= SWEEP_AT {
                return Err(self.window.as_secs().max(1));
            }
        }
        let (started, count) = windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(*started) >= self.window {
            *started = now;
            *count = 0;
        }
        if *count >= self.limit {
            let left = self.window.saturating_sub(now.duration_since(*started));
            return Err(left.as_secs().max(1));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_budget_per_window_and_others_are_not_affected() {
        let limit = RateLimit::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limit.check_at("a", t0), Ok(()));
        }
        assert_eq!(limit.check_at("a", t0 + Duration::from_secs(20)), Err(40));
        assert_eq!(limit.check_at("b", t0), Ok(()));
        assert_eq!(limit.check_at("a", t0 + Duration::from_secs(60)), Ok(()));
    }

    #[test]
    fn ended_windows_are_swept_out_and_live_ones_cap_the_keys() {
        let limit = RateLimit::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..SWEEP_AT {
            limit.check_at(&i.to_string(), t0).unwrap();
        }
        // All in use: a new key is refused, a known one still counted.
        assert!(limit.check_at("new", t0 + Duration::from_secs(1)).is_err());
        assert!(limit.check_at("0", t0 + Duration::from_secs(61)).is_ok());
        limit
            .check_at("late", t0 + Duration::from_secs(62))
            .unwrap();
        assert_eq!(limit.windows.lock().unwrap().len(), 2);
    }
}
