//! `users:*` (admins): list, get, create, update, destroy.

use super::views::{Id, IdentityView, UserView};
use crate::auth::AdminUser;
use crate::auth_types::password::phone_error_text;
use crate::error::{ApiError, ApiResult, Text};
use crate::http::client::ClientInfo;
use crate::http::extract::{ApiJson, ApiQuery, ByTk, Paging};
use crate::http::response::{data, list as list_body, Data, Page};
use crate::state::AppState;
use authgate_core::clock::now_ms;
use authgate_core::model::{
    normalize_email, validate_nickname, validate_username, NewUser, User, UserPatch,
};
use authgate_core::password::check_password_rules;
use authgate_core::phone::normalize_phone;
use authgate_store::{UserQuery, UserSort};
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListParams {
    /// Search text over username, e-mail, phone and nickname.
    q: Option<String>,
    /// NocoBase filter: `{"username": "x"}` or `{"username": {"$eq": "x"}}`.
    filter: Option<String>,
    sort: Option<String>,
}

fn filter_value(v: &Value) -> &Value {
    v.get("$eq").unwrap_or(v)
}

fn parse_filter(text: &str, q: &mut UserQuery) -> ApiResult<()> {
    let Value::Object(map) = serde_json::from_str::<Value>(text).map_err(|e| {
        ApiError::bad_request(Text::new(
            format!("filter is not valid JSON: {e}"),
            format!("filter 不是有效的 JSON：{e}"),
        ))
    })?
    else {
        return Err(ApiError::bad_request(Text::new(
            "filter must be a JSON object",
            "filter 必须是 JSON 对象",
        )));
    };
    let bad = |k: &str| {
        ApiError::bad_request(Text::new(
            format!("filter.{k} has the wrong type"),
            format!("filter.{k} 的类型不对"),
        ))
    };
    for (k, v) in &map {
        let v = filter_value(v);
        match k.as_str() {
            "id" => q.id = Some(v.as_i64().ok_or_else(|| bad(k))?),
            "username" => q.username = Some(v.as_str().ok_or_else(|| bad(k))?.to_string()),
            "email" => q.email = Some(v.as_str().ok_or_else(|| bad(k))?.to_string()),
            "phone" => q.phone = Some(v.as_str().ok_or_else(|| bad(k))?.to_string()),
            "isAdmin" => q.is_admin = Some(v.as_bool().ok_or_else(|| bad(k))?),
            "enabled" => q.enabled = Some(v.as_bool().ok_or_else(|| bad(k))?),
            other => {
                return Err(ApiError::bad_request(Text::new(
                    format!("Cannot filter users by '{other}' (use id, username, email, phone, isAdmin, enabled)"),
                    format!("不能按“{other}”筛选用户（可用 id、username、email、phone、isAdmin、enabled）"),
                )))
            }
        }
    }
    Ok(())
}

#[utoipa::path(get, path = "/api/users:list", tag = "users",
    params(("page" = Option<i64>, Query, minimum = 1, description = "From 1"), ("pageSize" = Option<i64>, Query, minimum = 1, maximum = 200, description = "1 to 200, default 20"),
           ("q" = Option<String>, Query, example = "ad", description = "Search text"), ("filter" = Option<String>, Query, example = r#"{"username": "admin"}"#, description = "JSON filter"),
           ("sort" = Option<String>, Query, example = "-id", description = "id, username or createdAt; prefix - for descending")),
    responses((status = 200, description = "Users with paging meta", body = Page<UserView>), (status = 400, description = "Bad parameter"), (status = 403, description = "Admins only")))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminUser,
    ApiQuery(paging): ApiQuery<Paging>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<UserView>>> {
    let mut q = UserQuery {
        search: params.q.clone(),
        page: paging.page()?,
        ..Default::default()
    };
    if let Some(f) = params.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        parse_filter(f, &mut q)?;
    }
    if let Some(phone) = q.phone.take() {
        q.phone =
            Some(normalize_phone(&state.config.default_country_code, &phone).unwrap_or(phone));
    }
    q.sort = match params.sort.as_deref().unwrap_or("id") {
        "id" => UserSort::IdAsc,
        "-id" => UserSort::IdDesc,
        "username" => UserSort::UsernameAsc,
        "-username" => UserSort::UsernameDesc,
        "createdAt" => UserSort::CreatedAsc,
        "-createdAt" => UserSort::CreatedDesc,
        other => {
            return Err(ApiError::bad_request(Text::new(
                format!("Cannot sort users by '{other}'"),
                format!("不能按“{other}”对用户排序"),
            )))
        }
    };
    let (users, total) = state.store.list_users(&q).await?;
    Ok(list_body(
        users.into_iter().map(UserView::from).collect(),
        total,
        &q.page,
    ))
}

