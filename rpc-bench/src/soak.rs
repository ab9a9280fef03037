//! `rpc-bench soak`: oslo-rpc under load while the broker misbehaves (issue 12, item 6).
//!
//! A server and a client, each on a transport of its own (as two processes would be),
//! against a RabbitMQ node the soak owns (see [`crate::chaos`]). `--in-flight` workers
//! (32) call `add` back to back and two workers send confirmed casts, while a loop closes
//! every connection, raises a memory alarm and restarts the broker application, in turn.
//! Queues are durable (`amqp_durable_queues`) so that a restart keeps what was confirmed.
//!
//! Exact accounting at the end, each a pass/fail check:
//! * every call returned its correct result or an error, none later than its timeout
//!   + 1 s (and none returned a wrong result);
//! * every cast the broker confirmed was processed by the server; duplicates (a message
//!   redelivered after a lost ack, or published again after a lost confirm, beyond the
//!   server's duplicate window) are counted;
//! * the runtime's task count, measured idle after a warm-up and again idle at the end,
//!   is within 10 %; so is the heap in use (built with the `heap-accounting` feature: the
//!   leak check), less the soak's own accounting; the RSS, which also holds what the
//!   allocator keeps of freed memory, within `--rss-tolerance`;
//! * no panic anywhere in the process (a panic hook counts them).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oslo_rpc::prelude::*;
use serde_json::{Value, json};

use crate::chaos::Node;

/// Options of the soak.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// How long the load runs under chaos, in seconds (after a warm-up of 10 s).
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// A RabbitMQ node of your own to soak (never the machine's broker). Without it the
    /// soak starts a private node (rabbitmq-server, free ports, a temporary directory)
    /// and removes it at the end.
    #[arg(long, requires = "node")]
    url: Option<String>,
    /// The Erlang node name of --url, for `rabbitmqctl -n`.
    #[arg(long, requires = "url")]
    node: Option<String>,
    /// Calls in flight.
    #[arg(long, default_value_t = 32)]
    in_flight: usize,
    /// Seconds between two disruptions.
    #[arg(long, default_value_t = 8)]
    chaos_every: u64,
    /// Each call's (and cast's) timeout, in seconds.
    #[arg(long, default_value_t = 5)]
    call_timeout: u64,
    /// The disruptions to cycle through, in order.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Disruption::Close, Disruption::Alarm, Disruption::Restart])]
    disruptions: Vec<Disruption>,
    /// How far (percent) the idle RSS at the end may be from the start. A short run (CI)
    /// sees the allocator's growth from its first reconnections, which a long one absorbs;
    /// a long one sees glibc keep freed pages under live blocks (RELIABILITY.md), which the
    /// heap check below tells apart from a leak.
    #[arg(long, default_value_t = 25.0)]
    rss_tolerance: f64,
    /// How far (percent) the idle heap in use at the end may be above the start, less the
    /// soak's own accounting (one byte per cast): the leak check. Needs a build with
    /// `--features heap-accounting`; without it the heap is not measured.
    #[arg(long, default_value_t = 10.0)]
    heap_tolerance: f64,
    /// oslo-rpc's connection layout, for both peers.
    #[arg(long, value_enum, default_value_t = crate::rabbit::Layout::Default)]
    connections: crate::rabbit::Layout,
    /// Also write the figures to this file, as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// What the chaos loop does to the node.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Disruption {
    /// `rabbitmqctl close_connection` on every client connection.
    Close,
    /// A memory alarm for 3 s: the broker blocks every publishing connection.
    Alarm,
    /// `stop_app`, 2 s down, `start_app`.
    Restart,
}

/// Load without disruptions before the first measurement, so that buffers and pools have
/// reached their working size.
const WARM_UP: Duration = Duration::from_secs(10);

/// Panics anywhere in the process since the soak began.
static PANICS: AtomicU64 = AtomicU64::new(0);

