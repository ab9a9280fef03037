//! Interop with Python oslo.messaging 18.3.1 on a production bus (issue 11, item 7): the
//! 3-node test cluster of `scripts/test-cluster.sh` over TLS with a client certificate,
//! with quorum queues, transient quorum queues, stream fanout, the queue manager and
//! prefetch 1, configured the way an operator configures a service: an oslo config file
//! (nova.conf-style, with sections that have nothing to do with messaging) that the Python
//! peers read with oslo.config (`--config-file F`, `get_rpc_transport(cfg.CONF)`) and the
//! Rust peers with `oslo_rpc::config` (the library API and the `calc_server` example's
//! `--config-file`). A second file, given after it, moves the Rust-first pair to a control
//! exchange of its own, as an operator's override file would.
//!
//! Python and Rust servers share one topic and call each other both ways (by topic, by
//! server, casts, fanout through the stream, call-monitor heartbeats, remote exceptions);
//! what each side declared is compared field by field; every peer's connection is TLS with
//! the client certificate; the queue manager hands Python and Rust processes of one service
//! generation distinct reply queues. Everything declared is deleted at the end.
//!
//! The Python peers need no TLS setting beyond the deployment's: with several hosts in
//! `transport_url`, oslo hands kombu no server name and kombu checks the certificate
//! against the host it connects to, `localhost` rewritten to `127.0.0.1`; the test
//! certificate names both (the Rust peers check `localhost`, as written).
//! (`docs/spec-production-topology.md` describes the topology.)

mod python;
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use oslo_rpc::ServerHandle;
use oslo_rpc::config::{ConfigSource, OsloConfig};
use oslo_rpc::prelude::*;
use python::{PyServer, RustServerProcess, py_client_config, py_client_config_lines};
use serde_json::{Value, json};

use support::cluster::{TestCluster, cluster};
use support::production::{self, consumers, exchange, listing, queue, shape, try_listing};
use support::{Recorder, calc_endpoint, ping_endpoint, unique};

/// The deployment's config files, written for this test into a directory of its own.
struct Deployment {
    dir: PathBuf,
    /// The service's config file (nova.conf-style).
    base: PathBuf,
    /// An override read after `base`: the Rust-first pair's control exchange.
    rust_first: PathBuf,
    /// Read last by the Python peers when this test process's group has lost its leader
    /// (see [`Deployment::python_files`]).
    python_processname: PathBuf,
    /// `[DEFAULT] control_exchange` of `base`.
    exchange: String,
    /// `[oslo_messaging_rabbit] processname` of `base`: the queue manager's process name.
    processname: String,
    hostname: String,
    lock_dir: PathBuf,
}

