//! One supervised AMQP connection (a "link"): a task connects, notices when the connection
//! is lost, and reconnects with oslo's backoff and failover (spec §7.4). Users wait for the
//! current session through a `watch` channel; each successful connection is a new session
//! with a higher generation, so whatever was set up on an older one is redone.
//!
//! lapin's own (experimental) recovery is not used: lapin gets no retries of its own and the
//! supervisor here decides when and where to reconnect.

use std::collections::HashSet;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_core::Stream;
use lapin::tcp::AMQPUriTcpExt;
use lapin::uri::AMQPUri;
use lapin::{Connection, ConnectionProperties, Event};
use tokio::sync::{Notify, watch};
use tokio::time::{sleep, timeout};

use super::config::RabbitConfig;
use super::probe;
use super::tls::{self, TlsConnector};
use crate::error::{RpcError, TransportError, TransportErrorKind};
use crate::rabbit_options::FailoverStrategy;
use crate::tasks::Tasks;

/// How often a supervisor looks at its connection's state, in case lapin reports a loss
/// without an event.
const WATCH_INTERVAL: Duration = Duration::from_millis(200);
/// How long a graceful connection close may take at shutdown.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long an on-demand link stays connected once nothing holds it: a resource alarm
/// that clears and comes back at once does not cost a new connection.
const IDLE_LINGER: Duration = Duration::from_secs(3);

/// What a link is for (in logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// Publishes requests, replies and heartbeats (pooled channels in confirm mode).
    Publish,
    /// Publishes and consumes (`Connections::Adaptive` and `Connections::Shared`).
    Both,
    /// Consumes: the reply queue and server listeners.
    Consume,
    /// Consumes server listeners' queues while the broker blocks a connection that both
    /// publishes and consumes ([`super::Connections::Adaptive`]).
    Relief,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Publish => "publish",
            Role::Both => "publish+consume",
            Role::Consume => "consume",
            Role::Relief => "relief",
        }
    }
}

/// The state of a link.
#[derive(Clone)]
pub(super) enum LinkState {
    /// Not connected. `failures` counts failed connection attempts since the link was
    /// created or last connected; `error` is the last one's.
    Down {
        failures: u32,
        error: Option<Arc<str>>,
        /// The broker refused the last attempt's login or virtual host: waiting will not
        /// help, so waiters fail at once (they would otherwise wait for their deadline).
        denied: bool,
    },
    /// Connected.
    Up(Arc<Session>),
    /// Shut down for good.
    Closed,
}

/// One established connection.
pub(super) struct Session {
    pub(super) connection: Connection,
    /// 1 for the first connection of the link, +1 for each reconnection.
    pub(super) generation: u64,
    /// `connection_name` as the broker shows it.
    pub(super) name: String,
    /// `host:port`.
    pub(super) host: String,
    /// Exchanges declared on this connection (oslo declares before the first publish on a
    /// channel; spec §2.1). Cleared with the session on reconnect (spec §7.4).
    exchanges: Mutex<HashSet<String>>,
    /// Notification default queues declared on this connection, as `(exchange, routing
    /// key)` (oslo declares each once per connection; notify §1.5).
    default_queues: Mutex<HashSet<(String, String)>>,
}

impl Session {
    /// Whether lapin still considers the connection usable.
    pub(super) fn is_alive(&self) -> bool {
        self.connection.status().connected()
    }

    fn exchanges(&self) -> MutexGuard<'_, HashSet<String>> {
        self.exchanges.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn exchange_declared(&self, name: &str) -> bool {
        self.exchanges().contains(name)
    }

    pub(super) fn remember_exchange(&self, name: &str) {
        self.exchanges().insert(name.to_owned());
    }

    pub(super) fn forget_exchange(&self, name: &str) {
        self.exchanges().remove(name);
    }

    fn default_queues(&self) -> MutexGuard<'_, HashSet<(String, String)>> {
        self.default_queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn default_queue_declared(&self, exchange: &str, routing_key: &str) -> bool {
        self.default_queues()
            .contains(&(exchange.to_owned(), routing_key.to_owned()))
    }

