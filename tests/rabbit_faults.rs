//! Faults on a broker (spec §7.4, §7.6): connections closed by the broker during a stream
//! of calls, the broker stopped and started during 32 concurrent calls, a memory alarm.
//! The machine's broker is shared and never disturbed: these tests run on the test
//! cluster's single node of this checkout (`scripts/test-cluster.sh --single`), one at a
//! time, and guards restore the node whatever happens (`start_app`, the memory watermark;
//! on drop, panics included).

mod scenarios;
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use oslo_rpc::prelude::*;
use rpc_runtime::transport::rabbit::{Connections, RabbitDriver};
use serde_json::json;

use support::cluster::{ClusterCleanup, ClusterNode, TestCluster, single};
use support::{Fixture, calc_endpoint, unique, wait_for};

/// One fault test at a time (they share one node and disturb it).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The single node of this checkout's test cluster, started once per process (and its
/// application started again if an earlier run left it stopped), and its URL.
fn node() -> (&'static TestCluster, &'static ClusterNode, String) {
    // A run killed while the app was stopped leaves the node up and its app down (once
    // per process: the tests' guards start the app again).
    static REVIVED: std::sync::Once = std::sync::Once::new();
    REVIVED.call_once(|| support::cluster::start_stopped_apps(true));
    let cluster = single();
    let node = &cluster.nodes[0];
    (cluster, node, node.url())
}

/// `rabbitmqctl list_<what>` on the node.
fn list(what: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let cluster = single();
    cluster.list(&cluster.nodes[0], what, fields)
}

/// The broker's process ids of a driver's connections, for `close_connection`.
fn broker_names(driver: &RabbitDriver) -> Vec<String> {
    let cluster = single();
    cluster
        .connections_named(&cluster.nodes[0], &driver.connection_names())
        .into_iter()
        .map(|(pid, _)| pid)
        .collect()
}

/// Deletes what a driver declared on the node (and shuts it down) when dropped.
fn cleanup(driver: &Arc<RabbitDriver>) -> ClusterCleanup {
    ClusterCleanup {
        cluster: single(),
        driver: driver.clone(),
    }
}

/// A second transport on the same broker, as a separate client process would have.
async fn client_transport(url: &str) -> (Transport, Arc<RabbitDriver>) {
    let driver = support::rabbit::driver(url);
    let transport = Transport::builder(url)
        .driver(driver.clone())
        .build()
        .unwrap();
    (transport, driver)
}

/// What one call did: when it started and ended, and whether it succeeded.
#[derive(Debug, Clone)]
struct Outcome {
    started: Instant,
    ended: Instant,
    ok: bool,
    error: Option<String>,
}

async fn timed_call(client: &RpcClient, a: i64) -> Outcome {
    let started = Instant::now();
    let result = client
        .call(&Context::new(), "add", json!({"a": a, "b": 1}))
        .await;
    let ended = Instant::now();
    let ok = matches!(&result, Ok(v) if *v == json!(a + 1));
    Outcome {
        started,
        ended,
        ok,
        error: result.err().map(|e| e.to_string()),
    }
}

