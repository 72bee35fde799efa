//! Legacy ("oapi") directory endpoints: HTTP 200 with `errcode`, app token in the query.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Map, Value};

use super::{json_object, str_field};
use crate::config::{FakeApp, FakeUser};
use crate::connection::ConnHandle;
use crate::faults::{ActiveFaults, Endpoint};
use crate::responses::{legacy_error, legacy_ok, mask_mobile, preempt, RequestId};
use crate::state::{LegacyError, Shared};

/// One legacy request, as the handlers receive it.
struct LegacyCall<'a> {
    shared: &'a Shared,
    rid: &'a RequestId,
    conn: &'a ConnHandle,
    query: Option<&'a str>,
    headers: &'a HeaderMap,
    body: &'a [u8],
}

/// Common prologue: faults, then the app token from `?access_token=`, then the JSON body field.
async fn prologue(
    call: LegacyCall<'_>,
    endpoint: Endpoint,
    field: &'static str,
) -> Result<(ActiveFaults, FakeApp, String), Response> {
    let LegacyCall {
        shared,
        rid,
        conn,
        query,
        headers,
        body,
    } = call;
    let faults = shared.faults.take(endpoint);
    if let Some(response) = preempt(&faults, conn, rid, endpoint).await {
        return Err(response);
    }
    let token = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned());
    let app = shared
        .app_for_app_token(token.as_deref())
        .map_err(|e| legacy_error(rid, &e))?;
    let value = json_object(headers, body)
        .and_then(|b| str_field(&b, field).map(str::to_owned))
        .ok_or_else(|| legacy_error(rid, &LegacyError::new(40035, format!("缺少参数 {field}"))))?;
    Ok((faults, app, value))
}

macro_rules! call {
    ($shared:ident, $rid:ident, $conn:ident, $query:ident, $headers:ident, $body:ident) => {
        LegacyCall {
            shared: &$shared,
            rid: &$rid,
            conn: &$conn,
            query: $query.as_deref(),
            headers: &$headers,
            body: &$body,
        }
    };
}

pub(crate) async fn getbyunionid(
    State(shared): State<Arc<Shared>>,
    Extension(rid): Extension<RequestId>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let endpoint = Endpoint::GetByUnionId;
    let (faults, app, union_id) = match prologue(
        call!(shared, rid, conn, query, headers, body),
        endpoint,
        "unionid",
    )
    .await
    {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    match shared.member_by_union_id(&app, &union_id) {
        Ok(user) => {
            let mut result = Map::new();
            result.insert("contact_type".into(), json!(0));
            result.insert("userid".into(), json!(user.userid));
            legacy_ok(&rid, result, &faults)
        }
        Err(err) => legacy_error(&rid, &err),
    }
}

pub(crate) async fn user_get(
    State(shared): State<Arc<Shared>>,
    Extension(rid): Extension<RequestId>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let endpoint = Endpoint::UserGet;
    let (faults, app, userid) = match prologue(
        call!(shared, rid, conn, query, headers, body),
        endpoint,
        "userid",
    )
    .await
    {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    match shared.member_by_userid(&app, &userid) {
        Ok(user) => legacy_ok(&rid, org_user(&user, &faults), &faults),
        Err(err) => legacy_error(&rid, &err),
    }
}

/// `topapi/v2/user/get`'s `result`, leaving out what the user lacks.
fn org_user(user: &FakeUser, faults: &ActiveFaults) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("userid".into(), json!(user.userid));
    out.insert("unionid".into(), json!(user.union_id));
    let mut put = |key: &str, value: &Option<String>| {
        if let Some(v) = value {
            out.insert(key.to_owned(), json!(v));
        }
    };
    put("name", &user.name.clone().or(user.nick.clone()));
    put("avatar", &user.avatar_url);
    if !faults.missing_mobile {
        let mobile = user.mobile.as_deref().map(|m| {
            if faults.masked_mobile {
                mask_mobile(m)
            } else {
                m.to_owned()
            }
        });
        put("mobile", &mobile);
        put("state_code", &user.state_code);
    }
    put("email", &user.email);
    put("org_email", &user.org_email);
    put("title", &user.title);
    put("job_number", &user.job_number);
    out.insert("active".into(), json!(true));
    out.insert("admin".into(), json!(user.admin));
    out.insert("boss".into(), json!(false));
    out.insert("senior".into(), json!(false));
    out.insert("hide_mobile".into(), json!(false));
    out.insert("real_authed".into(), json!(true));
    out.insert("exclusive_account".into(), json!(false));
    out.insert("dept_id_list".into(), json!(user.dept_id_list));
    out
}

pub(crate) async fn getuserinfo(
    State(shared): State<Arc<Shared>>,
    Extension(rid): Extension<RequestId>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let endpoint = Endpoint::GetUserInfo;
    let (faults, app, code) = match prologue(
        call!(shared, rid, conn, query, headers, body),
        endpoint,
        "code",
    )
    .await
    {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    match shared.take_in_client_code(&app, &code) {
        Ok(user) => {
            let mut result = Map::new();
            result.insert("userid".into(), json!(user.userid));
            result.insert("unionid".into(), json!(user.union_id));
            result.insert(
                "name".into(),
                json!(user.name.clone().or(user.nick.clone()).unwrap_or_default()),
            );
            result.insert("associated_unionid".into(), json!(""));
            result.insert(
                "device_id".into(),
                json!(format!("fake-device-{}", user.userid)),
            );
            result.insert("sys".into(), json!(user.admin));
            result.insert("sys_level".into(), json!(if user.admin { 1 } else { 0 }));
            legacy_ok(&rid, result, &faults)
        }
        Err(err) => legacy_error(&rid, &err),
    }
}
