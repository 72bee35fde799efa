//! `/signout?redirect=`: signs the browser out of authgate and so of every application it
//! signs people in to (forward auth and OpenID Connect alike). Only a POST carrying the CSRF
//! token signs out; a GET (a link, an image) asks first, so a link alone cannot sign anyone
//! out. Where the browser goes afterwards is an allowed redirect target, or `/`.

use super::{page, Ctx};
use crate::auth::cookies::{self, CSRF_COOKIE};
use crate::auth::request_auth::{csrf_matches, MaybeUser};
use crate::auth::sign_out::{end_session, Ending};
use crate::http::client::ClientInfo;
use crate::http::redirect_target::redirect_target;
use crate::oidc::params::{param, parse};
use crate::state::AppState;
use askama::Template;
use authgate_core::audit::event;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Its POST checks the CSRF token in the form itself (forms cannot send the header).
pub const PATH: &str = "/signout";

#[derive(Template)]
#[template(path = "signout.html")]
struct SignOutPage {
    ctx: Ctx,
    user: String,
    redirect: String,
    csrf: String,
}

pub async fn ask(
    State(state): State<AppState>,
    MaybeUser(me): MaybeUser,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = parse(query.unwrap_or_default().as_bytes());
    let target = redirect_target(param(&params, "redirect"), &state.config);
    let Some(me) = me else {
        return go(&state, &target, false);
    };
    let u = &me.user;
    let user = u
        .nickname
        .clone()
        .or_else(|| u.username.clone())
        .unwrap_or_else(|| format!("#{}", u.id));
    let page_ = SignOutPage {
        ctx: Ctx::new(&headers),
        user,
        redirect: target,
        csrf: cookies::read(&headers, CSRF_COOKIE).unwrap_or_default(),
    };
    page(StatusCode::OK, &page_)
}

pub async fn confirm(
    State(state): State<AppState>,
    MaybeUser(me): MaybeUser,
    from: ClientInfo,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = parse(&body);
    let target = redirect_target(param(&params, "redirect"), &state.config);
    let Some(me) = me else {
        return go(&state, &target, true);
    };
    if !csrf_matches(&headers, param(&params, "csrf").unwrap_or_default()) {
        // Not from our page: ask again rather than sign out.
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("redirect", &target)
            .finish();
        return see_other(&format!("{PATH}?{q}"));
    }
    let how = Ending {
        reason: "signed out",
        event: event::SIGN_OUT,
        detail: serde_json::json!({"via": "signoutPage"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        from: &from,
    };
    if let Err(e) = end_session(&state, &me, how).await {
        return e.into_response();
    }
    go(&state, &target, true)
}

fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn go(state: &AppState, target: &str, clear: bool) -> Response {
    let mut r = see_other(target);
    if clear {
        for c in cookies::clearing_cookies(&state.config) {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
    }
    r
}