async fn find(state: &AppState, id: i64) -> ApiResult<User> {
    state.store.get_user(id).await?.ok_or_else(|| {
        ApiError::not_found(Text::new(
            format!("User {id} does not exist"),
            format!("用户 {id} 不存在"),
        ))
    })
}

/// `users:get`: the user and their linked identities.
#[derive(Serialize, ToSchema)]
pub struct UserDetail {
    #[serde(flatten)]
    user: UserView,
    identities: Vec<IdentityView>,
}

#[utoipa::path(get, path = "/api/users:get", tag = "users",
    params(("filterByTk" = i64, Query, example = 1, description = "User id")),
    responses((status = 200, description = "The user and their linked identities", body = Data<UserDetail>), (status = 403, description = "Admins only"), (status = 404, description = "No such user")))]
pub async fn get_one(
    State(state): State<AppState>,
    _admin: AdminUser,
    ApiQuery(tk): ApiQuery<ByTk>,
) -> ApiResult<Json<Data<UserDetail>>> {
    let user = find(&state, tk.id()?).await?;
    let identities = state.store.list_identities(user.id).await?;
    Ok(data(UserDetail {
        user: user.into(),
        identities: identities.into_iter().map(IdentityView::from).collect(),
    }))
}

// The body of `users:create` and `users:update`, for the description only: the handlers read
// it field by field (`text`, `flag`) because they tell absent from null from empty text, drop
// the read-only fields clients echo back to `update`, and name the offending field in their
// messages ("phone must be a text", "Unknown user field 'x'"), which serde would not.
#[derive(ToSchema)]
#[allow(dead_code, non_snake_case)]
#[schema(example = json!({"username": "ada", "email": "ada@example.com", "phone": "138 0013 8000", "nickname": "Ada", "password": "a passphrase"}))]
pub struct UserBody {
    username: Option<String>,
    email: Option<String>,
    /// Any spelling; stored as E.164.
    phone: Option<String>,
    nickname: Option<String>,
    password: Option<String>,
    isAdmin: Option<bool>,
    enabled: Option<bool>,
}

/// A field of a create or update body: absent, explicitly null, or a text.
fn text(body: &mut Map<String, Value>, key: &str) -> ApiResult<Option<Option<String>>> {
    match body.remove(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Some(None)),
        Some(Value::String(s)) if s.len() <= 1024 => Ok(Some(Some(s))),
        Some(_) => Err(ApiError::bad_request(Text::new(
            format!("{key} must be a text"),
            format!("{key} 必须是文本"),
        ))),
    }
}

fn flag(body: &mut Map<String, Value>, key: &str) -> ApiResult<Option<bool>> {
    match body.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(_) => Err(ApiError::bad_request(Text::new(
            format!("{key} must be true or false"),
            format!("{key} 必须是 true 或 false"),
        ))),
    }
}

