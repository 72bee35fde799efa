//! Runs the scenarios in order and writes the results table.

use crate::scenarios::{self, Row};
use crate::{anchor_op, oidc, Db, Plan};
use std::fmt::Write;
use std::time::Duration;

/// Every scenario, `plan.rounds` times over. Each row reported is the round with the median
/// throughput for that row (this machine's speed drifts from minute to minute; one round is a
/// lottery), with the highest memory any round saw; fractions of the ceiling and growth are
/// computed from the reported rows. Also returns the share of the machine's CPU time the
/// hypervisor gave to other guests during each round: how much of a slow round was the
/// machine's neighbours.
pub async fn run_all(plan: &Plan) -> anyhow::Result<(Vec<Row>, Vec<f64>)> {
    // Before anything is measured: without node, npm or the registry the run fails at once.
    let anchor = anchor_op::Install::prepare().await?;
    let mut rounds = Vec::new();
    let mut steal = Vec::new();
    for round in 1..=plan.rounds.max(1) {
        eprintln!("round {round} of {}", plan.rounds.max(1));
        let (total_before, steal_before) = crate::procs::machine_cpu_ticks();
        rounds.push(run_round(plan, &anchor).await?);
        let (total_after, steal_after) = crate::procs::machine_cpu_ticks();
        steal
            .push((steal_after - steal_before) as f64 / (total_after - total_before).max(1) as f64);
    }
    let mut rows = Vec::new();
    for i in 0..rounds[0].len() {
        let mut candidates: Vec<&Row> = rounds.iter().map(|r| &r[i]).collect();
        candidates.sort_by(|a, b| a.outcome.per_second().total_cmp(&b.outcome.per_second()));
        let mut row = candidates[candidates.len() / 2].clone();
        row.peak_rss_mib = candidates
            .iter()
            .map(|r| r.peak_rss_mib)
            .fold(0.0, f64::max);
        rows.push(row);
    }
    relate(&mut rows);
    Ok((rows, steal))
}

/// Fractions of the ceiling for auth:check, each growth row against its 1,000-user row, and
/// the OIDC rows against oidc-provider's and the RS256 signing bound.
fn relate(rows: &mut [Row]) {
    oidc::relate(rows);
    crate::forward::relate(rows);
    let rate = |r: &Row| r.outcome.per_second();
    let Some(ceiling) = rows
        .iter()
        .find(|r| r.scenario.starts_with("ceiling"))
        .map(rate)
    else {
        return;
    };
    let small: Vec<(String, String, f64)> = rows
        .iter()
        .filter(|r| !r.scenario.contains("revoked"))
        .map(|r| (r.scenario[..3].to_string(), r.db.clone(), rate(r)))
        .collect();
    for r in rows.iter_mut() {
        if r.scenario.starts_with("(a)") {
            r.ceiling_fraction = Some(rate(r) / ceiling);
        }
        if r.scenario.contains("revoked") {
            if let Some((_, _, base)) = small
                .iter()
                .find(|(p, db, _)| r.scenario.starts_with(p.as_str()) && *db == r.db)
            {
                r.note = format!("{:+.1}% vs 1,000 users", 100.0 * (rate(r) / base - 1.0));
            }
        }
    }
}

