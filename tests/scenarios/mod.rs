//! Scenarios every transport must pass: each is an `async fn(url)`, and each transport's
//! test file instantiates all of them with `transport_scenarios!`, so memory and RabbitMQ
//! are held to the same behaviour. Names are unique per test; nothing waits by sleeping
//! where an event can be awaited.

#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant};

use oslo_rpc::prelude::*;
use serde_json::{Value, json};

use crate::support::{Fixture, unique};

/// Generates one `#[tokio::test]` per scenario, running it on the URL `$url()` returns.
#[macro_export]
macro_rules! transport_scenarios {
    ($url:path; $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::scenarios::$name(&$url().await).await;
            }
        )+
    };
}

/// Every scenario, for the transports' test files.
#[macro_export]
macro_rules! all_transport_scenarios {
    ($url:path) => {
        $crate::transport_scenarios!($url;
            call_returns_the_result,
            cast_reaches_one_server_of_the_topic,
            cast_to_a_server_reaches_only_it,
            fanout_cast_reaches_every_server,
            fanout_call_is_refused_before_sending,
            namespaces_and_the_null_namespace,
            unsupported_version_and_no_such_method,
            version_cap_refuses_before_sending,
            remote_errors_keep_class_module_message,
            heartbeats_keep_a_long_call_alive,
            timeout_names_target_method_and_seconds,
            extreme_durations_from_the_api_never_panic,
            context_keys_arrive_intact,
            unicode_and_one_mebibyte_payloads,
            non_finite_floats_with_typed_calls,
            thirty_two_concurrent_calls,
            graceful_stop_lets_calls_in_flight_reply,
            concurrency_limit_holds,
            exchange_override_is_a_separate_bus,
            private_methods_are_refused,
            tap_sees_every_request_without_taking_any,
            every_task_ends_with_the_transport,
            stop_is_prompt_when_a_reply_queue_is_missing,
        );
    };
}

pub async fn call_returns_the_result(url: &str) {
    let mut f = Fixture::new(url).await;
    f.serve("s1").await;
    let sum = f
        .calc()
        .call(&Context::new(), "add", json!({"a": 2, "b": 3}))
        .await
        .unwrap();
    assert_eq!(sum, json!(5));
    let nothing = f
        .calc()
        .call(&Context::new(), "record", json!({"tag": "x"}))
        .await
        .unwrap();
    assert_eq!(nothing, Value::Null);
    f.recorder.next().await;
    f.finish().await;
}

pub async fn cast_reaches_one_server_of_the_topic(url: &str) {
    let mut f = Fixture::new(url).await;
    f.serve("s1").await;
    f.serve("s2").await;
    f.calc()
        .cast(&Context::new(), "record", json!({"tag": "only-once"}))
        .await
        .unwrap();
    let event = f.recorder.next().await;
    assert_eq!(event.value, json!("only-once"));
    assert!(
        f.recorder.quiet_for(Duration::from_millis(300)).await,
        "delivered twice"
    );
    f.finish().await;
}

pub async fn cast_to_a_server_reaches_only_it(url: &str) {
    let mut f = Fixture::new(url).await;
    f.serve("s1").await;
    f.serve("s2").await;
    for i in 0..4 {
        f.calc()
            .server("s2")
            .cast(&Context::new(), "record", json!({"tag": i}))
            .await
            .unwrap();
    }
    for _ in 0..4 {
        assert_eq!(f.recorder.next().await.server, "s2");
    }
    f.finish().await;
}

pub async fn fanout_cast_reaches_every_server(url: &str) {
    let mut f = Fixture::new(url).await;
    for name in ["s1", "s2", "s3"] {
        f.serve(name).await;
    }
    f.calc()
        .fanout(true)
        .cast(&Context::new(), "record", json!({"tag": "all"}))
        .await
        .unwrap();
    let mut servers: Vec<String> = Vec::new();
    for _ in 0..3 {
        servers.push(f.recorder.next().await.server);
    }
    servers.sort();
    assert_eq!(servers, ["s1", "s2", "s3"]);
    f.finish().await;
}

