//! What the server needs to know, already validated by the binary's configuration loader.

use authgate_core::failure_limit::FailureLimit;
use ipnet::IpNet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where browsers reach authgate; decides cookie security and absolute URLs.
    pub public_url: Url,
    /// Origins (scheme://host[:port]) besides our own that redirects may go to.
    pub allowed_redirect_origins: Vec<String>,
    /// The parent domain the session cookie covers (`corp.example`, stored without a leading
    /// dot), so that one sign-in serves every app under it; its hosts are redirect targets too.
    /// The public URL's host is under it (checked when the configuration is read).
    pub cookie_domain: Option<String>,
    pub dingtalk: DingTalkBases,
    pub data_dir: PathBuf,
    pub hashing: HashingConfig,
    /// One account from one client address.
    pub account_failures: FailureLimit,
    /// One account from every address together (a higher threshold, growing locks).
    pub account_total_failures: FailureLimit,
    /// One client address, whatever the account.
    pub ip_failures: FailureLimit,
    /// Peers whose forwarding headers (X-Forwarded-For) are believed.
    pub trusted_proxies: TrustedProxies,
    /// Timeouts and caps for client connections.
    pub connections: ConnectionLimits,
    pub max_body_bytes: usize,
    /// Country calling code for phone numbers typed without one (admins are mostly in China).
    pub default_country_code: String,
}

#[derive(Debug, Clone)]
pub struct DingTalkBases {
    pub login_base: Url,
    pub api_base: Url,
    pub oapi_base: Url,
    /// Limit for each DingTalk call.
    pub timeout_ms: u64,
    /// DingTalk sign-ins one client address may start per minute (each stores a state row;
    /// an office behind one address needs room, hence generous).
    pub starts_per_minute_per_ip: u32,
    /// ... and one browser (its binding cookie): a person retrying needs a few.
    pub starts_per_minute_per_browser: u32,
}

impl Default for DingTalkBases {
    fn default() -> Self {
        Self {
            login_base: Url::parse("https://login.dingtalk.com").expect("valid"),
            api_base: Url::parse("https://api.dingtalk.com").expect("valid"),
            oapi_base: Url::parse("https://oapi.dingtalk.com").expect("valid"),
            timeout_ms: 5000,
            starts_per_minute_per_ip: 600,
            starts_per_minute_per_browser: 30,
        }
    }
}

/// The reverse proxies allowed to say who the client is. `contains` is the one check of whether
/// a peer's forwarding headers (X-Forwarded-For, and any other X-Forwarded-*) may be believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Nobody: forwarding headers are ignored.
    pub fn none() -> Self {
        Self::default()
    }

    /// 127.0.0.0/8 and ::1: a proxy on the same machine.
    pub fn loopback() -> Self {
        Self(vec![
            IpNet::new(IpAddr::from([127, 0, 0, 0]), 8).expect("a valid prefix"),
            IpNet::from(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)),
        ])
    }

    /// Addresses (`10.0.0.5`, `::1`) or networks (`10.0.0.0/8`, `fd00::/8`).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let parse_one = |entry: &str| {
            let entry = entry.trim();
            entry
                .parse::<IpNet>()
                .map(|net| net.trunc())
                .or_else(|_| entry.parse::<IpAddr>().map(|ip| ip.to_canonical().into()))
                .map_err(|_| {
                    format!("'{entry}' is not an IP address or a network such as 10.0.0.0/8")
                })
        };
        let nets = entries
            .iter()
            .map(|e| parse_one(e.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self(nets))
    }

    /// Whether `ip` is one of the trusted proxies (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// How long clients may take and how many connections they may hold (`http::listener`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From a connection's opening, or the first byte of a later request on it, to the end of
    /// the request's headers.
    pub header_read_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request, and how long sending a
    /// response may stall on a client that does not read it.
    pub idle_timeout: Duration,
    /// Open connections in all; more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Open connections from one client address (an IPv6 /64); trusted proxies are exempt.
    pub max_connections_per_ip: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            // Real clients send their headers in one packet within milliseconds; 10 s still
            // leaves room for a bad mobile link and cuts slowloris-style clients off early.
            header_read_timeout: Duration::from_secs(10),
            // Longer than the 60 s idle timeout of common proxies and load balancers (nginx's
            // upstream keepalive, AWS ALB): the proxy closes first, so it never reuses a
            // connection authgate is closing at that moment (a 502 for a sign-in).
            idle_timeout: Duration::from_secs(75),
            // Far above what one node serves, below common descriptor limits once raised.
            max_connections: 10_000,
            // Browsers open up to 6 connections per host: room for an office behind one NAT
            // address, while one machine cannot take more than a small share of the server.
            max_connections_per_ip: 256,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct HashingConfig {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Hashes computed at once; more wait their turn instead of starving the server.
    pub max_concurrent: usize,
}

