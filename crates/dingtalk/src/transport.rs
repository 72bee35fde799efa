//! Sending one request and turning whatever comes back into a value or a typed [`Error`].

use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};

/// DingTalk answers are a few KiB; anything far larger is not DingTalk.
const MAX_BODY_BYTES: usize = 1 << 20;
/// How much of an unexpected error body is kept for the log.
const SNIPPET_CHARS: usize = 200;
const REQUEST_ID_HEADER: &str = "x-acs-request-id";

/// A complete HTTP answer.
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) request_id: Option<String>,
    pub(crate) body: Vec<u8>,
}

/// Sends `request` and reads the whole answer, mapping transport failures.
pub(crate) async fn send(
    endpoint: &'static str,
    timeout: Duration,
    request: reqwest::RequestBuilder,
) -> Result<RawResponse> {
    let started = Instant::now();
    let result = exchange(request).await;
    match &result {
        Ok(raw) => tracing::debug!(
            endpoint,
            status = raw.status,
            request_id = raw.request_id.as_deref().unwrap_or(""),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "dingtalk call"
        ),
        Err(err) => tracing::debug!(
            endpoint,
            error = %err,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "dingtalk call failed"
        ),
    }
    result.map_err(|e| transport_error(endpoint, timeout, e))
}

enum Failure {
    Http(reqwest::Error),
    TooLarge(u16),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Http(e) => write!(f, "{}", describe(e)),
            Failure::TooLarge(status) => {
                write!(f, "HTTP {status} body over {MAX_BODY_BYTES} bytes")
            }
        }
    }
}

async fn exchange(request: reqwest::RequestBuilder) -> std::result::Result<RawResponse, Failure> {
    let mut response = request.send().await.map_err(Failure::Http)?;
    let status = response.status().as_u16();
    let request_id = response
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Failure::Http)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(Failure::TooLarge(status));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(RawResponse {
        status,
        request_id,
        body,
    })
}

fn transport_error(endpoint: &'static str, timeout: Duration, failure: Failure) -> Error {
    match failure {
        Failure::TooLarge(status) => Error::InvalidResponse {
            endpoint,
            status,
            detail: format!("body larger than {MAX_BODY_BYTES} bytes"),
            request_id: None,
        },
        Failure::Http(e) if e.is_timeout() => Error::Timeout { endpoint, timeout },
        Failure::Http(e) => Error::Unreachable {
            endpoint,
            detail: describe(&e),
        },
    }
}

/// The error and its causes, without the URL (legacy URLs carry the app token).
fn describe(e: &reqwest::Error) -> String {
    let mut text = String::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        let part = if let Some(re) = err.downcast_ref::<reqwest::Error>() {
            // reqwest's Display includes the URL; rebuild it from its kind only.
            reqwest_kind(re).to_owned()
        } else {
            err.to_string()
        };
        if !part.is_empty() && !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        current = err.source();
    }
    text
}

fn reqwest_kind(e: &reqwest::Error) -> &'static str {
    if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "reading the answer failed"
    } else if e.is_request() {
        "request failed"
    } else if e.is_builder() {
        "invalid request"
    } else {
        "HTTP error"
    }
}

/// A short, single-line start of a body, for errors.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return "(empty body)".to_owned();
    }
    let mut out: String = collapsed.chars().take(SNIPPET_CHARS).collect();
    if collapsed.chars().count() > SNIPPET_CHARS {
        out.push('…');
    }
    out
}

