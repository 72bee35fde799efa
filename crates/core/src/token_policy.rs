//! NocoBase's token policy: how long a token lives, how long a session lives, and how long
//! after expiry a token may still be renewed.

use crate::duration::{format_duration_ms, parse_duration_ms, DurationError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPolicy {
    pub token_ttl_ms: i64,
    pub session_ttl_ms: i64,
    pub renew_window_ms: i64,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        const DAY: i64 = 86_400_000;
        Self {
            token_ttl_ms: DAY,
            session_ttl_ms: 7 * DAY,
            renew_window_ms: DAY,
        }
    }
}

/// The wire form NocoBase uses: `{"tokenExpirationTime": "1d", ...}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenPolicyConfig {
    pub token_expiration_time: String,
    pub session_expiration_time: String,
    pub expired_token_renew_limit: String,
}

/// No lifetime may be longer than this: every expiry is then far from `i64`'s end, and a typo
/// such as "106751991167d" is an error instead of a policy that wraps into the past.
pub const MAX_LIFETIME_MS: i64 = 366 * 86_400_000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error(transparent)]
    Duration(#[from] DurationError),
    #[error("{0} must be longer than zero")]
    NotPositive(&'static str),
    #[error("{0} must be at most 366 days")]
    TooLong(&'static str),
    #[error("The token lifetime must be shorter than the session lifetime")]
    TokenNotShorterThanSession,
}

impl TokenPolicy {
    pub fn validate(self) -> Result<Self, PolicyError> {
        if self.token_ttl_ms <= 0 {
            return Err(PolicyError::NotPositive("tokenExpirationTime"));
        }
        if self.session_ttl_ms <= 0 {
            return Err(PolicyError::NotPositive("sessionExpirationTime"));
        }
        if self.renew_window_ms < 0 {
            return Err(PolicyError::NotPositive("expiredTokenRenewLimit"));
        }
        for (name, ms) in [
            ("tokenExpirationTime", self.token_ttl_ms),
            ("sessionExpirationTime", self.session_ttl_ms),
            ("expiredTokenRenewLimit", self.renew_window_ms),
        ] {
            if ms > MAX_LIFETIME_MS {
                return Err(PolicyError::TooLong(name));
            }
        }
        if self.token_ttl_ms >= self.session_ttl_ms {
            return Err(PolicyError::TokenNotShorterThanSession);
        }
        Ok(self)
    }

    pub fn to_config(self) -> TokenPolicyConfig {
        TokenPolicyConfig {
            token_expiration_time: format_duration_ms(self.token_ttl_ms),
            session_expiration_time: format_duration_ms(self.session_ttl_ms),
            expired_token_renew_limit: format_duration_ms(self.renew_window_ms),
        }
    }
}

impl TryFrom<&TokenPolicyConfig> for TokenPolicy {
    type Error = PolicyError;
    fn try_from(c: &TokenPolicyConfig) -> Result<Self, PolicyError> {
        TokenPolicy {
            token_ttl_ms: parse_duration_ms(&c.token_expiration_time)?,
            session_ttl_ms: parse_duration_ms(&c.session_expiration_time)?,
            renew_window_ms: parse_duration_ms(&c.expired_token_renew_limit)?,
        }
        .validate()
    }
}

impl PolicyError {
    pub fn text(&self) -> crate::text::Text {
        let zh = match self {
            PolicyError::Duration(e) => {
                format!("“{}”不是时长：请写一个数字加单位，如 30m、12h、1d", e.0)
            }
            PolicyError::NotPositive(name) => format!("{name} 必须大于零"),
            PolicyError::TooLong(name) => format!("{name} 最多 366 天"),
            PolicyError::TokenNotShorterThanSession => "令牌有效期必须短于会话有效期".to_string(),
        };
        crate::text::Text::new(self.to_string(), zh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_nocobase_defaults() {
        let c = TokenPolicy::default().to_config();
        assert_eq!(c.token_expiration_time, "1d");
        assert_eq!(c.session_expiration_time, "1w");
        assert_eq!(c.expired_token_renew_limit, "1d");
        assert_eq!(TokenPolicy::try_from(&c), Ok(TokenPolicy::default()));
    }

    #[test]
    fn lifetimes_are_at_most_a_year() {
        let c = |session: &str| TokenPolicyConfig {
            token_expiration_time: "1d".into(),
            session_expiration_time: session.into(),
            expired_token_renew_limit: "1d".into(),
        };
        assert_eq!(
            TokenPolicy::try_from(&c("106751991167d")),
            Err(PolicyError::TooLong("sessionExpirationTime"))
        );
        assert_eq!(
            TokenPolicy::try_from(&c("367d")),
            Err(PolicyError::TooLong("sessionExpirationTime"))
        );
        assert!(TokenPolicy::try_from(&c("366d")).is_ok());
        let long_renewal = TokenPolicyConfig {
            expired_token_renew_limit: "9999w".into(),
            ..c("7d")
        };
        assert_eq!(
            TokenPolicy::try_from(&long_renewal),
            Err(PolicyError::TooLong("expiredTokenRenewLimit"))
        );
    }

    #[test]
    fn token_must_be_shorter_than_session() {
        let c = TokenPolicyConfig {
            token_expiration_time: "7d".into(),
            session_expiration_time: "7d".into(),
            expired_token_renew_limit: "1d".into(),
        };
        assert_eq!(
            TokenPolicy::try_from(&c),
            Err(PolicyError::TokenNotShorterThanSession)
        );
    }
}
