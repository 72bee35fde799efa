//! What the server needs to know, already validated by the binary's configuration loader.

use authgate_store::FailureLimit;
use std::path::PathBuf;
use url::Url;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where browsers reach authgate; decides cookie security and absolute URLs.
    pub public_url: Url,
    /// Origins (scheme://host[:port]) besides our own that redirects may go to.
    pub allowed_redirect_origins: Vec<String>,
    pub dingtalk: DingTalkBases,
    pub data_dir: PathBuf,
    pub hashing: HashingConfig,
    pub account_failures: FailureLimit,
    pub ip_failures: FailureLimit,
    /// Take the client address from X-Forwarded-For (only behind a trusted proxy).
    pub trust_proxy_headers: bool,
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
}

impl Default for DingTalkBases {
    fn default() -> Self {
        Self {
            login_base: Url::parse("https://login.dingtalk.com").expect("valid"),
            api_base: Url::parse("https://api.dingtalk.com").expect("valid"),
            oapi_base: Url::parse("https://oapi.dingtalk.com").expect("valid"),
            timeout_ms: 5000,
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
            dingtalk: DingTalkBases::default(),
            data_dir,
            hashing: HashingConfig::default(),
            account_failures: FailureLimit {
                max_failures: 5,
                window_ms: 15 * 60_000,
                lock_ms: 15 * 60_000,
            },
            ip_failures: FailureLimit {
                max_failures: 50,
                window_ms: 15 * 60_000,
                lock_ms: 15 * 60_000,
            },
            trust_proxy_headers: false,
            max_body_bytes: 64 * 1024,
            default_country_code: "86".into(),
        }
    }

    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// `public_url` without a trailing slash, for building absolute URLs.
    pub fn public_origin(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_string()
    }
}
