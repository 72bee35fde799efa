//! Where a browser may be sent after signing in: the one rule for every target the server
//! takes (the sign-in, sign-up and in-client pages, `dingtalk:getAuthUrl`, and the DingTalk
//! callback that follows the stored target).
//!
//! The rule, applied to the target *after* the URL parser has resolved it against the public
//! URL (dot segments, `%2e` dots and the like are gone by then, so they cannot hide anything):
//! - the raw text is a path (`/...`) or an absolute URL, at most 8192 bytes, with no control
//!   character or backslash;
//! - the resolved URL is http(s), carries no user name or password, and its origin is our own,
//!   one listed in `allowed_redirect_origins`, or one whose host is `cookie_domain` or under it
//!   (https only, unless the public URL itself is http);
//! - a target on our own origin that was given as a path is answered as a path, and that path
//!   never begins with `//` or `/\` (a browser would read either as another host).
//!
//! Anything else is refused with its reason (logged at info level) and becomes `/`; the
//! sign-in page also says why ([`checked_redirect_target`]).

use crate::config::ServerConfig;
use url::Url;

/// Room for a resumed OpenID Connect authorization request (an `id_token_hint` and a
/// `claims` request take a few kilobytes).
const MAX_LEN: usize = 8192;

/// Why a target was refused (for the log: the target itself may be an attacker's text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    TooLong,
    ForbiddenCharacter,
    NotAUrl,
    NotHttp,
    HasCredentials,
    OtherOrigin,
    /// http to a host under the cookie domain while authgate itself is served over https.
    InsecureScheme,
    SchemeRelative,
}

impl Refusal {
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::TooLong => "longer than 8192 bytes",
            Refusal::ForbiddenCharacter => "contains a control character or backslash",
            Refusal::NotAUrl => "not a URL or path",
            Refusal::NotHttp => "not an http(s) URL",
            Refusal::HasCredentials => "carries a user name or password",
            Refusal::OtherOrigin => {
                "origin is neither this site, nor under cookie_domain, nor in \
                 allowed_redirect_origins"
            }
            Refusal::InsecureScheme => "http while authgate is served over https",
            Refusal::SchemeRelative => "resolves to a path another host could be read from",
        }
    }
}

/// The target to send the browser to, or `/` (the refusal is logged).
pub fn redirect_target(raw: Option<&str>, config: &ServerConfig) -> String {
    checked_redirect_target(raw, config).0
}

/// As [`redirect_target`], with the refusal, if any, for pages that explain it.
pub fn checked_redirect_target(
    raw: Option<&str>,
    config: &ServerConfig,
) -> (String, Option<Refusal>) {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return ("/".into(), None);
    };
    match check(raw, config) {
        Ok(target) => (target, None),
        Err(refusal) => {
            tracing::info!(reason = refusal.reason(), "redirect target refused");
            ("/".into(), Some(refusal))
        }
    }
}

/// The rule itself (see the module doc).
fn check(raw: &str, config: &ServerConfig) -> Result<String, Refusal> {
    if raw.len() > MAX_LEN {
        return Err(Refusal::TooLong);
    }
    if raw.chars().any(|c| c.is_control() || c == '\\') {
        return Err(Refusal::ForbiddenCharacter);
    }
    // A path, or an absolute URL: `evil.com` or `../x` name no place a person meant.
    if !raw.starts_with('/') && Url::parse(raw).is_err() {
        return Err(Refusal::NotAUrl);
    }
    let base = &config.public_url;
    let resolved = base.join(raw).map_err(|_| Refusal::NotAUrl)?;
    if !matches!(resolved.scheme(), "http" | "https") {
        return Err(Refusal::NotHttp);
    }
    if !resolved.username().is_empty() || resolved.password().is_some() {
        return Err(Refusal::HasCredentials);
    }
    let origin = resolved.origin().ascii_serialization();
    let ours = base.origin().ascii_serialization() == origin;
    if !ours && !config.allowed_redirect_origins.contains(&origin) {
        let host = resolved.host_str().unwrap_or_default();
        if !config.is_under_cookie_domain(host) {
            return Err(Refusal::OtherOrigin);
        }
        if resolved.scheme() == "http" && config.is_https() {
            return Err(Refusal::InsecureScheme);
        }
    }
    if ours && raw.starts_with('/') {
        let path = path_of(&resolved);
        // Dot segments can turn `/.//evil.com` into `//evil.com` only after parsing: this is
        // the check that must come last.
        if path.starts_with("//") || path.starts_with("/\\") {
            return Err(Refusal::SchemeRelative);
        }
        return Ok(path);
    }
    Ok(resolved.to_string())
}

