//! Test support shared by the transport suites: a `calc` endpoint built from closures, a
//! recorder for casts, and a fixture with unique names per test (the broker is shared).

#![allow(dead_code, unreachable_pub)]

pub mod cluster;
pub mod production;
pub mod proxy;
pub mod rabbit;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use oslo_rpc::ServerHandle;
use oslo_rpc::prelude::*;
use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc};

/// Polls `done` every 20 ms for at most `limit`; the time it took, or `None`.
pub async fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if done() {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// Something a server's endpoint observed, for tests to await instead of sleeping.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub server: String,
    pub what: String,
    pub value: Value,
}

/// Collects events from every server of a test.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::UnboundedSender<Event>,
    rx: Arc<Mutex<mpsc::UnboundedReceiver<Event>>>,
}

impl Default for Recorder {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Recorder {
            tx,
            rx: Arc::new(Mutex::new(rx)),
        }
    }
}

impl Recorder {
    pub fn record(&self, server: &str, what: &str, value: Value) {
        let _ = self.tx.send(Event {
            server: server.to_owned(),
            what: what.to_owned(),
            value,
        });
    }

    /// The next event, or a panic after 10 s.
    pub async fn next(&self) -> Event {
        let mut rx = self.rx.lock().await;
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("no event within 10 s")
            .expect("recorder closed")
    }

    /// The string values of the next `count` events, sorted: a server dispatches
    /// concurrently, so its handlers may record in another order than messages arrived.
    pub async fn next_values_sorted(&self, count: usize) -> Vec<String> {
        let mut values = Vec::with_capacity(count);
        for _ in 0..count {
            let value = self.next().await.value;
            values.push(value.as_str().unwrap_or_default().to_owned());
        }
        values.sort();
        values
    }

    /// The next event, or `None` when none arrives within `wait`.
    pub async fn next_within(&self, wait: Duration) -> Option<Event> {
        let mut rx = self.rx.lock().await;
        tokio::time::timeout(wait, rx.recv()).await.ok().flatten()
    }

    /// True when no event arrives within `wait`.
    pub async fn quiet_for(&self, wait: Duration) -> bool {
        let mut rx = self.rx.lock().await;
        tokio::time::timeout(wait, rx.recv()).await.is_err()
    }
}

/// Concurrency gauge for the `sleep` method.
#[derive(Default)]
pub struct Gauge {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }
    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

#[allow(clippy::result_large_err)] // a test helper; RemoteError is what handlers return
fn int(args: &serde_json::Map<String, Value>, name: &str) -> Result<i64, RemoteError> {
    args.get(name).and_then(Value::as_i64).ok_or_else(|| {
        RemoteError::new(
            "TypeError",
            "builtins",
            format!("{name} must be an integer"),
        )
    })
}

/// The `calc` endpoint (namespace `calc`, version 1.3) as closures over JSON values.
pub fn calc_endpoint(server: &str, recorder: &Recorder, gauge: &Arc<Gauge>) -> DynamicEndpoint {
    let (s1, r1) = (server.to_owned(), recorder.clone());
    let (s2, r2, g2) = (server.to_owned(), recorder.clone(), gauge.clone());
    DynamicEndpoint::builder()
        .namespace("calc")
        .version(RpcVersion::new(1, 3))
        .method("add", |_ctx, args| async move {
            Ok::<_, RemoteError>(json!(int(&args, "a")? + int(&args, "b")?))
        })
        .method("echo", |_ctx, args| async move {
            Ok::<_, RemoteError>(args.get("payload").cloned().unwrap_or(Value::Null))
        })
        .method("sleep", move |_ctx, args| {
            let (server, recorder, gauge) = (s2.clone(), r2.clone(), g2.clone());
            async move {
                let seconds = args.get("seconds").and_then(Value::as_f64).unwrap_or(0.0);
                gauge.enter();
                recorder.record(&server, "sleep", json!(seconds));
                tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
                gauge.leave();
                Ok::<_, RemoteError>(json!(seconds))
            }
        })
        .method("sleep_then_fail", |_ctx, args| async move {
            let seconds = args.get("seconds").and_then(Value::as_f64).unwrap_or(0.0);
            tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
            Err::<Value, _>(RemoteError::new(
                "ValueError",
                "builtins",
                "failed after sleeping",
            ))
        })
        .method("fail", |_ctx, args| async move {
            let kind = args.get("kind").and_then(Value::as_str).unwrap_or("");
            let mut error = match kind {
                "value" => RemoteError::new("ValueError", "builtins", "bad value"),
                "custom" => RemoteError::new("CalcError", "calc_errors", "custom err"),
                _ => RemoteError::new("OtherError", "calc_server", format!("other err: {kind}")),
            };
            if kind == "custom" {
                error.kwargs.insert("code".into(), json!(7));
            }
            Err::<Value, _>(error)
        })
        .method("context", |ctx: Context, _args| async move {
            Ok::<_, RemoteError>(Value::Object(ctx.into_map()))
        })
        .method("record", move |_ctx, args| {
            let (server, recorder) = (s1.clone(), r1.clone());
            async move {
                recorder.record(
                    &server,
                    "record",
                    args.get("tag").cloned().unwrap_or(Value::Null),
                );
                Ok::<_, RemoteError>(Value::Null)
            }
        })
        .build()
}

