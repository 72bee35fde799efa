//! What every page must pass, checked in the browser on the page as it is: WCAG 2.1 AA by
//! axe-core, a layout a person can use (nothing wider than the window, no word broken across
//! lines, no button that does nothing, nothing hidden that shows), and no English in a
//! Chinese page's own words. `check_page` runs them all and keeps a picture of the page.

use crate::browser::{screens_dir, Browser};
use serde_json::Value;
use std::time::Duration;

/// The admin console's tabs, in their order.
pub const ADMIN_TABS: [&str; 7] = [
    "sec-authenticators",
    "sec-apps",
    "sec-rules",
    "sec-users",
    "sec-sessions",
    "sec-policy",
    "sec-audit",
];

/// Notes on every element which events it listens to (`__agOn`), so that `assert_layout` can
/// tell a button with a handler from one without: run before the page's own scripts.
pub const LISTENER_SPY: &str = r#"(function () {
  var add = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = function (type, fn, opts) {
    if (this instanceof Element) { (this.__agOn = this.__agOn || {})[type] = true; }
    return add.call(this, type, fn, opts);
  };
})();"#;

/// On a Chinese page, English words in the page's own words (headings, labels, buttons,
/// column heads, help and messages; not the data: names, ids, URLs, code), one line each.
/// Technical names that Chinese pages use as they are (Client ID, URL, IP...) are allowed.
const ENGLISH_ON_A_CHINESE_PAGE: &str = r#"
if (!/^zh/.test(document.documentElement.lang)) return [];
var allowed = /^(authgate|DingTalk|Client|Secret|ID|IDs|URL|URI|URIs|IP|API|JSON|OIDC|OpenID|Connect|JWT|JWKS|HTTP|HTTPS|http|https|corpId|unionId|userid|UID|Auth|PKCE|S256|RS256|EdDSA|openid|profile|email|phone|offline_access|dingtalk|English|Cookie|localhost|forward|auth|mobile|orgEmail|corpid|CorpId|public_url|token|jwt|authenticator|name|CSRF|SQLite|PostgreSQL|Remote|User|Name|Email|Groups|Jwt|nginx|Caddy|Traefik|Grafana|GitLab|Gitea|Outline|JupyterHub|NocoBase|Apache|mod_auth_openidc|Basic|Post|none|client_secret_basic|client_secret_post|basic|post|AppKey|AppSecret|Token|Access|Refresh|ms|max_age|prompt|login|consent|select_account|account|RFC|ISO|UTC|GMT|AM|PM|yyyy|mm|dd)$/;
var out = [];
var chrome = 'h1, h2, h3, h4, legend, th, label, button, option, .help, .empty, .alert, .notice, .warning, .tab, a.button';
document.querySelectorAll(chrome).forEach(function (e) {
  if (!e.getClientRects().length || e.closest('code, pre, td, .copyable, strong, .identity-name, .lang-switch, .sso-button, [data-data]')) return;
  var own = Array.prototype.filter.call(e.childNodes, function (n) { return n.nodeType === 3; })
    .map(function (n) { return n.data; }).join(' ');
  // Dotted names and paths (hosts, files, /admin) are data whatever their letters, and so are
  // identifiers: snake_case and camelCase (client_credentials, orgEmail).
  (own.match(/[A-Za-z0-9*\/][A-Za-z0-9.*_:\/-]*/g) || []).forEach(function (w) {
    if (/[.\/]/.test(w) || !/^[A-Za-z][A-Za-z_]{2,}$/.test(w) || /_|[a-z][A-Z]/.test(w) || allowed.test(w)) return;
    out.push('"' + w + '" in ' + e.tagName.toLowerCase() + ': ' + own.trim().slice(0, 60));
  });
});
// Placeholders that are prose (not a sample value such as a URL, host or name).
document.querySelectorAll('[placeholder]').forEach(function (e) {
  var p = e.getAttribute('placeholder');
  if (/[A-Za-z]{3,} [A-Za-z]{3,}/.test(p)) out.push('"' + p + '" is the placeholder of ' + (e.name || e.id));
});
return out;
"#;

