//! The benchmark's Rust peers, each in a process of its own so that CPU time and peak RSS
//! are per process: `peer-server` (oslo-rpc or raw lapin echo server) and `peer-client`
//! (one workload against it). `rpc-bench suite` drives them over their standard streams:
//!
//! * server: prints `READY`; then answers each line on stdin: `reset` (zero the counters,
//!   take a CPU baseline) with `ok`, `stats` with one JSON object; stops and deletes its
//!   queues at EOF.
//! * client: warms up, prints `WARM <casts sent during warm-up>`, waits for `GO` on
//!   stdin, runs the measured part and prints one JSON line (fields as the Python client's,
//!   see `rpc-bench/python/README.md`).

use std::future::Future;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use serde_json::{Value, json};

use crate::measure::{self, EchoClient, Op};
use crate::rabbit::{Layout, OursClient, OursServer};
use crate::raw_lapin::{RawClient, RawLayout, RawServer, RawTarget};
use crate::usage;

/// What an echo server counts since its last reset.
pub(crate) struct ServerCounters {
    echoed: AtomicU64,
    processed: AtomicU64,
    /// Nanoseconds from `epoch()` to the reset and to the last cast processed.
    reset_at: AtomicU64,
    last_processed_at: AtomicU64,
    cpu_at_reset: Mutex<f64>,
}

impl Default for ServerCounters {
    fn default() -> Self {
        ServerCounters {
            echoed: AtomicU64::new(0),
            processed: AtomicU64::new(0),
            reset_at: AtomicU64::new(nanos_since_epoch()),
            last_processed_at: AtomicU64::new(0),
            cpu_at_reset: Mutex::new(usage::process_cpu_seconds()),
        }
    }
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn nanos_since_epoch() -> u64 {
    u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(u64::MAX)
}

impl ServerCounters {
    pub(crate) fn echoed(&self) {
        self.echoed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn processed(&self) {
        self.processed.fetch_add(1, Ordering::Relaxed);
        self.last_processed_at
            .fetch_max(nanos_since_epoch(), Ordering::Relaxed);
    }

    fn reset(&self) {
        *self.cpu_at_reset.lock().unwrap() = usage::process_cpu_seconds();
        self.echoed.store(0, Ordering::Relaxed);
        self.processed.store(0, Ordering::Relaxed);
        self.last_processed_at.store(0, Ordering::Relaxed);
        self.reset_at.store(nanos_since_epoch(), Ordering::Relaxed);
    }

    /// The same fields as the Python server's `stats()`, CPU summed.
    fn stats(&self) -> Value {
        let reset_at = self.reset_at.load(Ordering::Relaxed);
        let last = self.last_processed_at.load(Ordering::Relaxed);
        let seconds = |from: u64, to: u64| to.saturating_sub(from) as f64 / 1e9;
        json!({
            "processed": self.processed.load(Ordering::Relaxed),
            "echoed": self.echoed.load(Ordering::Relaxed),
            "cpu_s": usage::process_cpu_seconds() - *self.cpu_at_reset.lock().unwrap(),
            "max_rss_kb": usage::peak_rss_kib(),
            "since_reset_s": seconds(reset_at, nanos_since_epoch()),
            "last_processed_s": (last > reset_at).then(|| seconds(reset_at, last)),
        })
    }
}

/// Which system a peer runs.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum System {
    /// oslo-rpc.
    Ours,
    /// The minimal lapin request/reply loop.
    Raw,
}

impl System {
    /// The name the suite's tables and JSON use.
    pub(crate) fn label(self) -> &'static str {
        match self {
            System::Ours => "oslo-rpc",
            System::Raw => "raw-lapin",
        }
    }
}

/// What both peers need to find each other.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct PeerOptions {
    /// The system to run.
    #[arg(long, value_enum)]
    pub(crate) system: System,
    /// The topic (oslo-rpc) or request queue (raw lapin); unique per run.
    #[arg(long)]
    pub(crate) name: String,
    #[command(flatten)]
    pub(crate) broker: crate::measure::Broker,
    /// Runtime worker threads (1 = current-thread runtime).
    #[arg(long, default_value_t = 2)]
    pub(crate) workers: usize,
    /// oslo-rpc's connection layout.
    #[arg(long, value_enum, default_value_t = Layout::Default)]
    pub(crate) connections: Layout,
    #[command(flatten)]
    pub(crate) raw: RawLayout,
}

