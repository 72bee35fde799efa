//! Sessions: a user's own (`auth:sessions`, `auth:revokeSession`) and everyone's for admins
//! (`sessions:list`, `sessions:revoke`, `sessions:revokeUser`).

use super::views::SessionView;
use crate::audit::Entry;
use crate::auth::{AdminUser, CurrentUser};
use crate::error::{ApiError, ApiResult, Text};
use crate::http::client::ClientInfo;
use crate::http::extract::{ApiQuery, Paging};
use crate::http::response::{data, list as list_body, Data, Page};
use crate::state::AppState;
use authgate_core::audit::event;
use authgate_core::clock::now_ms;
use authgate_store::SessionQuery;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListParams {
    user_id: Option<i64>,
    /// A name, username, e-mail, phone or id (see `people::resolve`).
    user: Option<String>,
    /// Only live sessions (default true).
    active: Option<bool>,
}

async fn active_since(state: &AppState) -> ApiResult<i64> {
    Ok(now_ms().saturating_sub(state.store.token_policy().await?.session_ttl_ms))
}

#[utoipa::path(get, path = "/api/auth:sessions", tag = "auth",
    responses((status = 200, description = "My live sessions", body = Data<Vec<SessionView>>)))]
pub async fn mine(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<Json<Data<Vec<SessionView>>>> {
    let q = SessionQuery {
        user_id: Some(me.user.id),
        active_since: Some(active_since(&state).await?),
        page: authgate_store::Page::new(1, 200),
    };
    let (sessions, _) = state.store.list_sessions(&q).await?;
    Ok(data(
        sessions
            .into_iter()
            .map(|s| SessionView::new(s, &me.session_id))
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
pub struct SessionId {
    #[serde(rename = "filterByTk")]
    filter_by_tk: Option<String>,
}

impl SessionId {
    fn get(&self) -> ApiResult<&str> {
        self.filter_by_tk
            .as_deref()
            .filter(|s| !s.is_empty() && s.len() <= 64)
            .ok_or_else(|| {
                ApiError::bad_request(Text::new(
                    "filterByTk (the session id) is required",
                    "缺少 filterByTk（会话编号）",
                ))
            })
    }
}

/// The id of the revoked session.
#[derive(Serialize, ToSchema)]
pub struct SessionRef {
    id: String,
}

#[derive(Serialize, ToSchema)]
pub struct Revoked {
    /// How many sessions were revoked.
    revoked: u64,
}

async fn audit_revoke(state: &AppState, actor: i64, user: i64, client: &ClientInfo, what: &str) {
    let mut detail = Map::new();
    detail.insert("revoked".into(), Value::String(what.into()));
    state
        .audit(Entry {
            event: event::SESSION_REVOKE,
            actor_id: Some(actor),
            user_id: Some(user),
            client: Some(client),
            detail,
            ..Default::default()
        })
        .await;
}

#[utoipa::path(post, path = "/api/auth:revokeSession", tag = "auth",
    params(("filterByTk" = String, Query, description = "Session id")),
    responses((status = 200, description = "Revoked", body = Data<SessionRef>), (status = 404, description = "Not one of my sessions")))]
pub async fn revoke_mine(
    State(state): State<AppState>,
    client: ClientInfo,
    CurrentUser(me): CurrentUser,
    ApiQuery(id): ApiQuery<SessionId>,
) -> ApiResult<Json<Data<SessionRef>>> {
    let id = id.get()?;
    let found = state.store.get_session(id).await?;
    if found.as_ref().map(|s| s.session.user_id) != Some(me.user.id) {
        return Err(ApiError::not_found(Text::new(
            "You have no such session",
            "你没有这个会话",
        )));
    }
    state
        .store
        .revoke_session(id, "revoked by its user", Some(me.user.id), now_ms())
        .await?;
    crate::oidc::backchannel::session_ended(&state, id, me.user.id).await;
    audit_revoke(&state, me.user.id, me.user.id, &client, "one session").await;
    Ok(data(SessionRef { id: id.into() }))
}

#[utoipa::path(get, path = "/api/sessions:list", tag = "sessions",
    params(("userId" = Option<i64>, Query, example = 1, description = "Only this user's"), ("user" = Option<String>, Query, example = "zhangsan", description = "Only this person's: name, username, e-mail, phone or id"), ("active" = Option<bool>, Query, description = "Only live ones (default true)"),
           ("page" = Option<i64>, Query, minimum = 1, description = "From 1"), ("pageSize" = Option<i64>, Query, minimum = 1, maximum = 200, description = "1 to 200, default 20")),
    responses((status = 200, description = "Sessions, newest first", body = Page<SessionView>), (status = 403, description = "Admins only")))]