/// Validates and normalises the profile fields of a body into a patch.
fn profile_patch(state: &AppState, body: &mut Map<String, Value>) -> ApiResult<UserPatch> {
    let invalid = ApiError::bad_request;
    Ok(UserPatch {
        username: text(body, "username")?
            .map(|v| {
                v.map(|s| validate_username(s.trim()))
                    .transpose()
                    .map_err(|e| invalid(e.text()))
            })
            .transpose()?,
        email: text(body, "email")?
            .map(|v| {
                v.map(|s| normalize_email(&s))
                    .transpose()
                    .map_err(|e| invalid(e.text()))
            })
            .transpose()?,
        phone: text(body, "phone")?
            .map(|v| {
                v.map(|s| normalize_phone(&state.config.default_country_code, &s))
                    .transpose()
                    .map_err(|e| invalid(phone_error_text(&e)))
            })
            .transpose()?,
        nickname: text(body, "nickname")?
            .map(|v| {
                v.map(|s| validate_nickname(&s))
                    .transpose()
                    .map_err(|e| invalid(e.text()))
            })
            .transpose()?,
        is_admin: flag(body, "isAdmin")?,
        enabled: flag(body, "enabled")?,
    })
}

fn reject_unknown(body: &Map<String, Value>) -> ApiResult<()> {
    match body.keys().next() {
        Some(k) => Err(ApiError::bad_request(Text::new(
            format!("Unknown user field '{k}' (use username, email, phone, nickname, password, isAdmin, enabled)"),
            format!("未知的用户字段“{k}”（可用 username、email、phone、nickname、password、isAdmin、enabled）"),
        ))),
        None => Ok(()),
    }
}

async fn audit_change(
    state: &AppState,
    admin: &AdminUser,
    client: &ClientInfo,
    action: &str,
    user_id: i64,
) {
    state
        .audit_admin_change(admin.0.user.id, user_id, None, client, action, Map::new())
        .await;
}

#[utoipa::path(post, path = "/api/users:create", tag = "users",
    request_body = UserBody,
    responses((status = 200, description = "Created", body = Data<UserView>), (status = 400, description = "Invalid or duplicate field"), (status = 403, description = "Admins only")))]
pub async fn create(
    State(state): State<AppState>,
    admin: AdminUser,
    client: ClientInfo,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Data<UserView>>> {
    let mut body = body;
    let password = text(&mut body, "password")?.flatten();
    let p = profile_patch(&state, &mut body)?;
    reject_unknown(&body)?;
    let new = NewUser {
        username: p.username.flatten(),
        email: p.email.flatten(),
        phone: p.phone.flatten(),
        nickname: p.nickname.flatten(),
        is_admin: p.is_admin.unwrap_or(false),
        enabled: p.enabled.unwrap_or(true),
        password_hash: None,
    };
    if new.username.is_none() && new.email.is_none() && new.phone.is_none() {
        return Err(ApiError::bad_request(Text::new(
            "A user needs at least a username, an e-mail or a phone number",
            "用户至少需要用户名、电子邮箱或手机号中的一项",
        )));
    }
    let hash = match password {
        Some(pw) => {
            check_password_rules(&pw).map_err(|e| ApiError::bad_request(e.text()))?;
            Some(state.passwords.hash(pw).await)
        }
        None => None,
    };
    let user = state
        .store
        .create_user(
            &NewUser {
                password_hash: hash,
                ..new
            },
            now_ms(),
        )
        .await?;
    audit_change(&state, &admin, &client, "users:create", user.id).await;
    Ok(data(user.into()))
}

#[utoipa::path(post, path = "/api/users:update", tag = "users",
    params(("filterByTk" = i64, Query, example = 2, description = "User id")),
    request_body(content = UserBody, example = json!({"nickname": "Ada", "enabled": true})),
    responses((status = 200, description = "Updated", body = Data<UserView>), (status = 400, description = "Invalid or duplicate field, or it would leave no enabled admin"), (status = 403, description = "Admins only"), (status = 404, description = "No such user")))]
