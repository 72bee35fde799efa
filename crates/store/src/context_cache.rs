//! A short-lived cache of token contexts (token + session + user): the read behind every
//! authenticated request. An entry lives at most [`TTL`], so a revocation or user change made
//! by another node (or the CLI) is seen within it, inside DESIGN's 1 s promise; a change made
//! through this store forgets every entry at once.

use crate::queries::TokenContext;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_millis(500);
/// Bounded: when full even after dropping stale entries, everything is dropped and re-read
/// (live tokens refill it within one TTL).
const MAX_ENTRIES: usize = 50_000;
/// Stale entries are swept when the map grows past this (then past twice what survived).
const FIRST_SWEEP: usize = 1_024;

struct Entry {
    read_at: Instant,
    generation: u64,
    context: TokenContext,
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, Entry>,
    sweep_at: usize,
}

#[derive(Default)]
pub(crate) struct ContextCache {
    entries: Mutex<Entries>,
    /// Bumped by every local write that can change a verdict; older entries are ignored.
    generation: AtomicU64,
}

impl ContextCache {
    /// Take this before reading the database; hand it to [`ContextCache::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn get(&self, jti: &str) -> Option<TokenContext> {
        let entries = self.entries.lock().expect("not poisoned");
        let e = entries.map.get(jti)?;
        (e.read_at.elapsed() < TTL && e.generation == self.generation()).then(|| e.context.clone())
    }

    /// Keeps what was read, unless a local write happened since `generation` was taken (the
    /// read may predate it).
    pub fn put(&self, jti: &str, context: &TokenContext, generation: u64) {
        let mut entries = self.entries.lock().expect("not poisoned");
        if generation != self.generation() {
            return;
        }
        if entries.map.len() >= entries.sweep_at.max(FIRST_SWEEP) {
            // Only tokens used within the last TTL are worth keeping.
            entries.map.retain(|_, e| e.read_at.elapsed() < TTL);
            if entries.map.len() >= MAX_ENTRIES {
                entries.map.clear();
            }
            entries.sweep_at = (entries.map.len() * 2).max(FIRST_SWEEP);
        }
        entries.map.insert(
            jti.to_string(),
            Entry {
                read_at: Instant::now(),
                generation,
                context: context.clone(),
            },
        );
    }

    /// After a write that may end sessions or change users.
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.lock().expect("not poisoned").map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authgate_core::model::{IssuedToken, Session, User};

    fn context() -> TokenContext {
        TokenContext {
            token: IssuedToken {
                jti: "j".into(),
                session_id: "s".into(),
                user_id: 1,
                issued_at: 0,
                expires_at: 1,
                renewed_to: None,
                renewed_at: None,
            },
            session: Session {
                id: "s".into(),
                user_id: 1,
                authenticator: "basic".into(),
                signed_in_at: 0,
                last_renewed_at: None,
                ip: None,
                user_agent: None,
                revoked_at: None,
            },
            user: User {
                id: 1,
                username: Some("u".into()),
                email: None,
                phone: None,
                nickname: None,
                is_admin: false,
                enabled: true,
                password_hash: None,
                password_changed_at: None,
                created_at: 0,
                updated_at: 0,
            },
        }
    }

    #[test]
    fn a_local_write_forgets_entries_and_refuses_reads_that_predate_it() {
        let cache = ContextCache::default();
        let g = cache.generation();
        cache.put("j", &context(), g);
        assert!(cache.get("j").is_some());
        cache.forget_all();
        assert!(cache.get("j").is_none());
        // A read that started before the write must not be kept.
        cache.put("j", &context(), g);
        assert!(cache.get("j").is_none());
        cache.put("j", &context(), cache.generation());
        assert!(cache.get("j").is_some());
    }

    #[test]
    fn stale_entries_are_swept_as_the_map_grows() {
        let cache = ContextCache::default();
        for i in 0..FIRST_SWEEP {
            cache.put(&format!("old{i}"), &context(), cache.generation());
        }
        std::thread::sleep(TTL + Duration::from_millis(20));
        cache.put("new", &context(), cache.generation());
        let entries = cache.entries.lock().unwrap();
        assert_eq!(entries.map.len(), 1, "only the fresh entry is left");
        assert!(entries.map.contains_key("new"));
    }

    #[test]
    fn entries_expire() {
        let cache = ContextCache::default();
        cache.put("j", &context(), cache.generation());
        std::thread::sleep(TTL + Duration::from_millis(20));
        assert!(cache.get("j").is_none());
    }
}
