//! Who is calling the token, introspection and revocation endpoints (RFC 6749 2.3): the
//! method the client registered, and nothing else.

use crate::http::client::ClientInfo;
use crate::oidc::client::{AuthMethod, Client};
use crate::oidc::errors::OAuthError;
use crate::state::AppState;
use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

fn form<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `client_id` and secret from `Authorization: Basic` (each form-urlencoded first, RFC 6749
/// 2.3.1), if that is how they came.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default();
    let Some((scheme, encoded)) = text.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let malformed = || OAuthError::invalid_client("the Basic credentials are malformed");
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

/// The authenticated client, or `invalid_client` (401). Repeated failures from one address
/// are refused for a while (429) before any secret is compared.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    params: &[(String, String)],
    from: &ClientInfo,
) -> Result<Client, OAuthError> {
    if let Some(wait) = state.oidc.client_auth_failures.spent(&from.ip) {
        return Err(OAuthError::too_many(wait));
    }
    let result = identify(state, headers, params).await;
    if let Err(e) = &result {
        if e.error == "invalid_client" {
            let _ = state.oidc.client_auth_failures.check(&from.ip);
            tracing::info!(reason = %e.description, "client authentication failed");
        }
    }
    result
}

async fn identify(
    state: &AppState,
    headers: &HeaderMap,
    params: &[(String, String)],
) -> Result<Client, OAuthError> {
    let basic = basic_credentials(headers)?;
    let posted_id = form(params, "client_id");
    let posted_secret = form(params, "client_secret");
    if basic.is_some() && posted_secret.is_some() {
        return Err(OAuthError::invalid_request(
            "use one client authentication method, not two",
        ));
    }
    let (id, secret, method) = match (&basic, posted_secret) {
        (Some((id, secret)), None) => {
            if posted_id.is_some_and(|p| p != id) {
                return Err(OAuthError::invalid_request(
                    "client_id differs from the Basic credentials",
                ));
            }
            (
                id.as_str(),
                Some(secret.as_str()),
                AuthMethod::ClientSecretBasic,
            )
        }
        (None, Some(secret)) => (
            posted_id.ok_or_else(|| OAuthError::invalid_client("client_id is missing"))?,
            Some(secret),
            AuthMethod::ClientSecretPost,
        ),
        (None, None) => (
            posted_id.ok_or_else(|| OAuthError::invalid_client("no client authentication"))?,
            None,
            AuthMethod::None,
        ),
        (Some(_), Some(_)) => unreachable!("refused above"),
    };
    let unknown = || OAuthError::invalid_client("unknown client or wrong credentials");
    if id.is_empty() || id.len() > 200 {
        return Err(unknown());
    }
    let record = state
        .store
        .get_oidc_client(id)
        .await
        .map_err(OAuthError::from_store)?
        .ok_or_else(unknown)?;
    let client = Client::from_record(record).map_err(OAuthError::server_error)?;
    if !client.enabled {
        return Err(unknown());
    }
    if client.settings.token_endpoint_auth_method != method {
        return Err(OAuthError::invalid_client(format!(
            "this client authenticates with {}",
            client.settings.token_endpoint_auth_method.name()
        )));
    }
    match secret {
        Some(s) if !client.secret_matches(s) => Err(unknown()),
        _ => Ok(client),
    }
}
