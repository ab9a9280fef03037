//! `oslo-rpc notify` sends one notification and returns once the broker confirmed it;
//! `oslo-rpc listen` prints every notification it receives as one JSON line, as oslo's
//! notification listener would hand it to an endpoint (notify §2).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Args;
use oslo_rpc::notify::{
    NotificationEndpoint, NotificationListener, Notifier, NotifyDriver, Outcome, Priority,
    RawNotification,
};
use oslo_rpc::transport::BoxFuture;
use oslo_rpc::wire::{RawJson, json};
use oslo_rpc::{Context, Target, Transport};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Notify;

use crate::failure::Failure;
use crate::kwargs;

/// Where notifications go or come from.
#[derive(Args)]
pub(crate) struct NotifyBus {
    /// Transport URL [default: $OSLO_RPC_URL, else rabbit://guest:guest@127.0.0.1:5672/]
    #[arg(long, env = "OSLO_RPC_URL", hide_env_values = true, default_value = crate::DEFAULT_URL, hide_default_value = true)]
    url: String,
    /// The control exchange (default: `openstack`).
    #[arg(long)]
    exchange: Option<String>,
    /// Topic; repeat for several (as oslo's `[oslo_messaging_notifications] topics`).
    #[arg(long = "topic", required = true)]
    topics: Vec<String>,
}

impl NotifyBus {
    async fn transport(&self) -> Result<Transport, Failure> {
        if self.topics.iter().any(String::is_empty) {
            return Err(Failure::Usage("--topic must not be empty".to_owned()));
        }
        let mut builder = Transport::builder(&self.url);
        if let Some(exchange) = &self.exchange {
            builder = builder.control_exchange(exchange);
        }
        Ok(builder.connect().await?)
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
    /// messagingv2 (the 2.0 envelope) or messaging (the bare message, for old consumers).
    #[arg(long, default_value = "messagingv2")]
    driver: String,
    /// Context as a JSON object, sent as `_context_*` keys (default: none, as a Python
    /// notifier given a plain dict sends).
    #[arg(long)]
    context: Option<String>,
    /// Connection retries (default: until the transport's time limit).
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

pub(crate) async fn notify(command: NotifyCommand) -> Result<(), Failure> {
    let usage = Failure::Usage;
    let priority: Priority = command
        .priority
        .parse()
        .map_err(|e| usage(format!("--priority: {e}")))?;
    let driver = match command.driver.parse::<NotifyDriver>() {
        Ok(driver @ (NotifyDriver::MessagingV2 | NotifyDriver::Messaging)) => driver,
        _ => {
            return Err(usage(format!(
                "--driver must be messagingv2 or messaging, got {:?}",
                command.driver
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
    let transport = command.bus.transport().await?;
    let notifier = Notifier::new(transport.clone(), "")
        .publisher_id(command.publisher_id.clone())
        .topics(command.bus.topics.clone())
        .driver(driver)
        .retry(command.retry);
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

pub(crate) async fn listen(command: ListenCommand) -> Result<(), Failure> {
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
    let transport = command.bus.transport().await?;
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
    for topic in &command.bus.topics {
        let mut target = Target::topic(topic);
        target.exchange = command.bus.exchange.clone();
        builder = builder.target(target);
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
                command.bus.topics.join(", ")
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
