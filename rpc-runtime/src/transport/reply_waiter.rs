//! The reply waiter (oslo `ReplyWaiter`, spec §4.4): one reply queue per transport, a map
//! from `_msg_id` to the waiting call, and the wait itself with its overall and
//! call-monitor timers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{Instant, timeout_at};

use crate::clock;
use crate::error::{DISPATCHER_MODULE, RemoteError, RpcError, TransportError, TransportErrorKind};
use crate::transport::ReplySink;
use crate::wire::{self, CodecError, FailureField, RawJson, Reply};

/// A reply on its way to its call. Boxed: the channel allocates its slots 32 at a time,
/// and 32 pointers are far cheaper to allocate for every call than 32 replies.
type Delivered = Box<Reply>;

/// Replies a call may have unread before more are dropped. A call gets one final reply
/// (two in the legacy pattern, spec §4.2) and heartbeats; only a peer flooding one
/// `_msg_id` fills this, and then a dropped heartbeat loses nothing (the unread messages
/// restart the call monitor just as well).
const UNREAD_REPLIES: usize = 16;

/// Routes replies from the transport's reply queue to the calls waiting for them.
pub(crate) struct ReplyWaiter {
    queue: String,
    pending: Mutex<HashMap<String, mpsc::Sender<Delivered>>>,
    closed: AtomicBool,
}

impl ReplyWaiter {
    pub(crate) fn new(queue: String) -> Self {
        ReplyWaiter {
            queue,
            pending: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
        }
    }

    /// The reply queue name (`reply_<uuid hex>`), sent as `_reply_q`.
    pub(crate) fn queue(&self) -> &str {
        &self.queue
    }

    fn pending(&self) -> MutexGuard<'_, HashMap<String, mpsc::Sender<Delivered>>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a call before its request is published, so no reply can be missed.
    pub(crate) fn register(self: &Arc<Self>, msg_id: String) -> Result<PendingCall, RpcError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(closed_error());
        }
        let (tx, rx) = mpsc::channel(UNREAD_REPLIES);
        self.pending().insert(msg_id.clone(), tx);
        Ok(PendingCall {
            waiter: self.clone(),
            msg_id,
            replies: rx,
        })
    }

    /// Fails every waiting call with a transport error; later calls fail at once.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.pending().clear();
    }
}

impl ReplySink for ReplyWaiter {
    fn deliver(&self, body: &[u8], content_type: Option<&str>) {
        if let Err(error) = wire::check_content_type(content_type) {
            tracing::warn!(queue = %self.queue, %error, "dropping reply");
            return;
        }
        let reply = match wire::decode_reply(body) {
            Ok(reply) => reply,
            Err(error) => {
                tracing::warn!(queue = %self.queue, %error, "dropping undecodable reply");
                return;
            }
        };
        let Some(msg_id) = reply.msg_id.as_deref() else {
            tracing::warn!(queue = %self.queue, "dropping reply without _msg_id");
            return;
        };
        let pending = self.pending();
        match pending.get(msg_id) {
            Some(call) => {
                let msg_id = msg_id.to_owned();
                match call.try_send(Box::new(reply)) {
                    Ok(()) => {}
                    // The call just gave up; the reply is as stray as any other.
                    Err(mpsc::error::TrySendError::Closed(_)) => {
                        tracing::debug!(%msg_id, "call gone before its reply arrived");
                    }
                    Err(mpsc::error::TrySendError::Full(reply)) => {
                        let heartbeat = reply.is_heartbeat();
                        tracing::warn!(
                            %msg_id, heartbeat,
                            "dropping a reply: the call has {UNREAD_REPLIES} unread replies"
                        );
                    }
                }
            }
            None => tracing::info!(%msg_id, "No calling threads waiting for msg_id"),
        }
    }
}

/// One registered call; dropping it (e.g. cancelling the call's future) unregisters it.
pub(crate) struct PendingCall {
    waiter: Arc<ReplyWaiter>,
    msg_id: String,
    replies: mpsc::Receiver<Delivered>,
}

/// Why a wait ended without a reply, for the caller to build its timeout error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum WaitExpired {
    /// The overall timeout.
    Overall,
    /// No heartbeat or reply within the call-monitor timeout.
    CallMonitor,
    /// The overall timeout, before the request was handed to the broker.
    Unsent,
}

impl PendingCall {
    pub(crate) fn msg_id(&self) -> &str {
        &self.msg_id
    }

