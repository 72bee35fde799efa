//! The header-read and idle timeouts, kept on the connection's IO.
//!
//! hyper's own `header_read_timeout` is not used: hyper (1.x) starts that timer whenever it
//! begins waiting for a request, on a kept-alive connection right after each response too (see
//! the `hyper_header_timer_also_runs_between_requests` test), so a kept-alive connection could
//! never stay open longer than the header timeout. Here the header timer starts when the
//! connection opens or when the first byte of a later request arrives, and a kept-alive
//! connection waits for that byte for `idle_timeout`.
//!
//! While a request is being handled no timer runs (the handler's own limits apply); the
//! service tells the IO about that through `RequestActivity`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Requests of one connection that the service has started and finished.
#[derive(Default)]
pub(super) struct RequestActivity {
    started: AtomicU64,
    finished: AtomicU64,
}

/// A request being handled; the request counts as finished when this is dropped (the
/// response is ready, or the connection ended first).
pub(super) struct Handling(Arc<RequestActivity>);

impl RequestActivity {
    pub(super) fn start(self: &Arc<Self>) -> Handling {
        self.started.fetch_add(1, Ordering::Relaxed);
        Handling(self.clone())
    }

    /// (started, finished)
    fn counts(&self) -> (u64, u64) {
        // Both counters are changed and read on the connection's own task: no ordering needed.
        (
            self.started.load(Ordering::Relaxed),
            self.finished.load(Ordering::Relaxed),
        )
    }
}

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.finished.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Debug, Clone, Copy)]
enum Waiting {
    /// For the rest of a request's headers, until the deadline.
    Headers { deadline: Instant },
    /// For the next request on a kept-alive connection (or for the client to read the
    /// response): `idle_timeout` after the last byte received or sent.
    NextRequest,
}

/// A connection's IO that fails with `TimedOut` once the client is too slow.
pub(super) struct DeadlineIo<T> {
    inner: T,
    header_read_timeout: Duration,
    idle_timeout: Duration,
    activity: Arc<RequestActivity>,
    finished_seen: u64,
    waiting: Waiting,
    last_progress: Instant,
    timer: Pin<Box<Sleep>>,
}

impl<T> DeadlineIo<T> {
    pub(super) fn new(
        inner: T,
        header_read_timeout: Duration,
        idle_timeout: Duration,
        activity: Arc<RequestActivity>,
    ) -> Self {
        let now = Instant::now();
        let deadline = now + header_read_timeout;
        Self {
            inner,
            header_read_timeout,
            idle_timeout,
            activity,
            finished_seen: 0,
            waiting: Waiting::Headers { deadline },
            last_progress: now,
            timer: Box::pin(tokio::time::sleep_until(deadline)),
        }
    }

    /// Whether a request is being handled; notes a request finished since the last look.
    fn handling_a_request(&mut self) -> bool {
        let (started, finished) = self.activity.counts();
        if finished != self.finished_seen {
            self.finished_seen = finished;
            self.waiting = Waiting::NextRequest;
            self.last_progress = Instant::now();
        }
        started != finished
    }

    fn bytes_received(&mut self) {
        let now = Instant::now();
        self.last_progress = now;
        if !self.handling_a_request() && matches!(self.waiting, Waiting::NextRequest) {
            self.waiting = Waiting::Headers {
                deadline: now + self.header_read_timeout,
            };
        }
    }

    fn bytes_sent(&mut self) {
        self.last_progress = Instant::now();
    }

    /// Called when reading or writing has to wait: `Ready` with the error once the deadline
    /// has passed, otherwise `Pending` with the timer set to wake the task at the deadline.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if self.handling_a_request() {
            return Poll::Pending;
        }
        let (deadline, what) = match self.waiting {
            Waiting::Headers { deadline } => (deadline, "request headers not received in time"),
            Waiting::NextRequest => (
                self.last_progress + self.idle_timeout,
                "connection idle for too long",
            ),
        };
        if self.timer.deadline() != deadline {
            self.timer.as_mut().reset(deadline);
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, what)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// After a response is written hyper waits for the socket without reading it again, so
    /// the idle timer must already be set then: it wakes the task, hyper reads, and the read
    /// fails in `poll_deadline`. (The deadline lies ahead: bytes were just sent.)
    fn set_timer_after_writing(&mut self, cx: &mut Context<'_>) {
        let _ = self.poll_deadline(cx);
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for DeadlineIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.bytes_received();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_deadline(cx).map(Err),
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for DeadlineIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.after_write(cx, result)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.after_write(cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl<T> DeadlineIo<T> {
    fn after_write(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match result {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.bytes_sent();
                }
                self.set_timer_after_writing(cx);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => self.poll_deadline(cx).map(Err),
        }
    }
}
