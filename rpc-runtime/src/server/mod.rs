//! `RpcServer`: consumes a target's queues, acknowledges before dispatch (spec §8.1), drops
//! duplicates (§8.2) and undecodable messages (§8.3), dispatches on tokio tasks with a
//! concurrency limit, sends call-monitor heartbeats (§4.3) and the one reply per call
//! (§4.1, §4.5), and stops gracefully.

mod duplicates;
mod replier;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::sleep_until;
use tracing::{Instrument, Span};

use crate::clock;
use crate::dispatch::Failure;
use crate::dispatch::panics::{self, PANIC_CLASS, panic_failure};
use crate::dispatch::{AccessPolicy, Dispatcher, Endpoint};
use crate::error::RpcError;
use crate::target::Target;
use crate::telemetry::{self, Serving};
use crate::transport::{Incoming, ListenSpec, Listener, Transport};
use crate::wire::{self, RawJson, Request};
use duplicates::DuplicateWindow;
use replier::Replier;
pub use replier::STOP_REPLY_GRACE;

/// Default limit of requests dispatched at once (oslo `executor_thread_pool_size`).
pub const DEFAULT_MAX_CONCURRENCY: usize = 64;

/// The largest concurrency limit a server takes; larger ones are lowered to it (the limit
/// is a tokio semaphore, which holds fewer permits than `usize::MAX`).
pub const MAX_CONCURRENCY: usize = if Semaphore::MAX_PERMITS < u32::MAX as usize {
    Semaphore::MAX_PERMITS
} else {
    u32::MAX as usize
};

/// Builds an [`RpcServer`].
#[must_use]
pub struct RpcServerBuilder {
    transport: Transport,
    target: Target,
    endpoints: Vec<Arc<dyn Endpoint>>,
    access_policy: AccessPolicy,
    max_concurrency: usize,
}

impl RpcServerBuilder {
    /// Adds an endpoint. Endpoints are tried in the order they were added (spec §6.1).
    pub fn endpoint(mut self, endpoint: impl Endpoint) -> Self {
        self.endpoints.push(Arc::new(endpoint));
        self
    }

    /// Adds a shared endpoint.
    pub fn endpoint_arc(mut self, endpoint: Arc<dyn Endpoint>) -> Self {
        self.endpoints.push(endpoint);
        self
    }

    /// Sets the access policy (default: refuse methods starting with `_`).
    pub fn access_policy(mut self, policy: AccessPolicy) -> Self {
        self.access_policy = policy;
        self
    }

    /// Sets how many requests may be dispatched at once (default 64, at least 1, at most
    /// [`MAX_CONCURRENCY`]). Further messages stay unacknowledged with the broker until a
    /// slot frees up.
    pub fn max_concurrency(mut self, limit: usize) -> Self {
        self.max_concurrency = limit.clamp(1, MAX_CONCURRENCY);
        self
    }

    /// Checks the target (it needs a topic and a server name) and builds the server.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use oslo_rpc_runtime::{RpcServer, Target, Transport};
    ///
    /// let transport = Transport::new("memory://doc-build").unwrap();
    /// let error = RpcServer::builder(transport, Target::topic("no-server-name"))
    ///     .build()
    ///     .err()
    ///     .expect("a server needs a server name");
    /// assert!(error.to_string().contains("server"), "{error}");
    /// # }
    /// ```
    pub fn build(self) -> Result<RpcServer, RpcError> {
        self.target.validate_for_server()?;
        Ok(RpcServer {
            transport: self.transport,
            target: self.target,
            dispatcher: Dispatcher::new(self.endpoints, self.access_policy),
            max_concurrency: self.max_concurrency,
        })
    }
}

/// An RPC server: a target, its endpoints and how to run them.
///
/// Every request it runs is in an `rpc.dispatch` span (see [`crate::telemetry`]).
///
/// ```
/// use oslo_rpc_runtime::{Context, DynamicEndpoint, RpcClient, RpcError, RpcServer, Target, Transport};
/// use serde_json::json;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), RpcError> {
/// let transport = Transport::new("memory://doc-server")?;
/// let echo = DynamicEndpoint::builder()
///     .method("echo", |_ctx, args| async move { Ok::<_, RpcError>(args["x"].clone()) })
///     .build();
/// let handle = RpcServer::builder(transport.clone(), Target::server("echo", "host-1"))
///     .endpoint(echo)
///     .build()?
///     .start()
///     .await?;
/// assert_eq!(handle.target().server.as_deref(), Some("host-1"));
///
/// let client = RpcClient::new(transport, Target::topic("echo"));
/// assert_eq!(client.call(&Context::new(), "echo", json!({"x": 1})).await?, json!(1));
/// handle.stop().await?;
/// # Ok(())
/// # }
/// ```
pub struct RpcServer {
    transport: Transport,
    target: Target,
    dispatcher: Dispatcher,
    max_concurrency: usize,
}

