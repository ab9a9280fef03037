//! oslo-rpc as a benchmarked system: an echo server (`echo(payload)` returns it,
//! `sink(payload)` counts a cast) and a client, on any transport; and the `rabbit`
//! command, a 16-byte echo through the full stack over RabbitMQ (envelope, publish with
//! confirm, server consume/ack/dispatch, reply with confirm, reply consumer, `_msg_id`
//! matching). Server and client use separate transports, so each has its own
//! connections, as two processes would.

use std::sync::Arc;

use oslo_rpc::prelude::*;
use rpc_runtime::transport::rabbit::{Connections, RabbitDriver};
use serde_json::{Value, json};

use crate::measure;
use crate::measure::EchoClient;
use crate::peer::ServerCounters;

/// How oslo-rpc spreads its traffic over connections (`RabbitDriver::with_connections`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default)]
pub(crate) enum Layout {
    /// The driver's default.
    #[default]
    Default,
    /// One connection per transport, and a consuming one for server listeners while the
    /// broker blocks it.
    Adaptive,
    /// A publishing and a consuming connection per transport.
    Separate,
    /// One connection per transport.
    Shared,
    /// A client's reply consumer on its publishing connection; server listeners on a
    /// connection of their own.
    SeparateListeners,
}

impl Layout {
    pub(crate) fn connections(self) -> Connections {
        match self {
            Layout::Default => Connections::default(),
            Layout::Adaptive => Connections::Adaptive,
            Layout::Separate => Connections::Separate,
            Layout::Shared => Connections::Shared,
            Layout::SeparateListeners => Connections::SeparateListeners,
        }
    }
}

/// Options of the rabbit benchmark.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    broker: crate::measure::Broker,
    /// Sequential calls to measure (after a warm-up of a tenth as many); the in-flight
    /// run makes as many calls.
    #[arg(long, default_value_t = 20_000)]
    calls: usize,
    /// Calls in flight for the throughput run.
    #[arg(long, default_value_t = 32)]
    in_flight: usize,
    /// Runtime worker threads (1 = current-thread runtime).
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Size of the echoed payload.
    #[arg(long, default_value_t = 16)]
    payload_bytes: usize,
    /// How each transport uses AMQP connections.
    #[arg(long, value_enum, default_value_t = Layout::Default)]
    connections: Layout,
}

/// A transport for `url`; RabbitMQ ones with the given connection layout.
pub(crate) async fn transport(url: &str, layout: Layout) -> Result<Transport, String> {
    let parsed = oslo_rpc::TransportUrl::parse(url).map_err(|e| e.to_string())?;
    let mut builder = Transport::builder(url);
    if parsed.scheme() != "memory" {
        let driver = RabbitDriver::with_connections(&parsed, layout.connections())
            .map_err(|e| e.to_string())?;
        builder = builder.driver(Arc::new(driver));
    }
    builder.build().map_err(|e| e.to_string())
}

/// The oslo-rpc echo server on `<topic>` (server name `bench`).
pub(crate) struct OursServer {
    handle: oslo_rpc::ServerHandle,
    topic: String,
}

/// The server name the benchmark's oslo-rpc servers use.
const SERVER: &str = "bench";

/// The echo server's method that returns its `payload`.
pub(crate) const ECHO: &str = "echo";
/// The echo server's method that counts a cast.
pub(crate) const SINK: &str = "sink";

/// The context of the benchmark's requests (their `_context_request_id`).
pub(crate) fn bench_context() -> Context {
    Context::new().with_request_id("req-bench")
}

/// The arguments of the benchmark's requests.
pub(crate) fn bench_args(payload: &str) -> Value {
    json!({ "payload": payload })
}

impl OursServer {
    pub(crate) async fn start(
        transport: Transport,
        topic: &str,
        counters: Arc<ServerCounters>,
    ) -> Result<Self, String> {
        let sinks = counters.clone();
        let endpoint = DynamicEndpoint::builder()
            .method(ECHO, move |_ctx, mut args| {
                counters.echoed();
                async move { Ok::<_, RpcError>(args.remove("payload").unwrap_or_default()) }
            })
            .method(SINK, move |_ctx, _args| {
                sinks.processed();
                async move { Ok::<_, RpcError>(Value::Null) }
            })
            .build();
        let server = RpcServer::builder(transport, Target::server(topic, SERVER))
            .endpoint(endpoint)
            .build()
            .map_err(|e| e.to_string())?;
        let handle = server.start().await.map_err(|e| e.to_string())?;
        Ok(OursServer {
            handle,
            topic: topic.to_owned(),
        })
    }

    /// Stops gracefully (the fanout queue goes with it) and deletes the topic and server
    /// queues, which never expire (spec §2.1).
    pub(crate) async fn stop(self, url: &str) -> Result<(), String> {
        let stopped = self.handle.stop().await.map_err(|e| e.to_string());
        if !url.starts_with("memory:") {
            let queues = [self.topic.clone(), format!("{}.{SERVER}", self.topic)];
            crate::raw_lapin::delete_queues(url, &queues).await;
        }
        stopped
    }
}

/// The oslo-rpc client of the echo server.
#[derive(Clone)]
pub(crate) struct OursClient {
    client: Arc<RpcClient>,
    ctx: Arc<Context>,
}

impl OursClient {
    pub(crate) fn new(transport: Transport, topic: &str) -> Self {
        OursClient {
            client: Arc::new(RpcClient::new(transport, Target::topic(topic))),
            ctx: Arc::new(bench_context()),
        }
    }
}

impl EchoClient for OursClient {
    async fn call(&self, payload: &str) -> Result<(), String> {
        let echoed = self
            .client
            .call(&self.ctx, ECHO, bench_args(payload))
            .await
            .map_err(|e| e.to_string())?;
        if echoed.as_str() != Some(payload) {
            return Err(format!("echo returned {echoed}"));
        }
        Ok(())
    }

    async fn cast(&self, payload: &str) -> Result<(), String> {
        self.client
            .cast(&self.ctx, SINK, bench_args(payload))
            .await
            .map_err(|e| e.to_string())
    }
}

pub(crate) fn run(args: Args) -> Result<(), String> {
    let runtime = measure::runtime(args.workers).map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let topic = format!("rpc-bench-{}", uuid::Uuid::new_v4().simple());
        let server_transport = transport(&args.broker.url, args.connections).await?;
        let server = OursServer::start(server_transport.clone(), &topic, Arc::default()).await?;
        let client_transport = transport(&args.broker.url, args.connections).await?;
        let client = OursClient::new(client_transport.clone(), &topic);
        let outcome = measure::calls(&client, args.payload_bytes, args.calls, args.in_flight).await;
        let stopped = server.stop(&args.broker.url).await;
        client_transport.shutdown().await;
        server_transport.shutdown().await;
        let (sequential, concurrent) = outcome?;
        stopped?;
        measure::print(
            &format!(
                "oslo-rpc over {} (connections: {:?}), {} B echo, {} runtime worker(s)",
                oslo_rpc::TransportUrl::parse(&args.broker.url).map_err(|e| e.to_string())?,
                args.connections,
                args.payload_bytes,
                args.workers
            ),
            args.in_flight,
            &sequential,
            &concurrent,
        );
        Ok(())
    })
}
