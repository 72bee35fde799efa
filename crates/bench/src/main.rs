//! authgate's benchmark harness.
//!
//! `authgate-bench all` measures every scenario on SQLite and PostgreSQL (the OpenID Connect
//! ones also against panva's oidc-provider, which needs node and npm) and writes
//! BENCHMARKS.md; `authgate-bench smoke` runs each scenario for a moment (CI runs it so the
//! harness cannot rot); `authgate-bench soak` holds a steady mixed load on two nodes sharing one
//! PostgreSQL database and writes its report into RELIABILITY.md. PostgreSQL comes from
//! AUTHGATE_TEST_PG_URL (scripts/with-postgres).

mod anchor_op;
mod ceiling;
mod dingtalk;
mod forward;
mod load;
mod oidc;
mod postgres;
mod procs;
mod report;
mod scenarios;
mod seed;
mod soak;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

pub const ADMIN_PASSWORD: &str = "bench-admin-password";

#[derive(Parser)]
#[command(about = "authgate benchmark harness")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Every scenario on both databases; writes BENCHMARKS.md
    All {
        /// Where to write the report
        #[arg(long, default_value = "BENCHMARKS.md")]
        out: PathBuf,
        /// Seconds measured per scenario (after a 1 s warm-up)
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Times every scenario runs; the median round is reported
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// Each scenario for a moment, on both databases; checks the harness works
    Smoke,
    /// Steady mixed load on two nodes sharing one PostgreSQL database; reports errors, memory
    /// and p99 per interval into RELIABILITY.md (between the soak markers)
    Soak {
        /// How long to hold the load
        #[arg(long, default_value_t = 10.0)]
        minutes: f64,
        /// Length of one reporting interval
        #[arg(long, default_value_t = 60)]
        interval_secs: u64,
        /// auth:check requests per second (bearer tokens)
        #[arg(long, default_value_t = 1000.0)]
        check_rate: f64,
        /// Complete DingTalk sign-ins per second (returning and new users)
        #[arg(long, default_value_t = 80.0)]
        dingtalk_rate: f64,
        /// Share of the DingTalk sign-ins made by a new user (auto sign-up), in percent
        #[arg(long, default_value_t = 20.0)]
        new_user_percent: f64,
        /// Password sign-ins per second
        #[arg(long, default_value_t = 8.0)]
        password_rate: f64,
        /// The file whose soak section (between the markers) receives the report
        #[arg(long, default_value = "RELIABILITY.md")]
        out: PathBuf,
    },
    /// One group of scenarios on one database, longer, for profiling: the PIDs of the
    /// processes under test are printed so `perf record -p` can attach
    Only {
        /// check (a, e), password (d), dingtalk (b, c), dingtalk-growth (b at 1,000 and
        /// 1,000,000 users), oidc (o0-o5 against authgate and oidc-provider, the RS256
        /// signing bound, and authgate's idle memory (g)) or forward (a, f1-f3: forward auth
        /// beside auth:check, and a static file through nginx with and without it)
        scenario: String,
        #[arg(long, default_value = "sqlite")]
        db: String,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// (internal) the bare ceiling server
    Ceiling {
        #[arg(long)]
        port: u16,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

impl Db {
    pub fn name(self) -> &'static str {
        match self {
            Db::Sqlite => "SQLite",
            Db::Postgres => "PostgreSQL",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub warmup: Duration,
    pub duration: Duration,
    pub connections: usize,
    pub password_clients: usize,
    pub growth_users: u64,
    pub growth_revoked: u64,
    /// Employees in the fake DingTalk (the new-user scenario needs one per sign-in).
    pub employees: usize,
    /// How many times every scenario runs (the median round is reported).
    pub rounds: usize,
}

pub async fn fresh_database_url(db: Db, dir: &std::path::Path) -> anyhow::Result<String> {
    Ok(match db {
        Db::Sqlite => format!("sqlite://{}", dir.join("authgate.db").display()),
        Db::Postgres => {
            let admin = std::env::var("AUTHGATE_TEST_PG_URL")
                .context("AUTHGATE_TEST_PG_URL is not set: run through scripts/with-postgres")?;
            // Unique across runs too: process ids come round again, and the databases stay.
            let started = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis();
            let name = format!(
                "bench_{started}_{}_{}",
                std::process::id(),
                next_database_number()
            );
            postgres::connect(&admin)
                .await?
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await?;
            CREATED_DATABASES.lock().unwrap().push(name.clone());
            format!(
                "{}/{name}",
                admin.rsplit_once('/').context("database in URL")?.0
            )
        }
    })
}

/// The PostgreSQL server's durability settings, which change what a commit costs: the
/// throwaway cluster of `scripts/with-postgres` turns them off.
async fn postgres_durability() -> anyhow::Result<String> {
    let admin = std::env::var("AUTHGATE_TEST_PG_URL").context("AUTHGATE_TEST_PG_URL")?;
    let pg = postgres::connect(&admin).await?;
    let mut settings = Vec::new();
    for name in ["fsync", "synchronous_commit", "full_page_writes"] {
        let value: String = pg.query_one(&format!("SHOW {name}"), &[]).await?.get(0);
        settings.push(format!("{name}={value}"));
    }
    Ok(settings.join(", "))
}

/// The PostgreSQL databases this run created, dropped when it ends: a cluster that is not
/// thrown away would otherwise keep every run's databases (and autovacuum would keep visiting
/// them).
static CREATED_DATABASES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

async fn drop_created_databases() -> anyhow::Result<()> {
    let names = std::mem::take(&mut *CREATED_DATABASES.lock().unwrap());
    if names.is_empty() {
        return Ok(());
    }
    let admin = std::env::var("AUTHGATE_TEST_PG_URL").context("AUTHGATE_TEST_PG_URL")?;
    let pg = postgres::connect(&admin).await?;
    for name in names {
        // FORCE: a node that is still shutting down may hold a connection.
        pg.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
    }
    Ok(())
}

fn next_database_number() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Cores divided by the time of one Argon2id hash at authgate's parameters, measured here at
/// its fastest (working memory already mapped and reused, as authgate does under load; the
/// quickest of several hashes).
pub fn hash_bound_limit() -> f64 {
    use std::sync::OnceLock;
    static LIMIT: OnceLock<f64> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        let hasher = authgate_core::password::PasswordHasher::owasp_minimum();
        let mut memory = authgate_core::argon2_memory::HashingMemory::new();
        let stored = hasher.hash_in("warm-up", &mut memory);
        // The fastest of 20: a hash slowed by the machine's other tenants (steal time) would
        // lower the limit and flatter the verdict.
        let one = (0..20)
            .map(|_| {
                let started = std::time::Instant::now();
                hasher.verify_in(&stored, "bench-password-1", &mut memory);
                started.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get()) as f64;
        cores / one
    })
}

/// Hashes per second with every core hashing at once (each with its own working memory,
/// mapped and warmed before the clock starts, as authgate's is under load): what the cores
/// really deliver together, for comparison with [`hash_bound_limit`].
pub fn all_cores_hashing_rate() -> f64 {
    use std::sync::{Barrier, OnceLock};
    static RATE: OnceLock<f64> = OnceLock::new();
    *RATE.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        let n = 16;
        let ready = Barrier::new(cores);
        let times: Vec<f64> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..cores)
                .map(|_| {
                    s.spawn(|| {
                        let hasher = authgate_core::password::PasswordHasher::owasp_minimum();
                        let mut memory = authgate_core::argon2_memory::HashingMemory::new();
                        let stored = hasher.hash_in("warm-up", &mut memory);
                        ready.wait();
                        let started = std::time::Instant::now();
                        for _ in 0..n {
                            hasher.verify_in(&stored, "bench-password-1", &mut memory);
                        }
                        started.elapsed().as_secs_f64()
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().expect("hashing thread"))
                .collect()
        });
        times.iter().map(|t| n as f64 / t).sum()
    })
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outcome = run(cli, &rt);
    if let Err(e) = rt.block_on(drop_created_databases()) {
        eprintln!("could not drop the benchmark's databases: {e:#}");
    }
    outcome
}

fn run(cli: Cli, rt: &tokio::runtime::Runtime) -> anyhow::Result<()> {
    match cli.command {
        Cmd::Ceiling { port } => rt.block_on(ceiling::serve(port)),
        Cmd::Soak {
            minutes,
            interval_secs,
            check_rate,
            dingtalk_rate,
            new_user_percent,
            password_rate,
            out,
        } => {
            let options = soak::SoakOptions {
                minutes,
                interval_secs,
                check_rate,
                dingtalk_rate,
                new_user_percent: new_user_percent.clamp(0.0, 100.0),
                password_rate,
                out,
            };
            if rt.block_on(soak::run(&options))? {
                Ok(())
            } else {
                anyhow::bail!("the soak failed a verdict (see the report)")
            }
        }
        Cmd::Only {
            scenario,
            db,
            seconds,
        } => {
            let db = match db.as_str() {
                "sqlite" => Db::Sqlite,
                "postgres" => Db::Postgres,
                other => anyhow::bail!("--db is sqlite or postgres, not {other}"),
            };
            let plan = Plan {
                warmup: Duration::from_secs(1),
                duration: Duration::from_secs(seconds),
                connections: 64,
                password_clients: 8,
                growth_users: 0,
                growth_revoked: 0,
                employees: 120_000,
                rounds: 1,
            };
            let rows = rt.block_on(report::run_only(&scenario, &plan, db))?;
            for row in &rows {
                println!(
                    "{:<80} {:>8.1}/s  p99 {:>7.2} ms  CPU {:.3} ms/op  peak {:.1} MiB  errors {}  {}",
                    row.scenario,
                    row.outcome.per_second(),
                    row.outcome.percentile_ms(0.99),
                    row.cpu_ms_per_op,
                    row.peak_rss_mib,
                    row.outcome.errors,
                    row.note
                );
                if let Some(e) = &row.outcome.first_error {
                    println!("    first error: {e}");
                }
            }
            if scenario == "oidc" {
                print!("{}", report::oidc_targets_table(&rows));
            }
            Ok(())
        }
        Cmd::Smoke => {
            let plan = Plan {
                warmup: Duration::from_millis(200),
                duration: Duration::from_millis(800),
                connections: 8,
                password_clients: 4,
                growth_users: 3_000,
                growth_revoked: 1_000,
                employees: 5_000,
                rounds: 1,
            };
            let (rows, _steal) = rt.block_on(report::run_all(&plan))?;
            let failed: Vec<_> = rows
                .iter()
                .filter(|r| r.outcome.ops == 0 || r.outcome.errors > 0)
                .collect();
            for r in &rows {
                println!(
                    "{:<70} {:>9.1}/s  errors {}",
                    format!("{} [{}]", r.scenario, r.db),
                    r.outcome.per_second(),
                    r.outcome.errors
                );
            }
            if !failed.is_empty() {
                for r in failed {
                    eprintln!(
                        "smoke: {} [{}] failed: {:?}",
                        r.scenario, r.db, r.outcome.first_error
                    );
                }
                anyhow::bail!("the benchmark smoke run failed");
            }
            // Printed so the verdict code runs in CI too; from a debug build, under a second per
            // scenario and 8 connections, the verdicts say nothing about performance.
            println!(
                "\nThe targets table below comes from this smoke run (debug build in CI, under \
                 a second per scenario, 8 connections). It checks that the report code works; \
                 its verdicts are not measurements. BENCHMARKS.md has the real ones."
            );
            print!("{}", report::targets(&rows));
            println!("bench smoke: {} scenarios passed, 0 failed", rows.len());
            Ok(())
        }
        Cmd::All {
            out,
            seconds,
            rounds,
        } => {
            let plan = Plan {
                warmup: Duration::from_secs(1),
                duration: Duration::from_secs(seconds),
                connections: 64,
                password_clients: 8,
                growth_users: 1_000_000,
                growth_revoked: 100_000,
                employees: 60_000,
                rounds,
            };
            let started = std::time::Instant::now();
            let (rows, steal) = rt.block_on(report::run_all(&plan))?;
            let durability = rt.block_on(postgres_durability())?;
            let mut text = report::markdown(&rows, &steal, &plan, &durability, started.elapsed());
            text.push_str(&report::targets(&rows));
            std::fs::write(&out, text)?;
            println!(
                "wrote {} in {:.0} s",
                out.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}
