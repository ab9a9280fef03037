//! `rpc-bench notify`: notifications sent (each confirmed by the broker) and consumed per
//! second, oslo-rpc against Python oslo.messaging 18.3.1 in one run, on the same broker.
//!
//! Each side sends its count to a topic of its own with no listener yet (the messages wait
//! in the `<topic>.info` default queue), `in-flight` sends at a time (Python: as many
//! threads sharing one `Notifier`), then starts one listener and times how long it takes
//! to receive them all (a backlog drain, acknowledged one by one after handling).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use oslo_rpc::notify::{
    NotificationEndpoint, NotificationListener, Notifier, Outcome, Priority, RawNotification,
};
use oslo_rpc::transport::BoxFuture;
use oslo_rpc::{Context, Target, Transport, TransportUrl};
use rpc_runtime::transport::rabbit::RabbitDriver;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// Options of the notification benchmark.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    broker: crate::measure::Broker,
    /// Notifications oslo-rpc sends and consumes.
    #[arg(long, default_value_t = 20_000)]
    count: u64,
    /// Notifications Python sends and consumes (it is much slower).
    #[arg(long, default_value_t = 2_000)]
    python_count: u64,
    /// Sends in flight (Python: threads).
    #[arg(long, default_value_t = 8)]
    in_flight: u64,
    /// Skip the Python side.
    #[arg(long)]
    no_python: bool,
}

/// Counts what it receives and says when the target is reached.
struct Counter {
    seen: AtomicU64,
    target: u64,
    done: Arc<Notify>,
}

impl NotificationEndpoint for Counter {
    fn priorities(&self) -> &[Priority] {
        &[Priority::Info]
    }

    fn handle<'a>(&'a self, _: Priority, _: &'a RawNotification) -> BoxFuture<'a, Outcome> {
        if self.seen.fetch_add(1, Ordering::Relaxed) + 1 == self.target {
            self.done.notify_one();
        }
        Box::pin(std::future::ready(Outcome::Handled))
    }
}

pub(crate) fn run(args: Args) -> Result<(), String> {
    let runtime = crate::measure::runtime(2).map_err(|e| e.to_string())?;
    let ours = runtime.block_on(ours(&args))?;
    let python = if args.no_python {
        Value::Null
    } else {
        python(&args)?
    };
    let ratio = |field: &str| match (ours[field].as_f64(), python[field].as_f64()) {
        (Some(ours), Some(python)) if python > 0.0 => json!((ours / python * 10.0).round() / 10.0),
        _ => Value::Null,
    };
    let report = json!({
        "oslo_rpc": ours,
        "python": python,
        "ratio_sent": ratio("sent_per_s"),
        "ratio_consumed": ratio("consumed_per_s"),
        "in_flight": args.in_flight,
    });
    println!("{report}");
    eprintln!(
        "notifications/s   oslo-rpc sent {} consumed {} | python sent {} consumed {} | ratio sent {} consumed {}",
        ours["sent_per_s"],
        ours["consumed_per_s"],
        python["sent_per_s"],
        python["consumed_per_s"],
        report["ratio_sent"],
        report["ratio_consumed"]
    );
    Ok(())
}

async fn ours(args: &Args) -> Result<Value, String> {
    let url = TransportUrl::parse(&args.broker.url).map_err(|e| e.to_string())?;
    let driver = Arc::new(RabbitDriver::new(&url).map_err(|e| e.to_string())?);
    let transport = Transport::builder(&args.broker.url)
        .driver(driver.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let topic = format!("bench-notify-rs-{}", uuid::Uuid::new_v4().simple());
    let notifier = Notifier::new(transport.clone(), "bench.rs").topics([topic.clone()]);
    let payload = json!({"id": 1, "state": "active", "name": "x".repeat(16)});
    let ctx = Context::new();
    notifier
        .info(&ctx, "bench.warmup", &payload)
        .await
        .map_err(|e| e.to_string())?;

    let start = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..args.in_flight.max(1) {
        let share = args.count / args.in_flight.max(1)
            + u64::from(worker < args.count % args.in_flight.max(1));
        let (notifier, payload, ctx) = (notifier.clone(), payload.clone(), ctx.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..share {
                notifier.info(&ctx, "bench.event", &payload).await?;
            }
            Ok::<(), oslo_rpc::RpcError>(())
        }));
    }
    for task in tasks {
        task.await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    let send_seconds = start.elapsed().as_secs_f64();

    let done = Arc::new(Notify::new());
    let target = args.count + 1;
    let counter = Counter {
        seen: AtomicU64::new(0),
        target,
        done: done.clone(),
    };
    let start = Instant::now();
    let listener = NotificationListener::builder(transport.clone())
        .target(Target::topic(&topic))
        .endpoint(counter)
        .build()
        .map_err(|e| e.to_string())?
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let finished = tokio::time::timeout(Duration::from_secs(600), done.notified())
        .await
        .is_ok();
    let consume_seconds = start.elapsed().as_secs_f64();
    let _ = listener.stop().await;
    transport.shutdown().await;
    crate::raw_lapin::delete_queues(&args.broker.url, &[format!("{topic}.info")]).await;
    if !finished {
        return Err("oslo-rpc did not consume every notification within 600 s".to_owned());
    }
    Ok(json!({
        "sent": args.count,
        "send_seconds": round(send_seconds),
        "sent_per_s": (args.count as f64 / send_seconds).round(),
        "consumed": target,
        "consume_seconds": round(consume_seconds),
        "consumed_per_s": (target as f64 / consume_seconds).round(),
    }))
}

fn round(seconds: f64) -> f64 {
    (seconds * 10_000.0).round() / 10_000.0
}

fn python(args: &Args) -> Result<Value, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let setup = Command::new("bash")
        .arg(root.join("tests/interop/setup.sh"))
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("tests/interop/setup.sh: {e}"))?;
    let stdout = String::from_utf8_lossy(&setup.stdout);
    let python = stdout.lines().last().unwrap_or_default().trim().to_owned();
    if !setup.status.success() || python.is_empty() {
        return Err("tests/interop/setup.sh could not make the Python venv".to_owned());
    }
    let output = Command::new(&python)
        .arg(root.join("rpc-bench/python/bench_notify.py"))
        .args(["--url", &args.broker.url])
        .args(["--count", &args.python_count.to_string()])
        .args(["--threads", &args.in_flight.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("bench_notify.py: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rev().find(|l| l.starts_with('{'));
    match line.and_then(|l| serde_json::from_str::<Value>(l).ok()) {
        Some(result) if result["ok"] == json!(true) => Ok(result),
        other => Err(format!("bench_notify.py: {other:?} ({})", output.status)),
    }
}
