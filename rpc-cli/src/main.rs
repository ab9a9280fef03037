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

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use oslo_rpc::config::{ConfigSource, OsloConfig};
use oslo_rpc::{Context, RpcClient, RpcVersion, Target, Transport};
use rpc_runtime::wire::{self, RawJson};

use failure::Failure;

pub(crate) const DEFAULT_URL: &str = "rabbit://guest:guest@127.0.0.1:5672/";
pub(crate) const URL_VARIABLE: &str = "OSLO_RPC_URL";

const AFTER_HELP: &str = "\
Logging: -v connection events, -vv every call with its request_id (or RUST_LOG).

Exit codes: 0 success; 1 the server raised (printed as `module.Class: message`);
2 bad URL, target, version, argument or option, or a version cap refusal; 3 timeout;
4 the broker could not be reached.

Examples:
  oslo-rpc call --topic calc --namespace calc --version 1.3 add a=2 b=3
  oslo-rpc call --topic calc --server host-1 echo '{\"payload\": [1, \"two\"]}'
  oslo-rpc cast --topic calc --fanout --namespace calc record tag=hello
  oslo-rpc call --topic compute --context '{\"request_id\": \"req-1\"}' ping
  oslo-rpc call --config-file /etc/nova/nova.conf --topic compute --server host-1 ping
  oslo-rpc tap --topic calc
  oslo-rpc notify --topic notifications --event-type compute.instance.create.end --priority info \
      --publisher-id compute.host1 id=1 state=active
  oslo-rpc listen --topic notifications --pool billing --priority info --count 10
  oslo-rpc notify --config-file /etc/nova/nova.conf --event-type compute.test '{}'";

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
    /// Log on stderr: -v connection events and warnings (info), -vv every call with its
    /// request_id (debug), -vvv everything (trace). Without it, RUST_LOG is the filter
    /// (e.g. RUST_LOG=oslo_rpc_runtime=debug), else only errors are logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
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
    /// Transport URL; wins over the config files' transport_url (their other options still
    /// apply, the URL's query overriding [oslo_messaging_rabbit]) [default: the config files'
    /// transport_url, else $OSLO_RPC_URL, else rabbit://guest:guest@127.0.0.1:5672/]
    #[arg(long)]
    url: Option<String>,
    /// An oslo config file, such as nova.conf: its [DEFAULT] transport_url, control_exchange
    /// and rpc_response_timeout and its [oslo_messaging_rabbit] options are used. Repeat it
    /// for several files; later files win.
    #[arg(long = "config-file", value_name = "FILE")]
    config_file: Vec<PathBuf>,
    /// A directory whose *.conf files are read in sorted order, where it stands among the
    /// --config-file options (as oslo.config reads --config-dir).
    #[arg(long = "config-dir", value_name = "DIR")]
    config_dir: Vec<PathBuf>,
    /// Exchange to send to (default: the control exchange: the config files'
    /// control_exchange, else `openstack`).
    #[arg(long)]
    exchange: Option<String>,
}

impl Bus {
    /// The config files and directories in command-line order; `matches` holds the
    /// subcommand's arguments, which know where each was given.
    fn sources(&self, matches: Option<&ArgMatches>) -> Vec<ConfigSource> {
        config_sources(&self.config_file, &self.config_dir, matches)
    }

    /// Reads the config files (printing their warnings) and builds the transport: the URL is
    /// --url, else the files' transport_url, else $OSLO_RPC_URL, else the local broker.
    async fn connect(&self, sources: &[ConfigSource], json: bool) -> Result<Transport, Failure> {
        let config = load_config(sources, json)?;
        let url = match (
            &self.url,
            config.as_ref().and_then(OsloConfig::transport_url),
        ) {
            (Some(url), _) => url.clone(),
            (None, Some(url)) => url.expose().to_owned(),
            (None, None) => std::env::var(URL_VARIABLE).unwrap_or_else(|_| DEFAULT_URL.to_owned()),
        };
        let mut builder = Transport::builder(&without_queue_manager(&url));
        if let Some(config) = &config {
            builder = builder.config(config);
        }
        Ok(builder.build()?)
    }
}

/// `url` with `use_queue_manager=false` added to its query (which wins over the config
/// files' value) when it is a RabbitMQ URL. A run of this tool is no service generation: with
/// the queue manager every run started from a shell (a process group of its own) would
/// reuse the reply queue `reply_<host>:oslo-rpc:1`, and a quorum queue may still count the
/// previous run's consumer for a moment after that run exited, handing it some of the new
/// run's replies (lost: the call times out; seen for 2 of 8 runs in a row on the test
/// cluster). A `reply_<uuid>` queue per run, left to expire as oslo's are, avoids that, and
/// needs no lock directory.
fn without_queue_manager(url: &str) -> String {
    if !oslo_rpc::TransportUrl::parse(url).is_ok_and(|parsed| parsed.is_rabbit()) {
        return url.to_owned();
    }
    let base = url.split_once('#').map_or(url, |(base, _fragment)| base);
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}use_queue_manager=false")
}