    /// Waits for the final reply (spec §4.4), with the overall deadline and the
    /// call-monitor timeout that every heartbeat restarts. Heartbeats are accepted even
    /// when no call monitor was requested (spec §10.2 bug 1 is not copied), and the
    /// legacy two-message pattern (spec §4.2) is handled.
    pub(crate) async fn wait(
        &mut self,
        deadline: Instant,
        call_monitor: Option<Duration>,
    ) -> Result<Result<RawJson, RpcError>, WaitExpired> {
        let mut outcome: Option<Result<RawJson, RpcError>> = None;
        let mut monitor_deadline = call_monitor.map(clock::deadline_in);
        loop {
            let (wake_at, expiry) = match monitor_deadline {
                Some(monitor) if monitor < deadline => (monitor, WaitExpired::CallMonitor),
                _ => (deadline, WaitExpired::Overall),
            };
            let reply = match timeout_at(wake_at, self.replies.recv()).await {
                Err(_) => return Err(expiry),
                Ok(None) => return Ok(Err(closed_error())),
                Ok(Some(reply)) => reply,
            };
            let ending = reply.is_ending();
            match reply.failure {
                FailureField::Json(text) => outcome = Some(Err(failure_error(&text))),
                FailureField::NotAString(kind) => {
                    outcome = Some(Err(RpcError::Codec(CodecError::malformed(format!(
                        "reply failure must be a JSON string, got {kind}"
                    )))));
                }
                FailureField::None if !reply.result.is_null() => outcome = Some(Ok(reply.result)),
                FailureField::None if !ending => {
                    monitor_deadline = call_monitor.map(clock::deadline_in);
                }
                FailureField::None => {}
            }
            if ending {
                return Ok(outcome.unwrap_or_else(|| Ok(RawJson::null())));
            }
        }
    }
}

impl Drop for PendingCall {
    fn drop(&mut self) {
        self.waiter.pending().remove(&self.msg_id);
    }
}

fn closed_error() -> RpcError {
    RpcError::Transport(TransportError::with_kind(
        TransportErrorKind::Closed,
        "the transport was shut down while waiting for a reply",
    ))
}

/// Rebuilds the error a failure describes (spec §5.2). The dispatcher's own exceptions
/// become typed errors; everything else stays a remote error with class and module intact.
fn failure_error(text: &str) -> RpcError {
    let remote = match wire::decode_failure(text) {
        Ok(remote) => remote,
        Err(error) => return RpcError::Codec(error),
    };
    typed_dispatcher_error(&remote).unwrap_or_else(|| RpcError::from(remote))
}