    pub(super) fn remember_default_queue(&self, exchange: &str, routing_key: &str) {
        self.default_queues()
            .insert((exchange.to_owned(), routing_key.to_owned()));
    }
}

/// A supervised connection, connected at first use.
pub(super) struct Link {
    role: Role,
    config: Arc<RabbitConfig>,
    state_tx: watch::Sender<LinkState>,
    state: watch::Receiver<LinkState>,
    /// Whether the broker blocks the current connection (`connection.blocked`: a resource
    /// alarm met a publish on it). False while down.
    blocked: Arc<watch::Sender<bool>>,
    /// Wakes the supervisor to check the connection now (a user saw an error).
    check: Arc<Notify>,
    shutdown: watch::Sender<bool>,
    started: AtomicBool,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// The driver's tasks, which own the supervisor.
    tasks: Tasks,
    /// How many [`Hold`]s an on-demand link has: it connects only while there is one (and
    /// for [`IDLE_LINGER`] after the last is dropped). `None`: connected all the time.
    demand: Option<Arc<watch::Sender<usize>>>,
}

/// Keeps an on-demand link connected while it lives (see [`Link::on_demand`]).
pub(super) struct Hold {
    demand: Arc<watch::Sender<usize>>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.demand
            .send_modify(|count| *count = count.saturating_sub(1));
    }
}

impl Link {
    pub(super) fn new(role: Role, config: Arc<RabbitConfig>, tasks: Tasks) -> Self {
        let (state_tx, state) = watch::channel(LinkState::Down {
            failures: 0,
            error: None,
            denied: false,
        });
        Link {
            role,
            config,
            state_tx,
            state,
            blocked: Arc::new(watch::channel(false).0),
            check: Arc::new(Notify::new()),
            shutdown: watch::channel(false).0,
            started: AtomicBool::new(false),
            task: Mutex::new(None),
            tasks,
            demand: None,
        }
    }

    /// A link that connects only while something holds it ([`Link::hold`]) and closes its
    /// connection once nothing has for [`IDLE_LINGER`]: the relief of an adaptive
    /// transport, needed only while the broker blocks the transport's connection.
    pub(super) fn on_demand(role: Role, config: Arc<RabbitConfig>, tasks: Tasks) -> Self {
        Link {
            demand: Some(Arc::new(watch::channel(0).0)),
            ..Link::new(role, config, tasks)
        }
    }

    /// Keeps the link connected until the hold is dropped (starts the link). Only an
    /// on-demand link needs one; for the others it changes nothing.
    pub(super) fn hold(&self) -> Option<Hold> {
        let demand = self.demand.clone()?;
        demand.send_modify(|count| *count += 1);
        self.ensure_started();
        Some(Hold { demand })
    }

