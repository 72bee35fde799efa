//! The OpenID Connect provider seen from outside: a relying party built on panva's
//! `openid-client` (a certified library, run by node from `tests/oidc-rp/rp.mjs`), a browser
//! that keeps cookies and stops at every redirect, and the registration of clients through
//! the admin API.
//!
//! The relying party needs `npm ci --prefix crates/authgate/tests/oidc-rp` (which
//! `scripts/install-test-deps`, run by `.ci/run`, does); without it every OIDC test fails and
//! says so.

#![allow(dead_code)]
// What openid-client raised is carried whole (it is read once, in an assertion).
#![allow(clippy::result_large_err)]

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Mutex;

/// Where registered clients send people back (nothing listens: the tests read the Location).
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/cb";
pub const POST_LOGOUT_URI: &str = "http://127.0.0.1:9/bye";

/// The person who signs in to the applications, with every claim a scope can bring.
pub const ALICE: &str = "alice";
pub const ALICE_PASSWORD: &str = "alice-Passw0rd!";
pub const ALICE_EMAIL: &str = "alice@example.com";
pub const ALICE_NICKNAME: &str = "Alice Liddell";
pub const ALICE_PHONE: &str = "+8613800138000";

fn driver_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-rp")
}

/// What openid-client (or the driver) raised.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct RpError {
    pub name: String,
    pub message: String,
    pub code: Option<String>,
    /// The OAuth `error`, when the provider answered one.
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub status: Option<u16>,
    pub cause: Option<String>,
}

impl RpError {
    pub fn error(&self) -> &str {
        self.error.as_deref().unwrap_or_default()
    }
}

struct Pipe {
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    _child: Child,
}

/// The node process running `rp.mjs`, one per test.
#[derive(Clone)]
pub struct Rp(Arc<Mutex<Pipe>>);

impl Rp {
    pub async fn start() -> Rp {
        let dir = driver_dir();
        assert!(
            dir.join("node_modules/openid-client/package.json").exists(),
            "openid-client is not installed for the OIDC tests: run scripts/install-test-deps \
             or `npm ci --prefix crates/authgate/tests/oidc-rp` (node and npm are needed)"
        );
        let mut child = Command::new("node")
            .arg("rp.mjs")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("node could not run the OIDC relying party ({e}): install node")
            });
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        Rp(Arc::new(Mutex::new(Pipe {
            stdin,
            stdout,
            _child: child,
        })))
    }

    /// One operation: its `ok` value, or what was raised.
    pub async fn call(&self, request: Value) -> Result<Value, RpError> {
        let mut pipe = self.0.lock().await;
        let mut line = serde_json::to_string(&request).unwrap();
        line.push('\n');
        pipe.stdin.write_all(line.as_bytes()).await.unwrap();
        pipe.stdin.flush().await.unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(60), pipe.stdout.next_line())
            .await
            .unwrap_or_else(|_| panic!("the relying party did not answer {request}"))
            .unwrap()
            .unwrap_or_else(|| panic!("the relying party exited on {request}"));
        let answer: Value = serde_json::from_str(&answer).unwrap();
        Self::read(answer)
    }

    fn read(answer: Value) -> Result<Value, RpError> {
        if let Some(e) = answer.get("error") {
            return Err(serde_json::from_value(e.clone()).unwrap());
        }
        Ok(answer["ok"].clone())
    }

    /// Runs the operations at once (inside node); their answers in the same order.
    pub async fn parallel(&self, requests: Vec<Value>) -> Vec<Result<Value, RpError>> {
        let all = self
            .call(json!({"op": "parallel", "requests": requests}))
            .await
            .expect("parallel runs");
        all.as_array()
            .unwrap()
            .iter()
            .cloned()
            .map(Self::read)
            .collect()
    }
}

/// A client as registered through `oidcClients:create`.
#[derive(Debug, Clone)]
pub struct Registered {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub auth: String,
    /// The whole answer of `oidcClients:create`.
    pub answer: Value,
}

