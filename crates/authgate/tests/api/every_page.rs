//! Every page and admin tab as people see it, at a phone's width (375) and a desktop's (1280),
//! in English and Chinese, with realistic data (several sessions, a long user agent, long and
//! Chinese names): each passes `check_page` (WCAG 2.1 AA by axe-core, vendored in
//! `tests/vendor/axe-core`; no overflow, no broken words, no dead buttons, nothing hidden
//! shown) and leaves its picture in the screenshot folder (`$AUTHGATE_SCREENS`, else
//! /tmp/screens). The pages: sign-in (with a DingTalk button, a wrong password, a DingTalk
//! failure, someone signed in already), sign-up, `/dingtalk/auto` outside DingTalk, the
//! account page, sign-out, the 403 and 404 pages, forward auth's "no access" page, and the
//! admin console's tabs and forms. SQLite only, like the other page tests: what a page shows
//! does not depend on the database.

use crate::browser::{as_admin_at_each_width_and_language, at_each_width_and_language, Browser};
use crate::page_checks::ADMIN_TABS;
use crate::support::*;
use serde_json::json;

/// What a phone's DingTalk client says it is: long, and without a space for 60 characters.
const LONG_USER_AGENT: &str =
    "Mozilla/5.0 (Linux; Android 13; 22081212C Build/TKQ1.220829.002; wv) AppleWebKit/537.36 \
    (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 AliApp(DingTalk/7.6.10) \
    com.alibaba.android.rimet/37411375 Channel/227200 language/zh-CN abi/64 UT4Aplus/0.2.25";

const CAROL_PASSWORD: &str = "carol-Passw0rd!";