pub(crate) fn run(args: Args) -> Result<(), String> {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));
    let node = match (&args.url, &args.node) {
        (Some(url), Some(name)) => Node::given(url, name)?,
        _ => {
            eprintln!("soak: starting a private RabbitMQ node");
            Node::start_private()?
        }
    };
    eprintln!("soak: node {} at {}", node.name, node.url);
    // The runtime's warnings (connections lost and regained, declarations that failed)
    // go to stderr with their times, so that a failed soak explains itself.
    let directives = std::env::var("RUST_LOG").unwrap_or_else(|_| "oslo_rpc_runtime=warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::builder().parse_lossy(directives))
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = crate::measure::runtime(2).map_err(|e| e.to_string())?;
    let report = runtime.block_on(soak(&args, &node))?;
    drop(runtime);
    drop(node);
    let text = report.to_string();
    println!("{text}");
    if let Some(path) = &args.json {
        std::fs::write(
            path,
            serde_json::to_string_pretty(&report.json()).unwrap_or_default(),
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let failures = report.failures();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("soak failed: {}", failures.join("; ")))
    }
}

/// What the server saw: how often each cast arrived, by sequence number (one byte each,
/// so that the accounting itself barely moves the RSS it checks).
#[derive(Default)]
struct Received(Mutex<Vec<u8>>);

/// Sequence numbers as bits.
#[derive(Default, Clone)]
struct SeqSet(Vec<u64>);

impl SeqSet {
    fn insert(&mut self, seq: u64) {
        let (word, bit) = ((seq / 64) as usize, seq % 64);
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.0.iter().enumerate().flat_map(|(word, bits)| {
            (0..64)
                .filter(move |bit| bits & (1 << bit) != 0)
                .map(move |bit| word as u64 * 64 + bit)
        })
    }

    fn len(&self) -> usize {
        self.0.iter().map(|bits| bits.count_ones() as usize).sum()
    }
}

