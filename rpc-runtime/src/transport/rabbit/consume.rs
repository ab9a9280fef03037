//! Consuming (spec §2.1 "Order and consume", §8): a consumer group is one channel on the
//! consume connection with its declarations and consumers — a server's three queues, or a
//! client's reply queue. A task sets the group up on every new session (re-declaring and
//! re-consuming after a reconnect, same names, spec §7.4). Replies are handed to the reply
//! sink by that task; a server's listener polls its consumers itself, so a request reaches
//! the server without an extra hop between tasks.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures_core::Stream;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicQosOptions, BasicRejectOptions,
    QueueDeleteOptions,
};
use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Consumer};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout};

use super::config::Backoff;
use super::declare::{self, ConsumeMode, ConsumeSpec, ConsumerArgs, Declared};
use super::link::{Hold, Link, LinkState, Session, closed_error};
use super::stream::{self, StreamOffset};
use crate::error::{RpcError, TransportError, TransportErrorKind};
use crate::tasks::Tasks;
use crate::transport::{Acker, BoxFuture, Incoming, Listener, ReplySink};

/// How long stopping a group (cancel, close) or deleting a queue may take.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause before setting a group up again after its consumers ended on a live connection
/// (e.g. someone deleted the queue).
const RESETUP_PAUSE: Duration = Duration::from_secs(1);

/// Where a group's deliveries go.
#[derive(Clone)]
pub(super) enum Deliver {
    /// A client's replies: handed to the sink and acknowledged on receipt (spec §4.4).
    Replies(Arc<dyn ReplySink>),
    /// A server's requests: each session's consumers go to the listener, which polls them
    /// in `Listener::recv`; the server settles each delivery (spec §8.1).
    Requests(mpsc::UnboundedSender<ConsumerSet>),
}

/// The consumers of one session, lent to a listener. The listener reports through `lost`
/// when they end (connection lost, or the broker cancelled them), so the group sets up
/// again.
pub(super) struct ConsumerSet {
    /// The channel the consumers deliver on, where their deliveries are acknowledged.
    channel: Channel,
    consumers: Vec<Consumer>,
    lost: Option<oneshot::Sender<Ended>>,
    next: usize,
    /// The stream consumer's index in `consumers` and its offset (stream fanout).
    stream: Option<(usize, Arc<StreamOffset>)>,
    /// A relief's set keeps the relief connection open while it, or one of its
    /// deliveries, is not done with it.
    hold: Option<Arc<Hold>>,
}

impl ConsumerSet {
    /// The next delivery of any of the set's consumers (see [`next_delivery`]).
    fn poll_delivery(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<lapin::Result<Delivery>>> {
        poll_consumers(&mut self.consumers, &mut self.next, cx)
    }

    fn lost(&mut self, reason: Ended) {
        if let Some(lost) = self.lost.take() {
            let _ = lost.send(reason);
        }
    }
}

/// Why a session's consumers ended.
#[derive(Debug)]
enum Ended {
    /// A consumer's stream ended: the broker cancelled it (`basic.cancel`), or the
    /// connection went and took it.
    Cancelled,
    /// An error, or the connection was lost.
    Failed(String),
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Cancelled => f.write_str("the broker cancelled a consumer"),
            Ended::Failed(reason) => f.write_str(reason),
        }
    }
}

/// Where a group stands.
#[derive(Debug, Clone)]
enum GroupStatus {
    /// Not consuming yet.
    Starting,
    /// Consuming on the session of this generation.
    Consuming,
    /// Setting up failed for good before the group ever consumed.
    Failed(Arc<str>),
    /// Stopped.
    Stopped,
}

/// A running consumer group.
pub(super) struct ConsumerGroup {
    link: Arc<Link>,
    status: watch::Receiver<GroupStatus>,
    stop: watch::Sender<bool>,
    /// For groups whose deliveries are settled after they are handled (notification
    /// listeners): stopping only cancels the consumers, and the channel stays open for the
    /// in-flight acknowledgements until this is set.
    release: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
    /// The task that consumes the same queues on the relief connection while the group's
    /// own connection is blocked (see [`Relief`]).
    relief_task: Option<JoinHandle<()>>,
}

/// Where a server's queues are also consumed while the broker blocks the connection the
/// group consumes on ([`super::Connections::Adaptive`]).
///
/// A connection that publishes and consumes is blocked as a whole once it publishes during
/// a resource alarm: the broker stops reading it, acknowledgements included, so its
/// consumers stop at their prefetch and the queues they would drain grow. While it is
/// blocked, the group also consumes its queues on a connection that never publishes, which
/// the broker keeps reading; once it is unblocked, those consumers are cancelled and every
/// delivery they received before the cancel is still handed out once.
pub(super) struct Relief {
    /// The connection that never publishes.
    pub(super) link: Arc<Link>,
    /// Whether the broker blocks the group's own connection.
    pub(super) blocked: watch::Receiver<bool>,
}

