//! The soak (issue 6, "load held"): two authgate nodes on one PostgreSQL database and the fake
//! DingTalk, driven for minutes at a fixed offered rate by a steady mix of auth:check, DingTalk
//! sign-ins (returning and new users) and password sign-ins, spread over both nodes. Every
//! interval it records each operation kind's count, errors and latency, and each node's memory,
//! CPU, descriptors and threads; at the end it judges errors, memory and p99 and writes the
//! report into RELIABILITY.md between `<!-- soak:begin -->` and `<!-- soak:end -->`.

use crate::dingtalk::{create_authenticator, fake_env, sign_in_as, start_fake};
use crate::load::{run_paced, Outcome, Recorder};
use crate::procs::{free_port, start_authgate_on, AuthgateOptions, Proc};
use crate::scenarios::{check_op, http_client, sign_in_op, Target, PASSWORD};
use crate::Db;
use anyhow::Context;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const BEGIN: &str = "<!-- soak:begin -->";
pub const END: &str = "<!-- soak:end -->";

/// Single-operation capacities on PostgreSQL with 1,000 users (BENCHMARKS.md when the soak was
/// written: each operation alone, closed loop, the whole machine): the yardstick for "well under
/// capacity".
const CAPACITY: [f64; 4] = [7315.0, 571.0, 491.0, 49.0];
/// The most one client sends per second, per kind (so its period stays well above the latency).
const PER_CLIENT: [f64; 4] = [50.0, 5.0, 5.0, 2.0];
const KIND_NAMES: [&str; 4] = [
    "auth:check (bearer)",
    "DingTalk sign-in, returning user",
    "DingTalk sign-in, new user",
    "password sign-in",
];
/// Employees who sign in again and again (each signed in once before the soak starts).
const RETURNING: usize = 64;
const PASSWORD_USERS: usize = 16;
/// Both nodes' public URL, as behind one load balancer (tokens name it as their issuer, so nodes
/// with different public URLs refuse each other's tokens). Nothing listens there: the harness
/// plays the balancer and sends each DingTalk callback to a node itself.
const PUBLIC_URL: &str = "http://authgate.test";

/// How often memory is sampled.
const SAMPLE: Duration = Duration::from_millis(250);
/// Memory rule: a node's resident floor over the final intervals (at most this many) may exceed
/// the second interval's by at most this share or these MiB, whichever is larger.
const RSS_TAIL_INTERVALS: usize = 3;
const RSS_GROWTH_SHARE: f64 = 0.10;
const RSS_GROWTH_MIB: f64 = 8.0;
/// p99 rule: the last interval's p99 at most this many times the median interval p99.
const P99_FACTOR: f64 = 2.0;
/// Descriptor rule: the last interval's count at most the second's plus this share or count.
const FD_GROWTH_SHARE: f64 = 0.25;
const FD_GROWTH: u64 = 16;

#[derive(Debug, Clone)]
pub struct SoakOptions {
    pub minutes: f64,
    pub interval_secs: u64,
    pub check_rate: f64,
    pub dingtalk_rate: f64,
    pub new_user_percent: f64,
    pub password_rate: f64,
    pub out: PathBuf,
}

#[derive(Debug, Clone, Default)]
struct NodeSample {
    rss_floor_kib: u64,
    rss_peak_kib: u64,
    cpu_percent: f64,
    fds: u64,
    threads: u64,
    alive: bool,
}

#[derive(Debug, Clone)]
struct Interval {
    from: Duration,
    to: Duration,
    kinds: Vec<Outcome>,
    nodes: Vec<NodeSample>,
    fake_rss_kib: u64,
    /// The load generator's own CPU, % of one core.
    harness_cpu: f64,
    pg_connections: i64,
    load1: f64,
}

struct Kind {
    name: &'static str,
    rate: f64,
    clients: usize,
    capacity: f64,
    recorder: Recorder,
}

#[derive(Clone)]
struct DingTalkClient {
    http: reqwest::Client,
    /// Both nodes' base URLs; this client starts its sign-ins at `bases[node]`.
    bases: Arc<Vec<String>>,
    node: usize,
    /// Counts this client's sign-ins: every other one's callback lands on the other node.
    count: Arc<std::sync::atomic::AtomicUsize>,
    who: Who,
}

