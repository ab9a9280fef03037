//! What the runtime reports through [`tracing`]: one span per call, cast and dispatched
//! request, and events for the life of broker connections.
//!
//! Nothing is printed unless the application installs a subscriber (for example
//! `tracing_subscriber::fmt()`); without one, spans cost a check of a cached flag.
//!
//! # Spans
//!
//! | span | level | where | kind |
//! |------|-------|-------|------|
//! | `rpc.call` | INFO | [`RpcClient::call`](crate::RpcClient::call) and the other calls | `client` |
//! | `rpc.cast` | INFO | [`RpcClient::cast`](crate::RpcClient::cast) and `cast_typed` | `producer` |
//! | `rpc.dispatch` | INFO | a server running one request (call or cast) | `server` / `consumer` |
//!
//! Field names follow OpenTelemetry's messaging and RPC conventions where one exists
//! (`tracing-opentelemetry` maps `otel.kind` and `otel.status_code` itself):
//!
//! | field | meaning |
//! |-------|---------|
//! | `otel.kind` | `client` (call), `producer` (cast), `server` (dispatched call), `consumer` (dispatched cast) |
//! | `messaging.system` | `rabbitmq`, or `memory` for the in-process transport |
//! | `messaging.operation` | `publish` on the client, `process` on the server |
//! | `messaging.destination.name` | the exchange (the fanout exchange for fanout casts) |
//! | `messaging.rabbitmq.destination.routing_key` | `topic` or `topic.server` |
//! | `messaging.message.id` | a call's `_msg_id` (the reply is matched by it), a cast's `_unique_id` |
//! | `rpc.system` | `oslo_messaging` |
//! | `rpc.method` | the RPC method |
//! | `oslo.topic`, `oslo.server` | the target's topic and server (on the server: its own name) |
//! | `oslo.namespace`, `oslo.version` | the target's namespace and the message version, when set |
//! | `oslo.fanout` | on a cast, whether it goes to every server of the topic |
//! | `request_id` | the context's `request_id`, as oslo.context logs it: follow a call from a Python service's log into a Rust one's |
//! | `oslo.outcome` | `ok`, `error` (the method failed; `error.type` has the exception class) or, on the client, `timeout`, `unreachable` (the broker was never reached), `access_refused`, `transport`, `invalid` |
//! | `duration_ms` | on the server, how long the method ran |
//!
//! At DEBUG level (`RUST_LOG=debug`, or `RUST_LOG=oslo_rpc_runtime=debug` for the runtime's lines
//! only), a server logs `request handled` for every request, inside its span (method,
//! request id, outcome and duration), and a client logs `finished` for every call and cast
//! (with the error, if any).
//!
//! # Connection events
//!
//! The RabbitMQ transport logs, with `messaging.system`, `server.address` and `server.port`:
//!
//! - INFO `connected to AMQP server` (the first connection of a link, and each opening of
//!   the relief connection) and `reconnected to AMQP server` after a loss (with
//!   `generation`, the count of connections so far); `failover = true` when the new host
//!   is not the one connected before;
//! - INFO `connection no longer needed; closing it` when the relief connection closes (a
//!   few seconds after the resource alarm that opened it ended);
//! - WARN `AMQP server is unreachable` for every failed connection attempt, with
//!   `attempt` (failed attempts since the last connection) and `error`;
//! - WARN `lost the connection to the AMQP server; reconnecting`;
//! - WARN `the broker blocked the connection` and INFO `the broker unblocked the
//!   connection` (RabbitMQ's resource alarms).

use tracing::Span;
use tracing::field::Empty;

use crate::context::Context;
use crate::error::{RpcError, TransportErrorKind};
use crate::target::Target;
use crate::wire::Request;

/// `rpc.system`.
const RPC_SYSTEM: &str = "oslo_messaging";

/// `messaging.system` for a transport URL's scheme.
pub(crate) fn messaging_system(url: &crate::url::TransportUrl) -> &'static str {
    if url.is_memory() {
        "memory"
    } else {
        "rabbitmq"
    }
}

/// Where a client's message goes, for its span.
pub(crate) struct Publish<'a> {
    pub(crate) system: &'static str,
    pub(crate) target: &'a Target,
    pub(crate) exchange: &'a str,
    pub(crate) method: &'a str,
    pub(crate) version: Option<&'a str>,
    pub(crate) ctx: &'a Context,
}

