//! The baseline: a minimal request/reply loop written directly on lapin. One request
//! queue, one reply queue, correlation by id in the AMQP properties, no envelope, no JSON.
//!
//! By default it keeps the guarantees oslo-rpc gives (publisher confirms on requests and
//! replies, manual acks on both queues), so the comparison measures oslo-rpc's own cost;
//! `--no-confirms` drops them (fire-and-forget publishes, auto-ack consumers) to show the
//! fastest round trip lapin can do.

use std::collections::HashMap;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_core::Stream;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use tokio::sync::oneshot;

use crate::measure;

/// Options of the raw lapin benchmark.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The broker (a `rabbit://` URL, converted to AMQP).
    #[arg(
        long,
        env = "RABBIT_URL",
        default_value = "rabbit://guest:guest@127.0.0.1:5672/"
    )]
    url: String,
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
    /// No publisher confirms and no acks (auto-ack consumers).
    #[arg(long)]
    no_confirms: bool,
    /// Publish and consume on separate connections on each side, as oslo-rpc does.
    #[arg(long)]
    split: bool,
    /// Publish each message on a channel of its own from a pool (one publish per channel
    /// at a time), as oslo-rpc does, instead of one shared channel.
    #[arg(long)]
    channel_pool: bool,
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
    async fn new(connection: Arc<Connection>, pool: bool, confirms: bool) -> Result<Self, String> {
        let shared = if pool {
            None
        } else {
            Some(Self::open(&connection, confirms).await?)
        };
        Ok(Publisher {
            connection,
            shared,
            idle: Arc::default(),
            confirms,
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
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), String> {
        if let Some(channel) = &self.shared {
            return publish(channel, routing_key, body, properties, self.confirms).await;
        }
        let idle = self.idle.lock().unwrap().pop();
        let channel = match idle {
            Some(channel) => channel,
            None => Self::open(&self.connection, self.confirms).await?,
        };
        publish(&channel, routing_key, body, properties, self.confirms).await?;
        self.idle.lock().unwrap().push(channel);
        Ok(())
    }
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Vec<u8>>>>>;

/// The AMQP URI of the first host of a `rabbit://` URL.
pub(crate) fn amqp_uri(url: &str) -> Result<String, String> {
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
    Ok(format!("amqp://{user}:{pass}@{hostname}:{port}/{vhost}"))
}

/// Deletes queues (best effort), for the benchmarks' cleanup.
pub(crate) async fn delete_queues(url: &str, queues: &[String]) {
    let Ok(uri) = amqp_uri(url) else { return };
    let Ok(connection) = Connection::connect(&uri, ConnectionProperties::default()).await else {
        return;
    };
    if let Ok(channel) = connection.create_channel().await {
        for queue in queues {
            let _ = channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
    }
    let _ = connection.close(200, "OK".into()).await;
}

async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

fn lapin_error(error: lapin::Error) -> String {
    error.to_string()
}

async fn publish(
    channel: &Channel,
    routing_key: &str,
    body: &[u8],
    properties: BasicProperties,
    confirms: bool,
) -> Result<(), String> {
    let confirm = channel
        .basic_publish(
            "".into(),
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
            return Err("request not confirmed".to_owned());
        }
    }
    Ok(())
}

pub(crate) fn run(args: Args) -> Result<(), String> {
    let runtime = measure::runtime(args.workers).map_err(|e| e.to_string())?;
    let confirms = !args.no_confirms;
    runtime.block_on(async move {
        let uri = amqp_uri(&args.url)?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let request_queue = format!("rpc-bench-raw-{id}");
        let reply_queue = format!("rpc-bench-raw-reply-{id}");
        let consume = BasicConsumeOptions {
            no_ack: !confirms,
            ..BasicConsumeOptions::default()
        };

        // The server: consume requests, publish each body back to its reply_to.
        let connect = || Connection::connect(&uri, ConnectionProperties::default());
        let server = Arc::new(connect().await.map_err(lapin_error)?);
        let server_in = server.create_channel().await.map_err(lapin_error)?;
        let server_publish = if args.split {
            Arc::new(connect().await.map_err(lapin_error)?)
        } else {
            server.clone()
        };
        let server_out =
            Publisher::new(server_publish.clone(), args.channel_pool, confirms).await?;
        server_in
            .queue_declare(
                request_queue.as_str().into(),
                QueueDeclareOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(lapin_error)?;
        let mut requests = server_in
            .basic_consume(
                request_queue.as_str().into(),
                "1".into(),
                consume,
                FieldTable::default(),
            )
            .await
            .map_err(lapin_error)?;
        let server_task = tokio::spawn(async move {
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
                let channel = server_out.clone();
                tokio::spawn(async move {
                    let reply_to = delivery.properties.reply_to().clone().unwrap_or_default();
                    let properties = BasicProperties::default().with_correlation_id(
                        delivery
                            .properties
                            .correlation_id()
                            .clone()
                            .unwrap_or_default(),
                    );
                    let _ = channel
                        .publish(reply_to.as_str(), &delivery.data, properties)
                        .await;
                });
            }
        });

        // The client: one publish channel, one reply consumer, correlation by id.
        let client = Arc::new(connect().await.map_err(lapin_error)?);
        let client_publish = if args.split {
            Arc::new(connect().await.map_err(lapin_error)?)
        } else {
            client.clone()
        };
        let client_out =
            Publisher::new(client_publish.clone(), args.channel_pool, confirms).await?;
        let client_in = client.create_channel().await.map_err(lapin_error)?;
        client_in
            .queue_declare(
                reply_queue.as_str().into(),
                QueueDeclareOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(lapin_error)?;
        let mut replies = client_in
            .basic_consume(
                reply_queue.as_str().into(),
                "1".into(),
                consume,
                FieldTable::default(),
            )
            .await
            .map_err(lapin_error)?;
        let pending: Pending = Arc::default();
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

        let next_id = Arc::new(AtomicU64::new(0));
        let payload: &'static [u8] = b"0123456789abcdef";
        let call = {
            let (pending, channel, request_queue, reply_queue) = (
                pending.clone(),
                client_out.clone(),
                Arc::new(request_queue.clone()),
                Arc::new(reply_queue.clone()),
            );
            move || {
                let (pending, channel, request_queue, reply_queue, next_id) = (
                    pending.clone(),
                    channel.clone(),
                    request_queue.clone(),
                    reply_queue.clone(),
                    next_id.clone(),
                );
                async move {
                    let id = next_id.fetch_add(1, Ordering::Relaxed);
                    let (tx, rx) = oneshot::channel();
                    pending.lock().unwrap().insert(id, tx);
                    let properties = BasicProperties::default()
                        .with_correlation_id(id.to_string().into())
                        .with_reply_to(reply_queue.as_str().into());
                    channel.publish(&request_queue, payload, properties).await?;
                    let body = rx.await.map_err(|_| "reply lost".to_owned())?;
                    if body != payload {
                        return Err("wrong reply".to_owned());
                    }
                    Ok::<(), String>(())
                }
            }
        };
        let outcome = async {
            let sequential = measure::sequential(args.calls, &call).await?;
            let concurrent = measure::concurrent(args.calls, args.in_flight, call.clone()).await?;
            Ok::<_, String>((sequential, concurrent))
        }
        .await;
        server_task.abort();
        reply_task.abort();
        for connection in [client, client_publish, server, server_publish] {
            let _ = connection.close(200, "OK".into()).await;
        }
        delete_queues(&args.url, &[request_queue, reply_queue]).await;
        let (sequential, concurrent) = outcome?;
        measure::print(
            &format!(
                "raw lapin request/reply ({}; {}; {}), 16 B, {} runtime worker(s)",
                if confirms {
                    "publisher confirms, manual acks"
                } else {
                    "no confirms, auto-ack"
                },
                if args.split {
                    "publish and consume connections"
                } else {
                    "one connection per side"
                },
                if args.channel_pool {
                    "a channel per publish"
                } else {
                    "one publish channel"
                },
                args.workers
            ),
            args.in_flight,
            &sequential,
            &concurrent,
        );
        Ok(())
    })
}
