//! The scenarios of issue 5, each measured against a fresh authgate process.

use crate::load::{self, Outcome};
use crate::procs::{start_authgate, AuthgateOptions, Proc};
use crate::{Db, Plan, ADMIN_PASSWORD};
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::time::Duration;

/// One row of the results table.
#[derive(Debug, Clone)]
pub struct Row {
    pub scenario: String,
    pub db: String,
    pub outcome: Outcome,
    pub cpu_ms_per_op: f64,
    pub peak_rss_mib: f64,
    pub ceiling_fraction: Option<f64>,
    pub note: String,
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(4)
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A fresh authgate on its own database.
pub struct Target {
    pub proc: Proc,
    pub database_url: String,
    /// Shared by the nodes of a multi-node setup (they share the data folder and its key).
    pub _dir: std::sync::Arc<tempfile::TempDir>,
}

impl Target {
    pub async fn start(db: Db) -> anyhow::Result<Target> {
        let dir = tempfile::tempdir()?;
        let database_url = crate::fresh_database_url(db, dir.path()).await?;
        let proc = start_authgate(AuthgateOptions {
            database_url: database_url.clone(),
            dir: dir.path(),
            env: vec![],
            log: None,
        })?;
        Ok(Target {
            proc,
            database_url,
            _dir: std::sync::Arc::new(dir),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.proc.base, path)
    }

    pub async fn sign_in(
        &self,
        http: &reqwest::Client,
        account: &str,
        password: &str,
    ) -> anyhow::Result<String> {
        let r = http
            .post(self.url("/api/auth:signIn"))
            .header("X-Authenticator", "basic")
            .json(&json!({"account": account, "password": password}))
            .send()
            .await?;
        let status = r.status();
        let body: Value = r.json().await?;
        if !status.is_success() {
            bail!("sign-in of {account} failed: {status} {body}");
        }
        Ok(body["data"]["token"].as_str().context("token")?.to_string())
    }

    /// Creates `n` password users bench0..bench{n-1}; returns their names.
    pub async fn create_users(&self, n: usize) -> anyhow::Result<Vec<String>> {
        let http = http_client();
        let admin = self.sign_in(&http, "admin", ADMIN_PASSWORD).await?;
        let mut names = Vec::new();
        for i in 0..n {
            let name = format!("bench{i}");
            let r = http
                .post(self.url("/api/users:create"))
                .bearer_auth(&admin)
                .json(&json!({"username": name, "password": PASSWORD}))
                .send()
                .await?;
            if !r.status().is_success() {
                bail!("users:create: {}", r.text().await?);
            }
            names.push(name);
        }
        Ok(names)
    }

    /// Runs a load and turns it into a row with this process's CPU and memory.
    pub async fn measure<C, F, Fut>(
        &self,
        plan: &Plan,
        name: &str,
        db: Db,
        clients: Vec<C>,
        op: F,
    ) -> Row
    where
        C: Clone + Send + 'static,
        F: Fn(C) -> Fut + Send + Sync + Clone + 'static,
        Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
    {
        let cpu_before = self.proc.cpu_time();
        let settle = crate::seed::analyze_after_warmup(&self.database_url);
        let outcome = load::run_settled(clients, plan.warmup, settle, plan.duration, op).await;
        let cpu = self.proc.cpu_time().saturating_sub(cpu_before);
        Row {
            scenario: name.to_string(),
            db: db.name().to_string(),
            cpu_ms_per_op: cpu.as_secs_f64() * 1000.0 / outcome.all_ops.max(1) as f64,
            peak_rss_mib: self.proc.peak_rss_kib() as f64 / 1024.0,
            outcome,
            ceiling_fraction: None,
            note: String::new(),
        }
    }
}

pub const PASSWORD: &str = "bench-password-1";

pub async fn ceiling(plan: &Plan) -> anyhow::Result<Row> {
    let proc = crate::procs::start_ceiling()?;
    let url = format!("{}/", proc.base);
    let clients: Vec<_> = (0..plan.connections)
        .map(|_| (http_client(), url.clone()))
        .collect();
    let cpu_before = proc.cpu_time();
    let outcome = load::run(
        clients,
        plan.warmup,
        plan.duration,
        |(http, url): (reqwest::Client, String)| async move {
            let r = http.get(url.as_str()).send().await?;
            if !r.status().is_success() {
                bail!("{}", r.status());
            }
            r.bytes().await?;
            Ok(())
        },
    )
    .await;
    let cpu = proc.cpu_time().saturating_sub(cpu_before);
    Ok(Row {
        scenario: "ceiling: bare axum handler, constant 200".into(),
        db: "-".into(),
        cpu_ms_per_op: cpu.as_secs_f64() * 1000.0 / outcome.all_ops.max(1) as f64,
        peak_rss_mib: proc.peak_rss_kib() as f64 / 1024.0,
        ceiling_fraction: Some(1.0),
        note: String::new(),
        outcome,
    })
}

pub async fn check_op((http, url, token): (reqwest::Client, String, String)) -> anyhow::Result<()> {
    let r = http
        .get(url.as_str())
        .bearer_auth(token.as_str())
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("auth:check {}", r.status());
    }
    r.bytes().await?;
    Ok(())
}

pub async fn sign_in_op(
    (http, url, account): (reqwest::Client, String, String),
) -> anyhow::Result<()> {
    let r = http
        .post(url.as_str())
        .header("X-Authenticator", "basic")
        .json(&json!({"account": account, "password": PASSWORD}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!(
            "auth:signIn {}: {}",
            r.status(),
            r.text().await.unwrap_or_default()
        );
    }
    r.bytes().await?;
    Ok(())
}

pub async fn check_clients(
    t: &Target,
    users: &[String],
    n: usize,
) -> anyhow::Result<Vec<(reqwest::Client, String, String)>> {
    let mut out = Vec::new();
    for i in 0..n {
        let http = http_client();
        let token = t.sign_in(&http, &users[i % users.len()], PASSWORD).await?;
        out.push((http, t.url("/api/auth:check"), token));
    }
    Ok(out)
}

pub fn sign_in_clients(
    t: &Target,
    users: &[String],
    n: usize,
) -> Vec<(reqwest::Client, String, String)> {
    (0..n)
        .map(|i| {
            (
                http_client(),
                t.url("/api/auth:signIn"),
                users[i % users.len()].clone(),
            )
        })
        .collect()
}

pub async fn auth_check(
    t: &Target,
    plan: &Plan,
    db: Db,
    users: &[String],
    label: &str,
) -> anyhow::Result<Row> {
    let clients = check_clients(t, users, plan.connections).await?;
    Ok(t.measure(
        plan,
        &format!(
            "(a) auth:check, bearer, {} connections{label}",
            plan.connections
        ),
        db,
        clients,
        check_op,
    )
    .await)
}

pub async fn password_sign_in(
    t: &Target,
    plan: &Plan,
    db: Db,
    users: &[String],
    label: &str,
) -> anyhow::Result<Row> {
    let clients = sign_in_clients(t, users, plan.password_clients);
    let mut row = t
        .measure(
            plan,
            &format!(
                "(d) password auth:signIn, {} connections{label}",
                plan.password_clients
            ),
            db,
            clients,
            sign_in_op,
        )
        .await;
    let limit = crate::hash_bound_limit();
    let together = crate::all_cores_hashing_rate();
    row.note = format!(
        "hash-bound limit {:.1}/s (cores / one Argon2id hash, m=19 MiB t=2 p=1, measured now): \
         {:.0}% of it; all cores hashing at once (nothing else running) manage {:.1}/s: {:.0}% of that",
        limit,
        100.0 * row.outcome.per_second() / limit,
        together,
        100.0 * row.outcome.per_second() / together
    );
    Ok(row)
}

/// auth:check latency while password sign-ins saturate the hashing pool.
pub async fn isolation(t: &Target, plan: &Plan, db: Db, users: &[String]) -> anyhow::Result<Row> {
    let flood = sign_in_clients(t, users, plan.password_clients * 2);
    let flood_plan = Plan {
        warmup: Duration::ZERO,
        duration: plan.warmup + plan.duration + Duration::from_millis(500),
        ..plan.clone()
    };
    let flood_task = tokio::spawn(async move {
        load::run(flood, Duration::ZERO, flood_plan.duration, sign_in_op).await
    });
    let check_clients = check_clients(t, users, 8).await?;
    let mut row = t
        .measure(
            plan,
            "(e) auth:check, 8 connections, while password sign-ins flood",
            db,
            check_clients,
            check_op,
        )
        .await;
    let flood = flood_task.await?;
    row.note = format!(
        "{:.1} password sign-ins/s at the same time",
        flood.per_second()
    );
    Ok(row)
}

/// Launches per start-up row: one launch is at the mercy of a single slow fsync.
const LAUNCHES: usize = 5;

/// Launch to first 200 on /healthz (the median of [`LAUNCHES`] first starts, each on an empty
/// database), and resident memory once idle.
pub async fn start_up(db: Db) -> anyhow::Result<(Row, Target)> {
    let mut ready_us = Vec::with_capacity(LAUNCHES);
    for _ in 1..LAUNCHES {
        // Dropped at once: its process is stopped before the next launch.
        let t = Target::start(db).await?;
        ready_us.push(t.proc.ready_after.as_micros() as u64);
    }
    let t = Target::start(db).await?;
    ready_us.push(t.proc.ready_after.as_micros() as u64);
    let cpu_ms = t.proc.cpu_time().as_secs_f64() * 1000.0;
    ready_us.sort_unstable();
    let median = Duration::from_micros(ready_us[LAUNCHES / 2]);
    let ms = |us: u64| us as f64 / 1000.0;
    let range = (ms(ready_us[0]), ms(ready_us[LAUNCHES - 1]));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let idle = t.proc.rss_kib() as f64 / 1024.0;
    let mut outcome = Outcome {
        ops: 1,
        elapsed: median,
        latencies_us: ready_us,
        ..Default::default()
    };
    outcome.all_ops = 1;
    Ok((
        Row {
            scenario: "(g) start-up: launch to first /healthz 200 (empty database)".into(),
            db: db.name().into(),
            cpu_ms_per_op: cpu_ms,
            peak_rss_mib: idle,
            outcome,
            ceiling_fraction: None,
            note: format!(
                "{:.1} ms to ready (median of {LAUNCHES} first starts, {:.1}-{:.1} ms); \
                 {idle:.1} MiB resident when idle",
                median.as_secs_f64() * 1000.0,
                range.0,
                range.1,
            ),
        },
        t,
    ))
}
