//! The web pages. HTTP-level checks (headers, redirects, escaping, languages) run on both
//! databases; the browser tests drive a real headless Chromium and run on SQLite only: the
//! pages only call the API, which the other tests cover on both databases.

use crate::both_databases;
use crate::browser::{Browser, PHONE};
use crate::support::*;
use fake_dingtalk::{
    FakeApp, FakeConfig, FakeDingTalk, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_CORP_ID,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

const XSS_NICKNAME: &str = "<img src=x onerror=alert(1)> 张三";

/// authgate pointed at a fake DingTalk whose `dingdemo` app knows authgate's Redirect URL.
async fn with_fake_dingtalk(db: Db) -> (Server, FakeDingTalk, String) {
    let fake = FakeDingTalk::start(FakeConfig::default()).await;
    let base = fake.base_url().to_string();
    let s = Server::start_with(
        db,
        ServerOptions::default()
            .env("AUTHGATE_DINGTALK_LOGIN_BASE", &base)
            .env("AUTHGATE_DINGTALK_API_BASE", &base)
            .env("AUTHGATE_DINGTALK_OAPI_BASE", &base),
    )
    .await;
    fake.add_app(
        FakeApp::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
            .with_corp_id(DEFAULT_CORP_ID)
            .with_redirect_uri(s.url("/api/dingtalk:redirect")),
    )
    .unwrap();
    let admin = s.admin_token().await;
    (s, fake, admin)
}

async fn create_dingtalk(s: &Server, admin: &str, name: &str, title: &str, options: Value) {
    let mut all = json!({"clientId": DEFAULT_CLIENT_ID, "clientSecret": DEFAULT_CLIENT_SECRET});
    for (k, v) in options.as_object().unwrap() {
        all[k] = v.clone();
    }
    s.post(
        "/api/authenticators:create",
        Some(admin),
        json!({"name": name, "authType": "dingtalk", "title": title, "enabled": true, "options": all}),
    )
    .await
    .assert_ok();
}

async fn page(
    s: &Server,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut req = s.http.get(s.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let h = r.headers().clone();
    (status, h, r.text().await.unwrap())
}

// ------------------------------------------------------------------------ HTTP level

async fn pages_have_a_strict_csp_and_signed_out_people_go_to_signin(db: Db) {
    let s = Server::start(db).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (path, target) in [
        ("/", "/signin?redirect=%2F"),
        ("/admin", "/signin?redirect=%2Fadmin"),
    ] {
        let r = no_redirects.get(s.url(path)).send().await.unwrap();
        assert!(r.status().is_redirection(), "{path}: {}", r.status());
        assert_eq!(r.headers()["location"], target);
    }
    let (status, h, body) = page(&s, "/signin", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'")
            && csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(h["cache-control"], "no-store");
    // No inline script or style: every <script> has a src, no style attributes or elements.
    assert!(
        !body.contains("<script>") && !body.contains("<style") && !body.contains(" style="),
        "{body}"
    );
    assert!(body.contains("name=\"account\""));
    // Assets: embedded, long-cached, right type; unknown ones are 404.
    let (status, h, js) = page(&s, "/assets/common.js", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(h["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(h["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age=31536000"));
    assert!(js.contains("X-CSRF-Token"));
    let (status, _, dd) = page(&s, "/assets/vendor/dingtalk-jsapi.js", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(dd.contains("requestAuthCode"));
    assert_eq!(
        page(&s, "/assets/nope.js", &[]).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        page(&s, "/assets/../Cargo.toml", &[]).await.0,
        StatusCode::NOT_FOUND
    );
}

async fn signin_lists_methods_in_the_users_language_and_escapes_everything(db: Db) {
    let (s, _fake, admin) = with_fake_dingtalk(db).await;
    // Redirect targets that leave the site are replaced by "/".
    let (_, _, body) = page(&s, "/signin?redirect=//evil.example/x", &[]).await;
    assert!(body.contains("data-redirect=\"/\""), "{body}");
    create_dingtalk(&s, &admin, "dingtalk", "", json!({})).await;
    let (_, _, en) = page(&s, "/signin", &[("accept-language", "en-US,en;q=0.9")]).await;
    assert!(en.contains("Sign in via DingTalk") && en.contains("<html lang=\"en\">"));
    let (_, _, zh) = page(
        &s,
        "/signin",
        &[("accept-language", "zh-CN,zh;q=0.9,en;q=0.5")],
    )
    .await;
    assert!(
        zh.contains("钉钉登录") && zh.contains("<html lang=\"zh-CN\">"),
        "{zh}"
    );
    // The switch's cookie wins over Accept-Language.
    let (_, _, chosen) = page(
        &s,
        "/signin",
        &[("accept-language", "zh-CN"), ("cookie", "lang=en")],
    )
    .await;
    assert!(chosen.contains("Sign in via DingTalk"));
    // The DingTalk button comes after the password form.
    assert!(en.find("pw-form").unwrap() < en.find("sso-button").unwrap());
    // A failure's reason becomes our own message at its authenticator's button; text in the
    // link is never shown.
    let (_, _, failed) = page(
        &s,
        "/signin?authenticator=dingtalk&error=%3Cscript%3Ealert(1)%3C%2Fscript%3E&redirect=%2Fx",
        &[],
    )
    .await;
    assert!(
        !failed.contains("script&#62;alert") && !failed.contains("<script>alert"),
        "{failed}"
    );
    assert!(
        failed.contains("data-error-for=\"dingtalk\" >The sign-in did not complete."),
        "{failed}"
    );
    assert!(failed.contains("data-redirect=\"/x\""));
    let (_, _, failed) = page(
        &s,
        "/signin?authenticator=dingtalk&error=consent_denied",
        &[],
    )
    .await;
    assert!(
        failed.contains("data-error-for=\"dingtalk\" >You did not allow the sign-in in DingTalk."),
        "{failed}"
    );
    // A user's nickname on their account page is text.
    s.create_user(
        &admin,
        json!({"username": "xss", "nickname": XSS_NICKNAME, "password": "Passw0rd!xss"}),
    )
    .await;
    let token = s.sign_in("xss", "Passw0rd!xss").await;
    let (status, _, account) =
        page(&s, "/", &[("cookie", &format!("authgate_token={token}"))]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        account.contains("&#60;img src=x onerror=alert(1)&#62; 张三")
            && !account.contains("<img src=x"),
        "{account}"
    );
    // The admin console and the account page in Chinese.
    let admin_cookie = format!("authgate_token={admin}");
    let (status, _, console) = page(
        &s,
        "/admin",
        &[("cookie", &admin_cookie), ("accept-language", "zh-CN")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for text in [
        "管理后台",
        "认证器",
        "回调地址",
        "测试连接",
        "令牌策略",
        "审计日志",
    ] {
        assert!(
            console.contains(text),
            "{text} missing from /admin in zh-CN"
        );
    }
    let (_, _, mine) = page(
        &s,
        "/",
        &[("cookie", &admin_cookie), ("accept-language", "zh-CN")],
    )
    .await;
    assert!(mine.contains("我的账号") && mine.contains("退出登录"));
    // Non-admins get the 403 page.
    let (status, _, forbidden) = page(
        &s,
        "/admin",
        &[("cookie", &format!("authgate_token={token}"))],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(forbidden.contains("id=\"forbidden\""));
}

async fn no_methods_and_signup_link(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let (_, _, body) = page(&s, "/signin", &[]).await;
    assert!(!body.contains("signup-link"), "sign-up is off by default");
    let list = s.get("/api/authenticators:list", Some(&admin)).await;
    let id = list.body["data"][0]["id"].as_i64().unwrap();
    s.post(
        &format!("/api/authenticators:update?filterByTk={id}"),
        Some(&admin),
        json!({"options": {"allowSignUp": true}}),
    )
    .await
    .assert_ok();
    let (_, _, body) = page(&s, "/signin?redirect=/x", &[]).await;
    assert!(
        body.contains("href=\"/signup?authenticator=basic&#38;redirect=%2Fx\""),
        "{body}"
    );
    let (_, _, signup) = page(&s, "/signup?authenticator=basic&redirect=/x", &[]).await;
    assert!(signup.contains("class=\"signup-form\"") && signup.contains("name=\"username\""));
    // With no enabled authenticator at all (forced in the database: the API refuses it).
    s.sql("UPDATE authenticators SET enabled = false").await;
    let (_, _, body) = page(&s, "/signin", &[]).await;
    assert!(
        body.contains("No authentication methods available."),
        "{body}"
    );
}

async fn admin_unlinks_an_identity(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let doc = s.get("/api/openapi.json", None).await;
    assert!(doc.body["paths"]["/api/users:unlinkIdentity"].is_object());
    let id = s.create_user(&admin, json!({"username": "linked"})).await;
    let other = s.create_user(&admin, json!({"username": "other"})).await;
    s.sql(&format!(
        "INSERT INTO identities (authenticator, uuid, user_id, nickname, meta, created_at, updated_at) \
         VALUES ('basic', 'u-1', {id}, 'Linked', '{{}}', 0, 0)"
    ))
    .await;
    let got = s
        .get(&format!("/api/users:get?filterByTk={id}"), Some(&admin))
        .await;
    let identity = got.body["data"]["identities"][0]["id"].as_i64().unwrap();
    // Another user's id, or a missing parameter: refused, nothing removed.
    let wrong = s
        .post(
            &format!("/api/users:unlinkIdentity?filterByTk={other}&identityId={identity}"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    let missing = s
        .post(
            &format!("/api/users:unlinkIdentity?filterByTk={id}"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    s.post(
        &format!("/api/users:unlinkIdentity?filterByTk={id}&identityId={identity}"),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_ok();
    let got = s
        .get(&format!("/api/users:get?filterByTk={id}"), Some(&admin))
        .await;
    assert_eq!(got.body["data"]["identities"], json!([]));
    let again = s
        .post(
            &format!("/api/users:unlinkIdentity?filterByTk={id}&identityId={identity}"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

/// Dead ends lead somewhere: an address with no page answers a browser with a page in its
/// language (programs still get JSON), there is a favicon, and `/dingtalk/auto` with nothing
/// set up says what an administrator should do and offers the sign-in page.
async fn dead_ends_lead_somewhere(db: Db) {
    let s = Server::start(db).await;
    let html = [
        ("accept", "text/html,application/xhtml+xml"),
        ("accept-language", "zh-CN"),
    ];
    let (status, headers, body) = page(&s, "/no/such/page", &html).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(
        body.contains("找不到页面") && body.contains(r#"href="/""#),
        "{body}"
    );
    let (status, _, body) = page(&s, "/no/such/page", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["errors"][0]["code"],
        "NOT_FOUND"
    );
    let (status, _, body) = page(&s, "/api/nothing:here", &html).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.starts_with('{'), "the API answers JSON: {body}");
    let (status, headers, body) = page(&s, "/favicon.ico", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/svg+xml");
    assert!(body.starts_with("<svg"));

    let (_, _, body) = page(
        &s,
        "/dingtalk/auto?redirect=%2Fadmin",
        &[("accept-language", "en")],
    )
    .await;
    assert!(
        body.contains("Login-free sign-in inside DingTalk is not set up yet."),
        "{body}"
    );
    assert!(
        body.contains("turn on “Login-free inside the DingTalk client”"),
        "{body}"
    );
    assert!(
        body.contains(r#"href="/signin?redirect=%2Fadmin""#),
        "{body}"
    );
    let (_, _, body) = page(
        &s,
        "/dingtalk/auto?authenticator=dingtalk-hq",
        &[("accept-language", "zh-CN")],
    )
    .await;
    assert!(
        body.contains("没有名为“dingtalk-hq”的已启用钉钉认证器。"),
        "{body}"
    );

    // The sign-in page for someone signed in already: as whom, and a way on.
    let admin = s.admin_token().await;
    let cookie = format!("authgate_token={admin}");
    let (_, _, body) = page(
        &s,
        "/signin?redirect=%2Fadmin",
        &[("cookie", &cookie), ("accept-language", "en")],
    )
    .await;
    assert!(
        body.contains("You are signed in as <strong>Super Admin (admin)</strong>"),
        "{body}"
    );
    assert!(body.contains(r#"id="continue-as" href="/admin""#), "{body}");
    // Not when an application asked for a fresh sign-in: going on would only come back.
    let fresh =
        "/signin?redirect=%2Foidc%2Fauthorize%3Fclient_id%3Dx%26authgate_signed_in_after%3D1";
    let (_, _, body) = page(&s, fresh, &[("cookie", &cookie)]).await;
    assert!(!body.contains("continue-as"), "{body}");
}

both_databases!(
    dead_ends_lead_somewhere,
    pages_have_a_strict_csp_and_signed_out_people_go_to_signin,
    signin_lists_methods_in_the_users_language_and_escapes_everything,
    no_methods_and_signup_link,
    admin_unlinks_an_identity,
);

// ------------------------------------------------------------------------ in Chromium (SQLite)

mod chromium {
    use super::*;

    /// On /admin: the form for a new DingTalk authenticator (generated from listTypes), named
    /// `dingtalk`.
    async fn new_dingtalk_form(b: &Browser) {
        b.until("document.querySelector('#add-type option[value=dingtalk]')")
            .await;
        b.js("document.getElementById('add-type').value = 'dingtalk'; return true;")
            .await;
        b.click("#add-auth").await;
        b.fill("#auth-form input[name=name]", "dingtalk").await;
    }

    /// A DingTalk authenticator whose connection DingTalk refuses never reaches the sign-in
    /// page from the console: it is saved disabled, with DingTalk's reason, until it works.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dingtalk_authenticator_that_does_not_connect_stays_off_the_sign_in_page() {
        let (s, _fake, _admin) = with_fake_dingtalk(Db::Sqlite).await;
        let public = async || -> Vec<String> {
            s.get("/api/authenticators:publicList", None).await.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["name"].as_str().unwrap().to_string())
                .collect()
        };
        let b = Browser::start().await;
        b.sign_in(&s, "/admin", "admin", ADMIN_PASSWORD).await;
        new_dingtalk_form(&b).await;
        b.js(
            "document.querySelector('#auth-form input[name=enabled]').checked = true; return true;",
        )
        .await;
        b.fill("#opt-clientId", DEFAULT_CLIENT_ID).await;
        b.fill("#opt-clientSecret", "not-the-secret").await;
        b.click("#auth-form button[type=submit]").await;
        let message = b.text_of("#admin-error").await;
        assert!(
            message.starts_with("Saved, but left disabled") && message.contains("DingTalk refused"),
            "{message}"
        );
        assert_eq!(public().await, ["basic"]);
        // The right secret, enabled again: tried, and on the sign-in page.
        b.fill("#opt-clientSecret", DEFAULT_CLIENT_SECRET).await;
        b.js(
            "document.querySelector('#auth-form input[name=enabled]').checked = true; return true;",
        )
        .await;
        b.click("#auth-form button[type=submit]").await;
        b.text_of("#admin-notice").await;
        assert_eq!(public().await, ["basic", "dingtalk"]);
        b.quit().await;
    }

    /// On a desktop, filter rows and forms keep their controls to the size of their words:
    /// no page-wide Search, Filter or Save bar, and each token lifetime's number and unit on
    /// one line.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn desktop_forms_keep_buttons_to_their_words() {
        let s = Server::start(Db::Sqlite).await;
        let b = Browser::start().await;
        b.c.set_window_size(1280, 900).await.unwrap();
        b.sign_in(&s, "/admin", "admin", ADMIN_PASSWORD).await;
        let width = async |css: &str| -> f64 {
            b.js(&format!(
                "return document.querySelector({}).getBoundingClientRect().width",
                serde_json::to_string(css).unwrap()
            ))
            .await
            .as_f64()
            .unwrap()
        };
        b.open_admin_tab("sec-users").await;
        assert!(width("#user-search button[type=submit]").await < 200.0);
        b.open_admin_tab("sec-sessions").await;
        assert!(width("#session-filter button[type=submit]").await < 200.0);
        b.open_admin_tab("sec-policy").await;
        b.until(
            "document.querySelector('#policy-form input[name=tokenExpirationTime]').value !== ''",
        )
        .await;
        assert!(width("#policy-form > button[type=submit]").await < 300.0);
        for field in [
            "tokenExpirationTime",
            "sessionExpirationTime",
            "expiredTokenRenewLimit",
        ] {
            let same_line = b
                .js(&format!(
                    "var i = document.querySelector('#policy-form input[name={field}]').getBoundingClientRect();\
                     var u = document.querySelector('#policy-form select[name={field}Unit]').getBoundingClientRect();\
                     return Math.abs(i.top - u.top) < 4 && u.left > i.right;"
                ))
                .await;
            assert_eq!(
                same_line,
                json!(true),
                "{field}: number and unit on one line"
            );
        }
        b.quit().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn admin_signs_in_adds_dingtalk_copies_the_redirect_url_and_tests_the_connection() {
        let (s, _fake, _admin) = with_fake_dingtalk(Db::Sqlite).await;
        let b = Browser::start().await;
        b.sign_in(&s, "/admin", "admin", ADMIN_PASSWORD).await;
        b.find("#auth-table tbody tr[data-name=basic]").await;
        new_dingtalk_form(&b).await;
        b.fill("#auth-form input[name=title]", "DingTalk").await;
        b.fill("#opt-clientId", DEFAULT_CLIENT_ID).await;
        b.fill("#opt-clientSecret", DEFAULT_CLIENT_SECRET).await;
        // The warning next to matchBy: email appears when email is chosen.
        assert!(
            b.js("return document.querySelector('[data-option=matchBy] .warning').hidden")
                .await
                == json!(true)
        );
        b.click("#opt-matchBy input[value=email]").await;
        b.until("!document.querySelector('[data-option=matchBy] .warning').hidden")
            .await;
        b.click("#opt-matchBy input[value=email]").await;
        b.click("#auth-form button[type=submit]").await;
        b.find("#auth-table tbody tr[data-name=dingtalk]").await;
        // The Redirect URL is shown read-only with a copy button; the secret only masked.
        b.until("document.getElementById('redirect-url').value !== ''")
            .await;
        let redirect = b
            .js("return document.getElementById('redirect-url').value")
            .await;
        assert_eq!(redirect, json!(s.url("/api/dingtalk:redirect")));
        assert_eq!(
            b.js("return document.getElementById('redirect-url').readOnly")
                .await,
            json!(true)
        );
        let placeholder = b
            .js("return document.getElementById('opt-clientSecret').placeholder")
            .await;
        assert!(
            placeholder.as_str().unwrap().starts_with("••••cdef"),
            "{placeholder}"
        );
        assert_eq!(
            b.js("return document.getElementById('opt-clientSecret').value")
                .await,
            json!("")
        );
        assert!(!b.source().await.contains(DEFAULT_CLIENT_SECRET));
        b.click("button.copy[data-copy=redirect-url]").await;
        b.until("document.querySelector('button.copy[data-copy=redirect-url]').textContent === 'Copied'").await;
        b.click("#test-connection").await;
        let result = b.text_of("#test-result.notice").await;
        assert!(result.contains("Connected"), "{result}");
        // A wrong secret: DingTalk's own complaint is shown.
        b.fill("#opt-clientSecret", "wrong-secret").await;
        b.click("#test-connection").await;
        let result = b.text_of("#test-result.alert").await;
        assert!(result.contains("DingTalk refused"), "{result}");
        // Disabling the password authenticator would leave the admin (no DingTalk account
        // linked) with no way in: refused, and the reason is shown. Disabling asks first; a
        // "no" sends nothing.
        b.js("window.confirmed = []; window.confirm = function (q) { window.confirmed.push(q); return false; }; return true;")
            .await;
        b.click("#auth-table tbody tr[data-name=basic] button.toggle")
            .await;
        assert_eq!(
            b.js("return window.confirmed").await,
            json!(["Disable Password? Nobody can sign in with it until it is enabled again."])
        );
        assert!(
            b.js("return document.getElementById('admin-error').hidden")
                .await
                == json!(true)
        );
        b.js("window.confirm = function () { return true; }; return true;")
            .await;
        b.click("#auth-table tbody tr[data-name=basic] button.toggle")
            .await;
        let message = b.text_of("#admin-error").await;
        assert_eq!(
            message,
            "An administrator signs in only with a password: keep a password authenticator enabled, or link their DingTalk account first"
        );
        assert_eq!(
            b.text_of("#auth-table tbody tr[data-name=basic] .state")
                .await
                .trim(),
            "Yes"
        );
        b.quit().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn non_admin_gets_403_and_a_wrong_password_is_shown_inline() {
        let s = Server::start(Db::Sqlite).await;
        let admin = s.admin_token().await;
        s.create_user(
            &admin,
            json!({"username": "bob", "nickname": XSS_NICKNAME, "password": "Passw0rd!bob"}),
        )
        .await;
        let b = Browser::start().await;
        b.goto(&s, "/admin").await;
        b.until_at("/signin?redirect=%2Fadmin").await;
        b.fill(".pw-form input[name=account]", "bob").await;
        b.fill(".pw-form input[name=password]", "not-the-password")
            .await;
        b.click(".pw-form button[type=submit]").await;
        let error = b.text_of(".pw-form .form-error[role=alert]").await;
        assert!(error.contains("incorrect"), "{error}");
        assert_eq!(b.path().await, "/signin?redirect=%2Fadmin");
        b.fill(".pw-form input[name=password]", "Passw0rd!bob")
            .await;
        b.click(".pw-form button[type=submit]").await;
        b.until_at("/admin").await;
        let title = b.text_of("#forbidden h1").await;
        assert_eq!(title, "Access denied");
        // The nickname with markup is text on the account page; no image was created, no alert.
        b.goto(&s, "/").await;
        assert_eq!(b.text_of("#me-nickname").await, XSS_NICKNAME);
        assert_eq!(
            b.js("return document.querySelectorAll('img[src=x]').length")
                .await,
            json!(0)
        );
        // The admin console lists it as text as well.
        let a = Browser::start().await;
        a.sign_in(&s, "/admin", "admin", ADMIN_PASSWORD).await;
        a.click("[data-panel=sec-users]").await;
        a.fill("#user-search input[name=q]", "bob").await;
        a.click("#user-search button[type=submit]").await;
        a.until("document.querySelectorAll('#user-table tbody tr').length === 1")
            .await;
        assert_eq!(a.text_of("#user-table td.nickname").await, XSS_NICKNAME);
        assert_eq!(
            a.js("return document.querySelectorAll('img[src=x]').length")
                .await,
            json!(0)
        );
        // The admin revokes bob's sessions: bob's browser is signed out at its next request.
        a.click("[data-panel=sec-sessions]").await;
        // People are found by name: "bob" is enough.
        a.fill("#session-filter input[name=user]", "bob").await;
        a.click("#session-filter button[type=submit]").await;
        a.find("#session-table button.revoke").await;
        // Revoking everything asks first; "no" changes nothing.
        a.js("window.confirm = function () { return false; }; return true;")
            .await;
        a.click("#revoke-user").await;
        assert_eq!(
            s.get("/api/sessions:list?user=bob", Some(&admin))
                .await
                .body["data"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        a.js("window.confirm = function () { return true; }; return true;")
            .await;
        a.click("#revoke-user").await;
        a.text_of("#admin-notice").await;
        b.goto(&s, "/").await;
        b.until_at("/signin?redirect=%2F").await;
        a.quit().await;
        b.quit().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_user_links_and_unlinks_dingtalk_on_their_account_page() {
        let (s, _fake, admin) = with_fake_dingtalk(Db::Sqlite).await;
        s.create_user(
            &admin,
            json!({"username": "carl", "password": "carl-Passw0rd!"}),
        )
        .await;
        create_dingtalk(&s, &admin, "dingtalk", "Corp DingTalk", json!({})).await;
        let b = Browser::start().await;
        b.sign_in(&s, "/", "carl", "carl-Passw0rd!").await;
        b.until_at("/").await;
        assert_eq!(
            b.text_of(".link-dingtalk[data-authenticator=dingtalk]")
                .await,
            "Link DingTalk account: Corp DingTalk"
        );
        b.click(".link-dingtalk[data-authenticator=dingtalk]").await;
        b.click("button[data-userid=zhangsan]").await;
        b.until_at("/").await;
        assert_eq!(b.text_of(".identity .identity-name").await, "张三");
        assert_eq!(b.text_of(".identity .muted").await, "Corp DingTalk");
        // The admin console names the account by its authenticator's title, and unlinking
        // there asks first too.
        let a = Browser::start().await;
        a.sign_in(&s, "/admin", "admin", ADMIN_PASSWORD).await;
        a.open_admin_tab("sec-users").await;
        a.fill("#user-search input[name=q]", "carl").await;
        a.click("#user-search button[type=submit]").await;
        a.until("document.querySelectorAll('#user-table tbody tr').length === 1")
            .await;
        a.click("#user-table tbody button.edit").await;
        let listed = a.text_of("#user-identities .identity span").await;
        assert!(listed.starts_with("张三 · Corp DingTalk · "), "{listed}");
        a.js("window.confirm = function () { return false; }; return true;")
            .await;
        a.click("#user-identities button.danger").await;
        let carl =
            s.get("/api/users:list?q=carl", Some(&admin)).await.body["data"][0]["id"].clone();
        assert_eq!(
            s.get(&format!("/api/users:get?filterByTk={carl}"), Some(&admin))
                .await
                .body["data"]["identities"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        a.quit().await;
        // Unlinking asks first; a "no" changes nothing, a "yes" unlinks.
        b.js("window.confirm = function () { return false; }").await;
        b.click("button.unlink").await;
        assert_eq!(b.text_of(".identity .identity-name").await, "张三");
        b.js("window.confirm = function () { return true; }").await;
        b.click("button.unlink").await;
        b.until("document.querySelector('.identity') === null")
            .await;
        assert_eq!(
            b.text_of(".link-dingtalk[data-authenticator=dingtalk]")
                .await,
            "Link DingTalk account: Corp DingTalk"
        );
        b.quit().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dingtalk_button_signs_in_and_failures_show_at_the_button_in_both_languages() {
        let (s, _fake, admin) = with_fake_dingtalk(Db::Sqlite).await;
        // Alice's DingTalk number, spelled another way.
        s.create_user(
            &admin,
            json!({"username": "alice_w", "phone": "+86 138-0013-8000"}),
        )
        .await;
        create_dingtalk(&s, &admin, "dingtalk", "", json!({"autoSignup": false})).await;
        let b = Browser::start().await;
        b.goto(&s, "/signin?redirect=%2Fsomewhere%3Fx%3D1").await;
        let button = b.text_of(".sso-button[data-authenticator=dingtalk]").await;
        assert_eq!(button, "Sign in via DingTalk");
        b.click(".sso-button[data-authenticator=dingtalk]").await;
        b.click("button[data-userid=alice]").await;
        b.until_at("/somewhere?x=1").await;
        b.goto(&s, "/").await;
        assert_eq!(b.text_of("#me-username").await, "alice_w");
        b.click("#signout").await;
        b.until_at("/signin").await;

        // zhangsan has no account and sign-up is off: the message comes back at the button, in
        // Chinese after the switch (remembered across pages).
        b.click(".lang-switch").await;
        b.until("document.documentElement.lang === 'zh-CN'").await;
        b.goto(&s, "/signin?redirect=%2Fx").await;
        assert_eq!(b.text_of("h1").await, "登录");
        assert_eq!(
            b.text_of(".sso-button[data-authenticator=dingtalk]").await,
            "钉钉登录"
        );
        b.click(".sso-button[data-authenticator=dingtalk]").await;
        b.click("button[data-userid=zhangsan]").await;
        b.until("location.pathname === '/signin' && location.search.indexOf('error=') >= 0")
            .await;
        let error = b.text_of("[data-error-for=dingtalk][role=alert]").await;
        assert!(!error.is_empty());
        let below_form = b
            .js("return document.querySelector('.pw-form').getBoundingClientRect().bottom <= document.querySelector('.sso-button').getBoundingClientRect().top")
            .await;
        assert_eq!(below_form, json!(true));
        assert_eq!(
            b.js("return new URLSearchParams(location.search).get('redirect')")
                .await,
            json!("/x")
        );
        b.quit().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn admin_manages_users_policy_and_audit_and_a_user_changes_their_password() {
        let s = Server::start(Db::Sqlite).await;
        let a = Browser::start().await;
        a.sign_in(&s, "/admin", "admin", ADMIN_PASSWORD).await;
        // Create a user in the form, with a password.
        a.click("[data-panel=sec-users]").await;
        a.find("#user-table tbody tr").await;
        a.click("#user-new").await;
        a.fill("#user-form input[name=username]", "dora").await;
        a.fill("#user-form input[name=nickname]", "朵拉").await;
        a.fill("#user-form input[name=password]", "Passw0rd!dora")
            .await;
        a.click("#user-form button[type=submit]").await;
        a.text_of("#admin-notice").await;
        a.until("Array.prototype.some.call(document.querySelectorAll('#user-table td.nickname'), function (td) { return td.textContent === '朵拉'; })").await;
        // Token policy: a token that outlives the session is refused with the rule's text.
        a.click("[data-panel=sec-policy]").await;
        a.until(
            "document.querySelector('#policy-form input[name=tokenExpirationTime]').value !== ''",
        )
        .await;
        a.js("document.querySelector('#policy-form input[name=tokenExpirationTime]').value = '30'; return true;").await;
        a.js("document.querySelector('#policy-form select[name=tokenExpirationTimeUnit]').value = 'd'; return true;").await;
        a.click("#policy-form button[type=submit]").await;
        assert_eq!(
            a.text_of("#policy-form .form-error").await,
            "The token lifetime must be shorter than the session lifetime"
        );
        a.js("document.querySelector('#policy-form input[name=tokenExpirationTime]').value = '2'; return true;").await;
        a.js("document.querySelector('#policy-form select[name=tokenExpirationTimeUnit]').value = 'h'; return true;").await;
        a.click("#policy-form button[type=submit]").await;
        a.text_of("#admin-notice").await;
        let policy = s
            .get("/api/tokenPolicies:get", Some(&s.admin_token().await))
            .await;
        assert_eq!(
            policy.body["data"]["config"]["tokenExpirationTime"],
            json!("2h")
        );

        // Dora signs in (one wrong try first) and changes her password on the account page.
        let d = Browser::start().await;
        d.goto(&s, "/signin").await;
        d.fill(".pw-form input[name=account]", "dora").await;
        d.fill(".pw-form input[name=password]", "wrong-password")
            .await;
        d.click(".pw-form button[type=submit]").await;
        d.text_of(".pw-form .form-error").await;
        d.fill(".pw-form input[name=password]", "Passw0rd!dora")
            .await;
        d.click(".pw-form button[type=submit]").await;
        d.until_at("/").await;
        assert_eq!(d.text_of("#me-nickname").await, "朵拉");
        d.fill("#change-password input[name=oldPassword]", "Passw0rd!dora")
            .await;
        d.fill(
            "#change-password input[name=newPassword]",
            "N3w-Passw0rd!dora",
        )
        .await;
        d.fill(
            "#change-password input[name=confirmPassword]",
            "N3w-Passw0rd!dora",
        )
        .await;
        d.click("#change-password button[type=submit]").await;
        d.text_of("#change-password .form-ok").await;
        s.sign_in("dora", "N3w-Passw0rd!dora").await;
        // Still signed in on the page after the change.
        d.goto(&s, "/").await;
        d.find("#me-nickname").await;
        d.quit().await;

        // The audit log filtered to failures shows dora's wrong password.
        a.click("[data-panel=sec-audit]").await;
        a.find("#audit-table tbody tr").await;
        a.js("document.querySelector('#audit-filter select[name=result]').value = 'failure'; return true;").await;
        // By her name, not a number; the log names her too.
        a.fill("#audit-filter input[name=user]", "朵拉").await;
        a.click("#audit-filter button[type=submit]").await;
        a.until("document.querySelectorAll('#audit-table tbody tr').length > 0 && Array.prototype.every.call(document.querySelectorAll('#audit-table tbody tr'), function (tr) { return tr.classList.contains('failure') && tr.children[3].textContent === '朵拉'; })").await;
        a.quit().await;
    }

    const DINGTALK_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 \
        (KHTML, like Gecko) Mobile/15E148 AliApp(DingTalk/7.6.0) DingTalk/7.6.0 language/zh-Hans-CN";

    /// A stand-in for the DingTalk client's `dd` that hands out `code` (the vendored JSAPI's
    /// own `var dd` cannot replace it: the setter ignores it).
    fn dd_stub(code: &str) -> String {
        format!(
            "(function(){{var stub={{env:{{platform:'ios'}},ready:function(f){{f()}},setNavigationTitle:function(){{}},\
             requestAuthCode:function(o){{sessionStorage.setItem('ddArgs',JSON.stringify({{corpId:o.corpId,clientId:o.clientId}}));\
             setTimeout(function(){{o.onSuccess({{code:{code}}})}},0)}}}};\
             Object.defineProperty(window,'dd',{{configurable:true,get:function(){{return stub}},set:function(){{}}}});}})();",
            code = serde_json::to_string(code).unwrap()
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn in_client_auto_login_signs_in_whoever_dingtalk_says_each_time() {
        let (s, fake, admin) = with_fake_dingtalk(Db::Sqlite).await;
        let alice = s
            .create_user(
                &admin,
                json!({"username": "alice_w", "phone": "+8613800138000"}),
            )
            .await;
        create_dingtalk(
            &s,
            &admin,
            "dingtalk",
            "",
            json!({"autoLoginInClient": true, "corpId": DEFAULT_CORP_ID}),
        )
        .await;
        let b = Browser::launch(PHONE, Some(DINGTALK_UA)).await;
        let code = fake
            .mint_in_client_code(DEFAULT_CLIENT_ID, "alice")
            .unwrap();
        b.before_every_page(&dd_stub(&code)).await;
        b.goto(&s, "/dingtalk/auto?corpId=$CORPID$&redirect=%2Fafter")
            .await;
        b.until_at("/after").await;
        let args: Value = serde_json::from_str(
            b.js("return sessionStorage.getItem('ddArgs')")
                .await
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            args,
            json!({"corpId": DEFAULT_CORP_ID, "clientId": DEFAULT_CLIENT_ID})
        );
        b.goto(&s, "/").await;
        assert_eq!(b.text_of("#me-username").await, "alice_w");
        // The DingTalk user switches accounts: the next visit signs in the new one, not alice.
        let code = fake
            .mint_in_client_code(DEFAULT_CLIENT_ID, "zhangsan")
            .unwrap();
        b.before_every_page(&dd_stub(&code)).await;
        b.goto(&s, "/dingtalk/auto?redirect=%2F").await;
        b.until("location.pathname === '/' && document.getElementById('me-username')")
            .await;
        let who = b
            .js("return document.getElementById('me-username').textContent")
            .await;
        assert_ne!(who, json!("alice_w"));
        let alice_sessions = s
            .get(&format!("/api/sessions:list?userId={alice}"), Some(&admin))
            .await;
        assert_eq!(
            alice_sessions.body["meta"]["count"],
            json!(0),
            "{}",
            alice_sessions.body
        );
        // A code DingTalk refuses: the error is shown in the page's language, with a retry.
        b.before_every_page(&dd_stub("not-a-code")).await;
        b.goto(&s, "/dingtalk/auto").await;
        let error = b.text_of("[data-error-for=dingtalk][role=alert]").await;
        assert!(
            error.starts_with("钉钉登录失败") || error.starts_with("DingTalk sign-in failed"),
            "{error}"
        );
        b.find("#auto-retry").await;
        b.quit().await;
    }

    /// WCAG AA on the sign-in page: the DingTalk button's text at least 4.5:1 against its
    /// background, and a text field's border at least 3:1 against the card (non-text contrast).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sign_in_page_meets_aa_contrast() {
        let (s, _fake, admin) = with_fake_dingtalk(Db::Sqlite).await;
        create_dingtalk(&s, &admin, "dingtalk", "", json!({})).await;
        let b = Browser::start().await;
        b.goto(&s, "/signin").await;
        b.find(".sso-button.dingtalk").await;
        let ratio = |fg: &str, bg: &str| {
            format!(
                "return (function(){{\
                 function rgb(c){{return c.match(/[0-9.]+/g).slice(0,3).map(Number);}}\
                 function lum(c){{var v=rgb(c).map(function(x){{x/=255;return x<=0.03928?x/12.92:Math.pow((x+0.055)/1.055,2.4);}});return 0.2126*v[0]+0.7152*v[1]+0.0722*v[2];}}\
                 var a=lum({fg}), b=lum({bg});\
                 return (Math.max(a,b)+0.05)/(Math.min(a,b)+0.05);}})()"
            )
        };
        let button = "getComputedStyle(document.querySelector('.sso-button.dingtalk'))";
        let text = b
            .js(&ratio(
                &format!("{button}.color"),
                &format!("{button}.backgroundColor"),
            ))
            .await;
        assert!(
            text.as_f64().unwrap() >= 4.5,
            "DingTalk button text {text}:1"
        );
        let field = "getComputedStyle(document.querySelector('input[name=account]'))";
        let card = "getComputedStyle(document.querySelector('main.card'))";
        let border = b
            .js(&ratio(
                &format!("{field}.borderTopColor"),
                &format!("{card}.backgroundColor"),
            ))
            .await;
        assert!(
            border.as_f64().unwrap() >= 3.0,
            "text field border {border}:1"
        );
        b.quit().await;
    }

    /// What a page marks `hidden` takes no space on any page or admin tab, the user form for a
    /// new user included (a rule such as `button { display: inline-block }` would show it).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nothing_marked_hidden_is_shown() {
        let (s, _fake, _admin) = with_fake_dingtalk(Db::Sqlite).await;
        let b = Browser::start().await;
        let shown = "return Array.from(document.querySelectorAll('[hidden]')).filter(function(e){return e.getClientRects().length > 0;}).map(function(e){return e.id || e.className || e.tagName;})";
        for path in ["/signin", "/signup", "/dingtalk/auto"] {
            b.goto(&s, path).await;
            b.find("main").await;
            b.until("document.readyState === 'complete'").await;
            assert_eq!(b.js(shown).await, json!([]), "{path}");
        }
        b.sign_in(&s, "/admin", "admin", ADMIN_PASSWORD).await;
        b.find("#auth-table tbody tr").await;
        for tab in crate::page_checks::ADMIN_TABS {
            b.open_admin_tab(tab).await;
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            assert_eq!(b.js(shown).await, json!([]), "{tab}");
        }
        b.click(".tab[data-panel=sec-users]").await;
        b.click("#user-new").await;
        b.until("!document.getElementById('user-form').hidden")
            .await;
        assert_eq!(b.js(shown).await, json!([]), "the new user form");
        b.quit().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_page_fits_a_phone_screen() {
        let (s, _fake, admin) = with_fake_dingtalk(Db::Sqlite).await;
        create_dingtalk(
            &s,
            &admin,
            "dingtalk",
            "",
            json!({"autoLoginInClient": true, "corpId": DEFAULT_CORP_ID}),
        )
        .await;
        s.create_user(
            &admin,
            json!({"username": "carol", "password": "Passw0rd!carol"}),
        )
        .await;
        let basic =
            s.get("/api/authenticators:list", Some(&admin)).await.body["data"][0]["id"].clone();
        s.post(
            &format!("/api/authenticators:update?filterByTk={basic}"),
            Some(&admin),
            json!({"options": {"allowSignUp": true}}),
        )
        .await
        .assert_ok();
        let b = Browser::launch(PHONE, None).await;
        let fits = "document.documentElement.scrollWidth <= window.innerWidth";
        let primary_visible = "(function(){var e=document.querySelector('button.primary, .sso-button, a.button.primary'); if(!e) return false; var r=e.getBoundingClientRect(); return r.width>0 && r.left>=0 && r.right<=window.innerWidth;})()";
        for path in ["/signin", "/signup", "/dingtalk/auto"] {
            b.goto(&s, path).await;
            b.find("main").await;
            b.until("document.readyState === 'complete'").await;
            assert_eq!(b.js("return window.innerWidth").await, json!(375));
            assert_eq!(
                b.js(&format!("return {fits}")).await,
                json!(true),
                "{path} scrolls sideways"
            );
            assert_eq!(
                b.js(&format!("return {primary_visible}")).await,
                json!(true),
                "{path}: no visible primary button"
            );
        }
        b.sign_in(&s, "/", "admin", ADMIN_PASSWORD).await;
        b.find("#my-sessions tbody tr").await;
        assert_eq!(
            b.js(&format!("return {fits}")).await,
            json!(true),
            "/ scrolls sideways"
        );
        b.goto(&s, "/admin").await;
        b.find("#auth-table tbody tr").await;
        for tab in [
            "sec-authenticators",
            "sec-users",
            "sec-sessions",
            "sec-policy",
            "sec-audit",
        ] {
            b.click(&format!("[data-panel={tab}]")).await;
            b.until(&format!("!document.getElementById('{tab}').hidden"))
                .await;
            b.until(&format!(
                "'{tab}' === 'sec-policy' || document.querySelector('#{tab} tbody tr')"
            ))
            .await;
            assert_eq!(
                b.js(&format!("return {fits}")).await,
                json!(true),
                "admin {tab} scrolls sideways"
            );
        }
        b.click("[data-panel=sec-authenticators]").await;
        b.click("#auth-table tbody tr[data-name=dingtalk] button.edit")
            .await;
        b.until("document.getElementById('redirect-url').value !== ''")
            .await;
        assert_eq!(
            b.js(&format!("return {fits}")).await,
            json!(true),
            "the DingTalk form scrolls sideways"
        );
        // The 403 page.
        let c = Browser::launch(PHONE, None).await;
        c.sign_in(&s, "/admin", "carol", "Passw0rd!carol").await;
        c.find("#forbidden").await;
        assert_eq!(
            c.js(&format!("return {fits}")).await,
            json!(true),
            "403 scrolls sideways"
        );
        c.quit().await;
        b.quit().await;
    }
}
