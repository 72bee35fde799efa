//! A bounded map whose entries expire: codes and tokens must not grow memory under load.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

pub(crate) struct ExpiringMap<V> {
    entries: HashMap<String, (V, Instant)>,
    /// Insertion order; with one lifetime per map this is also expiry order.
    order: VecDeque<(String, Instant)>,
    capacity: usize,
}

impl<V> ExpiringMap<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn insert(&mut self, key: String, value: V, ttl: Duration) {
        let now = Instant::now();
        self.prune(now);
        let expires = now + ttl;
        self.order.push_back((key.clone(), expires));
        self.entries.insert(key, (value, expires));
    }

    /// Removes and returns a live entry (single use).
    pub(crate) fn take(&mut self, key: &str) -> Option<V> {
        let (value, expires) = self.entries.remove(key)?;
        (expires > Instant::now()).then_some(value)
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        let (value, expires) = self.entries.get(key)?;
        (*expires > Instant::now()).then_some(value)
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }

    /// Drops expired entries, and the oldest ones once at capacity.
    fn prune(&mut self, now: Instant) {
        while let Some((_, expires)) = self.order.front() {
            if *expires > now && self.order.len() < self.capacity {
                break;
            }
            if let Some((key, expires)) = self.order.pop_front() {
                // The key may have been taken (and even reused) since; only drop this very entry.
                if self.entries.get(&key).is_some_and(|(_, e)| *e == expires) {
                    self.entries.remove(&key);
                }
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_bounded_and_expires() {
        let mut map = ExpiringMap::new(3);
        for i in 0..10 {
            map.insert(format!("k{i}"), i, Duration::from_secs(60));
        }
        assert!(map.len() <= 3);
        assert_eq!(map.get("k9"), Some(&9));
        assert_eq!(map.get("k0"), None);

        map.insert("short".into(), 1, Duration::ZERO);
        assert_eq!(map.take("short"), None);
    }
}
