//! Hardening (issue 12): values at the edges of their types, from URLs and the public API,
//! never panic; what the runtime cannot honour is refused with a clear error.
//! Transport-level behaviour on both transports lives in `scenarios` (run by `memory.rs`
//! and `rabbit.rs`); what is here needs no broker.

use std::time::Duration;

use oslo_rpc::prelude::*;
use oslo_rpc::{RpcServer, TransportUrl};
use rpc_runtime::transport::rabbit::RabbitDriver;
use serde_json::json;

const HUGE: &str = "9223372036854775807";

/// Everything logged by this test binary, at every level: one global subscriber (the
/// servers log from tokio's worker threads), installed at first use. Tests look for text
/// unique to them.
fn logs() -> &'static std::sync::Mutex<Vec<u8>> {
    static LOGS: std::sync::OnceLock<&'static std::sync::Mutex<Vec<u8>>> =
        std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer: &'static std::sync::Mutex<Vec<u8>> =
            Box::leak(Box::new(std::sync::Mutex::new(Vec::new())));
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || LogWriter(buffer))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        buffer
    })
}

/// The log lines so far that contain `needle`.
fn logged_lines(needle: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(&logs().lock().unwrap()).into_owned();
    text.lines()
        .filter(|line| line.contains(needle))
        .map(str::to_owned)
        .collect()
}

struct LogWriter(&'static std::sync::Mutex<Vec<u8>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

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
    Transport::new(&url).expect("a transport");
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
    Transport::new(&url).expect("a transport");
}

/// Floats out of an option's range are refused by name, never turned into a duration.
#[tokio::test]
async fn out_of_range_float_options_are_refused_clearly() {
    for value in ["1e300", "5", "-1", "inf", "nan", "1e400"] {
        let url = format!("rabbit://127.0.0.1:1/?kombu_reconnect_delay={value}");
        let error = Transport::new(&url).unwrap_err();
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
        .build()
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

// ---- every accepted call is answered (item 2) ----

/// A type whose `Serialize` and `Deserialize` panic: a user's bug in a wire type.
#[derive(Debug)]
struct Explosive;

impl serde::Serialize for Explosive {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("Explosive cannot be written")
    }
}

impl<'de> serde::Deserialize<'de> for Explosive {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        panic!("Explosive cannot be read")
    }
}

#[rpc_endpoint(namespace = "boom", version = "1.0")]
trait Boom {
    async fn body(&self, reason: String) -> Result<i64, RemoteError>;
    async fn read(&self, value: Explosive) -> Result<i64, RemoteError>;
    async fn write(&self) -> Result<Explosive, RemoteError>;
    async fn add(&self, a: i64, b: i64) -> Result<i64, RemoteError>;
}

struct BoomService;

impl Boom for BoomService {
    async fn body(&self, reason: String) -> Result<i64, RemoteError> {
        panic!("{reason}")
    }
    async fn read(&self, _value: Explosive) -> Result<i64, RemoteError> {
        Ok(1)
    }
    async fn write(&self) -> Result<Explosive, RemoteError> {
        Ok(Explosive)
    }
    async fn add(&self, a: i64, b: i64) -> Result<i64, RemoteError> {
        Ok(a + b)
    }
}

/// The same failures from closures: one panics while building its future, one inside it.
fn dynamic_boom() -> oslo_rpc::DynamicEndpoint {
    oslo_rpc::DynamicEndpoint::builder()
        .namespace("dynboom")
        .method(
            "early",
            |_ctx, _args| -> std::future::Ready<Result<serde_json::Value, RpcError>> {
                panic!("dynamic early panic")
            },
        )
        .method("late", |_ctx, _args| async move {
            tokio::task::yield_now().await;
            if true {
                panic!("dynamic late panic");
            }
            Ok::<_, RpcError>(serde_json::json!(0))
        })
        .method("add", |_ctx, args| async move {
            let a = args["a"].as_i64().unwrap_or(0);
            let b = args["b"].as_i64().unwrap_or(0);
            Ok::<_, RpcError>(serde_json::json!(a + b))
        })
        .build()
}

