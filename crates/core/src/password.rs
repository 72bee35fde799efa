//! Password hashing: Argon2id for every new hash; NocoBase's scrypt hashes are still verified
//! (so users imported from NocoBase keep their passwords) and flagged for upgrade.
//! These functions are CPU-bound: callers run them off the async threads.

use crate::argon2_memory::{self, HashingMemory};
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use subtle::ConstantTimeEq;
use thiserror::Error;

/// OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane.
pub const DEFAULT_MEMORY_KIB: u32 = 19 * 1024;
pub const DEFAULT_ITERATIONS: u32 = 2;
pub const DEFAULT_PARALLELISM: u32 = 1;

pub const MIN_PASSWORD_LEN: usize = 8;
/// Hashing cost grows with length; nobody types more than this.
pub const MAX_PASSWORD_LEN: usize = 256;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PasswordRuleError {
    #[error("The password must be at least {MIN_PASSWORD_LEN} characters long")]
    TooShort,
    #[error("The password must be at most {MAX_PASSWORD_LEN} characters long")]
    TooLong,
}

pub fn check_password_rules(password: &str) -> Result<(), PasswordRuleError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        Err(PasswordRuleError::TooShort)
    } else if password.len() > MAX_PASSWORD_LEN {
        Err(PasswordRuleError::TooLong)
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Mismatch,
    /// `needs_upgrade`: the stored hash is scrypt or weaker than today's parameters.
    Match {
        needs_upgrade: bool,
    },
}

#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    params: Params,
    /// Verified against when the account does not exist, so that case costs the same time.
    /// Computed on first use (or by `warm_up`) so that start-up stays fast.
    dummy_hash: std::sync::Arc<std::sync::OnceLock<String>>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PasswordHasher({:?})", self.params)
    }
}

impl PasswordHasher {
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, String> {
        let params =
            Params::new(memory_kib, iterations, parallelism, None).map_err(|e| e.to_string())?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        Ok(Self {
            argon2,
            params,
            dummy_hash: Default::default(),
        })
    }

