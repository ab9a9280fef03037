//! Memory-transport round trips: a 16-byte echo call through encode, the in-process
//! broker, decode, dispatch, reply encode and decode — everything but a network.

use crate::measure;
use crate::rabbit::{Layout, OursClient, OursServer, transport};

/// Options of the memory benchmark.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Sequential calls to measure (after a warm-up of a tenth as many).
    #[arg(long, default_value_t = 50_000)]
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
}

pub(crate) fn run(args: Args) -> Result<(), String> {
    let runtime = measure::runtime(args.workers).map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let url = "memory://bench";
        let transport = transport(url, Layout::Default).await?;
        let server = OursServer::start(transport.clone(), "bench", Default::default()).await?;
        let client = OursClient::new(transport, "bench");
        let outcome = measure::calls(&client, args.payload_bytes, args.calls, args.in_flight).await;
        server.stop(url).await?;
        let (sequential, concurrent) = outcome?;
        measure::print(
            &format!(
                "memory transport, {} B echo, {} runtime worker(s)",
                args.payload_bytes, args.workers
            ),
            args.in_flight,
            &sequential,
            &concurrent,
        );
        Ok(())
    })
}
