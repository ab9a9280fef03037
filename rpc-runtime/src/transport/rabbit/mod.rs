//! `rabbit://` (and `kombu://`): the RabbitMQ driver, on lapin.
//!
//! # Design
//!
//! A transport's traffic goes over supervised AMQP connections (`link.rs`), each opened at
//! first use. Two roles:
//!
//! * **publishing** carries requests, fanout casts, replies and call-monitor
//!   heartbeats (`publish.rs`), every one in confirm mode. Most go through one shared
//!   channel with any number in flight, so concurrent publishes never wait behind each
//!   other's confirm and the broker confirms them in batches; a returned mandatory message
//!   is sorted out by body. A call's request does not wait for its confirm on that channel
//!   (`Driver::send_call`): the reply proves delivery, and the transport settles request
//!   confirms in one task, in order (`confirms.rs`); a refused request fails its call at
//!   once, one lost with its channel is published again by the call. Casts, replies and
//!   heartbeats resolve on their confirm. Publishes that could meet a vanished exchange (the first
//!   publish to an exchange, which declares it; fanout casts; auto-delete exchanges) use
//!   pooled channels, one publish each at a time, at most `rpc_conn_pool_size`, idle ones
//!   closed after `conn_pool_ttl` down to `conn_pool_min_size` (`pool.rs`, spec §9.1).
//! * **consuming** carries one channel per consumer group (`consume.rs`): the client's
//!   reply queue (one queue, one consumer per transport) and each server's three queues,
//!   with `basic.qos` on server channels.
//!
//! Where they run is the [`Connections`] layout. The default, [`Connections::Adaptive`],
//! runs both on one connection, and only while the broker blocks it (a resource alarm met
//! a publish on it: the broker then stops reading the whole connection, acknowledgements
//! included) do server listeners also consume on a **relief** connection that never
//! publishes, so their queues keep draining as in oslo's layout (spec §9.3). oslo's layout
//! itself, a publishing and a consuming connection, is [`Connections::Separate`]: it
//! drains too, at the price of a second lapin I/O thread on every message's path.
//!
//! Each connection has its own supervisor task. When a connection is lost it waits
//! `kombu_reconnect_delay`, then reconnects through the URL's hosts with oslo's backoff
//! (spec §7.4); every consumer group then declares and consumes again on the new
//! connection, under the same names (the reply queue keeps its name). What was in flight on
//! the lost connection fails with a transport error and is retried as the caller's `retry`
//! allows; no wait outlasts the caller's deadline or the driver's own limits.
//!
//! Declarations follow spec §2.1 exactly (`declare.rs`); publish properties follow §3.4.

mod config;
mod confirms;
mod consume;
mod declare;
mod link;
mod notify;
pub mod options;
mod pool;
mod probe;
mod publish;
mod queue_manager;
mod stream;
mod tls;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;

use super::topology;
use super::{
    BoxFuture, Destination, Driver, ListenSpec, Listener, NotificationListenSpec, PublishOptions,
    ReplySink, RequestSent, TapSpec,
};
use crate::error::RpcError;
use crate::tasks::Tasks;
use crate::url::TransportUrl;
use config::RabbitConfig;
use consume::{ConsumerGroup, Deliver, GroupOptions, RabbitListener};
use declare::Declared;
use link::{Link, Role};
use pool::ChannelPool;

pub use config::DEFAULT_PREFETCH;

/// How long the driver's tasks may take to end once its connections are closed, before
/// they are aborted (each already has its own, shorter, bound).
const TASKS_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
pub use declare::EntityKind;
pub use tls::{TlsError, TlsOptions, TlsVersion};

/// The RabbitMQ driver. `Transport::new("rabbit://...")` builds one; build it yourself
/// to keep a handle for diagnostics ([`RabbitDriver::declared`],
/// [`RabbitDriver::connection_names`]) and pass it with `TransportBuilder::driver`.
pub struct RabbitDriver {
    inner: Arc<RabbitInner>,
}

