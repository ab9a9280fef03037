//! Notifications end to end, each scenario on `memory://` and on the machine's RabbitMQ
//! (notify §1, §2): priorities with typed payloads and contexts, the default queue that keeps
//! notifications sent before any listener, pools, requeue, filters, batches, the concurrency
//! limit, panicking handlers, graceful stop, and what undecodable or duplicate deliveries
//! become. Every test uses its own topic and cleans up what it declared.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use oslo_rpc::notify::{
    ListenerHandle, Notification, NotificationFilter, NotificationListener, Notifier, NotifyDriver,
    Outcome, Priority,
};
use oslo_rpc::prelude::*;
use rpc_runtime::transport::Destination;
use rpc_runtime::transport::memory::{MemoryBroker, MemoryDriver};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

/// A test's bus: a transport on memory or RabbitMQ, with cleanup of what it declared.
struct Bus {
    transport: Transport,
    memory: Option<Arc<MemoryBroker>>,
    _cleanup: Option<support::rabbit::Cleanup>,
}

async fn bus(rabbit: bool) -> Bus {
    if rabbit {
        let url = support::rabbit::rabbit_url().await;
        let driver = support::rabbit::driver(&url);
        let transport = Transport::builder(&url)
            .driver(driver.clone())
            .build()
            .expect("rabbit transport");
        Bus {
            transport,
            memory: None,
            _cleanup: Some(support::rabbit::Cleanup(driver)),
        }
    } else {
        let broker = MemoryBroker::named(&support::unique("notify"));
        let transport = Transport::builder("memory://")
            .driver(Arc::new(MemoryDriver::on(broker.clone())))
            .build()
            .expect("memory transport");
        Bus {
            transport,
            memory: Some(broker),
            _cleanup: None,
        }
    }
}

/// What a recording endpoint saw.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    who: String,
    priority: Priority,
    event_type: String,
    payload: Value,
    context: Context,
    publisher_id: Option<String>,
    message_id: Option<String>,
    timestamp: Option<String>,
}

/// Records every notification of every priority; `requeue_first` requeues the first
/// delivery of that event type, `panic_first` panics on it.
#[derive(Clone)]
struct Recorder {
    who: String,
    tx: mpsc::UnboundedSender<Seen>,
    requeue_first: Option<String>,
    panic_first: Option<String>,
    tripped: Arc<AtomicUsize>,
}

impl Recorder {
    fn new(who: &str) -> (Recorder, mpsc::UnboundedReceiver<Seen>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let recorder = Recorder {
            who: who.to_owned(),
            tx,
            requeue_first: None,
            panic_first: None,
            tripped: Arc::new(AtomicUsize::new(0)),
        };
        (recorder, rx)
    }

    fn record(&self, n: Notification) -> Outcome {
        let first = |event: &Option<String>| {
            event.as_deref() == Some(n.event_type.as_str())
                && self.tripped.fetch_add(1, Ordering::SeqCst) == 0
        };
        let panic = first(&self.panic_first);
        let requeue = !panic && first(&self.requeue_first);
        let _ = self.tx.send(Seen {
            who: self.who.clone(),
            priority: n.priority,
            event_type: n.event_type.clone(),
            payload: n.payload,
            context: n.context,
            publisher_id: n.publisher_id,
            message_id: n.metadata.message_id,
            timestamp: n.metadata.timestamp,
        });
        if panic {
            panic!("a handler bug on {}", n.event_type);
        }
        if requeue {
            Outcome::Requeue
        } else {
            Outcome::Handled
        }
    }
}

#[notification_endpoint]
impl Recorder {
    async fn audit(&self, n: Notification) -> Outcome {
        self.record(n)
    }
    async fn debug(&self, n: Notification) -> Outcome {
        self.record(n)
    }
    async fn info(&self, n: Notification) -> Outcome {
        self.record(n)
    }
    async fn warn(&self, n: Notification) -> Outcome {
        self.record(n)
    }
    async fn error(&self, n: Notification) -> Outcome {
        self.record(n)
    }
    async fn critical(&self, n: Notification) -> Outcome {
        self.record(n)
    }
    async fn sample(&self, n: Notification) -> Outcome {
        self.record(n)
    }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("no notification within 20 s")
        .expect("recorder closed")
}

