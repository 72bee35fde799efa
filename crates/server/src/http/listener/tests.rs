//! The listener against raw TCP clients (timing margins are wide: tests share a busy machine).

use super::*;
use axum::routing::get;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nhost: t\r\n\r\n";

fn limits(header_ms: u64, idle_ms: u64) -> ConnectionLimits {
    ConnectionLimits {
        header_read_timeout: Duration::from_millis(header_ms),
        idle_timeout: Duration::from_millis(idle_ms),
        ..ConnectionLimits::default()
    }
}

struct Running {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
}

async fn start(limits: ConnectionLimits, app: Router) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(serve(
        listener,
        app,
        limits,
        TrustedProxies::none(),
        async move {
            let _ = stopped.await;
        },
    ));
    Running {
        address,
        stop: Some(stop),
        done,
    }
}

fn hello() -> Router {
    Router::new().route("/", get(|| async { "hello" }))
}

/// Reads one response with a Content-Length; None if the connection closed first.
async fn read_response(stream: &mut TcpStream) -> Option<String> {
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&data).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return Some(text);
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("an answer or a close within 10 s")
            .unwrap_or(0);
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&chunk[..n]);
    }
}

/// How long until the server closes the connection (reading and discarding what it sends).
async fn time_until_closed(stream: &mut TcpStream) -> Duration {
    let started = Instant::now();
    let mut chunk = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("the server closes the connection within 10 s");
        if matches!(read, Ok(0) | Err(_)) {
            return started.elapsed();
        }
    }
}

#[tokio::test]
async fn hyper_header_timer_also_runs_between_requests() {
    // Why `deadlines` keeps its own timers: with hyper's header_read_timeout a kept-alive
    // connection is closed once it has waited that long for its next request.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut http1 = hyper::server::conn::http1::Builder::new();
        http1
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(Duration::from_millis(300));
        let service = hyper::service::service_fn(|_req: Request<Incoming>| async {
            Ok::<_, Infallible>(axum::http::Response::new(Body::from("hello")))
        });
        let _ = http1.serve_connection(TokioIo::new(stream), service).await;
    });
    let mut client = TcpStream::connect(address).await.unwrap();
    client.write_all(REQUEST).await.unwrap();
    assert!(read_response(&mut client).await.is_some());
    let idle = time_until_closed(&mut client).await;
    assert!(idle < Duration::from_secs(2), "hyper closed after {idle:?}");
}

#[tokio::test]
async fn a_kept_alive_connection_waits_the_idle_timeout_not_the_header_timeout() {
    let server = start(limits(300, 1500), hello()).await;
    let mut client = TcpStream::connect(server.address).await.unwrap();
    client.write_all(REQUEST).await.unwrap();
    assert!(read_response(&mut client).await.unwrap().ends_with("hello"));
    tokio::time::sleep(Duration::from_millis(700)).await;
    client.write_all(REQUEST).await.unwrap();
    let second = read_response(&mut client).await;
    assert!(
        second.is_some(),
        "still open after more than the header timeout"
    );
    let idle = time_until_closed(&mut client).await;
    assert!(
        idle >= Duration::from_millis(1200) && idle < Duration::from_secs(4),
        "closed after {idle:?} of idleness"
    );
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_header_timeout() {
    let server = start(limits(400, 5000), hello()).await;
    let mut client = TcpStream::connect(server.address).await.unwrap();
    let waited = time_until_closed(&mut client).await;
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
        "closed after {waited:?}"
    );
}

#[tokio::test]
async fn headers_trickling_in_are_cut_off_at_the_header_timeout() {
    let server = start(limits(600, 5000), hello()).await;
    let mut client = TcpStream::connect(server.address).await.unwrap();
    let started = Instant::now();
    client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
    let mut line = 0;
    while client
        .write_all(format!("x-slow-{line}: 1\r\n").as_bytes())
        .await
        .is_ok()
    {
        line += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
        if started.elapsed() > Duration::from_secs(5) {
            panic!("still accepting header lines after 5 s");
        }
        let mut probe = [0u8; 1];
        if let Ok(read) = tokio::time::timeout(Duration::ZERO, client.read(&mut probe)).await {
            assert!(
                matches!(read, Ok(0) | Err(_)),
                "no answer to a partial request"
            );
            break;
        }
    }
    let cut = started.elapsed();
    assert!(
        cut >= Duration::from_millis(500) && cut < Duration::from_secs(3),
        "cut off after {cut:?} ({line} header lines)"
    );
}