/// How a consumer group consumes, beyond its plan.
#[derive(Default)]
pub(super) struct GroupOptions {
    /// `basic.qos` prefetch of the channel; 0 sends none.
    pub(super) prefetch: u16,
    /// The offset of the plan's stream consumer, if it has one (stream fanout).
    pub(super) stream: Option<Arc<StreamOffset>>,
    /// Deliveries are settled after they are handled (notification listeners):
    /// [`ConsumerGroup::cancel`] stops the deliveries while the channel stays open for
    /// settling the ones in flight, until [`ConsumerGroup::stop`] closes it.
    pub(super) settle_after_stop: bool,
    /// Where to consume too while the group's connection is blocked (server and
    /// notification listeners of an adaptive transport).
    pub(super) relief: Option<Relief>,
}

impl ConsumerGroup {
    /// Starts setting up and consuming `plan` on the link's sessions.
    pub(super) fn start(
        link: Arc<Link>,
        declared: Arc<Declared>,
        backoff: Backoff,
        plan: Vec<ConsumeSpec>,
        deliver: Deliver,
        options: GroupOptions,
        tasks: &Tasks,
    ) -> Self {
        let GroupOptions {
            prefetch,
            stream,
            settle_after_stop,
            relief,
        } = options;
        let (status_tx, status) = watch::channel(GroupStatus::Starting);
        let status_tx = Arc::new(status_tx);
        let (stop, stop_rx) = watch::channel(false);
        let (release, release_rx) = if settle_after_stop {
            let (tx, rx) = watch::channel(false);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let relief_task = relief
            .filter(|_| matches!(deliver, Deliver::Requests(_)))
            .and_then(|relief| {
                let plan = relief_plan(&plan)?;
                let task = GroupTask {
                    link: relief.link,
                    declared: declared.clone(),
                    backoff,
                    plan,
                    prefetch,
                    deliver: deliver.clone(),
                    stream: None,
                    // A group started while its connection is blocked consumes on the
                    // relief first.
                    status: status_tx.clone(),
                    stop: stop_rx.clone(),
                    release: release_rx.clone(),
                    active: Some(relief.blocked),
                    retired: None,
                };
                Some(tasks.spawn(task.run()))
            });
        let task = GroupTask {
            link: link.clone(),
            declared,
            backoff,
            plan,
            prefetch,
            deliver,
            stream,
            status: status_tx,
            stop: stop_rx,
            release: release_rx,
            active: None,
            retired: None,
        };
        ConsumerGroup {
            link,
            status,
            stop,
            release,
            task: Some(tasks.spawn(task.run())),
            relief_task,
        }
    }

    /// Stops the deliveries (`basic.cancel`) without closing the channel, so deliveries
    /// already handed out can still be acknowledged or requeued. Only for groups started
    /// with `settle_after_stop`; others stop altogether.
    pub(super) fn cancel(&mut self) {
        let _ = self.stop.send(true);
    }

    /// Waits until the group consumes. When no broker can be reached (a whole cycle of
    /// failed attempts), returns `Ok` anyway: the group keeps trying and consumes as soon
    /// as a broker is back (oslo's consumers retry forever too). Fails when the broker
    /// refuses the declarations (e.g. 406 against a peer's queue with other flags).
    pub(super) async fn ready(&mut self) -> Result<(), RpcError> {
        let mut link = self.link.watch();
        let hosts = self.link.hosts();
        loop {
            match &*self.status.borrow_and_update() {
                GroupStatus::Consuming => return Ok(()),
                GroupStatus::Failed(error) => return Err(RpcError::transport(error.to_string())),
                GroupStatus::Stopped => return Err(closed_error()),
                GroupStatus::Starting => {}
            }
            match &*link.borrow_and_update() {
                // A refused login or virtual host fails the start: waiting will not help.
                LinkState::Down {
                    error: Some(error),
                    denied: true,
                    ..
                } => {
                    return Err(RpcError::Transport(TransportError::with_kind(
                        TransportErrorKind::AccessRefused,
                        error.to_string(),
                    )));
                }
                LinkState::Down {
                    failures, error, ..
                } if *failures >= hosts => {
                    tracing::warn!(
                        error = error.as_deref().unwrap_or(""),
                        "AMQP server unreachable; consuming will start when it is back"
                    );
                    return Ok(());
                }
                LinkState::Closed => return Err(closed_error()),
                _ => {}
            }
            tokio::select! {
                changed = self.status.changed() => if changed.is_err() { return Err(closed_error()) },
                changed = link.changed() => if changed.is_err() { return Err(closed_error()) },
            }
        }
    }

    /// Resolves once the group consumed (at once if it has); fails if it failed or
    /// stopped before it ever did. Unlike [`ConsumerGroup::ready`], it does not give up
    /// while no broker can be reached.
    pub(super) fn consuming(&self) -> BoxFuture<'static, Result<(), RpcError>> {
        let mut status = self.status.clone();
        Box::pin(async move {
            loop {
                match &*status.borrow_and_update() {
                    GroupStatus::Consuming => return Ok(()),
                    GroupStatus::Failed(error) => {
                        return Err(RpcError::transport(error.to_string()));
                    }
                    GroupStatus::Stopped => return Err(closed_error()),
                    GroupStatus::Starting => {}
                }
                if status.changed().await.is_err() {
                    return Err(closed_error());
                }
            }
        })
    }