async fn quiet(rx: &mut mpsc::UnboundedReceiver<Seen>, wait: Duration) -> bool {
    tokio::time::timeout(wait, rx.recv()).await.is_err()
}

async fn listen(bus: &Bus, topic: &str, recorder: Recorder, pool: Option<&str>) -> ListenerHandle {
    let mut builder = NotificationListener::builder(bus.transport.clone())
        .target(Target::topic(topic))
        .endpoint(recorder)
        .allow_requeue(true);
    if let Some(pool) = pool {
        builder = builder.pool(pool);
    }
    let mut listener = builder
        .build()
        .expect("listener")
        .start()
        .await
        .expect("start");
    // Its queues exist (a pool's queue gets only what is sent after it is declared).
    tokio::time::timeout(Duration::from_secs(90), listener.consuming())
        .await
        .expect("consuming within 90 s")
        .expect("consuming");
    listener
}

fn notifier(bus: &Bus, topic: &str) -> Notifier {
    Notifier::new(bus.transport.clone(), "compute.host1").topics([topic])
}

async fn every_priority_with_typed_payloads_and_context(rabbit: bool) {
    let bus = bus(rabbit).await;
    let topic = support::unique("n-prio");
    let (recorder, mut seen) = Recorder::new("r");
    let listener = listen(&bus, &topic, recorder, None).await;
    let ctx = Context::new()
        .with_request_id("req-1")
        .with("roles", json!(["admin"]));
    let notifier = notifier(&bus, &topic);
    for priority in Priority::ALL {
        notifier
            .notify(
                &ctx,
                priority,
                &format!("ev.{priority}"),
                &json!({"p": priority.as_str()}),
            )
            .await
            .expect("notify");
    }
    let mut got = Vec::new();
    for _ in Priority::ALL {
        got.push(next(&mut seen).await);
    }
    got.sort_by_key(|s| s.priority);
    for (seen, priority) in got.iter().zip(Priority::ALL) {
        assert_eq!(seen.priority, priority);
        assert_eq!(seen.event_type, format!("ev.{priority}"));
        assert_eq!(seen.payload, json!({"p": priority.as_str()}));
        assert_eq!(
            seen.context, ctx,
            "context keys arrive as sent (notify §1.4)"
        );
        assert_eq!(seen.publisher_id.as_deref(), Some("compute.host1"));
        let id = seen.message_id.as_deref().unwrap();
        assert!(
            id.len() == 36 && id.matches('-').count() == 4,
            "uuid4 with dashes: {id}"
        );
        let ts = seen.timestamp.as_deref().unwrap();
        assert!(ts.len() == 26 || ts.len() == 19, "str(utcnow()): {ts}");
        assert_eq!(&ts[10..11], " ");
    }
    listener.stop().await.expect("stop");
}

#[tokio::test]
async fn memory_every_priority_with_typed_payloads_and_context() {
    every_priority_with_typed_payloads_and_context(false).await;
}

#[tokio::test]
async fn rabbit_every_priority_with_typed_payloads_and_context() {
    every_priority_with_typed_payloads_and_context(true).await;
}

async fn sent_before_any_listener_waits_in_the_default_queue(rabbit: bool) {
    let bus = bus(rabbit).await;
    let topic = support::unique("n-early");
    let notifier = notifier(&bus, &topic).driver(NotifyDriver::Messaging);
    notifier
        .error(&Context::new(), "early.v1", &json!({"n": 1}))
        .await
        .expect("notify");
    notifier
        .clone()
        .driver(NotifyDriver::MessagingV2)
        .error(&Context::new(), "early.v2", &"a string payload")
        .await
        .expect("notify");
    if let Some(broker) = &bus.memory {
        assert_eq!(broker.queue_depth(&format!("{topic}.error")), Some(2));
    }
    let (recorder, mut seen) = Recorder::new("late");
    let listener = listen(&bus, &topic, recorder, None).await;
    let first = next(&mut seen).await;
    let second = next(&mut seen).await;
    assert_eq!(
        (first.event_type.as_str(), second.event_type.as_str()),
        ("early.v1", "early.v2")
    );
    assert_eq!(second.payload, json!("a string payload"));
    listener.stop().await.expect("stop");
}

