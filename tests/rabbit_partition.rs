//! A silent network partition (issue 11, item 8): the node holding a client's connection
//! stops answering without closing anything. lapin closes a connection when nothing was
//! received for two heartbeat intervals (`heartbeat.rs`: it sends every half interval and
//! checks then), the AMQP rule oslo applies too (spec §7.5: `2 * threshold`); the driver
//! then reconnects to the next host of the URL (spec §7.4, `maybe_switch_next`). The
//! partition is a loopback proxy that drops bytes both ways and keeps its sockets open
//! (`support::proxy`).

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oslo_rpc::TransportUrl;
use oslo_rpc::prelude::*;
use rpc_runtime::transport::rabbit::{Connections, RabbitDriver};
use serde_json::json;

use support::cluster::{ClusterCleanup, cluster};
use support::proxy::Proxy;
use support::{Fixture, wait_for};

/// `heartbeat_timeout_threshold` of the partitioned client, in seconds.
const HEARTBEAT: f64 = 2.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_partition_is_detected_by_heartbeats_and_the_client_fails_over() {
    let cluster = cluster();
    let [n1, n2, n3] = [&cluster.nodes[0], &cluster.nodes[1], &cluster.nodes[2]];
    let address = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    let proxies = [
        Proxy::start(address(n1.amqp_port)).await,
        Proxy::start(address(n2.amqp_port)).await,
    ];

    // The server talks to the third node directly; the partition is the client's.
    let server_url = n3.url();
    let server_driver = support::rabbit::driver(&server_url);
    let mut f = Fixture::with_rabbit(&server_url, Some(server_driver.clone())).await;
    f.rabbit = None;
    let _server_cleanup = ClusterCleanup {
        cluster,
        driver: server_driver,
    };
    f.serve("s1").await;

    let client_url = format!(
        "rabbit://guest:guest@127.0.0.1:{},guest:guest@127.0.0.1:{}/\
         ?heartbeat_timeout_threshold={HEARTBEAT}&kombu_reconnect_delay=0",
        proxies[0].port, proxies[1].port
    );
    let driver = Arc::new(
        RabbitDriver::with_connections(
            &TransportUrl::parse(&client_url).unwrap(),
            Connections::Shared,
        )
        .unwrap(),
    );
    let _client_cleanup = ClusterCleanup {
        cluster,
        driver: driver.clone(),
    };
    let transport = Transport::builder(&client_url)
        .driver(driver.clone())
        .build()
        .unwrap();
    let calc = RpcClient::new(
        transport.clone(),
        Target::topic(&f.topic).with_namespace("calc"),
    )
    .timeout(Duration::from_secs(10));
    let ctx = Context::new();
    let add = |a: i64| calc.call(&ctx, "add", json!({"a": a, "b": 1}));
    assert_eq!(add(1).await.unwrap(), json!(2));

    let before = driver.connection_names();
    assert_eq!(before.len(), 1, "one shared connection: {before:?}");
    let through: Vec<usize> = proxies.iter().map(Proxy::accepted).collect();
    let (cut, other) = match through[..] {
        [1, 0] => (&proxies[0], &proxies[1]),
        [0, 1] => (&proxies[1], &proxies[0]),
        _ => panic!("the connection went through one proxy: {through:?}"),
    };

    let partitioned = Instant::now();
    cut.black_hole();
    let interval = Duration::from_secs_f64(HEARTBEAT);
    // Nothing read for two intervals, noticed at lapin's next half-interval check: at most
    // 2.5 intervals after the last frame the broker sent before the partition (RabbitMQ
    // sends one every half interval), plus scheduling slack on a loaded machine.
    let detected = wait_for(interval * 6, || driver.connection_names() != before)
        .await
        .unwrap_or_else(|| panic!("the partition was not detected within {:?}", interval * 6));
    eprintln!(
        "partition detected after {:.2} s ({:.2} heartbeat intervals of {HEARTBEAT} s)",
        detected.as_secs_f64(),
        detected.as_secs_f64() / HEARTBEAT
    );
    assert!(
        detected >= interval,
        "lost before heartbeats could tell ({detected:?}): something else closed it"
    );
    assert!(
        detected <= interval * 5 / 2 + Duration::from_millis(1500),
        "detected after {detected:?}, more than 2.5 heartbeat intervals"
    );

    // The next call goes through the other host.
    let started = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(20), add(41)).await;
    assert_eq!(result.expect("a call within 20 s").unwrap(), json!(42));
    let recovered = partitioned.elapsed();
    eprintln!(
        "a call succeeded through the other host {:.2} s after the partition ({:.2} s after \
         detection)",
        recovered.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    let after = driver.connection_names();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(after, before);
    // A reconnection is probed with a plain TCP connect first (link.rs), so the other host
    // accepts the probe and then the connection.
    assert!(
        (1..=2).contains(&other.accepted()),
        "the new connection went to the other host: {} accepted",
        other.accepted()
    );
    assert_eq!(
        cut.accepted(),
        1,
        "the partitioned host was not tried again"
    );
    transport.shutdown().await;
    f.finish().await;
}
