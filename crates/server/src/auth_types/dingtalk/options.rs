//! The `dingtalk` authenticator's options (DESIGN.md section 2): schema, validation on save,
//! and the typed view the flows read.

use super::super::options::{OptionKind, OptionSpec};
use crate::error::{ApiError, ApiResult, Text};
use crate::state::AppState;
use authgate_dingtalk::{ClientCredentials, Prompt};
use serde_json::{json, Map, Value};

/// Values computed for the admin page; clients may echo them back on update.
pub const COMPUTED: [&str; 2] = ["redirectUrl", "autoLoginUrl"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindBy {
    UnionId,
    Userid,
    Mobile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchField {
    Phone,
    OrgEmail,
    Email,
}

/// Stored options, parsed. The secret stays sealed until a call needs it.
#[derive(Debug, Clone)]
pub struct DingTalkOptions {
    pub client_id: String,
    sealed_secret: String,
    pub auto_signup: bool,
    pub bind_by: BindBy,
    pub match_by: Vec<MatchField>,
    pub restrict_to_org: bool,
    pub allowed_corp_ids: Vec<String>,
    pub auto_login_in_client: bool,
    pub corp_id: String,
    pub public_origin: String,
    pub prompt: Prompt,
    pub sync_profile: bool,
    pub token_in_redirect: bool,
    pub link_requires_password: bool,
}

/// The Chinese help text of each option (the admin form shows it in zh-CN).
fn description_zh(name: &str) -> &'static str {
    match name {
        "clientId" => "钉钉应用的 Client ID（原 AppKey）。",
        "clientSecret" => "只写；加密保存，仅显示掩码。",
        "autoSignup" => "没有匹配到已有用户时创建新用户。",
        "bindBy" => "用哪个字段识别钉钉账号：unionId（稳定）、userid（组织通讯录 ID）或 mobile（NocoBase 旧行为）。",
        "matchBy" => "按顺序用这些字段把首次登录的钉钉用户关联到已有用户，信任的是钉钉提供的值：phone 是钉钉账号的手机号（钉钉已验证）；orgEmail 是组织管理员在通讯录中填写的企业邮箱；email 是个人邮箱，钉钉未验证，任何人都可填写他人的邮箱：只有信任它时才选择。管理员账号从不自动关联。",
        "linkRequiresPassword" => "首次用钉钉登录、匹配到一个设有密码的账号时，不自动关联：用户需先用该密码登录一次，再在“我的账号”中绑定钉钉。",
        "restrictToOrg" => "拒绝不属于应用所在组织的钉钉账号。",
        "allowedCorpIds" => "corpId 列表；设置后登录时请求 openid corpid 权限，并拒绝其他组织。",
        "autoLoginInClient" => "在钉钉内打开应用时无需点击即自动登录。最多只能有一个钉钉认证器开启。",
        "corpId" => "钉钉内 dd.requestAuthCode 使用的组织。",
        "publicOrigin" => "生成回调地址所用的 协议://主机[:端口]（位于代理之后时）；留空则使用服务器的 public_url。",
        "prompt" => "login consent 还会显示账号选择。",
        "syncProfile" => "每次登录时从钉钉刷新昵称和头像。",
        "tokenInRedirect" => "像 NocoBase 一样在跳转地址后附加 ?authenticator=<name>&token=<jwt>。关闭时会话只通过 HttpOnly Cookie 传递。",
        _ => "",
    }
}

pub fn schema() -> Vec<OptionSpec> {
    let spec =
        |name: &'static str, kind, title, title_zh, description, required, public, default| {
            OptionSpec {
                name,
                kind,
                title,
                title_zh,
                description,
                description_zh: description_zh(name),
                required,
                public,
                default,
            }
        };
    vec![
        spec("clientId", OptionKind::Text, "Client ID", "Client ID",
            "The DingTalk app's Client ID (formerly AppKey).", true, true, Value::Null),
        spec("clientSecret", OptionKind::Secret, "Client Secret", "Client Secret",
            "Write-only; stored encrypted and shown masked.", true, false, Value::Null),
        spec("autoSignup", OptionKind::Boolean, "Sign up automatically when the user does not exist",
            "使用手机号匹配不到已有用户时，是否自动创建新用户",
            "Create a user when no existing user matches.", false, true, json!(true)),
        spec("bindBy", OptionKind::Select { choices: vec!["unionId", "userid", "mobile"] },
            "Bind by", "绑定字段",
            "What identifies the DingTalk account: unionId (stable), userid (organisation directory id) or mobile (NocoBase's old behaviour).",
            false, false, json!("unionId")),
        spec("matchBy", OptionKind::MultiSelect { choices: vec!["phone", "orgEmail", "email"] },
            "Link existing users by", "匹配已有用户",
            "Ordered fields that link a first-time DingTalk user to an existing user, trusting what DingTalk reports: 'phone' is the DingTalk account's phone number (verified by DingTalk); 'orgEmail' is the work address your organisation's admins entered in the directory; 'email' is the personal address, which DingTalk does not verify, so anyone can claim someone else's: only choose it if you trust it. Administrator accounts are never linked automatically.",
            false, false, json!(["phone"])),
        spec("linkRequiresPassword", OptionKind::Boolean, "Ask for the password before linking", "关联前要求密码",
            "A first-time DingTalk user who matches an account that has a password is not linked automatically: they sign in with that password once, then link DingTalk under \"My account\".",
            false, false, json!(false)),
        spec("restrictToOrg", OptionKind::Boolean, "Only members of the organisation", "仅限本组织成员",
            "Refuse DingTalk accounts outside the app's organisation.", false, false, json!(true)),
        spec("allowedCorpIds", OptionKind::Json, "Allowed organisations (corpId)", "允许的组织 (corpId)",
            "A list of corpIds; when set, the sign-in asks for scope 'openid corpid' and refuses other organisations.",
            false, false, json!([])),
        spec("autoLoginInClient", OptionKind::Boolean, "Login-free inside the DingTalk client", "钉钉内免登",
            "Sign employees in without a click when the app is opened inside DingTalk. At most one DingTalk authenticator may enable it.",
            false, true, json!(false)),
        spec("corpId", OptionKind::Text, "CorpId for the in-client JSAPI", "企业 CorpId",
            "Organisation for dd.requestAuthCode inside the DingTalk client.", false, true, json!("")),
        spec("publicOrigin", OptionKind::Url, "Public origin", "回调地址协议/主机/端口",
            "protocol://host[:port] used to build the Redirect URL (behind a proxy); empty: the server's public_url.",
            false, false, json!("")),
        spec("prompt", OptionKind::Select { choices: vec!["consent", "login consent"] },
            "Prompt", "授权页面", "'login consent' also shows an account picker.", false, false, json!("consent")),
        spec("syncProfile", OptionKind::Boolean, "Sync profile", "同步资料",
            "Refresh nickname and avatar from DingTalk at each sign-in.", false, false, json!(true)),
        spec("tokenInRedirect", OptionKind::Boolean, "Token in the redirect URL (NocoBase compatibility)",
            "在跳转地址中携带 token (兼容 NocoBase)",
            "Append ?authenticator=<name>&token=<jwt> to the redirect target, as NocoBase does. Off: the session travels only in the HttpOnly cookie.",
            false, false, json!(false)),
    ]
}

