//! `RpcClient`: call and cast with oslo's `prepare()`-style per-call options (spec §2.2,
//! §3.2, §4.4, §6.2, §7.2).

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Number, Value};
use tokio::time::{Instant, timeout_at};
use tracing::{Instrument, Span};

use crate::clock;
use crate::context::Context;
use crate::error::{RpcError, TransportError, TransportErrorKind};
use crate::objects::VersionManifest;
use crate::target::Target;
use crate::telemetry;
use crate::transport::Unconfirmed;
use crate::transport::reply_waiter::{PendingCall, WaitExpired};
use crate::transport::{Destination, MAX_EXPIRATION, PublishOptions, Transport, topology};
use crate::version::RpcVersion;
use crate::wire::{self, CallHeader, CodecError, RawJson, RequestHeader};

/// Pause before publishing again a request whose channel failed before its confirm.
const LOST_REQUEST_PAUSE: Duration = Duration::from_millis(100);

/// The version a message without one is served as (spec §6.1).
const DEFAULT_VERSION: RpcVersion = RpcVersion::new(1, 0);

/// Per-call options, set with the client's builder methods (oslo `prepare()`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct CallOptions {
    /// The overall call timeout; the transport's `default_timeout` (60 s) when unset. It
    /// covers publishing too (spec §10.2 bug 7 is not copied) and becomes the request's
    /// AMQP `expiration`.
    pub timeout: Option<Duration>,
    /// Ask the server for heartbeats and fail when none arrives for this long (spec §4.3).
    pub call_monitor_timeout: Option<Duration>,
    /// Refuse to send messages whose version this cap cannot serve (spec §6.2).
    pub version_cap: Option<RpcVersion>,
    /// Connection retries for publishing: `None` as many as the timeout allows, `Some(0)`
    /// none (spec §7.3).
    pub retry: Option<u32>,
}

/// A client for one target. Cheap to clone; the builder methods return adjusted copies,
/// like oslo's `client.prepare(server=..., timeout=...)`:
/// `client.prepare().server("host-1").timeout(Duration::from_secs(10))`.
///
/// Every call and cast runs in a `tracing` span (see [`crate::telemetry`]).
///
/// ```
/// use std::time::Duration;
/// use oslo_rpc_runtime::{RpcClient, RpcVersion, Target, Transport};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), oslo_rpc_runtime::RpcError> {
/// let transport = Transport::new("memory://doc-client")?;
/// let client = RpcClient::new(transport, Target::topic("compute"));
/// let pinned = client
///     .prepare()
///     .server("host-1")
///     .timeout(Duration::from_secs(10))
///     .version_cap(RpcVersion::new(5, 3));
/// assert_eq!(pinned.target().server.as_deref(), Some("host-1"));
/// assert_eq!(pinned.options().timeout, Some(Duration::from_secs(10)));
/// assert!(pinned.can_send_version(Some(&RpcVersion::new(5, 1))));
/// assert!(!pinned.can_send_version(Some(&RpcVersion::new(5, 4))));
/// assert!(!pinned.can_send_version(Some(&RpcVersion::new(4, 11)))); // another major
/// // The original is unchanged.
/// assert_eq!(client.target().server, None);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RpcClient {
    transport: Transport,
    target: Arc<Target>,
    options: CallOptions,
    /// The versioned-object versions the receiving side understands (issue 15).
    version_manifest: Option<Arc<VersionManifest>>,
}

impl RpcClient {
    /// A client sending to `target` over `transport`.
    pub fn new(transport: Transport, target: Target) -> Self {
        RpcClient {
            transport,
            target: Arc::new(target),
            options: CallOptions::default(),
            version_manifest: None,
        }
    }

    /// The target messages go to.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The per-call options in force.
    pub fn options(&self) -> &CallOptions {
        &self.options
    }

    /// The object version manifest typed clients downgrade arguments by, if any.
    pub fn version_manifest(&self) -> Option<&Arc<VersionManifest>> {
        self.version_manifest.as_ref()
    }

