//! The test cluster of `scripts/test-cluster.sh` itself: three clustered nodes beside the
//! machine's broker, each answering AMQP on its plain and TLS ports, and the assignments
//! the script prints read back by `support::cluster`.

mod support;

use std::time::Duration;

use lapin::{Connection, ConnectionProperties};
use support::cluster::{cluster, parse_env};

#[test]
fn parses_what_the_script_prints() {
    let printed = "TEST_CLUSTER_MODE=cluster\n\
        TEST_CLUSTER_NODES=a@localhost\\ b@localhost\n\
        TEST_CLUSTER_AMQP_PORTS=1\\ 2\n\
        TEST_CLUSTER_AMQPS_PORTS=3\\ 4\n\
        TEST_CLUSTER_URL=rabbit://g:g@localhost:1\\,g:g@localhost:2/\n\
        TEST_CLUSTER_TLS_URL=rabbit://x/\\?ssl=true\\&a=b\n\
        TEST_CLUSTER_CERTS=c\nTEST_CLUSTER_CA=c/ca.pem\nTEST_CLUSTER_CLIENT_CERT=c/c\n\
        TEST_CLUSTER_CLIENT_KEY=c/k\nTEST_CLUSTER_CLIENT_BUNDLE=c/b\n\
        TEST_CLUSTER_OTHER_CA=c/o\nTEST_CLUSTER_OTHER_CLIENT_CERT=c/oc\n\
        TEST_CLUSTER_OTHER_CLIENT_KEY=c/ok\nTEST_CLUSTER_EXPIRED_PORT=7\n";
    let cluster = parse_env(printed, Duration::ZERO).unwrap();
    assert_eq!(cluster.nodes.len(), 2);
    assert_eq!(cluster.nodes[1].name, "b@localhost");
    assert_eq!(cluster.nodes[1].amqps_port, 4);
    assert_eq!(cluster.url, "rabbit://g:g@localhost:1,g:g@localhost:2/");
    assert_eq!(cluster.tls_url, "rabbit://x/?ssl=true&a=b");
    assert_eq!(cluster.expired_port, Some(7));
    assert_eq!(cluster.wrong_host_port, None);
    assert!(parse_env("TEST_CLUSTER_MODE=cluster\n", Duration::ZERO).is_err());
}

#[tokio::test]
async fn three_clustered_nodes_answer_on_their_plain_ports() {
    let cluster = cluster();
    assert_eq!(cluster.nodes.len(), 3);
    let running = cluster.ctl(
        &cluster.nodes[0],
        &["eval", "lists:sort(rabbit_mnesia:cluster_nodes(running))."],
    );
    for node in &cluster.nodes {
        assert!(
            running.contains(&node.name),
            "{} is not running in the cluster: {running}",
            node.name
        );
        assert_ne!(node.amqp_port, 5672, "the machine broker's port");
        assert_ne!(node.amqps_port, 5671);
        let uri = format!("amqp://guest:guest@127.0.0.1:{}/%2f", node.amqp_port);
        let connection = tokio::time::timeout(
            Duration::from_secs(20),
            Connection::connect(&uri, ConnectionProperties::default()),
        )
        .await
        .expect("AMQP handshake within 20 s")
        .unwrap_or_else(|e| panic!("{}: {e}", node.name));
        support::rabbit::close_connection(&connection).await;
    }
    for file in [&cluster.ca, &cluster.client_cert, &cluster.client_key] {
        assert!(file.is_file(), "{} missing", file.display());
    }
}
