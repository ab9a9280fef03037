//! The baseline: a minimal request/reply loop written directly on lapin. One request
//! queue, one reply queue, correlation by id in the AMQP properties, no envelope, no JSON.
//!
//! By default it keeps the guarantees oslo-rpc gives (publisher confirms on requests and
//! replies, manual acks on both queues), so the comparison measures oslo-rpc's own cost;
//! `--no-confirms` drops them (fire-and-forget publishes, auto-ack consumers) to show the
//! fastest round trip lapin can do. `--minimal` is the suite's third reference (issue 16):
//! no confirms, auto-ack, and an exclusive reply queue, run on current-thread runtimes.
//! A request without `reply_to` is a cast: the server only counts it.
//!
//! `--oslo-wire` publishes requests as oslo does (spec §2.2, §3.1, §3.4): through a topic
//! exchange with the queue's name as routing key, as oslo envelopes of the fields oslo-rpc
//! sends, with oslo's properties. The broker then does what it does for oslo-rpc's
//! requests, and the rest of the loop stays raw lapin's.

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_core::Stream;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions,
    ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::tcp::{OwnedIdentity, OwnedTLSConfig};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use rpc_runtime::wire::{self, CallHeader, RequestHeader};
use tokio::sync::oneshot;
use tokio::time::timeout;

use crate::measure;
use crate::measure::EchoClient;
use crate::peer::ServerCounters;
use crate::rabbit;

/// How the raw loop uses lapin.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub(crate) struct RawLayout {
    /// No publisher confirms and no acks (auto-ack consumers).
    #[arg(long)]
    pub(crate) no_confirms: bool,
    /// Publish and consume on separate connections on each side, as oslo-rpc's
    /// listeners do.
    #[arg(long)]
    pub(crate) split: bool,
    /// Publish each message on a channel of its own from a pool (one publish per channel
    /// at a time) instead of one shared channel.
    #[arg(long)]
    pub(crate) channel_pool: bool,
    /// The minimal pipeline: `--no-confirms`, and the client's reply queue exclusive (it
    /// goes with the client's connection). The suite runs it with `--workers 1`.
    #[arg(long)]
    pub(crate) minimal: bool,
    /// Requests as oslo publishes them: to a topic exchange of the loop's own (declared
    /// as oslo's control exchange, deleted at the end) with the queue's name as routing
    /// key, as oslo envelopes of the fields oslo-rpc sends, with oslo's properties.
    /// Replies still go to the default exchange with the raw loop's correlation id.
    #[arg(long)]
    pub(crate) oslo_wire: bool,
}

impl RawLayout {
    fn confirms(&self) -> bool {
        !(self.no_confirms || self.minimal)
    }

    fn consume_options(&self) -> BasicConsumeOptions {
        BasicConsumeOptions {
            no_ack: self.no_confirms,
            ..BasicConsumeOptions::default()
        }
    }

    /// A phrase for table titles.
    pub(crate) fn describe(&self) -> String {
        let mut phrase = format!(
            "{}; {}; {}",
            if self.confirms() {
                "publisher confirms, manual acks"
            } else if self.minimal {
                "no confirms, auto-ack, exclusive reply queue"
            } else {
                "no confirms, auto-ack"
            },
            if self.split {
                "publish and consume connections"
            } else {
                "one connection per side"
            },
            if self.channel_pool {
                "a channel per publish"
            } else {
                "one publish channel"
            }
        );
        if self.oslo_wire {
            phrase.push_str("; requests on oslo's wire (topic exchange, envelope, properties)");
        }
        phrase
    }
}

/// The topic exchange of an `--oslo-wire` loop whose request queue is `queue`: the
/// queue's name (which ends in a uuid) with a prefix, so both peers derive it.
fn topic_exchange(queue: &str) -> String {
    format!("exchange-{queue}")
}

