//! The reader's language, English or Simplified Chinese: one choice for pages, API messages
//! and DingTalk's failure messages alike.

use axum::http::{header, HeaderMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

pub const LANG_COOKIE: &str = "lang";

impl Lang {
    /// The `lang` cookie when set (the switch), else the best of `Accept-Language`, else English.
    pub fn from_request(headers: &HeaderMap) -> Lang {
        Lang::from_request_hinted(headers, None)
    }

    /// As [`Lang::from_request`], except that `hint` (an application's preference, OIDC's
    /// `ui_locales`: tags by preference, space-separated), when it names a language we have,
    /// comes before `Accept-Language`; the reader's own switch still wins.
    pub fn from_request_hinted(headers: &HeaderMap, hint: Option<&str>) -> Lang {
        if let Some(c) = crate::auth::cookies::read(headers, LANG_COOKIE) {
            if let Some(l) = Lang::parse_tag(&c) {
                return l;
            }
        }
        if let Some(l) = hint.and_then(|h| h.split(' ').find_map(Lang::parse_tag)) {
            return l;
        }
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let mut best: Option<(f32, Lang)> = None;
        for part in accept.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or_default().trim();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let Some(lang) = Lang::parse_tag(tag) else {
                continue;
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }

    fn parse_tag(tag: &str) -> Option<Lang> {
        match tag
            .trim()
            .to_ascii_lowercase()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
        {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The BCP 47 tag for `<html lang>` and `Accept-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }
}

/// The reader's language as a handler argument.
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_request(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn an_application_s_hint_comes_before_the_browser_s_but_not_the_switch() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("en"));
        assert_eq!(Lang::from_request_hinted(&h, Some("fr zh-CN en")), Lang::Zh);
        assert_eq!(Lang::from_request_hinted(&h, Some("fr de")), Lang::En);
        h.insert(header::COOKIE, HeaderValue::from_static("lang=en"));
        assert_eq!(Lang::from_request_hinted(&h, Some("zh-CN")), Lang::En);
    }

    #[test]
    fn picks_the_preferred_language() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::from_request(&h), Lang::En);
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("zh-CN,zh;q=0.9,en;q=0.8"),
        );
        assert_eq!(Lang::from_request(&h), Lang::Zh);
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("en-US,zh;q=0.5"),
        );
        assert_eq!(Lang::from_request(&h), Lang::En);
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("fr, zh-TW;q=0.3"),
        );
        assert_eq!(Lang::from_request(&h), Lang::Zh);
    }

    #[test]
    fn the_switch_s_cookie_wins_over_accept_language() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("fr, zh-CN;q=0.9, en;q=0.8"),
        );
        assert_eq!(Lang::from_request(&h), Lang::Zh);
        h.insert(header::COOKIE, HeaderValue::from_static("lang=en"));
        assert_eq!(Lang::from_request(&h), Lang::En);
    }
}