#[derive(Clone)]
enum Who {
    /// One of the RETURNING employees, in turn.
    Returning,
    /// The next employee who never signed in.
    New(Arc<std::sync::atomic::AtomicUsize>),
}

async fn dingtalk_op(c: DingTalkClient) -> anyhow::Result<()> {
    let n = c.count.fetch_add(1, Ordering::Relaxed);
    let who = match &c.who {
        Who::Returning => (c.node * 7 + n) % RETURNING,
        Who::New(next) => next.fetch_add(1, Ordering::Relaxed),
    };
    let callback = if n % 2 == 1 { 1 - c.node } else { c.node };
    sign_in_as(&c.http, &c.bases[c.node], Some(&c.bases[callback]), who).await
}

fn load_average() -> (f64, String) {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let one = text
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    (one, text.trim().to_string())
}

fn utc_now() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn clock(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn merge(outcomes: &[&Outcome]) -> Outcome {
    let mut total = Outcome::default();
    for o in outcomes {
        total.ops += o.ops;
        total.errors += o.errors;
        total.all_ops += o.all_ops;
        total.elapsed += o.elapsed;
        total.latencies_us.extend_from_slice(&o.latencies_us);
        if total.first_error.is_none() {
            total.first_error = o.first_error.clone();
        }
    }
    total.latencies_us.sort_unstable();
    total
}

/// Lines at WARN or ERROR level written to `log` after byte `from`.
fn log_lines(log: &Path, from: u64) -> (Vec<String>, Vec<String>) {
    let text = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(text.get(from as usize..).unwrap_or_default());
    let mut warns = Vec::new();
    let mut errors = Vec::new();
    for line in text.lines() {
        if line.contains("ERROR") {
            errors.push(line.to_string());
        } else if line.contains("WARN") {
            warns.push(line.to_string());
        }
    }
    (warns, errors)
}

/// Replaces what lies between the markers in `path` with `body` (adding the markers at the end
/// when absent, or creating the file with a heading and the markers); nothing else changes.
pub fn write_between_markers(path: &Path, body: &str) -> anyhow::Result<()> {
    let section = format!("{BEGIN}\n{}{END}", body);
    let text = match std::fs::read_to_string(path) {
        Ok(old) => match (old.find(BEGIN), old.find(END)) {
            (Some(b), Some(e)) if b < e => {
                format!("{}{section}{}", &old[..b], &old[e + END.len()..])
            }
            _ => {
                let sep = if old.is_empty() || old.ends_with("\n\n") {
                    ""
                } else if old.ends_with('\n') {
                    "\n"
                } else {
                    "\n\n"
                };
                format!("{old}{sep}{section}\n")
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            format!("## Load held: 10-minute soak\n\n{section}\n")
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

pub async fn run(o: &SoakOptions) -> anyhow::Result<bool> {
    let (_, load_start) = load_average();
    let started_at = utc_now();
    let total = Duration::from_secs_f64(o.minutes * 60.0);
    anyhow::ensure!(
        total >= Duration::from_secs(1) && o.interval_secs >= 1,
        "--minutes and --interval-secs must be positive"
    );
    let interval = Duration::from_secs(o.interval_secs);
    let new_rate = o.dingtalk_rate * o.new_user_percent / 100.0;
    let rates = [
        o.check_rate,
        o.dingtalk_rate - new_rate,
        new_rate,
        o.password_rate,
    ];
    let kinds: Vec<Kind> = (0..4)
        .map(|i| Kind {
            name: KIND_NAMES[i],
            rate: rates[i],
            clients: if rates[i] > 0.0 {
                (rates[i] / PER_CLIENT[i]).ceil().max(1.0) as usize
            } else {
                0
            },
            capacity: CAPACITY[i],
            recorder: Recorder::default(),
        })
        .collect();

    // One PostgreSQL database, the fake DingTalk, two nodes sharing the database and the data
    // folder (so the same secret key), started one after the other.
    let admin_url = std::env::var("AUTHGATE_TEST_PG_URL")
        .context("AUTHGATE_TEST_PG_URL is not set: run through scripts/with-postgres")?;
    let dir = Arc::new(tempfile::tempdir()?);
    let database_url = crate::fresh_database_url(Db::Postgres, dir.path()).await?;
    let db_name = database_url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let pg = crate::postgres::connect(&admin_url).await?;
    let pg_version: String = pg.query_one("SHOW server_version", &[]).await?.get(0);
    let ports = [free_port(), free_port()];
    let employees = RETURNING + (new_rate * total.as_secs_f64()).ceil() as usize + 1_000;
    let fake = start_fake(
        dir.path(),
        employees,
        &[format!("{PUBLIC_URL}/api/dingtalk:redirect")],
    )?;
    let mut env = fake_env(&fake);
    env.push(("AUTHGATE_PUBLIC_URL".into(), PUBLIC_URL.into()));
    let logs: Vec<PathBuf> = ["a", "b"]
        .iter()
        .map(|n| dir.path().join(format!("node-{n}.log")))
        .collect();
    let mut nodes = Vec::new();
    for (port, log) in ports.iter().zip(&logs) {
        let proc = start_authgate_on(
            *port,
            AuthgateOptions {
                database_url: database_url.clone(),
                dir: dir.path(),
                env: env.clone(),
                log: Some(log.clone()),
            },
        )?;
        nodes.push(Target {
            proc,
            database_url: database_url.clone(),
            _dir: dir.clone(),
        });
    }
    eprintln!(
        "soak: nodes {} and {} on {db_name}, fake DingTalk {}",
        nodes[0].proc.base, nodes[1].proc.base, fake.base
    );
    create_authenticator(&nodes[0]).await?;
    let users = nodes[0].create_users(PASSWORD_USERS).await?;
    crate::seed::grow(&database_url, 0, 1_000, 0).await?;
    let bases = Arc::new(
        nodes
            .iter()
            .map(|n| n.proc.base.clone())
            .collect::<Vec<_>>(),
    );
    // The returning employees sign in once, so that every later sign-in of theirs returns.
    let http = http_client();
    for who in 0..RETURNING {
        sign_in_as(&http, &bases[who % 2], Some(&bases[who % 2]), who)
            .await
            .with_context(|| format!("first sign-in of employee u{who}"))?;
    }

    // Clients: each bound to one node; checks carry a token issued by the other node.
    let mut check_clients = Vec::new();
    for i in 0..kinds[0].clients {
        let http = http_client();
        let token = nodes[(i + 1) % 2]
            .sign_in(&http, &users[i % users.len()], PASSWORD)
            .await?;
        check_clients.push((http, nodes[i % 2].url("/api/auth:check"), token));
    }
    let next_new = Arc::new(std::sync::atomic::AtomicUsize::new(RETURNING));
    let dingtalk_clients = |n: usize, who: Who| -> Vec<DingTalkClient> {
        (0..n)
            .map(|i| DingTalkClient {
                http: http_client(),
                bases: bases.clone(),
                node: i % 2,
                count: Default::default(),
                who: who.clone(),
            })
            .collect()
    };
    let returning_clients = dingtalk_clients(kinds[1].clients, Who::Returning);
    let new_clients = dingtalk_clients(kinds[2].clients, Who::New(next_new.clone()));
    let password_clients: Vec<_> = (0..kinds[3].clients)
        .map(|i| {
            (
                http_client(),
                nodes[i % 2].url("/api/auth:signIn"),
                users[(i + kinds[0].clients) % users.len()].clone(),
            )
        })
        .collect();

    let log_offsets: Vec<u64> = logs
        .iter()
        .map(|l| std::fs::metadata(l).map_or(0, |m| m.len()))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    let s = stop.clone();
    tasks.push(tokio::spawn(run_paced(
        check_clients,
        kinds[0].rate,
        s.clone(),
        kinds[0].recorder.clone(),
        check_op,
    )));
    tasks.push(tokio::spawn(run_paced(
        returning_clients,
        kinds[1].rate,
        s.clone(),
        kinds[1].recorder.clone(),
        dingtalk_op,
    )));
    tasks.push(tokio::spawn(run_paced(
        new_clients,
        kinds[2].rate,
        s.clone(),
        kinds[2].recorder.clone(),
        dingtalk_op,
    )));
    tasks.push(tokio::spawn(run_paced(
        password_clients,
        kinds[3].rate,
        s,
        kinds[3].recorder.clone(),
        sign_in_op,
    )));

    // Sample memory every SAMPLE; close an interval every `interval`.
    let start = tokio::time::Instant::now();
    let wall = Instant::now();
    let procs: Vec<&Proc> = nodes.iter().map(|n| &n.proc).collect();
    let mut cpu_before: Vec<Duration> = procs.iter().map(|p| p.cpu_time()).collect();
    let mut harness_before = crate::procs::cpu_time(std::process::id());
    let mut intervals: Vec<Interval> = Vec::new();
    let mut from = Duration::ZERO;
    let mut second = Duration::ZERO;
    while from < total {
        let to = (from + interval).min(total);
        let mut floor = vec![u64::MAX; procs.len()];
        let mut peak = vec![0u64; procs.len()];
        while second < to {
            second = (second + SAMPLE).min(to);
            tokio::time::sleep_until(start + second).await;
            for (i, p) in procs.iter().enumerate() {
                let rss = p.rss_kib();
                floor[i] = floor[i].min(rss);
                peak[i] = peak[i].max(rss);
            }
        }
        let took = to - from;
        let kinds_now: Vec<Outcome> = kinds.iter().map(|k| k.recorder.take(took)).collect();
        let nodes_now: Vec<NodeSample> = procs
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let cpu = p.cpu_time();
                let used = cpu.saturating_sub(cpu_before[i]);
                cpu_before[i] = cpu;
                NodeSample {
                    rss_floor_kib: floor[i],
                    rss_peak_kib: peak[i],
                    cpu_percent: 100.0 * used.as_secs_f64() / took.as_secs_f64(),
                    fds: p.open_fds(),
                    threads: p.threads(),
                    alive: p.rss_kib() > 0,
                }
            })
            .collect();
        let harness = crate::procs::cpu_time(std::process::id());
        let harness_cpu =
            100.0 * harness.saturating_sub(harness_before).as_secs_f64() / took.as_secs_f64();
        harness_before = harness;
        let pg_connections: i64 = pg
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1",
                &[&db_name],
            )
            .await
            .map_or(-1, |row| row.get(0));
        let row = Interval {
            from,
            to,
            kinds: kinds_now,
            nodes: nodes_now,
            fake_rss_kib: fake.rss_kib(),
            harness_cpu,
            pg_connections,
            load1: load_average().0,
        };
        eprintln!(
            "soak {}: {}; RSS {}; load {:.2}",
            clock(to),
            row.kinds
                .iter()
                .map(|k| format!(
                    "{:.0}/s p99 {:.1} ms err {}",
                    k.per_second(),
                    k.percentile_ms(0.99),
                    k.errors
                ))
                .collect::<Vec<_>>()
                .join(", "),
            row.nodes
                .iter()
                .map(|n| format!("{:.1} MiB", mib(n.rss_floor_kib)))
                .collect::<Vec<_>>()
                .join(" / "),
            row.load1
        );
        intervals.push(row);
        from = to;
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(60), t)
            .await
            .context("clients did not stop")??;
    }
    let ran = wall.elapsed();
    let (_, load_end) = load_average();
    let node_logs: Vec<(Vec<String>, Vec<String>)> = logs
        .iter()
        .zip(&log_offsets)
        .map(|(l, off)| log_lines(l, *off))
        .collect();
    let signed_up = next_new.load(Ordering::Relaxed) - RETURNING;

    let report = Report {
        o,
        kinds: &kinds,
        intervals: &intervals,
        started_at,
        load_start,
        load_end,
        pg_version,
        ran,
        node_logs: &node_logs,
        signed_up,
        pids: procs.iter().map(|p| p.pid()).collect(),
    };
    let (text, ok) = report.markdown();
    println!("{text}");
    write_between_markers(&o.out, &text)?;
    eprintln!(
        "soak: wrote {} ({})",
        o.out.display(),
        if ok {
            "all verdicts met"
        } else {
            "a verdict failed"
        }
    );
    Ok(ok)
}

struct Report<'a> {
    o: &'a SoakOptions,
    kinds: &'a [Kind],
    intervals: &'a [Interval],
    started_at: String,
    load_start: String,
    load_end: String,
    pg_version: String,
    ran: Duration,
    node_logs: &'a [(Vec<String>, Vec<String>)],
    signed_up: usize,
    pids: Vec<u32>,
}