/// Declares `exchange` as oslo declares its control exchange by default (spec §2.1: topic,
/// not durable, not auto-delete) and binds `queue` to it with its name as routing key.
async fn declare_topic(
    connection: &Connection,
    exchange: &str,
    queue: Option<&str>,
) -> Result<(), String> {
    let channel = connection.create_channel().await.map_err(lapin_error)?;
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(lapin_error)?;
    if let Some(queue) = queue {
        channel
            .queue_bind(
                queue.into(),
                exchange.into(),
                queue.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(lapin_error)?;
    }
    let _ = channel.close(200, "OK".into()).await;
    Ok(())
}

/// The properties oslo gives every request (spec §3.4); a call's also carry its timeout
/// (oslo's default 60 s) as `expiration`.
fn oslo_properties(call: bool) -> BasicProperties {
    let properties = BasicProperties::default()
        .with_content_type(wire::CONTENT_TYPE.into())
        .with_content_encoding(wire::CONTENT_ENCODING.into())
        .with_headers(FieldTable::default())
        .with_delivery_mode(2)
        .with_priority(0);
    if call {
        properties.with_expiration("60000".into())
    } else {
        properties
    }
}

/// The body oslo-rpc's benchmark client sends for `payload` (spec §3.1, §3.2): the echo
/// server's method, its arguments, a fresh `_unique_id` and the benchmark's context. A
/// call (`Some((id, reply queue))`) also carries `_msg_id` (the id as 32 hex digits, the
/// length of oslo's), `_reply_q` and `_timeout`.
fn oslo_body(payload: &str, call: Option<(u64, &str)>) -> Result<Vec<u8>, String> {
    let msg_id = call.map(|(id, _)| format!("{id:032x}"));
    let unique_id = uuid::Uuid::new_v4().simple().to_string();
    let context = rabbit::bench_context();
    let header = RequestHeader {
        method: if call.is_some() {
            rabbit::ECHO
        } else {
            rabbit::SINK
        },
        namespace: None,
        version: None,
        call: call
            .zip(msg_id.as_deref())
            .map(|((_, reply_q), msg_id)| CallHeader {
                msg_id,
                reply_q,
                call_monitor_timeout: None,
            }),
        unique_id: &unique_id,
        context: &context,
    };
    wire::encode_request(&header, &rabbit::bench_args(payload)).map_err(|e| e.to_string())
}

/// Options of the raw lapin benchmark.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    broker: crate::measure::Broker,
    /// Sequential calls to measure (after a warm-up of a tenth as many); the in-flight
    /// run makes as many calls.
    #[arg(long, default_value_t = 20_000)]
    calls: usize,
    /// Calls in flight for the throughput run.
    #[arg(long, default_value_t = 32)]
    in_flight: usize,
    /// Runtime worker threads (1 = current-thread runtime).
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Size of the echoed payload.
    #[arg(long, default_value_t = 16)]
    payload_bytes: usize,
    #[command(flatten)]
    layout: RawLayout,
}

/// Publish channels: one shared, or a pool with one publish per channel at a time.
#[derive(Clone)]
struct Publisher {
    connection: Arc<Connection>,
    shared: Option<Channel>,
    idle: Arc<Mutex<Vec<Channel>>>,
    confirms: bool,
}

impl Publisher {
    async fn new(connection: Arc<Connection>, layout: RawLayout) -> Result<Self, String> {
        let shared = if layout.channel_pool {
            None
        } else {
            Some(Self::open(&connection, layout.confirms()).await?)
        };
        Ok(Publisher {
            connection,
            shared,
            idle: Arc::default(),
            confirms: layout.confirms(),
        })
    }

    async fn open(connection: &Connection, confirms: bool) -> Result<Channel, String> {
        let channel = connection.create_channel().await.map_err(lapin_error)?;
        if confirms {
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await
                .map_err(lapin_error)?;
        }
        Ok(channel)
    }

    async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), String> {
        if let Some(channel) = &self.shared {
            return publish(
                channel,
                exchange,
                routing_key,
                body,
                properties,
                self.confirms,
            )
            .await;
        }
        let idle = self.idle.lock().unwrap().pop();
        let channel = match idle {
            Some(channel) => channel,
            None => Self::open(&self.connection, self.confirms).await?,
        };
        publish(
            &channel,
            exchange,
            routing_key,
            body,
            properties,
            self.confirms,
        )
        .await?;
        self.idle.lock().unwrap().push(channel);
        Ok(())
    }
}

async fn publish(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    body: &[u8],
    properties: BasicProperties,
    confirms: bool,
) -> Result<(), String> {
    let confirm = channel
        .basic_publish(
            exchange.into(),
            routing_key.into(),
            BasicPublishOptions::default(),
            body,
            properties,
        )
        .await
        .map_err(lapin_error)?;
    if confirms {
        let confirmation = confirm.await.map_err(lapin_error)?;
        if !confirmation.is_ack() {
            return Err("publish not confirmed".to_owned());
        }
    }
    Ok(())
}

