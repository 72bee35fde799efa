//! The pages of the OpenID Connect provider in a real headless Chromium (SQLite, like the
//! other page tests: the pages only call the API, which the OIDC tests cover on both
//! databases): the admin console's Applications section (register, the secret shown once,
//! copy, snippets, edit, rotate, delete; who allowed what) and "Applications" on the account
//! page (what I allowed, remove access).
//!
//! `screenshots_of_the_application_pages` is ignored by default: it saves PNGs of these pages
//! at 375 and 1280 px, in English and Chinese, under `$AUTHGATE_SCREENS` (else /tmp/screens).

use crate::browser::{Browser, PHONE};
use crate::support::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const GRAFANA_CALLBACK: &str = "https://grafana.example.com/login/generic_oauth";
const REPORTS_CALLBACK: &str = "http://127.0.0.1:9/reports/callback";
const DORA_PASSWORD: &str = "dora-Passw0rd!";

/// The value `b` shows in the element a copy button copies from.
async fn copy_target(b: &Browser, button: &str) -> String {
    let q = serde_json::to_string(button).unwrap();
    let v = b
        .js(&format!(
            "var btn = document.querySelector({q}); var el = btn && document.getElementById(btn.getAttribute('data-copy')); return el ? el.textContent : null;"
        ))
        .await;
    v.as_str()
        .unwrap_or_else(|| panic!("no copy button {button} with a target"))
        .to_string()
}

/// Client authentication with `secret` at the introspection endpoint, the way the client is
/// registered (HTTP Basic, else in the body): 200 when it is right, 401 when it is not.
async fn secret_works(s: &Server, client_id: &str, secret: &str, basic: bool) -> bool {
    let req = s.http.post(s.url("/oidc/introspect"));
    let req = if basic {
        req.basic_auth(client_id, Some(secret))
            .form(&[("token", "not-a-token")])
    } else {
        req.form(&[
            ("token", "not-a-token"),
            ("client_id", client_id),
            ("client_secret", secret),
        ])
    };
    let r = req.send().await.unwrap();
    match r.status() {
        StatusCode::OK => true,
        StatusCode::UNAUTHORIZED => false,
        other => panic!("introspection answered {other}"),
    }
}

/// Registers an application through the admin API; returns its view (with the secret).
async fn register(s: &Server, admin: &str, body: Value) -> Value {
    let r = s.post("/api/oidcClients:create", Some(admin), body).await;
    r.assert_ok();
    r.body["data"].clone()
}

/// `user_token` lets `client` sign them in: the authorization code flow, code for tokens.
async fn grant(s: &Server, user_token: &str, client: &Value, redirect_uri: &str, scope: &str) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let client_id = client["clientId"].as_str().unwrap();
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", scope)
        .append_pair("state", "s")
        .append_pair("nonce", "n")
        .finish();
    let r = http
        .get(s.url(&format!("/oidc/authorize?{query}")))
        .header("cookie", format!("authgate_token={user_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let param = |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("state").as_deref(), Some("s"), "{location}");
    let code = param("code").unwrap_or_else(|| panic!("no code in {location}"));
    let secret = client["clientSecret"].as_str().unwrap_or_default();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri),
    ];
    let mut req = http.post(s.url("/oidc/token"));
    if client["tokenEndpointAuthMethod"] == "client_secret_post" {
        form.extend([("client_id", client_id), ("client_secret", secret)]);
    } else {
        req = req.basic_auth(client_id, Some(secret));
    }
    let r = req.form(&form).send().await.unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["access_token"].is_string() && body["id_token"].is_string());
}

async fn open_apps(b: &Browser) {
    b.click("[data-panel=sec-apps]").await;
    b.until("!document.getElementById('sec-apps').hidden").await;
    b.find("#app-table tbody tr").await;
}

async fn is_hidden(b: &Browser, id: &str) -> bool {
    b.js(&format!("return document.getElementById('{id}').hidden"))
        .await
        == json!(true)
}

