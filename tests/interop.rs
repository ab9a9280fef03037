//! Interop with real Python oslo.messaging 18.3.1 over the machine's RabbitMQ, in both
//! directions: Rust clients against the Python calc server (`tests/interop/peers/server.py`)
//! and the Python client (`peers/client.py`) against Rust calc servers. The venv is made
//! (or reused) by `tests/interop/setup.sh`. Every test uses its own topic and cleans up.

#[path = "../examples/calc/mod.rs"]
mod calc;
mod python;
mod support;

use std::time::{Duration, Instant};

use calc::{
    CalcClient, CalcEndpoint, CalcError, CalcService, PingClient, PingEndpoint, PingService,
};
use oslo_rpc::ServerHandle;
use oslo_rpc::prelude::*;
use python::{PyServer, RustServerProcess, py_client, py_client_lines};
use serde_json::{Value, json};
use tokio::sync::mpsc;

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A test's transport; on drop it deletes everything its driver declared and every queue
/// named after its topic (Python servers' queues too, even those of a killed server).
type Bus = support::rabbit::TopicBus;

async fn transport(topic: &str) -> Bus {
    support::rabbit::topic_bus(topic, vec![format!("{topic}_fanout")]).await
}

fn calc_client(transport: &Transport, topic: &str) -> CalcClient {
    CalcClient::new(RpcClient::new(transport.clone(), Target::topic(topic)))
        .timeout(Duration::from_secs(30))
}

/// A Rust calc + ping server in this process, with its request events.
struct RustServer {
    handle: ServerHandle,
    events: mpsc::UnboundedReceiver<String>,
}

impl RustServer {
    async fn start(transport: &Transport, topic: &str, name: &str) -> RustServer {
        let (tx, events) = mpsc::unbounded_channel();
        let handle = RpcServer::builder(transport.clone(), Target::server(topic, name))
            .endpoint(CalcEndpoint::new(CalcService::with_events(tx)))
            .endpoint(PingEndpoint::new(PingService))
            .build()
            .expect("server")
            .start()
            .await
            .expect("start");
        RustServer { handle, events }
    }

    async fn next_event(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(20), self.events.recv())
            .await
            .expect("no request reached the Rust server")
            .expect("server events closed")
    }

    async fn quiet_for(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.events.recv())
            .await
            .is_err()
    }

    async fn stop(self) {
        self.handle.stop().await.expect("stop");
    }
}

/// `client.py` arguments for the calc namespace on `topic`.
fn py_calc<'a>(topic: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--topic", topic, "--namespace", "calc", "--timeout", "30"];
    args.extend_from_slice(rest);
    args
}

