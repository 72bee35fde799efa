//! Whether a grant still stands, and the tokens issued from it.

use crate::oidc::claims::{self, subject};
use crate::oidc::client::Client;
use crate::oidc::jwt::{self, AccessClaims, ID_TOKEN_TTL_S};
use crate::state::AppState;
use authgate_store::GrantContext;
use serde_json::{json, Map, Value};

/// A grant is used up when revoked or expired, when its user is disabled or changed their
/// password after it was given, or (unless `offline_access`) when its session was revoked.
pub fn standing(ctx: &GrantContext, now: i64) -> Result<(), &'static str> {
    let g = &ctx.grant;
    if g.revoked_at.is_some() {
        return Err("the grant was revoked");
    }
    if g.expires_at <= now {
        return Err("the grant has expired");
    }
    if !ctx.user.enabled {
        return Err("the user is disabled");
    }
    if ctx
        .user
        .password_changed_at
        .is_some_and(|at| at > g.created_at)
    {
        return Err("the user changed their password since");
    }
    if !g.offline && ctx.session_revoked {
        return Err("the session it belongs to has ended");
    }
    Ok(())
}

/// What the token endpoint answers for a grant.
pub struct Issued {
    pub access_token: String,
    pub expires_in: i64,
    pub id_token: String,
    pub scope: String,
}

pub async fn issue(
    state: &AppState,
    client: &Client,
    ctx: &GrantContext,
    now: i64,
) -> Result<Issued, crate::error::ApiError> {
    let g = &ctx.grant;
    let issuer = state.config.public_origin();
    let keys = state.tokens.keys();
    let ttl = client.settings.access_token_ttl_s;
    let access = AccessClaims {
        iss: issuer.clone(),
        sub: subject(g.user_id),
        aud: client.id.clone(),
        client_id: client.id.clone(),
        scope: g.scope.clone(),
        iat: now / 1000,
        exp: now / 1000 + ttl,
        jti: crate::random_id::random_id(),
        gid: Some(g.id.clone()),
        auth_time: Some(g.auth_time / 1000),
    };
    let access_token = jwt::sign_access_token(keys, &access);

    let mut id = Map::new();
    id.insert("iss".into(), json!(issuer));
    id.insert("sub".into(), json!(subject(g.user_id)));
    id.insert("aud".into(), json!(client.id));
    id.insert("exp".into(), json!(now / 1000 + ID_TOKEN_TTL_S));
    id.insert("iat".into(), json!(now / 1000));
    id.insert("auth_time".into(), json!(g.auth_time / 1000));
    if let Some(nonce) = &g.nonce {
        id.insert("nonce".into(), json!(nonce));
    }
    id.insert("amr".into(), json!([g.amr]));
    id.insert("sid".into(), json!(session_sid(&g.session_id)));
    id.insert("azp".into(), json!(client.id));
    let alg = client.settings.id_token_signed_response_alg.into();
    if alg == crate::auth::keys::JwsAlg::RS256 && !keys.rsa_ready().await {
        return Err(crate::error::ApiError::unavailable(
            "the RSA signing key is not ready",
        ));
    }
    id.insert("at_hash".into(), json!(jwt::at_hash(alg, &access_token)));
    // Claims asked for in the ID token by the `claims` parameter (scope claims come from
    // userinfo, OIDC Core 5.4, since an access token is always issued).
    let asked: Option<Value> = g
        .claims
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok());
    if asked.as_ref().is_some_and(|a| a.get("id_token").is_some()) {
        let names = claims::requested("", asked.as_ref(), "id_token");
        let identities = state.store.list_identities(g.user_id).await?;
        id.extend(claims::values(&ctx.user, &identities, &names));
    }
    let id_token = jwt::sign(keys, alg, "JWT", &Value::Object(id));
    Ok(Issued {
        access_token,
        expires_in: ttl,
        id_token,
        scope: g.scope.clone(),
    })
}

/// `sid`: a stable stand-in for the session id (which stays private: it names the session in
/// the admin API).
pub fn session_sid(session_id: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
    use base64::Engine;
    use sha2::{Digest, Sha256};
    B64URL.encode(&Sha256::digest(format!("sid:{session_id}").as_bytes())[..16])
}
