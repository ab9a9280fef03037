//! The `oslo-rpc` binary over TLS on the test cluster (`scripts/test-cluster.sh`): the
//! issue's `oslo-rpc call --url "rabbit://...?ssl=true..."` works with a client
//! certificate, and a TLS failure ends in a timeout (exit 3) that says why the broker
//! could not be reached. Runs from a production deployment's config file (queue manager,
//! quorum queues) one after the other each get their reply.

#[allow(dead_code, unreachable_pub)]
#[path = "../../tests/support/rabbit.rs"]
mod rabbit;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use oslo_rpc::prelude::*;
use serde_json::json;

/// Starts (or reuses) the test cluster; its assignments (`printf %q` undone).
fn test_cluster() -> HashMap<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/test-cluster.sh");
    let output = Command::new("timeout")
        .arg("1200")
        .arg("bash")
        .arg(&script)
        .arg("start")
        .output()
        .expect("bash runs scripts/test-cluster.sh");
    assert!(
        output.status.success(),
        "test-cluster.sh start: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.replace('\\', "")))
        .collect()
}

async fn oslo_rpc(args: &[&str]) -> Output {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_oslo-rpc"))
        .args(args)
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("oslo-rpc finished within 60 s")
        .expect("run oslo-rpc")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim_end().to_owned()
}

/// A `calc` server named `s1` on `topic` whose `add` sums `a` and `b`.
async fn add_server(transport: &Transport, topic: &str) -> oslo_rpc::ServerHandle {
    let endpoint = DynamicEndpoint::builder()
        .namespace("calc")
        .method("add", |_ctx, args| async move {
            let int = |name: &str| args.get(name).and_then(|v| v.as_i64()).unwrap_or(0);
            Ok::<_, RpcError>(json!(int("a") + int("b")))
        })
        .build();
    RpcServer::builder(transport.clone(), Target::server(topic, "s1"))
        .endpoint(endpoint)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap()
}

