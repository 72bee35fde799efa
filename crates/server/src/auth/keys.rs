//! Signing keys: one active Ed25519 key (session tokens, OIDC access tokens, EdDSA ID tokens)
//! and one active RSA key (RS256 ID tokens, which every relying party accepts). Generated once,
//! stored sealed in the database so every node signs with the same keys, and published as a
//! JWKS so applications can verify tokens themselves. Retired keys stay published (and
//! accepted) until every token they signed has expired.

use authgate_core::secret_box::SecretBox;
use authgate_core::token_policy::MAX_LIFETIME_MS;
use authgate_store::{SigningKeyRecord, Store};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
use rsa::pkcs8::EncodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use tokio::sync::Notify;

/// RFC 8410 PKCS#8 v1 prefix for an Ed25519 private key; the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
const RSA_BITS: usize = 2048;
pub const ED25519: &str = "EdDSA";
/// How long a request waits for the RSA key being made on a new database.
const RSA_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
pub const RS256: &str = "RS256";

/// The algorithms tokens are signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsAlg {
    EdDSA,
    RS256,
}

impl JwsAlg {
    pub fn name(self) -> &'static str {
        match self {
            JwsAlg::EdDSA => ED25519,
            JwsAlg::RS256 => RS256,
        }
    }
}

pub struct SigningKeys {
    pub active_kid: String,
    /// The active Ed25519 key in `jsonwebtoken`'s form (tests forge tokens with it).
    pub encoding: EncodingKey,
    /// The active Ed25519 key, parsed once: tokens are signed with it directly.
    signing: SigningKey,
    /// The active RSA key. Making one takes a few hundred milliseconds, so on a database that
    /// has none it is made in the background after start-up (see [`SigningKeys::rsa_ready`]).
    rsa: OnceLock<RsaKey>,
    rsa_made: Notify,
    random: SystemRandom,
    published: RwLock<Published>,
}

struct RsaKey {
    kid: String,
    pair: RsaKeyPair,
}

/// The keys tokens are verified with, and the JWKS that publishes them.
struct Published {
    decoding: HashMap<String, (Algorithm, DecodingKey)>,
    jwks: Value,
}

impl SigningKeys {
    /// Loads the active keys, creating the missing ones (safe when nodes race). A missing RSA
    /// key is made in the background: RS256 signers wait for [`SigningKeys::rsa_ready`].
    pub async fn load_or_create(
        store: Arc<dyn Store>,
        secrets: &SecretBox,
        now: i64,
    ) -> anyhow::Result<Arc<Self>> {
        let mut all = store.list_signing_keys().await?;
        let active = |all: &[SigningKeyRecord], alg: &str| {
            all.iter().find(|k| k.active && k.alg == alg).cloned()
        };
        let ed = match active(&all, ED25519) {
            Some(k) => k,
            None => {
                let candidate = ed25519_record(rand::random(), secrets, now);
                let ed = store.ensure_active_signing_key(&candidate).await?;
                // Only a new database gets here: read the set again to publish the new key.
                all = store.list_signing_keys().await?;
                ed
            }
        };
        let rsa = active(&all, RS256);
        let keys = Arc::new(Self::from_records(&ed, rsa.as_ref(), &all, secrets, now)?);
        if rsa.is_none() {
            let (keys, secrets) = (keys.clone(), secrets.clone());
            tokio::spawn(async move {
                // A database that fails now (first start during an outage) is tried again.
                while let Err(e) = keys.make_rsa_key(store.clone(), &secrets, now).await {
                    tracing::error!(error = %e, "the RSA signing key could not be made; trying again");
                    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                }
            });
        }
        Ok(keys)
    }

    async fn make_rsa_key(
        &self,
        store: Arc<dyn Store>,
        secrets: &SecretBox,
        now: i64,
    ) -> anyhow::Result<()> {
        let candidate = tokio::task::spawn_blocking({
            let secrets = secrets.clone();
            move || rsa_record(&secrets, now)
        })
        .await??;
        // Another node may have been first: its key wins.
        let active = store.ensure_active_signing_key(&candidate).await?;
        self.install_rsa(&active, secrets)?;
        let all = store.list_signing_keys().await?;
        *self.published.write().expect("not poisoned") = publish(&all, now)?;
        self.rsa_made.notify_waiters();
        Ok(())
    }