/// Checks the rules the generic schema cannot express.
pub async fn validate(state: &AppState, name: &str, options: &Map<String, Value>) -> ApiResult<()> {
    let corp_ids = options.get("allowedCorpIds").cloned().unwrap_or(json!([]));
    parse_corp_ids(&corp_ids).map_err(ApiError::bad_request)?;
    if let Some(origin) = options.get("publicOrigin").and_then(Value::as_str) {
        check_origin(origin).map_err(ApiError::bad_request)?;
    }
    if options.get("autoLoginInClient") == Some(&Value::Bool(true)) {
        let others = state.store.list_authenticators().await?;
        if let Some(other) = others.iter().find(|a| {
            a.name != name
                && a.auth_type == super::TYPE_NAME
                && a.options.get("autoLoginInClient") == Some(&Value::Bool(true))
        }) {
            return Err(ApiError::bad_request(Text::new(
                format!(
                    "Login-free inside the DingTalk client (autoLoginInClient) is already enabled on authenticator '{}'; \
                     only one DingTalk authenticator may enable it. Turn it off there first.",
                    other.name
                ),
                format!(
                    "认证器“{}”已开启钉钉内免登（autoLoginInClient）；只能有一个钉钉认证器开启它，请先在那里关闭。",
                    other.name
                ),
            )));
        }
    }
    Ok(())
}

fn parse_corp_ids(v: &Value) -> Result<Vec<String>, Text> {
    let err = || {
        Text::new(
            "allowedCorpIds must be a list of distinct DingTalk corpIds (text), e.g. [\"ding1234\"]",
            "allowedCorpIds 应为互不相同的钉钉 corpId（文本）列表，例如 [\"ding1234\"]",
        )
    };
    let items = v.as_array().ok_or_else(err)?;
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let id = item
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 128)
            .ok_or_else(err)?;
        if out.iter().any(|o| o == id) {
            return Err(err());
        }
        out.push(id.to_string());
    }
    if out.len() > 100 {
        return Err(Text::new(
            "allowedCorpIds may list at most 100 organisations",
            "allowedCorpIds 最多列出 100 个组织",
        ));
    }
    Ok(out)
}