/// A parse error without the values it quotes (a success body may hold tokens).
fn parse_error_text(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let mut out = String::with_capacity(message.len());
    let mut in_quotes = false;
    for c in message.chars() {
        match (c, in_quotes) {
            ('"', false) => {
                in_quotes = true;
                out.push_str("\"…");
            }
            ('"', true) => {
                in_quotes = false;
                out.push('"');
            }
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    format!("malformed JSON: {out}")
}

fn parse_success<T: DeserializeOwned>(
    endpoint: &'static str,
    raw: &RawResponse,
    value: Value,
) -> Result<T> {
    serde_json::from_value(value).map_err(|e| Error::InvalidResponse {
        endpoint,
        status: raw.status,
        detail: parse_error_text(&e),
        request_id: raw.request_id.clone(),
    })
}

fn text_field(value: &Value, name: &str) -> Option<String> {
    match value.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// New API: 2xx = the object; otherwise `{code, message, requestid, accessdenieddetail}`.
pub(crate) fn parse_new_api<T: DeserializeOwned>(
    endpoint: &'static str,
    raw: RawResponse,
) -> Result<T> {
    let parsed: std::result::Result<Value, _> = serde_json::from_slice(&raw.body);
    let success = (200..300).contains(&raw.status);
    match parsed {
        Ok(value) if success => parse_success(endpoint, &raw, value),
        Err(e) if success => Err(Error::InvalidResponse {
            endpoint,
            status: raw.status,
            detail: parse_error_text(&e),
            request_id: raw.request_id,
        }),
        Ok(value) if text_field(&value, "code").is_some() => {
            let required_scopes = value
                .pointer("/accessdenieddetail/requiredScopes")
                .and_then(Value::as_array)
                .map(|scopes| {
                    scopes
                        .iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            Err(Error::Api {
                endpoint,
                status: raw.status,
                code: text_field(&value, "code").unwrap_or_default(),
                message: text_field(&value, "message").unwrap_or_default(),
                request_id: text_field(&value, "requestid").or(raw.request_id),
                required_scopes,
            })
        }
        _ => Err(Error::InvalidResponse {
            endpoint,
            status: raw.status,
            detail: snippet(&raw.body),
            request_id: raw.request_id,
        }),
    }
}

/// Legacy API: `{errcode, errmsg, request_id, result}`, `errcode == 0` is success.
pub(crate) fn parse_legacy<T: DeserializeOwned>(
    endpoint: &'static str,
    raw: RawResponse,
) -> Result<T> {
    let success = (200..300).contains(&raw.status);
    let value: Value = match serde_json::from_slice(&raw.body) {
        Ok(value) => value,
        Err(e) => {
            let detail = if success {
                parse_error_text(&e)
            } else {
                snippet(&raw.body)
            };
            return Err(Error::InvalidResponse {
                endpoint,
                status: raw.status,
                detail,
                request_id: raw.request_id,
            });
        }
    };
    let errcode = value.get("errcode").and_then(|c| {
        c.as_i64()
            .or_else(|| c.as_str().and_then(|s| s.trim().parse().ok()))
    });
    let request_id = text_field(&value, "request_id").or(raw.request_id.clone());
    match errcode {
        Some(0) if success => match value.get("result") {
            Some(result) => parse_success(endpoint, &raw, result.clone()),
            None => Err(Error::InvalidResponse {
                endpoint,
                status: raw.status,
                detail: "no result in a successful answer".into(),
                request_id,
            }),
        },
        Some(errcode) if errcode != 0 => Err(Error::Legacy {
            endpoint,
            errcode,
            errmsg: text_field(&value, "errmsg").unwrap_or_default(),
            request_id,
        }),
        _ => Err(Error::InvalidResponse {
            endpoint,
            status: raw.status,
            detail: if success {
                "no errcode in the answer".into()
            } else {
                snippet(&raw.body)
            },
            request_id,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_do_not_quote_values() {
        let e = serde_json::from_str::<u64>(r#""tok-secret""#).unwrap_err();
        let text = parse_error_text(&e);
        assert!(!text.contains("tok-secret"), "{text}");
    }

    #[test]
    fn snippets_are_short_single_lines() {
        let body = format!("<html>\n<body>{}</body></html>", "x".repeat(500));
        let s = snippet(body.as_bytes());
        assert!(!s.contains('\n'));
        assert!(s.chars().count() <= SNIPPET_CHARS + 1);
    }
}
