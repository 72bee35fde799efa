//! Turning a DingTalk answer (HTTP status, `x-acs-request-id` header, body) into the typed
//! value or [`Error`]. [`crate::DingTalkClient`] parses every answer with these, so they can
//! be used on their own (recorded answers, tests, fuzzing) with exactly the client's rules.
//!
//! ```
//! use authgate_dingtalk::response::USER_ACCESS_TOKEN;
//! let token = USER_ACCESS_TOKEN
//!     .parse(200, None, br#"{"accessToken": "t", "expireIn": "7200"}"#)
//!     .unwrap();
//! assert_eq!(token.expire_in, 7200);
//! let err = USER_ACCESS_TOKEN
//!     .parse(400, Some("r1"), br#"{"code": "invalidCode", "message": "bad"}"#)
//!     .unwrap_err();
//! assert!(err.is_invalid_code());
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::types::{AppAccessToken, InClientUser, OrgUser, UnionIdLookup, UserProfile, UserToken};

/// How much of an unexpected error body is kept for the log.
const SNIPPET_CHARS: usize = 200;

/// Which of DingTalk's two API families an endpoint belongs to; they answer differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiFamily {
    /// `api.dingtalk.com`: 2xx with the object, or an error status with `{code, message}`.
    New,
    /// `oapi.dingtalk.com`: `{errcode, errmsg, result}`, `errcode == 0` is success.
    Legacy,
}

/// One DingTalk call: its name (as in [`Error::endpoint`]), its API family and what a
/// successful answer holds.
pub struct Endpoint<T> {
    name: &'static str,
    family: ApiFamily,
    answer: PhantomData<fn() -> T>,
}

impl<T> Clone for Endpoint<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Endpoint<T> {}

impl<T> fmt::Debug for Endpoint<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("family", &self.family)
            .finish()
    }
}

impl<T> Endpoint<T> {
    const fn new(name: &'static str, family: ApiFamily) -> Self {
        Self {
            name,
            family,
            answer: PhantomData,
        }
    }

    /// The call's name, e.g. `userAccessToken` (never a URL).
    pub const fn name(&self) -> &'static str {
        self.name
    }

    pub const fn family(&self) -> ApiFamily {
        self.family
    }
}

impl<T: DeserializeOwned> Endpoint<T> {
    /// The typed value of a successful answer, or the [`Error`] the answer amounts to.
    /// `request_id` is the `x-acs-request-id` header, if any. Never panics.
    pub fn parse(&self, status: u16, request_id: Option<&str>, body: &[u8]) -> Result<T> {
        let answer = Answer {
            status,
            request_id,
            body,
        };
        match self.family {
            ApiFamily::New => parse_new_api(self.name, answer),
            ApiFamily::Legacy => parse_legacy(self.name, answer),
        }
    }
}

/// `POST /v1.0/oauth2/userAccessToken` (code exchange and refresh).
pub const USER_ACCESS_TOKEN: Endpoint<UserToken> = Endpoint::new("userAccessToken", ApiFamily::New);
/// `POST /v1.0/oauth2/accessToken` (the app token).
pub const APP_ACCESS_TOKEN: Endpoint<AppAccessToken> = Endpoint::new("accessToken", ApiFamily::New);
/// `GET /v1.0/contact/users/me`.
pub const USERS_ME: Endpoint<UserProfile> = Endpoint::new("users/me", ApiFamily::New);
/// `POST topapi/user/getbyunionid`.
pub const GET_BY_UNIONID: Endpoint<UnionIdLookup> =
    Endpoint::new("getbyunionid", ApiFamily::Legacy);
/// `POST topapi/v2/user/get`.
pub const USER_GET: Endpoint<OrgUser> = Endpoint::new("user/get", ApiFamily::Legacy);
/// `POST topapi/v2/user/getuserinfo`.
pub const GET_USER_INFO: Endpoint<InClientUser> = Endpoint::new("getuserinfo", ApiFamily::Legacy);