pub async fn list(
    State(state): State<AppState>,
    AdminUser(me): AdminUser,
    ApiQuery(paging): ApiQuery<Paging>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<SessionView>>> {
    let user_id = match p.user_id {
        Some(id) => Some(id),
        None => super::people::resolve(&state, p.user.as_deref()).await?,
    };
    let q = SessionQuery {
        user_id,
        active_since: if p.active.unwrap_or(true) {
            Some(active_since(&state).await?)
        } else {
            None
        },
        page: paging.page()?,
    };
    let (sessions, total) = state.store.list_sessions(&q).await?;
    Ok(list_body(
        sessions
            .into_iter()
            .map(|s| SessionView::new(s, &me.session_id))
            .collect(),
        total,
        &q.page,
    ))
}

#[utoipa::path(post, path = "/api/sessions:revoke", tag = "sessions",
    params(("filterByTk" = String, Query, description = "Session id")),
    responses((status = 200, description = "Revoked", body = Data<SessionRef>), (status = 403, description = "Admins only"), (status = 404, description = "No such session")))]
pub async fn revoke(
    State(state): State<AppState>,
    client: ClientInfo,
    AdminUser(me): AdminUser,
    ApiQuery(id): ApiQuery<SessionId>,
) -> ApiResult<Json<Data<SessionRef>>> {
    let id = id.get()?;
    let session = state
        .store
        .get_session(id)
        .await?
        .ok_or_else(|| ApiError::not_found(Text::new("No such session", "没有这个会话")))?;
    state
        .store
        .revoke_session(
            id,
            "revoked by an administrator",
            Some(me.user.id),
            now_ms(),
        )
        .await?;
    crate::oidc::backchannel::session_ended(&state, id, session.session.user_id).await;
    audit_revoke(
        &state,
        me.user.id,
        session.session.user_id,
        &client,
        "one session",
    )
    .await;
    Ok(data(SessionRef { id: id.into() }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserParam {
    user_id: Option<i64>,
    /// A name, username, e-mail, phone or id (see `people::resolve`).
    user: Option<String>,
}

#[utoipa::path(post, path = "/api/sessions:revokeUser", tag = "sessions",
    params(("userId" = Option<i64>, Query, example = 2, description = "Whose sessions (or `user`)"), ("user" = Option<String>, Query, example = "zhangsan", description = "Whose sessions: name, username, e-mail, phone or id")),
    responses((status = 200, description = "How many sessions were revoked", body = Data<Revoked>), (status = 400, description = "userId missing"), (status = 403, description = "Admins only")))]
pub async fn revoke_user(
    State(state): State<AppState>,
    client: ClientInfo,
    AdminUser(me): AdminUser,
    ApiQuery(p): ApiQuery<UserParam>,
) -> ApiResult<Json<Data<Revoked>>> {
    let named = match p.user_id {
        Some(id) => Some(id),
        None => super::people::resolve(&state, p.user.as_deref()).await?,
    };
    let user_id = named.ok_or_else(|| {
        ApiError::bad_request(Text::new(
            "Say whose sessions: userId (or user, a name)",
            "请指明是谁的会话：userId（或 user，填名字）",
        ))
    })?;
    let n = state
        .store
        .revoke_user_sessions(
            user_id,
            None,
            "revoked by an administrator",
            Some(me.user.id),
            now_ms(),
        )
        .await?;
    // Applications' offline access too: it outlives sign-outs, not an administrator.
    crate::oidc::backchannel::sessions_ended(&state, user_id).await;
    state
        .store
        .revoke_user_grants(user_id, None, now_ms())
        .await?;
    audit_revoke(&state, me.user.id, user_id, &client, "all sessions").await;
    Ok(data(Revoked { revoked: n }))
}
