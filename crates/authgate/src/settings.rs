//! Settings from `authgate.toml`, `AUTHGATE_*` variables and flags (in that order of
//! precedence, low to high), validated into the server's configuration.

use crate::cli::{GlobalArgs, ServeArgs};
use anyhow::{anyhow, bail, Context};
use authgate_core::duration::{format_duration_ms, parse_duration_ms};
use authgate_core::failure_limit::FailureLimit;
use authgate_server::config::{ConnectionLimits, DingTalkBases, HashingConfig, TrustedProxies};
use authgate_server::ServerConfig;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Deserializer, Serialize};
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub listen: String,
    pub public_url: Option<String>,
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    pub secret_key: Option<String>,
    #[serde(deserialize_with = "list_or_commas")]
    pub allowed_redirect_origins: Vec<String>,
    /// The parent domain the session cookie covers (e.g. `.corp.example`), for single sign-on
    /// across its subdomains (forward auth).
    pub cookie_domain: Option<String>,
    pub dingtalk: DingTalkSettings,
    pub admin_username: String,
    pub admin_password: Option<String>,
    pub log_format: String,
    /// Replaced by `trusted_proxies`: `false` is still read as "trust nobody", `true` refused.
    pub trust_proxy_headers: Option<bool>,
    /// Reverse proxies (addresses or networks) whose X-Forwarded-For is believed.
    #[serde(deserialize_with = "list_or_commas")]
    pub trusted_proxies: Vec<String>,
    /// Time for a request's headers, e.g. "10s".
    pub header_read_timeout: String,
    /// Time a kept-alive connection may wait for its next request, e.g. "75s".
    pub idle_timeout: String,
    /// Open connections in all, and from one client address.
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub default_country_code: String,
    pub hashing: HashingSettings,
    /// Failed sign-ins allowed per account from one client IP within `failure_window`.
    pub account_max_failures: i64,
    /// Failed sign-ins allowed per account from all addresses together; its locks start at
    /// a minute and double up to `lockout`.
    pub account_total_max_failures: i64,
    /// Failed sign-ins allowed per client IP within `failure_window`.
    pub ip_max_failures: i64,
    /// e.g. "15m"
    pub failure_window: String,
    /// e.g. "15m"
    pub lockout: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DingTalkSettings {
    pub login_base: String,
    pub api_base: String,
    pub oapi_base: String,
    /// Limit for each DingTalk call, e.g. "5s".
    pub timeout: String,
    /// DingTalk sign-ins one client address may start per minute (each stores a state).
    pub starts_per_minute_per_ip: u32,
    /// ... and one browser.
    pub starts_per_minute_per_browser: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashingSettings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub max_concurrent: Option<usize>,
}

impl Default for Settings {
    fn default() -> Self {
        let h = HashingConfig::default();
        let connections = ConnectionLimits::default();
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            database_url: None,
            data_dir: PathBuf::from("./data"),
            secret_key: None,
            allowed_redirect_origins: Vec::new(),
            cookie_domain: None,
            dingtalk: DingTalkSettings {
                login_base: "https://login.dingtalk.com".into(),
                api_base: "https://api.dingtalk.com".into(),
                oapi_base: "https://oapi.dingtalk.com".into(),
                timeout: "5s".into(),
                starts_per_minute_per_ip: DingTalkBases::default().starts_per_minute_per_ip,
                starts_per_minute_per_browser: DingTalkBases::default()
                    .starts_per_minute_per_browser,
            },
            admin_username: "admin".into(),
            admin_password: None,
            log_format: "text".into(),
            trust_proxy_headers: None,
            // TrustedProxies::loopback(), as text.
            trusted_proxies: vec!["127.0.0.0/8".into(), "::1".into()],
            header_read_timeout: format_duration_ms(
                connections.header_read_timeout.as_millis() as i64
            ),
            idle_timeout: format_duration_ms(connections.idle_timeout.as_millis() as i64),
            max_connections: connections.max_connections,
            max_connections_per_ip: connections.max_connections_per_ip,
            default_country_code: "86".into(),
            hashing: HashingSettings {
                memory_kib: h.memory_kib,
                iterations: h.iterations,
                parallelism: h.parallelism,
                max_concurrent: None,
            },
            account_max_failures: 5,
            account_total_max_failures: 20,
            ip_max_failures: 50,
            failure_window: "15m".into(),
            lockout: "15m".into(),
        }
    }
}