/// A complete HTTP answer, borrowed.
#[derive(Clone, Copy)]
struct Answer<'a> {
    status: u16,
    request_id: Option<&'a str>,
    body: &'a [u8],
}

impl Answer<'_> {
    fn success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn request_id(&self) -> Option<String> {
        self.request_id.map(str::to_owned)
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

/// A parse error without the values it quotes (a success body may hold tokens). serde quotes
/// strings Debug-style, so a `\` inside quotes escapes the next character.
fn parse_error_text(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let mut out = String::with_capacity(message.len());
    let mut in_quotes = false;
    let mut escaped = false;
    for c in message.chars() {
        match (c, in_quotes) {
            ('"', false) => {
                in_quotes = true;
                out.push_str("\"…");
            }
            (_, true) if escaped => escaped = false,
            ('\\', true) => escaped = true,
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
    answer: Answer<'_>,
    value: Value,
) -> Result<T> {
    serde_json::from_value(value).map_err(|e| Error::InvalidResponse {
        endpoint,
        status: answer.status,
        detail: parse_error_text(&e),
        request_id: answer.request_id(),
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
fn parse_new_api<T: DeserializeOwned>(endpoint: &'static str, answer: Answer<'_>) -> Result<T> {
    let parsed: std::result::Result<Value, _> = serde_json::from_slice(answer.body);
    let success = answer.success();
    match parsed {
        Ok(value) if success => parse_success(endpoint, answer, value),
        Err(e) if success => Err(Error::InvalidResponse {
            endpoint,
            status: answer.status,
            detail: parse_error_text(&e),
            request_id: answer.request_id(),
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
                status: answer.status,
                code: text_field(&value, "code").unwrap_or_default(),
                message: text_field(&value, "message").unwrap_or_default(),
                request_id: text_field(&value, "requestid").or(answer.request_id()),
                required_scopes,
            })
        }
        _ => Err(Error::InvalidResponse {
            endpoint,
            status: answer.status,
            detail: snippet(answer.body),
            request_id: answer.request_id(),
        }),
    }
}

/// Legacy API: `{errcode, errmsg, request_id, result}`, `errcode == 0` is success.
fn parse_legacy<T: DeserializeOwned>(endpoint: &'static str, answer: Answer<'_>) -> Result<T> {
    let success = answer.success();
    let value: Value = match serde_json::from_slice(answer.body) {
        Ok(value) => value,
        Err(e) => {
            let detail = if success {
                parse_error_text(&e)
            } else {
                snippet(answer.body)
            };
            return Err(Error::InvalidResponse {
                endpoint,
                status: answer.status,
                detail,
                request_id: answer.request_id(),
            });
        }
    };
    let errcode = value.get("errcode").and_then(|c| {
        c.as_i64()
            .or_else(|| c.as_str().and_then(|s| s.trim().parse().ok()))
    });
    let request_id = text_field(&value, "request_id").or(answer.request_id());
    match errcode {
        Some(0) if success => match value.get("result") {
            Some(result) => parse_success(endpoint, answer, result.clone()),
            None => Err(Error::InvalidResponse {
                endpoint,
                status: answer.status,
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
            status: answer.status,
            detail: if success {
                "no errcode in the answer".into()
            } else {
                snippet(answer.body)
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
        // serde escapes quotes inside the value it quotes.
        let e = serde_json::from_str::<u64>(r#""a\"tok-secret\\""#).unwrap_err();
        let text = parse_error_text(&e);
        assert!(!text.contains("tok-secret"), "{text}");
        assert!(text.contains("expected u64"), "{text}");
    }

    #[test]
    fn snippets_are_short_single_lines() {
        let body = format!("<html>\n<body>{}</body></html>", "x".repeat(500));
        let s = snippet(body.as_bytes());
        assert!(!s.contains('\n'));
        assert!(s.chars().count() <= SNIPPET_CHARS + 1);
    }
}
