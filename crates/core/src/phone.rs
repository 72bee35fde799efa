//! Phone numbers in E.164 form (`+8613800138000`), so that `+86 138-0013-8000`,
//! `13800138000` (with country code 86) and `+8613800138000` are one number.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq, Clone)]
pub enum PhoneError {
    #[error("the phone number is masked and cannot identify anyone")]
    Masked,
    #[error("'{0}' is not a phone number")]
    Invalid(String),
}

/// Normalises `mobile` to E.164. `country_code` (digits, with or without `+`, e.g. DingTalk's
/// `stateCode`) applies when the number itself carries none.
pub fn normalize_phone(country_code: &str, mobile: &str) -> Result<String, PhoneError> {
    let raw = mobile.trim();
    if raw.contains('*') {
        return Err(PhoneError::Masked);
    }
    let invalid = || PhoneError::Invalid(mobile.to_string());
    let mut digits = String::with_capacity(raw.len() + 4);
    let mut international = false;
    for (i, c) in raw.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => international = true,
            ' ' | '-' | '(' | ')' | '.' => {}
            _ => return Err(invalid()),
        }
    }
    if !international {
        if let Some(rest) = digits.strip_prefix("00") {
            digits = rest.to_string();
        } else {
            let cc = country_code.trim().trim_start_matches('+');
            if cc.is_empty() || cc.len() > 3 || !cc.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            // A national trunk prefix (0) is dropped, except in Italy where it is part of the number.
            let national = if cc != "39" {
                digits.trim_start_matches('0')
            } else {
                &digits
            };
            digits = format!("{cc}{national}");
        }
    }
    // E.164 allows at most 15 digits; anything under 8 cannot be a subscriber number.
    if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
        return Err(invalid());
    }
    Ok(format!("+{digits}"))
}

/// The body of the fuzz target `phone` (`fuzz/`), shared with the regression test that
/// replays `fuzz/corpus/phone/` and `fuzz/regressions/phone/`. Panics when a property fails.
#[doc(hidden)]
pub mod fuzzing {
    use super::{normalize_phone, PhoneError};

    /// Byte 0 (mod 8) is the length of the country code that follows; the rest is the number.
    pub fn phone(data: &[u8]) {
        let cc_len = usize::from(data.first().copied().unwrap_or(0) % 8);
        let rest = data.get(1..).unwrap_or_default();
        let (cc, mobile) = rest.split_at(cc_len.min(rest.len()));
        let (cc, mobile) = (String::from_utf8_lossy(cc), String::from_utf8_lossy(mobile));
        let result = normalize_phone(&cc, &mobile);
        match &result {
            Ok(p) => {
                // E.164: `+`, then 8 to 15 digits, the first not 0.
                let digits = p.strip_prefix('+').expect("starts with +");
                assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{p}");
                assert!((8..=15).contains(&digits.len()), "{p}");
                assert!(!digits.starts_with('0'), "{p}");
                // A normalised number is its own normal form, whatever the country code.
                assert_eq!(normalize_phone(&cc, p).as_ref(), Ok(p));
                assert_eq!(normalize_phone("", p).as_ref(), Ok(p));
                assert_eq!(normalize_phone("86", p).as_ref(), Ok(p));
            }
            Err(PhoneError::Masked) => assert!(mobile.contains('*')),
            Err(PhoneError::Invalid(text)) => assert_eq!(text, mobile.as_ref()),
        }
        // Separators between characters change nothing.
        let trimmed = mobile.trim();
        if let Some(first) = trimmed.chars().next() {
            let (head, tail) = trimmed.split_at(first.len_utf8());
            for sep in [" ", "-", "(", ")", "."] {
                let spaced = format!("{head}{sep}{tail}");
                assert_eq!(
                    normalize_phone(&cc, &spaced).ok(),
                    result.clone().ok(),
                    "{cc:?} {mobile:?}"
                );
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use std::path::PathBuf;

        #[test]
        fn phone_corpus() {
            let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
            let mut seen = 0;
            for dir in ["corpus", "regressions"] {
                let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join("phone")) else {
                    continue;
                };
                for entry in entries {
                    let path = entry.unwrap().path();
                    let data = std::fs::read(&path).unwrap();
                    if std::panic::catch_unwind(|| super::phone(&data)).is_err() {
                        panic!("fuzz input {} fails", path.display());
                    }
                    seen += 1;
                }
            }
            assert!(seen > 0, "no corpus for phone under {fuzz:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_number_many_spellings() {
        for spelling in [
            "+86 138-0013-8000",
            "13800138000",
            "+8613800138000",
            "0086 13800138000",
        ] {
            assert_eq!(
                normalize_phone("86", spelling).as_deref(),
                Ok("+8613800138000"),
                "{spelling}"
            );
        }
    }

    #[test]
    fn state_code_applies_to_national_numbers() {
        assert_eq!(
            normalize_phone("1", "(415) 555-0100").as_deref(),
            Ok("+14155550100")
        );
        assert_eq!(
            normalize_phone("+1", "4155550100").as_deref(),
            Ok("+14155550100")
        );
    }

    #[test]
    fn masked_and_garbage_are_refused() {
        assert_eq!(
            normalize_phone("86", "155****3240"),
            Err(PhoneError::Masked)
        );
        assert!(normalize_phone("86", "call me").is_err());
        assert!(normalize_phone("86", "12").is_err());
        assert!(normalize_phone("86", "+1234567890123456").is_err());
        assert!(normalize_phone("abc", "13800138000").is_err());
    }

    proptest! {
        #[test]
        fn never_panics_and_output_is_e164(cc in "\\PC{0,5}", m in "\\PC{0,24}") {
            if let Ok(p) = normalize_phone(&cc, &m) {
                prop_assert!(p.starts_with('+'));
                prop_assert!(p[1..].bytes().all(|b| b.is_ascii_digit()));
                prop_assert!((9..=16).contains(&p.len()));
                // Normalising twice changes nothing.
                prop_assert_eq!(normalize_phone("86", &p), Ok(p.clone()));
            }
        }
    }
}
