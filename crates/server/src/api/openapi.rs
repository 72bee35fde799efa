//! `/api/openapi.json`: every route of the API, generated from the handlers' annotations, plus
//! what every operation shares (added by [`Shared`]): the error body, the bearer token and the
//! 400/401/403/413/415 answers that come from the extractors rather than from the handlers.
//! `scripts/api-fuzz` checks the server against this description.

use crate::error::ErrorBody;
use axum::Json;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

// The schemas are those of the types the handlers answer with (and read, where they read a
// typed body); the annotations on each handler name them.
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
        super::oidc_clients::list,
        super::oidc_clients::get_one,
        super::oidc_clients::create,
        super::oidc_clients::update,
        super::oidc_clients::destroy,
        super::oidc_clients::rotate_secret,
        super::oidc_clients::list_grants,
        super::oidc_clients::revoke_grants,
        super::oidc_clients::mine,
        super::oidc_clients::remove_mine,
        super::access_rules::list,
        super::access_rules::create,
        super::access_rules::update,
        super::access_rules::destroy,
        super::access_rules::move_rule,
        super::access_rules::explain,
        crate::auth_types::dingtalk::get_auth_url,
        crate::auth_types::dingtalk::redirect,
        crate::auth_types::dingtalk::test_connection,
        crate::auth_types::dingtalk::sign_in_in_client,
    ),
    components(schemas(ErrorBody)),
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
                    .schema(Some(Ref::from_schema_name(ErrorBody::name())))
                    .build(),
            );
        }
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
