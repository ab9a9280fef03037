//! The two workloads every transport benchmark runs: sequential calls (latency) and calls
//! with a fixed number in flight (throughput), on a runtime built from the options.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::stats::Summary;

/// A tokio runtime with `workers` worker threads (1: a current-thread runtime).
pub(crate) fn runtime(workers: usize) -> std::io::Result<tokio::runtime::Runtime> {
    if workers <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
    }
}

/// Runs `call` `calls / 10` times to warm up, then `calls` times one after the other.
pub(crate) async fn sequential<F, Fut, E>(calls: usize, call: F) -> Result<Summary, E>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    for _ in 0..calls / 10 {
        call().await?;
    }
    let started = Instant::now();
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let one = Instant::now();
        call().await?;
        samples.push(one.elapsed());
    }
    Ok(Summary::of(samples, started.elapsed()))
}

/// Runs `calls` calls from `in_flight` tasks, each calling in a loop.
pub(crate) async fn concurrent<F, Fut, E>(
    calls: usize,
    in_flight: usize,
    call: F,
) -> Result<Summary, E>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Send + 'static + From<String>,
{
    let call = Arc::new(call);
    let per_task = (calls / in_flight.max(1)).max(1);
    let started = Instant::now();
    let tasks: Vec<_> = (0..in_flight.max(1))
        .map(|_| {
            let call = call.clone();
            tokio::spawn(async move {
                let mut samples: Vec<Duration> = Vec::with_capacity(per_task);
                for _ in 0..per_task {
                    let one = Instant::now();
                    call().await?;
                    samples.push(one.elapsed());
                }
                Ok::<_, E>(samples)
            })
        })
        .collect();
    let mut samples = Vec::with_capacity(per_task * in_flight);
    for task in tasks {
        samples.extend(task.await.map_err(|e| E::from(e.to_string()))??);
    }
    Ok(Summary::of(samples, started.elapsed()))
}

/// Prints the two workloads as a table.
pub(crate) fn print(title: &str, in_flight: usize, sequential: &Summary, concurrent: &Summary) {
    println!("{title}");
    println!(
        "{:<22} {:>10} {:>10} {:>10} {:>12}",
        "workload", "p50 µs", "p90 µs", "p99 µs", "calls/s"
    );
    for (name, s) in [
        ("sequential", sequential),
        (&*format!("{in_flight} in flight"), concurrent),
    ] {
        println!(
            "{:<22} {:>10.1} {:>10.1} {:>10.1} {:>12.0}",
            name, s.p50_us, s.p90_us, s.p99_us, s.per_second
        );
    }
}
