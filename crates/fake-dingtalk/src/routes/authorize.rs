//! `GET /oauth2/auth`: the login host's consent step, validated like the real one.

use std::sync::Arc;

use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use url::Url;

use crate::config::{FakeApp, FakeUser};
use crate::connection::ConnHandle;
use crate::faults::Endpoint;
use crate::responses::{escape_html, html, preempt, RequestId};
use crate::state::Shared;

/// The picker page lists at most this many users (benchmarks may load thousands).
const PICKER_LIMIT: usize = 500;

/// Query parameters that belong to the fake's shortcuts, not to DingTalk.
const SHORTCUT_PARAMS: [&str; 2] = ["login_as", "deny"];

struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A request that passed validation.
struct Valid {
    app: FakeApp,
    redirect_uri: Url,
    state: Option<String>,
    with_corp: bool,
}

pub(crate) async fn authorize(
    State(shared): State<Arc<Shared>>,
    Extension(rid): Extension<RequestId>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    RawQuery(query): RawQuery,
) -> Response {
    let faults = shared.faults.take(Endpoint::Authorize);
    if let Some(response) = preempt(&faults, &conn, &rid, Endpoint::Authorize).await {
        return response;
    }
    let params = Params(
        url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect(),
    );
    let valid = match validate(&shared, &params) {
        Ok(valid) => valid,
        Err(problem) => return error_page(&problem, &rid),
    };

    if params.get("deny").is_some_and(|v| v == "1" || v == "true") {
        return redirect_back(&valid, &[("error", "access_denied")]);
    }
    if let Some(login_as) = params.get("login_as") {
        let Some(user) = shared.find_user(login_as) else {
            return error_page(&format!("login_as: no DingTalk user {login_as}"), &rid);
        };
        let code = shared.issue_web_code(&valid.app, &user, valid.with_corp, params.get("corpId"));
        return redirect_back(&valid, &[("authCode", &code), ("code", &code)]);
    }
    picker_page(&params, &shared.users_for_picker(PICKER_LIMIT), &valid.app)
}

fn validate(shared: &Shared, params: &Params) -> Result<Valid, String> {
    let client_id = params
        .get("client_id")
        .filter(|c| !c.is_empty())
        .ok_or("missing client_id")?;
    let app = shared
        .app(client_id)
        .ok_or_else(|| format!("unknown client_id {client_id}: no such app"))?;
    match params.get("response_type") {
        Some("code") => {}
        Some(other) => return Err(format!("response_type must be \"code\", got \"{other}\"")),
        None => return Err("missing response_type (must be \"code\")".into()),
    }
    let with_corp = match params.get("scope") {
        Some("openid") => false,
        Some("openid corpid") => true,
        Some(other) => {
            return Err(format!(
                "invalid scope \"{other}\" (must be \"openid\" or \"openid corpid\")"
            ))
        }
        None => return Err("missing scope".into()),
    };
    match params.get("prompt") {
        Some("consent") | Some("login consent") => {}
        Some(other) => {
            return Err(format!(
                "invalid prompt \"{other}\" (must be \"consent\" or \"login consent\")"
            ))
        }
        None => return Err("missing prompt".into()),
    }
    let redirect = params
        .get("redirect_uri")
        .filter(|r| !r.is_empty())
        .ok_or("missing redirect_uri")?;
    if !app.redirect_uris.iter().any(|r| r == redirect) {
        let registered = if app.redirect_uris.is_empty() {
            "none".to_owned()
        } else {
            app.redirect_uris.join(", ")
        };
        return Err(format!(
            "redirect_uri {redirect} is not registered for app {client_id} (registered: {registered})"
        ));
    }
    let redirect_uri = Url::parse(redirect)
        .map_err(|e| format!("redirect_uri {redirect} is not a valid URL: {e}"))?;
    Ok(Valid {
        app,
        redirect_uri,
        state: params.get("state").map(str::to_owned),
        with_corp,
    })
}

/// Back to the app with `extra` params and the `state`, unchanged (left out when absent).
fn redirect_back(valid: &Valid, extra: &[(&str, &str)]) -> Response {
    let mut target = valid.redirect_uri.clone();
    {
        let mut pairs = target.query_pairs_mut();
        for (k, v) in extra {
            pairs.append_pair(k, v);
        }
        if let Some(state) = &valid.state {
            pairs.append_pair("state", state);
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, target.to_string())]).into_response()
}

fn error_page(problem: &str, rid: &RequestId) -> Response {
    let problem = escape_html(problem);
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>DingTalk (fake): invalid request</title></head>\n\
         <body><h1>Invalid sign-in request</h1>\n<p id=\"error\" class=\"error\">{problem}</p>\n\
         <p><small>requestid: {rid}</small></p></body></html>\n",
        rid = escape_html(&rid.0)
    );
    html(StatusCode::BAD_REQUEST, body)
}

/// The account picker: one form that resubmits the original parameters plus the choice.
fn picker_page(params: &Params, users: &[FakeUser], app: &FakeApp) -> Response {
    let mut hidden = String::new();
    for (k, v) in &params.0 {
        if SHORTCUT_PARAMS.contains(&k.as_str()) {
            continue;
        }
        hidden.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            escape_html(k),
            escape_html(v)
        ));
    }
    let mut buttons = String::new();
    for user in users {
        buttons.push_str(&format!(
            "<li><button type=\"submit\" name=\"login_as\" value=\"{id}\" data-userid=\"{id}\">{name}</button></li>\n",
            id = escape_html(&user.userid),
            name = escape_html(user.display_name()),
        ));
    }
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>DingTalk (fake): sign in to {app}</title></head>\n\
         <body><h1>Sign in to {app} with DingTalk</h1>\n\
         <form method=\"get\" action=\"/oauth2/auth\">\n{hidden}<ul class=\"users\">\n{buttons}</ul>\n\
         <p><button type=\"submit\" name=\"deny\" value=\"1\" id=\"deny\">Deny</button></p>\n</form></body></html>\n",
        app = escape_html(&app.client_id),
    );
    html(StatusCode::OK, body)
}