    /// Stops consuming: cancels the consumers and closes the channel, which gives every
    /// unacknowledged delivery back to its queue. Bounded by [`SETTLE_TIMEOUT`].
    pub(super) async fn stop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(release) = &self.release {
            let _ = release.send(true);
        }
        let tasks = [self.task.take(), self.relief_task.take()];
        let all = async {
            for task in tasks.into_iter().flatten() {
                let _ = task.await;
            }
        };
        if timeout(SETTLE_TIMEOUT, all).await.is_err() {
            tracing::warn!("a consumer did not stop in time");
        }
    }
}

impl Drop for ConsumerGroup {
    fn drop(&mut self) {
        // The task cancels and closes in the background.
        let _ = self.stop.send(true);
        if let Some(release) = &self.release {
            let _ = release.send(true);
        }
    }
}

/// How a pumping session ended.
enum PumpEnd {
    Stopped,
    Lost(Ended),
    /// A relief's consumers were cancelled because the group's own connection is no longer
    /// blocked.
    Retired,
}

/// The part of a plan a relief consumes: every queue acknowledged by the listener, but not
/// a stream (a second consumer would read it again from its own offset, and a stream does
/// not hold the broker's memory anyway) nor a tap's auto-acknowledged queue (the broker
/// sends those whether the connection is read or not). `None` when nothing is left.
fn relief_plan(plan: &[ConsumeSpec]) -> Option<Vec<ConsumeSpec>> {
    let relief: Vec<ConsumeSpec> = plan
        .iter()
        .filter(|spec| {
            spec.consumer_args != ConsumerArgs::StreamOffset && spec.mode != ConsumeMode::AutoAck
        })
        .cloned()
        .collect();
    relief
        .iter()
        .any(|spec| spec.mode != ConsumeMode::BindOnly)
        .then_some(relief)
}

struct GroupTask {
    link: Arc<Link>,
    declared: Arc<Declared>,
    backoff: Backoff,
    plan: Vec<ConsumeSpec>,
    prefetch: u16,
    deliver: Deliver,
    stream: Option<Arc<StreamOffset>>,
    /// Shared with the group's relief.
    status: Arc<watch::Sender<GroupStatus>>,
    stop: watch::Receiver<bool>,
    /// See [`ConsumerGroup::release`].
    release: Option<watch::Receiver<bool>>,
    /// A relief's condition: it consumes only while this is true (see [`Relief`]).
    active: Option<watch::Receiver<bool>>,
    /// A retired relief channel of a group that settles after handling: it stays open for
    /// the deliveries in flight until the next relief, or the group, ends.
    retired: Option<Channel>,
}

