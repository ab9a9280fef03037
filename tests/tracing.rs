//! Tracing (issue 14 item 1): the spans of calls, casts and dispatched requests carry the
//! method, the message id and the context's request_id on both sides, and connection
//! events are logged. A capturing subscriber records every span and event of this binary;
//! each test looks only at what carries its own unique names.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use oslo_rpc::ServerHandle;
use oslo_rpc::prelude::*;
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

type Fields = BTreeMap<String, String>;

/// A closed span: its name and its fields as last recorded.
#[derive(Debug, Clone)]
struct ClosedSpan {
    name: String,
    fields: Fields,
}

/// An event: its fields (the message as `message`), its level, and the fields of the spans
/// it happened in, innermost last.
#[derive(Debug, Clone)]
struct Logged {
    level: tracing::Level,
    fields: Fields,
    scope: Vec<(String, Fields)>,
}

#[derive(Default)]
struct Captured {
    spans: Vec<ClosedSpan>,
    events: Vec<Logged>,
}

fn captured() -> &'static Mutex<Captured> {
    static CAPTURED: OnceLock<&'static Mutex<Captured>> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let store: &'static Mutex<Captured> = Box::leak(Box::default());
        let subscriber = tracing_subscriber::registry().with(Capture(store));
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        store
    })
}

struct Capture(&'static Mutex<Captured>);

struct Collect<'a>(&'a mut Fields);

