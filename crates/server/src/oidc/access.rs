//! Judging a presented access token: our signature, not expired, its client still enabled,
//! not revoked, and its grant still standing (checked on every node within the store's
//! 500 ms cache).

use crate::oidc::grants::standing;
use crate::oidc::jwt::AccessClaims;
use crate::state::AppState;
use authgate_core::model::Identity;
use authgate_store::GrantContext;

/// A live access token: its claims, and its grant (none for `client_credentials`) with its
/// user's identities.
pub struct LiveToken {
    pub claims: AccessClaims,
    pub grant: Option<GrantContext>,
    pub identities: Vec<Identity>,
}

pub async fn judge(
    state: &AppState,
    token: &str,
    now: i64,
) -> Result<Result<LiveToken, &'static str>, crate::error::ApiError> {
    let issuer = state.config.public_origin();
    let Some(claims) = state
        .oidc
        .verified
        .verify(state.tokens.keys(), &issuer, token)
    else {
        return Ok(Err("the token is not one of ours"));
    };
    if claims.exp.saturating_mul(1000) <= now {
        return Ok(Err("the token has expired"));
    }
    match state.store.get_oidc_client(&claims.client_id).await? {
        Some(c) if c.enabled => {}
        _ => return Ok(Err("the token's client is gone or disabled")),
    }
    let context = state
        .store
        .access_token_context(&claims.jti, claims.gid.as_deref())
        .await?;
    if context.revoked {
        return Ok(Err("the token was revoked"));
    }
    match (&claims.gid, context.grant) {
        (None, _) => Ok(Ok(LiveToken {
            claims,
            grant: None,
            identities: Vec::new(),
        })),
        (Some(_), None) => Ok(Err("the token's grant is gone")),
        (Some(_), Some(grant)) => match standing(&grant, now) {
            Ok(()) => Ok(Ok(LiveToken {
                claims,
                grant: Some(grant),
                identities: context.identities,
            })),
            Err(why) => Ok(Err(why)),
        },
    }
}
