//! `oslo-rpc notify` sends one notification and returns once the broker confirmed it;
//! `oslo-rpc listen` prints every notification it receives as one JSON line, as oslo's
//! notification listener would hand it to an endpoint (notify §2).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::{ArgMatches, Args};
use oslo_rpc::config::OsloConfig;
use oslo_rpc::notify::{
    DEFAULT_TOPIC, NotificationEndpoint, NotificationListener, Notifier, NotifyDriver, Outcome,
    Priority, RawNotification,
};
use oslo_rpc::transport::BoxFuture;
use oslo_rpc::{Context, Target, Transport};
use rpc_runtime::wire::{RawJson, json};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Notify;

use crate::failure::Failure;
use crate::kwargs;

/// Where notifications go or come from.
#[derive(Args)]
pub(crate) struct NotifyBus {
    /// Transport URL; wins over the config files' (their other options still apply)
    /// [default: the config files' [oslo_messaging_notifications] transport_url, else their
    /// [DEFAULT] transport_url, else $OSLO_RPC_URL, else rabbit://guest:guest@127.0.0.1:5672/]
    #[arg(long)]
    url: Option<String>,
    /// An oslo config file, such as nova.conf: its [oslo_messaging_notifications] topics,
    /// driver, retry and transport_url, [DEFAULT] transport_url and control_exchange and
    /// [oslo_messaging_rabbit] options are used. Repeat it for several files; later files
    /// win.
    #[arg(long = "config-file", value_name = "FILE")]
    config_file: Vec<PathBuf>,
    /// A directory whose *.conf files are read in sorted order, where it stands among the
    /// --config-file options (as oslo.config reads --config-dir).
    #[arg(long = "config-dir", value_name = "DIR")]
    config_dir: Vec<PathBuf>,
    /// The control exchange (default: the config files' control_exchange, else
    /// `openstack`).
    #[arg(long)]
    exchange: Option<String>,
    /// Topic; repeat for several [default: the config files' [oslo_messaging_notifications]
    /// topics, else notifications].
    #[arg(long = "topic")]
    topics: Vec<String>,
}

/// A bus with its config files read.
struct Connected {
    transport: Transport,
    config: Option<OsloConfig>,
    topics: Vec<String>,
}

impl NotifyBus {
    /// Reads the config files (printing their warnings) and builds the notification
    /// transport, as oslo's `get_notification_transport`.
    async fn connect(
        &self,
        matches: Option<&ArgMatches>,
        json: bool,
    ) -> Result<Connected, Failure> {
        if self.topics.iter().any(String::is_empty) {
            return Err(Failure::Usage("--topic must not be empty".to_owned()));
        }
        let sources = crate::config_sources(&self.config_file, &self.config_dir, matches);
        let config = crate::load_config(&sources, json)?;
        let files_url = config.as_ref().and_then(|config| {
            config
                .notifications()
                .transport_url()
                .or(config.transport_url())
                .map(|url| url.expose().to_owned())
        });
        let url = match (&self.url, files_url) {
            (Some(url), _) => url.clone(),
            (None, Some(url)) => url,
            (None, None) => {
                std::env::var(crate::URL_VARIABLE).unwrap_or_else(|_| crate::DEFAULT_URL.to_owned())
            }
        };
        let mut builder = Transport::builder(&url);
        if let Some(config) = &config {
            builder = builder.config(config);
        }
        if let Some(exchange) = &self.exchange {
            builder = builder.control_exchange(exchange);
        }
        let topics = if !self.topics.is_empty() {
            self.topics.clone()
        } else {
            config.as_ref().map_or_else(
                || vec![DEFAULT_TOPIC.to_owned()],
                |config| config.notifications().topics().to_vec(),
            )
        };
        if topics.is_empty() {
            return Err(Failure::Usage(
                "no topic: the config files set [oslo_messaging_notifications] topics empty; \
                 give --topic"
                    .to_owned(),
            ));
        }
        Ok(Connected {
            transport: builder.build()?,
            config,
            topics,
        })
    }
}

