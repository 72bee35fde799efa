//! DingTalk's redirect back to the app after the user signed in (reference 1.2):
//! `?authCode=...&state=...`, `?code=...` from older flows, `?error=...` on refused consent.

/// The callback's parameters, read by hand so that no malformed query is an error: a browser
/// always lands on a page. Values are trimmed; empty ones and ones over 1024 bytes are
/// ignored; the first occurrence of a name wins; `authCode` is preferred to `code`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// The longest value kept, in bytes.
pub const MAX_CALLBACK_VALUE_BYTES: usize = 1024;

impl Callback {
    /// Parses the raw query string (without `?`); `None` is an absent query.
    pub fn parse(query: Option<&str>) -> Self {
        let mut c = Callback::default();
        let mut auth_code = None;
        let mut code = None;
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let v = v.trim().to_string();
            if v.is_empty() || v.len() > MAX_CALLBACK_VALUE_BYTES {
                continue;
            }
            let slot = match k.as_ref() {
                "authCode" => &mut auth_code,
                "code" => &mut code,
                "state" => &mut c.state,
                "error" => &mut c.error,
                _ => continue,
            };
            slot.get_or_insert(v);
        }
        c.code = auth_code.or(code);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_dingtalk_sends() {
        let c = Callback::parse(Some("authCode=abc&state=n%201&code=old&extra=1"));
        assert_eq!(c.code.as_deref(), Some("abc"));
        assert_eq!(c.state.as_deref(), Some("n 1"));
        assert_eq!(c.error, None);
        let c = Callback::parse(Some("code=old&state=s&state=t&error=access_denied"));
        assert_eq!(c.code.as_deref(), Some("old"));
        assert_eq!(c.state.as_deref(), Some("s"));
        assert_eq!(c.error.as_deref(), Some("access_denied"));
        assert_eq!(Callback::parse(None), Callback::default());
    }

    #[test]
    fn blank_and_oversized_values_are_ignored() {
        let long = "x".repeat(MAX_CALLBACK_VALUE_BYTES + 1);
        let c = Callback::parse(Some(&format!("state=%20&authCode={long}&code=c")));
        assert_eq!(c.state, None);
        assert_eq!(c.code.as_deref(), Some("c"));
    }
}
