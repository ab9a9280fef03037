//! The production deployment of issue 11 (quorum, transient quorum, stream fanout, queue
//! manager, prefetch 1) on the test broker: URLs, drivers with their own control exchange
//! and process name (so nothing is shared with other tests), the broker's view of what was
//! declared, and cleanup of the queue manager's files. The broker URL is `RABBIT_URL`, so
//! the same tests run against a cluster.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use oslo_rpc::TransportUrl;
use oslo_rpc::prelude::*;
use rpc_runtime::transport::rabbit::RabbitDriver;
use serde_json::Value;

use super::rabbit;
use super::unique;

/// The `[oslo_messaging_rabbit]` options of the deployment, as URL query pairs.
pub const PRODUCTION: &str = "rabbit_quorum_queue=true&rabbit_transient_quorum_queue=true\
    &rabbit_stream_fanout=true&use_queue_manager=true&rabbit_qos_prefetch_count=1";

/// One test's deployment: its broker URL with the production options, its own control
/// exchange and queue-manager process name, and the lock directory shared with Python.
pub struct Deployment {
    /// The URL with [`PRODUCTION`] and `processname`.
    pub url: String,
    /// The control exchange (durable here: never the shared, non-durable `openstack`).
    pub exchange: String,
    /// The queue manager's process name, unique to the test.
    pub processname: String,
    /// oslo.concurrency's lock directory (Python peers get it as `OSLO_LOCK_PATH`).
    pub lock_dir: PathBuf,
    /// The host name the queue manager uses (`socket.gethostname()`).
    pub hostname: String,
}

impl Deployment {
    /// A deployment on the test broker with `extra` options after the production ones.
    pub async fn new(extra: &str) -> Deployment {
        if extra.is_empty() {
            Deployment::with_options(PRODUCTION).await
        } else {
            Deployment::with_options(&format!("{PRODUCTION}&{extra}")).await
        }
    }

    /// A deployment with these options instead of the production ones.
    pub async fn with_options(options: &str) -> Deployment {
        Deployment::at(&rabbit::rabbit_url().await, options)
    }

    /// A deployment on the broker of `base` (a test cluster's node, say) with `options`.
    /// Its `Drop` deletes the control exchange on the machine's broker only: a test on
    /// another broker deletes it there itself.
    pub fn at(base: &str, options: &str) -> Deployment {
        let base = base.to_owned();
        let processname = unique("qm");
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}{options}&processname={processname}");
        Deployment {
            url,
            exchange: unique("prodx"),
            processname,
            lock_dir: lock_dir(),
            hostname: hostname(),
        }
    }

    /// A driver for the deployment (the queue manager locks in [`Deployment::lock_dir`]).
    pub fn driver(&self) -> Arc<RabbitDriver> {
        let parsed = TransportUrl::parse(&self.url).expect("URL parses");
        Arc::new(
            RabbitDriver::builder(&parsed)
                .lock_path(&self.lock_dir)
                .build()
                .expect("rabbit driver"),
        )
    }

    /// A transport on `driver` with the deployment's control exchange.
    pub async fn transport(&self, driver: &Arc<RabbitDriver>) -> Transport {
        Transport::builder(&self.url)
            .control_exchange(&self.exchange)
            .driver(driver.clone())
            .build()
            .expect("transport")
    }

    /// `reply_<hostname>:<processname>:<n>`.
    pub fn reply_queue(&self, n: u32) -> String {
        format!("reply_{}:{}:{n}", self.hostname, self.processname)
    }

    /// The queue manager's counter file in `/dev/shm`.
    pub fn counter_file(&self) -> PathBuf {
        Path::new("/dev/shm").join(format!("{}_{}_qmanager", self.hostname, self.processname))
    }
}

impl Drop for Deployment {
    /// Removes the queue manager's counter and lock files, and the control exchange.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.counter_file());
        let _ = std::fs::remove_file(self.lock_dir.join(format!(
            "oslo_read_shm_{}_{}",
            self.hostname, self.processname
        )));
        drop(rabbit::DeleteOnDrop {
            queues: std::sync::Mutex::new(Vec::new()),
            exchanges: vec![self.exchange.clone()],
        });
    }
}

/// `target/interop-locks`: the lock directory every test process and Python peer shares.
pub fn lock_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/interop-locks");
    std::fs::create_dir_all(&dir).expect("lock directory");
    dir
}

/// `socket.gethostname()`.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("host name")
        .trim()
        .to_owned()
}

