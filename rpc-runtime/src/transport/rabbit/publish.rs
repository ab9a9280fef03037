//! Publishing (spec §2.2, §3.4): the exchange is declared before the first publish to it on
//! a connection, the message goes out with oslo's exact properties on a confirm-mode
//! channel, and the send resolves when the broker confirms it (a call's request on the
//! shared channel: once lapin has it, see [`send_call`]). A mandatory message the
//! broker returns is `Unroutable`. Connection failures are retried as the caller's `retry`
//! allows (spec §7.3), within the caller's deadline and the driver's `send_limit`.
//!
//! Most publishes share one pipelined channel (see [`super::pool`]). On it, lapin hands a
//! `basic.return` to whichever confirm completes next, so a returned message can reach
//! another publish than its own. The publish that receives it compares bodies: its own
//! return makes it `Unroutable` (the server's replier then retries, spec §4.5); someone
//! else's is adopted and republished every 0.25 s until it is routed or
//! `kombu_missing_consumer_retry_timeout` passes, as oslo would have retried it. Either
//! way every returned message is retried by exactly one party.

use std::sync::{Arc, Weak};
use std::task::Poll;
use std::time::Duration;

use lapin::message::BasicReturnMessage;
use lapin::options::BasicPublishOptions;
use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
use lapin::types::{FieldTable, ShortString};
use lapin::{BasicProperties, Confirmation};
use tokio::time::{Instant, sleep, timeout};

use super::RabbitInner;
use super::confirms::PendingConfirm;
use super::declare::{self, ExchangeSpec, QueueSpec};
use super::link::{Link, Session};
use crate::error::{RpcError, TransportError, TransportErrorKind};
use crate::tasks::Tasks;
use crate::transport::{Destination, MAX_EXPIRATION, PublishOptions, RequestSent, Unconfirmed};
use crate::wire::{CONTENT_ENCODING, CONTENT_TYPE};

/// Pause before retrying on a connection that still looks alive (a channel-level failure).
const RETRY_PAUSE: Duration = Duration::from_millis(100);
/// Pause between attempts to republish an adopted returned message (oslo's reply retry,
/// spec §4.5).
const RETURN_RETRY_PAUSE: Duration = Duration::from_millis(250);

/// The AMQP properties of every message oslo publishes (spec §3.4): `application/json`,
/// `utf-8`, persistent, priority 0, an empty headers table, and on calls only the
/// `expiration` as the timeout in whole milliseconds.
pub(super) fn properties(expiration: Option<Duration>) -> BasicProperties {
    let properties = BasicProperties::default()
        .with_content_type(CONTENT_TYPE.into())
        .with_content_encoding(CONTENT_ENCODING.into())
        .with_headers(FieldTable::default())
        .with_delivery_mode(2)
        .with_priority(0);
    match expiration {
        // Python's str(int(timeout * 1000)), within what the broker accepts.
        Some(ttl) => {
            properties.with_expiration(ttl.min(MAX_EXPIRATION).as_millis().to_string().into())
        }
        None => properties,
    }
}

/// Where a message goes: the exchange to declare first (if any), the exchange to publish
/// to and the routing key.
#[derive(Clone)]
struct Route {
    declare: Option<ExchangeSpec>,
    /// A notification's default queue, declared and bound once per connection (notify §1.5).
    default_queue: Option<QueueSpec>,
    exchange: ShortString,
    routing_key: ShortString,
    /// The exchange cannot vanish once declared on the connection (the default exchange,
    /// or a topic exchange that does not auto-delete), so the publish may use the shared
    /// channel: a 404 there would fail every publish in flight on it.
    shareable: bool,
}

