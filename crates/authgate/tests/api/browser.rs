//! A headless Chromium driven through chromedriver (WebDriver) with fantoccini, for the page
//! tests. Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them).

#![allow(dead_code)]

use crate::support::*;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const WAIT: Duration = Duration::from_secs(15);

pub struct Browser {
    pub c: Client,
    driver_port: u16,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // A Chromium that outlived its driver (a failed test never ran quit()): its processes
        // are the ones using this browser's own profile folder.
        let profile = format!("--user-data-dir={}", self._profile.path().display());
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return;
        };
        for entry in entries.flatten() {
            let pid = entry.file_name().to_string_lossy().to_string();
            if !pid.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let mine = cmdline
                .split(|b| *b == 0)
                .any(|arg| arg == profile.as_bytes());
            if mine {
                let _ = Command::new("kill").arg("-9").arg(&pid).status();
            }
        }
    }
}

/// A phone-sized viewport (375x667, like an iPhone SE / the DingTalk in-app browser).
pub const PHONE: Option<(u32, u32)> = Some((375, 667));

impl Browser {
    /// A desktop-sized browser.
    pub async fn start() -> Browser {
        Self::launch(None, None).await
    }

    /// `viewport`: emulate a phone of that size; `user_agent`: override the user agent.
    pub async fn launch(viewport: Option<(u32, u32)>, user_agent: Option<&str>) -> Browser {
        assert!(
            std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists(),
            "the page tests need {CHROMIUM} and {CHROMEDRIVER}: apt-get install -y chromium chromium-driver"
        );
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-background-networking".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--disable-breakpad".into(),
            "--disable-crash-reporter".into(),
            "--window-size=1280,900".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if let Some(ua) = user_agent {
            args.push(format!("--user-agent={ua}"));
        }
        let mut chrome = json!({"binary": CHROMIUM, "args": args});
        if let Some((w, h)) = viewport {
            chrome["mobileEmulation"] = json!({
                "deviceMetrics": {"width": w, "height": h, "pixelRatio": 2.0, "touch": true}
            });
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), chrome);
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let c = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if started.elapsed() > Duration::from_secs(30) => {
                    panic!("chromedriver/chromium did not start: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Browser {
            c,
            driver_port: port,
            driver,
            _profile: profile,
        }
    }

