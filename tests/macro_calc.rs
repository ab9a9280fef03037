//! The `#[rpc_endpoint]` clients and endpoints of the shared `calc` interface over
//! `memory://` (one isolated broker per test): calls, casts, per-call options, version
//! caps and `since` arguments, dispatcher errors, Python-style argument errors, remote
//! error classes, and both endpoints on one server.

#[path = "../examples/calc/mod.rs"]
mod calc;

use std::time::Duration;

use calc::{
    Calc, CalcClient, CalcEndpoint, CalcError, CalcService, PingClient, PingEndpoint, PingService,
};
use oslo_rpc::ServerHandle;
use oslo_rpc::prelude::*;
use rpc_runtime::transport::Destination;
use rpc_runtime::transport::memory::{ExchangeKind, MemoryBroker};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// One test's broker, topic and servers.
struct World {
    broker_name: String,
    transport: Transport,
    topic: String,
    servers: Vec<ServerHandle>,
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

impl World {
    async fn new() -> World {
        let broker_name = unique("macro");
        let transport =
            Transport::new(&format!("memory://{broker_name}")).expect("memory transport");
        World {
            broker_name,
            transport,
            topic: unique("calc"),
            servers: Vec::new(),
        }
    }

    /// Starts server `name` with `Calc` (reporting to the returned channel) and `Ping`.
    async fn serve(&mut self, name: &str) -> mpsc::UnboundedReceiver<String> {
        let (events_tx, events) = mpsc::unbounded_channel();
        let server = RpcServer::builder(self.transport.clone(), Target::server(&self.topic, name))
            .endpoint(CalcEndpoint::new(CalcService::with_events(events_tx)))
            .endpoint(PingEndpoint::new(PingService))
            .build()
            .expect("server")
            .start()
            .await
            .expect("server start");
        self.servers.push(server);
        events
    }

    async fn serve_endpoint(&mut self, name: &str, endpoint: impl Endpoint) {
        let server = RpcServer::builder(self.transport.clone(), Target::server(&self.topic, name))
            .endpoint(endpoint)
            .build()
            .expect("server")
            .start()
            .await
            .expect("server start");
        self.servers.push(server);
    }

    fn rpc_client(&self) -> RpcClient {
        RpcClient::new(self.transport.clone(), Target::topic(&self.topic))
            .timeout(Duration::from_secs(10))
    }

    fn calc(&self) -> CalcClient {
        CalcClient::new(self.rpc_client())
    }

    /// An untyped client in the `calc` namespace.
    fn untyped(&self) -> RpcClient {
        self.rpc_client().namespace(Some("calc".to_owned()))
    }

    fn broker(&self) -> std::sync::Arc<MemoryBroker> {
        MemoryBroker::named(&self.broker_name)
    }