impl Route {
    fn of(inner: &RabbitInner, destination: Destination<'_>) -> Result<Route, RpcError> {
        let topology = &inner.config.topology;
        Ok(match destination {
            Destination::Topic {
                exchange,
                routing_key,
            } => Route {
                declare: (!exchange.is_empty()).then(|| topology.control_exchange(exchange)),
                default_queue: None,
                exchange: declare::short("exchange", exchange)?,
                routing_key: declare::short("routing key", routing_key)?,
                shareable: !topology.auto_delete,
            },
            Destination::Notification {
                exchange,
                routing_key,
            } => Route {
                declare: (!exchange.is_empty()).then(|| topology.control_exchange(exchange)),
                default_queue: Some(topology.notification_queue(routing_key)),
                exchange: declare::short("exchange", exchange)?,
                routing_key: declare::short("routing key", routing_key)?,
                shareable: !topology.auto_delete,
            },
            // Fanout casts use routing key "" (spec §2.2, observed).
            Destination::Fanout { exchange } => Route {
                declare: Some(topology.fanout_exchange(exchange)),
                default_queue: None,
                exchange: declare::short("exchange", exchange)?,
                routing_key: ShortString::default(),
                shareable: false,
            },
            // Replies and heartbeats: the default exchange, never declared.
            Destination::Queue { queue } => Route {
                declare: None,
                default_queue: None,
                exchange: ShortString::default(),
                routing_key: declare::short("queue", queue)?,
                shareable: true,
            },
        })
    }
}

/// How one publish attempt failed.
enum Failure {
    /// The broker returned the mandatory message (NO_ROUTE).
    Unroutable(String),
    /// The exchange does not exist (404): it was deleted since we declared it, e.g. an
    /// auto-delete fanout exchange whose last queue went away.
    ExchangeMissing(String),
    /// The exchange exists with another durability (406 `inequivalent arg 'durable'`).
    DurableMismatch(String),
    /// The broker refused for good (403, 406, a nack): retrying will not help.
    Refused(String),
    /// The connection or channel failed; the message may or may not have arrived.
    Connection(String),
}

/// Publishes one message, retrying connection failures as `options.retry` allows.
pub(super) async fn send(
    inner: &Arc<RabbitInner>,
    destination: Destination<'_>,
    body: &[u8],
    options: PublishOptions,
) -> Result<(), RpcError> {
    publish(inner, destination, body, options, Confirm::Await)
        .await
        .map(drop)
}

/// Publishes a call's request like [`send`], except that on the shared channel it
/// returns once lapin has the message, and its confirm is settled by the transport's
/// [`Confirms`](super::confirms::Confirms) queue. Failures before that are retried as in
/// `send`; a refusal or a channel failure after it fails the call through the returned
/// [`RequestSent`].
pub(super) async fn send_call(
    inner: &Arc<RabbitInner>,
    destination: Destination<'_>,
    body: &[u8],
    options: PublishOptions,
) -> Result<RequestSent, RpcError> {
    publish(inner, destination, body, options, Confirm::Queue).await
}

/// Who waits for a publish's confirm.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Confirm {
    /// The publisher.
    Await,
    /// The `Confirms` queue, where the publish goes through the shared channel.
    Queue,
}

async fn publish(
    inner: &Arc<RabbitInner>,
    destination: Destination<'_>,
    body: &[u8],
    options: PublishOptions,
    confirm: Confirm,
) -> Result<RequestSent, RpcError> {
    inner.check_open()?;
    let mut route = Route::of(inner, destination)?;
    let attempts = async {
        let mut retries_left = options.retry;
        let mut redeclared = false;
        let mut non_durable = false;
        loop {
            let session = inner.publish.session_for_publish(retries_left).await?;
            let failure = match attempt(
                inner,
                &session,
                &route,
                body,
                // Built for each attempt and moved into the publish: no copy of it.
                properties(options.expiration),
                options.mandatory,
                confirm,
            )
            .await
            {
                Ok(sent) => return Ok(sent),
                Err(failure) => failure,
            };
            match failure {
                Failure::Unroutable(text) => {
                    return Err(RpcError::Transport(TransportError::with_kind(
                        TransportErrorKind::Unroutable,
                        text,
                    )));
                }
                Failure::ExchangeMissing(text) if !redeclared => {
                    tracing::debug!(%text, "exchange vanished; declaring it again");
                    if let Some(exchange) = &route.declare {
                        session.forget_exchange(&exchange.name);
                    }
                    redeclared = true;
                }
                Failure::DurableMismatch(text) if !non_durable => {
                    // oslo re-declares the exchange non-durable on publish (spec §2.1).
                    tracing::warn!(%text, "declaring the exchange non-durable (oslo's fallback)");
                    if let Some(exchange) = &mut route.declare {
                        exchange.durable = false;
                    }
                    non_durable = true;
                }
                Failure::ExchangeMissing(text)
                | Failure::DurableMismatch(text)
                | Failure::Refused(text) => {
                    return Err(RpcError::transport(text));
                }
                Failure::Connection(text) => {
                    inner.publish.report(&session);
                    match &mut retries_left {
                        Some(0) => return Err(RpcError::transport(text)),
                        Some(left) => *left -= 1,
                        None => {}
                    }
                    tracing::info!(error = %text, "publish failed; retrying");
                    if session.is_alive() {
                        sleep(RETRY_PAUSE).await;
                    }
                }
            }
        }
    };
    match timeout(inner.config.send_limit, attempts).await {
        Ok(result) => result,
        Err(_) => Err(RpcError::transport(format!(
            "could not publish to the AMQP server within {} s",
            inner.config.send_limit.as_secs()
        ))),
    }
}

