//! A user's claims by scope (OIDC Core 5.4) and by the `claims` request parameter (5.5).

use authgate_core::model::{Identity, User};
use serde_json::{json, Map, Value};

/// Which claims each scope brings, in the order discovery lists them.
pub const SCOPE_CLAIMS: &[(&str, &[&str])] = &[
    (
        "profile",
        &["name", "preferred_username", "picture", "updated_at"],
    ),
    ("email", &["email", "email_verified"]),
    ("phone", &["phone_number", "phone_number_verified"]),
    (
        "dingtalk",
        &["dingtalk_unionid", "dingtalk_userid", "dingtalk_corpid"],
    ),
];

/// Every claim the provider can answer.
pub fn supported() -> Vec<&'static str> {
    let mut all = vec![
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "amr",
        "sid",
    ];
    all.extend(SCOPE_CLAIMS.iter().flat_map(|(_, c)| c.iter().copied()));
    all
}

/// The names of the claims `scope` asks for, plus those the `claims` parameter asks for in
/// `section` ("userinfo" or "id_token").
pub fn requested(scope: &str, claims_param: Option<&Value>, section: &str) -> Vec<String> {
    let mut names: Vec<String> = SCOPE_CLAIMS
        .iter()
        .filter(|(s, _)| scope.split(' ').any(|granted| granted == *s))
        .flat_map(|(_, c)| c.iter().map(|c| c.to_string()))
        .collect();
    if let Some(Value::Object(asked)) = claims_param.and_then(|c| c.get(section)) {
        for name in asked.keys() {
            if !names.contains(name) && supported().contains(&name.as_str()) {
                names.push(name.clone());
            }
        }
    }
    names
}

/// The values of `names` that the user has (a claim without a value is left out, as OIDC Core
/// 5.3.2 asks).
pub fn values(user: &User, identities: &[Identity], names: &[String]) -> Map<String, Value> {
    let dingtalk = identities
        .iter()
        .find(|i| i.meta.contains_key("unionId"))
        .map(|i| &i.meta);
    let from_dingtalk = |key: &str| dingtalk.and_then(|m| m.get(key)).cloned();
    let mut out = Map::new();
    for name in names {
        let value = match name.as_str() {
            "name" => user
                .nickname
                .clone()
                .or_else(|| user.username.clone())
                .map(Value::from),
            "preferred_username" => user.username.clone().map(Value::from),
            "picture" => identities
                .iter()
                .find_map(|i| i.avatar.clone())
                .filter(|a| a.starts_with("https://"))
                .map(Value::from),
            "updated_at" => Some(json!(user.updated_at / 1000)),
            "email" => user.email.clone().map(Value::from),
            // authgate does not confirm addresses by mail.
            "email_verified" => user.email.as_ref().map(|_| json!(false)),
            "phone_number" => user.phone.clone().map(Value::from),
            // DingTalk confirms its members' mobile numbers (and sign-in matches by them); a number
            // of a user without DingTalk was typed by someone.
            "phone_number_verified" => user.phone.as_ref().map(|_| json!(dingtalk.is_some())),
            "dingtalk_unionid" => from_dingtalk("unionId"),
            "dingtalk_userid" => from_dingtalk("userid"),
            "dingtalk_corpid" => from_dingtalk("corpId"),
            _ => None,
        };
        if let Some(v) = value {
            out.insert(name.clone(), v);
        }
    }
    out
}

/// `sub`: authgate's own user id, which outlives re-linking DingTalk or a new phone number.
pub fn subject(user_id: i64) -> String {
    user_id.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_the_claims_parameter_decide_the_names() {
        assert!(requested("openid", None, "userinfo").is_empty());
        assert_eq!(
            requested("openid email", None, "userinfo"),
            ["email", "email_verified"]
        );
        let asked = json!({"userinfo": {"name": {"essential": true}, "bogus": null}});
        assert_eq!(requested("openid", Some(&asked), "userinfo"), ["name"]);
        assert!(requested("openid", Some(&asked), "id_token").is_empty());
    }
}
