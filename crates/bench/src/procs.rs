//! The processes under test: authgate, the bare ceiling server, the fake DingTalk. Each runs as
//! its own process; CPU time and memory are read from /proc.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Proc {
    pub child: Child,
    pub base: String,
    /// Time from spawn to the first 200 on the health URL.
    pub ready_after: Duration,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The release binaries live next to this one.
pub fn sibling_binary(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let path = me.parent().context("binary folder")?.join(name);
    if !path.exists() {
        bail!(
            "{} is missing: build it first with `cargo build --release -p authgate`",
            path.display()
        );
    }
    Ok(path)
}

impl Proc {
    pub fn spawn(cmd: Command, port: u16, health_path: &str) -> anyhow::Result<Proc> {
        Proc::spawn_logged(cmd, port, health_path, None)
    }

    /// Like `spawn`, with the process's output appended to `log` when given.
    pub fn spawn_logged(
        mut cmd: Command,
        port: u16,
        health_path: &str,
        log: Option<&Path>,
    ) -> anyhow::Result<Proc> {
        match log {
            Some(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("opening {}", path.display()))?;
                cmd.stdout(file.try_clone()?).stderr(file);
            }
            None => {
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        let started = Instant::now();
        let child = cmd.spawn().context("spawning a process under test")?;
        let base = format!("http://127.0.0.1:{port}");
        let url = format!("{base}{health_path}");
        let mut proc = Proc {
            child,
            base,
            ready_after: Duration::ZERO,
        };
        // Plain blocking polling with a fresh TCP connection: measures start-up without a
        // runtime or connection pool in between.
        loop {
            if http_get_ok(port, health_path) {
                proc.ready_after = started.elapsed();
                return Ok(proc);
            }
            if let Some(status) = proc.child.try_wait()? {
                bail!("{url}: process exited early with {status}");
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("{url} did not become ready");
            }
            std::thread::sleep(Duration::from_micros(500));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// User + system CPU time so far.
    pub fn cpu_time(&self) -> Duration {
        cpu_time(self.pid())
    }

    pub fn rss_kib(&self) -> u64 {
        status_field(self.pid(), "VmRSS:")
    }

    pub fn peak_rss_kib(&self) -> u64 {
        status_field(self.pid(), "VmHWM:")
    }

    pub fn threads(&self) -> u64 {
        status_field(self.pid(), "Threads:")
    }

    /// Open file descriptors (entries of /proc/<pid>/fd).
    pub fn open_fds(&self) -> u64 {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count() as u64)
            .unwrap_or(0)
    }
}

fn http_get_ok(port: u16, path: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(n) if n >= 12 && &buf[9..12] == b"200")
}

/// User + system CPU time of any process so far.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields
            .get(12)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    // Linux reports in USER_HZ, 100 per second on every mainstream kernel.
    Duration::from_millis(ticks * 10)
}

/// The machine's CPU time so far, all cores together, and the part of it the hypervisor gave to
/// other guests instead ("steal"), in clock ticks (from /proc/stat).
pub fn machine_cpu_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user already).
    (ticks.iter().sum(), ticks.get(7).copied().unwrap_or(0))
}

/// The CPU used so far by every PostgreSQL server process on this machine (the benchmark's
/// cluster is the only one running during a run). Exited backends are not counted.
pub fn postgres_cpu_time() -> Duration {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(cpu_time)
        .sum()
}

fn status_field(pid: u32, name: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub struct AuthgateOptions<'a> {
    pub database_url: String,
    pub dir: &'a Path,
    pub env: Vec<(String, String)>,
    /// Where the process's output goes (discarded when None).
    pub log: Option<PathBuf>,
}

pub fn start_authgate(o: AuthgateOptions<'_>) -> anyhow::Result<Proc> {
    start_authgate_on(free_port(), o)
}

pub fn start_authgate_on(port: u16, o: AuthgateOptions<'_>) -> anyhow::Result<Proc> {
    let mut cmd = Command::new(sibling_binary("authgate")?);
    cmd.current_dir(o.dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env_clear()
        .env("RUST_LOG", "warn")
        .env("AUTHGATE_DATABASE_URL", &o.database_url)
        .env("AUTHGATE_DATA_DIR", o.dir.join("data"))
        .env("AUTHGATE_ADMIN_PASSWORD", crate::ADMIN_PASSWORD)
        // The benchmark signs in far more often than any person, all from one address: lift
        // the failure limits and the budget of DingTalk sign-ins started per address.
        .env("AUTHGATE_IP_MAX_FAILURES", "1000000000")
        .env("AUTHGATE_DINGTALK_STARTS_PER_MINUTE_PER_IP", "1000000000");
    for (k, v) in o.env {
        cmd.env(k, v);
    }
    Proc::spawn_logged(cmd, port, "/healthz", o.log.as_deref())
}

pub fn start_ceiling() -> anyhow::Result<Proc> {
    let port = free_port();
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(["ceiling", "--port", &port.to_string()]);
    Proc::spawn(cmd, port, "/")
}