pub async fn fanout_call_is_refused_before_sending(url: &str) {
    let f = Fixture::new(url).await;
    let error = f
        .calc()
        .fanout(true)
        .call(&Context::new(), "add", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, RpcError::InvalidTarget(text) if text.contains("fanout")),
        "{error}"
    );
    let error = RpcClient::new(f.transport.clone(), Target::default())
        .call(&Context::new(), "add", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, RpcError::InvalidTarget(text) if text.contains("topic")),
        "{error}"
    );
    f.finish().await;
}

pub async fn namespaces_and_the_null_namespace(url: &str) {
    let mut f = Fixture::new(url).await;
    f.serve("s1").await;
    let ping = f.calc().namespace(None).version(RpcVersion::new(2, 0));
    assert_eq!(
        ping.call(&Context::new(), "ping", json!({})).await.unwrap(),
        json!("pong")
    );
    // ping lives in the null namespace: from "calc" it is not found.
    let error = f
        .calc()
        .version(RpcVersion::new(1, 0))
        .call(&Context::new(), "ping", json!({}))
        .await;
    assert!(
        matches!(error, Err(RpcError::NoSuchMethod { ref method }) if method == "ping"),
        "{error:?}"
    );
    f.finish().await;
}

pub async fn unsupported_version_and_no_such_method(url: &str) {
    let mut f = Fixture::new(url).await;
    f.serve("s1").await;
    let error = f
        .calc()
        .version(RpcVersion::new(1, 4))
        .call(&Context::new(), "add", json!({"a": 1, "b": 1}))
        .await;
    match error {
        Err(RpcError::UnsupportedVersion { version, method }) => {
            assert_eq!((version.as_str(), method.as_str()), ("1.4", "add"));
        }
        other => panic!("{other:?}"),
    }
    let error = f.calc().call(&Context::new(), "nosuch", json!({})).await;
    assert!(
        matches!(error, Err(RpcError::NoSuchMethod { ref method }) if method == "nosuch"),
        "{error:?}"
    );
    f.finish().await;
}

pub async fn version_cap_refuses_before_sending(url: &str) {
    let mut f = Fixture::new(url).await;
    f.serve("s1").await;
    let capped = f.calc().version_cap(RpcVersion::new(1, 2));
    assert!(capped.can_send_version(Some(&RpcVersion::new(1, 2))));
    assert!(!capped.can_send_version(Some(&RpcVersion::new(1, 3))));
    let error = capped
        .clone()
        .version(RpcVersion::new(1, 3))
        .cast(&Context::new(), "record", json!({"tag": "must-not-arrive"}))
        .await;
    assert!(
        matches!(error, Err(RpcError::VersionCap { .. })),
        "{error:?}"
    );
    // Under the cap it goes out, and it is the only thing the server sees.
    capped
        .version(RpcVersion::new(1, 1))
        .cast(&Context::new(), "record", json!({"tag": "ok"}))
        .await
        .unwrap();
    assert_eq!(f.recorder.next().await.value, json!("ok"));
    f.finish().await;
}

pub async fn remote_errors_keep_class_module_message(url: &str) {
    let mut f = Fixture::new(url).await;
    f.serve("s1").await;
    for (kind, class, module, message) in [
        ("value", "ValueError", "builtins", "bad value"),
        ("custom", "CalcError", "calc_errors", "custom err"),
        ("x", "OtherError", "calc_server", "other err: x"),
    ] {
        let error = f
            .calc()
            .call(&Context::new(), "fail", json!({"kind": kind}))
            .await
            .unwrap_err();
        let remote = error.remote().unwrap_or_else(|| panic!("{error:?}"));
        assert_eq!(
            (remote.class.as_str(), remote.module.as_str()),
            (class, module)
        );
        assert_eq!(remote.message, message);
        assert!(!remote.traceback.is_empty());
        if kind == "custom" {
            assert_eq!(remote.kwargs["code"], json!(7));
        }
        assert_eq!(remote.args, [json!(message)]);
    }
    f.finish().await;
}

