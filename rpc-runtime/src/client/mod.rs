//! `RpcClient`: call and cast with oslo's `prepare()`-style per-call options (spec §2.2,
//! §3.2, §4.4, §6.2, §7.2).

pub(crate) mod reply_waiter;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Number, Value};
use tokio::time::timeout_at;

use crate::clock;
use crate::context::Context;
use crate::error::RpcError;
use crate::target::Target;
use crate::transport::{Destination, MAX_EXPIRATION, PublishOptions, Transport, topology};
use crate::version::RpcVersion;
use crate::wire::{self, CallHeader, CodecError, RawJson, RequestHeader};
use reply_waiter::WaitExpired;

/// The version a message without one is served as (spec §6.1).
const DEFAULT_VERSION: RpcVersion = RpcVersion::new(1, 0);

/// Per-call options, set with the client's builder methods (oslo `prepare()`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
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
#[derive(Clone, Debug)]
pub struct RpcClient {
    transport: Transport,
    target: Arc<Target>,
    options: CallOptions,
}

impl RpcClient {
    /// A client sending to `target` over `transport`.
    pub fn new(transport: Transport, target: Target) -> Self {
        RpcClient {
            transport,
            target: Arc::new(target),
            options: CallOptions::default(),
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
    pub async fn call_raw<A: Serialize + ?Sized>(
        &self,
        ctx: &Context,
        method: &str,
        version: Option<RpcVersion>,
        args: &A,
    ) -> Result<RawJson, RpcError> {
        let topic = self.target.validate_for_call()?;
        let version = version.or(self.target.version);
        self.check_version_cap(method, version.as_ref())?;
        let timeout = self.effective_timeout();
        let deadline = clock::deadline_in(timeout);
        let expired =
            |msg_id: &str, which: WaitExpired| self.timeout_error(method, msg_id, timeout, which);

        let waiter = match timeout_at(deadline, self.transport.reply_waiter()).await {
            Ok(waiter) => waiter?,
            Err(_) => return Err(expired("(none yet)", WaitExpired::Overall)),
        };
        let mut pending = waiter.register(wire::new_id())?;
        let unique_id = wire::new_id();
        let version_text = version.map(|v| v.to_string());
        let monitor = self.options.call_monitor_timeout.map(seconds_number);
        let header = RequestHeader {
            method,
            namespace: self.target.namespace.as_deref(),
            version: version_text.as_deref(),
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
        let destination = Destination::Topic {
            exchange: self.exchange_name(),
            routing_key: &routing_key,
        };
        let options = PublishOptions {
            expiration: Some(timeout.min(MAX_EXPIRATION)),
            mandatory: false,
            retry: self.options.retry,
        };
        let send = self.transport.driver().send(destination, &body, options);
        let sent = timeout_at(deadline, send).await;
        wire::recycle(body);
        match sent {
            Ok(sent) => sent?,
            Err(_) => return Err(expired(pending.msg_id(), WaitExpired::Overall)),
        }
        match pending
            .wait(deadline, self.options.call_monitor_timeout)
            .await
        {
            Ok(outcome) => outcome,
            Err(which) => Err(expired(pending.msg_id(), which)),
        }
    }

    /// Casts with typed arguments; returns once the broker has the message. The timeout
    /// bounds the publish.
    pub async fn cast_typed<A: Serialize + ?Sized>(
        &self,
        ctx: &Context,
        method: &str,
        version: Option<RpcVersion>,
        args: &A,
    ) -> Result<(), RpcError> {
        let topic = self.target.validate_for_cast()?;
        let version = version.or(self.target.version);
        self.check_version_cap(method, version.as_ref())?;
        let timeout = self.effective_timeout();
        let unique_id = wire::new_id();
        let version_text = version.map(|v| v.to_string());
        let header = RequestHeader {
            method,
            namespace: self.target.namespace.as_deref(),
            version: version_text.as_deref(),
            call: None,
            unique_id: &unique_id,
            context: ctx,
        };
        let body = wire::encode_request(&header, args)?;
        let fanout_exchange;
        let routing_key;
        let destination = if self.target.fanout {
            fanout_exchange = topology::fanout_exchange(topic);
            Destination::Fanout {
                exchange: &fanout_exchange,
            }
        } else {
            routing_key = topology::routing_key(topic, self.target.server.as_deref());
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
            Err(_) => Err(self.timeout_error(method, &unique_id, timeout, WaitExpired::Overall)),
        }
    }

    fn effective_timeout(&self) -> Duration {
        self.options
            .timeout
            .unwrap_or(self.transport.config().default_timeout)
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

    fn timeout_error(
        &self,
        method: &str,
        msg_id: &str,
        timeout: Duration,
        which: WaitExpired,
    ) -> RpcError {
        let seconds = match which {
            WaitExpired::Overall => timeout,
            WaitExpired::CallMonitor => self.options.call_monitor_timeout.unwrap_or(timeout),
        };
        RpcError::Timeout {
            target: self.target.to_string(),
            method: method.to_owned(),
            seconds: seconds.as_secs_f64(),
            msg_id: msg_id.to_owned(),
            call_monitor: which == WaitExpired::CallMonitor,
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

    #[test]
    fn call_monitor_timeout_is_written_like_python() {
        assert_eq!(seconds_number(Duration::from_secs(2)).to_string(), "2");
        assert_eq!(
            seconds_number(Duration::from_millis(2500)).to_string(),
            "2.5"
        );
    }
}