    async fn finish(self) {
        for server in self.servers {
            server.stop().await.expect("graceful stop");
        }
    }
}

async fn next_event(events: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("an event within 10 s")
        .expect("the service is alive")
}

async fn quiet(events: &mut mpsc::UnboundedReceiver<String>) -> bool {
    tokio::time::timeout(Duration::from_millis(200), events.recv())
        .await
        .is_err()
}

fn ctx() -> Context {
    Context::with_new_request_id()
}

fn remote(error: &RpcError) -> &RemoteError {
    error
        .remote()
        .unwrap_or_else(|| panic!("expected a remote error, got {error:?}"))
}

#[tokio::test]
async fn calls_return_typed_results() {
    let mut world = World::new().await;
    let mut events = world.serve("s1").await;
    let calc = world.calc();
    assert_eq!(calc.add(&ctx(), 2, 3).await.unwrap(), 5);
    assert_eq!(next_event(&mut events).await, "add(a=2, b=3)");
    let payload = json!({"nested": [1, "two", null, {"x": 3.5}], "unicode": "h\u{e9}"});
    assert_eq!(calc.echo(&ctx(), payload.clone()).await.unwrap(), payload);
    assert_eq!(calc.sleep(&ctx(), 0.05).await.unwrap(), 0.05);
    // The client future is Send: it can be spawned.
    let spawned = tokio::spawn({
        let calc = calc.clone();
        async move { calc.add(&ctx(), 40, 2).await }
    });
    assert_eq!(spawned.await.unwrap().unwrap(), 42);
    world.finish().await;
}

#[tokio::test]
async fn unit_results_are_null_on_the_wire() {
    let mut world = World::new().await;
    world.serve("s1").await;
    let unit: () = world.calc().resize(&ctx(), 3, None).await.unwrap();
    assert_eq!(unit, ());
    let raw = world
        .untyped()
        .call(&ctx(), "resize", json!({"size": 3}))
        .await
        .unwrap();
    assert_eq!(raw, Value::Null);
    world.finish().await;
}

#[tokio::test]
async fn casts_reach_the_server_without_a_reply() {
    let mut world = World::new().await;
    let mut events = world.serve("s1").await;
    world
        .calc()
        .cast()
        .resize(&ctx(), 7, Some(false))
        .await
        .unwrap();
    assert_eq!(next_event(&mut events).await, "resize(size=7, force=False)");
    // A cast of a method that fails is silent for the caster.
    world
        .calc()
        .cast()
        .fail(&ctx(), "value".to_owned())
        .await
        .unwrap();
    assert_eq!(next_event(&mut events).await, "fail(kind=\"value\")");
    world.finish().await;
}

#[tokio::test]
async fn prepare_targets_one_server_and_fanout_reaches_all() {
    let mut world = World::new().await;
    let mut s1 = world.serve("s1").await;
    let mut s2 = world.serve("s2").await;
    let calc = world.calc();

    let to_s2 = calc.prepare().server("s2");
    for a in 0..4 {
        assert_eq!(to_s2.add(&ctx(), a, 1).await.unwrap(), a + 1);
    }
    to_s2.cast().resize(&ctx(), 1, None).await.unwrap();
    for a in 0..4 {
        assert_eq!(next_event(&mut s2).await, format!("add(a={a}, b=1)"));
    }
    assert_eq!(next_event(&mut s2).await, "resize(size=1, force=None)");
    assert!(quiet(&mut s1).await, "s1 got a message meant for s2");

    calc.prepare()
        .fanout(true)
        .cast()
        .resize(&ctx(), 2, None)
        .await
        .unwrap();
    assert_eq!(next_event(&mut s1).await, "resize(size=2, force=None)");
    assert_eq!(next_event(&mut s2).await, "resize(size=2, force=None)");

    // A fanout call is refused before sending, as oslo refuses it.
    let error = calc.prepare().fanout(true).add(&ctx(), 1, 1).await;
    assert!(
        matches!(error, Err(RpcError::InvalidTarget(_))),
        "{error:?}"
    );
    world.finish().await;
}

#[tokio::test]
async fn prepare_timeout_bounds_a_call() {
    let mut world = World::new().await;
    world.serve("s1").await;
    let error = world
        .calc()
        .prepare()
        .timeout(Duration::from_millis(100))
        .sleep(&ctx(), 2.0)
        .await
        .unwrap_err();
    match error {
        RpcError::Timeout {
            method, seconds, ..
        } => assert_eq!((method.as_str(), seconds), ("sleep", 0.1)),
        other => panic!("{other:?}"),
    }
    // The original client keeps its own options.
    assert_eq!(world.calc().sleep(&ctx(), 0.01).await.unwrap(), 0.01);
    world.finish().await;
}

#[tokio::test]
async fn builder_methods_return_adjusted_copies() {
    let mut world = World::new().await;
    world.serve("s1").await;
    let elsewhere = CalcClient::new(RpcClient::new(
        world.transport.clone(),
        Target::topic("nobody-listens"),
    ));
    let calc = elsewhere
        .prepare()
        .topic(world.topic.clone())
        .timeout(Duration::from_secs(5))
        .retry(Some(0));
    assert_eq!(calc.add(&ctx(), 1, 2).await.unwrap(), 3);
    let options = calc.inner().options();
    assert_eq!(options.timeout, Some(Duration::from_secs(5)));
    assert_eq!(options.retry, Some(0));
    assert_eq!(calc.inner().target().namespace.as_deref(), Some("calc"));
    assert_eq!(
        elsewhere.inner().target().topic.as_deref(),
        Some("nobody-listens")
    );

    // Heartbeats keep a call longer than the call-monitor timeout alive.
    let monitored = calc
        .prepare()
        .call_monitor_timeout(Duration::from_millis(300));
    assert_eq!(monitored.sleep(&ctx(), 0.8).await.unwrap(), 0.8);

    // Another exchange is another bus: nobody serves it there.
    let error = calc
        .prepare()
        .exchange("elsewhere")
        .timeout(Duration::from_millis(200))
        .add(&ctx(), 1, 2)
        .await
        .unwrap_err();
    assert!(matches!(error, RpcError::Timeout { .. }), "{error:?}");
    assert_eq!(
        calc.prepare()
            .exchange("x")
            .into_inner()
            .target()
            .exchange
            .as_deref(),
        Some("x")
    );
    world.finish().await;
}

#[tokio::test]
async fn version_cap_refuses_before_sending_anything() {
    let world = World::new().await;
    // No server: a queue bound to the topic shows whatever would have been sent.
    let broker = world.broker();
    broker.declare_queue(&world.topic);
    broker.bind("openstack", ExchangeKind::Topic, &world.topic, &world.topic);
    let capped = world.calc().version_cap(RpcVersion::new(1, 2));
    assert!(capped.can_send_version(&RpcVersion::new(1, 2)));
    assert!(!capped.can_send_version(&RpcVersion::new(1, 3)));

    let error = capped.echo_floats(&ctx(), vec![1.0]).await.unwrap_err();
    match &error {
        RpcError::VersionCap {
            method,
            version,
            cap,
        } => {
            assert_eq!(method, "echo_floats");
            assert_eq!(version.as_deref(), Some("1.3"));
            assert_eq!(cap, "1.2");
        }
        other => panic!("{other:?}"),
    }
    let error = capped.cast().echo_floats(&ctx(), vec![1.0]).await;
    assert!(
        matches!(error, Err(RpcError::VersionCap { .. })),
        "{error:?}"
    );
    assert_eq!(
        broker.queue_depth(&world.topic),
        Some(0),
        "nothing was sent"
    );

    // Under the cap a cast goes out, and it is the only message in the queue.
    capped.cast().resize(&ctx(), 1, Some(true)).await.unwrap();
    assert_eq!(broker.queue_depth(&world.topic), Some(1));
    world.finish().await;
}

/// A server still at 1.2 (before `force`): records the exact keyword arguments it gets.
fn calc_at_1_2(seen: mpsc::UnboundedSender<Value>) -> DynamicEndpoint {
    DynamicEndpoint::builder()
        .namespace("calc")
        .version(RpcVersion::new(1, 2))
        .method("resize", move |_ctx, args| {
            let seen = seen.clone();
            async move {
                let _ = seen.send(Value::Object(args));
                Ok::<_, RpcError>(Value::Null)
            }
        })
        .build()
}

#[tokio::test]
async fn since_arguments_are_left_out_under_the_cap() {
    let mut world = World::new().await;
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    world.serve_endpoint("old", calc_at_1_2(seen_tx)).await;
    let calc = world.calc();

    // Capped at 1.2, `force` (since 1.3) is left out, not sent as null, and the message
    // goes out as 1.2, which the old server serves.
    let capped = calc.prepare().version_cap(RpcVersion::new(1, 2));
    capped.resize(&ctx(), 20, Some(true)).await.unwrap();
    assert_eq!(seen.recv().await.unwrap(), json!({"size": 20}));

    // Uncapped, `force` goes out and the message is sent as 1.3: the old server refuses it
    // instead of misreading it.
    let error = calc.resize(&ctx(), 20, Some(true)).await.unwrap_err();
    match error {
        RpcError::UnsupportedVersion { version, method } => {
            assert_eq!((version.as_str(), method.as_str()), ("1.3", "resize"));
        }
        other => panic!("{other:?}"),
    }
    world.finish().await;

    // A typed server sees the argument absent (None) under the cap.
    let mut world = World::new().await;
    let mut events = world.serve("new").await;
    let capped = world.calc().version_cap(RpcVersion::new(1, 2));
    capped.resize(&ctx(), 5, Some(true)).await.unwrap();
    assert_eq!(next_event(&mut events).await, "resize(size=5, force=None)");
    world.calc().resize(&ctx(), 5, Some(true)).await.unwrap();
    assert_eq!(next_event(&mut events).await, "resize(size=5, force=True)");
    world.finish().await;
}

/// A newer revision of `calc` than the server has: `square` claims 1.3 but the 1.3 server
/// lacks it; `cube` needs 1.4.
#[allow(dead_code)] // only the client is used: the 1.3 server is the real `Calc`
mod newer {
    use oslo_rpc::prelude::*;

