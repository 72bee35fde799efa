//! `accessRules:*`: who may reach which application behind forward auth (admin only), and
//! `accessRules:explain`, which says which rule decides a URL for a person and why.

use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult, Text};
use crate::forward_auth::current_rules;
use crate::forward_auth::rules::{decide, parse, Person, Target, Verdict};
use crate::http::client::ClientInfo;
use crate::http::extract::{ApiJson, ApiQuery, ByTk};
use crate::http::response::{data, whole_list, Data, Page};
use crate::lang::Lang;
use crate::state::AppState;
use authgate_core::clock::{now_ms, to_rfc3339};
use authgate_store::AccessRuleRecord;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A rule's definition: which requests it covers (host, and optionally a path prefix and
/// methods) and what it does with them: `allow` the people it lists, `deny` everyone, or let
/// them through without sign-in (`public`). Exactly one of the three.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"host": "*.corp.example", "allow": {"signedIn": true}}))]
pub struct AccessRuleBody {
    /// `wiki.corp.example`, `*.corp.example` (its subdomains) or either with `:port`.
    host: String,
    /// Covers this path and below it (`/admin` covers `/admin/x`, not `/administrator`).
    #[serde(skip_serializing_if = "Option::is_none")]
    path_prefix: Option<String>,
    /// Only these methods (all when left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    methods: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allow: Option<AllowBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deny: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public: Option<bool>,
    /// For the administrators (what the rule is for).
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    /// Any other field, kept only to be refused by name (`rules::parse`); rather than
    /// `deny_unknown_fields`, whose closed schema would also close the views that embed this.
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Map<String, Value>,
}

/// Who may pass: any condition given lets a person in.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllowBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    signed_in: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    admins: Option<bool>,
    /// Usernames or user ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    users: Option<Vec<String>>,
    /// People signed in with one of these authenticators (their names).
    #[serde(skip_serializing_if = "Option::is_none")]
    authenticators: Option<Vec<String>>,
    /// Not available yet (groups come with the DingTalk directory).
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessRuleView {
    id: i64,
    /// 1 is tried first.
    position: i64,
    #[serde(flatten)]
    rule: AccessRuleBody,
    created_at: String,
    updated_at: String,
}

fn view(r: AccessRuleRecord, position: i64) -> ApiResult<AccessRuleView> {
    let rule = serde_json::from_value(Value::Object(r.rule))
        .map_err(|e| ApiError::internal(format!("stored rule {}: {e}", r.id)))?;
    Ok(AccessRuleView {
        id: r.id,
        position,
        rule,
        created_at: to_rfc3339(r.created_at),
        updated_at: to_rfc3339(r.updated_at),
    })
}

/// The definition as it will be stored, or what is wrong with it.
fn checked(body: &AccessRuleBody) -> ApiResult<Map<String, Value>> {
    let Ok(Value::Object(def)) = serde_json::to_value(body) else {
        return Err(ApiError::internal("a rule serialises to an object"));
    };
    parse(0, &def)
        .map(|(_, stored)| stored)
        .map_err(|e| ApiError::bad_request(e.text()))
}

async fn audit(state: &AppState, admin: &AdminUser, from: &ClientInfo, action: &str, id: i64) {
    let mut detail = Map::new();
    detail.insert("ruleId".into(), Value::from(id));
    let admin_id = admin.0.user.id;
    state
        .audit_admin_change(admin_id, admin_id, None, from, action, detail)
        .await;
}

fn no_such_rule(id: i64) -> Text {
    Text::new(
        format!("Access rule {id} does not exist"),
        format!("访问规则 {id} 不存在"),
    )
}

/// The rule with `id` as listed (with its position), or 404.
async fn listed(state: &AppState, id: i64) -> ApiResult<AccessRuleView> {
    let all = state.store.list_access_rules().await?;
    let (n, r) = all
        .iter()
        .enumerate()
        .find(|(_, r)| r.id == id)
        .ok_or_else(|| ApiError::not_found(no_such_rule(id)))?;
    view(r.clone(), n as i64 + 1)
}