    /// Starts the supervisor at the first use (oslo connects lazily too).
    fn ensure_started(&self) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        if *self.shutdown.borrow() {
            return;
        }
        let supervisor = Supervisor {
            role: self.role,
            config: self.config.clone(),
            state: self.state_tx.clone(),
            blocked: self.blocked.clone(),
            check: self.check.clone(),
            shutdown: self.shutdown.subscribe(),
            demand: self.demand.as_ref().map(|demand| demand.subscribe()),
        };
        let task = self.tasks.spawn(supervisor.run());
        *self.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
    }

    /// A receiver of state changes (starts the link).
    pub(super) fn watch(&self) -> watch::Receiver<LinkState> {
        self.ensure_started();
        self.state.clone()
    }

    /// A receiver of the broker's blocking of the current connection (starts the link).
    pub(super) fn blocked(&self) -> watch::Receiver<bool> {
        self.ensure_started();
        self.blocked.subscribe()
    }

    /// The current session, if connected.
    pub(super) fn current(&self) -> Option<Arc<Session>> {
        match &*self.state.borrow() {
            LinkState::Up(session) if session.is_alive() => Some(session.clone()),
            _ => None,
        }
    }

    /// The last connection error while the link is down (none while it is up or closed).
    pub(super) fn problem(&self) -> Option<String> {
        match &*self.state.borrow() {
            LinkState::Down {
                error: Some(error), ..
            } => Some(error.to_string()),
            _ => None,
        }
    }

    /// The number of hosts: a cycle of this many failed attempts means none is reachable.
    pub(super) fn hosts(&self) -> u32 {
        u32::try_from(self.config.hosts.len())
            .unwrap_or(u32::MAX)
            .max(1)
    }

    /// Waits for a live session. `retries` is how many failed cycles through the hosts the
    /// caller tolerates while waiting (spec §7.3): `None` any number, `Some(0)` none, so a
    /// caller that finds every host failing gives up at once, while a dead first host of
    /// several does not fail it. The caller bounds the wait.
    ///
    /// Background tasks (consumers) wait through refused logins too; see
    /// [`Link::session_for_publish`].
    pub(super) async fn session(&self, retries: Option<u32>) -> Result<Arc<Session>, RpcError> {
        self.wait_for_session(retries, false).await
    }

    /// [`Link::session`] for an operation a caller waits on: a refused login or virtual
    /// host fails it at once (`TransportErrorKind::AccessRefused`), as waiting would only
    /// run out its deadline.
    pub(super) async fn session_for_publish(
        &self,
        retries: Option<u32>,
    ) -> Result<Arc<Session>, RpcError> {
        self.wait_for_session(retries, true).await
    }

    async fn wait_for_session(
        &self,
        retries: Option<u32>,
        fail_when_denied: bool,
    ) -> Result<Arc<Session>, RpcError> {
        let mut state = self.watch();
        let hosts = self.hosts();
        // Failed attempts seen while waiting; a link that already failed a whole cycle
        // counts as one failed cycle.
        let mut observed = 0u32;
        let mut last: Option<u32> = None;
        loop {
            let current = state.borrow_and_update().clone();
            match current {
                LinkState::Up(session) => {
                    if session.is_alive() {
                        return Ok(session);
                    }
                    self.check.notify_one();
                }
                LinkState::Closed => return Err(closed_error()),
                LinkState::Down {
                    error: Some(error),
                    denied: true,
                    ..
                } if fail_when_denied => {
                    return Err(RpcError::Transport(TransportError::with_kind(
                        TransportErrorKind::AccessRefused,
                        error.to_string(),
                    )));
                }
                LinkState::Down {
                    failures, error, ..
                } => {
                    observed = observed.saturating_add(match last {
                        None if failures >= hosts => hosts,
                        None => 0,
                        Some(last) => failures.saturating_sub(last),
                    });
                    last = Some(failures);
                    if let Some(allowed) = retries
                        && observed >= allowed.saturating_add(1).saturating_mul(hosts)
                    {
                        return Err(unreachable_error(&self.config, failures, error));
                    }
                }
            }
            // A dead session may not produce a state change until the supervisor looks.
            tokio::select! {
                changed = state.changed() => {
                    if changed.is_err() {
                        return Err(closed_error());
                    }
                }
                _ = sleep(WATCH_INTERVAL) => {}
            }
        }
    }

    /// Resolves once the session of `generation` is no longer the live session.
    pub(super) async fn lost(&self, generation: u64) {
        let mut state = self.watch();
        loop {
            let live = match &*state.borrow_and_update() {
                LinkState::Up(session) => session.generation == generation && session.is_alive(),
                _ => false,
            };
            if !live {
                return;
            }
            tokio::select! {
                changed = state.changed() => if changed.is_err() { return },
                _ = sleep(WATCH_INTERVAL) => {}
            }
        }
    }

    /// Tells the supervisor that an operation on `session` failed at the connection level.
    pub(super) fn report(&self, session: &Session) {
        if !session.is_alive() {
            self.check.notify_one();
        }
    }

    /// Asks the supervisor to close the connection and stop, without waiting.
    pub(super) fn abandon(&self) {
        self.shutdown.send_replace(true);
    }

    /// Closes the connection for good; later `session()` calls fail.
    pub(super) async fn close(&self) {
        self.started.store(true, Ordering::Release);
        self.shutdown.send_replace(true);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        match task {
            Some(task) => {
                if timeout(CLOSE_TIMEOUT * 2, task).await.is_err() {
                    tracing::warn!(
                        role = self.role.name(),
                        "connection supervisor did not stop in time"
                    );
                }
            }
            None => {
                self.state_tx.send_replace(LinkState::Closed);
            }
        }
    }
}