    #[rpc_endpoint(namespace = "calc", version = "1.4")]
    pub(crate) trait CalcNext {
        /// Not on the 1.3 server.
        #[rpc(since = "1.3")]
        async fn square(&self, x: i64) -> Result<i64, RpcError>;
        /// Needs a 1.4 server.
        #[rpc(since = "1.4")]
        async fn cube(&self, x: i64) -> Result<i64, RpcError>;
    }
}

#[tokio::test]
async fn no_such_method_and_unsupported_version_from_the_server() {
    let mut world = World::new().await;
    world.serve("s1").await;
    let next = newer::CalcNextClient::new(world.rpc_client());
    let error = next.square(&ctx(), 3).await.unwrap_err();
    assert!(
        matches!(&error, RpcError::NoSuchMethod { method } if method == "square"),
        "{error:?}"
    );
    let error = next.cube(&ctx(), 3).await.unwrap_err();
    match error {
        RpcError::UnsupportedVersion { version, method } => {
            assert_eq!((version.as_str(), method.as_str()), ("1.4", "cube"));
        }
        other => panic!("{other:?}"),
    }
    world.finish().await;
}

#[tokio::test]
async fn wrong_keyword_arguments_are_python_type_errors() {
    let mut world = World::new().await;
    let mut events = world.serve("s1").await;
    let untyped = world.untyped();
    let cases = [
        (
            "add",
            json!({"a": 1}),
            "add() missing 1 required positional argument: 'b'",
        ),
        (
            "add",
            json!({}),
            "add() missing 2 required positional arguments: 'a' and 'b'",
        ),
        (
            "add",
            json!({"a": 1, "b": 2, "y": 3}),
            "add() got an unexpected keyword argument 'y'",
        ),
        (
            // Python checks unexpected names before missing ones.
            "add",
            json!({"y": 3}),
            "add() got an unexpected keyword argument 'y'",
        ),
        (
            "add",
            json!({"a": "x", "b": 2}),
            "add() argument 'a': invalid type: string \"x\", expected i64",
        ),
        (
            "add",
            json!({"a": 1, "b": null}),
            "add() argument 'b': invalid type: null, expected i64",
        ),
        (
            "resize",
            json!({"size": -1}),
            "resize() argument 'size': invalid value: integer `-1`, expected u32",
        ),
        (
            "resize",
            json!({"size": 1, "force": "yes"}),
            "resize() argument 'force': invalid type: string \"yes\", expected a boolean",
        ),
        (
            "echo_floats",
            json!({"values": [1.0, "two"]}),
            "echo_floats() argument 'values': invalid type: string \"two\", expected f64",
        ),
    ];
    for (method, kwargs, message) in cases {
        let error = untyped
            .call(&ctx(), method, kwargs.clone())
            .await
            .unwrap_err();
        let remote = remote(&error);
        assert_eq!(
            (remote.class.as_str(), remote.module.as_str()),
            ("TypeError", "builtins"),
            "{method}({kwargs})"
        );
        assert_eq!(remote.message, message, "{method}({kwargs})");
    }
    // None of them reached the implementation.
    assert!(quiet(&mut events).await);

    // An `Option` argument may be absent or null; both read as None.
    untyped
        .call(&ctx(), "resize", json!({"size": 1}))
        .await
        .unwrap();
    untyped
        .call(&ctx(), "resize", json!({"size": 2, "force": null}))
        .await
        .unwrap();
    assert_eq!(next_event(&mut events).await, "resize(size=1, force=None)");
    assert_eq!(next_event(&mut events).await, "resize(size=2, force=None)");
    world.finish().await;
}

#[tokio::test]
async fn non_finite_floats_round_trip_as_typed_f64() {
    let mut world = World::new().await;
    world.serve("s1").await;
    let values = vec![1.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 1e16];
    let back = world
        .calc()
        .echo_floats(&ctx(), values.clone())
        .await
        .unwrap();
    assert_eq!(back.len(), values.len());
    assert_eq!(back[0], 1.5);
    assert!(back[1].is_nan());
    assert_eq!(back[2], f64::INFINITY);
    assert_eq!(back[3], f64::NEG_INFINITY);
    assert!(back[4] == 0.0 && back[4].is_sign_negative());
    assert_eq!(back[5], 1e16);
    world.finish().await;
}

#[tokio::test]
async fn remote_errors_carry_class_module_args_and_kwargs() {
    let mut world = World::new().await;
    world.serve("s1").await;
    let calc = world.calc();
    let cases = [
        (
            "value",
            ("ValueError", "builtins", "bad value"),
            json!(["bad value"]),
            json!({}),
            CalcError::Value("bad value".to_owned()),
        ),
        (
            "key",
            ("KeyError", "builtins", "'k'"),
            json!(["k"]),
            json!({}),
            CalcError::Key("k".to_owned()),
        ),
        (
            "custom",
            ("CalcError", "calc_errors", "custom err"),
            json!(["custom err"]),
            json!({"code": 7}),
            CalcError::Custom {
                message: "custom err".to_owned(),
                code: 7,
            },
        ),
        (
            "anything",
            ("OtherError", "calc_server", "other err: anything"),
            json!(["other err: anything"]),
            json!({}),
            CalcError::Other("other err: anything".to_owned()),
        ),
    ];
    for (kind, (class, module, message), args, kwargs, rebuilt) in cases {
        let error = calc.fail(&ctx(), kind.to_owned()).await.unwrap_err();
        let remote = remote(&error);
        assert_eq!(
            (
                remote.class.as_str(),
                remote.module.as_str(),
                remote.message.as_str()
            ),
            (class, module, message),
            "{kind}"
        );
        assert_eq!(json!(remote.args), args, "{kind}");
        assert_eq!(Value::Object(remote.kwargs.clone()), kwargs, "{kind}");
        assert_eq!(error.rebuild::<CalcError>(), Some(rebuilt), "{kind}");
    }
    let error = calc.sleep(&ctx(), -1.0).await.unwrap_err();
    assert_eq!(
        remote(&error).qualified_class(),
        "builtins.ValueError",
        "{error}"
    );
    world.finish().await;
}

#[tokio::test]
async fn ping_lives_in_the_null_namespace_beside_calc() {
    let mut world = World::new().await;
    world.serve("s1").await;
    assert_eq!(PingClient::NAMESPACE, None);
    assert_eq!(PingClient::VERSION, RpcVersion::new(2, 0));
    assert_eq!(CalcClient::NAMESPACE, Some("calc"));
    assert_eq!(CalcClient::VERSION, RpcVersion::new(1, 3));

    // Both endpoints of the one server answer.
    let ping = PingClient::new(world.rpc_client());
    assert_eq!(ping.ping(&ctx()).await.unwrap(), "pong");
    assert_eq!(world.calc().add(&ctx(), 1, 1).await.unwrap(), 2);

    // `ping` is only in the null namespace, `add` only in `calc`.
    let error = world
        .untyped()
        .version(RpcVersion::new(2, 0))
        .call(&ctx(), "ping", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(error, RpcError::UnsupportedVersion { .. }),
        "{error:?}"
    );
    let error = world
        .rpc_client()
        .version(RpcVersion::new(2, 0))
        .call(&ctx(), "add", json!({"a": 1, "b": 1}))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, RpcError::NoSuchMethod { method } if method == "add"),
        "{error:?}"
    );
    world.finish().await;
}

