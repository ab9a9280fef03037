//! Notification listeners (notify §2): consume `<topic>.<priority>` queues or a pool's queue,
//! dispatch on tokio tasks with a concurrency limit, then acknowledge or requeue, one
//! notification at a time or in batches; stop gracefully.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{Instant, timeout_at};

use super::Priority;
use super::dispatcher::{self, Registered, supported_priorities};
use super::endpoint::{BatchNotificationEndpoint, NotificationEndpoint, Outcome};
use super::filter::NotificationFilter;
use super::message::{RawNotification, decode_notification};
use crate::dispatch::panics;
use crate::error::RpcError;
use crate::target::Target;
use crate::transport::{Acker, BoxFuture, Incoming, Listener, NotificationListenSpec, Transport};
use crate::wire;

/// Default limit of notifications (or batches) handled at once (oslo's
/// `executor_thread_pool_size`).
pub const DEFAULT_MAX_CONCURRENCY: usize = 64;

/// A listener that hands notifications one by one to [`NotificationEndpoint`]s
/// (oslo's `get_notification_listener`).
///
/// `#[notification_endpoint]` (in the `oslo-rpc` facade) writes endpoints from an `impl`
/// block; the facade's crate documentation has a complete example.
///
/// [`NotificationListener::batch_builder`] builds one that hands them over in batches to
/// [`BatchNotificationEndpoint`]s (oslo's `get_batch_notification_listener`).
pub struct NotificationListener {
    transport: Transport,
    spec: NotificationListenSpec,
    dispatch: Arc<dyn Dispatch>,
    allow_requeue: bool,
    max_concurrency: usize,
    batch: Option<(usize, Option<Duration>)>,
}

/// Builds a [`NotificationListener`] for [`NotificationEndpoint`]s.
pub type NotificationListenerBuilder = ListenerBuilder<dyn NotificationEndpoint>;

/// Builds a batch [`NotificationListener`] for [`BatchNotificationEndpoint`]s.
pub type BatchNotificationListenerBuilder = ListenerBuilder<dyn BatchNotificationEndpoint>;

/// Builds a notification listener; see [`NotificationListener`].
#[must_use]
pub struct ListenerBuilder<E: ?Sized> {
    transport: Transport,
    targets: Vec<Target>,
    endpoints: Vec<Registered<E>>,
    pool: Option<String>,
    allow_requeue: bool,
    max_concurrency: usize,
    batch_size: usize,
    batch_timeout: Option<Duration>,
}

impl<E: ?Sized> ListenerBuilder<E> {
    fn new(transport: Transport) -> Self {
        ListenerBuilder {
            transport,
            targets: Vec::new(),
            endpoints: Vec::new(),
            pool: None,
            allow_requeue: false,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            batch_size: 1,
            batch_timeout: None,
        }
    }

    /// Listens to a target: its topic, and its exchange (the transport's control exchange
    /// when unset). Several targets may be given.
    pub fn target(mut self, target: Target) -> Self {
        self.targets.push(target);
        self
    }

    /// Shares the queue named `pool` with the other listeners of that pool: each
    /// notification goes to one of them, and every pool gets every notification
    /// (notify §2.2). Without a pool, listeners share the `<topic>.<priority>` queues.
    pub fn pool(mut self, pool: impl Into<String>) -> Self {
        self.pool = Some(pool.into());
        self
    }

    /// Honours [`Outcome::Requeue`] (and handler failures) by requeueing; without it (the
    /// default, as in oslo) such notifications are acknowledged all the same.
    pub fn allow_requeue(mut self, allow: bool) -> Self {
        self.allow_requeue = allow;
        self
    }

    /// How many notifications (or batches) are handled at once (default 64, at least 1, at
    /// most [`crate::server::MAX_CONCURRENCY`]). Further deliveries wait, unacknowledged,
    /// with the broker's prefetch.
    pub fn max_concurrency(mut self, limit: usize) -> Self {
        self.max_concurrency = limit.clamp(1, crate::server::MAX_CONCURRENCY);
        self
    }

    fn add(mut self, endpoint: Arc<E>, filter: Option<NotificationFilter>) -> Self {
        self.endpoints.push(Registered { endpoint, filter });
        self
    }