fn expect_panic_failure(outcome: Result<serde_json::Value, RpcError>, message: &str) {
    let error = outcome.expect_err("a panic is a failure");
    let remote = error
        .remote()
        .unwrap_or_else(|| panic!("a remote error, got {error:?}"));
    assert_eq!(
        (remote.module.as_str(), remote.class.as_str()),
        (
            rpc_runtime::dispatch::PANIC_MODULE,
            rpc_runtime::dispatch::PANIC_CLASS
        )
    );
    assert_eq!(remote.message, message);
    assert_eq!(remote.args, [serde_json::json!(message)]);
}

/// Panics in a method's body, in the user's `Deserialize` of an argument and `Serialize`
/// of a result, through a generated endpoint and a dynamic one: each call is answered with
/// `builtins.RuntimeError` carrying the panic message and nothing else; with one
/// concurrency slot, later calls still run (every slot came back) and the server serves
/// on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_methods_are_answered_and_the_server_serves_on() {
    logs();
    let url = format!("memory://{}", uuid::Uuid::new_v4().simple());
    let transport = Transport::new(&url).unwrap();
    let topic = format!("boom-{}", uuid::Uuid::new_v4().simple());
    let server = RpcServer::builder(transport.clone(), Target::server(&topic, "s1"))
        .endpoint(BoomEndpoint::new(BoomService))
        .endpoint(dynamic_boom())
        .max_concurrency(1)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let client = |namespace: &str| {
        RpcClient::new(
            transport.clone(),
            Target::topic(&topic).with_namespace(namespace),
        )
        .timeout(Duration::from_secs(10))
    };
    let ctx = Context::new();
    let (boom, dynboom) = (client("boom"), client("dynboom"));
    for round in 0..3 {
        let reason = format!("body panic {round}");
        expect_panic_failure(
            boom.call(&ctx, "body", json!({"reason": reason})).await,
            &reason,
        );
        expect_panic_failure(
            boom.call(&ctx, "read", json!({"value": 1})).await,
            "Explosive cannot be read",
        );
        expect_panic_failure(
            boom.call(&ctx, "write", json!({})).await,
            "Explosive cannot be written",
        );
        expect_panic_failure(
            dynboom.call(&ctx, "early", json!({})).await,
            "dynamic early panic",
        );
        expect_panic_failure(
            dynboom.call(&ctx, "late", json!({})).await,
            "dynamic late panic",
        );
        // A panicking cast is logged; the next call still gets the one slot.
        boom.cast(&ctx, "body", json!({"reason": "cast panic"}))
            .await
            .unwrap();
        let typed = BoomClient::new(boom.clone());
        assert_eq!(typed.add(&ctx, 2, round).await.unwrap(), 2 + round);
        assert_eq!(
            dynboom
                .call(&ctx, "add", json!({"a": 1, "b": 2}))
                .await
                .unwrap(),
            json!(3)
        );
    }
    server.stop().await.unwrap();
    transport.shutdown().await;
    // Logged at error level, with the method and the message (and, for the cast, only
    // there: a cast has nobody to answer).
    for (method, panic) in [
        ("body", "body panic 2"),
        ("late", "dynamic late panic"),
        ("body", "cast panic"),
    ] {
        let lines = logged_lines(panic);
        assert!(
            lines
                .iter()
                .any(|line| line.contains("ERROR") && line.contains(&format!("method={method}"))),
            "{panic}: {lines:?}"
        );
    }
}

// ---- notification handlers (items 2 and 5) ----

/// Signalled (then panics) whenever a `Grenade` is deserialized.
fn grenade_pulled() -> &'static tokio::sync::Notify {
    static PULLED: std::sync::OnceLock<tokio::sync::Notify> = std::sync::OnceLock::new();
    PULLED.get_or_init(tokio::sync::Notify::new)
}

/// A payload type whose `Deserialize` panics: a user's bug in a notification payload.
#[derive(Debug)]
struct Grenade;

