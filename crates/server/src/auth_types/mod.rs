//! Auth types: kinds of sign-in (password, DingTalk, ...). Each is one implementation of
//! [`AuthType`] in a module of its own, registered in [`AuthTypes::builtin`]; an
//! authenticator is a stored instance of a type with its own options.

pub mod dingtalk;
pub mod options;
pub mod password;

use crate::error::{ApiError, ApiResult, Text};
use crate::http::client::ClientInfo;
use crate::state::AppState;
use async_trait::async_trait;
use authgate_core::model::{Authenticator, User};
use axum::Router;
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;

/// How the sign-in page presents a type: a form (tabs) or a button below the forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum SignInStyle {
    Form,
    Button,
}

pub struct SignInContext<'a> {
    pub state: &'a AppState,
    pub client: &'a ClientInfo,
}

#[async_trait]
pub trait AuthType: Send + Sync + 'static {
    /// The `authType` stored with authenticators, e.g. "password".
    fn name(&self) -> &'static str;
    /// The type's name for people, in both languages ("DingTalk", "钉钉").
    fn title(&self) -> Text;
    fn style(&self) -> SignInStyle;
    /// Describes each option for the admin form (see [`options::OptionSpec`]).
    fn option_schema(&self) -> Vec<options::OptionSpec>;

    /// Validates an admin's options and returns what to store (defaults filled in, secrets
    /// sealed). `previous` is the stored authenticator when updating.
    async fn prepare_options(
        &self,
        state: &AppState,
        _name: &str,
        input: Map<String, Value>,
        previous: Option<&Authenticator>,
    ) -> ApiResult<Map<String, Value>> {
        options::prepare(state, &self.option_schema(), input, previous)
    }

    /// Options as administrators may see them: secrets masked, computed values added.
    fn admin_options(&self, state: &AppState, a: &Authenticator) -> Map<String, Value> {
        options::for_admin(state, &self.option_schema(), &a.options)
    }

    /// Options the sign-in page may see.
    fn public_options(&self, a: &Authenticator) -> Map<String, Value> {
        options::public(&self.option_schema(), &a.options)
    }

    /// `auth:signIn` with this type's body; returns the user to sign in.
    async fn sign_in(
        &self,
        ctx: &SignInContext<'_>,
        a: &Authenticator,
        body: Value,
    ) -> ApiResult<User>;

    async fn sign_up(
        &self,
        _ctx: &SignInContext<'_>,
        a: &Authenticator,
        _body: Value,
    ) -> ApiResult<User> {
        Err(ApiError::bad_request(Text::new(
            format!("Authenticator '{}' does not support sign-up", a.name),
            format!("认证器“{}”不支持注册", a.name),
        )))
    }

    /// Routes of the type's own (callbacks and the like), merged into the app.
    fn routes(&self) -> Router<AppState> {
        Router::new()
    }
}

#[derive(Clone)]
pub struct AuthTypes {
    types: Vec<Arc<dyn AuthType>>,
}

impl AuthTypes {
    pub fn builtin(config: &crate::config::ServerConfig) -> Self {
        Self {
            types: vec![
                Arc::new(password::PasswordAuth),
                Arc::new(dingtalk::DingTalkAuth::new(&config.dingtalk)),
            ],
        }
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn AuthType>> {
        self.types.iter().find(|t| t.name() == name)
    }

    pub fn all(&self) -> &[Arc<dyn AuthType>] {
        &self.types
    }
}

/// An authenticator's own title: none when it has none, or kept the type's English name it
/// was created with (readers then see the type's name in their language).
pub fn own_title<'a>(a: &'a Authenticator, t: &dyn AuthType) -> Option<&'a str> {
    let own = a.title.trim();
    (!own.is_empty() && own != t.title().en).then_some(own)
}

/// An authenticator's title as a reader sees it: its own, else its type's name in the
/// reader's language.
pub fn shown_title(a: &Authenticator, t: &dyn AuthType, lang: crate::lang::Lang) -> String {
    match own_title(a, t) {
        Some(own) => own.to_string(),
        None => t
            .title()
            .in_chinese(lang == crate::lang::Lang::Zh)
            .to_string(),
    }
}