async fn run_round(plan: &Plan, anchor: &anchor_op::Install) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    let ceiling = scenarios::ceiling(plan).await?;
    eprintln!("ceiling: {:.0}/s", ceiling.outcome.per_second());
    rows.push(ceiling);
    let bound = oidc::bound_row();
    eprintln!("RS256 signing bound: {:.0}/s", bound.outcome.per_second());
    rows.push(bound);
    for db in [Db::Sqlite, Db::Postgres] {
        let (startup, t) = scenarios::start_up(db).await?;
        rows.push(startup);
        let users = t.create_users(plan.password_clients.max(8) * 2).await?;
        // The baseline database holds 1,000 users.
        crate::seed::grow(&t.database_url, 0, 1_000, 0).await?;
        let check = scenarios::auth_check(&t, plan, db, &users, ", 1,000 users").await?;
        eprintln!("{db:?} auth:check {:.0}/s", check.outcome.per_second());
        rows.push(check);
        rows.push(scenarios::password_sign_in(&t, plan, db, &users, ", 1,000 users").await?);
        rows.push(scenarios::isolation(&t, plan, db, &users).await?);
        rows.extend(crate::forward::rows(&t, plan, db, &users).await?);

        let dt = crate::dingtalk::DingTalkTarget::start(db, plan.employees).await?;
        crate::seed::grow(&dt.target.database_url, 0, 1_000, 0).await?;
        rows.push(crate::dingtalk::returning(&dt, plan, db, ", 1,000 users").await?);
        rows.push(crate::dingtalk::new_users(&dt, plan, db, plan.connections).await?);

        // Growth: the same database with many more users and revoked tokens.
        crate::seed::grow(
            &t.database_url,
            1_000,
            plan.growth_users - 1_000,
            plan.growth_revoked,
        )
        .await?;
        let label = format!(
            ", {} users + {} revoked",
            plan.growth_users, plan.growth_revoked
        );
        rows.push(scenarios::auth_check(&t, plan, db, &users, &label).await?);
        rows.push(scenarios::password_sign_in(&t, plan, db, &users, &label).await?);
        crate::seed::grow(
            &dt.target.database_url,
            1_000,
            plan.growth_users - 1_000,
            plan.growth_revoked,
        )
        .await?;
        rows.push(crate::dingtalk::returning(&dt, plan, db, &label).await?);

        // OpenID Connect, on a fresh authgate with the baseline 1,000 users.
        rows.extend(oidc::authgate_rows(plan, db).await?);
    }
    // The reference OpenID Provider, in the same round.
    rows.extend(oidc::anchor_rows(anchor, plan).await?);
    Ok(rows)
}

/// One group of scenarios alone, for profiling.
pub async fn run_only(scenario: &str, plan: &Plan, db: Db) -> anyhow::Result<Vec<Row>> {
    if scenario == "dingtalk" {
        let dt = crate::dingtalk::DingTalkTarget::start(db, plan.employees).await?;
        eprintln!(
            "authgate pid {}, fake DingTalk pid {}",
            dt.target.proc.pid(),
            dt.fake.pid()
        );
        crate::seed::grow(&dt.target.database_url, 0, 1_000, 0).await?;
        let back = crate::dingtalk::returning(&dt, plan, db, ", 1,000 users").await?;
        let new = crate::dingtalk::new_users(&dt, plan, db, plan.connections).await?;
        return Ok(vec![back, new]);
    }
    if scenario == "dingtalk-growth" {
        let dt = crate::dingtalk::DingTalkTarget::start(db, plan.employees).await?;
        eprintln!("authgate pid {}", dt.target.proc.pid());
        crate::seed::grow(&dt.target.database_url, 0, 1_000, 0).await?;
        let small = crate::dingtalk::returning(&dt, plan, db, ", 1,000 users").await?;
        crate::seed::grow(&dt.target.database_url, 1_000, 999_000, 100_000).await?;
        let big = crate::dingtalk::returning(&dt, plan, db, ", 1,000,000 users").await?;
        return Ok(vec![small, big]);
    }
    if scenario == "oidc" {
        let anchor = anchor_op::Install::prepare().await?;
        let mut rows = vec![oidc::bound_row()];
        // authgate's idle memory (row (g)), which the OIDC memory target reads.
        rows.push(scenarios::start_up(db).await?.0);
        let (t, conns) = oidc::start_authgate(db, plan.connections).await?;
        eprintln!("authgate pid {}", t.proc.pid());
        rows.extend(oidc::scenarios(&t.proc, Some(&t.database_url), plan, db.name(), &conns).await);
        drop(t);
        rows.push(oidc::anchor_idle(&anchor).await?);
        let (proc, conns) = oidc::start_anchor(&anchor, plan.connections).await?;
        eprintln!("oidc-provider pid {}", proc.pid());
        rows.extend(oidc::scenarios(&proc, None, plan, anchor_op::DB, &conns).await);
        oidc::relate(&mut rows);
        return Ok(rows);
    }
    let t = scenarios::Target::start(db).await?;
    eprintln!("authgate pid {}", t.proc.pid());
    let users = t.create_users(plan.password_clients.max(8) * 2).await?;
    crate::seed::grow(&t.database_url, 0, 1_000, 0).await?;
    Ok(match scenario {
        "check" => vec![
            scenarios::auth_check(&t, plan, db, &users, ", 1,000 users").await?,
            scenarios::isolation(&t, plan, db, &users).await?,
        ],
        "password" => {
            vec![scenarios::password_sign_in(&t, plan, db, &users, ", 1,000 users").await?]
        }
        "forward" => {
            let mut rows =
                vec![scenarios::auth_check(&t, plan, db, &users, ", 1,000 users").await?];
            rows.extend(crate::forward::rows(&t, plan, db, &users).await?);
            crate::forward::relate(&mut rows);
            rows
        }
        other => {
            anyhow::bail!(
                "unknown scenario {other}: check, password, dingtalk, dingtalk-growth, oidc or \
                 forward"
            )
        }
    })
}