pub async fn heartbeats_keep_a_long_call_alive(url: &str) {
    let mut f = Fixture::new(url).await;
    f.serve("s1").await;
    let started = Instant::now();
    let result = f
        .calc()
        .call_monitor_timeout(Duration::from_millis(600))
        .call(&Context::new(), "sleep", json!({"seconds": 1.5}))
        .await
        .unwrap();
    assert_eq!(result, json!(1.5));
    assert!(started.elapsed() >= Duration::from_millis(1500));
    f.finish().await;
}

pub async fn timeout_names_target_method_and_seconds(url: &str) {
    let f = Fixture::new(url).await;
    let started = Instant::now();
    let error = f
        .calc()
        .timeout(Duration::from_millis(400))
        .call(&Context::new(), "add", json!({"a": 1, "b": 2}))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(400) && elapsed < Duration::from_millis(1400),
        "{elapsed:?}"
    );
    match &error {
        RpcError::Timeout {
            target,
            method,
            seconds,
            call_monitor,
            ..
        } => {
            assert!(target.contains(&f.topic));
            assert_eq!(
                (method.as_str(), *seconds, *call_monitor),
                ("add", 0.4, false)
            );
        }
        other => panic!("{other:?}"),
    }
    let text = error.to_string();
    assert!(
        text.contains("0.4s") && text.contains("add") && text.contains(&f.topic),
        "{text}"
    );
    f.finish().await;
}

/// `Duration::MAX` is a valid timeout: it means "wait as long as it takes", never a panic
/// (`Instant + Duration` overflowed), and on RabbitMQ the request's `expiration` stays
/// within what the broker accepts (a 406 closed the channel before). A zero timeout ends
/// the call at once.
pub async fn extreme_durations_from_the_api_never_panic(url: &str) {
    let mut f = Fixture::new(url).await;
    f.serve("s1").await;
    let forever = f
        .calc()
        .timeout(Duration::MAX)
        .call_monitor_timeout(Duration::MAX);
    let sum = forever
        .call(&Context::new(), "add", json!({"a": 2, "b": 3}))
        .await
        .unwrap();
    assert_eq!(sum, json!(5));
    forever
        .cast(&Context::new(), "record", json!({"tag": "forever"}))
        .await
        .unwrap();
    assert_eq!(f.recorder.next().await.value, json!("forever"));
    // A zero timeout ends the call at the first tick of the timer: a timeout error,
    // unless the reply won that race on a fast broker.
    let started = Instant::now();
    let outcome = f
        .calc()
        .timeout(Duration::ZERO)
        .call(&Context::new(), "add", json!({"a": 1, "b": 1}))
        .await;
    assert!(
        matches!(outcome, Err(RpcError::Timeout { .. }))
            || outcome.as_ref().ok() == Some(&json!(2)),
        "{outcome:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    f.finish().await;
}

pub async fn context_keys_arrive_intact(url: &str) {
    let mut f = Fixture::new(url).await;
    f.serve("s1").await;
    let ctx = Context::new()
        .with_request_id("req-6e0c3f1e")
        .with_user_id("alice")
        .with_project_id("p1")
        .with("roles", json!(["admin", "member"]))
        .with("is_admin", true)
        .with("nested", json!({"z": 1, "a": [null, 2.5]}));
    let seen = f.calc().call(&ctx, "context", json!({})).await.unwrap();
    assert_eq!(seen, Value::Object(ctx.as_map().clone()));
    let keys: Vec<&String> = seen.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "request_id",
            "user_id",
            "project_id",
            "roles",
            "is_admin",
            "nested"
        ]
    );
    f.finish().await;
}

