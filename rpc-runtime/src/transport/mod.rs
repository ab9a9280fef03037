//! Transports: the `Driver` trait, the seam between client/server and a broker, and
//! `Transport`, which picks a driver from the URL scheme (oslo's driver manager).
//!
//! Client, server and dispatcher never see a broker library; drivers never see the wire
//! format beyond the bytes and the AMQP properties (spec §3.4) they carry.

pub mod memory;
pub mod rabbit;
pub(crate) mod reply_waiter;
mod sent;
pub mod topology;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::config::{ConfigSource, OsloConfig};
use crate::error::RpcError;
use crate::tasks::Tasks;
use crate::url::TransportUrl;
use reply_waiter::ReplyWaiter;
pub use sent::RequestSent;
pub(crate) use sent::{ConfirmOutcome, Unconfirmed};

/// A boxed future, as the object-safe `Driver` trait returns them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where a message is published (spec §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination<'a> {
    /// A request to a topic exchange (the control exchange or the target's), routed by
    /// `<topic>` or `<topic>.<server>`. The driver declares the exchange first.
    Topic {
        /// The exchange.
        exchange: &'a str,
        /// The routing key.
        routing_key: &'a str,
    },
    /// A fanout cast to `<topic>_fanout` (routing key `""`). The driver declares it first.
    Fanout {
        /// The fanout exchange name.
        exchange: &'a str,
    },
    /// A reply or heartbeat to a queue through the default exchange.
    Queue {
        /// The queue name (`_reply_q`).
        queue: &'a str,
    },
    /// A notification to a topic exchange, routed by `<topic>.<priority>`. Before the first
    /// one of a routing key on a connection the driver declares the exchange and the
    /// "default queue" named like the routing key, bound with it, so that notifications
    /// sent before any listener exists are kept (notify §1.5).
    Notification {
        /// The exchange.
        exchange: &'a str,
        /// The routing key, also the default queue's name.
        routing_key: &'a str,
    },
}

/// The longest per-message TTL (`expiration`) RabbitMQ accepts: ten years. Measured on
/// RabbitMQ 3.10.8: 315 360 000 000 ms is accepted, one more is refused with 406
/// PRECONDITION_FAILED (`invalid expiration ... value_too_large`), which closes the
/// channel. A longer call timeout is sent as this; oslo would send it as is and fail.
pub const MAX_EXPIRATION: Duration = Duration::from_millis(315_360_000_000);

/// How a message is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PublishOptions {
    /// Per-message TTL (`expiration`), set on calls only (spec §3.4).
    pub expiration: Option<Duration>,
    /// Ask the broker to return the message when no queue takes it (replies; spec §2.2).
    pub mandatory: bool,
    /// Retries allowed on connection failures: `None` for as many as the deadline allows,
    /// `Some(0)` for none (spec §7.3).
    pub retry: Option<u32>,
}

/// What a server consumes: the topic, server and fanout queues of spec §2.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenSpec {
    /// The exchange the topic and server queues are bound to.
    pub exchange: String,
    /// The topic.
    pub topic: String,
    /// The server name.
    pub server: String,
}

/// What a tap watches: the requests sent to a topic (spec §2.2), without taking them from
/// the servers' queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapSpec {
    /// The exchange requests go to (the control exchange or a target's).
    pub exchange: String,
    /// The topic.
    pub topic: String,
}

/// What a notification listener consumes (notify §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationListenSpec {
    /// `(exchange, routing key)` pairs, the key being `<topic>.<priority>`, in order.
    pub bindings: Vec<(String, String)>,
    /// The pool: one queue of this name bound with every pair and consumed once. Without a
    /// pool, each pair has its own queue named like the routing key.
    pub pool: Option<String>,
    /// How many unsettled deliveries the listener may hold at once (its concurrency times
    /// its batch size): a driver with a smaller prefetch raises it to this, so a batch can
    /// fill up (oslo caps the batch at the prefetch instead).
    pub min_prefetch: u16,
}

/// A message taken from a server's queues, not yet acknowledged.
pub struct Incoming {
    /// The body bytes.
    pub body: Vec<u8>,
    /// The AMQP `content_type` property.
    pub content_type: Option<String>,
    /// Acknowledges or rejects the delivery; `None` where the transport needs neither.
    pub acker: Option<Box<dyn Acker>>,
    /// Where the message was published to, as `(exchange, routing key)`: set for taps
    /// (servers do not need it, so drivers spare the copy).
    pub route: Option<(String, String)>,
}

