//! A flood: 100 000 casts to a server whose handler is slow. The server runs as a child
//! process (this test binary again, running `flood_server_child`), so the resident memory
//! measured is the server's alone. It must stay bounded by the prefetch (`basic.qos`):
//! oslo's default prefetch 0 would pull the whole backlog into the process (spec §10.2
//! bug 5). And no confirmed cast may be lost while the broker stays up.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use oslo_rpc::prelude::*;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use support::rabbit::{self, rabbit_url};
use support::unique;

const CASTS: usize = 100_000;
/// Each cast carries this much padding, so a process holding the backlog would be large.
const PADDING: usize = 1000;
/// The handler's pause: 64 at a time (the server's default concurrency) is ~3 200 casts/s,
/// slower than the client publishes, so a backlog builds up in the broker.
const HANDLER_PAUSE: Duration = Duration::from_millis(20);
/// The bound on the server's resident memory growth over its idle size. The prefetch
/// lets at most 3 × 64 unacknowledged casts plus 64 being handled into the process,
/// ~300 kB of bodies; the limit leaves room for allocator slack, and is far below the
/// ~100 MB a server that takes the backlog reaches (try
/// `FLOOD_SERVER_QUERY=rabbit_qos_prefetch_count=0`, oslo's default, to see it fail).
const RSS_GROWTH_LIMIT_KB: u64 = 16 * 1024;

