//! The request a reverse proxy asks about, from its headers: `X-Original-URL` (and
//! `X-Original-Method`), as the nginx recipe sends, or `X-Forwarded-Proto`, `-Host`, `-Uri`
//! (and `-Method`), as Traefik and Caddy send. Only a peer in `trusted_proxies` is believed: a
//! client reaching authgate directly could otherwise claim any URL.

use crate::config::ServerConfig;
use crate::error::{ApiError, Text};
use crate::http::client::peer_address;
use axum::http::{Extensions, HeaderMap};
use url::Url;

/// Which headers carry the question. Each endpoint reads its own proxy's and nothing else:
/// Traefik and Caddy pass on every header the client sent, so an `X-Original-URL` of the
/// client's own would otherwise decide at `forward-auth`; nginx passes on the client's
/// `X-Forwarded-*` to `auth-request` the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// nginx: `X-Original-URL` and `X-Original-Method`.
    OriginalUrl,
    /// Traefik, Caddy: `X-Forwarded-Proto`, `-Host`, `-Uri` and `-Method`.
    Forwarded,
}

/// The original request: its URL and method.
#[derive(Debug, Clone, PartialEq)]
pub struct Original {
    pub url: Url,
    pub method: String,
}

pub fn read(
    headers: &HeaderMap,
    extensions: &Extensions,
    config: &ServerConfig,
    source: Source,
) -> Result<Original, ApiError> {
    let trusted = peer_address(extensions).is_some_and(|ip| config.trusted_proxies.contains(ip));
    if !trusted {
        tracing::warn!("forward auth asked by a peer not in trusted_proxies");
        return Err(ApiError::forbidden(Text::new(
            "Only a reverse proxy listed in trusted_proxies may ask about requests",
            "只有 trusted_proxies 中列出的反向代理才能查询请求",
        )));
    }
    // One header line. A comma is how proxies fold several values into one line (a host or a
    // scheme), but it is an ordinary character in a URL's path and query.
    let one_of = |name: &str, url: bool| -> Result<Option<&str>, ApiError> {
        let mut values = headers.get_all(name).iter();
        let Some(first) = values.next() else {
            return Ok(None);
        };
        let text = first
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|t| !t.is_empty() && (url || !t.contains(',')) && values.next().is_none())
            .ok_or_else(|| {
                ApiError::bad_request(Text::new(
                    format!("{name} must be one value, in plain text"),
                    format!("{name} 须为单个纯文本值"),
                ))
            })?;
        Ok(Some(text))
    };
    let one = |name: &str| one_of(name, false);
    let url = match source {
        Source::OriginalUrl => match one_of("x-original-url", true)? {
            Some(raw) => parse_url(raw, "X-Original-URL")?,
            None => {
                return Err(ApiError::bad_request(Text::new(
                    "The proxy did not say which request it asks about: send X-Original-URL",
                    "代理没有说明要查询哪个请求：请发送 X-Original-URL",
                )))
            }
        },
        Source::Forwarded => {
            let (Some(proto), Some(host)) = (one("x-forwarded-proto")?, one("x-forwarded-host")?)
            else {
                return Err(ApiError::bad_request(Text::new(
                    "The proxy did not say which request it asks about: send \
                     X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Uri",
                    "代理没有说明要查询哪个请求：请发送 X-Forwarded-Proto、X-Forwarded-Host 和 \
                     X-Forwarded-Uri",
                )));
            };
            if !matches!(proto, "http" | "https") {
                return Err(ApiError::bad_request(Text::new(
                    "X-Forwarded-Proto must be http or https",
                    "X-Forwarded-Proto 须为 http 或 https",
                )));
            }
            // The host is a host (and port): nothing that would move the URL's authority.
            if host.contains(['/', '\\', '@', '?', '#']) {
                return Err(ApiError::bad_request(Text::new(
                    "X-Forwarded-Host must be a host name",
                    "X-Forwarded-Host 须为主机名",
                )));
            }
            let uri = one_of("x-forwarded-uri", true)?.unwrap_or("/");
            if !uri.starts_with('/') || uri.starts_with("//") {
                return Err(ApiError::bad_request(Text::new(
                    "X-Forwarded-Uri must be a path starting with one /",
                    "X-Forwarded-Uri 须为以单个 / 开头的路径",
                )));
            }
            let url = parse_url(&format!("{proto}://{host}{uri}"), "X-Forwarded-*")?;
            let given_host = host.rsplit_once(':').map_or(host, |(h, _)| h);
            if url.host_str() != Some(&given_host.to_ascii_lowercase()) {
                return Err(ApiError::bad_request(Text::new(
                    "X-Forwarded-Host must be a host name",
                    "X-Forwarded-Host 须为主机名",
                )));
            }
            url
        }
    };
    let method = match source {
        Source::OriginalUrl => one("x-original-method")?,
        Source::Forwarded => one("x-forwarded-method")?,
    }
    .unwrap_or("GET")
    .to_ascii_uppercase();
    if !method.chars().all(|c| c.is_ascii_alphabetic()) || method.len() > 16 {
        return Err(ApiError::bad_request(Text::new(
            "The original method is not an HTTP method",
            "原始请求的方法不是 HTTP 方法",
        )));
    }
    Ok(Original { url, method })
}