impl RpcServer {
    /// A builder for a server listening on `target` (topic and server name required).
    pub fn builder(transport: Transport, target: Target) -> RpcServerBuilder {
        RpcServerBuilder {
            transport,
            target,
            endpoints: Vec::new(),
            access_policy: AccessPolicy::default(),
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
        }
    }

    /// Declares the queues and starts consuming. When this returns, the server is
    /// receiving; stop it with [`ServerHandle::stop`].
    pub async fn start(self) -> Result<ServerHandle, RpcError> {
        let (topic, server) = self.target.validate_for_server()?;
        let spec = ListenSpec {
            exchange: self
                .target
                .exchange
                .clone()
                .unwrap_or_else(|| self.transport.config().control_exchange.clone()),
            topic: topic.to_owned(),
            server: server.to_owned(),
        };
        let listener = self.transport.driver().listen(&spec).await?;
        let (stop_tx, stop_rx) = oneshot::channel();
        let worker = Worker {
            serving: Serving {
                system: self.transport.messaging_system(),
                exchange: spec.exchange.clone(),
                topic: spec.topic.clone(),
                server: spec.server.clone(),
            },
            replier: Replier::new(self.transport.clone()),
            dispatcher: self.dispatcher,
            slots: Arc::new(Semaphore::new(self.max_concurrency)),
        };
        // Owned by the transport: a handle dropped without stop() still stops in the
        // background, and Transport::shutdown stops and awaits it.
        let tasks = self.transport.tasks();
        let task = tasks.spawn(worker.serve(listener, stop_rx, tasks.closing()));
        Ok(ServerHandle {
            target: self.target,
            stop_tx: Some(stop_tx),
            task,
        })
    }

    /// Starts, serves until `shutdown` resolves (e.g. a signal), then stops gracefully.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<(), RpcError> {
        let handle = self.start().await?;
        shutdown.await;
        handle.stop().await
    }
}

/// A running server.
pub struct ServerHandle {
    target: Target,
    stop_tx: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl ServerHandle {
    /// The target served.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Stops gracefully: stops consuming (messages not yet accepted go back to the
    /// broker), lets the calls in flight finish and reply, deletes the fanout queue, and
    /// returns.
    ///
    /// Promptly: a reply whose queue does not exist is retried for at most
    /// [`STOP_REPLY_GRACE`] once the stop began (not `kombu_missing_consumer_retry_timeout`,
    /// 60 s, which Python oslo.messaging holds its stop for), so the stop ends about a
    /// second after the last call in flight, while replies whose queue exists are
    /// delivered.
    pub async fn stop(mut self) -> Result<(), RpcError> {
        if let Some(stop) = self.stop_tx.take() {
            let _ = stop.send(());
        }
        (&mut self.task)
            .await
            .map_err(|e| RpcError::transport(format!("the server task failed: {e}")))
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        // Dropping the handle without stop() still stops the server, gracefully, in the
        // background.
        if let Some(stop) = self.stop_tx.take() {
            let _ = stop.send(());
        }
    }
}

/// The consuming loop and what every dispatched request needs.
struct Worker {
    /// Who this server is, for its requests' spans.
    serving: Serving,
    replier: Replier,
    dispatcher: Dispatcher,
    slots: Arc<Semaphore>,
}

impl Worker {
    /// Serves until `stop` (the handle) or `closing` (the transport's shutdown), then stops
    /// gracefully. Every request runs as a task of `in_flight`, owned here: stopping waits
    /// for all of them, and dropping this future (an aborted shutdown) aborts them.
    async fn serve(
        self,
        mut listener: Box<dyn Listener>,
        mut stop: oneshot::Receiver<()>,
        closing: impl Future<Output = ()>,
    ) {
        let worker = Arc::new(self);
        let mut duplicates = DuplicateWindow::default();
        let mut in_flight = JoinSet::new();
        let mut closing = std::pin::pin!(closing);
        loop {
            while let Some(ended) = in_flight.try_join_next() {
                report_request_task(ended);
            }
            // Take a slot before a message, so no more than `max_concurrency` accepted
            // (acknowledged) requests exist at once; the rest wait unacknowledged.
            let slot = tokio::select! {
                biased;
                _ = &mut stop => break,
                () = &mut closing => break,
                slot = worker.slots.clone().acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => break,
                },
            };
            let incoming = tokio::select! {
                biased;
                _ = &mut stop => break,
                () = &mut closing => break,
                incoming = listener.recv() => match incoming {
                    Some(incoming) => incoming,
                    None => break,
                },
            };
            let Some(request) = accept(incoming, &mut duplicates).await else {
                continue;
            };
            let worker = worker.clone();
            let span = telemetry::dispatch_span(&worker.serving, &request);
            in_flight.spawn(
                async move {
                    worker.handle(request).await;
                    drop(slot);
                }
                .instrument(span),
            );
        }
        listener.stop().await;
        worker.replier.stopping();
        while let Some(ended) = in_flight.join_next().await {
            report_request_task(ended);
        }
        listener.close().await;
    }