async fn attempt(
    inner: &Arc<RabbitInner>,
    session: &Arc<Session>,
    route: &Route,
    body: &[u8],
    properties: BasicProperties,
    mandatory: bool,
    confirm: Confirm,
) -> Result<RequestSent, Failure> {
    let declared = route
        .declare
        .as_ref()
        .is_none_or(|exchange| session.exchange_declared(&exchange.name))
        && route.default_queue.as_ref().is_none_or(|queue| {
            session.default_queue_declared(route.exchange.as_str(), &queue.name)
        });
    if route.shareable && declared {
        if confirm == Confirm::Queue && !mandatory {
            return shared_handover(inner, session, route, body, properties).await;
        }
        return shared_attempt(inner, session, route, body, properties, mandatory)
            .await
            .map(|()| RequestSent::confirmed());
    }
    let pooled = inner
        .pool
        .acquire(session)
        .await
        .map_err(|e| classify(e, route))?;
    let channel = pooled.channel();
    if let Some(exchange) = &route.declare {
        if !session.exchange_declared(&exchange.name) {
            declare::declare_exchange(channel, exchange)
                .await
                .map_err(|e| classify(e, route))?;
            session.remember_exchange(&exchange.name);
            inner.declared.exchange(&exchange.name);
        }
        if let Some(queue) = &route.default_queue
            && !session.default_queue_declared(&exchange.name, &queue.name)
        {
            super::notify::declare_default_queue(channel, exchange, queue)
                .await
                .map_err(|e| classify(e, route))?;
            session.remember_default_queue(&exchange.name, &queue.name);
            inner.declared.queue(&queue.name);
        }
    }
    let confirm = channel
        .basic_publish(
            route.exchange.clone(),
            route.routing_key.clone(),
            BasicPublishOptions {
                mandatory,
                immediate: false,
            },
            body,
            properties,
        )
        .await
        .map_err(|e| classify(e, route))?;
    let confirmation = confirm.await.map_err(|e| classify(e, route))?;
    pooled.release();
    match confirmation {
        Confirmation::Ack(None) => Ok(RequestSent::confirmed()),
        Confirmation::Ack(Some(returned)) | Confirmation::Nack(Some(returned)) => {
            Err(unroutable(route, &returned))
        }
        Confirmation::Nack(None) => Err(Failure::Refused(
            "the broker refused the message (basic.nack)".to_owned(),
        )),
        Confirmation::NotRequested => Err(Failure::Connection(
            "publisher confirms are not enabled on the channel".to_owned(),
        )),
    }
}