#[tokio::test]
async fn memory_sent_before_any_listener_waits_in_the_default_queue() {
    sent_before_any_listener_waits_in_the_default_queue(false).await;
}

#[tokio::test]
async fn rabbit_sent_before_any_listener_waits_in_the_default_queue() {
    sent_before_any_listener_waits_in_the_default_queue(true).await;
}

async fn pools_each_get_everything_once(rabbit: bool) {
    let bus = bus(rabbit).await;
    let topic = support::unique("n-pool");
    let pool_a = format!("{topic}-a");
    let pool_b = format!("{topic}-b");
    let (a1, mut seen_a) = Recorder::new("a1");
    let mut a2 = a1.clone();
    a2.who = "a2".to_owned();
    let (b1, mut seen_b) = Recorder::new("b1");
    let (default, mut seen_default) = Recorder::new("default");
    let listeners = vec![
        listen(&bus, &topic, a1, Some(&pool_a)).await,
        listen(&bus, &topic, a2, Some(&pool_a)).await,
        listen(&bus, &topic, b1, Some(&pool_b)).await,
        listen(&bus, &topic, default, None).await,
    ];
    let notifier = notifier(&bus, &topic);
    const COUNT: usize = 20;
    for i in 0..COUNT {
        notifier
            .info(&Context::new(), "pool.event", &json!({"i": i}))
            .await
            .expect("notify");
    }
    for seen in [&mut seen_a, &mut seen_b, &mut seen_default] {
        let mut indices = Vec::new();
        for _ in 0..COUNT {
            indices.push(next(seen).await.payload["i"].as_u64().unwrap());
        }
        indices.sort_unstable();
        assert_eq!(indices, (0..COUNT as u64).collect::<Vec<_>>(), "each once");
        assert!(
            quiet(seen, Duration::from_millis(300)).await,
            "no duplicates"
        );
    }
    for listener in listeners {
        listener.stop().await.expect("stop");
    }
}

#[tokio::test]
async fn memory_pools_each_get_everything_once() {
    pools_each_get_everything_once(false).await;
}

#[tokio::test]
async fn rabbit_pools_each_get_everything_once() {
    pools_each_get_everything_once(true).await;
}

async fn requeue_redelivers_only_when_allowed(rabbit: bool) {
    let bus = bus(rabbit).await;
    let topic = support::unique("n-requeue");
    let (mut recorder, mut seen) = Recorder::new("r");
    recorder.requeue_first = Some("again".to_owned());
    let listener = listen(&bus, &topic, recorder, None).await;
    let notifier = notifier(&bus, &topic);
    notifier
        .warn(&Context::new(), "again", &json!({}))
        .await
        .expect("notify");
    let first = next(&mut seen).await;
    let second = next(&mut seen).await;
    assert_eq!(
        first.message_id, second.message_id,
        "the same notification again"
    );
    assert!(quiet(&mut seen, Duration::from_millis(300)).await);
    listener.stop().await.expect("stop");

    // Without allow_requeue the requeue is acknowledged all the same (oslo's default).
    let (mut recorder, mut seen) = Recorder::new("r2");
    recorder.requeue_first = Some("once".to_owned());
    let listener = NotificationListener::builder(bus.transport.clone())
        .target(Target::topic(&topic))
        .endpoint(recorder)
        .build()
        .expect("listener")
        .start()
        .await
        .expect("start");
    notifier
        .warn(&Context::new(), "once", &json!({}))
        .await
        .expect("notify");
    assert_eq!(next(&mut seen).await.event_type, "once");
    assert!(
        quiet(&mut seen, Duration::from_millis(500)).await,
        "not redelivered"
    );
    listener.stop().await.expect("stop");
}

