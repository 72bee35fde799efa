//! The `dingtalk` auth type: "Sign in with DingTalk" in the browser (OAuth2 code flow with a
//! one-time, browser-bound state), login-free sign-in inside the DingTalk client, and the
//! admin's "Test connection". DESIGN.md section 2 is the spec.

mod browser_state;
mod in_client;
pub mod messages;
pub mod options;
mod outcome;
mod resolution;
mod test_connection;
mod web_flow;

pub use in_client::{__path_sign_in_in_client, sign_in_in_client};
pub use test_connection::{__path_test_connection, test_connection};
pub use web_flow::{__path_get_auth_url, __path_redirect, get_auth_url, redirect};

use super::options::{self as generic, OptionSpec};
use super::{AuthType, SignInContext, SignInStyle};
use crate::config::DingTalkBases;
use crate::error::{ApiError, ApiResult, Text};
use crate::http::rate_limit::RateLimit;
use crate::state::AppState;
use async_trait::async_trait;
use authgate_core::model::{Authenticator, User};
use authgate_dingtalk::{DingTalkClient, DingTalkConfig};
use axum::routing::post;
use axum::{Extension, Router};
use options::DingTalkOptions;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

pub const TYPE_NAME: &str = "dingtalk";

/// What the handlers share: one client (one connection pool, one app-token cache).
const MINUTE: Duration = Duration::from_secs(60);

pub struct DingTalkShared {
    pub client: DingTalkClient,
    /// Sign-ins started per client address and per browser (`dingtalk:getAuthUrl`).
    pub starts_per_ip: RateLimit,
    pub starts_per_browser: RateLimit,
}

pub struct DingTalkAuth {
    shared: Arc<DingTalkShared>,
}

impl DingTalkAuth {
    pub fn new(bases: &DingTalkBases) -> Self {
        let config = DingTalkConfig {
            login_base: bases.login_base.clone(),
            api_base: bases.api_base.clone(),
            oapi_base: bases.oapi_base.clone(),
            timeout: Duration::from_millis(bases.timeout_ms),
        };
        Self {
            shared: Arc::new(DingTalkShared {
                client: DingTalkClient::new(config),
                starts_per_ip: RateLimit::new(bases.starts_per_minute_per_ip, MINUTE),
                starts_per_browser: RateLimit::new(bases.starts_per_minute_per_browser, MINUTE),
            }),
        }
    }
}

#[async_trait]
impl AuthType for DingTalkAuth {
    fn name(&self) -> &'static str {
        TYPE_NAME
    }

    fn title(&self) -> Text {
        Text::new("DingTalk", "钉钉")
    }

    fn style(&self) -> SignInStyle {
        SignInStyle::Button
    }

    fn option_schema(&self) -> Vec<OptionSpec> {
        options::schema()
    }

    async fn prepare_options(
        &self,
        state: &AppState,
        name: &str,
        mut input: Map<String, Value>,
        previous: Option<&Authenticator>,
    ) -> ApiResult<Map<String, Value>> {
        for key in options::COMPUTED {
            input.remove(key);
        }
        // A form that echoes the masked secret back means "unchanged", never a new secret.
        if input
            .get("clientSecret")
            .and_then(Value::as_str)
            .is_some_and(|s| s.starts_with('•'))
        {
            input.remove("clientSecret");
        }
        let out = generic::prepare(state, &self.option_schema(), input, previous)?;
        options::validate(state, name, &out).await?;
        Ok(out)
    }

    fn admin_options(&self, state: &AppState, a: &Authenticator) -> Map<String, Value> {
        let mut out = generic::for_admin(state, &self.option_schema(), &a.options);
        if let Ok(o) = DingTalkOptions::from_stored(&a.options) {
            out.insert("redirectUrl".into(), Value::String(o.redirect_url(state)));
            out.insert(
                "autoLoginUrl".into(),
                Value::String(o.auto_login_url(state, &a.name)),
            );
        }
        out
    }

    async fn sign_in(&self, _: &SignInContext<'_>, a: &Authenticator, _: Value) -> ApiResult<User> {
        Err(ApiError::bad_request(Text::new(format!(
            "Authenticator '{}' signs in through DingTalk: use POST /api/dingtalk:getAuthUrl \
             (browser) or POST /api/dingtalk:signInInClient (inside the DingTalk client)",
            a.name
        ), format!(
            "认证器“{}”通过钉钉登录：请使用 POST /api/dingtalk:getAuthUrl（浏览器）或 POST /api/dingtalk:signInInClient（钉钉客户端内）",
            a.name
        ))))
    }

    fn routes(&self) -> Router<AppState> {
        Router::new()
            .route("/api/dingtalk:getAuthUrl", post(get_auth_url))
            .route("/api/dingtalk:redirect", axum::routing::get(redirect))
            .route("/api/dingtalk:testConnection", post(test_connection))
            .route("/api/dingtalk:signInInClient", post(sign_in_in_client))
            .layer(Extension(self.shared.clone()))
    }
}
