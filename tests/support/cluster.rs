//! The RabbitMQ test cluster of `scripts/test-cluster.sh`, beside the machine's broker:
//! three clustered nodes ([`cluster`]) or one node of its own ([`single`]), each with a
//! plain and a TLS listener, and the test certificates. Started once per test process
//! (the script reuses nodes that already run, so this is quick after the first time); a
//! cluster that cannot start fails the test with the script's output, never skips it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rpc_runtime::transport::Driver;
use rpc_runtime::transport::rabbit::RabbitDriver;

/// One node of the test cluster.
#[derive(Debug, Clone)]
pub struct ClusterNode {
    /// The Erlang node name, for `rabbitmqctl -n`.
    pub name: String,
    /// The plain AMQP port on 127.0.0.1.
    pub amqp_port: u16,
    /// The TLS AMQP port on 127.0.0.1 (the server certificate names `localhost` and
    /// `127.0.0.1`; client certificates are verified against the test CA when sent).
    pub amqps_port: u16,
}

impl ClusterNode {
    /// `rabbit://guest:guest@localhost:<amqp_port>/`.
    pub fn url(&self) -> String {
        format!("rabbit://guest:guest@localhost:{}/", self.amqp_port)
    }
}

/// A started test cluster (or single node) and what its tests need to reach it.
#[derive(Debug, Clone)]
pub struct TestCluster {
    /// `cluster` or `single`.
    pub mode: String,
    pub nodes: Vec<ClusterNode>,
    /// Every node's plain listener, one multi-host URL.
    pub url: String,
    /// Every node's TLS listener with the test CA and the client certificate.
    pub tls_url: String,
    /// The directory of the certificates.
    pub certs: PathBuf,
    /// The CA that signed the server and client certificates.
    pub ca: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// The client certificate followed by its key, in one file.
    pub client_bundle: PathBuf,
    /// A CA unrelated to the cluster's.
    pub other_ca: PathBuf,
    /// A client certificate signed by the unrelated CA (the nodes refuse it).
    pub other_client_cert: PathBuf,
    pub other_client_key: PathBuf,
    /// A TLS endpoint (not AMQP) on 127.0.0.1 presenting an expired certificate of the test
    /// CA for `localhost` (cluster mode only).
    pub expired_port: Option<u16>,
    /// A TLS endpoint (not AMQP) on 127.0.0.1 presenting a certificate of the test CA for
    /// `wrong-host.invalid` only (cluster mode only).
    pub wrong_host_port: Option<u16>,
    /// How long `scripts/test-cluster.sh start` took in this process.
    pub start_time: Duration,
}

/// The three-node cluster, started (or found running) once per process.
pub fn cluster() -> &'static TestCluster {
    static CLUSTER: OnceLock<TestCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| start(&[]))
}

/// The single node, started (or found running) once per process. A test may stop and
/// start it (`rabbitmqctl -n NODE stop_app` / `start_app`); [`TestCluster::restart`]
/// brings a stopped node back.
pub fn single() -> &'static TestCluster {
    static SINGLE: OnceLock<TestCluster> = OnceLock::new();
    SINGLE.get_or_init(|| start(&["--single"]))
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test-cluster.sh")
}