/// "2 cores (CPU model)".
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("unknown")
        .trim()
        .to_string();
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    format!("{cores} cores ({cpu})")
}

pub fn markdown(
    rows: &[Row],
    steal: &[f64],
    plan: &Plan,
    pg_durability: &str,
    took: Duration,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmarks\n");
    let _ = writeln!(s, "Generated by `authgate-bench all` in {:.0} s. Machine: {}; load generator, authgate, the fake DingTalk and PostgreSQL all on this machine, over loopback.\n", took.as_secs_f64(), machine());
    let _ = writeln!(s, "Command (from the repository root):\n\n```sh\ncargo build --release -p authgate -p authgate-bench\nscripts/with-postgres target/release/authgate-bench all\n```\n");
    let _ = writeln!(s, "Each scenario: closed loop, {} s warm-up, {} s measured; a fresh authgate process per database. CPU is authgate's own user+system time per operation (from /proc), memory its peak resident set so far. SQLite runs with authgate's own settings (WAL, synchronous=NORMAL: no fsync at each commit); the PostgreSQL server had {pg_durability}. Every scenario ran {} times (rounds one after another, each with its own processes, databases and ceiling); each row is the round with the median throughput for it, with the highest memory of all rounds.\n", plan.warmup.as_secs(), plan.duration.as_secs(), plan.rounds.max(1));
    let _ = writeln!(s, "Rows (o0)-(o5) are OpenID Connect: each scenario ran against a fresh authgate per database (with the baseline 1,000 users) and, in the same round, against panva's oidc-provider (the reference provider, OpenID Certified; node, in-memory store; its launcher from `shared/anchors/oidc-provider` with a `client_credentials` client added), on the same number of connections, each connection with its own signed-in session. For the oidc-provider rows, CPU and memory are the node process's. The `bound: one RS256 signature` row is cores / the time of one RS256 signature of a typical ID token (2048-bit key, ring, as authgate signs), measured in the same run: the most silent code flows (o5) per second this machine could complete if signing the ID token were all they did.\n");
    let _ = writeln!(s, "Rows (f1)-(f3) are forward auth, on the authgate of rows (a)-(e) with a rule for the protected host: (f1) asks `/api/authz/auth-request` as nginx does (`X-Original-URL`, the bearer token passed on); (f2) is a 2 KiB static file served by nginx alone (Debian's nginx, 2 workers), and (f3) the same file behind authgate through `auth_request` (keep-alive connections to authgate, as the README's recipe). Their CPU is authgate's plus nginx's (master and workers).\n");
    let steal: Vec<String> = steal.iter().map(|f| format!("{:.1}%", f * 100.0)).collect();
    let _ = writeln!(s, "CPU time the hypervisor gave to other guests (steal) during each round: {}. This machine is shared: its speed drifts from minute to minute, which the ceiling and the hash-bound limit, measured in the same run, follow.\n", steal.join(", "));
    let _ = writeln!(s, "| scenario | database | ops/s | of ceiling | p50 ms | p90 ms | p99 ms | max ms | errors | CPU ms/op | peak RSS MiB | notes |");
    let _ = writeln!(
        s,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for r in rows {
        let o = &r.outcome;
        let _ =
            writeln!(
            s,
            "| {} | {} | {:.0} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.3} | {:.1} | {} |",
            r.scenario,
            r.db,
            o.per_second(),
            r.ceiling_fraction.map(|f| format!("{:.0}%", f * 100.0)).unwrap_or_default(),
            o.percentile_ms(0.5),
            o.percentile_ms(0.9),
            o.percentile_ms(0.99),
            o.max_ms(),
            o.errors,
            r.cpu_ms_per_op,
            r.peak_rss_mib,
            r.note
        );
    }
    s
}

fn find<'a>(rows: &'a [Row], prefix: &str, db: &str, big: bool) -> Option<&'a Row> {
    rows.iter().find(|r| {
        r.scenario.starts_with(prefix) && r.db == db && r.scenario.contains("revoked") == big
    })
}

