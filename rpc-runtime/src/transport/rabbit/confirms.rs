//! Publisher confirms of call requests, settled off the caller's path (see
//! `Driver::send_call`): a call publishes its request on the shared channel, hands the
//! publish to this queue once lapin has the frames, and goes on to wait for its reply.
//!
//! One task per transport settles the queue in publish order. Only the oldest entry has a
//! waker registered, so a `basic.ack` with `multiple` that confirms twenty requests wakes
//! this task once, where twenty waiting calls would each have been woken (and each
//! publish's write, before its confirm). A refusal or a failed channel is reported to the
//! call through its `ConfirmOutcome` (it fails, or publishes again); a returned message
//! that reached one of these confirms belongs to another publish (requests are never
//! mandatory) and is adopted.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Poll, Waker};

use lapin::Confirmation;

use super::RabbitInner;
use crate::error::RpcError;
use crate::transport::{ConfirmOutcome, Unconfirmed};

/// A request's publish: lapin writing it, then the broker confirming it; a failure comes
/// classified for the call.
pub(super) type PendingConfirm =
    Pin<Box<dyn Future<Output = Result<Confirmation, Unconfirmed>> + Send>>;

/// The queue of requests awaiting their confirm.
#[derive(Default)]
pub(super) struct Confirms(Mutex<Queue>);

#[derive(Default)]
struct Queue {
    entries: VecDeque<(PendingConfirm, ConfirmOutcome)>,
    /// The settling task's waker while the queue is empty.
    idle: Option<Waker>,
    running: bool,
}

impl Confirms {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a publish to settle; starts the settling task at first use.
    pub(super) fn push(
        self: &Arc<Self>,
        inner: &Arc<RabbitInner>,
        publish: PendingConfirm,
        outcome: ConfirmOutcome,
    ) {
        let (start, wake) = {
            let mut queue = self.queue();
            queue.entries.push_back((publish, outcome));
            let start = !std::mem::replace(&mut queue.running, true);
            (start, queue.idle.take())
        };
        if start {
            inner
                .tasks
                .spawn(settle(Arc::downgrade(self), Arc::downgrade(inner)));
        }
        if let Some(waker) = wake {
            waker.wake();
        }
    }
}

impl Confirms {
    /// Wakes the settling task when it is idle, so that it ends if the driver is closed.
    pub(super) fn wake(&self) {
        let idle = self.queue().idle.take();
        if let Some(waker) = idle {
            waker.wake();
        }
    }
}

impl Drop for Confirms {
    fn drop(&mut self) {
        // The task holds only a weak reference: wake it to let it end.
        let idle = self.queue().idle.take();
        if let Some(waker) = idle {
            waker.wake();
        }
    }
}

/// Settles queued confirms, oldest first, until the transport is gone. Entries still
/// queued then report their requests lost (`ConfirmOutcome`'s drop).
async fn settle(confirms: Weak<Confirms>, inner: Weak<RabbitInner>) {
    poll_fn(|cx| {
        loop {
            let Some(confirms) = confirms.upgrade() else {
                return Poll::Ready(());
            };
            let Some((mut publish, outcome)) = confirms.queue().entries.pop_front() else {
                let mut queue = confirms.queue();
                if queue.entries.is_empty() {
                    // Nothing to settle and the driver shut down: end (the driver owns
                    // this task and waits for it).
                    let closed = inner.upgrade().is_none_or(|inner| {
                        inner.closed.load(std::sync::atomic::Ordering::Acquire)
                    });
                    if closed {
                        queue.running = false;
                        return Poll::Ready(());
                    }
                    queue.idle = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                continue;
            };
            // Polled without holding the lock, so calls keep queueing meanwhile.
            match publish.as_mut().poll(cx) {
                Poll::Pending => {
                    confirms.queue().entries.push_front((publish, outcome));
                    return Poll::Pending;
                }
                Poll::Ready(confirmation) => settle_one(&inner, confirmation, outcome),
            }
        }
    })
    .await;
}

fn settle_one(
    inner: &Weak<RabbitInner>,
    confirmation: Result<Confirmation, Unconfirmed>,
    outcome: ConfirmOutcome,
) {
    let (acked, returned) = match confirmation {
        Ok(Confirmation::Ack(returned)) => (true, returned),
        Ok(Confirmation::Nack(returned)) => (false, returned),
        Ok(Confirmation::NotRequested) => {
            outcome.lost(RpcError::transport(
                "publisher confirms are not enabled on the channel",
            ));
            return;
        }
        Err(failure) => {
            outcome.failed(failure);
            return;
        }
    };
    if let Some(returned) = returned
        && let Some(inner) = inner.upgrade()
    {
        super::publish::adopt(&inner, returned);
    }
    if acked {
        outcome.confirmed();
    } else {
        outcome.refused(RpcError::transport(
            "the broker refused the message (basic.nack)",
        ));
    }
}
