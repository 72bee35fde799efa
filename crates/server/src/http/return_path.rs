//! Where a browser may return to after signing in, when only this site is allowed: a path on
//! this origin, re-serialised so that it is always a valid `Location`. Anything else is `/`.

/// A same-origin path to return to after signing in; anything else is `/`.
pub fn safe_path(raw: Option<&str>) -> String {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return "/".into();
    };
    if !raw.starts_with('/')
        || raw.starts_with("//")
        || raw.len() > 2048
        || raw.chars().any(|c| c.is_control() || c == '\\')
    {
        return "/".into();
    }
    let Ok(base) = url::Url::parse("http://same-origin.invalid/") else {
        return "/".into();
    };
    match base.join(raw) {
        Ok(u) if u.origin() == base.origin() => {
            let mut out = u.path().to_string();
            if let Some(q) = u.query() {
                out.push('?');
                out.push_str(q);
            }
            if let Some(f) = u.fragment() {
                out.push('#');
                out.push_str(f);
            }
            out
        }
        _ => "/".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_path;

    #[test]
    fn redirect_targets_stay_on_this_site() {
        assert_eq!(safe_path(Some("/somewhere?x=1#f")), "/somewhere?x=1#f");
        assert_eq!(safe_path(Some("/a/../b")), "/b");
        for bad in [
            "//evil.example",
            "https://evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "evil",
        ] {
            assert_eq!(safe_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_path(None), "/");
    }
}
