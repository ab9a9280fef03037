//! The `oslo-rpc` binary over TLS on the test cluster (`scripts/test-cluster.sh`): the
//! issue's `oslo-rpc call --url "rabbit://...?ssl=true..."` works with a client
//! certificate, and a TLS failure ends in a timeout (exit 3) that says why the broker
//! could not be reached.

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
    let transport = Transport::connect(&format!("rabbit://guest:guest@localhost:{}/", amqp[1]))
        .await
        .unwrap();
    let endpoint = DynamicEndpoint::builder()
        .namespace("calc")
        .method("add", |_ctx, args| async move {
            let int = |name: &str| args.get(name).and_then(|v| v.as_i64()).unwrap_or(0);
            Ok::<_, RpcError>(json!(int("a") + int("b")))
        })
        .build();
    let server = RpcServer::builder(transport.clone(), Target::server(&topic, "s1"))
        .endpoint(endpoint)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();

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

    // An expired broker certificate: the call times out (the driver keeps retrying, as
    // oslo does) and the error says which host failed and why.
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
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the broker could not be reached: localhost:{expired}: TLS handshake failed: the \
             broker's certificate has expired"
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
