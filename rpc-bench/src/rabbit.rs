//! oslo-rpc over RabbitMQ: a 16-byte echo call through the full stack (envelope, publish
//! with confirm on a pooled channel, server consume/ack/dispatch, reply with confirm,
//! reply consumer, `_msg_id` matching). Server and client use separate transports, so
//! each has its own connections, as two processes would.

use std::sync::Arc;

use oslo_rpc::prelude::*;
use oslo_rpc::transport::rabbit::{Connections, RabbitDriver};
use serde_json::{Value, json};

use crate::measure;

/// Options of the rabbit benchmark.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The broker.
    #[arg(
        long,
        env = "RABBIT_URL",
        default_value = "rabbit://guest:guest@127.0.0.1:5672/"
    )]
    url: String,
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
    /// Publish and consume on one connection per transport instead of two.
    #[arg(long)]
    one_connection: bool,
}

async fn transport(args: &Args) -> Result<Transport, String> {
    let url = oslo_rpc::TransportUrl::parse(&args.url).map_err(|e| e.to_string())?;
    let connections = if args.one_connection {
        Connections::Shared
    } else {
        Connections::Separate
    };
    let driver = RabbitDriver::with_connections(&url, connections).map_err(|e| e.to_string())?;
    Transport::builder(&args.url)
        .driver(Arc::new(driver))
        .connect()
        .await
        .map_err(|e| e.to_string())
}

pub(crate) fn run(args: Args) -> Result<(), String> {
    let runtime = measure::runtime(args.workers).map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let fail = |e: RpcError| e.to_string();
        let topic = format!("rpc-bench-{}", uuid::Uuid::new_v4().simple());
        let server_transport = transport(&args).await?;
        let echo = DynamicEndpoint::builder()
            .method("echo", |_ctx, mut args| async move {
                Ok::<_, RpcError>(args.remove("payload").unwrap_or_default())
            })
            .build();
        let server = RpcServer::builder(server_transport.clone(), Target::server(&topic, "b1"))
            .endpoint(echo)
            .build()
            .map_err(fail)?
            .start()
            .await
            .map_err(fail)?;
        let client_transport = transport(&args).await?;
        let client = Arc::new(RpcClient::new(
            client_transport.clone(),
            Target::topic(&topic),
        ));
        let ctx = Arc::new(Context::new().with_request_id("req-bench"));
        let payload: Arc<Value> = Arc::new(json!({"payload": "0123456789abcdef"}));
        let call = move || {
            let (client, ctx, payload) = (client.clone(), ctx.clone(), payload.clone());
            async move {
                let echoed = client
                    .call(&ctx, "echo", (*payload).clone())
                    .await
                    .map_err(|e| e.to_string())?;
                if echoed != payload["payload"] {
                    return Err(format!("echo returned {echoed}"));
                }
                Ok::<(), String>(())
            }
        };
        let outcome = async {
            let sequential = measure::sequential(args.calls, &call).await?;
            let concurrent = measure::concurrent(args.calls, args.in_flight, call.clone()).await?;
            Ok::<_, String>((sequential, concurrent))
        }
        .await;
        server.stop().await.map_err(fail)?;
        client_transport.shutdown().await;
        server_transport.shutdown().await;
        crate::raw_lapin::delete_queues(&args.url, &[topic.clone(), format!("{topic}.b1")]).await;
        let (sequential, concurrent) = outcome?;
        measure::print(
            &format!(
                "oslo-rpc over RabbitMQ ({}; {}), 16 B echo, {} runtime worker(s)",
                oslo_rpc::TransportUrl::parse(&args.url).map_err(|e| e.to_string())?,
                if args.one_connection {
                    "one connection per transport"
                } else {
                    "publish and consume connections"
                },
                args.workers
            ),
            args.in_flight,
            &sequential,
            &concurrent,
        );
        Ok(())
    })
}