/// Renames, the request context, `Option` arguments, a default body and a unit result,
/// on a test-only interface.
mod extras {
    use oslo_rpc::prelude::*;

    #[rpc_endpoint(namespace = "extras", version = "1.1")]
    pub(crate) trait Extras {
        /// On the wire as `get-thing`.
        #[rpc(name = "get-thing")]
        async fn get_thing(&self, id: u64) -> Result<String, RpcError>;
        /// Returns the caller's request id and user.
        async fn whoami(&self, ctx: &Context)
        -> Result<(Option<String>, Option<String>), RpcError>;
        /// Greets `name`, or nobody.
        async fn greet(
            &self,
            name: Option<String>,
            punctuation: Option<char>,
        ) -> Result<String, RpcError>;
        /// A default body, served like any other method.
        #[rpc(since = "1.1")]
        async fn twice(&self, ctx: &Context, x: i32) -> Result<i32, RpcError> {
            let _ = ctx;
            Ok(x * 2)
        }
        /// Nothing to return.
        async fn nothing(&self) -> Result<(), RpcError>;
    }

    pub(crate) struct Service;

    impl Extras for Service {
        async fn get_thing(&self, id: u64) -> Result<String, RpcError> {
            Ok(format!("thing-{id}"))
        }
        async fn whoami(
            &self,
            ctx: &Context,
        ) -> Result<(Option<String>, Option<String>), RpcError> {
            Ok((
                ctx.request_id().map(str::to_owned),
                ctx.user_id().map(str::to_owned),
            ))
        }
        async fn greet(
            &self,
            name: Option<String>,
            punctuation: Option<char>,
        ) -> Result<String, RpcError> {
            Ok(format!(
                "hello {}{}",
                name.as_deref().unwrap_or("nobody"),
                punctuation.unwrap_or('.')
            ))
        }
        async fn nothing(&self) -> Result<(), RpcError> {
            Ok(())
        }
    }
}

