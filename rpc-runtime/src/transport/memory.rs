//! `memory://`: an in-process broker that routes like RabbitMQ (topic, fanout and default
//! exchanges, queues with round-robin consumers, mandatory returns, per-message TTL) and
//! carries the encoded bytes, so every test on it exercises the wire codec.
//!
//! `memory://` is one broker per process; `memory://<name>` is an isolated broker of that
//! name, shared by every transport that names it.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use tokio::sync::mpsc;

use super::topology;
use super::{
    Acker, BoxFuture, Destination, Driver, Incoming, ListenSpec, Listener, NotificationListenSpec,
    PublishOptions, ReplySink, TapSpec,
};
use crate::error::{RpcError, TransportError, TransportErrorKind};
use crate::url::TransportUrl;
use crate::wire::CONTENT_TYPE;

/// The kind of an exchange in the memory broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeKind {
    /// Routes by AMQP topic pattern (`*` one word, `#` any number of words).
    Topic,
    /// Routes to every bound queue.
    Fanout,
}

/// An in-process broker.
pub struct MemoryBroker {
    name: String,
    state: Mutex<BrokerState>,
}

#[derive(Default)]
struct BrokerState {
    exchanges: HashMap<String, Exchange>,
    queues: HashMap<String, Queue>,
    next_consumer_id: u64,
}

struct Exchange {
    kind: ExchangeKind,
    auto_delete: bool,
    bindings: Vec<Binding>,
}

struct Binding {
    queue: String,
    key: String,
}

#[derive(Default)]
struct Queue {
    backlog: VecDeque<Message>,
    consumers: Vec<Consumer>,
    next_consumer: usize,
}

struct Consumer {
    id: u64,
    target: ConsumerTarget,
}

enum ConsumerTarget {
    /// A server listener: deliveries go through a channel to its task. Unbounded on
    /// purpose: this channel is the in-process broker's queue for the listener, and a
    /// broker's queue takes whatever is published (a RabbitMQ queue has no limit either
    /// unless a policy sets one); the listener takes messages at the pace of its
    /// concurrency limit, like a RabbitMQ consumer with unlimited prefetch.
    Listener(mpsc::UnboundedSender<Delivery>),
    /// A reply waiter: deliveries are handed over in the publisher's task, no hop.
    Sink(Arc<dyn ReplySink>),
}

#[derive(Clone)]
struct Message {
    body: Vec<u8>,
    content_type: Option<String>,
    expires_at: Option<Instant>,
    /// `(exchange, routing key)` as published, for taps.
    route: Arc<(String, String)>,
}

struct Delivery {
    queue: Arc<str>,
    message: Message,
}

/// A reply body to hand to a sink once the broker lock is released.
type SinkDelivery = (Arc<dyn ReplySink>, Message);