impl GroupTask {
    async fn run(mut self) {
        let mut non_durable = false;
        let mut mismatches = 0u32;
        let mut consumed = false;
        let mut failures = 0u32;
        loop {
            if let Some(active) = &mut self.active {
                tokio::select! {
                    set = until(active, true) => if !set { break },
                    _ = stopped(&mut self.stop) => break,
                }
            }
            // A relief's connection is open only while something holds it: this turn, the
            // set it lends the listener and that set's unsettled deliveries.
            let hold = self.link.hold().map(Arc::new);
            let session = tokio::select! {
                session = self.link.session(None) => match session {
                    Ok(session) => session,
                    Err(_) => break,
                },
                _ = stopped(&mut self.stop) => break,
                // A relief no longer needed before its connection came up.
                _ = until_some(self.active.as_mut(), false) => continue,
            };
            let plan: Vec<ConsumeSpec> = if non_durable {
                self.plan.iter().map(ConsumeSpec::non_durable).collect()
            } else {
                self.plan.clone()
            };
            match self.setup(&session, &plan).await {
                Ok((channel, consumers)) => {
                    consumed = true;
                    failures = 0;
                    mismatches = 0;
                    let _ = self.status.send(GroupStatus::Consuming);
                    match self
                        .pump(&channel, consumers, session.generation, hold)
                        .await
                    {
                        PumpEnd::Stopped => {
                            if let Some(release) = &mut self.release {
                                // Cancel first; close once the deliveries in flight are
                                // settled (or the connection is gone).
                                cancel_consumers(&channel, &plan).await;
                                tokio::select! {
                                    _ = stopped(release) => {}
                                    _ = self.link.lost(session.generation) => {}
                                }
                            }
                            self.cancel_and_close(&channel, &plan).await;
                            break;
                        }
                        PumpEnd::Retired => {
                            tracing::info!(
                                "the blocked connection is free again; relief consumers cancelled"
                            );
                            if self.release.is_some() {
                                if let Some(previous) = self.retired.replace(channel) {
                                    close_channel(&previous).await;
                                }
                            } else {
                                close_channel(&channel).await;
                            }
                        }
                        PumpEnd::Lost(reason) => {
                            self.link.report(&session);
                            if session.is_alive() {
                                if let (Ended::Cancelled, Some(stream)) = (&reason, &self.stream) {
                                    // oslo's `Basic.cancel` branch of `ensure`: the stream
                                    // may be new, its offsets reset (spec-production-topology §3).
                                    stream.reset();
                                }
                                tracing::warn!(%reason, "consumers ended; declaring and consuming again");
                                drop(channel);
                                if self.pause(RESETUP_PAUSE).await {
                                    break;
                                }
                            }
                        }
                    }
                }
                Err(error) => {
                    let text = error.to_string();
                    // oslo's fallback declares non-durable after `inequivalent arg
                    // 'durable'` and never goes back (spec §10.2): after a broker restart
                    // the non-durable entities are gone, a durable peer declares them
                    // durable, and such a listener fails to declare for ever. Here each
                    // mismatch tries the other durability.
                    if is_durable_mismatch(&error) && self.plan.iter().any(|c| c.queue.durable) {
                        non_durable = !non_durable;
                        mismatches = mismatches.saturating_add(1);
                        tracing::warn!(
                            %text,
                            non_durable,
                            "durable mismatch; declaring with the other durability"
                        );
                        // Two mismatches in a row mean peers keep redeclaring: back off.
                        if mismatches > 1 && self.pause(self.backoff.interval(mismatches)).await {
                            break;
                        }
                        continue;
                    }
                    if !is_channel_error(&error) {
                        self.link.report(&session);
                        if self.pause(Duration::from_millis(100)).await {
                            break;
                        }
                        continue;
                    }
                    // A relief retries instead: the group consumes on its own connection.
                    if !consumed && self.active.is_none() {
                        tracing::error!(error = %text, "declaring the queues failed");
                        let _ = self
                            .status
                            .send(GroupStatus::Failed(Arc::from(text.as_str())));
                        return;
                    }
                    let pause = self.backoff.interval(failures);
                    failures = failures.saturating_add(1);
                    tracing::error!(error = %text, ?pause, "declaring the queues failed; retrying");
                    if self.pause(pause).await {
                        break;
                    }
                }
            }
        }
        if let Some(retired) = self.retired.take() {
            close_channel(&retired).await;
        }
        let _ = self.status.send(GroupStatus::Stopped);
    }

    /// True when stop was asked during the pause.
    async fn pause(&mut self, duration: Duration) -> bool {
        tokio::select! {
            _ = sleep(duration) => *self.stop.borrow(),
            _ = stopped(&mut self.stop) => true,
        }
    }

    /// Opens a channel and declares, binds and consumes in oslo's order (spec §2.1):
    /// `basic.qos` first (listeners only), then per consumer exchange, queue and binding,
    /// then the consumers with their tags.
    async fn setup(
        &self,
        session: &Session,
        plan: &[ConsumeSpec],
    ) -> lapin::Result<(Channel, Vec<Consumer>)> {
        let channel = session.connection.create_channel().await?;
        if self.prefetch > 0 {
            channel
                .basic_qos(self.prefetch, BasicQosOptions { global: false })
                .await?;
        }
        for spec in plan {
            if let Some(exchange) = &spec.exchange {
                declare::declare_exchange(&channel, exchange).await?;
                self.declared.exchange(&exchange.name);
            }
            declare::declare_queue(&channel, &spec.queue).await?;
            self.declared.queue(&spec.queue.name);
            declare::bind(&channel, spec).await?;
        }
        let mut consumers = Vec::with_capacity(plan.len());
        for spec in plan
            .iter()
            .filter(|spec| spec.mode != ConsumeMode::BindOnly)
        {
            let consumer = channel
                .basic_consume(
                    spec.queue.name.as_str().into(),
                    spec.consumer_tag.as_str().into(),
                    BasicConsumeOptions {
                        no_local: false,
                        no_ack: spec.mode == ConsumeMode::AutoAck,
                        exclusive: false,
                        nowait: false,
                    },
                    self.consumer_arguments(spec.consumer_args),
                )
                .await?;
            consumers.push(consumer);
        }
        Ok((channel, consumers))
    }