impl<'de> serde::Deserialize<'de> for Grenade {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        grenade_pulled().notify_one();
        panic!("Grenade cannot be read")
    }
}

/// Panics on `info` (in the payload's `Deserialize`) and on `warn` (in the body); records
/// `audit`.
struct Volatile {
    warned: tokio::sync::mpsc::UnboundedSender<String>,
    audited: tokio::sync::mpsc::UnboundedSender<String>,
}

#[notification_endpoint]
impl Volatile {
    async fn info(&self, _n: oslo_rpc::notify::Notification<Grenade>) {}
    async fn warn(&self, n: oslo_rpc::notify::Notification) {
        let _ = self.warned.send(n.event_type.clone());
        panic!("notification body panic on {}", n.event_type);
    }
    async fn audit(&self, n: oslo_rpc::notify::Notification) {
        let _ = self.audited.send(n.event_type);
    }
}

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), future)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within 20 s"))
}

/// A notification handler that panics, in the user's `Deserialize` of its payload or in its
/// body: logged at error level, the notification treated as oslo treats an endpoint that
/// raised (requeue, which without `allow_requeue` means acknowledged: nothing stays in the
/// queues), its concurrency slot released (one slot, and later notifications still come)
/// and the listener serves on. Then `Transport::shutdown` stops a listener whose handle is
/// still held, as it stops servers: the listener's task is the transport's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_notification_handlers_are_logged_and_the_listener_serves_on() {
    use oslo_rpc::notify::{NotificationListener, Notifier};
    use rpc_runtime::transport::memory::{MemoryBroker, MemoryDriver};
    logs();
    let broker = MemoryBroker::named(&format!("nboom-{}", uuid::Uuid::new_v4().simple()));
    let transport = Transport::builder("memory://")
        .driver(std::sync::Arc::new(MemoryDriver::on(broker.clone())))
        .build()
        .unwrap();
    let topic = format!("nboom-{}", uuid::Uuid::new_v4().simple());
    let (warned_tx, mut warned) = tokio::sync::mpsc::unbounded_channel();
    let (audited_tx, mut audited) = tokio::sync::mpsc::unbounded_channel();
    let listener = NotificationListener::builder(transport.clone())
        .target(Target::topic(&topic))
        .endpoint(Volatile {
            warned: warned_tx,
            audited: audited_tx,
        })
        .max_concurrency(1)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let notifier = Notifier::new(transport.clone(), "hardening.host").topics([&topic]);
    let ctx = Context::new();
    for round in 0..3 {
        let pulled = grenade_pulled().notified();
        notifier
            .info(&ctx, &format!("grenade-{round}"), &json!({"pin": round}))
            .await
            .unwrap();
        within("the grenade's Deserialize", pulled).await;
        let event = format!("body-{round}");
        notifier.warn(&ctx, &event, &json!({})).await.unwrap();
        assert_eq!(within("the warn handler", warned.recv()).await, Some(event));
        let event = format!("fine-{round}");
        notifier.audit(&ctx, &event, &json!({})).await.unwrap();
        assert_eq!(
            within("the audit handler", audited.recv()).await,
            Some(event)
        );
    }
    listener.stop().await.unwrap();
    for priority in ["info", "warn", "audit"] {
        let queue = format!("{topic}.{priority}");
        assert_eq!(
            broker.queue_depth(&queue),
            Some(0),
            "{queue}: all acknowledged"
        );
        assert_eq!(broker.consumer_count(&queue), Some(0), "{queue}: stopped");
    }
    for panic in [
        "Grenade cannot be read",
        "notification body panic on body-2",
    ] {
        let lines = logged_lines(panic);
        assert!(
            lines
                .iter()
                .any(|line| line.contains("ERROR") && line.contains("handler panicked")),
            "{panic}: {lines:?}"
        );
    }

    // A listener still running when its transport shuts down is stopped and awaited.
    let listener = NotificationListener::builder(transport.clone())
        .target(Target::topic(&topic))
        .endpoint(Volatile {
            warned: tokio::sync::mpsc::unbounded_channel().0,
            audited: tokio::sync::mpsc::unbounded_channel().0,
        })
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    assert_eq!(broker.consumer_count(&format!("{topic}.audit")), Some(1));
    within("the transport's shutdown", transport.shutdown()).await;
    assert_eq!(broker.consumer_count(&format!("{topic}.audit")), Some(0));
    within("the stopped listener's handle", listener.stop())
        .await
        .expect("it had ended gracefully");
}

