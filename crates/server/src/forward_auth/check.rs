//! The two endpoints the proxies call on every request. Both decide the same way; they differ
//! only in what a browser that is not signed in gets: nginx's `auth_request` accepts only 2xx,
//! 401 and 403 (the recipe turns the 401 into a redirect to the `Location` it carries), while
//! Traefik and Caddy pass any answer on, so the browser gets the redirect itself.

use super::identity;
use super::original_request::{self, Original};
use super::rules::{decide, parse, Decision, Person, Rule, Target, Verdict};
use crate::auth::request_auth::MaybeUser;
use crate::auth::sessions::Authenticated;
use crate::error::{ApiError, ApiResult, Text};
use crate::pages::{page_with_csp, Ctx};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize, Default)]
pub struct CheckQuery {
    /// Add `Remote-Jwt`, a short-lived signed statement of who this is, for apps that verify
    /// it against the JWKS.
    #[serde(default)]
    jwt: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    /// nginx: 401 with `Location`.
    AuthRequest,
    /// Traefik, Caddy: a browser is redirected.
    ForwardAuth,
}

pub async fn auth_request(
    State(state): State<AppState>,
    MaybeUser(me): MaybeUser,
    Query(q): Query<CheckQuery>,
    req: Request,
) -> Response {
    check(&state, me, &q, &req.into_parts().0, Style::AuthRequest).await
}

pub async fn forward_auth(
    State(state): State<AppState>,
    MaybeUser(me): MaybeUser,
    Query(q): Query<CheckQuery>,
    req: Request,
) -> Response {
    check(&state, me, &q, &req.into_parts().0, Style::ForwardAuth).await
}

async fn check(
    state: &AppState,
    me: Option<Authenticated>,
    q: &CheckQuery,
    req: &Parts,
    style: Style,
) -> Response {
    let answer = async {
        let source = match style {
            Style::AuthRequest => original_request::Source::OriginalUrl,
            Style::ForwardAuth => original_request::Source::Forwarded,
        };
        let original =
            original_request::read(&req.headers, &req.extensions, &state.config, source)?;
        let target = Target::new(&original.url, &original.method).ok_or_else(|| {
            ApiError::bad_request(Text::new(
                "The original URL has no host",
                "原始 URL 没有主机名",
            ))
        })?;
        let rules = current_rules(state).await?;
        let person = me.as_ref().map(person_of);
        let decision = decide(&rules, &target, person.as_ref());
        Ok::<_, ApiError>(respond(
            state,
            me.as_ref(),
            q,
            &req.headers,
            &original,
            &decision,
            style,
        ))
    };
    let mut response = match answer.await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The stored rules, in order, read: parsed once per list the store hands out (the same list
/// comes back until it changes), not per request. A stored definition that no longer reads
/// (written by a newer version) is skipped with a warning rather than letting anyone through.
pub async fn current_rules(state: &AppState) -> ApiResult<Arc<Vec<Rule>>> {
    let records = state.store.list_access_rules().await?;
    let mut parsed = state.forward_auth.parsed.lock().expect("not poisoned");
    if let Some((from, rules)) = parsed.as_ref() {
        if Arc::ptr_eq(from, &records) {
            return Ok(rules.clone());
        }
    }
    let rules: Arc<Vec<Rule>> = Arc::new(
        records
            .iter()
            .filter_map(|r| match parse(r.id, &r.rule) {
                Ok((rule, _)) => Some(rule),
                Err(e) => {
                    tracing::warn!(
                        rule = r.id,
                        field = e.field,
                        "an access rule does not read: skipped"
                    );
                    None
                }
            })
            .collect(),
    );
    *parsed = Some((records, rules.clone()));
    Ok(rules)
}

pub fn person_of(a: &Authenticated) -> Person<'_> {
    Person {
        user_id: a.user.id,
        username: a.user.username.as_deref(),
        is_admin: a.user.is_admin,
        authenticator: &a.authenticator,
    }
}

fn respond(
    state: &AppState,
    me: Option<&Authenticated>,
    q: &CheckQuery,
    headers: &HeaderMap,
    original: &Original,
    decision: &Decision,
    style: Style,
) -> Response {
    match decision.verdict {
        Verdict::Allow => {
            let mut r = StatusCode::OK.into_response();
            if let Some(me) = me {
                identity::add_headers(state, me, &original.url, q.jwt, r.headers_mut());
            }
            r
        }
        Verdict::SignIn => {
            let to = sign_in_url(state, &original.url);
            let browser = wants_html(headers);
            let mut r = if style == Style::ForwardAuth && browser {
                StatusCode::FOUND.into_response()
            } else {
                ApiError::unauthorized(
                    "SIGN_IN_REQUIRED",
                    Text::new("Please sign in first", "请先登录"),
                )
                .into_response()
            };
            if let Ok(v) = HeaderValue::from_str(&to) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        Verdict::Deny => match me {
            Some(me) if wants_html(headers) => denied_page(state, me, headers, original, decision),
            _ => ApiError::forbidden(Text::new(
                format!("No access: {}", decision.reason.en),
                format!("无权访问：{}", decision.reason.zh),
            ))
            .into_response(),
        },
    }
}

/// `<public_url>/signin?redirect=<the original URL>`.
fn sign_in_url(state: &AppState, original: &url::Url) -> String {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("redirect", original.as_str())
        .finish();
    format!("{}/signin?{q}", state.config.public_origin())
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

#[derive(Template)]
#[template(path = "forward_denied.html")]
struct DeniedPage {
    ctx: Ctx,
    public_origin: String,
    user: String,
    host: String,
    reason: String,
    switch_href: String,
}

impl DeniedPage {
    fn text(&self) -> String {
        self.ctx
            .t("denied.text")
            .replace("{user}", &self.user)
            .replace("{host}", &self.host)
    }
}

fn denied_page(
    state: &AppState,
    me: &Authenticated,
    headers: &HeaderMap,
    original: &Original,
    decision: &Decision,
) -> Response {
    let public_origin = state.config.public_origin();
    let again = format!(
        "/signin?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("redirect", original.url.as_str())
            .finish()
    );
    let switch_href = format!(
        "{public_origin}/signout?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("redirect", &again)
            .finish()
    );
    let u = &me.user;
    let user = match (&u.nickname, &u.username) {
        (Some(n), Some(name)) if n != name => format!("{n} ({name})"),
        (Some(n), _) => n.clone(),
        (None, Some(name)) => name.clone(),
        (None, None) => format!("#{}", u.id),
    };
    let ctx = Ctx::new(headers);
    let reason = decision
        .reason
        .in_chinese(ctx.lang == crate::lang::Lang::Zh)
        .to_string();
    let page = DeniedPage {
        ctx,
        public_origin: public_origin.clone(),
        user,
        host: original.url.host_str().unwrap_or_default().to_string(),
        reason,
        switch_href,
    };
    // Served on the application's host: its styles and links are authgate's, by full URL.
    let csp = format!(
        "default-src 'none'; style-src {public_origin}; img-src {public_origin} data:; \
         form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    );
    let csp = HeaderValue::from_str(&csp)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    page_with_csp(StatusCode::FORBIDDEN, &page, csp)
}
