//! Access rules: what they say, how a stored definition is read and checked, and which rule
//! decides a request. Rules are tried in order and the first whose host, path and method match
//! decides; a host no rule covers is denied.
//!
//! A rule's definition (JSON, as the API takes it and the store keeps it):
//! `{"host": "wiki.corp.example" | "*.corp.example" | "wiki.corp.example:8443",
//!   "pathPrefix": "/admin", "methods": ["GET"], "note": "...",
//!   "allow": {"signedIn": true, "admins": true, "users": ["alice", 7],
//!             "authenticators": ["dingtalk"]} | "deny": true | "public": true}`.
//! Under `allow`, any listed condition lets a person in.

use crate::error::Text;
use serde_json::{json, Map, Value};
use url::Url;

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: i64,
    pub host: HostPattern,
    /// A path prefix, matched at a segment boundary (`/admin` covers `/admin/x`, not
    /// `/administrator`).
    pub path_prefix: Option<String>,
    /// Upper-case method names; empty: every method.
    pub methods: Vec<String>,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HostPattern {
    /// Lower case, without the `*.` of a wildcard.
    pub name: String,
    /// `*.name`: any subdomain of `name` (not `name` itself).
    pub subdomains: bool,
    /// Only this port, when given (else any).
    pub port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Allow(Allowed),
    Deny,
    /// Let through without sign-in (health checks, static assets).
    Public,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Allowed {
    pub signed_in: bool,
    pub admins: bool,
    /// User names or user ids.
    pub users: Vec<String>,
    pub authenticators: Vec<String>,
}

/// The request being decided, as the proxy described it.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// With dot segments resolved (by the URL parser).
    pub path: String,
    pub method: String,
    /// The raw path holds an encoded dot, slash or backslash, which an application might decode
    /// into a path other than the one matched: such a request is never let through as public.
    pub ambiguous_path: bool,
}

impl Target {
    pub fn new(url: &Url, method: &str) -> Option<Target> {
        let host = url.host_str()?.to_ascii_lowercase();
        let raw_path = url.path().to_ascii_lowercase();
        let ambiguous_path = ["%2e", "%2f", "%5c"].iter().any(|e| raw_path.contains(e));
        Some(Target {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port: url.port_or_known_default().unwrap_or(0),
            path: url.path().to_string(),
            method: method.to_ascii_uppercase(),
            ambiguous_path,
        })
    }
}

/// Who is asking.
#[derive(Debug, Clone)]
pub struct Person<'a> {
    pub user_id: i64,
    pub username: Option<&'a str>,
    pub is_admin: bool,
    /// The authenticator the session was signed in with.
    pub authenticator: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let through (public, or allowed for this person).
    Allow,
    /// Nobody is signed in and the rule needs someone.
    SignIn,
    Deny,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub verdict: Verdict,
    /// The rule that decided (none: no rule covers the request).
    pub rule_id: Option<i64>,
    /// Why, in words an administrator reads (the explain tool and the 403 page show it).
    pub reason: Text,
}

impl HostPattern {
    fn matches(&self, t: &Target) -> bool {
        if self.port.is_some_and(|p| p != t.port) {
            return false;
        }
        if self.subdomains {
            t.host
                .strip_suffix(&self.name)
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.'))
        } else {
            t.host == self.name
        }
    }

    fn text(&self) -> String {
        let mut out = if self.subdomains {
            format!("*.{}", self.name)
        } else {
            self.name.clone()
        };
        if let Some(p) = self.port {
            out.push_str(&format!(":{p}"));
        }
        out
    }
}

