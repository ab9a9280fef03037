//! Sending replies and heartbeats (spec §4.1, §4.3, §4.5): to the default exchange with
//! `mandatory`, retrying every 0.25 s while the reply queue does not exist, then
//! remembering the queue as obsolete for a while.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use tokio::time::{Instant, sleep};

use crate::clock;
use crate::dispatch::Failure;
use crate::error::{RemoteError, RpcError, TransportErrorKind};
use crate::transport::{Destination, PublishOptions, Transport};
use crate::wire::{self, RawJson};

/// Pause between attempts to send a reply whose queue is missing (spec §4.5).
const RETRY_PAUSE: Duration = Duration::from_millis(250);
/// How long an abandoned reply queue is remembered (oslo `ObsoleteReplyQueuesCache`).
const OBSOLETE_TTL: Duration = Duration::from_secs(60);
/// How many abandoned reply queues are remembered.
const OBSOLETE_CAPACITY: usize = 200;
/// How long a reply to a missing queue is retried once the server is stopping (instead of
/// `kombu_missing_consumer_retry_timeout`): a stop waits for the calls in flight and their
/// replies, not a minute for a caller that is gone.
pub const STOP_REPLY_GRACE: Duration = Duration::from_secs(1);

const MANDATORY: PublishOptions = PublishOptions {
    expiration: None,
    mandatory: true,
    retry: None,
};

pub(super) struct Replier {
    transport: Transport,
    obsolete: Mutex<HashMap<String, Instant>>,
    /// When the server began to stop.
    stopping_since: OnceLock<Instant>,
}

impl Replier {
    pub(super) fn new(transport: Transport) -> Self {
        Replier {
            transport,
            obsolete: Mutex::new(HashMap::new()),
            stopping_since: OnceLock::new(),
        }
    }

    /// The server began to stop: replies to missing queues are retried only briefly.
    pub(super) fn stopping(&self) {
        let _ = self.stopping_since.set(Instant::now());
    }

    /// When retrying a reply to a missing queue ends: `give_up_at`, or shortly after the
    /// stop began.
    fn retry_limit(&self, give_up_at: Instant) -> Instant {
        match self.stopping_since.get() {
            Some(since) => give_up_at.min(*since + STOP_REPLY_GRACE),
            None => give_up_at,
        }
    }

    /// Sends the one final reply of a call.
    pub(super) async fn reply(
        &self,
        reply_q: &str,
        msg_id: &str,
        method: &str,
        outcome: Result<RawJson, Failure>,
    ) {
        let (result, failure) = match outcome {
            Ok(result) => (Some(result), None),
            Err(remote) => (None, Some(failure_text(*remote, method))),
        };
        let body = wire::encode_owned_reply(result, failure.as_deref(), msg_id, &wire::new_id());
        self.send_with_retry(reply_q, msg_id, &body).await;
        wire::recycle(body);
    }

    /// Sends one call-monitor heartbeat; false when heartbeats should stop.
    pub(super) async fn heartbeat(&self, reply_q: &str, msg_id: &str) -> bool {
        if self.is_obsolete(reply_q) {
            return false;
        }
        let body = wire::encode_reply(None, None, false, msg_id, &wire::new_id());
        let destination = Destination::Queue { queue: reply_q };
        match self
            .transport
            .driver()
            .send(destination, &body, MANDATORY)
            .await
        {
            Ok(()) => true,
            Err(error) => {
                tracing::info!(%msg_id, %reply_q, %error, "stopping heartbeats");
                false
            }
        }
    }

    async fn send_with_retry(&self, reply_q: &str, msg_id: &str, body: &[u8]) {
        if self.is_obsolete(reply_q) {
            tracing::info!(%reply_q, %msg_id, "reply queue doesn't exist, drop reply");
            return;
        }
        let give_up_at = clock::deadline_in(self.transport.config().reply_retry_timeout);
        let destination = Destination::Queue { queue: reply_q };
        loop {
            match self
                .transport
                .driver()
                .send(destination, body, MANDATORY)
                .await
            {
                Ok(()) => return,
                Err(RpcError::Transport(error))
                    if error.kind() == TransportErrorKind::Unroutable =>
                {
                    if Instant::now() + RETRY_PAUSE > self.retry_limit(give_up_at) {
                        tracing::warn!(
                            %reply_q, %msg_id,
                            "reply failed to send due to a missing queue; abandoning"
                        );
                        self.mark_obsolete(reply_q);
                        return;
                    }
                    sleep(RETRY_PAUSE).await;
                }
                Err(error) => {
                    tracing::warn!(%reply_q, %msg_id, %error, "failed to send reply");
                    return;
                }
            }
        }
    }

    fn obsolete(&self) -> MutexGuard<'_, HashMap<String, Instant>> {
        self.obsolete.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_obsolete(&self, reply_q: &str) -> bool {
        let obsolete = self.obsolete();
        if obsolete.is_empty() {
            return false;
        }
        obsolete
            .get(reply_q)
            .is_some_and(|since| since.elapsed() < OBSOLETE_TTL)
    }

    fn mark_obsolete(&self, reply_q: &str) {
        let mut obsolete = self.obsolete();
        obsolete.retain(|_, since| since.elapsed() < OBSOLETE_TTL);
        if obsolete.len() >= OBSOLETE_CAPACITY {
            let oldest = obsolete
                .iter()
                .min_by_key(|(_, since)| **since)
                .map(|(queue, _)| queue.clone());
            if let Some(oldest) = oldest {
                obsolete.remove(&oldest);
            }
        }
        obsolete.insert(reply_q.to_owned(), Instant::now());
    }
}

/// The failure JSON text for a reply. A Rust method has no Python traceback; a short one
/// naming the method stands in, so Python's `RemoteError` text stays informative.
fn failure_text(mut remote: RemoteError, method: &str) -> String {
    if remote.traceback.is_empty() {
        let qualified = if remote.module == "builtins" {
            remote.class.clone()
        } else {
            remote.qualified_class()
        };
        remote.traceback = vec![
            "Traceback (most recent call last):\n".to_owned(),
            format!("  oslo-rpc endpoint method {method:?}\n"),
            format!("{qualified}: {}\n", remote.message),
        ];
    }
    match wire::encode_failure(&remote) {
        Ok(text) => text,
        Err(error) => {
            // Only exotic args/kwargs can fail to encode; keep class, module and message.
            tracing::warn!(%error, "failure could not be encoded whole");
            let plain = RemoteError::new(remote.class, remote.module, remote.message);
            wire::encode_failure(&plain).unwrap_or_default()
        }
    }
}
