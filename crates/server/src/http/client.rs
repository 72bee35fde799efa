//! The client's address and user agent, for failure limits, sessions and the audit log.
//!
//! Behind reverse proxies the TCP peer is the nearest proxy. Each proxy appends the address it
//! received the request from to `X-Forwarded-For`, so only the entries appended by trusted
//! proxies are known to be true: everything left of them is whatever the client sent. The client
//! is therefore the right-most entry that is not a trusted proxy, walking from the peer leftwards.

use crate::config::{ServerConfig, TrustedProxies};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, Extensions, HeaderMap, HeaderValue};
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    fn from_parts(headers: &HeaderMap, extensions: &Extensions, config: &ServerConfig) -> Self {
        let ip = match peer_address(extensions) {
            Some(peer) => client_address(
                peer,
                headers.get_all("x-forwarded-for").iter(),
                &config.trusted_proxies,
            )
            .to_string(),
            None => "unknown".into(),
        };
        let user_agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect());
        Self { ip, user_agent }
    }

    pub fn from_request(req: &Request, config: &ServerConfig) -> Self {
        Self::from_parts(req.headers(), req.extensions(), config)
    }

    /// Who the client is for limits and budgets: its address, or its IPv6 /64 (one machine
    /// usually has a whole /64, so a limit per address would be a limit per guess).
    pub fn limit_key(&self) -> String {
        match self.ip.parse::<IpAddr>() {
            Ok(ip) => client_key(ip).to_string(),
            Err(_) => self.ip.clone(),
        }
    }
}

/// One machine has one IPv4 address but usually a whole IPv6 /64: those count as one client.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(std::net::Ipv6Addr::from(network))
        }
        v4 => v4,
    }
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self::from_parts(
            &parts.headers,
            &parts.extensions,
            &state.config,
        ))
    }
}

/// The TCP peer's address (IPv4-mapped IPv6 addresses as IPv4), if the listener provided it.
pub fn peer_address(extensions: &Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical())
}

/// Whether the request came straight from a trusted proxy, so that its `X-Forwarded-*`
/// headers may be believed.
pub fn from_trusted_proxy(extensions: &Extensions, config: &ServerConfig) -> bool {
    peer_address(extensions).is_some_and(|peer| config.trusted_proxies.contains(peer))
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy; otherwise the
/// right-most `X-Forwarded-For` entry that is not a trusted proxy. When every entry is a trusted
/// proxy the left-most one is the client; an entry that is not an address stops the walk at the
/// trusted proxy that handed it over (the entries further left cannot be believed).
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl DoubleEndedIterator<Item = &'a HeaderValue>,
    trusted: &TrustedProxies,
) -> IpAddr {
    let mut client = peer.to_canonical();
    if !trusted.contains(client) {
        return client;
    }
    // Several header lines are one list, in order (RFC 9110, 5.3).
    for line in forwarded_for.rev() {
        let Ok(line) = line.to_str() else {
            return client;
        };
        for entry in line.rsplit(',').map(str::trim).filter(|e| !e.is_empty()) {
            let Some(ip) = parse_forwarded_entry(entry) else {
                return client;
            };
            client = ip;
            if !trusted.contains(ip) {
                return client;
            }
        }
    }
    client
}