    /// Downgrades the versioned objects among the arguments of typed calls and casts to the
    /// versions in `manifest` (what the server understands; see [`crate::objects`]), as
    /// oslo's `obj_to_primitive(version_manifest=...)`.
    pub fn with_version_manifest(mut self, manifest: VersionManifest) -> Self {
        self.version_manifest = Some(Arc::new(manifest));
        self
    }

    /// The transport.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// A copy to adjust with the builder methods (reads like oslo's `prepare()`).
    pub fn prepare(&self) -> Self {
        self.clone()
    }

    fn with_target(mut self, change: impl FnOnce(&mut Target)) -> Self {
        change(Arc::make_mut(&mut self.target));
        self
    }

    /// Sends to this exchange instead of the transport's control exchange.
    pub fn exchange(self, exchange: impl Into<String>) -> Self {
        let exchange = exchange.into();
        self.with_target(|t| t.exchange = Some(exchange))
    }

    /// Sends to another topic.
    pub fn topic(self, topic: impl Into<String>) -> Self {
        let topic = topic.into();
        self.with_target(|t| t.topic = Some(topic))
    }

    /// Sets the namespace; `None` is oslo's null namespace.
    pub fn namespace(self, namespace: Option<String>) -> Self {
        self.with_target(|t| t.namespace = namespace)
    }

    /// Sets the message version.
    pub fn version(self, version: RpcVersion) -> Self {
        self.with_target(|t| t.version = Some(version))
    }

    /// Sends to one server of the topic (`<topic>.<server>`).
    pub fn server(self, server: impl Into<String>) -> Self {
        let server = server.into();
        self.with_target(|t| t.server = Some(server))
    }

    /// Casts go to every server of the topic (calls refuse fanout).
    pub fn fanout(self, fanout: bool) -> Self {
        self.with_target(|t| t.fanout = fanout)
    }

    /// Sets the overall timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// Requests call-monitor heartbeats; the call fails when none arrives for `timeout`.
    pub fn call_monitor_timeout(mut self, timeout: Duration) -> Self {
        self.options.call_monitor_timeout = Some(timeout);
        self
    }

    /// Refuses to send messages above this version (spec §6.2).
    pub fn version_cap(mut self, cap: RpcVersion) -> Self {
        self.options.version_cap = Some(cap);
        self
    }

    /// Sets the publish retry policy (spec §7.3).
    pub fn retry(mut self, retry: Option<u32>) -> Self {
        self.options.retry = retry;
        self
    }

    /// oslo `can_send_version`: true when there is no cap, or the cap can serve `version`
    /// (the target's version when `None`).
    ///
    /// A message without any version is served as `1.0`, so that is what the cap is checked
    /// against (oslo refuses it outright; spec §10.2 bug 11).
    pub fn can_send_version(&self, version: Option<&RpcVersion>) -> bool {
        match &self.options.version_cap {
            None => true,
            Some(cap) => {
                let version = version.or(self.target.version.as_ref());
                cap.can_serve(version.unwrap_or(&DEFAULT_VERSION))
            }
        }
    }

    /// Calls `method` with keyword arguments (a JSON object, or `null` for none) and
    /// returns its result. Non-finite floats in the result read as `null` in a `Value`;
    /// use [`call_typed`](Self::call_typed) with `f64` to keep them.
    pub async fn call(
        &self,
        ctx: &Context,
        method: &str,
        kwargs: Value,
    ) -> Result<Value, RpcError> {
        let kwargs = kwargs_object(kwargs)?;
        let raw = self.call_raw(ctx, method, None, &kwargs).await?;
        decode_result(method, &raw)
    }

    /// Casts `method` with keyword arguments; returns once the broker has the message.
    pub async fn cast(&self, ctx: &Context, method: &str, kwargs: Value) -> Result<(), RpcError> {
        let kwargs = kwargs_object(kwargs)?;
        self.cast_typed(ctx, method, None, &kwargs).await
    }