// ---- secrets (item 8) ----

/// The password every URL of the secrets test carries (and its percent-encoded form).
const PASSWORD: &str = "Pw-7f3a9e!only@here";
const PASSWORD_ENCODED: &str = "Pw-7f3a9e!only%40here";

fn assert_no_password(what: &str, text: &str) {
    assert!(
        !text.contains(PASSWORD) && !text.contains(PASSWORD_ENCODED),
        "{what} shows the password: {text}"
    );
}

/// Every error and log path that can carry a transport URL shows no password: URL and
/// option errors, `Transport`'s `Debug`, driver refusals, a broker that cannot be reached
/// (errors of calls, casts and servers, and every log line at every level, lapin's
/// included), and a broker that refuses the password. The URL module's own test covers
/// each `UrlError` variant; `rpc-cli`'s tests cover the command line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_error_or_log_line_shows_a_password() {
    logs();
    let marker = format!("secrets-{}", uuid::Uuid::new_v4().simple());
    tracing::info!("{marker} begins");
    let with = |rest: &str| format!("rabbit://guest:{PASSWORD_ENCODED}@{rest}");

    // Refused when parsed or when the driver is built.
    for url in [
        with("h:0/"),
        with("h/?nosuch_option=1"),
        with("h/?heartbeat_rate=x"),
        with("h/?ssl=true&ssl_ca_file=/nonexistent/ca.pem"),
        with("h/?kombu_compression=gzip"),
        format!("kombu+memory://guest:{PASSWORD_ENCODED}@h/"),
        format!("nats://guest:{PASSWORD_ENCODED}@h/"),
    ] {
        let error = Transport::new(&url).unwrap_err();
        assert_no_password("a refused URL's error", &format!("{error} {error:?}"));
    }

    // A transport whose broker cannot be reached (nothing listens on port 1).
    let unreachable = with("127.0.0.1:1/?rabbit_retry_interval=1");
    let transport = Transport::new(&unreachable).unwrap();
    assert_no_password(
        "Transport's Debug",
        &format!("{transport:?} {}", transport.url()),
    );
    let client = RpcClient::new(
        transport.clone(),
        Target::topic("secrets").with_namespace("x"),
    )
    .timeout(Duration::from_secs(3))
    .retry(Some(0));
    let error = client
        .call(&Context::new(), "m", json!({}))
        .await
        .unwrap_err();
    assert_no_password("an unreachable call's error", &format!("{error} {error:?}"));
    let error = client
        .cast(&Context::new(), "m", json!({}))
        .await
        .unwrap_err();
    assert_no_password("an unreachable cast's error", &format!("{error} {error:?}"));
    let server = RpcServer::builder(transport.clone(), Target::server("secrets", "s1"))
        .build()
        .unwrap();
    match tokio::time::timeout(Duration::from_secs(20), server.start()).await {
        Ok(Ok(handle)) => handle.stop().await.unwrap(),
        Ok(Err(error)) => assert_no_password("a server's error", &format!("{error} {error:?}")),
        Err(_) => panic!("start() did not return"),
    }
    transport.shutdown().await;

    // The machine's broker, with a password it refuses.
    let broker = std::env::var("RABBIT_URL")
        .ok()
        .and_then(|url| TransportUrl::parse(&url).ok())
        .and_then(|url| {
            url.hosts()
                .first()
                .map(|h| (h.hostname.clone(), h.port_or_default()))
        })
        .unwrap_or_else(|| ("127.0.0.1".to_owned(), 5672));
    let refused = with(&format!("{}:{}/", broker.0, broker.1));
    let transport = Transport::new(&refused).unwrap();
    let client = RpcClient::new(
        transport.clone(),
        Target::topic("secrets").with_namespace("x"),
    )
    .timeout(Duration::from_secs(5))
    .retry(Some(0));
    let error = client
        .call(&Context::new(), "m", json!({}))
        .await
        .unwrap_err();
    assert_no_password("a refused login's error", &format!("{error} {error:?}"));
    transport.shutdown().await;

    tracing::info!("{marker} ends");
    let text = String::from_utf8_lossy(&logs().lock().unwrap()).into_owned();
    let begin = text.find(&format!("{marker} begins")).expect("the marker");
    let ours = &text[begin..];
    assert!(
        ours.contains("AMQP server is unreachable"),
        "the failures were logged: {ours}"
    );
    assert!(
        ours.contains("ACCESS_REFUSED") || ours.contains("refused"),
        "the refused login was logged: {ours}"
    );
    assert!(
        ours.contains("lapin::"),
        "lapin's own log lines were captured"
    );
    for line in ours.lines() {
        assert_no_password("a log line", line);
    }
}

