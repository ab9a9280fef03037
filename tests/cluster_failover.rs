//! Failover on the 3-node test cluster (issue 11, item 8), configured as a production
//! deployment (quorum and transient quorum queues, stream fanout, the queue manager,
//! prefetch 1; `support::production::PRODUCTION`), so every queue is replicated on the
//! three nodes and survives the loss of one.
//!
//! Under 32 calls in flight, the node holding the server's consuming connection is stopped
//! (`rabbitmqctl -n NODE stop_app`) and started again, then the node holding the client's
//! reply consumer. No call may outlive its timeout by more than 1 s, none may fail
//! otherwise than by timing out, and calls must flow again within 3 s of each stop. The same
//! is measured with Python oslo.messaging 18.3.1 peers (a server and a 32-thread client) in
//! the same run, and the figures are printed side by side. A fanout consumer on the stream
//! resumes across a node stop without duplicates or gaps.
//!
//! The tests stop nodes of this checkout's cluster (`scripts/test-cluster.sh`), never the
//! machine's broker; they run one at a time (a shared lock), and a guard starts every
//! stopped node again when dropped, panics included. This binary is separate so that no
//! other test runs on the cluster while a node is down.

mod python;
mod support;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oslo_rpc::ServerHandle;
use oslo_rpc::prelude::*;
use rpc_runtime::transport::rabbit::RabbitDriver;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use support::cluster::{AppGuard, ClusterCleanup, ClusterNode, DeleteOnDropAt, TestCluster};
use support::production::{Deployment, PRODUCTION};
use support::{Recorder, calc_endpoint, unique};

/// One test at a time: they stop nodes of the one cluster.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Calls in flight.
const IN_FLIGHT: usize = 32;
/// Each call's timeout.
const TIMEOUT: Duration = Duration::from_secs(5);
/// A call may end this much after its timeout (scheduling on a loaded machine).
const SLACK: Duration = Duration::from_secs(1);
/// Calls must flow again within this time of a stop.
const RECOVERY: Duration = Duration::from_secs(3);

/// The cluster, with the RabbitMQ application of every node running: a run killed while
/// a node's app was stopped leaves the node up with its app down, which
/// `scripts/test-cluster.sh start` would wait for in vain.
fn ready_cluster() -> &'static TestCluster {
    // Once per process: the tests' guards start every node they stop.
    static REVIVED: std::sync::Once = std::sync::Once::new();
    REVIVED.call_once(|| support::cluster::start_stopped_apps(false));
    support::cluster::cluster()
}

/// Logs the driver's reconnections to stderr when `FAILOVER_LOG` is set.
fn log_if_asked() {
    if std::env::var_os("FAILOVER_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(std::io::stderr)
            .try_init();
    }
}

/// One call as the caller saw it.
#[derive(Debug, Clone)]
struct Call {
    started: Instant,
    ended: Instant,
    ok: bool,
    timed_out: bool,
    error: Option<String>,
}

type Calls = Arc<Mutex<Vec<Call>>>;

