//! The RabbitMQ test cluster of `scripts/test-cluster.sh`, beside the machine's broker:
//! three clustered nodes ([`cluster`]) or one node of its own ([`single`]), each with a
//! plain and a TLS listener, and the test certificates. Started once per test process
//! (the script reuses nodes that already run, so this is quick after the first time); a
//! cluster that cannot start fails the test with the script's output, never skips it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

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