    fn install_rsa(&self, record: &SigningKeyRecord, secrets: &SecretBox) -> anyhow::Result<()> {
        let der = secrets
            .open(&record.private_key)
            .map_err(|e| anyhow::anyhow!("the RSA signing key cannot be decrypted: {e}"))?;
        let pair = RsaKeyPair::from_pkcs8(&der)
            .map_err(|e| anyhow::anyhow!("the stored RSA signing key is malformed: {e}"))?;
        let _ = self.rsa.set(RsaKey {
            kid: record.kid.clone(),
            pair,
        });
        Ok(())
    }

    /// Waits until the RSA key is there (at once, except in the first moments of a new
    /// database), for at most [`RSA_WAIT`]; false if it is still missing then.
    pub async fn rsa_ready(&self) -> bool {
        let wait = async {
            loop {
                let made = self.rsa_made.notified();
                if self.rsa.get().is_some() {
                    return;
                }
                made.await;
            }
        };
        tokio::time::timeout(RSA_WAIT, wait).await.is_ok()
    }

    /// Replaces the active key of `alg` by a new one; the old one stays published until the
    /// tokens it signed have expired. Every node picks the new key up when it restarts or
    /// reloads ([`SigningKeys::load_or_create`]).
    pub async fn rotate(
        store: &dyn Store,
        secrets: &SecretBox,
        alg: JwsAlg,
        now: i64,
    ) -> anyhow::Result<String> {
        let candidate = match alg {
            JwsAlg::EdDSA => ed25519_record(rand::random(), secrets, now),
            JwsAlg::RS256 => {
                let secrets = secrets.clone();
                tokio::task::spawn_blocking(move || rsa_record(&secrets, now)).await??
            }
        };
        store.rotate_signing_key(&candidate, now).await?;
        Ok(candidate.kid)
    }

    /// Active keys from a fixed Ed25519 seed and a new RSA key, without a database (tests and
    /// fuzz targets).
    #[doc(hidden)]
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let secrets = SecretBox::new(&[0x5a; 32]).expect("a 32-byte key");
        let ed = ed25519_record(seed, &secrets, 0);
        let rsa = rsa_record(&secrets, 0).expect("an RSA key can be made");
        Self::from_records(&ed, Some(&rsa), &[ed.clone(), rsa.clone()], &secrets, 0)
            .expect("freshly made keys are well-formed")
    }

    fn from_records(
        ed: &SigningKeyRecord,
        rsa: Option<&SigningKeyRecord>,
        all: &[SigningKeyRecord],
        secrets: &SecretBox,
        now: i64,
    ) -> anyhow::Result<Self> {
        let seed = secrets
            .open(&ed.private_key)
            .map_err(|e| anyhow::anyhow!("the signing key cannot be decrypted: {e}"))?;
        let seed: [u8; 32] = seed[..]
            .try_into()
            .map_err(|_| anyhow::anyhow!("the stored signing key is malformed"))?;
        let mut der = PKCS8_ED25519_PREFIX.to_vec();
        der.extend_from_slice(&seed);
        let keys = Self {
            active_kid: ed.kid.clone(),
            encoding: EncodingKey::from_ed_der(&der),
            signing: SigningKey::from_bytes(&seed),
            rsa: OnceLock::new(),
            rsa_made: Notify::new(),
            random: SystemRandom::new(),
            published: RwLock::new(publish(all, now)?),
        };
        if let Some(rsa) = rsa {
            keys.install_rsa(rsa, secrets)?;
        }
        Ok(keys)
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The key id that `alg`'s signatures carry. RS256 needs [`SigningKeys::rsa_ready`] first.
    pub fn kid(&self, alg: JwsAlg) -> &str {
        match alg {
            JwsAlg::EdDSA => &self.active_kid,
            JwsAlg::RS256 => &self.rsa().kid,
        }
    }

    fn rsa(&self) -> &RsaKey {
        self.rsa
            .get()
            .expect("RS256 signers wait for rsa_ready() first")
    }

    /// A compact JWS of `payload` (JSON) under `header` (JSON), signed with the active key of
    /// `alg`. RS256 needs [`SigningKeys::rsa_ready`] first.
    pub fn sign_compact(&self, alg: JwsAlg, header: &[u8], payload: &[u8]) -> String {
        let mut jws = B64URL.encode(header);
        jws.push('.');
        B64URL.encode_string(payload, &mut jws);
        let signature = match alg {
            JwsAlg::EdDSA => self.signing.sign(jws.as_bytes()).to_bytes().to_vec(),
            JwsAlg::RS256 => {
                let pair = &self.rsa().pair;
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &self.random, jws.as_bytes(), &mut out)
                    .expect("an RSA signature of a buffer of the modulus' length");
                out
            }
        };
        jws.push('.');
        B64URL.encode_string(signature, &mut jws);
        jws
    }

    pub fn decoding_key(&self, kid: &str) -> Option<DecodingKey> {
        self.verifying_key(kid).map(|(_, key)| key)
    }

    /// The key of `kid` with the one algorithm it may be used with.
    pub fn verifying_key(&self, kid: &str) -> Option<(Algorithm, DecodingKey)> {
        let published = self.published.read().expect("not poisoned");
        published
            .decoding
            .get(kid)
            .map(|(alg, key)| (*alg, key.clone()))
    }

    pub fn jwks(&self) -> Value {
        self.published.read().expect("not poisoned").jwks.clone()
    }
}

