//! Success bodies in NocoBase's shape: `{"data": ...}`, lists with `{"meta": ...}`. The same
//! types serialise the answers and describe them in `/api/openapi.json`.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// A success: `{"data": ...}`.
#[derive(Serialize, ToSchema)]
pub struct Data<T> {
    pub data: T,
}

/// `{"data": value}`, serialised straight from `T` (no intermediate `Value`).
pub fn data<T>(value: T) -> Json<Data<T>> {
    Json(Data { data: value })
}

/// A page of a list: `{"data": [...], "meta": {...}}`.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub meta: ListMeta,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    /// All matching records, not only this page's.
    pub count: i64,
    pub page: i64,
    pub page_size: i64,
    pub total_page: i64,
}

/// One page of `total` matching records.
pub fn list<T>(items: Vec<T>, total: i64, page: &authgate_store::Page) -> Json<Page<T>> {
    let total_page = (total + page.page_size - 1) / page.page_size;
    Json(Page {
        data: items,
        meta: ListMeta {
            count: total,
            page: page.page,
            page_size: page.page_size,
            total_page,
        },
    })
}

/// Every record on one page (lists that are never long, like authenticators).
pub fn whole_list<T>(items: Vec<T>) -> Json<Page<T>> {
    let count = i64::try_from(items.len()).unwrap_or(i64::MAX);
    Json(Page {
        data: items,
        meta: ListMeta {
            count,
            page: 1,
            page_size: count.max(1),
            total_page: 1,
        },
    })
}

/// A JSON answer that also sets cookies (sign-in, sign-out, the DingTalk state binding).
pub struct WithCookies<T> {
    pub cookies: Vec<HeaderValue>,
    pub body: Json<T>,
}

impl<T: Serialize> IntoResponse for WithCookies<T> {
    fn into_response(self) -> Response {
        let mut response = self.body.into_response();
        for c in self.cookies {
            response.headers_mut().append(header::SET_COOKIE, c);
        }
        response
    }
}
