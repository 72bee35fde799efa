//! `authenticators:*`: the public list for the sign-in page and the admin actions.

use super::views::Id;
use crate::auth::AdminUser;
use crate::auth_types::options::OptionSpec;
use crate::auth_types::shown_title;
use crate::auth_types::SignInStyle;
use crate::error::{ApiError, ApiResult, Text};
use crate::http::client::ClientInfo;
use crate::http::extract::{ApiJson, ApiQuery, ByTk};
use crate::http::response::{data, whole_list, Data, Page};
use crate::lang::Lang;
use crate::state::AppState;
use authgate_core::clock::{now_ms, to_rfc3339};
use authgate_core::model::{
    validate_authenticator_name, Authenticator, AuthenticatorPatch, NewAuthenticator,
};
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// An authenticator as admins see it (secrets masked).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Authenticator)]
pub struct AuthenticatorView {
    id: i64,
    name: String,
    auth_type: String,
    /// The type's name in the reader's language.
    auth_type_title: String,
    title: String,
    description: String,
    enabled: bool,
    sort: i64,
    #[schema(value_type = Object)]
    options: Map<String, Value>,
    created_at: String,
    updated_at: String,
}

/// An enabled authenticator as the sign-in page sees it (public options only).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicAuthenticator {
    name: String,
    auth_type: String,
    auth_type_title: String,
    /// Its own title, else its type's name, in the reader's language.
    title: String,
    description: String,
    style: SignInStyle,
    #[schema(value_type = Object)]
    options: Map<String, Value>,
}

/// An auth type, with what the admin form needs to create authenticators of it.
#[derive(Serialize, ToSchema)]
pub struct AuthTypeInfo {
    name: &'static str,
    /// In the reader's language.
    title: String,
    style: SignInStyle,
    /// How to draw each option in the admin form.
    options: Vec<OptionSpec>,
}

fn type_of<'a>(
    state: &'a AppState,
    a: &Authenticator,
) -> ApiResult<&'a std::sync::Arc<dyn crate::auth_types::AuthType>> {
    state
        .auth_types
        .get(&a.auth_type)
        .ok_or_else(|| ApiError::internal(format!("auth type {} is not registered", a.auth_type)))
}

fn admin_view(state: &AppState, a: Authenticator, lang: Lang) -> ApiResult<AuthenticatorView> {
    let t = type_of(state, &a)?;
    Ok(AuthenticatorView {
        options: t.admin_options(state, &a),
        auth_type_title: t.title().in_chinese(lang == Lang::Zh).to_string(),
        id: a.id,
        name: a.name,
        auth_type: a.auth_type,
        title: a.title,
        description: a.description,
        enabled: a.enabled,
        sort: a.sort,
        created_at: to_rfc3339(a.created_at),
        updated_at: to_rfc3339(a.updated_at),
    })
}

async fn audit_change(
    state: &AppState,
    admin: &AdminUser,
    client: &ClientInfo,
    action: &str,
    target: &str,
) {
    let mut detail = Map::new();
    detail.insert("target".into(), Value::String(target.into()));
    let admin_id = admin.0.user.id;
    state
        .audit_admin_change(
            admin_id,
            admin_id,
            Some(target.into()),
            client,
            action,
            detail,
        )
        .await;
}

#[utoipa::path(get, path = "/api/authenticators:publicList", tag = "authenticators",
    responses((status = 200, description = "Enabled authenticators in order, public options only", body = Data<Vec<PublicAuthenticator>>)))]
pub async fn public_list(
    State(state): State<AppState>,
    lang: Lang,
) -> ApiResult<Json<Data<Vec<PublicAuthenticator>>>> {
    let mut out = Vec::new();
    for a in state
        .store
        .list_authenticators()
        .await?
        .into_iter()
        .filter(|a| a.enabled)
    {
        let Some(t) = state.auth_types.get(&a.auth_type) else {
            continue;
        };
        out.push(PublicAuthenticator {
            options: t.public_options(&a),
            auth_type_title: t.title().in_chinese(lang == Lang::Zh).to_string(),
            style: t.style(),
            title: shown_title(&a, t.as_ref(), lang),
            name: a.name,
            auth_type: a.auth_type,
            description: a.description,
        });
    }
    Ok(data(out))
}

#[utoipa::path(get, path = "/api/authenticators:listTypes", tag = "authenticators",
    responses((status = 200, description = "Auth types with their option schemas", body = Data<Vec<AuthTypeInfo>>), (status = 403, description = "Admins only")))]
pub async fn list_types(
    State(state): State<AppState>,
    lang: Lang,
    _admin: AdminUser,
) -> ApiResult<Json<Data<Vec<AuthTypeInfo>>>> {
    let types = state
        .auth_types
        .all()
        .iter()
        .map(|t| AuthTypeInfo {
            name: t.name(),
            title: t.title().in_chinese(lang == Lang::Zh).to_string(),
            style: t.style(),
            options: t.option_schema(),
        })
        .collect();
    Ok(data(types))
}