fn registry() -> &'static Mutex<HashMap<String, Arc<MemoryBroker>>> {
    static BROKERS: OnceLock<Mutex<HashMap<String, Arc<MemoryBroker>>>> = OnceLock::new();
    BROKERS.get_or_init(Mutex::default)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind, still consistent enough to
    // route messages; don't turn one panic into many.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl MemoryBroker {
    /// The broker of that name, created at first use. It lives as long as the process,
    /// like a real broker outlives its clients. `""` is the broker of `memory://`.
    pub fn named(name: &str) -> Arc<MemoryBroker> {
        lock(registry())
            .entry(name.to_owned())
            .or_insert_with(|| {
                Arc::new(MemoryBroker {
                    name: name.to_owned(),
                    state: Mutex::default(),
                })
            })
            .clone()
    }

    /// The broker's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Names of the queues that exist, sorted.
    pub fn queue_names(&self) -> Vec<String> {
        let mut names: Vec<String> = lock(&self.state).queues.keys().cloned().collect();
        names.sort();
        names
    }

    /// Messages waiting in a queue (not yet delivered to a consumer).
    pub fn queue_depth(&self, queue: &str) -> Option<usize> {
        lock(&self.state).queues.get(queue).map(|q| q.backlog.len())
    }

    /// Consumers of a queue.
    pub fn consumer_count(&self, queue: &str) -> Option<usize> {
        lock(&self.state)
            .queues
            .get(queue)
            .map(|q| q.consumers.len())
    }

    /// Exchanges that exist and their kinds, sorted by name.
    pub fn exchanges(&self) -> Vec<(String, ExchangeKind)> {
        let mut out: Vec<_> = lock(&self.state)
            .exchanges
            .iter()
            .map(|(name, exchange)| (name.clone(), exchange.kind))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Bindings as `(exchange, queue, routing key)`, sorted.
    pub fn bindings(&self) -> Vec<(String, String, String)> {
        let state = lock(&self.state);
        let mut out: Vec<_> = state
            .exchanges
            .iter()
            .flat_map(|(name, exchange)| {
                exchange
                    .bindings
                    .iter()
                    .map(move |b| (name.clone(), b.queue.clone(), b.key.clone()))
            })
            .collect();
        out.sort();
        out
    }

    /// Publishes raw bytes with any content type: for tests that send what a broken or
    /// foreign peer would.
    #[doc(hidden)]
    pub fn publish_raw(
        &self,
        destination: Destination<'_>,
        body: Vec<u8>,
        content_type: Option<&str>,
    ) -> Result<(), RpcError> {
        let message = Message {
            body,
            content_type: content_type.map(str::to_owned),
            expires_at: None,
            route: route_of(destination),
        };
        self.publish(destination, message, false)
    }

    fn publish(
        &self,
        destination: Destination<'_>,
        message: Message,
        mandatory: bool,
    ) -> Result<(), RpcError> {
        let mut sink_deliveries = Vec::new();
        {
            let mut state = lock(&self.state);
            let queues = state.route(destination);
            if queues.is_empty() {
                if mandatory {
                    return Err(unroutable(destination));
                }
                return Ok(());
            }
            let last = queues.len() - 1;
            let mut message = Some(message);
            for (i, queue) in queues.into_iter().enumerate() {
                let copy = if i == last {
                    message.take()
                } else {
                    message.clone()
                };
                if let Some(copy) = copy {
                    state.deliver(&queue, copy, &mut sink_deliveries);
                }
            }
        }
        hand_to_sinks(sink_deliveries);
        Ok(())
    }

    /// Declares a queue (a no-op when it exists).
    pub fn declare_queue(&self, queue: &str) {
        lock(&self.state)
            .queues
            .entry(queue.to_owned())
            .or_default();
    }

    /// Declares a queue and binds it to an exchange (declared too, with `kind`, if new).
    pub fn bind(&self, exchange: &str, kind: ExchangeKind, queue: &str, key: &str) {
        lock(&self.state).bind(exchange, kind, queue, key);
    }

    /// Puts a delivery that was not accepted back at the front of its queue (a requeue, or
    /// an unsettled delivery of a closed listener), for the next consumer.
    fn requeue(&self, queue: &str, message: Message) {
        let mut sink_deliveries = Vec::new();
        {
            let mut state = lock(&self.state);
            let Some(q) = state.queues.get_mut(queue) else {
                return;
            };
            q.backlog.push_front(message);
            state.pump(queue, &mut sink_deliveries);
        }
        hand_to_sinks(sink_deliveries);
    }

    fn subscribe(&self, queue: &str, target: ConsumerTarget) -> u64 {
        let mut sink_deliveries = Vec::new();
        let id = {
            let mut state = lock(&self.state);
            state.next_consumer_id += 1;
            let id = state.next_consumer_id;
            state
                .queues
                .entry(queue.to_owned())
                .or_default()
                .consumers
                .push(Consumer { id, target });
            state.pump(queue, &mut sink_deliveries);
            id
        };
        hand_to_sinks(sink_deliveries);
        id
    }

    /// Cancels consumers and puts the deliveries they had not taken back at the front of
    /// their queues, in their original order, for the remaining consumers.
    fn unsubscribe_and_requeue(&self, consumers: &[(u64, String)], unclaimed: Vec<Delivery>) {
        let mut sink_deliveries = Vec::new();
        {
            let mut state = lock(&self.state);
            for (id, queue) in consumers {
                if let Some(q) = state.queues.get_mut(queue) {
                    q.consumers.retain(|c| c.id != *id);
                }
            }
            for delivery in unclaimed.into_iter().rev() {
                if let Some(q) = state.queues.get_mut(&*delivery.queue) {
                    q.backlog.push_front(delivery.message);
                }
            }
            for (_, queue) in consumers {
                state.pump(queue, &mut sink_deliveries);
            }
        }
        hand_to_sinks(sink_deliveries);
    }

    fn delete_queue(&self, queue: &str) {
        let mut state = lock(&self.state);
        state.queues.remove(queue);
        for exchange in state.exchanges.values_mut() {
            exchange.bindings.retain(|b| b.queue != queue);
        }
        // Auto-delete exchanges disappear with their last binding (spec §2.1).
        state
            .exchanges
            .retain(|_, e| !(e.auto_delete && e.bindings.is_empty()));
    }
}

