//! Why a DingTalk sign-in failed, and what the user (or admin) is told, in English and
//! Simplified Chinese. Each failure has a stable reason for the audit log.

pub use crate::lang::Lang;
use axum::http::StatusCode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    MissingCode,
    ConsentDenied,
    StateUnknown,
    StateExpired,
    StateForeignBrowser,
    AuthenticatorUnavailable,
    LoginFreeDisabled,
    BadCredentials,
    InvalidCode,
    /// The permissions DingTalk named (may be empty).
    PermissionMissing(Vec<String>),
    NoPhone,
    MaskedPhone,
    NotOrgMember,
    CorpNotAllowed,
    NoMatchingUser,
    Ambiguous,
    AlreadyLinked,
    /// The match is an administrator: never linked automatically.
    AdminNotLinked,
    /// The match has a password and `linkRequiresPassword` is on.
    LinkNeedsPassword,
    /// Linking from "My account": the DingTalk account is another user's.
    LinkedElsewhere,
    /// Linking from "My account": the account has a DingTalk account of this authenticator.
    AccountHasDingTalk,
    UserDisabled,
    DingTalkDown,
    DingTalkUnexpected,
    DingTalkRefused,
    /// The database cannot be reached or is busy: worth trying again shortly.
    DatabaseUnavailable,
    Internal,
}

/// Every failure, for reading a reason back (`PermissionMissing` without its names).
const EVERY_FAILURE: [Failure; 26] = [
    Failure::MissingCode,
    Failure::ConsentDenied,
    Failure::StateUnknown,
    Failure::StateExpired,
    Failure::StateForeignBrowser,
    Failure::AuthenticatorUnavailable,
    Failure::LoginFreeDisabled,
    Failure::BadCredentials,
    Failure::InvalidCode,
    Failure::PermissionMissing(Vec::new()),
    Failure::NoPhone,
    Failure::MaskedPhone,
    Failure::NotOrgMember,
    Failure::CorpNotAllowed,
    Failure::NoMatchingUser,
    Failure::Ambiguous,
    Failure::AlreadyLinked,
    Failure::UserDisabled,
    Failure::DingTalkDown,
    Failure::DingTalkUnexpected,
    Failure::DingTalkRefused,
    Failure::Internal,
    Failure::AdminNotLinked,
    Failure::LinkNeedsPassword,
    Failure::LinkedElsewhere,
    Failure::AccountHasDingTalk,
];

impl Failure {
    /// The failure a sign-in page link names by its reason (`/signin?error=<reason>`): the
    /// page shows its own text for it, never text from the link. `scopes` are the missing
    /// permissions' names, kept only when they look like DingTalk permission names.
    pub fn from_reason(reason: &str, scopes: Option<&str>) -> Option<Failure> {
        let found = EVERY_FAILURE.iter().find(|f| f.reason() == reason)?.clone();
        Some(match found {
            Failure::PermissionMissing(_) => Failure::PermissionMissing(
                scopes
                    .unwrap_or_default()
                    .split(',')
                    .filter(|s| is_permission_name(s))
                    .take(5)
                    .map(str::to_string)
                    .collect(),
            ),
            other => other,
        })
    }

    /// The missing permissions' names, for the sign-in page link.
    pub fn scopes(&self) -> Option<String> {
        match self {
            Failure::PermissionMissing(s) if !s.is_empty() => Some(s.join(",")),
            _ => None,
        }
    }