/// Where the raw loop connects: the first host of a `rabbit://` URL, over TLS when the
/// URL says `ssl=true`.
#[derive(Clone, Debug)]
pub(crate) struct RawTarget {
    uri: String,
    /// lapin's own TLS settings (its `amqps://` support): the URL's `ssl_ca_file` as the
    /// extra trusted chain, `ssl_cert_file` and `ssl_key_file` as the client identity.
    tls: OwnedTLSConfig,
}

impl RawTarget {
    /// The target of a `rabbit://` URL.
    pub(crate) fn of(url: &str) -> Result<RawTarget, String> {
        let parsed = oslo_rpc::TransportUrl::parse(url).map_err(|e| e.to_string())?;
        let host = parsed.hosts().first();
        let text = |value: Option<String>| {
            value
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "guest".to_owned())
        };
        let user = text(host.and_then(|h| h.username.clone()));
        let pass = text(host.and_then(|h| h.password.as_ref().map(|p| p.expose().to_owned())));
        let (hostname, port) = host
            .map(|h| (h.hostname.clone(), h.port_or_default()))
            .unwrap_or_else(|| ("localhost".to_owned(), 5672));
        let vhost = parsed
            .effective_virtual_host()
            .replace('%', "%25")
            .replace('/', "%2f");
        let options = parsed.rabbit_options().cloned().unwrap_or_default();
        let read =
            |path: &str| std::fs::read(path).map_err(|e| format!("raw lapin TLS: {path}: {e}"));
        let tls = if options.ssl {
            OwnedTLSConfig {
                cert_chain: match options.ssl_ca_file.as_str() {
                    "" => None,
                    path => Some(String::from_utf8_lossy(&read(path)?).into_owned()),
                },
                identity: match options.ssl_cert_file.as_str() {
                    "" => None,
                    cert => Some(OwnedIdentity::PKCS8 {
                        pem: read(cert)?,
                        key: read(match options.ssl_key_file.as_str() {
                            "" => cert,
                            key => key,
                        })?,
                    }),
                },
            }
        } else {
            OwnedTLSConfig::default()
        };
        let scheme = if options.ssl { "amqps" } else { "amqp" };
        Ok(RawTarget {
            uri: format!("{scheme}://{user}:{pass}@{hostname}:{port}/{vhost}"),
            tls,
        })
    }
}

/// How long closing a connection or deleting the benchmark's queues may take. lapin
/// 4.12.3's `Connection::close` has been seen never to resolve: the broker logged the TCP
/// connection as closed abruptly, lapin's I/O thread had exited, and the future waited on.
/// (oslo-rpc's own closes are bounded the same way, in `transport::rabbit::link`.)
const CLOSE_LIMIT: Duration = Duration::from_secs(5);

/// Deletes queues (best effort, bounded), for the benchmarks' cleanup. A queue that cannot
/// be deleted is reported and the others are still tried.
pub(crate) async fn delete_queues(url: &str, queues: &[String]) {
    delete_entities(url, queues, &[]).await;
}

/// Deletes these queues, then these exchanges, on the broker of `url` (best effort, bounded).
pub(crate) async fn delete_entities(url: &str, queues: &[String], exchanges: &[String]) {
    let Ok(target) = RawTarget::of(url) else {
        return;
    };
    let delete = async {
        let connection = open_connection(&target).await?;
        if let Ok(channel) = connection.create_channel().await {
            for queue in queues {
                if let Err(error) = channel
                    .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                    .await
                {
                    eprintln!("rpc-bench: deleting queue {queue}: {error}");
                }
            }
            for exchange in exchanges {
                if let Err(error) = channel
                    .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                    .await
                {
                    eprintln!("rpc-bench: deleting exchange {exchange}: {error}");
                }
            }
        }
        close(&connection).await;
        Ok::<_, lapin::Error>(())
    };
    match timeout(CLOSE_LIMIT * 2, delete).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => eprintln!("rpc-bench: deleting {queues:?} {exchanges:?}: {error}"),
        Err(_) => eprintln!(
            "rpc-bench: deleting {queues:?} {exchanges:?} took over {} s; they expire unused",
            (CLOSE_LIMIT * 2).as_secs()
        ),
    }
}

async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

fn lapin_error(error: lapin::Error) -> String {
    error.to_string()
}