/// A fixture on the node whose declarations are deleted from the node (the fixture's own
/// cleanup would look on the machine's broker): the fixture, its driver and the guard.
async fn fixture(url: &str) -> (Fixture, Arc<RabbitDriver>, ClusterCleanup) {
    let driver = support::rabbit::driver(url);
    let guard = cleanup(&driver);
    let mut f = Fixture::with_rabbit(url, Some(driver.clone())).await;
    f.rabbit = None;
    (f, driver, guard)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_connections_reconnect_and_calls_resume() {
    // spec §7.4: after `rabbitmqctl close_connection` on every connection, client and
    // server reconnect by themselves and calls succeed again (oslo: about 2 s later).
    let _serial = SERIAL.lock().await;
    let (cluster, node, url) = node();
    let (mut f, server_driver, _server_cleanup) = fixture(&url).await;
    f.serve("s1").await;
    let (client_transport, client_driver) = client_transport(&url).await;
    let _cleanup = cleanup(&client_driver);
    let timeout = Duration::from_secs(2);
    let client = RpcClient::new(
        client_transport.clone(),
        Target::topic(&f.topic).with_namespace("calc"),
    )
    .timeout(timeout);
    assert!(timed_call(&client, 0).await.ok);
    let reply_queues = |driver: &RabbitDriver| -> Vec<String> {
        driver
            .declared()
            .into_iter()
            .map(|(_, name)| name)
            .filter(|name| name.starts_with("reply_"))
            .collect()
    };
    let reply_before = reply_queues(&client_driver);

    // Calls go on until 7 s after the close took effect (`closed_at`, sent below), 120 s
    // at most: `rabbitmqctl close_connection` can take 7 s on a busy machine, so the
    // window is counted from when the close completed, not from when it was asked.
    let (closed_tx, closed_rx) = tokio::sync::watch::channel(None::<Instant>);
    let stream = {
        let client = client.clone();
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            let give_up = Instant::now() + Duration::from_secs(120);
            let mut i = 1;
            loop {
                let closed = *closed_rx.borrow();
                let now = Instant::now();
                if now > give_up || closed.is_some_and(|at| now > at + Duration::from_secs(7)) {
                    break;
                }
                outcomes.push(timed_call(&client, i).await);
                i += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            outcomes
        })
    };
    // Let a few calls through first (each takes milliseconds).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let names_before: Vec<String> = server_driver
        .connection_names()
        .into_iter()
        .chain(client_driver.connection_names())
        .collect();
    let mut closed = broker_names(&server_driver);
    closed.extend(broker_names(&client_driver));
    assert_eq!(
        closed.len(),
        2,
        "server and client: one connection each (the default layout)"
    );
    // All at once, as a broker-side failure would do it.
    let asked = Instant::now();
    let mut closers: Vec<_> = closed
        .iter()
        .map(|pid| cluster.spawn_ctl(node, &["close_connection", pid, "oslo-rpc fault test"]))
        .collect();
    // The close is complete when every closer exited and neither driver holds any of the
    // closed connections any more (polled every 20 ms, 120 s at most). `closed_at` is the
    // moment the last connection was seen gone.
    let mut closed_at = None;
    while closed_at.is_none() || !closers.is_empty() {
        assert!(
            asked.elapsed() < Duration::from_secs(120),
            "the connections were not closed within 120 s"
        );
        let mut still_running = Vec::new();
        for mut closer in closers {
            match closer.try_wait().expect("rabbitmqctl close_connection") {
                Some(status) => assert!(status.success(), "close_connection: {status}"),
                None => still_running.push(closer),
            }
        }
        closers = still_running;
        if closed_at.is_none() {
            let live: Vec<String> = server_driver
                .connection_names()
                .into_iter()
                .chain(client_driver.connection_names())
                .collect();
            if !live.iter().any(|name| names_before.contains(name)) {
                closed_at = Some(Instant::now());
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let closed_at = closed_at.expect("set above");
    let done = Instant::now();
    eprintln!(
        "close_connection: the connections were gone {:?} after asking, the commands \
         finished after {:?}",
        closed_at - asked,
        done - asked
    );
    // The window runs 7 s from the later of the two.
    closed_tx.send_replace(Some(done));
    let outcomes = stream.await.unwrap();

    for outcome in &outcomes {
        let took = outcome.ended - outcome.started;
        assert!(took <= timeout + Duration::from_secs(1), "{outcome:?}");
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok).collect();
    let first_ok_after = outcomes
        .iter()
        .filter(|o| o.ok && o.started > closed_at)
        .map(|o| o.ended - closed_at)
        .min()
        .expect("calls succeed again after the connections were closed");
    eprintln!(
        "{} calls, {} failed ({:?}), first success {:?} after the close",
        outcomes.len(),
        failed.len(),
        failed.iter().map(|o| o.error.clone()).collect::<Vec<_>>(),
        first_ok_after
    );
    assert!(
        first_ok_after < Duration::from_secs(4),
        "{first_ok_after:?}"
    );
    // The tail of the stream is all successes: everything reconnected and re-consumed.
    assert!(outcomes.iter().rev().take(10).all(|o| o.ok));
    // New connections, the same reply queue, consumed again.
    let reopened = broker_names(&client_driver);
    assert!(reopened.iter().all(|name| !closed.contains(name)));
    assert_eq!(reply_queues(&client_driver), reply_before);
    let consumers = list("list_consumers", &["queue_name", "consumer_tag"]);
    assert!(
        consumers
            .iter()
            .any(|row| row[0] == reply_before[0] && row[1] == "1")
    );
    client_transport.shutdown().await;
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_stop_and_start_during_32_concurrent_calls() {
    // spec §7.6 "Broker restart with non-durable queues": queues vanish, everything is
    // declared again. No call outlives its timeout by more than 1 s, every caller succeeds
    // within 3 s of the broker's return, and the server consumes again by itself.
    let _serial = SERIAL.lock().await;
    let (cluster, node, url) = node();
    let topic = unique("t");
    let server_transport = {
        let driver = support::rabbit::driver(&url);
        let transport = Transport::builder(&url)
            .driver(driver.clone())
            .build()
            .unwrap();
        (transport, driver)
    };
    let recorder = support::Recorder::default();
    let gauge = Arc::new(support::Gauge::default());
    let server = RpcServer::builder(server_transport.0.clone(), Target::server(&topic, "s1"))
        .endpoint(calc_endpoint("s1", &recorder, &gauge))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let (client_transport, client_driver) = client_transport(&url).await;
    let _cleanup = (cleanup(&client_driver), cleanup(&server_transport.1));
    let timeout = Duration::from_secs(1);
    let client = RpcClient::new(
        client_transport.clone(),
        Target::topic(&topic).with_namespace("calc"),
    )
    .timeout(timeout);
    assert!(timed_call(&client, 0).await.ok);

    let (back_tx, back_rx) = tokio::sync::watch::channel(None::<Instant>);
    let tasks: Vec<_> = (0..32)
        .map(|task| {
            let client = client.clone();
            let back = back_rx.clone();
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                // stop_app and start_app take seconds each on a busy machine.
                let give_up = Instant::now() + Duration::from_secs(120);
                loop {
                    let outcome = timed_call(&client, task).await;
                    let ok = outcome.ok;
                    let started = outcome.started;
                    outcomes.push(outcome);
                    let returned = *back.borrow();
                    if ok && returned.is_some_and(|at| started >= at) {
                        break;
                    }
                    if Instant::now() > give_up {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                outcomes
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(1)).await;
    let stopped_at = Instant::now();
    let mut guard = cluster.stop_app(node);
    eprintln!("stop_app took {:?}", stopped_at.elapsed());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let took = guard.start();
    let back = Instant::now();
    eprintln!("start_app and await_startup took {took:?}");
    back_tx.send_replace(Some(back));

    let mut all = Vec::new();
    for task in tasks {
        all.push(task.await.unwrap());
    }
    let mut worst_recovery = Duration::ZERO;
    for (task, outcomes) in all.iter().enumerate() {
        for outcome in outcomes {
            let took = outcome.ended - outcome.started;
            assert!(
                took <= timeout + Duration::from_secs(1),
                "task {task}: a call took {took:?}: {outcome:?}"
            );
        }
        let recovered = outcomes
            .iter()
            .find(|o| o.ok && o.started >= back)
            .map(|o| o.ended - back)
            .unwrap_or_else(|| panic!("task {task} never succeeded after the broker returned"));
        worst_recovery = worst_recovery.max(recovered);
    }
    let calls: usize = all.iter().map(Vec::len).sum();
    let failed: usize = all.iter().flatten().filter(|o| !o.ok).count();
    eprintln!(
        "{calls} calls, {failed} failed during the outage; every caller succeeded within \
         {worst_recovery:?} of start_app returning"
    );
    assert!(
        worst_recovery <= Duration::from_secs(3),
        "{worst_recovery:?}"
    );
    // The server consumes its three queues again (the broker lost them with its state).
    let consumers = list("list_consumers", &["queue_name", "consumer_tag"]);
    for (queue, tag) in [(topic.clone(), "1"), (format!("{topic}.s1"), "2")] {
        assert!(
            consumers.iter().any(|row| row[0] == queue && row[1] == tag),
            "{queue} is not consumed: {consumers:?}"
        );
    }
    server.stop().await.unwrap();
    client_transport.shutdown().await;
    server_transport.0.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_call_fails_when_the_publish_connection_drops() {
    // A call does not wait for its request's publisher confirm (the reply proves
    // delivery). When the client's publish connection drops under 16 callers, none fails:
    // requests the broker has get their replies (the consume connection lives on), calls
    // publishing wait for the new connection, and a request whose confirm is lost with the
    // connection is published again (spec §7.3; that window is short, so the client's
    // unit tests pin it: `a_request_lost_before_its_confirm_is_published_again`).
    publish_connection_drop(Connections::Separate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_call_fails_when_the_only_connection_drops() {
    // The default layout: the connection that drops carries the reply consumer too. The
    // reply queue keeps its name and is declared again on the new connection, and the
    // replies the broker routed meanwhile wait in it (it is not exclusive, and a reply
    // that meets it briefly gone is returned and sent again, spec §4.5).
    publish_connection_drop(Connections::Adaptive).await;
}

async fn publish_connection_drop(layout: Connections) {
    let _serial = SERIAL.lock().await;
    let (cluster, node, url) = node();
    let (mut f, _server_driver, _server_cleanup) = fixture(&url).await;
    f.serve("s1").await;
    let client_driver = Arc::new(
        RabbitDriver::with_connections(&oslo_rpc::TransportUrl::parse(&url).unwrap(), layout)
            .unwrap(),
    );
    let client_transport = Transport::builder(&url)
        .driver(client_driver.clone())
        .build()
        .unwrap();
    let _cleanup = cleanup(&client_driver);
    let client = RpcClient::new(
        client_transport.clone(),
        Target::topic(&f.topic).with_namespace("calc"),
    )
    .timeout(Duration::from_secs(10));
    assert!(timed_call(&client, 0).await.ok);
    // connection_names(): the publish connection first.
    let publish = client_driver.connection_names()[0].clone();
    let (pid, _) = cluster
        .connections_named(node, std::slice::from_ref(&publish))
        .pop()
        .expect("the client's publish connection");

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tasks: Vec<_> = (0..16)
        .map(|task| {
            let (client, stop) = (client.clone(), stop.clone());
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    outcomes.push(timed_call(&client, task).await);
                }
                outcomes
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let closing = Instant::now();
    cluster.ctl(node, &["close_connection", &pid, "oslo-rpc fault test"]);
    // Reconnecting takes kombu_reconnect_delay (1 s); calls go on for a while after.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.extend(task.await.unwrap());
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok).collect();
    let after = outcomes.iter().filter(|o| o.started > closing).count();
    eprintln!(
        "{} calls, {after} started after the close began, failed: {failed:?}",
        outcomes.len()
    );
    assert!(
        failed.is_empty(),
        "calls failed across the drop: {failed:?}"
    );
    assert!(after > 0, "no call ran after the close");
    assert_ne!(
        client_driver.connection_names()[0],
        publish,
        "a new publish connection"
    );
    client_transport.shutdown().await;
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_alarm_stalls_publishes_but_never_past_the_callers_timeout() {
    // spec §7.6 "Connection blocked by broker": publishes stall. Ours end at the caller's
    // timeout, whether stuck awaiting a confirm or waiting for a pooled channel (spec
    // §10.2 bug 7 is not copied), and work again once the alarm clears.
    let _serial = SERIAL.lock().await;
    let (cluster, node, url) = node();
    let (mut f, _driver, _cleanup) = fixture(&format!("{url}?rpc_conn_pool_size=1")).await;
    f.serve("s1").await;
    let timeout = Duration::from_secs(1);
    let fanout = f.calc().fanout(true).timeout(timeout);
    fanout
        .cast(&Context::new(), "record", json!({"tag": "before"}))
        .await
        .unwrap();
    assert_eq!(f.recorder.next().await.value, json!("before"));
    let alarm = cluster.memory_alarm(node);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let casts = (0..2).map(|i| {
        let fanout = fanout.clone();
        async move {
            let started = Instant::now();
            let outcome = fanout
                .cast(&Context::new(), "record", json!({"tag": i}))
                .await;
            (started.elapsed(), outcome)
        }
    });
    let call = {
        let client = f.calc().timeout(timeout);
        tokio::spawn(async move {
            let started = Instant::now();
            let outcome = client
                .call(&Context::new(), "add", json!({"a": 1, "b": 1}))
                .await;
            (started.elapsed(), outcome)
        })
    };
    for (took, outcome) in scenarios::futures_join_all(casts).await {
        assert!(
            matches!(outcome, Err(RpcError::Timeout { .. })),
            "{outcome:?}"
        );
        assert!(took < timeout + Duration::from_millis(500), "{took:?}");
    }
    let (took, outcome) = call.await.unwrap();
    assert!(
        matches!(outcome, Err(RpcError::Timeout { .. })),
        "{outcome:?}"
    );
    assert!(took < timeout + Duration::from_millis(500), "{took:?}");
    eprintln!("blocked publishes ended after {:?}", started.elapsed());
    drop(alarm);
    let recovered = Instant::now();
    let client = f.calc().timeout(Duration::from_secs(10));
    let sum = client
        .call(&Context::new(), "add", json!({"a": 2, "b": 2}))
        .await
        .unwrap();
    assert_eq!(sum, json!(4));
    eprintln!(
        "calls work again {:?} after the alarm cleared",
        recovered.elapsed()
    );
    f.finish().await;
}

/// A queue's `(messages_ready, messages_unacknowledged, consumers)` on the node.
type QueueState = (String, String, String);

/// A queue's state on the node, if it exists.
fn queue_state(queue: &str) -> Option<QueueState> {
    list(
        "list_queues",
        &[
            "name",
            "messages_ready",
            "messages_unacknowledged",
            "consumers",
        ],
    )
    .into_iter()
    .find(|row| row[0] == queue)
    .map(|row| (row[1].clone(), row[2].clone(), row[3].clone()))
}

/// Waits (`limit` at most) until `queue`'s state on the node `holds`; panics with `what`
/// and the state it has otherwise.
async fn queue_becomes(
    queue: &str,
    limit: Duration,
    what: &str,
    holds: impl Fn(&QueueState) -> bool,
) {
    let reached = wait_for(limit, || {
        queue_state(queue).is_some_and(|state| holds(&state))
    });
    assert!(
        reached.await.is_some(),
        "{what}: {queue} is {:?}",
        queue_state(queue)
    );
}

/// Waits (10 s at most) for the driver's relief connection beside its blocked one.
async fn relief_connection_opens(driver: &RabbitDriver) {
    connections_become(driver, 2, "no relief connection").await;
}

/// Waits (10 s at most) for the driver's relief connection to close once it is no longer
/// needed, leaving the one connection.
async fn relief_connection_closes(driver: &RabbitDriver) {
    connections_become(driver, 1, "the relief connection stays").await;
}

/// Waits (10 s at most) until the driver has `count` connections; panics with `failure`.
async fn connections_become(driver: &RabbitDriver, count: usize, failure: &str) {
    let reached = wait_for(Duration::from_secs(10), || {
        driver.connection_names().len() == count
    });
    assert!(
        reached.await.is_some(),
        "{failure}: {:?}",
        driver.connection_names()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_connection_does_not_stop_its_servers_draining_their_queues() {
    // spec §9.3: oslo consumes on connections that never publish, so a resource alarm,
    // which blocks every connection that publishes (the broker stops reading it,
    // acknowledgements included), never stops a server draining its queues. The default
    // layout publishes and consumes on one connection; while the broker blocks it, the
    // server consumes on a relief connection too, and stops once it is unblocked.
    let _serial = SERIAL.lock().await;
    let (cluster, node, url) = node();
    let (mut f, driver, _cleanup) = fixture(&format!("{url}?rabbit_qos_prefetch_count=2")).await;
    f.serve_with("s1", |server| server.max_concurrency(1)).await;
    // A backlog the server works through one request at a time, 200 ms each.
    let backlog = 30;
    let client = f.calc();
    for _ in 0..backlog {
        client
            .cast(&Context::new(), "sleep", json!({"seconds": 0.2}))
            .await
            .unwrap();
    }
    f.recorder.next().await;
    let alarm = cluster.memory_alarm(node);
    // A publish during the alarm gets the transport's one connection blocked (whether the
    // broker took this cast before it stopped reading does not matter here).
    let _ = f
        .calc()
        .timeout(Duration::from_secs(1))
        .cast(&Context::new(), "record", json!({"tag": "blocked"}))
        .await;
    relief_connection_opens(&driver).await;
    let blocked = Instant::now();
    // The rest of the backlog is consumed and acknowledged while the alarm lasts; without
    // the relief the server would stop at its prefetch (2) until the alarm clears.
    let mut started = 1;
    while started < backlog {
        let event = f.recorder.next().await;
        if event.what == "sleep" {
            started += 1;
        }
    }
    queue_becomes(
        &f.topic,
        Duration::from_secs(10),
        "drained while blocked",
        |(ready, _, consumers)| ready == "0" && consumers == "2",
    )
    .await;
    eprintln!(
        "drained the backlog in {:?} while blocked",
        blocked.elapsed()
    );
    // A server started now consumes on the relief connection until the blocked one is
    // free: its start does not wait for the alarm to clear.
    tokio::time::timeout(Duration::from_secs(10), f.serve("s2"))
        .await
        .expect("a server starts while its transport's connection is blocked");
    queue_becomes(
        &f.topic,
        Duration::from_secs(10),
        "s2 consumes too",
        |(_, _, consumers)| consumers == "3",
    )
    .await;
    drop(alarm);
    // Unblocked, the relief's consumers are cancelled and s2 consumes on the transport's
    // connection; calls work again.
    queue_becomes(
        &f.topic,
        Duration::from_secs(20),
        "relief cancelled",
        |(_, _, consumers)| consumers == "2",
    )
    .await;
    let sum = f
        .calc()
        .call(&Context::new(), "add", json!({"a": 2, "b": 2}))
        .await
        .unwrap();
    assert_eq!(sum, json!(4));
    // Nothing needs the relief any more: its connection closes.
    relief_connection_closes(&driver).await;
    f.finish().await;
}

/// The next event type a [`SlowNotifications`] reported, or a panic after 10 s.
async fn next_seen(seen: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(10), seen.recv())
        .await
        .expect("a notification within 10 s")
        .expect("the endpoint is alive")
}

/// Handles each `info` notification in 100 ms, then reports its event type.
struct SlowNotifications(tokio::sync::mpsc::UnboundedSender<String>);

#[notification_endpoint]
impl SlowNotifications {
    async fn info(&self, notification: Notification) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = self.0.send(notification.event_type);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_connection_does_not_stop_its_notification_listeners_draining() {
    // As for servers, but a notification listener acknowledges after handling: the relief's
    // channel stays open for the deliveries in flight when it is retired.
    let _serial = SERIAL.lock().await;
    let (cluster, node, url) = node();
    let (f, driver, _cleanup) = fixture(&format!("{url}?rabbit_qos_prefetch_count=2")).await;
    let queue = format!("{}.info", f.topic);
    let notifier = Notifier::new(f.transport.clone(), "compute.host1").topics([f.topic.as_str()]);
    let backlog = 30;
    for i in 0..backlog {
        notifier
            .info(&Context::new(), &format!("e{i:02}"), &json!({}))
            .await
            .unwrap();
    }
    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let mut listener = NotificationListener::builder(f.transport.clone())
        .target(Target::topic(&f.topic))
        .endpoint(SlowNotifications(seen_tx))
        .max_concurrency(1)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    listener.consuming().await.unwrap();
    next_seen(&mut seen).await;
    let alarm = cluster.memory_alarm(node);
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        notifier.info(&Context::new(), "blocked", &json!({})),
    )
    .await;
    relief_connection_opens(&driver).await;
    for _ in 1..backlog {
        next_seen(&mut seen).await;
    }
    // Only the blocked connection's acknowledgements (at most its prefetch) wait.
    queue_becomes(
        &queue,
        Duration::from_secs(10),
        "handled and acknowledged while blocked",
        |(ready, unacked, consumers)| {
            ready == "0" && unacked.parse::<u32>().is_ok_and(|n| n <= 2) && consumers == "2"
        },
    )
    .await;
    drop(alarm);
    queue_becomes(
        &queue,
        Duration::from_secs(20),
        "relief cancelled, all acknowledged",
        |(_, unacked, consumers)| unacked == "0" && consumers == "1",
    )
    .await;
    relief_connection_closes(&driver).await;
    tokio::time::timeout(Duration::from_secs(20), listener.stop())
        .await
        .expect("stopped in time")
        .unwrap();
    f.finish().await;
}
