//! Interop with Python oslo.messaging 18.3.1 configured as a production deployment
//! (docs/spec-production-topology.md): `rabbit_quorum_queue`, `rabbit_transient_quorum_queue`,
//! `rabbit_stream_fanout`, `use_queue_manager` and `rabbit_qos_prefetch_count=1` as URL
//! query options, on `RABBIT_URL`'s broker (a cluster's URL works too). Python and Rust
//! servers share one topic and call each other both ways; what each side declared is
//! compared field by field; the queue manager hands Python and Rust processes of one
//! service generation distinct names.

mod python;
mod support;

use std::sync::Arc;
use std::time::Duration;

use oslo_rpc::ServerHandle;
use oslo_rpc::prelude::*;
use oslo_rpc::transport::rabbit::RabbitDriver;
use python::{PyServer, py_client};
use serde_json::{Value, json};

use support::production::{Deployment, consumers, exchange, listing, queue, shape, try_listing};
use support::rabbit::{self, DeleteOnDrop};
use support::{Recorder, calc_endpoint, ping_endpoint, unique};

/// Deletes, when dropped, every queue of the test's topics and process name, and its
/// fanout exchanges (durable quorum and stream queues outlive every connection).
struct Leftovers {
    prefixes: Vec<String>,
    processname: String,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        // `:<name>:` and, for orphaned groups, `:<name>-py:`.
        let needle = format!(":{}", self.processname);
        let host = support::production::hostname();
        let python_name = format!("{}-py", self.processname);
        let _ = std::fs::remove_file(format!("/dev/shm/{host}_{python_name}_qmanager"));
        let _ = std::fs::remove_file(
            support::production::lock_dir().join(format!("oslo_read_shm_{host}_{python_name}")),
        );
        let queues = try_listing("list_queues", &["name"], "name", |name| {
            self.prefixes.iter().any(|p| name.starts_with(p.as_str())) || name.contains(&needle)
        })
        .unwrap_or_default()
        .into_iter()
        .filter_map(|row| row["name"].as_str().map(str::to_owned))
        .collect();
        drop(DeleteOnDrop {
            queues: std::sync::Mutex::new(queues),
            exchanges: self
                .prefixes
                .iter()
                .map(|p| format!("{p}_fanout"))
                .collect(),
        });
    }
}

/// A Rust server of the deployment, recording what it is cast.
async fn rust_server(
    transport: &Transport,
    topic: &str,
    name: &str,
    recorder: &Recorder,
) -> ServerHandle {
    RpcServer::builder(transport.clone(), Target::server(topic, name))
        .endpoint(calc_endpoint(name, recorder, &Arc::default()))
        .endpoint(ping_endpoint())
        .build()
        .expect("server")
        .start()
        .await
        .expect("start")
}

async fn transport_on(deployment: &Deployment, exchange: &str) -> (Transport, Arc<RabbitDriver>) {
    let driver = deployment.driver();
    let transport = Transport::builder(&deployment.url)
        .control_exchange(exchange)
        .driver(driver.clone())
        .connect()
        .await
        .expect("transport");
    (transport, driver)
}

/// The URL Python peers get: the deployment's, except when this test process's group has
/// lost its leader. Then the peers run in groups of their own (oslo's queue manager cannot
/// identify an orphaned group), each a service generation of its own, and get a process
/// name of their own: they would otherwise restart the counter Rust is using.
fn python_url(deployment: &Deployment) -> String {
    if python::group_leader_alive() {
        deployment.url.clone()
    } else {
        let name = format!("processname={}", deployment.processname);
        deployment.url.replace(&name, &format!("{name}-py"))
    }
}

/// `client.py` arguments: the Python URL and the deployment's exchange, the calc namespace
/// on `topic`.
fn py_args<'a>(
    url: &'a str,
    deployment: &'a Deployment,
    topic: &'a str,
    rest: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "--url",
        url,
        "--exchange",
        deployment.exchange.as_str(),
        "--topic",
        topic,
        "--namespace",
        "calc",
        "--timeout",
        "30",
    ];
    args.extend_from_slice(rest);
    args
}

