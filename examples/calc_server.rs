//! A `calc` server over RabbitMQ (or any transport URL): serves `Calc` (namespace `calc`,
//! 1.3) and `Ping` (null namespace, 2.0), prints `READY` once consuming, and stops
//! gracefully on SIGINT/SIGTERM (calls in flight still get their replies).
//!
//! ```sh
//! cargo run --example calc_server -- --topic calc --server host-1
//! cargo run --example calc_server -- --config-file /etc/nova/nova.conf --topic calc
//! RUST_LOG=debug cargo run --example calc_server   # every request, with its request_id
//! ```
//!
//! It logs on stderr: connection events (connected, unreachable, reconnected, blocked) at
//! info by default; `RUST_LOG` sets the filter (`RUST_LOG=oslo_rpc_runtime=debug` for the
//! runtime's lines only).

#[path = "calc/bus.rs"]
mod bus;
mod calc;
mod logging;

use std::io::Write;

use calc::{CalcEndpoint, CalcService, PingEndpoint, PingService};
use clap::Parser;
use oslo_rpc::prelude::*;
use tokio::signal::unix::{SignalKind, signal};

#[derive(Parser)]
#[command(about = "Serve the calc interface")]
struct Args {
    #[command(flatten)]
    bus: bus::Bus,
    /// Server name [default: the host name].
    #[arg(long)]
    server: Option<String>,
    /// Control exchange [default: the config files' control_exchange, else openstack].
    #[arg(long)]
    exchange: Option<String>,
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    logging::init("info");
    let mut builder = args.bus.transport()?;
    if let Some(exchange) = &args.exchange {
        builder = builder.control_exchange(exchange);
    }
    let transport = builder.build()?;
    let server_name = args.server.unwrap_or_else(host_name);
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;

    let server = RpcServer::builder(
        transport.clone(),
        Target::server(&args.bus.topic, &server_name),
    )
    .endpoint(CalcEndpoint::new(CalcService::new()))
    .endpoint(PingEndpoint::new(PingService))
    .build()?
    .start()
    .await?;
    println!("READY");
    std::io::stdout().flush()?;
    eprintln!(
        "calc_server: serving topic {:?} as {:?} on {}",
        args.bus.topic,
        server_name,
        transport.url()
    );

    tokio::select! {
        _ = terminate.recv() => eprintln!("calc_server: SIGTERM, stopping"),
        _ = interrupt.recv() => eprintln!("calc_server: SIGINT, stopping"),
    }
    server.stop().await?;
    transport.shutdown().await;
    eprintln!("calc_server: stopped");
    Ok(())
}
