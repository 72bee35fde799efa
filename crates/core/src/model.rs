//! The records authgate keeps, and the rules for their fields.
//! These types are never serialised to clients directly: the API builds its own views, so a
//! password hash or a sealed secret cannot leak by accident.

use serde_json::{Map, Value};
use thiserror::Error;
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
use unicode_security::{RestrictionLevel, RestrictionLevelDetection};

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub username: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub nickname: Option<String>,
    pub is_admin: bool,
    pub enabled: bool,
    pub password_hash: Option<String>,
    pub password_changed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl User {
    /// How to name this person to others: the nickname, else the username, e-mail or phone,
    /// else `#id`.
    pub fn display_name(&self) -> String {
        [&self.nickname, &self.username, &self.email, &self.phone]
            .into_iter()
            .flatten()
            .find(|n| !n.trim().is_empty())
            .cloned()
            .unwrap_or_else(|| format!("#{}", self.id))
    }

    /// The display name with the username after it when they differ: "张伟 (zhangwei)".
    pub fn name_and_username(&self) -> String {
        let name = self.display_name();
        match &self.username {
            Some(u) if *u != name => format!("{name} ({u})"),
            _ => name,
        }
    }
}

/// Fields of a user to be created. `phone` is already E.164, `email` already lower case.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub nickname: Option<String>,
    pub is_admin: bool,
    pub enabled: bool,
    pub password_hash: Option<String>,
}

/// A partial update: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub username: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub nickname: Option<Option<String>>,
    pub is_admin: Option<bool>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Authenticator {
    pub id: i64,
    pub name: String,
    pub auth_type: String,
    pub title: String,
    pub description: String,
    /// The type's options as stored: secrets are sealed (see `secret_box`).
    pub options: Map<String, Value>,
    pub enabled: bool,
    pub sort: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewAuthenticator {
    pub name: String,
    pub auth_type: String,
    pub title: String,
    pub description: String,
    pub options: Map<String, Value>,
    pub enabled: bool,
}

#[derive(Debug, Clone, Default)]
pub struct AuthenticatorPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub options: Option<Map<String, Value>>,
    pub enabled: Option<bool>,
}

/// An external identity bound to a user (NocoBase's `usersAuthenticators`).
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub id: i64,
    pub authenticator: String,
    pub uuid: String,
    pub user_id: i64,
    pub nickname: Option<String>,
    pub avatar: Option<String>,
    pub meta: Map<String, Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One sign-in: the chain of tokens renewed from it shares it.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: String,
    pub user_id: i64,
    pub authenticator: String,
    pub signed_in_at: i64,
    pub last_renewed_at: Option<i64>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub revoked_at: Option<i64>,
}

/// A JWT as the server remembers it. The token itself is never stored: it can be rebuilt from
/// these fields and the signing key (Ed25519 signatures are deterministic).
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedToken {
    pub jti: String,
    pub session_id: String,
    pub user_id: i64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub renewed_to: Option<String>,
    pub renewed_at: Option<i64>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum FieldError {
    #[error("The username may have 1 to 50 characters, letters of one script (Latin may go with Chinese, Japanese or Korean), no spaces, invisible characters or any of @ . < > \" ' /")]
    Username,
    #[error("'{0}' is not a valid e-mail address")]
    Email(String),
    #[error("The authenticator name (Auth UID) may have 1 to 64 letters, digits, - or _")]
    AuthenticatorName,
    #[error("The nickname may have at most 100 characters")]
    Nickname,
}

/// A username as stored: NFKC-normalised (full-width `ａｄｍｉｎ` is `admin`), with no space,
/// control or invisible format character (U+200B and the like), and letters that a reader
/// cannot mistake for another script's (UTS #39 "highly restrictive": one script, or Latin
/// with Chinese, Japanese or Korean; Cyrillic `а` among Latin letters is refused).
pub fn validate_username(name: &str) -> Result<String, FieldError> {
    let name = nfkc(name);
    let ok = (1..=50).contains(&name.chars().count())
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || is_format(c) || "@.<>\"'/".contains(c))
        && one_readable_script(&name);
    ok.then_some(name).ok_or(FieldError::Username)
}