fn parse_url(raw: &str, header: &str) -> Result<Url, ApiError> {
    let bad = || {
        ApiError::bad_request(Text::new(
            format!("{header} must be an absolute http(s) URL"),
            format!("{header} 须为绝对的 http(s) URL"),
        ))
    };
    if raw.contains('\\') || raw.chars().any(char::is_control) {
        return Err(bad());
    }
    let url = Url::parse(raw).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(bad());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::ConnectInfo;
    use axum::http::HeaderValue;
    use std::net::SocketAddr;

    fn ask(peer: &str, headers: &[(&str, &str)]) -> Result<Original, u16> {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let mut e = Extensions::new();
        e.insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        let mut config = ServerConfig::new(
            Url::parse("https://auth.corp.example").unwrap(),
            "/tmp".into(),
        );
        config.trusted_proxies = crate::config::TrustedProxies::loopback();
        let source = if h.contains_key("x-original-url") {
            Source::OriginalUrl
        } else {
            Source::Forwarded
        };
        read(&h, &e, &config, source).map_err(|e| e.status.as_u16())
    }

    #[test]
    fn both_header_styles_are_read_from_a_trusted_proxy() {
        let o = ask(
            "127.0.0.1:5000",
            &[
                ("x-original-url", "https://wiki.corp.example/a?b=1"),
                ("x-original-method", "post"),
            ],
        )
        .unwrap();
        assert_eq!(o.url.as_str(), "https://wiki.corp.example/a?b=1");
        assert_eq!(o.method, "POST");
        let o = ask(
            "127.0.0.1:5000",
            &[
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "Wiki.Corp.Example:8443"),
                ("x-forwarded-uri", "/x/../y"),
                ("x-forwarded-method", "GET"),
            ],
        )
        .unwrap();
        assert_eq!(o.url.as_str(), "https://wiki.corp.example:8443/y");
    }

    #[test]
    fn untrusted_peers_and_ambiguous_headers_are_refused() {
        let url = [("x-original-url", "https://wiki.corp.example/")];
        assert_eq!(ask("10.1.2.3:5000", &url), Err(403));
        assert_eq!(ask("127.0.0.1:1", &[]), Err(400));
        for bad in [
            vec![("x-original-url", "//evil.com/")],
            vec![("x-original-url", "https://u@wiki.corp.example/")],
            vec![("x-original-url", "javascript:alert(1)")],
            vec![
                ("x-original-url", "https://a.example/"),
                ("x-original-url", "https://b.example/"),
            ],
            vec![
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "evil.com@wiki.corp.example"),
            ],
            vec![
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "a.example, b.example"),
            ],
            vec![
                ("x-forwarded-proto", "gopher"),
                ("x-forwarded-host", "wiki.corp.example"),
            ],
            vec![
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "wiki.corp.example"),
                ("x-forwarded-uri", "//evil.com/"),
            ],
        ] {
            assert_eq!(ask("127.0.0.1:1", &bad), Err(400), "{bad:?}");
        }
    }
}
