//! Versioned objects between Rust and real Python oslo.versionedobjects 3.12.0 (its
//! `VersionedObjectSerializer` on oslo.messaging 18.3.1) over the machine's RabbitMQ, both
//! ways: objects as arguments and results, nested objects, lists of objects, DateTime with
//! time zones, changes preserved, older and newer peers' objects, downgrades for an older
//! Python server, and mismatched objects. The Python peers are
//! `tests/interop/peers/objects_{server,client}.py` with the classes of `bar_objects.py`;
//! the Rust side of them is `tests/bar/mod.rs`.

#![allow(dead_code, unreachable_pub)]

mod bar;
mod python;
mod support;

use std::process::Stdio;
use std::time::Duration;

use bar::{Widget, WidgetApiClient, WidgetApiEndpoint};
use oslo_rpc::objects::{Field, VersionManifest};
use oslo_rpc::prelude::*;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// The test's transport; on drop, deletes what its driver declared and every queue named
/// after the topic (the Python peers' too).
type Bus = support::rabbit::TopicBus;

async fn bus(topic: &str) -> Bus {
    support::rabbit::topic_bus(topic, vec![format!("{topic}_fanout")]).await
}

/// `objects_server.py`, killed when dropped (its stdin closes: it stops and deletes its
/// queues).
struct PyObjectServer {
    child: Child,
}

