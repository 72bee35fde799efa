//! Time as the store keeps it: milliseconds since the Unix epoch, which both SQLite and
//! PostgreSQL hold natively as a 64-bit integer.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// RFC 3339 text for API responses (NocoBase returns ISO strings).
pub fn to_rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Accepts either RFC 3339 text or epoch milliseconds (query parameters).
pub fn parse_instant(text: &str) -> Option<i64> {
    if let Ok(ms) = text.parse::<i64>() {
        return Some(ms);
    }
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rfc3339() {
        let ms = 1_764_000_000_123;
        assert_eq!(parse_instant(&to_rfc3339(ms)), Some(ms));
        assert_eq!(parse_instant("12345"), Some(12345));
        assert_eq!(parse_instant("yesterday"), None);
    }
}