/// Config files whose `transport_url` carries a password, and a bad value somewhere: no
/// error (read through `OsloConfig::load`, `Transport::from_config_files` and the builder),
/// no warning and no log line shows the password, as written or percent-decoded, whether
/// the bad value is the URL itself, an option that references it (`$transport_url`, or a
/// `$pw` the URL references too), a line that cannot be parsed, or a value in a second
/// file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_config_file_error_shows_a_password() {
    use oslo_rpc::config::{ConfigSource, OsloConfig};
    logs();
    let marker = format!("config-secrets-{}", uuid::Uuid::new_v4().simple());
    tracing::info!("{marker} begins");
    let dir = std::env::temp_dir().join(&marker);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("rabbit://nova:{PASSWORD_ENCODED}@127.0.0.1:1/");
    let head = format!("[DEFAULT]\ntransport_url = {url}\n");
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "a bad port",
            vec![format!(
                "[DEFAULT]\ntransport_url = rabbit://nova:{PASSWORD_ENCODED}@h:99999/\n"
            )],
        ),
        (
            "a bad query option",
            vec![format!("[DEFAULT]\ntransport_url = {url}?ssl=maybe\n")],
        ),
        (
            "a bad option value",
            vec![format!(
                "{head}[oslo_messaging_rabbit]\nheartbeat_rate = soon\n"
            )],
        ),
        (
            "an option referencing the URL",
            vec![format!("{head}rpc_response_timeout = $transport_url\n")],
        ),
        (
            "a group reference to the URL",
            vec![format!(
                "{head}[oslo_messaging_rabbit]\nssl = ${{DEFAULT.transport_url}}\n"
            )],
        ),
        (
            "a password by reference",
            vec![format!(
                "[DEFAULT]\npw = {PASSWORD_ENCODED}\ntransport_url = rabbit://nova:$pw@h/\n\
                 [oslo_messaging_rabbit]\nkombu_reconnect_delay = $pw\n"
            )],
        ),
        (
            "a line that does not parse",
            vec![format!(
                "[DEFAULT]\ntransport_url = rabbit://h1,\n\n  nova:{PASSWORD_ENCODED}@h2/\n"
            )],
        ),
        (
            "a conflict",
            vec![format!(
                "{head}[oslo_messaging_rabbit]\nrabbit_quorum_queue = true\nrabbit_ha_queues = true\n"
            )],
        ),
        (
            "a bad notification transport URL",
            vec![format!(
                "[oslo_messaging_notifications]\ntransport_url = rabbit://n:{PASSWORD_ENCODED}@h:99999/\n"
            )],
        ),
        (
            "a notification option referencing the notification URL",
            vec![format!(
                "[oslo_messaging_notifications]\ntransport_url = {url}\nretry = $transport_url\n"
            )],
        ),
        (
            "a bad value in a second file",
            vec![
                head.clone(),
                "[oslo_messaging_rabbit]\nssl = maybe\n[oslo_messaging_rabbitt]\nx = 1\n"
                    .to_owned(),
            ],
        ),
    ];
    for (index, (what, texts)) in cases.iter().enumerate() {
        let paths: Vec<std::path::PathBuf> = texts
            .iter()
            .enumerate()
            .map(|(n, text)| {
                let path = dir.join(format!("case{index}-{n}.conf"));
                std::fs::write(&path, text).unwrap();
                path
            })
            .collect();
        let sources: Vec<ConfigSource> = paths.iter().map(ConfigSource::file).collect();
        let error = OsloConfig::load(&sources).expect_err(what);
        assert_no_password(what, &format!("{error} {error:?}"));
        let error = Transport::from_config_files(&paths).unwrap_err();
        assert_no_password(what, &format!("{error} {error:?}"));
    }

    // Files that read, with warnings; the builder refuses the URL the files give it
    // (ssl_ca_file missing) and a transport built from them shows no password either.
    let good = dir.join("good.conf");
    std::fs::write(
        &good,
        format!("{head}rabbit_password = x\n[oslo_messaging_rabbit]\nheartbeat_rat = 3\n"),
    )
    .unwrap();
    let config = OsloConfig::load(&[ConfigSource::file(&good)]).unwrap();
    assert!(!config.warnings().is_empty());
    for warning in config.warnings() {
        assert_no_password("a warning", &warning.to_string());
    }
    assert_no_password("OsloConfig's Debug", &format!("{config:?}"));
    let refused = dir.join("refused.conf");
    std::fs::write(
        &refused,
        format!("{head}[oslo_messaging_rabbit]\nssl = true\nssl_ca_file = /nonexistent/ca.pem\n"),
    )
    .unwrap();
    let config = OsloConfig::load(&[ConfigSource::file(&refused)]).unwrap();
    let error = Transport::from_config(&config).build().unwrap_err();
    assert_no_password("a driver's refusal", &format!("{error} {error:?}"));
    let transport = Transport::from_config_files(&[&good]).unwrap();
    assert_no_password("Transport's Debug", &format!("{transport:?}"));
    transport.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();

    tracing::info!("{marker} ends");
    let text = String::from_utf8_lossy(&logs().lock().unwrap()).into_owned();
    let begin = text.find(&format!("{marker} begins")).expect("the marker");
    let ours = &text[begin..];
    assert!(
        ours.contains("heartbeat_rat"),
        "the warnings were logged: {ours}"
    );
    for line in ours.lines() {
        assert_no_password("a log line", line);
    }
}