fn path_matches(prefix: &str, path: &str) -> bool {
    if prefix.ends_with('/') {
        return path.starts_with(prefix);
    }
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl Rule {
    fn covers(&self, t: &Target) -> bool {
        self.host.matches(t)
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| path_matches(p, &t.path))
            && (self.methods.is_empty() || self.methods.contains(&t.method))
    }

    /// What the rule covers, for reasons.
    fn scope(&self) -> String {
        let mut out = self.host.text();
        if let Some(p) = &self.path_prefix {
            out.push_str(p);
        }
        if !self.methods.is_empty() {
            out.push_str(&format!(" ({})", self.methods.join(", ")));
        }
        out
    }
}

impl Allowed {
    /// Which condition lets `p` in, if any.
    fn admits(&self, p: &Person<'_>) -> Option<Text> {
        if self.signed_in {
            return Some(Text::new("anyone signed in", "任何已登录的用户"));
        }
        if self.admins && p.is_admin {
            return Some(Text::new("administrators", "管理员"));
        }
        let id = p.user_id.to_string();
        if let Some(u) = self
            .users
            .iter()
            .find(|u| **u == id || p.username == Some(u.as_str()))
        {
            return Some(Text::new(format!("user {u}"), format!("用户 {u}")));
        }
        if self.authenticators.iter().any(|a| a == p.authenticator) {
            return Some(Text::new(
                format!("signed in with {}", p.authenticator),
                format!("通过 {} 登录的用户", p.authenticator),
            ));
        }
        None
    }
}

/// The first rule that covers `t` decides, for `who` (none: not signed in).
pub fn decide(rules: &[Rule], t: &Target, who: Option<&Person<'_>>) -> Decision {
    decide_from(rules, 0, t, who)
}

/// [`decide`] over `rules[from..]` (reasons number rules from the start of `rules`).
fn decide_from(rules: &[Rule], from: usize, t: &Target, who: Option<&Person<'_>>) -> Decision {
    for (n, rule) in rules.iter().enumerate().skip(from) {
        if !rule.covers(t) {
            continue;
        }
        let (n, scope) = (n + 1, rule.scope());
        // "rule 2 (wiki.corp.example) <what>", in both languages.
        let at = |en: &str, zh: &str| {
            Text::new(
                format!("rule {n} ({scope}) {en}"),
                format!("规则 {n}（{scope}）{zh}"),
            )
        };
        let decided = |verdict, reason: Text| Decision {
            verdict,
            rule_id: Some(rule.id),
            reason,
        };
        return match &rule.action {
            Action::Public if t.ambiguous_path => {
                // Not public after all: the rules after it decide, as for a signed-in request.
                let rest = decide_from(rules, n, t, who);
                Decision {
                    reason: at(
                        &format!(
                            "lets the path through without sign-in, but the request's path \
                             encodes a dot, slash or backslash; {}",
                            rest.reason.en
                        ),
                        &format!(
                            "无需登录即放行该路径，但请求路径中含有编码的点、斜杠或反斜杠；{}",
                            rest.reason.zh
                        ),
                    ),
                    ..rest
                }
            }
            Action::Public => decided(
                Verdict::Allow,
                at("lets it through without sign-in", "无需登录即放行"),
            ),
            Action::Deny => decided(Verdict::Deny, at("denies everyone", "拒绝所有人")),
            Action::Allow(allowed) => match who {
                None => decided(
                    Verdict::SignIn,
                    at("needs a signed-in person", "要求先登录"),
                ),
                Some(p) => match allowed.admits(p) {
                    Some(why) => decided(
                        Verdict::Allow,
                        at(&format!("allows {}", why.en), &format!("允许{}", why.zh)),
                    ),
                    None => {
                        let them = allowed.describe();
                        decided(
                            Verdict::Deny,
                            at(
                                &format!("does not allow this person ({})", them.en),
                                &format!("不允许此用户（{}）", them.zh),
                            ),
                        )
                    }
                },
            },
        };
    }
    Decision {
        verdict: Verdict::Deny,
        rule_id: None,
        reason: Text::new(
            format!("no rule covers {}", t.host),
            format!("没有规则覆盖 {}", t.host),
        ),
    }
}

