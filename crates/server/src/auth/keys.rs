//! Ed25519 signing keys: generated once, stored sealed in the database so every node signs
//! with the same key, and published as a JWKS so applications can verify tokens themselves.

use authgate_core::secret_box::SecretBox;
use authgate_store::{SigningKeyRecord, Store};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// RFC 8410 PKCS#8 v1 prefix for an Ed25519 private key; the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

pub struct SigningKeys {
    pub active_kid: String,
    /// The active key in `jsonwebtoken`'s form (tests forge tokens with it).
    pub encoding: EncodingKey,
    /// The active key, parsed once: tokens are signed with it directly.
    signing: SigningKey,
    decoding: HashMap<String, DecodingKey>,
    jwks: Value,
}

impl SigningKeys {
    /// Loads the active key, creating it on an empty database (safe when nodes race).
    pub async fn load_or_create(
        store: &dyn Store,
        secrets: &SecretBox,
        now: i64,
    ) -> anyhow::Result<Self> {
        let candidate = new_record(rand::random(), secrets, now);
        let active = store.ensure_active_signing_key(&candidate).await?;
        let all = store.list_signing_keys().await?;
        Self::from_records(&active, &all, secrets)
    }

    /// One active key from a fixed seed, without a database (tests and fuzz targets).
    #[doc(hidden)]
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let secrets = SecretBox::new(&[0x5a; 32]).expect("a 32-byte key");
        let record = new_record(seed, &secrets, 0);
        Self::from_records(&record, std::slice::from_ref(&record), &secrets)
            .expect("a freshly made key is well-formed")
    }

    fn from_records(
        active: &SigningKeyRecord,
        all: &[SigningKeyRecord],
        secrets: &SecretBox,
    ) -> anyhow::Result<Self> {
        let seed = secrets
            .open(&active.private_key)
            .map_err(|e| anyhow::anyhow!("the signing key cannot be decrypted: {e}"))?;
        if seed.len() != 32 {
            anyhow::bail!("the stored signing key is malformed");
        }
        let mut der = PKCS8_ED25519_PREFIX.to_vec();
        der.extend_from_slice(&seed);
        let mut decoding = HashMap::new();
        let mut jwks = Vec::new();
        for k in all {
            let raw = B64URL.decode(&k.public_key)?;
            if raw.len() != 32 {
                anyhow::bail!("signing key {} has a malformed public key", k.kid);
            }
            decoding.insert(k.kid.clone(), DecodingKey::from_ed_der(&raw));
            jwks.push(json!({
                "kty": "OKP", "crv": "Ed25519", "x": k.public_key,
                "kid": k.kid, "alg": "EdDSA", "use": "sig",
            }));
        }
        let seed: [u8; 32] = seed[..].try_into()?;
        Ok(Self {
            active_kid: active.kid.clone(),
            encoding: EncodingKey::from_ed_der(&der),
            signing: SigningKey::from_bytes(&seed),
            decoding,
            jwks: json!({ "keys": jwks }),
        })
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    pub fn decoding_key(&self, kid: &str) -> Option<&DecodingKey> {
        self.decoding.get(kid)
    }

    pub fn jwks(&self) -> &Value {
        &self.jwks
    }
}

fn new_record(seed: [u8; 32], secrets: &SecretBox, now: i64) -> SigningKeyRecord {
    let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
    SigningKeyRecord {
        kid: key_id(&public),
        alg: "EdDSA".into(),
        private_key: secrets.seal(&seed),
        public_key: B64URL.encode(public),
        active: true,
        created_at: now,
    }
}

fn key_id(public: &[u8]) -> String {
    B64URL.encode(&Sha256::digest(public)[..12])
}