fn typed_dispatcher_error(remote: &RemoteError) -> Option<RpcError> {
    if remote.module != DISPATCHER_MODULE {
        return None;
    }
    match remote.class.as_str() {
        "NoSuchMethod" => {
            let method = remote
                .message
                .strip_prefix("Endpoint does not support RPC method ")?;
            Some(RpcError::NoSuchMethod {
                method: method.to_owned(),
            })
        }
        "UnsupportedVersion" => {
            let rest = remote
                .message
                .strip_prefix("Endpoint does not support RPC version ")?;
            let (version, method) = rest.split_once(". Attempted method: ")?;
            Some(RpcError::UnsupportedVersion {
                version: version.to_owned(),
                method: method.to_owned(),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter() -> Arc<ReplyWaiter> {
        Arc::new(ReplyWaiter::new("reply_test".into()))
    }

    fn reply(inner: &str) -> Vec<u8> {
        wire::seal_envelope(inner.as_bytes())
    }

    fn deliver(waiter: &ReplyWaiter, inner: &str) {
        waiter.deliver(&reply(inner), Some(wire::CONTENT_TYPE));
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }

    #[tokio::test]
    async fn replies_are_matched_by_msg_id_and_strays_dropped() {
        let waiter = waiter();
        let mut call = waiter.register("m1".into()).unwrap();
        deliver(
            &waiter,
            r#"{"result": 1, "failure": null, "ending": true, "_msg_id": "other"}"#,
        );
        deliver(
            &waiter,
            r#"{"result": 5, "failure": null, "ending": true, "_msg_id": "m1"}"#,
        );
        let result = call.wait(far(), None).await.unwrap().unwrap();
        assert_eq!(result.as_str(), "5");
    }

    #[tokio::test]
    async fn heartbeats_without_a_call_monitor_are_tolerated() {
        let waiter = waiter();
        let mut call = waiter.register("m1".into()).unwrap();
        deliver(
            &waiter,
            r#"{"result": null, "failure": null, "ending": false, "_msg_id": "m1"}"#,
        );
        deliver(
            &waiter,
            r#"{"result": "ok", "failure": null, "ending": true, "_msg_id": "m1"}"#,
        );
        assert_eq!(
            call.wait(far(), None).await.unwrap().unwrap().as_str(),
            r#""ok""#
        );
    }

    #[tokio::test]
    async fn legacy_two_message_replies_give_the_first_result() {
        let waiter = waiter();
        let mut call = waiter.register("m1".into()).unwrap();
        deliver(
            &waiter,
            r#"{"result": [1, 2], "failure": null, "_msg_id": "m1"}"#,
        );
        deliver(
            &waiter,
            r#"{"result": null, "failure": null, "ending": true, "_msg_id": "m1"}"#,
        );
        assert_eq!(
            call.wait(far(), None).await.unwrap().unwrap().as_str(),
            "[1, 2]"
        );
    }

    #[tokio::test]
    async fn failures_become_typed_errors() {
        let waiter = waiter();
        let cases = [
            (
                r#"{\"class\": \"NoSuchMethod\", \"module\": \"oslo_messaging.rpc.dispatcher\", \"message\": \"Endpoint does not support RPC method nosuch\", \"tb\": [], \"args\": [], \"kwargs\": {}}"#,
                "NoSuchMethod",
            ),
            (
                r#"{\"class\": \"UnsupportedVersion\", \"module\": \"oslo_messaging.rpc.dispatcher\", \"message\": \"Endpoint does not support RPC version 1.4. Attempted method: add\", \"tb\": [], \"args\": [], \"kwargs\": {}}"#,
                "UnsupportedVersion",
            ),
            (
                r#"{\"class\": \"ValueError\", \"module\": \"builtins\", \"message\": \"bad\", \"tb\": [\"x\\n\"], \"args\": [\"bad\"], \"kwargs\": {}}"#,
                "Remote",
            ),
        ];
        for (i, (failure, expected)) in cases.into_iter().enumerate() {
            let msg_id = format!("m{i}");
            let mut call = waiter.register(msg_id.clone()).unwrap();
            deliver(
                &waiter,
                &format!(
                    r#"{{"result": null, "failure": "{failure}", "ending": true, "_msg_id": "{msg_id}"}}"#
                ),
            );
            let error = call.wait(far(), None).await.unwrap().unwrap_err();
            match (&error, expected) {
                (RpcError::NoSuchMethod { method }, "NoSuchMethod") => assert_eq!(method, "nosuch"),
                (RpcError::UnsupportedVersion { version, method }, "UnsupportedVersion") => {
                    assert_eq!((version.as_str(), method.as_str()), ("1.4", "add"));
                }
                (RpcError::Remote(remote), "Remote") => {
                    assert_eq!(remote.qualified_class(), "builtins.ValueError");
                    assert_eq!(remote.traceback, ["x\n"]);
                }
                _ => panic!("{error:?} is not {expected}"),
            }
        }
    }

    #[tokio::test]
    async fn non_string_failure_is_a_codec_error() {
        let waiter = waiter();
        let mut call = waiter.register("m1".into()).unwrap();
        deliver(
            &waiter,
            r#"{"result": null, "failure": {"class": "E"}, "ending": true, "_msg_id": "m1"}"#,
        );
        let error = call.wait(far(), None).await.unwrap().unwrap_err();
        assert!(matches!(error, RpcError::Codec(_)), "{error:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn call_monitor_expires_without_heartbeats_and_is_reset_by_them() {
        let waiter = waiter();
        let mut call = waiter.register("m1".into()).unwrap();
        let monitor = Some(Duration::from_secs(2));
        let expired = call.wait(far(), monitor).await.unwrap_err();
        assert_eq!(expired, WaitExpired::CallMonitor);

        let mut call = waiter.register("m2".into()).unwrap();
        let feeder = {
            let waiter = waiter.clone();
            tokio::spawn(async move {
                for _ in 0..3 {
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    deliver(
                        &waiter,
                        r#"{"result": null, "failure": null, "ending": false, "_msg_id": "m2"}"#,
                    );
                }
                tokio::time::sleep(Duration::from_millis(1500)).await;
                deliver(
                    &waiter,
                    r#"{"result": 3, "failure": null, "ending": true, "_msg_id": "m2"}"#,
                );
            })
        };
        let started = Instant::now();
        let result = call.wait(far(), monitor).await.unwrap().unwrap();
        assert_eq!(result.as_str(), "3");
        assert_eq!(started.elapsed(), Duration::from_secs(6));
        feeder.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn the_overall_deadline_wins_over_heartbeats() {
        let waiter = waiter();
        let mut call = waiter.register("m1".into()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        let feeder = {
            let waiter = waiter.clone();
            tokio::spawn(async move {
                for _ in 0..4 {
                    tokio::time::sleep(Duration::from_millis(900)).await;
                    deliver(
                        &waiter,
                        r#"{"result": null, "failure": null, "ending": false, "_msg_id": "m1"}"#,
                    );
                }
            })
        };
        let expired = call
            .wait(deadline, Some(Duration::from_secs(1)))
            .await
            .unwrap_err();
        assert_eq!(expired, WaitExpired::Overall);
        feeder.await.unwrap();
    }

    #[tokio::test]
    async fn dropping_a_call_frees_its_slot_and_close_fails_waiters() {
        let waiter = waiter();
        let call = waiter.register("m1".into()).unwrap();
        assert_eq!(waiter.pending().len(), 1);
        drop(call);
        assert!(waiter.pending().is_empty());
        let mut call = waiter.register("m2".into()).unwrap();
        waiter.close();
        let error = call.wait(far(), None).await.unwrap().unwrap_err();
        assert!(matches!(error, RpcError::Transport(_)));
        assert!(waiter.register("m3".into()).is_err());
    }
}