/// A publish on the shared channel whose confirm goes to the `Confirms` queue once lapin
/// has the message. The body is copied into the publish, which outlives this call, in a
/// buffer from the pool that it goes back to (a fresh allocation of a large body had its
/// pages faulted in on every call, issue 16).
async fn shared_handover(
    inner: &Arc<RabbitInner>,
    session: &Arc<Session>,
    route: &Route,
    body: &[u8],
    properties: BasicProperties,
) -> Result<RequestSent, Failure> {
    let channel = inner
        .pool
        .shared(session)
        .await
        .map_err(|e| classify_shared(e, route))?;
    let body = {
        let mut copy = crate::wire::take_buffer(body.len());
        copy.extend_from_slice(body);
        copy
    };
    let (session, route) = (session.clone(), route.clone());
    let mut publish: PendingConfirm = Box::pin(async move {
        let confirmed = async {
            channel
                .basic_publish(
                    route.exchange.clone(),
                    route.routing_key.clone(),
                    BasicPublishOptions::default(),
                    &body,
                    properties,
                )
                .await?
                .await
        }
        .await;
        crate::wire::recycle(body);
        confirmed.map_err(|error| unconfirmed(&session, &route, error))
    });
    // The first poll hands the frames to lapin, or finds the channel closed (retried as
    // any failure before the broker has the message).
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match publish.as_mut().poll(&mut context) {
        Poll::Ready(Err(Unconfirmed::Refused(error))) => Err(Failure::Refused(error.to_string())),
        Poll::Ready(Err(Unconfirmed::Lost(error))) => Err(Failure::Connection(error.to_string())),
        Poll::Ready(Ok(confirmation)) => {
            let (sent, outcome) = RequestSent::awaiting_confirm();
            inner.confirms.push(
                inner,
                Box::pin(std::future::ready(Ok(confirmation))),
                outcome,
            );
            Ok(sent)
        }
        Poll::Pending => {
            let (sent, outcome) = RequestSent::awaiting_confirm();
            inner.confirms.push(inner, publish, outcome);
            Ok(sent)
        }
    }
}

/// How a handed-over request failed, for its call: refused for good, or lost with its
/// channel (the call publishes it again). A 404 naming the request's own exchange (someone
/// deleted it) makes the session forget the exchange, so the next attempt declares it.
fn unconfirmed(session: &Session, route: &Route, error: lapin::Error) -> Unconfirmed {
    match classify_shared(error, route) {
        Failure::ExchangeMissing(text) => {
            if let Some(exchange) = &route.declare {
                session.forget_exchange(&exchange.name);
            }
            Unconfirmed::Lost(RpcError::transport(text))
        }
        Failure::Connection(text) => Unconfirmed::Lost(RpcError::transport(text)),
        Failure::Unroutable(text) | Failure::DurableMismatch(text) | Failure::Refused(text) => {
            Unconfirmed::Refused(RpcError::transport(text))
        }
    }
}

/// A publish on the shared channel.
async fn shared_attempt(
    inner: &Arc<RabbitInner>,
    session: &Arc<Session>,
    route: &Route,
    body: &[u8],
    properties: BasicProperties,
    mandatory: bool,
) -> Result<(), Failure> {
    let fail = |e| classify_shared(e, route);
    let channel = inner.pool.shared(session).await.map_err(fail)?;
    let confirm = channel
        .basic_publish(
            route.exchange.clone(),
            route.routing_key.clone(),
            BasicPublishOptions {
                mandatory,
                immediate: false,
            },
            body,
            properties,
        )
        .await
        .map_err(fail)?;
    let guard = ConfirmGuard {
        confirm: Some(confirm),
        tasks: inner.tasks.clone(),
        link: inner.publish.clone(),
        generation: session.generation,
    };
    let confirmation = guard.wait().await.map_err(fail)?;
    let (acked, returned) = match confirmation {
        Confirmation::Ack(returned) => (true, returned),
        Confirmation::Nack(returned) => (false, returned),
        Confirmation::NotRequested => {
            return Err(Failure::Connection(
                "publisher confirms are not enabled on the channel".to_owned(),
            ));
        }
    };
    if let Some(returned) = returned {
        let delivery = &returned.delivery;
        let own = delivery.exchange == route.exchange
            && delivery.routing_key == route.routing_key
            && delivery.data == body;
        if own {
            return Err(unroutable(route, &returned));
        }
        adopt(inner, returned);
    }
    if acked {
        Ok(())
    } else {
        Err(Failure::Refused(
            "the broker refused the message (basic.nack)".to_owned(),
        ))
    }
}