impl BrokerState {
    fn bind(&mut self, exchange: &str, kind: ExchangeKind, queue: &str, key: &str) {
        self.queues.entry(queue.to_owned()).or_default();
        let exchange = self.exchange(exchange, kind);
        if !exchange
            .bindings
            .iter()
            .any(|b| b.queue == queue && b.key == key)
        {
            exchange.bindings.push(Binding {
                queue: queue.to_owned(),
                key: key.to_owned(),
            });
        }
    }

    fn exchange(&mut self, name: &str, kind: ExchangeKind) -> &mut Exchange {
        self.exchanges.entry(name.to_owned()).or_insert(Exchange {
            kind,
            auto_delete: kind == ExchangeKind::Fanout,
            bindings: Vec::new(),
        })
    }

    /// The queues a message goes to; each queue once, as in AMQP.
    fn route(&mut self, destination: Destination<'_>) -> Vec<String> {
        let mut queues: Vec<String> = match destination {
            Destination::Queue { queue } => self
                .queues
                .contains_key(queue)
                .then(|| queue.to_owned())
                .into_iter()
                .collect(),
            Destination::Topic {
                exchange,
                routing_key,
            }
            | Destination::Notification {
                exchange,
                routing_key,
            } => {
                if matches!(destination, Destination::Notification { .. }) {
                    // The notifier's default queue (notify §1.5).
                    self.bind(exchange, ExchangeKind::Topic, routing_key, routing_key);
                }
                // Publishers declare the exchange before publishing, as oslo does.
                let exchange = self.exchange(exchange, ExchangeKind::Topic);
                match exchange.kind {
                    ExchangeKind::Topic => exchange
                        .bindings
                        .iter()
                        .filter(|b| topic_matches(&b.key, routing_key))
                        .map(|b| b.queue.clone())
                        .collect(),
                    ExchangeKind::Fanout => {
                        exchange.bindings.iter().map(|b| b.queue.clone()).collect()
                    }
                }
            }
            Destination::Fanout { exchange } => self
                .exchange(exchange, ExchangeKind::Fanout)
                .bindings
                .iter()
                .map(|b| b.queue.clone())
                .collect(),
        };
        queues.sort();
        queues.dedup();
        queues
    }

    fn deliver(&mut self, queue: &str, message: Message, sinks: &mut Vec<SinkDelivery>) {
        let Some(q) = self.queues.get_mut(queue) else {
            return;
        };
        q.backlog.push_back(message);
        self.pump(queue, sinks);
    }

    /// Moves waiting messages to consumers, round robin, dropping expired ones.
    fn pump(&mut self, queue: &str, sinks: &mut Vec<SinkDelivery>) {
        let Some(q) = self.queues.get_mut(queue) else {
            return;
        };
        let queue_name: Arc<str> = Arc::from(queue);
        let now = Instant::now();
        while !q.consumers.is_empty() {
            let Some(message) = q.backlog.pop_front() else {
                break;
            };
            if message.expires_at.is_some_and(|at| at <= now) {
                continue;
            }
            let index = q.next_consumer % q.consumers.len();
            let delivered = match &q.consumers[index].target {
                ConsumerTarget::Sink(sink) => {
                    sinks.push((sink.clone(), message));
                    true
                }
                ConsumerTarget::Listener(tx) => match tx.send(Delivery {
                    queue: queue_name.clone(),
                    message,
                }) {
                    Ok(()) => true,
                    Err(mpsc::error::SendError(returned)) => {
                        // The listener is gone: drop the consumer, keep the message.
                        q.backlog.push_front(returned.message);
                        false
                    }
                },
            };
            if delivered {
                q.next_consumer = index + 1;
            } else {
                q.consumers.remove(index);
            }
        }
    }
}

