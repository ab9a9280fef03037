//! The `oslo-rpc` binary against a real Python oslo.messaging 18.3.1 server on the
//! machine's RabbitMQ: calls print the JSON result, remote errors `module.Class: message`
//! with exit 1, timeouts exit 3, casts and fanout casts arrive.

#[path = "../../tests/python/mod.rs"]
mod python;
#[allow(dead_code, unreachable_pub)]
#[path = "../../tests/support/rabbit.rs"]
mod rabbit;

use std::process::Output;
use std::time::Duration;

use python::{PyServer, rabbit_url};

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

async fn oslo_rpc(args: &[&str]) -> Output {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_oslo-rpc"))
        .args(args)
        .env("OSLO_RPC_URL", rabbit_url())
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_and_casts_reach_a_python_server() {
    let topic = unique("cli");
    let mut server = PyServer::start(&topic, "py1", None).await;

    // The issue's example, verbatim apart from the topic.
    let output = oslo_rpc(&[
        "call",
        "--topic",
        &topic,
        "--namespace",
        "calc",
        "--version",
        "1.3",
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

    let output = oslo_rpc(&[
        "call",
        "--topic",
        &topic,
        "--namespace",
        "calc",
        "echo",
        r#"{"payload": {"b": [1, NaN], "a": "\u00e9"}}"#,
    ])
    .await;
    assert_eq!(
        text(&output.stdout),
        r#"{"b": [1, NaN], "a": "\u00e9"}"#,
        "{}",
        text(&output.stderr)
    );

    let output = oslo_rpc(&["call", "--topic", &topic, "--version", "2.0", "ping"]).await;
    assert_eq!(text(&output.stdout), r#""pong""#);

    let output = oslo_rpc(&[
        "call",
        "--topic",
        &topic,
        "--namespace",
        "calc",
        "fail",
        "kind=value",
    ])
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stderr), "builtins.ValueError: bad value");

    let output = oslo_rpc(&[
        "call",
        "--topic",
        &topic,
        "--namespace",
        "calc",
        "--version",
        "1.4",
        "add",
        "a=1",
        "b=1",
    ])
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "oslo_messaging.rpc.dispatcher.UnsupportedVersion: Endpoint does not support RPC version 1.4. Attempted method: add"
    );

    let output = oslo_rpc(&[
        "--json",
        "call",
        "--topic",
        &topic,
        "--namespace",
        "calc",
        "fail",
        "kind=custom",
    ])
    .await;
    assert_eq!(output.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_str(&text(&output.stderr)).expect("JSON error");
    assert_eq!(
        (error["module"].as_str(), error["class"].as_str()),
        (Some("calc_errors"), Some("CalcError"))
    );
    assert_eq!(error["kwargs"]["code"], 7);

    let output = oslo_rpc(&[
        "call",
        "--topic",
        &topic,
        "--namespace",
        "calc",
        "--timeout",
        "1",
        "sleep",
        "seconds=3",
    ])
    .await;
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));

    let output = oslo_rpc(&[
        "call",
        "--topic",
        &topic,
        "--namespace",
        "calc",
        "--call-monitor-timeout",
        "2",
        "sleep",
        "seconds=2.5",
    ])
    .await;
    assert_eq!(text(&output.stdout), "2.5", "{}", text(&output.stderr));

    let output = oslo_rpc(&[
        "cast",
        "--topic",
        &topic,
        "--namespace",
        "calc",
        "record",
        "tag=from-cli",
    ])
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        server.next_event(Duration::from_secs(20)).await["tag"],
        "from-cli"
    );
    let output = oslo_rpc(&[
        "cast",
        "--topic",
        &topic,
        "--fanout",
        "--namespace",
        "calc",
        "record",
        "tag=fanout",
    ])
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        server.next_event(Duration::from_secs(20)).await["tag"],
        "fanout"
    );

    assert_eq!(server.stop().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tap_prints_python_requests_without_taking_them() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let topic = unique("cli-tap");
    let mut server = PyServer::start(&topic, "py1", None).await;
    let mut tap = tokio::process::Command::new(env!("CARGO_BIN_EXE_oslo-rpc"))
        .args(["tap", "--topic", &topic, "--count", "3"])
        .env("OSLO_RPC_URL", rabbit_url())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start oslo-rpc tap");
    let mut stderr = BufReader::new(tap.stderr.take().expect("stderr")).lines();
    let bound = tokio::time::timeout(Duration::from_secs(30), stderr.next_line()).await;
    let line = bound
        .expect("tap started within 30 s")
        .expect("stderr")
        .expect("a line");
    assert!(line.contains("tapping topic"), "{line}");

    let calc = |rest: &[&str]| {
        let mut args = vec!["--topic", topic.as_str(), "--namespace", "calc"];
        args.extend_from_slice(rest);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let context = r#"{"request_id": "req-tap"}"#;
    let add = calc(&["--context", context, "call", "add", r#"{"a": 2, "b": 3}"#]);
    let add: Vec<&str> = add.iter().map(String::as_str).collect();
    assert_eq!(
        python::py_client(&add, None).await.result(),
        &serde_json::json!(5)
    );
    let direct = calc(&["--server", "py1", "cast", "record", r#"{"tag": "direct"}"#]);
    let direct: Vec<&str> = direct.iter().map(String::as_str).collect();
    python::py_client(&direct, None).await.result();
    let fanout = calc(&["--fanout", "cast", "record", r#"{"tag": "all"}"#]);
    let fanout: Vec<&str> = fanout.iter().map(String::as_str).collect();
    python::py_client(&fanout, None).await.result();
    // The server received both casts: the tap took nothing.
    assert_eq!(
        server.next_event(Duration::from_secs(20)).await["tag"],
        "direct"
    );
    assert_eq!(
        server.next_event(Duration::from_secs(20)).await["tag"],
        "all"
    );

    let output = tokio::time::timeout(Duration::from_secs(30), tap.wait_with_output())
        .await
        .expect("tap exits after --count 3")
        .expect("tap output");
    assert!(output.status.success());
    let lines: Vec<serde_json::Value> = text(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["kind"], "call");
    assert_eq!(lines[0]["method"], "add");
    assert_eq!(lines[0]["routing_key"], topic.as_str());
    assert_eq!(lines[0]["args"], serde_json::json!({"a": 2, "b": 3}));
    assert_eq!(lines[0]["context"]["request_id"], "req-tap");
    assert_eq!(lines[1]["kind"], "cast");
    assert_eq!(lines[1]["routing_key"], format!("{topic}.py1"));
    assert_eq!(lines[2]["exchange"], format!("{topic}_fanout"));
    assert_eq!(lines[2]["args"]["tag"], "all");
    assert_eq!(server.stop().await, Some(0));
}

/// Runs `oslo-rpc` with `$OSLO_RPC_URL` set to `env_url`.
async fn oslo_rpc_with_env(args: &[&str], env_url: &str) -> Output {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_oslo-rpc"))
        .args(args)
        .env("OSLO_RPC_URL", env_url)
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("oslo-rpc finished within 60 s")
        .expect("run oslo-rpc")
}

/// Nothing listens on port 1: a URL that works would have to come from elsewhere.
const DEAD_URL: &str = "rabbit://guest:guest@127.0.0.1:1/";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_file_gives_the_bus_the_exchange_and_the_rabbit_options() {
    let topic = unique("cli-config");
    let exchange = unique("cli-config-exchange");
    let dir = std::env::temp_dir().join(unique("oslo-rpc-cli-config"));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    // A nova.conf-like file: the service's own sections around the messaging options.
    let nova = write(
        "nova.conf",
        format!(
            "[DEFAULT]\nmy_ip = 10.0.0.5\ntransport_url = {url}\ncontrol_exchange = {exchange}\n\
             rpc_response_timeout = 2\n[database]\nconnection = mysql+pymysql://nova:x@db/nova\n\
             [oslo_messaging_rabbit]\nheartbeat_timeout_threshold = 17\n\
             rabbit_login_method = PLAIN\n[vnc]\nserver_listen = $my_ip\n",
            url = rabbit_url()
        ),
    );
    let dead = write(
        "dead.conf",
        format!("[DEFAULT]\ntransport_url = {DEAD_URL}\ncontrol_exchange = {exchange}\n"),
    );
    let server = PyServer::start(&topic, "py1", Some(&exchange)).await;

    // The file's transport_url wins over $OSLO_RPC_URL, its control_exchange reaches the
    // Python server (which listens on that exchange only).
    let add = [
        "call",
        "--config-file",
        &nova,
        "--topic",
        &topic,
        "--namespace",
        "calc",
        "add",
        "a=2",
        "b=3",
    ];
    let output = oslo_rpc_with_env(&add, DEAD_URL).await;
    assert_eq!(
        (output.status.code(), text(&output.stdout)),
        (Some(0), "5".to_owned()),
        "{}",
        text(&output.stderr)
    );
    // --url wins over the file's transport_url; the file's exchange still applies.
    let url = rabbit_url();
    let mut explicit = vec!["call", "--url", &url, "--config-file", &dead];
    explicit.extend_from_slice(&add[3..]);
    let output = oslo_rpc_with_env(&explicit, DEAD_URL).await;
    assert_eq!(text(&output.stdout), "5", "{}", text(&output.stderr));
    // rpc_response_timeout = 2 is the call timeout.
    let output = oslo_rpc_with_env(
        &[
            "call",
            "--config-file",
            &nova,
            "--topic",
            &topic,
            "--namespace",
            "calc",
            "sleep",
            "seconds=4",
        ],
        DEAD_URL,
    )
    .await;
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("timed out after 2s"),
        "{}",
        text(&output.stderr)
    );

    // [oslo_messaging_rabbit] reaches the broker: the connection of a running tap was opened
    // with the file's login method and heartbeat.
    let mut tap = tokio::process::Command::new(env!("CARGO_BIN_EXE_oslo-rpc"))
        .args(["tap", "--config-file", &nova, "--topic", &topic])
        .env("OSLO_RPC_URL", DEAD_URL)
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start oslo-rpc tap");
    {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let mut stderr = BufReader::new(tap.stderr.take().expect("stderr")).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), stderr.next_line())
            .await
            .expect("tap started within 30 s");
        let line = line.expect("stderr").expect("a line");
        assert!(
            line.contains(&format!("on exchange {exchange:?}")),
            "{line}"
        );
    }
    let marker = format!("oslo-rpc:{}:", tap.id().expect("tap pid"));
    let connections: Vec<Vec<String>> = tokio::task::spawn_blocking(|| {
        rabbit::list(
            "list_connections",
            &["auth_mechanism", "timeout", "client_properties"],
        )
    })
    .await
    .unwrap()
    .into_iter()
    .filter(|row| {
        row.get(2)
            .is_some_and(|properties| properties.contains(&marker))
    })
    .collect();
    assert!(
        !connections.is_empty(),
        "no connection of the tap ({marker})"
    );
    for row in &connections {
        assert_eq!(
            (row[0].as_str(), row[1].as_str()),
            ("PLAIN", "17"),
            "{row:?}"
        );
    }
    tap.kill().await.expect("stop the tap");

    assert_eq!(server.stop().await, Some(0));
    rabbit::delete_entities(&[], &[exchange]).await;
    let _ = std::fs::remove_dir_all(&dir);
}
