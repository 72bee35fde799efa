//! A message for people in both languages authgate speaks. Messages are written as a pair
//! where they arise, so a message without its Chinese text cannot be built.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub en: String,
    pub zh: String,
}

impl Text {
    pub fn new(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self {
            en: en.into(),
            zh: zh.into(),
        }
    }

    /// The Chinese text when `chinese`, else the English one.
    pub fn in_chinese(&self, chinese: bool) -> &str {
        if chinese {
            &self.zh
        } else {
            &self.en
        }
    }
}

impl std::fmt::Display for Text {
    /// The English text: what logs and the audit log record.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}