/// Issue 5's targets, judged from this run's rows.
pub fn targets(rows: &[Row]) -> String {
    targets_table(|line| {
        general_targets(rows, line);
        oidc_targets(rows, line);
        forward_targets(rows, line);
    })
}

/// The OIDC targets alone (`only oidc`).
pub fn oidc_targets_table(rows: &[Row]) -> String {
    targets_table(|line| oidc_targets(rows, line))
}

/// One line of the targets table: its name, and its verdict for a database (None: not
/// measured).
type Line<'a> = dyn FnMut(&str, &dyn Fn(&str) -> Option<(bool, String)>) + 'a;

fn targets_table(lines: impl FnOnce(&mut Line)) -> String {
    let mut s = String::from("\n## Targets\n\n| target | SQLite | PostgreSQL |\n|---|---|---|\n");
    let verdict =
        |ok: bool, text: String| format!("{} {text}", if ok { "met:" } else { "**missed**:" });
    let mut line = |name: &str, judge: &dyn Fn(&str) -> Option<(bool, String)>| {
        let cell = |db: &str| {
            judge(db)
                .map(|(ok, t)| verdict(ok, t))
                .unwrap_or_else(|| "not measured".into())
        };
        let _ = writeln!(
            s,
            "| {name} | {} | {} |",
            cell("SQLite"),
            cell("PostgreSQL")
        );
    };
    lines(&mut line);
    s
}

fn general_targets(rows: &[Row], line: &mut Line) {
    line(
        "auth:check >= 50% of the ceiling, p99 < 5 ms at 64 connections",
        &|db| {
            let r = find(rows, "(a)", db, false)?;
            let f = r.ceiling_fraction?;
            let p99 = r.outcome.percentile_ms(0.99);
            Some((
                f >= 0.5 && p99 < 5.0,
                format!("{:.0}% of the ceiling, p99 {p99:.2} ms", f * 100.0),
            ))
        },
    );
    for (prefix, what) in [("(b)", "returning"), ("(c)", "new user")] {
        line(
            &format!("DingTalk sign-in ({what}) >= 1,500/s, authgate CPU <= 0.5 ms each"),
            &|db| {
                let r = find(rows, prefix, db, false)?;
                let rate = r.outcome.per_second();
                Some((
                    rate >= 1500.0 && r.cpu_ms_per_op <= 0.5,
                    format!("{rate:.0}/s, {:.3} ms CPU", r.cpu_ms_per_op),
                ))
            },
        );
    }
    line("password sign-in >= 90% of the hash-bound limit", &|db| {
        let r = find(rows, "(d)", db, false)?;
        let share = r.outcome.per_second() / crate::hash_bound_limit();
        Some((
            share >= 0.9,
            format!(
                "{:.0}% ({:.1}/s of {:.1}/s)",
                share * 100.0,
                r.outcome.per_second(),
                crate::hash_bound_limit()
            ),
        ))
    });
    line(
        "isolation: auth:check p99 < 10 ms during a password flood",
        &|db| {
            let p99 = find(rows, "(e)", db, false)?.outcome.percentile_ms(0.99);
            Some((p99 < 10.0, format!("p99 {p99:.2} ms")))
        },
    );
    for (prefix, what) in [
        ("(a)", "auth:check"),
        ("(b)", "DingTalk sign-in"),
        ("(d)", "password sign-in"),
    ] {
        line(
            &format!("growth: {what} at 1,000,000 users within 15% of 1,000"),
            &|db| {
                let small = find(rows, prefix, db, false)?.outcome.per_second();
                let big = find(rows, prefix, db, true)?.outcome.per_second();
                let change = big / small - 1.0;
                Some((change >= -0.15, format!("{:+.1}%", change * 100.0)))
            },
        );
    }
    line("memory: <= 20 MiB resident idle, <= 100 MiB peak", &|db| {
        let idle = find(rows, "(g)", db, false)?.peak_rss_mib;
        let peak = rows
            .iter()
            .filter(|r| r.db == db)
            .map(|r| r.peak_rss_mib)
            .fold(0.0, f64::max);
        Some((
            idle <= 20.0 && peak <= 100.0,
            format!("{idle:.1} MiB idle, {peak:.1} MiB peak"),
        ))
    });
    line(
        "start-up < 100 ms to the first /healthz 200 (SQLite)",
        &|db| {
            let r = find(rows, "(g)", db, false)?;
            let ms = r.outcome.elapsed.as_secs_f64() * 1000.0;
            Some((db != "SQLite" || ms < 100.0, format!("{ms:.1} ms")))
        },
    );
}