#[utoipa::path(get, path = "/api/accessRules:list", tag = "accessRules",
    responses((status = 200, description = "Every rule, in the order they are tried", body = Page<AccessRuleView>), (status = 403, description = "Admins only")))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> ApiResult<Json<Page<AccessRuleView>>> {
    let all = state.store.list_access_rules().await?;
    let views = all
        .iter()
        .enumerate()
        .map(|(n, r)| view(r.clone(), n as i64 + 1))
        .collect::<ApiResult<_>>()?;
    Ok(whole_list(views))
}

#[utoipa::path(post, path = "/api/accessRules:create", tag = "accessRules",
    request_body = AccessRuleBody,
    responses((status = 200, description = "Created, after the other rules", body = Data<AccessRuleView>), (status = 400, description = "Not a rule (the field at fault is named)"), (status = 403, description = "Admins only")))]
pub async fn create(
    State(state): State<AppState>,
    admin: AdminUser,
    from: ClientInfo,
    ApiJson(body): ApiJson<AccessRuleBody>,
) -> ApiResult<Json<Data<AccessRuleView>>> {
    let def = checked(&body)?;
    let created = state.store.create_access_rule(&def, now_ms()).await?;
    audit(&state, &admin, &from, "accessRules:create", created.id).await;
    Ok(data(listed(&state, created.id).await?))
}

#[utoipa::path(post, path = "/api/accessRules:update", tag = "accessRules",
    params(("filterByTk" = i64, Query, example = 1, description = "Rule id")),
    request_body = AccessRuleBody,
    responses((status = 200, description = "Replaced by the definition sent (its place is kept)", body = Data<AccessRuleView>), (status = 400, description = "Not a rule"), (status = 403, description = "Admins only"), (status = 404, description = "No such rule")))]
pub async fn update(
    State(state): State<AppState>,
    admin: AdminUser,
    from: ClientInfo,
    ApiQuery(tk): ApiQuery<ByTk>,
    ApiJson(body): ApiJson<AccessRuleBody>,
) -> ApiResult<Json<Data<AccessRuleView>>> {
    let id = tk.id()?;
    let def = checked(&body)?;
    if state
        .store
        .update_access_rule(id, &def, now_ms())
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(no_such_rule(id)));
    }
    audit(&state, &admin, &from, "accessRules:update", id).await;
    Ok(data(listed(&state, id).await?))
}

#[utoipa::path(post, path = "/api/accessRules:destroy", tag = "accessRules",
    params(("filterByTk" = i64, Query, example = 1, description = "Rule id")),
    responses((status = 200, description = "Deleted", body = Data<crate::api::views::Id>), (status = 403, description = "Admins only"), (status = 404, description = "No such rule")))]
pub async fn destroy(
    State(state): State<AppState>,
    admin: AdminUser,
    from: ClientInfo,
    ApiQuery(tk): ApiQuery<ByTk>,
) -> ApiResult<Json<Data<crate::api::views::Id>>> {
    let id = tk.id()?;
    if !state.store.delete_access_rule(id).await? {
        return Err(ApiError::not_found(no_such_rule(id)));
    }
    audit(&state, &admin, &from, "accessRules:destroy", id).await;
    Ok(data(crate::api::views::Id { id }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// Where the rule goes: 1 is tried first; past the end, last.
    position: i64,
}

#[utoipa::path(post, path = "/api/accessRules:move", tag = "accessRules",
    params(("filterByTk" = i64, Query, example = 1, description = "Rule id")),
    request_body = MoveBody,
    responses((status = 200, description = "Moved; the others keep their order", body = Data<AccessRuleView>), (status = 400, description = "No position"), (status = 403, description = "Admins only"), (status = 404, description = "No such rule")))]