fn hand_to_sinks(deliveries: Vec<SinkDelivery>) {
    for (sink, message) in deliveries {
        sink.deliver(&message.body, message.content_type.as_deref());
    }
}

/// Where a message was published, as AMQP names it: `(exchange, routing key)`.
fn route_of(destination: Destination<'_>) -> Arc<(String, String)> {
    Arc::new(match destination {
        Destination::Topic {
            exchange,
            routing_key,
        }
        | Destination::Notification {
            exchange,
            routing_key,
        } => (exchange.to_owned(), routing_key.to_owned()),
        Destination::Fanout { exchange } => (exchange.to_owned(), String::new()),
        Destination::Queue { queue } => (String::new(), queue.to_owned()),
    })
}

fn unroutable(destination: Destination<'_>) -> RpcError {
    RpcError::Transport(TransportError::with_kind(
        TransportErrorKind::Unroutable,
        format!("no queue is bound for {destination:?} (NO_ROUTE)"),
    ))
}

/// AMQP topic matching: words split on `.`, `*` matches one word, `#` zero or more.
fn topic_matches(pattern: &str, key: &str) -> bool {
    fn matches(pattern: &[&str], key: &[&str]) -> bool {
        match pattern.split_first() {
            None => key.is_empty(),
            Some((&"#", rest)) => (0..=key.len()).any(|skip| matches(rest, &key[skip..])),
            Some((word, rest)) => match key.split_first() {
                Some((first, key_rest)) => {
                    (*word == "*" || word == first) && matches(rest, key_rest)
                }
                None => false,
            },
        }
    }
    if !pattern.contains(['*', '#']) {
        return pattern == key;
    }
    let pattern: Vec<&str> = pattern.split('.').collect();
    let key: Vec<&str> = key.split('.').collect();
    matches(&pattern, &key)
}

/// The `memory://` driver.
pub struct MemoryDriver {
    broker: Arc<MemoryBroker>,
    closed: AtomicBool,
}

impl MemoryDriver {
    /// A driver on the broker the URL names (`memory://` or `memory://<name>`).
    pub fn new(url: &TransportUrl) -> Self {
        MemoryDriver::on(MemoryBroker::named(url.memory_broker_name().unwrap_or("")))
    }

    /// A driver on a given broker.
    pub fn on(broker: Arc<MemoryBroker>) -> Self {
        MemoryDriver {
            broker,
            closed: AtomicBool::new(false),
        }
    }

    /// The broker this driver uses.
    pub fn broker(&self) -> &Arc<MemoryBroker> {
        &self.broker
    }

    fn check_open(&self) -> Result<(), RpcError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(RpcError::Transport(TransportError::with_kind(
                TransportErrorKind::Closed,
                "the memory transport was shut down",
            )));
        }
        Ok(())
    }
}

