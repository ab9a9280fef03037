//! Notification interop with real Python oslo.messaging 18.3.1 over the machine's RabbitMQ,
//! both directions (notify §1, §2): every priority, both drivers, contexts, unicode and
//! 1 MiB payloads, filters, a notification sent before any listener exists, pools mixing
//! Python and Rust listeners, requeue and batches. Peers: `tests/interop/peers/notifier.py`
//! and `listener.py`. Every test uses its own topic and deletes the queues named after it.

#[path = "python/notify.rs"]
mod py_notify;
mod python;
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use oslo_rpc::notify::{
    ListenerHandle, Notification, NotificationFilter, NotificationListener, Notifier, NotifyDriver,
    Outcome, Priority,
};
use oslo_rpc::prelude::*;
use py_notify::{PyListener, py_notify};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(30);

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A test's transport, and cleanup of every queue named after its topic (the notifier's
/// default queues, listeners' queues, pools named `<topic>-...`), Python's included.
type Bus = support::rabbit::TopicBus;

async fn bus(topic: &str) -> Bus {
    support::rabbit::topic_bus(topic, Vec::new()).await
}

/// A Rust listener's view of a notification.
#[derive(Debug, Clone)]
struct Got {
    who: &'static str,
    n: Notification,
}

#[derive(Clone)]
struct Rec {
    who: &'static str,
    tx: mpsc::UnboundedSender<Got>,
    requeue_first: Option<&'static str>,
    requeued: Arc<AtomicBool>,
}

impl Rec {
    fn new(who: &'static str) -> (Rec, mpsc::UnboundedReceiver<Got>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let rec = Rec {
            who,
            tx,
            requeue_first: None,
            requeued: Arc::new(AtomicBool::new(false)),
        };
        (rec, rx)
    }

    fn got(&self, n: Notification) -> Outcome {
        let requeue = self.requeue_first == Some(n.event_type.as_str())
            && !self.requeued.swap(true, Ordering::SeqCst);
        let _ = self.tx.send(Got { who: self.who, n });
        if requeue {
            Outcome::Requeue
        } else {
            Outcome::Handled
        }
    }
}

#[notification_endpoint]
impl Rec {
    async fn audit(&self, n: Notification) -> Outcome {
        self.got(n)
    }
    async fn debug(&self, n: Notification) -> Outcome {
        self.got(n)
    }
    async fn info(&self, n: Notification) -> Outcome {
        self.got(n)
    }
    async fn warn(&self, n: Notification) -> Outcome {
        self.got(n)
    }
    async fn error(&self, n: Notification) -> Outcome {
        self.got(n)
    }
    async fn critical(&self, n: Notification) -> Outcome {
        self.got(n)
    }
    async fn sample(&self, n: Notification) -> Outcome {
        self.got(n)
    }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Got>) -> Got {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("no notification reached the Rust listener")
        .expect("recorder closed")
}