    pub fn owasp_minimum() -> Self {
        Self::new(DEFAULT_MEMORY_KIB, DEFAULT_ITERATIONS, DEFAULT_PARALLELISM)
            .expect("OWASP parameters are valid")
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    pub fn hash(&self, password: &str) -> String {
        self.hash_in(password, &mut HashingMemory::new())
    }

    /// `hash` in memory kept by the caller between hashes (see `argon2_memory`).
    pub fn hash_in(&self, password: &str, memory: &mut HashingMemory) -> String {
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
            .expect("16 bytes is a valid salt length");
        argon2_memory::hash(&self.argon2, password.as_bytes(), &salt, memory)
            .expect("Argon2 hashing with valid parameters cannot fail")
    }

    pub fn verify(&self, stored: &str, password: &str) -> Verification {
        self.verify_in(stored, password, &mut HashingMemory::new())
    }

    /// `verify` in memory kept by the caller between hashes.
    pub fn verify_in(
        &self,
        stored: &str,
        password: &str,
        memory: &mut HashingMemory,
    ) -> Verification {
        if is_nocobase_scrypt(stored) {
            return match verify_nocobase_scrypt(stored, password) {
                true => Verification::Match {
                    needs_upgrade: true,
                },
                false => Verification::Mismatch,
            };
        }
        let Ok(parsed) = PasswordHash::new(stored) else {
            // An unreadable stored hash still costs a full hash, then fails.
            self.burn_in(password, memory);
            return Verification::Mismatch;
        };
        match argon2_memory::verify(&parsed, password.as_bytes(), memory) {
            Ok(true) => Verification::Match {
                needs_upgrade: self.is_weaker_than_current(&parsed),
            },
            Ok(false) | Err(_) => Verification::Mismatch,
        }
    }

    /// Spends the time of one verification, for accounts that do not exist.
    pub fn burn_in(&self, password: &str, memory: &mut HashingMemory) {
        if let Ok(parsed) = PasswordHash::new(self.dummy_hash()) {
            let _ = argon2_memory::verify(&parsed, password.as_bytes(), memory);
        }
    }

    fn dummy_hash(&self) -> &str {
        self.dummy_hash
            .get_or_init(|| self.hash("authgate-dummy-password"))
    }

    /// Computes the dummy hash now (call from a blocking thread at start-up).
    pub fn warm_up(&self) {
        self.dummy_hash();
    }

    fn is_weaker_than_current(&self, hash: &PasswordHash<'_>) -> bool {
        if hash.algorithm != argon2::ARGON2ID_IDENT {
            return true;
        }
        match Params::try_from(hash) {
            Ok(p) => {
                p.m_cost() < self.params.m_cost()
                    || p.t_cost() < self.params.t_cost()
                    || p.p_cost() < self.params.p_cost()
            }
            Err(_) => true,
        }
    }
}

/// NocoBase: 16 hex chars of salt followed by 48 hex chars of scrypt output.
pub fn is_nocobase_scrypt(stored: &str) -> bool {
    stored.len() == 64 && stored.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Node's `crypto.scrypt(password, saltHex, 24)` with N=16384, r=8, p=1, where the salt is the
/// hex *text* itself, as NocoBase calls it.
fn verify_nocobase_scrypt(stored: &str, password: &str) -> bool {
    let (salt, key_hex) = stored.split_at(16);
    let Ok(expected) = hex::decode(key_hex) else {
        return false;
    };
    let params = scrypt::Params::new(14, 8, 1, 24).expect("NocoBase's scrypt parameters are valid");
    let mut actual = [0u8; 24];
    if scrypt::scrypt(password.as_bytes(), salt.as_bytes(), &params, &mut actual).is_err() {
        return false;
    }
    actual.ct_eq(&expected[..]).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> PasswordHasher {
        PasswordHasher::new(1024, 1, 1).unwrap()
    }

    #[test]
    fn argon2id_round_trip() {
        let h = fast();
        let stored = h.hash("correct horse");
        assert!(stored.starts_with("$argon2id$"));
        assert_eq!(
            h.verify(&stored, "correct horse"),
            Verification::Match {
                needs_upgrade: false
            }
        );
        assert_eq!(h.verify(&stored, "wrong horse"), Verification::Mismatch);
    }

    #[test]
    fn weaker_parameters_ask_for_an_upgrade() {
        let weak = fast().hash("pw123456");
        let strong = PasswordHasher::new(2048, 2, 1).unwrap();
        assert_eq!(
            strong.verify(&weak, "pw123456"),
            Verification::Match {
                needs_upgrade: true
            }
        );
    }

    #[test]
    fn garbage_hash_never_matches() {
        assert_eq!(fast().verify("not a hash", "x"), Verification::Mismatch);
        assert_eq!(fast().verify("", ""), Verification::Mismatch);
    }

    #[test]
    fn password_rules() {
        assert_eq!(
            check_password_rules("short"),
            Err(PasswordRuleError::TooShort)
        );
        assert!(check_password_rules("long enough").is_ok());
        assert_eq!(
            check_password_rules(&"x".repeat(300)),
            Err(PasswordRuleError::TooLong)
        );
    }
}

#[cfg(test)]
mod nocobase_fixtures {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Fixture {
        hashes: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        password: String,
        hash: String,
    }

    #[test]
    fn verifies_hashes_made_by_node_crypto_scrypt() {
        let fixture: Fixture = serde_json::from_str(include_str!(
            "../../../fixtures/nocobase-scrypt-hashes.json"
        ))
        .unwrap();
        let h = PasswordHasher::new(1024, 1, 1).unwrap();
        for e in fixture.hashes {
            assert!(is_nocobase_scrypt(&e.hash));
            assert_eq!(
                h.verify(&e.hash, &e.password),
                Verification::Match {
                    needs_upgrade: true
                }
            );
            assert_eq!(
                h.verify(&e.hash, "not the password"),
                Verification::Mismatch
            );
        }
    }
}

impl PasswordRuleError {
    pub fn text(&self) -> crate::text::Text {
        let zh = match self {
            PasswordRuleError::TooShort => format!("密码至少需要 {MIN_PASSWORD_LEN} 个字符"),
            PasswordRuleError::TooLong => format!("密码最多 {MAX_PASSWORD_LEN} 个字符"),
        };
        crate::text::Text::new(self.to_string(), zh)
    }
}
