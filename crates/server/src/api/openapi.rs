//! `/api/openapi.json`: every route of the API, generated from the handlers' annotations, plus
//! what every operation shares (added by [`Shared`]): the error body, the bearer token and the
//! 400/401/403/413/415 answers that come from the extractors rather than from the handlers.
//! `scripts/api-fuzz` checks the server against this description.

use axum::Json;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(example = json!({"account": "admin", "password": "my passphrase"}))]
pub struct PasswordSignIn {
    /// Username or e-mail.
    account: String,
    password: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(example = json!({"username": "ada", "email": "ada@example.com", "password": "my passphrase", "confirm_password": "my passphrase"}))]
pub struct PasswordSignUp {
    username: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    nickname: Option<String>,
    password: String,
    confirm_password: Option<String>,
}

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

// What the answers look like (the shapes `views` and `http::response` produce).

/// Every error: NocoBase's `{"errors": [{"message", "code"}]}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    errors: Vec<ErrorItem>,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorItem {
    /// For people, in English.
    message: String,
    /// For programs: INVALID_REQUEST, EMPTY_TOKEN, INVALID_CREDENTIALS, FORBIDDEN, NOT_FOUND,
    /// TOO_MANY_ATTEMPTS, ...
    code: String,
}

/// A success: `{"data": ...}`.
#[derive(Serialize, ToSchema)]
pub struct Data<T: ToSchema> {
    data: T,
}

/// A page of a list: `{"data": [...], "meta": {...}}`.
#[derive(Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    data: Vec<T>,
    meta: ListMeta,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    /// All matching records, not only this page's.
    count: i64,
    page: i64,
    page_size: i64,
    total_page: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    id: i64,
    username: Option<String>,
    email: Option<String>,
    /// E.164.
    phone: Option<String>,
    nickname: Option<String>,
    is_admin: bool,
    enabled: bool,
    has_password: bool,
    created_at: String,
    updated_at: String,
}

/// `users:get`: the user and their linked identities.
#[derive(Serialize, ToSchema)]
pub struct UserDetail {
    #[serde(flatten)]
    user: User,
    identities: Vec<Identity>,
}

/// `auth:check`: the user and the authenticator they signed in with.
#[derive(Serialize, ToSchema)]
pub struct CheckedUser {
    #[serde(flatten)]
    user: User,
    authenticator: String,
}

#[derive(Serialize, ToSchema)]
pub struct SignedIn {
    user: User,
    /// Send it as `Authorization: Bearer <token>`; renewed tokens come in `x-new-token`.
    token: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    id: i64,
    authenticator: String,
    uuid: String,
    user_id: i64,
    nickname: Option<String>,
    avatar: Option<String>,
    #[schema(value_type = Object)]
    meta: Map<String, Value>,
    created_at: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    id: String,
    user_id: i64,
    username: Option<String>,
    nickname: Option<String>,
    authenticator: String,
    signed_in_at: String,
    last_renewed_at: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    revoked: bool,
    /// The session of the request's own token.
    current: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    id: i64,
    created_at: String,
    /// e.g. auth.signIn
    event: String,
    /// success or failure
    result: String,
    user_id: Option<i64>,
    actor_id: Option<i64>,
    authenticator: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    reason: Option<String>,
    #[schema(value_type = Object)]
    detail: Map<String, Value>,
}

/// An authenticator as admins see it (secrets masked).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Authenticator {
    id: i64,
    name: String,
    auth_type: String,
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
    title: String,
    description: String,
    /// form or button
    style: String,
    #[schema(value_type = Object)]
    options: Map<String, Value>,
}

#[derive(Serialize, ToSchema)]
pub struct AuthTypeInfo {
    name: String,
    title: String,
    /// form or button
    style: String,
    /// How to draw each option in the admin form.
    #[schema(value_type = Vec<Object>)]
    options: Vec<Map<String, Value>>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenPolicy {
    /// Always `default`.
    key: String,
    config: TokenPolicyConfig,
}

/// Durations such as `30m`, `1d`, `7d`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenPolicyConfig {
    token_expiration_time: String,
    session_expiration_time: String,
    expired_token_renew_limit: String,
}

/// The id of what was deleted or unlinked.
#[derive(Serialize, ToSchema)]
pub struct Id {
    id: i64,
}