fn unroutable(route: &Route, returned: &BasicReturnMessage) -> Failure {
    Failure::Unroutable(format!(
        "the broker returned the message to {:?} with routing key {:?}: {} {}",
        route.exchange.as_str(),
        route.routing_key.as_str(),
        returned.reply_code,
        returned.reply_text
    ))
}

/// Takes over a returned message that reached another publish's confirm: it is
/// republished by a task of the driver (see the module documentation). One task per
/// returned message, no queue between: a return answers one of our own publishes, so
/// their number is bounded by the publishes in flight.
pub(super) fn adopt(inner: &Arc<RabbitInner>, returned: BasicReturnMessage) {
    tracing::debug!(
        routing_key = %returned.delivery.routing_key,
        "adopting a message returned to another publish"
    );
    inner
        .tasks
        .spawn(republish_adopted(Arc::downgrade(inner), returned));
}

/// Republishes an adopted returned message until it is routed or its time is up. Ends
/// with the driver.
async fn republish_adopted(inner: Weak<RabbitInner>, returned: BasicReturnMessage) {
    let Some(limit) = inner.upgrade().map(|inner| inner.config.send_limit) else {
        return;
    };
    let give_up = crate::clock::deadline_in(limit);
    let delivery = returned.delivery;
    let route = Route {
        declare: None,
        default_queue: None,
        exchange: delivery.exchange,
        routing_key: delivery.routing_key,
        shareable: true,
    };
    while Instant::now() < give_up {
        sleep(RETURN_RETRY_PAUSE).await;
        let Some(inner) = inner.upgrade() else { return };
        if inner.check_open().is_err() {
            return;
        }
        let Ok(session) = inner.publish.session(Some(0)).await else {
            continue;
        };
        let outcome = shared_attempt(
            &inner,
            &session,
            &route,
            &delivery.data,
            delivery.properties.clone(),
            true,
        )
        .await;
        match outcome {
            Ok(()) => return,
            Err(Failure::Unroutable(_) | Failure::Connection(_)) => {}
            Err(
                Failure::Refused(text)
                | Failure::ExchangeMissing(text)
                | Failure::DurableMismatch(text),
            ) => {
                tracing::warn!(%text, "dropping an adopted returned message");
                return;
            }
        }
    }
    tracing::warn!(
        routing_key = %route.routing_key,
        "a returned message failed to send within {} s due to a missing queue; \
         abandoning",
        limit.as_secs()
    );
}

/// A confirm on the shared channel. If the caller gives up before it resolves, it is
/// awaited by a task of the driver: lapin keeps a dropped unresolved confirm until someone
/// calls `wait_for_confirms`, which nobody does on a channel that lives as long as its
/// connection.
struct ConfirmGuard {
    confirm: Option<lapin::PublisherConfirm>,
    /// Who awaits an abandoned confirm.
    tasks: Tasks,
    /// The connection the publish went out on: a confirm of a lost connection never
    /// comes, so its wait ends with the connection.
    link: Arc<Link>,
    generation: u64,
}

/// How long an abandoned confirm is awaited in the background.
const ABANDONED_CONFIRM_WAIT: Duration = Duration::from_secs(30);

impl ConfirmGuard {
    async fn wait(mut self) -> lapin::Result<Confirmation> {
        let confirm = self.confirm.as_mut().expect("a confirm until awaited");
        let outcome = confirm.await;
        self.confirm = None;
        outcome
    }
}

impl Drop for ConfirmGuard {
    fn drop(&mut self) {
        if let Some(confirm) = self.confirm.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            let (link, generation) = (self.link.clone(), self.generation);
            self.tasks.spawn(async move {
                tokio::select! {
                    _ = confirm => {}
                    () = link.lost(generation) => {}
                    () = sleep(ABANDONED_CONFIRM_WAIT) => {}
                }
            });
        }
    }
}

