//! Extractors that turn every malformed request into a 4xx in NocoBase's error shape.

use crate::error::{ApiError, Text};
use crate::http::invalid_input::{self, Source};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// JSON body: 400 for syntax, type or unknown-field errors (naming the field), 415 without a
/// JSON content type. (The body's size was checked before: `layers::read_body_in_time`.)
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                Text::new(
                    "Send the body as JSON with Content-Type: application/json",
                    "请以 JSON 格式发送请求内容，并带上 Content-Type: application/json",
                ),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            ApiError::bad_request(Text::new(
                "The request body cannot be read",
                "无法读取请求内容",
            ))
        })?;
        parse_json(&bytes)
            .map(ApiJson)
            .map_err(ApiError::bad_request)
    }
}

/// A JSON document, or what is wrong with it in both languages (naming the field).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Text> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(&mut json) {
        // Anything after the value (`{} x`) is not JSON either.
        Ok(value) => json
            .end()
            .map(|()| value)
            .map_err(|e| invalid_input::not_json(e.line(), e.column())),
        Err(e) => Err(explain_json(&e)),
    }
}

fn explain_json(e: &serde_path_to_error::Error<serde_json::Error>) -> Text {
    let inner = e.inner();
    if inner.is_syntax() || inner.is_eof() {
        return invalid_input::not_json(inner.line(), inner.column());
    }
    let problem = inner.to_string();
    let problem = problem
        .rfind(" at line ")
        .map_or(&*problem, |at| &problem[..at]);
    invalid_input::explain(Source::Body, &e.path().to_string(), problem)
}

/// `application/json`, or a `+json` type.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 17
            && essence[..12].eq_ignore_ascii_case("application/")
            && essence[essence.len() - 5..].eq_ignore_ascii_case("+json"))
}

/// Query string: 400 naming the parameter that does not fit.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs =
            serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(pairs)
            .map(ApiQuery)
            .map_err(|e| {
                ApiError::bad_request(invalid_input::explain(
                    Source::Query,
                    &e.path().to_string(),
                    &e.inner().to_string(),
                ))
            })
    }
}

/// NocoBase's `?filterByTk=<primary key>`.
#[derive(Debug, Deserialize)]
pub struct ByTk {
    #[serde(rename = "filterByTk")]
    pub filter_by_tk: Option<String>,
}

impl ByTk {
    pub fn id(&self) -> Result<i64, ApiError> {
        let raw = self.filter_by_tk.as_deref().ok_or_else(|| {
            ApiError::bad_request(Text::new(
                "filterByTk (the record's id) is required",
                "缺少 filterByTk（记录的编号）",
            ))
        })?;
        raw.parse().map_err(|_| {
            ApiError::bad_request(Text::new(
                format!("filterByTk must be a numeric id, not '{raw}'"),
                format!("filterByTk 应为数字编号，而不是“{raw}”"),
            ))
        })
    }
}

/// Paging parameters of list actions (NocoBase: page from 1, pageSize default 20).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Paging {
    pub page: Option<i64>,
    pub page_size: Option<i64>,
}

impl Paging {
    pub fn page(&self) -> Result<authgate_store::Page, ApiError> {
        let page = self.page.unwrap_or(1);
        let size = self.page_size.unwrap_or(20);
        if page < 1 || !(1..=200).contains(&size) {
            return Err(ApiError::bad_request(Text::new(
                "page must be 1 or more and pageSize between 1 and 200",
                "page 应不小于 1，pageSize 应在 1 到 200 之间",
            )));
        }
        // So far out that the offset would overflow: no such page, and no arithmetic panic.
        if (page - 1).checked_mul(size).is_none() {
            return Err(ApiError::bad_request(Text::new(
                "page is too large",
                "page 太大了",
            )));
        }
        Ok(authgate_store::Page::new(page, size))
    }
}