impl Visit for Collect<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let mut fields = Fields::new();
        attrs.record(&mut Collect(&mut fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: LayerContext<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<Fields>()
        {
            values.record(&mut Collect(fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        let mut fields = Fields::new();
        event.record(&mut Collect(&mut fields));
        let scope = ctx
            .event_scope(event)
            .map(|scope| {
                scope
                    .from_root()
                    .map(|span| {
                        let fields = span.extensions().get::<Fields>().cloned();
                        (span.name().to_owned(), fields.unwrap_or_default())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let logged = Logged {
            level: *event.metadata().level(),
            fields,
            scope,
        };
        self.0.lock().unwrap().events.push(logged);
    }

    fn on_close(&self, id: Id, ctx: LayerContext<'_, S>) {
        if let Some(span) = ctx.span(&id) {
            let fields = span
                .extensions()
                .get::<Fields>()
                .cloned()
                .unwrap_or_default();
            let closed = ClosedSpan {
                name: span.name().to_owned(),
                fields,
            };
            self.0.lock().unwrap().spans.push(closed);
        }
    }
}

/// The closed spans named `name` whose `field` is `value`.
fn spans(name: &str, field: &str, value: &str) -> Vec<ClosedSpan> {
    captured()
        .lock()
        .unwrap()
        .spans
        .iter()
        .filter(|s| s.name == name && s.fields.get(field).map(String::as_str) == Some(value))
        .cloned()
        .collect()
}

fn only(mut found: Vec<ClosedSpan>, what: &str) -> ClosedSpan {
    assert_eq!(found.len(), 1, "{what}: {found:#?}");
    found.pop().unwrap()
}

fn field<'a>(span: &'a ClosedSpan, name: &str) -> &'a str {
    span.fields
        .get(name)
        .unwrap_or_else(|| panic!("{} has no {name}: {:#?}", span.name, span.fields))
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A calc server; its `note` method (for casts) sends on `noted` once it ran.
async fn calc_server(
    transport: &Transport,
    topic: &str,
    noted: tokio::sync::mpsc::UnboundedSender<()>,
) -> ServerHandle {
    let endpoint = DynamicEndpoint::builder()
        .namespace("calc")
        .version(RpcVersion::new(1, 3))
        .method("add", |_ctx, args| async move {
            let a = args["a"].as_i64().unwrap_or(0);
            let b = args["b"].as_i64().unwrap_or(0);
            Ok::<_, RpcError>(json!(a + b))
        })
        .method("note", move |_ctx, _args| {
            let noted = noted.clone();
            async move {
                let _ = noted.send(());
                Ok::<_, RpcError>(json!(null))
            }
        })
        .method("fail", |_ctx, _args| async move {
            Err::<serde_json::Value, _>(RpcError::InvalidArgument("no".into()))
        })
        .build();
    RpcServer::builder(transport.clone(), Target::server(topic, "host-1"))
        .endpoint(endpoint)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_call_is_followed_by_its_request_id_from_client_to_server() {
    captured();
    let topic = unique("traced");
    let transport = Transport::new(&format!("memory://{topic}")).unwrap();
    let (noted, _) = tokio::sync::mpsc::unbounded_channel();
    let server = calc_server(&transport, &topic, noted).await;
    let client = RpcClient::new(
        transport.clone(),
        Target::topic(&topic).with_namespace("calc"),
    )
    .version(RpcVersion::new(1, 2))
    .timeout(Duration::from_secs(30));
    let ctx = Context::with_new_request_id();
    let request_id = ctx.request_id().unwrap().to_owned();
    let sum = client.call(&ctx, "add", json!({"a": 2, "b": 3})).await;
    assert_eq!(sum.unwrap(), json!(5));
    // Stopping waits for the request tasks, so the server's span is closed after this.
    server.stop().await.unwrap();

    let call = only(spans("rpc.call", "request_id", &request_id), "client span");
    assert_eq!(field(&call, "rpc.method"), "add");
    assert_eq!(field(&call, "otel.kind"), "client");
    assert_eq!(field(&call, "messaging.system"), "memory");
    assert_eq!(field(&call, "messaging.operation"), "publish");
    assert_eq!(field(&call, "messaging.destination.name"), "openstack");
    assert_eq!(
        field(&call, "messaging.rabbitmq.destination.routing_key"),
        topic
    );
    assert_eq!(field(&call, "oslo.topic"), topic);
    assert_eq!(field(&call, "oslo.namespace"), "calc");
    assert_eq!(field(&call, "oslo.version"), "1.2");
    assert_eq!(field(&call, "oslo.outcome"), "ok");
    assert!(!call.fields.contains_key("oslo.server"), "{call:#?}");
    let msg_id = field(&call, "messaging.message.id");
    assert_eq!(msg_id.len(), 32, "{msg_id}");

    let dispatch = only(
        spans("rpc.dispatch", "request_id", &request_id),
        "server span",
    );
    assert_eq!(field(&dispatch, "rpc.method"), "add");
    assert_eq!(field(&dispatch, "otel.kind"), "server");
    assert_eq!(field(&dispatch, "messaging.operation"), "process");
    assert_eq!(field(&dispatch, "messaging.message.id"), msg_id);
    assert_eq!(field(&dispatch, "oslo.server"), "host-1");
    assert_eq!(field(&dispatch, "oslo.topic"), topic);
    assert_eq!(field(&dispatch, "oslo.namespace"), "calc");
    assert_eq!(field(&dispatch, "oslo.version"), "1.2");
    assert_eq!(field(&dispatch, "oslo.outcome"), "ok");
    let duration: f64 = field(&dispatch, "duration_ms").parse().unwrap();
    assert!(duration >= 0.0);

    // The server's DEBUG event for the request happened inside its span.
    let handled: Vec<Logged> = captured()
        .lock()
        .unwrap()
        .events
        .iter()
        .filter(|e| {
            e.fields.get("message").map(String::as_str) == Some("request handled")
                && e.scope.iter().any(|(name, fields)| {
                    name == "rpc.dispatch" && fields.get("request_id") == Some(&request_id)
                })
        })
        .cloned()
        .collect();
    assert_eq!(handled.len(), 1, "{handled:#?}");
    assert_eq!(handled[0].level, tracing::Level::DEBUG);
    assert_eq!(handled[0].fields["oslo.outcome"], "ok");
    transport.shutdown().await;
}

#[tokio::test]
async fn casts_and_failures_are_traced_with_their_outcome() {
    captured();
    let topic = unique("traced-cast");
    let transport = Transport::new(&format!("memory://{topic}")).unwrap();
    let (noted, mut note_ran) = tokio::sync::mpsc::unbounded_channel();
    let server = calc_server(&transport, &topic, noted).await;
    let client = RpcClient::new(
        transport.clone(),
        Target::topic(&topic).with_namespace("calc"),
    )
    .timeout(Duration::from_secs(30));

    let failing = Context::with_new_request_id();
    let failing_id = failing.request_id().unwrap().to_owned();
    let error = client.call(&failing, "fail", json!({})).await.unwrap_err();
    assert!(error.remote().is_some(), "{error}");

    let cast = Context::with_new_request_id();
    let cast_id = cast.request_id().unwrap().to_owned();
    client.cast(&cast, "note", json!({})).await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), note_ran.recv())
        .await
        .expect("the cast is served")
        .expect("the server holds the sender");
    // Stopping waits for the request tasks, so the cast's span is closed after this.
    server.stop().await.unwrap();

    let call = only(spans("rpc.call", "request_id", &failing_id), "failed call");
    assert_eq!(field(&call, "oslo.outcome"), "error");
    let dispatch = only(
        spans("rpc.dispatch", "request_id", &failing_id),
        "failed dispatch",
    );
    assert_eq!(field(&dispatch, "oslo.outcome"), "error");
    assert_eq!(field(&dispatch, "error.type"), "TypeError");

    let sent = only(spans("rpc.cast", "request_id", &cast_id), "cast");
    assert_eq!(field(&sent, "otel.kind"), "producer");
    assert_eq!(field(&sent, "rpc.method"), "note");
    assert_eq!(field(&sent, "oslo.outcome"), "ok");
    let unique_id = field(&sent, "messaging.message.id");
    let received = only(spans("rpc.dispatch", "request_id", &cast_id), "cast served");
    assert_eq!(field(&received, "otel.kind"), "consumer");
    assert_eq!(field(&received, "messaging.message.id"), unique_id);
    assert_eq!(field(&received, "oslo.outcome"), "ok");
    transport.shutdown().await;
}

#[tokio::test]
async fn failed_connection_attempts_are_logged_with_the_host() {
    captured();
    // Nothing listens on port 1: every attempt is refused at once.
    let user = unique("nobody");
    let url = format!("rabbit://{user}:secret@127.0.0.1:1/");
    let transport = Transport::builder(&url)
        .default_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let client = RpcClient::new(transport.clone(), Target::topic(unique("t")));
    let ctx = Context::with_new_request_id();
    let request_id = ctx.request_id().unwrap().to_owned();
    client.call(&ctx, "ping", json!({})).await.unwrap_err();
    transport.shutdown().await;

    let events = captured().lock().unwrap().events.clone();
    let unreachable: Vec<&Logged> = events
        .iter()
        .filter(|e| {
            e.fields.get("message").map(String::as_str) == Some("AMQP server is unreachable")
                && e.fields.get("server.port").map(String::as_str) == Some("1")
        })
        .collect();
    assert!(!unreachable.is_empty(), "no connection event");
    let first = unreachable[0];
    assert_eq!(first.level, tracing::Level::WARN);
    assert_eq!(first.fields["server.address"], "127.0.0.1");
    assert_eq!(first.fields["messaging.system"], "rabbitmq");
    assert!(first.fields["attempt"].parse::<u32>().unwrap() >= 1);
    assert!(first.fields["error"].contains("127.0.0.1:1"), "{first:#?}");
    // The password never appears in what is logged.
    assert!(
        events
            .iter()
            .all(|e| e.fields.values().all(|v| !v.contains("secret"))),
        "a password was logged"
    );
    let call = only(
        spans("rpc.call", "request_id", &request_id),
        "unreachable call",
    );
    assert_ne!(field(&call, "oslo.outcome"), "ok");
    assert_eq!(field(&call, "messaging.system"), "rabbitmq");
}