impl Allowed {
    /// Whom the rule lets in: "it allows administrators; users alice, bob".
    fn describe(&self) -> Text {
        let mut en = Vec::new();
        let mut zh = Vec::new();
        if self.admins {
            en.push("administrators".to_string());
            zh.push("管理员".to_string());
        }
        if !self.users.is_empty() {
            en.push(format!("users {}", self.users.join(", ")));
            zh.push(format!("用户 {}", self.users.join(", ")));
        }
        if !self.authenticators.is_empty() {
            let list = self.authenticators.join(", ");
            en.push(format!("signed in with {list}"));
            zh.push(format!("通过 {list} 登录的用户"));
        }
        Text::new(
            format!("it allows {}", en.join("; ")),
            format!("它允许{}", zh.join("；")),
        )
    }
}

/// A definition that is not a rule: the field at fault and why (in both languages).
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: Text,
}

impl Invalid {
    /// `field: why`, as the API answers it.
    pub fn text(&self) -> Text {
        Text::new(
            format!("{}: {}", self.field, self.message.en),
            format!("{}：{}", self.field, self.message.zh),
        )
    }
}

fn invalid(field: &'static str, en: impl Into<String>, zh: impl Into<String>) -> Invalid {
    Invalid {
        field,
        message: Text::new(en, zh),
    }
}

const FIELDS: &[&str] = &[
    "host",
    "pathPrefix",
    "methods",
    "allow",
    "deny",
    "public",
    "note",
];
const ALLOW_FIELDS: &[&str] = &["signedIn", "admins", "users", "authenticators", "groups"];
const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
];

/// Reads and checks a definition; answers the rule and the definition to store (normalised:
/// lower-case host, upper-case methods, only the fields that say something).
pub fn parse(id: i64, def: &Map<String, Value>) -> Result<(Rule, Map<String, Value>), Invalid> {
    if let Some(unknown) = def.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(
            "rule",
            format!(
                "unknown field '{unknown}' (a rule has {})",
                FIELDS.join(", ")
            ),
            format!("未知字段“{unknown}”（规则的字段有：{}）", FIELDS.join("、")),
        ));
    }
    let host = parse_host(def.get("host"))?;
    let path_prefix = match def.get("pathPrefix") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if p.is_empty() => None,
        Some(Value::String(p)) if p.starts_with('/') && !p.contains(['?', '#', '\\']) => {
            Some(p.clone())
        }
        _ => {
            return Err(invalid(
                "pathPrefix",
                "must be a path starting with / (no query, fragment or backslash)",
                "须为以 / 开头的路径（不能含查询参数、# 或反斜杠）",
            ))
        }
    };
    let methods = match def.get("methods") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|m| {
                m.as_str()
                    .map(str::to_ascii_uppercase)
                    .filter(|m| METHODS.contains(&m.as_str()))
                    .ok_or_else(|| {
                        invalid(
                            "methods",
                            format!("must be HTTP methods, such as {METHODS:?}"),
                            format!("须为 HTTP 方法，例如 {METHODS:?}"),
                        )
                    })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(invalid(
                "methods",
                "must be a list such as [\"GET\"]",
                "须为列表，例如 [\"GET\"]",
            ))
        }
    };
    let action = parse_action(def)?;
    let mut stored = Map::new();
    stored.insert("host".into(), json!(host.text()));
    if let Some(p) = &path_prefix {
        stored.insert("pathPrefix".into(), json!(p));
    }
    if !methods.is_empty() {
        stored.insert("methods".into(), json!(methods));
    }
    match &action {
        Action::Public => {
            stored.insert("public".into(), json!(true));
        }
        Action::Deny => {
            stored.insert("deny".into(), json!(true));
        }
        Action::Allow(a) => {
            let mut allow = Map::new();
            if a.signed_in {
                allow.insert("signedIn".into(), json!(true));
            }
            if a.admins {
                allow.insert("admins".into(), json!(true));
            }
            if !a.users.is_empty() {
                allow.insert("users".into(), json!(a.users));
            }
            if !a.authenticators.is_empty() {
                allow.insert("authenticators".into(), json!(a.authenticators));
            }
            stored.insert("allow".into(), Value::Object(allow));
        }
    }
    if let Some(note) = def.get("note").filter(|n| !n.is_null()) {
        match note.as_str() {
            Some(n) if n.chars().count() <= 500 => {
                if !n.trim().is_empty() {
                    stored.insert("note".into(), json!(n.trim()));
                }
            }
            _ => {
                return Err(invalid(
                    "note",
                    "must be text of at most 500 characters",
                    "须为不超过 500 个字符的文本",
                ))
            }
        }
    }
    Ok((
        Rule {
            id,
            host,
            path_prefix,
            methods,
            action,
        },
        stored,
    ))
}