impl Deployment {
    fn write(cluster: &TestCluster) -> Deployment {
        let processname = unique("qm");
        let exchange = unique("prodx");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/interop-configs")
            .join(&processname);
        std::fs::create_dir_all(&dir).expect("config directory");
        let lock_dir = production::lock_dir();
        // Every node's TLS listener, as the deployment's transport_url lists them.
        let hosts: Vec<String> = cluster
            .nodes
            .iter()
            .map(|node| format!("guest:guest@localhost:{}", node.amqps_port))
            .collect();
        let base = dir.join("nova.conf");
        std::fs::write(
            &base,
            format!(
                "# nova.conf of a service joining the deployment (tests/interop_production.rs)\n\
                 [DEFAULT]\n\
                 debug = False\n\
                 log_dir = /var/log/nova\n\
                 state_path = /var/lib/nova\n\
                 my_ip = 127.0.0.1\n\
                 compute_driver = libvirt.LibvirtDriver\n\
                 transport_url = rabbit://{hosts}/\n\
                 control_exchange = {exchange}\n\
                 rpc_response_timeout = 30\n\
                 \n\
                 [api_database]\n\
                 connection = mysql+pymysql://nova:not-a-secret@db.invalid/nova_api\n\
                 \n\
                 [keystone_authtoken]\n\
                 www_authenticate_uri = https://keystone.invalid:5000\n\
                 auth_type = password\n\
                 username = nova\n\
                 password = not-a-secret\n\
                 \n\
                 [oslo_concurrency]\n\
                 lock_path = {lock_dir}\n\
                 \n\
                 [oslo_messaging_notifications]\n\
                 driver = messagingv2\n\
                 \n\
                 [oslo_messaging_rabbit]\n\
                 ssl = True\n\
                 ssl_ca_file = {ca}\n\
                 ssl_cert_file = {cert}\n\
                 ssl_key_file = {key}\n\
                 rabbit_quorum_queue = true\n\
                 rabbit_transient_quorum_queue = true\n\
                 # py-amqp sends 3000000000 as a signed 64-bit 'L', lapin as 'l': the broker\n\
                 # must find them equivalent (no 406 when the other side joins).\n\
                 rabbit_quorum_delivery_limit = 5\n\
                 rabbit_quorum_max_memory_length = 100\n\
                 rabbit_quorum_max_memory_bytes = 3000000000\n\
                 rabbit_stream_fanout = true\n\
                 use_queue_manager = true\n\
                 processname = {processname}\n\
                 rabbit_qos_prefetch_count = 1\n\
                 \n\
                 [libvirt]\n\
                 virt_type = kvm\n",
                hosts = hosts.join(","),
                lock_dir = lock_dir.display(),
                ca = cluster.ca.display(),
                cert = cluster.client_cert.display(),
                key = cluster.client_key.display(),
            ),
        )
        .expect("write nova.conf");
        let rust_first = dir.join("rust-first.conf");
        std::fs::write(
            &rust_first,
            format!("[DEFAULT]\ncontrol_exchange = {exchange}-r\n"),
        )
        .expect("write rust-first.conf");
        let python_processname = dir.join("python-processname.conf");
        std::fs::write(
            &python_processname,
            format!("[oslo_messaging_rabbit]\nprocessname = {processname}-py\n"),
        )
        .expect("write python-processname.conf");
        Deployment {
            dir,
            base,
            rust_first,
            python_processname,
            exchange,
            processname,
            hostname: production::hostname(),
            lock_dir,
        }
    }

