//! A faithful fake of the DingTalk Open Platform, for tests, the demo and benchmarks.
//!
//! One HTTP server answers the paths of all three DingTalk hosts (login, `api`, `oapi`), so a
//! client points its three base URLs at [`FakeDingTalk::base_url`]. It follows
//! `shared/reference/dingtalk-api.md`: the same parameters are validated, codes are random,
//! single-use, short-lived and bound to their app, and errors come in the two real formats
//! (new API: HTTP status + `{code, message, requestid}`; legacy: HTTP 200 + `{errcode, errmsg,
//! request_id}`). Every answer carries an `x-acs-request-id` header.
//!
//! # DingTalk endpoints
//! | endpoint | notes |
//! |---|---|
//! | `GET /oauth2/auth` | validates `client_id`, `response_type=code`, `scope`, `prompt`, and `redirect_uri` (byte for byte against the app's registered URLs); invalid: HTML page, status 400, naming the problem. `login_as=<userid or unionId>` signs in at once (302 to `redirect_uri?authCode=C&code=C&state=S`); `deny=1` comes back with `error=access_denied`; otherwise an account picker page (`button[data-userid]`, `button#deny`) |
//! | `POST /v1.0/oauth2/userAccessToken` | JSON only; `authorization_code` and `refresh_token` grants |
//! | `GET /v1.0/contact/users/me` | header `x-acs-dingtalk-access-token` |
//! | `POST /v1.0/oauth2/accessToken` | app token `{appKey, appSecret}`; the same token while valid |
//! | `POST /topapi/user/getbyunionid?access_token=` | 40014 bad token, 60121 not in the app's organisation |
//! | `POST /topapi/v2/user/get?access_token=` | directory entry of an organisation member |
//! | `POST /topapi/v2/user/getuserinfo?access_token=` | in-client (login-free) code; 40078 when invalid, used or expired |
//!
//! # Control API (`/_fake/`, JSON; not recorded in the request log)
//! | request | effect |
//! |---|---|
//! | `GET /_fake/health` | `{"status": "ok"}` |
//! | `GET /_fake/apps` | registered apps |
//! | `POST /_fake/apps` `{"clientId", "clientSecret", "corpId"?, "redirectUris": [..]}` | register or replace an app; 204 |
//! | `GET /_fake/users` | the directory |
//! | `POST /_fake/users` `{"userid", "unionId", "nick"?, "name"?, "avatarUrl"?, "mobile"?, "stateCode"?, "email"?, "orgEmail"?, "corpIds": [..], "title"?, "jobNumber"?, "admin"?, "deptIdList"?}` | add or replace a user; 204 |
//! | `GET /_fake/faults` | faults in force |
//! | `POST /_fake/faults` `{"fault": {"kind": ..}, "endpoint"?, "times"?}` | switch a fault on (see [`FaultRule`], [`Fault`], [`Endpoint`]); 204, or 400 for a rule that could never fire |
//! | `DELETE /_fake/faults` | clear all faults |
//! | `GET /_fake/requests[?endpoint=userAccessToken]` | the request log (see [`RecordedRequest`]) |
//! | `DELETE /_fake/requests` | clear the log |
//! | `POST /_fake/in-client-codes` `{"clientId", "userid"}` | `{"code"}` as `dd.requestAuthCode` would give |
//! | `POST /_fake/web-codes` `{"clientId", "user", "corpIdScope"?}` | `{"code"}` as if the user had consented (skips the browser step) |
//! | `POST /_fake/app-tokens/revoke` `{"clientId"?}` | invalidate app tokens (all without `clientId`) |
//! | `POST /_fake/reset` | back to the start-up configuration |
//!
//! Errors: 400 `{"error": "..."}`.
//!
//! Fault kinds (`fault.kind`): `delay` (`ms`), `serverError` (`status`, default 502, HTML body),
//! `malformedJson`, `connectionReset`, `missingMobile`, `maskedMobile`, `permissionDenied`
//! (`requiredScopes`, default `["Contact.User.mobile"]`), `stringExpireIn`, `extraFields`.
//! Endpoint names: `authorize`, `userAccessToken`, `usersMe`, `accessToken`, `getbyunionid`,
//! `userGet`, `getuserinfo`.
//!
//! # Example
//! ```no_run
//! # async fn demo() {
//! use fake_dingtalk::{FakeApp, FakeConfig, FakeDingTalk, Fault, FaultRule, Endpoint};
//! let fake = FakeDingTalk::start(FakeConfig::default()).await;
//! fake.add_app(FakeApp::new("app1", "s3cret").with_corp_id("dingcorp001")
//!     .with_redirect_uri("http://127.0.0.1:8080/api/dingtalk:redirect")).unwrap();
//! fake.set_fault(FaultRule::new(Fault::ConnectionReset).on(Endpoint::UserAccessToken).times(1));
//! let base = fake.base_url(); // login, api and oapi base
//! # let _ = base; }
//! ```

mod config;
mod connection;
mod expiring;
mod faults;
mod request_log;
mod responses;
mod routes;
mod server;
mod state;

pub use config::{
    ConfigError, FakeApp, FakeConfig, FakeUser, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
    DEFAULT_CORP_ID,
};
pub use faults::{Endpoint, Fault, FaultRule};
pub use request_log::RecordedRequest;
pub use server::{serve, serve_with_shutdown, FakeDingTalk};
pub use state::FakeError;
