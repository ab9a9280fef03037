//! `oslo-rpc`: poke oslo.messaging RPC services from the shell, the way grpcurl pokes
//! gRPC services.

mod failure;
mod kwargs;
mod notify;
mod schema_check;
mod tap;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use oslo_rpc::wire::{self, RawJson};
use oslo_rpc::{Context, RpcClient, RpcVersion, Target, Transport};

use failure::Failure;

pub(crate) const DEFAULT_URL: &str = "rabbit://guest:guest@127.0.0.1:5672/";

const AFTER_HELP: &str = "\
Exit codes: 0 success; 1 the server raised (printed as `module.Class: message`);
2 bad URL, target, version, argument or option, or a version cap refusal; 3 timeout;
4 the broker could not be reached.

Examples:
  oslo-rpc call --topic calc --namespace calc --version 1.3 add a=2 b=3
  oslo-rpc call --topic calc --server host-1 echo '{\"payload\": [1, \"two\"]}'
  oslo-rpc cast --topic calc --fanout --namespace calc record tag=hello
  oslo-rpc call --topic compute --context '{\"request_id\": \"req-1\"}' ping
  oslo-rpc tap --topic calc
  oslo-rpc notify --topic notifications --event-type compute.instance.create.end --priority info \
      --publisher-id compute.host1 id=1 state=active
  oslo-rpc listen --topic notifications --pool billing --priority info --count 10";

#[derive(Parser)]
#[command(
    name = "oslo-rpc",
    version,
    about = "Call, cast and watch oslo.messaging RPC services",
    after_help = AFTER_HELP
)]
struct Cli {
    /// Print errors as one JSON object on stderr instead of a line of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Call METHOD and print its JSON result.
    #[command(after_help = AFTER_HELP)]
    Call(Request),
    /// Cast METHOD (no reply); returns once the broker has the message.
    #[command(after_help = AFTER_HELP)]
    Cast {
        #[command(flatten)]
        request: Request,
        /// Cast to every server of the topic.
        #[arg(long)]
        fanout: bool,
    },
    /// Print every request sent to a topic as one JSON line, as it passes (a temporary
    /// queue of its own: no server loses a message).
    #[command(after_help = "Example:\n  oslo-rpc tap --topic compute | jq .method")]
    Tap {
        #[command(flatten)]
        bus: Bus,
        /// Topic to watch.
        #[arg(long)]
        topic: String,
        /// Stop after this many requests (default: until Ctrl-C).
        #[arg(long)]
        count: Option<u64>,
    },
    /// Send one notification; returns once the broker confirmed it.
    #[command(after_help = AFTER_HELP)]
    Notify(notify::NotifyCommand),
    /// Print every notification received as one JSON line (priority, publisher_id,
    /// event_type, payload, ctxt, metadata), as oslo's listener hands them to endpoints.
    /// The queues stay when it stops, as oslo's listener leaves them.
    #[command(after_help = AFTER_HELP)]
    Listen(notify::ListenCommand),
    /// Interface schemas (as `#[rpc_endpoint]` generates them).
    #[command(subcommand)]
    Schema(SchemaCommand),
}

#[derive(Subcommand)]
enum SchemaCommand {
    /// Compare two versions of an interface schema; exit 1 when the change breaks old
    /// clients or servers (removed methods or arguments, changed types, new required
    /// arguments, a breaking change without a major version bump).
    #[command(after_help = "Example:\n  oslo-rpc schema check schemas/calc.json new/calc.json")]
    Check {
        /// The schema before the change.
        old: PathBuf,
        /// The schema after the change.
        new: PathBuf,
        /// Also fail when an addition lacks a `since` or a minor version bump.
        #[arg(long)]
        strict: bool,
    },
}

#[derive(Args)]
struct Bus {
    /// Transport URL [default: $OSLO_RPC_URL, else rabbit://guest:guest@127.0.0.1:5672/]
    #[arg(long, env = "OSLO_RPC_URL", hide_env_values = true, default_value = DEFAULT_URL, hide_default_value = true)]
    url: String,
    /// Exchange to send to (default: the control exchange, `openstack`).
    #[arg(long)]
    exchange: Option<String>,
}

