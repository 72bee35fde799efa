//! The answer to the consent question (a form on the consent page, with the CSRF value as a
//! field): remembered and the request resumed, or `access_denied` for the client.

use crate::auth::request_auth::{csrf_matches, MaybeUser};
use crate::error::{ApiError, Text};
use crate::oidc::authorize::answer_error;
use crate::oidc::pages;
use crate::oidc::params::parse;
use crate::oidc::request::{self, client_error, Checked};
use crate::oidc::AUTHORIZE_PATH;
use crate::state::AppState;
use authgate_core::clock::now_ms;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};

pub async fn answer(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeUser(me): MaybeUser,
    body: Bytes,
) -> Response {
    let form = parse(&body);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    if !csrf_matches(&headers, field("csrf")) {
        return ApiError::forbidden(Text::new(
            "The form has expired; go back and try again",
            "表单已过期，请返回后重试",
        ))
        .into_response();
    }
    let Some(me) = me else {
        return ApiError::unauthorized(
            "EMPTY_TOKEN",
            Text::new("Please sign in first", "请先登录"),
        )
        .into_response();
    };
    let resume = field("request");
    let Some(query) = resume
        .strip_prefix(AUTHORIZE_PATH)
        .and_then(|r| r.strip_prefix('?'))
    else {
        return ApiError::bad_request(Text::new(
            "The consent form names no authorization request",
            "授权确认表单中没有授权请求",
        ))
        .into_response();
    };
    let request = match request::check(&state, parse(query.as_bytes())).await {
        Ok(Checked::Ok(r)) => r,
        Ok(Checked::Refused(reply, e)) => return answer_error(&state, &headers, &reply, e),
        Ok(Checked::Unanswerable(why)) => return pages::unanswerable(&headers, why),
        Err(e) => return e.into_response(),
    };
    if field("decision") != "allow" {
        return answer_error(
            &state,
            &headers,
            &request.reply,
            client_error("access_denied", "the person declined"),
        );
    }
    let saved = state
        .store
        .save_consent(
            me.user.id,
            &request.reply.client.id,
            &request.scope_text(),
            now_ms(),
        )
        .await;
    if let Err(e) = saved {
        return ApiError::from(e).into_response();
    }
    Redirect::to(resume).into_response()
}
