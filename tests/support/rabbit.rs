//! RabbitMQ helpers for the broker suites: the broker URL (starting the broker once per
//! process if it does not answer), `rabbitmqctl` wrappers, and cleanup of exactly what a
//! test declared. The broker is shared with other test runs: never touch other names.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Once};
use std::time::Duration;

use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
use lapin::{Connection, ConnectionProperties};
use oslo_rpc::TransportUrl;
use rpc_runtime::transport::Driver;
use rpc_runtime::transport::rabbit::{EntityKind, RabbitDriver};

/// The broker the suites use: `RABBIT_URL`, else the machine's broker.
pub fn broker_url() -> String {
    std::env::var("RABBIT_URL").unwrap_or_else(|_| "rabbit://guest:guest@127.0.0.1:5672/".into())
}

/// The broker URL for a test; starts the broker (once per process) if it does not answer.
pub async fn rabbit_url() -> String {
    let url = broker_url();
    ensure_broker(&url);
    url
}

fn first_host(url: &str) -> (String, u16) {
    let parsed = TransportUrl::parse(url).expect("RABBIT_URL parses");
    parsed
        .hosts()
        .first()
        .map(|h| (h.hostname.clone(), h.port_or_default()))
        .unwrap_or_else(|| ("localhost".into(), 5672))
}

fn answers(host: &str, port: u16) -> bool {
    (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok())
}

/// Runs `scripts/ensure-rabbitmq.sh` once per process when the broker does not answer.
pub fn ensure_broker(url: &str) {
    static ENSURE: Once = Once::new();
    let (host, port) = first_host(url);
    if answers(&host, port) {
        return;
    }
    ENSURE.call_once(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ensure-rabbitmq.sh");
        let status = Command::new("bash").arg(&script).status();
        eprintln!("ensure-rabbitmq.sh: {status:?}");
    });
}

/// `rabbitmqctl <args>`: its stdout, or a panic with its stderr.
pub fn rabbitmqctl(args: &[&str]) -> String {
    let output = Command::new("timeout")
        .arg("60")
        .arg("rabbitmqctl")
        .args(args)
        .output()
        .expect("rabbitmqctl runs");
    assert!(
        output.status.success(),
        "rabbitmqctl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `rabbitmqctl list_<what> <fields>` as rows of fields (`--no-table-headers`, quiet).
pub fn list(what: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut args = vec![what, "--quiet", "--no-table-headers"];
    args.extend_from_slice(fields);
    rabbitmqctl(&args)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect()
}

/// The AMQP URI of the broker for raw lapin connections.
pub fn amqp_uri(url: &str) -> String {
    let parsed = TransportUrl::parse(url).expect("RABBIT_URL parses");
    let (hostname, port) = first_host(url);
    let host = parsed.hosts().first();
    let user = host
        .and_then(|h| h.username.clone())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "guest".into());
    let pass = host
        .and_then(|h| h.password.as_ref().map(|p| p.expose().to_owned()))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "guest".into());
    let (user, pass) = (encode(&user), encode(&pass));
    let vhost = encode(parsed.effective_virtual_host());
    format!("amqp://{user}:{pass}@{hostname}:{port}/{vhost}")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A raw lapin connection to the test broker.
pub async fn raw_connection() -> Connection {
    Connection::connect(&amqp_uri(&broker_url()), ConnectionProperties::default())
        .await
        .expect("raw AMQP connection")
}

/// Closes a raw connection, waiting at most 10 s: lapin 4.12.3's `Connection::close` has
/// been seen never to resolve (BENCHMARKS.md, "Harness reliability"), and a test must not
/// hang on its cleanup.
pub async fn close_connection(connection: &Connection) {
    let close = connection.close(200, "OK".into());
    if tokio::time::timeout(Duration::from_secs(10), close)
        .await
        .is_err()
    {
        eprintln!("cleanup: closing a raw AMQP connection took over 10 s; left to the broker");
    }
}

/// Deletes queues and exchanges by name (missing ones are fine).
pub async fn delete_entities(queues: &[String], exchanges: &[String]) {
    delete_entities_at(&amqp_uri(&broker_url()), queues, exchanges).await;
}

/// Deletes queues and exchanges by name on the broker of an AMQP URI (missing ones are fine).
pub async fn delete_entities_at(uri: &str, queues: &[String], exchanges: &[String]) {
    let connection = Connection::connect(uri, ConnectionProperties::default())
        .await
        .expect("raw AMQP connection");
    for queue in queues {
        let channel = connection.create_channel().await.expect("channel");
        if let Err(error) = channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await
        {
            eprintln!("cleanup: deleting queue {queue}: {error}");
        }
        let _ = channel.close(200, "OK".into()).await;
    }
    for exchange in exchanges {
        let channel = connection.create_channel().await.expect("channel");
        if let Err(error) = channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await
        {
            eprintln!("cleanup: deleting exchange {exchange}: {error}");
        }
        let _ = channel.close(200, "OK".into()).await;
    }
    close_connection(&connection).await;
}

/// Deletes what a driver declared: every queue, and every exchange but the shared control
/// exchanges (`keep`) — those belong to every peer on the broker.
pub async fn delete_declared(driver: &RabbitDriver, keep: &[&str]) {
    let (queues, exchanges) = declared_by(driver, keep);
    delete_entities(&queues, &exchanges).await;
}

/// The queues and the exchanges but `keep` that a driver declared.
pub fn declared_by(driver: &RabbitDriver, keep: &[&str]) -> (Vec<String>, Vec<String>) {
    let mut queues = Vec::new();
    let mut exchanges = Vec::new();
    for (kind, name) in driver.declared() {
        match kind {
            EntityKind::Queue => queues.push(name),
            EntityKind::Exchange if !keep.contains(&name.as_str()) => exchanges.push(name),
            EntityKind::Exchange => {}
        }
    }
    (queues, exchanges)
}

/// Runs `work` to its end from synchronous code (a `Drop`, possibly inside a runtime that
/// must not be blocked), on a thread of its own with a runtime of its own.
pub fn block_on_own_thread(work: impl std::future::Future<Output = ()> + Send + 'static) {
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("cleanup runtime");
        runtime.block_on(work);
    });
    let _ = thread.join();
}