mod chromium {
    use super::*;
    use crate::browser::{as_admin_at_each_width_and_language, screens_dir};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn admin_registers_edits_rotates_and_deletes_an_application() {
        let s = Server::start(Db::Sqlite).await;
        let admin = s.admin_token().await;
        let b = Browser::start().await;
        b.sign_in(&s, "/admin", "admin", ADMIN_PASSWORD).await;
        b.find("#auth-table tbody tr").await;
        open_apps(&b).await;
        assert_eq!(
            b.text_of("#app-table tbody td.empty").await,
            "No applications registered yet."
        );

        // Register a confidential application through the form.
        b.click("#app-new").await;
        b.until("!document.getElementById('app-form').hidden").await;
        b.fill("#app-form input[name=name]", "Grafana").await;
        b.fill("#app-form textarea[name=redirectUris]", GRAFANA_CALLBACK)
            .await;
        // Every scope is allowed unless unticked; openid cannot be.
        assert_eq!(
            b.js("return document.querySelector('#app-scopes input[value=openid]').disabled")
                .await,
            json!(true)
        );
        b.click("#app-scopes input[value=phone]").await;
        b.click("#app-scopes input[value=dingtalk]").await;
        b.click("#app-form button[type=submit]").await;

        // The secret is shown once, with a copy button, and a warning.
        b.until("!document.getElementById('app-secret').hidden")
            .await;
        let secret = b.text_of("#app-secret-value").await;
        assert_eq!(secret.len(), 43, "{secret}");
        assert!(b
            .text_of("#app-secret .warning")
            .await
            .contains("will not be shown again"));
        assert_eq!(copy_target(&b, "#app-secret button.copy").await, secret);
        b.click("#app-secret button.copy").await;
        b.until("document.querySelector('#app-secret button.copy').textContent === 'Copied'")
            .await;
        assert_eq!(b.text_of("#admin-notice").await, "Application registered.");

        // The API has it, and never shows the secret again; the secret is the real one.
        let listed = s.get("/api/oidcClients:list", Some(&admin)).await;
        listed.assert_ok();
        assert!(!listed.text.contains(&secret));
        let app = listed.body["data"][0].clone();
        assert_eq!(app["name"], "Grafana");
        assert_eq!(app["tokenEndpointAuthMethod"], "client_secret_basic");
        assert_eq!(
            app["allowedScopes"],
            json!(["openid", "profile", "email", "offline_access"])
        );
        let client_id = app["clientId"].as_str().unwrap().to_string();
        let got = s
            .get(
                &format!("/api/oidcClients:get?filterByTk={client_id}"),
                Some(&admin),
            )
            .await;
        got.assert_ok();
        assert!(!got.text.contains(&secret));
        assert!(secret_works(&s, &client_id, &secret, true).await);

        // The details: issuer, discovery URL, client id, redirect URIs, each with its copy
        // button copying exactly that.
        b.find(&format!("#app-table tbody tr[data-client='{client_id}']"))
            .await;
        assert_eq!(b.text_of("#app-details-name").await, "Grafana");
        for (button, want) in [
            ("button.copy[data-copy=app-issuer]", &app["issuer"]),
            ("button.copy[data-copy=app-discovery]", &app["discoveryUrl"]),
            ("button.copy[data-copy=app-client-id]", &app["clientId"]),
            (
                "button.copy[data-copy=app-redirect-0]",
                &json!(GRAFANA_CALLBACK),
            ),
        ] {
            assert_eq!(&json!(copy_target(&b, button).await), want, "{button}");
        }
        assert_eq!(
            app["discoveryUrl"],
            json!(format!(
                "{}/.well-known/openid-configuration",
                app["issuer"].as_str().unwrap()
            ))
        );
        b.click("button.copy[data-copy=app-client-id]").await;
        b.until("document.querySelector('button.copy[data-copy=app-client-id]').textContent === 'Copied'").await;

        // Snippets: each platform, filled in with this application and a placeholder secret.
        let discovery = app["discoveryUrl"].as_str().unwrap();
        let grafana = copy_target(&b, "#app-snippet-panel button.copy").await;
        assert!(grafana.starts_with("[auth.generic_oauth]"), "{grafana}");
        assert!(
            grafana.contains(&format!("client_id = {client_id}")),
            "{grafana}"
        );
        assert!(
            grafana.contains("client_secret = <client secret>"),
            "{grafana}"
        );
        assert!(grafana.contains("auth_style = InHeader"), "{grafana}");
        assert!(grafana.contains("use_pkce = true"), "{grafana}");
        assert!(!grafana.contains(&secret));
        for (tab, must) in [
            (
                "gitlab",
                vec![
                    "name: \"openid_connect\"",
                    "discovery: true",
                    "client_auth_method: \"basic\"",
                    "uid_field: \"preferred_username\"",
                    "pkce: true",
                ],
            ),
            ("gitea", vec!["--provider=openidConnect", discovery]),
            ("outline", vec!["OIDC_CLIENT_ID=", "OIDC_AUTH_URI="]),
            (
                "jupyterhub",
                vec!["GenericOAuthenticator", "basic_auth = True"],
            ),
            (
                "apache",
                vec![
                    "OIDCProviderMetadataURL",
                    "OIDCCryptoPassphrase",
                    "AuthType openid-connect",
                    "Require valid-user",
                ],
            ),
            (
                "nocobase",
                vec!["Issuer: ", "Client Secret: <client secret>"],
            ),
        ] {
            b.click(&format!("#app-details .subtab[data-snippet={tab}]"))
                .await;
            b.until(&format!("document.querySelector('#app-details .subtab[data-snippet={tab}]').getAttribute('aria-selected') === 'true'")).await;
            let text = copy_target(&b, "#app-snippet-panel button.copy").await;
            assert!(text.contains(&client_id), "{tab}: {text}");
            for m in must {
                assert!(text.contains(m), "{tab} lacks {m}: {text}");
            }
            assert!(!b.text_of("#app-snippet-note").await.is_empty());
        }
        b.click("#app-details .subtab[data-snippet=gitea]").await;
        let gitea = copy_target(&b, "#app-snippet-panel button.copy").await;
        assert!(
            gitea.contains(&client_id) && gitea.contains(discovery),
            "{gitea}"
        );
        b.click("#app-snippet-panel button.copy").await;
        b.until(
            "document.querySelector('#app-snippet-panel button.copy').textContent === 'Copied'",
        )
        .await;

        // Done with the secret: it leaves the page.
        b.click("#app-secret-done").await;
        b.until("document.getElementById('app-secret').hidden")
            .await;
        assert!(!b.source().await.contains(&secret));

        // Edit: a public application it cannot become; the changes are saved.
        b.click("#app-edit").await;
        b.until("!document.getElementById('app-form').hidden").await;
        assert_eq!(
            b.js("return document.querySelector('#app-form input[name=name]').value")
                .await,
            json!("Grafana")
        );
        assert_eq!(
            b.js("return document.querySelector('#app-form option[value=none]').disabled")
                .await,
            json!(true)
        );
        b.fill("#app-form input[name=name]", "Grafana (ops)").await;
        b.find("#app-form textarea[name=redirectUris]")
            .await
            .send_keys("\nhttps://grafana2.example.com/login/generic_oauth")
            .await
            .unwrap();
        b.js("var s = document.querySelector('#app-form select[name=tokenEndpointAuthMethod]'); s.value = 'client_secret_post'; s.dispatchEvent(new Event('change')); return true;").await;
        b.fill("#app-form input[name=accessTokenTtlS]", "30").await;
        b.js("document.querySelector('#app-form select[name=accessTokenTtlSUnit]').value = 'm'; return true;").await;
        b.click("#app-form input[name=thirdParty]").await;
        b.click("#app-form button[type=submit]").await;
        b.until("document.getElementById('app-details-name').textContent === 'Grafana (ops)'")
            .await;
        assert_eq!(b.text_of("#admin-notice").await, "Saved.");
        assert_eq!(
            copy_target(&b, "button.copy[data-copy=app-redirect-1]").await,
            "https://grafana2.example.com/login/generic_oauth"
        );
        let got = s
            .get(
                &format!("/api/oidcClients:get?filterByTk={client_id}"),
                Some(&admin),
            )
            .await;
        got.assert_ok();
        let d = &got.body["data"];
        assert_eq!(d["name"], "Grafana (ops)");
        assert_eq!(d["redirectUris"].as_array().unwrap().len(), 2);
        assert_eq!(d["tokenEndpointAuthMethod"], "client_secret_post");
        assert_eq!(d["accessTokenTtlS"], 1800);
        assert_eq!(d["thirdParty"], true);
        assert_eq!(
            d["allowedScopes"],
            json!(["openid", "profile", "email", "offline_access"])
        );
        let gitea = copy_target(&b, "#app-snippet-panel button.copy").await;
        assert!(gitea.contains("--secret='<client secret>'"), "{gitea}");
        b.click("#app-details .subtab[data-snippet=grafana]").await;
        assert!(copy_target(&b, "#app-snippet-panel button.copy")
            .await
            .contains("auth_style = InParams"));
        // A wrong redirect URI: the server's reason, shown in the form.
        b.click("#app-edit").await;
        b.fill(
            "#app-form textarea[name=redirectUris]",
            "javascript:alert(1)",
        )
        .await;
        b.click("#app-form button[type=submit]").await;
        let error = b.text_of("#app-form .form-error").await;
        assert!(error.contains("redirectUris"), "{error}");
        b.click("#app-form button.cancel").await;
        b.until("!document.getElementById('app-details').hidden")
            .await;

        // Rotate: asks first; "no" changes nothing, "yes" shows the new secret once.
        b.js("window.confirm = function () { return false; }").await;
        b.click("#app-rotate").await;
        assert!(is_hidden(&b, "app-secret").await);
        assert!(secret_works(&s, &client_id, &secret, false).await);
        b.js("window.confirm = function () { return true; }").await;
        b.click("#app-rotate").await;
        b.until("!document.getElementById('app-secret').hidden")
            .await;
        let rotated = b.text_of("#app-secret-value").await;
        assert_eq!(rotated.len(), 43);
        assert_ne!(rotated, secret);
        assert_eq!(copy_target(&b, "#app-secret button.copy").await, rotated);
        assert!(!secret_works(&s, &client_id, &secret, false).await);
        assert!(secret_works(&s, &client_id, &rotated, false).await);
        let listed = s.get("/api/oidcClients:list", Some(&admin)).await;
        assert!(!listed.text.contains(&rotated));

        // Delete: asks first.
        b.js("window.confirm = function () { return false; }").await;
        b.click("#app-delete").await;
        assert!(!is_hidden(&b, "app-details").await);
        assert_eq!(
            s.get("/api/oidcClients:list", Some(&admin)).await.body["data"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        b.js("window.confirm = function () { return true; }").await;
        b.click("#app-delete").await;
        b.until("document.getElementById('app-details').hidden")
            .await;
        b.until("document.querySelector('#app-table tbody td.empty') !== null")
            .await;
        assert!(is_hidden(&b, "app-secret").await);
        assert_eq!(b.text_of("#admin-notice").await, "Application deleted.");
        assert_eq!(
            s.get("/api/oidcClients:list", Some(&admin)).await.body["data"],
            json!([])
        );
        b.quit().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn people_see_and_remove_the_applications_they_allowed() {
        let s = Server::start(Db::Sqlite).await;
        let admin = s.admin_token().await;
        let dora = s
            .create_user(
                &admin,
                json!({"username": "dora", "nickname": "Dora", "password": DORA_PASSWORD}),
            )
            .await;
        let reports = register(
            &s,
            &admin,
            json!({"name": "内部报表", "redirectUris": [REPORTS_CALLBACK]}),
        )
        .await;
        let reports_id = reports["clientId"].as_str().unwrap().to_string();
        let dora_token = s.sign_in("dora", DORA_PASSWORD).await;
        grant(
            &s,
            &dora_token,
            &reports,
            REPORTS_CALLBACK,
            "openid profile email",
        )
        .await;

        // Dora's account page lists it, in words, with "Remove access".
        let b = Browser::start().await;
        b.sign_in(&s, "/", "dora", DORA_PASSWORD).await;
        let row = format!("#my-apps li.app[data-client='{reports_id}']");
        assert_eq!(b.text_of(&format!("{row} .app-name")).await, "内部报表");
        let words = b.text_of(&format!("{row} .scopes")).await;
        for w in [
            "Who you are (your account id)",
            "Your name, username and picture",
            "Your email address",
        ] {
            assert!(words.contains(w), "{words}");
        }
        assert!(b
            .text_of(&format!("{row} .app-since"))
            .await
            .starts_with("Allowed on "));
        assert!(is_hidden(&b, "my-apps-empty").await);
        b.js("window.confirm = function () { return false; }").await;
        b.click(&format!("{row} button.remove-app")).await;
        b.find(&row).await;
        b.js("window.confirm = function () { return true; }").await;
        b.click(&format!("{row} button.remove-app")).await;
        b.until("document.querySelector('#my-apps li.app') === null")
            .await;
        assert_eq!(
            b.text_of("#my-apps-empty").await,
            "You have not signed in to any application with this account."
        );
        let mine = s.get("/api/auth:applications", Some(&dora_token)).await;
        mine.assert_ok();
        assert_eq!(mine.body["data"], json!([]));

        // Dora allows it again; the administrator sees it in her details and in the
        // application's, and revokes it after a confirmation.
        grant(
            &s,
            &dora_token,
            &reports,
            REPORTS_CALLBACK,
            "openid profile",
        )
        .await;
        b.c.delete_all_cookies().await.unwrap();
        b.sign_in(&s, "/admin", "admin", ADMIN_PASSWORD).await;
        open_apps(&b).await;
        b.click(&format!(
            "#app-table tbody tr[data-client='{reports_id}'] button.details"
        ))
        .await;
        let user_row = format!("#app-grants tbody tr[data-user='{dora}']");
        assert!(b.text_of(&user_row).await.contains("dora"));
        b.click("[data-panel=sec-users]").await;
        b.click(&format!(
            "#user-table tbody tr[data-user='{dora}'] button.edit"
        ))
        .await;
        let grant_row = format!("#user-grants-box tbody tr[data-client='{reports_id}']");
        assert!(b.text_of(&grant_row).await.contains("内部报表"));
        b.js("window.confirm = function () { return false; }").await;
        b.click(&format!("{grant_row} button.revoke")).await;
        assert_eq!(
            s.get(&format!("/api/oidcGrants:list?userId={dora}"), Some(&admin))
                .await
                .body["data"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        b.js("window.confirm = function () { return true; }").await;
        b.click(&format!("{grant_row} button.revoke")).await;
        assert_eq!(
            b.text_of("#user-grants-box tbody td.empty").await,
            "This user has not allowed any application."
        );
        assert_eq!(
            s.get(&format!("/api/oidcGrants:list?userId={dora}"), Some(&admin))
                .await
                .body["data"],
            json!([])
        );
        // The sessions of one user show their applications too.
        grant(&s, &dora_token, &reports, REPORTS_CALLBACK, "openid").await;
        b.click("#user-sessions-link").await;
        b.until("!document.getElementById('sec-sessions').hidden")
            .await;
        assert!(b
            .text_of(&format!(
                "#session-grants-box tbody tr[data-client='{reports_id}']"
            ))
            .await
            .contains("内部报表"));
        // And the application's details list who allowed it, each with "Revoke".
        open_apps(&b).await;
        b.click(&format!(
            "#app-table tbody tr[data-client='{reports_id}'] button.details"
        ))
        .await;
        b.js("window.confirm = function () { return true; }").await;
        b.click(&format!("{user_row} button.revoke")).await;
        assert_eq!(
            b.text_of("#app-grants tbody td.empty").await,
            "Nobody has signed in to it yet."
        );
        assert_eq!(
            s.get(
                &format!("/api/oidcGrants:list?clientId={reports_id}"),
                Some(&admin)
            )
            .await
            .body["data"],
            json!([])
        );
        b.quit().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn applications_fit_a_phone_screen() {
        let s = Server::start(Db::Sqlite).await;
        let admin = s.admin_token().await;
        let long = format!(
            "https://reports.internal.example.com/{}/oauth2/callback?tenant=finance-department",
            "very-long-path-segment".repeat(6)
        );
        let app = register(
            &s,
            &admin,
            json!({"name": "内部报表", "redirectUris": [long, REPORTS_CALLBACK], "tokenEndpointAuthMethod": "client_secret_post"}),
        )
        .await;
        grant(
            &s,
            &admin,
            &app,
            REPORTS_CALLBACK,
            "openid profile email phone dingtalk offline_access",
        )
        .await;
        let b = Browser::launch(PHONE, None).await;
        let fits = "document.documentElement.scrollWidth <= window.innerWidth";
        b.sign_in(&s, "/admin", "admin", ADMIN_PASSWORD).await;
        open_apps(&b).await;
        b.click("#app-table tbody tr button.details").await;
        b.until("!document.getElementById('app-details').hidden")
            .await;
        b.find("#app-grants tbody tr[data-user]").await;
        for tab in [
            "grafana",
            "gitlab",
            "gitea",
            "outline",
            "jupyterhub",
            "apache",
            "nocobase",
        ] {
            b.click(&format!("#app-details .subtab[data-snippet={tab}]"))
                .await;
            assert_eq!(
                b.js(&format!("return {fits}")).await,
                json!(true),
                "the {tab} snippet scrolls sideways"
            );
        }
        // The long URL wraps inside its box, and its copy button stays on screen.
        let wraps = b
            .js("var c = document.getElementById('app-redirect-0'); var r = c.getBoundingClientRect(); var btn = c.parentNode.querySelector('button').getBoundingClientRect(); return r.right <= window.innerWidth && r.height > 40 && btn.right <= window.innerWidth && btn.width > 0;")
            .await;
        assert_eq!(wraps, json!(true));
        b.click("#app-new").await;
        b.until("!document.getElementById('app-form').hidden").await;
        assert_eq!(
            b.js(&format!("return {fits}")).await,
            json!(true),
            "the form scrolls sideways"
        );
        b.goto(&s, "/").await;
        b.find("#my-apps li.app").await;
        assert_eq!(
            b.js(&format!("return {fits}")).await,
            json!(true),
            "the account page scrolls sideways"
        );
        let button_visible = b
            .js("var r = document.querySelector('#my-apps button.remove-app').getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth;")
            .await;
        assert_eq!(button_visible, json!(true));
        b.quit().await;
    }

    /// Not a check: pictures for people to look at (run with `--ignored`).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore]
    async fn screenshots_of_the_application_pages() {
        let dir = screens_dir();
        let s = Server::start(Db::Sqlite).await;
        let admin = s.admin_token().await;
        s.create_user(
            &admin,
            json!({"username": "zhangsan", "nickname": "张三", "password": DORA_PASSWORD}),
        )
        .await;
        let grafana = register(
            &s,
            &admin,
            json!({"name": "Grafana", "redirectUris": ["https://grafana.corp.example.com/login/generic_oauth", "http://127.0.0.1:9/grafana"]}),
        )
        .await;
        let gitlab = register(
            &s,
            &admin,
            json!({"name": "GitLab", "redirectUris": ["https://gitlab.corp.example.com/users/auth/openid_connect/callback", "http://127.0.0.1:9/gitlab"], "tokenEndpointAuthMethod": "client_secret_post", "allowedScopes": ["openid", "profile", "email"]}),
        )
        .await;
        let reports = register(
            &s,
            &admin,
            json!({"name": "内部报表", "redirectUris": ["https://reports.corp.example.com/api/oidc:redirect", "http://127.0.0.1:9/reports"], "thirdParty": false, "adminsOnly": true}),
        )
        .await;
        register(
            &s,
            &admin,
            json!({"name": "Outline 知识库", "redirectUris": ["https://wiki.corp.example.com/auth/oidc.callback"], "tokenEndpointAuthMethod": "client_secret_post"}),
        )
        .await;
        register(
            &s,
            &admin,
            json!({"name": "移动审批 App", "redirectUris": ["com.example.approvals:/oauth2/callback"], "tokenEndpointAuthMethod": "none", "enabled": false}),
        )
        .await;
        let user = s.sign_in("zhangsan", DORA_PASSWORD).await;
        grant(
            &s,
            &user,
            &grafana,
            "http://127.0.0.1:9/grafana",
            "openid profile email",
        )
        .await;
        grant(
            &s,
            &user,
            &gitlab,
            "http://127.0.0.1:9/gitlab",
            "openid profile email",
        )
        .await;
        grant(
            &s,
            &admin,
            &reports,
            "http://127.0.0.1:9/reports",
            "openid profile phone dingtalk offline_access",
        )
        .await;
        grant(
            &s,
            &admin,
            &grafana,
            "http://127.0.0.1:9/grafana",
            "openid profile email",
        )
        .await;
        grant(
            &s,
            &admin,
            &gitlab,
            "http://127.0.0.1:9/gitlab",
            "openid email",
        )
        .await;
        let grafana_id = grafana["clientId"].as_str().unwrap().to_string();

        as_admin_at_each_width_and_language(&s, 3600, async |b, tag, width| {
                open_apps(b).await;
                b.click(&format!(
                    "#app-table tbody tr[data-client='{grafana_id}'] button.details"
                ))
                .await;
                b.find("#app-grants tbody tr[data-user]").await;
                b.js("document.getElementById('admin-notice').hidden = true; document.getElementById('app-details').scrollIntoView(); window.scrollTo(0, 0); return true;").await;
                b.shot(&dir, &format!("admin-apps-{tag}-{width}.png")).await;
                b.click("#app-details .subtab[data-snippet=gitlab]").await;
                b.js("document.getElementById('app-details').scrollIntoView(); return true;")
                    .await;
                b.shot(&dir, &format!("admin-apps-details-{tag}-{width}.png")).await;
                // A new application with its secret shown once.
                b.click("#app-new").await;
                b.until("!document.getElementById('app-form').hidden").await;
                b.shot(&dir, &format!("admin-apps-form-{tag}-{width}.png")).await;
                b.fill("#app-form input[name=name]", "Jenkins").await;
                b.fill(
                    "#app-form textarea[name=redirectUris]",
                    "https://ci.corp.example.com/securityRealm/finishLogin",
                )
                .await;
                b.click("#app-form button[type=submit]").await;
                b.until("!document.getElementById('app-secret').hidden")
                    .await;
                b.js("window.scrollTo(0, 0); return true;").await;
                b.shot(&dir, &format!("admin-apps-secret-{tag}-{width}.png")).await;
                let jenkins = b
                    .js("return document.getElementById('app-client-id').textContent")
                    .await;
                s.post(
                    &format!(
                        "/api/oidcClients:destroy?filterByTk={}",
                        jenkins.as_str().unwrap()
                    ),
                    Some(&admin),
                    json!({}),
                )
                .await
                .assert_ok();
                b.goto(&s, "/").await;
                b.find("#my-apps li.app").await;
                b.find("#my-sessions tbody tr").await;
                b.shot(&dir, &format!("account-apps-{tag}-{width}.png")).await;
        })
        .await;
    }
}