#[tokio::test]
async fn memory_requeue_redelivers_only_when_allowed() {
    requeue_redelivers_only_when_allowed(false).await;
}

#[tokio::test]
async fn rabbit_requeue_redelivers_only_when_allowed() {
    requeue_redelivers_only_when_allowed(true).await;
}

async fn a_panicking_handler_requeues_and_the_listener_lives_on(rabbit: bool) {
    let bus = bus(rabbit).await;
    let topic = support::unique("n-panic");
    let (mut recorder, mut seen) = Recorder::new("r");
    recorder.panic_first = Some("boom".to_owned());
    let listener = listen(&bus, &topic, recorder, None).await;
    let notifier = notifier(&bus, &topic);
    notifier
        .critical(&Context::new(), "boom", &json!({}))
        .await
        .expect("notify");
    assert_eq!(next(&mut seen).await.event_type, "boom");
    assert_eq!(
        next(&mut seen).await.event_type,
        "boom",
        "requeued after the panic"
    );
    notifier
        .critical(&Context::new(), "after", &json!({}))
        .await
        .expect("notify");
    assert_eq!(next(&mut seen).await.event_type, "after");
    listener.stop().await.expect("stop");
}

#[tokio::test]
async fn memory_a_panicking_handler_requeues_and_the_listener_lives_on() {
    a_panicking_handler_requeues_and_the_listener_lives_on(false).await;
}

#[tokio::test]
async fn rabbit_a_panicking_handler_requeues_and_the_listener_lives_on() {
    a_panicking_handler_requeues_and_the_listener_lives_on(true).await;
}

#[tokio::test]
async fn filters_select_what_an_endpoint_gets() {
    let bus = bus(false).await;
    let topic = support::unique("n-filter");
    let (wanted, mut seen_wanted) = Recorder::new("wanted");
    let (all, mut seen_all) = Recorder::new("all");
    let filter = NotificationFilter::new()
        .publisher_id("^compute")
        .unwrap()
        .event_type(r"^instance\.")
        .unwrap()
        .context("user", "^al")
        .unwrap()
        .payload("state", "^active$")
        .unwrap();
    let listener = NotificationListener::builder(bus.transport.clone())
        .target(Target::topic(&topic))
        .endpoint_with_filter(wanted, filter)
        .endpoint(all)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let notifier = notifier(&bus, &topic);
    let alice = Context::new().with("user", "alice");
    let sends = [
        (&alice, "instance.create", json!({"state": "active"}), true),
        (&alice, "volume.create", json!({"state": "active"}), false),
        (
            &alice,
            "instance.create",
            json!({"state": "stopped"}),
            false,
        ),
        (
            &Context::new(),
            "instance.create",
            json!({"state": "active"}),
            false,
        ),
    ];
    for (ctx, event, payload, _) in &sends {
        notifier.info(ctx, event, payload).await.unwrap();
    }
    for _ in &sends {
        next(&mut seen_all).await;
    }
    let got = next(&mut seen_wanted).await;
    assert_eq!(
        (got.event_type.as_str(), &got.payload),
        ("instance.create", &json!({"state": "active"}))
    );
    assert!(quiet(&mut seen_wanted, Duration::from_millis(200)).await);
    listener.stop().await.unwrap();
}

#[derive(Deserialize, Debug, PartialEq)]
struct Sized_ {
    n: u32,
}

struct Batches(mpsc::UnboundedSender<Vec<u32>>);

#[notification_endpoint(batch)]
impl Batches {
    async fn info(&self, batch: Vec<Notification<Sized_>>) {
        let _ = self
            .0
            .send(batch.into_iter().map(|n| n.payload.n).collect());
    }
}