async fn open_connection(target: &RawTarget) -> lapin::Result<Connection> {
    Connection::connect_with_config(
        &target.uri,
        ConnectionProperties::default(),
        target.tls.clone(),
        lapin::runtime::default_runtime()?,
    )
    .await
}

async fn connect(target: &RawTarget) -> Result<Arc<Connection>, String> {
    open_connection(target)
        .await
        .map(Arc::new)
        .map_err(lapin_error)
}

/// How long the broker keeps a benchmark queue nobody uses: a peer that could not clean
/// up (killed, or a broker slow to answer) leaves nothing behind for long.
const UNUSED_QUEUE_EXPIRES_MS: i64 = 60_000;

/// A consume channel with `queue` declared (non-durable and expiring when unused, as
/// oslo's reply queues; `exclusive` to this connection if asked) and a consumer on it.
async fn consume(
    connection: &Connection,
    queue: &str,
    exclusive: bool,
    layout: RawLayout,
) -> Result<lapin::Consumer, String> {
    let channel = connection.create_channel().await.map_err(lapin_error)?;
    channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                exclusive,
                ..QueueDeclareOptions::default()
            },
            FieldTable::from(std::collections::BTreeMap::from([(
                "x-expires".into(),
                AMQPValue::LongLongInt(UNUSED_QUEUE_EXPIRES_MS),
            )])),
        )
        .await
        .map_err(lapin_error)?;
    channel
        .basic_consume(
            queue.into(),
            "1".into(),
            layout.consume_options(),
            FieldTable::default(),
        )
        .await
        .map_err(lapin_error)
}

/// One side of the loop: its connections (one, or a consuming and a publishing one with
/// `--split`), its publisher, and a consumer on `queue`.
async fn open_side(
    target: &RawTarget,
    queue: &str,
    exclusive: bool,
    layout: RawLayout,
) -> Result<(Vec<Arc<Connection>>, Publisher, lapin::Consumer), String> {
    let consuming = connect(target).await?;
    let publishing = if layout.split {
        connect(target).await?
    } else {
        consuming.clone()
    };
    let out = Publisher::new(publishing.clone(), layout).await?;
    let consumer = consume(&consuming, queue, exclusive, layout).await?;
    // Each connection once: closing one twice is not something to ask of lapin.
    let connections = if layout.split {
        vec![consuming, publishing]
    } else {
        vec![consuming]
    };
    Ok((connections, out, consumer))
}

/// The raw echo server: consumes `queue`, acks, and publishes each request's body back to
/// its `reply_to` (a request without one is a cast, only counted).
pub(crate) struct RawServer {
    connections: Vec<Arc<Connection>>,
    task: tokio::task::JoinHandle<()>,
    queue: String,
    /// The topic exchange (`--oslo-wire`).
    exchange: Option<String>,
}

impl RawServer {
    pub(crate) async fn start(
        target: &RawTarget,
        queue: &str,
        layout: RawLayout,
        counters: Arc<ServerCounters>,
    ) -> Result<Self, String> {
        let (connections, out, mut requests) = open_side(target, queue, false, layout).await?;
        if layout.oslo_wire {
            let exchange = topic_exchange(queue);
            if let Err(error) = declare_topic(&connections[0], &exchange, Some(queue)).await {
                close_all(&connections).await;
                return Err(error);
            }
        }
        let confirms = layout.confirms();
        let task = tokio::spawn(async move {
            while let Some(Ok(delivery)) = next(&mut requests).await {
                if confirms
                    && delivery
                        .acker
                        .ack(BasicAckOptions::default())
                        .await
                        .is_err()
                {
                    continue;
                }
                let Some(reply_to) = delivery.properties.reply_to().clone() else {
                    counters.processed();
                    continue;
                };
                counters.echoed();
                let out = out.clone();
                tokio::spawn(async move {
                    let properties = BasicProperties::default().with_correlation_id(
                        delivery
                            .properties
                            .correlation_id()
                            .clone()
                            .unwrap_or_default(),
                    );
                    let _ = out
                        .publish("", reply_to.as_str(), &delivery.data, properties)
                        .await;
                });
            }
        });
        Ok(RawServer {
            connections,
            task,
            queue: queue.to_owned(),
            exchange: layout.oslo_wire.then(|| topic_exchange(queue)),
        })
    }

