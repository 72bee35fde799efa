//! `GET /v1.0/contact/users/me`: the signed-in user's profile (new API).

use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Map, Value};

use crate::config::FakeUser;
use crate::connection::ConnHandle;
use crate::faults::{ActiveFaults, Endpoint};
use crate::responses::{api_error, api_ok, mask_mobile, preempt, RequestId};
use crate::state::{open_id, ApiError, Shared};

pub(crate) const TOKEN_HEADER: &str = "x-acs-dingtalk-access-token";

pub(crate) async fn me(
    State(shared): State<Arc<Shared>>,
    Extension(rid): Extension<RequestId>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    headers: HeaderMap,
) -> Response {
    let faults = shared.faults.take(Endpoint::UsersMe);
    if let Some(response) = preempt(&faults, &conn, &rid, Endpoint::UsersMe).await {
        return response;
    }
    let token = headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        let err = ApiError::new(401, "InvalidAuthentication", "access token is missing");
        return api_error(&rid, &err);
    };
    match shared.user_for_token(token) {
        Ok((user, client_id)) => api_ok(profile(&user, &client_id, &faults), &faults),
        Err(err) => api_error(&rid, &err),
    }
}

/// The profile as DingTalk shapes it: fields the user lacks are left out entirely.
fn profile(user: &FakeUser, client_id: &str, faults: &ActiveFaults) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |key: &str, value: &Option<String>| {
        if let Some(v) = value {
            out.insert(key.to_owned(), json!(v));
        }
    };
    put("nick", &user.nick.clone().or(user.name.clone()));
    put("avatarUrl", &user.avatar_url);
    if !faults.missing_mobile {
        let mobile = user.mobile.as_deref().map(|m| {
            if faults.masked_mobile {
                mask_mobile(m)
            } else {
                m.to_owned()
            }
        });
        put("mobile", &mobile);
        put("stateCode", &user.state_code);
    }
    put("email", &user.email);
    out.insert("openId".into(), json!(open_id(client_id, &user.union_id)));
    out.insert("unionId".into(), json!(user.union_id));
    out.insert("visitor".into(), json!(false));
    out
}