/// The span of a call; `messaging.message.id` and the routing key are recorded once known.
pub(crate) fn call_span(publish: &Publish<'_>) -> Span {
    tracing::info_span!(
        "rpc.call",
        otel.kind = "client",
        messaging.system = publish.system,
        messaging.operation = "publish",
        messaging.destination.name = publish.exchange,
        messaging.rabbitmq.destination.routing_key = Empty,
        messaging.message.id = Empty,
        rpc.system = RPC_SYSTEM,
        rpc.method = publish.method,
        oslo.topic = publish.target.topic.as_deref(),
        oslo.server = publish.target.server.as_deref(),
        oslo.namespace = publish.target.namespace.as_deref(),
        oslo.version = publish.version,
        request_id = publish.ctx.request_id(),
        oslo.outcome = Empty,
    )
}

/// The span of a cast.
pub(crate) fn cast_span(publish: &Publish<'_>) -> Span {
    tracing::info_span!(
        "rpc.cast",
        otel.kind = "producer",
        messaging.system = publish.system,
        messaging.operation = "publish",
        messaging.destination.name = Empty,
        messaging.rabbitmq.destination.routing_key = Empty,
        messaging.message.id = Empty,
        rpc.system = RPC_SYSTEM,
        rpc.method = publish.method,
        oslo.topic = publish.target.topic.as_deref(),
        oslo.server = publish.target.server.as_deref(),
        oslo.fanout = publish.target.fanout,
        oslo.namespace = publish.target.namespace.as_deref(),
        oslo.version = publish.version,
        request_id = publish.ctx.request_id(),
        oslo.outcome = Empty,
    )
}

/// Records how a call or cast ended on its span, and logs it at DEBUG in the span.
pub(crate) fn record_outcome<T>(span: &Span, outcome: &Result<T, RpcError>) {
    if span.is_disabled() {
        return;
    }
    let name = outcome_name(outcome);
    span.record("oslo.outcome", name);
    match outcome {
        Ok(_) => tracing::debug!(parent: span, oslo.outcome = name, "finished"),
        Err(error) => tracing::debug!(parent: span, oslo.outcome = name, %error, "finished"),
    }
}

fn outcome_name<T>(outcome: &Result<T, RpcError>) -> &'static str {
    match outcome {
        Ok(_) => "ok",
        Err(RpcError::Timeout { .. }) => "timeout",
        Err(RpcError::Remote(_)) => "error",
        Err(RpcError::NoSuchMethod { .. } | RpcError::UnsupportedVersion { .. }) => "error",
        Err(RpcError::Transport(error)) => match error.kind() {
            TransportErrorKind::Unreachable => "unreachable",
            TransportErrorKind::AccessRefused => "access_refused",
            _ => "transport",
        },
        Err(_) => "invalid",
    }
}

/// What a server knows about itself, for its requests' spans.
pub(crate) struct Serving {
    pub(crate) system: &'static str,
    pub(crate) exchange: String,
    pub(crate) topic: String,
    pub(crate) server: String,
}

/// The span of one request a server runs.
pub(crate) fn dispatch_span(serving: &Serving, request: &Request) -> Span {
    let call = request.is_call();
    let message_id = if call {
        request.msg_id.as_deref()
    } else {
        request.unique_id.as_deref()
    };
    tracing::info_span!(
        "rpc.dispatch",
        otel.kind = if call { "server" } else { "consumer" },
        messaging.system = serving.system,
        messaging.operation = "process",
        messaging.destination.name = serving.exchange.as_str(),
        messaging.message.id = message_id,
        rpc.system = RPC_SYSTEM,
        rpc.method = request.method.as_str(),
        oslo.topic = serving.topic.as_str(),
        oslo.server = serving.server.as_str(),
        oslo.namespace = request.namespace.as_deref(),
        oslo.version = request.version.as_deref(),
        request_id = request.context.request_id(),
        oslo.outcome = Empty,
        error.type = Empty,
        duration_ms = Empty,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_named_by_kind() {
        assert_eq!(outcome_name::<()>(&Ok(())), "ok");
        assert_eq!(
            outcome_name::<()>(&Err(RpcError::transport("reset"))),
            "transport"
        );
        assert_eq!(
            outcome_name::<()>(&Err(RpcError::InvalidTarget("topic".into()))),
            "invalid"
        );
    }
}
