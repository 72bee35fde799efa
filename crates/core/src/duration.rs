//! NocoBase writes token policy durations the way the `ms` npm package does: "1d", "12h",
//! "30m", "45s", "500ms". We accept and print the same.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
#[error("'{0}' is not a duration: use a number and a unit, e.g. 30m, 12h, 1d")]
pub struct DurationError(pub String);

const UNITS: [(&str, i64); 6] = [
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Parses "1d" into milliseconds. A bare number is milliseconds, as in `ms`.
pub fn parse_duration_ms(text: &str) -> Result<i64, DurationError> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: i64 = number.parse().map_err(|_| DurationError(text.into()))?;
    let factor = if unit.is_empty() {
        1
    } else {
        UNITS
            .iter()
            .find(|(name, _)| *name == unit.trim())
            .map(|(_, f)| *f)
            .ok_or_else(|| DurationError(text.into()))?
    };
    value
        .checked_mul(factor)
        .ok_or_else(|| DurationError(text.into()))
}

/// Prints milliseconds with the largest unit that divides them exactly.
pub fn format_duration_ms(ms: i64) -> String {
    for (name, factor) in UNITS {
        if ms != 0 && ms % factor == 0 {
            return format!("{}{}", ms / factor, name);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nocobase_durations() {
        assert_eq!(parse_duration_ms("1d"), Ok(86_400_000));
        assert_eq!(parse_duration_ms("12h"), Ok(43_200_000));
        assert_eq!(parse_duration_ms("30m"), Ok(1_800_000));
        assert_eq!(parse_duration_ms("500ms"), Ok(500));
        assert_eq!(parse_duration_ms("1500"), Ok(1500));
        assert!(parse_duration_ms("1 fortnight").is_err());
        assert!(parse_duration_ms("d").is_err());
        assert!(parse_duration_ms("99999999999999999999d").is_err());
    }

    #[test]
    fn formats_with_largest_unit() {
        assert_eq!(format_duration_ms(86_400_000), "1d");
        assert_eq!(format_duration_ms(7 * 86_400_000), "1w");
        assert_eq!(format_duration_ms(90_000), "90s");
    }
}
