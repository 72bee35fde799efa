//! The token endpoint (RFC 6749 3.2): `authorization_code` (with PKCE), `refresh_token`
//! (rotated on every use; a reused one ends its family) and `client_credentials`.

use crate::audit::Entry;
use crate::http::client::ClientInfo;
use crate::oidc::client::Client;
use crate::oidc::client_auth;
use crate::oidc::errors::OAuthError;
use crate::oidc::grants::{self, standing};
use crate::oidc::hash_code;
use crate::oidc::jwt::{self, AccessClaims};
use crate::oidc::params::{first_repeated, param, parse};
use crate::state::AppState;
use authgate_core::audit::{event, Outcome};
use authgate_core::clock::now_ms;
use authgate_store::{CodeRedemption, GrantContext, RefreshTokenRecord, Rotation};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    from: ClientInfo,
    body: Bytes,
) -> Response {
    let params = parse(&body);
    match exchange(&state, &headers, &params, &from).await {
        Ok(answer) => no_store(Json(answer).into_response()),
        Err(e) => {
            if e.error != "server_error" && e.error != "temporarily_unavailable" {
                let client_id = params
                    .iter()
                    .find(|(k, _)| k == "client_id")
                    .map(|(_, v)| v.clone());
                state
                    .audit(Entry {
                        event: event::OIDC_TOKEN,
                        outcome: Outcome::Failure,
                        client: Some(&from),
                        reason: Some(format!("{}: {}", e.error, e.description)),
                        detail: json!({"clientId": client_id})
                            .as_object()
                            .cloned()
                            .unwrap_or_default(),
                        ..Default::default()
                    })
                    .await;
            }
            e.into_response()
        }
    }
}

pub fn no_store(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

async fn exchange(
    state: &AppState,
    headers: &HeaderMap,
    params: &[(String, String)],
    from: &ClientInfo,
) -> Result<Value, OAuthError> {
    if let Some(name) = first_repeated(params) {
        return Err(OAuthError::invalid_request(format!(
            "the parameter {name} is repeated"
        )));
    }
    let client = client_auth::authenticate(state, headers, params, from).await?;
    let now = now_ms();
    match param(params, "grant_type") {
        Some("authorization_code") => authorization_code(state, &client, params, now).await,
        Some("refresh_token") => refresh(state, &client, params, now).await,
        Some("client_credentials") => client_credentials(state, &client, params, now),
        Some(_) => Err(OAuthError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be authorization_code, refresh_token or client_credentials",
        )),
        None => Err(OAuthError::invalid_request("grant_type is missing")),
    }
}

/// A new refresh token: 256 random bits, stored only as a hash.
fn new_refresh_token() -> (String, String) {
    let token = B64URL.encode(rand::random::<[u8; 32]>());
    let hash = hash_code(&token);
    (token, hash)
}

async fn authorization_code(
    state: &AppState,
    client: &Client,
    params: &[(String, String)],
    now: i64,
) -> Result<Value, OAuthError> {
    let code =
        param(params, "code").ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
    let redirect_uri = param(params, "redirect_uri")
        .ok_or_else(|| OAuthError::invalid_request("redirect_uri is missing"))?;
    let verifier = param(params, "code_verifier");
    if code.len() > 200 {
        return Err(OAuthError::invalid_grant(
            "the code is unknown, expired or used",
        ));
    }
    let (refresh_token, refresh_hash) = new_refresh_token();
    let candidate = RefreshTokenRecord {
        hash: refresh_hash,
        grant_id: String::new(),
        issued_at: now,
        used_at: None,
    };
    let redeemed = state
        .store
        .redeem_code(&hash_code(code), &client.id, Some(&candidate), now)
        .await
        .map_err(OAuthError::from_store)?;
    let (ctx, refresh_issued) = match redeemed {
        CodeRedemption::Redeemed {
            context,
            refresh_issued,
        } => (context, refresh_issued),
        CodeRedemption::Reused { .. } => {
            tracing::warn!(client = %client.id, "an authorization code was used twice: its grant is revoked");
            return Err(OAuthError::invalid_grant(
                "the code was already used; every token issued from it is now revoked",
            ));
        }
        CodeRedemption::Unknown => {
            return Err(OAuthError::invalid_grant(
                "the code is unknown, expired or used",
            ))
        }
    };
    let g = &ctx.grant;
    let refuse = |why: &'static str| async move {
        // A code presented wrongly is spent: nothing issued from it may stand.
        let _ = state.store.revoke_grant(&g.id, now).await;
        OAuthError::invalid_grant(why)
    };
    if g.redirect_uri != redirect_uri {
        return Err(refuse("redirect_uri differs from the authorization request's").await);
    }
    match (&g.code_challenge, verifier) {
        (Some(challenge), Some(v)) => {
            let valid_verifier = (43..=128).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            let computed = B64URL.encode(Sha256::digest(v.as_bytes()));
            if !valid_verifier
                || !bool::from(subtle::ConstantTimeEq::ct_eq(
                    computed.as_bytes(),
                    challenge.as_bytes(),
                ))
            {
                return Err(refuse("code_verifier does not match the code_challenge").await);
            }
        }
        (Some(_), None) => return Err(refuse("code_verifier is missing (PKCE)").await),
        (None, Some(_)) => return Err(refuse("code_verifier sent but no code_challenge was").await),
        (None, None) => {}
    }
    if let Err(why) = standing(&ctx, now) {
        return Err(OAuthError::invalid_grant(why));
    }
    let issued = grants::issue(state, client, &ctx, now).await?;
    let mut answer = json!({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "id_token": issued.id_token,
        "scope": issued.scope,
    });
    if refresh_issued {
        answer["refresh_token"] = json!(refresh_token);
    }
    Ok(answer)
}