    fn finish(
        self,
        priorities: Vec<Priority>,
        batch: Option<(usize, Option<Duration>)>,
        dispatch: impl FnOnce(Vec<Registered<E>>) -> Arc<dyn Dispatch>,
    ) -> Result<NotificationListener, RpcError> {
        if self.targets.is_empty() {
            return Err(RpcError::InvalidTarget(
                "a notification listener needs at least one target".to_owned(),
            ));
        }
        if priorities.is_empty() {
            return Err(RpcError::InvalidArgument(
                "a notification listener needs an endpoint handling at least one priority"
                    .to_owned(),
            ));
        }
        if self.pool.as_deref() == Some("") {
            return Err(RpcError::InvalidArgument(
                "a notification pool needs a name".to_owned(),
            ));
        }
        let control = &self.transport.config().control_exchange;
        let mut bindings = Vec::new();
        for target in &self.targets {
            let topic = target.require_topic()?;
            let exchange = target.exchange.clone().unwrap_or_else(|| control.clone());
            for priority in &priorities {
                bindings.push((exchange.clone(), format!("{topic}.{priority}")));
            }
        }
        let per_task = batch.map_or(1, |(size, _)| size);
        let in_flight = self.max_concurrency.saturating_mul(per_task);
        Ok(NotificationListener {
            transport: self.transport,
            spec: NotificationListenSpec {
                bindings,
                pool: self.pool,
                min_prefetch: u16::try_from(in_flight).unwrap_or(u16::MAX),
            },
            dispatch: dispatch(self.endpoints),
            allow_requeue: self.allow_requeue,
            max_concurrency: self.max_concurrency,
            batch,
        })
    }
}

impl ListenerBuilder<dyn NotificationEndpoint> {
    /// Adds an endpoint; endpoints are called in the order added (notify §2.4).
    pub fn endpoint(self, endpoint: impl NotificationEndpoint) -> Self {
        self.add(Arc::new(endpoint), None)
    }

    /// Adds an endpoint that only gets what `filter` lets through (oslo's `filter_rule`).
    pub fn endpoint_with_filter(
        self,
        endpoint: impl NotificationEndpoint,
        filter: NotificationFilter,
    ) -> Self {
        self.add(Arc::new(endpoint), Some(filter))
    }

    /// Adds a shared endpoint, optionally filtered.
    pub fn endpoint_arc(
        self,
        endpoint: Arc<dyn NotificationEndpoint>,
        filter: Option<NotificationFilter>,
    ) -> Self {
        self.add(endpoint, filter)
    }

    /// Checks the targets and endpoints and builds the listener.
    pub fn build(self) -> Result<NotificationListener, RpcError> {
        let priorities =
            supported_priorities(self.endpoints.iter().map(|r| r.endpoint.priorities()));
        self.finish(priorities, None, |endpoints| Arc::new(Single(endpoints)))
    }
}

impl ListenerBuilder<dyn BatchNotificationEndpoint> {
    /// Adds a batch endpoint; endpoints are called in the order added.
    pub fn endpoint(self, endpoint: impl BatchNotificationEndpoint) -> Self {
        self.add(Arc::new(endpoint), None)
    }

    /// Adds a batch endpoint that only gets what `filter` lets through.
    pub fn endpoint_with_filter(
        self,
        endpoint: impl BatchNotificationEndpoint,
        filter: NotificationFilter,
    ) -> Self {
        self.add(Arc::new(endpoint), Some(filter))
    }

    /// Hands over a batch once it has `size` notifications (default 1).
    pub fn batch_size(mut self, size: usize) -> Self {
        self.batch_size = size.max(1);
        self
    }

    /// Hands over a smaller batch when `timeout` has passed since its first notification
    /// arrived. Without a timeout, a batch waits until it is full.
    pub fn batch_timeout(mut self, timeout: Duration) -> Self {
        self.batch_timeout = Some(timeout);
        self
    }

    /// Checks the targets and endpoints and builds the listener.
    pub fn build(self) -> Result<NotificationListener, RpcError> {
        let priorities =
            supported_priorities(self.endpoints.iter().map(|r| r.endpoint.priorities()));
        let batch = Some((self.batch_size, self.batch_timeout));
        self.finish(priorities, batch, |endpoints| Arc::new(Batched(endpoints)))
    }
}