/// Runs `test-cluster.sh [mode] start` and reads the assignments it prints.
fn start(mode: &[&str]) -> TestCluster {
    let began = Instant::now();
    // The script bounds its own waits (lock 10 min, each node 3 min); `timeout` bounds it.
    let output = Command::new("timeout")
        .arg("1200")
        .arg("bash")
        .arg(script())
        .args(mode)
        .arg("start")
        .output()
        .expect("bash runs scripts/test-cluster.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "scripts/test-cluster.sh {mode:?} start failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let start_time = began.elapsed();
    eprintln!(
        "test cluster {mode:?} ready in {:.1} s{}",
        start_time.as_secs_f64(),
        stderr
            .lines()
            .rev()
            .find(|line| line.contains("ready in"))
            .map(|line| format!(" ({line})"))
            .unwrap_or_default()
    );
    parse_env(&stdout, start_time)
        .unwrap_or_else(|error| panic!("scripts/test-cluster.sh start printed {stdout:?}: {error}"))
}

/// Undoes bash's `printf %q` for the values the script prints (backslash escapes only).
fn unquote(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads the assignments `test-cluster.sh start` prints.
pub fn parse_env(stdout: &str, start_time: Duration) -> Result<TestCluster, String> {
    let vars: std::collections::HashMap<&str, String> = stdout
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key, unquote(value)))
        .collect();
    let get = |key: &str| {
        vars.get(key)
            .cloned()
            .ok_or_else(|| format!("{key} is missing"))
    };
    let ports = |key: &str| -> Result<Vec<u16>, String> {
        get(key)?
            .split_whitespace()
            .map(|port| port.parse().map_err(|e| format!("{key}: {e}")))
            .collect()
    };
    let names = get("TEST_CLUSTER_NODES")?;
    let amqp = ports("TEST_CLUSTER_AMQP_PORTS")?;
    let amqps = ports("TEST_CLUSTER_AMQPS_PORTS")?;
    let nodes: Vec<ClusterNode> = names
        .split_whitespace()
        .zip(amqp.iter().zip(&amqps))
        .map(|(name, (&amqp_port, &amqps_port))| ClusterNode {
            name: name.to_owned(),
            amqp_port,
            amqps_port,
        })
        .collect();
    if nodes.is_empty() || nodes.len() != amqp.len() || nodes.len() != amqps.len() {
        return Err("nodes and ports do not match".into());
    }
    let optional_port = |key: &str| vars.get(key).and_then(|port| port.parse().ok());
    Ok(TestCluster {
        mode: get("TEST_CLUSTER_MODE")?,
        nodes,
        url: get("TEST_CLUSTER_URL")?,
        tls_url: get("TEST_CLUSTER_TLS_URL")?,
        certs: get("TEST_CLUSTER_CERTS")?.into(),
        ca: get("TEST_CLUSTER_CA")?.into(),
        client_cert: get("TEST_CLUSTER_CLIENT_CERT")?.into(),
        client_key: get("TEST_CLUSTER_CLIENT_KEY")?.into(),
        client_bundle: get("TEST_CLUSTER_CLIENT_BUNDLE")?.into(),
        other_ca: get("TEST_CLUSTER_OTHER_CA")?.into(),
        other_client_cert: get("TEST_CLUSTER_OTHER_CLIENT_CERT")?.into(),
        other_client_key: get("TEST_CLUSTER_OTHER_CLIENT_KEY")?.into(),
        expired_port: optional_port("TEST_CLUSTER_EXPIRED_PORT"),
        wrong_host_port: optional_port("TEST_CLUSTER_WRONG_HOST_PORT"),
        start_time,
    })
}

