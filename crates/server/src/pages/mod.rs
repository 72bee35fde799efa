//! The web pages: sign-in (`/signin`, `/signup`), the account page (`/`), the admin console
//! (`/admin`) and login-free sign-in inside DingTalk (`/dingtalk/auto`). Server-rendered with
//! askama (escaping on); the scripts under `/assets` call the JSON API with the session cookie
//! and the CSRF header. No inline script or style, so the CSP allows only `'self'`.

pub mod assets;
pub mod i18n;
pub mod signout;

use crate::auth::CurrentUser;
use crate::auth_types::dingtalk::messages::Failure;
use crate::auth_types::SignInStyle;
use crate::auth_types::{own_title, shown_title};
use crate::error::ApiError;
use crate::http::redirect_target::{checked_redirect_target, redirect_target};
use crate::lang::Lang;
use crate::state::AppState;
use askama::Template;
use authgate_core::model::Authenticator;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::Value;

/// The Content-Security-Policy of every page.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' https: data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(account))
        .route("/signin", get(signin))
        .route("/signup", get(signup))
        .route(signout::PATH, get(signout::ask).post(signout::confirm))
        .route("/admin", get(admin))
        .route("/dingtalk/auto", get(dingtalk_auto))
        .route("/assets/{*path}", get(assets::serve))
        .route("/favicon.ico", get(assets::favicon))
}

/// What every page template needs: the language, the catalog for the scripts, asset version.
pub struct Ctx {
    pub lang: Lang,
    pub catalog: String,
    pub v: &'static str,
}

impl Ctx {
    pub(crate) fn new(headers: &HeaderMap) -> Ctx {
        Ctx::hinted(headers, None)
    }

    /// In the language [`Lang::from_request_hinted`] picks.
    pub(crate) fn hinted(headers: &HeaderMap, lang_hint: Option<&str>) -> Ctx {
        let lang = Lang::from_request_hinted(headers, lang_hint);
        Ctx {
            lang,
            catalog: i18n::catalog_json(lang),
            v: assets::VERSION.as_str(),
        }
    }
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        i18n::t(self.lang, key)
    }
    pub fn html_lang(&self) -> &'static str {
        self.lang.tag()
    }
    /// The other language, for the switch.
    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::En => Lang::Zh.tag(),
            Lang::Zh => Lang::En.tag(),
        }
    }
}

pub(crate) fn page(status: StatusCode, t: &impl Template) -> Response {
    page_with_csp(status, t, HeaderValue::from_static(PAGE_CSP))
}

/// A page whose policy differs from [`PAGE_CSP`] (one whose form leads to another site).
pub(crate) fn page_with_csp(status: StatusCode, t: &impl Template, csp: HeaderValue) -> Response {
    match t.render() {
        Ok(body) => {
            let mut r = (status, Html(body)).into_response();
            r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp);
            r.headers_mut().insert(
                header::VARY,
                HeaderValue::from_static("Cookie, Accept-Language"),
            );
            r
        }
        Err(e) => ApiError::internal(format!("template: {e}")).into_response(),
    }
}

fn to_signin(redirect: &str) -> Response {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("redirect", redirect)
        .finish();
    Redirect::to(&format!("/signin?{q}")).into_response()
}

// ---------------------------------------------------------------------------- sign-in

/// A longer `login_hint` is no account name: the field is left empty.
const MAX_LOGIN_HINT_CHARS: usize = 256;

#[derive(Debug, Deserialize, Default)]
pub struct SignInQuery {
    redirect: Option<String>,
    authenticator: Option<String>,
    /// A DingTalk failure's reason (`messages::Failure::reason`).
    error: Option<String>,
    /// The permissions a `permission_missing` failure names.
    scopes: Option<String>,
    /// Preferred languages of the application that sent the person here (OIDC `ui_locales`).
    ui_locales: Option<String>,
    /// The account the application expects (OIDC `login_hint`): fills in the account field.
    login_hint: Option<String>,
}

pub struct FormAuth {
    pub name: String,
    pub title: String,
    pub allow_signup: bool,
}

pub struct ButtonAuth {
    pub name: String,
    pub title: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "signin.html")]
