//! The admin console's "Access rules" section (forward auth) in a real headless Chromium
//! (SQLite, like the other page tests: the page only calls the API, which the forward-auth
//! tests cover on both databases): add, edit, move and delete rules; the server's reason next
//! to the form; "Test a URL" with the verdict and the reason `accessRules:explain` gives; what
//! the page shows is what the API stores; it fits a phone screen, in English and Chinese.
//!
//! `screenshots_of_the_access_rules_page` is ignored by default: it saves PNGs of the section
//! at 375 and 1280 px, in English and Chinese, under `$AUTHGATE_SCREENS` (else /tmp/screens).

use crate::browser::{Browser, PHONE};
use crate::support::*;
use serde_json::{json, Value};

const ALICE_PASSWORD: &str = "alice-Passw0rd!";
/// The section's script, to check that every string it asks for is in the catalog.
const SCRIPT: &str = include_str!("../../../server/assets/admin_rules.js");
const ROWS: &str = "document.querySelectorAll('#rule-table tbody tr[data-rule]').length";
const FITS: &str = "document.documentElement.scrollWidth <= window.innerWidth";

async fn create_dingtalk(s: &Server, admin: &str) {
    s.post(
        "/api/authenticators:create",
        Some(admin),
        json!({"name": "dingtalk", "authType": "dingtalk", "title": "DingTalk", "enabled": true,
               "options": {"clientId": "ding-client-id", "clientSecret": "ding-client-secret"}}),
    )
    .await
    .assert_ok();
}

async fn create_rule(s: &Server, admin: &str, def: Value) -> i64 {
    let r = s.post("/api/accessRules:create", Some(admin), def).await;
    r.assert_ok();
    r.body["data"]["id"].as_i64().unwrap()
}

async fn open_rules(b: &Browser) {
    b.click("[data-panel=sec-rules]").await;
    b.until("!document.getElementById('sec-rules').hidden")
        .await;
    b.find("#rule-table tbody tr").await;
    // The authenticators to choose from have arrived too.
    b.until("document.querySelectorAll('#rule-test select[name=authenticator] option').length > 0")
        .await;
}

/// Whether `css` takes space on the page (what is hidden must not).
async fn shown(b: &Browser, css: &str) -> bool {
    let q = serde_json::to_string(css).unwrap();
    b.js(&format!(
        "var e = document.querySelector({q}); return !!e && e.getClientRects().length > 0;"
    ))
    .await
        == json!(true)
}

async fn set_checked(b: &Browser, css: &str, on: bool) {
    let q = serde_json::to_string(css).unwrap();
    if b.js(&format!("return document.querySelector({q}).checked"))
        .await
        != json!(on)
    {
        b.click(css).await;
    }
}

async fn value_of(b: &Browser, css: &str) -> Value {
    let q = serde_json::to_string(css).unwrap();
    b.js(&format!("return document.querySelector({q}).value"))
        .await
}

async fn open_new_form(b: &Browser) {
    b.click("#rule-new").await;
    b.until("!document.getElementById('rule-form').hidden")
        .await;
}

async fn submit_rule(b: &Browser, rows_after: usize, notice: &str) {
    b.click("#rule-form button[type=submit]").await;
    b.until(&format!(
        "{ROWS} === {rows_after} && document.getElementById('rule-form').hidden"
    ))
    .await;
    assert_eq!(b.text_of("#admin-notice").await, notice);
}

/// The rows of the rules table, as shown.
async fn page_rules(b: &Browser) -> Vec<Value> {
    let v = b
        .js("return Array.prototype.map.call(document.querySelectorAll('#rule-table tbody tr[data-rule]'), function (tr) {
               function c(k) { return tr.querySelector('td.' + k).textContent.trim(); }
               return {id: Number(tr.getAttribute('data-rule')), position: Number(c('position')), host: c('host'),
                       path: c('path'), methods: c('methods'), what: c('what'), note: c('note')};
             });")
        .await;
    v.as_array().unwrap().clone()
}

