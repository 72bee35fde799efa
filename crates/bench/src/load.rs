//! Load generators. `run`: closed loop, N clients, each sending its next request when the
//! previous one is answered, for a fixed time after a warm-up. `run_paced`: open loop, N clients
//! each keeping to a fixed schedule, results drained by the caller as it goes (the soak).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub ops: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Sorted latencies of successful operations, in microseconds.
    pub latencies_us: Vec<u64>,
    pub first_error: Option<String>,
    /// Operations completed during the warm-up too (CPU is measured over both).
    pub all_ops: u64,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }
    pub fn max_ms(&self) -> f64 {
        self.latencies_us.last().copied().unwrap_or(0) as f64 / 1000.0
    }
}

/// Runs `op` in `clients` concurrent loops; each loop passes its client state (cheap to
/// clone: connection pools are shared handles) to every operation.
pub async fn run<C, F, Fut>(clients: Vec<C>, warmup: Duration, duration: Duration, op: F) -> Outcome
where
    C: Clone + Send + 'static,
    F: Fn(C) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    run_settled(clients, warmup, std::future::ready(()), duration, op).await
}

/// [`run`], with `settle` awaited between the warm-up and the measurement while the load
/// goes on.
pub async fn run_settled<C, F, Fut>(
    clients: Vec<C>,
    warmup: Duration,
    settle: impl Future<Output = ()>,
    duration: Duration,
    op: F,
) -> Outcome
where
    C: Clone + Send + 'static,
    F: Fn(C) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for client in clients {
        let (measuring, stop, op) = (measuring.clone(), stop.clone(), op.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Outcome::default();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let result = op(client.clone()).await;
                out.all_ops += 1;
                if !measuring.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed) {
                    continue;
                }
                match result {
                    Ok(()) => {
                        out.ops += 1;
                        out.latencies_us.push(started.elapsed().as_micros() as u64);
                    }
                    Err(e) => {
                        out.errors += 1;
                        out.first_error.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
            out
        }));
    }
    tokio::time::sleep(warmup).await;
    settle.await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let mut total = Outcome {
        elapsed,
        ..Default::default()
    };
    for t in tasks {
        let o = t.await.expect("client task");
        total.ops += o.ops;
        total.errors += o.errors;
        total.all_ops += o.all_ops;
        total.latencies_us.extend(o.latencies_us);
        if total.first_error.is_none() {
            total.first_error = o.first_error;
        }
    }
    total.latencies_us.sort_unstable();
    total
}

/// Collects results while a paced load runs; `take` drains what arrived since the last call.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Outcome>>);

impl Recorder {
    pub fn record(&self, latency: Duration, result: anyhow::Result<()>) {
        let mut o = self.0.lock().expect("recorder");
        o.all_ops += 1;
        match result {
            Ok(()) => {
                o.ops += 1;
                o.latencies_us.push(latency.as_micros() as u64);
            }
            Err(e) => {
                o.errors += 1;
                o.first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }

    /// What was recorded since the last take, over `elapsed`, latencies sorted.
    pub fn take(&self, elapsed: Duration) -> Outcome {
        let mut o = std::mem::take(&mut *self.0.lock().expect("recorder"));
        o.elapsed = elapsed;
        o.latencies_us.sort_unstable();
        o
    }
}

/// Open loop: each client sends `rate / clients.len()` requests per second on a fixed schedule
/// (staggered so the clients do not fire together; a late client catches up, so the offered
/// rate holds unless the system cannot keep up) until `stop` is set. Latency is measured from
/// the send. Returns when every client has finished its last request.
pub async fn run_paced<C, F, Fut>(
    clients: Vec<C>,
    rate: f64,
    stop: Arc<AtomicBool>,
    recorder: Recorder,
    op: F,
) where
    C: Clone + Send + 'static,
    F: Fn(C) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    if clients.is_empty() || rate <= 0.0 {
        return;
    }
    let n = clients.len();
    let period = Duration::from_secs_f64(n as f64 / rate);
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for (i, client) in clients.into_iter().enumerate() {
        let (stop, op, recorder) = (stop.clone(), op.clone(), recorder.clone());
        let first = start + period.mul_f64(i as f64 / n as f64);
        tasks.push(tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(first, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            loop {
                ticks.tick().await;
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let started = Instant::now();
                let result = op(client.clone()).await;
                recorder.record(started.elapsed(), result);
            }
        }));
    }
    for t in tasks {
        t.await.expect("client task");
    }
}
