//! Acknowledgements on their way to the broker (spec §8.1: a server acks before dispatch;
//! §4.4: a client acks every reply on receipt), owned by the consumer that took the
//! deliveries until lapin reports them written.
//!
//! Waiting for each ack where it is made would cost the consuming loop a wake-up (and a
//! hop between threads) per message, so an ack is polled once when it is made (lapin hands
//! the command to its I/O loop on that poll) and then kept here: polled again, without
//! waking anyone, whenever its consumer takes its next delivery, and awaited for good
//! before the consumer's channel closes (closing it with an ack unsent would give the
//! message back to the queue). So no ack depends on lapin's first poll doing all the work.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

type Ack = Pin<Box<dyn Future<Output = lapin::Result<bool>> + Send>>;

/// Acks kept at most before the oldest is awaited (they normally complete within one
/// turn of lapin's I/O loop, so this bounds memory only when that loop is stuck).
const MAX_PENDING: usize = 1024;

/// The acks of one consumer that lapin has not reported written yet.
#[derive(Default)]
pub(super) struct PendingAcks {
    acks: VecDeque<Ack>,
}

/// How an ack ended when it was made.
pub(super) enum Started {
    /// Written, or refused (`Ok(false)`: the channel is closed) or failed at once.
    Done(lapin::Result<bool>),
    /// On its way; kept. When the set is full, the oldest ack is returned to be awaited.
    Pending(Option<AckFuture>),
}

/// An ack to await.
pub(super) struct AckFuture(Ack);

impl Future for AckFuture {
    type Output = lapin::Result<bool>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl PendingAcks {
    /// Makes an ack: polls it once and keeps it if it is not done yet.
    pub(super) fn start(
        &mut self,
        ack: impl Future<Output = lapin::Result<bool>> + Send + 'static,
    ) -> Started {
        let mut ack: Ack = Box::pin(ack);
        match poll_once(&mut ack) {
            Poll::Ready(outcome) => Started::Done(outcome),
            Poll::Pending => {
                self.poll_kept();
                self.acks.push_back(ack);
                let oldest = (self.acks.len() > MAX_PENDING)
                    .then(|| self.acks.pop_front().map(AckFuture))
                    .flatten();
                Started::Pending(oldest)
            }
        }
    }

    /// Polls the kept acks again, without a waker, and drops those that completed.
    pub(super) fn poll_kept(&mut self) {
        self.acks.retain_mut(|ack| match poll_once(ack) {
            Poll::Ready(outcome) => {
                log_outcome(outcome);
                false
            }
            Poll::Pending => true,
        });
    }

    /// Awaits every kept ack, for at most `limit` in all.
    pub(super) async fn flush(&mut self, limit: Duration) {
        let acks = std::mem::take(&mut self.acks);
        let count = acks.len();
        let all = async {
            for ack in acks {
                log_outcome(ack.await);
            }
        };
        if tokio::time::timeout(limit, all).await.is_err() {
            tracing::warn!(count, "acknowledgements not written in time");
        }
    }

    /// The number of acks kept.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.acks.len()
    }
}

fn poll_once(ack: &mut Ack) -> Poll<lapin::Result<bool>> {
    ack.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

pub(super) fn log_outcome(outcome: lapin::Result<bool>) {
    match outcome {
        Ok(true) => {}
        Ok(false) => tracing::debug!("delivery not acknowledged: its channel is closed"),
        Err(error) => tracing::debug!(%error, "could not acknowledge a delivery"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    #[tokio::test]
    async fn acks_that_need_more_than_one_poll_are_kept_and_flushed() {
        let mut acks = PendingAcks::default();
        assert!(matches!(
            acks.start(async { Ok(true) }),
            Started::Done(Ok(true))
        ));
        let (written_tx, written) = oneshot::channel::<()>();
        let started = acks.start(async move {
            let _ = written.await;
            Ok(true)
        });
        assert!(matches!(started, Started::Pending(None)));
        assert_eq!(acks.len(), 1);
        acks.poll_kept();
        assert_eq!(acks.len(), 1);
        written_tx.send(()).unwrap();
        acks.poll_kept();
        assert_eq!(acks.len(), 0);
        let (late_tx, late) = oneshot::channel::<()>();
        let _ = acks.start(async move {
            let _ = late.await;
            Ok(true)
        });
        let flush = tokio::spawn(async move {
            acks.flush(Duration::from_secs(5)).await;
            acks.len()
        });
        late_tx.send(()).unwrap();
        assert_eq!(flush.await.unwrap(), 0);
    }

    #[tokio::test]
    async fn the_oldest_ack_is_handed_back_beyond_the_bound() {
        let mut acks = PendingAcks::default();
        for _ in 0..MAX_PENDING {
            assert!(matches!(
                acks.start(std::future::pending()),
                Started::Pending(None)
            ));
        }
        assert!(matches!(
            acks.start(std::future::pending()),
            Started::Pending(Some(_))
        ));
        assert_eq!(acks.len(), MAX_PENDING);
    }
}