/// Outcomes of the calls and casts.
#[derive(Default)]
struct Tally {
    calls_ok: AtomicU64,
    calls_wrong: AtomicU64,
    calls_late: AtomicU64,
    call_errors: Mutex<BTreeMap<String, u64>>,
    slowest_error: Mutex<Duration>,
    casts_failed: AtomicU64,
    confirmed: Mutex<SeqSet>,
    next_cast: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Chaos actions done and failed.
#[derive(Default, Debug)]
struct ChaosCounts {
    connections_closed: usize,
    close_rounds: usize,
    alarms: usize,
    restarts: usize,
    failed: Vec<String>,
    /// RSS after each disruption (under load).
    rss_kib: Vec<f64>,
    /// Heap in use after each disruption (under load), when measured.
    heap_kib: Vec<f64>,
}

struct Report {
    seconds: u64,
    in_flight: usize,
    call_timeout: Duration,
    calls_ok: u64,
    calls_wrong: u64,
    calls_late: u64,
    call_errors: BTreeMap<String, u64>,
    slowest_error: Duration,
    casts_confirmed: usize,
    casts_failed: u64,
    casts_missing: usize,
    casts_duplicated: u64,
    chaos: ChaosCounts,
    tasks: (usize, usize),
    rss_kib: (f64, f64),
    /// RSS after the plain warm-up, before any disruption.
    first_rss_kib: f64,
    rss_tolerance: f64,
    /// Heap in use, idle, at the start and the end (with `heap-accounting`).
    heap_kib: Option<(f64, f64)>,
    /// How much of the heap's growth is the soak's own accounting of casts.
    accounting_growth_kib: f64,
    heap_tolerance: f64,
    panics: u64,
}

async fn soak(args: &Args, node: &Node) -> Result<Report, String> {
    let topic = format!("soak-{}", uuid::Uuid::new_v4().simple());
    // Durable queues keep confirmed casts across a restart of the broker application;
    // short heartbeats let lapin's timer of a lost connection end soon (it only notices
    // the loss when it next wakes).
    let url = format!(
        "{}?amqp_durable_queues=true&heartbeat_timeout_threshold=10&kombu_missing_consumer_retry_timeout=10",
        node.url
    );
    let received = Arc::new(Received::default());
    // A control exchange of its own: the node's `openstack` may have been left
    // non-durable by earlier tests, and oslo's durable fallback would then make the soak's
    // queues non-durable too, so a restart would lose confirmed casts.
    let exchange = format!("{topic}-control");
    let transport = || {
        let parsed = oslo_rpc::TransportUrl::parse(&url).map_err(|e| e.to_string())?;
        let driver = rpc_runtime::transport::rabbit::RabbitDriver::with_connections(
            &parsed,
            args.connections.connections(),
        )
        .map_err(|e| e.to_string())?;
        Transport::builder(&url)
            .driver(Arc::new(driver))
            .control_exchange(&exchange)
            .build()
            .map_err(|e| e.to_string())
    };
    let server_transport = transport()?;
    let server = RpcServer::builder(server_transport.clone(), Target::server(&topic, "soak"))
        .endpoint(endpoint(received.clone()))
        .build()
        .map_err(|e| e.to_string())?
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let client_transport = transport()?;
    let timeout = Duration::from_secs(args.call_timeout);
    let client = RpcClient::new(
        client_transport.clone(),
        Target::topic(&topic).with_namespace("soak"),
    )
    .timeout(timeout);
    let tally = Arc::new(Tally::default());
    let metrics = tokio::runtime::Handle::current().metrics();

    eprintln!("soak: warming up for {WARM_UP:?}");
    run_load(&client, &tally, args.in_flight, WARM_UP, None).await;
    settle().await;
    let first_rss = crate::usage::rss_kib();
    let first_tasks = metrics.num_alive_tasks();
    // One disruption of each kind before the measurement starts: a reconnection
    // allocates buffers and pools of its own (lapin's frame buffers, channels), which the
    // allocator keeps for the next one.
    eprintln!("soak: warming up with one disruption of each kind");
    let warm_up = run_load(
        &client,
        &tally,
        args.in_flight,
        Duration::from_secs(args.chaos_every + 2) * args.disruptions.len() as u32,
        Some((node, Duration::from_secs(1), &args.disruptions)),
    )
    .await
    .unwrap_or_default();
    // The accounting starts afresh after the warm-up, once its casts have arrived.
    let warm_up_confirmed = lock(&tally.confirmed).clone();
    drain_casts(&received, &warm_up_confirmed).await;
    lock(&received.0).fill(0);
    let tally = Arc::new(Tally {
        next_cast: AtomicU64::new(tally.next_cast.load(Ordering::SeqCst)),
        ..Tally::default()
    });
    let settle_until = Instant::now() + Duration::from_secs(20);
    while metrics.num_alive_tasks() > first_tasks && Instant::now() < settle_until {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    settle().await;
    let start_tasks = metrics.num_alive_tasks();
    let start_rss = crate::usage::rss_kib();
    let start_heap = crate::heap::in_use_kib();
    let start_accounting = accounting_kib(&received, &tally);
    eprintln!(
        "soak: warm-up disruptions {warm_up:?}; RSS {first_rss:.0} KiB before them, {start_rss:.0} KiB after{}",
        heap_text(start_heap)
    );

    eprintln!(
        "soak: {} calls in flight and confirmed casts for {} s, a disruption every {} s",
        args.in_flight, args.seconds, args.chaos_every
    );
    let chaos = run_load(
        &client,
        &tally,
        args.in_flight,
        Duration::from_secs(args.seconds),
        Some((
            node,
            Duration::from_secs(args.chaos_every),
            &args.disruptions,
        )),
    )
    .await
    .unwrap_or_default();

    eprintln!("soak: waiting for every confirmed cast (at most 60 s)");
    let confirmed = lock(&tally.confirmed).clone();
    let missing = drain_casts(&received, &confirmed).await;
    // Idle again: the tasks of lost connections end within a heartbeat interval.
    let settle_until = Instant::now() + Duration::from_secs(20);
    while !within_ten_percent(start_tasks as f64, metrics.num_alive_tasks() as f64)
        && Instant::now() < settle_until
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    settle().await;
    let end_tasks = metrics.num_alive_tasks();
    let end_rss = crate::usage::rss_kib();
    let end_heap = crate::heap::in_use_kib();
    let accounting_growth_kib = accounting_kib(&received, &tally) - start_accounting;

    let duplicated = lock(&received.0)
        .iter()
        .map(|&count| u64::from(count.saturating_sub(1)))
        .sum();
    let _ = server.stop().await;
    client_transport.shutdown().await;
    server_transport.shutdown().await;
    delete_queues(node, &topic);
    crate::raw_lapin::delete_entities(&node.url, &[], std::slice::from_ref(&exchange)).await;
    Ok(Report {
        seconds: args.seconds,
        in_flight: args.in_flight,
        call_timeout: timeout,
        calls_ok: tally.calls_ok.load(Ordering::SeqCst),
        calls_wrong: tally.calls_wrong.load(Ordering::SeqCst),
        calls_late: tally.calls_late.load(Ordering::SeqCst),
        call_errors: lock(&tally.call_errors).clone(),
        slowest_error: *lock(&tally.slowest_error),
        casts_confirmed: confirmed.len(),
        casts_failed: tally.casts_failed.load(Ordering::SeqCst),
        casts_missing: missing,
        casts_duplicated: duplicated,
        chaos,
        tasks: (start_tasks, end_tasks),
        rss_kib: (start_rss, end_rss),
        first_rss_kib: first_rss,
        rss_tolerance: args.rss_tolerance / 100.0,
        heap_kib: start_heap.zip(end_heap),
        accounting_growth_kib,
        heap_tolerance: args.heap_tolerance / 100.0,
        panics: PANICS.load(Ordering::SeqCst),
    })
}

/// Waits (at most 60 s) until the server has processed every confirmed cast; returns how
/// many it has not.
async fn drain_casts(received: &Received, confirmed: &SeqSet) -> usize {
    let drain_until = Instant::now() + Duration::from_secs(60);
    loop {
        let missing = {
            let seen = lock(&received.0);
            confirmed
                .iter()
                .filter(|&seq| seen.get(seq as usize).is_none_or(|&count| count == 0))
                .count()
        };
        if missing == 0 || Instant::now() > drain_until {
            return missing;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// KiB the soak's own accounting of casts holds (it grows with the casts sent).
fn accounting_kib(received: &Received, tally: &Tally) -> f64 {
    let bytes = lock(&received.0).capacity() + lock(&tally.confirmed).0.capacity() * 8;
    bytes as f64 / 1024.0
}

/// `, heap N KiB` when the heap is measured.
fn heap_text(heap_kib: Option<f64>) -> String {
    heap_kib.map_or_else(String::new, |kib| format!(", heap {kib:.0} KiB"))
}

/// Lets in-flight work finish before an idle measurement.
async fn settle() {
    tokio::time::sleep(Duration::from_secs(2)).await;
}

fn within_ten_percent(start: f64, end: f64) -> bool {
    (end - start).abs() <= start * 0.1
}

/// `add(a, b)` and the cast `record(seq)`.
fn endpoint(received: Arc<Received>) -> DynamicEndpoint {
    DynamicEndpoint::builder()
        .namespace("soak")
        .method("add", |_ctx, args| async move {
            let a = args.get("a").and_then(Value::as_i64).unwrap_or(0);
            let b = args.get("b").and_then(Value::as_i64).unwrap_or(0);
            Ok::<_, RpcError>(json!(a.wrapping_add(b)))
        })
        .method("record", move |_ctx, args| {
            let received = received.clone();
            async move {
                if let Some(seq) = args.get("seq").and_then(Value::as_u64) {
                    let mut seen = lock(&received.0);
                    let index = seq as usize;
                    if seen.len() <= index {
                        seen.resize(index + 1, 0);
                    }
                    seen[index] = seen[index].saturating_add(1);
                }
                Ok::<_, RpcError>(Value::Null)
            }
        })
        .build()
}

/// Runs the call and cast workers for `duration`, with the chaos loop when given; every
/// worker finishes its current call before this returns.
async fn run_load(
    client: &RpcClient,
    tally: &Arc<Tally>,
    in_flight: usize,
    duration: Duration,
    chaos: Option<(&Node, Duration, &[Disruption])>,
) -> Option<ChaosCounts> {
    let running = Arc::new(AtomicBool::new(true));
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..in_flight {
        let (client, tally, running) = (client.clone(), tally.clone(), running.clone());
        workers.spawn(call_worker(worker as i64, client, tally, running));
    }
    for _ in 0..2 {
        let (client, tally, running) = (client.clone(), tally.clone(), running.clone());
        workers.spawn(cast_worker(client, tally, running));
    }
    let counts = match chaos {
        Some((node, every, disruptions)) => {
            Some(chaos_loop(node, every, duration, disruptions).await)
        }
        None => {
            tokio::time::sleep(duration).await;
            None
        }
    };
    running.store(false, Ordering::SeqCst);
    while workers.join_next().await.is_some() {}
    counts
}

async fn call_worker(worker: i64, client: RpcClient, tally: Arc<Tally>, running: Arc<AtomicBool>) {
    let timeout = client.options().timeout.unwrap_or(Duration::from_secs(60));
    let mut i: i64 = 0;
    while running.load(Ordering::SeqCst) {
        i += 1;
        let a = worker * 1_000_000_000 + i;
        let started = Instant::now();
        let outcome = client
            .call(&Context::new(), "add", json!({"a": a, "b": 7}))
            .await;
        let took = started.elapsed();
        if took > timeout + Duration::from_secs(1) {
            tally.calls_late.fetch_add(1, Ordering::SeqCst);
        }
        match outcome {
            Ok(value) if value == json!(a + 7) => {
                tally.calls_ok.fetch_add(1, Ordering::SeqCst);
            }
            Ok(_) => {
                tally.calls_wrong.fetch_add(1, Ordering::SeqCst);
            }
            Err(error) => {
                *lock(&tally.call_errors).entry(kind(&error)).or_insert(0) += 1;
                {
                    let mut slowest = lock(&tally.slowest_error);
                    *slowest = (*slowest).max(took);
                }
                // A broker that is down refuses at once; do not spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn cast_worker(client: RpcClient, tally: Arc<Tally>, running: Arc<AtomicBool>) {
    while running.load(Ordering::SeqCst) {
        let seq = tally.next_cast.fetch_add(1, Ordering::SeqCst);
        match client
            .cast(&Context::new(), "record", json!({ "seq": seq }))
            .await
        {
            Ok(()) => {
                lock(&tally.confirmed).insert(seq);
            }
            Err(_) => {
                tally.casts_failed.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// The kind of a call's error, for the table.
fn kind(error: &RpcError) -> String {
    match error {
        RpcError::Timeout { call_monitor, .. } if *call_monitor => "timeout (call monitor)".into(),
        RpcError::Timeout { .. } => "timeout".into(),
        RpcError::Transport(transport) => format!("transport ({:?})", transport.kind()),
        RpcError::Remote(remote) => format!("remote {}", remote.qualified_class()),
        other => format!("other: {other}"),
    }
}

/// Closes connections, raises a memory alarm, restarts the broker application, in turn,
/// one every `every`, until `duration` has passed.
async fn chaos_loop(
    node: &Node,
    every: Duration,
    duration: Duration,
    disruptions: &[Disruption],
) -> ChaosCounts {
    let until = Instant::now() + duration;
    let mut counts = ChaosCounts::default();
    let mut round = 0usize;
    while Instant::now() + every < until {
        tokio::time::sleep(every).await;
        let Some(&action) = disruptions.get(round % disruptions.len().max(1)) else {
            tokio::time::sleep(every).await;
            continue;
        };
        round += 1;
        let node = node.unowned();
        let outcome = tokio::task::spawn_blocking(move || match action {
            Disruption::Close => node.close_connections().map(Some),
            Disruption::Alarm => node.memory_alarm(Duration::from_secs(3)).map(|()| None),
            Disruption::Restart => node.restart_app(Duration::from_secs(2)).map(|()| None),
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
        match (action, outcome) {
            (Disruption::Close, Ok(closed)) => {
                counts.close_rounds += 1;
                counts.connections_closed += closed.unwrap_or(0);
            }
            (Disruption::Alarm, Ok(_)) => counts.alarms += 1,
            (Disruption::Restart, Ok(_)) => counts.restarts += 1,
            (_, Err(error)) => counts.failed.push(error),
        }
        let rss = crate::usage::rss_kib();
        let heap = crate::heap::in_use_kib();
        counts.rss_kib.push(rss);
        counts.heap_kib.extend(heap);
        eprintln!(
            "soak: disruption {round} done ({} closed, {} alarms, {} restarts, RSS {rss:.0} KiB{})",
            counts.connections_closed,
            counts.alarms,
            counts.restarts,
            heap_text(heap)
        );
    }
    if let Some(rest) = until.checked_duration_since(Instant::now()) {
        tokio::time::sleep(rest).await;
    }
    counts
}

/// Deletes the soak's durable queues (the server deletes its fanout queue itself).
fn delete_queues(node: &Node, topic: &str) {
    // What the broker has of the soak's queues at the end: a soak that lost its server
    // shows here whether the queues were gone or only their consumers.
    match node.ctl(&[
        "list_queues",
        "--quiet",
        "--no-table-headers",
        "name",
        "durable",
        "consumers",
        "messages",
    ]) {
        Ok(queues) => {
            for line in queues.lines().filter(|line| line.contains(topic)) {
                eprintln!("soak: queue at the end (name, durable, consumers, messages): {line}");
            }
        }
        Err(error) => eprintln!("soak: {error}"),
    }
    for queue in [topic.to_owned(), format!("{topic}.soak")] {
        if let Err(error) = node.ctl(&["delete_queue", &queue]) {
            eprintln!("soak: {error}");
        }
    }
}

impl Report {
    fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        if self.calls_ok == 0 {
            failures.push("no call succeeded".to_owned());
        }
        if self.calls_wrong > 0 {
            failures.push(format!(
                "{} calls returned a wrong result",
                self.calls_wrong
            ));
        }
        if self.calls_late > 0 {
            failures.push(format!(
                "{} calls returned later than their timeout + 1 s",
                self.calls_late
            ));
        }
        if self.casts_missing > 0 {
            failures.push(format!(
                "{} confirmed casts were never processed",
                self.casts_missing
            ));
        }
        if !within_ten_percent(self.tasks.0 as f64, self.tasks.1 as f64) {
            failures.push(format!(
                "task count {} -> {}, more than 10 % apart",
                self.tasks.0, self.tasks.1
            ));
        }
        if (self.rss_kib.1 - self.rss_kib.0).abs() > self.rss_kib.0 * self.rss_tolerance {
            failures.push(format!(
                "RSS {:.0} -> {:.0} KiB, more than {:.0} % apart",
                self.rss_kib.0,
                self.rss_kib.1,
                self.rss_tolerance * 100.0
            ));
        }
        if let Some((start, end)) = self.heap_kib
            && end - self.accounting_growth_kib - start > start * self.heap_tolerance
        {
            failures.push(format!(
                "heap in use {start:.0} -> {end:.0} KiB ({:.0} KiB of it the soak's accounting), more than {:.0} % up",
                self.accounting_growth_kib,
                self.heap_tolerance * 100.0
            ));
        }
        if self.panics > 0 {
            failures.push(format!("{} panics", self.panics));
        }
        if !self.chaos.failed.is_empty() {
            failures.push(format!("disruptions failed: {:?}", self.chaos.failed));
        }
        failures
    }

    fn json(&self) -> Value {
        json!({
            "seconds": self.seconds,
            "in_flight": self.in_flight,
            "call_timeout_s": self.call_timeout.as_secs_f64(),
            "calls": {
                "ok": self.calls_ok,
                "wrong": self.calls_wrong,
                "late": self.calls_late,
                "errors": self.call_errors,
                "slowest_error_s": self.slowest_error.as_secs_f64(),
            },
            "casts": {
                "confirmed": self.casts_confirmed,
                "failed": self.casts_failed,
                "missing": self.casts_missing,
                "duplicated": self.casts_duplicated,
            },
            "chaos": {
                "close_rounds": self.chaos.close_rounds,
                "connections_closed": self.chaos.connections_closed,
                "memory_alarms": self.chaos.alarms,
                "app_restarts": self.chaos.restarts,
                "failed": self.chaos.failed,
            },
            "tasks": {"start": self.tasks.0, "end": self.tasks.1},
            "rss_kib": {
                "before_any_disruption": self.first_rss_kib,
                "start": self.rss_kib.0,
                "end": self.rss_kib.1,
                "after_each_disruption": self.chaos.rss_kib,
            },
            "heap_kib": self.heap_kib.map(|(start, end)| json!({
                "start": start,
                "end": end,
                "accounting_growth": self.accounting_growth_kib,
                "after_each_disruption": self.chaos.heap_kib,
            })),
            "panics": self.panics,
            "failures": self.failures(),
        })
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "soak: {} s, {} calls in flight, timeout {:?}",
            self.seconds, self.in_flight, self.call_timeout
        )?;
        writeln!(
            f,
            "calls: {} ok, {} wrong, {} later than timeout + 1 s; errors {:?} (slowest {:.2} s)",
            self.calls_ok,
            self.calls_wrong,
            self.calls_late,
            self.call_errors,
            self.slowest_error.as_secs_f64()
        )?;
        writeln!(
            f,
            "casts: {} confirmed, {} not confirmed, {} confirmed but never processed, {} duplicates",
            self.casts_confirmed, self.casts_failed, self.casts_missing, self.casts_duplicated
        )?;
        writeln!(
            f,
            "disruptions: {} rounds closing {} connections, {} memory alarms, {} app restarts, {} failed",
            self.chaos.close_rounds,
            self.chaos.connections_closed,
            self.chaos.alarms,
            self.chaos.restarts,
            self.chaos.failed.len()
        )?;
        writeln!(
            f,
            "tasks {} -> {}, RSS {:.0} -> {:.0} KiB ({:.0} KiB before the warm-up disruptions), panics {}",
            self.tasks.0,
            self.tasks.1,
            self.rss_kib.0,
            self.rss_kib.1,
            self.first_rss_kib,
            self.panics
        )?;
        match self.heap_kib {
            Some((start, end)) => writeln!(
                f,
                "heap in use {start:.0} -> {end:.0} KiB ({:.0} KiB of the growth the soak's accounting of casts)",
                self.accounting_growth_kib
            )?,
            None => writeln!(
                f,
                "heap in use: not measured (build rpc-bench with --features heap-accounting)"
            )?,
        }
        let failures = self.failures();
        if failures.is_empty() {
            write!(f, "PASS")
        } else {
            write!(f, "FAIL: {}", failures.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_sets_hold_what_was_inserted() {
        let mut set = SeqSet::default();
        for seq in [0, 63, 64, 1000, 5, 64] {
            set.insert(seq);
        }
        assert_eq!(set.iter().collect::<Vec<_>>(), [0, 5, 63, 64, 1000]);
        assert_eq!(set.len(), 5);
    }

    #[test]
    fn ten_percent_either_way() {
        assert!(within_ten_percent(100.0, 110.0));
        assert!(within_ten_percent(100.0, 90.0));
        assert!(!within_ten_percent(100.0, 111.0));
        assert!(!within_ten_percent(15.0, 17.0));
    }
}