impl Driver for MemoryDriver {
    fn send<'a>(
        &'a self,
        destination: Destination<'a>,
        body: &'a [u8],
        options: PublishOptions,
    ) -> BoxFuture<'a, Result<(), RpcError>> {
        let result = self.check_open().and_then(|()| {
            let message = Message {
                body: body.to_vec(),
                content_type: Some(CONTENT_TYPE.to_owned()),
                expires_at: options
                    .expiration
                    .map(|ttl| Instant::now() + ttl.min(crate::clock::FAR_FUTURE)),
                route: route_of(destination),
            };
            self.broker.publish(destination, message, options.mandatory)
        });
        Box::pin(std::future::ready(result))
    }

    fn consume_replies<'a>(
        &'a self,
        queue: &'a str,
        sink: Arc<dyn ReplySink>,
    ) -> BoxFuture<'a, Result<(), RpcError>> {
        let result = self.check_open().map(|()| {
            self.broker.declare_queue(queue);
            self.broker.subscribe(queue, ConsumerTarget::Sink(sink));
        });
        Box::pin(std::future::ready(result))
    }

    fn listen<'a>(
        &'a self,
        spec: &'a ListenSpec,
    ) -> BoxFuture<'a, Result<Box<dyn Listener>, RpcError>> {
        let result = self.check_open().map(|()| {
            let broker = &self.broker;
            let server_queue = topology::server_queue(&spec.topic, &spec.server);
            let fanout_exchange = topology::fanout_exchange(&spec.topic);
            let fanout_queue = topology::fanout_queue(&spec.topic);
            // Same entities and bindings as spec §2.1, in oslo's declaration order.
            broker.bind(
                &spec.exchange,
                ExchangeKind::Topic,
                &spec.topic,
                &spec.topic,
            );
            broker.bind(
                &spec.exchange,
                ExchangeKind::Topic,
                &server_queue,
                &server_queue,
            );
            broker.bind(
                &fanout_exchange,
                ExchangeKind::Fanout,
                &fanout_queue,
                &spec.topic,
            );
            let (tx, rx) = mpsc::unbounded_channel();
            let consumers = [spec.topic.clone(), server_queue, fanout_queue.clone()]
                .into_iter()
                .map(|queue| {
                    let id = broker.subscribe(&queue, ConsumerTarget::Listener(tx.clone()));
                    (id, queue)
                })
                .collect();
            Box::new(MemoryListener {
                broker: broker.clone(),
                rx,
                consumers,
                own_queue: Some(fanout_queue),
                tap: false,
                settle: false,
            }) as Box<dyn Listener>
        });
        Box::pin(std::future::ready(result))
    }

    fn tap<'a>(&'a self, spec: &'a TapSpec) -> BoxFuture<'a, Result<Box<dyn Listener>, RpcError>> {
        let result = self.check_open().map(|()| {
            let broker = &self.broker;
            let queue = format!("tap_{}", crate::wire::new_id());
            let server_pattern = format!("{}.*", spec.topic);
            let fanout_exchange = topology::fanout_exchange(&spec.topic);
            broker.bind(&spec.exchange, ExchangeKind::Topic, &queue, &spec.topic);
            broker.bind(&spec.exchange, ExchangeKind::Topic, &queue, &server_pattern);
            broker.bind(&fanout_exchange, ExchangeKind::Fanout, &queue, &spec.topic);
            let (tx, rx) = mpsc::unbounded_channel();
            let id = broker.subscribe(&queue, ConsumerTarget::Listener(tx));
            Box::new(MemoryListener {
                broker: broker.clone(),
                rx,
                consumers: vec![(id, queue.clone())],
                own_queue: Some(queue),
                tap: true,
                settle: false,
            }) as Box<dyn Listener>
        });
        Box::pin(std::future::ready(result))
    }

    fn listen_notifications<'a>(
        &'a self,
        spec: &'a NotificationListenSpec,
    ) -> BoxFuture<'a, Result<Box<dyn Listener>, RpcError>> {
        let result = self.check_open().map(|()| {
            let broker = &self.broker;
            let mut queues: Vec<String> = Vec::new();
            for (exchange, key) in &spec.bindings {
                let queue = spec.pool.clone().unwrap_or_else(|| key.clone());
                broker.bind(exchange, ExchangeKind::Topic, &queue, key);
                if !queues.contains(&queue) {
                    queues.push(queue);
                }
            }
            let (tx, rx) = mpsc::unbounded_channel();
            let consumers = queues
                .into_iter()
                .map(|queue| {
                    let id = broker.subscribe(&queue, ConsumerTarget::Listener(tx.clone()));
                    (id, queue)
                })
                .collect();
            Box::new(MemoryListener {
                broker: broker.clone(),
                rx,
                consumers,
                own_queue: None,
                tap: false,
                settle: true,
            }) as Box<dyn Listener>
        });
        Box::pin(std::future::ready(result))
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        self.closed.store(true, Ordering::Release);
        Box::pin(std::future::ready(()))
    }
}

struct MemoryListener {
    broker: Arc<MemoryBroker>,
    rx: mpsc::UnboundedReceiver<Delivery>,
    consumers: Vec<(u64, String)>,
    /// The queue this listener declared for itself and deletes on close: a server's
    /// fanout queue, or a tap's queue. Notification listeners leave their queues.
    own_queue: Option<String>,
    /// A tap: deliveries carry their route.
    tap: bool,
    /// Deliveries are settled by the receiver (notification listeners): each carries an
    /// acker, and one dropped unsettled goes back to its queue, as on a closed channel.
    settle: bool,
}