/// `oslo-rpc notify`.
#[derive(Args)]
pub(crate) struct NotifyCommand {
    #[command(flatten)]
    bus: NotifyBus,
    /// What happened, e.g. compute.instance.create.end.
    #[arg(long = "event-type")]
    event_type: String,
    /// audit, debug, info, warn (or warning), error, critical or sample.
    #[arg(long, default_value = "info")]
    priority: String,
    /// Who sends it, e.g. compute.host1 (default: null, as a Python notifier without one).
    #[arg(long = "publisher-id")]
    publisher_id: Option<String>,
    /// messagingv2 (the 2.0 envelope) or messaging (the bare message, for old consumers)
    /// [default: the config files' messaging drivers (others, such as log, are left out:
    /// this command sends), else messagingv2].
    #[arg(long)]
    driver: Option<String>,
    /// Context as a JSON object, sent as `_context_*` keys (default: none, as a Python
    /// notifier given a plain dict sends).
    #[arg(long)]
    context: Option<String>,
    /// Connection retries [default: the config files' [oslo_messaging_notifications]
    /// retry, else until the transport's time limit].
    #[arg(long)]
    retry: Option<u32>,
    /// The payload: one JSON object, or key=value pairs (values are JSON, else strings).
    payload: Vec<String>,
}

/// `oslo-rpc listen`.
#[derive(Args)]
pub(crate) struct ListenCommand {
    #[command(flatten)]
    bus: NotifyBus,
    /// Share the queue of this pool with its other listeners (default: the
    /// `<topic>.<priority>` queues).
    #[arg(long)]
    pool: Option<String>,
    /// Listen to this priority; repeat for several (default: all seven).
    #[arg(long = "priority")]
    priorities: Vec<String>,
    /// Stop after printing this many notifications.
    #[arg(long)]
    count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long = "max-seconds")]
    max_seconds: Option<f64>,
}

pub(crate) async fn notify(
    command: NotifyCommand,
    matches: Option<&ArgMatches>,
    json: bool,
) -> Result<(), Failure> {
    let usage = Failure::Usage;
    let priority: Priority = command
        .priority
        .parse()
        .map_err(|e| usage(format!("--priority: {e}")))?;
    let driver = match command.driver.as_deref().map(str::parse::<NotifyDriver>) {
        None => None,
        Some(Ok(driver @ (NotifyDriver::MessagingV2 | NotifyDriver::Messaging))) => Some(driver),
        Some(_) => {
            return Err(usage(format!(
                "--driver must be messagingv2 or messaging, got {:?}",
                command.driver.as_deref().unwrap_or_default()
            )));
        }
    };
    let ctx = match &command.context {
        None => Context::new(),
        Some(text) => {
            let map: Map<String, Value> = json::from_str(text)
                .map_err(|e| usage(format!("--context is not a JSON object: {e}")))?;
            Context::from_map(map)
        }
    };
    let payload = kwargs::parse_kwargs(&command.payload).map_err(usage)?;
    let Connected {
        transport,
        config,
        topics,
    } = command.bus.connect(matches, json).await?;
    let mut notifier = match &config {
        Some(config) => Notifier::from_config(transport.clone(), config),
        None => Notifier::new(transport.clone(), ""),
    };
    // The command sends: of the files' drivers only the messaging ones count, and without
    // any it sends with messagingv2.
    let drivers: Vec<NotifyDriver> = match driver {
        Some(driver) => vec![driver],
        None => config
            .as_ref()
            .map(|config| {
                config
                    .notifications()
                    .drivers()
                    .iter()
                    .filter_map(|name| name.parse().ok())
                    .filter(|d| matches!(d, NotifyDriver::MessagingV2 | NotifyDriver::Messaging))
                    .collect()
            })
            .filter(|drivers: &Vec<NotifyDriver>| !drivers.is_empty())
            .unwrap_or_else(|| vec![NotifyDriver::MessagingV2]),
    };
    notifier = notifier
        .publisher_id(command.publisher_id.clone())
        .topics(topics)
        .drivers(drivers);
    if command.retry.is_some() || config.is_none() {
        notifier = notifier.retry(command.retry);
    }
    let sent = notifier
        .notify(&ctx, priority, &command.event_type, &payload)
        .await;
    transport.shutdown().await;
    Ok(sent?)
}

/// One line of `listen`'s output: what an oslo endpoint method is called with.
#[derive(Serialize)]
struct Line<'a> {
    priority: &'a str,
    publisher_id: Option<&'a str>,
    event_type: Option<&'a str>,
    payload: &'a RawJson,
    ctxt: &'a Map<String, Value>,
    metadata: LineMetadata<'a>,
}

