//! A call's request handed to the broker whose publisher confirm is still to come.
//!
//! A call does not need its request's confirm to succeed: the reply proves delivery. So a
//! driver may let the call go on to wait for its reply once the message is written, and
//! settle the confirm elsewhere ([`Driver::send_call`](super::Driver::send_call)). What
//! the broker says then is reported here at once: a refusal (`basic.nack`) fails the call;
//! a channel or connection that fails before the confirm leaves the request's fate unknown,
//! so the caller publishes it again as its retry policy allows, as it would have had the
//! failure come while it waited for the confirm itself (spec §7.3). A positive confirm
//! wakes nobody, which is the point: one wake-up less per call.

use std::fmt;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

use crate::error::RpcError;

/// What a driver reports about a call's request after handing it to the broker; see
/// [`Driver::send_call`](super::Driver::send_call).
pub struct RequestSent {
    /// `None`: already confirmed.
    pending: Option<Arc<Shared>>,
}

/// The driver's side: settles the request's confirm exactly once. Dropped unsettled (the
/// driver shut down), it reports the request lost.
pub(crate) struct ConfirmOutcome(Arc<Shared>);

/// Why a request handed to the broker got no positive confirm.
#[derive(Debug)]
pub(crate) enum Unconfirmed {
    /// The broker refused it (`basic.nack`): publishing it again will not help.
    Refused(RpcError),
    /// Its channel or connection failed first: the broker may or may not have it.
    Lost(RpcError),
}

struct Shared(Mutex<State>);

enum State {
    /// No confirm yet; the waker of the call waiting for a failure.
    Waiting(Option<Waker>),
    Confirmed,
    /// Taken by the call once it saw it.
    Failed(Option<Unconfirmed>),
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl RequestSent {
    /// A request whose confirm has arrived (or that needs none).
    pub(crate) fn confirmed() -> Self {
        RequestSent { pending: None }
    }

    /// A request whose confirm is still to come, and the side that settles it.
    pub(crate) fn awaiting_confirm() -> (Self, ConfirmOutcome) {
        let shared = Arc::new(Shared(Mutex::new(State::Waiting(None))));
        (
            RequestSent {
                pending: Some(shared.clone()),
            },
            ConfirmOutcome(shared),
        )
    }

    /// Resolves if the broker refuses the request or its channel fails before the
    /// confirm; stays pending otherwise (confirmed, or not yet known).
    pub(crate) async fn failure(&self) -> Unconfirmed {
        let Some(shared) = &self.pending else {
            return std::future::pending().await;
        };
        poll_fn(|cx| {
            let mut state = shared.state();
            match &mut *state {
                State::Waiting(waker) => {
                    if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                        *waker = Some(cx.waker().clone());
                    }
                    Poll::Pending
                }
                State::Confirmed | State::Failed(None) => Poll::Pending,
                State::Failed(error) => match error.take() {
                    Some(error) => Poll::Ready(error),
                    None => Poll::Pending,
                },
            }
        })
        .await
    }
}

impl fmt::Debug for RequestSent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.pending {
            None => "confirmed",
            Some(shared) => match &*shared.state() {
                State::Waiting(_) => "awaiting confirm",
                State::Confirmed => "confirmed",
                State::Failed(_) => "failed",
            },
        };
        f.debug_tuple("RequestSent").field(&state).finish()
    }
}

impl ConfirmOutcome {
    /// The broker confirmed the request: nobody is woken.
    pub(crate) fn confirmed(self) {
        *self.0.state() = State::Confirmed;
    }

    /// The broker refused the request: the call fails.
    pub(crate) fn refused(self, error: RpcError) {
        self.fail(Unconfirmed::Refused(error));
    }

    /// The request's channel or connection failed before its confirm.
    pub(crate) fn lost(self, error: RpcError) {
        self.fail(Unconfirmed::Lost(error));
    }

    /// Either of the above.
    pub(crate) fn failed(self, why: Unconfirmed) {
        self.fail(why);
    }

    fn fail(&self, error: Unconfirmed) {
        let waker = {
            let mut state = self.0.state();
            match std::mem::replace(&mut *state, State::Failed(Some(error))) {
                State::Waiting(waker) => waker,
                settled => {
                    *state = settled;
                    None
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Drop for ConfirmOutcome {
    fn drop(&mut self) {
        let waiting = matches!(&*self.0.state(), State::Waiting(_));
        if waiting {
            self.fail(Unconfirmed::Lost(RpcError::transport(
                "the transport shut down before the broker confirmed the request",
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_confirm_wakes_nobody_and_a_failure_ends_the_wait() {
        let (sent, outcome) = RequestSent::awaiting_confirm();
        outcome.confirmed();
        let waited = tokio::time::timeout(Duration::from_secs(5), sent.failure()).await;
        assert!(
            waited.is_err(),
            "a confirmed request never reports a failure"
        );

        let (sent, outcome) = RequestSent::awaiting_confirm();
        let failing = tokio::spawn(async move { sent.failure().await });
        tokio::task::yield_now().await;
        outcome.refused(RpcError::transport("nack"));
        let failure = failing.await.unwrap();
        assert!(
            matches!(&failure, Unconfirmed::Refused(e) if e.to_string().contains("nack")),
            "{failure:?}"
        );

        let (sent, outcome) = RequestSent::awaiting_confirm();
        outcome.lost(RpcError::transport("reset"));
        assert!(matches!(sent.failure().await, Unconfirmed::Lost(_)));
    }

    #[tokio::test(start_paused = true)]
    async fn an_outcome_dropped_unsettled_reports_the_request_lost() {
        let (sent, outcome) = RequestSent::awaiting_confirm();
        drop(outcome);
        let failure = sent.failure().await;
        assert!(
            matches!(&failure, Unconfirmed::Lost(e) if e.to_string().contains("shut down")),
            "{failure:?}"
        );
        let confirmed = RequestSent::confirmed();
        assert!(
            tokio::time::timeout(Duration::from_secs(1), confirmed.failure())
                .await
                .is_err()
        );
    }
}
