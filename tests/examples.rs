//! The RabbitMQ examples work against each other: `calc_server` prints READY once
//! consuming, serves `calc_client`, and stops gracefully on SIGTERM and SIGINT (deleting
//! its fanout queue; spec §2.1).

mod python;
mod support;

use std::time::Duration;

use python::{RustServerProcess, example_binary, rabbit_url};

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

async fn calc_client(topic: &str, args: &[&str]) -> (Option<i32>, String) {
    let output = tokio::process::Command::new(example_binary("calc_client"))
        .args(["--url", &rabbit_url(), "--topic", topic])
        .args(args)
        .output()
        .await
        .expect("run calc_client");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).trim().to_owned(),
    )
}

fn queues_of(topic: &str) -> Vec<String> {
    support::rabbit::list("list_queues", &["name"])
        .into_iter()
        .filter_map(|row| row.into_iter().next())
        .filter(|name| name.starts_with(topic))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calc_client_and_calc_server_work_together() {
    support::rabbit::rabbit_url().await;
    for signal in ["TERM", "INT"] {
        let topic = unique("example");
        let server = RustServerProcess::start(&topic, "demo").await;
        assert_eq!(
            calc_client(&topic, &["add", "40", "2"]).await,
            (Some(0), "42".to_owned())
        );
        let (code, tour) = calc_client(&topic, &[]).await;
        assert_eq!(code, Some(0));
        assert!(
            tour.contains("add(2, 3)       -> 5") && tour.contains("ping()          -> pong"),
            "{tour}"
        );
        assert!(
            queues_of(&topic)
                .iter()
                .any(|q| q.starts_with(&format!("{topic}_fanout_")))
        );

        let (code, stderr) = server.stop(signal).await;
        assert_eq!(code, Some(0), "{stderr}");
        assert!(
            stderr.contains(&format!("SIG{signal}, stopping")) && stderr.contains("stopped"),
            "{stderr}"
        );
        // The fanout queue went with the graceful stop; the topic queues stay, as oslo's do.
        let left = queues_of(&topic);
        assert!(!left.iter().any(|q| q.contains("_fanout_")), "{left:?}");
        support::rabbit::delete_entities(&left, &[]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_take_their_bus_from_oslo_config_files() {
    let url = support::rabbit::rabbit_url().await;
    let topic = unique("example-config");
    let exchange = unique("example-config-exchange");
    let dir = std::env::temp_dir().join(unique("oslo-rpc-example-config"));
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    let nova = dir.join("nova.conf");
    std::fs::write(
        &nova,
        "[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:1/\n\
         [oslo_messaging_rabbit]\nheartbeat_timeout_threshold = 20\n",
    )
    .unwrap();
    // The directory comes after the file and wins.
    std::fs::write(
        dir.join("conf.d/10-bus.conf"),
        format!("[DEFAULT]\ntransport_url = {url}\ncontrol_exchange = {exchange}\n"),
    )
    .unwrap();
    let (nova, conf_d) = (nova.to_str().unwrap(), dir.join("conf.d"));
    let conf_d = conf_d.to_str().unwrap();
    let config = [
        "--config-file",
        nova,
        "--config-dir",
        conf_d,
        "--topic",
        &topic,
    ];

    let mut server_args = config.to_vec();
    server_args.extend(["--server", "demo"]);
    let server = RustServerProcess::start_with_args(&server_args).await;
    let mut client_args = config.to_vec();
    client_args.extend(["add", "40", "2"]);
    let output = tokio::process::Command::new(example_binary("calc_client"))
        .args(&client_args)
        .env("RABBIT_URL", "rabbit://guest:guest@127.0.0.1:1/")
        .output()
        .await
        .expect("run calc_client");
    let (code, stderr) = server.stop("TERM").await;
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "42",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("serving topic {topic:?}")),
        "{stderr}"
    );

    // The server's queues are bound to the file's control exchange.
    let bound: Vec<Vec<String>> =
        support::rabbit::list("list_bindings", &["source_name", "destination_name"])
            .into_iter()
            .filter(|row| row.get(1).is_some_and(|queue| queue.starts_with(&topic)))
            .collect();
    let left = queues_of(&topic);
    support::rabbit::delete_entities(&left, std::slice::from_ref(&exchange)).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert!(bound.iter().any(|row| row[0] == exchange), "{bound:?}");
}

/// `calc_server` started with `RUST_LOG` set to `rust_log` (unset when `None`), its stderr
/// read as it comes (so a chatty log never fills the pipe).
struct LoggingServer {
    child: tokio::process::Child,
    stderr: tokio::sync::watch::Receiver<String>,
}

impl LoggingServer {
    async fn start(topic: &str, rust_log: Option<&str>) -> LoggingServer {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let mut command = tokio::process::Command::new(example_binary("calc_server"));
        command
            .args(["--url", &rabbit_url(), "--topic", topic, "--server", "demo"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        match rust_log {
            Some(filter) => command.env("RUST_LOG", filter),
            None => command.env_remove("RUST_LOG"),
        };
        let mut child = command.spawn().expect("start calc_server");
        let (tx, stderr) = tokio::sync::watch::channel(String::new());
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                tx.send_modify(|text| {
                    text.push_str(&line);
                    text.push('\n');
                });
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), stdout.next_line()).await;
        match ready {
            Ok(Ok(Some(line))) if line == "READY" => LoggingServer { child, stderr },
            other => panic!("calc_server did not print READY: {other:?}"),
        }
    }

    /// Waits (at most 30 s) until a line of stderr satisfies `wanted`; returns it.
    async fn line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        let found = tokio::time::timeout(
            Duration::from_secs(30),
            self.stderr.wait_for(|text| text.lines().any(&wanted)),
        )
        .await
        .is_ok_and(|seen| seen.is_ok());
        let text = self.stderr.borrow().clone();
        match text.lines().find(|l| wanted(l)) {
            Some(line) if found => line.to_owned(),
            _ => panic!("no such line in calc_server's stderr:\n{text}"),
        }
    }

    /// Stops it with SIGTERM; returns all of stderr.
    async fn stop(mut self) -> String {
        if let Some(pid) = self.child.id() {
            let _ = tokio::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("calc_server stopped within 30 s")
            .expect("calc_server status");
        assert!(status.success(), "{status}");
        self.line(|line| line.contains("calc_server: stopped"))
            .await;
        self.stderr.borrow().clone()
    }
}

/// The value of `key=` in a log line (quoted or not).
fn logged_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(&format!("{key}="))? + key.len() + 1;
    let rest = line[start..].trim_start_matches('"');
    let end = rest.find(['"', ' ', '}']).unwrap_or(rest.len());
    Some(&rest[..end])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calc_server_logs_its_connection_and_with_debug_every_request_id() {
    // Issue 14 item 2: connection events at info by default; with RUST_LOG=debug, each
    // request with its request_id and method, the request_id the client sent.
    support::rabbit::rabbit_url().await;
    let topic = unique("example-logs");
    let mut server = LoggingServer::start(&topic, None).await;
    let connected = server
        .line(|line| line.contains("connected to AMQP server"))
        .await;
    assert!(connected.contains(" INFO "), "{connected}");
    assert!(connected.contains("server.address="), "{connected}");
    assert_eq!(
        calc_client(&topic, &["add", "40", "2"]).await,
        (Some(0), "42".to_owned())
    );
    let quiet = server.stop().await;
    assert!(!quiet.contains("request handled"), "{quiet}");

    let mut server = LoggingServer::start(&topic, Some("debug")).await;
    let output = tokio::process::Command::new(example_binary("calc_client"))
        .args(["--url", &rabbit_url(), "--topic", &topic, "add", "40", "2"])
        .env("RUST_LOG", "oslo_rpc_runtime=debug")
        .output()
        .await
        .expect("run calc_client");
    let client_log = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "42");
    let finished = client_log
        .lines()
        .find(|line| line.contains("rpc.call{") && line.contains("finished"))
        .unwrap_or_else(|| panic!("no call in the client's log:\n{client_log}"));
    let request_id = logged_value(finished, "request_id").expect("a request_id");
    assert!(request_id.starts_with("req-"), "{finished}");
    let handled = server
        .line(|line| line.contains("request handled") && line.contains(request_id))
        .await;
    assert!(handled.contains(" DEBUG "), "{handled}");
    assert_eq!(
        logged_value(&handled, "rpc.method"),
        Some("add"),
        "{handled}"
    );
    assert_eq!(
        logged_value(&handled, "oslo.outcome"),
        Some("ok"),
        "{handled}"
    );
    server.stop().await;
    support::rabbit::delete_entities(&queues_of(&topic), &[]).await;
}