impl TestCluster {
    /// `rabbitmqctl -n <node> <args>` (bounded at 90 s): its stdout, or a panic with its
    /// stderr.
    pub fn ctl(&self, node: &ClusterNode, args: &[&str]) -> String {
        let output = Command::new("timeout")
            .arg("90")
            .arg("rabbitmqctl")
            .arg("-n")
            .arg(&node.name)
            .args(args)
            .output()
            .expect("rabbitmqctl runs");
        assert!(
            output.status.success(),
            "rabbitmqctl -n {} {args:?} failed: {}{}",
            node.name,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs the script's `start` again: brings back nodes that were stopped.
    pub fn restart(&self) {
        let mode: &[&str] = if self.mode == "single" {
            &["--single"]
        } else {
            &[]
        };
        start(mode);
    }

    /// A `rabbit://` URL over TLS to the given TLS ports on `host`, with `query` (without
    /// the `?`), e.g. `ssl=true&ssl_ca_file=...`.
    pub fn tls_url_to(&self, host: &str, ports: &[u16], query: &str) -> String {
        let hosts: Vec<String> = ports
            .iter()
            .map(|port| format!("guest:guest@{host}:{port}"))
            .collect();
        format!("rabbit://{}/?{query}", hosts.join(","))
    }
}

impl TestCluster {
    /// `rabbitmqctl -n <node> list_<what> <fields>` as rows of fields.
    pub fn list(&self, node: &ClusterNode, what: &str, fields: &[&str]) -> Vec<Vec<String>> {
        let mut args = vec![what, "--quiet", "--no-table-headers"];
        args.extend_from_slice(fields);
        self.ctl(node, &args)
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| line.split('\t').map(str::to_owned).collect())
            .collect()
    }

    /// The AMQP URI of the first node's plain listener, for raw lapin connections.
    pub fn amqp_uri(&self) -> String {
        format!(
            "amqp://guest:guest@127.0.0.1:{}/%2f",
            self.nodes[0].amqp_port
        )
    }

    /// Deletes what `driver` declared on the cluster: its queues, and its exchanges but the
    /// control exchange `openstack`.
    pub async fn delete_declared(&self, driver: &RabbitDriver) {
        let (queues, exchanges) = super::rabbit::declared_by(driver, &["openstack"]);
        super::rabbit::delete_entities_at(&self.amqp_uri(), &queues, &exchanges).await;
    }
}

/// Shuts a driver down and deletes what it declared on the cluster when dropped, so a test
/// that panics leaves nothing behind.
pub struct ClusterCleanup {
    pub cluster: &'static TestCluster,
    pub driver: Arc<RabbitDriver>,
}

impl Drop for ClusterCleanup {
    fn drop(&mut self) {
        let (cluster, driver) = (self.cluster, self.driver.clone());
        super::rabbit::block_on_own_thread(async move {
            let _ = tokio::time::timeout(Duration::from_secs(10), driver.shutdown()).await;
            let cleanup = cluster.delete_declared(&driver);
            let _ = tokio::time::timeout(Duration::from_secs(20), cleanup).await;
        });
    }
}

impl TestCluster {
    /// `rabbitmqctl -n <node> <args>` bounded at `limit`, without panicking (for `Drop`,
    /// where a panic while unwinding would abort the process): stdout, or the error.
    pub fn try_ctl(
        &self,
        node: &ClusterNode,
        limit: Duration,
        args: &[&str],
    ) -> Result<String, String> {
        let output = Command::new("timeout")
            .arg(limit.as_secs().max(1).to_string())
            .arg("rabbitmqctl")
            .arg("-n")
            .arg(&node.name)
            .args(args)
            .output()
            .map_err(|e| format!("rabbitmqctl -n {} {args:?}: {e}", node.name))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!(
                "rabbitmqctl -n {} {args:?} failed ({}): {}{}",
                node.name,
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    /// Starts `rabbitmqctl -n <node> <args>` (bounded at 90 s) without waiting for it.
    pub fn spawn_ctl(&self, node: &ClusterNode, args: &[&str]) -> std::process::Child {
        Command::new("timeout")
            .arg("90")
            .arg("rabbitmqctl")
            .arg("-n")
            .arg(&node.name)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("rabbitmqctl runs")
    }

    /// The connections whose `connection_name` is one of `names`, as `(pid, port)`: the
    /// broker's id (for `close_connection`) and the node's AMQP port the client connected
    /// to (which node holds the connection). Listed through `via`, which must run.
    pub fn connections_named(&self, via: &ClusterNode, names: &[String]) -> Vec<(String, u16)> {
        self.list(
            via,
            "list_connections",
            &["pid", "port", "client_properties"],
        )
        .into_iter()
        .filter(|row| row.len() >= 3)
        .filter(|row| {
            names
                .iter()
                .any(|name| row[2].contains(&format!("{{\"connection_name\",\"{name}\"}}")))
        })
        .map(|row| (row[0].clone(), row[1].trim().parse().unwrap_or(0)))
        .collect()
    }

    /// The node listening on this AMQP port.
    pub fn node_on_port(&self, port: u16) -> Option<&ClusterNode> {
        self.nodes.iter().find(|node| node.amqp_port == port)
    }

    /// `rabbitmqctl -n <node> stop_app`; the guard starts the app again when dropped
    /// (panics included) unless [`AppGuard::start`] did.
    pub fn stop_app(&'static self, node: &ClusterNode) -> AppGuard {
        let guard = AppGuard {
            cluster: self,
            node: node.clone(),
            stopped: true,
        };
        self.ctl(node, &["stop_app"]);
        guard
    }

    /// Raises a memory alarm on `node` (a high watermark no node can stay under): the node
    /// blocks every publishing connection. The guard restores the watermark when dropped.
    pub fn memory_alarm(&'static self, node: &ClusterNode) -> WatermarkGuard {
        let current = self
            .ctl(
                node,
                &["eval", "vm_memory_monitor:get_vm_memory_high_watermark()."],
            )
            .trim()
            .to_owned();
        let guard = WatermarkGuard {
            cluster: self,
            node: node.clone(),
            previous: current,
        };
        self.ctl(node, &["set_vm_memory_high_watermark", "0.0000001"]);
        guard
    }
}

/// A node whose RabbitMQ application a test stopped: started again (and awaited, 120 s at
/// most each) when dropped, whatever the test did.
pub struct AppGuard {
    cluster: &'static TestCluster,
    node: ClusterNode,
    stopped: bool,
}

impl AppGuard {
    /// `start_app` and `await_startup` now (panics when the node does not come back); the
    /// time it took.
    pub fn start(&mut self) -> Duration {
        let started = Instant::now();
        self.cluster.ctl(&self.node, &["start_app"]);
        self.cluster
            .ctl(&self.node, &["await_startup", "--timeout", "80"]);
        self.stopped = false;
        started.elapsed()
    }
}

impl Drop for AppGuard {
    fn drop(&mut self) {
        if !self.stopped {
            return;
        }
        let limit = Duration::from_secs(120);
        if let Err(error) = self.cluster.try_ctl(&self.node, limit, &["start_app"]) {
            eprintln!("restoring {}: {error}", self.node.name);
        }
        if let Err(error) =
            self.cluster
                .try_ctl(&self.node, limit, &["await_startup", "--timeout", "110"])
        {
            eprintln!("restoring {}: {error}", self.node.name);
        }
    }
}

/// Restores a node's memory high watermark when dropped.
pub struct WatermarkGuard {
    cluster: &'static TestCluster,
    node: ClusterNode,
    /// As `vm_memory_monitor:get_vm_memory_high_watermark()` printed it.
    previous: String,
}

impl Drop for WatermarkGuard {
    fn drop(&mut self) {
        // A relative watermark prints as a float; an absolute one as {absolute,N}.
        let value = match self.previous.strip_prefix("{absolute,") {
            Some(rest) => vec!["absolute", rest.trim_end_matches('}').trim()],
            None => vec![self.previous.as_str()],
        };
        let mut args = vec!["set_vm_memory_high_watermark"];
        args.extend(value);
        if let Err(error) = self
            .cluster
            .try_ctl(&self.node, Duration::from_secs(60), &args)
        {
            eprintln!("restoring the watermark of {}: {error}", self.node.name);
        }
    }
}

/// Deletes these queues and exchanges on the broker of `uri` when dropped (on a thread of
/// its own, 20 s at most): for names a test knows but no driver of its own declared.
pub struct DeleteOnDropAt {
    pub uri: String,
    pub queues: Vec<String>,
    pub exchanges: Vec<String>,
}

impl Drop for DeleteOnDropAt {
    fn drop(&mut self) {
        let uri = self.uri.clone();
        let queues = std::mem::take(&mut self.queues);
        let exchanges = std::mem::take(&mut self.exchanges);
        super::rabbit::block_on_own_thread(async move {
            let cleanup = super::rabbit::delete_entities_at(&uri, &queues, &exchanges);
            let _ = tokio::time::timeout(Duration::from_secs(20), cleanup).await;
        });
    }
}

/// Starts the RabbitMQ application of every node of this checkout's cluster (or single
/// node) whose VM runs with the application stopped: what a test run killed while a node
/// was stopped leaves behind, and what `scripts/test-cluster.sh start` would wait for in
/// vain. Nodes that do not run at all are left to the script. Call it before [`cluster`] or
/// [`single`].
pub fn start_stopped_apps(single: bool) {
    let mut command = Command::new("timeout");
    command.args(["30", "bash"]).arg(script());
    if single {
        command.arg("--single");
    }
    let Ok(output) = command.arg("env").output() else {
        return;
    };
    let printed = String::from_utf8_lossy(&output.stdout);
    let Ok(known) = parse_env(&printed, Duration::ZERO) else {
        return;
    };
    for node in &known.nodes {
        // `false` from a node whose VM runs with its app stopped; an error from one that
        // does not run.
        let running = known.try_ctl(
            node,
            Duration::from_secs(30),
            &["eval", "rabbit:is_running()."],
        );
        if running.is_ok_and(|answer| answer.trim() == "false") {
            eprintln!("starting the stopped RabbitMQ application of {}", node.name);
            if let Err(error) = known.try_ctl(node, Duration::from_secs(120), &["start_app"]) {
                eprintln!("{error}");
            }
        }
    }
}
