//! Issuing sessions and judging presented tokens with NocoBase's rules: a token lives
//! `token_ttl`; once expired it may be renewed, once, within `renew_window`; the session ends
//! `session_ttl` after sign-in; a revoked session or a later password change ends it at once.

use crate::audit::Entry;
use crate::error::{ApiError, ApiResult, Text};
use crate::http::client::ClientInfo;
use crate::random_id::random_id;
use crate::state::AppState;
use authgate_core::audit::{event, Outcome};
use authgate_core::clock::now_ms;
use authgate_core::model::{IssuedToken, Session, User};
use authgate_core::token_policy::TokenPolicy;
use authgate_store::{RenewOutcome, TokenContext};

/// How long after a renewal the old token still yields the same new token, so concurrent
/// requests that carried the old one all end up with one new token.
pub const RENEW_GRACE_MS: i64 = 60_000;

#[derive(Debug, Clone)]
pub struct IssuedSession {
    pub token: String,
    pub session_id: String,
    /// When the session ends at the latest (ms).
    pub session_expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub session_id: String,
    pub jti: String,
    pub authenticator: String,
    /// Set when this request renewed an expired token: sent back in `x-new-token`.
    pub new_token: Option<String>,
    pub signed_in_at: i64,
    pub session_expires_at: i64,
}

/// A session about to start: its rows, written by whoever finishes the sign-in (alone, or in
/// the transaction that also resolved the user), then [`NewSession::issue`] signs its token.
pub struct NewSession {
    pub session: Session,
    pub token: IssuedToken,
    session_expires_at: i64,
}

/// A new session for `user_id` (0 while the user is still to be resolved) with the current
/// token policy.
pub async fn new_session(
    state: &AppState,
    user_id: i64,
    authenticator: &str,
    client: &ClientInfo,
) -> ApiResult<NewSession> {
    let now = now_ms();
    let policy = state.store.token_policy().await?;
    let session = Session {
        id: random_id(),
        user_id,
        authenticator: authenticator.to_string(),
        signed_in_at: now,
        last_renewed_at: None,
        ip: Some(client.ip.clone()),
        user_agent: client.user_agent.clone(),
        revoked_at: None,
    };
    let token = IssuedToken {
        jti: random_id(),
        session_id: session.id.clone(),
        user_id,
        issued_at: now,
        expires_at: now.saturating_add(policy.token_ttl_ms),
        renewed_to: None,
        renewed_at: None,
    };
    Ok(NewSession {
        session,
        token,
        session_expires_at: now.saturating_add(policy.session_ttl_ms),
    })
}

impl NewSession {
    /// The signed token of this session, once its rows are stored for `user_id`.
    pub fn issue(mut self, state: &AppState, user_id: i64) -> ApiResult<IssuedSession> {
        self.token.user_id = user_id;
        let jwt = state
            .tokens
            .sign(&state.tokens.claims_for(&self.token, self.token.issued_at))?;
        Ok(IssuedSession {
            token: jwt,
            session_id: self.session.id,
            session_expires_at: self.session_expires_at,
        })
    }
}

/// A new session for `user`, stored with `audit` (the entry recording it, if any) in one
/// transaction.
pub async fn issue_session(
    state: &AppState,
    user: &User,
    authenticator: &str,
    client: &ClientInfo,
    audit: Option<Entry<'_>>,
) -> ApiResult<IssuedSession> {
    let new = new_session(state, user.id, authenticator, client).await?;
    let audit: Vec<_> = audit.into_iter().map(Entry::into_record).collect();
    state
        .store
        .create_session(&new.session, &new.token, &audit)
        .await?;
    new.issue(state, user.id)
}