/// The task that owns a link's connection.
struct Supervisor {
    role: Role,
    config: Arc<RabbitConfig>,
    state: watch::Sender<LinkState>,
    blocked: Arc<watch::Sender<bool>>,
    check: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
    /// An on-demand link's holds (see [`Link::on_demand`]).
    demand: Option<watch::Receiver<usize>>,
}

/// Why a session ended.
enum SessionEnd {
    /// Shutdown was asked.
    Shutdown,
    /// The connection was lost, for this reason.
    Lost(String),
    /// An on-demand link is no longer held.
    Idle,
}

/// Why a connection attempt failed.
struct ConnectFailure {
    message: String,
    /// Nothing listens on the port: the broker did no work for this attempt.
    refused: bool,
    /// The broker refused the login (`ACCESS_REFUSED`) or the virtual host
    /// (`NOT_ALLOWED`): trying again with the same URL will not help.
    denied: bool,
}

impl Supervisor {
    async fn run(mut self) {
        let mut hosts = HostOrder::new(self.config.hosts.len(), self.config.failover);
        let mut generation = 0u64;
        // The host of the last session, to tell a failover from a reconnection.
        let mut previous_host: Option<String> = None;
        let mut failures = 0u32;
        let mut cycle = 0u32;
        // Reconnections are probed first (see `probe.rs`).
        let mut probe = false;
        'outer: loop {
            if !self.wait_for_demand().await {
                break 'outer;
            }
            // One cycle through the hosts: the next host right after a failure, a pause
            // only after all of them failed (spec §1.1, §7.4).
            let mut all_refused = true;
            let mut connected = None;
            for index in hosts.cycle() {
                if self.stopping() {
                    break 'outer;
                }
                let uri = &self.config.hosts[index];
                match self.connect(uri, probe).await {
                    Ok(session) => {
                        hosts.connected(index);
                        connected = Some(session);
                        break;
                    }
                    Err(failure) => {
                        probe = true;
                        failures = failures.saturating_add(1);
                        all_refused &= failure.refused;
                        tracing::warn!(
                            messaging.system = "rabbitmq",
                            role = self.role.name(),
                            server.address = %uri.authority.host,
                            server.port = uri.authority.port,
                            attempt = failures,
                            error = %failure.message,
                            "AMQP server is unreachable"
                        );
                        let _ = self.state.send(LinkState::Down {
                            failures,
                            error: Some(Arc::from(failure.message.as_str())),
                            denied: failure.denied,
                        });
                    }
                }
            }
            let Some((connection, name, host)) = connected else {
                // (A whole cycle failed; the attempts were logged one by one.)
                // A refused TCP connect costs the broker nothing, so a broker that is down
                // (nothing listening) is retried at the first interval without growing the
                // backoff; attempts the broker had to handle back off 1, 3, 5, ... 30 s.
                let pause = if all_refused {
                    self.config.backoff.first
                } else {
                    let pause = self.config.backoff.interval(cycle);
                    cycle = cycle.saturating_add(1);
                    pause
                };
                if self.pause(pause).await {
                    break 'outer;
                }
                continue;
            };
            generation += 1;
            failures = 0;
            cycle = 0;
            let session = Arc::new(Session {
                connection,
                generation,
                name,
                host,
                exchanges: Mutex::default(),
                default_queues: Mutex::default(),
            });
            let failover = previous_host.as_ref().is_some_and(|h| *h != session.host);
            let uri = &self.config.hosts[hosts.next];
            if previous_host.is_none() {
                tracing::info!(
                    messaging.system = "rabbitmq",
                    role = self.role.name(),
                    server.address = %uri.authority.host,
                    server.port = uri.authority.port,
                    connection = %session.name,
                    generation,
                    "connected to AMQP server"
                );
            } else {
                tracing::info!(
                    messaging.system = "rabbitmq",
                    role = self.role.name(),
                    server.address = %uri.authority.host,
                    server.port = uri.authority.port,
                    connection = %session.name,
                    generation,
                    failover,
                    "reconnected to AMQP server"
                );
            }
            previous_host = Some(session.host.clone());
            let _ = self.state.send(LinkState::Up(session.clone()));
            let end = self.watch_session(&session).await;
            self.blocked.send_replace(false);
            match end {
                SessionEnd::Shutdown => {
                    close_session(&session).await;
                    break 'outer;
                }
                SessionEnd::Idle => {
                    tracing::info!(
                        messaging.system = "rabbitmq",
                        role = self.role.name(),
                        host = %session.host,
                        "connection no longer needed; closing it"
                    );
                    let _ = self.state.send(LinkState::Down {
                        failures: 0,
                        error: None,
                        denied: false,
                    });
                    close_session(&session).await;
                    drop(session);
                    // The next connection is not a reconnection (nor a failover).
                    previous_host = None;
                }
                SessionEnd::Lost(reason) => {
                    tracing::warn!(
                        messaging.system = "rabbitmq",
                        role = self.role.name(),
                        host = %session.host,
                        error = %reason,
                        "lost the connection to the AMQP server; reconnecting"
                    );
                    let _ = self.state.send(LinkState::Down {
                        failures: 0,
                        error: Some(Arc::from(reason.as_str())),
                        denied: false,
                    });
                    drop(session);
                    probe = true;
                    hosts.failed();
                    // oslo's errback sleeps kombu_reconnect_delay before reconnecting.
                    if self.pause(self.config.reconnect_delay).await {
                        break 'outer;
                    }
                }
            }
        }
        let _ = self.state.send(LinkState::Closed);
    }

    fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Waits until an on-demand link is held (at once for other links); false when
    /// shutdown was asked meanwhile.
    async fn wait_for_demand(&mut self) -> bool {
        let Some(demand) = &mut self.demand else {
            return !self.stopping();
        };
        loop {
            if *self.shutdown.borrow() {
                return false;
            }
            if *demand.borrow_and_update() > 0 {
                return true;
            }
            tokio::select! {
                changed = demand.changed() => if changed.is_err() { return false },
                changed = self.shutdown.changed() => if changed.is_err() { return false },
            }
        }
    }

    /// Resolves once an on-demand link has not been held for [`IDLE_LINGER`] (never for
    /// other links).
    async fn idle(demand: &mut Option<watch::Receiver<usize>>) {
        let Some(demand) = demand else {
            return std::future::pending().await;
        };
        loop {
            if *demand.borrow_and_update() == 0 {
                tokio::select! {
                    _ = sleep(IDLE_LINGER) => return,
                    changed = demand.changed() => if changed.is_err() { return },
                }
            } else if demand.changed().await.is_err() {
                return;
            }
        }
    }

    /// Sleeps; true when shutdown was asked meanwhile.
    async fn pause(&mut self, duration: Duration) -> bool {
        if self.stopping() {
            return true;
        }
        tokio::select! {
            _ = sleep(duration) => self.stopping(),
            _ = self.shutdown.changed() => true,
        }
    }

    async fn connect(
        &self,
        uri: &AMQPUri,
        probe: bool,
    ) -> Result<(Connection, String, String), ConnectFailure> {
        if probe {
            probe::tcp(uri, self.config.connect_timeout)
                .await
                .map_err(|failure| ConnectFailure {
                    message: format!("{}: {}", host_port(uri), failure.message),
                    refused: failure.refused,
                    denied: false,
                })?;
        }
        let name = format!(
            "{}:{}",
            self.config.connection_name_prefix,
            uuid::Uuid::new_v4().hyphenated()
        );
        let properties = ConnectionProperties::default().with_connection_name(name.clone().into());
        let connect = async {
            match &self.config.tls {
                None => Connection::connect_uri(uri.clone(), properties).await,
                Some(tls) => {
                    let limit = self.config.connect_timeout;
                    connect_tls(uri.clone(), properties, tls.clone(), limit).await
                }
            }
        };
        match timeout(self.config.connect_timeout, connect).await {
            Ok(Ok(connection)) => Ok((connection, name, host_port(uri))),
            Ok(Err(error)) => Err(match denial(&error, uri) {
                Some(message) => ConnectFailure {
                    refused: false,
                    denied: true,
                    message,
                },
                None => ConnectFailure {
                    refused: is_refused(&error),
                    denied: false,
                    message: tls::describe_connect_error(
                        &error,
                        &host_port(uri),
                        self.config.tls.as_ref(),
                    ),
                },
            }),
            Err(_) => Err(ConnectFailure {
                refused: false,
                denied: false,
                message: format!(
                    "{}: no {}AMQP handshake within {} s",
                    host_port(uri),
                    if self.config.tls.is_some() {
                        "TLS and "
                    } else {
                        ""
                    },
                    self.config.connect_timeout.as_secs()
                ),
            }),
        }
    }

    /// Waits until the session is lost, shutdown is asked, or an on-demand link is idle.
    async fn watch_session(&mut self, session: &Session) -> SessionEnd {
        let mut events = session.connection.events_listener();
        let mut demand = self.demand.clone();
        let idle = Self::idle(&mut demand);
        tokio::pin!(idle);
        loop {
            if self.stopping() {
                return SessionEnd::Shutdown;
            }
            // lapin sets the status before it sends the event; a block that came before
            // the listener did is only in the status.
            let blocked = session.connection.status().blocked();
            self.blocked
                .send_if_modified(|current| std::mem::replace(current, blocked) != blocked);
            if !session.is_alive() {
                return SessionEnd::Lost(format!("{:?}", session.connection.status()));
            }
            tokio::select! {
                event = next(&mut events) => match event {
                    Some(Event::Error(error)) => return SessionEnd::Lost(error.to_string()),
                    Some(Event::ConnectionBlocked(reason)) => tracing::warn!(
                        messaging.system = "rabbitmq",
                        role = self.role.name(), host = %session.host, %reason,
                        "the broker blocked the connection; publishes stall until it unblocks"
                    ),
                    Some(Event::ConnectionUnblocked) => tracing::info!(
                        messaging.system = "rabbitmq",
                        role = self.role.name(), host = %session.host,
                        "the broker unblocked the connection"
                    ),
                    Some(_) => {}
                    None => return SessionEnd::Lost("connection events ended".to_owned()),
                },
                _ = self.check.notified() => {}
                _ = sleep(WATCH_INTERVAL) => {}
                _ = self.shutdown.changed() => return SessionEnd::Shutdown,
                _ = &mut idle => return SessionEnd::Idle,
            }
        }
    }
}