/// How a transport's traffic is spread over AMQP connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Connections {
    /// One connection publishes and consumes; while the broker blocks it (a resource alarm
    /// met a publish on it, which stops the broker reading it, acknowledgements included),
    /// server and notification listeners also consume their queues on a second connection
    /// that never publishes, so the queues keep draining as in oslo's layout (spec §9.3).
    /// Once the broker unblocks the first connection, the second one's consumers are
    /// cancelled; every delivery either connection received is handed out once. The
    /// relief connection closes a few seconds after its last delivery is settled.
    /// The default: one connection (one lapin I/O thread) carries the traffic, which on a
    /// 2-core machine costs 23-29 % less client + server CPU per call at 32 in flight
    /// than [`Connections::Separate`] (BENCHMARKS.md).
    #[default]
    Adaptive,
    /// One connection publishes, another consumes (oslo's layout, spec §9.3): consumers
    /// keep draining queues while the broker blocks publishers.
    Separate,
    /// One connection does both, also while the broker blocks it: its consumers then stop
    /// at their prefetch until it unblocks.
    Shared,
    /// The client's reply consumer shares the publish connection; server listeners
    /// (topic, server and fanout queues) and taps keep a connection of their own that
    /// never publishes. A client whose publishes are blocked by a resource alarm cannot
    /// send calls anyway, so its replies lose nothing by stalling with them; servers keep
    /// draining their queues, as in oslo (spec §9.3). A client-only transport uses one
    /// connection instead of two. Not the default: in `rpc-bench rabbit` (client and
    /// server on one 2-core machine with the broker) it was no faster than `Separate`
    /// (seq p50 542 against 523 µs, 7 836 against 7 547 calls/s at 32 in flight, medians of
    /// five interleaved runs, within the noise).
    SeparateListeners,
}

/// What the driver's operations share.
pub(crate) struct RabbitInner {
    config: Arc<RabbitConfig>,
    publish: Arc<Link>,
    /// Server listeners and taps.
    consume: Arc<Link>,
    /// With [`Connections::Adaptive`]: where server and notification listeners also
    /// consume while the broker blocks `consume` (connected at the first block).
    relief: Option<Arc<Link>>,
    /// The client's reply consumer: `consume`, or `publish` with
    /// [`Connections::SeparateListeners`].
    replies: Arc<Link>,
    pool: ChannelPool,
    declared: Arc<Declared>,
    /// The reply queue's name and consumer, once a call created them.
    reply: Mutex<Option<(String, ConsumerGroup)>>,
    /// Call requests awaiting their publisher confirm (see [`confirms`]).
    confirms: Arc<confirms::Confirms>,
    closed: AtomicBool,
    /// Every task the driver starts: connection supervisors, consumer groups, republished
    /// returns, abandoned confirms. `shutdown` waits for them (and aborts stragglers).
    tasks: Tasks,
}

impl RabbitInner {
    fn check_open(&self) -> Result<(), RpcError> {
        if self.closed.load(Ordering::Acquire) {
            Err(link::closed_error())
        } else {
            Ok(())
        }
    }

    /// Every connection the driver may open: publish, consume (the same one unless
    /// separate) and relief.
    fn links(&self) -> impl Iterator<Item = &Arc<Link>> {
        [&self.publish, &self.consume]
            .into_iter()
            .chain(&self.relief)
    }