/// `rabbitmqctl list_<what> <fields> --formatter json`, keeping the rows whose `key`
/// field satisfies `keep`.
pub fn listing(what: &str, fields: &[&str], key: &str, keep: impl Fn(&str) -> bool) -> Vec<Value> {
    try_listing(what, fields, key, keep).unwrap_or_else(|error| panic!("{error}"))
}

static CTL_NODE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Sends every `rabbitmqctl` of this module to `node` (a test cluster's node) for the rest
/// of the test process, over `RABBITMQCTL_NODE`. The first call wins.
pub fn use_node(node: &str) {
    let _ = CTL_NODE.set(node.to_owned());
}

/// `rabbitmqctl <args>` on the node given to [`use_node`], else the one named by
/// `RABBITMQCTL_NODE` (a test cluster's node, e.g. `n1@localhost`), else the default node:
/// stdout, or an error with stderr.
pub fn ctl(args: &[&str]) -> Result<String, String> {
    let mut command = std::process::Command::new("timeout");
    command.args(["60", "rabbitmqctl"]);
    let node = CTL_NODE
        .get()
        .cloned()
        .or_else(|| std::env::var("RABBITMQCTL_NODE").ok());
    if let Some(node) = node {
        command.args(["-n", &node]);
    }
    let output = command
        .args(args)
        .output()
        .map_err(|e| format!("rabbitmqctl {args:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "rabbitmqctl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// [`listing`] without panicking (for cleanup in `Drop`, where a panic while unwinding
/// aborts the process and skips the rest of the cleanup).
pub fn try_listing(
    what: &str,
    fields: &[&str],
    key: &str,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<Value>, String> {
    let mut args = vec![what, "--quiet", "--formatter", "json"];
    args.extend_from_slice(fields);
    // A listing walks every queue of the shared broker and fails as a whole when one of
    // them is deleted meanwhile (`badrpc ... :normal`, another test's cleanup): try again,
    // three times at most.
    let mut attempt = 1;
    let text = loop {
        match ctl(&args) {
            Ok(text) => break text,
            Err(error) if attempt >= 3 => return Err(error),
            Err(error) => {
                eprintln!("rabbitmqctl {what}: attempt {attempt} failed, retrying: {error}");
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(300));
            }
        }
    };
    let rows: Vec<Value> =
        serde_json::from_str(&text).map_err(|e| format!("rabbitmqctl {what} JSON: {e}: {text}"))?;
    Ok(rows
        .into_iter()
        .filter(|row| row[key].as_str().is_some_and(&keep))
        .collect())
}

/// One queue as the broker lists it: `type`, `durable`, `auto_delete`, `exclusive`,
/// `arguments` (each `[name, AMQP type, value]`, sorted) and `consumers`.
pub fn queue(name: &str) -> Option<Value> {
    let mut rows = listing(
        "list_queues",
        &[
            "name",
            "type",
            "durable",
            "auto_delete",
            "exclusive",
            "arguments",
            "consumers",
        ],
        "name",
        |n| n == name,
    );
    let mut row = rows.pop()?;
    sort_arguments(&mut row);
    Some(row)
}

/// One exchange as the broker lists it: `type`, `durable`, `auto_delete`, `internal`,
/// `arguments`.
pub fn exchange(name: &str) -> Option<Value> {
    let mut rows = listing(
        "list_exchanges",
        &[
            "name",
            "type",
            "durable",
            "auto_delete",
            "internal",
            "arguments",
        ],
        "name",
        |n| n == name,
    );
    rows.pop()
}

/// The consumers of a queue: `consumer_tag`, `ack_required`, `prefetch_count`,
/// `arguments`, sorted by tag. (RabbitMQ 3.10 does not list stream consumers here; the
/// queue's `consumers` count has them.)
pub fn consumers(queue: &str) -> Vec<Value> {
    let mut rows = listing(
        "list_consumers",
        &[
            "queue_name",
            "consumer_tag",
            "ack_required",
            "prefetch_count",
            "arguments",
        ],
        "queue_name",
        |n| n == queue,
    );
    rows.sort_by_key(|row| row["consumer_tag"].as_str().unwrap_or_default().to_owned());
    rows
}

fn sort_arguments(row: &mut Value) {
    if let Some(arguments) = row["arguments"].as_array_mut() {
        arguments.sort_by_key(|arg| arg[0].as_str().unwrap_or_default().to_owned());
    }
}

/// The row without its name: what must be equal between two peers' declarations.
pub fn shape(mut row: Value) -> Value {
    if let Some(object) = row.as_object_mut() {
        object.remove("name");
        object.remove("queue_name");
        object.remove("consumers");
    }
    row
}