impl NotificationListener {
    /// A builder for a listener on `transport`.
    pub fn builder(transport: Transport) -> NotificationListenerBuilder {
        ListenerBuilder::new(transport)
    }

    /// A builder for a batch listener on `transport`.
    pub fn batch_builder(transport: Transport) -> BatchNotificationListenerBuilder {
        ListenerBuilder::new(transport)
    }

    /// Declares the queues and starts consuming; when this returns the listener receives
    /// (notifications sent earlier wait in the queues and arrive now). Stop it with
    /// [`ListenerHandle::stop`].
    ///
    /// When no broker can be reached, this returns after one round of failed attempts
    /// and the listener keeps trying; [`ListenerHandle::consuming`] tells when its queues
    /// exist (a pool's queue gets only what is sent after it is declared).
    pub async fn start(self) -> Result<ListenerHandle, RpcError> {
        let listener = self
            .transport
            .driver()
            .listen_notifications(&self.spec)
            .await?;
        let consuming = listener.consuming();
        let (stop_tx, stop_rx) = oneshot::channel();
        let worker = Worker {
            dispatch: self.dispatch,
            allow_requeue: self.allow_requeue,
            slots: Arc::new(Semaphore::new(self.max_concurrency)),
            acked: Arc::new(Mutex::new(AckedWindow::default())),
        };
        // Owned by the transport: a handle dropped without stop() still stops in the
        // background, and Transport::shutdown stops and awaits it.
        let tasks = self.transport.tasks();
        let task = tasks.spawn(worker.serve(listener, stop_rx, tasks.closing(), self.batch));
        Ok(ListenerHandle {
            stop_tx: Some(stop_tx),
            task,
            consuming: Mutex::new(Consuming::Waiting(consuming)),
        })
    }

    /// Starts, listens until `shutdown` resolves (e.g. a signal), then stops gracefully.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<(), RpcError> {
        let handle = self.start().await?;
        shutdown.await;
        handle.stop().await
    }
}

/// A running notification listener.
pub struct ListenerHandle {
    stop_tx: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    /// In a mutex only to keep the handle `Sync`; `consuming` takes `&mut self`.
    consuming: Mutex<Consuming>,
}

/// Whether the listener consumes yet.
enum Consuming {
    Waiting(BoxFuture<'static, Result<(), RpcError>>),
    Yes,
    Never(String),
}

impl ListenerHandle {
    /// Resolves once the listener consumes: its queues (a pool's included) are declared
    /// and bound, and notifications sent from now on reach it. At once on `memory://`, and
    /// on RabbitMQ unless the broker could not be reached when the listener started (it
    /// keeps trying, as oslo's listeners do, and this resolves when it succeeds). Fails if
    /// the broker refused the declarations or the transport shut down first. Not bounded:
    /// wrap it in a timeout to give up.
    pub async fn consuming(&mut self) -> Result<(), RpcError> {
        let consuming = self.consuming.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Consuming::Waiting(future) = consuming {
            *consuming = match future.await {
                Ok(()) => Consuming::Yes,
                Err(error) => Consuming::Never(error.to_string()),
            };
        }
        match consuming {
            Consuming::Never(error) => Err(RpcError::transport(error.clone())),
            _ => Ok(()),
        }
    }

    /// Stops gracefully: stops the deliveries, lets the handlers in flight finish and
    /// settles their notifications, gives back what was delivered but not handled, and
    /// returns. The queues stay, as oslo leaves them (notify §2.2).
    pub async fn stop(mut self) -> Result<(), RpcError> {
        if let Some(stop) = self.stop_tx.take() {
            let _ = stop.send(());
        }
        (&mut self.task)
            .await
            .map_err(|e| RpcError::transport(format!("the listener task failed: {e}")))
    }
}

impl Drop for ListenerHandle {
    fn drop(&mut self) {
        // Dropped without stop(): stops gracefully in the background.
        if let Some(stop) = self.stop_tx.take() {
            let _ = stop.send(());
        }
    }
}

/// How a listener's endpoints are called: one notification at a time, or in batches.
trait Dispatch: Send + Sync + 'static {
    /// Dispatches what was received together; true per notification to requeue.
    fn dispatch<'a>(&'a self, batch: &'a [RawNotification]) -> BoxFuture<'a, Vec<bool>>;
}