    /// Calls with typed arguments (anything that serializes to a JSON object) and result.
    /// `version` overrides the target's version for this message (the generated clients
    /// pass each method's `since` version).
    pub async fn call_typed<A, R>(
        &self,
        ctx: &Context,
        method: &str,
        version: Option<RpcVersion>,
        args: &A,
    ) -> Result<R, RpcError>
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let raw = self.call_raw(ctx, method, version, args).await?;
        decode_result(method, &raw)
    }

    /// Calls and returns the result as raw JSON text (Python's dialect).
    ///
    /// The call runs in an `rpc.call` span (see [`crate::telemetry`]).
    pub async fn call_raw<A: Serialize + ?Sized>(
        &self,
        ctx: &Context,
        method: &str,
        version: Option<RpcVersion>,
        args: &A,
    ) -> Result<RawJson, RpcError> {
        let version = version.or(self.target.version);
        let version_text = version.map(|v| v.to_string());
        let span = telemetry::call_span(&self.publish_fields(ctx, method, version_text.as_deref()));
        let outcome = self
            .call_in_span(ctx, method, version, version_text.as_deref(), args, &span)
            .instrument(span.clone())
            .await;
        telemetry::record_outcome(&span, &outcome);
        outcome
    }

    async fn call_in_span<A: Serialize + ?Sized>(
        &self,
        ctx: &Context,
        method: &str,
        version: Option<RpcVersion>,
        version_text: Option<&str>,
        args: &A,
        span: &Span,
    ) -> Result<RawJson, RpcError> {
        let topic = self.target.validate_for_call()?;
        self.check_version_cap(method, version.as_ref())?;
        let timeout = self.effective_timeout();
        let deadline = clock::deadline_in(timeout);
        let expired =
            |msg_id: &str, which: WaitExpired| self.timeout_error(method, msg_id, timeout, which);

        let waiter = match timeout_at(deadline, self.transport.reply_waiter()).await {
            Ok(waiter) => waiter?,
            Err(_) => return Err(expired("(none yet)", WaitExpired::Unsent)),
        };
        let mut pending = waiter.register(wire::new_id())?;
        span.record("messaging.message.id", pending.msg_id());
        let unique_id = wire::new_id();
        let monitor = self.options.call_monitor_timeout.map(seconds_number);
        let header = RequestHeader {
            method,
            namespace: self.target.namespace.as_deref(),
            version: version_text,
            call: Some(CallHeader {
                msg_id: pending.msg_id(),
                reply_q: waiter.queue(),
                call_monitor_timeout: monitor.as_ref(),
            }),
            unique_id: &unique_id,
            context: ctx,
        };
        let body = wire::encode_request(&header, args)?;
        let routing_key = topology::routing_key(topic, self.target.server.as_deref());
        span.record(
            "messaging.rabbitmq.destination.routing_key",
            routing_key.as_str(),
        );
        let destination = Destination::Topic {
            exchange: self.exchange_name(),
            routing_key: &routing_key,
        };
        let options = PublishOptions {
            expiration: Some(timeout.min(MAX_EXPIRATION)),
            mandatory: false,
            retry: self.options.retry,
        };
        let outcome = self
            .publish_and_wait(&mut pending, destination, &body, options, deadline)
            .await;
        wire::recycle(body);
        match outcome {
            Ok(outcome) => outcome,
            Err(which) => Err(expired(pending.msg_id(), which)),
        }
    }

    /// Publishes a call's request and waits for its reply. The request's publisher confirm
    /// is not awaited: the reply proves delivery. A refusal (`basic.nack`) fails the call
    /// at once; a channel or connection lost before the confirm makes it publish the same
    /// request again, as its retry policy allows (spec §7.3; the server's duplicate window
    /// drops a second copy, §8.2), while replies to it keep arriving for `pending`.
    async fn publish_and_wait(
        &self,
        pending: &mut PendingCall,
        destination: Destination<'_>,
        body: &[u8],
        mut options: PublishOptions,
        deadline: Instant,
    ) -> Result<Result<RawJson, RpcError>, WaitExpired> {
        let driver = self.transport.driver();
        let mut sent =
            match timeout_at(deadline, driver.send_call(destination, body, options)).await {
                Ok(Ok(sent)) => sent,
                Ok(Err(error)) => return Ok(Err(error)),
                Err(_) => return Err(WaitExpired::Unsent),
            };
        let wait = pending.wait(deadline, self.options.call_monitor_timeout);
        tokio::pin!(wait);
        loop {
            let failure = tokio::select! {
                biased;
                outcome = &mut wait => return outcome,
                failure = sent.failure() => failure,
            };
            let error = match failure {
                Unconfirmed::Refused(error) => return Ok(Err(error)),
                Unconfirmed::Lost(error) => error,
            };
            match &mut options.retry {
                Some(0) => return Ok(Err(error)),
                Some(left) => *left -= 1,
                None => {}
            }
            tracing::info!(%error, "request lost before its confirm; publishing it again");
            // As a publish retried on a live connection would (transport::rabbit).
            tokio::time::sleep_until(deadline.min(Instant::now() + LOST_REQUEST_PAUSE)).await;
            sent = match timeout_at(deadline, driver.send_call(destination, body, options)).await {
                Ok(Ok(sent)) => sent,
                Ok(Err(error)) => return Ok(Err(error)),
                Err(_) => return Err(WaitExpired::Overall),
            };
        }
    }

    /// Casts with typed arguments; returns once the broker has the message. The timeout
    /// bounds the publish.
    ///
    /// The cast runs in an `rpc.cast` span (see [`crate::telemetry`]).
    pub async fn cast_typed<A: Serialize + ?Sized>(
        &self,
        ctx: &Context,
        method: &str,
        version: Option<RpcVersion>,
        args: &A,
    ) -> Result<(), RpcError> {
        let version = version.or(self.target.version);
        let version_text = version.map(|v| v.to_string());
        let span = telemetry::cast_span(&self.publish_fields(ctx, method, version_text.as_deref()));
        let outcome = self
            .cast_in_span(ctx, method, version, version_text.as_deref(), args, &span)
            .instrument(span.clone())
            .await;
        telemetry::record_outcome(&span, &outcome);
        outcome
    }

    async fn cast_in_span<A: Serialize + ?Sized>(
        &self,
        ctx: &Context,
        method: &str,
        version: Option<RpcVersion>,
        version_text: Option<&str>,
        args: &A,
        span: &Span,
    ) -> Result<(), RpcError> {
        let topic = self.target.validate_for_cast()?;
        self.check_version_cap(method, version.as_ref())?;
        let timeout = self.effective_timeout();
        let unique_id = wire::new_id();
        span.record("messaging.message.id", unique_id.as_str());
        let header = RequestHeader {
            method,
            namespace: self.target.namespace.as_deref(),
            version: version_text,
            call: None,
            unique_id: &unique_id,
            context: ctx,
        };
        let body = wire::encode_request(&header, args)?;
        let fanout_exchange;
        let routing_key;
        let destination = if self.target.fanout {
            fanout_exchange = topology::fanout_exchange(topic);
            span.record("messaging.destination.name", fanout_exchange.as_str());
            Destination::Fanout {
                exchange: &fanout_exchange,
            }
        } else {
            routing_key = topology::routing_key(topic, self.target.server.as_deref());
            span.record("messaging.destination.name", self.exchange_name());
            span.record(
                "messaging.rabbitmq.destination.routing_key",
                routing_key.as_str(),
            );
            Destination::Topic {
                exchange: self.exchange_name(),
                routing_key: &routing_key,
            }
        };
        let options = PublishOptions {
            expiration: None,
            mandatory: false,
            retry: self.options.retry,
        };
        let send = self.transport.driver().send(destination, &body, options);
        let sent = timeout_at(clock::deadline_in(timeout), send).await;
        wire::recycle(body);
        match sent {
            Ok(sent) => sent,
            Err(_) => Err(self.timeout_error(method, &unique_id, timeout, WaitExpired::Unsent)),
        }
    }

    fn effective_timeout(&self) -> Duration {
        self.options
            .timeout
            .unwrap_or(self.transport.config().default_timeout)
    }

    /// What the `rpc.call` and `rpc.cast` spans record of a message about to be sent.
    fn publish_fields<'a>(
        &'a self,
        ctx: &'a Context,
        method: &'a str,
        version: Option<&'a str>,
    ) -> telemetry::Publish<'a> {
        telemetry::Publish {
            system: self.transport.messaging_system(),
            target: &self.target,
            exchange: self.exchange_name(),
            method,
            version,
            ctx,
        }
    }

    fn exchange_name(&self) -> &str {
        self.target
            .exchange
            .as_deref()
            .unwrap_or(&self.transport.config().control_exchange)
    }

    fn check_version_cap(
        &self,
        method: &str,
        version: Option<&RpcVersion>,
    ) -> Result<(), RpcError> {
        if self.can_send_version(version) {
            return Ok(());
        }
        Err(RpcError::VersionCap {
            method: method.to_owned(),
            version: Some(version.unwrap_or(&DEFAULT_VERSION).to_string()),
            cap: self
                .options
                .version_cap
                .map(|cap| cap.to_string())
                .unwrap_or_default(),
        })
    }

    /// The error of a call or cast whose time ran out. When it ran out before the message
    /// was handed to the broker and the transport has no connection, the broker was never
    /// reached for it: a transport error of kind [`Unreachable`] naming the host and the
    /// last connection error, not a timeout (no server ever saw the message).
    ///
    /// [`Unreachable`]: crate::error::TransportErrorKind::Unreachable
    fn timeout_error(
        &self,
        method: &str,
        msg_id: &str,
        timeout: Duration,
        which: WaitExpired,
    ) -> RpcError {
        let unreachable = self.transport.driver().connection_problem();
        if let (WaitExpired::Unsent, Some(problem)) = (which, &unreachable) {
            return RpcError::Transport(TransportError::with_kind(
                TransportErrorKind::Unreachable,
                format!(
                    "could not reach the broker within {}s to send {method} to {} (the \
                     message was not sent): {problem}",
                    timeout.as_secs_f64(),
                    self.target
                ),
            ));
        }
        let seconds = match which {
            WaitExpired::Overall | WaitExpired::Unsent => timeout,
            WaitExpired::CallMonitor => self.options.call_monitor_timeout.unwrap_or(timeout),
        };
        RpcError::Timeout {
            target: self.target.to_string(),
            method: method.to_owned(),
            seconds: seconds.as_secs_f64(),
            msg_id: msg_id.to_owned(),
            call_monitor: which == WaitExpired::CallMonitor,
            unreachable,
        }
    }
}