/// Environment variables hold lists as comma-separated text.
fn list_or_commas<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::List(v) => v,
        Either::Text(t) => t
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    })
}

/// Flags, only those given.
#[derive(Serialize, Default)]
struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_format: Option<String>,
}

impl Settings {
    pub fn load(global: &GlobalArgs, serve: Option<&ServeArgs>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match &global.config {
            Some(path) => {
                if !path.exists() {
                    bail!("the configuration file {} does not exist", path.display());
                }
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file("authgate.toml")),
        }
        let env = Env::prefixed("AUTHGATE_")
            .map(|key| {
                // Uncased keys keep the variable's spelling (upper case): compare in lower case.
                let k = key.as_str().to_ascii_lowercase();
                match k.strip_prefix("dingtalk_") {
                    Some(rest) => format!("dingtalk.{rest}").into(),
                    None => match k.strip_prefix("hashing_") {
                        Some(rest) => format!("hashing.{rest}").into(),
                        None => k.clone().into(),
                    },
                }
            })
            // Test-only and unrelated variables that share the prefix.
            .filter(|k| !k.as_str().starts_with("test_"));
        figment = figment.merge(env);
        let flags = FlagOverrides {
            listen: serve.and_then(|s| s.listen.clone()),
            public_url: serve.and_then(|s| s.public_url.clone()),
            database_url: global.database_url.clone(),
            data_dir: global.data_dir.clone(),
            log_format: global.log_format.clone(),
        };
        figment = figment.merge(Serialized::defaults(flags));
        let settings: Settings = figment.extract().context("invalid configuration")?;
        if settings.log_format != "text" && settings.log_format != "json" {
            bail!(
                "log_format must be text or json, not '{}'",
                settings.log_format
            );
        }
        Ok(settings)
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("authgate.db").display()))
    }

    pub fn server_config(&self) -> anyhow::Result<ServerConfig> {
        let listen: std::net::SocketAddr = self.listen.parse().with_context(|| {
            format!(
                "listen must be an address such as 127.0.0.1:8080, not '{}'",
                self.listen
            )
        })?;
        let public_url = match &self.public_url {
            Some(u) => parse_base_url("public_url", u)?,
            None => Url::parse(&format!("http://{listen}"))?,
        };
        let mut config = ServerConfig::new(public_url, self.data_dir.clone());
        for origin in &self.allowed_redirect_origins {
            let u = parse_base_url("allowed_redirect_origins", origin)?;
            config
                .allowed_redirect_origins
                .push(u.origin().ascii_serialization());
        }
        config.cookie_domain = self.cookie_domain(&config.public_url)?;
        config.dingtalk = DingTalkBases {
            login_base: parse_base_url("dingtalk.login_base", &self.dingtalk.login_base)?,
            api_base: parse_base_url("dingtalk.api_base", &self.dingtalk.api_base)?,
            oapi_base: parse_base_url("dingtalk.oapi_base", &self.dingtalk.oapi_base)?,
            timeout_ms: match parse_duration_ms(&self.dingtalk.timeout)
                .context("dingtalk.timeout")?
            {
                ms @ 100..=60_000 => ms as u64,
                _ => bail!("dingtalk.timeout must be between 100ms and 60s"),
            },
            starts_per_minute_per_ip: self.dingtalk.starts_per_minute_per_ip,
            starts_per_minute_per_browser: self.dingtalk.starts_per_minute_per_browser,
        };
        if self.dingtalk.starts_per_minute_per_ip < 1
            || self.dingtalk.starts_per_minute_per_browser < 1
        {
            bail!("dingtalk.starts_per_minute_per_ip and dingtalk.starts_per_minute_per_browser must be at least 1");
        }
        config.trusted_proxies = self.trusted_proxies()?;
        config.connections = self.connection_limits()?;
        config.default_country_code = self.default_country_code.clone();
        config.hashing = HashingConfig {
            memory_kib: self.hashing.memory_kib,
            iterations: self.hashing.iterations,
            parallelism: self.hashing.parallelism,
            max_concurrent: self
                .hashing
                .max_concurrent
                .unwrap_or(HashingConfig::default().max_concurrent),
        };
        let window = parse_duration_ms(&self.failure_window).context("failure_window")?;
        let lock = parse_duration_ms(&self.lockout).context("lockout")?;
        const DAY: i64 = 86_400_000;
        if self.account_max_failures < 1
            || self.account_total_max_failures < 1
            || self.ip_max_failures < 1
            || !(1000..=30 * DAY).contains(&window)
            || !(1000..=30 * DAY).contains(&lock)
        {
            bail!("failure limits must be at least 1 failure, and failure_window and lockout between 1s and 30d");
        }
        let fixed = |max_failures| FailureLimit {
            max_failures,
            window_ms: window,
            lock_ms: lock,
            max_lock_ms: lock,
        };
        config.account_failures = fixed(self.account_max_failures);
        config.ip_failures = fixed(self.ip_max_failures);
        config.account_total_failures = FailureLimit {
            lock_ms: lock.min(60_000),
            ..fixed(self.account_total_max_failures)
        };
        if config.hashing.memory_kib < 19 * 1024 || config.hashing.iterations < 2 {
            tracing::warn!(
                "Argon2id parameters are weaker than OWASP's minimum (19 MiB, 2 passes)"
            );
        }
        Ok(config)
    }
}