#[tokio::test]
async fn a_slow_handler_is_not_a_slow_client() {
    let app = Router::new().route(
        "/",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(1200)).await;
            "late"
        }),
    );
    let server = start(limits(300, 500), app).await;
    let mut client = TcpStream::connect(server.address).await.unwrap();
    client.write_all(REQUEST).await.unwrap();
    assert!(read_response(&mut client).await.unwrap().ends_with("late"));
}

#[tokio::test]
async fn a_client_that_does_not_read_its_response_is_dropped_after_the_idle_timeout() {
    let big = Router::new().route("/", get(|| async { vec![b'x'; 64 << 20] }));
    let mut limits = limits(300, 700);
    limits.max_connections_per_ip = 1;
    let server = start(limits, big).await;
    let mut stalled = TcpStream::connect(server.address).await.unwrap();
    stalled.write_all(REQUEST).await.unwrap();
    // Its one place comes back once the stalled response is given up.
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut probe = TcpStream::connect(server.address).await.unwrap();
        probe
            .write_all(b"HEAD / HTTP/1.1\r\nhost: t\r\n\r\n")
            .await
            .unwrap();
        let mut head = [0u8; 12];
        if probe.read_exact(&mut head).await.is_ok() {
            assert_eq!(&head, b"HTTP/1.1 200");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the stalled connection still holds its place"
        );
    }
    assert!(started.elapsed() >= Duration::from_millis(500));
    drop(stalled);
}

#[tokio::test]
async fn connections_over_the_caps_are_closed_at_once() {
    let mut limits = limits(3000, 3000);
    limits.max_connections_per_ip = 2;
    let server = start(limits, hello()).await;
    let _held = [
        TcpStream::connect(server.address).await.unwrap(),
        TcpStream::connect(server.address).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(server.address).await.unwrap();
    let waited = time_until_closed(&mut third).await;
    assert!(
        waited < Duration::from_millis(1000),
        "closed after {waited:?}"
    );
    drop(_held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut again = TcpStream::connect(server.address).await.unwrap();
    again.write_all(REQUEST).await.unwrap();
    assert!(read_response(&mut again).await.unwrap().ends_with("hello"));
}

#[tokio::test]
async fn handlers_see_the_peer_address() {
    let app = Router::new().route(
        "/",
        get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
    );
    let server = start(limits(1000, 1000), app).await;
    let mut client = TcpStream::connect(server.address).await.unwrap();
    let local = client.local_addr().unwrap().to_string();
    client.write_all(REQUEST).await.unwrap();
    assert!(read_response(&mut client).await.unwrap().ends_with(&local));
}

#[tokio::test]
async fn shutdown_answers_requests_in_progress_then_returns() {
    let app = Router::new().route(
        "/",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            "finished"
        }),
    );
    let mut server = start(limits(1000, 60_000), app).await;
    let mut idle = TcpStream::connect(server.address).await.unwrap();
    idle.write_all(REQUEST).await.unwrap();
    assert!(read_response(&mut idle).await.is_some());
    let mut busy = TcpStream::connect(server.address).await.unwrap();
    busy.write_all(REQUEST).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.stop.take().unwrap().send(()).unwrap();
    assert!(read_response(&mut busy)
        .await
        .unwrap()
        .ends_with("finished"));
    assert!(time_until_closed(&mut idle).await < Duration::from_secs(2));
    tokio::time::timeout(Duration::from_secs(5), server.done)
        .await
        .expect("serve returns once the connections are done")
        .unwrap();
    assert!(TcpStream::connect(server.address).await.is_err());
}

#[test]
fn the_caps_fit_the_descriptor_limit() {
    let defaults = ConnectionLimits::default();
    assert_eq!(fit_to_descriptor_limit(defaults, 1 << 20), defaults);
    let fitted = fit_to_descriptor_limit(defaults, 256);
    assert_eq!(fitted.max_connections, 256 - RESERVED_DESCRIPTORS as usize);
    assert_eq!(fitted.max_connections_per_ip, fitted.max_connections / 2);
    let tiny = ConnectionLimits {
        max_connections: 1,
        max_connections_per_ip: 1,
        ..defaults
    };
    assert_eq!(fit_to_descriptor_limit(tiny, 1 << 20), tiny);
    assert!(fit_to_descriptor_limit(defaults, 10).max_connections >= 1);
}
