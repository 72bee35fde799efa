//! The pages of the flow: answers carried by form post, the consent and sign-out questions,
//! and what a person sees when a request cannot go back to its application.

use crate::oidc::request::Unanswerable;
use crate::pages::{page_with_csp, Ctx, PAGE_CSP};
use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use url::Url;

#[derive(Template)]
#[template(path = "oidc_message.html")]
struct MessagePage {
    ctx: Ctx,
    title: String,
    text: String,
    detail: Option<String>,
}

#[derive(Template)]
#[template(path = "oidc_form_post.html")]
struct FormPostPage {
    ctx: Ctx,
    action: String,
    fields: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "oidc_consent.html")]
struct ConsentPage {
    ctx: Ctx,
    client_name: String,
    scopes: Vec<String>,
    user: String,
    request: String,
    csrf: String,
}

#[derive(Template)]
#[template(path = "oidc_logout.html")]
struct LogoutPage {
    ctx: Ctx,
    user: Option<String>,
    fields: Vec<(String, String)>,
    csrf: String,
}

/// The page policy, except that forms may also lead to `target`'s origin (browsers apply
/// `form-action` to the redirects that follow a form too).
fn csp_allowing_form_to(target: &str) -> HeaderValue {
    let source = match Url::parse(target) {
        Ok(u) if u.origin().is_tuple() => u.origin().ascii_serialization(),
        Ok(u) => format!("{}:", u.scheme()),
        Err(_) => String::new(),
    };
    let csp = PAGE_CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {source}"),
    );
    HeaderValue::from_str(&csp).unwrap_or_else(|_| HeaderValue::from_static(PAGE_CSP))
}

pub fn unanswerable(headers: &HeaderMap, why: Unanswerable) -> Response {
    let ctx = Ctx::new(headers);
    let key = match why {
        Unanswerable::MissingClient => "oidc.error.missing_client",
        Unanswerable::UnknownClient => "oidc.error.unknown_client",
        Unanswerable::DisabledClient => "oidc.error.disabled_client",
        Unanswerable::MissingRedirectUri => "oidc.error.missing_redirect",
        Unanswerable::UnregisteredRedirectUri => "oidc.error.unregistered_redirect",
        Unanswerable::RepeatedParameter => "oidc.error.repeated",
    };
    let page = MessagePage {
        title: ctx.t("oidc.error_title").to_string(),
        text: ctx.t(key).to_string(),
        detail: None,
        ctx,
    };
    page_with_csp(
        StatusCode::BAD_REQUEST,
        &page,
        HeaderValue::from_static(PAGE_CSP),
    )
}

pub fn signed_out(headers: &HeaderMap) -> Response {
    let ctx = Ctx::new(headers);
    let page = MessagePage {
        title: ctx.t("oidc.signed_out_title").to_string(),
        text: ctx.t("oidc.signed_out_text").to_string(),
        detail: None,
        ctx,
    };
    page_with_csp(StatusCode::OK, &page, HeaderValue::from_static(PAGE_CSP))
}

pub fn form_post(headers: &HeaderMap, action: &str, fields: Vec<(String, String)>) -> Response {
    let page = FormPostPage {
        ctx: Ctx::new(headers),
        action: action.to_string(),
        fields,
    };
    page_with_csp(StatusCode::OK, &page, csp_allowing_form_to(action))
}

pub struct Consent<'a> {
    pub client_name: &'a str,
    pub scope: &'a [String],
    pub user: String,
    /// The authorization request's query string, resumed once answered.
    pub request: String,
    pub csrf: String,
    pub redirect_uri: &'a str,
    /// The client's `ui_locales`.
    pub ui_locales: Option<&'a str>,
}

pub fn consent(headers: &HeaderMap, c: Consent<'_>) -> Response {
    let ctx = Ctx::hinted(headers, c.ui_locales);
    let scopes = c
        .scope
        .iter()
        .map(|s| ctx.t(&format!("scope.{s}")).to_string())
        .filter(|text| !text.starts_with("scope."))
        .collect();
    let page = ConsentPage {
        client_name: c.client_name.to_string(),
        scopes,
        user: c.user,
        request: c.request,
        csrf: c.csrf,
        ctx,
    };
    page_with_csp(StatusCode::OK, &page, csp_allowing_form_to(c.redirect_uri))
}

pub fn logout_question(
    headers: &HeaderMap,
    user: Option<String>,
    fields: Vec<(String, String)>,
    csrf: String,
    then: Option<&str>,
) -> Response {
    let page = LogoutPage {
        ctx: Ctx::new(headers),
        user,
        fields,
        csrf,
    };
    let csp = match then {
        Some(target) => csp_allowing_form_to(target),
        None => HeaderValue::from_static(PAGE_CSP),
    };
    page_with_csp(StatusCode::OK, &page, csp)
}
