//! The bodies of the fuzz targets `callback_query` and `dingtalk_response` (`fuzz/`), shared
//! with the regression tests below that replay `fuzz/corpus/<target>/` and
//! `fuzz/regressions/<target>/`. Each function panics when a property does not hold.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::callback::{Callback, MAX_CALLBACK_VALUE_BYTES};
use crate::error::Error;
use crate::response::{
    ApiFamily, Endpoint, APP_ACCESS_TOKEN, GET_BY_UNIONID, GET_USER_INFO, USERS_ME,
    USER_ACCESS_TOKEN, USER_GET,
};

/// `data` is the raw query string; empty data also stands for an absent query.
pub fn callback_query(data: &[u8]) {
    let query = String::from_utf8_lossy(data);
    let c = Callback::parse(Some(&query));
    if data.is_empty() {
        assert_eq!(Callback::parse(None), c);
        assert_eq!(c, Callback::default());
    }
    for value in [&c.code, &c.state, &c.error].into_iter().flatten() {
        assert!(!value.is_empty(), "{c:?}");
        assert_eq!(value.trim(), value, "{c:?}");
        assert!(value.len() <= MAX_CALLBACK_VALUE_BYTES, "{c:?}");
    }
    // What was read survives being written back as a query.
    let mut again = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("authCode", &c.code),
        ("state", &c.state),
        ("error", &c.error),
    ] {
        if let Some(value) = value {
            again.append_pair(name, value);
        }
    }
    assert_eq!(Callback::parse(Some(&again.finish())), c);
    // The first occurrence wins: later parameters only fill what was missing.
    let later = Callback::parse(Some(&format!("{query}&code=zz&state=zz&error=zz")));
    let zz = || Some("zz".to_owned());
    let expected = Callback {
        code: c.code.clone().or_else(zz),
        state: c.state.clone().or_else(zz),
        error: c.error.clone().or_else(zz),
    };
    assert_eq!(later, expected, "{query:?}");
}

/// Statuses the target picks from (byte 1): both sides of each boundary the parser cares about.
const STATUSES: [u16; 16] = [
    200, 201, 204, 299, 199, 300, 302, 400, 401, 403, 404, 429, 500, 502, 503, 100,
];
const HEADER_REQUEST_ID: &str = "req-from-header";

/// Byte 0 picks the endpoint, byte 1 the HTTP status, bit 0 of byte 2 whether the
/// `x-acs-request-id` header is present; the rest is the body.
pub fn dingtalk_response(data: &[u8]) {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let status = STATUSES[usize::from(byte(1)) % STATUSES.len()];
    let request_id = (byte(2) & 1 == 1).then_some(HEADER_REQUEST_ID);
    let body = data.get(3..).unwrap_or_default();
    match byte(0) % 6 {
        0 => check_answer(USER_ACCESS_TOKEN, status, request_id, body, |t| {
            assert!(!t.access_token.is_empty());
            // Debug never shows the tokens: it is the same whatever they are.
            let mut hidden = t.clone();
            hidden.access_token = "other".into();
            hidden.refresh_token = t.refresh_token.as_ref().map(|_| "other".into());
            assert_eq!(format!("{t:?}"), format!("{hidden:?}"));
        }),
        1 => check_answer(APP_ACCESS_TOKEN, status, request_id, body, |t| {
            assert!(!t.access_token.is_empty());
            let mut hidden = t.clone();
            hidden.access_token = "other".into();
            assert_eq!(format!("{t:?}"), format!("{hidden:?}"));
        }),
        2 => check_answer(USERS_ME, status, request_id, body, |p| {
            assert!(!p.union_id.is_empty());
            assert_eq!(
                p.mobile_is_masked(),
                p.mobile.as_deref().is_some_and(|m| m.contains('*'))
            );
        }),
        3 => check_answer(GET_BY_UNIONID, status, request_id, body, |l| {
            assert!(!l.userid.is_empty());
        }),
        4 => check_answer(USER_GET, status, request_id, body, |u| {
            assert!(!u.userid.is_empty());
        }),
        _ => check_answer(GET_USER_INFO, status, request_id, body, |u| {
            assert!(!u.userid.is_empty());
        }),
    }
}

fn check_answer<T: DeserializeOwned + Debug>(
    endpoint: Endpoint<T>,
    status: u16,
    request_id: Option<&str>,
    body: &[u8],
    check_value: impl FnOnce(&T),
) {
    let success = (200..300).contains(&status);
    let err = match endpoint.parse(status, request_id, body) {
        Ok(value) => {
            assert!(success, "a value from HTTP {status}: {value:?}");
            return check_value(&value);
        }
        Err(err) => err,
    };
    // Every accessor and the message work on whatever came back.
    let text = err.to_string();
    let _ = (err.is_invalid_credentials(), err.is_invalid_code());
    let _ = (err.is_invalid_token(), err.is_permission_denied());
    let _ = (err.missing_scopes(), err.is_not_org_member());
    let _ = (
        err.is_timeout(),
        err.is_unreachable(),
        err.is_dingtalk_down(),
    );
    let _ = (err.api_code(), err.errcode());
    assert_eq!(err.endpoint(), endpoint.name(), "{text}");
    if request_id.is_some() {
        assert!(err.request_id().is_some(), "request id lost: {text}");
    }
    match (&err, endpoint.family()) {
        (Error::Api { code, .. }, ApiFamily::New) => {
            assert!(!success, "{text}");
            assert!(!code.is_empty(), "{text}");
            assert_eq!(err.status(), Some(status), "{text}");
        }
        (Error::Legacy { errcode, .. }, ApiFamily::Legacy) => assert_ne!(*errcode, 0, "{text}"),
        (Error::InvalidResponse { detail, .. }, _) => {
            assert_eq!(err.status(), Some(status), "{text}");
            assert!(!detail.contains(['\n', '\r']), "{text}");
            assert!(detail.chars().count() <= 300, "{text}");
            if success {
                // Success bodies may hold tokens: their values never reach the error.
                let secrets = secret_like_strings(body);
                assert!(
                    !secrets.iter().any(|s| detail.contains(s.as_str())),
                    "a value of the body in: {text}"
                );
            }
        }
        _ => panic!("an impossible error for {endpoint:?}: {err:?}"),
    }
}

/// Runs of letters, digits, `-` and `_` in the body's string values that look like tokens:
/// 8+ characters with a letter and a digit (nothing an error message says by chance).
fn secret_like_strings(body: &[u8]) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => out.extend(
                s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                    .filter(|run| {
                        run.len() >= 8
                            && run.bytes().any(|b| b.is_ascii_alphabetic())
                            && run.bytes().any(|b| b.is_ascii_digit())
                    })
                    .map(str::to_owned),
            ),
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Value::Object(map) => map.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        walk(&value, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// Every input kept for `target`: the fuzzer's minimised corpus and the crashes it found.
    fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
        let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
        let mut files = Vec::new();
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_file() {
                    files.push((path.clone(), std::fs::read(&path).unwrap()));
                }
            }
        }
        assert!(!files.is_empty(), "no corpus for {target} under {fuzz:?}");
        files
    }

    fn replay(target: &str, check: fn(&[u8])) {
        for (path, data) in inputs(target) {
            if std::panic::catch_unwind(|| check(&data)).is_err() {
                panic!("fuzz input {} fails", path.display());
            }
        }
    }

    #[test]
    fn callback_query_corpus() {
        replay("callback_query", super::callback_query);
    }

    #[test]
    fn dingtalk_response_corpus() {
        replay("dingtalk_response", super::dingtalk_response);
    }
}
