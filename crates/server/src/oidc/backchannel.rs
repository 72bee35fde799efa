//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when an authgate session ends,
//! every client given a grant in it that registered a `backchannelLogoutUri` receives a signed
//! logout token. Delivered in the background with retries: the person never waits for it, and
//! an application that is down cannot block a sign-out.

use crate::oidc::claims::subject;
use crate::oidc::client::Client;
use crate::oidc::grants::session_sid;
use crate::oidc::jwt;
use crate::random_id::random_id;
use crate::state::AppState;
use authgate_core::clock::now_ms;
use authgate_store::GrantQuery;
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;

/// Waits before each try: at once, then after 1, 4 and 16 seconds.
const TRIES: [u64; 4] = [0, 1, 4, 16];
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The session `session_id` of `user_id` ended. Reads the grants to notify now (call it before
/// revoking them); the deliveries go on in the background.
pub async fn session_ended(state: &AppState, session_id: &str, user_id: i64) {
    notify(state, user_id, Some(session_id.to_string())).await;
}

/// Every session of `user_id` ended (an administrator's revocation, a password change).
pub async fn sessions_ended(state: &AppState, user_id: i64) {
    notify(state, user_id, None).await;
}

async fn notify(state: &AppState, user_id: i64, session_id: Option<String>) {
    let query = GrantQuery {
        user_id: Some(user_id),
        session_id,
        now: now_ms(),
        ..GrantQuery::default()
    };
    let grants = match state.store.list_grants(&query).await {
        Ok(g) => g,
        Err(e) => {
            tracing::warn!(error = %e, "back-channel logout: grants unreadable");
            return;
        }
    };
    // One logout token per client and session.
    let mut done = BTreeSet::new();
    for g in grants {
        let session = g.session_id.clone();
        if !done.insert((g.client_id.clone(), session.clone())) {
            continue;
        }
        let Ok(Some(record)) = state.store.get_oidc_client(&g.client_id).await else {
            continue;
        };
        let Ok(client) = Client::from_record(record) else {
            continue;
        };
        if let Some(uri) = client.settings.backchannel_logout_uri.clone() {
            if !state.tokens.keys().rsa_ready().await {
                tracing::warn!(client = %client.id, "back-channel logout skipped: no RSA key yet");
                continue;
            }
            let token = logout_token(state, &client, user_id, &session);
            tokio::spawn(deliver(
                state.oidc.http.clone(),
                client.id.clone(),
                uri,
                token,
            ));
        }
    }
}

fn logout_token(state: &AppState, client: &Client, user_id: i64, session_id: &str) -> String {
    let now = now_ms() / 1000;
    let claims = json!({
        "iss": state.config.public_origin(),
        "aud": client.id,
        "iat": now,
        "exp": now + 120,
        "jti": random_id(),
        "sub": subject(user_id),
        "sid": session_sid(session_id),
        "events": { EVENT: {} },
    });
    let alg = client.settings.id_token_signed_response_alg.into();
    jwt::sign(state.tokens.keys(), alg, "logout+jwt", &claims)
}

async fn deliver(http: reqwest::Client, client_id: String, uri: String, token: String) {
    for (attempt, wait) in TRIES.iter().enumerate() {
        tokio::time::sleep(Duration::from_secs(*wait)).await;
        let sent = http
            .post(&uri)
            .form(&[("logout_token", token.as_str())])
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => return,
            Ok(r) => {
                tracing::info!(client = %client_id, status = %r.status(), attempt, "back-channel logout refused")
            }
            Err(e) => {
                tracing::info!(client = %client_id, error = %e, attempt, "back-channel logout not delivered")
            }
        }
    }
    tracing::warn!(client = %client_id, "back-channel logout given up after {} tries", TRIES.len());
}