/// The id of the revoked session.
#[derive(Serialize, ToSchema)]
pub struct SessionRef {
    id: String,
}

#[derive(Serialize, ToSchema)]
pub struct Revoked {
    /// How many sessions were revoked.
    revoked: i64,
}

/// `{}`
#[derive(Serialize, ToSchema)]
pub struct Empty {}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "authgate",
        description = "NocoBase-compatible authentication API with Sign in with DingTalk"
    ),
    paths(
        super::auth::sign_in,
        super::auth::sign_up,
        super::auth::sign_out,
        super::auth::check,
        super::auth::change_password,
        super::sessions::mine,
        super::sessions::revoke_mine,
        super::authenticators::public_list,
        super::authenticators::list_types,
        super::authenticators::list,
        super::authenticators::get_one,
        super::authenticators::create,
        super::authenticators::update,
        super::authenticators::destroy,
        super::authenticators::move_one,
        super::users::list,
        super::users::get_one,
        super::users::create,
        super::users::update,
        super::users::destroy,
        super::users::unlink_identity,
        super::auth::unlink_identity,
        super::token_policy::get_policy,
        super::token_policy::update_policy,
        super::audit_logs::list,
        super::sessions::list,
        super::sessions::revoke,
        super::sessions::revoke_user,
        crate::auth_types::dingtalk::get_auth_url,
        crate::auth_types::dingtalk::redirect,
        crate::auth_types::dingtalk::test_connection,
        crate::auth_types::dingtalk::sign_in_in_client,
    ),
    components(schemas(PasswordSignIn, PasswordSignUp, UserBody, ErrorBody)),
    modifiers(&Shared)
)]
pub struct ApiDoc;

/// Operations anyone may call; every other one needs a signed-in user (a bearer token, or the
/// session cookie plus the CSRF header).
const PUBLIC: &[&str] = &[
    "/api/auth:signIn",
    "/api/auth:signUp",
    "/api/authenticators:publicList",
    "/api/dingtalk:getAuthUrl",
    "/api/dingtalk:redirect",
    "/api/dingtalk:signInInClient",
];

/// Adds to every operation what it shares with the others, so the annotations only describe
/// what is particular to their handler.
struct Shared;

impl Modify for Shared {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearerAuth",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
            );
        for (path, item) in doc.paths.paths.iter_mut() {
            let public = PUBLIC.contains(&path.as_str());
            for (post, op) in [(false, &mut item.get), (true, &mut item.post)] {
                if let Some(op) = op {
                    shared(path, op, public, post);
                }
            }
        }
    }
}

fn shared(path: &str, op: &mut Operation, public: bool, post: bool) {
    // `users:list`, not the handler's name (several are called `list`).
    op.operation_id = Some(path.trim_start_matches("/api/").to_string());
    let takes_params = op.parameters.as_ref().is_some_and(|p| {
        p.iter()
            .any(|p| matches!(p.parameter_in, ParameterIn::Query | ParameterIn::Header))
    });
    let takes_body = op.request_body.is_some();
    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| {
                ResponseBuilder::new()
                    .description(description)
                    .build()
                    .into()
            });
    };
    if takes_params || takes_body {
        add("400", "Invalid parameters or body");
    }
    if takes_body {
        add("413", "The body is larger than the limit (64 KiB)");
        add("415", "The body is not sent as application/json");
    }
    if !public {
        add(
            "401",
            "Not signed in, or the token is invalid, expired or revoked: EMPTY_TOKEN, \
             INVALID_TOKEN, EXPIRED_TOKEN, BLOCKED_TOKEN, EXPIRED_SESSION, NOT_EXIST_USER, ...",
        );
        if post {
            add(
                "403",
                "Signed in with the session cookie but without the X-CSRF-Token header",
            );
        }
        op.security = Some(vec![SecurityRequirement::new(
            "bearerAuth",
            Vec::<String>::new(),
        )]);
    }
    // Every error has the same body.
    for (status, response) in op.responses.responses.iter_mut() {
        let utoipa::openapi::RefOr::T(response) = response else {
            continue;
        };
        if status.as_str() >= "400" && response.content.is_empty() {
            response.content.insert(
                "application/json".into(),
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            );
        }
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