    /// Runs `source` in every document this browser opens from now on, before the page's own
    /// scripts (Chrome DevTools `Page.addScriptToEvaluateOnNewDocument` through chromedriver).
    pub async fn before_every_page(&self, source: &str) {
        self.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": source}),
        )
        .await;
    }

    /// Ends the WebDriver session (closes Chromium); the driver is killed on drop.
    pub async fn quit(self) {
        let _ = self.c.clone().close().await;
    }

    pub async fn goto(&self, s: &Server, path: &str) {
        self.c.goto(&s.url(path)).await.unwrap();
    }

    /// The current URL's path and query.
    pub async fn path(&self) -> String {
        let u = self.c.current_url().await.unwrap();
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        match self
            .c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => panic!(
                "no element '{css}' on {}: {e}\n{}",
                self.path().await,
                self.source().await
            ),
        }
    }

    pub async fn source(&self) -> String {
        self.c.source().await.unwrap_or_default()
    }

    /// Runs `script` (a function body that returns a value).
    pub async fn js(&self, script: &str) -> Value {
        self.c.execute(script, vec![]).await.unwrap()
    }

    /// Waits until `condition` (a JS expression) is truthy.
    pub async fn until(&self, condition: &str) {
        let started = Instant::now();
        let script = format!("return !!({condition});");
        loop {
            if self.c.execute(&script, vec![]).await.ok() == Some(Value::Bool(true)) {
                return;
            }
            if started.elapsed() > WAIT {
                panic!(
                    "timed out waiting for `{condition}` on {}:\n{}",
                    self.path().await,
                    self.source().await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the browser is on `path` (path and query).
    pub async fn until_at(&self, path: &str) {
        let started = Instant::now();
        loop {
            if self.path().await == path {
                return;
            }
            if started.elapsed() > WAIT {
                panic!("expected to be on {path}, still on {}", self.path().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The text of the first element matching `css`, once it is visible and non-empty.
    pub async fn text_of(&self, css: &str) -> String {
        let q = serde_json::to_string(css).unwrap();
        self.until(&format!(
            "(function(e){{return e && !e.hidden && e.offsetParent !== null && e.textContent.trim() !== ''}})(document.querySelector({q}))"
        ))
        .await;
        let started = Instant::now();
        loop {
            match self.find(css).await.text().await {
                Ok(text) => return text,
                Err(e) if e.is_stale_element_reference() && started.elapsed() < WAIT => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("reading '{css}' on {}: {e}", self.path().await),
            }
        }
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let e = self.find(css).await;
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    /// Clicks the first element matching `css`; a page that re-renders it between finding
    /// and clicking (a table refreshed by a fetch) is retried with the new element.
    pub async fn click(&self, css: &str) {
        let started = Instant::now();
        loop {
            match self.find(css).await.click().await {
                Ok(_) => return,
                Err(e) if e.is_stale_element_reference() && started.elapsed() < WAIT => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("clicking '{css}' on {}: {e}", self.path().await),
            }
        }
    }

    /// Signs in through `/signin` with the first password form.
    pub async fn sign_in(&self, s: &Server, redirect: &str, account: &str, password: &str) {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("redirect", redirect)
            .finish();
        self.goto(s, &format!("/signin?{q}")).await;
        self.fill(".pw-form input[name=account]", account).await;
        self.fill(".pw-form input[name=password]", password).await;
        self.click(".pw-form button[type=submit]").await;
        self.until_at(redirect).await;
    }
}

/// Where screenshots go: `$AUTHGATE_SCREENS`, else `/tmp/screens` (created).
pub fn screens_dir() -> String {
    let dir = std::env::var("AUTHGATE_SCREENS").unwrap_or_else(|_| "/tmp/screens".into());
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// For screenshots: a browser at a phone's width (375) and a desktop's (1280), each in
/// English and Chinese, signed out; `then` gets the browser, the language's tag (`en`, `zh`)
/// and the width. The windows are taller than the pages (`desktop_height` for 1280), so that
/// a picture of `<body>` is the whole page. Every page it opens records its event listeners
/// (for `assert_layout`).
pub async fn at_each_width_and_language(
    s: &Server,
    desktop_height: u32,
    mut then: impl AsyncFnMut(&Browser, &str, u32),
) {
    for width in [375u32, 1280] {
        let b = if width == 375 {
            Browser::launch(Some((width, 4000)), None).await
        } else {
            let b = Browser::start().await;
            b.c.set_window_size(1280, desktop_height).await.unwrap();
            b
        };
        b.before_every_page(crate::page_checks::LISTENER_SPY).await;
        for lang in ["en", "zh-CN"] {
            let tag = if lang == "en" { "en" } else { "zh" };
            b.c.delete_all_cookies().await.unwrap();
            b.goto(s, "/signin").await;
            b.js(&format!(
                "document.cookie = 'lang={lang}; path=/'; return true;"
            ))
            .await;
            then(&b, tag, width).await;
        }
        b.quit().await;
    }
}

/// As [`at_each_width_and_language`], signed in as the administrator on `/admin`.
pub async fn as_admin_at_each_width_and_language(
    s: &Server,
    desktop_height: u32,
    mut then: impl AsyncFnMut(&Browser, &str, u32),
) {
    at_each_width_and_language(s, desktop_height, async |b, tag, width| {
        b.sign_in(s, "/admin", "admin", ADMIN_PASSWORD).await;
        then(b, tag, width).await;
    })
    .await;
}

impl Browser {
    /// A picture of `<body>` saved as `dir/name`, once the page has settled.
    pub async fn shot(&self, dir: &str, name: &str) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = self.find("body").await.screenshot().await.unwrap();
        std::fs::write(format!("{dir}/{name}"), png).unwrap();
    }
}

impl Browser {
    /// A Chrome DevTools Protocol command through chromedriver (e.g. `Network.setExtraHTTPHeaders`);
    /// its result.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let session = self
            .c
            .session_id()
            .await
            .unwrap()
            .expect("a WebDriver session");
        let r = reqwest::Client::new()
            .post(format!(
                "http://127.0.0.1:{}/session/{session}/goog/cdp/execute",
                self.driver_port
            ))
            .json(&json!({"cmd": cmd, "params": params}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "CDP {cmd} failed");
        let body: Value = r.json().await.unwrap();
        body["value"].clone()
    }
}