/// The OpenID Connect targets: authgate's rows against oidc-provider's (one row, in-memory
/// store) and the RS256 signing bound, all from the same run.
fn oidc_targets(rows: &[Row], line: &mut Line) {
    // A side that completed nothing has no rate to compare.
    let rate = |prefix: &str, db: &str| {
        find(rows, prefix, db, false)
            .map(|r| r.outcome.per_second())
            .filter(|r| *r > 0.0)
    };
    let theirs = |prefix: &str| rate(prefix, anchor_op::DB);
    for (prefix, what) in [("(o2)", "userinfo"), ("(o3)", "introspection")] {
        line(&format!("OIDC {what} >= 5x oidc-provider"), &|db| {
            let ours = rate(prefix, db)?;
            let theirs = theirs(prefix)?;
            Some((
                ours >= 5.0 * theirs,
                format!("{:.1}x ({ours:.0}/s vs {theirs:.0}/s)", ours / theirs),
            ))
        });
    }
    line(
        "OIDC silent code flow >= 3x oidc-provider and >= 70% of the RS256 signing bound",
        &|db| {
            let ours = rate("(o5)", db)?;
            let theirs = theirs("(o5)")?;
            let bound = rows
                .iter()
                .find(|r| r.scenario.starts_with(oidc::BOUND_ROW))?
                .outcome
                .per_second();
            Some((
                ours >= 3.0 * theirs && ours >= 0.7 * bound,
                format!(
                    "{:.1}x ({ours:.0}/s vs {theirs:.0}/s), {:.0}% of the bound ({bound:.0}/s)",
                    ours / theirs,
                    100.0 * ours / bound
                ),
            ))
        },
    );
    line(
        "OIDC memory: authgate <= 20 MiB resident idle (row (g)); oidc-provider's for comparison",
        &|db| {
            let idle = find(rows, "(g)", db, false)?.peak_rss_mib;
            let their_idle = find(rows, "(o0)", anchor_op::DB, false)?.peak_rss_mib;
            let their_peak = rows
                .iter()
                .filter(|r| r.db == anchor_op::DB)
                .map(|r| r.peak_rss_mib)
                .fold(0.0, f64::max);
            Some((
                idle <= 20.0,
                format!(
                    "authgate {idle:.1} MiB idle; oidc-provider {their_idle:.1} MiB idle, \
                     {their_peak:.1} MiB peak"
                ),
            ))
        },
    );
}

/// Forward auth: the check costs no more than auth:check; a protected file keeps half of
/// nginx's unprotected rate.
fn forward_targets(rows: &[Row], line: &mut Line) {
    line(
        "forward auth: auth-request costs no more authgate CPU per request than auth:check",
        &|db| {
            let ours = find(rows, crate::forward::CHECK_ROW, db, false)?;
            let check = find(rows, "(a)", db, false)?;
            Some((
                ours.cpu_ms_per_op <= check.cpu_ms_per_op * 1.05,
                format!(
                    "{:.3} vs {:.3} ms; {:.0}/s vs {:.0}/s",
                    ours.cpu_ms_per_op,
                    check.cpu_ms_per_op,
                    ours.outcome.per_second(),
                    check.outcome.per_second()
                ),
            ))
        },
    );
    line(
        "forward auth: a protected static file >= 50% of nginx's unprotected rate",
        &|db| {
            let open = find(rows, crate::forward::OPEN_ROW, db, false)?
                .outcome
                .per_second();
            let protected = find(rows, crate::forward::PROTECTED_ROW, db, false)?
                .outcome
                .per_second();
            Some((
                protected >= 0.5 * open,
                format!(
                    "{:.0}% ({protected:.0}/s of {open:.0}/s)",
                    100.0 * protected / open
                ),
            ))
        },
    );
}