/// `192.0.2.1`, `2001:db8::1`, or either with a port as some proxies write them
/// (`192.0.2.1:443`, `[2001:db8::1]:443`).
fn parse_forwarded_entry(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(entries).unwrap()
    }

    fn client(peer: &str, forwarded_for: &[&str], proxies: &[&str]) -> String {
        let lines: Vec<HeaderValue> = forwarded_for
            .iter()
            .map(|l| HeaderValue::from_str(l).unwrap())
            .collect();
        client_address(peer.parse().unwrap(), lines.iter(), &trusted(proxies)).to_string()
    }

    #[test]
    fn parses_addresses_and_networks() {
        let t = trusted(&[
            "10.0.0.0/8",
            " 192.0.2.7 ",
            "fd00::/8",
            "::1",
            "172.16.5.9/12",
        ]);
        for inside in ["10.1.2.3", "192.0.2.7", "fd12::5", "::1", "172.31.255.255"] {
            assert!(t.contains(inside.parse().unwrap()), "{inside}");
        }
        for outside in ["11.0.0.1", "192.0.2.8", "fe80::1", "::2", "172.32.0.1"] {
            assert!(!t.contains(outside.parse().unwrap()), "{outside}");
        }
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
        let err = TrustedProxies::parse(&["10.0.0.1", "proxy.internal"]).unwrap_err();
        assert!(err.contains("'proxy.internal'"), "{err}");
        assert!(TrustedProxies::parse::<&str>(&[]).unwrap().is_empty());
    }

    #[test]
    fn loopback_is_the_default_and_covers_ipv4_mapped_addresses() {
        let t = TrustedProxies::loopback();
        assert!(t.contains("127.0.0.1".parse().unwrap()));
        assert!(t.contains("127.9.8.7".parse().unwrap()));
        assert!(t.contains("::1".parse().unwrap()));
        assert!(t.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!t.contains("10.0.0.1".parse().unwrap()));
        assert!(!TrustedProxies::none().contains("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_its_headers_say() {
        let proxies = ["127.0.0.0/8"];
        assert_eq!(
            client("203.0.113.9", &["198.51.100.1"], &proxies),
            "203.0.113.9"
        );
        assert_eq!(
            client("203.0.113.9", &["127.0.0.1"], &proxies),
            "203.0.113.9"
        );
        assert_eq!(client("127.0.0.1", &["198.51.100.1"], &[]), "127.0.0.1");
    }

    #[test]
    fn forged_left_entries_are_ignored() {
        let proxies = ["127.0.0.1"];
        // The client sent "1.1.1.1, 2.2.2.2"; the proxy appended the address it saw.
        assert_eq!(
            client("127.0.0.1", &["1.1.1.1, 2.2.2.2, 203.0.113.9"], &proxies),
            "203.0.113.9"
        );
        // The same with the forgery and the proxy's entry on separate header lines.
        assert_eq!(
            client("127.0.0.1", &["1.1.1.1", "203.0.113.9"], &proxies),
            "203.0.113.9"
        );
        // A forged trusted address left of the real one changes nothing either.
        assert_eq!(
            client("127.0.0.1", &["127.0.0.5, 203.0.113.9"], &proxies),
            "203.0.113.9"
        );
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_skipped() {
        let proxies = ["127.0.0.1", "10.0.0.0/8", "fd00::/8"];
        assert_eq!(
            client(
                "127.0.0.1",
                &["6.6.6.6, 203.0.113.9, 10.1.1.1, 10.2.2.2"],
                &proxies
            ),
            "203.0.113.9"
        );
        assert_eq!(
            client("127.0.0.1", &["6.6.6.6, 2001:db8::7, fd00::1"], &proxies),
            "2001:db8::7"
        );
        // Every entry is a proxy: the left-most one (written by a trusted proxy) is the client.
        assert_eq!(
            client("127.0.0.1", &["10.9.9.9, 10.1.1.1"], &proxies),
            "10.9.9.9"
        );
    }

    #[test]
    fn ipv6_ports_and_mapped_addresses() {
        let proxies = ["::1", "10.0.0.0/8"];
        assert_eq!(client("::1", &["2001:db8::1"], &proxies), "2001:db8::1");
        assert_eq!(
            client("::1", &["[2001:db8::1]:4711"], &proxies),
            "2001:db8::1"
        );
        assert_eq!(client("::1", &["192.0.2.1:4711"], &proxies), "192.0.2.1");
        assert_eq!(client("::1", &["::ffff:192.0.2.1"], &proxies), "192.0.2.1");
        // A dual-stack listener sees IPv4 proxies as IPv4-mapped IPv6 peers.
        assert_eq!(
            client("::ffff:10.0.0.1", &["192.0.2.1"], &proxies),
            "192.0.2.1"
        );
    }

    #[test]
    fn absent_or_garbled_headers_leave_the_last_trusted_hop() {
        let proxies = ["127.0.0.1", "10.0.0.0/8"];
        assert_eq!(client("127.0.0.1", &[], &proxies), "127.0.0.1");
        assert_eq!(client("127.0.0.1", &[""], &proxies), "127.0.0.1");
        assert_eq!(client("127.0.0.1", &["unknown"], &proxies), "127.0.0.1");
        assert_eq!(
            client("127.0.0.1", &["203.0.113.9, garbage, 10.1.1.1"], &proxies),
            "10.1.1.1"
        );
        // Empty list elements are allowed by the list syntax and skipped.
        assert_eq!(
            client("127.0.0.1", &["203.0.113.9,, "], &proxies),
            "203.0.113.9"
        );
    }

    #[test]
    fn non_ascii_header_bytes_leave_the_peer() {
        let proxies = trusted(&["127.0.0.1"]);
        let line = HeaderValue::from_bytes(b"203.0.113.9, \xff").unwrap();
        let got = client_address("127.0.0.1".parse().unwrap(), [&line].into_iter(), &proxies);
        assert_eq!(got.to_string(), "127.0.0.1");
    }
}