pub async fn unicode_and_one_mebibyte_payloads(url: &str) {
    let mut f = Fixture::new(url).await;
    f.serve("s1").await;
    let text = "héllo ✓ 😀 日本 \u{2028} \"quoted\" \\ \n\t\u{7f}";
    let echoed = f
        .calc()
        .call(&Context::new(), "echo", json!({"payload": text}))
        .await
        .unwrap();
    assert_eq!(echoed, json!(text));
    let big: String = (0..1024 * 1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let echoed = f
        .calc()
        .call(&Context::new(), "echo", json!({"payload": big}))
        .await
        .unwrap();
    assert_eq!(echoed.as_str().map(str::len), Some(1024 * 1024));
    assert_eq!(echoed, json!(big));
    f.finish().await;
}

pub async fn non_finite_floats_with_typed_calls(url: &str) {
    let mut f = Fixture::new(url).await;
    f.serve("s1").await;
    #[derive(serde::Serialize)]
    struct Payload {
        payload: Vec<f64>,
    }
    // The dynamic echo endpoint sees JSON values, where non-finite floats are null; a
    // typed result keeps what comes back, and plain floats keep their exact bits.
    let values = vec![0.1, -0.0, 1e16, 1.5e-7, f64::MAX, 5e-324];
    let back: Vec<f64> = f
        .calc()
        .call_typed(
            &Context::new(),
            "echo",
            None,
            &Payload {
                payload: values.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    let back: Vec<Option<f64>> = f
        .calc()
        .call_typed(
            &Context::new(),
            "echo",
            None,
            &Payload {
                payload: vec![f64::NAN, f64::INFINITY],
            },
        )
        .await
        .unwrap();
    assert_eq!(back, [None, None]);
    f.finish().await;
}

pub async fn thirty_two_concurrent_calls(url: &str) {
    let mut f = Fixture::new(url).await;
    f.serve("s1").await;
    let client = f.calc();
    let calls = (0..32).map(|i| {
        let client = client.clone();
        async move {
            client
                .call(&Context::new(), "add", json!({"a": i, "b": 1000}))
                .await
        }
    });
    let results = futures_join_all(calls).await;
    for (i, result) in results.into_iter().enumerate() {
        assert_eq!(result.unwrap(), json!(i as i64 + 1000));
    }
    f.finish().await;
}

pub async fn graceful_stop_lets_calls_in_flight_reply(url: &str) {
    let mut f = Fixture::new(url).await;
    f.serve("s1").await;
    let client = f.calc();
    let call = tokio::spawn(async move {
        client
            .call(&Context::new(), "sleep", json!({"seconds": 0.5}))
            .await
    });
    assert_eq!(f.recorder.next().await.what, "sleep");
    let server = f.take_server(0);
    let stopped = Instant::now();
    server.stop().await.unwrap();
    assert!(
        stopped.elapsed() >= Duration::from_millis(300),
        "stop did not wait for the call"
    );
    assert_eq!(call.await.unwrap().unwrap(), json!(0.5));
    // Stopped: nobody answers any more.
    let error = f
        .calc()
        .timeout(Duration::from_millis(300))
        .call(&Context::new(), "add", json!({"a": 1, "b": 1}))
        .await;
    assert!(matches!(error, Err(RpcError::Timeout { .. })), "{error:?}");
    f.finish().await;
}

pub async fn concurrency_limit_holds(url: &str) {
    let mut f = Fixture::new(url).await;
    f.serve_with("s1", |b| b.max_concurrency(2)).await;
    let client = f.calc();
    let calls = (0..6).map(|_| {
        let client = client.clone();
        async move {
            client
                .call(&Context::new(), "sleep", json!({"seconds": 0.1}))
                .await
        }
    });
    for result in futures_join_all(calls).await {
        result.unwrap();
    }
    assert_eq!(f.gauge.peak(), 2);
    f.finish().await;
}

pub async fn exchange_override_is_a_separate_bus(url: &str) {
    let mut f = Fixture::new(url).await;
    let exchange = unique("x");
    let topic = f.topic.clone();
    let endpoint = crate::support::calc_endpoint("sx", &f.recorder, &f.gauge);
    let server = RpcServer::builder(
        f.transport.clone(),
        Target::server(&topic, "sx").with_exchange(&exchange),
    )
    .endpoint(endpoint)
    .build()
    .unwrap()
    .start()
    .await
    .unwrap();
    let on_exchange = f.calc().exchange(&exchange);
    assert_eq!(
        on_exchange
            .call(&Context::new(), "add", json!({"a": 1, "b": 1}))
            .await
            .unwrap(),
        json!(2)
    );
    // The default control exchange does not reach that server.
    let error = f
        .calc()
        .timeout(Duration::from_millis(300))
        .call(&Context::new(), "add", json!({"a": 1, "b": 1}))
        .await;
    assert!(matches!(error, Err(RpcError::Timeout { .. })), "{error:?}");
    server.stop().await.unwrap();
    f.serve("s1").await;
    f.finish().await;
}

pub async fn private_methods_are_refused(url: &str) {
    let mut f = Fixture::new(url).await;
    let endpoint = DynamicEndpoint::builder()
        .method("_secret", |_c, _a| async move {
            Ok::<_, RpcError>(json!("leak"))
        })
        .build();
    let server = RpcServer::builder(f.transport.clone(), Target::server(&f.topic, "s1"))
        .endpoint(endpoint)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let client = RpcClient::new(f.transport.clone(), Target::topic(&f.topic))
        .timeout(Duration::from_secs(10));
    let error = client.call(&Context::new(), "_secret", json!({})).await;
    assert!(
        matches!(error, Err(RpcError::NoSuchMethod { .. })),
        "{error:?}"
    );
    server.stop().await.unwrap();
    f.serve("s1").await;
    f.finish().await;
}

pub async fn tap_sees_every_request_without_taking_any(url: &str) {
    let mut f = Fixture::new(url).await;
    f.serve("s1").await;
    let mut tap = f.transport.tap(&f.topic, None).await.unwrap();
    let ctx = Context::new().with_request_id("req-tap");
    assert_eq!(
        f.calc()
            .call(&ctx, "add", json!({"a": 1, "b": 2}))
            .await
            .unwrap(),
        json!(3)
    );
    f.calc()
        .server("s1")
        .cast(&ctx, "record", json!({"tag": "direct"}))
        .await
        .unwrap();
    f.calc()
        .fanout(true)
        .cast(&ctx, "record", json!({"tag": "all"}))
        .await
        .unwrap();
    // The server got everything: nothing was stolen by the tap.
    for _ in 0..2 {
        f.recorder.next().await;
    }
    let mut seen = Vec::new();
    for _ in 0..3 {
        let tapped = tokio::time::timeout(Duration::from_secs(10), tap.next())
            .await
            .expect("the tap saw the request")
            .expect("tap open");
        let request = tapped.request.expect("decodable");
        assert_eq!(request.context.request_id(), Some("req-tap"));
        let is_call = request.is_call();
        seen.push((tapped.exchange, tapped.routing_key, request.method, is_call));
    }
    let topic = f.topic.clone();
    assert_eq!(
        seen,
        [
            (
                "openstack".to_owned(),
                topic.clone(),
                "add".to_owned(),
                true
            ),
            (
                "openstack".to_owned(),
                format!("{topic}.s1"),
                "record".to_owned(),
                false
            ),
            (
                format!("{topic}_fanout"),
                String::new(),
                "record".to_owned(),
                false
            ),
        ]
    );
    tap.close().await;
    f.finish().await;
}

/// Runs futures concurrently on the current task (no extra dependency for a test).
/// Every task the runtime starts is owned (issue 12, item 5): after calls, casts, fanout,
/// a server stopped, a server whose handle was dropped without stop() and one left
/// running, `Transport::shutdown` returns with the runtime's task count back where it
/// started (tokio's `num_alive_tasks`, counted in this test's own runtime).
///
/// Except for lapin's heartbeat timer, one task per AMQP connection, which notices its
/// closed connection only when it next wakes, up to half the heartbeat interval later:
/// the RabbitMQ run asks for 2 s heartbeats and waits up to 5 s for those.
pub async fn every_task_ends_with_the_transport(url: &str) {
    let url = if url.starts_with("rabbit") {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}heartbeat_timeout_threshold=2")
    } else {
        url.to_owned()
    };
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline = metrics.num_alive_tasks();
    let mut f = Fixture::new(&url).await;
    f.serve("s1").await;
    f.serve("s2").await;
    f.serve("s3").await;
    let calc = f.calc();
    for i in 0..20 {
        let sum = calc
            .call(&Context::new(), "add", json!({"a": i, "b": 1}))
            .await
            .unwrap();
        assert_eq!(sum, json!(i + 1));
        calc.cast(&Context::new(), "record", json!({"tag": i}))
            .await
            .unwrap();
        assert_eq!(f.recorder.next().await.value, json!(i));
    }
    calc.clone()
        .fanout(true)
        .cast(&Context::new(), "record", json!({"tag": "all"}))
        .await
        .unwrap();
    for _ in 0..3 {
        assert_eq!(f.recorder.next().await.value, json!("all"));
    }
    assert!(metrics.num_alive_tasks() > baseline);
    f.take_server(0).stop().await.unwrap();
    drop(f.take_server(0)); // stops in the background, owned by the transport
    // s3 is still running: shutdown stops it.
    f.transport.shutdown().await;
    let settled = Instant::now() + Duration::from_secs(5);
    while metrics.num_alive_tasks() != baseline && Instant::now() < settled {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        metrics.num_alive_tasks(),
        baseline,
        "tasks left running after Transport::shutdown"
    );
    f.finish().await;
}

/// Prompt stop (issue 12, item 7): Python oslo.messaging holds its graceful stop for
/// `kombu_missing_consumer_retry_timeout` (60 s) retrying a reply to a queue that does not
/// exist (spec §4.5). Here a stop waits for the calls in flight and delivers the replies
/// whose queue exists, and ends within 2 s of the last handler, with the transport's
/// default 60 s retry limit in force: a missing queue is retried for at most
/// `STOP_REPLY_GRACE` (1 s) once the stop began.
pub async fn stop_is_prompt_when_a_reply_queue_is_missing(url: &str) {
    let rabbit =
        crate::support::rabbit::is_rabbit(url).then(|| crate::support::rabbit::driver(url));
    let mut builder = Transport::builder(url);
    if let Some(driver) = &rabbit {
        builder = builder.driver(driver.clone());
    }
    let transport = builder.build().expect("transport");
    assert_eq!(
        transport.config().reply_retry_timeout,
        Duration::from_secs(60)
    );
    let f = Fixture::new(url).await;
    let recorder = f.recorder.clone();
    let gauge = f.gauge.clone();
    let server = RpcServer::builder(transport.clone(), Target::server(&f.topic, "s1"))
        .endpoint(crate::support::calc_endpoint("s1", &recorder, &gauge))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    // A call whose caller is gone: its reply queue does not exist.
    let orphan = rpc_runtime::wire::encode_request(
        &rpc_runtime::wire::RequestHeader {
            method: "sleep",
            namespace: Some("calc"),
            version: None,
            call: Some(rpc_runtime::wire::CallHeader {
                msg_id: "orphan",
                reply_q: &format!("reply_{}", unique("gone").replace('-', "")),
                call_monitor_timeout: None,
            }),
            unique_id: &unique("u"),
            context: &Context::new(),
        },
        &json!({"seconds": 0.5}),
    )
    .unwrap();
    crate::support::publish_request(&f, &orphan).await;
    assert_eq!(recorder.next().await.what, "sleep");
    // And a call whose caller waits.
    let client = f.calc();
    let waiting = tokio::spawn(async move {
        client
            .call(&Context::new(), "sleep", json!({"seconds": 0.6}))
            .await
    });
    assert_eq!(recorder.next().await.what, "sleep");
    let stop_began = Instant::now();
    server.stop().await.unwrap();
    let stopped = Instant::now();
    assert_eq!(waiting.await.unwrap().unwrap(), json!(0.6));
    // The last handler ended about 0.6 s after the stop began.
    let after_handlers = stopped.saturating_duration_since(stop_began + Duration::from_millis(600));
    eprintln!(
        "stop took {:?}, {after_handlers:?} after the last handler",
        stopped - stop_began
    );
    assert!(
        after_handlers < Duration::from_secs(2),
        "stop ended {after_handlers:?} after the last handler"
    );
    transport.shutdown().await;
    if let Some(driver) = rabbit {
        crate::support::rabbit::delete_declared(&driver, &["openstack"]).await;
    }
    f.finish().await;
}

pub async fn futures_join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}
