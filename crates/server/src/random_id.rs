//! Unguessable identifiers: session ids, token ids (`jti`), CSRF values, OAuth nonces and the
//! browser binding of the DingTalk flow.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;

/// 128 random bits, URL-safe base64 (22 characters).
pub fn random_id() -> String {
    B64URL.encode(rand::random::<[u8; 16]>())
}