pub struct SignInPage {
    pub ctx: Ctx,
    pub redirect: String,
    /// Filled into the account field (empty for none).
    pub login_hint: String,
    /// Why the return address was refused, for the administrator who set it up.
    pub redirect_refused: Option<String>,
    /// Who is signed in already (name and username), if anyone.
    pub signed_in_as: Option<String>,
    pub forms: Vec<FormAuth>,
    pub buttons: Vec<ButtonAuth>,
    /// An error for an authenticator that has no button on this page.
    pub general_error: Option<String>,
}

impl SignInPage {
    pub fn signup_href(&self, name: &str) -> String {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("authenticator", name)
            .append_pair("redirect", &self.redirect)
            .finish();
        format!("/signup?{q}")
    }
}

async fn enabled_authenticators(state: &AppState) -> Result<Vec<Authenticator>, ApiError> {
    Ok(state
        .store
        .list_authenticators()
        .await?
        .into_iter()
        .filter(|a| a.enabled && state.auth_types.get(&a.auth_type).is_some())
        .collect())
}

fn style_of(state: &AppState, a: &Authenticator) -> Option<SignInStyle> {
    state.auth_types.get(&a.auth_type).map(|t| t.style())
}

/// A sign-in button's words: the authenticator's own title, else "Sign in via DingTalk" (or
/// its type's name) in the reader's language.
fn button_title(state: &AppState, ctx: &Ctx, a: &Authenticator) -> String {
    let Some(t) = state.auth_types.get(&a.auth_type) else {
        return a.name.clone();
    };
    match own_title(a, t.as_ref()) {
        Some(own) => own.to_string(),
        None if a.auth_type == "dingtalk" => ctx.t("signin.dingtalk").to_string(),
        None => shown_title(a, t.as_ref(), ctx.lang),
    }
}

async fn signin(
    State(state): State<AppState>,
    headers: HeaderMap,
    current: Result<CurrentUser, ApiError>,
    Query(q): Query<SignInQuery>,
) -> Response {
    let ctx = Ctx::hinted(&headers, q.ui_locales.as_deref());
    let all = match enabled_authenticators(&state).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    // The link names a reason; the text is ours (a link's own text could be anyone's).
    let error =
        q.error.as_deref().filter(|e| !e.is_empty()).map(|reason| {
            match Failure::from_reason(reason, q.scopes.as_deref()) {
                Some(f) => f.message(ctx.lang),
                None => ctx.t("signin.failed").to_string(),
            }
        });
    let mut forms = Vec::new();
    let mut buttons = Vec::new();
    let mut general_error = error.clone();
    for a in &all {
        match style_of(&state, a) {
            Some(SignInStyle::Form) => forms.push(FormAuth {
                name: a.name.clone(),
                title: button_title(&state, &ctx, a),
                allow_signup: a.options.get("allowSignUp") == Some(&Value::Bool(true)),
            }),
            Some(SignInStyle::Button) => {
                let mine = q.authenticator.as_deref() == Some(a.name.as_str());
                let err = if mine { general_error.take() } else { None };
                buttons.push(ButtonAuth {
                    name: a.name.clone(),
                    title: button_title(&state, &ctx, a),
                    error: err,
                });
            }
            None => {}
        }
    }
    let (redirect, refused) = checked_redirect_target(q.redirect.as_deref(), &state.config);
    let redirect_refused = refused.map(|r| {
        ctx.t("signin.redirect_refused")
            .replace("{reason}", r.reason())
    });
    // Signed in already: say as whom and offer to go on; the forms stay for another account.
    // Not when an application asked for a fresh sign-in: going on would only come back here.
    let fresh_asked = redirect.contains(crate::oidc::authorize::SIGNED_IN_AFTER);
    let signed_in_as = current
        .ok()
        .filter(|_| !fresh_asked)
        .map(|CurrentUser(me)| me.user.name_and_username());
    let p = SignInPage {
        redirect,
        redirect_refused,
        signed_in_as,
        login_hint: q
            .login_hint
            .filter(|h| h.chars().count() <= MAX_LOGIN_HINT_CHARS)
            .unwrap_or_default(),
        ctx,
        forms,
        buttons,
        general_error,
    };
    page(StatusCode::OK, &p)
}

// ---------------------------------------------------------------------------- sign-up

pub struct SignupField {
    pub name: String,
    pub label: String,
    pub required: bool,
    pub input_type: &'static str,
}

