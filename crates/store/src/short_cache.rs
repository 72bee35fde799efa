//! A short-lived, per-node cache of hot reads: token contexts (token + session + user, the read
//! behind every authenticated request), authenticators (read by every sign-in), the token
//! policy (read by every session issued or renewed), OpenID Connect clients (read by every OIDC
//! request), access token contexts (read by every OIDC resource request) and the access rules
//! (read by every forward-auth check). An entry
//! lives at most [`TTL`], so a change made by another node (or the CLI) is seen within it,
//! inside DESIGN's 1 s promise; a change made through this store forgets the entries it may
//! have changed at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_millis(500);
/// Stale entries are swept when the map grows past this (then past twice what survived).
const FIRST_SWEEP: usize = 1_024;

struct Entry<V> {
    read_at: Instant,
    value: V,
}

struct Entries<V> {
    map: HashMap<String, Entry<V>>,
    sweep_at: usize,
}

pub struct ShortCache<V> {
    entries: Mutex<Entries<V>>,
    /// Bumped by every local write that can change a value: a read that started before it is
    /// not kept (it may predate the write).
    generation: AtomicU64,
    /// Bounded: when full even after dropping stale entries, everything is dropped and re-read
    /// (hot keys refill it within one TTL).
    max_entries: usize,
}

impl<V: Clone> ShortCache<V> {
    pub fn new(max_entries: usize) -> Self {
        Self {
            entries: Mutex::new(Entries {
                map: HashMap::new(),
                sweep_at: 0,
            }),
            generation: AtomicU64::new(0),
            max_entries,
        }
    }

    /// Take this before reading the database; hand it to [`ShortCache::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn get(&self, key: &str) -> Option<V> {
        let entries = self.entries.lock().expect("not poisoned");
        let e = entries.map.get(key)?;
        (e.read_at.elapsed() < TTL).then(|| e.value.clone())
    }

    /// Keeps what was read, unless a local write happened since `generation` was taken (the
    /// read may predate it).
    pub fn put(&self, key: &str, value: &V, generation: u64) {
        let mut entries = self.entries.lock().expect("not poisoned");
        if generation != self.generation() {
            return;
        }
        if entries.map.len() >= entries.sweep_at.max(FIRST_SWEEP.min(self.max_entries)) {
            // Only keys read within the last TTL are worth keeping.
            entries.map.retain(|_, e| e.read_at.elapsed() < TTL);
            if entries.map.len() >= self.max_entries {
                entries.map.clear();
            }
            entries.sweep_at = entries.map.len() * 2;
        }
        entries.map.insert(
            key.to_string(),
            Entry {
                read_at: Instant::now(),
                value: value.clone(),
            },
        );
    }

    /// After a write that may change any cached value.
    pub fn forget_all(&self) {
        self.forget_where(|_| true);
    }

    /// After a write that may change the values `changed` picks; the others stay.
    pub fn forget_where(&self, changed: impl Fn(&V) -> bool) {
        let mut entries = self.entries.lock().expect("not poisoned");
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.map.retain(|_, e| !changed(&e.value));
    }
}

/// What each store keeps: token contexts by jti, authenticators (or their absence) by name,
/// the token policy (one entry), OIDC clients (or their absence) by id, and access token
/// contexts by [`access_key`].
pub struct HotReads {
    pub contexts: ShortCache<crate::TokenContext>,
    pub authenticators: ShortCache<Option<authgate_core::model::Authenticator>>,
    pub policy: ShortCache<authgate_core::token_policy::TokenPolicy>,
    pub oidc_clients: ShortCache<Option<crate::OidcClientRecord>>,
    /// Every OIDC client, under [`ALL_KEY`] (read by every cross-origin OIDC call).
    pub oidc_client_list: ShortCache<Vec<crate::OidcClientRecord>>,
    pub access: ShortCache<crate::AccessTokenContext>,
    /// The access rules, in order, under [`ALL_KEY`].
    pub access_rules: ShortCache<std::sync::Arc<Vec<crate::AccessRuleRecord>>>,
}

/// The one key of the caches that hold a whole list.
pub const ALL_KEY: &str = "";

/// The key of an access token context: its `jti` and the grant asked about, both, since the
/// answer depends on each.
pub fn access_key(jti: &str, grant_id: Option<&str>) -> String {
    // A newline is in neither (both are URL-safe tokens).
    format!("{jti}\n{}", grant_id.unwrap_or(""))
}

impl HotReads {
    /// After a write to user `id` (profile, password, admin, enabled, deletion): token contexts
    /// and OIDC grant contexts carry the user.
    pub fn forget_user(&self, id: i64) {
        self.contexts.forget_where(|c| c.user.id == id);
        self.access
            .forget_where(|c| c.grant.as_ref().is_some_and(|g| g.user.id == id));
    }

    /// After a write to user `id`'s identities (linking, unlinking): access token contexts
    /// carry them for UserInfo. A sign-in's profile sync is not forgotten here: its new
    /// avatar or DingTalk ids reach UserInfo within [`TTL`], as another node's would.
    pub fn forget_identities(&self, user_id: i64) {
        self.access
            .forget_where(|c| c.grant.as_ref().is_some_and(|g| g.user.id == user_id));
    }

    /// After a write to session `id` (revocation). A renewal changes nothing a context is
    /// judged by: the old token's renewal is claimed in the database, whatever the cache says.
    /// OIDC grants given in the session say whether it was revoked.
    pub fn forget_session(&self, id: &str) {
        self.contexts.forget_where(|c| c.session.id == id);
        self.access
            .forget_where(|c| c.grant.as_ref().is_some_and(|g| g.grant.session_id == id));
    }