impl Settings {
    /// `cookie_domain` without its leading dot, lower case; refused unless the public URL's host
    /// is under it (a browser would drop the cookie) or when it is a bare top-level name.
    fn cookie_domain(&self, public_url: &Url) -> anyhow::Result<Option<String>> {
        let Some(raw) = self.cookie_domain.as_deref().map(str::trim) else {
            return Ok(None);
        };
        if raw.is_empty() {
            return Ok(None);
        }
        let domain = raw.trim_start_matches('.').to_ascii_lowercase();
        let valid = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !valid {
            bail!(
                "cookie_domain must be a domain name such as .corp.example (two labels or more), \
                 not '{raw}'"
            );
        }
        let host = public_url.host_str().unwrap_or_default();
        if !authgate_server::config::host_is_under(host, &domain) {
            bail!(
                "cookie_domain '{raw}' does not cover public_url's host '{host}': browsers would \
                 refuse the session cookie (set public_url to a host under it, e.g. \
                 https://auth.{domain})"
            );
        }
        Ok(Some(domain))
    }

    fn trusted_proxies(&self) -> anyhow::Result<TrustedProxies> {
        match self.trust_proxy_headers {
            None => {}
            Some(true) => bail!(
                "trust_proxy_headers is no longer supported (it believed X-Forwarded-For from \
                 anyone): list your reverse proxies' addresses or networks in trusted_proxies \
                 (AUTHGATE_TRUSTED_PROXIES) instead; by default 127.0.0.0/8 and ::1 are trusted"
            ),
            Some(false) if self.trusted_proxies != Settings::default().trusted_proxies => bail!(
                "trust_proxy_headers is replaced by trusted_proxies: set only trusted_proxies"
            ),
            Some(false) => {
                tracing::warn!(
                    "trust_proxy_headers is deprecated: false is read as trusted_proxies = [] \
                     (trust nobody's X-Forwarded-For); set that instead"
                );
                return Ok(TrustedProxies::none());
            }
        }
        TrustedProxies::parse(&self.trusted_proxies).map_err(|e| anyhow!("trusted_proxies: {e}"))
    }

    fn connection_limits(&self) -> anyhow::Result<ConnectionLimits> {
        let seconds = |name: &str, text: &str, max_ms: i64| -> anyhow::Result<Duration> {
            match parse_duration_ms(text).with_context(|| name.to_string())? {
                ms if (1000..=max_ms).contains(&ms) => Ok(Duration::from_millis(ms as u64)),
                _ => bail!(
                    "{name} must be between 1s and {}",
                    format_duration_ms(max_ms)
                ),
            }
        };
        let limits = ConnectionLimits {
            header_read_timeout: seconds("header_read_timeout", &self.header_read_timeout, 30_000)?,
            idle_timeout: seconds("idle_timeout", &self.idle_timeout, 3_600_000)?,
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip,
        };
        if limits.max_connections < 1 || limits.max_connections_per_ip < 1 {
            bail!("max_connections and max_connections_per_ip must be at least 1");
        }
        Ok(limits)
    }
}

fn parse_base_url(name: &str, text: &str) -> anyhow::Result<Url> {
    let url = Url::parse(text.trim()).with_context(|| format!("{name}: '{text}' is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        bail!("{name}: '{text}' must be an http(s) URL");
    }
    Ok(url)
}