/// Opens an AMQP connection over TLS: lapin's TCP connect, then rustls with the driver's
/// configuration, checking the certificate against the URL's host name (or address).
///
/// lapin runs this on its I/O thread and waits for it there: the caller's timeout would
/// give up on the connection but leave that thread waiting on a peer that accepted the
/// TCP connection and never answers, so the TCP connect and the handshake are bounded by
/// `limit` here too.
async fn connect_tls(
    uri: AMQPUri,
    properties: ConnectionProperties,
    tls: TlsConnector,
    limit: Duration,
) -> lapin::Result<Connection> {
    let runtime = lapin::runtime::default_runtime()?;
    Connection::connector(
        uri,
        runtime,
        async move |uri: AMQPUri, runtime| {
            let open = async {
                let plain = AMQPUriTcpExt::connect_async(&uri, &runtime).await?;
                plain.into_rustls(&tls.connector, &uri.authority.host).await
            };
            match timeout(limit, open).await {
                Ok(stream) => Ok(stream?),
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no TLS handshake within {} s", limit.as_secs()),
                )
                .into()),
            }
        },
        properties,
    )
    .await
}

async fn close_session(session: &Session) {
    if session.is_alive() {
        let close = session.connection.close(200, "OK".into());
        if let Ok(Err(error)) = timeout(CLOSE_TIMEOUT, close).await {
            tracing::debug!(%error, "closing the AMQP connection");
        }
    }
}