struct Single(Vec<Registered<dyn NotificationEndpoint>>);

impl Dispatch for Single {
    fn dispatch<'a>(&'a self, batch: &'a [RawNotification]) -> BoxFuture<'a, Vec<bool>> {
        Box::pin(async move {
            let mut requeue = Vec::with_capacity(batch.len());
            for notification in batch {
                let outcome = dispatcher::dispatch(&self.0, notification).await;
                requeue.push(outcome == Outcome::Requeue);
            }
            requeue
        })
    }
}

struct Batched(Vec<Registered<dyn BatchNotificationEndpoint>>);

impl Dispatch for Batched {
    fn dispatch<'a>(&'a self, batch: &'a [RawNotification]) -> BoxFuture<'a, Vec<bool>> {
        Box::pin(dispatcher::dispatch_batch(&self.0, batch))
    }
}

/// The `_unique_id`s of the last 16 acknowledged notifications (notify §2.3).
#[derive(Default)]
struct AckedWindow {
    recent: VecDeque<String>,
}

impl AckedWindow {
    const SIZE: usize = 16;

    fn contains(&self, id: &str) -> bool {
        self.recent.iter().any(|seen| seen == id)
    }

    fn insert(&mut self, id: String) {
        if self.contains(&id) {
            return;
        }
        if self.recent.len() == AckedWindow::SIZE {
            self.recent.pop_front();
        }
        self.recent.push_back(id);
    }
}

/// A decoded notification and how to settle it.
struct Accepted {
    notification: RawNotification,
    acker: Option<Box<dyn Acker>>,
}

struct Worker {
    dispatch: Arc<dyn Dispatch>,
    allow_requeue: bool,
    slots: Arc<Semaphore>,
    acked: Arc<Mutex<AckedWindow>>,
}

/// A settle task that failed: only a bug of ours can panic there (the handlers' panics are
/// caught by the dispatcher). Its deliveries stay unsettled until the channel closes, and
/// its slot was released as it unwound.
fn report_settle_task(ended: Result<(), tokio::task::JoinError>) {
    if let Err(error) = ended
        && error.is_panic()
    {
        let panic = panics::panic_message(error.into_panic().as_ref());
        tracing::error!(%panic, "a notification settle task panicked");
    }
}

fn lock(window: &Mutex<AckedWindow>) -> MutexGuard<'_, AckedWindow> {
    window.lock().unwrap_or_else(|e| e.into_inner())
}

