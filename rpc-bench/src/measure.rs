//! The workloads every system runs, on any [`EchoClient`]: operations one after the
//! other (latency) and a fixed number in flight (throughput).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::stats::Summary;

/// A client of an echo server: `call` sends `echo(payload)` and checks the result; `cast`
/// sends `sink(payload)` and completes once the broker confirmed it.
pub(crate) trait EchoClient: Clone + Send + Sync + 'static {
    fn call(&self, payload: &str) -> impl Future<Output = Result<(), String>> + Send;
    fn cast(&self, payload: &str) -> impl Future<Output = Result<(), String>> + Send;
}

/// The broker every RabbitMQ benchmark talks to.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct Broker {
    /// The broker (raw lapin uses its first host).
    #[arg(
        long,
        env = "RABBIT_URL",
        default_value = "rabbit://guest:guest@127.0.0.1:5672/"
    )]
    pub(crate) url: String,
}

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

/// What one operation of a workload is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// A call of `echo(payload)`, its result checked.
    Call,
    /// A cast of `sink(payload)`, complete once the broker confirmed it.
    Cast,
}

/// A payload of `bytes` ASCII characters (what the Python side sends too).
pub(crate) fn payload(bytes: usize) -> Arc<str> {
    "x".repeat(bytes).into()
}

/// The longest one operation may take before the workload fails. Every system's own
/// waits are bounded too (oslo-rpc's by its 60 s call timeout), but the raw lapin baseline
/// awaits publishes and confirms as they come: without this a broker that stops reading
/// (a resource alarm blocks publishers) would hang the benchmark instead of failing it.
pub(crate) const OPERATION_LIMIT: Duration = Duration::from_secs(90);

async fn once<C: EchoClient>(client: &C, op: Op, payload: &str) -> Result<(), String> {
    let done = async {
        match op {
            Op::Call => client.call(payload).await,
            Op::Cast => client.cast(payload).await,
        }
    };
    match tokio::time::timeout(OPERATION_LIMIT, done).await {
        Ok(outcome) => outcome,
        Err(_) => {
            let (what, missing) = match op {
                Op::Call => ("a call", "no reply"),
                Op::Cast => ("a cast", "no broker confirm"),
            };
            Err(format!(
                "{what} of {} B not done within {} s ({missing})",
                payload.len(),
                OPERATION_LIMIT.as_secs(),
            ))
        }
    }
}

/// `count` operations one after the other.
pub(crate) async fn sequential<C: EchoClient>(
    client: &C,
    op: Op,
    payload: &str,
    count: usize,
) -> Result<Summary, String> {
    let started = Instant::now();
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let one = Instant::now();
        once(client, op, payload).await?;
        samples.push(one.elapsed());
    }
    Ok(Summary::of(samples, started.elapsed()))
}

/// `count` operations from `in_flight` tasks sharing the client, each in a loop.
pub(crate) async fn concurrent<C: EchoClient>(
    client: &C,
    op: Op,
    payload: &Arc<str>,
    count: usize,
    in_flight: usize,
) -> Result<Summary, String> {
    let in_flight = in_flight.max(1);
    let started = Instant::now();
    let tasks: Vec<_> = (0..in_flight)
        .map(|task| {
            // Spread the remainder so that exactly `count` operations run.
            let share = count / in_flight + usize::from(task < count % in_flight);
            let (client, payload) = (client.clone(), payload.clone());
            tokio::spawn(async move {
                let mut samples: Vec<Duration> = Vec::with_capacity(share);
                for _ in 0..share {
                    let one = Instant::now();
                    once(&client, op, &payload).await?;
                    samples.push(one.elapsed());
                }
                Ok::<_, String>(samples)
            })
        })
        .collect();
    let mut samples = Vec::with_capacity(count);
    for task in tasks {
        samples.extend(task.await.map_err(|e| e.to_string())??);
    }
    Ok(Summary::of(samples, started.elapsed()))
}

/// The in-process benchmarks' pair of workloads: a tenth of `calls` to warm up, `calls`
/// sequential echo calls of `bytes`, then `calls` with `in_flight` in flight.
pub(crate) async fn calls<C: EchoClient>(
    client: &C,
    bytes: usize,
    calls: usize,
    in_flight: usize,
) -> Result<(Summary, Summary), String> {
    let payload = payload(bytes);
    sequential(client, Op::Call, &payload, calls / 10).await?;
    let sequential = sequential(client, Op::Call, &payload, calls).await?;
    let concurrent = concurrent(client, Op::Call, &payload, calls, in_flight).await?;
    Ok((sequential, concurrent))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Calls echo at once; casts never get their confirm.
    #[derive(Clone)]
    struct ConfirmNeverComes;

    impl EchoClient for ConfirmNeverComes {
        async fn call(&self, _payload: &str) -> Result<(), String> {
            Ok(())
        }

        async fn cast(&self, _payload: &str) -> Result<(), String> {
            std::future::pending().await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_operation_that_never_ends_fails_the_workload_at_the_limit() {
        let payload = payload(16);
        let started = tokio::time::Instant::now();
        let error = concurrent(&ConfirmNeverComes, Op::Cast, &payload, 10, 4)
            .await
            .unwrap_err();
        assert_eq!(started.elapsed(), OPERATION_LIMIT);
        assert_eq!(
            error,
            "a cast of 16 B not done within 90 s (no broker confirm)"
        );
        let calls = concurrent(&ConfirmNeverComes, Op::Call, &payload, 10, 4)
            .await
            .unwrap();
        assert_eq!(calls.count, 10);
    }
}
