//! `auditLogs:list` (admins): newest first, filterable.

use super::views::AuditEntryView;
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult, Text};
use crate::http::extract::{ApiQuery, Paging};
use crate::http::response::{list as list_body, Page};
use crate::state::AppState;
use authgate_core::clock::parse_instant;
use authgate_store::AuditQuery;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListParams {
    user_id: Option<i64>,
    /// A name, username, e-mail, phone or id (see `people::resolve`).
    user: Option<String>,
    event: Option<String>,
    result: Option<String>,
    authenticator: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

fn instant(name: &str, v: Option<&str>) -> ApiResult<Option<i64>> {
    v.filter(|s| !s.is_empty())
        .map(|s| {
            parse_instant(s).ok_or_else(|| {
                ApiError::bad_request(Text::new(
                    format!("{name} must be an RFC 3339 time or epoch milliseconds"),
                    format!("{name} 应为 RFC 3339 时间或毫秒时间戳"),
                ))
            })
        })
        .transpose()
}

#[utoipa::path(get, path = "/api/auditLogs:list", tag = "auditLogs",
    params(("page" = Option<i64>, Query, minimum = 1, description = "From 1"), ("pageSize" = Option<i64>, Query, minimum = 1, maximum = 200, description = "1 to 200, default 20"),
           ("userId" = Option<i64>, Query, description = "Subject or actor"), ("user" = Option<String>, Query, example = "zhangsan", description = "Subject or actor: name, username, e-mail, phone or id"), ("event" = Option<String>, Query, example = "auth.signIn", description = "e.g. auth.signIn"),
           ("result" = Option<String>, Query, pattern = "^(success|failure)$", example = "success", description = "success or failure"), ("authenticator" = Option<String>, Query, description = "Authenticator name"),
           ("since" = Option<String>, Query, example = "2025-01-01T00:00:00Z", description = "RFC 3339 or epoch ms"), ("until" = Option<String>, Query, description = "RFC 3339 or epoch ms")),
    responses((status = 200, description = "Entries, newest first", body = Page<AuditEntryView>), (status = 400, description = "Bad parameter"), (status = 403, description = "Admins only")))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminUser,
    ApiQuery(paging): ApiQuery<Paging>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<AuditEntryView>>> {
    if let Some(r) = p.result.as_deref() {
        if r != "success" && r != "failure" {
            return Err(ApiError::bad_request(Text::new(
                "result must be success or failure",
                "result 应为 success 或 failure",
            )));
        }
    }
    let user_id = match p.user_id {
        Some(id) => Some(id),
        None => super::people::resolve(&state, p.user.as_deref()).await?,
    };
    let q = AuditQuery {
        user_id,
        event: p.event.filter(|s| !s.is_empty()),
        result: p.result,
        authenticator: p.authenticator.filter(|s| !s.is_empty()),
        since: instant("since", p.since.as_deref())?,
        until: instant("until", p.until.as_deref())?,
        page: paging.page()?,
    };
    let (entries, total) = state.store.list_audit(&q).await?;
    let ids: Vec<i64> = entries
        .iter()
        .flat_map(|e| [e.entry.user_id, e.entry.actor_id])
        .flatten()
        .collect();
    let names = super::people::names(&state, ids).await?;
    Ok(list_body(
        entries
            .into_iter()
            .map(|e| AuditEntryView::new(e, &names))
            .collect(),
        total,
        &q.page,
    ))
}