/// The layout's problems on the page as it is, one line each.
const LAYOUT: &str = r#"
var problems = [];
function describe(e) {
  var s = e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '');
  var text = (e.textContent || '').trim().slice(0, 40);
  return s + (text ? ' "' + text + '"' : '');
}
function visible(e) { return e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'; }
// The layout viewport (a phone zooms out to fit a wider page, so innerWidth would grow too).
var doc = document.documentElement;
if (doc.scrollWidth > doc.clientWidth + 1) {
  problems.push('the page is ' + doc.scrollWidth + ' px wide in a ' + doc.clientWidth + ' px window');
}
document.querySelectorAll('[hidden]').forEach(function (e) {
  if (visible(e)) problems.push('shown although hidden: ' + describe(e));
});
// Words and short tokens (an IP, a name, a version) broken across lines. Longer ones (an
// e-mail, a generated id) and code, secrets and URLs in code boxes may wrap anywhere: they
// can be longer than a phone's line.
var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
var word = /[A-Za-z0-9][A-Za-z0-9.@_]*/g;
for (var n = walker.nextNode(); n; n = walker.nextNode()) {
  var p = n.parentElement;
  if (!p || p.closest('code, pre, textarea, script, style, .copyable') || !visible(p)) continue;
  word.lastIndex = 0;
  for (var m = word.exec(n.data); m; m = word.exec(n.data)) {
    if (m[0].length < 2 || m[0].length > 16) continue;
    var r = document.createRange();
    r.setStart(n, m.index);
    r.setEnd(n, m.index + m[0].length);
    var boxes = Array.prototype.filter.call(r.getClientRects(), function (b) { return b.width > 0; });
    if (boxes.some(function (b) { return Math.abs(b.top - boxes[0].top) > 2; })) {
      problems.push('"' + m[0] + '" is broken across lines in ' + describe(p));
    }
  }
}
// Every visible button does something: a click handler on it or an element around it, or it
// submits a form that has a submit handler (or a plain form the browser posts).
document.querySelectorAll('button, [role=button]').forEach(function (b) {
  if (!visible(b) || b.disabled) return;
  var ok = b.type === 'submit' && b.form &&
    ((b.form.__agOn && b.form.__agOn.submit) || b.form.onsubmit || b.form.hasAttribute('method'));
  for (var e = b; e && e !== document.body && !ok; e = e.parentElement) {
    ok = !!(e.onclick || (e.__agOn && e.__agOn.click));
  }
  if (!ok) problems.push('a button that does nothing: ' + describe(b));
});
return problems;
"#;

/// axe-core, the accessibility checker `axe_violations` runs in the page (vendored test code:
/// `tests/vendor/axe-core/README.md`; authgate never serves it).
const AXE: &str = include_str!("../vendor/axe-core/axe.min.js");

/// Runs axe on the whole document with the WCAG 2.0 and 2.1 rules of levels A and AA, and hands
/// back one line per element that fails a rule: `<rule id> (<impact>): <selector>: <what is
/// wrong>` (the first line of axe's failure summary after its "Fix any/all of the following:").
const AXE_RUN: &str = r#"
var done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
  .then(function (r) {
    var out = [];
    r.violations.forEach(function (v) {
      v.nodes.forEach(function (n) {
        var why = (n.failureSummary || '').split('\n').map(function (l) { return l.trim(); })
          .filter(function (l) { return l !== '' && !/^Fix (any|all) of the following:$/.test(l); });
        var target = n.target.map(function (t) { return Array.isArray(t) ? t.join(' >>> ') : t; }).join(' ');
        out.push(v.id + ' (' + v.impact + '): ' + target + ': ' + (why[0] || v.help));
      });
    });
    done(out);
  }, function (e) { done({error: String(e && e.message || e)}); });
"#;

impl Browser {
    /// What axe-core finds against WCAG 2.1 A and AA on the current page as it is now (run it
    /// once the page shows what is to be checked): one line per failing element, none if the
    /// page passes. WebDriver's scripts are not subject to the page's Content-Security-Policy.
    pub async fn axe_violations(&self) -> Vec<String> {
        // Let what the page just did settle (a tab shown, rows filled in).
        tokio::time::sleep(Duration::from_millis(300)).await;
        if let Err(e) = self.c.execute(AXE, vec![]).await {
            panic!("axe-core did not load into {}: {e}", self.path().await);
        }
        let result = match self.c.execute_async(AXE_RUN, vec![]).await {
            Ok(v) => v,
            Err(e) => panic!("axe.run on {}: {e}", self.path().await),
        };
        match result {
            Value::Array(lines) => lines
                .into_iter()
                .map(|l| l.as_str().unwrap_or_default().to_string())
                .collect(),
            other => panic!("axe.run failed on {}: {other}", self.path().await),
        }
    }

    /// Panics, listing every violation, unless axe-core finds the current page meets WCAG 2.1
    /// AA; `what` names the page and its state in the message (e.g. `/signin en 375`).
    pub async fn assert_accessible(&self, what: &str) {
        let violations = self.axe_violations().await;
        if !violations.is_empty() {
            panic!(
                "{what} ({}): {} WCAG 2.1 A/AA violation(s) found by axe-core:\n  {}",
                self.path().await,
                violations.len(),
                violations.join("\n  ")
            );
        }
    }

    /// English words among a Chinese page's own words (see `ENGLISH_ON_A_CHINESE_PAGE`).
    pub async fn english_on_a_chinese_page(&self) -> Vec<String> {
        match self.js(ENGLISH_ON_A_CHINESE_PAGE).await {
            Value::Array(words) => words
                .into_iter()
                .map(|w| w.as_str().unwrap_or_default().to_string())
                .collect(),
            other => panic!(
                "the language check failed on {}: {other}",
                self.path().await
            ),
        }
    }

    /// The layout's problems on the current page (see `LAYOUT`); none when it is right.
    pub async fn layout_problems(&self) -> Vec<String> {
        match self.js(LAYOUT).await {
            Value::Array(lines) => lines
                .into_iter()
                .map(|l| l.as_str().unwrap_or_default().to_string())
                .collect(),
            other => panic!("the layout check failed on {}: {other}", self.path().await),
        }
    }

    /// The page as it is passes the layout checks and WCAG 2.1 AA, and its picture is kept as
    /// `<screens>/<name>-<at>.png` (`at`: language and width, e.g. `zh 375`).
    pub async fn check_page(&self, name: &str, at: &str) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let file = format!("{name}-{}.png", at.replace(' ', "-"));
        self.shot(&screens_dir(), &file).await;
        let layout = self.layout_problems().await;
        assert!(
            layout.is_empty(),
            "{name} {at} ({}): the layout is wrong (picture: {}/{file}):\n  {}",
            self.path().await,
            screens_dir(),
            layout.join("\n  ")
        );
        let english = self.english_on_a_chinese_page().await;
        assert!(
            english.is_empty(),
            "{name} {at} ({}): English on a Chinese page:\n  {}",
            self.path().await,
            english.join("\n  ")
        );
        self.assert_accessible(&format!("{name} {at}")).await;
    }

    /// Shows an admin tab (one of `ADMIN_TABS`).
    pub async fn open_admin_tab(&self, tab: &str) {
        self.click(&format!(".tab[data-panel={tab}]")).await;
        self.until(&format!("!document.getElementById('{tab}').hidden"))
            .await;
    }
}