    /// The `basic.consume` arguments of a consumer (spec-production-topology §2, §3).
    fn consumer_arguments(&self, args: ConsumerArgs) -> FieldTable {
        let mut table = FieldTable::default();
        match args {
            ConsumerArgs::None => {}
            ConsumerArgs::CancelOnFailover => {
                table.insert("x-cancel-on-ha-failover".into(), AMQPValue::Boolean(true));
            }
            ConsumerArgs::StreamOffset => {
                let offset = self.stream.as_deref().map_or_else(
                    || StreamOffset::default().consumer_argument(),
                    StreamOffset::consumer_argument,
                );
                table.insert(stream::OFFSET_KEY.into(), offset);
            }
        }
        table
    }

    /// Serves one session's consumers until they end or stop is asked.
    async fn pump(
        &mut self,
        channel: &Channel,
        consumers: Vec<Consumer>,
        generation: u64,
        hold: Option<Arc<Hold>>,
    ) -> PumpEnd {
        match &self.deliver {
            Deliver::Replies(sink) => {
                let sink = sink.clone();
                self.pump_replies(channel, consumers, sink).await
            }
            Deliver::Requests(listener) => {
                let (lost, mut lost_rx) = oneshot::channel();
                let stream_index = self
                    .plan
                    .iter()
                    .filter(|spec| spec.mode != ConsumeMode::BindOnly)
                    .position(|spec| spec.consumer_args == ConsumerArgs::StreamOffset);
                let set = ConsumerSet {
                    channel: channel.clone(),
                    consumers,
                    lost: Some(lost),
                    next: 0,
                    stream: stream_index.zip(self.stream.clone()),
                    hold,
                };
                if listener.send(set).is_err() {
                    // The listener is gone without stopping: give everything back.
                    return PumpEnd::Stopped;
                }
                // The listener reports consumers that end; a lost connection is noticed
                // here too, so a busy server's queues are declared again without delay.
                tokio::select! {
                    _ = stopped(&mut self.stop) => PumpEnd::Stopped,
                    reason = &mut lost_rx => match reason {
                        Ok(reason) => PumpEnd::Lost(reason),
                        Err(_) => PumpEnd::Stopped,
                    },
                    _ = self.link.lost(generation) => PumpEnd::Lost(Ended::Failed("connection lost".to_owned())),
                    _ = until_some(self.active.as_mut(), false) => {
                        // The listener hands out what arrived before the cancel-ok, then
                        // reports the end of the consumers; the channel closes after that,
                        // giving back whatever it never handed out.
                        cancel_consumers(channel, &self.plan).await;
                        let _ = timeout(SETTLE_TIMEOUT, &mut lost_rx).await;
                        PumpEnd::Retired
                    }
                }
            }
        }
    }

    /// Hands replies to the sink until the consumer ends or stop is asked. oslo acks every
    /// reply on receipt, wanted or not (spec §4.4); here one `basic.ack` with `multiple`
    /// covers each run of replies that arrived together (at most [`REPLY_ACK_RUN`]), sent
    /// once no further reply is ready. The reply consumer is alone on its channel and
    /// acknowledges strictly in delivery order, so `multiple` covers exactly the run.
    async fn pump_replies(
        &mut self,
        channel: &Channel,
        mut consumers: Vec<Consumer>,
        sink: Arc<dyn ReplySink>,
    ) -> PumpEnd {
        let mut start = 0usize;
        // The last reply delivered and not yet acknowledged, and how many are.
        let mut unacked: Option<u64> = None;
        let mut run = 0usize;
        loop {
            let ready = if run < REPLY_ACK_RUN && !*self.stop.borrow() {
                ready_delivery(&mut consumers, &mut start)
            } else {
                None
            };
            let next = match ready {
                Some(next) => next,
                None => {
                    if let Some(tag) = unacked.take() {
                        if let Err(error) = queue_ack(channel, tag, true) {
                            tracing::debug!(%error, "could not acknowledge replies");
                        }
                        run = 0;
                    }
                    tokio::select! {
                        biased;
                        _ = stopped(&mut self.stop) => return PumpEnd::Stopped,
                        next = next_delivery(&mut consumers, &mut start) => next,
                    }
                }
            };
            let delivery = match next {
                Some(Ok(delivery)) => delivery,
                Some(Err(error)) => return PumpEnd::Lost(Ended::Failed(error.to_string())),
                None => return PumpEnd::Lost(Ended::Cancelled),
            };
            let content_type = delivery.properties.content_type().as_ref();
            sink.deliver(&delivery.data, content_type.map(|ct| ct.as_str()));
            unacked = Some(delivery.delivery_tag);
            run += 1;
            crate::wire::recycle(delivery.data);
        }
    }