fn parse_host(v: Option<&Value>) -> Result<HostPattern, Invalid> {
    let hint = || {
        invalid(
            "host",
            "must be a host name such as wiki.corp.example or *.corp.example, with an optional \
             :port",
            "须为主机名，例如 wiki.corp.example 或 *.corp.example，可带 :端口",
        )
    };
    let Some(raw) = v.and_then(Value::as_str).map(str::trim) else {
        return Err(hint());
    };
    let raw = raw.to_ascii_lowercase();
    let (subdomains, rest) = match raw.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, raw.as_str()),
    };
    let (name, port) = match rest.rsplit_once(':') {
        Some((name, port)) => (
            name,
            Some(
                port.parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(hint)?,
            ),
        ),
        None => (rest, None),
    };
    let valid_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(valid_label) {
        return Err(hint());
    }
    Ok(HostPattern {
        name: name.to_string(),
        subdomains,
        port,
    })
}

fn parse_action(def: &Map<String, Value>) -> Result<Action, Invalid> {
    let flag = |k: &str| def.get(k).filter(|v| !v.is_null());
    let given: Vec<&str> = ["allow", "deny", "public"]
        .into_iter()
        .filter(|k| flag(k).is_some())
        .collect();
    if given.len() != 1 {
        return Err(invalid(
            "rule",
            "say exactly one of allow (who may pass), deny: true, or public: true",
            "须且只能给出 allow（允许谁通过）、deny: true 或 public: true 中的一项",
        ));
    }
    match given[0] {
        "deny" | "public" => {
            if flag(given[0]) != Some(&Value::Bool(true)) {
                return Err(invalid(
                    if given[0] == "deny" { "deny" } else { "public" },
                    "must be true",
                    "须为 true",
                ));
            }
            Ok(if given[0] == "deny" {
                Action::Deny
            } else {
                Action::Public
            })
        }
        _ => {
            let Some(Value::Object(allow)) = flag("allow") else {
                return Err(invalid(
                    "allow",
                    "must be an object such as {\"signedIn\": true} or {\"admins\": true}",
                    "须为对象，例如 {\"signedIn\": true} 或 {\"admins\": true}",
                ));
            };
            parse_allowed(allow).map(Action::Allow)
        }
    }
}