impl MemoryListener {
    /// Cancels the consumers and requeues what was delivered but not taken (idempotent).
    fn stop_consuming(&mut self) {
        if self.consumers.is_empty() {
            return;
        }
        self.rx.close();
        let mut unclaimed = Vec::new();
        while let Ok(delivery) = self.rx.try_recv() {
            unclaimed.push(delivery);
        }
        let consumers = std::mem::take(&mut self.consumers);
        self.broker.unsubscribe_and_requeue(&consumers, unclaimed);
    }
}

impl Listener for MemoryListener {
    fn recv(&mut self) -> BoxFuture<'_, Option<Incoming>> {
        Box::pin(async move {
            let delivery = self.rx.recv().await?;
            let route = self.tap.then(|| (*delivery.message.route).clone());
            let acker = self.settle.then(|| {
                Box::new(MemoryAcker {
                    broker: self.broker.clone(),
                    queue: delivery.queue.clone(),
                    message: Some(delivery.message.clone()),
                }) as Box<dyn Acker>
            });
            Some(Incoming {
                body: delivery.message.body,
                content_type: delivery.message.content_type,
                acker,
                route,
            })
        })
    }

    fn stop(&mut self) -> BoxFuture<'_, ()> {
        self.stop_consuming();
        Box::pin(std::future::ready(()))
    }

    fn close(mut self: Box<Self>) -> BoxFuture<'static, ()> {
        // Closing without stopping first still gives unclaimed messages back.
        self.stop_consuming();
        if let Some(queue) = &self.own_queue {
            self.broker.delete_queue(queue);
        }
        Box::pin(std::future::ready(()))
    }
}

/// Settles one delivery of a notification listener: an ack or a reject drops it, a
/// requeue (or dropping the acker unsettled) puts it back at the front of its queue.
struct MemoryAcker {
    broker: Arc<MemoryBroker>,
    queue: Arc<str>,
    message: Option<Message>,
}

impl MemoryAcker {
    fn settle(&mut self, requeue: bool) -> BoxFuture<'static, Result<(), RpcError>> {
        if let Some(message) = self.message.take()
            && requeue
        {
            self.broker.requeue(&self.queue, message);
        }
        Box::pin(std::future::ready(Ok(())))
    }
}

impl Acker for MemoryAcker {
    fn ack(mut self: Box<Self>) -> BoxFuture<'static, Result<(), RpcError>> {
        self.settle(false)
    }

    fn reject(mut self: Box<Self>) -> BoxFuture<'static, Result<(), RpcError>> {
        self.settle(false)
    }

    fn requeue(mut self: Box<Self>) -> BoxFuture<'static, Result<(), RpcError>> {
        self.settle(true)
    }
}