pub async fn update(
    State(state): State<AppState>,
    admin: AdminUser,
    client: ClientInfo,
    ApiQuery(tk): ApiQuery<ByTk>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Data<UserView>>> {
    let current = find(&state, tk.id()?).await?;
    let mut body = body;
    // Read-only fields clients echo back.
    for k in ["id", "createdAt", "updatedAt", "hasPassword", "identities"] {
        body.remove(k);
    }
    let password = text(&mut body, "password")?.flatten();
    let patch = profile_patch(&state, &mut body)?;
    reject_unknown(&body)?;
    let new_hash = match password {
        Some(pw) => {
            check_password_rules(&pw).map_err(|e| ApiError::bad_request(e.text()))?;
            Some(state.passwords.hash(pw).await)
        }
        None => None,
    };
    let now = now_ms();
    // The store refuses a change that leaves no enabled admin (LastEnabledAdmin), before
    // anything is written.
    let user = state
        .store
        .update_user(current.id, &patch, now)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(Text::new(
                "The user was deleted meanwhile",
                "该用户已被删除",
            ))
        })?;
    if let Some(hash) = new_hash {
        state
            .store
            .set_password_hash(current.id, &hash, Some(now), now)
            .await?;
        state
            .store
            .revoke_user_sessions(
                current.id,
                None,
                "password reset by an administrator",
                Some(admin.0.user.id),
                now,
            )
            .await?;
        crate::oidc::backchannel::sessions_ended(&state, current.id).await;
    }
    if patch.enabled == Some(false) {
        state
            .store
            .revoke_user_sessions(
                user.id,
                None,
                "account disabled",
                Some(admin.0.user.id),
                now,
            )
            .await?;
        crate::oidc::backchannel::sessions_ended(&state, user.id).await;
    }
    audit_change(&state, &admin, &client, "users:update", user.id).await;
    Ok(data(user.into()))
}

#[utoipa::path(post, path = "/api/users:destroy", tag = "users",
    params(("filterByTk" = i64, Query, example = 2, description = "User id")),
    responses((status = 200, description = "Deleted with their identities and sessions", body = Data<Id>), (status = 400, description = "Yourself or the last admin"), (status = 403, description = "Admins only"), (status = 404, description = "No such user")))]
pub async fn destroy(
    State(state): State<AppState>,
    admin: AdminUser,
    client: ClientInfo,
    ApiQuery(tk): ApiQuery<ByTk>,
) -> ApiResult<Json<Data<Id>>> {
    let user = find(&state, tk.id()?).await?;
    if user.id == admin.0.user.id {
        return Err(ApiError::bad_request(Text::new(
            "You cannot delete your own account",
            "不能删除自己的账号",
        )));
    }
    // Refused by the store (LastEnabledAdmin) when it is the last enabled admin.
    state.store.delete_user(user.id).await?;
    audit_change(&state, &admin, &client, "users:destroy", user.id).await;
    Ok(data(Id { id: user.id }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnlinkParams {
    identity_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/users:unlinkIdentity", tag = "users",
    params(("filterByTk" = i64, Query, example = 1, description = "User id"), ("identityId" = i64, Query, example = 1, description = "Identity id (from users:get)")),
    responses((status = 200, description = "Unlinked: the next sign-in with that account is matched or signed up anew", body = Data<Id>), (status = 403, description = "Admins only"), (status = 404, description = "No such user or identity of that user")))]
pub async fn unlink_identity(
    State(state): State<AppState>,
    admin: AdminUser,
    client: ClientInfo,
    ApiQuery(tk): ApiQuery<ByTk>,
    ApiQuery(p): ApiQuery<UnlinkParams>,
) -> ApiResult<Json<Data<Id>>> {
    let user = find(&state, tk.id()?).await?;
    let identity_id = p.identity_id.ok_or_else(|| {
        ApiError::bad_request(Text::new(
            "identityId (the identity's id) is required",
            "缺少 identityId（绑定身份的 ID）",
        ))
    })?;
    if !state.store.delete_identity(user.id, identity_id).await? {
        return Err(ApiError::not_found(Text::new(
            format!("User {} has no identity {identity_id}", user.id),
            format!("用户 {} 没有 ID 为 {identity_id} 的绑定身份", user.id),
        )));
    }
    audit_change(&state, &admin, &client, "users:unlinkIdentity", user.id).await;
    Ok(data(Id { id: identity_id }))
}