/// The next item of a stream (no extra dependency for one combinator).
pub(super) async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

/// What the broker said when it refused the login (`ACCESS_REFUSED`, a wrong user name or
/// password) or the virtual host (`NOT_ALLOWED`, a virtual host that does not exist or the
/// user may not use), with what to check; `None` for other failures.
fn denial(error: &lapin::Error, uri: &AMQPUri) -> Option<String> {
    use lapin::protocol::{AMQPErrorKind, AMQPHardError, AMQPSoftError};
    let lapin::ErrorKind::ProtocolError(amqp) = error.kind() else {
        return None;
    };
    let said = amqp.get_message().as_str();
    let host = host_port(uri);
    let user = &uri.authority.userinfo.username;
    match amqp.kind() {
        AMQPErrorKind::Soft(AMQPSoftError::ACCESSREFUSED) => Some(format!(
            "{host}: the broker refused the login of user {user:?} ({said}); check the user \
             name and password in the transport URL"
        )),
        AMQPErrorKind::Hard(AMQPHardError::NOTALLOWED) => Some(format!(
            "{host}: the broker refused virtual host {:?} for user {user:?} ({said}); check \
             the virtual host in the transport URL and the user's permissions",
            uri.vhost
        )),
        _ => None,
    }
}

fn is_refused(error: &lapin::Error) -> bool {
    match error.kind() {
        lapin::ErrorKind::IOError(io) => io.kind() == std::io::ErrorKind::ConnectionRefused,
        _ => false,
    }
}