impl PyObjectServer {
    async fn start(topic: &str, widget_version: &str) -> PyObjectServer {
        let py = python::python();
        let mut child = Command::new(&py.python)
            .arg(py.peers.join("objects_server.py"))
            .args([
                "--url",
                &python::rabbit_url(),
                "--topic",
                topic,
                "--server",
                "py",
            ])
            .args(["--widget-version", widget_version])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start objects_server.py");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ready = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await;
        match ready {
            Ok(Ok(Some(line))) if line == "READY" => PyObjectServer { child },
            other => {
                let _ = child.kill().await;
                let output = child.wait_with_output().await.expect("server output");
                panic!(
                    "objects_server.py did not print READY: {other:?}\n{}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        }
    }

    async fn stop(mut self) {
        drop(self.child.stdin.take());
        if tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// Runs one `objects_client.py` scenario; returns its JSON line.
async fn py_scenario(topic: &str, widget_version: &str, scenario: &str) -> Value {
    let py = python::python();
    let output = Command::new(&py.python)
        .arg(py.peers.join("objects_client.py"))
        .args(["--url", &python::rabbit_url(), "--topic", topic])
        .args(["--widget-version", widget_version, scenario])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), output)
        .await
        .expect("objects_client.py finished within 120 s")
        .expect("objects_client.py output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rfind(|line| line.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "objects_client.py {scenario} printed no result: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    oslo_rpc::json::from_str(line).expect("a JSON line")
}

fn client(transport: &Transport, topic: &str) -> WidgetApiClient {
    WidgetApiClient::new(RpcClient::new(transport.clone(), Target::topic(topic)))
        .timeout(Duration::from_secs(30))
}

/// The fields of `bar::widget()` as Python describes them.
fn python_fields_of_rust_widget() -> Value {
    json!({
        "id": 9, "uuid": bar::UUID, "name": "y\u{e9}",
        "created_at": "2026-12-06T15:00:00+05:30", "status": "active",
        "address": "2001:db8::1", "network": "10.1.2.3/8", "metadata": {"k": "v"},
        "flags": ["b"], "weight": 1.5, "tags": ["a", "\u{e9}"],
        "owner": {"object": "Person", "version": "1.0", "changes": ["email", "name"],
                  "fields": {"name": "p", "email": null}},
    })
}

const ALL_CHANGES: [&str; 12] = [
    "address",
    "created_at",
    "flags",
    "id",
    "metadata",
    "name",
    "network",
    "owner",
    "status",
    "tags",
    "uuid",
    "weight",
];

fn sorted(mut names: Vec<&'static str>) -> Vec<&'static str> {
    names.sort_unstable();
    names
}

// ---------------------------------------------------------------- Rust client -> Python server

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_passes_objects_to_a_python_server_and_back() {
    let topic = unique("objects-py");
    let bus = bus(&topic).await;
    let server = PyObjectServer::start(&topic, "1.2").await;
    let widgets = client(&bus.transport, &topic);
    let ctx = Context::new();

    // What Python sees of a new Rust object: every field, every set field changed, the
    // nested Person with its own changes, the time at its +05:30 offset.
    let seen = widgets.describe(&ctx, bar::widget()).await.unwrap();
    assert_eq!(
        seen,
        json!({"object": "Widget", "version": "1.2", "changes": ALL_CHANGES,
               "fields": python_fields_of_rust_widget()})
    );

    // Python hydrates it and serializes it back: the same object, changes kept.
    let echoed = widgets.echo_widget(&ctx, bar::widget()).await.unwrap();
    assert_eq!(echoed, bar::widget());
    assert_eq!(sorted(echoed.changes()), ALL_CHANGES);

    // Built in Python with `timezone(timedelta(hours=-3))`, which oslo writes as
    // `2026-12-06T15:00:00UTC-03:00` and Python itself could not read.
    let made = widgets.make_widget(&ctx, 5, true).await.unwrap();
    assert_eq!(made.id, 5);
    assert_eq!(made.created_at.to_string(), "2026-12-06T15:00:00-03:00");
    assert_eq!(made.created_at.unix_timestamp(), 1_796_580_000);
    assert_eq!(sorted(made.changes()), ALL_CHANGES);
    let Field::Set(Some(owner)) = &made.owner else {
        panic!("owner: {:?}", made.owner)
    };
    assert_eq!(owner.changes(), ["name", "email"]);

    // A list of objects inside an object, and a list of objects as argument and result.
    let shelf = widgets.make_shelf(&ctx, 2).await.unwrap();
    assert_eq!(
        shelf.widgets.iter().map(|w| w.id).collect::<Vec<_>>(),
        [0, 1]
    );
    assert_eq!(shelf.changes(), ["label", "widgets"]);
    let list = vec![bar::widget(), {
        let mut other = bar::widget();
        other.id = 2;
        other.owner = Field::Unset;
        other
    }];
    let echoed = widgets.echo_widgets(&ctx, list.clone()).await.unwrap();
    assert_eq!(echoed, list);
    assert_eq!(echoed[1].owner, Field::Unset);

    // Changes made in Python arrive: only `name`; then only the nested owner.
    let renamed = widgets
        .rename(&ctx, bar::widget(), "z".into())
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.changes()),
        ("z", vec!["name"])
    );
    let touched = widgets
        .touch_owner(&ctx, bar::widget(), "e".into())
        .await
        .unwrap();
    assert_eq!(touched.changes(), ["owner"]);
    let Field::Set(Some(owner)) = &touched.owner else {
        panic!("owner: {:?}", touched.owner)
    };
    assert_eq!(
        (owner.email.as_deref(), owner.changes()),
        (Some("e"), vec!["email"])
    );

    // A Person where the trait promises a Widget: a clear error, not a wrong value.
    let error = widgets.make_widget(&ctx, -1, false).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("expected a Widget object, got a Person object"),
        "{error}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_downgrades_objects_for_an_older_python_server() {
    let topic = unique("objects-py-old");
    let bus = bus(&topic).await;
    let server = PyObjectServer::start(&topic, "1.0").await;
    let widgets = client(&bus.transport, &topic);
    let ctx = Context::new();

    // Without a manifest, a 1.0 server refuses the 1.2 object, as oslo does.
    let error = widgets.describe(&ctx, bar::widget()).await.unwrap_err();
    let remote = error.remote().expect("a remote error");
    assert_eq!(remote.class, "IncompatibleObjectVersion", "{error}");
    assert_eq!(remote.module, "oslo_versionedobjects.exception");

    // With the server's manifest the client sends Widget 1.0: no tags, no owner.
    let old = widgets.version_manifest(VersionManifest::parse([("Widget", "1.0")]).unwrap());
    let seen = old.describe(&ctx, bar::widget()).await.unwrap();
    let mut fields = python_fields_of_rust_widget();
    fields.as_object_mut().unwrap().remove("tags");
    fields.as_object_mut().unwrap().remove("owner");
    let changes: Vec<&str> = ALL_CHANGES
        .into_iter()
        .filter(|name| !["tags", "owner"].contains(name))
        .collect();
    assert_eq!(
        seen,
        json!({"object": "Widget", "version": "1.0", "changes": changes, "fields": fields})
    );

    // Its 1.0 objects read into the 1.2 struct: what 1.0 lacks is absent.
    let made = old.make_widget(&ctx, 3, false).await.unwrap();
    assert_eq!(
        (made.tags.clone(), made.owner.clone()),
        (None, Field::Unset)
    );
    assert_eq!(made.obj_version(), RpcVersion::new(1, 0));
    let echoed = old.echo_widget(&ctx, made.clone()).await.unwrap();
    assert_eq!(echoed, made);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_reads_a_newer_python_servers_objects() {
    let topic = unique("objects-py-new");
    let bus = bus(&topic).await;
    let server = PyObjectServer::start(&topic, "1.3").await;
    let widgets = client(&bus.transport, &topic);
    let ctx = Context::new();
    // Widget 1.3 has `color`, which the Rust 1.2 struct does not: dropped, the rest kept.
    let made: Widget = widgets.make_widget(&ctx, 7, true).await.unwrap();
    assert_eq!(
        (made.id, made.tags.as_deref().map(<[String]>::len)),
        (7, Some(2))
    );
    assert_eq!(made.obj_version(), RpcVersion::new(1, 2));
    // Sent back, it is the 1.2 object Rust has, which the 1.3 server reads.
    let seen = widgets.describe(&ctx, made).await.unwrap();
    assert_eq!(seen["version"], "1.2");
    assert!(seen["fields"].get("color").is_none(), "{seen}");
    server.stop().await;
}

// ---------------------------------------------------------------- Python client -> Rust server

async fn rust_server(transport: &Transport, topic: &str) -> oslo_rpc::ServerHandle {
    RpcServer::builder(transport.clone(), Target::server(topic, "rust"))
        .endpoint(WidgetApiEndpoint::new(bar::RustWidgets))
        .build()
        .expect("server")
        .start()
        .await
        .expect("start")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_passes_objects_to_a_rust_server_and_back() {
    let topic = unique("objects-rs");
    let bus = bus(&topic).await;
    let server = rust_server(&bus.transport, &topic).await;

    // A Python object through Rust and back: the same fields and changes.
    let echo = py_scenario(&topic, "1.2", "echo").await;
    assert_eq!(echo["ok"], true, "{echo}");
    assert_eq!(echo["got"], echo["sent"]);
    assert_eq!(echo["got"]["changes"], json!(ALL_CHANGES));
    assert_eq!(
        echo["got"]["fields"]["created_at"],
        "2026-12-06T15:00:00+05:30"
    );

    // Python's `UTC-03:00` form is read by Rust and written back as `-03:00`.
    let unnamed = py_scenario(&topic, "1.2", "echo_unnamed_tz").await;
    assert_eq!(unnamed["ok"], true, "{unnamed}");
    assert_eq!(
        unnamed["got"]["fields"]["created_at"],
        "2026-12-06T15:00:00-03:00"
    );

    // What Rust sees of a Python object is what Python sees of it.
    let described = py_scenario(&topic, "1.2", "describe").await;
    assert_eq!(described["ok"], true, "{described}");
    assert_eq!(described["got"], described["sent"]);

    // Objects built in Rust, a shelf of them, a list of them.
    let made = py_scenario(&topic, "1.2", "make").await;
    assert_eq!(made["ok"], true, "{made}");
    let mut fields = python_fields_of_rust_widget();
    fields["id"] = json!(5);
    assert_eq!(
        made["got"],
        json!({"object": "Widget", "version": "1.2", "changes": ALL_CHANGES, "fields": fields})
    );
    let shelf = py_scenario(&topic, "1.2", "shelf").await;
    assert_eq!(shelf["ok"], true, "{shelf}");
    assert_eq!(shelf["got"]["changes"], json!(["label", "widgets"]));
    assert_eq!(shelf["got"]["widgets"][1]["fields"]["id"], 1);
    let list = py_scenario(&topic, "1.2", "widgets").await;
    assert_eq!(list["ok"], true, "{list}");
    assert_eq!(list["got"], list["sent"]);

    // Changes made in Rust arrive in Python: only `name`; only the nested owner.
    let renamed = py_scenario(&topic, "1.2", "rename").await;
    assert_eq!(renamed["got"]["changes"], json!(["name"]), "{renamed}");
    assert_eq!(renamed["got"]["fields"]["name"], "z");
    assert_eq!(renamed["got"]["fields"]["owner"]["changes"], json!([]));
    let touched = py_scenario(&topic, "1.2", "touch").await;
    assert_eq!(touched["got"]["changes"], json!(["owner"]), "{touched}");
    assert_eq!(
        touched["got"]["fields"]["owner"]["changes"],
        json!(["email"])
    );
    assert_eq!(touched["got"]["fields"]["owner"]["fields"]["email"], "e");

    // A Person where a Widget is expected: a TypeError naming the argument and both objects.
    let wrong = py_scenario(&topic, "1.2", "person_as_widget").await;
    assert_eq!(wrong["ok"], false, "{wrong}");
    let message = wrong["message"].as_str().unwrap();
    assert!(
        message.contains(
            "echo_widget() argument 'widget': expected a Widget object, got a Person object"
        ),
        "{wrong}"
    );
    let nova = py_scenario(&topic, "1.2", "nova_object_as_widget").await;
    assert_eq!(nova["ok"], false, "{nova}");
    assert!(
        nova["message"].as_str().unwrap().contains(
            "echo_widget() argument 'widget': expected a bar_object primitive of Widget, got a \
             nova_object primitive"
        ),
        "{nova}"
    );
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_python_client_gets_its_objects_back_in_its_version() {
    let topic = unique("objects-rs-old");
    let bus = bus(&topic).await;
    let server = rust_server(&bus.transport, &topic).await;
    // A 1.0 client's object comes back as 1.0, which that client can read.
    let echo = py_scenario(&topic, "1.0", "echo").await;
    assert_eq!(echo["ok"], true, "{echo}");
    assert_eq!(echo["got"], echo["sent"]);
    assert_eq!(echo["got"]["version"], "1.0");
    // A newer client's 1.3 object is read without `color` and returned as 1.2, which the
    // newer client reads too.
    let newer = py_scenario(&topic, "1.3", "echo").await;
    assert_eq!(newer["ok"], true, "{newer}");
    assert_eq!(newer["got"]["version"], "1.2");
    assert!(newer["got"]["fields"].get("color").is_none(), "{newer}");
    server.stop().await.unwrap();
}
