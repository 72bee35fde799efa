//! Deserializers that accept what DingTalk has been seen to send: numbers as strings, empty
//! strings for absent values, nulls.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A number, or a string holding one (`"expireIn": "3600"`).
pub(crate) fn u64_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let value = Value::deserialize(d)?;
    as_i64(&value)
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| serde::de::Error::custom("expected a non-negative number"))
}

/// A text value; absent, null, empty or of an odd type all mean "not given".
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(as_string(Value::deserialize(d)?))
}

/// A required, non-empty text value (numbers accepted).
pub(crate) fn required_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    as_string(Value::deserialize(d)?)
        .ok_or_else(|| serde::de::Error::custom("expected a non-empty string"))
}

pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => match s.trim() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

pub(crate) fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(as_i64(&Value::deserialize(d)?))
}

/// A list of numbers; entries that are not numbers are skipped, null is empty.
pub(crate) fn i64_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items.iter().filter_map(as_i64).collect(),
        _ => Vec::new(),
    })
}

fn as_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_string(value: Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