/// `_timeout` as Python would write it: `2` for whole seconds, `2.5` otherwise.
fn seconds_number(duration: Duration) -> Number {
    if duration.subsec_nanos() == 0 {
        Number::from(duration.as_secs())
    } else {
        Number::from_f64(duration.as_secs_f64()).unwrap_or_else(|| Number::from(0))
    }
}

fn kwargs_object(kwargs: Value) -> Result<Value, RpcError> {
    match kwargs {
        Value::Null => Ok(Value::Object(serde_json::Map::new())),
        Value::Object(_) => Ok(kwargs),
        other => Err(RpcError::InvalidArgument(format!(
            "keyword arguments must be a JSON object, got {}",
            wire::json_type_name(&other)
        ))),
    }
}

fn decode_result<R: DeserializeOwned>(method: &str, raw: &RawJson) -> Result<R, RpcError> {
    raw.deserialize_into().map_err(|error| {
        RpcError::Codec(CodecError::malformed(format!(
            "the result of {method} does not have the expected type: {error}"
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::DynamicEndpoint;
    use crate::server::RpcServer;
    use crate::transport::memory::MemoryDriver;
    use crate::transport::{BoxFuture, Driver, ListenSpec, Listener, ReplySink, RequestSent};
    use crate::url::TransportUrl;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A memory transport whose first `lost` call requests are handed over and then lost
    /// with their channel before the confirm (never delivered), or refused if `refuse`.
    struct Unlucky {
        inner: MemoryDriver,
        lost: usize,
        refuse: bool,
        calls_sent: AtomicUsize,
    }

    impl Driver for Unlucky {
        fn send<'a>(
            &'a self,
            destination: Destination<'a>,
            body: &'a [u8],
            options: PublishOptions,
        ) -> BoxFuture<'a, Result<(), RpcError>> {
            self.inner.send(destination, body, options)
        }

        fn send_call<'a>(
            &'a self,
            destination: Destination<'a>,
            body: &'a [u8],
            options: PublishOptions,
        ) -> BoxFuture<'a, Result<RequestSent, RpcError>> {
            if self.calls_sent.fetch_add(1, Ordering::SeqCst) >= self.lost {
                return self.inner.send_call(destination, body, options);
            }
            let (sent, outcome) = RequestSent::awaiting_confirm();
            if self.refuse {
                outcome.refused(RpcError::transport("basic.nack"));
            } else {
                outcome.lost(RpcError::transport("connection reset"));
            }
            Box::pin(std::future::ready(Ok(sent)))
        }

        fn consume_replies<'a>(
            &'a self,
            queue: &'a str,
            sink: Arc<dyn ReplySink>,
        ) -> BoxFuture<'a, Result<(), RpcError>> {
            self.inner.consume_replies(queue, sink)
        }

        fn listen<'a>(
            &'a self,
            spec: &'a ListenSpec,
        ) -> BoxFuture<'a, Result<Box<dyn Listener>, RpcError>> {
            self.inner.listen(spec)
        }

        fn shutdown(&self) -> BoxFuture<'_, ()> {
            self.inner.shutdown()
        }
    }

    /// An echo server on `memory://<name>` and a client on an `Unlucky` driver there.
    async fn unlucky(
        name: &str,
        lost: usize,
        refuse: bool,
    ) -> (RpcClient, Arc<Unlucky>, crate::ServerHandle) {
        let url = format!("memory://{name}");
        let server_transport = Transport::new(&url).unwrap();
        let endpoint = DynamicEndpoint::builder()
            .method("echo", |_ctx, args| async move {
                Ok::<_, RpcError>(args.get("x").cloned().unwrap_or_default())
            })
            .build();
        let server = RpcServer::builder(server_transport, Target::server("t", "s1"))
            .endpoint(endpoint)
            .build()
            .unwrap()
            .start()
            .await
            .unwrap();
        let driver = Arc::new(Unlucky {
            inner: MemoryDriver::new(&TransportUrl::parse(&url).unwrap()),
            lost,
            refuse,
            calls_sent: AtomicUsize::new(0),
        });
        let transport = Transport::builder(&url)
            .driver(driver.clone())
            .build()
            .unwrap();
        let client = RpcClient::new(transport, Target::topic("t")).timeout(Duration::from_secs(5));
        (client, driver, server)
    }

    #[tokio::test]
    async fn a_request_lost_before_its_confirm_is_published_again() {
        // spec §7.3: the request's fate is unknown, as after a publish that failed while
        // waiting for its confirm; the call publishes it again and gets its reply.
        let (client, driver, server) = unlucky("lost-before-confirm", 2, false).await;
        let echoed = client
            .call(&Context::new(), "echo", serde_json::json!({"x": 7}))
            .await
            .unwrap();
        assert_eq!(echoed, serde_json::json!(7));
        assert_eq!(driver.calls_sent.load(Ordering::SeqCst), 3);
        // With no retries allowed, the loss fails the call at once.
        let (client, _driver, server2) = unlucky("lost-no-retry", 1, false).await;
        let started = std::time::Instant::now();
        let error = client
            .retry(Some(0))
            .call(&Context::new(), "echo", serde_json::json!({"x": 7}))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("connection reset"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(2));
        server.stop().await.unwrap();
        server2.stop().await.unwrap();
    }

    #[tokio::test]
    async fn a_refused_request_fails_the_call_at_once() {
        let (client, driver, server) = unlucky("refused-request", 1, true).await;
        let started = std::time::Instant::now();
        let error = client
            .call(&Context::new(), "echo", serde_json::json!({"x": 7}))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("basic.nack"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(driver.calls_sent.load(Ordering::SeqCst), 1);
        server.stop().await.unwrap();
    }

    #[test]
    fn call_monitor_timeout_is_written_like_python() {
        assert_eq!(seconds_number(Duration::from_secs(2)).to_string(), "2");
        assert_eq!(
            seconds_number(Duration::from_millis(2500)).to_string(),
            "2.5"
        );
    }
}
