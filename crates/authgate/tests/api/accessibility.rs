//! WCAG 2.1 AA, checked by axe-core (vendored: `tests/vendor/axe-core`) in a real headless
//! Chromium on every page and admin tab, at a phone's width (375) and a desktop's (1280), in
//! English and Chinese: sign-in (with a DingTalk button, a wrong password, a DingTalk failure,
//! someone signed in already), sign-up, `/dingtalk/auto` outside DingTalk, the account page,
//! sign-out, the 403 and 404 pages, forward auth's "no access" page, and the admin console's
//! tabs and forms. SQLite only, like the other page tests: what a page shows does not depend on
//! the database.

use crate::browser::{as_admin_at_each_width_and_language, Browser};
use crate::support::*;
use serde_json::json;

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

/// A browser at a phone's width (375, as tall as `as_admin_at_each_width_and_language` makes
/// it) and at a desktop's (1280), each in English and Chinese, signed out; `then` gets the
/// browser and a label such as `en 375` for the messages.
async fn at_each_width_and_language(s: &Server, mut then: impl AsyncFnMut(&Browser, &str)) {
    for width in [375u32, 1280] {
        let b = if width == 375 {
            Browser::launch(Some((width, 4000)), None).await
        } else {
            Browser::start().await
        };
        for lang in ["en", "zh-CN"] {
            let tag = if lang == "en" { "en" } else { "zh" };
            b.c.delete_all_cookies().await.unwrap();
            b.goto(s, "/signin").await;
            b.js(&format!(
                "document.cookie = 'lang={lang}; path=/'; return true;"
            ))
            .await;
            then(&b, &format!("{tag} {width}")).await;
        }
        b.quit().await;
    }
}

/// Waits until the page has loaded and its scripts have run.
async fn loaded(b: &Browser) {
    b.find("main").await;
    b.until("document.readyState === 'complete'").await;
}

mod chromium {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sign_in_sign_up_and_dingtalk_auto_meet_wcag_aa() {
        let s = server().await;
        at_each_width_and_language(&s, async |b, at| {
            b.goto(&s, "/signin").await;
            loaded(b).await;
            b.find(".sso-button.dingtalk").await;
            b.assert_accessible(&format!("/signin {at}")).await;
            // A wrong password: the message in the form (an account of its own each time, so
            // that no account is locked).
            let account = format!("nobody-{}", at.replace(' ', "-"));
            b.fill(".pw-form input[name=account]", &account).await;
            b.fill(".pw-form input[name=password]", "not-the-password")
                .await;
            b.click(".pw-form button[type=submit]").await;
            b.text_of(".pw-form .form-error[role=alert]").await;
            b.assert_accessible(&format!("/signin with a wrong password {at}"))
                .await;
            // A DingTalk sign-in that came back with an error: the message at its button.
            b.goto(&s, "/signin?authenticator=dingtalk&error=consent_denied")
                .await;
            loaded(b).await;
            b.text_of("[data-error-for=dingtalk][role=alert]").await;
            b.assert_accessible(&format!("/signin with a DingTalk error {at}"))
                .await;
            b.goto(&s, "/signup?authenticator=basic").await;
            loaded(b).await;
            b.find(".signup-form input[name=username]").await;
            b.assert_accessible(&format!("/signup {at}")).await;
            // Outside DingTalk: the explanation and the ordinary DingTalk button.
            b.goto(&s, "/dingtalk/auto").await;
            loaded(b).await;
            b.until("!document.getElementById('fallback').hidden").await;
            b.assert_accessible(&format!("/dingtalk/auto {at}")).await;
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn account_sign_out_and_no_access_pages_meet_wcag_aa() {
        let s = server().await;
        at_each_width_and_language(&s, async |b, at| {
            b.sign_in(&s, "/", "carol", CAROL_PASSWORD).await;
            b.find("#my-sessions tbody tr").await;
            b.find(".link-dingtalk[data-authenticator=dingtalk]").await;
            b.assert_accessible(&format!("/ (a user's account) {at}"))
                .await;
            // The sign-in page for someone signed in already: as whom, and "continue".
            b.goto(&s, "/signin?redirect=%2F").await;
            b.find("#signed-in-as #continue-as").await;
            b.assert_accessible(&format!("/signin when signed in {at}"))
                .await;
            b.goto(&s, "/no-such-page").await;
            b.find("#not-found").await;
            b.assert_accessible(&format!("an address with no page (404) {at}"))
                .await;
            b.goto(&s, "/signout").await;
            b.find("#signout-yes").await;
            b.assert_accessible(&format!("/signout {at}")).await;
            // The admin console for someone who is not an administrator: 403.
            b.goto(&s, "/admin").await;
            b.find("#forbidden").await;
            b.assert_accessible(&format!("/admin as a user (403) {at}"))
                .await;
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
            b.assert_accessible(&format!("forward auth's no-access page (403) {at}"))
                .await;
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_admin_tab_and_form_meets_wcag_aa() {
        let s = server().await;
        as_admin_at_each_width_and_language(&s, 3000, async |b, tag, width| {
            let at = format!("{tag} {width}");
            b.find("#auth-table tbody tr[data-name=dingtalk]").await;
            for tab in [
                "sec-authenticators",
                "sec-apps",
                "sec-rules",
                "sec-users",
                "sec-sessions",
                "sec-policy",
                "sec-audit",
            ] {
                b.click(&format!(".tab[data-panel={tab}]")).await;
                b.until(&format!("!document.getElementById('{tab}').hidden"))
                    .await;
                if tab == "sec-policy" {
                    b.until("document.querySelector('#policy-form input[name=tokenExpirationTime]').value !== ''")
                        .await;
                } else {
                    b.find(&format!("#{tab} tbody tr")).await;
                }
                b.assert_accessible(&format!("/admin #{tab} {at}")).await;
            }
            // The forms: DingTalk's (with its Redirect URL), a new application, rule and user.
            b.click(".tab[data-panel=sec-authenticators]").await;
            b.click("#auth-table tbody tr[data-name=dingtalk] button.edit")
                .await;
            b.until("document.getElementById('redirect-url').value !== ''")
                .await;
            b.assert_accessible(&format!("/admin DingTalk's form {at}"))
                .await;
            b.click("#auth-form button.cancel").await;
            for (tab, new, form) in [
                ("sec-apps", "#app-new", "app-form"),
                ("sec-rules", "#rule-new", "rule-form"),
                ("sec-users", "#user-new", "user-form"),
            ] {
                b.click(&format!(".tab[data-panel={tab}]")).await;
                b.until(&format!("!document.getElementById('{tab}').hidden"))
                    .await;
                b.click(new).await;
                b.until(&format!("!document.getElementById('{form}').hidden"))
                    .await;
                b.assert_accessible(&format!("/admin #{form} {at}")).await;
            }
            // The administrator's own account page.
            b.goto(&s, "/").await;
            b.find("#my-sessions tbody tr").await;
            b.assert_accessible(&format!("/ (the administrator's account) {at}"))
                .await;
        })
        .await;
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
