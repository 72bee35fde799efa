//! The accept loop in front of the router, in place of `axum::serve`, which has no timeouts and
//! no connection caps (a client sending a header line a second, or nothing, held its
//! connections for as long as it liked, until the server ran out of descriptors).
//!
//! - Connections over `max_connections`, or over `max_connections_per_ip` from one client
//!   address (trusted proxies exempt), are closed as soon as they are accepted.
//! - A request's headers must arrive within `header_read_timeout`; a kept-alive connection
//!   waits for its next request, and a response for a client that does not read it, at most
//!   `idle_timeout` (both in `deadlines`).
//! - Handlers still get `ConnectInfo<SocketAddr>`; on the shutdown signal no connection is
//!   accepted any more, idle ones close and requests in progress are answered.

mod deadlines;
mod slots;

use crate::config::{ConnectionLimits, TrustedProxies};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::Response;
use axum::Router;
use deadlines::{DeadlineIo, RequestActivity};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use slots::{ConnectionSlots, Refusal, Slot};
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tower::ServiceExt;

/// Descriptors kept for everything but client connections: database pools, DingTalk calls,
/// files, the runtime's own.
pub const RESERVED_DESCRIPTORS: u64 = 128;

/// Serves `app` on `listener` until `shutdown` completes and the open connections are done.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    trusted_proxies: TrustedProxies,
    shutdown: impl Future<Output = ()>,
) {
    let slots = ConnectionSlots::new(&limits, trusted_proxies);
    let graceful = GracefulShutdown::new();
    let mut http1 = hyper::server::conn::http1::Builder::new();
    // Off: it would also bound the wait between kept-alive requests (see `deadlines`).
    http1.header_read_timeout(None);
    let mut refusals = RefusalLog::default();
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    wait_after_accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        match slots.acquire(peer.ip()) {
            Ok(slot) => {
                let connection = serve_connection(&http1, stream, peer, app.clone(), limits);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(client = %peer, error = %e, "connection ended");
                    }
                    // The place is free again only once the connection has ended.
                    drop::<Slot>(slot);
                });
            }
            // Dropping the stream closes it: nothing is held for a refused client.
            Err(refusal) => refusals.note(refusal, peer.ip()),
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

type HyperConnection =
    hyper::server::conn::http1::Connection<TokioIo<DeadlineIo<TcpStream>>, ConnectionService>;

fn serve_connection(
    http1: &hyper::server::conn::http1::Builder,
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: ConnectionLimits,
) -> HyperConnection {
    let activity = Arc::new(RequestActivity::default());
    let io = DeadlineIo::new(
        stream,
        limits.header_read_timeout,
        limits.idle_timeout,
        activity.clone(),
    );
    let service = ConnectionService {
        app,
        peer,
        activity,
    };
    http1.serve_connection(TokioIo::new(io), service)
}

/// The app for one connection: adds the peer's address for handlers and tells the
/// connection's deadlines when a request is being handled.
struct ConnectionService {
    app: Router,
    peer: SocketAddr,
    activity: Arc<RequestActivity>,
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let handling = self.activity.start();
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let response = self.app.clone().oneshot(request);
        Box::pin(async move {
            let response = response.await;
            drop(handling);
            response
        })
    }
}

/// Accept fails for a connection the client already dropped (nothing to do) or when the process
/// is out of descriptors: then wait for some to be freed instead of spinning.
async fn wait_after_accept_error(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept connections (max_connections above the descriptor limit?)");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Refused connections are logged as counts at most every 10 s: a flood must not flood the log.
#[derive(Default)]
struct RefusalLog {
    last_logged: Option<Instant>,
    full: u64,
    client_full: u64,
}

impl RefusalLog {
    fn note(&mut self, refusal: Refusal, client: IpAddr) {
        match refusal {
            Refusal::Full => self.full += 1,
            Refusal::ClientFull => self.client_full += 1,
        }
        let now = Instant::now();
        if self
            .last_logged
            .is_some_and(|at| now.duration_since(at) < Duration::from_secs(10))
        {
            return;
        }
        tracing::warn!(
            over_max_connections = self.full,
            over_max_connections_per_ip = self.client_full,
            last_client = %client,
            "refused connections over the caps"
        );
        self.last_logged = Some(now);
        (self.full, self.client_full) = (0, 0);
    }
}

/// `limits` adjusted to a process allowed `open_files` descriptors: connections beyond it
/// would fail to be accepted at all (and take the health check with them), so the total is
/// lowered to fit; one client never gets more than half of the total.
pub fn fit_to_descriptor_limit(limits: ConnectionLimits, open_files: u64) -> ConnectionLimits {
    let mut fitted = limits;
    let available = open_files.saturating_sub(RESERVED_DESCRIPTORS).max(2);
    let available = usize::try_from(available).unwrap_or(usize::MAX);
    if fitted.max_connections > available {
        tracing::warn!(
            max_connections = limits.max_connections,
            open_files_limit = open_files,
            lowered_to = available,
            "max_connections is above what the descriptor limit (ulimit -n) allows; lowered"
        );
        fitted.max_connections = available;
    }
    let half = (fitted.max_connections / 2).max(1);
    if fitted.max_connections_per_ip > half {
        tracing::warn!(
            max_connections_per_ip = limits.max_connections_per_ip,
            lowered_to = half,
            "max_connections_per_ip would let one client take every connection; lowered"
        );
        fitted.max_connections_per_ip = half;
    }
    fitted
}

#[cfg(test)]
mod tests;
