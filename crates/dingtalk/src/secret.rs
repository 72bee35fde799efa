//! Credentials whose secret half cannot reach a log by accident.

use std::fmt;

use serde::{Deserialize, Deserializer};
use sha2::{Digest as _, Sha256};

/// A secret string. `Debug` and `Display` print a mask; use [`Secret::expose`] to send it.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself: only for putting it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// For admin pages: `••••` and, when the secret is long enough that it reveals little, its
    /// last four characters (`••••3a9f`).
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() < 16 {
            return "••••".to_owned();
        }
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("••••{tail}")
    }

    /// Identifies the secret without revealing it (the app-token cache notices a changed secret).
    pub(crate) fn fingerprint(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(••••)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("••••")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// An app's Client ID (formerly AppKey) and Client Secret (formerly AppSecret).
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: Secret,
}

impl ClientCredentials {
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<Secret>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_secret() {
        let creds = ClientCredentials::new("app", "super-secret-value-3a9f");
        let shown = format!("{creds:?} {}", creds.client_secret);
        assert!(!shown.contains("super-secret"), "{shown}");
        assert_eq!(creds.client_secret.masked(), "••••3a9f");
        assert_eq!(Secret::new("short").masked(), "••••");
    }
}
