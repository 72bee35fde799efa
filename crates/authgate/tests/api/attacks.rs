//! Attacks not covered elsewhere, each a test: open redirects through both sign-in flows,
//! authorization-code replay, CSRF on every unsafe route, brute force that probes which
//! accounts exist, and the security headers. (Forged, replayed, expired, foreign-browser and
//! swapped states: `dingtalk_failures`; JWT forgeries: `jwt_tampering`; failure limits:
//! `password_sign_in` and, across two nodes, `multi_node`.)

use crate::both_databases;
use crate::dingtalk_support::*;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ALLOWED_ORIGIN: &str = "https://app.example.com";

/// Targets an attacker would like a victim to land on after signing in.
const OPEN_REDIRECT_PAYLOADS: &[&str] = &[
    "//evil.com",
    "//evil.com/%2F..",
    "///evil.com",
    "////evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "/\\/evil.com",
    "/%5Cevil.com",
    "https:evil.com",
    "https:/evil.com",
    "https://evil.com",
    "HTTPS://EVIL.COM",
    "hTtPs://evil.com/",
    "http://evil.com@app.example.com",
    "https://app.example.com@evil.com",
    "https://app.example.com.evil.com/",
    "https://app.example.com%2F@evil.com/",
    "https://evil.com/https://app.example.com/",
    "http://app.example.com/",
    "https://app.example.com:8443/",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    "java\tscript:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "%2F%2Fevil.com",
    "/%09/evil.com",
    "/\t/evil.com",
    "/\r\n/evil.com",
    "evil.com",
    "\u{3002}evil.com",
    "//evil%E3%80%82com",
    "https://evil.com\\@app.example.com/",
    // Dot segments that only become `//evil.com` once the path is normalised.
    "/.//evil.com",
    "/x/..//evil.com",
    "/..//evil.com",
    "/%2e//evil.com",
    "/%2e%2e//evil.com",
    "/a/b/../..//evil.com/x?y#z",
    "/%2E%2E/%2e//evil.com",
    "/././/evil.com/",
];

/// Where a browser told to go to `location` (relative to authgate at `base`) ends up.
fn landing_origin(base: &str, location: &str) -> String {
    let base = url::Url::parse(&format!("{base}/")).unwrap();
    match base.join(location) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => "unparseable".into(),
    }
}

async fn open_redirect_payloads_never_leave_the_allowed_origins(db: Db) {
    let env = DingEnv::start_with(
        db,
        json!({}),
        ServerOptions::default().env("AUTHGATE_ALLOWED_REDIRECT_ORIGINS", ALLOWED_ORIGIN),
    )
    .await;
    let s = &env.s;
    let ours = landing_origin(&s.base, "/");
    let allowed = [ours.clone(), ALLOWED_ORIGIN.to_string()];
    assert!(OPEN_REDIRECT_PAYLOADS.len() >= 40);
    for payload in OPEN_REDIRECT_PAYLOADS {
        // DingTalk: the whole round trip, to the Location the callback answers with.
        let mut b = Browser::new();
        let done = b
            .sign_in_as(s, AUTHENTICATOR, "zhangsan", Some(payload))
            .await;
        let landed = landing_origin(&s.base, &done.location);
        assert!(
            allowed.contains(&landed),
            "DingTalk sign-in with {payload:?} sent the browser to {:?}",
            done.location
        );
        assert!(!done.location.to_ascii_lowercase().contains("script:"));
        // The sign-in page: the target its script follows after a password sign-in.
        let page = s
            .http
            .get(s.url("/signin"))
            .query(&[("redirect", payload)])
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let target = redirect_target_in(&page.text().await.unwrap());
        assert!(
            target.starts_with('/') && !target.starts_with("//") && !target.contains('\\'),
            "sign-in page kept {payload:?} as {target:?}"
        );
        assert_eq!(landing_origin(&s.base, &target), ours, "{payload:?}");
    }
    // What is allowed still works.
    let mut b = Browser::new();
    let done = b
        .sign_in_as(
            s,
            AUTHENTICATOR,
            "zhangsan",
            Some("https://app.example.com/home?x=1"),
        )
        .await;
    assert_eq!(done.location, "https://app.example.com/home?x=1");
    oidc_redirect_payloads(s, &env.admin, &ours).await;
}

