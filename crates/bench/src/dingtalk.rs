//! Scenarios (b) and (c): complete DingTalk sign-ins through the fake DingTalk, which runs as
//! its own process (`authgate fake-dingtalk`): getAuthUrl -> the fake's authorize page ->
//! authgate's callback -> signed in.

use crate::procs::{
    cpu_time, free_port, postgres_cpu_time, sibling_binary, start_authgate_on, AuthgateOptions,
    Proc,
};
use crate::scenarios::{http_client, Row, Target};
use crate::{Db, Plan};
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const CLIENT_ID: &str = "dingdemo";
const CLIENT_SECRET: &str = "dingdemo-secret-0123456789abcdef";

pub struct DingTalkTarget {
    pub target: Target,
    pub fake: Proc,
}

fn users_file(dir: &std::path::Path, n: usize) -> anyhow::Result<std::path::PathBuf> {
    let users: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "userid": format!("u{i}"), "unionId": format!("union{i}"), "nick": format!("Employee {i}"),
                "name": format!("Employee {i}"), "mobile": format!("{}", 15_000_000_000u64 + i as u64),
                "stateCode": "86", "corpIds": ["dingcorp001"],
            })
        })
        .collect();
    let path = dir.join("dingtalk-users.json");
    std::fs::write(&path, serde_json::to_vec(&json!({ "users": users }))?)?;
    Ok(path)
}

/// The fake DingTalk as its own process, with `employees` employees (u0, u1, ...) and the given
/// authgate callback URLs registered for the app.
pub fn start_fake(
    dir: &std::path::Path,
    employees: usize,
    redirect_uris: &[String],
) -> anyhow::Result<Proc> {
    let fake_port = free_port();
    let mut cmd = Command::new(sibling_binary("authgate")?);
    cmd.args(["fake-dingtalk", "--port", &fake_port.to_string()])
        .arg("--users")
        .arg(users_file(dir, employees)?);
    for uri in redirect_uris {
        cmd.arg("--redirect-uri").arg(uri);
    }
    Proc::spawn(cmd, fake_port, "/_fake/health")
}

/// The environment that points authgate at the fake.
pub fn fake_env(fake: &Proc) -> Vec<(String, String)> {
    ["LOGIN", "API", "OAPI"]
        .iter()
        .map(|h| (format!("AUTHGATE_DINGTALK_{h}_BASE"), fake.base.clone()))
        .collect()
}

/// Creates the `dingtalk` authenticator (auto sign-up on) through the admin API.
pub async fn create_authenticator(target: &Target) -> anyhow::Result<()> {
    let http = http_client();
    let admin = target
        .sign_in(&http, "admin", crate::ADMIN_PASSWORD)
        .await?;
    let r = http
        .post(target.url("/api/authenticators:create"))
        .bearer_auth(admin)
        .json(&json!({"name": "dingtalk", "authType": "dingtalk", "title": "DingTalk",
                      "options": {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "autoSignup": true}}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("creating the DingTalk authenticator: {}", r.text().await?);
    }
    Ok(())
}

impl DingTalkTarget {
    pub async fn start(db: Db, employees: usize) -> anyhow::Result<DingTalkTarget> {
        let dir = tempfile::tempdir()?;
        let database_url = crate::fresh_database_url(db, dir.path()).await?;
        let port = free_port();
        let fake = start_fake(
            dir.path(),
            employees,
            &[format!("http://127.0.0.1:{port}/api/dingtalk:redirect")],
        )?;
        let proc = start_authgate_on(
            port,
            AuthgateOptions {
                database_url: database_url.clone(),
                dir: dir.path(),
                env: fake_env(&fake),
                log: None,
            },
        )?;
        let target = Target {
            proc,
            database_url,
            _dir: Arc::new(dir),
        };
        create_authenticator(&target).await?;
        Ok(DingTalkTarget { target, fake })
    }
}

#[derive(Clone)]
pub struct SignInClient {
    http: reqwest::Client,
    base: String,
    /// Which employee signs in: a fixed one (returning user) or the next unused one.
    employee: Employee,
}

#[derive(Clone)]
enum Employee {
    Fixed(usize),
    Next(Arc<AtomicUsize>),
}

fn cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap_or_default().to_string())
}

/// One complete sign-in, the way a browser does it.
pub async fn sign_in(c: SignInClient) -> anyhow::Result<()> {
    let who = match &c.employee {
        Employee::Fixed(i) => *i,
        Employee::Next(n) => n.fetch_add(1, Ordering::Relaxed),
    };
    sign_in_as(&c.http, &c.base, None, who).await
}