/// What the page must show for a rule as the API lists it (English).
fn row_for(r: &Value) -> Value {
    let list = |v: &Value| {
        v.as_array().map(|a| {
            a.iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        })
    };
    let what = if r["deny"] == true {
        "Denied".to_string()
    } else if r["public"] == true {
        "Public (no sign-in)".to_string()
    } else {
        let a = &r["allow"];
        let mut parts = Vec::new();
        if a["signedIn"] == true {
            parts.push("Anyone signed in".to_string());
        }
        if a["admins"] == true {
            parts.push("Administrators".to_string());
        }
        if let Some(u) = list(&a["users"]) {
            parts.push(format!("Users: {u}"));
        }
        if let Some(x) = list(&a["authenticators"]) {
            parts.push(format!("Signed in with: {x}"));
        }
        parts.join(" or ")
    };
    json!({
        "id": r["id"],
        "position": r["position"],
        "host": r["host"],
        "path": r["pathPrefix"].as_str().unwrap_or("All paths"),
        "methods": list(&r["methods"]).unwrap_or_else(|| "All methods".into()),
        "what": what,
        "note": r["note"].as_str().unwrap_or(""),
    })
}

/// The rules as the API lists them, after checking that the page shows exactly those.
async fn page_shows_what_is_stored(b: &Browser, s: &Server, admin: &str) -> Vec<Value> {
    let r = s.get("/api/accessRules:list", Some(admin)).await;
    r.assert_ok();
    let stored = r.body["data"].as_array().unwrap().clone();
    let want: Vec<Value> = stored.iter().map(row_for).collect();
    assert_eq!(page_rules(b).await, want);
    stored
}

/// A listed rule's definition (what was sent to create or update it).
fn definition(r: &Value) -> Value {
    let mut d = r.as_object().unwrap().clone();
    for k in ["id", "position", "createdAt", "updatedAt"] {
        d.remove(k);
    }
    Value::Object(d)
}

/// Runs "Test a URL" and waits for the verdict; answers (verdict, decided by, reason).
async fn test_url(b: &Browser, url: &str, method: &str, user: &str) -> (String, String, String) {
    b.js("var r = document.getElementById('rule-result'); r.hidden = true; document.getElementById('rule-verdict').removeAttribute('data-verdict'); return true;")
        .await;
    b.fill("#rule-test input[name=url]", url).await;
    b.js(&format!(
        "document.querySelector('#rule-test select[name=method]').value = {}; return true;",
        serde_json::to_string(method).unwrap()
    ))
    .await;
    if user.is_empty() {
        b.find("#rule-test input[name=user]")
            .await
            .clear()
            .await
            .unwrap();
    } else {
        b.fill("#rule-test input[name=user]", user).await;
    }
    b.click("#rule-test button[type=submit]").await;
    b.until("!document.getElementById('rule-result').hidden && document.getElementById('rule-verdict').hasAttribute('data-verdict')")
        .await;
    let verdict = b
        .js("return document.getElementById('rule-verdict').getAttribute('data-verdict')")
        .await;
    (
        verdict.as_str().unwrap().to_string(),
        b.js("return document.getElementById('rule-decider').textContent")
            .await
            .as_str()
            .unwrap()
            .to_string(),
        b.text_of("#rule-reason").await,
    )
}

/// What `accessRules:explain` says (verdict, reason), to compare with the page.
async fn explain(s: &Server, admin: &str, url: &str, method: &str, user: &str) -> (String, String) {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("url", url).append_pair("method", method);
    if !user.is_empty() {
        q.append_pair("user", user)
            .append_pair("authenticator", "basic");
    }
    let r = s
        .get(
            &format!("/api/accessRules:explain?{}", q.finish()),
            Some(admin),
        )
        .await;
    r.assert_ok();
    (
        r.body["data"]["verdict"].as_str().unwrap().to_string(),
        r.body["data"]["reason"].as_str().unwrap().to_string(),
    )
}