/// What a person typed to name an account, in the form usernames are stored in.
pub fn nfkc(text: &str) -> String {
    text.nfkc().collect()
}

/// Invisible characters that change how text looks or reads (zero-width spaces and joiners,
/// right-to-left overrides and other bidi controls).
fn is_format(c: char) -> bool {
    c.general_category() == GeneralCategory::Format
}

fn one_readable_script(name: &str) -> bool {
    let letters: String = name.chars().filter(|c| c.is_alphabetic()).collect();
    letters.as_str().detect_restriction_level() <= RestrictionLevel::HighlyRestrictive
}

/// A name to show (a nickname typed here or sent by DingTalk): control and format characters
/// removed (a U+202E override would make the rest read backwards), trimmed, at most 100
/// characters.
pub fn clean_display_name(name: &str) -> String {
    name.chars()
        .filter(|&c| !c.is_control() && !is_format(c))
        .take(100)
        .collect::<String>()
        .trim()
        .to_string()
}

/// Lower-cases and sanity-checks an e-mail address (full RFC 5322 parsing buys nothing here).
pub fn normalize_email(email: &str) -> Result<String, FieldError> {
    let e = email.trim().to_lowercase();
    let valid = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(e.split_once('@'), Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
               && !domain.ends_with('.') && !domain.contains('@'));
    valid
        .then_some(e)
        .ok_or_else(|| FieldError::Email(email.to_string()))
}

pub fn validate_nickname(nickname: &str) -> Result<String, FieldError> {
    let n = nickname.trim();
    (n.chars().count() <= 100 && !n.chars().any(char::is_control))
        .then(|| clean_display_name(n))
        .ok_or(FieldError::Nickname)
}

pub fn validate_authenticator_name(name: &str) -> Result<String, FieldError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| name.to_string())
        .ok_or(FieldError::AuthenticatorName)
}

impl FieldError {
    pub fn text(&self) -> crate::text::Text {
        let zh = match self {
            FieldError::Username => "用户名为 1 到 50 个字符，只用一种文字的字母（拉丁字母可与中文、日文或韩文同用），不能有空格、不可见字符或 @ . < > \" ' / 中的任何一个".to_string(),
            FieldError::Email(e) => format!("“{e}”不是有效的电子邮箱地址"),
            FieldError::AuthenticatorName => "认证器名称（Auth UID）为 1 到 64 个字母、数字、- 或 _".to_string(),
            FieldError::Nickname => "昵称最多 100 个字符".to_string(),
        };
        crate::text::Text::new(self.to_string(), zh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(validate_username("admin").is_ok());
        assert!(validate_username("张三").is_ok());
        for bad in ["", "a b", "a@b", "<x>", &"x".repeat(51)] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn look_alike_usernames_are_refused_or_folded() {
        assert_eq!(validate_username("ａｄｍｉｎ").unwrap(), "admin");
        assert_eq!(validate_username("zhang_san-2").unwrap(), "zhang_san-2");
        assert_eq!(validate_username("zhangsan张三").unwrap(), "zhangsan张三");
        assert_eq!(validate_username("Иван").unwrap(), "Иван");
        for bad in [
            "\u{430}dmin",   // Cyrillic а among Latin letters
            "admin\u{200B}", // zero-width space
            "ad\u{200D}min", // zero-width joiner
            "\u{202E}nimda", // right-to-left override
            "\u{3b1}dmin",   // Greek alpha
            "adm\u{AD}in",   // soft hyphen
        ] {
            assert!(validate_username(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn display_names_lose_invisible_characters() {
        assert_eq!(clean_display_name("\u{202E}lisa\u{202C} "), "lisa");
        assert_eq!(clean_display_name("张\u{200B}三"), "张三");
        assert_eq!(validate_nickname("Ada\u{2066}x").unwrap(), "Adax");
    }

    #[test]
    fn emails() {
        assert_eq!(
            normalize_email(" Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        for bad in ["", "ann", "ann@", "@x.com", "a@b", "a b@c.com", "a@b@c.com"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn authenticator_names() {
        assert!(validate_authenticator_name("dingtalk-corp_2").is_ok());
        assert!(validate_authenticator_name("ding talk").is_err());
        assert!(validate_authenticator_name("").is_err());
    }
}