/// oslo's `metadata`.
#[derive(Serialize)]
struct LineMetadata<'a> {
    message_id: Option<&'a str>,
    timestamp: Option<&'a str>,
}

/// Prints what it receives, up to `count`; later ones go back to their queue.
struct Printer {
    priorities: Vec<Priority>,
    printed: AtomicU64,
    count: Option<u64>,
    done: Arc<Notify>,
}

impl NotificationEndpoint for Printer {
    fn priorities(&self) -> &[Priority] {
        &self.priorities
    }

    fn handle<'a>(
        &'a self,
        priority: Priority,
        notification: &'a RawNotification,
    ) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let number = self.printed.fetch_add(1, Ordering::SeqCst) + 1;
            if self.count.is_some_and(|count| number > count) {
                return Outcome::Requeue;
            }
            let line = Line {
                priority: priority.as_str(),
                publisher_id: notification.publisher_id.as_deref(),
                event_type: notification.event_type.as_deref(),
                payload: &notification.payload,
                ctxt: notification.context.as_map(),
                metadata: LineMetadata {
                    message_id: notification.message_id.as_deref(),
                    timestamp: notification.timestamp.as_deref(),
                },
            };
            let text = json::to_string(&line)
                .unwrap_or_else(|e| format!("{{\"error\": \"cannot print: {e}\"}}"));
            let mut stdout = std::io::stdout().lock();
            // A pipe reader (jq, a test) sees each notification as it arrives.
            let _ = writeln!(stdout, "{text}");
            let _ = stdout.flush();
            if self.count == Some(number) {
                self.done.notify_one();
            }
            Outcome::Handled
        })
    }
}

pub(crate) async fn listen(
    command: ListenCommand,
    matches: Option<&ArgMatches>,
    json: bool,
) -> Result<(), Failure> {
    let usage = Failure::Usage;
    let mut priorities = command
        .priorities
        .iter()
        .map(|p| {
            p.parse::<Priority>()
                .map_err(|e| usage(format!("--priority: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if priorities.is_empty() {
        priorities = Priority::ALL.to_vec();
    }
    let max_time = command
        .max_seconds
        .map(|s| {
            Duration::try_from_secs_f64(s).map_err(|_| {
                usage(format!(
                    "--max-seconds must be a number of seconds, got {s}"
                ))
            })
        })
        .transpose()?;
    if command.count == Some(0) {
        return Ok(());
    }
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| usage(e.to_string()))?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| usage(e.to_string()))?;
    let Connected {
        transport, topics, ..
    } = command.bus.connect(matches, json).await?;
    let done = Arc::new(Notify::new());
    let printer = Printer {
        priorities,
        printed: AtomicU64::new(0),
        count: command.count,
        done: done.clone(),
    };
    let mut builder = NotificationListener::builder(transport.clone())
        .endpoint(printer)
        .allow_requeue(true)
        // One at a time: lines come out in delivery order, and none past --count.
        .max_concurrency(1);
    // The transport's control exchange (--exchange, else the files', else openstack).
    for topic in &topics {
        builder = builder.target(Target::topic(topic));
    }
    if let Some(pool) = &command.pool {
        builder = builder.pool(pool);
    }
    let mut listener = builder.build()?.start().await?;
    let deadline = async {
        match max_time {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending().await,
        }
    };
    let mut deadline = std::pin::pin!(deadline);
    // "listening" is printed once the queues (a pool's included) exist and are consumed,
    // not before: a broker that could not be reached at first is waited for, within the
    // same --max-seconds and signals.
    let consuming = tokio::select! {
        consuming = listener.consuming() => Some(consuming),
        _ = &mut deadline => None,
        _ = terminate.recv() => None,
        _ = interrupt.recv() => None,
    };
    let failed = match consuming {
        Some(Ok(())) => {
            eprintln!(
                "oslo-rpc: listening to {} (Ctrl-C to stop)",
                topics.join(", ")
            );
            tokio::select! {
                _ = done.notified() => {}
                _ = &mut deadline => {}
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
            None
        }
        Some(Err(error)) => Some(error),
        None => None,
    };
    let stopped = listener.stop().await;
    transport.shutdown().await;
    match failed {
        Some(error) => Err(error.into()),
        None => Ok(stopped?),
    }
}