/// The same payloads where the OpenID Connect provider takes a URL to send the browser to:
/// `redirect_uri` (by GET and POST, signed in or not) and `post_logout_redirect_uri` (with a
/// valid `id_token_hint`, from a browser whose session it names and from one without a
/// session). Only a client's registered URIs are ever a Location; `allowed_redirect_origins`
/// does not widen them.
async fn oidc_redirect_payloads(s: &Server, admin: &str, ours: &str) {
    use crate::oidc_support::Browser as OidcBrowser;
    let registered = "https://app.example.com/cb";
    let created = s
        .post(
            "/api/oidcClients:create",
            Some(admin),
            json!({"name": "App", "redirectUris": [registered],
                   "postLogoutRedirectUris": ["https://app.example.com/bye"]}),
        )
        .await;
    created.assert_ok();
    let client_id = created.body["data"]["clientId"].as_str().unwrap();
    let secret = created.body["data"]["clientSecret"].as_str().unwrap();
    let authorize_query = |redirect_uri: &str| -> Vec<(String, String)> {
        [
            ("client_id", client_id),
            ("response_type", "code"),
            ("scope", "openid"),
            ("redirect_uri", redirect_uri),
            ("state", "st"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let authorize_url = |redirect_uri: &str| {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(authorize_query(redirect_uri))
            .finish();
        s.url(&format!("/oidc/authorize?{q}"))
    };
    // Where a Location would take the browser: only here, or the registered URIs.
    let check = |r: &Reply, what: &str, payload: &str, registered: &str| {
        if let Some(l) = r.header("location") {
            assert!(
                landing_origin(&s.base, l) == ours || l.starts_with(registered),
                "{what} with {payload:?} sent the browser to {l:?}"
            );
        }
    };
    let mut admin_browser = OidcBrowser::new();
    let mut anonymous = OidcBrowser::new();
    for payload in OPEN_REDIRECT_PAYLOADS.iter().copied().chain([
        "https://app.example.com/home",
        "https://app.example.com/cb/x",
    ]) {
        admin_browser
            .sign_in(&s.base, "admin", ADMIN_PASSWORD)
            .await;
        for b in [&mut admin_browser, &mut anonymous] {
            let r = b.get(&authorize_url(payload)).await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "redirect_uri {payload:?}"
            );
            check(&r, "redirect_uri", payload, "never");
            let r = b
                .post_form(&s.url("/oidc/authorize"), &authorize_query(payload))
                .await;
            check(&r, "a posted redirect_uri", payload, "never");
        }
        // A valid hint: the admin's ID token, through the registered URI.
        let r = admin_browser.get(&authorize_url(registered)).await;
        let code = query_param(r.header("location").unwrap(), "code").unwrap();
        let tokens = s
            .http
            .post(s.url("/oidc/token"))
            .basic_auth(client_id, Some(secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", registered),
            ])
            .send()
            .await
            .unwrap();
        let tokens = Reply::from(tokens).await;
        tokens.assert_ok();
        let hint = tokens.body["id_token"].as_str().unwrap();
        let logout: Vec<(String, String)> = [
            ("id_token_hint", hint),
            ("post_logout_redirect_uri", payload),
            ("state", "st"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let q = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&logout)
            .finish();
        for b in [&mut anonymous, &mut admin_browser] {
            let r = b.get(&s.url(&format!("/oidc/end_session?{q}"))).await;
            check(
                &r,
                "post_logout_redirect_uri",
                payload,
                "https://app.example.com/bye",
            );
            assert!(r.header("location").is_none(), "{payload:?}: {r:?}");
            let r = b.post_form(&s.url("/oidc/end_session"), &logout).await;
            check(&r, "a posted post_logout_redirect_uri", payload, "never");
        }
        assert!(
            admin_browser.session().is_none(),
            "the valid hint signed the admin out"
        );
    }
}

/// With NocoBase's `tokenInRedirect` on, a redirect that left the site would carry the session
/// token to the attacker's host in the URL.
async fn a_token_in_the_redirect_never_goes_to_another_host(db: Db) {
    let env = DingEnv::start(db, json!({"tokenInRedirect": true})).await;
    let s = &env.s;
    let ours = landing_origin(&s.base, "/");
    for payload in OPEN_REDIRECT_PAYLOADS {
        let mut b = Browser::new();
        let done = b
            .sign_in_as(s, AUTHENTICATOR, "zhangsan", Some(payload))
            .await;
        assert_eq!(
            landing_origin(&s.base, &done.location),
            ours,
            "{payload:?} sent the token to {:?}",
            done.location
        );
        assert!(done.location.contains("token="), "{}", done.location);
    }
}

/// Attack campaign: an `Authorization: Basic ...` header added by a proxy in front hid a valid
/// session cookie (the request was treated as signed out).
async fn a_proxy_basic_header_does_not_hide_the_session_cookie(db: Db) {
    let s = Server::start(db).await;
    let token = s.admin_token().await;
    let check = |authorization: &'static str| {
        s.http
            .get(s.url("/api/auth:check"))
            .header("cookie", format!("authgate_token={token}"))
            .header("authorization", authorization)
            .send()
    };
    let r = check("Basic cHJveHk6c2VjcmV0").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A bearer header still has the last word, even an empty one.
    let r = Reply::from(check("Bearer ").await.unwrap()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "EMPTY_TOKEN")
    );
}

/// Attack campaign: `/signin?error=<any text>` showed an attacker's words on the real sign-in
/// page. A link names a reason; the page shows its own text for it, in the reader's language.
async fn the_sign_in_page_shows_only_its_own_error_texts(db: Db) {
    let s = Server::start(db).await;
    let page = |query: &str, lang: &str| {
        let request = s
            .http
            .get(s.url(&format!("/signin?{query}")))
            .header("accept-language", lang);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let lure = "Your+account+is+suspended.+Call+%2B1-555-0100+to+restore+it";
    let html = page(&format!("error={lure}"), "en").await;
    assert!(
        !html.contains("suspended") && !html.contains("555"),
        "{html}"
    );
    assert!(html.contains("The sign-in did not complete. Please try again."));
    let html = page("error=state_expired", "zh-CN").await;
    assert!(html.contains("登录链接已过期"), "{html}");
    let html = page(
        "error=permission_missing&scopes=Contact.User.mobile,%3Cb%3Ecall+us%3C%2Fb%3E",
        "en",
    )
    .await;
    assert!(
        html.contains("lacks the permission Contact.User.mobile."),
        "{html}"
    );
    assert!(!html.contains("call us"), "{html}");
}

async fn start_dingtalk(b: &mut Browser, s: &Server) -> Reply {
    let url = s.url("/api/dingtalk:getAuthUrl");
    let headers = [("x-authenticator", AUTHENTICATOR)];
    b.authgate(reqwest::Method::POST, &url, &headers, Some(json!({})))
        .await
}

/// Attack campaign: `dingtalk:getAuthUrl` stored a state row per call with no limit (800/s
/// from one client). Each browser and each address has a budget per minute, and a
/// refused call stores nothing.
async fn dingtalk_sign_ins_started_are_budgeted(db: Db) {
    let env = DingEnv::start_with(
        db,
        json!({}),
        ServerOptions::default()
            .env("AUTHGATE_DINGTALK_STARTS_PER_MINUTE_PER_BROWSER", "5")
            .env("AUTHGATE_DINGTALK_STARTS_PER_MINUTE_PER_IP", "12"),
    )
    .await;
    let s = &env.s;
    // The first call sets the browser's cookie; the five after it spend its budget.
    let mut browser = Browser::new();
    for _ in 0..6 {
        start_dingtalk(&mut browser, s).await.assert_ok();
    }
    let r = start_dingtalk(&mut browser, s).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert!(r.header("retry-after").is_some());
    // Browsers that drop the cookie still share their address's budget (7 spent: the refused
    // call counted there too): 5 more, then no.
    for _ in 0..5 {
        start_dingtalk(&mut Browser::new(), s).await.assert_ok();
    }
    let r = start_dingtalk(&mut Browser::new(), s).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert_eq!(s.sql_count("SELECT COUNT(*) FROM oauth_states").await, 11);
}

/// Attack campaign: every refused request wrote an audit row of its own, so a client could
/// grow the audit log without end. Identical refusals within a minute share one row.
async fn repeated_refusals_share_one_audit_row(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    let s = &env.s;
    let count = || s.sql_count("SELECT COUNT(*) FROM audit_log WHERE reason = 'state_unknown'");
    for _ in 0..20 {
        let mut b = Browser::new();
        b.callback(&format!("{}?authCode=x&state=forged", env.redirect_url()))
            .await;
    }
    assert_eq!(count().await, 1);
    let (_, reason, detail) = env.last_sign_in_audit().await;
    assert_eq!(
        (reason.as_str(), detail["repeated"].as_i64()),
        ("state_unknown", Some(19))
    );
    assert!(detail["lastAt"].is_i64());
    // A different failure is its own row.
    let mut b = Browser::new();
    let url = b.get_auth_url(s, AUTHENTICATOR, None).await;
    let back = b.authorize(&url, "&login_as=zhangsan").await;
    let mut other = Browser::new();
    other.callback(&back).await;
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM audit_log WHERE reason = 'state_foreign_browser'")
            .await,
        1
    );
}

/// Attack campaign: look-alike usernames (Cyrillic `а`, a zero-width space, full-width
/// letters) were accepted next to `admin`, and a DingTalk nickname kept U+202E.
async fn look_alike_names_are_refused_or_folded(db: Db) {
    let env = DingEnv::start(db, json!({"matchBy": []})).await;
    let s = &env.s;
    for name in ["\u{430}dmin", "admin\u{200B}", "adm\u{202E}in"] {
        let r = s
            .post(
                "/api/users:create",
                Some(&env.admin),
                json!({"username": name}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name:?}: {}", r.text);
        assert!(
            r.message().starts_with("The username may have"),
            "{}",
            r.message()
        );
    }
    // Full-width letters are the same name: taken.
    let r = s
        .post(
            "/api/users:create",
            Some(&env.admin),
            json!({"username": "ａｄｍｉｎ"}),
        )
        .await;
    assert_eq!(
        (r.status, r.message()),
        (StatusCode::BAD_REQUEST, "Username already exists")
    );
    // ... and sign in as it.
    s.sign_in("ａｄｍｉｎ", ADMIN_PASSWORD).await;
    // A DingTalk nickname that would read backwards arrives without its override.
    let mut mallory = fake_dingtalk::FakeUser::new("mallory", "mAlLoRy0unionIdZZZQiEiE");
    mallory.nick = Some("\u{202E}nimda\u{202C} Mallory".into());
    mallory.mobile = Some("13600136000".into());
    mallory.state_code = Some("86".into());
    mallory.corp_ids = vec!["dingcorp001".into()];
    env.add_user(mallory);
    let mut b = Browser::new();
    b.sign_in_as(s, AUTHENTICATOR, "mallory", None).await;
    let me = b.whoami(s).await;
    assert_eq!(me.body["data"]["nickname"], "nimda Mallory", "{}", me.text);
    assert_eq!(
        s.sql_text("SELECT nickname FROM identities WHERE uuid = 'mAlLoRy0unionIdZZZQiEiE'")
            .await
            .as_deref(),
        Some("nimda Mallory")
    );
}

async fn a_used_authorization_code_is_refused(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    let s = &env.s;
    let mut b = Browser::new();
    let url = b.get_auth_url(s, AUTHENTICATOR, None).await;
    let back = b.authorize(&url, "&login_as=zhangsan").await;
    assert_eq!(b.callback(&back).await.location, "/");
    let code = query_param(&back, "authCode").unwrap();
    let after = env.counts().await;
    // The attacker replays the code with a fresh, valid state of their own.
    let mut attacker = Browser::new();
    let url = attacker.get_auth_url(s, AUTHENTICATOR, None).await;
    let replay = attacker
        .callback(&format!(
            "{}?authCode={code}&state={}",
            env.redirect_url(),
            state_of(&url)
        ))
        .await;
    env.assert_refused(&replay, after, "invalid_code", "already used")
        .await;
    assert!(attacker.token().is_none());
}

/// Every unsafe route, called with a stolen-by-the-browser session cookie but without the
/// CSRF header (what a cross-site form or fetch can do), is refused and changes nothing.
async fn csrf_is_required_on_every_unsafe_route(db: Db) {
    let s = Server::start(db).await;
    let signed_in = s.sign_in_reply("basic", "admin", ADMIN_PASSWORD).await;
    let cookie = |name: &str| {
        signed_in
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .find_map(|c| c.strip_prefix(&format!("{name}=")))
            .and_then(|c| c.split(';').next())
            .unwrap()
            .to_string()
    };
    let cookies = format!(
        "authgate_token={}; authgate_csrf={}",
        cookie("authgate_token"),
        cookie("authgate_csrf")
    );
    let doc = s.get("/api/openapi.json", None).await.body;
    let paths = doc["paths"].as_object().unwrap();
    // Sign-in and sign-up need no session (they make one); the DingTalk callback is a GET.
    let public = [
        "/api/auth:signIn",
        "/api/auth:signUp",
        "/api/dingtalk:getAuthUrl",
        "/api/dingtalk:signInInClient",
    ];
    let audit_before = s.sql_count("SELECT COUNT(*) FROM audit_log").await;
    let mut checked = 0;
    for (path, ops) in paths {
        for method in ["post", "put", "patch", "delete"] {
            if ops.get(method).is_none() || public.contains(&path.as_str()) {
                continue;
            }
            for content_type in [
                "application/json",
                "text/plain",
                "application/x-www-form-urlencoded",
            ] {
                let r = s
                    .http
                    .request(method.to_uppercase().parse().unwrap(), s.url(path))
                    .header("cookie", &cookies)
                    .header("content-type", content_type)
                    .header("origin", "https://evil.example")
                    .body("{}")
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
                assert_eq!(body["errors"][0]["code"], "CSRF_TOKEN_INVALID", "{path}");
            }
            checked += 1;
        }
    }
    // Today: 15 (users, authenticators, sessions, policies, password, sign-out...).
    assert!(checked >= 15, "only {checked} unsafe routes checked");
    // Nothing happened: no audit entry, still signed in.
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM audit_log").await,
        audit_before
    );
    let me = s
        .http
        .get(s.url("/api/auth:check"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
}

/// Probing which accounts exist gets the same answer for an unknown account as for a wrong
/// password: status, body, headers and, statistically, time.
async fn unknown_accounts_are_indistinguishable(db: Db) {
    let s = Server::start_with(
        db,
        ServerOptions::default()
            .env("AUTHGATE_ACCOUNT_MAX_FAILURES", "1000")
            .env("AUTHGATE_IP_MAX_FAILURES", "1000"),
    )
    .await;
    let comparable = |r: &Reply| {
        let mut h: Vec<_> = r
            .headers
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "date" | "x-request-id"))
            .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap()))
            .collect();
        h.sort();
        (r.status, r.text.clone(), h)
    };
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    // Interleaved, so that machine noise hits both alike.
    for i in 0..16 {
        let t = Instant::now();
        let a = s.sign_in_reply("basic", "admin", "wrong-password").await;
        known.push(t.elapsed());
        let t = Instant::now();
        let b = s
            .sign_in_reply("basic", &format!("nobody{i}"), "wrong-password")
            .await;
        unknown.push(t.elapsed());
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(comparable(&a), comparable(&b));
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (k, u) = (median(&mut known), median(&mut unknown));
    // Without the decoy hash an unknown account answers in well under a tenth of the time
    // (no Argon2 at all); with it the medians agree closely. The bound tolerates noise.
    let ratio = u.as_secs_f64() / k.as_secs_f64();
    assert!(
        (0.6..1.6).contains(&ratio),
        "unknown account {u:?} vs wrong password {k:?} (ratio {ratio:.2})"
    );
}

