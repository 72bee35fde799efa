//! A test kit that runs the real `authgate` binary as a separate process on a fresh SQLite
//! file or a fresh PostgreSQL database, and talks to it over HTTP.
//!
//! PostgreSQL tests need `AUTHGATE_TEST_PG_URL` (a superuser URL; `scripts/with-postgres` sets
//! it). Without it they fail: they never skip silently.

#![allow(dead_code)]

use crate::raw_sql::{pg_client, with_sqlite};
use reqwest::header::HeaderMap;
use reqwest::{Client, Method, StatusCode};
use rusqlite::OptionalExtension;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const ADMIN_PASSWORD: &str = "admin-Passw0rd!";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs a test body once per database: `both_databases!(name, ...)` expects
/// `async fn name(db: Db)` in the same module.
#[macro_export]
macro_rules! both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::support::Db::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::support::Db::Postgres).await } )*
        }
    };
}

/// For what only makes sense on PostgreSQL (several nodes on one database).
#[macro_export]
macro_rules! postgres_only {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::support::Db::Postgres).await } )*
        }
    };
}

/// For what only makes sense on SQLite (another process on the same file).
#[macro_export]
macro_rules! sqlite_only {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::support::Db::Sqlite).await } )*
        }
    };
}

/// The claims of a JWT (no verification: the tests look at what the server issued).
pub fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A database of its own for one test.
pub async fn fresh_database_url(db: Db, dir: &Path) -> String {
    match db {
        Db::Sqlite => format!("sqlite://{}", dir.join("authgate.db").display()),
        Db::Postgres => {
            let admin_url = std::env::var("AUTHGATE_TEST_PG_URL").expect(
                "AUTHGATE_TEST_PG_URL is not set: run the tests through scripts/test (it starts PostgreSQL)",
            );
            let name = format!("ag_{}", uuid_like());
            crate::raw_sql::pg_client(&admin_url)
                .await
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create a test database");
            let base = admin_url.rsplit_once('/').expect("URL has a database").0;
            format!("{base}/{name}")
        }
    }
}

fn uuid_like() -> String {
    let n: u128 = rand_u128();
    format!("{n:032x}")
}

fn rand_u128() -> u128 {
    use std::hash::{BuildHasher, Hasher};
    let mut out = 0u128;
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(Instant::now().elapsed().as_nanos());
        out = (out << 64) | h.finish() as u128;
    }
    out
}

#[derive(Clone)]
pub struct ServerOptions {
    pub env: Vec<(String, String)>,
    pub args: Vec<String>,
    /// Set AUTHGATE_ADMIN_PASSWORD (otherwise the server generates one).
    pub admin_password: bool,
    pub secret_key: Option<String>,
    /// The file-creation mask the process starts with (otherwise the test runner's).
    pub umask: Option<u32>,
    /// Serve as `http://<host>:<port>` (AUTHGATE_PUBLIC_URL with the port the node listens
    /// on), e.g. a host under a cookie domain; clients resolve it to 127.0.0.1 themselves.
    pub public_host: Option<String>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            env: Vec::new(),
            args: Vec::new(),
            admin_password: true,
            secret_key: None,
            umask: None,
            public_host: None,
        }
    }
}

impl ServerOptions {
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn public_host(mut self, host: &str) -> Self {
        self.public_host = Some(host.into());
        self
    }
}

pub struct Server {
    pub db: Db,
    pub base: String,
    pub port: u16,
    pub database_url: String,
    pub dir: Arc<tempfile::TempDir>,
    pub http: Client,
    opts: ServerOptions,
    data_dir: PathBuf,
    child: Child,
    output: Arc<Mutex<String>>,
}

/// What the kernel says about a running authgate process.
#[derive(Debug, Clone, Copy)]
pub struct ProcStats {
    pub rss_kib: u64,
    pub threads: u64,
    pub open_fds: u64,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_authgate")
}

impl Server {
    pub async fn start(db: Db) -> Server {
        Self::start_with(db, ServerOptions::default()).await
    }

    pub async fn start_with(db: Db, opts: ServerOptions) -> Server {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let database_url = fresh_database_url(db, dir.path()).await;
        let data_dir = dir.path().join("data");
        Self::launch(db, dir, database_url, data_dir, free_port(), opts).await
    }