/// Kills the child server if the test fails before it exits.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The server, when run as the flood's child (`FLOOD_TOPIC` set); a no-op otherwise.
/// Prints `READY`, then `STAT <rss kB> <distinct casts processed> <duplicates>` every
/// 200 ms, and `DONE` once it has processed `FLOOD_CASTS` distinct casts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_server_child() {
    let Ok(topic) = std::env::var("FLOOD_TOPIC") else {
        return;
    };
    let expected: usize = std::env::var("FLOOD_CASTS").unwrap().parse().unwrap();
    let url = std::env::var("FLOOD_URL").unwrap();
    let driver = rabbit::driver(&url);
    let transport = Transport::builder(&url)
        .driver(driver.clone())
        .build()
        .unwrap();
    let seen = Arc::new(std::sync::Mutex::new(vec![false; expected]));
    let distinct = Arc::new(AtomicUsize::new(0));
    let duplicates = Arc::new(AtomicUsize::new(0));
    let endpoint = {
        let (seen, distinct, duplicates) = (seen.clone(), distinct.clone(), duplicates.clone());
        DynamicEndpoint::builder()
            .method("work", move |_ctx, args| {
                let (seen, distinct, duplicates) =
                    (seen.clone(), distinct.clone(), duplicates.clone());
                async move {
                    tokio::time::sleep(HANDLER_PAUSE).await;
                    let index = args["index"].as_u64().unwrap_or(u64::MAX) as usize;
                    let mut seen = seen.lock().unwrap();
                    match seen.get_mut(index) {
                        Some(slot) if !*slot => {
                            *slot = true;
                            distinct.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => {
                            duplicates.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    Ok::<_, RpcError>(Value::Null)
                }
            })
            .build()
    };
    let server = RpcServer::builder(transport.clone(), Target::server(&topic, "flood"))
        .endpoint(endpoint)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    // The parent deletes these if this process dies before its graceful stop.
    for (kind, name) in driver.declared() {
        if kind == rpc_runtime::transport::rabbit::EntityKind::Queue {
            println!("DECLARED {name}");
        }
    }
    println!("READY");
    let give_up = Instant::now() + Duration::from_secs(240);
    loop {
        let done = distinct.load(Ordering::SeqCst);
        println!(
            "STAT {} {} {}",
            rss_kb(),
            done,
            duplicates.load(Ordering::SeqCst)
        );
        if done >= expected || Instant::now() > give_up {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.stop().await.unwrap();
    transport.shutdown().await;
    println!("DONE");
}

async fn next(reports: &mut mpsc::UnboundedReceiver<Report>) -> Report {
    tokio::time::timeout(Duration::from_secs(60), reports.recv())
        .await
        .expect("the child reports")
        .expect("the child is alive")
}

#[derive(Debug)]
enum Report {
    Declared(String),
    Ready,
    Stat {
        rss_kb: u64,
        done: usize,
        dups: usize,
    },
    Done,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_casts_keeps_server_memory_bounded_and_loses_none() {
    let url = rabbit_url().await;
    let topic = unique("flood");
    let server_url = match std::env::var("FLOOD_SERVER_QUERY") {
        Ok(query) => format!("{url}?{query}"),
        Err(_) => url.clone(),
    };
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "flood_server_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("FLOOD_TOPIC", &topic)
        .env("FLOOD_CASTS", CASTS.to_string())
        .env("FLOOD_URL", &server_url)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let names = rabbit::DeleteOnDrop {
        queues: std::sync::Mutex::new(vec![topic.clone(), format!("{topic}.flood")]),
        exchanges: vec![format!("{topic}_fanout")],
    };
    let mut child = ChildGuard(child);
    let stdout = child.0.stdout.take().unwrap();
    let (tx, mut reports) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // libtest may print "test flood_server_child ... " before the first line.
            let report = if line.ends_with("READY") {
                Report::Ready
            } else if let Some((_, name)) = line.split_once("DECLARED ") {
                Report::Declared(name.to_owned())
            } else if line == "DONE" {
                Report::Done
            } else if let Some((_, stat)) = line.split_once("STAT ") {
                let fields: Vec<u64> = stat.split(' ').filter_map(|f| f.parse().ok()).collect();
                Report::Stat {
                    rss_kb: fields[0],
                    done: fields[1] as usize,
                    dups: fields[2] as usize,
                }
            } else {
                continue;
            };
            if tx.send(report).is_err() {
                break;
            }
        }
    });
    loop {
        match next(&mut reports).await {
            Report::Ready => break,
            Report::Declared(name) => names.queues.lock().unwrap().push(name),
            other => panic!("{other:?}"),
        }
    }
    let baseline = match next(&mut reports).await {
        Report::Stat { rss_kb, .. } => rss_kb,
        other => panic!("{other:?}"),
    };

    // The client: 100 000 confirmed casts, 64 in flight.
    let driver = rabbit::driver(&url);
    let _cleanup = rabbit::Cleanup(driver.clone());
    let transport = Transport::builder(&url)
        .driver(driver.clone())
        .build()
        .unwrap();
    let client = RpcClient::new(transport.clone(), Target::topic(&topic));
    let padding = "x".repeat(PADDING);
    let started = Instant::now();
    let next_index = Arc::new(AtomicUsize::new(0));
    let publishers: Vec<_> = (0..64)
        .map(|_| {
            let (client, next_index, padding) =
                (client.clone(), next_index.clone(), padding.clone());
            tokio::spawn(async move {
                loop {
                    let index = next_index.fetch_add(1, Ordering::SeqCst);
                    if index >= CASTS {
                        return;
                    }
                    client
                        .cast(
                            &Context::new(),
                            "work",
                            json!({"index": index, "padding": padding}),
                        )
                        .await
                        .expect("a confirmed cast");
                }
            })
        })
        .collect();
    let mut peak = baseline;
    let mut published_in = None;
    let mut last = (0, 0);
    let finished = loop {
        if published_in.is_none() && publishers.iter().all(|p| p.is_finished()) {
            published_in = Some(started.elapsed());
        }
        match next(&mut reports).await {
            Report::Stat { rss_kb, done, dups } => {
                peak = peak.max(rss_kb);
                last = (done, dups);
            }
            Report::Done => break started.elapsed(),
            Report::Ready | Report::Declared(_) => {}
        }
        assert!(
            started.elapsed() < Duration::from_secs(200),
            "the flood did not drain: {last:?}"
        );
    };
    for publisher in publishers {
        publisher.await.unwrap();
    }
    let _ = child.0.wait();
    let growth = peak.saturating_sub(baseline);
    eprintln!(
        "{CASTS} casts of {PADDING} B: published in {published_in:?}, processed in \
         {finished:?}; server RSS {baseline} kB idle, {peak} kB peak (+{growth} kB); \
         {} duplicates",
        last.1
    );
    assert_eq!(last.0, CASTS, "every confirmed cast was processed");
    assert!(
        growth < RSS_GROWTH_LIMIT_KB,
        "server RSS grew by {growth} kB (limit {RSS_GROWTH_LIMIT_KB} kB)"
    );
    transport.shutdown().await;
    // `names` deletes the child's topic and server queues (oslo never deletes them).
}