/// One complete sign-in of employee `u{who}`, started at `base`; when `callback_base` is given,
/// DingTalk's callback is sent there instead of to the origin it names (a node behind the load
/// balancer whose address is the public URL).
pub async fn sign_in_as(
    http: &reqwest::Client,
    base: &str,
    callback_base: Option<&str>,
    who: usize,
) -> anyhow::Result<()> {
    let r = http
        .post(format!("{base}/api/dingtalk:getAuthUrl"))
        .header("X-Authenticator", "dingtalk")
        .json(&json!({"redirect": "/welcome"}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("getAuthUrl {}", r.status());
    }
    let binding = cookie(&r, "authgate_dingtalk_binding").context("binding cookie")?;
    let body: Value = r.json().await?;
    let url = body["data"]["url"].as_str().context("url")?;
    let r = http.get(format!("{url}&login_as=u{who}")).send().await?;
    let mut callback = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .context("authorize redirect")?
        .to_string();
    if let Some(other) = callback_base {
        let u = reqwest::Url::parse(&callback).context("callback URL")?;
        callback = format!("{other}{}?{}", u.path(), u.query().unwrap_or_default());
    }
    let r = http.get(&callback).header("cookie", binding).send().await?;
    let landed = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if landed != "/welcome" || cookie(&r, "authgate_token").is_none() {
        bail!("sign-in ended at {landed}");
    }
    Ok(())
}

pub async fn returning(
    dt: &DingTalkTarget,
    plan: &Plan,
    db: Db,
    label: &str,
) -> anyhow::Result<Row> {
    let clients: Vec<_> = (0..plan.connections)
        .map(|i| SignInClient {
            http: http_client(),
            base: dt.target.proc.base.clone(),
            employee: Employee::Fixed(i),
        })
        .collect();
    let name = format!(
        "(b) DingTalk sign-in, returning user, {} connections{label}",
        plan.connections
    );
    measure_with_fake(dt, plan, &name, db, clients).await
}

pub async fn new_users(
    dt: &DingTalkTarget,
    plan: &Plan,
    db: Db,
    first: usize,
) -> anyhow::Result<Row> {
    let next = Arc::new(AtomicUsize::new(first));
    let clients: Vec<_> = (0..plan.connections)
        .map(|_| SignInClient {
            http: http_client(),
            base: dt.target.proc.base.clone(),
            employee: Employee::Next(next.clone()),
        })
        .collect();
    let name = format!(
        "(c) DingTalk sign-in, new user each time (auto sign-up), {} connections",
        plan.connections
    );
    let mut row = measure_with_fake(dt, plan, &name, db, clients).await?;
    row.note += &format!("; {} users signed up", next.load(Ordering::Relaxed) - first);
    Ok(row)
}

/// Measures sign-ins and notes what the fake DingTalk served for each: the requests it
/// answered (counted by its request log) and the CPU it used.
async fn measure_with_fake(
    dt: &DingTalkTarget,
    plan: &Plan,
    name: &str,
    db: Db,
    clients: Vec<SignInClient>,
) -> anyhow::Result<Row> {
    // The CPU is read inside the log reads: serialising the log is not the fake's work for
    // the sign-ins.
    let seq_before = last_fake_request(dt).await?;
    let fake_before = dt.fake.cpu_time();
    let postgres_before = postgres_cpu_time();
    let generator_before = cpu_time(std::process::id());
    let mut row = dt.target.measure(plan, name, db, clients, sign_in).await;
    let ms_each = |before: Duration, after: Duration, sign_ins: f64| {
        after.saturating_sub(before).as_secs_f64() * 1000.0 / sign_ins
    };
    let sign_ins = row.outcome.all_ops.max(1) as f64;
    let fake = ms_each(fake_before, dt.fake.cpu_time(), sign_ins);
    let postgres = ms_each(postgres_before, postgres_cpu_time(), sign_ins);
    let generator = ms_each(generator_before, cpu_time(std::process::id()), sign_ins);
    let requests = (last_fake_request(dt).await? - seq_before) as f64 / sign_ins;
    // Everything runs on the same cores: their sum bounds the rate this machine can reach.
    let all = row.cpu_ms_per_op + fake + postgres + generator;
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get()) as f64;
    row.note = format!(
        "per sign-in: 2 requests to authgate; {requests:.1} to the fake DingTalk (the \
         browser's authorize page, the rest from authgate); CPU ms: authgate {:.3}, fake \
         DingTalk {fake:.3}, PostgreSQL {postgres:.3}, load generator {generator:.3}, all \
         {all:.2}: {cores} cores allow at most {:.0}/s",
        row.cpu_ms_per_op,
        cores * 1000.0 / all
    );
    Ok(row)
}

/// The sequence number of the last request the fake DingTalk logged.
async fn last_fake_request(dt: &DingTalkTarget) -> anyhow::Result<u64> {
    let log: Vec<Value> = http_client()
        .get(format!("{}/_fake/requests", dt.fake.base))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(log.last().and_then(|r| r["seq"].as_u64()).unwrap_or(0))
}