/// Like [`classify`], for the shared channel: a channel error there fails every publish
/// in flight on it, so only the publish whose exchange the broker's message names takes
/// it as its own; the others were innocent bystanders and are simply retried.
fn classify_shared(error: lapin::Error, route: &Route) -> Failure {
    let culprit = match error.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => match amqp.kind() {
            AMQPErrorKind::Soft(_) => Some(
                !route.exchange.as_str().is_empty()
                    && amqp
                        .get_message()
                        .as_str()
                        .contains(&format!("'{}'", route.exchange.as_str())),
            ),
            AMQPErrorKind::Hard(_) => None,
        },
        _ => None,
    };
    match culprit {
        Some(false) => Failure::Connection(format!(
            "the shared publish channel failed ({error}); retrying"
        )),
        _ => classify(error, route),
    }
}

fn classify(error: lapin::Error, route: &Route) -> Failure {
    let text = format!(
        "publishing to exchange {:?} with routing key {:?} failed: {error}",
        route.exchange.as_str(),
        route.routing_key.as_str()
    );
    match error.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => match amqp.kind() {
            AMQPErrorKind::Soft(AMQPSoftError::NOTFOUND) if route.declare.is_some() => {
                Failure::ExchangeMissing(text)
            }
            AMQPErrorKind::Soft(AMQPSoftError::PRECONDITIONFAILED)
                if route.declare.as_ref().is_some_and(|e| e.durable)
                    && amqp
                        .get_message()
                        .as_str()
                        .contains("inequivalent arg 'durable'") =>
            {
                Failure::DurableMismatch(text)
            }
            AMQPErrorKind::Soft(
                AMQPSoftError::ACCESSREFUSED
                | AMQPSoftError::PRECONDITIONFAILED
                | AMQPSoftError::NOTFOUND,
            ) => Failure::Refused(text),
            _ => Failure::Connection(text),
        },
        _ => Failure::Connection(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapin::protocol::basic::gen_properties;
    use serde_json::Value;

    const CAPTURE: &str = include_str!("../../../tests/fixtures/oslo-18.3.1-capture.json");

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The content header frame payload lapin sends for `properties` and a body of
    /// `body_len` bytes: class 60, weight 0, body size, property flags and properties.
    fn header_payload(properties: &BasicProperties, body_len: u64) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&60u16.to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes());
        out.extend_from_slice(&body_len.to_be_bytes());
        let written = gen_properties(properties)(Vec::new().into()).expect("properties encode");
        out.extend_from_slice(&written.write);
        out
    }

    #[test]
    fn publish_properties_match_every_captured_python_message() {
        // spec §3.4: the header frames Python oslo.messaging 18.3.1 sent, byte for byte.
        let capture: Value = serde_json::from_str(CAPTURE).unwrap();
        let mut checked = 0;
        for step in capture["steps"].as_array().unwrap() {
            for message in step["messages"].as_array().unwrap() {
                let captured = &message["properties"];
                let expiration = captured
                    .get("expiration")
                    .and_then(Value::as_str)
                    .map(|ms| Duration::from_millis(ms.parse().unwrap()));
                let kind = message["kind"].as_str().unwrap();
                assert_eq!(expiration.is_some(), kind == "request (call)", "{kind}");
                let ours = properties(expiration);
                let captured_hex = message["header_frame_hex"].as_str().unwrap();
                // The body size is the message's own (bytes 4..12); the rest is ours to match.
                let body_len = u64::from_str_radix(&captured_hex[8..24], 16).unwrap();
                assert_eq!(
                    hex(&header_payload(&ours, body_len)),
                    captured_hex,
                    "{kind} in {}",
                    step["title"]
                );
                assert_eq!(
                    u64::from(ours.bitmask()),
                    message["property_flags"].as_u64().unwrap()
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 16);
    }

    #[test]
    fn expiration_is_whole_milliseconds_as_python_writes_it() {
        // str(int(timeout * 1000))
        let ttl = |d: Duration| {
            properties(Some(d))
                .expiration()
                .as_ref()
                .map(|s| s.to_string())
        };
        assert_eq!(ttl(Duration::from_secs(60)).as_deref(), Some("60000"));
        assert_eq!(
            ttl(Duration::from_micros(7_500_900)).as_deref(),
            Some("7500")
        );
        assert_eq!(properties(None).expiration(), &None);
    }
}