/// The workloads of the suite.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Workload {
    /// Sequential echo calls.
    Seq,
    /// Echo calls from `--concurrency` tasks sharing one client.
    Inflight,
    /// Confirmed casts from one client, `--concurrency` unconfirmed at a time.
    Casts,
    /// Sequential echo calls of a large payload.
    Echo,
}

impl Workload {
    /// The name the Python client uses for it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::Seq => "seq",
            Workload::Inflight => "inflight",
            Workload::Casts => "casts",
            Workload::Echo => "echo",
        }
    }

    pub(crate) fn default_payload_bytes(self) -> usize {
        match self {
            Workload::Echo => 65_536,
            _ => 16,
        }
    }
}

/// Options of `peer-server`.
#[derive(clap::Args)]
pub(crate) struct ServerArgs {
    #[command(flatten)]
    peer: PeerOptions,
}

/// Options of `peer-client`.
#[derive(clap::Args)]
pub(crate) struct ClientArgs {
    #[command(flatten)]
    peer: PeerOptions,
    /// The workload.
    #[arg(long, value_enum)]
    workload: Workload,
    /// Operations to measure.
    #[arg(long)]
    count: usize,
    /// Operations in flight (inflight and casts).
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Payload size (default: 16, 65536 for echo).
    #[arg(long)]
    payload_bytes: Option<usize>,
    /// Unmeasured echo calls first (at least 2 × concurrency); casts also send as many
    /// casts.
    #[arg(long, default_value_t = 200)]
    warmup: usize,
}

impl ClientArgs {
    /// The payload size: as given, else the workload's.
    fn payload_bytes(&self) -> usize {
        self.payload_bytes
            .unwrap_or(self.workload.default_payload_bytes())
    }
}

fn stdin_lines() -> impl Iterator<Item = String> {
    std::io::stdin().lock().lines().map_while(Result::ok)
}