#[tokio::test]
async fn renames_context_options_and_default_bodies() {
    use extras::{ExtrasClient, ExtrasEndpoint, Service};

    let mut world = World::new().await;
    world
        .serve_endpoint("s1", ExtrasEndpoint::new(Service))
        .await;
    let client = ExtrasClient::new(world.rpc_client());

    assert_eq!(client.get_thing(&ctx(), 7).await.unwrap(), "thing-7");
    let untyped = world.rpc_client().namespace(Some("extras".to_owned()));
    assert_eq!(
        untyped
            .call(&ctx(), "get-thing", json!({"id": 8}))
            .await
            .unwrap(),
        json!("thing-8")
    );
    let error = untyped
        .call(&ctx(), "get_thing", json!({"id": 8}))
        .await
        .unwrap_err();
    assert!(matches!(error, RpcError::NoSuchMethod { .. }), "{error:?}");
    let endpoint = ExtrasEndpoint::new(Service);
    assert!(endpoint.has_method("get-thing") && !endpoint.has_method("get_thing"));

    let ctx = Context::new()
        .with_request_id("req-1")
        .with_user_id("alice");
    assert_eq!(
        client.whoami(&ctx).await.unwrap(),
        (Some("req-1".to_owned()), Some("alice".to_owned()))
    );

    assert_eq!(
        client.greet(&ctx, None, None).await.unwrap(),
        "hello nobody."
    );
    assert_eq!(
        client
            .greet(&ctx, Some("bob".to_owned()), Some('!'))
            .await
            .unwrap(),
        "hello bob!"
    );
    // Optional arguments without `since` are always sent, as null when None.
    assert_eq!(
        untyped.call(&ctx, "greet", json!({})).await.unwrap(),
        json!("hello nobody.")
    );

    assert_eq!(client.twice(&ctx, 21).await.unwrap(), 42);
    client.nothing(&ctx).await.unwrap();
    world.finish().await;
}