impl HashingConfig {
    /// A hasher with these parameters (refused if Argon2 does not accept them).
    pub fn hasher(&self) -> Result<authgate_core::password::PasswordHasher, String> {
        authgate_core::password::PasswordHasher::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
        )
    }
}

impl Default for HashingConfig {
    fn default() -> Self {
        Self {
            memory_kib: authgate_core::password::DEFAULT_MEMORY_KIB,
            iterations: authgate_core::password::DEFAULT_ITERATIONS,
            parallelism: authgate_core::password::DEFAULT_PARALLELISM,
            max_concurrent: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

impl ServerConfig {
    pub fn new(public_url: Url, data_dir: PathBuf) -> Self {
        Self {
            public_url,
            allowed_redirect_origins: Vec::new(),
            cookie_domain: None,
            dingtalk: DingTalkBases::default(),
            data_dir,
            hashing: HashingConfig::default(),
            account_failures: FailureLimit {
                max_failures: 5,
                window_ms: 15 * 60_000,
                lock_ms: 15 * 60_000,
                max_lock_ms: 15 * 60_000,
            },
            account_total_failures: FailureLimit {
                max_failures: 20,
                window_ms: 15 * 60_000,
                lock_ms: 60_000,
                max_lock_ms: 15 * 60_000,
            },
            ip_failures: FailureLimit {
                max_failures: 50,
                window_ms: 15 * 60_000,
                lock_ms: 15 * 60_000,
                max_lock_ms: 15 * 60_000,
            },
            trusted_proxies: TrustedProxies::loopback(),
            connections: ConnectionLimits::default(),
            max_body_bytes: 64 * 1024,
            default_country_code: "86".into(),
        }
    }

    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// Whether `host` (lower case, no port) is the cookie domain or one of its subdomains.
    pub fn is_under_cookie_domain(&self, host: &str) -> bool {
        self.cookie_domain
            .as_deref()
            .is_some_and(|domain| host_is_under(host, domain))
    }

    /// `public_url` without a trailing slash, for building absolute URLs.
    pub fn public_origin(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_string()
    }
}

/// Whether `host` is `domain` or a subdomain of it (a dot-suffix: `evil-corp.example` is not
/// under `corp.example`).
pub fn host_is_under(host: &str, domain: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|prefix| prefix.ends_with('.') && prefix.len() > 1)
}

#[cfg(test)]
mod cookie_domain_tests {
    use super::host_is_under;

    #[test]
    fn only_the_domain_and_its_subdomains_are_under_it() {
        assert!(host_is_under("corp.example", "corp.example"));
        assert!(host_is_under("wiki.corp.example", "corp.example"));
        assert!(host_is_under("a.b.corp.example", "corp.example"));
        assert!(!host_is_under("evil-corp.example", "corp.example"));
        assert!(!host_is_under("corp.example.evil.com", "corp.example"));
        assert!(!host_is_under(".corp.example", "corp.example"));
        assert!(!host_is_under("example", "corp.example"));
    }
}