impl fmt::Debug for Incoming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Incoming")
            .field("body_len", &self.body.len())
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// Settles one delivery with the broker.
pub trait Acker: Send {
    /// Acknowledges the delivery (the server does this before dispatch; spec §8.1).
    fn ack(self: Box<Self>) -> BoxFuture<'static, Result<(), RpcError>>;
    /// Rejects the delivery without requeue: it is dropped or dead-lettered (spec §8.3).
    fn reject(self: Box<Self>) -> BoxFuture<'static, Result<(), RpcError>>;
    /// Gives the delivery back to its queue, to be delivered again (a notification handler's
    /// requeue, notify §2.4). Drivers that cannot requeue refuse.
    fn requeue(self: Box<Self>) -> BoxFuture<'static, Result<(), RpcError>> {
        Box::pin(std::future::ready(Err(RpcError::InvalidArgument(
            "this transport cannot requeue a message".to_owned(),
        ))))
    }
}

/// Receives the bodies that arrive on a client's reply queue.
pub trait ReplySink: Send + Sync + 'static {
    /// Handles one reply body. Called from the transport's consumer; must not block.
    fn deliver(&self, body: &[u8], content_type: Option<&str>);
}

/// A server's consumers on its queues.
pub trait Listener: Send {
    /// The next message, or `None` once the listener is stopped or the transport closed.
    fn recv(&mut self) -> BoxFuture<'_, Option<Incoming>>;
    /// Stops consuming. Messages delivered to this listener but not yet returned by
    /// `recv` go back to their queues: they were never accepted.
    fn stop(&mut self) -> BoxFuture<'_, ()>;
    /// Deletes what the listener declared for itself (its fanout queue; spec §2.1) and
    /// releases its resources. Called after `stop`, once in-flight replies are sent.
    fn close(self: Box<Self>) -> BoxFuture<'static, ()>;
    /// Resolves once the listener consumes (its queues declared and bound, its consumers
    /// up), at once if it already does; fails if it stopped or failed before it ever did.
    /// A listener may be handed out before it consumes (a broker unreachable when it
    /// started; it keeps trying). The default: at once.
    fn consuming(&self) -> BoxFuture<'static, Result<(), RpcError>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A messaging backend. Implementations: [`memory::MemoryDriver`] and [`rabbit::RabbitDriver`].
pub trait Driver: Send + Sync + 'static {
    /// Publishes one message; resolves once the broker has accepted it (publisher confirm).
    fn send<'a>(
        &'a self,
        destination: Destination<'a>,
        body: &'a [u8],
        options: PublishOptions,
    ) -> BoxFuture<'a, Result<(), RpcError>>;

    /// Publishes a call's request. Like [`send`](Driver::send), except that it may resolve
    /// once the broker has the message, before its publisher confirm: the call's reply
    /// proves delivery. What comes instead of the confirm is then reported through the
    /// [`RequestSent`] at once: a refusal fails the call, a failed channel or connection
    /// makes the call publish the request again as its retry policy allows. The default
    /// waits for the confirm.
    fn send_call<'a>(
        &'a self,
        destination: Destination<'a>,
        body: &'a [u8],
        options: PublishOptions,
    ) -> BoxFuture<'a, Result<RequestSent, RpcError>> {
        Box::pin(async move {
            self.send(destination, body, options).await?;
            Ok(RequestSent::confirmed())
        })
    }

    /// Declares the reply queue `queue` and delivers every body that arrives on it to
    /// `sink`, for the life of the transport (across reconnects, under the same name).
    fn consume_replies<'a>(
        &'a self,
        queue: &'a str,
        sink: Arc<dyn ReplySink>,
    ) -> BoxFuture<'a, Result<(), RpcError>>;

    /// The name of the client's reply queue, asked once per transport at its first call:
    /// `reply_<uuid4 hex>` unless the driver names queues otherwise (oslo's queue manager).
    fn reply_queue_name(&self) -> Result<String, RpcError> {
        Ok(topology::reply_queue_name())
    }

    /// Declares and consumes a server's queues.
    fn listen<'a>(
        &'a self,
        spec: &'a ListenSpec,
    ) -> BoxFuture<'a, Result<Box<dyn Listener>, RpcError>>;

    /// Watches a topic's requests: a temporary queue of the tap's own (exclusive,
    /// auto-delete) bound like the topic, server and fanout queues, so copies arrive and
    /// no server loses a message. Deliveries need no settling and carry their `route`.
    fn tap<'a>(&'a self, spec: &'a TapSpec) -> BoxFuture<'a, Result<Box<dyn Listener>, RpcError>> {
        let _ = spec;
        Box::pin(std::future::ready(Err(RpcError::InvalidArgument(
            "this transport cannot tap a topic".to_owned(),
        ))))
    }

    /// Declares and consumes a notification listener's queues (notify §2.2). Deliveries
    /// carry an acker, settled after dispatch; `stop` stops the deliveries while the
    /// in-flight ones can still be settled, and `close` gives back what was not settled.
    /// Nothing is deleted: the queues outlive the listener, as oslo's do.
    fn listen_notifications<'a>(
        &'a self,
        spec: &'a NotificationListenSpec,
    ) -> BoxFuture<'a, Result<Box<dyn Listener>, RpcError>> {
        let _ = spec;
        Box::pin(std::future::ready(Err(RpcError::InvalidArgument(
            "this transport cannot listen for notifications".to_owned(),
        ))))
    }

    /// Why the broker cannot be reached now, when the driver has no connection and knows
    /// its last connection error; callers that gave up waiting report it.
    fn connection_problem(&self) -> Option<String> {
        None
    }

    /// Closes connections; later operations fail with a transport error. Returns once
    /// every task the driver started has ended.
    fn shutdown(&self) -> BoxFuture<'_, ()>;
}

