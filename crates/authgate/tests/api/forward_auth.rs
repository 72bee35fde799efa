//! Forward auth over plain HTTP, with the test in the proxy's place (it connects from
//! loopback, which `trusted_proxies` trusts by default): the access rules API, what the two
//! endpoints answer, the cookie domain, the sign-out page, and several nodes. The real proxies
//! (nginx, Caddy, Traefik) are driven in `forward_auth_proxies`.

use crate::both_databases;
use crate::multi_node::node_options;
use crate::support::*;
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const DOMAIN: &str = "corp.test";
const ALICE_NAME: &str = "爱丽丝";

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// authgate at `http://auth.corp.test:<port>` with the session cookie covering `corp.test`.
async fn start(db: Db) -> Server {
    Server::start_with(db, on_corp_test(ServerOptions::default())).await
}

fn on_corp_test(opts: ServerOptions) -> ServerOptions {
    opts.public_host(&format!("auth.{DOMAIN}"))
        .env("AUTHGATE_COOKIE_DOMAIN", &format!(".{DOMAIN}"))
}

/// alice (not an admin, a Chinese name and an e-mail address); answers her token.
async fn alice(s: &Server, admin: &str) -> String {
    s.create_user(
        admin,
        json!({"username": "alice", "nickname": ALICE_NAME, "email": "alice@corp.test", "password": "alice-Passw0rd!"}),
    )
    .await;
    s.sign_in("alice", "alice-Passw0rd!").await
}

async fn rule(s: &Server, admin: &str, def: Value) -> i64 {
    let r = s.post("/api/accessRules:create", Some(admin), def).await;
    r.assert_ok();
    r.body["data"]["id"].as_i64().unwrap()
}

/// The usual rules: the wiki for anyone signed in, its /health for anyone, admin.* for admins.
async fn usual_rules(s: &Server, admin: &str) {
    rule(
        s,
        admin,
        json!({"host": "wiki.corp.test", "pathPrefix": "/health", "public": true}),
    )
    .await;
    rule(
        s,
        admin,
        json!({"host": "admin.corp.test", "allow": {"admins": true}}),
    )
    .await;
    rule(
        s,
        admin,
        json!({"host": "wiki.corp.test", "allow": {"signedIn": true}}),
    )
    .await;
}

/// How the proxy asks.
#[derive(Clone, Copy)]
enum Ask {
    /// nginx: `X-Original-URL` to auth-request.
    Nginx,
    /// Traefik and Caddy: `X-Forwarded-*` to forward-auth.
    Traefik,
}

/// The endpoint's answer about `url` for a request carrying `headers` (a token, a cookie,
/// Accept, or spoofed headers of the client's own).
async fn ask(s: &Server, how: Ask, url: &str, extra: &[(&str, &str)]) -> Reply {
    let http = no_follow();
    let mut req = match how {
        Ask::Nginx => http
            .get(s.url("/api/authz/auth-request"))
            .header("x-original-url", url)
            .header("x-original-method", "GET"),
        Ask::Traefik => {
            let u = url::Url::parse(url).unwrap();
            let host = match u.port() {
                Some(p) => format!("{}:{p}", u.host_str().unwrap()),
                None => u.host_str().unwrap().to_string(),
            };
            let mut uri = u.path().to_string();
            if let Some(q) = u.query() {
                uri = format!("{uri}?{q}");
            }
            http.get(s.url("/api/authz/forward-auth"))
                .header("x-forwarded-proto", u.scheme())
                .header("x-forwarded-host", host)
                .header("x-forwarded-uri", uri)
                .header("x-forwarded-method", "GET")
        }
    };
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    Reply::from(req.send().await.unwrap()).await
}