impl Worker {
    /// Serves until `stop` (the handle) or `closing` (the transport's shutdown), then stops
    /// gracefully. Every batch (a single notification without batching) is dispatched and
    /// settled as a task of `in_flight`, owned here: stopping waits for all of them, and
    /// dropping this future (an aborted shutdown) aborts them, leaving their deliveries
    /// unsettled for the broker to redeliver.
    async fn serve(
        self,
        mut listener: Box<dyn Listener>,
        mut stop: oneshot::Receiver<()>,
        closing: impl Future<Output = ()>,
        batch: Option<(usize, Option<Duration>)>,
    ) {
        let (size, batch_timeout) = batch.unwrap_or((1, None));
        let worker = Arc::new(self);
        let mut in_flight = JoinSet::new();
        let mut closing = std::pin::pin!(closing);
        'serve: loop {
            while let Some(ended) = in_flight.try_join_next() {
                report_settle_task(ended);
            }
            // A slot before the messages: no more than `max_concurrency` batches are
            // handled at once; the rest wait, unacknowledged, with the broker.
            let slot = tokio::select! {
                biased;
                _ = &mut stop => break,
                () = &mut closing => break,
                slot = worker.slots.clone().acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => break,
                },
            };
            let mut accepted: Vec<Accepted> = Vec::with_capacity(size);
            let mut deadline: Option<Instant> = None;
            while accepted.len() < size {
                let next = async {
                    match deadline {
                        Some(at) => timeout_at(at, listener.recv()).await.ok(),
                        None => Some(listener.recv().await),
                    }
                };
                let incoming = tokio::select! {
                    biased;
                    _ = &mut stop => {
                        worker.spawn_settle(&mut in_flight, accepted, slot);
                        break 'serve;
                    }
                    () = &mut closing => {
                        worker.spawn_settle(&mut in_flight, accepted, slot);
                        break 'serve;
                    }
                    incoming = next => incoming,
                };
                match incoming {
                    // The batch timed out.
                    None => break,
                    Some(None) => {
                        worker.spawn_settle(&mut in_flight, accepted, slot);
                        break 'serve;
                    }
                    Some(Some(incoming)) => {
                        if let Some(one) = worker.accept(incoming).await {
                            if deadline.is_none() {
                                deadline = batch_timeout.map(crate::clock::deadline_in);
                            }
                            accepted.push(one);
                        }
                    }
                }
            }
            worker.spawn_settle(&mut in_flight, accepted, slot);
        }
        // Stop the deliveries, let the handlers in flight finish and settle, then give
        // back what was delivered but not taken.
        listener.stop().await;
        while let Some(ended) = in_flight.join_next().await {
            report_settle_task(ended);
        }
        listener.close().await;
    }

    /// Dispatches and settles a batch as a task of `in_flight`, holding `slot` until done
    /// (or until the task unwinds).
    fn spawn_settle(
        self: &Arc<Self>,
        in_flight: &mut JoinSet<()>,
        accepted: Vec<Accepted>,
        slot: OwnedSemaphorePermit,
    ) {
        if accepted.is_empty() {
            return;
        }
        let worker = self.clone();
        in_flight.spawn(async move {
            let _slot = slot;
            let (notifications, ackers): (Vec<RawNotification>, Vec<Option<Box<dyn Acker>>>) =
                accepted
                    .into_iter()
                    .map(|a| (a.notification, a.acker))
                    .unzip();
            let requeue = worker.dispatch.dispatch(&notifications).await;
            for ((notification, acker), requeue) in
                notifications.into_iter().zip(ackers).zip(requeue)
            {
                worker.settle(notification, acker, requeue).await;
            }
        });
    }

    /// Acknowledges (and remembers the id) or requeues, after dispatch (notify §2.4).
    async fn settle(
        &self,
        notification: RawNotification,
        acker: Option<Box<dyn Acker>>,
        requeue: bool,
    ) {
        let Some(acker) = acker else { return };
        if requeue && self.allow_requeue {
            if let Err(error) = acker.requeue().await {
                tracing::warn!(%error, "Failed to requeue received message");
            }
            return;
        }
        if let Err(error) = acker.ack().await {
            tracing::warn!(%error, "Failed to acknowledge received message");
        }
        if let Some(id) = notification.unique_id {
            lock(&self.acked).insert(id);
        }
    }

    /// Decodes a delivery, or settles it: undecodable ones are rejected without requeue,
    /// duplicates of the last 16 acknowledged are acknowledged and dropped (notify §2.3).
    async fn accept(&self, incoming: Incoming) -> Option<Accepted> {
        let Incoming {
            body,
            content_type,
            acker,
            ..
        } = incoming;
        let decoded = wire::check_content_type(content_type.as_deref())
            .and_then(|()| decode_notification(&body));
        let notification = match decoded {
            Ok(notification) => notification,
            Err(error) => {
                tracing::warn!(%error, body_len = body.len(), "rejecting undecodable notification");
                if let Some(acker) = acker
                    && let Err(error) = acker.reject().await
                {
                    tracing::warn!(%error, "could not reject a notification");
                }
                return None;
            }
        };
        wire::recycle(body);
        let duplicate = notification
            .unique_id
            .as_deref()
            .is_some_and(|id| lock(&self.acked).contains(id));
        if duplicate {
            tracing::info!(
                unique_id = notification.unique_id.as_deref().unwrap_or(""),
                "ignoring duplicate notification"
            );
            if let Some(acker) = acker {
                let _ = acker.ack().await;
            }
            return None;
        }
        Some(Accepted {
            notification,
            acker,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<ListenerHandle>();
        send_sync::<NotificationListener>();
    }
}