/// What is published: active keys, and retired ones until the longest-lived token they may
/// have signed has expired.
fn publish(all: &[SigningKeyRecord], now: i64) -> anyhow::Result<Published> {
    let mut decoding = HashMap::new();
    let mut jwks = Vec::new();
    let published = all
        .iter()
        .filter(|k| k.active || k.retired_at.is_some_and(|at| at + MAX_LIFETIME_MS > now));
    for k in published {
        let raw = B64URL.decode(&k.public_key)?;
        match k.alg.as_str() {
            ED25519 => {
                if raw.len() != 32 {
                    anyhow::bail!("signing key {} has a malformed public key", k.kid);
                }
                decoding.insert(
                    k.kid.clone(),
                    (Algorithm::EdDSA, DecodingKey::from_ed_der(&raw)),
                );
                jwks.push(json!({
                    "kty": "OKP", "crv": "Ed25519", "x": k.public_key,
                    "kid": k.kid, "alg": ED25519, "use": "sig",
                }));
            }
            RS256 => {
                let public = rsa::RsaPublicKey::from_pkcs1_der(&raw).map_err(|e| {
                    anyhow::anyhow!("signing key {} has a malformed public key: {e}", k.kid)
                })?;
                decoding.insert(
                    k.kid.clone(),
                    (Algorithm::RS256, DecodingKey::from_rsa_der(&raw)),
                );
                jwks.push(json!({
                    "kty": "RSA",
                    "n": B64URL.encode(public.n().to_bytes_be()),
                    "e": B64URL.encode(public.e().to_bytes_be()),
                    "kid": k.kid, "alg": RS256, "use": "sig",
                }));
            }
            other => tracing::warn!(kid = %k.kid, alg = other, "unknown signing key skipped"),
        }
    }
    Ok(Published {
        decoding,
        jwks: json!({ "keys": jwks }),
    })
}

fn ed25519_record(seed: [u8; 32], secrets: &SecretBox, now: i64) -> SigningKeyRecord {
    let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
    SigningKeyRecord {
        kid: key_id(&public),
        alg: ED25519.into(),
        private_key: secrets.seal(&seed),
        public_key: B64URL.encode(public),
        active: true,
        created_at: now,
        retired_at: None,
    }
}

fn rsa_record(secrets: &SecretBox, now: i64) -> anyhow::Result<SigningKeyRecord> {
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS)?;
    let pkcs8 = private.to_pkcs8_der()?;
    let public = private.to_public_key().to_pkcs1_der()?;
    Ok(SigningKeyRecord {
        kid: key_id(public.as_bytes()),
        alg: RS256.into(),
        private_key: secrets.seal(pkcs8.as_bytes()),
        public_key: B64URL.encode(public.as_bytes()),
        active: true,
        created_at: now,
        retired_at: None,
    })
}

fn key_id(public: &[u8]) -> String {
    B64URL.encode(&Sha256::digest(public)[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rs256_signatures_verify_against_the_published_key() {
        let keys = SigningKeys::from_seed([4; 32]);
        let kid = keys.kid(JwsAlg::RS256).to_string();
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": kid}).to_string();
        let token = keys.sign_compact(JwsAlg::RS256, header.as_bytes(), br#"{"sub":"1"}"#);
        let (alg, key) = keys.verifying_key(&kid).unwrap();
        assert_eq!(alg, Algorithm::RS256);
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap();
        assert_eq!(data.claims["sub"], "1");
        let jwks = keys.jwks();
        let rsa_jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kty"] == "RSA")
            .unwrap();
        assert_eq!(rsa_jwk["kid"], kid.as_str());
        assert_eq!(rsa_jwk["e"], "AQAB");
        assert!(B64URL.decode(rsa_jwk["n"].as_str().unwrap()).unwrap().len() >= 256);
        assert_ne!(keys.kid(JwsAlg::EdDSA), kid);
    }
}
