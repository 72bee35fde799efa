//! Form-encoded parameters (query strings and POST bodies) as the endpoints read them.

pub type Params = Vec<(String, String)>;

pub fn parse(bytes: &[u8]) -> Params {
    url::form_urlencoded::parse(bytes).into_owned().collect()
}

/// The value of `name`, unless missing or empty (OAuth 2.0 treats both alike).
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// The first parameter sent more than once (RFC 6749 3.1 forbids it).
pub fn first_repeated(params: &[(String, String)]) -> Option<&str> {
    params
        .iter()
        .enumerate()
        .find(|(i, (k, _))| params[..*i].iter().any(|(seen, _)| seen == k))
        .map(|(_, (k, _))| k.as_str())
}
