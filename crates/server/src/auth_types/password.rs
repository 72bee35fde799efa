//! The `password` auth type: username or e-mail plus password, NocoBase's messages, failure
//! limits, constant-time answers, upgrade of old hashes, optional sign-up.

use super::options::{self, OptionKind, OptionSpec};
use super::{AuthType, SignInContext, SignInStyle};
use crate::auth::failure_limits::{self, FailureKeys};
use crate::error::{ApiError, ApiResult, Text};
use crate::state::AppState;
use async_trait::async_trait;
use authgate_core::clock::now_ms;
use authgate_core::model::{
    nfkc, normalize_email, validate_nickname, validate_username, Authenticator, NewUser, User,
};
use authgate_core::password::{check_password_rules, Verification};
use authgate_core::phone::{normalize_phone, PhoneError};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

pub struct PasswordAuth;

/// The `authType` of password authenticators.
pub const TYPE_NAME: &str = "password";

pub const SIGNUP_FIELDS: [&str; 4] = ["username", "email", "phone", "nickname"];

pub fn default_options() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("allowSignUp".into(), Value::Bool(false));
    m.insert("signupForm".into(), default_signup_form());
    m
}

fn default_signup_form() -> Value {
    json!([
        {"field": "username", "show": true, "required": true},
        {"field": "email", "show": true, "required": false},
        {"field": "phone", "show": false, "required": false},
        {"field": "nickname", "show": true, "required": false},
    ])
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignupField {
    field: String,
    show: bool,
    required: bool,
}

/// A sign-up field's name as the Chinese pages say it.
fn field_zh(field: &str) -> &str {
    match field {
        "username" => "用户名",
        "email" => "电子邮箱",
        "phone" => "手机号",
        "nickname" => "昵称",
        other => other,
    }
}

/// A phone number that cannot be stored, in both languages.
pub(crate) fn phone_error_text(e: &PhoneError) -> Text {
    let zh = match e {
        PhoneError::Masked => "该手机号已打码，无法用来识别用户".to_string(),
        PhoneError::Invalid(number) => format!("“{number}”不是有效的手机号"),
    };
    Text::new(e.to_string(), zh)
}

fn parse_signup_form(v: &Value) -> Result<Vec<SignupField>, Text> {
    let fields: Vec<SignupField> = serde_json::from_value(v.clone()).map_err(|e| {
        Text::new(
            format!("signupForm must be a list of {{field, show, required}}: {e}"),
            format!("signupForm 必须是由 {{field, show, required}} 组成的列表：{e}"),
        )
    })?;
    for f in &fields {
        if !SIGNUP_FIELDS.contains(&f.field.as_str()) {
            return Err(Text::new(
                format!(
                    "signupForm: unknown field '{}' (use {})",
                    f.field,
                    SIGNUP_FIELDS.join(", ")
                ),
                format!(
                    "signupForm：未知字段“{}”（可用：{}）",
                    f.field,
                    SIGNUP_FIELDS.join("、")
                ),
            ));
        }
        if f.required && !f.show {
            return Err(Text::new(
                format!("signupForm: '{}' cannot be required and hidden", f.field),
                format!("signupForm：“{}”不能既必填又隐藏", f.field),
            ));
        }
    }
    if !fields
        .iter()
        .any(|f| f.required && (f.field == "username" || f.field == "email"))
    {
        return Err(Text::new(
            "signupForm: username or email must be required, or nobody could sign in",
            "signupForm：username 与 email 至少要有一项必填，否则无人能够登录",
        ));
    }
    Ok(fields)
}

// `auth:signIn`'s body for password authenticators, and its description. Missing fields get
// the handler's own 400s ("Please enter a password"), hence `Option`; the description says
// what is needed.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = PasswordSignIn, example = json!({"account": "admin", "password": "my passphrase"}))]
pub struct SignInBody {
    /// Username or e-mail.
    #[schema(value_type = String, required = true)]
    account: Option<String>,
    // Older NocoBase clients send these instead of `account` (accepted, not advertised).
    #[schema(ignore)]
    username: Option<String>,
    #[schema(ignore)]
    email: Option<String>,
    #[schema(value_type = String, required = true)]
    password: Option<String>,
}

// `auth:signUp`'s body, for the description only: `PasswordAuth::sign_up` reads it field by
// field, as the authenticator's sign-up form says (fields it hides are refused, fields it
// requires are asked for by name), accepts `confirmPassword` as well, and names the offending
// field in its messages; a typed body would answer with serde's words instead.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(example = json!({"username": "ada", "email": "ada@example.com", "password": "my passphrase", "confirm_password": "my passphrase"}))]
pub struct PasswordSignUp {
    username: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    nickname: Option<String>,
    password: String,
    confirm_password: Option<String>,
}

fn wrong_credentials() -> Text {
    Text::new(
        "The username/email or password is incorrect, please re-enter",
        "用户名/邮箱或密码有误，请重新输入",
    )
}

fn wrong(reason: &str) -> ApiError {
    ApiError::unauthorized("INVALID_CREDENTIALS", wrong_credentials()).with_reason(reason)
}

#[async_trait]
impl AuthType for PasswordAuth {
    fn name(&self) -> &'static str {
        TYPE_NAME
    }

    fn title(&self) -> Text {
        Text::new("Password", "密码")
    }

    fn style(&self) -> SignInStyle {
        SignInStyle::Form
    }

    fn option_schema(&self) -> Vec<OptionSpec> {
        vec![
            OptionSpec {
                name: "allowSignUp",
                kind: OptionKind::Boolean,
                title: "Allow sign up",
                title_zh: "允许注册",
                description: "Show a sign-up link on the sign-in page and accept auth:signUp.",
                description_zh: "在登录页显示注册链接，并接受 auth:signUp。",
                required: false,
                public: true,
                default: Value::Bool(false),
            },
            OptionSpec {
                name: "signupForm",
                kind: OptionKind::Json,
                title: "Sign-up form fields",
                title_zh: "注册表单字段",
                description: "Which of username, email, phone and nickname the sign-up form shows and requires.",
                description_zh: "注册表单显示并要求填写用户名、邮箱、手机号和昵称中的哪些。",
                required: false,
                public: true,
                default: default_signup_form(),
            },
        ]
    }

    async fn prepare_options(
        &self,
        state: &AppState,
        _name: &str,
        input: Map<String, Value>,
        previous: Option<&Authenticator>,
    ) -> ApiResult<Map<String, Value>> {
        let out = options::prepare(state, &self.option_schema(), input, previous)?;
        if let Some(form) = out.get("signupForm") {
            parse_signup_form(form).map_err(ApiError::bad_request)?;
        }
        Ok(out)
    }

    async fn sign_in(
        &self,
        ctx: &SignInContext<'_>,
        // Passwords belong to users, not to one password authenticator.
        _a: &Authenticator,
        body: Value,
    ) -> ApiResult<User> {
        let body: SignInBody = serde_json::from_value(body).map_err(|e| {
            ApiError::bad_request(Text::new(
                format!("The request body is not valid: {e}"),
                format!("请求体无效：{e}"),
            ))
        })?;
        let typed = body
            .account
            .or(body.username)
            .or(body.email)
            .map(|a| a.trim().to_string());
        // Usernames are stored NFKC-normalised: full-width `ａｄｍｉｎ` finds `admin`.
        let account = typed
            .as_deref()
            .map(nfkc)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| {
                ApiError::bad_request(Text::new(
                    "Please enter your username or email",
                    "请输入用户名或邮箱",
                ))
            })?;
        let password = body.password.filter(|p| !p.is_empty()).ok_or_else(|| {
            ApiError::bad_request(Text::new("Please enter a password", "请输入密码"))
        })?;
        if account.len() > 254 || password.len() > authgate_core::password::MAX_PASSWORD_LEN {
            return Err(ApiError::unauthorized(
                "INVALID_CREDENTIALS",
                wrong_credentials(),
            ));
        }
        let state = ctx.state;
        let user = match state.store.find_user_by_account(&account).await? {
            // A username stored before names were normalised, typed as it was stored.
            None if typed.as_deref().is_some_and(|t| t != account) => {
                state
                    .store
                    .find_user_by_account(typed.as_deref().unwrap_or_default())
                    .await?
            }
            found => found,
        };
        let keys = FailureKeys::new(
            user.as_ref().map(|u| u.id),
            &account,
            &ctx.client.limit_key(),
        );
        // The slot is taken before the (slow) check, so concurrent guesses cannot all pass.
        let attempt = failure_limits::begin(state, keys).await?;
        // The check and the settling of its slots run to the end even when the client hangs
        // up meanwhile (a dropped request would otherwise leave its slots held).
        let (state, ip) = (state.clone(), ctx.client.ip.clone());
        let checked = tokio::spawn(async move {
            let stored = user.as_ref().and_then(|u| u.password_hash.clone());
            let verification = state.passwords.verify(stored, password.clone()).await;
            match (user, verification) {
                (Some(user), Verification::Match { needs_upgrade }) if user.enabled => {
                    attempt.succeeded(&state).await?;
                    if needs_upgrade {
                        let hash = state.passwords.hash(password).await;
                        state
                            .store
                            .set_password_hash(user.id, &hash, None, now_ms())
                            .await?;
                    }
                    Ok(user)
                }
                // Answered like a wrong password, so the answer never confirms a password.
                (Some(user), Verification::Match { .. }) => {
                    attempt.failed(&state).await?;
                    Err(wrong("account disabled").about_user(user.id))
                }
                (user, _) => {
                    attempt.failed(&state).await?;
                    let refused = wrong("wrong username/e-mail or password");
                    Err(match user {
                        Some(u) => refused.about_user(u.id),
                        None => refused,
                    })
                }
            }
        });
        let user = checked.await.map_err(|e| {
            tracing::error!(client = %ip, error = %e, "a password check failed to finish");
            ApiError::internal("the password check did not finish")
        })??;
        Ok(user)
    }

    async fn sign_up(
        &self,
        ctx: &SignInContext<'_>,
        a: &Authenticator,
        body: Value,
    ) -> ApiResult<User> {
        if a.options.get("allowSignUp") != Some(&Value::Bool(true)) {
            return Err(ApiError::forbidden(Text::new(
                "Sign up is not allowed, please contact your administrator",
                "暂未开放注册，请联系管理员",
            )));
        }
        let form = parse_signup_form(
            a.options
                .get("signupForm")
                .unwrap_or(&default_signup_form()),
        )
        .map_err(ApiError::internal)?;
        let Value::Object(mut body) = body else {
            return Err(ApiError::bad_request(Text::new(
                "The request body must be a JSON object",
                "请求体必须是 JSON 对象",
            )));
        };
        let password = take_text(&mut body, "password")?.ok_or_else(|| {
            ApiError::bad_request(Text::new("Please enter a password", "请输入密码"))
        })?;
        let confirm =
            take_text(&mut body, "confirm_password")?.or(take_text(&mut body, "confirmPassword")?);
        if confirm.is_some_and(|c| c != password) {
            return Err(ApiError::bad_request(Text::new(
                "The passwords entered twice do not match",
                "两次输入的密码不一致",
            )));
        }
        check_password_rules(&password).map_err(|e| ApiError::bad_request(e.text()))?;
        let mut new = NewUser {
            enabled: true,
            ..Default::default()
        };
        for field in &form {
            let value = take_text(&mut body, &field.field)?.filter(|v| !v.trim().is_empty());
            let value = match value {
                Some(_) if !field.show => {
                    return Err(ApiError::bad_request(Text::new(
                        format!("{} cannot be set at sign-up", field.field),
                        format!("注册时不能填写{}", field_zh(&field.field)),
                    )))
                }
                Some(v) => v,
                None if field.required => {
                    return Err(ApiError::bad_request(Text::new(
                        format!("Please enter your {}", field.field),
                        format!("请输入{}", field_zh(&field.field)),
                    )))
                }
                None => continue,
            };
            let invalid = ApiError::bad_request;
            match field.field.as_str() {
                "username" => {
                    new.username =
                        Some(validate_username(value.trim()).map_err(|e| invalid(e.text()))?)
                }
                "email" => {
                    new.email = Some(normalize_email(&value).map_err(|e| invalid(e.text()))?)
                }
                "phone" => {
                    new.phone = Some(
                        normalize_phone(&ctx.state.config.default_country_code, &value)
                            .map_err(|e| invalid(phone_error_text(&e)))?,
                    )
                }
                _ => new.nickname = Some(validate_nickname(&value).map_err(|e| invalid(e.text()))?),
            }
        }
        if let Some(extra) = body.keys().next() {
            return Err(ApiError::bad_request(Text::new(
                format!("Unknown sign-up field '{extra}'"),
                format!("未知的注册字段“{extra}”"),
            )));
        }
        new.password_hash = Some(ctx.state.passwords.hash(password).await);
        Ok(ctx.state.store.create_user(&new, now_ms()).await?)
    }
}

fn take_text(body: &mut Map<String, Value>, key: &str) -> ApiResult<Option<String>> {
    match body.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() <= 1024 => Ok(Some(s)),
        Some(_) => Err(ApiError::bad_request(Text::new(
            format!("{key} must be a text"),
            format!("{key} 必须是文本"),
        ))),
    }
}