/// The user and session a presented token stands for, or why it is refused; an expired token
/// within its renewal window is renewed ([`renew`]).
pub async fn authenticate(
    state: &AppState,
    token: &str,
    client: &ClientInfo,
) -> ApiResult<Authenticated> {
    let claims = state.tokens.decode(token)?;
    let ctx = state
        .store
        .token_context(&claims.jti)
        .await?
        .ok_or_else(invalid_token)?;
    if ctx.user.id != claims.user_id || ctx.token.issued_at / 1000 != claims.iat {
        return Err(invalid_token());
    }
    let TokenContext {
        token: issued,
        session,
        user,
    } = ctx;
    if session.revoked_at.is_some() {
        return Err(ApiError::unauthorized(
            "BLOCKED_TOKEN",
            Text::new(
                "You have been signed out (the session was revoked), please sign in again",
                "你已退出登录（会话已被撤销），请重新登录",
            ),
        ));
    }
    if !user.enabled {
        return Err(ApiError::unauthorized(
            "NOT_EXIST_USER",
            Text::new(
                "This account is disabled, please contact your administrator",
                "此账号已停用，请联系管理员",
            ),
        ));
    }
    if user
        .password_changed_at
        .is_some_and(|changed| changed > session.signed_in_at)
    {
        return Err(ApiError::unauthorized(
            "INVALID_TOKEN",
            Text::new(
                "Your password was changed, please sign in again",
                "你的密码已更改，请重新登录",
            ),
        ));
    }
    let now = now_ms();
    let policy = state.store.token_policy().await?;
    let session_expires_at = session.signed_in_at.saturating_add(policy.session_ttl_ms);
    if now >= session_expires_at {
        return Err(ApiError::unauthorized(
            "EXPIRED_SESSION",
            Text::new(
                "Your session has expired, please sign in again",
                "你的会话已过期，请重新登录",
            ),
        ));
    }
    let authenticated = Authenticated {
        user,
        session_id: session.id,
        jti: issued.jti,
        authenticator: session.authenticator,
        new_token: None,
        signed_in_at: session.signed_in_at,
        session_expires_at,
    };
    let token_expired_at = claims.exp.saturating_mul(1000);
    if now < token_expired_at {
        return Ok(authenticated);
    }
    if now >= token_expired_at.saturating_add(policy.renew_window_ms) {
        return Err(ApiError::unauthorized(
            "EXPIRED_TOKEN",
            Text::new(
                "Your sign-in has expired, please sign in again",
                "你的登录已过期，请重新登录",
            ),
        ));
    }
    renew(state, authenticated, &policy, client, now).await
}

/// Renews the expired token `authenticated.jti` once, whichever node asks: the new token goes
/// back in `x-new-token`. Requests that carried the old token at the same time (within
/// [`RENEW_GRACE_MS`]) all get the one new token.
async fn renew(
    state: &AppState,
    mut authenticated: Authenticated,
    policy: &TokenPolicy,
    client: &ClientInfo,
    now: i64,
) -> ApiResult<Authenticated> {
    let renewed = IssuedToken {
        jti: random_id(),
        session_id: authenticated.session_id.clone(),
        user_id: authenticated.user.id,
        issued_at: now,
        expires_at: now.saturating_add(policy.token_ttl_ms),
        renewed_to: None,
        renewed_at: None,
    };
    let outcome = state
        .store
        .renew_token(&authenticated.jti, &renewed, now)
        .await?;
    let new_token = match outcome {
        RenewOutcome::Renewed => {
            state
                .audit(crate::audit::Entry {
                    event: event::TOKEN_RENEW,
                    outcome: Outcome::Success,
                    user_id: Some(authenticated.user.id),
                    authenticator: Some(authenticated.authenticator.clone()),
                    client: Some(client),
                    ..Default::default()
                })
                .await;
            renewed
        }
        RenewOutcome::AlreadyRenewed(winner) if now - winner.issued_at <= RENEW_GRACE_MS => winner,
        RenewOutcome::AlreadyRenewed(_) => {
            return Err(ApiError::unauthorized(
                "TOKEN_RENEW_FAILED",
                Text::new(
                    "This token was already renewed; use the new token or sign in again",
                    "此令牌已续期过；请使用新令牌或重新登录",
                ),
            ))
        }
        RenewOutcome::Missing => return Err(invalid_token()),
    };
    let claims = state
        .tokens
        .claims_for(&new_token, authenticated.signed_in_at);
    authenticated.new_token = Some(state.tokens.sign(&claims)?);
    authenticated.jti = new_token.jti;
    Ok(authenticated)
}

fn invalid_token() -> ApiError {
    ApiError::unauthorized(
        "INVALID_TOKEN",
        Text::new(
            "The token is invalid, please sign in again",
            "令牌无效，请重新登录",
        ),
    )
}