async fn batches_fill_up_or_time_out(rabbit: bool) {
    let bus = bus(rabbit).await;
    let topic = support::unique("n-batch");
    let notifier = notifier(&bus, &topic);
    for n in 0..4u32 {
        notifier
            .info(&Context::new(), "b", &json!({"n": n}))
            .await
            .unwrap();
    }
    // A payload this endpoint cannot decode is skipped, not fatal.
    notifier
        .info(&Context::new(), "b", &json!({"other": 1}))
        .await
        .unwrap();
    let (tx, mut batches) = mpsc::unbounded_channel();
    let listener = NotificationListener::batch_builder(bus.transport.clone())
        .target(Target::topic(&topic))
        .endpoint(Batches(tx))
        .batch_size(3)
        .batch_timeout(Duration::from_millis(300))
        .max_concurrency(1)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let mut all = Vec::new();
    let mut sizes = Vec::new();
    while all.len() < 4 {
        let batch = tokio::time::timeout(Duration::from_secs(20), batches.recv())
            .await
            .expect("a batch")
            .unwrap();
        sizes.push(batch.len());
        all.extend(batch);
    }
    assert_eq!(all, [0, 1, 2, 3]);
    assert_eq!(
        sizes,
        [3, 1],
        "a full batch, then the rest after the timeout"
    );
    listener.stop().await.unwrap();
}

#[tokio::test]
async fn memory_batches_fill_up_or_time_out() {
    batches_fill_up_or_time_out(false).await;
}

#[tokio::test]
async fn rabbit_batches_fill_up_or_time_out() {
    batches_fill_up_or_time_out(true).await;
}

/// Blocks every handler until released, counting how many run at once.
struct Gate {
    running: AtomicUsize,
    peak: AtomicUsize,
    done: AtomicUsize,
    release: Notify,
    started: mpsc::UnboundedSender<()>,
}

struct GateEndpoint(Arc<Gate>);

