//! How values are kept as text in both databases, and the decisions about stored text that
//! both backends make the same way.

use crate::error::StoreError;
use crate::sign_in::ExternalIdentity;
use authgate_core::audit::NewAuditEntry;
use serde_json::{Map, Value};

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern matching `term` anywhere
/// (lower case).
pub fn like_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() + 2);
    p.push('%');
    for c in term.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// `ext.meta` serialised the way it is stored (keys in order): serialised once per sign-in,
/// compared and written as text.
pub fn stored_meta(ext: &ExternalIdentity) -> String {
    serde_json::to_string(&ext.meta).expect("a JSON object serialises")
}

/// A stored JSON object (options, meta, audit detail).
pub fn json_object(text: &str) -> Result<Map<String, Value>, StoreError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(StoreError::Corrupt(format!(
            "expected a JSON object, found {text:.40}"
        ))),
    }
}

/// The audit detail to store when `entry` repeats the row whose detail is `stored`: the
/// count goes up by one and `lastAt` becomes `entry.at`. `None` when the details differ
/// (then `entry` is a row of its own).
pub fn merge_repeat(stored: &str, entry: &NewAuditEntry) -> Option<String> {
    let mut detail: Map<String, Value> = serde_json::from_str(stored).unwrap_or_default();
    let repeated = detail
        .remove("repeated")
        .and_then(|v| v.as_i64())
        .unwrap_or(0);
    detail.remove("lastAt");
    if detail != entry.detail {
        return None;
    }
    detail.insert("repeated".into(), (repeated + 1).into());
    detail.insert("lastAt".into(), entry.at.into());
    Some(Value::Object(detail).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("A_b%"), "%a\\_b\\%%");
    }

    #[test]
    fn repeats_are_counted_only_when_the_details_match() {
        let mut entry = NewAuditEntry {
            at: 5,
            event: "e".into(),
            outcome: Default::default(),
            user_id: None,
            actor_id: None,
            authenticator: None,
            ip: None,
            user_agent: None,
            reason: None,
            detail: Map::new(),
        };
        entry.detail.insert("via".into(), "web".into());
        let first = merge_repeat(r#"{"via":"web"}"#, &entry).unwrap();
        assert_eq!(first, r#"{"lastAt":5,"repeated":1,"via":"web"}"#);
        entry.at = 9;
        let second = merge_repeat(&first, &entry).unwrap();
        assert_eq!(second, r#"{"lastAt":9,"repeated":2,"via":"web"}"#);
        assert_eq!(merge_repeat(r#"{"via":"inClient"}"#, &entry), None);
    }
}