/// A registered client as openid-client knows it (after discovery).
#[derive(Clone)]
pub struct Relying {
    pub rp: Rp,
    pub handle: String,
    pub client: Registered,
}

/// An authorization request as openid-client built it.
#[derive(Debug, Clone, Default)]
pub struct AuthRequest {
    pub url: String,
    pub code_verifier: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
}

/// A token endpoint answer, with the ID token claims openid-client verified.
#[derive(Debug, Clone, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: Option<i64>,
    pub scope: Option<String>,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
    pub claims: Option<Value>,
}

impl Tokens {
    pub fn id_claims(&self) -> &Value {
        self.claims.as_ref().expect("an ID token")
    }
    pub fn sub(&self) -> String {
        self.id_claims()["sub"].as_str().unwrap().to_string()
    }
}

/// How the authorization response reached the relying party.
#[derive(Debug, Clone)]
pub enum Callback {
    /// The redirect URI with its query (`response_mode=query`).
    Url(String),
    /// The form the provider's page posts (`response_mode=form_post`).
    FormPost {
        action: String,
        fields: Vec<(String, String)>,
    },
}

impl Relying {
    pub async fn op(&self, op: &str, mut args: Value) -> Result<Value, RpError> {
        args["op"] = json!(op);
        args["rp"] = json!(self.handle);
        self.rp.call(args).await
    }

    /// An operation for `Rp::parallel`.
    pub fn request(&self, op: &str, mut args: Value) -> Value {
        args["op"] = json!(op);
        args["rp"] = json!(self.handle);
        args
    }

    /// PKCE, state and nonce included; `params` added (`redirect_uri` defaults to the
    /// registered one, `scope` to `openid`).
    pub async fn auth_request(&self, params: Value) -> AuthRequest {
        self.auth_request_with(json!({ "params": params })).await
    }

    /// `options`: `params`, and `pkce`/`state`/`nonce` false to leave one out.
    pub async fn auth_request_with(&self, mut options: Value) -> AuthRequest {
        let params = options["params"].as_object_mut().map(std::mem::take);
        let mut params = params.unwrap_or_default();
        params
            .entry("redirect_uri")
            .or_insert_with(|| json!(REDIRECT_URI));
        options["params"] = Value::Object(params);
        let r = self
            .op("buildAuthorizationUrl", options)
            .await
            .expect("openid-client builds the authorization URL");
        let text = |k: &str| r[k].as_str().map(str::to_string);
        AuthRequest {
            url: text("url").unwrap(),
            code_verifier: text("codeVerifier"),
            state: text("state"),
            nonce: text("nonce"),
        }
    }

    pub fn grant_request(&self, req: &AuthRequest, callback: &Callback, extra: Value) -> Value {
        let mut args = json!({
            "expectedState": req.state,
            "expectedNonce": req.nonce,
            "codeVerifier": req.code_verifier,
        });
        match callback {
            Callback::Url(u) => args["callbackUrl"] = json!(u),
            Callback::FormPost { action, fields } => {
                let fields: BTreeMap<_, _> = fields.iter().cloned().collect();
                args["formPost"] = json!({"action": action, "fields": fields});
            }
        }
        if let Value::Object(extra) = extra {
            for (k, v) in extra {
                args[k] = v;
            }
        }
        self.request("authorizationCodeGrant", args)
    }

    /// openid-client's `authorizationCodeGrant` with the checks of `req` (state, nonce, PKCE).
    pub async fn grant(&self, req: &AuthRequest, callback: &Callback) -> Result<Tokens, RpError> {
        self.grant_with(req, callback, json!({})).await
    }

