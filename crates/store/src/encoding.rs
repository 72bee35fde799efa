//! How values are kept as text in both databases, and the decisions about stored text that
//! both backends make the same way.

use crate::error::StoreError;
use crate::sign_in::ExternalIdentity;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("A_b%"), "%a\\_b\\%%");
    }
}