impl Drop for MemoryAcker {
    fn drop(&mut self) {
        if let Some(message) = self.message.take() {
            self.broker.requeue(&self.queue, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_patterns_match_like_amqp() {
        for (pattern, key, expected) in [
            ("calc", "calc", true),
            ("calc", "calc.h1", false),
            ("calc.*", "calc.h1", true),
            ("calc.*", "calc", false),
            ("calc.#", "calc", true),
            ("calc.#", "calc.a.b", true),
            ("#", "anything.at.all", true),
            ("*.h1", "calc.h1", true),
            ("a.*.c", "a.b.c", true),
            ("a.*.c", "a.b.b.c", false),
        ] {
            assert_eq!(topic_matches(pattern, key), expected, "{pattern} vs {key}");
        }
    }

    struct Collect(Mutex<Vec<Vec<u8>>>);
    impl ReplySink for Collect {
        fn deliver(&self, body: &[u8], _content_type: Option<&str>) {
            lock(&self.0).push(body.to_vec());
        }
    }

    fn broker() -> Arc<MemoryBroker> {
        MemoryBroker::named(&format!("unit-{}", crate::wire::new_id()))
    }

    #[tokio::test]
    async fn listener_gets_topic_server_and_fanout_and_stop_requeues() {
        let broker = broker();
        let driver = MemoryDriver::on(broker.clone());
        let spec = ListenSpec {
            exchange: "openstack".into(),
            topic: "t".into(),
            server: "s1".into(),
        };
        let mut listener = driver.listen(&spec).await.unwrap();
        let publish =
            |destination| futures_ready(driver.send(destination, b"x", PublishOptions::default()));
        publish(Destination::Topic {
            exchange: "openstack",
            routing_key: "t",
        })
        .unwrap();
        publish(Destination::Topic {
            exchange: "openstack",
            routing_key: "t.s1",
        })
        .unwrap();
        publish(Destination::Fanout {
            exchange: "t_fanout",
        })
        .unwrap();
        for _ in 0..3 {
            let incoming = listener.recv().await.unwrap();
            assert_eq!(incoming.content_type.as_deref(), Some(CONTENT_TYPE));
        }
        // Another exchange does not reach the topic queue.
        publish(Destination::Topic {
            exchange: "other",
            routing_key: "t",
        })
        .unwrap();
        // Two more arrive but are not taken before stop: they go back to the queue.
        publish(Destination::Topic {
            exchange: "openstack",
            routing_key: "t",
        })
        .unwrap();
        publish(Destination::Topic {
            exchange: "openstack",
            routing_key: "t",
        })
        .unwrap();
        listener.stop().await;
        assert!(listener.recv().await.is_none());
        assert_eq!(broker.queue_depth("t"), Some(2));
        listener.close().await;
        assert!(
            !broker
                .queue_names()
                .iter()
                .any(|q| q.starts_with("t_fanout_"))
        );
        assert!(
            !broker
                .exchanges()
                .iter()
                .any(|(name, _)| name == "t_fanout")
        );
        assert_eq!(broker.queue_names(), ["t", "t.s1"]);
    }

    #[tokio::test]
    async fn replies_go_to_sinks_and_mandatory_unroutable_is_reported() {
        let broker = broker();
        let driver = MemoryDriver::on(broker.clone());
        let sink = Arc::new(Collect(Mutex::default()));
        driver
            .consume_replies("reply_1", sink.clone())
            .await
            .unwrap();
        let mandatory = PublishOptions {
            mandatory: true,
            ..PublishOptions::default()
        };
        driver
            .send(Destination::Queue { queue: "reply_1" }, b"r", mandatory)
            .await
            .unwrap();
        assert_eq!(*lock(&sink.0), [b"r"]);
        let err = driver
            .send(Destination::Queue { queue: "reply_2" }, b"r", mandatory)
            .await
            .unwrap_err();
        assert!(
            matches!(err, RpcError::Transport(ref e) if e.kind() == TransportErrorKind::Unroutable)
        );
        // Not mandatory: dropped silently, like a request to a topic nobody consumes.
        driver
            .send(
                Destination::Queue { queue: "reply_2" },
                b"r",
                PublishOptions::default(),
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn expired_messages_are_dropped_and_backlog_drains_to_new_consumers() {
        let broker = broker();
        let driver = MemoryDriver::on(broker.clone());
        broker.bind("openstack", ExchangeKind::Topic, "q", "q");
        let short = PublishOptions {
            expiration: Some(std::time::Duration::ZERO),
            ..Default::default()
        };
        let topic = Destination::Topic {
            exchange: "openstack",
            routing_key: "q",
        };
        driver.send(topic, b"old", short).await.unwrap();
        driver
            .send(topic, b"new", PublishOptions::default())
            .await
            .unwrap();
        assert_eq!(broker.queue_depth("q"), Some(2));
        let sink = Arc::new(Collect(Mutex::default()));
        broker.subscribe("q", ConsumerTarget::Sink(sink.clone()));
        assert_eq!(*lock(&sink.0), [b"new".to_vec()]);
        assert_eq!(broker.queue_depth("q"), Some(0));
    }

    #[tokio::test]
    async fn shut_down_driver_refuses_work() {
        let driver = MemoryDriver::on(broker());
        driver.shutdown().await;
        let err = driver
            .send(
                Destination::Queue { queue: "q" },
                b"",
                PublishOptions::default(),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, RpcError::Transport(ref e) if e.kind() == TransportErrorKind::Closed)
        );
    }

    /// Memory sends complete immediately; poll once without a runtime hop.
    fn futures_ready<T>(future: BoxFuture<'_, T>) -> T {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut future = future;
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(value) => value,
            std::task::Poll::Pending => panic!("memory send should be ready at once"),
        }
    }
}