    /// As `grant`, with more checks (`maxAge`) or overrides (`codeVerifier: null`).
    pub async fn grant_with(
        &self,
        req: &AuthRequest,
        callback: &Callback,
        extra: Value,
    ) -> Result<Tokens, RpError> {
        let r = self
            .rp
            .call(self.grant_request(req, callback, extra))
            .await?;
        Ok(serde_json::from_value(r).unwrap())
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, RpError> {
        let r = self
            .op("refreshTokenGrant", json!({"refreshToken": refresh_token}))
            .await?;
        Ok(serde_json::from_value(r).unwrap())
    }

    pub async fn client_credentials(&self, params: Value) -> Result<Tokens, RpError> {
        let r = self
            .op("clientCredentialsGrant", json!({"params": params}))
            .await?;
        Ok(serde_json::from_value(r).unwrap())
    }

    /// `method`: `GET`, `POST-header` or `POST-body`.
    pub async fn userinfo(
        &self,
        access_token: &str,
        method: &str,
        expected_sub: Option<&str>,
    ) -> Result<Value, RpError> {
        self.op(
            "fetchUserInfo",
            json!({"accessToken": access_token, "method": method, "expectedSubject": expected_sub}),
        )
        .await
    }

    pub async fn introspect(&self, token: &str) -> Value {
        self.op("tokenIntrospection", json!({"token": token}))
            .await
            .expect("introspection answers")
    }

    pub async fn revoke(&self, token: &str) -> Result<Value, RpError> {
        self.op("tokenRevocation", json!({"token": token})).await
    }

    pub async fn end_session_url(&self, params: Value) -> String {
        let r = self
            .op("buildEndSessionUrl", json!({"params": params}))
            .await
            .unwrap();
        r["url"].as_str().unwrap().to_string()
    }

    /// Sends this relying party's requests to another node (its issuer stays the same).
    pub async fn route_to(&self, base: &str) {
        self.op("route", json!({"target": base})).await.unwrap();
    }
}

/// A browser: keeps cookies, follows no redirect.
pub struct Browser {
    pub http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
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
            if attrs.contains("Max-Age=0") || val.trim().is_empty() {
                self.cookies.remove(k.trim());
            } else {
                self.cookies.insert(k.trim().into(), val.trim().into());
            }
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Reply {
        let req = if self.cookies.is_empty() {
            req
        } else {
            req.header("cookie", self.cookie_header())
        };
        let r = req.send().await.expect("request sent");
        self.keep_cookies(r.headers());
        Reply::from(r).await
    }

    pub async fn get(&mut self, url: &str) -> Reply {
        let req = self.http.get(url);
        self.send(req).await
    }

    pub async fn post_form(&mut self, url: &str, fields: &[(String, String)]) -> Reply {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let req = self
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    pub async fn request(&mut self, method: Method, url: &str, body: Option<Value>) -> Reply {
        let mut req = self.http.request(method, url);
        if let Some(csrf) = self.cookies.get("authgate_csrf") {
            req = req.header("x-csrf-token", csrf);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req).await
    }

    /// What the sign-in page's script does: sign in with a password, keep the cookies.
    pub async fn sign_in(&mut self, base: &str, account: &str, password: &str) {
        let req = self
            .http
            .post(format!("{base}/api/auth:signIn"))
            .header("x-authenticator", "basic")
            .json(&json!({"account": account, "password": password}));
        let r = self.send(req).await;
        assert_eq!(r.status, StatusCode::OK, "sign-in failed: {}", r.text);
        assert!(
            self.cookies.contains_key("authgate_token"),
            "the sign-in set the session cookie"
        );
    }

    /// The session token in the cookie.
    pub fn session(&self) -> Option<String> {
        self.cookies.get("authgate_token").cloned()
    }

    pub fn csrf(&self) -> Option<String> {
        self.cookies.get("authgate_csrf").cloned()
    }
}

/// A Location resolved against the server (absolute as the browser would follow it).
pub fn location(base: &str, r: &Reply) -> Option<String> {
    let l = r.header("location")?;
    let base = url::Url::parse(&format!("{base}/")).unwrap();
    Some(base.join(l).unwrap().to_string())
}

/// `url` without its query, to compare with a redirect URI.
pub fn without_query(url: &str) -> String {
    url.split('?').next().unwrap().to_string()
}

/// The value of `attr="..."` in an HTML tag's text.
fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = start + tag[start..].find('"')?;
    Some(html_unescape(&tag[start..end]))
}

/// A page's first `<form>`: its action and the values of its hidden inputs.
pub fn form_in(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let form_start = html.find("<form")?;
    let form_end = form_start + html[form_start..].find("</form>")?;
    let form = &html[form_start..form_end];
    let action = attr(&form[..form.find('>')?], "action")?;
    let mut fields = Vec::new();
    for part in form.split("<input").skip(1) {
        let tag = &part[..part.find('>')?];
        if attr(tag, "type").as_deref() == Some("hidden") {
            fields.push((attr(tag, "name")?, attr(tag, "value").unwrap_or_default()));
        }
    }
    Some((action, fields))
}

pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The provider as the tests drive it: its address, an administrator's token (to register
/// clients) and the relying party process.
pub struct Oidc {
    pub base: String,
    pub admin: String,
    pub rp: Rp,
    http: reqwest::Client,
}

/// A server with alice, and the provider's test kit for it (`OidcEnv` derefs to [`Oidc`]).
pub struct OidcEnv {
    pub s: Server,
    pub alice_id: i64,
    pub oidc: Oidc,
}

impl std::ops::Deref for OidcEnv {
    type Target = Oidc;
    fn deref(&self) -> &Oidc {
        &self.oidc
    }
}

impl OidcEnv {
    pub async fn start(db: Db) -> OidcEnv {
        Self::on(Server::start(db).await).await
    }