    /// Starts on a database of its own that `fill` (given its URL) prepared first.
    pub async fn start_on_filled<F: std::future::Future<Output = ()>>(
        db: Db,
        opts: ServerOptions,
        fill: impl FnOnce(String) -> F,
    ) -> Server {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let database_url = fresh_database_url(db, dir.path()).await;
        fill(database_url.clone()).await;
        let data_dir = dir.path().join("data");
        Self::launch(db, dir, database_url, data_dir, free_port(), opts).await
    }

    /// Starts another node on the same data folder and database.
    pub async fn start_sibling(&self, opts: ServerOptions) -> Server {
        let data_dir = self.dir.path().join("data");
        let (db, dir, url) = (self.db, self.dir.clone(), self.database_url.clone());
        Self::launch(db, dir, url, data_dir, free_port(), opts).await
    }

    /// Starts another node as a separate machine would run it: the same database, a data
    /// folder of its own (so `opts` must carry the shared secret key).
    pub async fn start_node(&self, opts: ServerOptions) -> Server {
        assert!(opts.secret_key.is_some(), "nodes share the secret key");
        let data_dir = self.dir.path().join(format!("data-{}", free_port()));
        let (db, dir, url) = (self.db, self.dir.clone(), self.database_url.clone());
        Self::launch(db, dir, url, data_dir, free_port(), opts).await
    }