fn snapshot(calls: &Calls) -> Vec<Call> {
    calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Polls (every 50 ms, at most `limit`) until a call that started at or after `since`
/// succeeded; when it ended.
async fn success_after(calls: &Calls, since: Instant, limit: Duration) -> Option<Instant> {
    let began = Instant::now();
    loop {
        let found = calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|call| call.ok && call.started >= since)
            .map(|call| call.ended)
            .min();
        if found.is_some() {
            return found;
        }
        if began.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A node stop: which node, for whose connection, and when.
#[derive(Debug, Clone)]
struct Stop {
    whose: &'static str,
    node: String,
    /// `stop_app` was asked.
    asked: Instant,
    /// `stop_app` returned: the node is down.
    down: Instant,
    /// `start_app` and `await_startup` returned.
    back: Instant,
}

/// How a peer pair fared across one stop.
#[derive(Debug, Clone)]
struct Recovery {
    whose: &'static str,
    node: String,
    /// From the node being down to the first success of a call started after that.
    first_success: Option<Duration>,
    /// The longest time without any call succeeding, around the stop (from the last
    /// success before the stop was asked to the first after, when the flow stopped).
    longest_pause: Duration,
}

/// The node holding the connection whose client properties contain one of `needles` and
/// which consumes (has a channel with a consumer).
fn consuming_node(
    cluster: &'static TestCluster,
    needles: &[String],
) -> Result<&'static ClusterNode, String> {
    // A listing fails as a whole when a connection closes meanwhile: an error here, and
    // the caller tries again.
    let list = |what: &str, fields: &[&str]| -> Result<Vec<Vec<String>>, String> {
        let mut args = vec![what, "--quiet", "--no-table-headers"];
        args.extend_from_slice(fields);
        let text = cluster.try_ctl(&cluster.nodes[0], Duration::from_secs(60), &args)?;
        Ok(text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| line.split('\t').map(str::to_owned).collect())
            .collect())
    };
    let connections = list("list_connections", &["pid", "port", "client_properties"])?;
    let channels = list("list_channels", &["connection", "consumer_count"])?;
    let ours: Vec<(String, u16)> = connections
        .iter()
        .filter(|row| row.len() >= 3 && needles.iter().any(|needle| row[2].contains(needle)))
        .map(|row| (row[0].clone(), row[1].trim().parse().unwrap_or(0)))
        .collect();
    let consuming = ours.iter().find(|(pid, _)| {
        channels
            .iter()
            .any(|row| row.len() >= 2 && &row[0] == pid && row[1].trim() != "0")
    });
    let (_, port) = consuming
        .ok_or_else(|| format!("no consuming connection among {ours:?} (needles {needles:?})"))?;
    cluster
        .node_on_port(*port)
        .ok_or_else(|| format!("no node listens on port {port}"))
}

