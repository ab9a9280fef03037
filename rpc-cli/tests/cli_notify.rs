//! `oslo-rpc notify` and `oslo-rpc listen` against real Python oslo.messaging 18.3.1
//! notification peers on the machine's RabbitMQ (notify §1, §2): what the CLI sends is what a
//! Python listener receives, what a Python notifier sends is printed one JSON line at a time,
//! and `listen` ends on --count or --max-seconds leaving the queues as oslo leaves them.

#[path = "../../tests/python/notify.rs"]
mod py_notify;
#[path = "../../tests/python/mod.rs"]
mod python;

use std::process::{Output, Stdio};
use std::time::Duration;

use oslo_rpc::json;
use py_notify::{PyListener, py_notify};
use python::rabbit_url;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

fn command(args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_oslo-rpc"));
    command
        .args(args)
        .env("OSLO_RPC_URL", rabbit_url())
        .kill_on_drop(true);
    command
}

async fn oslo_rpc(args: &[&str]) -> Output {
    tokio::time::timeout(Duration::from_secs(60), command(args).output())
        .await
        .expect("oslo-rpc finished within 60 s")
        .expect("run oslo-rpc")
}

/// Deletes the queues named after a test's topic when dropped.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let list = std::process::Command::new("rabbitmqctl")
            .args(["list_queues", "--quiet", "--no-table-headers", "name"])
            .output();
        let Ok(list) = list else { return };
        for name in String::from_utf8_lossy(&list.stdout).lines() {
            if name.starts_with(&self.0) {
                let _ = std::process::Command::new("rabbitmqctl")
                    .args(["delete_queue", name])
                    .output();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_reaches_a_python_listener() {
    let topic = unique("cli-notify");
    let _cleanup = Cleanup(topic.clone());
    let mut py = PyListener::start(&["--topic", &topic]).await;
    let output = oslo_rpc(&[
        "notify",
        "--topic",
        &topic,
        "--event-type",
        "compute.instance.create.end",
        "--priority",
        "warning",
        "--publisher-id",
        "compute.host1",
        "--context",
        r#"{"request_id": "req-cli"}"#,
        "id=1",
        "state=active",
        r#"tags=["a", "\u00e9"]"#,
    ])
    .await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = py.next(Duration::from_secs(30)).await;
    assert_eq!(line["priority"], "warn");
    assert_eq!(line["publisher_id"], "compute.host1");
    assert_eq!(line["event_type"], "compute.instance.create.end");
    assert_eq!(
        line["payload"],
        json!({"id": 1, "state": "active", "tags": ["a", "\u{e9}"]})
    );
    assert_eq!(
        line["ctxt"],
        json!({"request_id": "req-cli", "client_timeout": null})
    );

    // The messaging (1.0) driver and a JSON object payload; no publisher id is null.
    let output = oslo_rpc(&[
        "notify",
        "--topic",
        &topic,
        "--event-type",
        "v1",
        "--driver",
        "messaging",
        r#"{"k": NaN}"#,
    ])
    .await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = py.next(Duration::from_secs(30)).await;
    assert_eq!(
        (line["priority"].clone(), line["publisher_id"].clone()),
        (json!("info"), Value::Null)
    );
    assert!(line["payload"]["k"].is_null() || line["payload"]["k"].is_number());

    // Bad input is refused before anything is sent (exit 2).
    for args in [
        &[
            "notify",
            "--topic",
            &topic,
            "--event-type",
            "x",
            "--priority",
            "notice",
        ][..],
        &[
            "notify",
            "--topic",
            &topic,
            "--event-type",
            "x",
            "--driver",
            "noop",
        ],
        &[
            "notify",
            "--topic",
            &topic,
            "--event-type",
            "x",
            "not-a-pair",
        ],
        &["notify", "--topic", "", "--event-type", "x"],
    ] {
        let output = oslo_rpc(args).await;
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(py.quiet_for(Duration::from_millis(300)).await);
    py.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_prints_what_a_python_notifier_sends() {
    let topic = unique("cli-listen");
    let _cleanup = Cleanup(topic.clone());
    let pool = format!("{topic}-pool");
    // Three notifications wait in the pool's queue and the default queue... the pool's
    // queue exists once a listener declared it: start one, with a count of 2.
    let mut listen = command(&[
        "listen",
        "--topic",
        &topic,
        "--pool",
        &pool,
        "--priority",
        "info",
        "--priority",
        "error",
        "--count",
        "2",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("start oslo-rpc listen");
    // `listen` says it listens once the pool's queue is declared, bound and consumed (a
    // pool's queue gets only what is sent after it exists), however long the broker takes
    // to answer: other lines (a warning that the broker is slow) may come first.
    let mut stderr = BufReader::new(listen.stderr.take().unwrap()).lines();
    let mut before = Vec::new();
    let listening = tokio::time::timeout(Duration::from_secs(90), async {
        while let Some(line) = stderr.next_line().await.expect("read stderr") {
            if line.contains("listening") {
                return true;
            }
            before.push(line);
        }
        false
    })
    .await;
    assert!(
        matches!(listening, Ok(true)),
        "{listening:?}; stderr so far: {before:#?}"
    );
    py_notify(
        &[
            "--topic",
            &topic,
            "--publisher-id",
            "compute.py",
            "--priority",
            "info",
            "--priority",
            "error",
            "--priority",
            "warn",
            "--event-type",
            "e",
            r#"{"s": "caf\u00e9"}"#,
        ],
        None,
    )
    .await;
    let pid = listen.id().expect("pid");
    let waited = tokio::time::timeout(Duration::from_secs(60), listen.wait_with_output()).await;
    let output = match waited {
        Ok(output) => output.expect("listen output"),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
            let mut rest = String::new();
            while let Ok(Ok(Some(line))) =
                tokio::time::timeout(Duration::from_secs(1), stderr.next_line()).await
            {
                rest.push_str(&line);
                rest.push('\n');
            }
            let queues = std::process::Command::new("rabbitmqctl")
                .args([
                    "list_queues",
                    "--quiet",
                    "name",
                    "messages_ready",
                    "messages_unacknowledged",
                    "consumers",
                ])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            let ours: Vec<&str> = queues.lines().filter(|l| l.starts_with(&topic)).collect();
            panic!(
                "listen did not end within 60 s of the notifications; stderr:\n{rest}\nqueues: {ours:#?}"
            );
        }
    };
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    // The documented shape and key order, in Python's JSON dialect.
    assert!(lines[0].starts_with(r#"{"priority": "info", "publisher_id": "compute.py", "event_type": "e", "payload": {"s": "caf\u00e9"}, "ctxt": {}, "metadata": {"message_id": ""#), "{}", lines[0]);
    let second: Value = json::from_str(lines[1]).unwrap();
    assert_eq!(second["priority"], "error");
    // Queues stay: the pool's queue and the notifier's default queues (notify §2.2).
    let queues = std::process::Command::new("rabbitmqctl")
        .args([
            "list_queues",
            "--quiet",
            "--no-table-headers",
            "name",
            "messages",
        ])
        .output()
        .unwrap();
    let queues = String::from_utf8_lossy(&queues.stdout);
    assert!(
        queues.lines().any(|l| l.starts_with(&format!("{pool}\t"))),
        "{queues}"
    );
    assert!(
        queues.lines().any(|l| l == format!("{topic}.warn\t1")),
        "{queues}"
    );

    // --max-seconds ends a listener that got nothing, with exit 0.
    let started = std::time::Instant::now();
    let output = oslo_rpc(&[
        "listen",
        "--topic",
        &topic,
        "--priority",
        "sample",
        "--max-seconds",
        "1",
    ])
    .await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty());
    assert!(started.elapsed() < Duration::from_secs(30));
    let output = oslo_rpc(&["listen", "--topic", &topic, "--priority", "loud"]).await;
    assert_eq!(output.status.code(), Some(2));
}

/// `notify` and `listen` read oslo config files as `call` does: the notification
/// transport_url (here the broker, while [DEFAULT] transport_url points nowhere), topics and
/// drivers from [oslo_messaging_notifications]; a bad value exits 2 naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_and_listen_read_config_files() {
    let topic = unique("cli-conf");
    let _cleanup = Cleanup(topic.clone());
    let dir = std::env::temp_dir().join(&topic);
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("nova.conf");
    std::fs::write(
        &conf,
        format!(
            "[DEFAULT]\ntransport_url = rabbit://nobody:x@127.0.0.1:1/\n\
             [oslo_messaging_notifications]\ntransport_url = {}\ntopics = {topic}\n\
             driver = messagingv2\ndriver = log\n",
            rabbit_url()
        ),
    )
    .unwrap();
    let conf = conf.to_str().unwrap().to_owned();
    let mut listen = command(&["listen", "--config-file", &conf, "--count", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start oslo-rpc listen");
    let mut stderr = BufReader::new(listen.stderr.take().unwrap()).lines();
    let listening = tokio::time::timeout(Duration::from_secs(90), async {
        while let Some(line) = stderr.next_line().await.expect("read stderr") {
            if line.contains("listening") {
                return Some(line);
            }
        }
        None
    })
    .await;
    assert!(
        matches!(&listening, Ok(Some(line)) if line.contains(&topic)),
        "{listening:?}"
    );
    let output = oslo_rpc(&[
        "notify",
        "--config-file",
        &conf,
        "--event-type",
        "from.config",
        "--priority",
        "info",
        r#"{"a": 1}"#,
    ])
    .await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = tokio::time::timeout(Duration::from_secs(60), listen.wait_with_output())
        .await
        .expect("listen ends after --count 1")
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let line: Value = json::from_str(String::from_utf8_lossy(&output.stdout).trim()).unwrap();
    assert_eq!(line["event_type"], "from.config");
    assert_eq!(line["payload"], json!({"a": 1}));

    let bad = dir.join("bad.conf");
    std::fs::write(&bad, "[oslo_messaging_notifications]\nretry = often\n").unwrap();
    let output = oslo_rpc(&[
        "notify",
        "--config-file",
        bad.to_str().unwrap(),
        "--event-type",
        "x",
    ])
    .await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.conf:2") && stderr.contains("[oslo_messaging_notifications] retry"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
