//! Hardening (issue 12): values at the edges of their types, from URLs and the public API,
//! never panic; what the runtime cannot honour is refused with a clear error.
//! Transport-level behaviour on both transports lives in `scenarios` (run by `memory.rs`
//! and `rabbit.rs`); what is here needs no broker.

use std::time::Duration;

use oslo_rpc::prelude::*;
use oslo_rpc::transport::rabbit::RabbitDriver;
use oslo_rpc::{RpcServer, TransportUrl};

const HUGE: &str = "9223372036854775807";

/// Every integer option of the `[oslo_messaging_rabbit]` group at `i64::MAX` (the largest
/// value oslo.config's `Integer` and ours accept), and the float options at their largest:
/// the driver is built without a panic (the pool's semaphore, backoff sums, `x-expires`
/// in milliseconds, durations from seconds all saturate).
#[tokio::test]
async fn rabbit_options_at_their_largest_build_a_driver() {
    let integers = [
        "rpc_conn_pool_size",
        "conn_pool_min_size",
        "conn_pool_ttl",
        "kombu_missing_consumer_retry_timeout",
        "rabbit_retry_interval",
        "rabbit_retry_backoff",
        "rabbit_interval_max",
        "rabbit_transient_queues_ttl",
        "rabbit_qos_prefetch_count",
        "heartbeat_timeout_threshold",
        "heartbeat_rate",
    ];
    let mut query: Vec<String> = integers.iter().map(|key| format!("{key}={HUGE}")).collect();
    query.push("kombu_reconnect_delay=4.5".to_owned());
    query.push("kombu_reconnect_splay=1e300".to_owned());
    let url = format!("rabbit://u:p@127.0.0.1:1/?{}", query.join("&"));
    let parsed = TransportUrl::parse(&url).expect("oslo accepts these values");
    RabbitDriver::new(&parsed).expect("a driver");
    Transport::connect(&url).await.expect("a transport");
    // The smallest values too (where oslo has no minimum).
    let smallest: Vec<String> = [
        "conn_pool_min_size",
        "conn_pool_ttl",
        "rabbit_qos_prefetch_count",
    ]
    .iter()
    .map(|key| format!("{key}=-{HUGE}"))
    .collect();
    let url = format!("rabbit://127.0.0.1:1/?{}", smallest.join("&"));
    Transport::connect(&url).await.expect("a transport");
}

/// Floats out of an option's range are refused by name, never turned into a duration.
#[tokio::test]
async fn out_of_range_float_options_are_refused_clearly() {
    for value in ["1e300", "5", "-1", "inf", "nan", "1e400"] {
        let url = format!("rabbit://127.0.0.1:1/?kombu_reconnect_delay={value}");
        let error = Transport::connect(&url).await.unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("kombu_reconnect_delay") && text.contains("from 0 to 4.5"),
            "{value}: {text}"
        );
    }
}

/// Builder limits at the edge of `usize` and `Duration`.
#[tokio::test]
async fn builder_limits_at_their_largest() {
    let url = format!("memory://{}", uuid::Uuid::new_v4().simple());
    let transport = Transport::builder(&url)
        .default_timeout(Duration::MAX)
        .reply_retry_timeout(Duration::MAX)
        .connect()
        .await
        .unwrap();
    let server = RpcServer::builder(transport.clone(), Target::server("edge", "s1"))
        .max_concurrency(usize::MAX)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    server.stop().await.unwrap();
    transport.shutdown().await;
}