async fn rust_listener(
    bus: &Bus,
    topic: &str,
    rec: Rec,
    pool: Option<&str>,
    filtered: Option<(Rec, NotificationFilter)>,
) -> ListenerHandle {
    let mut builder = NotificationListener::builder(bus.transport.clone())
        .target(Target::topic(topic))
        .endpoint(rec)
        .allow_requeue(true);
    if let Some((rec, filter)) = filtered {
        builder = builder.endpoint_with_filter(rec, filter);
    }
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

fn large_text() -> String {
    "0123456789abcdef".repeat(64 * 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_notifier_to_python_listener() {
    let topic = unique("ni-r2p");
    let bus = bus(&topic).await;
    let mut py = PyListener::start(&[
        "--topic",
        &topic,
        "--filter-event-type",
        r"^wanted\.",
        "--filter-payload",
        "state=^active$",
    ])
    .await;
    let notifier = Notifier::new(bus.transport.clone(), "compute.rust");
    let notifier = notifier.topics([topic.clone()]);
    let ctx = Context::new()
        .with_request_id("req-r2p")
        .with_user_id("u1")
        .with("auth_token", "secret");
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
    notifier
        .clone()
        .driver(NotifyDriver::Messaging)
        .error(
            &Context::new(),
            "v1.error",
            &json!({"x": [1, 2.5, null, true]}),
        )
        .await
        .expect("notify v1");
    let text = "caf\u{e9} \u{2603} \u{1f600}";
    notifier
        .info(
            &Context::new(),
            "unicod\u{e9}.\u{2603}",
            &json!({"text": text}),
        )
        .await
        .expect("unicode");
    let large = large_text();
    notifier
        .info(&Context::new(), "large", &json!({"blob": large}))
        .await
        .expect("large");
    notifier
        .publisher_id(None)
        .info(&Context::new(), "wanted.one", &json!({"state": "active"}))
        .await
        .expect("wanted");
    Notifier::new(bus.transport.clone(), "compute.rust")
        .topics([topic.clone()])
        .info(&Context::new(), "wanted.two", &json!({"state": "stopped"}))
        .await
        .expect("unwanted");

    let mut all: BTreeMap<String, Value> = BTreeMap::new();
    let mut filtered = Vec::new();
    while all.len() < 12 || filtered.is_empty() {
        let line = py.next(WAIT).await;
        let event = line["event_type"].as_str().unwrap().to_owned();
        match line["endpoint"].as_str() {
            Some("all") => {
                assert!(all.insert(event, line).is_none(), "each once");
            }
            _ => filtered.push(event),
        }
    }
    assert!(py.quiet_for(Duration::from_millis(500)).await);
    for priority in Priority::ALL {
        let line = &all[&format!("ev.{priority}")];
        assert_eq!(line["priority"], priority.as_str());
        assert_eq!(line["publisher_id"], "compute.rust");
        assert_eq!(line["payload"], json!({"p": priority.as_str()}));
        // Python adds client_timeout to every context (notify §2.3); auth_token went out
        // redacted (notify §1.4).
        assert_eq!(
            line["ctxt"],
            json!({"request_id": "req-r2p", "user_id": "u1", "auth_token": null, "client_timeout": null})
        );
        let id = line["metadata"]["message_id"].as_str().unwrap();
        assert_eq!(id.len(), 36);
        assert!(
            line["metadata"]["timestamp"]
                .as_str()
                .unwrap()
                .starts_with("20")
        );
    }
    assert_eq!(
        all["v1.error"]["payload"],
        json!({"x": [1, 2.5, null, true]})
    );
    assert_eq!(all["v1.error"]["ctxt"], json!({"client_timeout": null}));
    assert_eq!(all["unicod\u{e9}.\u{2603}"]["payload"]["text"], text);
    assert_eq!(
        all["large"]["payload"]["blob"].as_str().map(str::len),
        Some(large.len())
    );
    assert_eq!(all["wanted.one"]["publisher_id"], Value::Null);
    assert_eq!(
        filtered,
        ["wanted.one"],
        "the filter passes only the active one"
    );
    py.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_notifier_to_rust_listener() {
    let topic = unique("ni-p2r");
    let bus = bus(&topic).await;
    let (rec, mut got) = Rec::new("all");
    let (wanted, mut got_wanted) = Rec::new("wanted");
    let filter = NotificationFilter::new()
        .publisher_id("^compute")
        .unwrap()
        .event_type(r"^wanted\.")
        .unwrap()
        .payload("state", "^active$")
        .unwrap();
    let listener = rust_listener(&bus, &topic, rec, None, Some((wanted, filter))).await;
    let mut prio_args = vec!["--topic", topic.as_str(), "--publisher-id", "compute.py"];
    for priority in Priority::ALL {
        prio_args.extend(["--priority", priority.as_str()]);
    }
    prio_args.extend(["--event-type", "ev", r#"{"k": "v"}"#]);
    py_notify(&prio_args, None).await;
    py_notify(
        &[
            "--topic",
            &topic,
            "--driver",
            "messaging",
            "--priority",
            "error",
            "--event-type",
            "v1",
            "[1, 2.5]",
        ],
        None,
    )
    .await;
    py_notify(
        &[
            "--topic",
            &topic,
            "--request-context",
            "--context",
            r#"{"user_id": "u1", "project_id": "p1", "request_id": "req-p2r", "auth_token": "secret"}"#,
            "--event-type",
            "ctx",
            r#"{"text": "caf\u00e9 \u2603 \ud83d\ude00"}"#,
        ],
        None,
    )
    .await;
    let large = large_text();
    let payload = json!({"blob": large}).to_string();
    py_notify(
        &[
            "--topic",
            &topic,
            "--publisher-id",
            "compute.py",
            "--event-type",
            "wanted.big",
            "-",
        ],
        Some(&payload),
    )
    .await;
    py_notify(
        &[
            "--topic",
            &topic,
            "--publisher-id",
            "compute.py",
            "--event-type",
            "wanted.one",
            r#"{"state": "active"}"#,
        ],
        None,
    )
    .await;

    let mut seen: BTreeMap<(String, Priority), Notification> = BTreeMap::new();
    while seen.len() < 7 + 4 {
        let got = next(&mut got).await;
        assert_eq!(got.who, "all");
        let key = (got.n.event_type.clone(), got.n.priority);
        assert!(seen.insert(key, got.n).is_none(), "each once");
    }
    for priority in Priority::ALL {
        let n = &seen[&("ev".to_owned(), priority)];
        assert_eq!(n.publisher_id.as_deref(), Some("compute.py"));
        assert_eq!(n.payload, json!({"k": "v"}));
        assert!(
            n.context.is_empty(),
            "a dict context is dropped (notify §1.4)"
        );
        assert_eq!(n.metadata.message_id.as_deref().map(str::len), Some(36));
    }
    assert_eq!(
        seen[&("v1".to_owned(), Priority::Error)].payload,
        json!([1, 2.5])
    );
    let ctx = &seen[&("ctx".to_owned(), Priority::Info)];
    assert_eq!(ctx.publisher_id, None);
    assert_eq!(ctx.payload["text"], "caf\u{e9} \u{2603} \u{1f600}");
    assert_eq!(ctx.context.get_str("user"), Some("u1"));
    assert_eq!(ctx.context.request_id(), Some("req-p2r"));
    assert_eq!(
        ctx.context.get("auth_token"),
        Some(&Value::Null),
        "redacted by oslo.context"
    );
    let big = &seen[&("wanted.big".to_owned(), Priority::Info)];
    assert_eq!(
        big.payload["blob"].as_str().map(str::len),
        Some(large.len())
    );
    let wanted = next(&mut got_wanted).await;
    assert_eq!(wanted.n.event_type, "wanted.one");
    assert!(
        tokio::time::timeout(Duration::from_millis(500), got_wanted.recv())
            .await
            .is_err(),
        "the filter lets only wanted.one through"
    );
    listener.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_sent_before_any_listener_are_kept_both_ways() {
    let topic = unique("ni-early");
    let bus = bus(&topic).await;
    let py_topic = format!("{topic}-py");
    let rs_topic = format!("{topic}-rs");
    // Python sends first; the Rust listener comes later.
    py_notify(
        &[
            "--topic",
            &py_topic,
            "--priority",
            "warn",
            "--event-type",
            "early.py",
            "{}",
        ],
        None,
    )
    .await;
    // Rust sends first; the Python listener comes later.
    Notifier::new(bus.transport.clone(), "compute.rust")
        .topics([rs_topic.clone()])
        .warn(&Context::new(), "early.rs", &json!({}))
        .await
        .expect("notify");
    let (rec, mut got) = Rec::new("late");
    let listener = rust_listener(&bus, &py_topic, rec, None, None).await;
    assert_eq!(next(&mut got).await.n.event_type, "early.py");
    let mut py = PyListener::start(&["--topic", &rs_topic, "--priority", "warn"]).await;
    assert_eq!(py.next(WAIT).await["event_type"], "early.rs");
    py.stop().await;
    listener.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pools_mix_python_and_rust_listeners() {
    let topic = unique("ni-pool");
    let bus = bus(&topic).await;
    let pool_p = format!("{topic}-p");
    let pool_q = format!("{topic}-q");
    let mut py_p =
        PyListener::start(&["--topic", &topic, "--pool", &pool_p, "--priority", "info"]).await;
    let mut py_default = PyListener::start(&["--topic", &topic, "--priority", "info"]).await;
    let (rec_p, mut got_p) = Rec::new("rust-p");
    let (rec_q, mut got_q) = Rec::new("rust-q");
    let rust_p = rust_listener(&bus, &topic, rec_p, Some(&pool_p), None).await;
    let rust_q = rust_listener(&bus, &topic, rec_q, Some(&pool_q), None).await;

    const RUST: u64 = 30;
    const PY: u64 = 10;
    let notifier = Notifier::new(bus.transport.clone(), "compute.rust").topics([topic.clone()]);
    for i in 0..RUST {
        notifier
            .info(&Context::new(), "rs", &json!({"i": i}))
            .await
            .expect("notify");
    }
    py_notify(
        &[
            "--topic",
            &topic,
            "--event-type",
            "py",
            "--repeat",
            "10",
            "--index-key",
            "i",
            "{}",
        ],
        None,
    )
    .await;
    let expected: Vec<(String, u64)> = (0..RUST)
        .map(|i| ("rs".to_owned(), i))
        .chain((0..PY).map(|i| ("py".to_owned(), i)))
        .collect();
    let sorted = |mut v: Vec<(String, u64)>| {
        v.sort();
        v
    };
    let total = (RUST + PY) as usize;

    // Pool q (Rust only) and the default queue (Python) each get everything once.
    let mut q = Vec::new();
    for _ in 0..total {
        let got = next(&mut got_q).await;
        q.push((got.n.event_type, got.n.payload["i"].as_u64().unwrap()));
    }
    assert_eq!(sorted(q), sorted(expected.clone()));
    let mut default = Vec::new();
    for _ in 0..total {
        let line = py_default.next(WAIT).await;
        default.push((
            line["event_type"].as_str().unwrap().to_owned(),
            line["payload"]["i"].as_u64().unwrap(),
        ));
    }
    assert_eq!(sorted(default), sorted(expected.clone()));

    // Pool p is shared by a Python and a Rust listener: each notification once, across both.
    let mut p = Vec::new();
    let (mut from_py, mut from_rust) = (0, 0);
    while p.len() < total {
        tokio::select! {
            got = next(&mut got_p) => {
                from_rust += 1;
                p.push((got.n.event_type, got.n.payload["i"].as_u64().unwrap()));
            }
            line = py_p.next(WAIT) => {
                from_py += 1;
                p.push((line["event_type"].as_str().unwrap().to_owned(), line["payload"]["i"].as_u64().unwrap()));
            }
        }
    }
    assert_eq!(
        sorted(p),
        sorted(expected),
        "delivered once across the pool"
    );
    assert!(
        from_py > 0 && from_rust > 0,
        "both members served: py {from_py}, rust {from_rust}"
    );
    assert!(py_p.quiet_for(Duration::from_millis(500)).await);
    assert!(got_p.try_recv().is_err());
    py_p.stop().await;
    py_default.stop().await;
    rust_p.stop().await.expect("stop");
    rust_q.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requeue_both_ways_and_python_batches() {
    let topic = unique("ni-requeue");
    let bus = bus(&topic).await;
    let to_py = format!("{topic}-py");
    let to_rs = format!("{topic}-rs");
    let batch_topic = format!("{topic}-batch");
    let mut py = PyListener::start(&["--topic", &to_py, "--requeue-event", "again"]).await;
    let mut py_batch = PyListener::start(&[
        "--topic",
        &batch_topic,
        "--priority",
        "info",
        "--batch-size",
        "3",
        "--batch-timeout",
        "1",
    ])
    .await;
    let (mut rec, mut got) = Rec::new("rust");
    rec.requeue_first = Some("again");
    let listener = rust_listener(&bus, &to_rs, rec, None, None).await;

    // Rust notifier -> Python listener that requeues once.
    let notifier = Notifier::new(bus.transport.clone(), "compute.rust");
    notifier
        .clone()
        .topics([to_py.clone()])
        .error(&Context::new(), "again", &json!({}))
        .await
        .expect("notify");
    let first = py.next(WAIT).await;
    let second = py.next(WAIT).await;
    assert_eq!(
        first["metadata"]["message_id"],
        second["metadata"]["message_id"]
    );
    // Python notifier -> Rust listener that requeues once.
    py_notify(
        &[
            "--topic",
            &to_rs,
            "--priority",
            "error",
            "--event-type",
            "again",
            "{}",
        ],
        None,
    )
    .await;
    let first = next(&mut got).await;
    let second = next(&mut got).await;
    assert_eq!(first.n.metadata.message_id, second.n.metadata.message_id);
    // Rust notifier -> Python batch listener: a full batch of 3, then 1 after the timeout.
    let batch_notifier = notifier.topics([batch_topic.clone()]);
    for i in 0..4 {
        batch_notifier
            .info(&Context::new(), "b", &json!({"i": i}))
            .await
            .expect("notify");
    }
    let mut sizes = Vec::new();
    let mut indices = Vec::new();
    while indices.len() < 4 {
        let line = py_batch.next(WAIT).await;
        let batch = line["batch"].as_array().unwrap();
        sizes.push(batch.len());
        indices.extend(batch.iter().map(|m| m["payload"]["i"].as_u64().unwrap()));
    }
    assert_eq!(indices, [0, 1, 2, 3]);
    assert_eq!(sizes, [3, 1]);
    py.stop().await;
    py_batch.stop().await;
    listener.stop().await.expect("stop");
}
