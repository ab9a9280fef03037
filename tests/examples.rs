//! The RabbitMQ examples work against each other: `calc_server` prints READY once
//! consuming, serves `calc_client`, and stops gracefully on SIGTERM and SIGINT (deleting
//! its fanout queue; spec §2.1).

mod python;
mod support;

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
