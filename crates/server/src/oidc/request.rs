//! An authorization request (OIDC Core 3.1.2.1), read and checked in the order RFC 6749
//! 4.1.2.1 requires: until the client and its redirect URI are known to be right, a problem is
//! shown to the person (never redirected); afterwards it goes back to the client.

use crate::oidc::client::Client;
use crate::oidc::jwt::{self, IdTokenClaims};
use crate::oidc::params::{first_repeated, param};
use crate::state::AppState;
use serde_json::Value;

const MAX_STATE: usize = 2048;
const MAX_NONCE: usize = 512;
const MAX_PARAM: usize = 4096;

/// Where the answer goes: `query` (the default for `code`) or `form_post`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// An error that may go back to the client (RFC 6749 4.1.2.1).
#[derive(Debug, Clone)]
pub struct ClientError {
    pub error: &'static str,
    pub description: String,
}

pub fn client_error(error: &'static str, description: impl Into<String>) -> ClientError {
    ClientError {
        error,
        description: description.into(),
    }
}

/// Why a request cannot even be answered to its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unanswerable {
    MissingClient,
    UnknownClient,
    DisabledClient,
    MissingRedirectUri,
    UnregisteredRedirectUri,
    RepeatedParameter,
}

/// Where the answer to a request goes, known once client and redirect URI check out.
#[derive(Debug, Clone)]
pub struct ReplyTo {
    pub client: Client,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub mode: ResponseMode,
}

/// A request that may be answered with a code.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub reply: ReplyTo,
    /// The scopes asked for that the client may have, `openid` first.
    pub scope: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Vec<String>,
    pub max_age: Option<i64>,
    pub claims: Option<Value>,
    pub id_token_hint: Option<IdTokenClaims>,
    /// The parameters as received (to resume the request after sign-in).
    pub params: Vec<(String, String)>,
}

impl AuthorizationRequest {
    pub fn prompts(&self, value: &str) -> bool {
        self.prompt.iter().any(|p| p == value)
    }
    pub fn scope_text(&self) -> String {
        self.scope.join(" ")
    }
}

pub enum Checked {
    Ok(Box<AuthorizationRequest>),
    /// Goes back to the client.
    Refused(Box<ReplyTo>, ClientError),
    /// Shown to the person.
    Unanswerable(Unanswerable),
}

/// Reads and checks the request's parameters.
pub async fn check(
    state: &AppState,
    params: Vec<(String, String)>,
) -> Result<Checked, crate::error::ApiError> {
    // RFC 6749 3.1: a parameter sent twice makes the request invalid. Before the redirect URI
    // is trusted, that is the person's to see.
    let repeated = |name: &str| params.iter().filter(|(k, _)| k == name).count() > 1;
    if repeated("client_id") || repeated("redirect_uri") {
        return Ok(Checked::Unanswerable(Unanswerable::RepeatedParameter));
    }
    let Some(client_id) = param(&params, "client_id") else {
        return Ok(Checked::Unanswerable(Unanswerable::MissingClient));
    };
    if client_id.len() > 200 {
        return Ok(Checked::Unanswerable(Unanswerable::UnknownClient));
    }
    let Some(record) = state.store.get_oidc_client(client_id).await? else {
        return Ok(Checked::Unanswerable(Unanswerable::UnknownClient));
    };
    let client = Client::from_record(record).map_err(crate::error::ApiError::internal)?;
    if !client.enabled {
        return Ok(Checked::Unanswerable(Unanswerable::DisabledClient));
    }
    let Some(redirect_uri) = param(&params, "redirect_uri") else {
        return Ok(Checked::Unanswerable(Unanswerable::MissingRedirectUri));
    };
    if !client.has_redirect_uri(redirect_uri) {
        return Ok(Checked::Unanswerable(Unanswerable::UnregisteredRedirectUri));
    }
    let mode = match param(&params, "response_mode") {
        Some("form_post") => ResponseMode::FormPost,
        _ => ResponseMode::Query,
    };
    let reply = ReplyTo {
        redirect_uri: redirect_uri.to_string(),
        state: param(&params, "state").map(str::to_string),
        mode,
        client,
    };
    match check_rest(state, &reply, &params) {
        Ok(mut request) => {
            request.params = params;
            Ok(Checked::Ok(Box::new(request)))
        }
        Err(e) => Ok(Checked::Refused(Box::new(reply), e)),
    }
}