#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignUpPage {
    pub ctx: Ctx,
    pub redirect: String,
    pub authenticator: Option<String>,
    pub fields: Vec<SignupField>,
    pub signin_href: String,
}

async fn signup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SignInQuery>,
) -> Response {
    let ctx = Ctx::new(&headers);
    let redirect = redirect_target(q.redirect.as_deref(), &state.config);
    let all = match enabled_authenticators(&state).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let chosen = all.iter().find(|a| {
        style_of(&state, a) == Some(SignInStyle::Form)
            && a.options.get("allowSignUp") == Some(&Value::Bool(true))
            && q.authenticator.as_deref().is_none_or(|n| n == a.name)
    });
    let mut fields = Vec::new();
    if let Some(a) = chosen {
        let form = a
            .options
            .get("signupForm")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_else(|| {
                vec![
                    serde_json::json!({"field": "username", "show": true, "required": true}),
                    serde_json::json!({"field": "email", "show": true, "required": false}),
                ]
            });
        for f in form {
            let name = f["field"].as_str().unwrap_or_default();
            if f["show"] != Value::Bool(true) {
                continue;
            }
            let (label, input_type) = match name {
                "username" => ("field.username", "text"),
                "email" => ("field.email", "email"),
                "phone" => ("field.phone", "tel"),
                "nickname" => ("field.nickname", "text"),
                _ => continue,
            };
            fields.push(SignupField {
                name: name.to_string(),
                label: ctx.t(label).to_string(),
                required: f["required"] == Value::Bool(true),
                input_type,
            });
        }
    }
    let signin_href = {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("redirect", &redirect)
            .finish();
        format!("/signin?{q}")
    };
    let p = SignUpPage {
        ctx,
        redirect,
        authenticator: chosen.map(|a| a.name.clone()),
        fields,
        signin_href,
    };
    page(StatusCode::OK, &p)
}

// ---------------------------------------------------------------------------- account

pub struct IdentityView {
    pub id: i64,
    /// The authenticator's title.
    pub authenticator: String,
    pub nickname: String,
    pub avatar: Option<String>,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub ctx: Ctx,
    pub nickname: String,
    pub username: String,
    pub email: String,
    pub phone: String,
    pub is_admin: bool,
    pub has_password: bool,
    pub identities: Vec<IdentityView>,
    /// DingTalk authenticators this account has no identity of yet: "Link" buttons.
    pub linkable: Vec<ButtonAuth>,
    /// Why linking a DingTalk account failed (`?linkError=<reason>`), in our own words.
    pub link_error: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AccountQuery {
    link_error: Option<String>,
}

async fn account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AccountQuery>,
    current: Result<CurrentUser, ApiError>,
) -> Response {
    let Ok(CurrentUser(me)) = current else {
        return to_signin("/");
    };
    let ctx = Ctx::new(&headers);
    let (identities, authenticators) = match (
        state.store.list_identities(me.user.id).await,
        enabled_authenticators(&state).await,
    ) {
        (Ok(i), Ok(a)) => (i, a),
        (Err(e), _) => return ApiError::from(e).into_response(),
        (_, Err(e)) => return e.into_response(),
    };
    let linkable = authenticators
        .iter()
        .filter(|a| {
            style_of(&state, a) == Some(SignInStyle::Button)
                && !identities.iter().any(|i| i.authenticator == a.name)
        })
        .map(|a| ButtonAuth {
            name: a.name.clone(),
            // "Link DingTalk account", and the authenticator's own title when it has one.
            title: match state
                .auth_types
                .get(&a.auth_type)
                .and_then(|t| own_title(a, t.as_ref()))
            {
                None => ctx.t("account.link").to_string(),
                Some(title) => format!("{}: {title}", ctx.t("account.link")),
            },
            error: None,
        })
        .collect();
    let title_of = |name: &str| {
        authenticators
            .iter()
            .find(|a| a.name == name)
            .map_or_else(|| name.to_string(), |a| button_title(&state, &ctx, a))
    };
    let link_error = q
        .link_error
        .as_deref()
        .and_then(|reason| Failure::from_reason(reason, None))
        .map(|f| f.message(Lang::from_request(&headers)));
    let u = &me.user;
    let p = AccountPage {
        nickname: u.nickname.clone().unwrap_or_default(),
        username: u.username.clone().unwrap_or_default(),
        email: u.email.clone().unwrap_or_default(),
        phone: u.phone.clone().unwrap_or_default(),
        is_admin: u.is_admin,
        has_password: u.password_hash.is_some(),
        identities: identities
            .into_iter()
            .map(|i| IdentityView {
                id: i.id,
                authenticator: title_of(&i.authenticator),
                nickname: i.nickname.unwrap_or_default(),
                avatar: i
                    .avatar
                    .filter(|a| a.starts_with("https://") || a.starts_with("http://")),
            })
            .collect(),
        linkable,
        link_error,
        ctx,
    };
    page(StatusCode::OK, &p)
}

