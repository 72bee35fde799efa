//! Shared pieces of the DingTalk tests: a fake DingTalk in the test process, an authgate
//! process pointed at it, and a "browser" (reqwest, redirects off, cookies by hand).

#![allow(dead_code)]

use crate::support::*;
use fake_dingtalk::{
    FakeConfig, FakeDingTalk, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_CORP_ID,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

pub const AUTHENTICATOR: &str = "dingtalk";

pub struct DingEnv {
    pub s: Server,
    pub fake: FakeDingTalk,
    pub admin: String,
    /// What `s` was started with (fake DingTalk addresses included), for more nodes.
    pub opts: ServerOptions,
}

impl DingEnv {
    /// authgate + fake DingTalk + a `dingtalk` authenticator for the fake's `dingdemo` app
    /// with `options` on top of the credentials.
    pub async fn start(db: Db, options: Value) -> DingEnv {
        Self::start_with(db, options, ServerOptions::default()).await
    }

    pub async fn start_with(db: Db, options: Value, opts: ServerOptions) -> DingEnv {
        let fake = FakeDingTalk::start(FakeConfig::default()).await;
        let base = fake.base_url().to_string();
        let opts = opts
            .env("AUTHGATE_DINGTALK_LOGIN_BASE", &base)
            .env("AUTHGATE_DINGTALK_API_BASE", &base)
            .env("AUTHGATE_DINGTALK_OAPI_BASE", &base);
        let s = Server::start_with(db, opts.clone()).await;
        let admin = s.admin_token().await;
        let env = DingEnv {
            s,
            fake,
            admin,
            opts,
        };
        env.register_redirect(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
        env.create_authenticator(AUTHENTICATOR, options).await;
        env
    }

    /// Another node on the same database and DingTalk (`start_with` needs a `secret_key`).
    pub async fn start_node(&self) -> Server {
        self.s.start_node(self.opts.clone()).await
    }

    /// The Redirect URL the admin copies into DingTalk's console: under the public URL (the
    /// load balancer's, when the nodes sit behind one).
    pub fn redirect_url(&self) -> String {
        let public = self
            .opts
            .env
            .iter()
            .rev()
            .find(|(k, _)| k == "AUTHGATE_PUBLIC_URL")
            .map(|(_, v)| v.trim_end_matches('/').to_string());
        format!(
            "{}/api/dingtalk:redirect",
            public.unwrap_or_else(|| self.s.base.clone())
        )
    }

    /// Registers authgate's Redirect URL with a fake app (as the admin does in the console).
    pub fn register_redirect(&self, client_id: &str, secret: &str) {
        self.fake
            .add_app(
                fake_dingtalk::FakeApp::new(client_id, secret)
                    .with_corp_id(DEFAULT_CORP_ID)
                    .with_redirect_uri(self.redirect_url()),
            )
            .unwrap();
    }

    pub async fn create_authenticator_reply(&self, name: &str, options: Value) -> Reply {
        let mut all = json!({"clientId": DEFAULT_CLIENT_ID, "clientSecret": DEFAULT_CLIENT_SECRET});
        for (k, v) in options.as_object().unwrap() {
            all[k] = v.clone();
        }
        self.s
            .post(
                "/api/authenticators:create",
                Some(&self.admin),
                json!({"name": name, "authType": "dingtalk", "title": "DingTalk", "options": all}),
            )
            .await
    }

    pub async fn create_authenticator(&self, name: &str, options: Value) -> Value {
        let r = self.create_authenticator_reply(name, options).await;
        r.assert_ok();
        r.body["data"].clone()
    }

    pub async fn update_options(&self, name: &str, options: Value) -> Reply {
        let id = self.authenticator_id(name).await;
        self.s
            .post(
                &format!("/api/authenticators:update?filterByTk={id}"),
                Some(&self.admin),
                json!({"options": options}),
            )
            .await
    }

    pub async fn authenticator_id(&self, name: &str) -> i64 {
        let list = self
            .s
            .get("/api/authenticators:list", Some(&self.admin))
            .await;
        list.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// Users, identities and sessions: a refused sign-in must leave them as they were.
    pub async fn counts(&self) -> (i64, i64, i64) {
        (
            self.s.sql_count("SELECT COUNT(*) FROM users").await,
            self.s.sql_count("SELECT COUNT(*) FROM identities").await,
            self.s.sql_count("SELECT COUNT(*) FROM sessions").await,
        )
    }

    /// The reason and detail of the newest `auth.signIn` audit entry.
    pub async fn last_sign_in_audit(&self) -> (String, String, Value) {
        let r = self.s.get("/api/auditLogs:list", Some(&self.admin)).await;
        r.assert_ok();
        // The newest by when it last happened: a repeated failure is counted on an older row.
        let last_at = |e: &Value| {
            e["detail"]["lastAt"].as_i64().unwrap_or_else(|| {
                let created = e["createdAt"].as_str().unwrap();
                let rfc3339 = &time::format_description::well_known::Rfc3339;
                let t = time::OffsetDateTime::parse(created, rfc3339).unwrap();
                (t.unix_timestamp_nanos() / 1_000_000) as i64
            })
        };
        let e = r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event"] == "auth.signIn" && e["authenticator"] != "basic")
            .max_by_key(|e| last_at(e))
            .cloned()
            .expect("a DingTalk sign-in audit entry");
        (
            e["result"].as_str().unwrap().to_string(),
            e["reason"].as_str().unwrap_or_default().to_string(),
            e["detail"].clone(),
        )
    }

    /// Asserts a refused sign-in: the sign-in page with `message_part`, nothing written, and an
    /// audit entry with `reason`.
    pub async fn assert_refused(
        &self,
        outcome: &Outcome,
        before: (i64, i64, i64),
        reason: &str,
        message_part: &str,
    ) -> Value {
        let page = outcome
            .signin_page()
            .unwrap_or_else(|| panic!("expected the sign-in page, got {outcome:?}"));
        assert_eq!(page.error, reason, "the link names the reason, never text");
        let shown = shown_error(&self.s, outcome).await;
        assert!(
            shown.contains(message_part),
            "message {shown:?} lacks {message_part:?}"
        );
        assert_eq!(
            self.counts().await,
            before,
            "a refused sign-in wrote something"
        );
        let (result, got_reason, detail) = self.last_sign_in_audit().await;
        assert_eq!((result.as_str(), got_reason.as_str()), ("failure", reason));
        assert!(!detail.to_string().contains(DEFAULT_CLIENT_SECRET));
        detail
    }

    pub fn add_user(&self, user: fake_dingtalk::FakeUser) {
        self.fake.add_user(user).unwrap();
    }

    pub fn fake_user(&self, userid: &str) -> fake_dingtalk::FakeUser {
        self.fake
            .users()
            .into_iter()
            .find(|u| u.userid == userid)
            .unwrap()
    }
}

/// Where the browser ended up.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: StatusCode,
    pub location: String,
    /// The browser's Accept-Language, to read the sign-in page as it would.
    pub accept_language: Option<String>,
}

#[derive(Debug)]
pub struct SignInPage {
    pub authenticator: Option<String>,
    pub error: String,
    pub redirect: String,
}

impl Outcome {
    pub fn signin_page(&self) -> Option<SignInPage> {
        let rest = self.location.strip_prefix("/signin?")?;
        let pairs: BTreeMap<String, String> = url::form_urlencoded::parse(rest.as_bytes())
            .into_owned()
            .collect();
        Some(SignInPage {
            authenticator: pairs.get("authenticator").cloned(),
            error: pairs.get("error").cloned().unwrap_or_default(),
            redirect: pairs.get("redirect").cloned().unwrap_or_default(),
        })
    }
}

/// The error the sign-in page shows a browser sent to `outcome.location`, in its language.
pub async fn shown_error(s: &Server, outcome: &Outcome) -> String {
    let mut request = s.http.get(s.url(&outcome.location));
    if let Some(lang) = &outcome.accept_language {
        request = request.header("accept-language", lang);
    }
    let html = request.send().await.unwrap().text().await.unwrap();
    html.split("role=\"alert\"")
        .skip(1)
        .filter_map(|rest| {
            let text = rest.split_once('>')?.1.split("</p>").next()?;
            let text = text
                .replace("&#34;", "\"")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
            (!text.trim().is_empty()).then(|| text.trim().to_string())
        })
        .next()
        .unwrap_or_default()
}

/// A browser: no automatic redirects, its own cookie jar for authgate.
pub struct Browser {
    pub http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    pub accept_language: Option<String>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            accept_language: None,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, headers: &reqwest::header::HeaderMap) {
        for v in headers.get_all("set-cookie") {
            let text = v.to_str().unwrap();
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let (k, val) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k.trim());
            } else {
                self.cookies.insert(k.trim().into(), val.trim().into());
            }
        }
    }

    /// A request to authgate with this browser's cookies.
    pub async fn authgate(
        &mut self,
        method: reqwest::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut req = self
            .http
            .request(method, url)
            .header("cookie", self.cookie_header());
        if let Some(l) = &self.accept_language {
            req = req.header("accept-language", l);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        self.keep_cookies(r.headers());
        Reply::from(r).await
    }

    /// Step 1: the authorize URL from `dingtalk:getAuthUrl`.
    pub async fn get_auth_url(
        &mut self,
        s: &Server,
        authenticator: &str,
        redirect: Option<&str>,
    ) -> String {
        let body = match redirect {
            Some(r) => json!({"redirect": r}),
            None => json!({}),
        };
        let r = self
            .authgate(
                reqwest::Method::POST,
                &s.url("/api/dingtalk:getAuthUrl"),
                &[("x-authenticator", authenticator)],
                Some(body),
            )
            .await;
        r.assert_ok();
        r.body["data"]["url"].as_str().unwrap().to_string()
    }

    /// Step 1 against the node at `base`.
    pub async fn auth_url_at(&mut self, base: &str, authenticator: &str) -> String {
        let r = self
            .authgate(
                reqwest::Method::POST,
                &format!("{base}/api/dingtalk:getAuthUrl"),
                &[("x-authenticator", authenticator)],
                Some(json!({})),
            )
            .await;
        r.assert_ok();
        r.body["data"]["url"].as_str().unwrap().to_string()
    }

    /// Step 2 at the fake: sign in as `login_as` (or deny); returns DingTalk's redirect back.
    pub async fn authorize(&mut self, auth_url: &str, extra: &str) -> String {
        let r = self
            .http
            .get(format!("{auth_url}{extra}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::FOUND,
            "authorize: {}",
            r.text().await.unwrap()
        );
        r.headers()["location"].to_str().unwrap().to_string()
    }

    /// Step 3: DingTalk's redirect back to authgate.
    pub async fn callback(&mut self, callback_url: &str) -> Outcome {
        let r = self
            .authgate(reqwest::Method::GET, callback_url, &[], None)
            .await;
        assert_eq!(
            r.status,
            StatusCode::FOUND,
            "callback: {} {}",
            r.status,
            r.text
        );
        Outcome {
            status: r.status,
            location: r.header("location").unwrap().to_string(),
            accept_language: self.accept_language.clone(),
        }
    }

    /// The whole round trip as DingTalk user `userid`.
    pub async fn sign_in_as(
        &mut self,
        s: &Server,
        authenticator: &str,
        userid: &str,
        redirect: Option<&str>,
    ) -> Outcome {
        let url = self.get_auth_url(s, authenticator, redirect).await;
        let back = self.authorize(&url, &format!("&login_as={userid}")).await;
        self.callback(&at_node(&back, &s.base)).await
    }

    /// The whole round trip against the node at `base`, giving up on the first transport
    /// error (for tests that kill nodes) instead of panicking.
    pub async fn try_sign_in_as(
        &mut self,
        base: &str,
        authenticator: &str,
        userid: &str,
        redirect: &str,
    ) -> Result<Outcome, String> {
        let send = |req: reqwest::RequestBuilder, cookies: String| async move {
            req.header("cookie", cookies)
                .send()
                .await
                .map_err(|e| format!("transport: {e}"))
        };
        let r = send(
            self.http
                .post(format!("{base}/api/dingtalk:getAuthUrl"))
                .header("x-authenticator", authenticator)
                .json(&json!({ "redirect": redirect })),
            self.cookie_header(),
        )
        .await?;
        self.keep_cookies(r.headers());
        let status = r.status();
        let body: Value = r.json().await.map_err(|e| format!("transport: {e}"))?;
        if status != StatusCode::OK {
            return Err(format!("getAuthUrl {status}: {body}"));
        }
        let url = body["data"]["url"].as_str().unwrap().to_string();
        let back = self.authorize(&url, &format!("&login_as={userid}")).await;
        // Behind a load balancer DingTalk redirects to its address: deliver to this node.
        let back = at_node(&back, base);
        let r = send(self.http.get(&back), self.cookie_header()).await?;
        self.keep_cookies(r.headers());
        match r.headers().get("location") {
            Some(l) if r.status() == StatusCode::FOUND => Ok(Outcome {
                status: r.status(),
                location: l.to_str().unwrap().to_string(),
                accept_language: self.accept_language.clone(),
            }),
            _ => Err(format!("callback answered {}", r.status())),
        }
    }

    pub fn token(&self) -> Option<String> {
        self.cookies.get("authgate_token").cloned()
    }

    /// `auth:check` with the session cookie.
    pub async fn whoami(&mut self, s: &Server) -> Reply {
        self.authgate(reqwest::Method::GET, &s.url("/api/auth:check"), &[], None)
            .await
    }
}

/// `url` with its scheme, host and port replaced by those of `base` (the load balancer's pick).
pub fn at_node(url: &str, base: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    let b = url::Url::parse(base).unwrap();
    u.set_host(b.host_str()).unwrap();
    u.set_port(b.port()).unwrap();
    u.to_string()
}

/// The `state` parameter of an authorize URL.
pub fn state_of(auth_url: &str) -> String {
    query_param(auth_url, "state").unwrap()
}