    /// Runs one request: heartbeats while it runs (calls with a call monitor), then the
    /// reply (calls) or a log line (casts). A panic in the endpoint is answered like any
    /// failure (see [`crate::dispatch::panics`]).
    ///
    /// Runs in the request's `rpc.dispatch` span; records its outcome and duration there
    /// and logs them in a DEBUG event.
    async fn handle(&self, mut request: Request) {
        let span = Span::current();
        let started = (!span.is_disabled()).then(std::time::Instant::now);
        let method = request.method.clone();
        let reply_to = match (request.msg_id.take(), request.reply_q.take()) {
            (Some(msg_id), Some(reply_q)) => Some((msg_id, reply_q)),
            _ => None,
        };
        let heartbeat = request.call_monitor_seconds().and_then(heartbeat_interval);
        let future = panics::catch_panics(|| self.dispatcher.dispatch(request));
        let Some((msg_id, reply_q)) = reply_to else {
            let outcome = settle(&method, future.await);
            handled(&span, started, &outcome);
            if let Err(failure) = outcome {
                tracing::warn!(%method, %failure, "cast failed");
            }
            return;
        };
        let outcome = match heartbeat {
            Some(interval) => {
                self.with_heartbeats(future, interval, &reply_q, &msg_id)
                    .await
            }
            None => future.await,
        };
        let outcome = settle(&method, outcome);
        handled(&span, started, &outcome);
        self.replier
            .reply(&reply_q, &msg_id, &method, outcome)
            .await;
    }

    /// Drives the method while sending a heartbeat every `interval`. Heartbeats stop on
    /// every outcome, errors included (spec §10.2 bug 2 is not copied), and after a
    /// heartbeat fails to send (spec §4.3 step 4).
    async fn with_heartbeats<F: Future + Unpin>(
        &self,
        mut future: F,
        interval: Duration,
        reply_q: &str,
        msg_id: &str,
    ) -> F::Output {
        let mut next = clock::deadline_in(interval);
        let mut beating = true;
        loop {
            tokio::select! {
                outcome = &mut future => return outcome,
                _ = sleep_until(next), if beating => {
                    beating = self.replier.heartbeat(reply_q, msg_id).await;
                    next = clock::deadline_after(next, interval);
                }
            }
        }
    }
}

/// Records a request's outcome and duration on its span (`started` is set when the span
/// is enabled) and logs them at DEBUG.
fn handled(span: &Span, started: Option<std::time::Instant>, outcome: &Result<RawJson, Failure>) {
    let Some(started) = started else {
        return;
    };
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.record("duration_ms", duration_ms);
    match outcome {
        Ok(_) => {
            span.record("oslo.outcome", "ok");
            tracing::debug!(oslo.outcome = "ok", duration_ms, "request handled");
        }
        Err(failure) => {
            span.record("oslo.outcome", "error");
            span.record("error.type", failure.class.as_str());
            tracing::debug!(
                oslo.outcome = "error",
                error.type = failure.class.as_str(),
                duration_ms,
                "request handled"
            );
        }
    }
}

/// A request task that failed: only a bug of ours can panic there (the endpoint's panics
/// are caught and answered).
fn report_request_task(ended: Result<(), tokio::task::JoinError>) {
    if let Err(error) = ended
        && error.is_panic()
    {
        let panic = panics::panic_message(error.into_panic().as_ref());
        tracing::error!(%panic, "a request task panicked");
    }
}