#[utoipa::path(get, path = "/api/authenticators:list", tag = "authenticators",
    responses((status = 200, description = "All authenticators in order", body = Page<AuthenticatorView>), (status = 403, description = "Admins only")))]
pub async fn list(
    State(state): State<AppState>,
    lang: Lang,
    _admin: AdminUser,
) -> ApiResult<Json<Page<AuthenticatorView>>> {
    let all = state.store.list_authenticators().await?;
    let items = all
        .into_iter()
        .map(|a| admin_view(&state, a, lang))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(whole_list(items))
}

#[utoipa::path(get, path = "/api/authenticators:get", tag = "authenticators",
    params(("filterByTk" = i64, Query, example = 1, description = "Authenticator id")),
    responses((status = 200, description = "The authenticator, secrets masked", body = Data<AuthenticatorView>), (status = 403, description = "Admins only"), (status = 404, description = "No such authenticator")))]
pub async fn get_one(
    State(state): State<AppState>,
    lang: Lang,
    _admin: AdminUser,
    ApiQuery(tk): ApiQuery<ByTk>,
) -> ApiResult<Json<Data<AuthenticatorView>>> {
    let a = find(&state, tk.id()?).await?;
    Ok(data(admin_view(&state, a, lang)?))
}

async fn find(state: &AppState, id: i64) -> ApiResult<Authenticator> {
    state.store.get_authenticator(id).await?.ok_or_else(|| {
        ApiError::not_found(Text::new(
            format!("Authenticator {id} does not exist"),
            format!("认证器 {id} 不存在"),
        ))
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = AuthenticatorCreate, example = json!({"name": "staff", "authType": "password", "title": "Staff", "options": {"allowSignUp": false}}))]
pub struct CreateBody {
    name: String,
    auth_type: String,
    title: Option<String>,
    description: Option<String>,
    enabled: Option<bool>,
    #[schema(value_type = Option<Object>)]
    options: Option<Map<String, Value>>,
}

#[utoipa::path(post, path = "/api/authenticators:create", tag = "authenticators",
    request_body = CreateBody,
    responses((status = 200, description = "Created", body = Data<AuthenticatorView>), (status = 400, description = "Invalid or taken name, unknown type, invalid options"), (status = 403, description = "Admins only")))]
pub async fn create(
    State(state): State<AppState>,
    lang: Lang,
    admin: AdminUser,
    client: ClientInfo,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<Json<Data<AuthenticatorView>>> {
    let name = validate_authenticator_name(body.name.trim())
        .map_err(|e| ApiError::bad_request(e.text()))?;
    let t = state.auth_types.get(&body.auth_type).ok_or_else(|| {
        let known: Vec<_> = state.auth_types.all().iter().map(|t| t.name()).collect();
        ApiError::bad_request(Text::new(
            format!(
                "Unknown auth type '{}'; available: {}",
                body.auth_type,
                known.join(", ")
            ),
            format!(
                "未知的认证类型“{}”；可用的类型：{}",
                body.auth_type,
                known.join("、")
            ),
        ))
    })?;
    let options = t
        .prepare_options(&state, &name, body.options.unwrap_or_default(), None)
        .await?;
    // No title of its own: readers see the type's name in their language (`shown_title`).
    let title = text_field("title", body.title.unwrap_or_default())?;
    let created = state
        .store
        .create_authenticator(
            &NewAuthenticator {
                name: name.clone(),
                auth_type: body.auth_type,
                title,
                description: text_field("description", body.description.unwrap_or_default())?,
                options,
                enabled: body.enabled.unwrap_or(true),
            },
            now_ms(),
        )
        .await?;
    audit_change(&state, &admin, &client, "authenticators:create", &name).await;
    Ok(data(admin_view(&state, created, lang)?))
}

fn text_field(field: &str, value: String) -> ApiResult<String> {
    if value.chars().count() > 200 || value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(Text::new(
            format!("{field} must be at most 200 characters, without control characters"),
            format!("{field} 最多 200 个字符，且不能包含控制字符"),
        )));
    }
    Ok(value.trim().to_string())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = AuthenticatorUpdate, example = json!({"title": "Password", "description": "Username or e-mail", "enabled": true}))]
pub struct UpdateBody {
    /// Accepted only when unchanged (clients often send the whole record).
    name: Option<String>,
    auth_type: Option<String>,
    title: Option<String>,
    description: Option<String>,
    enabled: Option<bool>,
    #[schema(value_type = Option<Object>)]
    options: Option<Map<String, Value>>,
    /// Read-only fields a client may echo back.
    id: Option<i64>,
    sort: Option<i64>,
}