    fn reply(&self) -> MutexGuard<'_, Option<(String, ConsumerGroup)>> {
        self.reply.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl RabbitDriver {
    /// Starts consuming `plan` for a listener (a server's queues, or a tap) and returns
    /// once it consumes; `own_queue` is deleted when the listener closes.
    async fn start_listener(
        &self,
        plan: Vec<declare::ConsumeSpec>,
        prefetch: u16,
        own_queue: Option<String>,
        kind: ListenerKind,
    ) -> Result<Box<dyn Listener>, RpcError> {
        let inner = &self.inner;
        inner.check_open()?;
        for consumer in &plan {
            consumer.check_names()?;
        }
        // Unbounded, and bounded by the reconnections: the group sends one set per session
        // and waits for it to end before setting up the next.
        let (tx, sessions) = mpsc::unbounded_channel();
        let stream = plan
            .iter()
            .any(|spec| spec.consumer_args == declare::ConsumerArgs::StreamOffset)
            .then(Default::default);
        let settle_after_stop = kind == ListenerKind::Notifications;
        let relief = match (&inner.relief, kind) {
            (Some(link), ListenerKind::Server | ListenerKind::Notifications) => {
                Some(consume::Relief {
                    link: link.clone(),
                    blocked: inner.consume.blocked(),
                })
            }
            _ => None,
        };
        let mut group = ConsumerGroup::start(
            inner.consume.clone(),
            inner.declared.clone(),
            inner.config.backoff,
            plan,
            Deliver::Requests(tx),
            GroupOptions {
                prefetch,
                stream,
                settle_after_stop,
                relief,
            },
            &inner.tasks,
        );
        group.ready().await?;
        Ok(Box::new(RabbitListener {
            link: inner.consume.clone(),
            declared: inner.declared.clone(),
            group,
            sessions,
            current: Vec::new(),
            next_set: 0,
            own_queue,
            tap: kind == ListenerKind::Tap,
            settle_after_stop,
            stopped: false,
        }))
    }

    /// A driver for a `rabbit://` or `kombu://` URL. Nothing connects until first use.
    /// Options the driver does not implement (compression, ...) are refused here with an
    /// error naming them; with `ssl=true` the TLS files are read and checked here too
    /// ([`TlsOptions`]). With `use_queue_manager`, oslo.concurrency's lock directory must
    /// be in `OSLO_LOCK_PATH`, as a Python service needs it.
    pub fn new(url: &TransportUrl) -> Result<RabbitDriver, RpcError> {
        RabbitDriver::builder(url).build()
    }

    /// A driver that connects over TLS with these settings, whatever the URL's `ssl*`
    /// options say.
    pub fn with_tls(
        url: &TransportUrl,
        connections: Connections,
        tls: &TlsOptions,
    ) -> Result<RabbitDriver, RpcError> {
        RabbitDriver::builder(url)
            .connections(connections)
            .tls(tls.clone())
            .build()
    }

    /// A driver with this connection layout (see [`Connections`]).
    pub fn with_connections(
        url: &TransportUrl,
        connections: Connections,
    ) -> Result<RabbitDriver, RpcError> {
        RabbitDriver::builder(url).connections(connections).build()
    }

    /// A builder for the settings that are not in the URL.
    pub fn builder(url: &TransportUrl) -> RabbitDriverBuilder<'_> {
        RabbitDriverBuilder {
            url,
            connections: Connections::default(),
            lock_path: None,
            tls: None,
        }
    }

    fn build(
        url: &TransportUrl,
        connections: Connections,
        lock_path: Option<&Path>,
        tls: Option<&TlsOptions>,
    ) -> Result<RabbitDriver, RpcError> {
        let config = Arc::new(RabbitConfig::resolve(url, tls, lock_path)?);
        let tasks = Tasks::default();
        let role = match connections {
            Connections::Shared | Connections::Adaptive => Role::Both,
            Connections::Separate | Connections::SeparateListeners => Role::Publish,
        };
        let publish = Arc::new(Link::new(role, config.clone(), tasks.clone()));
        let consume = match connections {
            Connections::Separate | Connections::SeparateListeners => {
                Arc::new(Link::new(Role::Consume, config.clone(), tasks.clone()))
            }
            Connections::Shared | Connections::Adaptive => publish.clone(),
        };
        let replies = match connections {
            Connections::Separate => consume.clone(),
            Connections::Shared | Connections::SeparateListeners | Connections::Adaptive => {
                publish.clone()
            }
        };
        // A client's reply consumer needs no relief: it has no prefetch, so the broker
        // keeps sending replies to a blocked connection (and a client whose publishes are
        // blocked sends no new calls).
        let relief = (connections == Connections::Adaptive)
            .then(|| Arc::new(Link::on_demand(Role::Relief, config.clone(), tasks.clone())));
        Ok(RabbitDriver {
            inner: Arc::new(RabbitInner {
                publish,
                consume,
                relief,
                replies,
                pool: ChannelPool::new(config.pool),
                declared: Arc::new(Declared::default()),
                reply: Mutex::new(None),
                confirms: Arc::default(),
                closed: AtomicBool::new(false),
                config,
                tasks,
            }),
        })
    }