/// [`consuming_node`], retried for up to 20 s (a connection may be re-establishing).
async fn find_consuming_node(
    cluster: &'static TestCluster,
    needles: impl Fn() -> Vec<String>,
) -> &'static ClusterNode {
    let began = Instant::now();
    loop {
        let wanted = needles();
        let found = tokio::task::spawn_blocking(move || consuming_node(cluster, &wanted))
            .await
            .expect("listing task");
        match found {
            Ok(node) => return node,
            Err(error) if began.elapsed() > Duration::from_secs(20) => {
                panic!("no consuming connection found within 20 s: {error}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}

/// `stop_app` on `node` off the runtime's threads; the guard starts it again if dropped.
async fn stop_node(cluster: &'static TestCluster, node: &'static ClusterNode) -> AppGuard {
    tokio::task::spawn_blocking(move || cluster.stop_app(node))
        .await
        .expect("stop_app task")
}

/// `start_app` and `await_startup` off the runtime's threads.
async fn start_node(mut guard: AppGuard) -> Duration {
    tokio::task::spawn_blocking(move || guard.start())
        .await
        .expect("start_app task")
}

/// While `calls` are recorded by a running load: stops the node of the server's consuming
/// connection and starts it again, then the same for the client's (`whose` says which, in
/// order). `server` and `client` give the strings that identify each peer's connections in
/// the broker's client properties.
async fn stop_and_start_nodes(
    cluster: &'static TestCluster,
    calls: &Calls,
    whose: &[&'static str],
    server: impl Fn() -> Vec<String>,
    client: impl Fn() -> Vec<String>,
) -> Vec<Stop> {
    let mut stops = Vec::new();
    for &whose in whose {
        let node = if whose == "server" {
            find_consuming_node(cluster, &server).await
        } else {
            find_consuming_node(cluster, &client).await
        };
        let asked = Instant::now();
        let guard = stop_node(cluster, node).await;
        let down = Instant::now();
        eprintln!(
            "stopped {} (the {whose}'s node) in {:.2} s",
            node.name,
            (down - asked).as_secs_f64()
        );
        // The load runs on the two other nodes until it flows again (and on while the node
        // starts, which takes seconds).
        let flowing = success_after(calls, down, Duration::from_secs(20)).await;
        if flowing.is_none() {
            eprintln!("no call succeeded within 20 s of stopping {}", node.name);
        }
        let took = start_node(guard).await;
        let back = Instant::now();
        eprintln!("started {} again in {:.2} s", node.name, took.as_secs_f64());
        stops.push(Stop {
            whose,
            node: node.name.clone(),
            asked,
            down,
            back,
        });
        // Calls go on after the node's return.
        if success_after(calls, back, Duration::from_secs(20))
            .await
            .is_none()
        {
            eprintln!("no call succeeded within 20 s of starting {}", node.name);
        }
    }
    stops
}

/// The figures of one run: per stop, and over every call.
#[derive(Debug)]
struct Figures {
    peers: &'static str,
    calls: usize,
    timeouts: usize,
    /// Failures other than timeouts.
    failures: Vec<String>,
    /// Calls that outlived their timeout by more than [`SLACK`].
    hung: usize,
    longest_call: Duration,
    recoveries: Vec<Recovery>,
}

fn analyse(peers: &'static str, calls: &[Call], stops: &[Stop]) -> Figures {
    let mut ends: Vec<Instant> = calls.iter().filter(|c| c.ok).map(|c| c.ended).collect();
    ends.sort();
    let recoveries = stops
        .iter()
        .map(|stop| {
            let first_success = calls
                .iter()
                .filter(|c| c.ok && c.started >= stop.down)
                .map(|c| c.ended - stop.down)
                .min();
            // The last success before the stop was asked, and the longest pause between
            // successes from then until the node is back.
            let from = ends
                .iter()
                .rev()
                .find(|end| **end <= stop.asked)
                .copied()
                .unwrap_or(stop.asked);
            let mut longest_pause = Duration::ZERO;
            let mut previous = from;
            for end in ends.iter().filter(|end| **end > from && **end <= stop.back) {
                longest_pause = longest_pause.max(*end - previous);
                previous = *end;
            }
            if previous < stop.back && !ends.iter().any(|end| *end > previous && *end <= stop.back)
            {
                // Nothing succeeded after `previous` while the node was away.
                let next = ends.iter().find(|end| **end > stop.back).copied();
                longest_pause = longest_pause.max(next.unwrap_or(stop.back) - previous);
            }
            Recovery {
                whose: stop.whose,
                node: stop.node.clone(),
                first_success,
                longest_pause,
            }
        })
        .collect();
    Figures {
        peers,
        calls: calls.len(),
        timeouts: calls.iter().filter(|c| c.timed_out).count(),
        failures: calls
            .iter()
            .filter(|c| !c.ok && !c.timed_out)
            .map(|c| c.error.clone().unwrap_or_default())
            .collect(),
        hung: calls
            .iter()
            .filter(|c| c.ended - c.started > TIMEOUT + SLACK)
            .count(),
        longest_call: calls
            .iter()
            .map(|c| c.ended - c.started)
            .max()
            .unwrap_or_default(),
        recoveries,
    }
}

fn print(figures: &Figures) {
    let mut distinct = figures.failures.clone();
    distinct.sort();
    distinct.dedup();
    eprintln!(
        "{}: {} calls, {} timed out, {} failed otherwise {:?}, {} past timeout + 1 s, longest \
         call {:.2} s",
        figures.peers,
        figures.calls,
        figures.timeouts,
        figures.failures.len(),
        distinct.iter().take(3).collect::<Vec<_>>(),
        figures.hung,
        figures.longest_call.as_secs_f64()
    );
    for recovery in &figures.recoveries {
        eprintln!(
            "{}: stop of the {}'s node {}: first success {} after the node was down, \
             longest pause without a success {:.2} s",
            figures.peers,
            recovery.whose,
            recovery.node,
            recovery
                .first_success
                .map(|d| format!("{:.2} s", d.as_secs_f64()))
                .unwrap_or_else(|| "never".into()),
            recovery.longest_pause.as_secs_f64()
        );
    }
}

/// Needles matching the client properties of a Rust driver's connections now.
fn rust_needles(driver: &RabbitDriver) -> Vec<String> {
    driver
        .connection_names()
        .into_iter()
        .map(|name| format!("{{\"connection_name\",\"{name}\"}}"))
        .collect()
}

/// Needles matching the connections of a Python process (oslo names them
/// `<program>:<pid>:<uuid>`).
fn python_needles(program: &str, pid: u32) -> Vec<String> {
    vec![format!("{{\"connection_name\",\"{program}:{pid}:")]
}

/// Deletes, when dropped, everything a test's deployment left on the cluster: the queues
/// of its topic and process name (durable quorum and stream queues outlive connections),
/// the topic's fanout exchange and the control exchange.
fn leftovers(cluster: &'static TestCluster, deployment: &Deployment, topic: &str) -> Leftovers {
    Leftovers {
        cluster,
        topic: topic.to_owned(),
        processname: deployment.processname.clone(),
        exchange: deployment.exchange.clone(),
    }
}

struct Leftovers {
    cluster: &'static TestCluster,
    topic: String,
    processname: String,
    exchange: String,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        let via = &self.cluster.nodes[0];
        let listing = self.cluster.try_ctl(
            via,
            Duration::from_secs(60),
            &["list_queues", "--quiet", "--no-table-headers", "name"],
        );
        let queues = listing
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|name| name.starts_with(&self.topic) || name.contains(&self.processname))
            .map(str::to_owned)
            .collect();
        drop(DeleteOnDropAt {
            uri: self.cluster.amqp_uri(),
            queues,
            exchanges: vec![format!("{}_fanout", self.topic), self.exchange.clone()],
        });
    }
}

/// A Rust peer's transport on the deployment, with its driver (for the connection names)
/// and the guard that deletes what it declared.
async fn rust_transport(
    cluster: &'static TestCluster,
    deployment: &Deployment,
) -> (Transport, Arc<RabbitDriver>, ClusterCleanup) {
    let driver = deployment.driver();
    let cleanup = ClusterCleanup {
        cluster,
        driver: driver.clone(),
    };
    (deployment.transport(&driver).await, driver, cleanup)
}

/// A Rust server of the deployment on `topic`, recording what it is cast.
async fn rust_server(
    cluster: &'static TestCluster,
    deployment: &Deployment,
    topic: &str,
    recorder: &Recorder,
) -> (Transport, Arc<RabbitDriver>, ClusterCleanup, ServerHandle) {
    let (transport, driver, cleanup) = rust_transport(cluster, deployment).await;
    let server = RpcServer::builder(transport.clone(), Target::server(topic, "s1"))
        .endpoint(calc_endpoint("s1", recorder, &Arc::default()))
        .build()
        .expect("server")
        .start()
        .await
        .expect("start");
    (transport, driver, cleanup, server)
}

/// A Rust `calc` client of the deployment on the cluster (see [`rust_transport`]).
async fn rust_client(
    cluster: &'static TestCluster,
    deployment: &Deployment,
    topic: &str,
) -> (Transport, Arc<RabbitDriver>, ClusterCleanup, RpcClient) {
    let (transport, driver, cleanup) = rust_transport(cluster, deployment).await;
    let client = RpcClient::new(
        transport.clone(),
        Target::topic(topic).with_namespace("calc"),
    );
    (transport, driver, cleanup, client)
}

/// 32 Rust callers of `add` until `stop` is set or 120 s passed.
fn rust_load(
    client: &RpcClient,
    calls: &Calls,
    stop: &Arc<std::sync::atomic::AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..IN_FLIGHT)
        .map(|task| {
            let (client, calls, stop) = (client.clone(), calls.clone(), stop.clone());
            tokio::spawn(async move {
                let give_up = Instant::now() + Duration::from_secs(120);
                let a = i64::try_from(task).unwrap_or(0);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < give_up {
                    let started = Instant::now();
                    let result = client
                        .call(&Context::new(), "add", json!({"a": a, "b": 1}))
                        .await;
                    let ended = Instant::now();
                    let call = Call {
                        started,
                        ended,
                        ok: matches!(&result, Ok(v) if *v == json!(a + 1)),
                        timed_out: matches!(result, Err(RpcError::Timeout { .. })),
                        error: result.err().map(|e| e.to_string()),
                    };
                    calls.lock().unwrap_or_else(|e| e.into_inner()).push(call);
                }
            })
        })
        .collect()
}

/// `load_client.py`: 32 Python threads calling `add` until its stdin closes.
struct PyLoad {
    child: tokio::process::Child,
    reader: tokio::task::JoinHandle<()>,
}

impl PyLoad {
    async fn start(url: &str, exchange: &str, topic: &str, calls: &Calls) -> PyLoad {
        let py = python::python();
        let logs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/interop-logs");
        std::fs::create_dir_all(&logs).expect("target/interop-logs");
        let mut command = tokio::process::Command::new(&py.python);
        command
            .arg(py.peers.join("load_client.py"))
            .args(["--url", url, "--exchange", exchange, "--topic", topic])
            .args(["--concurrency", &IN_FLIGHT.to_string()])
            .args(["--timeout", &TIMEOUT.as_secs().to_string()])
            .args(["--duration", "120"])
            .arg("--log-file")
            .arg(logs.join(format!("{topic}-load.log")))
            .env("OSLO_LOCK_PATH", python::lock_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        if !python::group_leader_alive() {
            command.process_group(0);
        }
        let mut child = command.spawn().expect("start load_client.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await;
        assert!(
            matches!(&ready, Ok(Ok(Some(line))) if line.trim() == "READY"),
            "load_client.py did not print READY within 60 s: {ready:?}"
        );
        let calls = calls.clone();
        let reader = tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let ended = Instant::now();
                let Ok(value) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let elapsed = Duration::from_secs_f64(value["elapsed"].as_f64().unwrap_or(0.0));
                let exception = value["exception"].as_str().map(str::to_owned);
                let call = Call {
                    started: ended.checked_sub(elapsed).unwrap_or(ended),
                    ended,
                    ok: value["ok"] == Value::Bool(true),
                    timed_out: exception.as_deref()
                        == Some("oslo_messaging.exceptions.MessagingTimeout"),
                    error: exception.map(|e| format!("{e}: {}", value["message"])),
                };
                calls.lock().unwrap_or_else(|e| e.into_inner()).push(call);
            }
        });
        PyLoad { child, reader }
    }

    fn pid(&self) -> u32 {
        self.child.id().expect("load_client.py runs")
    }

    /// Closes its stdin: the threads end after their current call; waits (bounded) for
    /// every line.
    async fn stop(mut self) {
        drop(self.child.stdin.take());
        let limit = TIMEOUT + Duration::from_secs(15);
        if tokio::time::timeout(limit, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.reader).await;
    }
}

/// The Python URL: the deployment's, with a process name of its own when this process's
/// group lost its leader (see `interop_production.rs`, `python_url`).
fn python_url(deployment: &Deployment) -> String {
    if python::group_leader_alive() {
        deployment.url.clone()
    } else {
        let name = format!("processname={}", deployment.processname);
        deployment.url.replace(&name, &format!("{name}-py"))
    }
}

/// Rust server and client on a deployment with `options` under 32 calls in flight, through
/// the node stops of `whose` ([`stop_and_start_nodes`]).
async fn rust_failover(
    cluster: &'static TestCluster,
    options: &str,
    whose: &[&'static str],
) -> Figures {
    let deployment = Deployment::at(&cluster.url, options);
    let topic = unique("failover");
    let _leftovers = leftovers(cluster, &deployment, &topic);
    let recorder = Recorder::default();
    let (_server_transport, server_driver, _server_cleanup, server) =
        rust_server(cluster, &deployment, &topic, &recorder).await;
    let (client_transport, client_driver, _client_cleanup, client) =
        rust_client(cluster, &deployment, &topic).await;
    let client = client.timeout(TIMEOUT);
    client
        .call(&Context::new(), "add", json!({"a": 1, "b": 1}))
        .await
        .expect("a first call");

    let calls: Calls = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let began = Instant::now();
    let load = rust_load(&client, &calls, &stop);
    assert!(
        success_after(&calls, began, Duration::from_secs(30))
            .await
            .is_some(),
        "the Rust load does not flow"
    );
    let stops = stop_and_start_nodes(
        cluster,
        &calls,
        whose,
        || rust_needles(&server_driver),
        || rust_needles(&client_driver),
    )
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in load {
        tokio::time::timeout(TIMEOUT + Duration::from_secs(10), task)
            .await
            .expect("every caller ends within its timeout")
            .expect("caller task");
    }
    let figures = analyse(
        if options == PRODUCTION {
            "rust"
        } else {
            "rust, classic queues"
        },
        &snapshot(&calls),
        &stops,
    );
    print(&figures);
    server.stop().await.expect("stop");
    client_transport.shutdown().await;
    figures
}

/// Rust peers, then Python peers, through the same two node stops each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_flow_again_within_3_s_of_each_node_stop_rust_and_python() {
    let _serial = SERIAL.lock().await;
    log_if_asked();
    let cluster = ready_cluster();
    python::python();

    let rust = rust_failover(cluster, PRODUCTION, &["server", "client"]).await;

    // --- Python server and client, same cluster, same stops ----------------------------
    let py_deployment = Deployment::at(&cluster.url, PRODUCTION);
    let py_topic = unique("pyfailover");
    let _py_leftovers = leftovers(cluster, &py_deployment, &py_topic);
    let py_url = python_url(&py_deployment);
    let py_server =
        python::PyServer::start_at(&py_url, &py_topic, "s1", Some(&py_deployment.exchange)).await;
    let server_pid = py_server.pid().expect("server.py runs");
    let py_calls: Calls = Arc::default();
    let began = Instant::now();
    let py_load = PyLoad::start(&py_url, &py_deployment.exchange, &py_topic, &py_calls).await;
    let client_pid = py_load.pid();
    let flowing = success_after(&py_calls, began, Duration::from_secs(60)).await;
    assert!(flowing.is_some(), "the Python load does not flow");
    let py_stops = stop_and_start_nodes(
        cluster,
        &py_calls,
        &["server", "client"],
        || python_needles("server.py", server_pid),
        || python_needles("load_client.py", client_pid),
    )
    .await;
    py_load.stop().await;
    let python = analyse("python", &snapshot(&py_calls), &py_stops);
    print(&python);
    let _ = py_server.stop().await;

    // --- Comparison and assertions -------------------------------------------------------
    let worst = |figures: &Figures| {
        figures
            .recoveries
            .iter()
            .map(|r| r.first_success.unwrap_or(Duration::MAX))
            .max()
            .unwrap_or(Duration::MAX)
    };
    eprintln!(
        "worst first success after a stop: rust {:.2} s, python {}; timeouts: rust {}, \
         python {}",
        worst(&rust).as_secs_f64(),
        if worst(&python) == Duration::MAX {
            "never".to_owned()
        } else {
            format!("{:.2} s", worst(&python).as_secs_f64())
        },
        rust.timeouts,
        python.timeouts
    );
    assert_eq!(rust.hung, 0, "Rust calls outlived their timeout + 1 s");
    assert!(
        rust.failures.is_empty(),
        "Rust calls failed otherwise than by timing out: {:?}",
        rust.failures
    );
    for recovery in &rust.recoveries {
        let first = recovery
            .first_success
            .unwrap_or_else(|| panic!("no Rust call succeeded after {recovery:?}"));
        assert!(
            first <= RECOVERY,
            "Rust calls flowed again only {first:?} after the stop: {recovery:?}"
        );
    }
    assert!(python.calls > 0, "the Python load made no call");
    assert_eq!(rust.timeouts, 0, "Rust calls were lost (timed out)");
    // Beat Python (oslo.messaging 18.3.1 with the same options, on the same cluster).
    assert!(
        worst(&rust) <= worst(&python) && rust.timeouts <= python.timeouts,
        "Python peers failed over faster or lost fewer calls"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_classic_queues_a_server_node_stop_costs_one_timeout_per_caller_at_most() {
    // Without the quorum options a server's queues are classic and non-durable, on the node
    // its connection declared them on. Stopping that node deletes them with the requests
    // they held; requests published before the server has declared them again on another
    // node (after kombu_reconnect_delay, 1 s) have no route and are dropped; requests
    // routed to the queue as it died are refused (basic.nack). The first two kinds of call
    // time out, the third fails at once; none outlives its timeout + 1 s, and calls flow
    // again once the stuck callers timed out. This is what the quorum options are for.
    let _serial = SERIAL.lock().await;
    log_if_asked();
    let cluster = ready_cluster();
    let classic = rust_failover(cluster, "rabbit_qos_prefetch_count=1", &["server"]).await;
    assert_eq!(classic.hung, 0, "calls outlived their timeout + 1 s");
    assert!(
        classic
            .failures
            .iter()
            .all(|error| error.contains("basic.nack")),
        "calls failed otherwise than by timing out or a refusal: {:?}",
        classic.failures
    );
    assert!(
        classic.timeouts <= 2 * IN_FLIGHT,
        "{} calls timed out: more than the calls in flight at the stop and those sent \
         before the server's queues were declared again",
        classic.timeouts
    );
    let recovery = &classic.recoveries[0];
    let first = recovery
        .first_success
        .unwrap_or_else(|| panic!("no call succeeded after {recovery:?}"));
    assert!(
        first <= TIMEOUT + RECOVERY,
        "calls flowed again only {first:?} after the stop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_fanout_consumer_resumes_across_a_node_stop_without_duplicates_or_gaps() {
    // The server's stream consumer loses its connection with the node, reconnects to
    // another and asks for the offset after the last one it saw: what was cast meanwhile
    // (retained by the replicated stream) arrives once, and nothing it had seen comes again.
    let _serial = SERIAL.lock().await;
    log_if_asked();
    let cluster = ready_cluster();
    let deployment = Deployment::at(&cluster.url, PRODUCTION);
    let topic = unique("failstream");
    let _leftovers = leftovers(cluster, &deployment, &topic);
    let recorder = Recorder::default();
    let (_server_transport, server_driver, _server_cleanup, server) =
        rust_server(cluster, &deployment, &topic, &recorder).await;
    let (client_transport, _client_driver, _client_cleanup, client) =
        rust_client(cluster, &deployment, &topic).await;
    let fanout = client.fanout(true).timeout(Duration::from_secs(30));
    let cast = |tag: String| {
        let fanout = fanout.clone();
        async move {
            fanout
                .cast(&Context::new(), "record", json!({"tag": tag}))
                .await
                .unwrap_or_else(|e| panic!("cast {tag}: {e}"))
        }
    };
    let tags = |prefix: &str| -> Vec<String> { (0..5).map(|i| format!("{prefix}{i}")).collect() };

    for tag in tags("a") {
        cast(tag).await;
    }
    assert_eq!(recorder.next_values_sorted(5).await, tags("a"));

    let node = find_consuming_node(cluster, || rust_needles(&server_driver)).await;
    let guard = stop_node(cluster, node).await;
    eprintln!("stopped {}, the node of the stream consumer", node.name);
    let stopped = Instant::now();
    // Cast while the consumer is away or reconnecting.
    for tag in tags("b") {
        cast(tag).await;
    }
    assert_eq!(
        recorder.next_values_sorted(5).await,
        tags("b"),
        "no duplicates, no gaps"
    );
    eprintln!(
        "the casts made during the stop arrived {:.2} s after it",
        stopped.elapsed().as_secs_f64()
    );
    let took = start_node(guard).await;
    eprintln!("started {} again in {:.2} s", node.name, took.as_secs_f64());
    for tag in tags("c") {
        cast(tag).await;
    }
    assert_eq!(recorder.next_values_sorted(5).await, tags("c"));
    assert!(
        recorder.quiet_for(Duration::from_millis(500)).await,
        "nothing more"
    );
    server.stop().await.expect("stop");
    client_transport.shutdown().await;
}