/// Path, query and fragment: what a same-origin `Location` needs.
fn path_of(url: &Url) -> String {
    let mut out = url.path().to_string();
    if let Some(q) = url.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = url.fragment() {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn config() -> ServerConfig {
        let mut c = ServerConfig::new(
            Url::parse("https://auth.example.com").unwrap(),
            "/tmp".into(),
        );
        c.allowed_redirect_origins
            .push("https://app.example.com".into());
        c
    }

    #[test]
    fn same_origin_paths_and_listed_origins_pass() {
        let c = config();
        let ok = |raw| redirect_target(Some(raw), &c);
        assert_eq!(ok("/admin?x=1#y"), "/admin?x=1#y");
        assert_eq!(ok("/a/../b"), "/b");
        assert_eq!(ok("/中文"), "/%E4%B8%AD%E6%96%87");
        assert_eq!(
            ok("https://app.example.com/home"),
            "https://app.example.com/home"
        );
        assert_eq!(
            ok("https://auth.example.com/x"),
            "https://auth.example.com/x"
        );
        assert_eq!(redirect_target(None, &c), "/");
    }

    #[test]
    fn hosts_under_the_cookie_domain_pass_and_look_alikes_do_not() {
        let mut c = config();
        c.cookie_domain = Some("example.com".into());
        for raw in [
            "https://wiki.example.com/page?x=1",
            "https://a.b.example.com/",
            "https://example.com:8443/x",
        ] {
            assert_eq!(check(raw, &c), Ok(Url::parse(raw).unwrap().to_string()));
        }
        let cases: &[(&str, Refusal)] = &[
            ("https://evil-example.com/", Refusal::OtherOrigin),
            ("https://example.com.evil.com/", Refusal::OtherOrigin),
            (
                "https://wiki.example.com@evil.com/",
                Refusal::HasCredentials,
            ),
            (
                "https://evil.com\\@wiki.example.com/",
                Refusal::ForbiddenCharacter,
            ),
            ("https://evil.com#@wiki.example.com/", Refusal::OtherOrigin),
            ("//evil.com/wiki.example.com", Refusal::OtherOrigin),
            ("http://wiki.example.com/", Refusal::InsecureScheme),
            ("ftp://wiki.example.com/", Refusal::NotHttp),
            ("https://user@wiki.example.com/", Refusal::HasCredentials),
            (
                "https://wiki.example.com\t.evil.com/",
                Refusal::ForbiddenCharacter,
            ),
        ];
        for (raw, why) in cases {
            assert_eq!(check(raw, &c), Err(*why), "{raw:?}");
        }
        // A scheme without slashes is a relative path on our own origin, as browsers read it.
        assert_eq!(
            check("https:evil.com", &c),
            Ok("https://auth.example.com/evil.com".into())
        );
        // Over plain http (a test or an intranet), http targets under it pass.
        c.public_url = Url::parse("http://auth.example.com").unwrap();
        assert!(check("http://wiki.example.com/", &c).is_ok());
        // Without a cookie domain, its hosts are other origins.
        c.cookie_domain = None;
        assert_eq!(
            check("http://wiki.example.com/", &c),
            Err(Refusal::OtherOrigin)
        );
    }

    #[test]
    fn dot_segments_cannot_make_a_scheme_relative_path() {
        let c = config();
        for raw in [
            "/.//evil.com",
            "/x/..//evil.com",
            "/..//evil.com",
            "/%2e//evil.com",
            "/%2E//evil.com",
            "/%2e%2e//evil.com",
            "/a/b/../..//evil.com/x?y#z",
            "/./%2e/.//evil.com",
        ] {
            assert_eq!(
                check(raw, &c),
                Err(Refusal::SchemeRelative),
                "{raw:?} must be refused"
            );
            assert_eq!(redirect_target(Some(raw), &c), "/");
        }
    }

    #[test]
    fn everything_else_is_refused_with_its_reason() {
        let c = config();
        let cases: &[(&str, Refusal)] = &[
            ("//evil.com", Refusal::OtherOrigin),
            ("/\\evil.com", Refusal::ForbiddenCharacter),
            ("\\\\evil.com", Refusal::ForbiddenCharacter),
            ("https://evil.com", Refusal::OtherOrigin),
            ("javascript:alert(1)", Refusal::NotHttp),
            ("data:text/html,hi", Refusal::NotHttp),
            ("http://app.example.com/", Refusal::OtherOrigin),
            ("https://app.example.com.evil.com/", Refusal::OtherOrigin),
            ("https://u:p@app.example.com/", Refusal::HasCredentials),
            ("/x\r\nSet-Cookie: a=b", Refusal::ForbiddenCharacter),
            ("/\t/evil.com", Refusal::ForbiddenCharacter),
        ];
        for (raw, why) in cases {
            assert_eq!(check(raw, &c), Err(*why), "{raw:?}");
        }
        assert_eq!(
            check(&format!("/{}", "a".repeat(8192)), &c),
            Err(Refusal::TooLong)
        );
        assert_eq!(check("evil.com", &c), Err(Refusal::NotAUrl));
        assert_eq!(check("../admin", &c), Err(Refusal::NotAUrl));
    }

    /// Where a browser told to go to `location` by authgate ends up.
    fn landing(location: &str) -> Url {
        Url::parse("https://auth.example.com/signin")
            .unwrap()
            .join(location)
            .unwrap()
    }

    fn tricky_target() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("/"),
            Just("."),
            Just(".."),
            Just("%2e"),
            Just("%2E"),
            Just("%2e%2e"),
            Just("%2f"),
            Just("%5c"),
            Just("\\"),
            Just("\t"),
            Just("\n"),
            Just("evil.com"),
            Just("@"),
            Just(":"),
            Just("?"),
            Just("#"),
            Just("https:"),
            Just("a"),
        ];
        proptest::collection::vec(piece, 1..12).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn no_target_leaves_the_allowed_origins(raw in tricky_target()) {
            let c = config();
            let out = redirect_target(Some(&raw), &c);
            prop_assert!(!out.starts_with("//") && !out.starts_with("/\\"), "{raw:?} -> {out:?}");
            let origin = landing(&out).origin().ascii_serialization();
            prop_assert!(
                origin == "https://auth.example.com" || origin == "https://app.example.com",
                "{raw:?} -> {out:?} lands on {origin}"
            );
        }

        #[test]
        fn slash_led_targets_stay_paths_on_this_site(raw in tricky_target()) {
            let c = config();
            let out = redirect_target(Some(&format!("/{raw}")), &c);
            prop_assert!(out.starts_with('/') && !out.starts_with("//"), "{raw:?} -> {out:?}");
            let landed = landing(&out);
            prop_assert_eq!(landed.host_str(), Some("auth.example.com"));
        }
    }
}