/// `--config-file` and `--config-dir` values in command-line order; `matches` holds the
/// subcommand's arguments (ids `config_file` and `config_dir`), which know where each was
/// given.
pub(crate) fn config_sources(
    config_file: &[PathBuf],
    config_dir: &[PathBuf],
    matches: Option<&ArgMatches>,
) -> Vec<ConfigSource> {
    let positions = |id: &str, count: usize| -> Option<Vec<usize>> {
        let positions: Vec<usize> = matches?.indices_of(id)?.collect();
        (positions.len() == count).then_some(positions)
    };
    let files = config_file.iter().cloned().map(ConfigSource::File);
    let dirs = config_dir.iter().cloned().map(ConfigSource::Dir);
    match (
        positions("config_file", config_file.len()),
        positions("config_dir", config_dir.len()),
    ) {
        (Some(file_positions), Some(dir_positions)) => {
            let mut sources: Vec<(usize, ConfigSource)> = file_positions
                .into_iter()
                .zip(files)
                .chain(dir_positions.into_iter().zip(dirs))
                .collect();
            sources.sort_by_key(|(position, _)| *position);
            sources.into_iter().map(|(_, source)| source).collect()
        }
        // Unreachable with clap's matches; files first is the usual order anyway.
        _ => files.chain(dirs).collect(),
    }
}

/// Reads config files, printing their warnings; `None` without any.
pub(crate) fn load_config(
    sources: &[ConfigSource],
    json: bool,
) -> Result<Option<OsloConfig>, Failure> {
    if sources.is_empty() {
        return Ok(None);
    }
    let config = OsloConfig::load(sources).map_err(|error| Failure::Usage(error.to_string()))?;
    for warning in config.warnings() {
        failure::warn(&warning.to_string(), json);
    }
    Ok(Some(config))
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
    /// Seconds to wait for the reply (and to publish) [default: the config files'
    /// rpc_response_timeout, else 60].
    #[arg(long)]
    timeout: Option<f64>,
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
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    let subcommand = matches.subcommand().map(|(_, matches)| matches);
    let json = cli.json;
    init_logging(cli.verbose);
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
            Command::Call(request) => {
                let sources = request.bus.sources(subcommand);
                call(request, &sources, json).await
            }
            Command::Cast { request, fanout } => {
                let sources = request.bus.sources(subcommand);
                cast(request, fanout, &sources, json).await
            }
            Command::Tap { bus, topic, count } => {
                let transport = bus.connect(&bus.sources(subcommand), json).await?;
                tap::run(transport, &topic, bus.exchange.as_deref(), count).await
            }
            Command::Notify(command) => notify::notify(command, subcommand, json).await,
            Command::Listen(command) => notify::listen(command, subcommand, json).await,
            Command::Schema(SchemaCommand::Check { old, new, strict }) => {
                match schema_check::run(&old, &new, strict, json)? {
                    schema_check::Verdict::Compatible => Ok(()),
                    schema_check::Verdict::Breaking => Err(Failure::Breaking),
                }
            }
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(json),
    }
}

/// Installs tracing's `fmt` subscriber on stderr (stdout carries results): `-v` info, `-vv`
/// debug, `-vvv` trace; without `-v`, `RUST_LOG`, else errors only.
fn init_logging(verbose: u8) {
    let directives = match verbose {
        0 => std::env::var("RUST_LOG").unwrap_or_else(|_| "error".to_owned()),
        1 => "info".to_owned(),
        2 => "debug".to_owned(),
        _ => "trace".to_owned(),
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::builder().parse_lossy(directives))
        .with_writer(std::io::stderr)
        .init();
}

async fn call(request: Request, sources: &[ConfigSource], json: bool) -> Result<(), Failure> {
    let (client, ctx, args, version) = prepare(&request, false, sources, json).await?;
    let result: RawJson = client
        .call_raw(&ctx, &request.method, version, &args)
        .await?;
    println!("{result}");
    Ok(())
}

async fn cast(
    request: Request,
    fanout: bool,
    sources: &[ConfigSource],
    json: bool,
) -> Result<(), Failure> {
    let (client, ctx, args, version) = prepare(&request, fanout, sources, json).await?;
    client
        .cast_typed(&ctx, &request.method, version, &args)
        .await?;
    Ok(())
}

/// Checks every input before anything is sent, and builds the client.
async fn prepare(
    request: &Request,
    fanout: bool,
    sources: &[ConfigSource],
    json: bool,
) -> Result<(RpcClient, Context, wire::Args, Option<RpcVersion>), Failure> {
    let usage = Failure::Usage;
    let version = parse_version("--version", request.version.as_deref())?;
    let cap = parse_version("--version-cap", request.version_cap.as_deref())?;
    let timeout = request
        .timeout
        .map(|s| seconds("--timeout", s))
        .transpose()?;
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

    let transport = request.bus.connect(sources, json).await?;
    let mut target = Target::topic(&request.topic);
    target.exchange = request.bus.exchange.clone();
    target.namespace = request.namespace.clone();
    target.server = request.server.clone();
    target.fanout = fanout;
    let mut client = RpcClient::new(transport, target);
    if let Some(timeout) = timeout {
        client = client.timeout(timeout);
    }
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