fn say(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

enum Started {
    Ours(OursServer, oslo_rpc::Transport),
    Raw(RawServer),
}

pub(crate) fn serve(args: ServerArgs) -> Result<(), String> {
    let peer = args.peer;
    let runtime = measure::runtime(peer.workers).map_err(|e| e.to_string())?;
    let counters = Arc::new(ServerCounters::default());
    runtime.block_on(async {
        let started = match peer.system {
            System::Ours => {
                let transport =
                    crate::rabbit::transport(&peer.broker.url, peer.connections).await?;
                let server =
                    OursServer::start(transport.clone(), &peer.name, counters.clone()).await?;
                Started::Ours(server, transport)
            }
            System::Raw => {
                let target = RawTarget::of(&peer.broker.url)?;
                let server =
                    RawServer::start(&target, &peer.name, peer.raw, counters.clone()).await?;
                Started::Raw(server)
            }
        };
        say("READY");
        // A blocking thread answers the driver while the runtime serves requests (on its
        // workers, or on this thread with a current-thread runtime).
        let answering = counters.clone();
        let answered = tokio::task::spawn_blocking(move || answer_driver(&answering)).await;
        if let Err(error) = answered {
            eprintln!("rpc-bench peer: answering the driver: {error}");
        }
        match started {
            // A stop that outlasts the bound is reported by `bounded_cleanup` and does not
            // fail the peer: its figures were already delivered.
            Started::Ours(server, transport) => bounded_cleanup(async {
                let stopped = server.stop(&peer.broker.url).await;
                transport.shutdown().await;
                stopped
            })
            .await
            .unwrap_or(Ok(())),
            Started::Raw(server) => {
                bounded_cleanup(server.stop(&peer.broker.url)).await;
                Ok(())
            }
        }
    })
}

/// Answers the driver's lines on stdin until EOF.
fn answer_driver(counters: &ServerCounters) {
    for line in stdin_lines() {
        match line.trim() {
            "reset" => {
                counters.reset();
                say("ok");
            }
            "stats" => say(&counters.stats().to_string()),
            other => say(&json!({ "error": format!("unknown command {other:?}") }).to_string()),
        }
    }
}

pub(crate) fn client(args: ClientArgs) -> Result<(), String> {
    let peer = args.peer.clone();
    let runtime = measure::runtime(peer.workers).map_err(|e| e.to_string())?;
    let mut line = json!({
        "ok": false,
        "system": peer.system.label(),
        "workload": args.workload.name(),
        "count": args.count,
        "payload_bytes": args.payload_bytes(),
        "concurrency": args.concurrency,
    });
    // The result line goes out as soon as the workload ends: cleaning up (closing
    // connections, deleting the reply queue) is bounded and reported apart, so that a
    // broker slow to close cannot hold back figures already measured.
    let ok = runtime.block_on(async {
        match peer.system {
            System::Ours => {
                let transport =
                    match crate::rabbit::transport(&peer.broker.url, peer.connections).await {
                        Ok(transport) => transport,
                        Err(error) => return report(&mut line, Err(error)),
                    };
                let client = OursClient::new(transport.clone(), &peer.name);
                let ok = report(&mut line, drive(&client, &args).await);
                bounded_cleanup(transport.shutdown()).await;
                ok
            }
            System::Raw => {
                let connected = async {
                    let target = RawTarget::of(&peer.broker.url)?;
                    RawClient::connect(&target, &peer.name, peer.raw).await
                };
                let client = match connected.await {
                    Ok(client) => client,
                    Err(error) => return report(&mut line, Err(error)),
                };
                let ok = report(&mut line, drive(&client, &args).await);
                bounded_cleanup(client.close(&peer.broker.url)).await;
                ok
            }
        }
    });
    if ok {
        Ok(())
    } else {
        Err("workload failed".into())
    }
}

/// Completes `line` with the workload's figures or error and prints it; true if it ran.
fn report(line: &mut Value, outcome: Result<Vec<(&'static str, Value)>, String>) -> bool {
    let ok = outcome.is_ok();
    match outcome {
        Ok(figures) => {
            for (key, value) in figures {
                line[key] = value;
            }
            line["ok"] = json!(true);
        }
        Err(error) => line["error"] = json!(error),
    }
    say(&line.to_string());
    ok
}

/// How long a peer waits for its connections to close and its queues to go.
const CLEANUP_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Runs a peer's cleanup for at most [`CLEANUP_LIMIT`] and gives its outcome; a stuck one
/// is reported on stderr and left to the process exit (the broker drops the connections
/// and the queues expire).
async fn bounded_cleanup<T>(cleanup: impl Future<Output = T>) -> Option<T> {
    let outcome = tokio::time::timeout(CLEANUP_LIMIT, cleanup).await.ok();
    if outcome.is_none() {
        eprintln!(
            "rpc-bench peer: cleanup not done within {} s; leaving it to the process exit",
            CLEANUP_LIMIT.as_secs()
        );
    }
    outcome
}

/// Warms up, waits for the driver's `GO`, measures.
async fn drive<C: EchoClient>(
    client: &C,
    args: &ClientArgs,
) -> Result<Vec<(&'static str, Value)>, String> {
    let payload = measure::payload(args.payload_bytes());
    let concurrency = match args.workload {
        Workload::Inflight | Workload::Casts => args.concurrency.max(1),
        Workload::Seq | Workload::Echo => 1,
    };
    let warmup = args.warmup.max(2 * concurrency);
    let small = measure::payload(16);
    measure::concurrent(client, Op::Call, &small, warmup, concurrency).await?;
    let warm_casts = if args.workload == Workload::Casts {
        measure::concurrent(client, Op::Cast, &payload, warmup, concurrency).await?;
        warmup
    } else {
        0
    };
    say(&format!("WARM {warm_casts}"));
    let go = tokio::task::spawn_blocking(|| stdin_lines().next())
        .await
        .map_err(|e| e.to_string())?;
    if go.as_deref().map(str::trim) != Some("GO") {
        return Err(format!("expected GO from the driver, got {go:?}"));
    }
    let cpu_before = usage::process_cpu_seconds();
    let (op, summary) = match args.workload {
        Workload::Seq | Workload::Echo => (
            Op::Call,
            measure::sequential(client, Op::Call, &payload, args.count).await?,
        ),
        Workload::Inflight => (
            Op::Call,
            measure::concurrent(client, Op::Call, &payload, args.count, concurrency).await?,
        ),
        Workload::Casts => (
            Op::Cast,
            measure::concurrent(client, Op::Cast, &payload, args.count, concurrency).await?,
        ),
    };
    let client_cpu = usage::process_cpu_seconds() - cpu_before;
    let rate = match op {
        Op::Call => "calls_per_s",
        Op::Cast => "sent_per_s",
    };
    Ok(vec![
        ("elapsed_s", json!(summary.seconds)),
        (rate, json!(summary.per_second)),
        ("p50_us", json!(summary.p50_us)),
        ("p90_us", json!(summary.p90_us)),
        ("p99_us", json!(summary.p99_us)),
        ("client_cpu_s", json!(client_cpu)),
        ("client_max_rss_kb", json!(usage::peak_rss_kib())),
        ("warmup", json!(warmup)),
    ])
}
