//! A closed-loop load generator: N clients, each sending its next request when the previous
//! one is answered, for a fixed time after a warm-up.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
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