#[notification_endpoint]
impl GateEndpoint {
    async fn info(&self, _n: Notification) {
        let gate = &self.0;
        let now = gate.running.fetch_add(1, Ordering::SeqCst) + 1;
        gate.peak.fetch_max(now, Ordering::SeqCst);
        let _ = gate.started.send(());
        gate.release.notified().await;
        gate.running.fetch_sub(1, Ordering::SeqCst);
        gate.done.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn concurrency_is_bounded_and_stop_settles_what_is_in_flight() {
    let bus = bus(false).await;
    let topic = support::unique("n-gate");
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let gate = Arc::new(Gate {
        running: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        release: Notify::new(),
        started: started_tx,
    });
    let listener = NotificationListener::builder(bus.transport.clone())
        .target(Target::topic(&topic))
        .endpoint(GateEndpoint(gate.clone()))
        .max_concurrency(2)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let notifier = notifier(&bus, &topic);
    for i in 0..5 {
        notifier
            .info(&Context::new(), "g", &json!({"i": i}))
            .await
            .unwrap();
    }
    for _ in 0..2 {
        tokio::time::timeout(Duration::from_secs(10), started.recv())
            .await
            .unwrap();
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(200), started.recv())
            .await
            .is_err()
    );
    assert_eq!(gate.peak.load(Ordering::SeqCst), 2);
    // Stop while two are in flight: they finish and are acknowledged; the other three
    // were never taken and stay in the queue.
    let stopping = tokio::spawn(listener.stop());
    // Release the handlers only once the stop has cancelled the consumer, so that none of
    // the other three can be taken (was: a 50 ms sleep).
    let broker = bus.memory.as_ref().unwrap();
    let queue = format!("{topic}.info");
    tokio::time::timeout(Duration::from_secs(10), async {
        while broker.consumer_count(&queue) != Some(0) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the stop cancelled the consumer");
    gate.release.notify_waiters();
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("stopped in time")
        .unwrap()
        .unwrap();
    assert_eq!(gate.done.load(Ordering::SeqCst), 2);
    assert_eq!(broker.queue_depth(&queue), Some(3));
    assert_eq!(broker.consumer_count(&queue), Some(0));
}

#[tokio::test]
async fn undecodable_are_rejected_and_duplicates_dropped() {
    let bus = bus(false).await;
    let topic = support::unique("n-bad");
    let (recorder, mut seen) = Recorder::new("r");
    let listener = listen(&bus, &topic, recorder, None).await;
    let broker = bus.memory.as_ref().unwrap();
    let key = format!("{topic}.info");
    let to = Destination::Topic {
        exchange: "openstack",
        routing_key: &key,
    };
    broker
        .publish_raw(to, b"not json".to_vec(), Some("application/json"))
        .unwrap();
    let body = br#"{"priority": "INFO", "event_type": "dup", "payload": {}, "_unique_id": "u-1"}"#;
    broker.publish_raw(to, body.to_vec(), None).unwrap();
    broker
        .publish_raw(to, body.to_vec(), Some("application/json"))
        .unwrap();
    assert_eq!(next(&mut seen).await.event_type, "dup");
    // The same `_unique_id` again once it was acknowledged (a redelivery whose ack was
    // lost): acknowledged and dropped (notify §2.3). The ack follows the handler on its
    // task and is not observable on memory://; a generous pause lets it land.
    tokio::time::sleep(Duration::from_millis(500)).await;
    broker
        .publish_raw(to, body.to_vec(), Some("application/json"))
        .unwrap();
    broker
        .publish_raw(
            to,
            br#"{"priority": "NOTICE", "event_type": "odd"}"#.to_vec(),
            Some("application/json"),
        )
        .unwrap();
    assert!(
        quiet(&mut seen, Duration::from_millis(300)).await,
        "once only"
    );
    assert_eq!(
        broker.queue_depth(&key),
        Some(0),
        "everything settled, nothing requeued"
    );
    listener.stop().await.unwrap();
}

#[tokio::test]
async fn noop_and_log_drivers_send_nothing_and_topics_fan_out() {
    let bus = bus(false).await;
    let topic = support::unique("n-drv");
    let other = format!("{topic}-2");
    let broker = bus.memory.as_ref().unwrap();
    let quiet_notifier = notifier(&bus, &topic).drivers([NotifyDriver::Noop, NotifyDriver::Log]);
    assert!(quiet_notifier.is_enabled());
    assert!(
        !notifier(&bus, &topic)
            .driver(NotifyDriver::Noop)
            .is_enabled()
    );
    quiet_notifier
        .info(&Context::new(), "x", &json!({"password": "p"}))
        .await
        .unwrap();
    assert_eq!(broker.queue_depth(&format!("{topic}.info")), None);
    notifier(&bus, &topic)
        .topics([topic.clone(), other.clone()])
        .sample(&Context::new(), "x", &json!(1))
        .await
        .unwrap();
    assert_eq!(broker.queue_depth(&format!("{topic}.sample")), Some(1));
    assert_eq!(broker.queue_depth(&format!("{other}.sample")), Some(1));
    let empty = notifier(&bus, "")
        .info(&Context::new(), "x", &json!(1))
        .await;
    assert!(
        matches!(empty, Err(RpcError::InvalidTarget(_))),
        "{empty:?}"
    );
    let no_target = NotificationListener::builder(bus.transport.clone())
        .endpoint(Recorder::new("r").0)
        .build();
    assert!(no_target.is_err());
}

#[tokio::test]
async fn rabbit_declares_what_oslo_declares() {
    // notify §1.5, §2.2: the default queue, the per-priority queues, the pool's queue.
    let bus = bus(true).await;
    let topic = support::unique("n-decl");
    let pool = format!("{topic}-pool");
    notifier(&bus, &topic)
        .info(&Context::new(), "x", &json!({}))
        .await
        .unwrap();
    let (recorder, _seen) = Recorder::new("r");
    let plain = listen(&bus, &topic, recorder.clone(), None).await;
    let pooled = listen(&bus, &topic, recorder, Some(&pool)).await;
    let queues = support::rabbit::list(
        "list_queues",
        &["name", "durable", "auto_delete", "arguments"],
    );
    let ours: Vec<&Vec<String>> = queues.iter().filter(|q| q[0].starts_with(&topic)).collect();
    let mut names: Vec<&str> = ours.iter().map(|q| q[0].as_str()).collect();
    names.sort_unstable();
    let mut expected: Vec<String> = Priority::ALL
        .iter()
        .map(|p| format!("{topic}.{p}"))
        .collect();
    expected.push(pool.clone());
    expected.sort();
    assert_eq!(names, expected);
    for q in &ours {
        assert_eq!(
            (q[1].as_str(), q[2].as_str(), q[3].as_str()),
            ("false", "false", "[]"),
            "{q:?}"
        );
    }
    let bindings = support::rabbit::list(
        "list_bindings",
        &["source_name", "destination_name", "routing_key"],
    );
    let pool_keys: Vec<&str> = bindings
        .iter()
        .filter(|b| b[0] == "openstack" && b[1] == pool)
        .map(|b| b[2].as_str())
        .collect();
    assert_eq!(pool_keys.len(), 7, "{pool_keys:?}");
    let consumers = support::rabbit::list("list_consumers", &["queue_name", "ack_required"]);
    let on_pool: Vec<&Vec<String>> = consumers.iter().filter(|c| c[0] == pool).collect();
    assert_eq!(on_pool.len(), 1);
    assert_eq!(on_pool[0][1], "true");
    plain.stop().await.unwrap();
    pooled.stop().await.unwrap();
    // oslo's listener leaves its queues (notify §2.2).
    let after = support::rabbit::list("list_queues", &["name"]);
    assert!(after.iter().any(|q| q[0] == pool));
}

/// Percent-encodes everything but unreserved characters (for URL user info).
fn pct(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The cause of the flaky listener readiness (issue 13): a listener whose broker cannot be
/// reached when it starts returns from `start()` after one round of failed attempts and
/// keeps trying, so "started" is not "consuming", and a pool's queue declared later never
/// gets what was sent before it existed. `consuming()` is the event to wait for: pending
/// while nothing listens on the broker's port, resolved once the broker is reachable and
/// the pool's queue declared, after which every notification reaches the pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbit_consuming_resolves_when_a_late_broker_has_the_pool_queue() {
    let bus = bus(true).await;
    let url = support::rabbit::rabbit_url().await;
    let parsed = oslo_rpc::TransportUrl::parse(&url).unwrap();
    let host = &parsed.hosts()[0];
    let broker = format!("{}:{}", host.hostname, host.port_or_default());
    let user = host.username.clone().unwrap_or_else(|| "guest".to_owned());
    let password = host
        .password
        .as_ref()
        .map_or("guest", |p| p.expose())
        .to_owned();
    let vhost = parsed.virtual_host().map(pct).unwrap_or_default();
    // A loopback port nothing listens on (yet).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let late_url = format!(
        "rabbit://{}:{}@127.0.0.1:{port}/{vhost}?rabbit_retry_interval=1",
        pct(&user),
        pct(&password)
    );
    let late_driver = support::rabbit::driver(&late_url);
    let _late_cleanup = support::rabbit::Cleanup(late_driver.clone());
    let late = Transport::builder(&late_url)
        .driver(late_driver)
        .build()
        .unwrap();
    let topic = support::unique("n-late");
    let pool = format!("{topic}-pool");
    let (recorder, mut seen) = Recorder::new("late");
    let mut listener = tokio::time::timeout(
        Duration::from_secs(60),
        NotificationListener::builder(late.clone())
            .target(Target::topic(&topic))
            .endpoint(recorder)
            .pool(&pool)
            .build()
            .unwrap()
            .start(),
    )
    .await
    .expect("start() returns while the broker is unreachable")
    .expect("start");
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), listener.consuming())
            .await
            .is_err(),
        "not consuming while nothing listens on the port"
    );
    // Sent now, it is lost for the pool, whose queue does not exist: only the notifier's
    // default queue keeps it.
    let notifier = notifier(&bus, &topic);
    notifier
        .info(&Context::new(), "lost", &json!({}))
        .await
        .unwrap();

    // The broker becomes reachable on that port.
    let forward = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("the port is still free");
    let forwarder = tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = forward.accept().await else {
                return;
            };
            let broker = broker.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(&broker).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    tokio::time::timeout(Duration::from_secs(60), listener.consuming())
        .await
        .expect("consuming within 60 s of the broker being reachable")
        .expect("consuming");
    listener.consuming().await.expect("and it stays so");
    notifier
        .info(&Context::new(), "kept", &json!({}))
        .await
        .unwrap();
    assert_eq!(next(&mut seen).await.event_type, "kept");
    assert!(quiet(&mut seen, Duration::from_millis(500)).await);
    listener.stop().await.unwrap();
    late.shutdown().await;
    forwarder.abort();
}

