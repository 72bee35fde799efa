//! Encryption at rest for client secrets and signing keys (AES-256-GCM under the server's
//! secret key, which every node shares).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use thiserror::Error;

const PREFIX: &str = "enc:v1:";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SecretBoxError {
    #[error("the secret key must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("the value cannot be decrypted with this secret key (was it written by a server with another AUTHGATE_SECRET_KEY?)")]
    Undecryptable,
}

#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    pub fn new(key: &[u8]) -> Result<Self, SecretBoxError> {
        let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| SecretBoxError::BadKey)?;
        Ok(Self { cipher })
    }

    /// Parses the base64 text form of the key (`AUTHGATE_SECRET_KEY`, the key file).
    pub fn from_base64(text: &str) -> Result<Self, SecretBoxError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .or_else(|_| B64.decode(text.trim()))
            .map_err(|_| SecretBoxError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SecretBoxError::BadKey);
        }
        Self::new(&bytes)
    }

    pub fn generate_key_base64() -> String {
        base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
    }

    pub fn seal(&self, plaintext: &[u8]) -> String {
        let nonce_bytes: [u8; 12] = rand::random();
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce_bytes), plaintext)
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(12 + sealed.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", B64.encode(out))
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, SecretBoxError> {
        let body = sealed
            .strip_prefix(PREFIX)
            .ok_or(SecretBoxError::Undecryptable)?;
        let bytes = B64
            .decode(body)
            .map_err(|_| SecretBoxError::Undecryptable)?;
        if bytes.len() < 12 {
            return Err(SecretBoxError::Undecryptable);
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| SecretBoxError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_and_rejects_other_keys() {
        let a = SecretBox::from_base64(&SecretBox::generate_key_base64()).unwrap();
        let b = SecretBox::from_base64(&SecretBox::generate_key_base64()).unwrap();
        let sealed = a.seal(b"client-secret");
        assert!(!sealed.contains("client-secret"));
        assert_eq!(a.open(&sealed).unwrap(), b"client-secret");
        assert_eq!(b.open(&sealed), Err(SecretBoxError::Undecryptable));
        assert_eq!(a.open("plain"), Err(SecretBoxError::Undecryptable));
        assert_ne!(a.seal(b"x"), a.seal(b"x"), "nonces must differ");
    }

    #[test]
    fn rejects_short_keys() {
        assert!(SecretBox::from_base64("c2hvcnQ=").is_err());
    }
}