/// A method's outcome, with a panic turned into its failure and logged at error level
/// (oslo logs "Exception during message handling" for an unexpected exception).
fn settle(
    method: &str,
    outcome: Result<Result<RawJson, Failure>, String>,
) -> Result<RawJson, Failure> {
    outcome.unwrap_or_else(|panic| {
        tracing::error!(%method, %panic, "the method panicked; answering with {PANIC_CLASS}");
        Err(panic_failure(&panic))
    })
}

/// The shortest heartbeat interval we send (for tiny `_timeout` values).
const MIN_HEARTBEAT_INTERVAL: Duration = Duration::from_millis(50);

/// The heartbeat interval for a call-monitor timeout (a positive, finite number of seconds;
/// see [`Request::call_monitor_seconds`] and the server's documentation for what other
/// `_timeout` values mean).
///
/// oslo sends heartbeats every `int(_timeout) / 2` seconds. Below 2 s oslo sends none and
/// the caller times out spuriously (spec §10.2 bug 3); we send them every `_timeout / 2`.
/// An interval no `Duration` can hold (`1e300`) means no heartbeat, as in oslo, whose
/// watchdog dies of an `OverflowError` there; one that fits but lies beyond the clock's
/// range (`2**64`) is due after [`clock::FAR_FUTURE`], which in practice is none either.
fn heartbeat_interval(call_monitor_seconds: f64) -> Option<Duration> {
    let seconds = if call_monitor_seconds >= 2.0 {
        call_monitor_seconds.trunc() / 2.0
    } else {
        call_monitor_seconds / 2.0
    };
    clock::seconds(seconds).map(|interval| interval.max(MIN_HEARTBEAT_INTERVAL))
}

/// Turns a delivery into a request to dispatch, or settles it: undecodable messages are
/// rejected without requeue (spec §8.3); good ones are acknowledged before dispatch
/// (spec §8.1); duplicates of the last 16 are dropped after the ack (spec §8.2).
async fn accept(incoming: Incoming, duplicates: &mut DuplicateWindow) -> Option<Request> {
    let Incoming {
        body,
        content_type,
        acker,
        ..
    } = incoming;
    let decoded = wire::check_content_type(content_type.as_deref())
        .and_then(|()| wire::decode_request(&body));
    let request = match decoded {
        Ok(request) => {
            wire::recycle(body);
            request
        }
        Err(error) => {
            tracing::warn!(%error, body_len = body.len(), "rejecting undecodable message");
            if let Some(acker) = acker
                && let Err(error) = acker.reject().await
            {
                tracing::warn!(%error, "could not reject message");
            }
            return None;
        }
    };
    if let Some(acker) = acker
        && let Err(error) = acker.ack().await
    {
        tracing::warn!(%error, method = %request.method, "Discarding RPC request due to failed acknowledge");
        return None;
    }
    if let Some(unique_id) = &request.unique_id
        && !duplicates.insert(unique_id)
    {
        tracing::info!(%unique_id, method = %request.method, "ignoring duplicate message");
        return None;
    }
    Some(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(seconds: f64) -> Duration {
        heartbeat_interval(seconds).expect("an interval")
    }

    #[test]
    fn heartbeat_intervals_follow_oslo_above_two_seconds() {
        assert_eq!(interval(2.0), Duration::from_secs(1));
        assert_eq!(interval(3.0), Duration::from_millis(1500));
        assert_eq!(interval(5.9), Duration::from_millis(2500));
        assert_eq!(interval(60.0), Duration::from_secs(30));
        assert_eq!(interval(1.0), Duration::from_millis(500));
        assert_eq!(interval(0.01), Duration::from_millis(50));
    }

    #[test]
    fn call_monitor_timeouts_too_large_for_a_wait_send_no_heartbeat() {
        // Python's watchdog dies of OverflowError on both (probed against oslo 18.3.1).
        assert_eq!(heartbeat_interval(1e300), None);
        assert_eq!(heartbeat_interval(f64::MAX), None);
        // 2**64 / 2 fits a Duration; the first heartbeat is due past FAR_FUTURE, and
        // computing when does not panic.
        let huge = interval(18446744073709551616.0);
        assert!(huge > clock::FAR_FUTURE);
        let start = tokio::time::Instant::now();
        assert_eq!(
            clock::deadline_after(start, huge),
            start + clock::FAR_FUTURE
        );
    }
}