/// `Notifier::from_config` and `Transport::notification_from_config`: the notification
/// transport URL wins over `[DEFAULT] transport_url`, every configured driver and topic is
/// used, and files without a driver give a notifier that sends nothing, as oslo's.
#[tokio::test]
async fn a_notifier_from_config_files() {
    use oslo_rpc::config::OsloConfig;
    let rpc = support::unique("n-cfg-rpc");
    let notif = support::unique("n-cfg-notif");
    let text = format!(
        "[DEFAULT]\ntransport_url = memory://{rpc}\ncontrol_exchange = nova\n\
         [oslo_messaging_notifications]\ntransport_url = memory://{notif}\n\
         driver = messagingv2\ndriver = log\ntopics = a-{notif}, b-{notif}\nretry = 0\n"
    );
    let config = OsloConfig::parse("nova.conf", &text).unwrap();
    let transport = Transport::notification_from_config(&config)
        .build()
        .unwrap();
    assert_eq!(transport.url().memory_broker_name(), Some(notif.as_str()));
    assert_eq!(transport.config().control_exchange, "nova");
    let notifier = Notifier::from_config(transport.clone(), &config)
        .publisher_id(Some("compute.h1".to_owned()));
    assert!(notifier.is_enabled());
    assert_eq!(
        notifier.current_topics(),
        [format!("a-{notif}"), format!("b-{notif}")]
    );
    let (recorder, mut seen) = Recorder::new("cfg");
    let listener = NotificationListener::builder(transport.clone())
        .target(Target::topic(format!("a-{notif}")))
        .target(Target::topic(format!("b-{notif}")))
        .endpoint(recorder)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    notifier
        .warn(&Context::new(), "configured", &json!({"n": 1}))
        .await
        .unwrap();
    let (first, second) = (next(&mut seen).await, next(&mut seen).await);
    for got in [&first, &second] {
        assert_eq!(got.event_type, "configured");
        assert_eq!(got.publisher_id.as_deref(), Some("compute.h1"));
    }
    assert_eq!(
        first.message_id, second.message_id,
        "one notification, two topics"
    );
    assert!(quiet(&mut seen, Duration::from_millis(300)).await);
    listener.stop().await.unwrap();
    assert!(
        MemoryBroker::named(&rpc).queue_names().is_empty(),
        "nothing on the RPC bus"
    );

    // No driver: oslo's default, nothing is sent.
    let quiet_config = OsloConfig::parse(
        "nova.conf",
        &format!("[DEFAULT]\ntransport_url = memory://{notif}\n"),
    )
    .unwrap();
    let silent = Notifier::from_config(transport.clone(), &quiet_config);
    assert!(!silent.is_enabled());
    assert_eq!(silent.current_topics(), ["notifications"]);
    silent
        .info(&Context::new(), "dropped", &json!({}))
        .await
        .unwrap();
    let broker = MemoryBroker::named(&notif);
    assert_eq!(broker.queue_depth("notifications.info"), None);
    transport.shutdown().await;
}