const NODE_NAMES: [&str; 2] = ["A", "B"];

impl Report<'_> {
    /// The report and whether every verdict is met.
    fn markdown(&self) -> (String, bool) {
        let mut s = String::new();
        let o = self.o;
        let ivs = self.intervals;
        let args: Vec<String> = std::env::args().skip(1).collect();
        // The binary as run, relative to the working folder (the repository root) if inside it.
        let exe = std::env::current_exe().unwrap_or_default();
        let exe = std::env::current_dir()
            .ok()
            .and_then(|d| exe.strip_prefix(d).ok().map(Path::to_path_buf))
            .unwrap_or(exe);
        let _ = writeln!(
            s,
            "Generated by `authgate-bench soak` on {} ({:.1} minutes, intervals of {} s). \
             Machine: {}; the load generator, both nodes, the fake DingTalk and PostgreSQL {} \
             all on this machine, over loopback.\n",
            self.started_at,
            self.ran.as_secs_f64() / 60.0,
            o.interval_secs,
            crate::report::machine(),
            self.pg_version
        );
        let _ = writeln!(
            s,
            "Command (from the repository root):\n\n```sh\ncargo build --release -p authgate -p authgate-bench\n\
             scripts/with-postgres {} {}\n```\n",
            exe.display(),
            args.join(" ")
        );
        let _ = writeln!(
            s,
            "Other work on the machine: load average `{}` at the start and `{}` at the end \
             (1, 5, 15 minutes; running/total tasks); the per-interval 1-minute figure is in the \
             second table. Other engineers' builds share these cores, so latency carries their noise.\n",
            self.load_start, self.load_end
        );
        let _ = writeln!(
            s,
            "Setup: two `authgate serve` processes (A pid {}, B pid {}) on one fresh PostgreSQL \
             database, sharing the data folder (so the secret key) and the public URL `{PUBLIC_URL}` \
             (as behind one load balancer); the fake DingTalk as a third process. Before the soak: 1,000 seeded users, {PASSWORD_USERS} password users, \
             {RETURNING} DingTalk employees signed in once. Each client is bound to one node and \
             sends at a fixed rate (open loop; a late client catches up, so the offered rate holds \
             unless the system falls behind); latency is measured from each request's send. \
             auth:check clients on one node carry tokens issued by the other; every other \
             DingTalk sign-in starts on one node and has its callback answered by the other \
             (as behind a load balancer). {} new users signed up during the soak.\n",
            self.pids[0], self.pids[1], self.signed_up
        );
        let _ = writeln!(
            s,
            "| operation | clients | offered /s | share of its capacity |\n|---|---:|---:|---:|"
        );
        let mut share = 0.0;
        for k in self.kinds {
            share += k.rate / k.capacity;
            let _ = writeln!(
                s,
                "| {} | {} | {:.1} | {:.0}% of {:.0}/s |",
                k.name,
                k.clients,
                k.rate,
                100.0 * k.rate / k.capacity,
                k.capacity
            );
        }
        let _ = writeln!(
            s,
            "\nCapacities: each operation alone on PostgreSQL, BENCHMARKS.md; the mix offers \
             about {:.0}% of the machine's capacity, so the soak measures stability, not saturation.\n",
            100.0 * share
        );

        // Operations per interval.
        let _ = write!(
            s,
            "Operations per interval (ops/s, p50 / p99 / max ms, errors):\n\n| interval |"
        );
        for k in self.kinds {
            let _ = write!(s, " {} |", k.name);
        }
        let _ = writeln!(s, "\n|---|{}", "---:|".repeat(self.kinds.len()));
        for iv in ivs {
            let _ = write!(s, "| {}–{} |", clock(iv.from), clock(iv.to));
            for k in &iv.kinds {
                let _ = write!(
                    s,
                    " {:.1}/s, {:.2} / {:.2} / {:.1}, {} |",
                    k.all_ops as f64 / k.elapsed.as_secs_f64().max(1e-9),
                    k.percentile_ms(0.5),
                    k.percentile_ms(0.99),
                    k.max_ms(),
                    k.errors
                );
            }
            let _ = writeln!(s);
        }

        // Whether the offered rate held.
        let _ = write!(
            s,
            "\nAchieved rate per interval, lowest–highest as a share of the offered rate (below \
             100%: clients fell behind their schedule; above: they caught up afterwards):"
        );
        for (i, k) in self.kinds.iter().enumerate() {
            if k.rate <= 0.0 {
                continue;
            }
            let shares: Vec<f64> = ivs
                .iter()
                .map(|iv| {
                    let o = &iv.kinds[i];
                    100.0 * o.all_ops as f64 / o.elapsed.as_secs_f64().max(1e-9) / k.rate
                })
                .collect();
            let lo = shares.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = shares.iter().copied().fold(0.0, f64::max);
            let _ = write!(s, " {} {lo:.0}–{hi:.0}%;", k.name);
        }
        s.pop();
        s.push_str(".\n");

        // Processes per interval.
        let _ = write!(
            s,
            "\nProcesses per interval (RSS: lowest–highest of samples every 250 ms, MiB; CPU: % of \
             one core; fds: open descriptors; thr: threads; harness: the load generator itself):\n\n| interval |"
        );
        for n in NODE_NAMES {
            let _ = write!(s, " {n} RSS | {n} CPU | {n} fds | {n} thr |");
        }
        let _ = writeln!(
            s,
            " fake RSS | harness CPU | PG conns | load 1 min |\n|---|{}---:|---:|---:|---:|",
            "---:|".repeat(4 * NODE_NAMES.len())
        );
        for iv in ivs {
            let _ = write!(s, "| {}–{} |", clock(iv.from), clock(iv.to));
            for n in &iv.nodes {
                let _ = write!(
                    s,
                    " {:.1}–{:.1} | {:.0}% | {} | {} |",
                    mib(n.rss_floor_kib),
                    mib(n.rss_peak_kib),
                    n.cpu_percent,
                    n.fds,
                    n.threads
                );
            }
            let _ = writeln!(
                s,
                " {:.1} | {:.0}% | {} | {:.2} |",
                mib(iv.fake_rss_kib),
                iv.harness_cpu,
                iv.pg_connections,
                iv.load1
            );
        }

        // Totals.
        let _ = writeln!(
            s,
            "\nTotals:\n\n| operation | ops | ops/s | errors | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|---:|"
        );
        let mut errors = 0;
        let mut first_errors = Vec::new();
        for (i, k) in self.kinds.iter().enumerate() {
            let t = merge(&ivs.iter().map(|iv| &iv.kinds[i]).collect::<Vec<_>>());
            errors += t.errors;
            if let Some(e) = &t.first_error {
                first_errors.push(format!("{}: {e}", k.name));
            }
            let _ = writeln!(
                s,
                "| {} | {} | {:.1} | {} | {:.2} | {:.2} | {:.1} |",
                k.name,
                t.all_ops,
                t.all_ops as f64 / t.elapsed.as_secs_f64().max(1e-9),
                t.errors,
                t.percentile_ms(0.5),
                t.percentile_ms(0.99),
                t.max_ms()
            );
        }

        // Verdicts.
        let mut verdicts: Vec<(bool, String)> = Vec::new();
        let server_errors: usize = self.node_logs.iter().map(|(_, e)| e.len()).sum();
        let server_warns: usize = self.node_logs.iter().map(|(w, _)| w.len()).sum();
        let died: Vec<&str> = NODE_NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| ivs.iter().any(|iv| !iv.nodes[*i].alive))
            .map(|(_, n)| *n)
            .collect();
        verdicts.push((
            errors == 0 && server_errors == 0 && died.is_empty(),
            format!(
                "**errors**: none allowed. {errors} failed operations, {server_errors} ERROR lines \
                 in the nodes' logs ({server_warns} WARN){}.",
                if died.is_empty() {
                    String::new()
                } else {
                    format!(", node {} exited", died.join(", "))
                }
            ),
        ));
        // Baseline: the second interval (the first holds start-up: pools filling, caches warming).
        let base = if ivs.len() >= 2 { 1 } else { 0 };
        let last = ivs.len() - 1;
        // End: the final intervals together, so that a stretch in which some Argon2id buffer
        // was always mapped (busy hashing) is not taken for growth; a leak still shows, as it
        // raises every sample.
        let tail = RSS_TAIL_INTERVALS.min(ivs.len() - 1 - base).max(1);
        let tail_from = ivs.len() - tail;
        let mut text = format!(
            "**memory flat**: each node's lowest RSS over {} at most {:.0}% or {:.0} MiB \
             (whichever is larger) above its lowest in interval {}. Lowest, because each \
             in-flight Argon2id hash maps 19 MiB for a moment.",
            if tail == 1 {
                format!("interval {}", ivs.len())
            } else {
                format!(
                    "the last {tail} intervals ({}–{})",
                    tail_from + 1,
                    ivs.len()
                )
            },
            RSS_GROWTH_SHARE * 100.0,
            RSS_GROWTH_MIB,
            base + 1
        );
        let mut ok = true;
        for (i, n) in NODE_NAMES.iter().enumerate() {
            let b = mib(ivs[base].nodes[i].rss_floor_kib);
            let l = mib(ivs[tail_from..]
                .iter()
                .map(|iv| iv.nodes[i].rss_floor_kib)
                .min()
                .unwrap_or(0));
            let allowed = (b * RSS_GROWTH_SHARE).max(RSS_GROWTH_MIB);
            let good = l - b <= allowed;
            ok &= good;
            let _ = write!(
                text,
                " {n}: {b:.1} -> {l:.1} MiB ({:+.1}, allowed +{allowed:.1}){};",
                l - b,
                if good { "" } else { " **over**" }
            );
        }
        text.pop();
        text.push('.');
        verdicts.push((ok, text));
        let mut text = format!(
            "**p99 stable**: each operation's p99 in the last interval at most {P99_FACTOR}x the \
             median of its interval p99s."
        );
        let mut ok = true;
        for (i, k) in self.kinds.iter().enumerate() {
            if k.rate <= 0.0 {
                continue;
            }
            let med = median(
                ivs.iter()
                    .map(|iv| iv.kinds[i].percentile_ms(0.99))
                    .collect(),
            );
            let l = ivs[last].kinds[i].percentile_ms(0.99);
            let worst = ivs
                .iter()
                .map(|iv| iv.kinds[i].percentile_ms(0.99))
                .fold(0.0, f64::max);
            let good = l <= P99_FACTOR * med;
            ok &= good;
            let _ = write!(
                text,
                " {}: last {l:.2} ms, median {med:.2} ms, worst interval {worst:.2} ms{};",
                k.name,
                if good { "" } else { " **over**" }
            );
        }
        text.pop();
        text.push('.');
        verdicts.push((ok, text));
        let mut text = format!(
            "**descriptors flat**: each node's open descriptors at the end of the last interval at \
             most {:.0}% or {FD_GROWTH} (whichever is larger) above the end of interval {}.",
            FD_GROWTH_SHARE * 100.0,
            base + 1
        );
        let mut ok = true;
        for (i, n) in NODE_NAMES.iter().enumerate() {
            let b = ivs[base].nodes[i].fds;
            let l = ivs[last].nodes[i].fds;
            let allowed = ((b as f64 * FD_GROWTH_SHARE).ceil() as u64).max(FD_GROWTH);
            let good = l <= b + allowed;
            ok &= good;
            let _ = write!(
                text,
                " {n}: {b} -> {l}{};",
                if good { "" } else { " **over**" }
            );
        }
        text.pop();
        text.push('.');
        verdicts.push((ok, text));

        let all_ok = verdicts.iter().all(|(ok, _)| *ok);
        let _ = writeln!(s, "\nVerdicts:\n");
        for (ok, text) in &verdicts {
            let _ = writeln!(s, "- {} {text}", if *ok { "met:" } else { "**failed**:" });
        }
        if !first_errors.is_empty() {
            let _ = writeln!(s, "\nFirst error of each failing operation:\n");
            for e in &first_errors {
                let _ = writeln!(s, "- `{}`", e.replace('`', "'"));
            }
        }
        let logged: Vec<&String> = self
            .node_logs
            .iter()
            .flat_map(|(w, e)| e.iter().chain(w.iter()).take(3))
            .collect();
        if !logged.is_empty() {
            let _ = writeln!(s, "\nFirst ERROR/WARN lines of the nodes' logs:\n\n```");
            for l in logged {
                let _ = writeln!(s, "{}", l.chars().take(300).collect::<String>());
            }
            let _ = writeln!(s, "```");
        }
        (s, all_ok)
    }
}