// ---------------------------------------------------------------- Rust client -> Python server

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_calls_python_with_payloads_context_and_casts() {
    let topic = unique("interop");
    let mut server = PyServer::start(&topic, "py1", None).await;
    let transport = transport(&topic).await;
    let calc = calc_client(&transport, &topic);
    let ctx = Context::new()
        .with_request_id("req-6e0c3f1e-0c61-4a8c-9d5e-1a2b3c4d5e6f")
        .with_user_id("capture-user")
        .with_project_id("capture-project")
        .with("roles", json!(["admin"]));

    assert_eq!(calc.add(&ctx, 2, 3).await.unwrap(), 5);
    let text = "héllo ✓ 😀 日本 \u{2028} \"q\" \\";
    assert_eq!(calc.echo(&ctx, json!(text)).await.unwrap(), json!(text));
    let big: String = "abcdefghijklmnopqrstuvwxyz0123456789"
        .chars()
        .cycle()
        .take(1 << 20)
        .collect();
    assert_eq!(calc.echo(&ctx, json!(big)).await.unwrap(), json!(big));
    let floats = vec![0.1, -0.0, 1e300, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
    let back = calc.echo_floats(&ctx, floats.clone()).await.unwrap();
    assert_eq!(back.len(), floats.len());
    for (sent, got) in floats.iter().zip(&back) {
        assert!(
            sent.to_bits() == got.to_bits() || (sent.is_nan() && got.is_nan()),
            "{sent} -> {got}"
        );
    }
    // The Python endpoint returns the context it received; oslo adds client_timeout.
    let seen = calc.context(&ctx).await.unwrap();
    for (key, value) in ctx.iter() {
        assert_eq!(seen.get(key), Some(value), "context key {key}");
    }
    // A cast: the Python server reports it on its stdout.
    let raw = RpcClient::new(
        transport.clone(),
        Target::topic(&topic).with_namespace("calc"),
    );
    raw.cast(&ctx, "record", json!({"tag": "from-rust"}))
        .await
        .unwrap();
    let event = server.next_event(Duration::from_secs(20)).await;
    assert_eq!(event["tag"], "from-rust");

    assert_eq!(server.stop().await, Some(0));
    transport.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_casts_to_one_python_server_and_fanout_to_all() {
    let topic = unique("interop");
    let mut py1 = PyServer::start(&topic, "py1", None).await;
    let mut py2 = PyServer::start(&topic, "py2", None).await;
    let transport = transport(&topic).await;
    let raw = RpcClient::new(
        transport.clone(),
        Target::topic(&topic).with_namespace("calc"),
    );
    let ctx = Context::new();

    raw.prepare()
        .server("py2")
        .cast(&ctx, "record", json!({"tag": "direct"}))
        .await
        .unwrap();
    assert_eq!(
        py2.next_event(Duration::from_secs(20)).await["tag"],
        "direct"
    );
    assert!(
        py1.quiet_for(Duration::from_millis(500)).await,
        "py1 got a cast for py2"
    );

    raw.prepare()
        .fanout(true)
        .cast(&ctx, "record", json!({"tag": "everyone"}))
        .await
        .unwrap();
    assert_eq!(
        py1.next_event(Duration::from_secs(20)).await["tag"],
        "everyone"
    );
    assert_eq!(
        py2.next_event(Duration::from_secs(20)).await["tag"],
        "everyone"
    );

    assert_eq!(py1.stop().await, Some(0));
    assert_eq!(py2.stop().await, Some(0));
    transport.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_gets_python_dispatcher_errors_and_refuses_above_its_cap() {
    let topic = unique("interop");
    let mut server = PyServer::start(&topic, "py1", None).await;
    let transport = transport(&topic).await;
    let ctx = Context::new();

    let ping = PingClient::new(RpcClient::new(transport.clone(), Target::topic(&topic)));
    assert_eq!(ping.ping(&ctx).await.unwrap(), "pong");

    let raw = RpcClient::new(
        transport.clone(),
        Target::topic(&topic).with_namespace("calc"),
    );
    let error = raw
        .prepare()
        .version(RpcVersion::new(1, 4))
        .call(&ctx, "add", json!({"a": 1, "b": 1}))
        .await;
    assert!(
        matches!(&error, Err(RpcError::UnsupportedVersion { version, method }) if version == "1.4" && method == "add"),
        "{error:?}"
    );
    let error = raw.call(&ctx, "nosuch", json!({})).await;
    assert!(
        matches!(&error, Err(RpcError::NoSuchMethod { method }) if method == "nosuch"),
        "{error:?}"
    );

    // Refused before sending: the Python server records nothing.
    let capped = raw
        .prepare()
        .version(RpcVersion::new(1, 4))
        .version_cap(RpcVersion::new(1, 3));
    let error = capped.cast(&ctx, "record", json!({"tag": "capped"})).await;
    assert!(
        matches!(error, Err(RpcError::VersionCap { .. })),
        "{error:?}"
    );
    assert!(server.quiet_for(Duration::from_millis(500)).await);

    assert_eq!(server.stop().await, Some(0));
    transport.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sees_python_exceptions_intact() {
    let topic = unique("interop");
    let server = PyServer::start(&topic, "py1", None).await;
    let transport = transport(&topic).await;
    let calc = calc_client(&transport, &topic);
    let ctx = Context::new();

    for (kind, class, module, message) in [
        ("value", "ValueError", "builtins", "bad value"),
        ("key", "KeyError", "builtins", "'k'"),
        ("custom", "CalcError", "calc_errors", "custom err"),
        ("other", "OtherError", "__main__", "other err"),
    ] {
        let error = calc.fail(&ctx, kind.to_owned()).await.unwrap_err();
        let remote = error
            .remote()
            .unwrap_or_else(|| panic!("{kind}: {error:?}"));
        assert_eq!(
            (remote.class.as_str(), remote.module.as_str()),
            (class, module),
            "{kind}"
        );
        assert_eq!(remote.message, message, "{kind}");
        assert!(
            remote
                .traceback
                .first()
                .is_some_and(|l| l.starts_with("Traceback")),
            "{kind}"
        );
        if kind == "custom" {
            assert_eq!(remote.kwargs.get("code"), Some(&json!(7)));
            assert_eq!(
                error.rebuild::<CalcError>(),
                Some(CalcError::Custom {
                    message: "custom err".into(),
                    code: 7
                })
            );
        }
    }
    assert_eq!(server.stop().await, Some(0));
    transport.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_call_lives_on_python_heartbeats_and_fails_when_python_dies() {
    let topic = unique("interop");
    let server = PyServer::start(&topic, "py1", None).await;
    let transport = transport(&topic).await;
    let ctx = Context::new();
    let monitored = calc_client(&transport, &topic)
        .timeout(Duration::from_secs(20))
        .call_monitor_timeout(Duration::from_secs(2));
    let started = Instant::now();
    assert_eq!(monitored.sleep(&ctx, 3.0).await.unwrap(), 3.0);
    assert!(started.elapsed() >= Duration::from_secs(3));

    // Python heartbeats every int(2)/2 = 1 s; once the server dies they stop, and the call
    // fails at the call-monitor timeout, long before its overall timeout.
    let call = {
        let monitored = monitored.clone();
        tokio::spawn(async move { monitored.sleep(&Context::new(), 15.0).await })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let killed = Instant::now();
    server.kill().await;
    let error = call.await.unwrap().unwrap_err();
    let after_kill = killed.elapsed();
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
    assert!(after_kill <= Duration::from_secs(4), "{after_kill:?}");
    transport.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_times_out_on_a_slow_python_call() {
    let topic = unique("interop");
    let server = PyServer::start(&topic, "py1", None).await;
    let transport = transport(&topic).await;
    let started = Instant::now();
    let error = calc_client(&transport, &topic)
        .timeout(Duration::from_secs(1))
        .sleep(&Context::new(), 3.0)
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(
            error,
            RpcError::Timeout {
                call_monitor: false,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    assert_eq!(server.stop().await, Some(0));
    transport.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_makes_thirty_two_concurrent_calls_to_python() {
    let topic = unique("interop");
    let server = PyServer::start(&topic, "py1", None).await;
    let transport = transport(&topic).await;
    let calc = calc_client(&transport, &topic);
    let calls: Vec<_> = (0..32)
        .map(|i| {
            let calc = calc.clone();
            tokio::spawn(async move { calc.add(&Context::new(), i, 1000).await })
        })
        .collect();
    for (i, call) in calls.into_iter().enumerate() {
        assert_eq!(call.await.unwrap().unwrap(), i as i64 + 1000);
    }
    assert_eq!(server.stop().await, Some(0));
    transport.shutdown().await;
}

// ---------------------------------------------------------------- Python client -> Rust server

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_calls_rust_with_payloads_context_and_casts() {
    let topic = unique("interop");
    let transport = transport(&topic).await;
    let mut server = RustServer::start(&transport, &topic, "rs1").await;

    assert_eq!(
        py_client(
            &py_calc(&topic, &["call", "add", r#"{"a": 2, "b": 3}"#]),
            None
        )
        .await
        .result(),
        &json!(5)
    );
    let unicode = r#"{"payload": "h\u00e9llo \u2713 \ud83d\ude00 \u65e5\u672c \u2028"}"#;
    let echoed = py_client(&py_calc(&topic, &["call", "echo", unicode]), None).await;
    assert_eq!(echoed.result(), &json!("héllo ✓ 😀 日本 \u{2028}"));
    let big: String = "0123456789".repeat(1 << 17);
    let payload = json!({"payload": big}).to_string();
    let echoed = py_client(&py_calc(&topic, &["call", "echo", "-"]), Some(&payload)).await;
    assert_eq!(echoed.result().as_str().map(str::len), Some(big.len()));
    assert_eq!(echoed.result(), &json!(big));
    let floats = py_client(
        &py_calc(
            &topic,
            &[
                "call",
                "echo_floats",
                r#"{"values": [0.1, NaN, Infinity, -Infinity]}"#,
            ],
        ),
        None,
    )
    .await;
    assert!(
        floats.raw.contains("[0.1, NaN, Infinity, -Infinity]"),
        "{}",
        floats.raw
    );
    let context =
        r#"{"request_id": "req-1", "user_id": "alice", "project_id": "p1", "roles": ["admin"]}"#;
    let seen = py_client(
        &py_calc(&topic, &["--context", context, "call", "context"]),
        None,
    )
    .await;
    // Exactly the keys sent, in order: no client_timeout added (spec §10.2 bug 10).
    assert_eq!(
        seen.result().to_string(),
        serde_json::from_str::<Value>(context).unwrap().to_string()
    );

    py_client(
        &py_calc(&topic, &["cast", "resize", r#"{"size": 7}"#]),
        None,
    )
    .await
    .result();
    // The calls above reported first; the cast comes last.
    let mut events = Vec::new();
    while events.last().map(String::as_str) != Some("resize(size=7, force=None)") {
        events.push(server.next_event().await);
    }
    assert_eq!(events.len(), 6, "{events:?}");
    server.stop().await;
    transport.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_casts_to_one_rust_server_and_fanout_to_all() {
    let topic = unique("interop");
    let transport = transport(&topic).await;
    let mut rs1 = RustServer::start(&transport, &topic, "rs1").await;
    let mut rs2 = RustServer::start(&transport, &topic, "rs2").await;

    py_client(
        &py_calc(
            &topic,
            &["--server", "rs2", "cast", "resize", r#"{"size": 1}"#],
        ),
        None,
    )
    .await
    .result();
    assert_eq!(rs2.next_event().await, "resize(size=1, force=None)");
    assert!(
        rs1.quiet_for(Duration::from_millis(500)).await,
        "rs1 got a cast for rs2"
    );

    py_client(
        &py_calc(&topic, &["--fanout", "cast", "resize", r#"{"size": 2}"#]),
        None,
    )
    .await
    .result();
    assert_eq!(rs1.next_event().await, "resize(size=2, force=None)");
    assert_eq!(rs2.next_event().await, "resize(size=2, force=None)");

    rs1.stop().await;
    rs2.stop().await;
    transport.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_gets_rust_dispatcher_errors_and_refuses_above_its_cap() {
    let topic = unique("interop");
    let transport = transport(&topic).await;
    let mut server = RustServer::start(&transport, &topic, "rs1").await;

    let ping = py_client(
        &[
            "--topic",
            &topic,
            "--null-namespace",
            "--version",
            "2.0",
            "call",
            "ping",
        ],
        None,
    )
    .await;
    assert_eq!(ping.result(), &json!("pong"));

    let unsupported = py_client(
        &py_calc(
            &topic,
            &["--version", "1.4", "call", "add", r#"{"a": 1, "b": 1}"#],
        ),
        None,
    )
    .await;
    assert_eq!(
        unsupported.exception(),
        "oslo_messaging.rpc.client.RemoteError"
    );
    assert!(
        unsupported.message().starts_with(
            "Remote error: UnsupportedVersion Endpoint does not support RPC version 1.4. Attempted method: add"
        ),
        "{}",
        unsupported.raw
    );
    let allowed = ["--allowed-exmods", "oslo_messaging.rpc.dispatcher"];
    let mut args = py_calc(&topic, &allowed);
    args.extend(["call", "nosuch"]);
    let no_such = py_client(&args, None).await;
    assert_eq!(
        no_such.exception(),
        "oslo_messaging.rpc.dispatcher_Remote.NoSuchMethod_Remote"
    );
    assert!(
        no_such
            .message()
            .starts_with("Endpoint does not support RPC method nosuch"),
        "{}",
        no_such.raw
    );

    let capped = py_client(
        &py_calc(
            &topic,
            &[
                "--version",
                "1.4",
                "--version-cap",
                "1.3",
                "cast",
                "resize",
                r#"{"size": 3}"#,
            ],
        ),
        None,
    )
    .await;
    assert_eq!(
        capped.exception(),
        "oslo_messaging.rpc.client.RPCVersionCapError"
    );
    assert!(
        server.quiet_for(Duration::from_millis(500)).await,
        "a capped cast was sent"
    );

    server.stop().await;
    transport.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sees_rust_exceptions_intact() {
    let topic = unique("interop");
    let transport = transport(&topic).await;
    let server = RustServer::start(&transport, &topic, "rs1").await;
    let allowed = ["--allowed-exmods", "calc_errors"];
    let fail = |kind: &'static str| {
        let mut args = py_calc(&topic, &allowed);
        let call = format!(r#"{{"kind": "{kind}"}}"#);
        args.extend(["call", "fail"]);
        (args, call)
    };

    let (args, kind) = fail("value");
    let value = py_client(&[args, vec![&kind]].concat(), None).await;
    assert_eq!(value.exception(), "builtins.ValueError");
    assert!(value.message().starts_with("bad value\n"), "{}", value.raw);

    let (args, kind) = fail("custom");
    let custom = py_client(&[args, vec![&kind]].concat(), None).await;
    assert_eq!(custom.exception(), "calc_errors_Remote.CalcError_Remote");
    // Python's rebuilt exceptions print the message, then the remote traceback (spec §5.2).
    assert!(
        custom.message().starts_with("custom err\nTraceback"),
        "{}",
        custom.raw
    );
    assert_eq!(custom.line["kwargs"], json!({"code": 7}));
    assert_eq!(custom.line["args"], json!(["custom err"]));

    let (args, kind) = fail("other");
    let other = py_client(&[args, vec![&kind]].concat(), None).await;
    assert_eq!(other.exception(), "oslo_messaging.rpc.client.RemoteError");
    assert!(
        other
            .message()
            .starts_with("Remote error: OtherError other err: other"),
        "{}",
        other.raw
    );

    server.stop().await;
    transport.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_call_lives_on_rust_heartbeats() {
    let topic = unique("interop");
    let transport = transport(&topic).await;
    let server = RustServer::start(&transport, &topic, "rs1").await;
    let slow = py_client(
        &py_calc(
            &topic,
            &[
                "--timeout",
                "20",
                "--call-monitor-timeout",
                "2",
                "call",
                "sleep",
                r#"{"seconds": 3}"#,
            ],
        ),
        None,
    )
    .await;
    assert_eq!(slow.result(), &json!(3.0));
    assert!(slow.elapsed() >= 3.0);

    let timed_out = py_client(
        &py_calc(
            &topic,
            &["--timeout", "1", "call", "sleep", r#"{"seconds": 3}"#],
        ),
        None,
    )
    .await;
    assert_eq!(
        timed_out.exception(),
        "oslo_messaging.exceptions.MessagingTimeout"
    );
    assert!(timed_out.elapsed() < 2.5, "{}", timed_out.raw);

    server.stop().await;
    transport.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_call_fails_at_the_call_monitor_timeout_when_rust_dies() {
    let topic = unique("interop");
    let _cleanup = transport(&topic).await;
    let server = RustServerProcess::start(&topic, "rs1").await;
    let call = tokio::spawn({
        let topic = topic.clone();
        async move {
            let args = [
                "--timeout",
                "30",
                "--call-monitor-timeout",
                "2",
                "call",
                "sleep",
                r#"{"seconds": 15}"#,
            ];
            py_client(&py_calc(&topic, &args), None).await
        }
    });
    // Let the call reach the server and a heartbeat or two flow, then kill it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    server.kill().await;
    let outcome = call.await.unwrap();
    assert_eq!(
        outcome.exception(),
        "oslo_messaging.exceptions.MessagingTimeout"
    );
    // Killed at ~3 s (plus Python's start-up), heartbeats stop, the monitor fires 2 s later.
    assert!(outcome.elapsed() < 8.0, "{}", outcome.raw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_makes_thirty_two_concurrent_calls_to_rust() {
    let topic = unique("interop");
    let transport = transport(&topic).await;
    let server = RustServer::start(&transport, &topic, "rs1").await;
    let lines = py_client_lines(
        &py_calc(
            &topic,
            &[
                "--concurrency",
                "32",
                "--repeat",
                "32",
                "--index-arg",
                "a",
                "call",
                "add",
                r#"{"b": 1000}"#,
            ],
        ),
        None,
    )
    .await;
    let summary = lines.last().expect("summary");
    assert_eq!(summary.line["summary"]["ok"], json!(32), "{}", summary.raw);
    for outcome in &lines[..lines.len() - 1] {
        let index = outcome.line["index"].as_i64().expect("index");
        assert_eq!(outcome.result(), &json!(index + 1000));
    }
    server.stop().await;
    transport.shutdown().await;
}

// ---------------------------------------------------------------- both on one topic

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_and_python_servers_share_a_topic() {
    let topic = unique("interop");
    // Same queues declared by both peers: any flag or argument mismatch would be a 406.
    let py = PyServer::start(&topic, "py1", None).await;
    let transport = transport(&topic).await;
    let mut rs = RustServer::start(&transport, &topic, "rs1").await;
    let calc = calc_client(&transport, &topic);
    let ctx = Context::new();
    assert_eq!(calc.clone().server("py1").add(&ctx, 1, 2).await.unwrap(), 3);
    assert_eq!(calc.clone().server("rs1").add(&ctx, 2, 2).await.unwrap(), 4);
    rs.next_event().await;
    for i in 0..8 {
        assert_eq!(calc.add(&ctx, i, 0).await.unwrap(), i);
    }
    let raw = RpcClient::new(
        transport.clone(),
        Target::topic(&topic).with_namespace("calc"),
    );
    raw.prepare()
        .fanout(true)
        .cast(&ctx, "resize", json!({"size": 5}))
        .await
        .unwrap();
    // The Python server has no `record` for resize; the Rust one reports it.
    loop {
        if rs.next_event().await == "resize(size=5, force=None)" {
            break;
        }
    }
    let from_python = py_client(
        &py_calc(
            &topic,
            &["--server", "rs1", "call", "add", r#"{"a": 5, "b": 5}"#],
        ),
        None,
    )
    .await;
    assert_eq!(from_python.result(), &json!(10));
    rs.stop().await;
    assert_eq!(py.stop().await, Some(0));
    transport.shutdown().await;
}
