//! What DingTalk answers, parsed leniently: missing optional fields and unknown extra fields
//! are fine, numbers may come as strings, empty strings count as absent.

use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::lenient;

/// Documented lifetime of DingTalk access tokens, assumed when `expireIn` is absent.
const DEFAULT_EXPIRE_IN: u64 = 7200;

fn default_expire_in() -> u64 {
    DEFAULT_EXPIRE_IN
}

/// A user access token (`POST /v1.0/oauth2/userAccessToken`). `Debug` hides the tokens.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserToken {
    #[serde(deserialize_with = "lenient::required_string")]
    pub access_token: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub refresh_token: Option<String>,
    /// Seconds; DingTalk has sent both `7200` and `"7200"`.
    #[serde(
        default = "default_expire_in",
        deserialize_with = "lenient::u64_or_string"
    )]
    pub expire_in: u64,
    /// The organisation the user picked (scope `openid corpid` only).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub corp_id: Option<String>,
}

impl fmt::Debug for UserToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserToken")
            .field("access_token", &"••••")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "••••"),
            )
            .field("expire_in", &self.expire_in)
            .field("corp_id", &self.corp_id)
            .finish()
    }
}

/// An app access token (`POST /v1.0/oauth2/accessToken`). `Debug` hides the token.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppAccessToken {
    #[serde(deserialize_with = "lenient::required_string")]
    pub access_token: String,
    #[serde(
        default = "default_expire_in",
        deserialize_with = "lenient::u64_or_string"
    )]
    pub expire_in: u64,
}

impl fmt::Debug for AppAccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppAccessToken")
            .field("access_token", &"••••")
            .field("expire_in", &self.expire_in)
            .finish()
    }
}

/// The signed-in user (`GET /v1.0/contact/users/me`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    /// Stable across the developer's apps: the identity to bind.
    #[serde(deserialize_with = "lenient::required_string")]
    pub union_id: String,
    /// Per app.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub open_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub nick: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub avatar_url: Option<String>,
    /// Needs `Contact.User.mobile`. May be masked (`155****3240`) for ISV apps: see
    /// [`UserProfile::mobile_is_masked`].
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub mobile: Option<String>,
    /// Country calling code without `+` (e.g. `86`).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub state_code: Option<String>,
    /// Personal e-mail, not verified by any organisation.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub visitor: Option<bool>,
}

impl UserProfile {
    /// True when DingTalk hid digits of the number: it must never be matched on.
    pub fn mobile_is_masked(&self) -> bool {
        self.mobile.as_deref().is_some_and(|m| m.contains('*'))
    }
}

/// `topapi/user/getbyunionid`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UnionIdLookup {
    /// The organisation directory id.
    #[serde(deserialize_with = "lenient::required_string")]
    pub userid: String,
    /// 0 = employee, 1 = external contact (0 when absent).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub contact_type: Option<i64>,
}

/// `topapi/v2/user/get`'s result: an organisation's directory entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrgUser {
    #[serde(deserialize_with = "lenient::required_string")]
    pub userid: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub unionid: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub avatar: Option<String>,
    /// Needs the app permission `fieldMobile`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub mobile: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub state_code: Option<String>,
    /// Personal e-mail (needs `fieldEmail`).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub email: Option<String>,
    /// Organisation-managed e-mail: the trustworthy one.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub org_email: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub job_number: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub admin: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub boss: Option<bool>,
    #[serde(default, deserialize_with = "lenient::i64_list")]
    pub dept_id_list: Vec<i64>,
    /// Every other field DingTalk sent, untouched.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `topapi/v2/user/getuserinfo`'s result: who opened the page inside the DingTalk client.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InClientUser {
    #[serde(deserialize_with = "lenient::required_string")]
    pub userid: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub unionid: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub associated_unionid: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub device_id: Option<String>,
    /// Whether the user is an administrator.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub sys: Option<bool>,
    /// 1 main admin, 2 sub-admin, 100 boss, 0 other.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub sys_level: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allauth_fixtures_parse() {
        let token: UserToken = serde_json::from_str(
            r#"{"accessToken": "testac", "expireIn": "3600", "refreshToken": "testrf"}"#,
        )
        .unwrap();
        assert_eq!(token.expire_in, 3600);
        assert!(!format!("{token:?}").contains("testac"));

        let profile: UserProfile = serde_json::from_str(
            r#"{"nick": "aiden", "unionId": "hTaCSb1nM4RXii6jaQvHZqQiEiE", "avatarUrl": "https://static-legacy.dingtalk.com/media/x.jpg", "openId": "ELdCPlk0V2LodZHx3n0p5AiEiE"}"#,
        )
        .unwrap();
        assert_eq!(profile.mobile, None);
        assert_eq!(profile.email, None);
    }

    #[test]
    fn empty_strings_and_nulls_are_absent() {
        let profile: UserProfile = serde_json::from_str(
            r#"{"unionId": "u", "email": "", "mobile": null, "stateCode": 86, "visitor": "false"}"#,
        )
        .unwrap();
        assert_eq!(profile.email, None);
        assert_eq!(profile.mobile, None);
        assert_eq!(profile.state_code.as_deref(), Some("86"));
        assert_eq!(profile.visitor, Some(false));
        assert!(serde_json::from_str::<UserProfile>(r#"{"unionId": ""}"#).is_err());
    }
}