fn assert_security_headers(r: &reqwest::Response, what: &str, https: bool) {
    let h = |n: &str| {
        r.headers()
            .get(n)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{what}: no {n}"))
    };
    let csp = h("content-security-policy");
    // default-src 'none' also rules out plugins (object-src) and foreign frames.
    for part in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(part), "{what}: CSP {csp:?} lacks {part}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{what}: {csp}"
    );
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(h("x-frame-options"), "DENY", "{what}");
    assert_eq!(h("referrer-policy"), "no-referrer", "{what}");
    match https {
        true => assert!(
            h("strict-transport-security").contains("max-age="),
            "{what}"
        ),
        false => assert!(
            r.headers().get("strict-transport-security").is_none(),
            "{what}: HSTS on plain http"
        ),
    }
}

async fn security_headers_and_cookie_flags(db: Db) {
    for https in [false, true] {
        let opts = match https {
            true => ServerOptions::default().env("AUTHGATE_PUBLIC_URL", "https://auth.example.com"),
            false => ServerOptions::default(),
        };
        let s = Server::start_with(db, opts).await;
        let token = s.admin_token().await;
        for path in [
            "/signin",
            "/",
            "/admin",
            "/signup",
            "/dingtalk/auto",
            "/api/auth:check",
            "/healthz",
            "/api/openapi.json",
            "/nope",
        ] {
            let r = s
                .http
                .get(s.url(path))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_security_headers(&r, path, https);
        }
        let r = s
            .http
            .post(s.url("/api/auth:signIn"))
            .header("x-authenticator", "basic")
            .json(&json!({"account": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_security_headers(&r, "signIn", https);
        let cookies: Vec<String> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        for name in ["authgate_token=", "authgate_csrf="] {
            let c = cookies
                .iter()
                .find(|c| c.starts_with(name))
                .unwrap_or_else(|| panic!("no {name} cookie"));
            assert!(
                c.contains("SameSite=Lax") || c.contains("SameSite=Strict"),
                "{c}"
            );
            assert!(c.contains("Path=/"), "{c}");
            assert_eq!(c.contains("; Secure"), https, "{c}");
            // The session is out of reach of scripts; the CSRF token must be readable.
            assert_eq!(c.contains("HttpOnly"), name == "authgate_token=", "{c}");
        }
    }
}

/// With a cookie domain, hosts under it become targets too: the payloads, and the known
/// bypasses of other forward-auth servers (look-alike and suffix hosts, `@`, backslash,
/// fragment and query tricks, encoded and whitespace variants), against the sign-in page and
/// the sign-out page. Only this site and hosts under `example.com` may be landed on.
async fn open_redirect_payloads_under_a_cookie_domain(db: Db) {
    let s = Server::start_with(
        db,
        ServerOptions::default()
            .public_host("auth.example.com")
            .env("AUTHGATE_COOKIE_DOMAIN", ".example.com"),
    )
    .await;
    let public = format!("http://auth.example.com:{}", s.port);
    let allowed = |origin: &str| -> bool {
        let Ok(u) = url::Url::parse(origin) else {
            return false;
        };
        let host = u.host_str().unwrap_or_default();
        matches!(u.scheme(), "http" | "https")
            && (host == "example.com" || host.ends_with(".example.com"))
    };
    let bypasses = [
        "https://evil-example.com/",
        "https://example.com.evil.com/",
        "https://wiki.example.com.evil.com/",
        "https://wiki.example.com@evil.com/",
        "https://wiki.example.com%40evil.com/",
        "https://evil.com#.example.com",
        "https://evil.com?.example.com",
        "https://evil.com\\.example.com",
        "https://evil.com%5C.example.com",
        "https://evil.com/.example.com",
        "https://evil.com%2F.example.com",
        "https://evil.com%23.example.com",
        "//evil.com/.example.com",
        "///evil.com/.example.com",
        "https:/\\evil.com/.example.com",
        "https://wiki.example.com\t.evil.com/",
        "https://wiki.example.com%09.evil.com/",
        "https://wiki.example.com%0a.evil.com/",
        "https://example.com\n.evil.com/",
        "https://evil.com%E3%80%82example.com",
        "https://evil.com\u{3002}example.com",
        "https://xn--evil-example-.com/",
        "https://[::1].example.com/",
        "https://127.0.0.1/.example.com",
        "ftp://wiki.example.com/",
        "javascript://wiki.example.com/%0aalert(1)",
    ];
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for payload in OPEN_REDIRECT_PAYLOADS.iter().copied().chain(bypasses) {
        let page = s
            .http
            .get(s.url("/signin"))
            .query(&[("redirect", payload)])
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let target = redirect_target_in(&page.text().await.unwrap());
        let landed = landing_origin(&public, &target);
        assert!(
            allowed(&landed),
            "sign-in page kept {payload:?} as {target:?}"
        );
        let out = no_redirects
            .get(s.url("/signout"))
            .query(&[("redirect", payload)])
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), StatusCode::SEE_OTHER);
        let location = out.headers()["location"].to_str().unwrap().to_string();
        let landed = landing_origin(&public, &location);
        assert!(
            allowed(&landed),
            "sign-out page sent {payload:?} to {location:?}"
        );
    }
    // Hosts under the domain do pass, exactly as given.
    for ok in ["http://wiki.example.com/a?b=1", "http://example.com:8080/"] {
        let out = no_redirects
            .get(s.url("/signout"))
            .query(&[("redirect", ok)])
            .send()
            .await
            .unwrap();
        assert_eq!(out.headers()["location"], ok);
    }
}

both_databases!(
    open_redirect_payloads_never_leave_the_allowed_origins,
    open_redirect_payloads_under_a_cookie_domain,
    a_token_in_the_redirect_never_goes_to_another_host,
    a_proxy_basic_header_does_not_hide_the_session_cookie,
    the_sign_in_page_shows_only_its_own_error_texts,
    dingtalk_sign_ins_started_are_budgeted,
    repeated_refusals_share_one_audit_row,
    look_alike_names_are_refused_or_folded,
    a_used_authorization_code_is_refused,
    csrf_is_required_on_every_unsafe_route,
    unknown_accounts_are_indistinguishable,
    security_headers_and_cookie_flags,
);