    /// The files a Python peer reads: `files`, and when this test process's group has
    /// lost its leader, a process name of its own. (oslo's queue manager cannot identify
    /// an orphaned group: the peers then run in groups of their own, each a service
    /// generation of its own, and would otherwise restart the counter Rust is using.)
    fn python_files<'a>(&'a self, files: &[&'a Path]) -> Vec<&'a Path> {
        let mut files = files.to_vec();
        if !python::group_leader_alive() {
            files.push(&self.python_processname);
        }
        files
    }

    /// The `n`th reply queue the queue manager names for `processname`.
    fn reply_queue(&self, processname: &str, n: u32) -> String {
        format!("reply_{}:{processname}:{n}", self.hostname)
    }
}

/// Deletes, when dropped, every queue and exchange on the cluster whose name starts with
/// one of the test's prefixes or holds its process name (durable quorum and stream queues
/// outlive every connection), the queue manager's files and the config files.
struct Leftovers {
    cluster: &'static TestCluster,
    prefixes: Vec<String>,
    processname: String,
    hostname: String,
    lock_dir: PathBuf,
    config_dir: PathBuf,
}

impl Leftovers {
    fn names(&self, what: &str) -> Vec<String> {
        let needle = format!(":{}", self.processname);
        try_listing(what, &["name"], "name", |name| {
            self.prefixes.iter().any(|p| name.starts_with(p.as_str())) || name.contains(&needle)
        })
        .unwrap_or_else(|error| {
            eprintln!("cleanup: {error}");
            Vec::new()
        })
        .into_iter()
        .filter_map(|row| row["name"].as_str().map(str::to_owned))
        .collect()
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        for name in [self.processname.clone(), format!("{}-py", self.processname)] {
            let _ = std::fs::remove_file(format!("/dev/shm/{}_{name}_qmanager", self.hostname));
            let _ = std::fs::remove_file(
                self.lock_dir
                    .join(format!("oslo_read_shm_{}_{name}", self.hostname)),
            );
        }
        let _ = std::fs::remove_dir_all(&self.config_dir);
        let queues = self.names("list_queues");
        let exchanges = self.names("list_exchanges");
        let uri = self.cluster.amqp_uri();
        support::rabbit::block_on_own_thread(async move {
            let delete = support::rabbit::delete_entities_at(&uri, &queues, &exchanges);
            let _ = tokio::time::timeout(Duration::from_secs(30), delete).await;
        });
        let left = self.names("list_queues");
        if !left.is_empty() {
            eprintln!("cleanup: queues still on the cluster: {left:?}");
        }
    }
}

/// Shuts the transports down when dropped (a test that panics must not leave consumers
/// that declare the queues again while [`Leftovers`] deletes them).
#[derive(Default)]
struct ShutdownOnDrop(Vec<Transport>);

impl Drop for ShutdownOnDrop {
    fn drop(&mut self) {
        let transports = std::mem::take(&mut self.0);
        if transports.is_empty() {
            return;
        }
        support::rabbit::block_on_own_thread(async move {
            for transport in transports {
                let _ = tokio::time::timeout(Duration::from_secs(10), transport.shutdown()).await;
            }
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

/// `client.py` arguments: the calc namespace on `topic`, then `rest`.
fn py_args<'a>(topic: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--topic", topic, "--namespace", "calc", "--timeout", "30"];
    args.extend_from_slice(rest);
    args
}

fn tag(event: &Value) -> Value {
    event["tag"].clone()
}

/// Collects the tags of `count` `record` casts as the Python server `py` and the Rust
/// servers of `recorder` receive them, waiting at most 90 s in all.
async fn cast_tags(
    py: &mut PyServer,
    recorder: &Recorder,
    count: usize,
) -> (Vec<Value>, Vec<Value>) {
    let (mut python, mut rust) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(90);
    while python.len() + rust.len() < count {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "casts received within 90 s: Python {python:?}, Rust {rust:?}"
        );
        tokio::select! {
            event = py.next_event(left) => python.push(tag(&event)),
            event = recorder.next_within(left) => {
                if let Some(event) = event {
                    rust.push(event.value);
                }
            }
        }
    }
    (python, rust)
}

/// Every AMQP connection of these processes (named `<program>:<pid>:...` by both sides):
/// `(connection_name, ssl, peer_cert_subject)`.
fn connections_of(pids: &[(&str, u32)]) -> Vec<(String, bool, String)> {
    let rows = listing(
        "list_connections",
        &["name", "ssl", "peer_cert_subject", "client_properties"],
        "name",
        |_| true,
    );
    rows.into_iter()
        .filter_map(|row| {
            let properties = row["client_properties"].as_array()?;
            let name = properties
                .iter()
                .find(|property| property[0] == "connection_name")?[2]
                .as_str()?
                .to_owned();
            pids.iter()
                .any(|(program, pid)| name.starts_with(&format!("{program}:{pid}:")))
                .then(|| {
                    (
                        name,
                        row["ssl"] == json!(true),
                        row["peer_cert_subject"].as_str().unwrap_or("").to_owned(),
                    )
                })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_rust_share_a_production_topic_on_the_tls_cluster() {
    let began = Instant::now();
    let cluster = cluster();
    production::use_node(&cluster.nodes[0].name);
    let deployment = Deployment::write(cluster);
    let topic = unique("prodinterop");
    let rust_first = format!("{topic}-r");
    let _leftovers = Leftovers {
        cluster,
        prefixes: vec![topic.clone(), deployment.exchange.clone()],
        processname: deployment.processname.clone(),
        hostname: deployment.hostname.clone(),
        lock_dir: deployment.lock_dir.clone(),
        config_dir: deployment.dir.clone(),
    };
    let mut transports = ShutdownOnDrop::default();
    let base = deployment.base.as_path();
    let python_base = deployment.python_files(&[base]);
    // Python runs that call (each declares a reply queue with the queue manager).
    let mut python_callers = 0;

    // Python declares first; the Rust server joins its quorum queues, stream and
    // exchanges (a 406 would fail its start).
    let mut py1 = PyServer::start_with_config(&python_base, &topic, "py1").await;
    let config = OsloConfig::load(&[ConfigSource::file(base)]).expect("nova.conf");
    assert!(
        config.warnings().is_empty(),
        "a real nova.conf's other sections are ignored silently: {:?}",
        config.warnings()
    );
    let server_transport = Transport::from_config(&config)
        .build()
        .expect("transport from nova.conf");
    transports.0.push(server_transport.clone());
    assert_eq!(server_transport.url().hosts().len(), 3);
    assert_eq!(
        server_transport.config().control_exchange,
        deployment.exchange
    );
    assert_eq!(
        server_transport.config().default_timeout,
        Duration::from_secs(30)
    );
    let recorder = Recorder::default();
    let rs1 = rust_server(&server_transport, &topic, "rs1", &recorder).await;
    let client_transport = Transport::from_config_files(&[base]).expect("transport from nova.conf");
    transports.0.push(client_transport.clone());
    let calc = RpcClient::new(
        client_transport.clone(),
        Target::topic(&topic).with_namespace("calc"),
    );
    let ctx = Context::new();

    // Rust -> both servers: by topic, by server, errors (a class of the server's module,
    // and one the client rebuilds from a module both sides know), a cast.
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
        for (kind, class, module) in [
            ("value", "ValueError", "builtins"),
            ("custom", "CalcError", "calc_errors"),
        ] {
            match to.call(&ctx, "fail", json!({ "kind": kind })).await {
                Err(RpcError::Remote(remote)) => {
                    assert_eq!(
                        (remote.class.as_str(), remote.module.as_str()),
                        (class, module),
                        "{server}"
                    );
                    assert_eq!(remote.kwargs.get("code").cloned(), {
                        (kind == "custom").then_some(json!(7))
                    });
                }
                other => panic!("{server} {kind}: {other:?}"),
            }
        }
    }
    calc.prepare()
        .server("py1")
        .cast(&ctx, "record", json!({"tag": "r-direct"}))
        .await
        .unwrap();
    assert_eq!(
        tag(&py1.next_event(Duration::from_secs(30)).await),
        "r-direct"
    );

    // Call-monitor heartbeats both ways: monitor 4 s (heartbeats every 2 s), a 5 s call.
    // Without heartbeats it would fail after 4 s; 2 s of slack for a loaded machine.
    let rust_heartbeats = async {
        calc.prepare()
            .server("py1")
            .timeout(Duration::from_secs(30))
            .call_monitor_timeout(Duration::from_secs(4))
            .call(&ctx, "sleep", json!({"seconds": 5}))
            .await
    };
    let heartbeat_args = py_args(
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
    let python_heartbeats = py_client_config(&python_base, &heartbeat_args);
    let (rust_slow, python_slow) = tokio::join!(rust_heartbeats, python_heartbeats);
    python_callers += 1;
    assert_eq!(rust_slow.unwrap(), json!(5));
    assert_eq!(python_slow.result(), &json!(5.0));
    assert!(python_slow.elapsed() >= 5.0, "{}", python_slow.raw);
    assert_eq!(recorder.next().await.what, "sleep");

    // Casts by topic from both sides: each reaches exactly one server of the shared
    // quorum queue, and both servers take their turn (prefetch 1, round robin).
    for n in 0..8 {
        calc.cast(&ctx, "record", json!({ "tag": format!("r{n}") }))
            .await
            .unwrap();
    }
    let casts = py_client_config_lines(
        &python_base,
        &py_args(
            &topic,
            &["--repeat", "8", "--index-arg", "tag", "cast", "record"],
        ),
    )
    .await;
    assert_eq!(
        casts.last().map(|line| line.line["summary"]["ok"].clone()),
        Some(json!(8)),
        "{casts:?}"
    );
    let (python, rust) = cast_tags(&mut py1, &recorder, 16).await;
    eprintln!("casts by topic: Python server {python:?}, Rust server {rust:?}");
    let mut all: Vec<String> = python.iter().chain(&rust).map(Value::to_string).collect();
    all.sort();
    let mut expected: Vec<String> = (0..8)
        .map(|n| json!(format!("r{n}")).to_string())
        .chain((0..8).map(|n| json!(n).to_string()))
        .collect();
    expected.sort();
    assert_eq!(all, expected, "each cast reached exactly one server");
    assert!(
        !python.is_empty() && !rust.is_empty(),
        "both servers of the topic served casts: Python {python:?}, Rust {rust:?}"
    );

    // Fanout through the one stream reaches the Python and the Rust server, both ways.
    calc.prepare()
        .fanout(true)
        .cast(&ctx, "record", json!({"tag": "r-fan"}))
        .await
        .unwrap();
    assert_eq!(tag(&py1.next_event(Duration::from_secs(30)).await), "r-fan");
    assert_eq!(recorder.next().await.value, json!("r-fan"));
    let cast = py_client_config(
        &python_base,
        &py_args(
            &topic,
            &["--fanout", "cast", "record", r#"{"tag": "p-fan"}"#],
        ),
    )
    .await;
    assert!(cast.ok(), "{}", cast.raw);
    assert_eq!(tag(&py1.next_event(Duration::from_secs(30)).await), "p-fan");
    assert_eq!(recorder.next().await.value, json!("p-fan"));

    // Python -> Rust: by topic (either server answers), by server, and Rust's errors as
    // Python sees them.
    let add = py_client_config(
        &python_base,
        &py_args(&topic, &["call", "add", r#"{"a": 4, "b": 5}"#]),
    )
    .await;
    python_callers += 1;
    assert_eq!(add.result(), &json!(9));
    let add = py_client_config(
        &python_base,
        &py_args(
            &topic,
            &["--server", "rs1", "call", "add", r#"{"a": 6, "b": 7}"#],
        ),
    )
    .await;
    python_callers += 1;
    assert_eq!(add.result(), &json!(13));
    let value = py_client_config(
        &python_base,
        &py_args(
            &topic,
            &["--server", "rs1", "call", "fail", r#"{"kind": "value"}"#],
        ),
    )
    .await;
    python_callers += 1;
    assert_eq!(value.exception(), "builtins.ValueError");
    // Python's rebuilt exceptions carry the message, then the remote traceback.
    assert!(
        value.message().starts_with("bad value\nTraceback"),
        "{}",
        value.raw
    );
    let custom = py_client_config(
        &python_base,
        &py_args(
            &topic,
            &[
                "--server",
                "rs1",
                "--allowed-exmods",
                "calc_errors",
                "call",
                "fail",
                r#"{"kind": "custom"}"#,
            ],
        ),
    )
    .await;
    python_callers += 1;
    assert_eq!(custom.exception(), "calc_errors_Remote.CalcError_Remote");
    assert_eq!(custom.line["kwargs"], json!({"code": 7}), "{}", custom.raw);

    // Rust declares first, on another topic and (by the override file read after
    // nova.conf) another control exchange: the calc_server example, started from the
    // files as a service is. A Python server then joins it.
    let rust_first_exchange = format!("{}-r", deployment.exchange);
    let rust_first_files = [base, deployment.rust_first.as_path()];
    let mut rs2_args = Vec::new();
    for file in rust_first_files {
        rs2_args.extend(["--config-file", file.to_str().expect("UTF-8 path")]);
    }
    rs2_args.extend(["--topic", rust_first.as_str(), "--server", "rs2"]);
    let rs2 = RustServerProcess::start_with_args(&rs2_args).await;
    let python_rust_first = deployment.python_files(&rust_first_files);
    let py2 = PyServer::start_with_config(&python_rust_first, &rust_first, "py2").await;
    for server in ["rs2", "py2"] {
        let add = py_client_config(
            &python_rust_first,
            &py_args(
                &rust_first,
                &["--server", server, "call", "add", r#"{"a": 20, "b": 22}"#],
            ),
        )
        .await;
        python_callers += 1;
        assert_eq!(add.result(), &json!(42), "{server}");
    }

    // Every connection of the peers is TLS, authenticated by the client certificate.
    let own = std::env::current_exe().expect("test executable");
    let own_program = own
        .file_name()
        .and_then(|name| name.to_str())
        .expect("test executable name");
    let peers = [
        ("server.py", py1.pid().expect("py1 runs")),
        ("server.py", py2.pid().expect("py2 runs")),
        ("calc_server", rs2.pid().expect("rs2 runs")),
        (own_program, std::process::id()),
    ];
    let connections = connections_of(&peers);
    eprintln!("the peers' connections: {connections:?}");
    for (program, pid) in &peers {
        let prefix = format!("{program}:{pid}:");
        assert!(
            connections
                .iter()
                .any(|(name, _, _)| name.starts_with(&prefix)),
            "no connection of {prefix} on the cluster: {connections:?}"
        );
    }
    for (name, ssl, subject) in &connections {
        assert!(*ssl, "{name} is not TLS");
        assert_eq!(subject, "CN=oslo-rpc-test-client", "{name}");
    }

    // What each side declared, field by field (names aside): Python first on `topic`,
    // Rust first on `rust_first`.
    let pairs = [
        (topic.clone(), rust_first.clone(), "quorum"),
        (
            format!("{topic}.py1"),
            format!("{rust_first}.rs2"),
            "quorum",
        ),
        (
            format!("{topic}_fanout"),
            format!("{rust_first}_fanout"),
            "stream",
        ),
    ];
    for (python_queue, rust_queue, kind) in &pairs {
        let python_row = queue(python_queue).unwrap_or_else(|| panic!("{python_queue}"));
        let rust_row = queue(rust_queue).unwrap_or_else(|| panic!("{rust_queue}"));
        eprintln!("declared by Python: {python_row}\ndeclared by Rust:   {rust_row}");
        assert_eq!(python_row["type"], json!(kind), "{python_queue}");
        assert_eq!(python_row["durable"], json!(true), "{python_queue}");
        assert_eq!(
            shape(python_row),
            shape(rust_row),
            "{python_queue} vs {rust_queue}"
        );
    }
    let python_consumer = shape(consumers(&format!("{topic}.py1"))[0].clone());
    assert_eq!(python_consumer["prefetch_count"], json!(1));
    assert_eq!(
        python_consumer,
        shape(consumers(&format!("{rust_first}.rs2"))[0].clone())
    );
    // The shared topic queue: one Python and one Rust consumer, alike.
    let shared: Vec<Value> = consumers(&topic).into_iter().map(shape).collect();
    assert_eq!(shared.len(), 2, "{shared:?}");
    assert_eq!(shared[0], shared[1]);
    for (python_exchange, rust_exchange) in [
        (deployment.exchange.clone(), rust_first_exchange.clone()),
        (format!("{topic}_fanout"), format!("{rust_first}_fanout")),
    ] {
        let python_row = exchange_row(&python_exchange);
        let rust_row = exchange_row(&rust_exchange);
        eprintln!("exchange by Python: {python_row}\nexchange by Rust:   {rust_row}");
        assert_eq!(python_row, rust_row, "{python_exchange} vs {rust_exchange}");
    }

    // The reply queues: Rust's client took the queue manager's first name; each Python
    // run that called (same process group: same service generation) took the next one,
    // from the counter file Rust wrote. No two are equal, and they are declared alike.
    let needle = format!(":{}", deployment.processname);
    let mut replies: Vec<String> =
        listing("list_queues", &["name"], "name", |n| n.contains(&needle))
            .into_iter()
            .filter_map(|row| row["name"].as_str().map(str::to_owned))
            .collect();
    replies.sort();
    let mut expected: Vec<String> = if python::group_leader_alive() {
        (1..=1 + python_callers)
            .map(|n| deployment.reply_queue(&deployment.processname, n))
            .collect()
    } else {
        // Each Python run was a generation of its own, under its own name: they all
        // reused one queue, as restarted services do.
        let python = format!("{}-py", deployment.processname);
        vec![
            deployment.reply_queue(&deployment.processname, 1),
            deployment.reply_queue(&python, 1),
        ]
    };
    expected.sort();
    assert_eq!(replies, expected, "Rust's (1) and the Python calls'");
    let rust_reply = queue(&deployment.reply_queue(&deployment.processname, 1)).unwrap();
    assert_eq!(rust_reply["type"], json!("quorum"));
    let rust_reply = shape(rust_reply);
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
    let (code, stderr) = rs2.stop("TERM").await;
    assert_eq!(code, Some(0), "calc_server: {stderr}");
    assert_eq!(py1.stop().await, Some(0));
    assert_eq!(py2.stop().await, Some(0));
    for transport in std::mem::take(&mut transports.0) {
        transport.shutdown().await;
    }
    eprintln!(
        "python_and_rust_share_a_production_topic_on_the_tls_cluster: {:.1} s (cluster start {:.1} s)",
        began.elapsed().as_secs_f64(),
        cluster.start_time.as_secs_f64()
    );
}

/// An exchange's flags and arguments, without its name.
fn exchange_row(name: &str) -> Value {
    let mut row = exchange(name).unwrap_or_else(|| panic!("exchange {name}"));
    row.as_object_mut().map(|object| object.remove("name"));
    row
}