fn check_rest(
    state: &AppState,
    reply: &ReplyTo,
    params: &[(String, String)],
) -> Result<AuthorizationRequest, ClientError> {
    let invalid = |d: &str| client_error("invalid_request", d);
    if let Some(name) = first_repeated(params) {
        return Err(invalid(&format!("the parameter {name} is repeated")));
    }
    if params.iter().any(|(_, v)| v.len() > MAX_PARAM) {
        return Err(invalid("a parameter is longer than 4096 bytes"));
    }
    if reply.state.as_ref().is_some_and(|s| s.len() > MAX_STATE) {
        return Err(invalid("state is longer than 2048 bytes"));
    }
    if let Some(mode) = param(params, "response_mode") {
        if !matches!(mode, "query" | "form_post") {
            return Err(invalid("response_mode must be query or form_post"));
        }
    }
    if param(params, "request").is_some() {
        return Err(client_error(
            "request_not_supported",
            "request objects are not supported",
        ));
    }
    if param(params, "request_uri").is_some() {
        return Err(client_error(
            "request_uri_not_supported",
            "request_uri is not supported",
        ));
    }
    match param(params, "response_type") {
        None => return Err(invalid("response_type is missing")),
        Some("code") => {}
        Some(_) => {
            return Err(client_error(
                "unsupported_response_type",
                "only response_type=code is supported",
            ))
        }
    }
    let asked: Vec<&str> = param(params, "scope")
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if !asked.contains(&"openid") {
        return Err(client_error("invalid_scope", "scope must contain openid"));
    }
    let mut scope = vec!["openid".to_string()];
    for s in asked {
        if s != "openid" && reply.client.allows_scope(s) && !scope.iter().any(|k| k == s) {
            scope.push(s.to_string());
        }
    }
    let nonce = param(params, "nonce").map(str::to_string);
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_NONCE) {
        return Err(invalid("nonce is longer than 512 bytes"));
    }
    let code_challenge = match (
        param(params, "code_challenge"),
        param(params, "code_challenge_method"),
    ) {
        (None, None) => None,
        (None, Some(_)) => return Err(invalid("code_challenge_method without code_challenge")),
        (Some(c), Some("S256")) => Some(c),
        (Some(_), None | Some("plain")) => {
            return Err(invalid("code_challenge_method must be S256"))
        }
        (Some(_), Some(_)) => return Err(invalid("code_challenge_method must be S256")),
    };
    if let Some(c) = code_challenge {
        let ok = (43..=128).contains(&c.len())
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !ok {
            return Err(invalid(
                "code_challenge must be 43 to 128 characters of base64url",
            ));
        }
    }
    if code_challenge.is_none() && reply.client.is_public() {
        return Err(invalid(
            "this client must use PKCE (code_challenge with S256)",
        ));
    }
    let prompt: Vec<String> = param(params, "prompt")
        .unwrap_or_default()
        .split(' ')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = prompt
        .iter()
        .find(|p| !matches!(p.as_str(), "none" | "login" | "consent" | "select_account"))
    {
        return Err(invalid(&format!("prompt value {bad} is not supported")));
    }
    if prompt.iter().any(|p| p == "none") && prompt.len() > 1 {
        return Err(invalid("prompt=none cannot be combined with other values"));
    }
    let max_age = match param(params, "max_age") {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| invalid("max_age must be a non-negative number of seconds"))?,
        ),
    };
    let claims = match param(params, "claims") {
        None => None,
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(v @ Value::Object(_)) => Some(v),
            _ => return Err(invalid("claims must be a JSON object")),
        },
    };
    let id_token_hint = match param(params, "id_token_hint") {
        None => None,
        Some(hint) => Some(
            jwt::verify_signed::<IdTokenClaims>(
                state.tokens.keys(),
                &state.config.public_origin(),
                hint,
            )
            .ok_or_else(|| invalid("id_token_hint is not an ID token of this provider"))?,
        ),
    };
    Ok(AuthorizationRequest {
        reply: reply.clone(),
        scope,
        nonce,
        code_challenge: code_challenge.map(str::to_string),
        prompt,
        max_age,
        claims,
        id_token_hint,
        params: Vec::new(),
    })
}