fn parse_allowed(allow: &Map<String, Value>) -> Result<Allowed, Invalid> {
    if let Some(unknown) = allow.keys().find(|k| !ALLOW_FIELDS.contains(&k.as_str())) {
        return Err(invalid(
            "allow",
            format!(
                "unknown condition '{unknown}' (allow takes {})",
                ALLOW_FIELDS.join(", ")
            ),
            format!(
                "未知条件“{unknown}”（allow 可用的条件有：{}）",
                ALLOW_FIELDS.join("、")
            ),
        ));
    }
    if allow
        .get("groups")
        .is_some_and(|g| g.as_array().is_none_or(|a| !a.is_empty()))
    {
        return Err(invalid(
            "allow",
            "groups are not available yet (they come with the DingTalk directory)",
            "暂不支持 groups（将随钉钉通讯录一同提供）",
        ));
    }
    let boolean = |k: &'static str| match allow.get(k) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(invalid(
            "allow",
            format!("{k} must be true or false"),
            format!("{k} 须为 true 或 false"),
        )),
    };
    let not_names = |k: &str| {
        invalid(
            "allow",
            format!("{k} must be a list of names"),
            format!("{k} 须为名称列表"),
        )
    };
    let names = |k: &'static str| -> Result<Vec<String>, Invalid> {
        match allow.get(k) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(list)) => list
                .iter()
                .map(|v| match v {
                    Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                    Value::Number(n) if n.is_i64() => Ok(n.to_string()),
                    _ => Err(not_names(k)),
                })
                .collect(),
            Some(_) => Err(not_names(k)),
        }
    };
    let allowed = Allowed {
        signed_in: boolean("signedIn")?,
        admins: boolean("admins")?,
        users: names("users")?,
        authenticators: names("authenticators")?,
    };
    if allowed == Allowed::default() {
        return Err(invalid(
            "allow",
            "names nobody: set signedIn, admins, users or authenticators",
            "未指定任何人：请设置 signedIn、admins、users 或 authenticators",
        ));
    }
    Ok(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(defs: &[Value]) -> Vec<Rule> {
        defs.iter()
            .enumerate()
            .map(|(n, d)| parse(n as i64 + 1, d.as_object().unwrap()).unwrap().0)
            .collect()
    }

    fn target(url: &str, method: &str) -> Target {
        Target::new(&Url::parse(url).unwrap(), method).unwrap()
    }

    fn alice(admin: bool) -> Person<'static> {
        Person {
            user_id: 7,
            username: Some("alice"),
            is_admin: admin,
            authenticator: "dingtalk",
        }
    }

    #[test]
    fn the_first_matching_rule_decides() {
        let r = rules(&[
            json!({"host": "wiki.corp.example", "pathPrefix": "/health", "public": true}),
            json!({"host": "admin.corp.example", "allow": {"admins": true}}),
            json!({"host": "wiki.corp.example", "pathPrefix": "/private", "deny": true}),
            json!({"host": "*.corp.example", "allow": {"signedIn": true}}),
        ]);
        let who = alice(false);
        let admin = alice(true);
        let d = |url, p| decide(&r, &target(url, "GET"), p).verdict;
        assert_eq!(d("https://wiki.corp.example/health", None), Verdict::Allow);
        assert_eq!(
            d("https://wiki.corp.example/health/x", None),
            Verdict::Allow
        );
        assert_eq!(
            d("https://wiki.corp.example/healthz", None),
            Verdict::SignIn
        );
        assert_eq!(d("https://wiki.corp.example/", Some(&who)), Verdict::Allow);
        assert_eq!(d("https://admin.corp.example/", Some(&who)), Verdict::Deny);
        assert_eq!(
            d("https://admin.corp.example/", Some(&admin)),
            Verdict::Allow
        );
        assert_eq!(d("https://admin.corp.example/", None), Verdict::SignIn);
        assert_eq!(
            d("https://wiki.corp.example/private/a", Some(&who)),
            Verdict::Deny
        );
        // No rule for the bare domain or another one: denied.
        let bare = decide(&r, &target("https://corp.example/", "GET"), Some(&who));
        assert_eq!((bare.verdict, bare.rule_id), (Verdict::Deny, None));
        assert_eq!(d("https://evil-corp.example/", Some(&who)), Verdict::Deny);
        assert_eq!(
            d("https://corp.example.evil.com/", Some(&who)),
            Verdict::Deny
        );
    }

    #[test]
    fn dot_segments_and_encodings_do_not_reach_a_public_path() {
        let r = rules(&[
            json!({"host": "wiki.corp.example", "pathPrefix": "/public", "public": true}),
            json!({"host": "wiki.corp.example", "allow": {"admins": true}}),
        ]);
        for url in [
            "https://wiki.corp.example/public/../admin",
            "https://wiki.corp.example/public/%2e%2e/admin",
            "https://wiki.corp.example/public%2F..%2Fadmin",
            "https://wiki.corp.example/public/..%5cadmin",
        ] {
            let d = decide(&r, &target(url, "GET"), None);
            assert_eq!(d.verdict, Verdict::SignIn, "{url}: {}", d.reason.en);
        }
        let d = decide(
            &r,
            &target("https://wiki.corp.example/public/..%2fadmin", "GET"),
            None,
        );
        assert_eq!(d.rule_id, Some(2));
        assert!(
            d.reason.en.contains("; rule 2 (wiki.corp.example)"),
            "{}",
            d.reason
        );
    }

    #[test]
    fn ports_methods_users_and_authenticators() {
        let r = rules(&[
            json!({"host": "app.corp.example:8443", "methods": ["post"], "allow": {"users": ["bob", 7]}}),
            json!({"host": "app.corp.example", "allow": {"authenticators": ["dingtalk"]}}),
        ]);
        let post = target("https://app.corp.example:8443/x", "POST");
        assert_eq!(decide(&r, &post, Some(&alice(false))).rule_id, Some(1));
        assert_eq!(
            decide(&r, &post, Some(&alice(false))).verdict,
            Verdict::Allow
        );
        let get = target("https://app.corp.example:8443/x", "GET");
        assert_eq!(decide(&r, &get, Some(&alice(false))).rule_id, Some(2));
        let password = Person {
            authenticator: "basic",
            ..alice(false)
        };
        assert_eq!(decide(&r, &get, Some(&password)).verdict, Verdict::Deny);
        // The port is ignored unless the rule names one.
        let other_port = target("https://app.corp.example:9000/x", "POST");
        assert_eq!(
            decide(&r, &other_port, Some(&alice(false))).rule_id,
            Some(2)
        );
    }

    #[test]
    fn definitions_are_checked_and_normalised() {
        let ok = |d: Value| parse(1, d.as_object().unwrap()).map(|(_, s)| Value::Object(s));
        assert_eq!(
            ok(
                json!({"host": "Wiki.Corp.Example", "methods": ["get"], "allow": {"signedIn": true, "users": []}})
            ),
            Ok(
                json!({"host": "wiki.corp.example", "methods": ["GET"], "allow": {"signedIn": true}})
            )
        );
        let field = |d: Value| parse(1, d.as_object().unwrap()).unwrap_err().field;
        assert_eq!(field(json!({"allow": {"signedIn": true}})), "host");
        assert_eq!(field(json!({"host": "a b", "deny": true})), "host");
        assert_eq!(field(json!({"host": "*.", "deny": true})), "host");
        assert_eq!(field(json!({"host": "x.example:0", "deny": true})), "host");
        assert_eq!(field(json!({"host": "x.example"})), "rule");
        assert_eq!(
            field(json!({"host": "x.example", "deny": true, "public": true})),
            "rule"
        );
        assert_eq!(field(json!({"host": "x.example", "deny": false})), "deny");
        assert_eq!(field(json!({"host": "x.example", "allow": {}})), "allow");
        assert_eq!(
            field(json!({"host": "x.example", "allow": {"groups": ["it"]}})),
            "allow"
        );
        assert_eq!(
            field(json!({"host": "x.example", "allow": {"who": 1}})),
            "allow"
        );
        assert_eq!(
            field(json!({"host": "x.example", "pathPrefix": "admin", "deny": true})),
            "pathPrefix"
        );
        assert_eq!(
            field(json!({"host": "x.example", "methods": ["FETCH"], "deny": true})),
            "methods"
        );
        assert_eq!(
            field(json!({"host": "x.example", "deny": true, "extra": 1})),
            "rule"
        );
    }
}