#[derive(Args)]
struct Request {
    #[command(flatten)]
    bus: Bus,
    /// Topic of the service.
    #[arg(long)]
    topic: String,
    /// One server of the topic.
    #[arg(long)]
    server: Option<String>,
    /// Endpoint namespace (omit for the null namespace).
    #[arg(long)]
    namespace: Option<String>,
    /// Message version, e.g. 1.3.
    #[arg(long)]
    version: Option<String>,
    /// Refuse to send a message above this version.
    #[arg(long = "version-cap")]
    version_cap: Option<String>,
    /// Seconds to wait for the reply (and to publish).
    #[arg(long, default_value_t = 60.0)]
    timeout: f64,
    /// Ask for heartbeats; fail when none arrives for this many seconds.
    #[arg(long = "call-monitor-timeout")]
    call_monitor_timeout: Option<f64>,
    /// Request context as a JSON object (default: a fresh request_id).
    #[arg(long)]
    context: Option<String>,
    /// The RPC method.
    method: String,
    /// Keyword arguments: one JSON object, or key=value pairs (values are JSON, else strings).
    args: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("oslo-rpc: cannot start the async runtime: {error}");
            return ExitCode::from(failure::code::TRANSPORT);
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Call(request) => call(request).await,
            Command::Cast { request, fanout } => cast(request, fanout).await,
            Command::Tap { bus, topic, count } => {
                let transport = Transport::connect(&bus.url).await?;
                tap::run(transport, &topic, bus.exchange.as_deref(), count).await
            }
            Command::Notify(command) => notify::notify(command).await,
            Command::Listen(command) => notify::listen(command).await,
            Command::Schema(SchemaCommand::Check { old, new, strict }) => {
                match schema_check::run(&old, &new, strict, cli.json)? {
                    schema_check::Verdict::Compatible => Ok(()),
                    schema_check::Verdict::Breaking => Err(Failure::Breaking),
                }
            }
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(cli.json),
    }
}

async fn call(request: Request) -> Result<(), Failure> {
    let (client, ctx, args, version) = prepare(&request, false).await?;
    let result: RawJson = client
        .call_raw(&ctx, &request.method, version, &args)
        .await?;
    println!("{result}");
    Ok(())
}

async fn cast(request: Request, fanout: bool) -> Result<(), Failure> {
    let (client, ctx, args, version) = prepare(&request, fanout).await?;
    client
        .cast_typed(&ctx, &request.method, version, &args)
        .await?;
    Ok(())
}

/// Checks every input before anything is sent, and builds the client.
async fn prepare(
    request: &Request,
    fanout: bool,
) -> Result<(RpcClient, Context, wire::Args, Option<RpcVersion>), Failure> {
    let usage = Failure::Usage;
    let version = parse_version("--version", request.version.as_deref())?;
    let cap = parse_version("--version-cap", request.version_cap.as_deref())?;
    let timeout = seconds("--timeout", request.timeout)?;
    let monitor = request
        .call_monitor_timeout
        .map(|s| seconds("--call-monitor-timeout", s))
        .transpose()?;
    let ctx = match &request.context {
        None => Context::with_new_request_id(),
        Some(text) => {
            let map: serde_json::Map<String, serde_json::Value> = wire::json::from_str(text)
                .map_err(|e| usage(format!("--context is not a JSON object: {e}")))?;
            Context::from_map(map)
        }
    };
    let args = kwargs::parse_kwargs(&request.args).map_err(usage)?;

    let transport = Transport::connect(&request.bus.url).await?;
    let mut target = Target::topic(&request.topic);
    target.exchange = request.bus.exchange.clone();
    target.namespace = request.namespace.clone();
    target.server = request.server.clone();
    target.fanout = fanout;
    let mut client = RpcClient::new(transport, target).timeout(timeout);
    if let Some(cap) = cap {
        client = client.version_cap(cap);
    }
    if let Some(monitor) = monitor {
        client = client.call_monitor_timeout(monitor);
    }
    Ok((client, ctx, args, version))
}

fn parse_version(flag: &str, text: Option<&str>) -> Result<Option<RpcVersion>, Failure> {
    text.map(|t| RpcVersion::parse(t).map_err(|e| Failure::Usage(format!("{flag}: {e}"))))
        .transpose()
}

fn seconds(flag: &str, value: f64) -> Result<Duration, Failure> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            Failure::Usage(format!(
                "{flag} must be a positive number of seconds, got {value}"
            ))
        })
}
