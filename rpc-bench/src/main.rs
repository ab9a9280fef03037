//! `rpc-bench`: measures oslo-rpc. See BENCHMARKS.md for the workloads and how to run them.

mod chaos;
mod heap;
mod measure;
mod memory;
mod notify;
mod peer;
mod rabbit;
mod raw_lapin;
mod soak;
mod stats;
mod suite;
mod usage;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Benchmarks of oslo-rpc (see BENCHMARKS.md)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every workload for raw lapin, oslo-rpc and Python oslo.messaging in one run, with
    /// medians, ratios and the targets (the benchmark of BENCHMARKS.md).
    Suite(suite::Args),
    /// Round trips over the in-process memory transport through the full wire codec.
    Memory(memory::Args),
    /// Round trips of oslo-rpc over RabbitMQ, client and server in this process.
    Rabbit(rabbit::Args),
    /// The baseline: a minimal request/reply loop on lapin, same broker, same payload.
    RawLapin(raw_lapin::Args),
    /// Notifications sent (confirmed) and consumed per second, oslo-rpc against Python
    /// oslo.messaging in one run.
    Notify(notify::Args),
    /// An echo server in a process of its own, driven by `suite` over stdin/stdout.
    PeerServer(peer::ServerArgs),
    /// One workload against a `peer-server`, driven by `suite` over stdin/stdout.
    PeerClient(peer::ClientArgs),
    /// Calls and confirmed casts while the broker's connections are closed, its
    /// application restarted and memory alarms raised, on a RabbitMQ node the soak owns;
    /// exact accounting at the end (RELIABILITY.md).
    Soak(soak::Args),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Suite(args) => suite::run(args),
        Command::Memory(args) => memory::run(args),
        Command::Rabbit(args) => rabbit::run(args),
        Command::RawLapin(args) => raw_lapin::run(args),
        Command::Notify(args) => notify::run(args),
        Command::PeerServer(args) => peer::serve(args),
        Command::PeerClient(args) => peer::client(args),
        Command::Soak(args) => soak::run(args),
    };
    if let Err(error) = result {
        eprintln!("rpc-bench: {error}");
        std::process::exit(1);
    }
}