fn host_port(uri: &AMQPUri) -> String {
    if uri.authority.host.contains(':') {
        format!("[{}]:{}", uri.authority.host, uri.authority.port)
    } else {
        format!("{}:{}", uri.authority.host, uri.authority.port)
    }
}

pub(super) fn closed_error() -> RpcError {
    RpcError::Transport(TransportError::with_kind(
        TransportErrorKind::Closed,
        "the rabbit transport was shut down",
    ))
}

fn unreachable_error(config: &RabbitConfig, attempts: u32, error: Option<Arc<str>>) -> RpcError {
    let hosts: Vec<String> = config.hosts.iter().map(host_port).collect();
    RpcError::transport(format!(
        "Unable to connect to AMQP server on {} after {attempts} tries: {}",
        hosts.join(", "),
        error.as_deref().unwrap_or("unknown error")
    ))
}

/// The order hosts are tried in: round robin from a random start, or a random host each
/// time (`kombu_failover_strategy`, spec §1.1).
struct HostOrder {
    count: usize,
    strategy: FailoverStrategy,
    /// The host tried first in the next cycle.
    next: usize,
}

impl HostOrder {
    fn new(count: usize, strategy: FailoverStrategy) -> Self {
        HostOrder {
            count,
            strategy,
            next: random_below(count),
        }
    }

    /// The hosts of one cycle, each once.
    fn cycle(&mut self) -> Vec<usize> {
        if self.strategy == FailoverStrategy::Shuffle {
            self.next = random_below(self.count);
        }
        (0..self.count)
            .map(|i| (self.next + i) % self.count)
            .collect()
    }

    /// Stay on the host that worked.
    fn connected(&mut self, index: usize) {
        self.next = index;
    }

    /// The connection was lost: start the next cycle on the next host (spec §7.4,
    /// `maybe_switch_next`).
    fn failed(&mut self) {
        if self.count > 0 {
            self.next = (self.next + 1) % self.count;
        }
    }
}

fn random_below(count: usize) -> usize {
    if count <= 1 {
        return 0;
    }
    let random = uuid::Uuid::new_v4().as_u128();
    (random % count as u128) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_tries_every_host_once_per_cycle() {
        let mut order = HostOrder::new(3, FailoverStrategy::RoundRobin);
        let first = order.cycle();
        let mut sorted = first.clone();
        sorted.sort();
        assert_eq!(sorted, [0, 1, 2]);
        assert_eq!(first[1], (first[0] + 1) % 3);
        order.connected(2);
        assert_eq!(order.cycle(), [2, 0, 1]);
        order.failed();
        assert_eq!(order.cycle(), [0, 1, 2]);
        let mut shuffle = HostOrder::new(4, FailoverStrategy::Shuffle);
        let mut cycle = shuffle.cycle();
        cycle.sort();
        assert_eq!(cycle, [0, 1, 2, 3]);
    }

    #[test]
    fn refused_connections_are_told_apart() {
        let refused =
            lapin::Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(is_refused(&refused));
        let reset = lapin::Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(!is_refused(&reset));
    }
}
