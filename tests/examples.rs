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
