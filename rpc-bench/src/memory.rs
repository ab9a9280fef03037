//! Memory-transport round trips: a 16-byte echo call through encode, the in-process
//! broker, decode, dispatch, reply encode and decode — everything but a network.

use std::time::{Duration, Instant};

use oslo_rpc::prelude::*;
use serde_json::{Value, json};

use crate::stats::Summary;

/// Options of the memory benchmark.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Sequential calls to measure (after a warm-up of a tenth as many).
    #[arg(long, default_value_t = 50_000)]
    calls: usize,
    /// Calls in flight for the throughput run.
    #[arg(long, default_value_t = 32)]
    in_flight: usize,
    /// Runtime worker threads (1 = current-thread runtime).
    #[arg(long, default_value_t = 2)]
    workers: usize,
}

pub(crate) fn run(args: Args) -> Result<(), RpcError> {
    let runtime = if args.workers <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.workers)
            .enable_all()
            .build()
    }
    .map_err(|e| RpcError::transport(format!("runtime: {e}")))?;
    runtime.block_on(async move {
        let transport = Transport::connect("memory://bench").await?;
        let echo = DynamicEndpoint::builder()
            .method("echo", |_ctx, mut args| async move {
                Ok::<_, RpcError>(args.remove("payload").unwrap_or_default())
            })
            .build();
        let server = RpcServer::builder(transport.clone(), Target::server("bench", "b1"))
            .endpoint(echo)
            .build()?
            .start()
            .await?;
        let client = RpcClient::new(transport, Target::topic("bench"));
        let ctx = Context::new().with_request_id("req-bench");
        let payload = json!({"payload": "0123456789abcdef"});

        for _ in 0..args.calls / 10 {
            timed_call(&client, &ctx, &payload).await?;
        }
        let started = Instant::now();
        let mut samples = Vec::with_capacity(args.calls);
        for _ in 0..args.calls {
            samples.push(timed_call(&client, &ctx, &payload).await?);
        }
        let sequential = Summary::of(samples, started.elapsed());

        let per_task = (args.calls / args.in_flight).max(1);
        let started = Instant::now();
        let tasks: Vec<_> = (0..args.in_flight)
            .map(|_| {
                let (client, ctx, payload) = (client.clone(), ctx.clone(), payload.clone());
                tokio::spawn(async move {
                    let mut samples = Vec::with_capacity(per_task);
                    for _ in 0..per_task {
                        samples.push(timed_call(&client, &ctx, &payload).await?);
                    }
                    Ok::<_, RpcError>(samples)
                })
            })
            .collect();
        let mut samples = Vec::with_capacity(per_task * args.in_flight);
        for task in tasks {
            samples.extend(
                task.await
                    .map_err(|e| RpcError::transport(e.to_string()))??,
            );
        }
        let concurrent = Summary::of(samples, started.elapsed());
        server.stop().await?;

        println!(
            "memory transport, 16 B echo, {} runtime worker(s)",
            args.workers
        );
        println!(
            "{:<22} {:>10} {:>10} {:>10} {:>12}",
            "workload", "p50 µs", "p90 µs", "p99 µs", "calls/s"
        );
        for (name, s) in [
            ("sequential", &sequential),
            (&*format!("{} in flight", args.in_flight), &concurrent),
        ] {
            println!(
                "{:<22} {:>10.1} {:>10.1} {:>10.1} {:>12.0}",
                name, s.p50_us, s.p90_us, s.p99_us, s.per_second
            );
        }
        Ok(())
    })
}

async fn timed_call(
    client: &RpcClient,
    ctx: &Context,
    payload: &Value,
) -> Result<Duration, RpcError> {
    let started = Instant::now();
    client.call(ctx, "echo", payload.clone()).await?;
    Ok(started.elapsed())
}
