//! Where a browser may be sent after signing in: a same-origin path, or an origin the
//! operator listed in `allowed_redirect_origins`. Anything else becomes `/`.

use crate::config::ServerConfig;
use crate::http::return_path::safe_path;
use url::Url;

const MAX_LEN: usize = 2048;

pub fn safe_target(raw: Option<&str>, config: &ServerConfig) -> String {
    raw.and_then(|r| check(r.trim(), config))
        .unwrap_or_else(|| "/".to_string())
}

fn check(raw: &str, config: &ServerConfig) -> Option<String> {
    if raw.is_empty() || raw.len() > MAX_LEN || raw.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    if raw.starts_with('/') {
        return Some(safe_path(Some(raw)));
    }
    let url = Url::parse(raw).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return None;
    }
    let origin = url.origin().ascii_serialization();
    let ours = config.public_url.origin().ascii_serialization();
    (origin == ours || config.allowed_redirect_origins.contains(&origin)).then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(safe_target(Some("/admin?x=1#y"), &c), "/admin?x=1#y");
        assert_eq!(safe_target(Some("/中文"), &c), "/%E4%B8%AD%E6%96%87");
        assert_eq!(
            safe_target(Some("https://app.example.com/home"), &c),
            "https://app.example.com/home"
        );
        assert_eq!(
            safe_target(Some("https://auth.example.com/x"), &c),
            "https://auth.example.com/x"
        );
    }

    #[test]
    fn everything_else_falls_back_to_root() {
        let c = config();
        for bad in [
            "//evil.com",
            "/\\evil.com",
            "\\\\evil.com",
            "https://evil.com",
            "javascript:alert(1)",
            "http://app.example.com/",
            "https://app.example.com.evil.com/",
            "https://u:p@app.example.com/",
            "/x\r\nSet-Cookie: a=b",
            "evil.com",
            "",
            "data:text/html,hi",
            "/%0d%0a",
        ] {
            let got = safe_target(Some(bad), &c);
            assert!(
                got == "/" || (bad == "/%0d%0a" && got == "/%0d%0a"),
                "{bad:?} -> {got}"
            );
        }
        assert_eq!(safe_target(None, &c), "/");
    }
}