/// A DingTalk authenticator (its button on the sign-in page, login-free in the client on, so
/// `/dingtalk/auto` shows its fallback outside DingTalk), sign-up with a password allowed, a
/// user who is not an administrator, an application and access rules (so that every admin
/// table has rows): the one for `app.corp.test` lets only administrators in.
async fn server() -> Server {
    let s = Server::start(Db::Sqlite).await;
    let admin = s.admin_token().await;
    s.post(
        "/api/authenticators:create",
        Some(&admin),
        json!({"name": "dingtalk", "authType": "dingtalk", "title": "", "enabled": true,
               "options": {"clientId": "ding-client-id", "clientSecret": "ding-client-secret",
                           "autoLoginInClient": true, "corpId": "dingcorp001"}}),
    )
    .await
    .assert_ok();
    let basic = s.get("/api/authenticators:list", Some(&admin)).await.body["data"][0]["id"].clone();
    s.post(
        &format!("/api/authenticators:update?filterByTk={basic}"),
        Some(&admin),
        json!({"options": {"allowSignUp": true}}),
    )
    .await
    .assert_ok();
    s.create_user(
        &admin,
        json!({"username": "carol", "nickname": "Carol 陈", "email": "carol@corp.test", "password": CAROL_PASSWORD}),
    )
    .await;
    s.create_user(
        &admin,
        json!({"username": "zhangwei", "nickname": "张伟", "phone": "+8613800138000", "password": "zhangwei-Passw0rd!"}),
    )
    .await;
    s.create_user(
        &admin,
        json!({"username": "alexandra_konstantinopoulou", "nickname": "Alexandra Konstantinopoulou-Vasilopoulou",
               "email": "alexandra.konstantinopoulou@corporate-headquarters.example", "password": "alexandra-Passw0rd!"}),
    )
    .await;
    // Sessions on several devices, one of them the DingTalk client's long user agent.
    for (account, password, agent) in [
        ("carol", CAROL_PASSWORD, LONG_USER_AGENT),
        ("carol", CAROL_PASSWORD, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15"),
        ("zhangwei", "zhangwei-Passw0rd!", LONG_USER_AGENT),
        ("alexandra_konstantinopoulou", "alexandra-Passw0rd!", "curl/8.5.0"),
    ] {
        let r = s
            .http
            .post(s.url("/api/auth:signIn"))
            .header("X-Authenticator", "basic")
            .header("User-Agent", agent)
            .json(&json!({"account": account, "password": password}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    s.post(
        "/api/oidcClients:create",
        Some(&admin),
        json!({"name": "Grafana", "redirectUris": ["https://grafana.corp.test/login/generic_oauth"]}),
    )
    .await
    .assert_ok();
    for rule in [
        json!({"host": "app.corp.test", "allow": {"admins": true}, "note": "Administrators only"}),
        json!({"host": "wiki.corp.test", "allow": {"signedIn": true}}),
    ] {
        s.post("/api/accessRules:create", Some(&admin), rule)
            .await
            .assert_ok();
    }
    s
}

/// Waits until the page has loaded and its scripts have run.
async fn loaded(b: &Browser) {
    b.find("main").await;
    b.until("document.readyState === 'complete'").await;
}

mod chromium {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sign_in_sign_up_and_dingtalk_auto() {
        let s = server().await;
        at_each_width_and_language(&s, 1600, async |b, tag, width| {
            let at = format!("{tag} {width}");
            b.goto(&s, "/signin").await;
            loaded(b).await;
            b.find(".sso-button.dingtalk").await;
            b.check_page("signin", &at).await;
            // A wrong password: the message in the form (an account of its own each time, so
            // that no account is locked).
            let account = format!("nobody-{}", at.replace(' ', "-"));
            b.fill(".pw-form input[name=account]", &account).await;
            b.fill(".pw-form input[name=password]", "not-the-password")
                .await;
            b.click(".pw-form button[type=submit]").await;
            b.text_of(".pw-form .form-error[role=alert]").await;
            b.check_page("signin-wrong-password", &at).await;
            // A DingTalk sign-in that came back with an error: the message at its button.
            b.goto(&s, "/signin?authenticator=dingtalk&error=consent_denied")
                .await;
            loaded(b).await;
            b.text_of("[data-error-for=dingtalk][role=alert]").await;
            b.check_page("signin-dingtalk-error", &at).await;
            b.goto(&s, "/signup?authenticator=basic").await;
            loaded(b).await;
            b.find(".signup-form input[name=username]").await;
            b.check_page("signup", &at).await;
            // Outside DingTalk: the explanation and the ordinary DingTalk button.
            b.goto(&s, "/dingtalk/auto").await;
            loaded(b).await;
            b.until("!document.getElementById('fallback').hidden").await;
            b.check_page("dingtalk-auto", &at).await;
            // A link naming an authenticator that is not there: what to do about it.
            b.goto(&s, "/dingtalk/auto?authenticator=dingtalk-hq").await;
            loaded(b).await;
            b.find("#auto-unconfigured").await;
            b.check_page("dingtalk-auto-unconfigured", &at).await;
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn account_sign_out_and_refusals() {
        let s = server().await;
        at_each_width_and_language(&s, 1600, async |b, tag, width| {
            let at = format!("{tag} {width}");
            b.sign_in(&s, "/", "carol", CAROL_PASSWORD).await;
            b.find("#my-sessions tbody tr").await;
            b.find(".link-dingtalk[data-authenticator=dingtalk]").await;
            b.check_page("account", &at).await;
            // The sign-in page for someone signed in already: as whom, and "continue".
            b.goto(&s, "/signin?redirect=%2F").await;
            b.find("#signed-in-as #continue-as").await;
            b.check_page("signin-signed-in", &at).await;
            b.goto(&s, "/no-such-page").await;
            b.find("#not-found").await;
            b.check_page("not-found", &at).await;
            b.goto(&s, "/signout").await;
            b.find("#signout-yes").await;
            b.check_page("signout", &at).await;
            // The admin console for someone who is not an administrator: 403.
            b.goto(&s, "/admin").await;
            b.find("#forbidden").await;
            b.check_page("admin-forbidden", &at).await;
            // Forward auth's "no access" page, as a proxy in front of app.corp.test (admins
            // only) would show it: the browser asks nginx's endpoint itself, with the header
            // the proxy would add.
            b.cdp("Network.enable", json!({})).await;
            b.cdp(
                "Network.setExtraHTTPHeaders",
                json!({"headers": {"X-Original-URL": "http://app.corp.test/settings"}}),
            )
            .await;
            b.goto(&s, "/api/authz/auth-request").await;
            b.cdp("Network.setExtraHTTPHeaders", json!({"headers": {}}))
                .await;
            b.find("#denied #switch-account").await;
            b.check_page("forward-auth-denied", &at).await;
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_admin_tab_and_form() {
        let s = server().await;
        as_admin_at_each_width_and_language(&s, 3000, async |b, tag, width| {
            let at = format!("{tag} {width}");
            b.find("#auth-table tbody tr[data-name=dingtalk]").await;
            for tab in ADMIN_TABS {
                b.open_admin_tab(tab).await;
                if tab == "sec-policy" {
                    b.until("document.querySelector('#policy-form input[name=tokenExpirationTime]').value !== ''")
                        .await;
                } else {
                    b.find(&format!("#{tab} tbody tr")).await;
                }
                b.check_page(&format!("admin-{tab}"), &at).await;
            }
            // The forms: DingTalk's (with its Redirect URL), a new application, rule and user.
            b.click(".tab[data-panel=sec-authenticators]").await;
            b.click("#auth-table tbody tr[data-name=dingtalk] button.edit")
                .await;
            b.until("document.getElementById('redirect-url').value !== ''")
                .await;
            b.check_page("admin-dingtalk-form", &at)
                .await;
            b.click("#auth-form button.cancel").await;
            for (tab, new, form) in [
                ("sec-apps", "#app-new", "app-form"),
                ("sec-rules", "#rule-new", "rule-form"),
                ("sec-users", "#user-new", "user-form"),
            ] {
                b.open_admin_tab(tab).await;
                b.click(new).await;
                b.until(&format!("!document.getElementById('{form}').hidden"))
                    .await;
                b.check_page(&format!("admin-{form}"), &at).await;
            }
            // The administrator's own account page.
            b.goto(&s, "/").await;
            b.find("#my-sessions tbody tr").await;
            b.check_page("account-admin", &at)
                .await;
        })
        .await;
    }

    /// The other checks themselves: a Chinese page with English help, a button with no
    /// handler, something hidden that shows, a word broken across lines and a page wider than
    /// the phone are each reported.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn layout_and_language_checks_report_what_they_should() {
        let s = Server::start(Db::Sqlite).await;
        let b = Browser::launch(Some((375, 800)), None).await;
        b.before_every_page(crate::page_checks::LISTENER_SPY).await;
        b.goto(&s, "/signin").await;
        b.js("document.cookie = 'lang=zh-CN; path=/'; return true;")
            .await;
        b.goto(&s, "/signin").await;
        loaded(&b).await;
        assert_eq!(b.layout_problems().await, Vec::<String>::new());
        assert_eq!(b.english_on_a_chinese_page().await, Vec::<String>::new());
        b.js("var m = document.querySelector('main');\
              var p = m.appendChild(document.createElement('p')); p.className = 'help'; p.textContent = '请 Save changes';\
              var dead = m.appendChild(document.createElement('button')); dead.type = 'button'; dead.textContent = '无用';\
              var h = m.appendChild(document.createElement('div')); h.hidden = true; h.style.setProperty('display', 'block', 'important'); h.textContent = '隐藏';\
              var w = m.appendChild(document.createElement('div')); w.style.width = '30px'; w.textContent = 'Konstantin';\
              var wide = m.appendChild(document.createElement('div')); wide.style.width = '900px'; wide.textContent = '宽';\
              return true;")
            .await;
        let english = b.english_on_a_chinese_page().await;
        assert!(
            english.iter().any(|l| l.starts_with("\"Save\" in p")),
            "{english:?}"
        );
        let layout = b.layout_problems().await.join("\n");
        for expected in [
            "px wide in a 375 px window",
            "shown although hidden: div",
            "\"Konstantin\" is broken across lines",
            "a button that does nothing: button \"无用\"",
        ] {
            assert!(layout.contains(expected), "{expected}: {layout}");
        }
        b.quit().await;
    }

    /// The checker itself: a page with a known fault (an image with no text alternative, a
    /// button with no name) is reported, rule by rule.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn axe_reports_what_it_should() {
        let s = Server::start(Db::Sqlite).await;
        let b = Browser::start().await;
        b.goto(&s, "/signin").await;
        loaded(&b).await;
        b.js("var m = document.querySelector('main'); m.appendChild(document.createElement('img')).src = '/assets/none.png'; m.appendChild(document.createElement('button')); return true;")
            .await;
        let found = b.axe_violations().await;
        assert!(
            found
                .iter()
                .any(|v| v.starts_with("image-alt (critical): "))
                && found
                    .iter()
                    .any(|v| v.starts_with("button-name (critical): ")),
            "{found:#?}"
        );
        b.quit().await;
    }
}
