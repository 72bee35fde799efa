//! Open connections counted in all and per client address, so that connections over either cap
//! are refused the moment they are accepted.

use crate::config::{ConnectionLimits, TrustedProxies};
use crate::http::client::client_key;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

pub(super) struct ConnectionSlots {
    max_total: usize,
    max_per_client: usize,
    trusted_proxies: TrustedProxies,
    open: Mutex<OpenConnections>,
}

#[derive(Default)]
struct OpenConnections {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// `max_connections` are open.
    Full,
    /// This client already holds `max_connections_per_ip`.
    ClientFull,
}

/// One open connection; dropping it (when the connection ends) frees its place.
pub(super) struct Slot {
    slots: Arc<ConnectionSlots>,
    /// None for trusted proxies, which carry many clients and are not counted per address.
    client: Option<IpAddr>,
}

impl ConnectionSlots {
    pub(super) fn new(limits: &ConnectionLimits, trusted_proxies: TrustedProxies) -> Arc<Self> {
        Arc::new(Self {
            max_total: limits.max_connections,
            max_per_client: limits.max_connections_per_ip,
            trusted_proxies,
            open: Mutex::default(),
        })
    }

    pub(super) fn acquire(self: &Arc<Self>, peer: IpAddr) -> Result<Slot, Refusal> {
        let client = (!self.trusted_proxies.contains(peer)).then(|| client_key(peer));
        let mut open = self.lock();
        if open.total >= self.max_total {
            return Err(Refusal::Full);
        }
        if let Some(client) = client {
            let count = open.per_client.entry(client).or_insert(0);
            if *count >= self.max_per_client {
                return Err(Refusal::ClientFull);
            }
            *count += 1;
        }
        open.total += 1;
        Ok(Slot {
            slots: self.clone(),
            client,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OpenConnections> {
        // The counts stay consistent even if a holder panicked: every change is one step.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn open_count(&self) -> (usize, usize) {
        let open = self.lock();
        (open.total, open.per_client.len())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.lock();
        open.total -= 1;
        if let Some(client) = self.client {
            if let Some(count) = open.per_client.get_mut(&client) {
                *count -= 1;
                if *count == 0 {
                    open.per_client.remove(&client);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(total: usize, per_client: usize) -> Arc<ConnectionSlots> {
        let limits = ConnectionLimits {
            max_connections: total,
            max_connections_per_ip: per_client,
            ..ConnectionLimits::default()
        };
        ConnectionSlots::new(&limits, TrustedProxies::parse(&["10.0.0.1"]).unwrap())
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn one_client_is_capped_and_its_places_come_back() {
        let s = slots(10, 2);
        let a = s.acquire(ip("192.0.2.1")).unwrap();
        let _b = s.acquire(ip("192.0.2.1")).unwrap();
        assert_eq!(s.acquire(ip("192.0.2.1")).err(), Some(Refusal::ClientFull));
        assert!(
            s.acquire(ip("192.0.2.2")).is_ok(),
            "another client still gets in"
        );
        drop(a);
        let _c = s.acquire(ip("192.0.2.1")).unwrap();
    }

    #[test]
    fn the_total_is_capped_and_counters_are_released() {
        let s = slots(2, 5);
        let a = s.acquire(ip("192.0.2.1")).unwrap();
        let b = s.acquire(ip("192.0.2.2")).unwrap();
        assert_eq!(s.acquire(ip("192.0.2.3")).err(), Some(Refusal::Full));
        drop((a, b));
        assert_eq!(
            s.open_count(),
            (0, 0),
            "no counter outlives its connections"
        );
    }

    #[test]
    fn trusted_proxies_count_only_towards_the_total() {
        let s = slots(3, 1);
        let _held: Vec<Slot> = (0..3).map(|_| s.acquire(ip("10.0.0.1")).unwrap()).collect();
        assert_eq!(s.acquire(ip("10.0.0.1")).err(), Some(Refusal::Full));
    }

    #[test]
    fn an_ipv6_client_is_its_64_and_mapped_ipv4_is_ipv4() {
        let s = slots(10, 1);
        let _a = s.acquire(ip("2001:db8:1:2::1")).unwrap();
        assert_eq!(
            s.acquire(ip("2001:db8:1:2:ffff::9")).err(),
            Some(Refusal::ClientFull)
        );
        assert!(s.acquire(ip("2001:db8:1:3::1")).is_ok());
        let _b = s.acquire(ip("192.0.2.1")).unwrap();
        assert_eq!(
            s.acquire(ip("::ffff:192.0.2.1")).err(),
            Some(Refusal::ClientFull)
        );
    }
}