    async fn cancel_and_close(&self, channel: &Channel, plan: &[ConsumeSpec]) {
        let settle = async {
            if self.release.is_none() {
                cancel_consumers(channel, plan).await;
            }
            // Closing the channel requeues what was delivered but never acknowledged.
            let _ = channel.close(200, "OK".into()).await;
        };
        if timeout(SETTLE_TIMEOUT, settle).await.is_err() {
            tracing::warn!("cancelling consumers timed out");
        }
    }
}

/// Closes a channel, bounded by [`SETTLE_TIMEOUT`]; what it delivered and nobody
/// acknowledged goes back to its queues.
async fn close_channel(channel: &Channel) {
    if timeout(SETTLE_TIMEOUT, channel.close(200, "OK".into()))
        .await
        .is_err()
    {
        tracing::warn!("closing a channel timed out");
    }
}

/// Resolves once `watch` holds `value` (true), or its sender is gone (false).
async fn until(watch: &mut watch::Receiver<bool>, value: bool) -> bool {
    watch.wait_for(|current| *current == value).await.is_ok()
}

/// [`until`] on an optional watch; never resolves without one.
async fn until_some(watch: Option<&mut watch::Receiver<bool>>, value: bool) {
    match watch {
        Some(watch) => {
            if !until(watch, value).await {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}

/// Cancels a group's consumers (bounded by [`SETTLE_TIMEOUT`]); the channel stays open.
async fn cancel_consumers(channel: &Channel, plan: &[ConsumeSpec]) {
    let cancel = async {
        for spec in plan
            .iter()
            .filter(|spec| spec.mode != ConsumeMode::BindOnly)
        {
            let _ = channel
                .basic_cancel(
                    spec.consumer_tag.as_str().into(),
                    BasicCancelOptions::default(),
                )
                .await;
        }
    };
    if timeout(SETTLE_TIMEOUT, cancel).await.is_err() {
        tracing::warn!("cancelling consumers timed out");
    }
}

/// The most replies one `basic.ack` with `multiple` covers: a steady stream of replies is
/// still acknowledged as it goes, and the broker's unacknowledged count stays small.
const REPLY_ACK_RUN: usize = 64;

/// Queues a `basic.ack` on `channel` without waiting for lapin to write it; fails when
/// lapin refuses it (the channel is closed). Sent straight on the channel: lapin's `Acker`
/// goes through its internal RPC task, which spawns a task per ack and wakes the I/O
/// thread twice, three thread hops per delivery for the same frame.
fn queue_ack(channel: &Channel, delivery_tag: u64, multiple: bool) -> lapin::Result<()> {
    let mut ack = std::pin::pin!(channel.basic_ack(delivery_tag, BasicAckOptions { multiple }));
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    // The first poll hands the frame to lapin's I/O loop (or finds the channel closed);
    // nobody waits for the write.
    match ack.as_mut().poll(&mut context) {
        Poll::Ready(Err(error)) => Err(error),
        Poll::Ready(Ok(())) | Poll::Pending => Ok(()),
    }
}

/// A delivery that is ready now, without waiting: `None` when none is.
fn ready_delivery(
    consumers: &mut [Consumer],
    start: &mut usize,
) -> Option<Option<lapin::Result<Delivery>>> {
    let mut next = std::pin::pin!(next_delivery(consumers, start));
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match next.as_mut().poll(&mut context) {
        Poll::Ready(item) => Some(item),
        Poll::Pending => None,
    }
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// The next delivery of any consumer, starting the search after the last one served so
/// that no queue starves the others. `None` when a consumer ended.
async fn next_delivery(
    consumers: &mut [Consumer],
    start: &mut usize,
) -> Option<lapin::Result<Delivery>> {
    poll_fn(|cx| poll_consumers(consumers, start, cx)).await
}

fn poll_consumers(
    consumers: &mut [Consumer],
    start: &mut usize,
    cx: &mut std::task::Context<'_>,
) -> Poll<Option<lapin::Result<Delivery>>> {
    let count = consumers.len();
    for offset in 0..count {
        let index = (*start + offset) % count;
        if let Poll::Ready(item) = Pin::new(&mut consumers[index]).poll_next(cx) {
            *start = index + 1;
            return Poll::Ready(item);
        }
    }
    Poll::Pending
}

fn soft_error(error: &lapin::Error) -> Option<(AMQPSoftError, &str)> {
    match error.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => match amqp.kind() {
            AMQPErrorKind::Soft(soft) => Some((soft.clone(), amqp.get_message().as_str())),
            AMQPErrorKind::Hard(_) => None,
        },
        _ => None,
    }
}

/// A channel-level refusal (403, 404, 405, 406, ...): the connection lives on.
fn is_channel_error(error: &lapin::Error) -> bool {
    soft_error(error).is_some()
}

/// `PRECONDITION_FAILED - inequivalent arg 'durable'` (spec §2.1 fallback).
fn is_durable_mismatch(error: &lapin::Error) -> bool {
    matches!(
        soft_error(error),
        Some((AMQPSoftError::PRECONDITIONFAILED, text)) if text.contains("inequivalent arg 'durable'")
    )
}

/// Deletes a queue on its own short-lived channel (bounded; best effort).
pub(super) async fn delete_queue(link: &Link, queue: &str) -> Result<(), RpcError> {
    let Some(session) = link.current() else {
        return Err(RpcError::transport(format!(
            "not connected; queue {queue} is left to expire"
        )));
    };
    let delete = async {
        let channel = session.connection.create_channel().await?;
        channel
            .queue_delete(queue.into(), QueueDeleteOptions::default())
            .await?;
        channel.close(200, "OK".into()).await
    };
    match timeout(SETTLE_TIMEOUT, delete).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(RpcError::transport(format!(
            "deleting queue {queue}: {error}"
        ))),
        Err(_) => Err(RpcError::transport(format!(
            "deleting queue {queue} timed out"
        ))),
    }
}

/// A server's consumers on the topic, server and fanout queues.
pub(super) struct RabbitListener {
    pub(super) link: Arc<Link>,
    pub(super) declared: Arc<Declared>,
    pub(super) group: ConsumerGroup,
    /// Each session's consumers, from the group's task (and its relief's).
    pub(super) sessions: mpsc::UnboundedReceiver<ConsumerSet>,
    /// The sets delivering now: the session's, and a relief's while the session's
    /// connection is blocked.
    pub(super) current: Vec<ConsumerSet>,
    /// The set to look at first, so that neither starves the other.
    pub(super) next_set: usize,
    /// The queue the listener declared for itself and deletes on close: a server's
    /// fanout queue (spec §2.1 "Lifetimes"), or a tap's queue. `None` for a shared stream
    /// and for queue-manager names, which oslo leaves for the next start (or to expire);
    /// notification listeners leave their queues too (notify §2.2).
    pub(super) own_queue: Option<String>,
    /// A tap: deliveries are auto-acknowledged and carry their route.
    pub(super) tap: bool,
    /// Deliveries are settled after they are handled (notification listeners): `stop`
    /// only cancels the consumers; `close` closes the channel.
    pub(super) settle_after_stop: bool,
    pub(super) stopped: bool,
}

impl RabbitListener {
    /// Stops taking deliveries; with `settle_after_stop` the channel stays open for the
    /// ones in flight until `close`.
    async fn stop(&mut self) {
        if !self.settle_after_stop {
            return self.stop_consuming().await;
        }
        self.group.cancel();
        self.current.clear();
        self.sessions.close();
        while self.sessions.try_recv().is_ok() {}
    }

    async fn stop_consuming(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        // The group cancels the consumers and closes the channel: what was delivered here
        // but never accepted goes back to the queues.
        self.group.stop().await;
        self.current.clear();
        self.sessions.close();
        while self.sessions.try_recv().is_ok() {}
    }

    /// The next delivery of the current sets' consumers, taking up new sets as they come
    /// and dropping each set whose consumers end.
    async fn next_delivery(&mut self) -> Option<(Delivery, Channel, Option<Arc<Hold>>)> {
        loop {
            if self.stopped {
                return None;
            }
            let polled = poll_fn(|cx| {
                while let Poll::Ready(set) = self.sessions.poll_recv(cx) {
                    match set {
                        Some(set) => self.current.push(set),
                        // The group is gone, and with it every set's channel.
                        None if self.current.is_empty() => return Poll::Ready(None),
                        None => break,
                    }
                }
                let count = self.current.len();
                for offset in 0..count {
                    let index = (self.next_set + offset) % count;
                    let set = &mut self.current[index];
                    if let Poll::Ready(item) = set.poll_delivery(cx) {
                        self.next_set = index + 1;
                        return Poll::Ready(Some((index, item)));
                    }
                }
                Poll::Pending
            })
            .await;
            let (index, item) = polled?;
            let set = &mut self.current[index];
            match item {
                Some(Ok(delivery)) => {
                    // `next` is one past the consumer that delivered.
                    if let Some((stream_index, offset)) = &set.stream
                        && set.next == *stream_index + 1
                    {
                        offset.record(&delivery);
                    }
                    return Some((delivery, set.channel.clone(), set.hold.clone()));
                }
                Some(Err(error)) => set.lost(Ended::Failed(error.to_string())),
                None => set.lost(Ended::Cancelled),
            }
            self.current.swap_remove(index);
        }
    }
}

impl Listener for RabbitListener {
    fn consuming(&self) -> BoxFuture<'static, Result<(), RpcError>> {
        self.group.consuming()
    }

    fn recv(&mut self) -> BoxFuture<'_, Option<Incoming>> {
        Box::pin(async move {
            let (delivery, channel, hold) = self.next_delivery().await?;
            let content_type = delivery
                .properties
                .content_type()
                .as_ref()
                .map(|ct| ct.as_str().to_owned());
            if self.tap {
                let route = (
                    delivery.exchange.as_str().to_owned(),
                    delivery.routing_key.as_str().to_owned(),
                );
                return Some(Incoming {
                    body: delivery.data,
                    content_type,
                    acker: None,
                    route: Some(route),
                });
            }
            Some(Incoming {
                body: delivery.data,
                content_type,
                acker: Some(Box::new(RabbitAcker {
                    channel,
                    _hold: hold,
                    delivery_tag: delivery.delivery_tag,
                    acker: delivery.acker,
                })),
                route: None,
            })
        })
    }

    fn stop(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(RabbitListener::stop(self))
    }

    fn close(mut self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            self.stop_consuming().await;
            // oslo deletes its fanout queue on close (spec §2.1 "Lifetimes"); a tap's
            // queue would go with its connection anyway, but not before.
            let Some(queue) = self.own_queue.take() else {
                return;
            };
            match delete_queue(&self.link, &queue).await {
                Ok(()) => self.declared.forget_queue(&queue),
                Err(error) => tracing::warn!(%error, "could not delete the listener's own queue"),
            }
        })
    }
}