    /// Every exchange and queue this driver has declared and not deleted since, sorted.
    /// Shared entities (the control exchange) are listed too: never delete what others
    /// may use.
    pub fn declared(&self) -> Vec<(EntityKind, String)> {
        self.inner.declared.snapshot()
    }

    /// The `connection_name` of each connection open now (`<program>:<pid>:<uuid>`, as
    /// oslo names them; spec §1.2), as the broker lists them.
    pub fn connection_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .inner
            .links()
            .filter_map(|link| link.current().map(|session| session.name.clone()))
            .collect();
        names.dedup();
        names
    }

    /// The `basic.qos` prefetch count of server listeners (0: unlimited).
    pub fn prefetch(&self) -> u16 {
        self.inner.config.prefetch
    }
}

/// Builds a [`RabbitDriver`] with settings that are not in the transport URL.
#[derive(Debug, Clone)]
pub struct RabbitDriverBuilder<'a> {
    url: &'a TransportUrl,
    connections: Connections,
    lock_path: Option<PathBuf>,
    tls: Option<TlsOptions>,
}

impl RabbitDriverBuilder<'_> {
    /// How traffic is spread over connections (default [`Connections::Adaptive`]).
    pub fn connections(mut self, connections: Connections) -> Self {
        self.connections = connections;
        self
    }

    /// The directory of oslo.concurrency's lock files (`[oslo_concurrency] lock_path`), which
    /// `use_queue_manager` locks its counter with; default `$OSLO_LOCK_PATH`. Give the
    /// directory the host's Python services use, so that their names never collide.
    pub fn lock_path(mut self, dir: impl Into<PathBuf>) -> Self {
        self.lock_path = Some(dir.into());
        self
    }

    /// Connects over TLS with these settings, whatever the URL's `ssl*` options say.
    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The driver; fails on options it does not implement or cannot honour.
    pub fn build(self) -> Result<RabbitDriver, RpcError> {
        RabbitDriver::build(
            self.url,
            self.connections,
            self.lock_path.as_deref(),
            self.tls.as_ref(),
        )
    }
}