fn tag(event: &Value) -> &str {
    event["tag"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_rust_share_a_production_topic_both_ways() {
    // The quorum limits too: py-amqp sends 3000000000 as a signed 64-bit 'L', lapin as 'l';
    // the broker must find them equivalent (no 406 when the other side joins).
    let deployment = Deployment::new(
        "rabbit_quorum_delivery_limit=5&rabbit_quorum_max_memory_length=100\
         &rabbit_quorum_max_memory_bytes=3000000000",
    )
    .await;
    let topic = unique("prodinterop");
    let rust_first = format!("{topic}-r");
    let _leftovers = Leftovers {
        prefixes: vec![topic.clone(), rust_first.clone()],
        processname: deployment.processname.clone(),
    };
    let exchange = deployment.exchange.clone();
    let py_url = python_url(&deployment);

    // Python declares first; the Rust server joins its quorum queues, stream and
    // exchanges (a 406 would fail its start).
    let mut py1 = PyServer::start_at(&py_url, &topic, "py1", Some(&exchange)).await;
    let recorder = Recorder::default();
    let (server_transport, server_driver) = transport_on(&deployment, &exchange).await;
    let _server_cleanup = rabbit::Cleanup(server_driver.clone());
    let rs1 = rust_server(&server_transport, &topic, "rs1", &recorder).await;
    let (client_transport, client_driver) = transport_on(&deployment, &exchange).await;
    let _client_cleanup = rabbit::Cleanup(client_driver.clone());
    let calc = RpcClient::new(
        client_transport.clone(),
        Target::topic(&topic).with_namespace("calc"),
    )
    .timeout(Duration::from_secs(30));
    let ctx = Context::new();

    // Rust -> both servers: by topic, by server, errors, a cast, call-monitor heartbeats.
    assert_eq!(
        calc.call(&ctx, "add", json!({"a": 2, "b": 3}))
            .await
            .unwrap(),
        json!(5)
    );
    for server in ["py1", "rs1"] {
        let to = calc.prepare().server(server);
        assert_eq!(
            to.call(&ctx, "add", json!({"a": 1, "b": 1})).await.unwrap(),
            json!(2)
        );
        match to.call(&ctx, "fail", json!({"kind": "value"})).await {
            Err(RpcError::Remote(remote)) => {
                assert_eq!(
                    (remote.class.as_str(), remote.module.as_str()),
                    ("ValueError", "builtins")
                );
            }
            other => panic!("{server}: {other:?}"),
        }
    }
    calc.prepare()
        .server("py1")
        .cast(&ctx, "record", json!({"tag": "r-direct"}))
        .await
        .unwrap();
    assert_eq!(
        tag(&py1.next_event(Duration::from_secs(20)).await),
        "r-direct"
    );
    // Call monitor 4 s, heartbeats every 2 s, a 5 s call: it only lives on heartbeats,
    // with 2 s of slack for a loaded machine.
    let rust_heartbeats = async {
        calc.prepare()
            .server("py1")
            .call_monitor_timeout(Duration::from_secs(4))
            .call(&ctx, "sleep", json!({"seconds": 5}))
            .await
    };
    let heartbeat_args = py_args(
        &py_url,
        &deployment,
        &topic,
        &[
            "--server",
            "rs1",
            "--call-monitor-timeout",
            "4",
            "call",
            "sleep",
            r#"{"seconds": 5}"#,
        ],
    );
    let python_heartbeats = py_client(&heartbeat_args, None);
    let (rust_slow, python_slow) = tokio::join!(rust_heartbeats, python_heartbeats);
    assert_eq!(rust_slow.unwrap(), json!(5));
    assert_eq!(python_slow.result(), &json!(5.0));
    assert!(python_slow.elapsed() >= 5.0);
    assert_eq!(recorder.next().await.what, "sleep");

    // Fanout through the one stream reaches the Python and the Rust server, both ways.
    calc.prepare()
        .fanout(true)
        .cast(&ctx, "record", json!({"tag": "r-fan"}))
        .await
        .unwrap();
    assert_eq!(tag(&py1.next_event(Duration::from_secs(20)).await), "r-fan");
    assert_eq!(recorder.next().await.value, json!("r-fan"));
    let cast = py_client(
        &py_args(
            &py_url,
            &deployment,
            &topic,
            &["--fanout", "cast", "record", r#"{"tag": "p-fan"}"#],
        ),
        None,
    )
    .await;
    assert!(cast.ok(), "{}", cast.raw);
    assert_eq!(tag(&py1.next_event(Duration::from_secs(20)).await), "p-fan");
    assert_eq!(recorder.next().await.value, json!("p-fan"));

    // Python -> Rust by server, and a Rust error as Python sees it.
    let add = py_client(
        &py_args(
            &py_url,
            &deployment,
            &topic,
            &["--server", "rs1", "call", "add", r#"{"a": 4, "b": 5}"#],
        ),
        None,
    )
    .await;
    assert_eq!(add.result(), &json!(9));
    let fail = py_client(
        &py_args(
            &py_url,
            &deployment,
            &topic,
            &["--server", "rs1", "call", "fail", r#"{"kind": "value"}"#],
        ),
        None,
    )
    .await;
    assert_eq!(fail.exception(), "builtins.ValueError");

    // Rust declares first on another topic (and another control exchange); a Python
    // server then joins it.
    let rust_exchange = format!("{exchange}-r");
    let (rust_first_transport, rust_first_driver) = transport_on(&deployment, &rust_exchange).await;
    let _rust_first_cleanup = rabbit::Cleanup(rust_first_driver.clone());
    let rs2 = rust_server(&rust_first_transport, &rust_first, "rs2", &recorder).await;
    let py2 = PyServer::start_at(&py_url, &rust_first, "py2", Some(&rust_exchange)).await;
    let _rust_exchange_cleanup = DeleteOnDrop {
        queues: std::sync::Mutex::new(Vec::new()),
        exchanges: vec![rust_exchange.clone()],
    };

    // What each side declared, field by field (names aside).
    let pairs = [
        (topic.clone(), rust_first.clone()),
        (format!("{topic}.py1"), format!("{rust_first}.rs2")),
        (format!("{topic}_fanout"), format!("{rust_first}_fanout")),
    ];
    for (python_queue, rust_queue) in &pairs {
        let python_row = queue(python_queue).unwrap_or_else(|| panic!("{python_queue}"));
        let rust_row = queue(rust_queue).unwrap_or_else(|| panic!("{rust_queue}"));
        eprintln!("declared by Python: {python_row}\ndeclared by Rust:   {rust_row}");
        assert_eq!(
            shape(python_row),
            shape(rust_row),
            "{python_queue} vs {rust_queue}"
        );
    }
    assert_eq!(
        shape(consumers(&format!("{topic}.py1"))[0].clone()),
        shape(consumers(&format!("{rust_first}.rs2"))[0].clone())
    );
    for (python_exchange, rust_exchange) in [
        (exchange.clone(), rust_exchange.clone()),
        (format!("{topic}_fanout"), format!("{rust_first}_fanout")),
    ] {
        let python_row = exchange_row(&python_exchange);
        let rust_row = exchange_row(&rust_exchange);
        eprintln!("exchange by Python: {python_row}\nexchange by Rust:   {rust_row}");
        assert_eq!(python_row, rust_row, "{python_exchange} vs {rust_exchange}");
    }
    // The reply queues: Rust's client took the queue manager's first name; each Python
    // client run that called (same process group: same service generation) took the next
    // ones, from
    // the counter file Rust wrote. No two are equal, and they are declared alike.
    let needle = format!(":{}", deployment.processname);
    let mut replies: Vec<String> =
        listing("list_queues", &["name"], "name", |n| n.contains(&needle))
            .into_iter()
            .filter_map(|row| row["name"].as_str().map(str::to_owned))
            .collect();
    replies.sort();
    let mut expected: Vec<String> = if python::group_leader_alive() {
        (1..=4).map(|n| deployment.reply_queue(n)).collect()
    } else {
        // Each Python run was a generation of its own, under its own name: the three
        // reused one queue, as restarted services do.
        let python = format!(
            "reply_{}:{}-py:1",
            deployment.hostname, deployment.processname
        );
        vec![deployment.reply_queue(1), python]
    };
    expected.sort();
    assert_eq!(
        replies, expected,
        "Rust's (1) and three Python calls' (2-4)"
    );
    let rust_reply = shape(queue(&deployment.reply_queue(1)).unwrap());
    eprintln!("reply queue by Rust: {rust_reply}");
    for name in &replies {
        assert_eq!(shape(queue(name).unwrap()), rust_reply, "{name}");
    }
    // Rust's reply queue still gets Rust's replies after the Python runs.
    assert_eq!(
        calc.call(&ctx, "add", json!({"a": 1, "b": 2}))
            .await
            .unwrap(),
        json!(3)
    );

    rs1.stop().await.expect("stop");
    rs2.stop().await.expect("stop");
    assert_eq!(py1.stop().await, Some(0));
    assert_eq!(py2.stop().await, Some(0));
    for transport in [&server_transport, &client_transport, &rust_first_transport] {
        transport.shutdown().await;
    }
}

/// An exchange's flags and arguments, without its name.
fn exchange_row(name: &str) -> Value {
    let mut row = exchange(name).unwrap_or_else(|| panic!("exchange {name}"));
    row.as_object_mut().map(|object| object.remove("name"));
    row
}