/// The namespace-less endpoint at version 2.0.
pub fn ping_endpoint() -> DynamicEndpoint {
    DynamicEndpoint::builder()
        .version(RpcVersion::new(2, 0))
        .method("ping", |_ctx, _args| async move {
            Ok::<_, RpcError>(json!("pong"))
        })
        .build()
}

/// One test's world: a transport, a unique topic and the servers started on it.
pub struct Fixture {
    pub transport: Transport,
    pub topic: String,
    pub recorder: Recorder,
    pub gauge: Arc<Gauge>,
    servers: Vec<ServerHandle>,
    /// The RabbitMQ driver, kept to delete what the test declared.
    pub rabbit: Option<Arc<rpc_runtime::transport::rabbit::RabbitDriver>>,
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

impl Fixture {
    pub async fn new(url: &str) -> Fixture {
        let rabbit = rabbit::is_rabbit(url).then(|| rabbit::driver(url));
        Fixture::with_rabbit(url, rabbit).await
    }

    /// A fixture on a RabbitMQ driver built by the test.
    pub async fn with_rabbit(
        url: &str,
        rabbit: Option<Arc<rpc_runtime::transport::rabbit::RabbitDriver>>,
    ) -> Fixture {
        let mut builder = Transport::builder(url).reply_retry_timeout(Duration::from_secs(2));
        if let Some(driver) = &rabbit {
            builder = builder.driver(driver.clone());
        }
        let transport = builder.build().expect("transport");
        Fixture {
            transport,
            topic: unique("t"),
            recorder: Recorder::default(),
            gauge: Arc::new(Gauge::default()),
            servers: Vec::new(),
            rabbit,
        }
    }

    /// Starts a calc + ping server named `name` on the fixture's topic.
    pub async fn serve(&mut self, name: &str) {
        self.serve_with(name, |builder| builder).await;
    }

    pub async fn serve_with(
        &mut self,
        name: &str,
        configure: impl FnOnce(oslo_rpc::RpcServerBuilder) -> oslo_rpc::RpcServerBuilder,
    ) {
        let builder = RpcServer::builder(self.transport.clone(), Target::server(&self.topic, name))
            .endpoint(calc_endpoint(name, &self.recorder, &self.gauge))
            .endpoint(ping_endpoint());
        let server = configure(builder)
            .build()
            .expect("server")
            .start()
            .await
            .expect("start");
        self.servers.push(server);
    }

    pub fn take_server(&mut self, index: usize) -> ServerHandle {
        self.servers.remove(index)
    }

    /// A client for the calc namespace on the fixture's topic.
    pub fn calc(&self) -> RpcClient {
        RpcClient::new(
            self.transport.clone(),
            Target::topic(&self.topic).with_namespace("calc"),
        )
        .timeout(Duration::from_secs(10))
    }

    /// Stops the servers and the transport; on RabbitMQ, deletes the queues and exchanges
    /// the test declared (never the shared control exchange).
    pub async fn finish(mut self) {
        for server in self.servers.drain(..) {
            server.stop().await.expect("stop");
        }
        self.transport.shutdown().await;
        if let Some(driver) = self.rabbit.take() {
            let control = self.transport.config().control_exchange.clone();
            rabbit::delete_declared(&driver, &[control.as_str()]).await;
        }
    }
}

/// Publishes a request body, as a foreign peer would, to the fixture's topic on the
/// control exchange.
pub async fn publish_request(f: &Fixture, body: &[u8]) {
    use rpc_runtime::transport::{Destination, Driver, PublishOptions};
    let destination = Destination::Topic {
        exchange: "openstack",
        routing_key: &f.topic,
    };
    match &f.rabbit {
        Some(driver) => driver
            .send(destination, body, PublishOptions::default())
            .await
            .expect("published"),
        None => {
            let name = f
                .transport
                .url()
                .memory_broker_name()
                .expect("a memory transport");
            rpc_runtime::transport::memory::MemoryBroker::named(name)
                .publish_raw(destination, body.to_vec(), Some("application/json"))
                .expect("published");
        }
    }
}

impl Drop for Fixture {
    /// A test that panicked before `finish` still deletes what it declared on the broker.
    fn drop(&mut self) {
        if let Some(driver) = self.rabbit.take() {
            let control = self.transport.config().control_exchange.clone();
            rabbit::delete_declared_blocking(driver, control);
        }
    }
}