    /// `kill -9`: no shutdown, no flushing, whatever was in flight is cut.
    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL delivered");
        self.child.wait().expect("reaped");
    }

    /// Stops the process (if `kill9` has not) and starts it again on the same port, database,
    /// data folder and options; returns once the new process answers `/readyz`.
    pub async fn restart(&mut self) {
        // Otherwise the old process would still hold the port and answer the readiness probe.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let again = Self::launch(
            self.db,
            self.dir.clone(),
            self.database_url.clone(),
            self.data_dir.clone(),
            self.port,
            self.opts.clone(),
        )
        .await;
        let old = std::mem::replace(self, again);
        drop(old);
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory, threads and open file descriptors (sockets included) from `/proc`.
    pub fn proc_stats(&self) -> ProcStats {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} in /proc/<pid>/status"))
        };
        let open_fds = std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .unwrap()
            .count() as u64;
        ProcStats {
            rss_kib: field("VmRSS:"),
            threads: field("Threads:"),
            open_fds,
        }
    }

    async fn launch(
        db: Db,
        dir: Arc<tempfile::TempDir>,
        database_url: String,
        data_dir: PathBuf,
        port: u16,
        opts: ServerOptions,
    ) -> Server {
        let mut cmd = Command::new(binary());
        cmd.current_dir(dir.path())
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(&opts.args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("AUTHGATE_DATABASE_URL", &database_url)
            .env("AUTHGATE_DATA_DIR", &data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if opts.admin_password {
            cmd.env("AUTHGATE_ADMIN_PASSWORD", ADMIN_PASSWORD);
        }
        if let Some(k) = &opts.secret_key {
            cmd.env("AUTHGATE_SECRET_KEY", k);
        }
        if let Some(host) = &opts.public_host {
            cmd.env("AUTHGATE_PUBLIC_URL", format!("http://{host}:{port}"));
        }
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        if let Some(mask) = opts.umask {
            use std::os::unix::process::CommandExt;
            // SAFETY: umask is async-signal-safe, as code between fork and exec must be.
            unsafe {
                cmd.pre_exec(move || {
                    libc::umask(mask as libc::mode_t);
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn().expect("authgate starts");
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sink = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut s = sink.lock().unwrap();
                    s.push_str(&line);
                    s.push('\n');
                }
            });
        }
        let http = Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("authgate exited with {status}:\n{}", output.lock().unwrap());
            }
            if started.elapsed() > Duration::from_secs(30) {
                panic!("authgate did not become ready:\n{}", output.lock().unwrap());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Server {
            db,
            base,
            port,
            database_url,
            dir,
            opts,
            data_dir,
            http,
            child,
            output,
        }
    }

    /// Everything the process printed so far (stdout and stderr).
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// The output once `ready` holds for it, or as it is after 10 s: lines reach it through
    /// reader threads, a moment after the process wrote them (a busy machine makes it longer).
    pub async fn output_once(&self, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self.output();
            if ready(&out) || Instant::now() > deadline {
                return out;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Reply::from(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn sign_in_reply(&self, authenticator: &str, account: &str, password: &str) -> Reply {
        let r = self
            .http
            .post(self.url("/api/auth:signIn"))
            .header("X-Authenticator", authenticator)
            .json(&json!({"account": account, "password": password}))
            .send()
            .await
            .unwrap();
        Reply::from(r).await
    }

    /// Signs in with the basic authenticator and returns the token (panics on failure).
    pub async fn sign_in(&self, account: &str, password: &str) -> String {
        let r = self.sign_in_reply("basic", account, password).await;
        assert_eq!(r.status, StatusCode::OK, "sign-in failed: {}", r.body);
        r.body["data"]["token"].as_str().unwrap().to_string()
    }

    pub async fn admin_token(&self) -> String {
        self.sign_in("admin", ADMIN_PASSWORD).await
    }

    /// Creates a user through the admin API; returns its id.
    pub async fn create_user(&self, admin: &str, body: Value) -> i64 {
        let r = self.post("/api/users:create", Some(admin), body).await;
        assert_eq!(r.status, StatusCode::OK, "users:create failed: {}", r.body);
        r.body["data"]["id"].as_i64().unwrap()
    }

    /// Runs SQL directly against the server's database (for setting up and checking state).
    pub async fn sql(&self, statement: &str) {
        let statement = statement.to_string();
        match self.db {
            Db::Sqlite => {
                with_sqlite(&self.database_url, move |c| {
                    c.execute_batch(&statement).unwrap()
                })
                .await
            }
            Db::Postgres => pg_client(&self.database_url)
                .await
                .batch_execute(&statement)
                .await
                .unwrap(),
        }
    }

    /// A single text value from the database.
    pub async fn sql_text(&self, query: &str) -> Option<String> {
        let query = query.to_string();
        match self.db {
            Db::Sqlite => {
                with_sqlite(&self.database_url, move |c| {
                    c.query_row(&query, [], |r| r.get::<_, Option<String>>(0))
                        .optional()
                        .unwrap()
                        .flatten()
                })
                .await
            }
            Db::Postgres => pg_client(&self.database_url)
                .await
                .query_opt(&query, &[])
                .await
                .unwrap()
                .and_then(|r| r.get::<_, Option<String>>(0)),
        }
    }

    /// A count from the database.
    pub async fn sql_count(&self, query: &str) -> i64 {
        let query = query.to_string();
        match self.db {
            Db::Sqlite => {
                with_sqlite(&self.database_url, move |c| {
                    c.query_row(&query, [], |r| r.get(0)).unwrap()
                })
                .await
            }
            Db::Postgres => pg_client(&self.database_url)
                .await
                .query_one(&query, &[])
                .await
                .unwrap()
                .get(0),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone()
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub async fn from(r: reqwest::Response) -> Reply {
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// The first error's message.
    pub fn message(&self) -> &str {
        self.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
    }

    pub fn code(&self) -> &str {
        self.body["errors"][0]["code"].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.status, StatusCode::OK, "{}", self.text);
        self
    }
}

/// The token endpoint's answer to authorization code `code`, redeemed by a confidential client
/// (client_secret_basic).
pub async fn redeem_code(
    http: &reqwest::Client,
    s: &Server,
    (client_id, secret): (&str, &str),
    code: &str,
    redirect_uri: &str,
) -> Value {
    http.post(s.url("/oidc/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The value of query parameter `name` in `url`, if it parses and has one.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Text as it was before the page's templates escaped it (named and numeric entities).
pub fn html_unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let entity = &rest[at..];
        let end = entity.find(';').expect("an entity ends with ;");
        let name = &entity[1..end];
        let c = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                    Some(hex) => u32::from_str_radix(hex, 16),
                    None => name.strip_prefix('#').expect("a known entity").parse(),
                };
                char::from_u32(code.expect("a character reference")).unwrap()
            }
        };
        out.push(c);
        rest = &entity[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Where the sign-in page `html` sends the browser after signing in (its `data-redirect`).
pub fn redirect_target_in(html: &str) -> String {
    let raw = html
        .split("data-redirect=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("the sign-in page carries its redirect target: {html}"));
    html_unescape(raw)
}