    /// Stable reason for the audit log and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Failure::MissingCode => "missing_code",
            Failure::ConsentDenied => "consent_denied",
            Failure::StateUnknown => "state_unknown",
            Failure::StateExpired => "state_expired",
            Failure::StateForeignBrowser => "state_foreign_browser",
            Failure::AuthenticatorUnavailable => "authenticator_unavailable",
            Failure::LoginFreeDisabled => "login_free_disabled",
            Failure::BadCredentials => "invalid_client_credentials",
            Failure::InvalidCode => "invalid_code",
            Failure::PermissionMissing(_) => "permission_missing",
            Failure::NoPhone => "no_phone",
            Failure::MaskedPhone => "masked_phone",
            Failure::NotOrgMember => "not_org_member",
            Failure::CorpNotAllowed => "corp_not_allowed",
            Failure::NoMatchingUser => "user_not_found",
            Failure::Ambiguous => "ambiguous_match",
            Failure::AlreadyLinked => "already_linked",
            Failure::AdminNotLinked => "admin_not_linked",
            Failure::LinkNeedsPassword => "link_needs_password",
            Failure::LinkedElsewhere => "linked_elsewhere",
            Failure::AccountHasDingTalk => "account_has_dingtalk",
            Failure::UserDisabled => "user_disabled",
            Failure::DingTalkDown => "dingtalk_unavailable",
            Failure::DingTalkUnexpected => "dingtalk_unexpected_answer",
            Failure::DingTalkRefused => "dingtalk_refused",
            Failure::DatabaseUnavailable => "database_unavailable",
            Failure::Internal => "internal_error",
        }
    }

    /// For JSON answers (login-free sign-in).
    pub fn status(&self) -> StatusCode {
        match self {
            Failure::MissingCode | Failure::AuthenticatorUnavailable => StatusCode::BAD_REQUEST,
            Failure::InvalidCode
            | Failure::StateUnknown
            | Failure::StateExpired
            | Failure::StateForeignBrowser => StatusCode::UNAUTHORIZED,
            Failure::DingTalkDown | Failure::DingTalkUnexpected | Failure::DingTalkRefused => {
                StatusCode::BAD_GATEWAY
            }
            Failure::DatabaseUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Failure::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::FORBIDDEN,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Failure::MissingCode => "DINGTALK_MISSING_CODE",
            Failure::InvalidCode => "DINGTALK_INVALID_CODE",
            Failure::NoMatchingUser => "NOT_EXIST_USER",
            Failure::DingTalkDown | Failure::DingTalkUnexpected | Failure::DingTalkRefused => {
                "DINGTALK_UNAVAILABLE"
            }
            Failure::DatabaseUnavailable => "UNAVAILABLE",
            Failure::Internal => "INTERNAL_ERROR",
            _ => "DINGTALK_SIGN_IN_FAILED",
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        let text = |en: &str, cn: &str| if zh { cn.to_string() } else { en.to_string() };
        match self {
            Failure::MissingCode => text(
                "DingTalk sent no sign-in code. Please click \"Sign in via DingTalk\" again.",
                "钉钉没有返回登录授权码（authCode），请重新点击“钉钉登录”。",
            ),
            Failure::ConsentDenied => text(
                "You did not allow the sign-in in DingTalk. To sign in, click \"Sign in via DingTalk\" again and confirm.",
                "您在钉钉中取消了授权。如需登录，请重新点击“钉钉登录”并同意授权。",
            ),
            Failure::StateUnknown => text(
                "This sign-in link is invalid or was already used. Please start the DingTalk sign-in again.",
                "登录链接无效或已被使用，请重新发起钉钉登录。",
            ),
            Failure::StateExpired => text(
                "The sign-in link expired (it is valid for 10 minutes). Please start the DingTalk sign-in again.",
                "登录链接已过期（有效期 10 分钟），请重新发起钉钉登录。",
            ),
            Failure::StateForeignBrowser => text(
                "This sign-in was started in another browser. Please start the DingTalk sign-in again in this browser.",
                "该登录是在其他浏览器中发起的，请在当前浏览器中重新发起钉钉登录。",
            ),
            Failure::AuthenticatorUnavailable => text(
                "This DingTalk sign-in method no longer exists or was disabled. Please choose another sign-in method or contact your administrator.",
                "该钉钉登录方式已不存在或已被停用，请选择其他登录方式或联系管理员。",
            ),
            Failure::LoginFreeDisabled => text(
                "Login-free sign-in inside DingTalk is not enabled for this authenticator. Please ask your administrator to enable it, or use the sign-in page.",
                "该认证器未开启钉钉内免登，请联系管理员开启，或使用登录页面登录。",
            ),
            Failure::BadCredentials => text(
                "DingTalk rejected the app's Client ID or Client Secret. Administrator: check them in the authenticator settings (and that the app has a released version), then use \"Test connection\".",
                "钉钉拒绝了应用的 Client ID 或 Client Secret。管理员：请在认证器设置中检查它们（并确认应用已发布版本），然后点击“测试连接”。",
            ),
            Failure::InvalidCode => text(
                "The DingTalk sign-in code is invalid, expired or was already used. Please sign in again.",
                "钉钉登录授权码无效、已过期或已被使用，请重新登录。",
            ),
            Failure::PermissionMissing(scopes) => {
                let names = if scopes.is_empty() {
                    if zh { "所需权限".to_string() } else { "a required permission".to_string() }
                } else {
                    scopes.join(", ")
                };
                if zh {
                    format!("钉钉应用缺少权限：{names}。管理员：请在钉钉开发者后台为应用开通该权限（如“个人手机号信息” Contact.User.mobile、“通讯录个人信息读权限” Contact.User.Read）后重试。")
                } else {
                    format!("The DingTalk app lacks the permission {names}. Administrator: enable it for the app in the DingTalk developer console (e.g. Contact.User.mobile, Contact.User.Read), then try again.")
                }
            }
            Failure::NoPhone => text(
                "DingTalk did not share your phone number, which is needed to find your account. Administrator: enable the app permission Contact.User.mobile (personal phone number); user: make sure your DingTalk account has a phone number.",
                "钉钉未提供您的手机号，无法匹配账号。管理员：请为应用开通“个人手机号信息”（Contact.User.mobile）权限；用户：请确认钉钉账号绑定了手机号。",
            ),
            Failure::MaskedPhone => text(
                "DingTalk only shared a masked phone number (like 155****3240), which cannot identify your account. Administrator: use an internal (organisation) app, or link users by another field.",
                "钉钉只提供了打码的手机号（如 155****3240），无法匹配账号。管理员：请使用企业内部应用，或改用其他字段匹配用户。",
            ),
            Failure::NotOrgMember => text(
                "Your DingTalk account is not a member of the organisation this app belongs to. Sign in with your organisation's DingTalk account, or ask your administrator to add you.",
                "您的钉钉账号不是该应用所属组织的成员。请使用组织内的钉钉账号登录，或联系管理员将您加入组织。",
            ),
            Failure::CorpNotAllowed => text(
                "The organisation you chose in DingTalk is not allowed to sign in here. Please sign in again and choose your company's organisation.",
                "您在钉钉中选择的组织不允许登录此系统。请重新登录并选择您所在公司的组织。",
            ),
            Failure::NoMatchingUser => text(
                "User not found: no account matches your DingTalk account and automatic sign-up is off. Please ask your administrator to create your account.",
                "用户不存在：没有与您的钉钉账号匹配的账号，且未开启自动注册。请联系管理员为您创建账号。",
            ),
            Failure::Ambiguous => text(
                "Your DingTalk account matches more than one account here, so none was chosen. Please ask your administrator to resolve the duplicate.",
                "您的钉钉账号匹配到多个账号，系统不会猜测。请联系管理员处理重复账号。",
            ),
            Failure::AlreadyLinked => text(
                "The matching account is already linked to another DingTalk account. Please sign in with that DingTalk account, or ask your administrator to unlink it.",
                "匹配到的账号已绑定了另一个钉钉账号。请使用该钉钉账号登录，或联系管理员解除绑定。",
            ),
            Failure::AdminNotLinked => text(
                "Your DingTalk account matches an administrator's account, which is never linked automatically. Sign in with that account's password, then link DingTalk under \"My account\".",
                "您的钉钉账号匹配到管理员账号，管理员账号不会自动绑定。请先用该账号的密码登录，再在“我的账号”中绑定钉钉。",
            ),
            Failure::LinkNeedsPassword => text(
                "Your DingTalk account matches an account that has a password. To link them, sign in with that password once, then link DingTalk under \"My account\".",
                "您的钉钉账号匹配到一个设有密码的账号。如需绑定，请先用该密码登录一次，再在“我的账号”中绑定钉钉。",
            ),
            Failure::LinkedElsewhere => text(
                "This DingTalk account is already linked to another account here. Sign in with it to use that account, or ask your administrator to unlink it.",
                "该钉钉账号已绑定到本系统的另一个账号。请用它登录那个账号，或联系管理员解除绑定。",
            ),
            Failure::AccountHasDingTalk => text(
                "Your account is already linked to a DingTalk account for this sign-in method. Unlink it first to link another one.",
                "您的账号已绑定了该登录方式的钉钉账号。如需更换，请先解除绑定。",
            ),
            Failure::UserDisabled => text(
                "This account is disabled. Please contact your administrator.",
                "该账号已被停用，请联系管理员。",
            ),
            Failure::DingTalkDown => text(
                "DingTalk did not answer in time or is unavailable. Please try again in a moment.",
                "钉钉暂时无响应或不可用，请稍后重试。",
            ),
            Failure::DingTalkUnexpected => text(
                "DingTalk gave an unexpected answer. Please try again; if it persists, your administrator can find DingTalk's request id in the audit log.",
                "钉钉返回了无法识别的结果。请重试；如问题持续，管理员可在审计日志中查看钉钉的 requestid。",
            ),
            Failure::DingTalkRefused => text(
                "DingTalk refused the sign-in. Please try again; if it persists, your administrator can find DingTalk's explanation and request id in the audit log.",
                "钉钉拒绝了本次登录。请重试；如问题持续，管理员可在审计日志中查看钉钉的说明和 requestid。",
            ),
            Failure::DatabaseUnavailable => text(
                "The sign-in service cannot reach its database right now. Please try again in a moment.",
                "登录服务暂时无法访问数据库，请稍后重试。",
            ),
            Failure::Internal => text(
                "Something went wrong on our side. Please try again; the administrator can find details in the server log.",
                "服务器内部错误，请重试；管理员可在服务器日志中查看详情。",
            ),
        }
    }
}