/// oslo's `transport_url` default: RabbitMQ on localhost, as guest.
const OSLO_DEFAULT_URL: &str = "rabbit://";

/// Transport-wide settings (oslo's `[DEFAULT]` options that are not in the URL).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TransportConfig {
    /// `control_exchange`: the exchange requests go to unless the target names one.
    pub control_exchange: String,
    /// `rpc_response_timeout`: a call's timeout when neither client nor call sets one.
    pub default_timeout: Duration,
    /// How long a server keeps retrying a reply whose queue does not exist yet
    /// (`kombu_missing_consumer_retry_timeout`, spec §4.5).
    pub reply_retry_timeout: Duration,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            control_exchange: "openstack".to_owned(),
            default_timeout: Duration::from_secs(60),
            reply_retry_timeout: Duration::from_secs(60),
        }
    }
}

/// A connection to a message bus, shared by clients and servers (cheap to clone).
#[derive(Clone)]
pub struct Transport {
    inner: Arc<TransportInner>,
}

struct TransportInner {
    driver: Arc<dyn Driver>,
    /// The servers started on this transport (their consuming loops).
    tasks: Tasks,
    url: TransportUrl,
    config: TransportConfig,
    reply_waiter: OnceCell<Arc<ReplyWaiter>>,
}

/// How long [`Transport::shutdown`] lets the servers still running on the transport finish
/// the calls in flight before aborting them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The URL schemes [`Transport::new`] knows.
pub const SUPPORTED_SCHEMES: &[&str] = &["rabbit", "kombu", "memory"];

impl Transport {
    /// The bus at `url` with default settings: `rabbit://user:pass@host:5672/` for
    /// RabbitMQ, `memory://` (or `memory://<name>`) for the in-process broker.
    ///
    /// This parses the URL and builds the driver; it opens no connection. The RabbitMQ
    /// driver connects on first use, as oslo does, so an unreachable broker is reported
    /// by the first call, cast or server start, not here.
    pub fn new(url: &str) -> Result<Transport, RpcError> {
        Transport::builder(url).build()
    }