impl Driver for RabbitDriver {
    fn send<'a>(
        &'a self,
        destination: Destination<'a>,
        body: &'a [u8],
        options: PublishOptions,
    ) -> BoxFuture<'a, Result<(), RpcError>> {
        Box::pin(publish::send(&self.inner, destination, body, options))
    }

    fn send_call<'a>(
        &'a self,
        destination: Destination<'a>,
        body: &'a [u8],
        options: PublishOptions,
    ) -> BoxFuture<'a, Result<RequestSent, RpcError>> {
        Box::pin(publish::send_call(&self.inner, destination, body, options))
    }

    fn consume_replies<'a>(
        &'a self,
        queue: &'a str,
        sink: Arc<dyn ReplySink>,
    ) -> BoxFuture<'a, Result<(), RpcError>> {
        Box::pin(async move {
            let inner = &self.inner;
            inner.check_open()?;
            let plan = inner.config.topology.reply(queue);
            for spec in &plan {
                spec.check_names()?;
            }
            // Dropped before it is ready (the caller gave up), the group stops itself.
            let mut group = ConsumerGroup::start(
                inner.replies.clone(),
                inner.declared.clone(),
                inner.config.backoff,
                plan,
                Deliver::Replies(sink),
                GroupOptions::default(),
                &inner.tasks,
            );
            group.ready().await?;
            let previous = inner.reply().replace((queue.to_owned(), group));
            if let Some((name, _)) = previous {
                tracing::warn!(queue = %name, "a second reply consumer replaced the first");
            }
            Ok(())
        })
    }

    fn reply_queue_name(&self) -> Result<String, RpcError> {
        match &self.inner.config.queue_manager {
            Some(manager) => Ok(format!("reply_{}", manager.next_name()?)),
            None => Ok(topology::reply_queue_name()),
        }
    }

    fn listen<'a>(
        &'a self,
        spec: &'a ListenSpec,
    ) -> BoxFuture<'a, Result<Box<dyn Listener>, RpcError>> {
        Box::pin(async move {
            let config = &self.inner.config;
            // oslo's `declare_fanout_consumer`: the shared stream, a queue-manager name
            // (kept for the next start), or a uuid (deleted on close).
            let (fanout_queue, own) = if config.topology.stream_fanout() {
                (topology::fanout_exchange(&spec.topic), false)
            } else if let Some(manager) = &config.queue_manager {
                let unique = manager.next_name()?;
                (topology::fanout_queue_named(&spec.topic, &unique), false)
            } else {
                (topology::fanout_queue(&spec.topic), true)
            };
            let plan = config.topology.listener(spec, &fanout_queue);
            let own_queue = own.then_some(fanout_queue);
            self.start_listener(plan, config.prefetch, own_queue, ListenerKind::Server)
                .await
        })
    }

    fn tap<'a>(&'a self, spec: &'a TapSpec) -> BoxFuture<'a, Result<Box<dyn Listener>, RpcError>> {
        Box::pin(async move {
            let queue = format!("tap_{}", crate::wire::new_id());
            let plan = self.inner.config.topology.tap(spec, &queue);
            // No prefetch: a tap's deliveries are settled on sending (auto-ack).
            self.start_listener(plan, 0, Some(queue), ListenerKind::Tap)
                .await
        })
    }

    fn listen_notifications<'a>(
        &'a self,
        spec: &'a NotificationListenSpec,
    ) -> BoxFuture<'a, Result<Box<dyn Listener>, RpcError>> {
        Box::pin(async move {
            let plan = self.inner.config.topology.notification_listener(spec);
            // 0 is unlimited; otherwise enough for every batch in flight to fill up.
            let prefetch = match self.inner.config.prefetch {
                0 => 0,
                configured => configured.max(spec.min_prefetch),
            };
            self.start_listener(plan, prefetch, None, ListenerKind::Notifications)
                .await
        })
    }

    fn connection_problem(&self) -> Option<String> {
        let inner = &self.inner;
        [&inner.publish, &inner.replies, &inner.consume]
            .into_iter()
            .find_map(|link| link.problem())
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let inner = &self.inner;
            if inner.closed.swap(true, Ordering::AcqRel) {
                return;
            }
            let reply = inner.reply().take();
            if let Some((queue, mut group)) = reply {
                group.stop().await;
                // With the queue manager the next start takes the same name
                // (spec-production-topology §4): the queue is left for it, as oslo does.
                if inner.config.queue_manager.is_none() {
                    // oslo leaves reply queues to expire 30 min later (spec §10.2 bug 15);
                    // a graceful shutdown deletes ours.
                    match consume::delete_queue(&inner.replies, &queue).await {
                        Ok(()) => inner.declared.forget_queue(&queue),
                        Err(error) => tracing::info!(%error, "reply queue left to expire"),
                    }
                }
            }
            inner.pool.clear();
            let relief = async {
                if let Some(relief) = &inner.relief {
                    relief.close().await;
                }
            };
            tokio::join!(inner.publish.close(), inner.consume.close(), relief);
            // Consumer groups of listeners dropped without close, republished returns,
            // abandoned confirms, the confirm settler: all end once the connections are
            // closed.
            inner.confirms.wake();
            inner.tasks.shutdown(TASKS_GRACE).await;
        })
    }
}

/// What a listener's deliveries are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListenerKind {
    /// A server's requests: acknowledged before dispatch.
    Server,
    /// A tap's copies: auto-acknowledged, with their route.
    Tap,
    /// Notifications: settled after dispatch, so stopping keeps the channel open for them.
    Notifications,
}

impl Drop for RabbitDriver {
    fn drop(&mut self) {
        // Without shutdown(): the supervisors close their connections in the background.
        for link in self.inner.links() {
            link.abandon();
        }
    }
}