// ---- owned tasks (item 5) ----

/// While a broker refuses connections, the supervisors retry every second; lapin leaks two
/// tasks for every failed `Connection::connect`, so reconnections are probed with a plain
/// TCP connect first (transport/rabbit/probe.rs). The task count does not grow with the
/// attempts, and after shutdown only a few of lapin's remain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_reconnections_leave_no_task_behind() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline = metrics.num_alive_tasks();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("rabbit://127.0.0.1:{port}/?rabbit_retry_interval=1");
    let transport = Transport::new(&url).unwrap();
    let client = RpcClient::new(
        transport.clone(),
        Target::topic("nobody").with_namespace("x"),
    )
    .timeout(Duration::from_secs(6));
    let call = tokio::spawn(async move { client.call(&Context::new(), "m", json!({})).await });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let early = metrics.num_alive_tasks();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let later = metrics.num_alive_tasks();
    assert!(
        later <= early,
        "tasks grew with the refused reconnections: {early} -> {later}"
    );
    assert!(call.await.unwrap().is_err());
    transport.shutdown().await;
    // lapin's two tasks of each link's first attempt (not probed), and of an attempt the
    // shutdown may have cut short: a few, not one pair per attempt (5 s, 2 links: ~20).
    let left = metrics.num_alive_tasks().saturating_sub(baseline);
    assert!(left <= 8, "{left} tasks left");
}
