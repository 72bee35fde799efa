//! Extractors that turn every malformed request into a 4xx in NocoBase's error shape.

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// JSON body: 400 for syntax, type or unknown-field errors, 415 without a JSON content type.
/// (The body's size was checked before: `layers::read_body_in_time`.)
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "Send the body as JSON with Content-Type: application/json",
        ),
        JsonRejection::JsonDataError(e) => {
            ApiError::bad_request(format!("The request body is not valid: {}", e.body_text()))
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(format!(
            "The request body is not valid JSON: {}",
            e.body_text()
        )),
        other => ApiError::bad_request(format!(
            "The request body cannot be read: {}",
            other.body_text()
        )),
    }
}

/// Query string: 400 with the reason when it does not fit.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(ApiError::bad_request(
                format!("The query string is not valid: {}", e.body_text()),
            )),
            Err(other) => Err(ApiError::bad_request(other.body_text())),
        }
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
        let raw = self
            .filter_by_tk
            .as_deref()
            .ok_or_else(|| ApiError::bad_request("filterByTk (the record's id) is required"))?;
        raw.parse().map_err(|_| {
            ApiError::bad_request(format!("filterByTk must be a numeric id, not '{raw}'"))
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
            return Err(ApiError::bad_request(
                "page must be 1 or more and pageSize between 1 and 200",
            ));
        }
        // So far out that the offset would overflow: no such page, and no arithmetic panic.
        if (page - 1).checked_mul(size).is_none() {
            return Err(ApiError::bad_request("page is too large"));
        }
        Ok(authgate_store::Page::new(page, size))
    }
}