/// A client that does not follow redirects (the proxy passes them on to the browser).
fn no_follow() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn rules_are_kept_in_order_and_checked(db: Db) {
    let s = start(db).await;
    let admin = s.admin_token().await;
    let alice = alice(&s, &admin).await;
    // Only administrators.
    assert_eq!(
        s.get("/api/accessRules:list", Some(&alice)).await.status,
        StatusCode::FORBIDDEN
    );
    let r = s
        .post(
            "/api/accessRules:create",
            Some(&alice),
            json!({"host": "x.corp.test", "deny": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let a = rule(
        &s,
        &admin,
        json!({"host": "Wiki.Corp.Test", "methods": ["get", "head"], "allow": {"signedIn": true}, "note": " the wiki "}),
    )
    .await;
    let b = rule(&s, &admin, json!({"host": "*.corp.test", "deny": true})).await;
    let c = rule(
        &s,
        &admin,
        json!({"host": "admin.corp.test:8443", "pathPrefix": "/ops", "allow": {"users": ["alice"], "authenticators": ["basic"]}}),
    )
    .await;
    let list = s.get("/api/accessRules:list", Some(&admin)).await;
    list.assert_ok();
    let rows = list.body["data"].as_array().unwrap();
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [a, b, c]);
    assert_eq!(rows[0]["host"], json!("wiki.corp.test"));
    assert_eq!(rows[0]["methods"], json!(["GET", "HEAD"]));
    assert_eq!(rows[0]["note"], json!("the wiki"));
    assert_eq!(rows[0]["position"], json!(1));
    assert_eq!(rows[2]["allow"]["users"], json!(["alice"]));

    // Bad definitions: a 400 naming the fault, and nothing changes.
    for (bad, names) in [
        (json!({"allow": {"signedIn": true}}), "host"),
        (json!({"host": "a b", "deny": true}), "host"),
        (json!({"host": "x.corp.test"}), "exactly one"),
        (
            json!({"host": "x.corp.test", "deny": true, "public": true}),
            "exactly one",
        ),
        (json!({"host": "x.corp.test", "allow": {}}), "allow"),
        (
            json!({"host": "x.corp.test", "allow": {"groups": ["it"]}}),
            "groups",
        ),
        (
            json!({"host": "x.corp.test", "pathPrefix": "admin", "deny": true}),
            "pathPrefix",
        ),
        (
            json!({"host": "x.corp.test", "methods": ["FETCH"], "deny": true}),
            "methods",
        ),
        (
            json!({"host": "x.corp.test", "deny": true, "when": "never"}),
            "when",
        ),
        (json!({"host": 5, "deny": true}), "host"),
    ] {
        let r = s
            .post("/api/accessRules:create", Some(&admin), bad.clone())
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
        assert!(r.message().contains(names), "{bad}: {}", r.message());
    }
    let r = s
        .post(
            &format!("/api/accessRules:update?filterByTk={a}"),
            Some(&admin),
            json!({"host": "", "deny": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let again = s.get("/api/accessRules:list", Some(&admin)).await;
    assert_eq!(
        again.body["data"], list.body["data"],
        "bad input changed nothing"
    );

    // Update keeps the place; move reorders; destroy removes.
    let r = s
        .post(
            &format!("/api/accessRules:update?filterByTk={b}"),
            Some(&admin),
            json!({"host": "*.corp.test", "allow": {"admins": true}}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.body["data"]["position"], json!(2));
    assert_eq!(r.body["data"]["allow"], json!({"admins": true}));
    assert!(r.body["data"].get("deny").is_none());
    let moved = s
        .post(
            &format!("/api/accessRules:move?filterByTk={c}"),
            Some(&admin),
            json!({"position": 1}),
        )
        .await;
    moved.assert_ok();
    assert_eq!(moved.body["data"]["position"], json!(1));
    let order = |r: &Reply| -> Vec<i64> {
        r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        order(&s.get("/api/accessRules:list", Some(&admin)).await),
        [c, a, b]
    );
    s.post(
        &format!("/api/accessRules:move?filterByTk={c}"),
        Some(&admin),
        json!({"position": 99}),
    )
    .await
    .assert_ok();
    assert_eq!(
        order(&s.get("/api/accessRules:list", Some(&admin)).await),
        [a, b, c]
    );
    let r = s
        .post(
            &format!("/api/accessRules:move?filterByTk={c}"),
            Some(&admin),
            json!({"position": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    s.post(
        &format!("/api/accessRules:destroy?filterByTk={b}"),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_ok();
    for (path, body) in [
        (
            format!("/api/accessRules:destroy?filterByTk={b}"),
            json!({}),
        ),
        (
            format!("/api/accessRules:update?filterByTk={b}"),
            json!({"host": "x.corp.test", "deny": true}),
        ),
        (
            format!("/api/accessRules:move?filterByTk={b}"),
            json!({"position": 1}),
        ),
    ] {
        assert_eq!(
            s.post(&path, Some(&admin), body).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        order(&s.get("/api/accessRules:list", Some(&admin)).await),
        [a, c]
    );

    // Every change is in the audit log.
    let audit = s.get("/api/auditLogs:list?pageSize=50", Some(&admin)).await;
    let actions: Vec<&str> = audit.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["detail"]["action"].as_str())
        .filter(|a| a.starts_with("accessRules:"))
        .collect();
    for action in [
        "accessRules:create",
        "accessRules:update",
        "accessRules:move",
        "accessRules:destroy",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

async fn explain_says_which_rule_decides(db: Db) {
    let s = start(db).await;
    let admin = s.admin_token().await;
    alice(&s, &admin).await;
    usual_rules(&s, &admin).await;
    let explain = |q: &str| {
        let s = &s;
        let admin = admin.clone();
        let q = q.to_string();
        async move {
            s.get(&format!("/api/accessRules:explain?{q}"), Some(&admin))
                .await
        }
    };
    let admin_url = urlencode("https://admin.corp.test/settings");
    let r = explain(&format!("url={admin_url}&user=alice")).await;
    r.assert_ok();
    assert_eq!(r.body["data"]["verdict"], json!("deny"));
    assert!(r.body["data"]["ruleId"].as_i64().is_some());
    let reason = r.body["data"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("rule 2") && reason.contains("admin.corp.test"),
        "{reason}"
    );
    let r = explain(&format!("url={admin_url}&user=admin")).await;
    assert_eq!(r.body["data"]["verdict"], json!("allow"));
    let r = explain(&format!("url={}", urlencode("https://wiki.corp.test/page"))).await;
    assert_eq!(r.body["data"]["verdict"], json!("signIn"));
    let r = explain(&format!(
        "url={}",
        urlencode("https://wiki.corp.test/health/db")
    ))
    .await;
    assert_eq!(r.body["data"]["verdict"], json!("allow"));
    let r = explain(&format!(
        "url={}&user=alice",
        urlencode("https://other.example/")
    ))
    .await;
    assert_eq!(r.body["data"]["verdict"], json!("deny"));
    assert!(r.body["data"].get("ruleId").is_none_or(Value::is_null));
    assert!(r.body["data"]["reason"]
        .as_str()
        .unwrap()
        .contains("no rule covers other.example"));
    assert_eq!(
        explain(&format!("url={admin_url}&user=nobody"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    for bad in [
        "url=wiki.corp.test",
        "url=ftp%3A%2F%2Fwiki.corp.test%2F",
        "",
    ] {
        assert_eq!(explain(bad).await.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

async fn the_endpoints_answer_as_the_rules_decide(db: Db) {
    let s = start(db).await;
    let admin = s.admin_token().await;
    let alice = alice(&s, &admin).await;
    usual_rules(&s, &admin).await;
    let page = "http://wiki.corp.test:8080/page?x=1&y=%E4%B8%AD";
    let sign_in = format!(
        "http://auth.corp.test:{}/signin?redirect={}",
        s.port,
        urlencode(page)
    );
    let html = ("accept", "text/html,application/xhtml+xml");

    // Nobody signed in: nginx gets 401 with where to send the browser; Traefik and Caddy
    // redirect a browser themselves, and answer 401 to anything else.
    let r = ask(&s, Ask::Nginx, page, &[html]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.header("location"), Some(sign_in.as_str()));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let r = ask(&s, Ask::Traefik, page, &[html]).await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(r.header("location"), Some(sign_in.as_str()));
    let r = ask(&s, Ask::Traefik, page, &[("accept", "application/json")]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The public path passes without anyone, and says nobody.
    for how in [Ask::Nginx, Ask::Traefik] {
        let r = ask(&s, how, "http://wiki.corp.test:8080/health", &[]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("remote-user"), None);
    }

    // alice, by bearer token or by the session cookie the proxy passes on.
    let by_cookie = format!("authgate_token={alice}");
    for (how, auth) in [
        (Ask::Nginx, ("authorization", bearer(&alice))),
        (Ask::Traefik, ("cookie", by_cookie.clone())),
    ] {
        let r = ask(&s, how, page, &[(auth.0, &auth.1)]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.header("remote-user"), Some("alice"));
        let name = r.headers.get("remote-name").unwrap().as_bytes();
        assert_eq!(std::str::from_utf8(name).unwrap(), ALICE_NAME);
        assert_eq!(r.header("remote-email"), Some("alice@corp.test"));
        assert_eq!(r.header("remote-groups"), Some(""));
        assert_eq!(r.header("remote-jwt"), None);
    }
    // She may not use the admin app: 403, a page naming her for a browser.
    let admin_page = "http://admin.corp.test:8080/";
    let r = ask(
        &s,
        Ask::Nginx,
        admin_page,
        &[("authorization", &bearer(&alice))],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.header("remote-user"), None);
    let r = ask(
        &s,
        Ask::Traefik,
        admin_page,
        &[("cookie", &by_cookie), html],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.text.contains(ALICE_NAME) && r.text.contains("admin.corp.test"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains(&format!(
            "http://auth.corp.test:{}/signout?redirect=",
            s.port
        )),
        "{}",
        r.text
    );
    // The administrator may; nobody may reach a host no rule covers.
    let r = ask(
        &s,
        Ask::Nginx,
        admin_page,
        &[("authorization", &bearer(&admin))],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("remote-user"), Some("admin"));
    let r = ask(
        &s,
        Ask::Nginx,
        "http://files.corp.test/",
        &[("authorization", &bearer(&admin))],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // A signed statement, when the proxy asks for one, verifiable with the published keys.
    let r = s
        .http
        .get(s.url("/api/authz/auth-request?jwt=true"))
        .header("x-original-url", page)
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    let jwt = r.headers()["remote-jwt"].to_str().unwrap().to_string();
    let claims = jwt_claims(&jwt);
    assert_eq!(claims["aud"], json!("http://wiki.corp.test:8080"));
    assert_eq!(claims["preferred_username"], json!("alice"));
    assert_eq!(claims["name"], json!(ALICE_NAME));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        60
    );
    let header = jwt_header(&jwt);
    let jwks = s.get("/.well-known/jwks.json", None).await;
    assert!(jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["kid"] == header["kid"] && k["alg"] == header["alg"]));

    // What the client adds cannot change the question: the proxy sets these headers itself,
    // and two of one kind are refused rather than guessed at.
    let r = s
        .http
        .get(s.url("/api/authz/auth-request"))
        .header("x-original-url", "http://wiki.corp.test/health")
        .header("x-original-url", page)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = ask(
        &s,
        Ask::Traefik,
        page,
        &[("x-forwarded-host", "wiki.corp.test"), html],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "two hosts: {}", r.text);

    // Through a trusted proxy, headers of the other proxy's kind are the client's own (the
    // proxy passes them on untouched): each endpoint reads only its proxy's.
    let r = ask(
        &s,
        Ask::Traefik,
        page,
        &[
            ("x-original-url", "http://wiki.corp.test:8080/health"),
            ("x-original-method", "GET"),
            html,
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.text);
    let r = ask(
        &s,
        Ask::Nginx,
        page,
        &[
            ("x-forwarded-proto", "http"),
            ("x-forwarded-host", "wiki.corp.test:8080"),
            ("x-forwarded-uri", "/health"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    // A URL may hold commas (Grafana's do): it is one URL, not a list.
    let commas = "http://wiki.corp.test:8080/d/abc?var-host=a,b,c";
    for how in [Ask::Nginx, Ask::Traefik] {
        let r = ask(&s, how, commas, &[("authorization", &bearer(&alice))]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }

    // Signed out: the next question finds nobody.
    s.post("/api/auth:signOut", Some(&alice), json!({}))
        .await
        .assert_ok();
    let r = ask(&s, Ask::Nginx, page, &[("authorization", &bearer(&alice))]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = ask(&s, Ask::Traefik, page, &[("cookie", &by_cookie), html]).await;
    assert_eq!(r.status, StatusCode::FOUND);
}

fn jwt_header(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn only_trusted_proxies_may_ask(db: Db) {
    // Loopback (this test) is not one of the proxies here.
    let s = Server::start_with(
        db,
        on_corp_test(ServerOptions::default()).env("AUTHGATE_TRUSTED_PROXIES", "10.9.9.9"),
    )
    .await;
    let admin = s.admin_token().await;
    usual_rules(&s, &admin).await;
    for how in [Ask::Nginx, Ask::Traefik] {
        let r = ask(
            &s,
            how,
            "http://wiki.corp.test/health",
            &[("authorization", &bearer(&admin))],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        assert!(r.message().contains("trusted_proxies"), "{}", r.text);
        assert_eq!(r.header("remote-user"), None);
    }
}

/// The Set-Cookie lines of a response.
fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

fn cookie_value(lines: &[String], name: &str) -> String {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("{name} in {lines:?}"))
        .to_string()
}

async fn the_session_cookie_covers_the_cookie_domain(db: Db) {
    let s = start(db).await;
    let admin = s.admin_token().await;
    alice(&s, &admin).await;
    let r = s.sign_in_reply("basic", "alice", "alice-Passw0rd!").await;
    let lines = set_cookies(&r.headers);
    for name in ["authgate_token", "authgate_csrf"] {
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("{name}=")))
            .unwrap();
        assert!(line.contains(&format!("Domain={DOMAIN}")), "{line}");
    }
    // Sign-in pages accept return addresses under the domain, and say why they refuse others.
    let ok = "http://wiki.corp.test:8080/page?x=1";
    let page = s
        .http
        .get(s.url("/signin"))
        .query(&[("redirect", ok)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(redirect_target_in(&page), ok);
    assert!(!page.contains("redirect-refused"));
    for (bad, lang, says) in [
        ("http://evil-corp.test/", "en", "not allowed"),
        ("http://corp.test.evil.com/", "zh-CN", "不被允许"),
    ] {
        let page = s
            .http
            .get(s.url("/signin"))
            .query(&[("redirect", bad)])
            .header("accept-language", lang)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(redirect_target_in(&page), "/");
        assert!(page.contains("id=\"redirect-refused\""), "{page}");
        assert!(page.contains(says), "{lang}: {page}");
    }
}

async fn a_cookie_domain_must_cover_the_public_url() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(binary())
        .current_dir(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{}", free_port())])
        .env_clear()
        .env("AUTHGATE_DATA_DIR", dir.path().join("data"))
        .env("AUTHGATE_PUBLIC_URL", "https://auth.other.test")
        .env("AUTHGATE_COOKIE_DOMAIN", ".corp.test")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("cookie_domain") && said.contains("auth.other.test"),
        "{said}"
    );
}

/// The browser's cookies after signing in (token and CSRF), as one Cookie header.
async fn browser_cookies(s: &Server, account: &str, password: &str) -> (String, String, String) {
    let r = s.sign_in_reply("basic", account, password).await;
    r.assert_ok();
    let lines = set_cookies(&r.headers);
    let token = cookie_value(&lines, "authgate_token");
    let csrf = cookie_value(&lines, "authgate_csrf");
    (
        format!("authgate_token={token}; authgate_csrf={csrf}"),
        token,
        csrf,
    )
}

async fn the_sign_out_page_asks_first(db: Db) {
    let s = start(db).await;
    let admin = s.admin_token().await;
    alice(&s, &admin).await;
    usual_rules(&s, &admin).await;
    let (cookie, token, csrf) = browser_cookies(&s, "alice", "alice-Passw0rd!").await;
    let no_redirects = no_follow();
    let back = "http://wiki.corp.test:8080/page";
    let signed_in = |t: String| {
        let s = &s;
        async move { s.get("/api/auth:check", Some(&t)).await.status == StatusCode::OK }
    };
    // A link shows a question; nothing happens.
    let r = no_redirects
        .get(s.url(&format!("/signout?redirect={}", urlencode(back))))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(ALICE_NAME) && page.contains("name=\"csrf\""),
        "{page}"
    );
    assert!(signed_in(token.clone()).await);
    // A form from elsewhere (no CSRF token) is sent back to the question.
    for form in [
        format!("redirect={}", urlencode(back)),
        format!("csrf=wrong&redirect={}", urlencode(back)),
    ] {
        let r = no_redirects
            .post(s.url("/signout"))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/signout?redirect="));
        assert!(signed_in(token.clone()).await);
    }
    // The page's own form signs out, everywhere, and goes back.
    let r = no_redirects
        .post(s.url("/signout"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&redirect={}", urlencode(back)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], back);
    let cleared = set_cookies(r.headers());
    assert!(
        cleared.iter().any(|l| l.starts_with("authgate_token=;")),
        "{cleared:?}"
    );
    assert!(!signed_in(token.clone()).await);
    let r = ask(
        &s,
        Ask::Nginx,
        back,
        &[("cookie", &format!("authgate_token={token}"))],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Not signed in: straight on, to an allowed target only.
    for (target, lands) in [(back, back), ("https://evil.example/", "/")] {
        let r = no_redirects
            .get(s.url(&format!("/signout?redirect={}", urlencode(target))))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], lands);
    }
}

async fn parallel_requests_keep_their_own_return_address(db: Db) {
    let s = start(db).await;
    let admin = s.admin_token().await;
    usual_rules(&s, &admin).await;
    let mut asks = tokio::task::JoinSet::new();
    for n in 0..24 {
        let (http, base) = (no_follow(), s.base.clone());
        asks.spawn(async move {
            let url = format!("http://wiki.corp.test/page/{n}?q={n}");
            // nginx's way and Traefik's, in turn.
            let r = if n % 2 == 0 {
                http.get(format!("{base}/api/authz/auth-request"))
                    .header("x-original-url", &url)
            } else {
                http.get(format!("{base}/api/authz/forward-auth"))
                    .header("x-forwarded-proto", "http")
                    .header("x-forwarded-host", "wiki.corp.test")
                    .header("x-forwarded-uri", format!("/page/{n}?q={n}"))
            };
            let r = r.header("accept", "text/html").send().await.unwrap();
            let location = r.headers()["location"].to_str().unwrap().to_string();
            (url, location)
        });
    }
    while let Some(done) = asks.join_next().await {
        let (url, location) = done.unwrap();
        assert!(
            location.ends_with(&format!("/signin?redirect={}", urlencode(&url))),
            "{url}: {location}"
        );
    }
}

/// An expired token within its renewal window is renewed by the check itself: the proxy
/// passes the new cookie (for the cookie domain) on to the browser.
async fn a_renewed_token_comes_back_as_a_cookie(db: Db) {
    let s = start(db).await;
    let admin = s.admin_token().await;
    usual_rules(&s, &admin).await;
    s.post(
        "/api/tokenPolicies:update",
        Some(&admin),
        json!({"config": {"tokenExpirationTime": "1s", "sessionExpirationTime": "1h", "expiredTokenRenewLimit": "1h"}}),
    )
    .await
    .assert_ok();
    let (_, token, _) = browser_cookies(&s, "admin", ADMIN_PASSWORD).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = ask(
        &s,
        Ask::Nginx,
        "http://wiki.corp.test/page",
        &[("cookie", &format!("authgate_token={token}"))],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("remote-user"), Some("admin"));
    let lines = set_cookies(&r.headers);
    let renewed = cookie_value(&lines, "authgate_token");
    assert_ne!(renewed, token);
    assert!(lines[0].contains(&format!("Domain={DOMAIN}")), "{lines:?}");
    let r = ask(
        &s,
        Ask::Nginx,
        "http://wiki.corp.test/page",
        &[("cookie", &format!("authgate_token={renewed}"))],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

/// Another authgate's session (its own keys, same cookie name) is nobody here.
async fn a_session_of_another_deployment_is_nobody(db: Db) {
    let s = start(db).await;
    let other = Server::start(Db::Sqlite).await;
    let admin = s.admin_token().await;
    usual_rules(&s, &admin).await;
    let foreign = other.admin_token().await;
    let r = ask(
        &s,
        Ask::Nginx,
        "http://wiki.corp.test/page",
        &[("cookie", &format!("authgate_token={foreign}"))],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.header("remote-user"), None);
}

/// A rule changed or a session ended on one node is what every node answers within 1 s.
async fn every_node_follows_within_a_second(db: Db) {
    // Both behind one load balancer at auth.corp.test.
    let opts = node_options()
        .env("AUTHGATE_PUBLIC_URL", "http://auth.corp.test")
        .env("AUTHGATE_COOKIE_DOMAIN", ".corp.test");
    let a = Server::start_with(db, opts.clone()).await;
    let b = a.start_node(opts).await;
    let admin = a.admin_token().await;
    let alice = alice(&a, &admin).await;
    usual_rules(&b, &admin).await;
    let page = "http://wiki.corp.test/page";
    let auth = ("authorization", bearer(&alice));
    until_within_a_second(&a, page, &auth, StatusCode::OK).await;
    // B denies the wiki to everyone: A follows.
    let first = b.get("/api/accessRules:list", Some(&admin)).await.body["data"][0]["id"]
        .as_i64()
        .unwrap();
    b.post(
        &format!("/api/accessRules:update?filterByTk={first}"),
        Some(&admin),
        json!({"host": "wiki.corp.test", "deny": true}),
    )
    .await
    .assert_ok();
    b.post(
        &format!("/api/accessRules:move?filterByTk={first}"),
        Some(&admin),
        json!({"position": 1}),
    )
    .await
    .assert_ok();
    until_within_a_second(&a, page, &auth, StatusCode::FORBIDDEN).await;
    b.post(
        &format!("/api/accessRules:destroy?filterByTk={first}"),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_ok();
    until_within_a_second(&a, page, &auth, StatusCode::OK).await;
    // alice signs out on B: A finds nobody.
    b.post("/api/auth:signOut", Some(&alice), json!({}))
        .await
        .assert_ok();
    until_within_a_second(&a, page, &auth, StatusCode::UNAUTHORIZED).await;
}

/// Asks `s` about `page` until it answers `want`; fails after a second.
async fn until_within_a_second(s: &Server, page: &str, auth: &(&str, String), want: StatusCode) {
    let started = Instant::now();
    loop {
        let r = ask(s, Ask::Nginx, page, &[(auth.0, &auth.1)]).await;
        if r.status == want {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "still {} after 1 s, not {want}",
            r.status
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_domain_that_misses_the_public_url_is_refused_at_start() {
    a_cookie_domain_must_cover_the_public_url().await;
}

both_databases!(
    rules_are_kept_in_order_and_checked,
    explain_says_which_rule_decides,
    the_endpoints_answer_as_the_rules_decide,
    only_trusted_proxies_may_ask,
    the_session_cookie_covers_the_cookie_domain,
    the_sign_out_page_asks_first,
    parallel_requests_keep_their_own_return_address,
    a_session_of_another_deployment_is_nobody,
    a_renewed_token_comes_back_as_a_cookie,
);

/// Several nodes need PostgreSQL.
mod nodes {
    use super::every_node_follows_within_a_second;
    crate::postgres_only!(every_node_follows_within_a_second);
}