/// [`delete_declared`] from synchronous code (a `Drop`), on a thread of its own.
pub fn delete_declared_blocking(driver: Arc<RabbitDriver>, keep: String) {
    block_on_own_thread(async move {
        // Stop the driver first, or its consumers would declare the queues again.
        let _ = tokio::time::timeout(Duration::from_secs(10), driver.shutdown()).await;
        let keep = [keep.as_str()];
        let cleanup = delete_declared(&driver, &keep);
        let _ = tokio::time::timeout(Duration::from_secs(20), cleanup).await;
    });
}

/// Deletes these queues and exchanges when dropped (from synchronous code, on a thread of
/// its own): for names a test knows but no driver of this process declared.
pub struct DeleteOnDrop {
    pub queues: std::sync::Mutex<Vec<String>>,
    pub exchanges: Vec<String>,
}

impl Drop for DeleteOnDrop {
    fn drop(&mut self) {
        let queues = std::mem::take(&mut *self.queues.lock().unwrap_or_else(|e| e.into_inner()));
        let exchanges = std::mem::take(&mut self.exchanges);
        block_on_own_thread(async move {
            let cleanup = delete_entities(&queues, &exchanges);
            let _ = tokio::time::timeout(Duration::from_secs(20), cleanup).await;
        });
    }
}

/// Deletes what a driver declared when dropped (after shutting the driver down), so a
/// test that panics leaves nothing behind on the shared broker.
pub struct Cleanup(pub Arc<RabbitDriver>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        delete_declared_blocking(self.0.clone(), "openstack".to_owned());
    }
}

/// A rabbit driver for `url`, to pass to `TransportBuilder::driver` and keep for cleanup.
pub fn driver(url: &str) -> Arc<RabbitDriver> {
    let parsed = TransportUrl::parse(url).expect("URL parses");
    Arc::new(RabbitDriver::new(&parsed).expect("rabbit driver"))
}

/// Whether a URL is served by the rabbit driver.
pub fn is_rabbit(url: &str) -> bool {
    TransportUrl::parse(url).is_ok_and(|u| u.is_rabbit())
}

/// A test's transport on `RABBIT_URL`. When dropped it deletes what its driver declared,
/// then every queue whose name starts with the test's topic (the Python peers' too) and
/// the exchanges it was given.
pub struct TopicBus {
    pub transport: oslo_rpc::Transport,
    _driver_cleanup: Cleanup,
    _topic_cleanup: TopicCleanup,
}

impl std::ops::Deref for TopicBus {
    type Target = oslo_rpc::Transport;
    fn deref(&self) -> &oslo_rpc::Transport {
        &self.transport
    }
}

/// Connects a [`TopicBus`] for `topic`; `exchanges` are deleted with its queues.
pub async fn topic_bus(topic: &str, exchanges: Vec<String>) -> TopicBus {
    let url = rabbit_url().await;
    let driver = driver(&url);
    let transport = oslo_rpc::Transport::builder(&url)
        .driver(driver.clone())
        .build()
        .expect("rabbit transport");
    TopicBus {
        transport,
        _driver_cleanup: Cleanup(driver),
        _topic_cleanup: TopicCleanup {
            prefix: topic.to_owned(),
            exchanges,
        },
    }
}

/// Deletes, when dropped, every queue whose name starts with `prefix`, and `exchanges`.
struct TopicCleanup {
    prefix: String,
    exchanges: Vec<String>,
}

impl Drop for TopicCleanup {
    fn drop(&mut self) {
        let queues: Vec<String> = list("list_queues", &["name"])
            .into_iter()
            .filter_map(|row| row.into_iter().next())
            .filter(|name| name.starts_with(&self.prefix))
            .collect();
        drop(DeleteOnDrop {
            queues: std::sync::Mutex::new(queues),
            exchanges: std::mem::take(&mut self.exchanges),
        });
    }
}