/// Settles one delivery of a server's (or notification listener's) queues.
struct RabbitAcker {
    /// The channel of the delivery: acks go straight to it (see [`queue_ack`]).
    channel: Channel,
    delivery_tag: u64,
    /// Rejects and requeues go through lapin's acker (rare: undecodable messages, a
    /// requeueing notification handler). Acks are single, never `multiple`, so the order
    /// of the two paths does not matter.
    acker: lapin::Acker,
    /// A relief's delivery keeps the relief connection open until it is settled.
    _hold: Option<Arc<Hold>>,
}

fn settled(outcome: lapin::Result<bool>, what: &str) -> Result<(), RpcError> {
    match outcome {
        Ok(true) => Ok(()),
        Ok(false) => Err(RpcError::transport(format!(
            "cannot {what}: the channel of the delivery is closed"
        ))),
        Err(error) => Err(RpcError::transport(format!("{what} failed: {error}"))),
    }
}

impl Acker for RabbitAcker {
    /// Done once lapin has the ack queued for its connection, as py-amqp's `ack()` returns
    /// once the frame is in the socket: either way the broker may still lose it with the
    /// connection (then it redelivers, and the duplicate window drops the copy, spec §8.2).
    /// Waiting for lapin's own confirmation of the write would cost two thread hops per
    /// request on the consuming loop. A closed channel is known at once.
    fn ack(self: Box<Self>) -> BoxFuture<'static, Result<(), RpcError>> {
        let outcome = queue_ack(&self.channel, self.delivery_tag, false)
            .map_err(|error| RpcError::transport(format!("ack failed: {error}")));
        Box::pin(std::future::ready(outcome))
    }

    fn reject(self: Box<Self>) -> BoxFuture<'static, Result<(), RpcError>> {
        Box::pin(async move {
            let options = BasicRejectOptions { requeue: false };
            settled(self.acker.reject(options).await, "reject")
        })
    }

    /// `basic.reject(requeue=true)`, as kombu's `Message.requeue` (notify §2.4).
    fn requeue(self: Box<Self>) -> BoxFuture<'static, Result<(), RpcError>> {
        Box::pin(async move {
            let options = BasicRejectOptions { requeue: true };
            settled(self.acker.reject(options).await, "requeue")
        })
    }
}
