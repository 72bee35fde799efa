//! Forward auth (issue 19): the check nginx's `auth_request` makes, beside auth:check in the
//! same round, and a small static file served by nginx, protected by authgate and not.
//!
//! (f1) asks authgate directly, as nginx does (`X-Original-URL`, the bearer token passed on);
//! (f2) is nginx alone; (f3) is nginx asking authgate before every answer. nginx comes from
//! Debian (`scripts/install-test-deps` installs it), with two workers and keep-alive
//! connections to authgate, as the README's recipe.

use crate::procs::{free_port, Proc};
use crate::scenarios::{check_clients, http_client, Row, Target};
use crate::{Db, Plan, ADMIN_PASSWORD};
use anyhow::{bail, Context};
use serde_json::json;
use std::process::Command;

const NGINX: &str = "/usr/sbin/nginx";
const HOST: &str = "files.bench.test";
/// The file served: about the size of a small stylesheet.
const FILE_BYTES: usize = 2048;

pub const CHECK_ROW: &str = "(f1)";
pub const OPEN_ROW: &str = "(f2)";
pub const PROTECTED_ROW: &str = "(f3)";

/// The three rows, against `t` (which has `users`).
pub async fn rows(t: &Target, plan: &Plan, db: Db, users: &[String]) -> anyhow::Result<Vec<Row>> {
    let http = http_client();
    let admin = t.sign_in(&http, "admin", ADMIN_PASSWORD).await?;
    let r = http
        .post(t.url("/api/accessRules:create"))
        .bearer_auth(&admin)
        .json(&json!({"host": HOST, "allow": {"signedIn": true}}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("accessRules:create: {}", r.text().await?);
    }
    let clients = check_clients(t, users, plan.connections).await?;
    let original = format!("http://{HOST}/protected/file.txt");
    let check = t
        .measure(
            plan,
            &format!(
                "{CHECK_ROW} forward auth: /api/authz/auth-request, bearer, {} connections, 1,000 users",
                plan.connections
            ),
            db,
            clients
                .iter()
                .map(|(h, _, token)| {
                    (
                        h.clone(),
                        t.url("/api/authz/auth-request"),
                        token.clone(),
                        original.clone(),
                    )
                })
                .collect(),
            |(http, url, token, original): (reqwest::Client, String, String, String)| async move {
                let r = http
                    .get(url.as_str())
                    .bearer_auth(token.as_str())
                    .header("x-original-url", original.as_str())
                    .send()
                    .await?;
                if r.status() != reqwest::StatusCode::OK {
                    bail!("auth-request {}", r.status());
                }
                r.bytes().await?;
                Ok(())
            },
        )
        .await;

    let nginx = Nginx::start(t.proc.base.trim_start_matches("http://"))?;
    let file = |path: &str| format!("{}{path}", nginx.proc.base);
    let open = measure_nginx(
        &nginx,
        t,
        plan,
        db,
        &format!(
            "{OPEN_ROW} nginx: a {} KiB static file, unprotected, {} connections",
            FILE_BYTES / 1024,
            plan.connections
        ),
        clients_for(&clients, &file("/open/file.txt")),
    )
    .await;
    let protected = measure_nginx(
        &nginx,
        t,
        plan,
        db,
        &format!(
            "{PROTECTED_ROW} nginx: the same file behind authgate (auth_request, bearer), {} connections",
            plan.connections
        ),
        clients_for(&clients, &file("/protected/file.txt")),
    )
    .await;
    Ok(vec![check, open, protected])
}

fn clients_for(
    clients: &[(reqwest::Client, String, String)],
    url: &str,
) -> Vec<(reqwest::Client, String, String)> {
    clients
        .iter()
        .map(|(h, _, token)| (h.clone(), url.to_string(), token.clone()))
        .collect()
}

/// A load through nginx: the row's CPU is authgate's and nginx's together (nginx's from its
/// workers, which do the serving).
async fn measure_nginx(
    nginx: &Nginx,
    t: &Target,
    plan: &Plan,
    db: Db,
    name: &str,
    clients: Vec<(reqwest::Client, String, String)>,
) -> Row {
    let nginx_before = nginx.cpu_time();
    let mut row = t
        .measure(
            plan,
            name,
            db,
            clients,
            |(http, url, token): (reqwest::Client, String, String)| async move {
                let r = http
                    .get(url.as_str())
                    .header("host", HOST)
                    .bearer_auth(token.as_str())
                    .send()
                    .await?;
                if r.status() != reqwest::StatusCode::OK {
                    bail!("nginx {}", r.status());
                }
                let body = r.bytes().await?;
                if body.len() != FILE_BYTES {
                    bail!("nginx served {} bytes", body.len());
                }
                Ok(())
            },
        )
        .await;
    let nginx_cpu = nginx.cpu_time().saturating_sub(nginx_before);
    let nginx_ms = nginx_cpu.as_secs_f64() * 1000.0 / row.outcome.all_ops.max(1) as f64;
    row.note = format!(
        "CPU ms/op: authgate {:.3}, nginx {nginx_ms:.3}",
        row.cpu_ms_per_op
    );
    row.cpu_ms_per_op += nginx_ms;
    row
}

/// nginx in the foreground, with its files in a folder of its own.
struct Nginx {
    proc: Proc,
    config: std::path::PathBuf,
    dir: tempfile::TempDir,
}

impl Drop for Nginx {
    /// Killing the master alone would leave its workers running: it is asked to stop, and
    /// stops them first.
    fn drop(&mut self) {
        let _ = Command::new(NGINX)
            .arg("-c")
            .arg(&self.config)
            .arg("-p")
            .arg(self.dir.path())
            .args(["-s", "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let _ = self.proc.child.wait();
    }
}

impl Nginx {
    fn start(authgate: &str) -> anyhow::Result<Nginx> {
        if !std::path::Path::new(NGINX).exists() {
            bail!("{NGINX} is missing: run scripts/install-test-deps (Debian's nginx)");
        }
        let dir = tempfile::tempdir()?;
        for folder in ["www/open", "www/protected", "logs"] {
            std::fs::create_dir_all(dir.path().join(folder))?;
        }
        let content = "x".repeat(FILE_BYTES);
        for folder in ["open", "protected"] {
            std::fs::write(
                dir.path().join("www").join(folder).join("file.txt"),
                &content,
            )?;
        }
        let port = free_port();
        let d = dir.path().display();
        // `user root` lets the workers read the temporary folder when run as root; nginx
        // ignores it (with a warning) otherwise.
        let config = format!(
            "user root;
worker_processes 2;
daemon off;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream authgate {{
        server {authgate};
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        server_name {HOST};
        root {d}/www;
        location /open/ {{ }}
        location /protected/ {{
            auth_request /authgate-check;
        }}
        location = /authgate-check {{
            internal;
            proxy_pass http://authgate/api/authz/auth-request;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_pass_request_body off;
            proxy_set_header Content-Length \"\";
            proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
            proxy_set_header X-Original-Method $request_method;
        }}
    }}
}}
"
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, config)?;
        let mut cmd = Command::new(NGINX);
        cmd.arg("-c").arg(&path).arg("-p").arg(dir.path());
        let proc = Proc::spawn_logged(
            cmd,
            port,
            "/open/file.txt",
            Some(&dir.path().join("logs/stdout.log")),
        )
        .context("starting nginx")?;
        Ok(Nginx {
            proc,
            config: path,
            dir,
        })
    }

    /// The master's and its workers' CPU time.
    fn cpu_time(&self) -> std::time::Duration {
        let master = self.proc.pid();
        let mut total = crate::procs::cpu_time(master);
        let children = std::fs::read_to_string(format!("/proc/{master}/task/{master}/children"))
            .unwrap_or_default();
        for pid in children.split_whitespace().filter_map(|p| p.parse().ok()) {
            total += crate::procs::cpu_time(pid);
        }
        total
    }
}

/// (f1) against auth:check of the same database, (f3) against (f2).
pub fn relate(rows: &mut [Row]) {
    let rate = |r: &Row| r.outcome.per_second();
    let find = |rows: &[Row], prefix: &str, db: &str| -> Option<(f64, f64)> {
        rows.iter()
            .find(|r| {
                r.scenario.starts_with(prefix) && r.db == db && !r.scenario.contains("revoked")
            })
            .map(|r| (rate(r), r.cpu_ms_per_op))
    };
    let snapshot: Vec<Row> = rows.to_vec();
    for r in rows.iter_mut() {
        let against = if r.scenario.starts_with(CHECK_ROW) {
            find(&snapshot, "(a)", &r.db).map(|(theirs, cpu)| {
                format!(
                    "{:.0}% of auth:check's rate ({theirs:.0}/s), {:.0}% of its CPU per request",
                    100.0 * rate(r) / theirs,
                    100.0 * r.cpu_ms_per_op / cpu.max(f64::EPSILON)
                )
            })
        } else if r.scenario.starts_with(PROTECTED_ROW) {
            find(&snapshot, OPEN_ROW, &r.db).map(|(theirs, _)| {
                format!(
                    "{:.0}% of the unprotected rate ({theirs:.0}/s)",
                    100.0 * rate(r) / theirs
                )
            })
        } else {
            None
        };
        if let Some(text) = against {
            r.note = if r.note.is_empty() {
                text
            } else {
                format!("{text}; {}", r.note)
            };
        }
    }
}