fn ctl(node: &str, args: &[&str]) {
    let status = Command::new("timeout")
        .args(["90", "rabbitmqctl", "-q", "-n", node])
        .args(args)
        .status()
        .expect("rabbitmqctl runs");
    if !status.success() {
        eprintln!("cleanup: rabbitmqctl -n {node} {args:?}: {status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_over_tls_with_a_client_certificate_and_tls_failures_explained() {
    let env = test_cluster();
    let var = |key: &str| env.get(key).cloned().unwrap_or_else(|| panic!("no {key}"));
    let amqp: Vec<String> = var("TEST_CLUSTER_AMQP_PORTS")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let amqps: Vec<String> = var("TEST_CLUSTER_AMQPS_PORTS")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let node = var("TEST_CLUSTER_NODES")
        .split_whitespace()
        .next()
        .expect("a node")
        .to_owned();
    let topic = format!("cli-tls-{}", uuid::Uuid::new_v4().simple());

    // A server on the second node's plain port.
    let transport =
        Transport::new(&format!("rabbit://guest:guest@localhost:{}/", amqp[1])).unwrap();
    let server = add_server(&transport, &topic).await;

    let query = format!(
        "ssl=true&ssl_ca_file={}&ssl_cert_file={}&ssl_key_file={}",
        var("TEST_CLUSTER_CA"),
        var("TEST_CLUSTER_CLIENT_CERT"),
        var("TEST_CLUSTER_CLIENT_KEY")
    );
    let tls_url = format!("rabbit://guest:guest@localhost:{}/?{query}", amqps[0]);
    let output = oslo_rpc(&[
        "call",
        "--url",
        &tls_url,
        "--topic",
        &topic,
        "--namespace",
        "calc",
        "add",
        "a=2",
        "b=3",
    ])
    .await;
    assert_eq!(
        (output.status.code(), text(&output.stdout)),
        (Some(0), "5".to_owned()),
        "{}",
        text(&output.stderr)
    );

    // An expired broker certificate: the driver keeps retrying (as oslo does) until the
    // call's deadline; the message was never sent, so the tool exits 4 (broker not
    // reached), and the error says which host failed and why.
    let expired = var("TEST_CLUSTER_EXPIRED_PORT");
    let bad_url = format!("rabbit://guest:guest@localhost:{expired}/?{query}");
    let output = oslo_rpc(&[
        "call",
        "--url",
        &bad_url,
        "--topic",
        &topic,
        "--timeout",
        "3",
        "add",
        "a=1",
        "b=1",
    ])
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("(the message was not sent)")
            && stderr.contains(&format!(
                "localhost:{expired}: TLS handshake failed: the broker's certificate has \
                 expired"
            )),
        "{stderr}"
    );
    assert!(!stderr.contains("BEGIN"), "{stderr}");

    server.stop().await.unwrap();
    transport.shutdown().await;
    for queue in [topic.clone(), format!("{topic}.s1")] {
        ctl(&node, &["delete_queue", &queue]);
    }
}

/// The names of the reply queues on the cluster.
fn reply_queues(node: &str) -> Vec<String> {
    let output = Command::new("timeout")
        .args([
            "90",
            "rabbitmqctl",
            "-q",
            "-n",
            node,
            "list_queues",
            "--no-table-headers",
        ])
        .arg("name")
        .output()
        .expect("rabbitmqctl runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|name| name.starts_with("reply_"))
        .map(str::to_owned)
        .collect()
}

/// A deployment's config file with `use_queue_manager`: every run of the tool started from
/// a shell is a process group, so a service generation, of its own. With the queue manager
/// each would take `reply_<host>:<processname>:1`, and a quorum queue may still count the
/// previous run's consumer for a moment after it exited and hand it the reply (seen: 2 of
/// 8 runs timed out). The tool uses a `reply_<uuid>` queue per run instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consecutive_runs_from_a_queue_manager_deployment_each_get_their_reply() {
    let env = test_cluster();
    let var = |key: &str| env.get(key).cloned().unwrap_or_else(|| panic!("no {key}"));
    let amqp: Vec<String> = var("TEST_CLUSTER_AMQP_PORTS")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let hosts: Vec<String> = var("TEST_CLUSTER_AMQPS_PORTS")
        .split_whitespace()
        .map(|port| format!("guest:guest@localhost:{port}"))
        .collect();
    let node = var("TEST_CLUSTER_NODES")
        .split_whitespace()
        .next()
        .expect("a node")
        .to_owned();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (topic, exchange) = (format!("cli-qm-{id}"), format!("cli-qmx-{id}"));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-qm-{id}"));
    std::fs::create_dir_all(dir.join("locks")).unwrap();
    let config = dir.join("nova.conf");
    std::fs::write(
        &config,
        format!(
            "[DEFAULT]\ntransport_url = rabbit://{}/\ncontrol_exchange = {exchange}\n\
             [oslo_concurrency]\nlock_path = {}\n\
             [oslo_messaging_rabbit]\nssl = true\nssl_ca_file = {}\nssl_cert_file = {}\n\
             ssl_key_file = {}\nrabbit_quorum_queue = true\n\
             rabbit_transient_quorum_queue = true\nrabbit_stream_fanout = true\n\
             use_queue_manager = true\nprocessname = cli-qm-{id}\n\
             rabbit_qos_prefetch_count = 1\n",
            hosts.join(","),
            dir.join("locks").display(),
            var("TEST_CLUSTER_CA"),
            var("TEST_CLUSTER_CLIENT_CERT"),
            var("TEST_CLUSTER_CLIENT_KEY"),
        ),
    )
    .unwrap();
    let before = reply_queues(&node);

    // The service, from the same file.
    let transport = Transport::from_config_files(&[&config]).unwrap();
    let server = add_server(&transport, &topic).await;

    let config_arg = config.to_str().unwrap();
    let runs = 8;
    let mut outcomes = Vec::new();
    for n in 0..runs {
        let a = n.to_string();
        let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_oslo-rpc"))
            .args(["call", "--config-file", config_arg, "--topic", &topic])
            .args(["--server", "s1", "--namespace", "calc", "--timeout", "20"])
            .args(["add", &format!("a={a}"), "b=1"])
            .process_group(0)
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .expect("oslo-rpc finished within 60 s")
            .expect("run oslo-rpc");
        outcomes.push((
            output.status.code(),
            text(&output.stdout),
            text(&output.stderr),
        ));
    }
    // Reply queues that appeared meanwhile: the runs' (left to expire, as oslo leaves
    // them; deleted below) or another test's (never ours to delete unless
    // they have the runs' shape: `reply_<32 hex digits>`, or the file's process name).
    let created: Vec<String> = reply_queues(&node)
        .into_iter()
        .filter(|name| !before.contains(name))
        .collect();
    let processname = format!(":cli-qm-{id}:");
    let queue_manager_names: Vec<&String> = created
        .iter()
        .filter(|name| name.contains(&processname))
        .collect();
    let left: Vec<String> = created
        .iter()
        .filter(|name| {
            name.contains(&processname)
                || name
                    .strip_prefix("reply_")
                    .is_some_and(|id| id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()))
        })
        .cloned()
        .collect();
    eprintln!("reply queues left by the runs: {left:?}");

    server.stop().await.unwrap();
    transport.shutdown().await;
    let mut queues = vec![
        topic.clone(),
        format!("{topic}.s1"),
        format!("{topic}_fanout"),
    ];
    queues.extend(left.iter().cloned());
    let uri = format!("amqp://guest:guest@127.0.0.1:{}/%2f", amqp[0]);
    let exchanges = [exchange.clone(), format!("{topic}_fanout")];
    rabbit::delete_entities_at(&uri, &queues, &exchanges).await;
    let _ = std::fs::remove_dir_all(&dir);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let _ = std::fs::remove_file(format!("/dev/shm/{}_cli-qm-{id}_qmanager", host.trim()));

    for (n, outcome) in outcomes.iter().enumerate() {
        assert_eq!(
            (outcome.0, outcome.1.as_str()),
            (Some(0), (n + 1).to_string().as_str()),
            "run {n}: {}",
            outcome.2
        );
    }
    assert!(
        queue_manager_names.is_empty(),
        "the runs used the queue manager's names: {queue_manager_names:?}"
    );
}