async fn refresh(
    state: &AppState,
    client: &Client,
    params: &[(String, String)],
    now: i64,
) -> Result<Value, OAuthError> {
    let old = param(params, "refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
    if old.len() > 200 {
        return Err(OAuthError::invalid_grant(
            "the refresh token is unknown or revoked",
        ));
    }
    let (new_token, new_hash) = new_refresh_token();
    let rotated = state
        .store
        .rotate_refresh_token(&hash_code(old), &client.id, &new_hash, now)
        .await
        .map_err(OAuthError::from_store)?;
    let mut ctx: GrantContext = match rotated {
        Rotation::Rotated(ctx) => ctx,
        Rotation::Reused { .. } => {
            tracing::warn!(client = %client.id, "a rotated refresh token was used again: its family is revoked");
            return Err(OAuthError::invalid_grant(
                "the refresh token was already used; its whole family is now revoked",
            ));
        }
        Rotation::Unknown => {
            return Err(OAuthError::invalid_grant(
                "the refresh token is unknown or revoked",
            ))
        }
    };
    if let Err(why) = standing(&ctx, now) {
        return Err(OAuthError::invalid_grant(why));
    }
    // A narrower scope may be asked for (RFC 6749 6), never a wider one.
    if let Some(asked) = param(params, "scope") {
        let granted: Vec<&str> = ctx.grant.scope.split(' ').collect();
        let asked: Vec<&str> = asked.split(' ').filter(|s| !s.is_empty()).collect();
        if let Some(extra) = asked.iter().find(|s| !granted.contains(s)) {
            return Err(OAuthError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "invalid_scope",
                format!("{extra} was not granted"),
            ));
        }
        ctx.grant.scope = asked.join(" ");
    }
    // The nonce belonged to the authentication request; a refreshed ID token carries none.
    ctx.grant.nonce = None;
    let issued = grants::issue(state, client, &ctx, now).await?;
    Ok(json!({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "id_token": issued.id_token,
        "refresh_token": new_token,
        "scope": issued.scope,
    }))
}

fn client_credentials(
    state: &AppState,
    client: &Client,
    params: &[(String, String)],
    now: i64,
) -> Result<Value, OAuthError> {
    if !client.settings.client_credentials || client.is_public() {
        return Err(OAuthError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "client_credentials is not enabled for this client",
        ));
    }
    // Scopes about a person mean nothing here; what is left is what the client may have.
    let scope: Vec<&str> = param(params, "scope")
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty() && *s != "openid" && client.allows_scope(s))
        .collect();
    let ttl = client.settings.access_token_ttl_s;
    let claims = AccessClaims {
        iss: state.config.public_origin(),
        sub: client.id.clone(),
        aud: client.id.clone(),
        client_id: client.id.clone(),
        scope: scope.join(" "),
        iat: now / 1000,
        exp: now / 1000 + ttl,
        jti: crate::random_id::random_id(),
        gid: None,
        auth_time: None,
    };
    let token = jwt::sign_access_token(state.tokens.keys(), &claims);
    Ok(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": claims.scope,
    }))
}
