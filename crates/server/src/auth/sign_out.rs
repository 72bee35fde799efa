//! Ending a session the way every sign-out does (the API's, the sign-out page's, an OpenID
//! Connect application's): revoked on every node, applications told over the back channel,
//! and an audit entry.

use crate::audit::Entry;
use crate::auth::sessions::Authenticated;
use crate::error::ApiResult;
use crate::http::client::ClientInfo;
use crate::state::AppState;
use authgate_core::clock::now_ms;
use serde_json::{Map, Value};

/// How the session ended, for the session's record and the audit log.
pub struct Ending<'a> {
    /// Kept with the revoked session.
    pub reason: &'static str,
    pub event: &'static str,
    pub detail: Map<String, Value>,
    pub from: &'a ClientInfo,
}

pub async fn end_session(state: &AppState, me: &Authenticated, how: Ending<'_>) -> ApiResult<()> {
    state
        .store
        .revoke_session(&me.session_id, how.reason, Some(me.user.id), now_ms())
        .await?;
    crate::oidc::backchannel::session_ended(state, &me.session_id, me.user.id).await;
    state
        .audit(Entry {
            event: how.event,
            user_id: Some(me.user.id),
            authenticator: Some(me.authenticator.clone()),
            client: Some(how.from),
            detail: how.detail,
            ..Default::default()
        })
        .await;
    Ok(())
}