/// Table cells are not squeezed into a letter or two per line.
async fn cells_keep_their_words(b: &Browser) {
    let squeezed = b
        .js("var bad = [];
             document.querySelectorAll('#rule-table tbody td.host, #rule-table tbody td.path, #rule-table tbody td.methods, #rule-table tbody td.what, #rule-table tbody td.note').forEach(function (td) {
               var text = td.textContent.trim();
               if (!text || td.getClientRects().length === 0) return;
               // The lines its text takes: the tops of the text's fragments, a few px apart.
               var tops = [];
               var walk = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
               while (walk.nextNode()) {
                 var range = document.createRange();
                 range.selectNodeContents(walk.currentNode);
                 Array.prototype.forEach.call(range.getClientRects(), function (r) { if (r.width > 0) tops.push(r.top); });
               }
               tops.sort(function (a, b) { return a - b; });
               var lines = tops.filter(function (top, i) { return i === 0 || top - tops[i - 1] > 4; }).length || 1;
               if (text.length / lines < Math.min(8, text.length)) bad.push(text + ' in ' + lines + ' lines');
             });
             return bad;")
        .await;
    assert_eq!(squeezed, json!([]), "table cells broken letter by letter");
}

mod chromium {
    use super::*;
    use crate::browser::{as_admin_at_each_width_and_language, screens_dir};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn admin_adds_moves_edits_deletes_and_tests_access_rules() {
        let s = Server::start(Db::Sqlite).await;
        let admin = s.admin_token().await;
        s.create_user(
            &admin,
            json!({"username": "alice", "nickname": "Alice", "password": ALICE_PASSWORD}),
        )
        .await;
        create_dingtalk(&s, &admin).await;
        let b = Browser::start().await;
        b.sign_in(&s, "/admin", "admin", ADMIN_PASSWORD).await;
        b.find("#auth-table tbody tr").await;
        open_rules(&b).await;
        assert_eq!(
            b.text_of("#rule-table tbody td.empty").await,
            "No rules yet: every host is denied."
        );
        // Every string the section asks for is in the catalog (else the key would show).
        let catalog = b
            .js("return JSON.parse(document.body.getAttribute('data-i18n'))")
            .await;
        let mut asked: Vec<&str> = SCRIPT
            .split('\'')
            .filter(|k| k.starts_with("rules.") && !k.ends_with('.') && !k.ends_with('_'))
            .collect();
        asked.extend([
            "rules.verdict_allow",
            "rules.verdict_signIn",
            "rules.verdict_deny",
        ]);
        assert!(asked.len() > 30, "{asked:?}");
        for k in asked {
            assert!(catalog.get(k).is_some(), "{k} is not in the catalog");
        }
        let text = b
            .js("return document.getElementById('sec-rules').textContent")
            .await;
        assert!(!text.as_str().unwrap().contains("rules."), "{text}");
        // Nothing hidden shows: the form and a test result wait until they are asked for.
        for css in ["#rule-form", "#rule-result", "#rule-test .form-error"] {
            assert!(!shown(&b, css).await, "{css} shows");
        }
        assert_eq!(
            b.js("return Array.prototype.map.call(document.querySelectorAll('#rule-test select[name=authenticator] option'), function (o) { return o.value; })")
                .await,
            json!(["basic", "dingtalk"])
        );

        // 1. Anyone signed in, on every subdomain.
        open_new_form(&b).await;
        assert_eq!(b.text_of("#rule-form-title").await, "Add rule");
        b.until("document.querySelectorAll('#rule-authenticators input').length === 2")
            .await;
        assert_eq!(
            b.js("return Array.prototype.map.call(document.querySelectorAll('#rule-authenticators input'), function (i) { return i.value; })")
                .await,
            json!(["basic", "dingtalk"])
        );
        assert!(shown(&b, "#rule-allow").await);
        b.fill("#rule-form input[name=host]", "*.corp.example")
            .await;
        b.click("#rule-form input[name=signedIn]").await;
        b.fill("#rule-form input[name=note]", "Every internal app")
            .await;
        submit_rule(&b, 1, "Rule added.").await;

        // 2. Administrators only, on one host: added last, moved first below.
        open_new_form(&b).await;
        // A new form starts empty, whatever was typed before.
        assert_eq!(value_of(&b, "#rule-form input[name=host]").await, "");
        assert_eq!(
            b.js("return document.querySelector('#rule-form input[name=signedIn]').checked")
                .await,
            json!(false)
        );
        b.fill("#rule-form input[name=host]", "admin.corp.example")
            .await;
        b.click("#rule-form input[name=admins]").await;
        submit_rule(&b, 2, "Rule added.").await;

        // 3. A public path (the allow choices go away for it).
        open_new_form(&b).await;
        b.fill("#rule-form input[name=host]", "wiki.corp.example")
            .await;
        b.fill("#rule-form input[name=pathPrefix]", "/health").await;
        b.click("#rule-methods input[value=GET]").await;
        b.click("#rule-methods input[value=HEAD]").await;
        b.click("#rule-form input[name=action][value=deny]").await;
        assert!(!shown(&b, "#rule-allow").await);
        b.click("#rule-form input[name=action][value=allow]").await;
        assert!(shown(&b, "#rule-allow").await);
        b.click("#rule-form input[name=action][value=public]").await;
        assert!(!shown(&b, "#rule-allow").await);
        b.fill("#rule-form input[name=note]", "Load balancer health checks")
            .await;
        submit_rule(&b, 3, "Rule added.").await;

        let stored = page_shows_what_is_stored(&b, &s, &admin).await;
        assert_eq!(
            stored.iter().map(definition).collect::<Vec<_>>(),
            vec![
                json!({"host": "*.corp.example", "allow": {"signedIn": true}, "note": "Every internal app"}),
                json!({"host": "admin.corp.example", "allow": {"admins": true}}),
                json!({"host": "wiki.corp.example", "pathPrefix": "/health", "methods": ["GET", "HEAD"], "public": true, "note": "Load balancer health checks"}),
            ]
        );
        let ids: Vec<i64> = stored.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        let (wildcard, admins, health) = (ids[0], ids[1], ids[2]);
        let row = |id: i64| format!("#rule-table tbody tr[data-rule='{id}']");
        assert_eq!(
            b.js(&format!(
                "return [document.querySelector(\"{} button.up\").disabled, document.querySelector(\"{} button.down\").disabled]",
                row(wildcard),
                row(health)
            ))
            .await,
            json!([true, true])
        );
        cells_keep_their_words(&b).await;

        // Move: the administrators' rule up to the top, the wildcard down to the bottom.
        b.click(&format!("{} button.up", row(admins))).await;
        b.until(&format!(
            "document.querySelector('#rule-table tbody tr[data-rule]').getAttribute('data-rule') === '{admins}'"
        ))
        .await;
        assert_eq!(b.text_of("#admin-notice").await, "Rule moved.");
        b.click(&format!("{} button.down", row(wildcard))).await;
        b.until(&format!(
            "document.querySelector('#rule-table tbody tr[data-rule]:last-child').getAttribute('data-rule') === '{wildcard}'"
        ))
        .await;
        let order: Vec<i64> = page_shows_what_is_stored(&b, &s, &admin)
            .await
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        assert_eq!(order, vec![admins, health, wildcard]);

        // Edit: the form comes filled in; the whole definition is saved.
        b.click(&format!("{} button.edit", row(admins))).await;
        b.until("!document.getElementById('rule-form').hidden")
            .await;
        assert_eq!(b.text_of("#rule-form-title").await, "Edit rule 1");
        assert_eq!(
            value_of(&b, "#rule-form input[name=host]").await,
            "admin.corp.example"
        );
        assert_eq!(
            b.js("return [document.querySelector('#rule-form input[name=admins]').checked, document.querySelector('#rule-form input[name=signedIn]').checked]")
                .await,
            json!([true, false])
        );
        b.fill("#rule-form input[name=users]", "bob,  carol").await;
        set_checked(&b, "#rule-authenticators input[value=dingtalk]", true).await;
        b.fill("#rule-form input[name=note]", "Only IT").await;
        submit_rule(&b, 3, "Saved.").await;
        b.until(&format!(
            "document.querySelector(\"{} td.what\").textContent === 'Administrators or Users: bob, carol or Signed in with: dingtalk'",
            row(admins)
        ))
        .await;
        // The public rule's form shows what it has; Cancel changes nothing.
        b.click(&format!("{} button.edit", row(health))).await;
        b.until("!document.getElementById('rule-form').hidden")
            .await;
        assert_eq!(b.text_of("#rule-form-title").await, "Edit rule 2");
        assert_eq!(
            b.js("return [document.querySelector('#rule-form input[name=pathPrefix]').value,
                          Array.prototype.filter.call(document.querySelectorAll('#rule-methods input'), function (i) { return i.checked; }).map(function (i) { return i.value; }),
                          document.querySelector('#rule-form input[name=action]:checked').value]")
                .await,
            json!(["/health", ["GET", "HEAD"], "public"])
        );
        assert!(!shown(&b, "#rule-allow").await);
        b.click("#rule-form button.cancel").await;
        b.until("document.getElementById('rule-form').hidden").await;
        assert!(!shown(&b, "#rule-form").await);

        // The server's reason shows next to the form, and nothing is saved.
        open_new_form(&b).await;
        b.fill("#rule-form input[name=host]", "wiki corp.example")
            .await;
        b.click("#rule-form input[name=signedIn]").await;
        b.click("#rule-form button[type=submit]").await;
        let error = b.text_of("#rule-form .form-error").await;
        assert_eq!(
            error,
            "host: must be a host name such as wiki.corp.example or *.corp.example, with an optional :port"
        );
        assert_eq!(
            b.js("return document.querySelector('#rule-form input[name=host]').getAttribute('aria-invalid')")
                .await,
            json!("true")
        );
        b.fill("#rule-form input[name=host]", "chat.corp.example")
            .await;
        b.click("#rule-form input[name=signedIn]").await;
        b.click("#rule-form button[type=submit]").await;
        b.until(
            "document.querySelector('#rule-form .form-error').textContent.indexOf('allow:') === 0",
        )
        .await;
        assert_eq!(
            b.text_of("#rule-form .form-error").await,
            "allow: names nobody: set signedIn, admins, users or authenticators"
        );
        b.click("#rule-form button.cancel").await;
        b.until("document.getElementById('rule-form').hidden").await;
        let stored = page_shows_what_is_stored(&b, &s, &admin).await;
        assert_eq!(
            stored.iter().map(definition).collect::<Vec<_>>(),
            vec![
                json!({"host": "admin.corp.example", "allow": {"admins": true, "users": ["bob", "carol"], "authenticators": ["dingtalk"]}, "note": "Only IT"}),
                json!({"host": "wiki.corp.example", "pathPrefix": "/health", "methods": ["GET", "HEAD"], "public": true, "note": "Load balancer health checks"}),
                json!({"host": "*.corp.example", "allow": {"signedIn": true}, "note": "Every internal app"}),
            ]
        );

        // Test a URL: nobody signed in, the public path and the rest of the wiki.
        let health_url = "https://wiki.corp.example/health";
        let (verdict, decider, reason) = test_url(&b, health_url, "GET", "").await;
        assert_eq!(verdict, "allow");
        assert_eq!(
            decider,
            "Decided by rule 2: wiki.corp.example/health (GET, HEAD)"
        );
        assert_eq!(
            reason,
            "rule 2 (wiki.corp.example/health (GET, HEAD)) lets it through without sign-in"
        );
        assert_eq!(
            (verdict, reason),
            explain(&s, &admin, health_url, "GET", "").await
        );
        assert_eq!(b.text_of("#rule-verdict").await, "Allowed");
        // The deciding rule is marked in the list.
        assert_eq!(
            b.js("return Array.prototype.map.call(document.querySelectorAll('#rule-table tr.decides'), function (tr) { return Number(tr.getAttribute('data-rule')); })")
                .await,
            json!([health])
        );
        let (verdict, _, reason) = test_url(&b, health_url, "POST", "").await;
        assert_eq!(verdict, "signIn");
        assert_eq!(b.text_of("#rule-verdict").await, "Must sign in");
        assert_eq!(reason, "rule 3 (*.corp.example) needs a signed-in person");

        // Delete: asks first; "no" keeps the rule. A change hides the result it made stale.
        b.js("window.confirm = function () { return false; }").await;
        b.click(&format!("{} button.delete", row(health))).await;
        b.find(&row(health)).await;
        assert_eq!(
            s.get("/api/accessRules:list", Some(&admin)).await.body["data"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        b.js("window.confirm = function () { return true; }").await;
        b.click(&format!("{} button.delete", row(health))).await;
        b.until(&format!("{ROWS} === 2")).await;
        assert_eq!(b.text_of("#admin-notice").await, "Rule deleted.");
        assert!(!shown(&b, "#rule-result").await);
        let stored = page_shows_what_is_stored(&b, &s, &admin).await;
        assert_eq!(
            stored
                .iter()
                .map(|r| r["id"].as_i64().unwrap())
                .collect::<Vec<_>>(),
            vec![admins, wildcard]
        );

        // Alice: refused at admin.corp.example, let in at the wiki; the reasons are the API's.
        let admin_url = "https://admin.corp.example/settings";
        let (verdict, decider, reason) = test_url(&b, admin_url, "GET", "alice").await;
        assert_eq!(verdict, "deny");
        assert_eq!(b.text_of("#rule-verdict").await, "Denied");
        assert_eq!(decider, "Decided by rule 1: admin.corp.example");
        assert_eq!(
            reason,
            "rule 1 (admin.corp.example) does not allow this person (it allows administrators; users bob, carol; signed in with dingtalk)"
        );
        assert_eq!(
            (verdict, reason),
            explain(&s, &admin, admin_url, "GET", "alice").await
        );
        let wiki_url = "https://wiki.corp.example/page";
        let (verdict, decider, reason) = test_url(&b, wiki_url, "GET", "alice").await;
        assert_eq!(verdict, "allow");
        assert_eq!(decider, "Decided by rule 2: *.corp.example");
        assert_eq!(reason, "rule 2 (*.corp.example) allows anyone signed in");
        assert_eq!(
            (verdict, reason),
            explain(&s, &admin, wiki_url, "GET", "alice").await
        );
        // Signed in with DingTalk, alice passes the first rule.
        b.js("document.querySelector('#rule-test select[name=authenticator]').value = 'dingtalk'; return true;")
            .await;
        let (verdict, _, reason) = test_url(&b, admin_url, "GET", "alice").await;
        assert_eq!(verdict, "allow");
        assert_eq!(
            reason,
            "rule 1 (admin.corp.example) allows signed in with dingtalk"
        );
        b.js("document.querySelector('#rule-test select[name=authenticator]').value = 'basic'; return true;")
            .await;
        let (verdict, _, _) = test_url(&b, admin_url, "GET", "admin").await;
        assert_eq!(verdict, "allow");
        // A host no rule covers; a URL typed without its scheme.
        let (verdict, decider, reason) = test_url(&b, "other.example/x", "GET", "alice").await;
        assert_eq!(verdict, "deny");
        assert_eq!(decider, "No rule covers this URL.");
        assert_eq!(reason, "no rule covers other.example");
        assert_eq!(
            value_of(&b, "#rule-test input[name=url]").await,
            "https://other.example/x"
        );
        assert!(b
            .js("return document.querySelector('#rule-table tr.decides') === null")
            .await
            .as_bool()
            .unwrap());
        // Someone who does not exist: the API's message, and no stale verdict.
        b.fill("#rule-test input[name=user]", "nobody").await;
        b.click("#rule-test button[type=submit]").await;
        assert_eq!(
            b.text_of("#rule-test .form-error").await,
            "No user 'nobody'"
        );
        assert!(!shown(&b, "#rule-result").await);
        b.quit().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn access_rules_fit_a_phone_screen_in_both_languages() {
        let s = Server::start(Db::Sqlite).await;
        let admin = s.admin_token().await;
        create_dingtalk(&s, &admin).await;
        create_rule(
            &s,
            &admin,
            json!({"host": "finance-reporting-dashboard-for-the-quarterly-statements.internal.corp.example",
                   "pathPrefix": "/api/v2/reports/quarterly-financial-statements/export",
                   "methods": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
                   "allow": {"admins": true, "users": ["alice", "bob", "carol", "dave", "erin", "frank", "grace"], "authenticators": ["basic", "dingtalk"]},
                   "note": "Finance only: the quarterly statements are confidential until they are published, ask the CFO's office"}),
        )
        .await;
        create_rule(
            &s,
            &admin,
            json!({"host": "status.corp.example", "pathPrefix": "/health", "public": true}),
        )
        .await;
        create_rule(
            &s,
            &admin,
            json!({"host": "legacy.corp.example:8443", "deny": true, "note": "Retired"}),
        )
        .await;
        create_rule(
            &s,
            &admin,
            json!({"host": "*.corp.example", "allow": {"signedIn": true}}),
        )
        .await;
        let b = Browser::launch(PHONE, None).await;
        for (lang, title, verdict) in [
            ("en", "Access rules", "Denied"),
            ("zh-CN", "访问规则", "拒绝"),
        ] {
            b.c.delete_all_cookies().await.unwrap();
            b.goto(&s, "/signin").await;
            b.js(&format!(
                "document.cookie = 'lang={lang}; path=/'; return true;"
            ))
            .await;
            b.sign_in(&s, "/admin", "admin", ADMIN_PASSWORD).await;
            assert_eq!(b.text_of("[data-panel=sec-rules]").await, title, "{lang}");
            open_rules(&b).await;
            b.until(&format!("{ROWS} === 4")).await;
            assert_eq!(
                b.js(&format!("return {FITS}")).await,
                json!(true),
                "{lang}: the list scrolls sideways"
            );
            cells_keep_their_words(&b).await;
            // Every row's buttons are on screen.
            let off = b
                .js("var out = [];
                     document.querySelectorAll('#rule-table tbody td.actions button').forEach(function (x) {
                       var r = x.getBoundingClientRect();
                       if (!(r.width > 0 && r.left >= 0 && r.right <= window.innerWidth)) out.push(x.getAttribute('aria-label'));
                     });
                     return out;")
                .await;
            assert_eq!(off, json!([]), "{lang}: buttons off screen");
            // The form, with the longest rule in it.
            b.click("#rule-table tbody tr[data-rule] button.edit").await;
            b.until("!document.getElementById('rule-form').hidden")
                .await;
            assert_eq!(
                b.js(&format!("return {FITS}")).await,
                json!(true),
                "{lang}: the form scrolls sideways"
            );
            b.click("#rule-form button.cancel").await;
            // The test box and its answer.
            let (v, _, reason) = test_url(
                &b,
                "https://finance-reporting-dashboard-for-the-quarterly-statements.internal.corp.example/api/v2/reports/quarterly-financial-statements/export/2026-q3.xlsx",
                "GET",
                "",
            )
            .await;
            assert_eq!(v, "signIn");
            assert!(!reason.is_empty());
            let (v, _, reason) =
                test_url(&b, "https://legacy.corp.example:8443/", "GET", "admin").await;
            assert_eq!(v, "deny");
            assert_eq!(b.text_of("#rule-verdict").await, verdict);
            if lang == "en" {
                assert_eq!(reason, "rule 3 (legacy.corp.example:8443) denies everyone");
            } else {
                // The server's English reason, said in Chinese.
                assert_eq!(reason, "规则 3（legacy.corp.example:8443）拒绝所有人");
            }
            assert_eq!(
                b.js(&format!("return {FITS}")).await,
                json!(true),
                "{lang}: the test box scrolls sideways"
            );
        }
        b.quit().await;
    }

    /// Not a check: pictures for people to look at (run with `--ignored`).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore]
    async fn screenshots_of_the_access_rules_page() {
        let dir = screens_dir();
        let s = Server::start(Db::Sqlite).await;
        let admin = s.admin_token().await;
        create_dingtalk(&s, &admin).await;
        s.create_user(
            &admin,
            json!({"username": "zhangsan", "nickname": "张三", "password": ALICE_PASSWORD}),
        )
        .await;
        for def in [
            json!({"host": "grafana.corp.example", "pathPrefix": "/api/health", "methods": ["GET", "HEAD"], "public": true, "note": "Load balancer health checks"}),
            json!({"host": "admin.corp.example", "allow": {"admins": true, "users": ["zhangsan", "lisi"]}, "note": "IT department only"}),
            json!({"host": "finance.corp.example", "allow": {"authenticators": ["dingtalk"]}, "note": "财务系统：仅限钉钉登录"}),
            json!({"host": "legacy.corp.example", "deny": true}),
            json!({"host": "*.corp.example", "allow": {"signedIn": true}, "note": "Every other internal app"}),
        ] {
            create_rule(&s, &admin, def).await;
        }

        as_admin_at_each_width_and_language(&s, 3000, async |b, tag, width| {
            open_rules(b).await;
            b.until(&format!("{ROWS} === 5")).await;
            test_url(b, "https://admin.corp.example/settings", "GET", "zhangsan").await;
            b.js("window.scrollTo(0, 0); return true;").await;
            b.shot(&dir, &format!("admin-rules-{tag}-{width}.png"))
                .await;
            // Editing a rule, with the server's reason for a bad host.
            b.click("#rule-table tbody tr[data-rule]:nth-child(2) button.edit")
                .await;
            b.until("!document.getElementById('rule-form').hidden")
                .await;
            b.fill("#rule-form input[name=host]", "admin corp.example")
                .await;
            b.click("#rule-form button[type=submit]").await;
            b.text_of("#rule-form .form-error").await;
            b.js("window.scrollTo(0, 0); return true;").await;
            b.shot(&dir, &format!("admin-rules-form-{tag}-{width}.png"))
                .await;
            b.click("#rule-form button.cancel").await;
        })
        .await;
    }
}
