//! TLS to RabbitMQ on the test cluster (`scripts/test-cluster.sh`): calls and casts with
//! a client certificate, the typed TLS options, `ssl_version`, and every kind of bad TLS
//! input ending in a clear error that names the host, within the connect timeout, with a
//! multi-host URL moving on to the next host. What oslo does with each option and where we
//! differ: `rpc-runtime/src/transport/rabbit/tls.rs`.

mod python;
mod support;

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use oslo_rpc::TransportUrl;
use oslo_rpc::prelude::*;
use rpc_runtime::transport::rabbit::{Connections, RabbitDriver, TlsOptions, TlsVersion};
use serde_json::json;

use support::cluster::{ClusterCleanup, TestCluster, cluster};
use support::{Fixture, unique};

/// The driver's connect timeout (`config.rs`): a bad TLS peer must fail well within it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn path(file: &Path) -> String {
    file.display().to_string()
}

/// TLS to every node with the test CA and the client certificate, plus `extra` query.
fn tls_url(cluster: &TestCluster, extra: &str) -> String {
    let ports: Vec<u16> = cluster.nodes.iter().map(|n| n.amqps_port).collect();
    let mut query = format!(
        "ssl=true&ssl_ca_file={}&ssl_cert_file={}&ssl_key_file={}",
        path(&cluster.ca),
        path(&cluster.client_cert),
        path(&cluster.client_key)
    );
    if !extra.is_empty() {
        query.push('&');
        query.push_str(extra);
    }
    cluster.tls_url_to("localhost", &ports, &query)
}

/// A fixture on the cluster whose cleanup deletes on the cluster (not the machine broker).
async fn fixture(cluster: &'static TestCluster, url: &str) -> (Fixture, ClusterCleanup) {
    let driver = support::rabbit::driver(url);
    let mut fixture = Fixture::with_rabbit(url, Some(driver.clone())).await;
    fixture.rabbit = None;
    (fixture, ClusterCleanup { cluster, driver })
}