    /// After a write to grant `id` (revocation, a reuse that revoked it).
    pub fn forget_grant(&self, id: &str) {
        self.access
            .forget_where(|c| c.grant.as_ref().is_some_and(|g| g.grant.id == id));
    }

    /// After a write to user `id`'s grants (revoking them).
    pub fn forget_user_grants(&self, id: i64) {
        self.access
            .forget_where(|c| c.grant.as_ref().is_some_and(|g| g.grant.user_id == id));
    }

    /// After a write to client `id` (creation, update, deletion with its grants). Clients change
    /// rarely: every cached client goes, absences included (they hold no id to pick them by).
    pub fn forget_client(&self, id: &str) {
        self.oidc_clients.forget_all();
        self.oidc_client_list.forget_all();
        self.access
            .forget_where(|c| c.grant.as_ref().is_some_and(|g| g.grant.client_id == id));
    }
}

impl Default for HotReads {
    fn default() -> Self {
        Self {
            contexts: ShortCache::new(50_000),
            // Names come from a request header: unknown ones are cached too, within a bound.
            authenticators: ShortCache::new(256),
            policy: ShortCache::new(1),
            // Ids come from requests: unknown ones are cached too, within a bound.
            oidc_clients: ShortCache::new(1_024),
            access: ShortCache::new(50_000),
            access_rules: ShortCache::new(1),
            oidc_client_list: ShortCache::new(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TokenContext;
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
        let cache = ShortCache::<TokenContext>::new(50_000);
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
    fn forgetting_one_user_keeps_the_others() {
        let cache = HotReads::default();
        let mut other = context();
        other.user.id = 2;
        other.session.id = "s2".into();
        cache
            .contexts
            .put("j", &context(), cache.contexts.generation());
        cache.contexts.put("k", &other, cache.contexts.generation());
        cache.forget_user(1);
        assert!(cache.contexts.get("j").is_none());
        assert!(cache.contexts.get("k").is_some());
        cache.forget_session("s2");
        assert!(cache.contexts.get("k").is_none());
    }

    /// An access token context whose grant `grant_id` is of client `client_id`, given to
    /// user 1 in session `s`.
    fn access(grant_id: &str, client_id: &str) -> crate::AccessTokenContext {
        let user = context().user;
        crate::AccessTokenContext {
            revoked: false,
            grant: Some(crate::GrantContext {
                grant: crate::OidcGrant {
                    id: grant_id.into(),
                    client_id: client_id.into(),
                    user_id: user.id,
                    session_id: "s".into(),
                    offline: false,
                    refreshable: false,
                    scope: "openid".into(),
                    claims: None,
                    nonce: None,
                    auth_time: 0,
                    amr: "pwd".into(),
                    redirect_uri: "https://rp/cb".into(),
                    code_challenge: None,
                    code_hash: format!("{grant_id}-code"),
                    code_expires_at: 1,
                    code_used_at: Some(0),
                    created_at: 0,
                    expires_at: 1,
                    revoked_at: None,
                },
                user,
                session_revoked: false,
            }),
            identities: Vec::new(),
        }
    }

    #[test]
    fn access_contexts_are_forgotten_by_grant_client_user_and_session() {
        let cache = HotReads::default();
        let put = |key: &str, value: &crate::AccessTokenContext| {
            cache.access.put(key, value, cache.access.generation())
        };
        let keys = [access_key("j1", Some("g1")), access_key("j2", Some("g2"))];
        let fill = || {
            put(&keys[0], &access("g1", "app"));
            put(&keys[1], &access("g2", "other"));
            put(&access_key("j3", None), &Default::default());
        };
        let cached = |key: &str| cache.access.get(key).is_some();
        fill();
        cache.forget_grant("g1");
        assert!(!cached(&keys[0]) && cached(&keys[1]));
        fill();
        cache.forget_client("other");
        assert!(cached(&keys[0]) && !cached(&keys[1]));
        let forgets: [&dyn Fn(); 3] = [
            &|| cache.forget_user(1),
            &|| cache.forget_user_grants(1),
            &|| cache.forget_session("s"),
        ];
        for forget in forgets {
            fill();
            forget();
            assert!(!cached(&keys[0]) && !cached(&keys[1]));
            assert!(
                cached(&access_key("j3", None)),
                "no grant: nothing to forget"
            );
        }
        assert_ne!(access_key("j", Some("g")), access_key("j", None));
    }

    #[test]
    fn stale_entries_are_swept_as_the_map_grows() {
        let cache = ShortCache::<TokenContext>::new(50_000);
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
    fn a_full_cache_starts_over() {
        let cache = ShortCache::<TokenContext>::new(4);
        for i in 0..4 {
            cache.put(&format!("k{i}"), &context(), cache.generation());
        }
        cache.put("k4", &context(), cache.generation());
        let entries = cache.entries.lock().unwrap();
        assert_eq!(entries.map.len(), 1, "only the newest entry is left");
        assert!(entries.map.contains_key("k4"));
    }

    #[test]
    fn entries_expire() {
        let cache = ShortCache::<TokenContext>::new(50_000);
        cache.put("j", &context(), cache.generation());
        std::thread::sleep(TTL + Duration::from_millis(20));
        assert!(cache.get("j").is_none());
    }
}
