//! The transport scenarios on `memory://`, plus what only the in-process broker lets a
//! test do: publish raw bytes as a broken peer would, and look at the topology.

mod scenarios;
mod support;

use std::time::Duration;

use oslo_rpc::prelude::*;
use rpc_runtime::transport::Destination;
use rpc_runtime::transport::memory::{ExchangeKind, MemoryBroker};
use serde_json::json;

use support::{Fixture, unique};

/// Every test gets its own in-process broker.
async fn memory_url() -> String {
    format!("memory://{}", unique("test"))
}

all_transport_scenarios!(memory_url);

fn broker_of(url: &str) -> std::sync::Arc<MemoryBroker> {
    MemoryBroker::named(url.trim_start_matches("memory://"))
}

#[tokio::test]
async fn topology_matches_oslo_names() {
    let url = memory_url().await;
    let mut f = Fixture::new(&url).await;
    f.serve("s1").await;
    f.calc()
        .call(&Context::new(), "add", json!({"a": 1, "b": 1}))
        .await
        .unwrap();
    let broker = broker_of(&url);
    let queues = broker.queue_names();
    let topic = f.topic.clone();
    assert!(queues.contains(&topic));
    assert!(queues.contains(&format!("{topic}.s1")));
    assert!(
        queues
            .iter()
            .any(|q| q.starts_with(&format!("{topic}_fanout_")))
    );
    assert_eq!(queues.iter().filter(|q| q.starts_with("reply_")).count(), 1);
    assert!(
        broker
            .exchanges()
            .contains(&("openstack".into(), ExchangeKind::Topic))
    );
    assert!(
        broker
            .exchanges()
            .contains(&(format!("{topic}_fanout"), ExchangeKind::Fanout))
    );
    f.finish().await;
    // The fanout queue and its auto-delete exchange go away on graceful stop (spec §2.1).
    assert!(!broker.queue_names().iter().any(|q| q.contains("_fanout_")));
    assert!(
        !broker
            .exchanges()
            .iter()
            .any(|(name, _)| name.ends_with("_fanout"))
    );
}

#[tokio::test]
async fn undecodable_messages_are_dropped_and_the_server_goes_on() {
    let url = memory_url().await;
    let mut f = Fixture::new(&url).await;
    f.serve("s1").await;
    let broker = broker_of(&url);
    let topic = f.topic.clone();
    let to_topic = Destination::Topic {
        exchange: "openstack",
        routing_key: &topic,
    };
    let good_cast = rpc_runtime::wire::encode_request(
        &rpc_runtime::wire::RequestHeader {
            method: "record",
            namespace: Some("calc"),
            version: None,
            call: None,
            unique_id: "u-good",
            context: &Context::new(),
        },
        &json!({"tag": "after-garbage"}),
    )
    .unwrap();
    for (body, content_type) in [
        (&b"not json"[..], Some("application/json")),
        (
            br#"{"oslo.version": "3.0", "oslo.message": "{}"}"#,
            Some("application/json"),
        ),
        (&good_cast[..], None),
        (&good_cast[..], Some("text/plain")),
        (b"\xff\xfe", Some("application/json")),
    ] {
        broker
            .publish_raw(to_topic, body.to_vec(), content_type)
            .unwrap();
    }
    broker
        .publish_raw(to_topic, good_cast.clone(), Some("application/json"))
        .unwrap();
    assert_eq!(f.recorder.next().await.value, json!("after-garbage"));
    // The same _unique_id again is a duplicate (spec §8.2): dropped without dispatch.
    broker
        .publish_raw(to_topic, good_cast, Some("application/json"))
        .unwrap();
    assert!(f.recorder.quiet_for(Duration::from_millis(200)).await);
    f.finish().await;
}

#[tokio::test]
async fn a_silent_server_fails_the_call_at_the_call_monitor_timeout() {
    let url = memory_url().await;
    let f = Fixture::new(&url).await;
    // A queue that takes the request but where nobody answers: a dead server.
    broker_of(&url).bind("openstack", ExchangeKind::Topic, &f.topic, &f.topic);
    let started = std::time::Instant::now();
    let error = f
        .calc()
        .timeout(Duration::from_secs(10))
        .call_monitor_timeout(Duration::from_millis(300))
        .call(&Context::new(), "sleep", json!({"seconds": 5}))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(
            error,
            RpcError::Timeout {
                call_monitor: true,
                ..
            }
        ),
        "{error:?}"
    );
    f.finish().await;
}