/// `(ssl, ssl_protocol, peer_cert_subject)` of the broker connection named `name`.
fn broker_tls(cluster: &TestCluster, name: &str) -> (String, String, String) {
    let needle = format!("{{\"connection_name\",\"{name}\"}}");
    cluster
        .list(
            &cluster.nodes[0],
            "list_connections",
            &[
                "client_properties",
                "ssl",
                "ssl_protocol",
                "peer_cert_subject",
            ],
        )
        .into_iter()
        .find(|row| row[0].contains(&needle))
        .map(|row| (row[1].clone(), row[2].clone(), row[3].clone()))
        .unwrap_or_else(|| panic!("the cluster lists no connection named {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_and_casts_over_tls_with_a_client_certificate() {
    let cluster = cluster();
    let (mut f, cleanup) = fixture(cluster, &tls_url(cluster, "")).await;
    f.serve("s1").await;
    let calc = f.calc();
    let ctx = Context::new();
    assert_eq!(
        calc.call(&ctx, "add", json!({"a": 2, "b": 3}))
            .await
            .unwrap(),
        json!(5)
    );
    // Larger than a TLS record (16 KiB) and than our AMQP frame.
    let payload = "x".repeat(200 * 1024);
    assert_eq!(
        calc.call(&ctx, "echo", json!({ "payload": payload }))
            .await
            .unwrap(),
        json!(payload)
    );
    calc.cast(&ctx, "record", json!({"tag": "cast over tls"}))
        .await
        .unwrap();
    assert_eq!(f.recorder.next().await.value, json!("cast over tls"));
    let fanout = RpcClient::new(
        f.transport.clone(),
        Target::topic(&f.topic)
            .with_namespace("calc")
            .with_fanout(true),
    );
    fanout
        .cast(&ctx, "record", json!({"tag": "fanout over tls"}))
        .await
        .unwrap();
    assert_eq!(f.recorder.next().await.value, json!("fanout over tls"));
    let names = cleanup.driver.connection_names();
    assert!(!names.is_empty());
    for name in names {
        let (ssl, protocol, subject) = broker_tls(cluster, &name);
        assert_eq!(ssl, "true", "{name}");
        assert_eq!(protocol, "tlsv1.3", "{name}: negotiated by default");
        assert!(
            subject.contains("CN=oslo-rpc-test-client"),
            "{name}: the broker saw client certificate {subject:?}"
        );
    }
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_tls_options_on_the_builder_and_ssl_version() {
    let cluster = cluster();
    let (mut f, _cleanup) = fixture(cluster, &tls_url(cluster, "")).await;
    f.serve("s1").await;
    // No ssl option in the URL: TLS comes from the builder, limited to TLS 1.2, with the
    // client certificate and key in one file (ssl_cert_file without ssl_key_file).
    let node = &cluster.nodes[1];
    let url = format!("rabbit://guest:guest@localhost:{}/", node.amqps_port);
    let tls = TlsOptions::new()
        .ca_file(&cluster.ca)
        .client_cert_with_key(&cluster.client_bundle)
        .version(TlsVersion::Tls12);
    let driver = Arc::new(
        RabbitDriver::with_tls(
            &TransportUrl::parse(&url).unwrap(),
            Connections::Shared,
            &tls,
        )
        .unwrap(),
    );
    let _client_cleanup = ClusterCleanup {
        cluster,
        driver: driver.clone(),
    };
    let transport = Transport::builder(&url)
        .driver(driver.clone())
        .build()
        .unwrap();
    let calc = RpcClient::new(
        transport.clone(),
        Target::topic(&f.topic).with_namespace("calc"),
    )
    .timeout(Duration::from_secs(20));
    assert_eq!(
        calc.call(&Context::new(), "add", json!({"a": 1, "b": 1}))
            .await
            .unwrap(),
        json!(2)
    );
    let names = driver.connection_names();
    assert_eq!(names.len(), 1, "Connections::Shared: {names:?}");
    let (ssl, protocol, subject) = broker_tls(cluster, &names[0]);
    assert_eq!((ssl.as_str(), protocol.as_str()), ("true", "tlsv1.2"));
    assert!(subject.contains("CN=oslo-rpc-test-client"), "{subject}");
    transport.shutdown().await;

    // TransportBuilder::tls makes the driver itself; the URL's port is the TLS one.
    let transport = Transport::builder(&url)
        .tls(TlsOptions::new().ca_file(&cluster.ca))
        .build()
        .unwrap();
    let calc = RpcClient::new(
        transport.clone(),
        Target::topic(&f.topic).with_namespace("calc"),
    )
    .timeout(Duration::from_secs(20));
    assert_eq!(
        calc.call(&Context::new(), "add", json!({"a": 2, "b": 2}))
            .await
            .unwrap(),
        json!(4)
    );
    transport.shutdown().await;
    // The builder's TLS is for the rabbit driver it makes.
    let error = Transport::builder("memory://tls")
        .tls(TlsOptions::new())
        .build()
        .unwrap_err();
    assert!(matches!(error, RpcError::InvalidArgument(_)), "{error}");

    // An IP address is checked against the certificate's IP SANs (127.0.0.1 is one).
    let by_ip = format!(
        "rabbit://guest:guest@127.0.0.1:{}/?ssl=1&ssl_ca_file={}&ssl_version=sslv23",
        node.amqps_port,
        path(&cluster.ca)
    );
    let transport = Transport::new(&by_ip).unwrap();
    RpcClient::new(
        transport.clone(),
        Target::topic(&f.topic).with_namespace("calc"),
    )
    .timeout(Duration::from_secs(20))
    .call(&Context::new(), "add", json!({"a": 0, "b": 0}))
    .await
    .unwrap();
    transport.shutdown().await;
    f.finish().await;
}

/// Casts once with `retry=0` on `url` and returns the error, checking it came in time.
async fn cast_error(url: &str) -> String {
    let transport =
        Transport::new(url).unwrap_or_else(|e| panic!("{url}: the transport builds: {e}"));
    let client = RpcClient::new(transport.clone(), Target::topic(unique("tls-bad"))).retry(Some(0));
    let started = Instant::now();
    let result = tokio::time::timeout(
        CONNECT_TIMEOUT * 3,
        client.cast(&Context::new(), "x", json!({})),
    )
    .await
    .unwrap_or_else(|_| panic!("{url}: the cast hung"));
    let elapsed = started.elapsed();
    transport.shutdown().await;
    let error = match result {
        Err(RpcError::Transport(error)) => error.to_string(),
        other => panic!("{url}: expected a transport error, got {other:?}"),
    };
    assert!(
        elapsed < CONNECT_TIMEOUT,
        "{url}: the error took {elapsed:?}: {error}"
    );
    error
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tls_peers_fail_fast_with_the_host_and_the_cause() {
    let cluster = cluster();
    let node = &cluster.nodes[0];
    let ca = path(&cluster.ca);
    let expired = cluster
        .expired_port
        .expect("cluster mode has the expired endpoint");
    let wrong_host = cluster
        .wrong_host_port
        .expect("and the wrong-host endpoint");
    let cases: Vec<(&str, String, Vec<String>)> = vec![
        (
            "a CA that did not sign the broker's certificate",
            format!(
                "rabbit://guest:guest@localhost:{}/?ssl=1&ssl_ca_file={}",
                node.amqps_port,
                path(&cluster.other_ca)
            ),
            vec![
                format!("localhost:{}: TLS handshake failed", node.amqps_port),
                "is not signed by the CAs of ssl_ca_file".into(),
                path(&cluster.other_ca),
            ],
        ),
        (
            "an expired certificate",
            format!("rabbit://guest:guest@localhost:{expired}/?ssl=1&ssl_ca_file={ca}"),
            vec![
                format!("localhost:{expired}: TLS handshake failed"),
                "the broker's certificate has expired".into(),
            ],
        ),
        (
            "a certificate for another host name",
            format!("rabbit://guest:guest@localhost:{wrong_host}/?ssl=1&ssl_ca_file={ca}"),
            vec![
                format!("localhost:{wrong_host}: TLS handshake failed"),
                "not valid for this host name".into(),
                "wrong-host.invalid".into(),
            ],
        ),
        (
            "a client certificate the broker does not trust",
            format!(
                "rabbit://guest:guest@localhost:{}/?ssl=1&ssl_ca_file={ca}&ssl_cert_file={}&ssl_key_file={}",
                node.amqps_port,
                path(&cluster.other_client_cert),
                path(&cluster.other_client_key)
            ),
            vec![
                format!("localhost:{}", node.amqps_port),
                "does not accept the client certificate".into(),
            ],
        ),
        (
            "TLS against a plain AMQP port",
            format!(
                "rabbit://guest:guest@localhost:{}/?ssl=1&ssl_ca_file={ca}",
                node.amqp_port
            ),
            // The broker answers the ClientHello with AMQP's protocol header and closes; the
            // client reads that header, or only a reset when the close raced the unread rest
            // of the ClientHello.
            vec![
                format!("localhost:{}: ", node.amqp_port),
                "is this a plain AMQP port?".into(),
            ],
        ),
        (
            "plain AMQP against a TLS port",
            format!("rabbit://guest:guest@localhost:{}/", node.amqps_port),
            // The broker answers with a TLS alert (not AMQP) or resets the connection.
            vec![
                format!("localhost:{}: the ", node.amqps_port),
                "if this port expects TLS, set ssl=true".into(),
            ],
        ),
    ];
    for (what, url, expected) in cases {
        let error = cast_error(&url).await;
        eprintln!("{what}: {error}");
        assert!(
            error.starts_with("Unable to connect to AMQP server on "),
            "{what}: {error}"
        );
        for part in expected {
            assert!(error.contains(&part), "{what}: {error:?} lacks {part:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_peer_that_never_answers_fails_at_the_connect_timeout() {
    // A host that accepts the TCP connection and then stays silent (a hung broker, or a
    // black hole behind a load balancer): the handshake is abandoned at the connect
    // timeout, with the host named, and lapin's I/O thread is not left waiting on it.
    let cluster = cluster();
    let silent = support::proxy::Proxy::start(std::net::SocketAddr::from((
        [127, 0, 0, 1],
        cluster.nodes[0].amqps_port,
    )))
    .await;
    silent.black_hole();
    let url = format!(
        "rabbit://guest:guest@localhost:{}/?ssl=1&ssl_ca_file={}",
        silent.port,
        path(&cluster.ca)
    );
    let transport = Transport::new(&url).unwrap();
    let started = Instant::now();
    let error = RpcClient::new(transport.clone(), Target::topic(unique("tls-silent")))
        .retry(Some(0))
        .cast(&Context::new(), "x", json!({}))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    transport.shutdown().await;
    let text = error.to_string();
    assert!(
        text.contains(&format!("localhost:{}: no TLS", silent.port))
            && text.contains("handshake within 10 s"),
        "{text}"
    );
    assert!(
        elapsed >= CONNECT_TIMEOUT && elapsed < CONNECT_TIMEOUT + Duration::from_secs(3),
        "{elapsed:?}"
    );
    assert_eq!(silent.accepted(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oslo_verifies_as_tls_rs_documents_and_we_refuse_what_it_lets_through() {
    // oslo.messaging 18.3.1's own _fetch_ssl_params and kombu/py-amqp, with the test CA as
    // the "system" roots (SSL_CERT_FILE), against the cluster's TLS endpoints.
    let cluster = cluster();
    let python = python::python();
    let expired = cluster.expired_port.unwrap();
    let wrong_host = cluster.wrong_host_port.unwrap();
    let run = tokio::process::Command::new(&python.python)
        .args(["-W", "ignore"])
        .arg(python.peers.join("tls_semantics.py"))
        .arg(&cluster.certs)
        .args([expired, wrong_host, cluster.nodes[0].amqps_port].map(|p| p.to_string()))
        .env("SSL_CERT_FILE", &cluster.ca)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("tls_semantics.py finished within 120 s")
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let observed: serde_json::Value = stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| {
            panic!(
                "tls_semantics.py printed no JSON: {stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    assert_eq!(
        observed,
        json!({
            "ca, one host, good node": "ok",
            "ca, one host, wrong host name":
                "verify: Hostname mismatch, certificate is not valid for 'localhost'.",
            "ca, one host, expired": "verify: certificate has expired",
            "ca, two hosts, wrong host name":
                "verify: IP address mismatch, certificate is not valid for '127.0.0.1'.",
            // No ssl_ca_file: the chain is checked against the system's roots, the name is not.
            "no ca, wrong host name": "handshake",
            "no ca, expired": "verify: certificate has expired",
            // ssl_version without ssl_ca_file: nothing is verified.
            "ssl_version TLSv1_2, no ca, expired": "handshake",
            "ssl_version SSLv3": "error: RuntimeError: Invalid SSL version : SSLv3",
        })
    );
    // What oslo lets through, we refuse: ssl_version without a CA still verifies the chain
    // (here against the real system roots, which do not know the test CA).
    let error = cast_error(&format!(
        "rabbit://guest:guest@localhost:{expired}/?ssl=1&ssl_version=TLSv1_2"
    ))
    .await;
    assert!(
        error.contains(&format!(
            "localhost:{expired}: TLS handshake failed: the broker's certificate"
        )),
        "{error}"
    );
    // With several hosts we check each host's name as written (localhost), not 127.0.0.1.
    let error = cast_error(&cluster.tls_url_to(
        "localhost",
        &[wrong_host, wrong_host],
        &format!("ssl=1&ssl_ca_file={}", path(&cluster.ca)),
    ))
    .await;
    assert!(
        error.contains("certificate not valid for name \"localhost\""),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_times_out_on_a_bad_tls_host_says_why() {
    // With the default retry the driver keeps trying, as oslo does, so a call ends at its
    // timeout; as the broker was never reached, the error is a transport error of kind
    // Unreachable carrying the last connection error (issue 14 item 8), not a timeout.
    let cluster = cluster();
    let expired = cluster.expired_port.unwrap();
    let url = format!(
        "rabbit://guest:guest@localhost:{expired}/?ssl=1&ssl_ca_file={}",
        path(&cluster.ca)
    );
    let transport = Transport::new(&url).unwrap();
    let error = RpcClient::new(transport.clone(), Target::topic(unique("tls-timeout")))
        .timeout(Duration::from_secs(2))
        .call(&Context::new(), "x", json!({}))
        .await
        .unwrap_err();
    transport.shutdown().await;
    match &error {
        RpcError::Transport(e) if e.kind() == oslo_rpc::error::TransportErrorKind::Unreachable => {
            let cause = e.to_string();
            assert!(
                cause.contains(&format!(
                    "(the message was not sent): localhost:{expired}: TLS handshake failed"
                )) && cause.contains("has expired"),
                "{cause}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tls_files_are_refused_when_the_transport_is_built() {
    let cluster = cluster();
    let port = cluster.nodes[0].amqps_port;
    let garbage = cluster.certs.join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    for (query, expected) in [
        (
            "ssl=1&ssl_ca_file=/nonexistent/ca.pem".to_owned(),
            "ssl_ca_file /nonexistent/ca.pem: cannot be read".to_owned(),
        ),
        (
            format!("ssl=1&ssl_ca_file={}", path(&garbage)),
            format!("ssl_ca_file {}: holds no PEM certificate", path(&garbage)),
        ),
        (
            format!(
                "ssl=1&ssl_ca_file={}&ssl_cert_file={}",
                path(&cluster.ca),
                path(&cluster.client_cert)
            ),
            "holds no private key, and ssl_key_file is not set".to_owned(),
        ),
        (
            format!(
                "ssl=1&ssl_cert_file={}&ssl_key_file={}",
                path(&cluster.client_cert),
                path(&cluster.other_client_key)
            ),
            "client certificate".to_owned(),
        ),
        (
            "ssl=1&ssl_version=TLSv1_1".to_owned(),
            "invalid ssl_version \"TLSv1_1\"".to_owned(),
        ),
        (
            "ssl=1&ssl_enforce_fips_mode=true".to_owned(),
            "ssl_enforce_fips_mode=true cannot be honoured".to_owned(),
        ),
    ] {
        let url = format!("rabbit://guest:guest@localhost:{port}/?{query}");
        let started = Instant::now();
        let error = Transport::new(&url).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(
            matches!(error, RpcError::InvalidArgument(_)),
            "{query}: {error:?}"
        );
        assert!(error.to_string().contains(&expected), "{query}: {error}");
    }
    let _ = std::fs::remove_file(garbage);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_host_url_moves_past_bad_tls_hosts() {
    // spec §1.1: a failed connect moves on to the next host at once; a TLS failure is a
    // failed connect. Two bad TLS endpoints and one node, in this order; the round robin
    // starts at a random host, so sometimes both bad ones are tried first.
    let cluster = cluster();
    let node = &cluster.nodes[2];
    let ports = [
        cluster.expired_port.unwrap(),
        cluster.wrong_host_port.unwrap(),
        node.amqps_port,
    ];
    let query = format!("ssl=1&ssl_ca_file={}", path(&cluster.ca));
    let url = cluster.tls_url_to("localhost", &ports, &query);
    let (mut f, cleanup) = fixture(cluster, &url).await;
    let started = Instant::now();
    f.serve("s1").await;
    assert_eq!(
        f.calc()
            .call(&Context::new(), "add", json!({"a": 20, "b": 22}))
            .await
            .unwrap(),
        json!(42)
    );
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
    for name in cleanup.driver.connection_names() {
        let (ssl, _, _) = broker_tls(cluster, &name);
        assert_eq!(ssl, "true");
    }
    f.finish().await;
}

/// Everything logged in this process, for the secrets test.
fn captured_logs() -> &'static Mutex<String> {
    static LOGS: OnceLock<Mutex<String>> = OnceLock::new();
    LOGS.get_or_init(|| {
        tracing::subscriber::set_global_default(logs::Capture)
            .expect("no other global subscriber in this test binary");
        Mutex::new(String::new())
    })
}

/// A minimal tracing subscriber that appends every event's fields (all levels) to
/// [`captured_logs`].
mod logs {
    use std::fmt::Write;

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Level, Metadata, Subscriber};

    pub(super) struct Capture;

    struct Line(String);

    impl Visit for Line {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            let _ = write!(self.0, " {}={:?}", field.name(), value);
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            let _ = write!(self.0, " {}={}", field.name(), value);
        }
    }

    impl Subscriber for Capture {
        fn enabled(&self, metadata: &Metadata<'_>) -> bool {
            *metadata.level() <= Level::TRACE
        }
        fn new_span(&self, span: &Attributes<'_>) -> Id {
            let mut line = Line(String::new());
            span.record(&mut line);
            super::captured_logs()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_str(&line.0);
            Id::from_u64(1)
        }
        fn record(&self, _span: &Id, values: &Record<'_>) {
            let mut line = Line(String::new());
            values.record(&mut line);
            super::captured_logs()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_str(&line.0);
        }
        fn record_follows_from(&self, _span: &Id, _follows: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut line = Line(format!("\n{}", event.metadata().target()));
            event.record(&mut line);
            super::captured_logs()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_str(&line.0);
        }
        fn enter(&self, _span: &Id) {}
        fn exit(&self, _span: &Id) {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_and_keys_never_reach_errors_or_logs() {
    let cluster = cluster();
    let logs = captured_logs();
    let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
    let key_text = std::fs::read_to_string(&cluster.client_key).unwrap();
    let key_lines: Vec<String> = key_text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .map(str::to_owned)
        .collect();
    let node = &cluster.nodes[0];
    let with_key = format!(
        "ssl=1&ssl_ca_file={}&ssl_cert_file={}&ssl_key_file={}",
        path(&cluster.ca),
        path(&cluster.client_cert),
        path(&cluster.client_key)
    );
    let mut texts = Vec::new();
    // A wrong password over TLS: the broker refuses the login.
    let url = format!(
        "rabbit://guest:{password}@localhost:{}/?{with_key}",
        node.amqps_port
    );
    texts.push(cast_error(&url).await);
    // A TLS failure with the password in the URL.
    let url = format!(
        "rabbit://guest:{password}@localhost:{}/?{with_key}",
        cluster.expired_port.unwrap()
    );
    texts.push(cast_error(&url).await);
    // A key that does not match: refused when the transport is built.
    let url = format!(
        "rabbit://guest:{password}@localhost:{}/?ssl=1&ssl_cert_file={}&ssl_key_file={}",
        node.amqps_port,
        path(&cluster.other_client_cert),
        path(&cluster.client_key)
    );
    texts.push(Transport::new(&url).unwrap_err().to_string());
    let parsed = TransportUrl::parse(&url).unwrap();
    texts.push(format!("{parsed} {parsed:?}"));
    let transport = Transport::new(&format!(
        "rabbit://guest:{password}@localhost:{}/?{with_key}",
        node.amqps_port
    ))
    .unwrap();
    texts.push(format!("{transport:?}"));
    transport.shutdown().await;
    let logged = logs.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(
        logged.contains("AMQP server is unreachable"),
        "the failures were logged: {logged}"
    );
    texts.push(logged);
    for text in &texts {
        assert!(!text.contains(&password), "the password leaked: {text}");
        for line in &key_lines {
            assert!(!text.contains(line.as_str()), "key material leaked: {text}");
        }
    }
    assert!(
        texts[0].contains("ACCESS_REFUSED") || texts[0].contains("403"),
        "{}",
        texts[0]
    );
}