    /// Stops consuming, closes the connections and deletes the request queue (and the
    /// topic exchange).
    pub(crate) async fn stop(self, url: &str) {
        self.task.abort();
        close_all(&self.connections).await;
        let exchanges: Vec<String> = self.exchange.into_iter().collect();
        delete_entities(url, &[self.queue], &exchanges).await;
    }
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Vec<u8>>>>>;

/// The raw client: one publisher, one reply queue and consumer, correlation by id.
#[derive(Clone)]
pub(crate) struct RawClient {
    inner: Arc<RawClientInner>,
}

struct RawClientInner {
    out: Publisher,
    pending: Pending,
    next_id: AtomicU64,
    request_queue: String,
    /// Where requests go: the default exchange, or the topic exchange (`--oslo-wire`).
    exchange: String,
    oslo_wire: bool,
    reply_queue: String,
    /// The reply queue goes with the connection (`--minimal`).
    exclusive_reply: bool,
    connections: Vec<Arc<Connection>>,
    reply_task: tokio::task::JoinHandle<()>,
}

impl RawClient {
    pub(crate) async fn connect(
        target: &RawTarget,
        request_queue: &str,
        layout: RawLayout,
    ) -> Result<Self, String> {
        let reply_queue = format!("{request_queue}-reply-{}", uuid::Uuid::new_v4().simple());
        let (connections, out, mut replies) =
            open_side(target, &reply_queue, layout.minimal, layout).await?;
        let exchange = if layout.oslo_wire {
            // oslo's client declares the exchange before it publishes (spec §2.1).
            let exchange = topic_exchange(request_queue);
            if let Err(error) = declare_topic(&connections[0], &exchange, None).await {
                close_all(&connections).await;
                return Err(error);
            }
            exchange
        } else {
            String::new()
        };
        let pending: Pending = Arc::default();
        let confirms = layout.confirms();
        let reply_task = {
            let pending = pending.clone();
            tokio::spawn(async move {
                while let Some(Ok(delivery)) = next(&mut replies).await {
                    let id = delivery
                        .properties
                        .correlation_id()
                        .as_ref()
                        .and_then(|id| id.as_str().parse::<u64>().ok());
                    let waiter = id.and_then(|id| pending.lock().unwrap().remove(&id));
                    if let Some(waiter) = waiter {
                        let _ = waiter.send(delivery.data);
                    }
                    if confirms {
                        let _ = delivery.acker.ack(BasicAckOptions::default()).await;
                    }
                }
            })
        };
        Ok(RawClient {
            inner: Arc::new(RawClientInner {
                out,
                pending,
                next_id: AtomicU64::new(0),
                request_queue: request_queue.to_owned(),
                exchange,
                oslo_wire: layout.oslo_wire,
                reply_queue,
                exclusive_reply: layout.minimal,
                connections,
                reply_task,
            }),
        })
    }

    /// Closes the connections and deletes the reply queue.
    pub(crate) async fn close(&self, url: &str) {
        self.inner.reply_task.abort();
        close_all(&self.inner.connections).await;
        if !self.inner.exclusive_reply {
            delete_queues(url, std::slice::from_ref(&self.inner.reply_queue)).await;
        }
    }
}

impl EchoClient for RawClient {
    async fn call(&self, payload: &str) -> Result<(), String> {
        let inner = &self.inner;
        let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
        let (request, properties) = inner.request(payload, Some(id))?;
        let (tx, rx) = oneshot::channel();
        inner.pending.lock().unwrap().insert(id, tx);
        let properties = properties
            .with_correlation_id(id.to_string().into())
            .with_reply_to(inner.reply_queue.as_str().into());
        if let Err(error) = inner
            .out
            .publish(&inner.exchange, &inner.request_queue, &request, properties)
            .await
        {
            inner.pending.lock().unwrap().remove(&id);
            return Err(error);
        }
        let body = rx.await.map_err(|_| "reply lost".to_owned())?;
        if body != *request {
            return Err("wrong reply".to_owned());
        }
        Ok(())
    }