    /// A builder for non-default settings (control exchange, default timeout, driver).
    ///
    /// ```
    /// use std::time::Duration;
    /// use oslo_rpc_runtime::Transport;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), oslo_rpc_runtime::RpcError> {
    /// let transport = Transport::builder("memory://doc-builder")
    ///     .control_exchange("nova")
    ///     .default_timeout(Duration::from_secs(30))
    ///     .build()?;
    /// assert_eq!(transport.config().control_exchange, "nova");
    /// assert_eq!(transport.config().default_timeout, Duration::from_secs(30));
    /// transport.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder(url: &str) -> TransportBuilder {
        TransportBuilder {
            url: url.to_owned(),
            config: TransportConfig::default(),
            reply_retry_timeout: None,
            file_options: Vec::new(),
            lock_path: None,
            driver: None,
            tls: None,
        }
    }

    /// A builder for the bus that oslo config files describe: their `[DEFAULT]
    /// transport_url` (oslo's default `rabbit://` when they have none), with the rest of
    /// `config` applied as [`TransportBuilder::config`] applies it. See [`crate::config`].
    pub fn from_config(config: &OsloConfig) -> TransportBuilder {
        let url = config
            .transport_url()
            .map_or(OSLO_DEFAULT_URL, |url| url.expose());
        Transport::builder(url).config(config)
    }

    /// A builder for the transport notifications go over, as oslo's
    /// `get_notification_transport(conf)` picks it: `[oslo_messaging_notifications]
    /// transport_url`, else `[DEFAULT] transport_url`, else oslo's default (`rabbit://`), with
    /// the files' other options (control exchange, `[oslo_messaging_rabbit]`) as
    /// [`Transport::from_config`] applies them.
    pub fn notification_from_config(config: &OsloConfig) -> TransportBuilder {
        let url = config
            .notifications()
            .transport_url()
            .or(config.transport_url())
            .map_or(OSLO_DEFAULT_URL, |url| url.expose());
        Transport::builder(url).config(config)
    }

    /// Reads oslo config files, in order (`--config-file a --config-file b`), and builds
    /// the transport of the bus they describe (opening no connection, as [`Transport::new`]). Warnings about the files are logged with `tracing`; use
    /// [`OsloConfig::load`] and [`Transport::from_config`] to see them or to read a config
    /// directory too.
    pub fn from_config_files<P: AsRef<std::path::Path>>(
        files: &[P],
    ) -> Result<Transport, RpcError> {
        let sources: Vec<ConfigSource> = files
            .iter()
            .map(|path| ConfigSource::file(path.as_ref()))
            .collect();
        let config = OsloConfig::load(&sources)?;
        Transport::from_config(&config).build()
    }

    /// The parsed URL (its `Display` hides the password).
    pub fn url(&self) -> &TransportUrl {
        &self.inner.url
    }

    /// The transport-wide settings.
    pub fn config(&self) -> &TransportConfig {
        &self.inner.config
    }

    /// `messaging.system` in spans (see [`crate::telemetry`]).
    pub(crate) fn messaging_system(&self) -> &'static str {
        crate::telemetry::messaging_system(&self.inner.url)
    }

    /// The driver, for clients and servers of this crate.
    pub(crate) fn driver(&self) -> &dyn Driver {
        self.inner.driver.as_ref()
    }

    /// The reply waiter, created with its queue at the first call (spec §2.1: lazily).
    pub(crate) async fn reply_waiter(&self) -> Result<&Arc<ReplyWaiter>, RpcError> {
        self.inner
            .reply_waiter
            .get_or_try_init(|| async {
                let waiter = Arc::new(ReplyWaiter::new(self.inner.driver.reply_queue_name()?));
                let sink: Arc<dyn ReplySink> = waiter.clone();
                self.inner
                    .driver
                    .consume_replies(waiter.queue(), sink)
                    .await?;
                Ok(waiter)
            })
            .await
    }

    /// The tasks this transport owns.
    pub(crate) fn tasks(&self) -> &Tasks {
        &self.inner.tasks
    }

    /// Shuts the transport down and returns once everything it started has ended.
    ///
    /// Servers still running on it stop as [`ServerHandle::stop`] stops them (calls in
    /// flight finish and reply) for at most [`SHUTDOWN_GRACE`]; what still runs then is
    /// aborted. Then the connections close, and the driver's own tasks (connection
    /// supervisors, consumers) end. Clients and servers using the transport fail
    /// afterwards.
    ///
    /// [`ServerHandle::stop`]: crate::ServerHandle::stop
    pub async fn shutdown(&self) {
        self.inner.tasks.shutdown(SHUTDOWN_GRACE).await;
        if let Some(waiter) = self.inner.reply_waiter.get() {
            waiter.close();
        }
        self.inner.driver.shutdown().await;
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("url", &self.inner.url.to_string())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Transport`] with non-default settings.
#[must_use]
pub struct TransportBuilder {
    url: String,
    config: TransportConfig,
    reply_retry_timeout: Option<Duration>,
    /// `[oslo_messaging_rabbit]` values from config files, under the URL's query.
    file_options: Vec<(String, String)>,
    /// `[oslo_concurrency] lock_path` from config files (the queue manager's lock).
    lock_path: Option<std::path::PathBuf>,
    driver: Option<Arc<dyn Driver>>,
    tls: Option<rabbit::TlsOptions>,
}

impl TransportBuilder {
    /// Applies what oslo config files set besides the URL: `control_exchange` and
    /// `rpc_response_timeout` when they set them, and their `[oslo_messaging_rabbit]`
    /// options, which the URL's query overrides option by option (spec §1.1). The URL
    /// stays the builder's: use [`Transport::from_config`] for the files' `transport_url`.
    ///
    /// Settings made after this call override the files', as an explicit argument
    /// overrides a config file.
    pub fn config(mut self, config: &OsloConfig) -> Self {
        if let Some(exchange) = config.control_exchange() {
            self.config.control_exchange = exchange.to_owned();
        }
        if let Some(timeout) = config.rpc_response_timeout() {
            self.config.default_timeout = timeout;
        }
        self.file_options = config.rabbit_values().to_vec();
        if let Some(dir) = config.lock_path() {
            self.lock_path = Some(dir.to_owned());
        }
        self
    }

    /// Sets the control exchange (oslo `set_transport_defaults(control_exchange=...)`).
    pub fn control_exchange(mut self, exchange: impl Into<String>) -> Self {
        self.config.control_exchange = exchange.into();
        self
    }

    /// Sets the default call timeout (oslo `rpc_response_timeout`, default 60 s).
    pub fn default_timeout(mut self, timeout: Duration) -> Self {
        self.config.default_timeout = timeout;
        self
    }

    /// Sets how long a server retries a reply to a missing queue; overrides the URL's
    /// `kombu_missing_consumer_retry_timeout` (default 60 s).
    pub fn reply_retry_timeout(mut self, timeout: Duration) -> Self {
        self.reply_retry_timeout = Some(timeout);
        self
    }

    /// Uses this driver instead of the one the URL scheme selects (tests, custom brokers).
    // Public for the tests and the bench, which build drivers themselves (a shared broker,
    // separate listener connections); `Driver` is not a stable extension point.
    #[doc(hidden)]
    pub fn driver(mut self, driver: Arc<dyn Driver>) -> Self {
        self.driver = Some(driver);
        self
    }

    /// Connects to RabbitMQ over TLS with these settings, in place of the URL's `ssl*`
    /// options (oslo's `ssl=true`, `ssl_ca_file`, ... in the URL query work too). Only for
    /// `rabbit://` and `kombu://` URLs and the driver the builder makes; a driver given to
    /// [`TransportBuilder::driver`] has its own (`RabbitDriverBuilder::tls`).
    pub fn tls(mut self, tls: rabbit::TlsOptions) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Parses the URL and builds the driver. No connection is opened yet: the RabbitMQ
    /// driver connects on first use, as oslo does.
    pub fn build(self) -> Result<Transport, RpcError> {
        let url = TransportUrl::parse_with_file_options(&self.url, &self.file_options)?;
        let mut config = self.config;
        if self.tls.is_some() && (self.driver.is_some() || !url.is_rabbit()) {
            return Err(RpcError::InvalidArgument(
                "TransportBuilder::tls applies to the rabbit driver the builder makes: a \
                 rabbit:// or kombu:// URL and no TransportBuilder::driver"
                    .to_owned(),
            ));
        }
        let driver: Arc<dyn Driver> = match self.driver {
            Some(driver) => driver,
            None => match url.driver() {
                "memory" => Arc::new(memory::MemoryDriver::new(&url)),
                "rabbit" | "kombu" => {
                    let mut builder = rabbit::RabbitDriver::builder(&url);
                    if let Some(dir) = self.lock_path {
                        builder = builder.lock_path(dir);
                    }
                    if let Some(tls) = self.tls {
                        builder = builder.tls(tls);
                    }
                    Arc::new(builder.build()?)
                }
                other => {
                    return Err(RpcError::InvalidArgument(format!(
                        "no transport driver for scheme {other:?}; supported schemes: {}",
                        SUPPORTED_SCHEMES.join(", ")
                    )));
                }
            },
        };
        if let Some(timeout) = self.reply_retry_timeout {
            config.reply_retry_timeout = timeout;
        } else if let Some(options) = url.rabbit_options() {
            let seconds = options.kombu_missing_consumer_retry_timeout.max(0);
            config.reply_retry_timeout = Duration::from_secs(seconds.unsigned_abs());
        }
        Ok(Transport {
            inner: Arc::new(TransportInner {
                driver,
                url,
                config,
                reply_waiter: OnceCell::new(),
                tasks: Tasks::default(),
            }),
        })
    }
}
