//! A session's device as people name it ("Chrome 116 · Windows", "DingTalk 7.6 · Android 13")
//! from its User-Agent header; the header itself stays available beside it.

/// The app or browser and the system, from the products a user agent names (most specific
/// first: the DingTalk client and Edge also say Chrome and Safari); `None` for an empty one.
pub fn describe(user_agent: &str) -> Option<String> {
    let ua = user_agent.trim();
    if ua.is_empty() {
        return None;
    }
    let version = |product: &str, parts: usize| -> Option<String> {
        let start = ua.find(product)? + product.len();
        let v: String = ua[start..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let short = v.split('.').take(parts).collect::<Vec<_>>().join(".");
        Some(short).filter(|s| !s.is_empty())
    };
    let app = [
        ("DingTalk/", "DingTalk", 2),
        ("Edg/", "Edge", 1),
        ("OPR/", "Opera", 1),
        ("Firefox/", "Firefox", 1),
        ("Chrome/", "Chrome", 1),
        ("Version/", "Safari", 1),
        ("curl/", "curl", 2),
    ]
    .iter()
    .find_map(|(product, name, parts)| version(product, *parts).map(|v| format!("{name} {v}")))
    .unwrap_or_else(|| {
        // Whatever names itself first ("python-requests/2.31" -> "python-requests").
        ua.split(['/', ' ']).next().unwrap_or(ua).to_string()
    });
    let system = if let Some(v) = version("Android ", 1) {
        Some(format!("Android {v}"))
    } else if ua.contains("iPhone") {
        Some("iPhone".to_string())
    } else if ua.contains("iPad") {
        Some("iPad".to_string())
    } else if ua.contains("Mac OS X") {
        Some("macOS".to_string())
    } else if ua.contains("Windows") {
        Some("Windows".to_string())
    } else if ua.contains("CrOS") {
        Some("ChromeOS".to_string())
    } else if ua.contains("Linux") {
        Some("Linux".to_string())
    } else {
        None
    };
    Some(match system {
        Some(system) => format!("{app} · {system}"),
        None => app,
    })
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn devices_are_named_as_people_know_them() {
        for (ua, device) in [
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome 120 · Windows"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91", "Edge 120 · Windows"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15", "Safari 17 · macOS"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 AliApp(DingTalk/7.6.0) DingTalk/7.6.0 language/zh-Hans-CN", "DingTalk 7.6 · iPhone"),
            ("Mozilla/5.0 (Linux; Android 13; 22081212C Build/TKQ1.220829.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 AliApp(DingTalk/7.6.10)", "DingTalk 7.6 · Android 13"),
            ("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox 121 · Linux"),
            ("curl/8.5.0", "curl 8.5"),
            ("python-requests/2.31.0", "python-requests"),
        ] {
            assert_eq!(describe(ua).as_deref(), Some(device), "{ua}");
        }
        assert_eq!(describe("  "), None);
    }
}
