//! A `calc` client: calls a calc server (Rust or Python) over RabbitMQ.
//!
//! ```sh
//! cargo run --example calc_client -- add 2 3
//! cargo run --example calc_client                 # a short tour of the interface
//! cargo run --example calc_client -- --config-file /etc/nova/nova.conf ping
//! ```

#[path = "calc/bus.rs"]
mod bus;
mod calc;
mod logging;

use std::time::Duration;

use calc::{CalcClient, PingClient};
use clap::{Parser, Subcommand};
use oslo_rpc::prelude::*;

#[derive(Parser)]
#[command(about = "Call the calc interface")]
struct Args {
    #[command(flatten)]
    bus: bus::Bus,
    /// One server of the topic (default: any).
    #[arg(long)]
    server: Option<String>,
    /// Seconds to wait for each reply [default: the config files' rpc_response_timeout,
    /// else 60].
    #[arg(long)]
    timeout: Option<f64>,
    #[command(subcommand)]
    call: Option<Call>,
}

#[derive(Subcommand)]
enum Call {
    /// a + b
    Add { a: i64, b: i64 },
    /// Echo a JSON value.
    Echo { payload: String },
    /// Sleep on the server (with call-monitor heartbeats every second).
    Sleep { seconds: f64 },
    /// Ask the server to fail: value, key, custom or anything else.
    Fail { kind: String },
    /// ping() in the null namespace at 2.0.
    Ping,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    logging::init("warn");
    let transport = args.bus.transport()?.build()?;
    let mut target = Target::topic(&args.bus.topic);
    target.server = args.server.clone();
    let mut rpc = RpcClient::new(transport.clone(), target);
    if let Some(seconds) = args.timeout {
        rpc = rpc.timeout(Duration::try_from_secs_f64(seconds)?);
    }
    let calc = CalcClient::new(rpc.clone());
    let ping = PingClient::new(rpc);
    let ctx = Context::with_new_request_id();

    match args.call {
        Some(Call::Add { a, b }) => println!("{}", calc.add(&ctx, a, b).await?),
        Some(Call::Echo { payload }) => {
            let payload: serde_json::Value =
                serde_json::from_str(&payload).unwrap_or(serde_json::Value::String(payload));
            println!("{}", calc.echo(&ctx, payload).await?);
        }
        Some(Call::Sleep { seconds }) => {
            let monitored = calc.call_monitor_timeout(Duration::from_secs(2));
            println!("{}", monitored.sleep(&ctx, seconds).await?);
        }
        Some(Call::Fail { kind }) => match calc.fail(&ctx, kind).await {
            Ok(()) => println!("no error"),
            Err(error) => println!("{error}"),
        },
        Some(Call::Ping) => println!("{}", ping.ping(&ctx).await?),
        None => {
            println!("add(2, 3)       -> {}", calc.add(&ctx, 2, 3).await?);
            println!(
                "echo([1, \"a\"]) -> {}",
                calc.echo(&ctx, serde_json::json!([1, "a"])).await?
            );
            println!("ping()          -> {}", ping.ping(&ctx).await?);
            match calc.fail(&ctx, "value".to_owned()).await {
                Err(error) => println!("fail(\"value\")   -> {error}"),
                Ok(()) => println!("fail(\"value\")   -> no error?"),
            }
        }
    }
    transport.shutdown().await;
    Ok(())
}
