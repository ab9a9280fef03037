//! `rpc-bench`: measures oslo-rpc. See BENCHMARKS.md for the workloads and how to run them.

mod memory;
mod stats;

use clap::{Parser, Subcommand};

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
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Memory(args) => memory::run(args),
    };
    if let Err(error) = result {
        eprintln!("rpc-bench: {error}");
        std::process::exit(1);
    }
}