pub async fn move_rule(
    State(state): State<AppState>,
    admin: AdminUser,
    from: ClientInfo,
    ApiQuery(tk): ApiQuery<ByTk>,
    ApiJson(body): ApiJson<MoveBody>,
) -> ApiResult<Json<Data<AccessRuleView>>> {
    let id = tk.id()?;
    if body.position < 1 {
        return Err(ApiError::bad_request(Text::new(
            "position must be 1 or more (1 is tried first)",
            "position 须不小于 1（1 最先匹配）",
        )));
    }
    let index = usize::try_from(body.position - 1).unwrap_or(usize::MAX);
    if !state.store.move_access_rule(id, index, now_ms()).await? {
        return Err(ApiError::not_found(no_such_rule(id)));
    }
    audit(&state, &admin, &from, "accessRules:move", id).await;
    Ok(data(listed(&state, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainQuery {
    /// The URL a person opens, e.g. `https://wiki.corp.example/page`.
    url: Option<String>,
    /// GET when left out.
    method: Option<String>,
    /// A username or user id; left out: nobody signed in.
    user: Option<String>,
    /// The authenticator the person signed in with (rules may ask for one).
    authenticator: Option<String>,
}

/// What the rules decide.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// `allow`, `signIn` (nobody is signed in and the rule needs someone) or `deny`.
    verdict: String,
    /// The rule that decides (absent: no rule covers the URL, so it is denied).
    rule_id: Option<i64>,
    reason: String,
}

#[utoipa::path(get, path = "/api/accessRules:explain", tag = "accessRules",
    params(("url" = String, Query, description = "The URL a person opens"), ("method" = Option<String>, Query, description = "GET when left out"), ("user" = Option<String>, Query, description = "Username or user id; left out: nobody signed in"), ("authenticator" = Option<String>, Query, description = "The authenticator they signed in with")),
    responses((status = 200, description = "Which rule decides, and why", body = Data<Explanation>), (status = 400, description = "Not an http(s) URL"), (status = 403, description = "Admins only"), (status = 404, description = "No such user")))]
pub async fn explain(
    State(state): State<AppState>,
    lang: Lang,
    _admin: AdminUser,
    ApiQuery(q): ApiQuery<ExplainQuery>,
) -> ApiResult<Json<Data<Explanation>>> {
    let raw = q.url.as_deref().map(str::trim).unwrap_or_default();
    let url = url::Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            ApiError::bad_request(Text::new(
                "url must be an http(s) URL such as https://wiki.corp.example/",
                "url 须为 http(s) 网址，例如 https://wiki.corp.example/",
            ))
        })?;
    let method = q.method.as_deref().unwrap_or("GET");
    let target = Target::new(&url, method).ok_or_else(|| {
        ApiError::bad_request(Text::new("url must name a host", "url 须包含主机名"))
    })?;
    let user = match q.user.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        None => None,
        Some(u) => {
            let by_id = match u.parse::<i64>() {
                Ok(id) => state.store.get_user(id).await?,
                Err(_) => None,
            };
            let found = match by_id {
                Some(user) => Some(user),
                None => state.store.find_user_by_account(u).await?,
            };
            Some(found.ok_or_else(|| {
                ApiError::not_found(Text::new(
                    format!("No user '{u}'"),
                    format!("没有用户“{u}”"),
                ))
            })?)
        }
    };
    let authenticator = q.authenticator.clone().unwrap_or_default();
    let person = user.as_ref().map(|u| Person {
        user_id: u.id,
        username: u.username.as_deref(),
        is_admin: u.is_admin,
        authenticator: &authenticator,
    });
    let rules = current_rules(&state).await?;
    let d = decide(&rules, &target, person.as_ref());
    let verdict = match d.verdict {
        Verdict::Allow => "allow",
        Verdict::SignIn => "signIn",
        Verdict::Deny => "deny",
    };
    let reason = match &user {
        Some(u) if !u.enabled => Text::new(
            format!("{} (but the user is disabled: no session)", d.reason.en),
            format!("{}（但该用户已被禁用：没有会话）", d.reason.zh),
        ),
        _ => d.reason,
    };
    let reason = reason.in_chinese(lang == Lang::Zh).to_string();
    Ok(data(Explanation {
        verdict: verdict.into(),
        rule_id: d.rule_id,
        reason,
    }))
}
