//! Sending one request and reading its whole answer, or a typed [`Error`] for transport
//! failures. The answer is parsed by [`crate::response`].

use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// DingTalk answers are a few KiB; anything far larger is not DingTalk.
const MAX_BODY_BYTES: usize = 1 << 20;
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