// ---------------------------------------------------------------------------- admin

#[derive(Template)]
#[template(path = "admin.html")]
pub struct AdminPage {
    pub ctx: Ctx,
    pub me_id: i64,
}

#[derive(Template)]
#[template(path = "not_found.html")]
pub struct NotFoundPage {
    pub ctx: Ctx,
}

/// An address with no page, for a browser: a page in the reader's language, not API JSON.
pub fn not_found_page(headers: &HeaderMap) -> Response {
    page(
        StatusCode::NOT_FOUND,
        &NotFoundPage {
            ctx: Ctx::new(headers),
        },
    )
}

#[derive(Template)]
#[template(path = "forbidden.html")]
pub struct ForbiddenPage {
    pub ctx: Ctx,
}

async fn admin(headers: HeaderMap, current: Result<CurrentUser, ApiError>) -> Response {
    let Ok(CurrentUser(me)) = current else {
        return to_signin("/admin");
    };
    let ctx = Ctx::new(&headers);
    if !me.user.is_admin {
        return page(StatusCode::FORBIDDEN, &ForbiddenPage { ctx });
    }
    page(
        StatusCode::OK,
        &AdminPage {
            ctx,
            me_id: me.user.id,
        },
    )
}

// ---------------------------------------------------------------------------- in DingTalk

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AutoQuery {
    authenticator: Option<String>,
    corp_id: Option<String>,
    redirect: Option<String>,
}

#[derive(Template)]
#[template(path = "auto.html")]
pub struct AutoPage {
    pub ctx: Ctx,
    pub authenticator: String,
    /// The authenticator the link named, when there is no such enabled DingTalk one.
    pub asked_for: Option<String>,
    /// The sign-in page, coming back to the same place.
    pub signin_href: String,
    pub button_title: String,
    pub client_id: String,
    pub corp_id: String,
    pub redirect: String,
}

async fn dingtalk_auto(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AutoQuery>,
) -> Response {
    let ctx = Ctx::new(&headers);
    let all = match enabled_authenticators(&state).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let chosen = all.iter().find(|a| {
        a.auth_type == "dingtalk"
            && match q.authenticator.as_deref().filter(|n| !n.is_empty()) {
                Some(n) => a.name == n,
                None => a.options.get("autoLoginInClient") == Some(&Value::Bool(true)),
            }
    });
    let text = |a: &Authenticator, k: &str| {
        a.options
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    // DingTalk fills `$CORPID$` in the workbench URL; an unfilled placeholder is no corpId.
    let query_corp = q
        .corp_id
        .filter(|c| !c.is_empty() && !c.contains('$') && c.len() <= 128);
    let redirect = redirect_target(q.redirect.as_deref(), &state.config);
    let signin_href = format!(
        "/signin?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("redirect", &redirect)
            .finish()
    );
    let p = AutoPage {
        asked_for: q
            .authenticator
            .clone()
            .filter(|n| !n.is_empty() && n.len() <= 64 && chosen.is_none()),
        signin_href,
        authenticator: chosen.map(|a| a.name.clone()).unwrap_or_default(),
        button_title: chosen
            .map(|a| button_title(&state, &ctx, a))
            .unwrap_or_default(),
        client_id: chosen.map(|a| text(a, "clientId")).unwrap_or_default(),
        corp_id: chosen
            .map(|a| text(a, "corpId"))
            .filter(|c| !c.is_empty())
            .or(query_corp)
            .unwrap_or_default(),
        redirect,
        ctx,
    };
    // The DingTalk client opens the page itself (not in a frame): the usual CSP applies.
    page(StatusCode::OK, &p)
}