#[tokio::test]
async fn generated_items_describe_themselves() {
    let endpoint = CalcEndpoint::new(CalcService::new());
    assert_eq!(endpoint.namespace(), Some("calc"));
    assert_eq!(endpoint.version(), Some(RpcVersion::new(1, 3)));
    for method in ["add", "echo", "sleep", "fail", "resize", "echo_floats"] {
        assert!(endpoint.has_method(method), "{method}");
    }
    assert!(!endpoint.has_method("ping"));
    assert_eq!(
        format!("{endpoint:?}"),
        "CalcEndpoint { namespace: Some(\"calc\"), version: RpcVersion { major: 1, minor: 3, \
         revision: None }, .. }"
    );
    // The service is shared, not copied.
    let shared = std::sync::Arc::new(CalcService::new());
    let endpoint = CalcEndpoint::from_arc(shared.clone());
    assert!(std::sync::Arc::ptr_eq(endpoint.service(), &shared));
    assert_eq!(CalcEndpoint::<CalcService>::schema(), CalcClient::schema());

    // The implementation is an ordinary trait object-free value: call it directly.
    let direct = CalcService::new().add(&Context::new(), 1, 2).await.unwrap();
    assert_eq!(direct, 3);
}

#[tokio::test]
async fn undecodable_arguments_never_panic_the_server() {
    let mut world = World::new().await;
    world.serve("s1").await;
    // A cast whose kwargs do not fit is dropped with a log line; the server goes on.
    let broker = world.broker();
    let header = rpc_runtime::wire::RequestHeader {
        method: "add",
        namespace: Some("calc"),
        version: Some("1.0"),
        call: None,
        unique_id: "u-1",
        context: &Context::new(),
    };
    let body = rpc_runtime::wire::encode_request(&header, &json!({"a": [1], "b": {}})).unwrap();
    broker
        .publish_raw(
            Destination::Topic {
                exchange: "openstack",
                routing_key: &world.topic,
            },
            body,
            Some("application/json"),
        )
        .unwrap();
    assert_eq!(world.calc().add(&ctx(), 1, 2).await.unwrap(), 3);
    world.finish().await;
}