#[tokio::test]
async fn a_reply_to_a_missing_queue_is_retried_then_abandoned() {
    let url = memory_url().await;
    let mut f = Fixture::new(&url).await;
    f.serve("s1").await;
    let broker = broker_of(&url);
    let topic = f.topic.clone();
    let request = |msg_id: &str, unique_id: &str| {
        rpc_runtime::wire::encode_request(
            &rpc_runtime::wire::RequestHeader {
                method: "record",
                namespace: Some("calc"),
                version: None,
                call: Some(rpc_runtime::wire::CallHeader {
                    msg_id,
                    reply_q: "reply_nobody_listens",
                    call_monitor_timeout: None,
                }),
                unique_id,
                context: &Context::new(),
            },
            &json!({"tag": msg_id}),
        )
        .unwrap()
    };
    let to_topic = Destination::Topic {
        exchange: "openstack",
        routing_key: &topic,
    };
    broker
        .publish_raw(to_topic, request("m1", "u1"), Some("application/json"))
        .unwrap();
    assert_eq!(f.recorder.next().await.value, json!("m1"));
    // The queue appears while the server retries every 0.25 s: the reply gets through.
    broker.declare_queue("reply_nobody_listens");
    tokio::time::timeout(Duration::from_secs(3), async {
        while broker.queue_depth("reply_nobody_listens") != Some(1) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the retried reply arrived");
    f.finish().await;
}

/// Collects every body that reaches a reply queue, decoded.
struct Replies(std::sync::Mutex<Vec<rpc_runtime::wire::Reply>>);

impl rpc_runtime::transport::ReplySink for Replies {
    fn deliver(&self, body: &[u8], _content_type: Option<&str>) {
        let reply = rpc_runtime::wire::decode_reply(body).expect("a reply");
        self.0.lock().unwrap().push(reply);
    }
}

/// Call-monitor heartbeats (spec §4.3) run while the method runs and stop with the reply,
/// failures included — unlike oslo, whose watchdog outlives a NoSuchMethod reply (spec
/// §10.2 bug 2). On paused time: the waits below cost nothing.
#[tokio::test(start_paused = true)]
async fn heartbeats_stop_with_the_reply_even_on_errors() {
    use rpc_runtime::transport::{Driver, memory::MemoryDriver};

    let url = memory_url().await;
    let mut f = Fixture::new(&url).await;
    f.serve("s1").await;
    let broker = broker_of(&url);
    let replies = std::sync::Arc::new(Replies(Default::default()));
    MemoryDriver::on(broker.clone())
        .consume_replies("reply_watch", replies.clone())
        .await
        .unwrap();
    let topic = f.topic.clone();
    let timeout = serde_json::Number::from(2);
    let send = |msg_id: &str, method: &str, args: serde_json::Value| {
        let body = rpc_runtime::wire::encode_request(
            &rpc_runtime::wire::RequestHeader {
                method,
                namespace: Some("calc"),
                version: None,
                call: Some(rpc_runtime::wire::CallHeader {
                    msg_id,
                    reply_q: "reply_watch",
                    call_monitor_timeout: Some(&timeout),
                }),
                unique_id: msg_id,
                context: &Context::new(),
            },
            &args,
        )
        .unwrap();
        let to_topic = Destination::Topic {
            exchange: "openstack",
            routing_key: &topic,
        };
        broker
            .publish_raw(to_topic, body, Some("application/json"))
            .unwrap();
    };
    let of = |msg_id: &str| -> Vec<(bool, bool)> {
        replies
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.msg_id.as_deref() == Some(msg_id))
            .map(|r| (r.is_heartbeat(), r.is_ending()))
            .collect()
    };

    // Unknown method: one failure reply, and no heartbeat after it.
    send("nosuch", "nosuch", json!({}));
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(of("nosuch"), [(false, true)]);

    // Methods that run 2.5 s, one failing at the end: heartbeats every int(2)/2 = 1 s,
    // the final reply, then silence.
    send("slow-fail", "sleep_then_fail", json!({"seconds": 2.5}));
    send("slow", "sleep", json!({"seconds": 2.5}));
    tokio::time::sleep(Duration::from_secs(6)).await;
    let beat_beat_end = [(true, false), (true, false), (false, true)];
    assert_eq!(of("slow-fail"), beat_beat_end);
    assert_eq!(of("slow"), beat_beat_end);
    let failure = replies
        .0
        .lock()
        .unwrap()
        .iter()
        .find(|r| r.msg_id.as_deref() == Some("slow-fail") && r.is_ending())
        .map(|r| r.failure.clone());
    assert!(
        matches!(failure, Some(rpc_runtime::wire::FailureField::Json(ref text)) if text.contains("failed after sleeping")),
        "{failure:?}"
    );
    f.finish().await;
}

/// Whatever a call's `_timeout` carries, the call is answered, as oslo 18.3.1 answers it
/// (probed with these values against a Python server): heartbeats only for a positive
/// finite number or an integer string (spec §4.3); nothing that panics (1e300 used to,
/// in `Duration::from_secs_f64`, and 2**64 in `Instant + Duration`). Requests published
/// by hand, one per class of value; on paused time.
#[tokio::test(start_paused = true)]
async fn every_timeout_value_is_answered_and_only_numbers_get_heartbeats() {
    use rpc_runtime::transport::{Driver, memory::MemoryDriver};

    let url = memory_url().await;
    let mut f = Fixture::new(&url).await;
    f.serve("s1").await;
    let broker = broker_of(&url);
    let replies = std::sync::Arc::new(Replies(Default::default()));
    MemoryDriver::on(broker.clone())
        .consume_replies("reply_timeouts", replies.clone())
        .await
        .unwrap();
    let to_topic = Destination::Topic {
        exchange: "openstack",
        routing_key: &f.topic,
    };
    // (`_timeout` as written, heartbeats during a 2.2 s method)
    let cases = [
        ("4", 1),                    // every int(4)/2 = 2 s
        ("2.5", 2),                  // every int(2.5)/2 = 1 s
        ("\"4\"", 1),                // int("4")
        ("1", 4),                    // ours: every 0.5 s (oslo sends none below 2 s, bug 3)
        ("1e300", 0),                // no Duration holds 5e299 s
        ("18446744073709551616", 0), // 2**64: due after the clock's range
        ("-1", 0),
        ("0", 0),
        ("\"x\"", 0),
        ("null", 0),
        ("[1]", 0),
        ("{}", 0),
        ("true", 0),
        ("1e400", 0), // infinity, as Python reads it
        ("NaN", 0),
    ];
    for (i, (timeout, _)) in cases.iter().enumerate() {
        let inner = format!(
            r#"{{"method": "sleep", "args": {{"seconds": 2.2}}, "namespace": "calc", "_msg_id": "m{i}", "_reply_q": "reply_timeouts", "_timeout": {timeout}, "_unique_id": "u{i}"}}"#
        );
        broker
            .publish_raw(
                to_topic,
                rpc_runtime::wire::seal_envelope(inner.as_bytes()),
                Some("application/json"),
            )
            .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    let replies = replies.0.lock().unwrap().clone();
    for (i, (timeout, heartbeats)) in cases.iter().enumerate() {
        let of: Vec<_> = replies
            .iter()
            .filter(|r| r.msg_id.as_deref() == Some(&format!("m{i}")))
            .collect();
        let finals: Vec<_> = of.iter().filter(|r| r.is_ending()).collect();
        assert_eq!(finals.len(), 1, "_timeout {timeout}: one final reply");
        assert_eq!(finals[0].result.as_str(), "2.2", "_timeout {timeout}");
        let beats = of.iter().filter(|r| r.is_heartbeat()).count();
        assert_eq!(beats, *heartbeats, "_timeout {timeout}: heartbeats");
    }
    f.finish().await;
}