    pub async fn start_with(db: Db, opts: ServerOptions) -> OidcEnv {
        Self::on(Server::start_with(db, opts).await).await
    }

    pub async fn on(s: Server) -> OidcEnv {
        let admin = s.admin_token().await;
        let alice_id = s
            .create_user(
                &admin,
                json!({"username": ALICE, "nickname": ALICE_NICKNAME, "email": ALICE_EMAIL,
                       "phone": ALICE_PHONE, "password": ALICE_PASSWORD}),
            )
            .await;
        let oidc = Oidc::new(&s, admin).await;
        OidcEnv { s, alice_id, oidc }
    }
}

impl Oidc {
    /// For `s`, registering clients with the administrator token `admin`.
    pub async fn new(s: &Server, admin: String) -> Oidc {
        Oidc {
            base: s.base.clone(),
            admin,
            rp: Rp::start().await,
            http: s.http.clone(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The issuer: the server's public URL.
    pub fn issuer(&self) -> String {
        self.base.clone()
    }

    /// `oidcClients:create` with `settings` over a confidential client (Basic auth) that
    /// sends people back to [`REDIRECT_URI`]; panics unless it succeeds.
    pub async fn register(&self, settings: Value) -> Registered {
        let mut body = json!({
            "name": "Test application",
            "redirectUris": [REDIRECT_URI],
            "postLogoutRedirectUris": [POST_LOGOUT_URI],
            "tokenEndpointAuthMethod": "client_secret_basic",
        });
        for (k, v) in settings.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = self
            .http
            .post(self.url("/api/oidcClients:create"))
            .bearer_auth(&self.admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        let r = Reply::from(r).await;
        r.assert_ok();
        let d = &r.body["data"];
        Registered {
            client_id: d["clientId"].as_str().unwrap().to_string(),
            client_secret: d["clientSecret"].as_str().map(str::to_string),
            auth: d["tokenEndpointAuthMethod"].as_str().unwrap().to_string(),
            answer: r.body.clone(),
        }
    }

    /// openid-client discovers the provider for `client` (with its secret).
    pub async fn discover(&self, client: &Registered) -> Relying {
        self.discover_with(client, client.client_secret.as_deref(), json!({}))
            .await
            .expect("openid-client discovers the provider")
    }

    /// Discovery with any secret and client metadata (`id_token_signed_response_alg`...).
    pub async fn discover_with(
        &self,
        client: &Registered,
        secret: Option<&str>,
        metadata: Value,
    ) -> Result<Relying, RpError> {
        self.discover_at(client, secret, metadata, &self.issuer(), None)
            .await
    }

    /// Discovery of `issuer` with the requests sent to `target` (another node's address).
    pub async fn discover_at(
        &self,
        client: &Registered,
        secret: Option<&str>,
        metadata: Value,
        issuer: &str,
        target: Option<&str>,
    ) -> Result<Relying, RpError> {
        let r = self
            .rp
            .call(json!({
                "op": "discover", "issuer": issuer, "target": target,
                "clientId": client.client_id, "clientSecret": secret,
                "auth": client.auth, "metadata": metadata,
            }))
            .await?;
        Ok(Relying {
            rp: self.rp.clone(),
            handle: r["rp"].as_str().unwrap().to_string(),
            client: client.clone(),
        })
    }

    /// Registers a client and discovers the provider for it.
    pub async fn relying(&self, settings: Value) -> Relying {
        let client = self.register(settings).await;
        self.discover(&client).await
    }

    /// The browser goes to `url`; when the provider sends it to the sign-in page, it signs in
    /// there as `account` (the way the page does) and goes on where the page sends it.
    /// Returns the provider's last answer (a redirect to the client, a page...).
    pub async fn visit_signing_in(
        &self,
        b: &mut Browser,
        url: &str,
        account: &str,
        password: &str,
    ) -> Reply {
        let r = b.get(url).await;
        let Some(next) = location(&self.base, &r) else {
            return r;
        };
        if !next.starts_with(&self.url("/signin?")) {
            return r;
        }
        let target = self.sign_in_page(b, &next, account, password).await;
        b.get(&self.url(&target)).await
    }

    /// At the sign-in page `url`: signs in and answers where the page then sends the browser.
    pub async fn sign_in_page(
        &self,
        b: &mut Browser,
        url: &str,
        account: &str,
        password: &str,
    ) -> String {
        let page = b.get(url).await;
        assert_eq!(
            page.status,
            StatusCode::OK,
            "the sign-in page: {}",
            page.text
        );
        let target = redirect_target_in(&page.text);
        b.sign_in(&self.base, account, password).await;
        target
    }

    /// A whole visit for alice: the answer that goes back to the client, as a callback
    /// (panics when the provider answers anything else).
    pub async fn authorize(&self, b: &mut Browser, req: &AuthRequest) -> Callback {
        self.authorize_as(b, req, ALICE, ALICE_PASSWORD).await
    }

    pub async fn authorize_as(
        &self,
        b: &mut Browser,
        req: &AuthRequest,
        account: &str,
        password: &str,
    ) -> Callback {
        let r = self.visit_signing_in(b, &req.url, account, password).await;
        self.callback(&r)
    }

    /// The provider's answer for the client: a redirect to it, or a form_post page.
    pub fn callback(&self, r: &Reply) -> Callback {
        if let Some(l) = r.header("location") {
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
            assert!(
                !l.starts_with(&self.base) && !l.starts_with('/'),
                "the provider did not answer the client: {l}"
            );
            return Callback::Url(l.to_string());
        }
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let (action, fields) = form_in(&r.text).expect("a form_post page");
        Callback::FormPost { action, fields }
    }

    /// The authorization code flow for alice, through openid-client.
    pub async fn code_flow(&self, rel: &Relying, b: &mut Browser, params: Value) -> Tokens {
        let req = rel.auth_request(params).await;
        let cb = self.authorize(b, &req).await;
        rel.grant(&req, &cb)
            .await
            .expect("openid-client accepts the tokens")
    }
}

/// The callback URL of a query answer.
pub fn callback_url(cb: &Callback) -> &str {
    match cb {
        Callback::Url(u) => u,
        Callback::FormPost { .. } => panic!("a form_post answer, not a redirect: {cb:?}"),
    }
}