fn check_origin(origin: &str) -> Result<(), Text> {
    if origin.is_empty() {
        return Ok(());
    }
    let url = url::Url::parse(origin).map_err(|_| {
        Text::new(
            format!("publicOrigin '{origin}' is not a URL"),
            format!("publicOrigin“{origin}”不是 URL"),
        )
    })?;
    if url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
    {
        return Err(Text::new(
            format!(
                "publicOrigin must be only protocol://host[:port], without a path, e.g. https://auth.example.com (got '{origin}')"
            ),
            format!(
                "publicOrigin 只能是 协议://主机[:端口]，不带路径，例如 https://auth.example.com（现在是“{origin}”）"
            ),
        ));
    }
    Ok(())
}

impl DingTalkOptions {
    /// Reads stored options (already validated when saved, so only corruption fails).
    pub fn from_stored(o: &Map<String, Value>) -> Result<Self, Text> {
        let text = |k: &str| {
            o.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let flag = |k: &str, default: bool| o.get(k).and_then(Value::as_bool).unwrap_or(default);
        let client_id = text("clientId");
        let sealed_secret = text("clientSecret");
        if client_id.is_empty() || sealed_secret.is_empty() {
            return Err(Text::new(
                "the authenticator has no Client ID or Client Secret",
                "该认证器没有 Client ID 或 Client Secret",
            ));
        }
        let bind_by = match o.get("bindBy").and_then(Value::as_str).unwrap_or("unionId") {
            "userid" => BindBy::Userid,
            "mobile" => BindBy::Mobile,
            _ => BindBy::UnionId,
        };
        let match_by = match o.get("matchBy").and_then(Value::as_array) {
            Some(list) => list
                .iter()
                .filter_map(|v| match v.as_str()? {
                    "phone" => Some(MatchField::Phone),
                    "orgEmail" => Some(MatchField::OrgEmail),
                    "email" => Some(MatchField::Email),
                    _ => None,
                })
                .collect(),
            None => vec![MatchField::Phone],
        };
        let prompt = match o.get("prompt").and_then(Value::as_str) {
            Some("login consent") => Prompt::LoginConsent,
            _ => Prompt::Consent,
        };
        Ok(Self {
            client_id,
            sealed_secret,
            auto_signup: flag("autoSignup", true),
            bind_by,
            match_by,
            restrict_to_org: flag("restrictToOrg", true),
            allowed_corp_ids: parse_corp_ids(o.get("allowedCorpIds").unwrap_or(&json!([])))?,
            auto_login_in_client: flag("autoLoginInClient", false),
            corp_id: text("corpId"),
            public_origin: text("publicOrigin"),
            prompt,
            sync_profile: flag("syncProfile", true),
            token_in_redirect: flag("tokenInRedirect", false),
            link_requires_password: flag("linkRequiresPassword", false),
        })
    }

    /// The Client ID and the opened secret, for a DingTalk call.
    pub fn credentials(&self, state: &AppState) -> Result<ClientCredentials, Text> {
        let plain = state.secrets.open(&self.sealed_secret).map_err(|_| {
            Text::new(
                "the stored Client Secret cannot be decrypted (was the secret key changed?)",
                "保存的 Client Secret 无法解密（密钥是否被更换过？）",
            )
        })?;
        let secret = String::from_utf8(plain).map_err(|_| {
            Text::new(
                "the stored Client Secret is not text",
                "保存的 Client Secret 不是文本",
            )
        })?;
        Ok(ClientCredentials::new(self.client_id.clone(), secret))
    }

    /// `<publicOrigin or public_url>` without a trailing slash.
    pub fn origin(&self, state: &AppState) -> String {
        if self.public_origin.is_empty() {
            state.config.public_origin()
        } else {
            self.public_origin.trim_end_matches('/').to_string()
        }
    }

    /// The Redirect URL the admin registers in the DingTalk console.
    pub fn redirect_url(&self, state: &AppState) -> String {
        format!("{}/api/dingtalk:redirect", self.origin(state))
    }

    /// The workbench homepage for login-free sign-in (DingTalk replaces `$CORPID$`).
    pub fn auto_login_url(&self, state: &AppState, name: &str) -> String {
        format!(
            "{}/dingtalk/auto?authenticator={name}&corpId=$CORPID$",
            self.origin(state)
        )
    }
}
