//! Success bodies in NocoBase's shape: `{"data": ...}`, lists with `{"meta": ...}`.

use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

/// `{"data": ...}` serialised straight from `T` (no intermediate `Value`).
#[derive(Serialize)]
pub struct Data<T> {
    pub data: T,
}

pub fn data<T: Serialize>(value: T) -> Json<Value> {
    Json(json!({ "data": value }))
}

pub fn list<T: Serialize>(items: Vec<T>, total: i64, page: &authgate_store::Page) -> Json<Value> {
    let total_page = (total + page.page_size - 1) / page.page_size;
    Json(json!({
        "data": items,
        "meta": {
            "count": total,
            "page": page.page,
            "pageSize": page.page_size,
            "totalPage": total_page,
        }
    }))
}
