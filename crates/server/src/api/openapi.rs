//! `/api/openapi.json`: every route of the API, generated from the handlers' annotations.

use axum::Json;
use utoipa::OpenApi;

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PasswordSignIn {
    /// Username or e-mail.
    account: String,
    password: String,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PasswordSignUp {
    username: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    nickname: Option<String>,
    password: String,
    confirm_password: Option<String>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code, non_snake_case)]
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
    components(schemas(PasswordSignIn, PasswordSignUp, UserBody))
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