#[utoipa::path(post, path = "/api/authenticators:update", tag = "authenticators",
    params(("filterByTk" = i64, Query, example = 1, description = "Authenticator id")),
    request_body = UpdateBody,
    responses((status = 200, description = "Updated", body = Data<AuthenticatorView>), (status = 400, description = "Invalid change, or disabling the last enabled authenticator"), (status = 403, description = "Admins only"), (status = 404, description = "No such authenticator")))]
pub async fn update(
    State(state): State<AppState>,
    lang: Lang,
    admin: AdminUser,
    client: ClientInfo,
    ApiQuery(tk): ApiQuery<ByTk>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Json<Data<AuthenticatorView>>> {
    let current = find(&state, tk.id()?).await?;
    if body.name.as_ref().is_some_and(|n| *n != current.name) {
        return Err(ApiError::bad_request(Text::new(
            "The name (Auth UID) of an authenticator cannot be changed",
            "认证器的名称（Auth UID）不能修改",
        )));
    }
    if body
        .auth_type
        .as_ref()
        .is_some_and(|t| *t != current.auth_type)
    {
        return Err(ApiError::bad_request(Text::new(
            "The type of an authenticator cannot be changed",
            "认证器的类型不能修改",
        )));
    }
    let _ = (body.id, body.sort);
    let t = type_of(&state, &current)?;
    let options = match body.options {
        Some(o) => Some(
            t.prepare_options(&state, &current.name, o, Some(&current))
                .await?,
        ),
        None => None,
    };
    let patch = AuthenticatorPatch {
        title: body.title.map(|v| text_field("title", v)).transpose()?,
        description: body
            .description
            .map(|v| text_field("description", v))
            .transpose()?,
        options,
        enabled: body.enabled,
    };
    let updated = state
        .store
        .update_authenticator(current.id, &patch, now_ms())
        .await?
        .ok_or_else(|| ApiError::not_found(deleted_meanwhile()))?;
    audit_change(
        &state,
        &admin,
        &client,
        "authenticators:update",
        &current.name,
    )
    .await;
    Ok(data(admin_view(&state, updated, lang)?))
}

fn deleted_meanwhile() -> Text {
    Text::new(
        "The authenticator was deleted meanwhile",
        "该认证器已被删除",
    )
}

#[utoipa::path(post, path = "/api/authenticators:destroy", tag = "authenticators",
    params(("filterByTk" = i64, Query, example = 3, description = "Authenticator id")),
    responses((status = 200, description = "Deleted", body = Data<Id>), (status = 400, description = "It is the last enabled authenticator"), (status = 403, description = "Admins only"), (status = 404, description = "No such authenticator")))]
pub async fn destroy(
    State(state): State<AppState>,
    admin: AdminUser,
    client: ClientInfo,
    ApiQuery(tk): ApiQuery<ByTk>,
) -> ApiResult<Json<Data<Id>>> {
    let current = find(&state, tk.id()?).await?;
    if !state.store.delete_authenticator(current.id).await? {
        return Err(ApiError::not_found(deleted_meanwhile()));
    }
    audit_change(
        &state,
        &admin,
        &client,
        "authenticators:destroy",
        &current.name,
    )
    .await;
    Ok(data(Id { id: current.id }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MoveParams {
    source_id: Option<i64>,
    target_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/authenticators:move", tag = "authenticators",
    params(("sourceId" = Option<i64>, Query, example = 2, description = "Authenticator to move"), ("targetId" = Option<i64>, Query, example = 1, description = "Authenticator whose place it takes")),
    responses((status = 200, description = "Moved; the new order", body = Page<AuthenticatorView>), (status = 400, description = "Missing ids"), (status = 403, description = "Admins only"), (status = 404, description = "Unknown id")))]
pub async fn move_one(
    State(state): State<AppState>,
    lang: Lang,
    admin: AdminUser,
    client: ClientInfo,
    ApiQuery(query): ApiQuery<MoveParams>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Page<AuthenticatorView>>> {
    // NocoBase clients send the ids in the body, others in the query: accept both.
    let body: MoveParams = if body.iter().all(u8::is_ascii_whitespace) {
        MoveParams::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(Text::new(
                format!("The request body is not valid: {e}"),
                format!("请求体无效：{e}"),
            ))
        })?
    };
    let (Some(source), Some(target)) = (
        query.source_id.or(body.source_id),
        query.target_id.or(body.target_id),
    ) else {
        return Err(ApiError::bad_request(Text::new(
            "sourceId and targetId are required",
            "缺少 sourceId 和 targetId",
        )));
    };
    if !state
        .store
        .move_authenticator(source, target, now_ms())
        .await?
    {
        return Err(ApiError::not_found(Text::new(
            "sourceId or targetId is not an authenticator",
            "sourceId 或 targetId 不是认证器",
        )));
    }
    audit_change(
        &state,
        &admin,
        &client,
        "authenticators:move",
        &source.to_string(),
    )
    .await;
    list(State(state), lang, admin).await
}
