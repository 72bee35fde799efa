//! Slow and greedy clients against the real binary (issue: connections sending a header line a
//! second, or nothing, stayed open past 40 s, and with a descriptor limit of 256, 300 unfinished
//! requests from one client made `/healthz` time out).

use crate::support::*;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Starts `authgate serve` with `env` and returns what it printed when it refused to start.
pub fn refused_settings(env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(binary());
    cmd.current_dir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("authgate started with {env:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "{env:?} accepted");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A connection from another loopback address than the test's own 127.0.0.1.
async fn connect_from(source: &str, port: u16) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(source.parse().unwrap(), 0))
        .unwrap();
    socket
        .connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .unwrap()
}

/// Seconds until the server closes `stream`.
async fn time_until_closed(mut stream: TcpStream) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf)).await {
            Err(_) => panic!("still open after 30 s"),
            Ok(Ok(0) | Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
        }
    }
}

/// `/healthz` on a new connection from 127.0.0.1, within 2 s.
async fn healthz_answers(port: u16) -> bool {
    let probe = async {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).await.ok()?;
        Some(answer.starts_with(b"HTTP/1.1 200"))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), probe).await,
        Ok(Some(true))
    )
}

/// Lowers the server's descriptor limit as the report had it.
fn limit_open_files(pid: u32, limit: u64) {
    let new = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: prlimit reads `new` and writes nothing (no old-limit pointer).
    let rc = unsafe {
        libc::prlimit(
            pid as libc::pid_t,
            libc::RLIMIT_NOFILE,
            &new,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_with_many_unfinished_requests_cannot_starve_the_others() {
    let s = Server::start_with(
        Db::Sqlite,
        ServerOptions::default()
            .env("AUTHGATE_HEADER_READ_TIMEOUT", "3s")
            .env("AUTHGATE_MAX_CONNECTIONS_PER_IP", "50")
            // The greedy client comes from 127.0.0.2; trusted proxies are not capped per address.
            .env("AUTHGATE_TRUSTED_PROXIES", "127.0.0.1"),
    )
    .await;
    limit_open_files(s.pid(), 256);

    let mut closings = Vec::new();
    // Connections closed at once were over the cap; the others until the header timeout.
    for _ in 0..300 {
        let mut c = connect_from("127.0.0.2", s.port).await;
        c.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        closings.push(tokio::spawn(time_until_closed(c)));
    }
    let open_fds = s.proc_stats().open_fds;
    assert!(open_fds < 200, "{open_fds} descriptors open");
    for _ in 0..3 {
        assert!(
            healthz_answers(s.port).await,
            "/healthz answers during the flood"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let mut lived = Vec::new();
    for c in closings {
        lived.push(c.await.unwrap());
    }
    let refused = lived
        .iter()
        .filter(|d| **d < Duration::from_secs(2))
        .count();
    let timed_out = lived
        .iter()
        .filter(|d| **d >= Duration::from_secs(2) && **d < Duration::from_secs(10))
        .count();
    assert_eq!((refused, timed_out), (250, 50), "{lived:?}");
    assert!(healthz_answers(s.port).await);
}

async fn server_and_a_connection_with_a_2s_header_timeout() -> (Server, TcpStream) {
    let s = Server::start_with(
        Db::Sqlite,
        ServerOptions::default().env("AUTHGATE_HEADER_READ_TIMEOUT", "2s"),
    )
    .await;
    let connection = TcpStream::connect(("127.0.0.1", s.port)).await.unwrap();
    (s, connection)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_sent_a_line_at_a_time_are_cut_off() {
    let (s, mut slow) = server_and_a_connection_with_a_2s_header_timeout().await;
    let started = Instant::now();
    slow.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    let mut line = 0;
    let cut_off = loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let mut probe = [0u8; 64];
        if let Ok(read) = tokio::time::timeout(Duration::ZERO, slow.read(&mut probe)).await {
            assert!(
                matches!(read, Ok(0) | Err(_)),
                "no answer to half a request"
            );
            break started.elapsed();
        }
        if slow
            .write_all(format!("x-line-{line}: 1\r\n").as_bytes())
            .await
            .is_err()
        {
            break started.elapsed();
        }
        line += 1;
        assert!(started.elapsed() < Duration::from_secs(10), "never cut off");
    };
    assert!(
        cut_off >= Duration::from_millis(1800) && cut_off < Duration::from_secs(5),
        "cut off after {cut_off:?}"
    );
    let silent = TcpStream::connect(("127.0.0.1", s.port)).await.unwrap();
    let waited = time_until_closed(silent).await;
    assert!(
        waited >= Duration::from_millis(1800) && waited < Duration::from_secs(5),
        "a connection that sends nothing is closed after {waited:?}"
    );
}

/// A body sent a byte at a time gets the header timeout too, and then a clear 4xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_a_byte_at_a_time_is_cut_off() {
    let (_server, mut slow) = server_and_a_connection_with_a_2s_header_timeout().await;
    let started = Instant::now();
    slow.write_all(
        b"POST /api/auth:signIn HTTP/1.1\r\nhost: x\r\nx-authenticator: basic\r\n\
          content-type: application/json\r\ncontent-length: 1000\r\n\r\n{",
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    loop {
        let mut buf = [0u8; 1024];
        match tokio::time::timeout(Duration::from_millis(250), slow.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => {
                let _ = slow.write_all(b" ").await;
            }
        }
        if answer.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "never cut off");
    }
    let took = started.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        took >= Duration::from_millis(1800) && took < Duration::from_secs(5),
        "cut off after {took:?}"
    );
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "{answer}"
    );
}

/// Asks for `/healthz` on `stream` and reads the whole answer (kept alive: no close to wait for).
async fn healthz_on(stream: &mut TcpStream) -> bool {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if answer.len() >= end + 4 + length {
                return text.starts_with("http/1.1 200");
            }
        }
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
            _ => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let s = Server::start_with(
        Db::Sqlite,
        ServerOptions::default()
            .env("AUTHGATE_HEADER_READ_TIMEOUT", "1s")
            .env("AUTHGATE_IDLE_TIMEOUT", "3s"),
    )
    .await;
    let mut client = TcpStream::connect(("127.0.0.1", s.port)).await.unwrap();
    assert!(healthz_on(&mut client).await);
    // Longer than the header timeout: a kept-alive connection may wait for its next request.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(healthz_on(&mut client).await);
    let idle = time_until_closed(client).await;
    assert!(
        idle >= Duration::from_millis(2500) && idle < Duration::from_secs(6),
        "closed after {idle:?} of idleness"
    );
}

#[test]
fn connection_settings_are_checked() {
    for (name, value) in [
        ("AUTHGATE_HEADER_READ_TIMEOUT", "31s"),
        ("AUTHGATE_HEADER_READ_TIMEOUT", "soon"),
        ("AUTHGATE_IDLE_TIMEOUT", "0s"),
        ("AUTHGATE_MAX_CONNECTIONS", "0"),
        ("AUTHGATE_MAX_CONNECTIONS_PER_IP", "0"),
    ] {
        let text = refused_settings(&[(name, value)]);
        let setting = name.trim_start_matches("AUTHGATE_").to_ascii_lowercase();
        assert!(text.contains(&setting), "{name}={value}: {text}");
    }
}