/// A failure with what DingTalk said about it (for the audit log; never shown in full to users).
#[derive(Debug, Clone)]
pub struct Failed {
    pub failure: Failure,
    pub endpoint: Option<&'static str>,
    pub request_id: Option<String>,
    pub dingtalk_code: Option<String>,
    /// DingTalk's own message or our diagnosis, for the admin.
    pub detail: Option<String>,
    /// Who DingTalk said was signing in (nick, unionId, userid), once known: the audit log
    /// names the person who was turned away. (Boxed: failures travel in `Result`s.)
    pub tried_by: Box<Vec<(&'static str, String)>>,
}

impl From<Failure> for Failed {
    fn from(failure: Failure) -> Self {
        Failed {
            failure,
            endpoint: None,
            request_id: None,
            dingtalk_code: None,
            detail: None,
            tried_by: Box::default(),
        }
    }
}

impl From<authgate_dingtalk::Error> for Failed {
    fn from(e: authgate_dingtalk::Error) -> Self {
        use authgate_dingtalk::Error as E;
        let failure = if e.is_invalid_credentials() {
            Failure::BadCredentials
        } else if e.is_invalid_code() {
            Failure::InvalidCode
        } else if e.is_not_org_member() {
            Failure::NotOrgMember
        } else if e.is_permission_denied() {
            Failure::PermissionMissing(e.missing_scopes().to_vec())
        } else if e.is_dingtalk_down() {
            Failure::DingTalkDown
        } else if matches!(e, E::InvalidResponse { .. }) {
            Failure::DingTalkUnexpected
        } else {
            Failure::DingTalkRefused
        };
        let code = e
            .api_code()
            .map(str::to_string)
            .or_else(|| e.errcode().map(|c| c.to_string()));
        Failed {
            failure,
            endpoint: Some(e.endpoint()),
            request_id: e.request_id().map(str::to_string),
            dingtalk_code: code,
            // The error's text never holds a secret, code or token (see authgate_dingtalk::Error).
            detail: Some(e.to_string()),
            tried_by: Box::default(),
        }
    }
}

impl From<authgate_store::StoreError> for Failed {
    /// A database that cannot be reached or is busy is told apart from a fault of ours.
    fn from(e: authgate_store::StoreError) -> Self {
        if e.is_temporary() {
            tracing::error!(error = %e, "DingTalk sign-in: database unavailable");
            return Failed {
                detail: Some(e.to_string()),
                ..Failure::DatabaseUnavailable.into()
            };
        }
        Failed::internal(e)
    }
}

impl Failed {
    /// A failure of the API's own machinery (a session that could not be started).
    pub fn from_api(e: crate::error::ApiError) -> Self {
        if e.status == StatusCode::SERVICE_UNAVAILABLE {
            return Failure::DatabaseUnavailable.into();
        }
        Failed::internal(e)
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "DingTalk sign-in failed on our side");
        Failed {
            detail: Some(cause.to_string()),
            ..Failure::Internal.into()
        }
    }

    pub fn audit_detail(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        let mut put = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                m.insert(k.into(), serde_json::Value::String(v.clone()));
            }
        };
        put("requestid", &self.request_id);
        put("dingtalkCode", &self.dingtalk_code);
        put("endpoint", &self.endpoint.map(str::to_string));
        put("detail", &self.detail);
        for (k, v) in self.tried_by.iter() {
            m.insert((*k).into(), serde_json::Value::String(v.clone()));
        }
        if let Failure::PermissionMissing(scopes) = &self.failure {
            m.insert("requiredScopes".into(), serde_json::json!(scopes));
        }
        m
    }
}

/// `Contact.User.mobile` and the like.
fn is_permission_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_reads_back_and_links_carry_no_text() {
        for f in EVERY_FAILURE {
            assert_eq!(Failure::from_reason(f.reason(), None), Some(f.clone()));
        }
        assert_eq!(
            Failure::from_reason("Your account was hacked, call +1 555", None),
            None
        );
        assert_eq!(
            Failure::from_reason(
                "permission_missing",
                Some("Contact.User.mobile,<script>,call us now")
            ),
            Some(Failure::PermissionMissing(vec![
                "Contact.User.mobile".into()
            ]))
        );
    }
}
