//! `rpc-bench`: measures oslo-rpc. See BENCHMARKS.md for the workloads and how to run them.

mod measure;
mod memory;
mod rabbit;
mod raw_lapin;
mod stats;

use clap::{Parser, Subcommand};
use oslo_rpc::RpcError;

#[derive(Parser)]
#[command(about = "Benchmarks of oslo-rpc (see BENCHMARKS.md)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Round trips over the in-process memory transport through the full wire codec.
    Memory(memory::Args),
    /// Round trips of oslo-rpc over RabbitMQ (the machine's broker by default).
    Rabbit(rabbit::Args),
    /// The baseline: a minimal request/reply loop on lapin, same broker, same payload.
    RawLapin(raw_lapin::Args),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Memory(args) => memory::run(args),
        Command::Rabbit(args) => rabbit::run(args).map_err(RpcError::transport),
        Command::RawLapin(args) => raw_lapin::run(args).map_err(RpcError::transport),
    };
    if let Err(error) = result {
        eprintln!("rpc-bench: {error}");
        std::process::exit(1);
    }
}
