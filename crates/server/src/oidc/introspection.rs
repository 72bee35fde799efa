//! Token introspection (RFC 7662) and revocation (RFC 7009), both for authenticated clients
//! and only about their own tokens: anyone else's token is simply not active.

use crate::audit::Entry;
use crate::http::client::ClientInfo;
use crate::oidc::access::judge;
use crate::oidc::client_auth;
use crate::oidc::errors::OAuthError;
use crate::oidc::grants::standing;
use crate::oidc::params::parse;
use crate::oidc::token::no_store;
use crate::oidc::{claims::subject, hash_code};
use crate::state::AppState;
use authgate_core::audit::event;
use authgate_core::clock::now_ms;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

fn token_param(params: &[(String, String)]) -> Result<&str, OAuthError> {
    params
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("token is missing"))
}

/// Access tokens are JWTs (three dot-separated parts); refresh tokens are not.
fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    from: ClientInfo,
    body: Bytes,
) -> Response {
    let params = parse(&body);
    let result = async {
        let client = client_auth::authenticate(&state, &headers, &params, &from).await?;
        if client.is_public() {
            return Err(OAuthError::invalid_client(
                "introspection needs a client with a secret",
            ));
        }
        let token = token_param(&params)?;
        describe(&state, &client.id, token).await
    }
    .await;
    match result {
        Ok(v) => no_store(Json(v).into_response()),
        Err(e) => e.into_response(),
    }
}

async fn describe(state: &AppState, client_id: &str, token: &str) -> Result<Value, OAuthError> {
    let inactive = json!({"active": false});
    let now = now_ms();
    let issuer = state.config.public_origin();
    if looks_like_jwt(token) {
        let Ok(live) = judge(state, token, now).await? else {
            return Ok(inactive);
        };
        let c = &live.claims;
        if c.client_id != client_id {
            return Ok(inactive);
        }
        let mut out = json!({
            "active": true, "token_type": "Bearer", "scope": c.scope, "client_id": c.client_id,
            "sub": c.sub, "aud": c.aud, "iss": issuer, "exp": c.exp, "iat": c.iat, "jti": c.jti,
        });
        if let Some(g) = &live.grant {
            if let Some(name) = &g.user.username {
                out["username"] = json!(name);
            }
        }
        return Ok(out);
    }
    if token.len() > 200 {
        return Ok(inactive);
    }
    let Some((record, ctx)) = state
        .store
        .refresh_token_context(&hash_code(token))
        .await
        .map_err(OAuthError::from_store)?
    else {
        return Ok(inactive);
    };
    if ctx.grant.client_id != client_id || record.used_at.is_some() || standing(&ctx, now).is_err()
    {
        return Ok(inactive);
    }
    let mut out = json!({
        "active": true, "token_type": "refresh_token", "scope": ctx.grant.scope,
        "client_id": ctx.grant.client_id, "sub": subject(ctx.grant.user_id), "iss": issuer,
        "exp": ctx.grant.expires_at / 1000, "iat": record.issued_at / 1000,
    });
    if let Some(name) = &ctx.user.username {
        out["username"] = json!(name);
    }
    Ok(out)
}

pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    from: ClientInfo,
    body: Bytes,
) -> Response {
    let params = parse(&body);
    let result = async {
        let client = client_auth::authenticate(&state, &headers, &params, &from).await?;
        let token = token_param(&params)?;
        revoke_token(&state, &client.id, token, &from).await
    }
    .await;
    match result {
        // RFC 7009 2.2: an unknown or foreign token is answered as a success.
        Ok(()) => no_store(Json(json!({})).into_response()),
        Err(e) => e.into_response(),
    }
}

async fn revoke_token(
    state: &AppState,
    client_id: &str,
    token: &str,
    from: &ClientInfo,
) -> Result<(), OAuthError> {
    let store_err = OAuthError::from_store;
    let issuer = state.config.public_origin();
    let mut revoked_for: Option<i64> = None;
    if looks_like_jwt(token) {
        if let Some(c) = state
            .oidc
            .verified
            .verify(state.tokens.keys(), &issuer, token)
        {
            if c.client_id == client_id {
                state
                    .store
                    .revoke_access_token(&c.jti, c.exp.saturating_mul(1000))
                    .await
                    .map_err(store_err)?;
                revoked_for = c.sub.parse().ok().filter(|_| c.gid.is_some());
            }
        }
    } else if token.len() <= 200 {
        if let Some((_, ctx)) = state
            .store
            .refresh_token_context(&hash_code(token))
            .await
            .map_err(store_err)?
        {
            if ctx.grant.client_id == client_id {
                state
                    .store
                    .revoke_grant(&ctx.grant.id, now_ms())
                    .await
                    .map_err(store_err)?;
                revoked_for = Some(ctx.grant.user_id);
            }
        }
    }
    if let Some(user_id) = revoked_for {
        state
            .audit(Entry {
                event: event::OIDC_REVOKE,
                user_id: Some(user_id),
                client: Some(from),
                detail: json!({"clientId": client_id})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                ..Default::default()
            })
            .await;
    }
    Ok(())
}