    async fn cast(&self, payload: &str) -> Result<(), String> {
        let inner = &self.inner;
        let (request, properties) = inner.request(payload, None)?;
        inner
            .out
            .publish(&inner.exchange, &inner.request_queue, &request, properties)
            .await
    }
}

impl RawClientInner {
    /// A request's body and properties: the payload itself, or with `--oslo-wire` oslo's
    /// envelope and properties. `call` is the call's id (`None` for a cast).
    fn request<'a>(
        &self,
        payload: &'a str,
        call: Option<u64>,
    ) -> Result<(Cow<'a, [u8]>, BasicProperties), String> {
        if !self.oslo_wire {
            return Ok((
                Cow::Borrowed(payload.as_bytes()),
                BasicProperties::default(),
            ));
        }
        let call = call.map(|id| (id, self.reply_queue.as_str()));
        Ok((
            Cow::Owned(oslo_body(payload, call)?),
            oslo_properties(call.is_some()),
        ))
    }
}

/// Closes a connection, waiting at most [`CLOSE_LIMIT`].
async fn close(connection: &Connection) {
    let _ = timeout(CLOSE_LIMIT, connection.close(200, "OK".into())).await;
}

async fn close_all(connections: &[Arc<Connection>]) {
    for connection in connections {
        close(connection).await;
    }
}

pub(crate) fn run(args: Args) -> Result<(), String> {
    let runtime = measure::runtime(args.workers).map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let target = RawTarget::of(&args.broker.url)?;
        let queue = format!("rpc-bench-raw-{}", uuid::Uuid::new_v4().simple());
        let server = RawServer::start(&target, &queue, args.layout, Arc::default()).await?;
        let client = match RawClient::connect(&target, &queue, args.layout).await {
            Ok(client) => client,
            Err(error) => {
                server.stop(&args.broker.url).await;
                return Err(error);
            }
        };
        let outcome = measure::calls(&client, args.payload_bytes, args.calls, args.in_flight).await;
        client.close(&args.broker.url).await;
        server.stop(&args.broker.url).await;
        let (sequential, concurrent) = outcome?;
        measure::print(
            &format!(
                "raw lapin request/reply ({}), {} B, {} runtime worker(s)",
                args.layout.describe(),
                args.payload_bytes,
                args.workers
            ),
            args.in_flight,
            &sequential,
            &concurrent,
        );
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rpc_runtime::transport::memory::{MemoryBroker, MemoryDriver};
    use rpc_runtime::transport::{Driver, TapSpec};
    use rpc_runtime::wire::decode_request;

    use super::*;
    use crate::rabbit::OursClient;

    /// `--oslo-wire` casts are oslo-rpc's benchmark casts, but for their `_unique_id`:
    /// the same fields and the same length (spec §3.1, §3.2).
    #[tokio::test]
    async fn oslo_wire_casts_are_the_bench_clients_casts() {
        let broker = MemoryBroker::named("rpc-bench-raw-lapin-oslo-wire");
        let driver = Arc::new(MemoryDriver::on(broker));
        let spec = TapSpec {
            exchange: "openstack".into(),
            topic: "casts".into(),
        };
        let mut tap = driver.tap(&spec).await.unwrap();
        let transport = oslo_rpc::Transport::builder("memory://rpc-bench-raw-lapin-oslo-wire")
            .driver(driver.clone())
            .build()
            .unwrap();
        let payload = measure::payload(16);
        OursClient::new(transport, "casts")
            .cast(&payload)
            .await
            .unwrap();
        let ours = tap.recv().await.unwrap().body;
        let raw = oslo_body(&payload, None).unwrap();
        assert_eq!(raw.len(), ours.len());
        let without_unique_id = |body: &[u8]| {
            let mut request = decode_request(body).unwrap();
            assert_eq!(request.unique_id.as_ref().map(String::len), Some(32));
            request.unique_id = None;
            request
        };
        assert_eq!(without_unique_id(&raw), without_unique_id(&ours));
        println!("cast body: {} bytes", raw.len());
    }

    #[test]
    fn oslo_wire_calls_carry_a_call_header() {
        let body = oslo_body("xy", Some((7, "reply-q"))).unwrap();
        let request = decode_request(&body).unwrap();
        assert_eq!(request.method, rabbit::ECHO);
        assert_eq!(
            request.msg_id.as_deref(),
            Some("00000000000000000000000000000007")
        );
        assert_eq!(request.reply_q.as_deref(), Some("reply-q"));
        let cast = decode_request(&oslo_body("xy", None).unwrap()).unwrap();
        assert_eq!((cast.method.as_str(), cast.msg_id), (rabbit::SINK, None));
        assert!(oslo_properties(true).expiration().is_some());
        assert!(oslo_properties(false).expiration().is_none());
        assert_eq!(topic_exchange("q-1"), "exchange-q-1");
    }
}
