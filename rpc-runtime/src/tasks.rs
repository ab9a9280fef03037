//! The tasks a transport or a driver starts, owned: every one is spawned through a
//! [`Tasks`], which knows which are still running, lets them see that a shutdown began,
//! and at shutdown waits for them, then aborts what outlives its grace period. So
//! `Transport::shutdown` returns only once everything it started has ended, and nothing it
//! started keeps running (or holding memory) after it.
//!
//! (tokio-util's `TaskTracker` does this job too, but is not a dependency of the project;
//! a `JoinSet` cannot hand out a `JoinHandle` to await one task of the set.)

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::{AbortHandle, JoinHandle};

/// A set of owned tasks (cheap to clone; clones share the set).
#[derive(Clone)]
pub(crate) struct Tasks {
    inner: Arc<Inner>,
}

struct Inner {
    live: Mutex<HashMap<u64, AbortHandle>>,
    next_id: AtomicU64,
    /// Notified whenever a task ends.
    ended: Notify,
    /// True once a shutdown began.
    closing: watch::Sender<bool>,
}

impl Default for Tasks {
    fn default() -> Self {
        Tasks {
            inner: Arc::new(Inner {
                live: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(0),
                ended: Notify::new(),
                closing: watch::channel(false).0,
            }),
        }
    }
}

/// Removes its task from the set when the task's future is dropped: finished, aborted or
/// unwound.
struct Registration {
    inner: Arc<Inner>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.inner
            .live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
        self.inner.ended.notify_waiters();
    }
}

impl Inner {
    /// The running tasks (entries of tasks that already ended are pruned).
    fn live(&self) -> MutexGuard<'_, HashMap<u64, AbortHandle>> {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|_, task| !task.is_finished());
        live
    }
}

impl Tasks {
    /// Spawns `future` as a task of the set. The handle may be awaited or dropped; the set
    /// owns the task either way.
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let registration = Registration {
            inner: self.inner.clone(),
            id,
        };
        // Not under the lock: a runtime that is shutting down drops the future inside
        // spawn(), and its registration takes the lock. A task that ended before it is
        // inserted leaves a finished entry, which `live()` prunes.
        let handle = tokio::spawn(async move {
            let _registration = registration;
            future.await
        });
        if !handle.is_finished() {
            self.inner.live().insert(id, handle.abort_handle());
        }
        handle
    }

    /// How many tasks of the set are running.
    pub(crate) fn len(&self) -> usize {
        self.inner.live().len()
    }

    /// Resolves once a shutdown of the set began (at once if it has).
    pub(crate) fn closing(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut closing = self.inner.closing.subscribe();
        async move {
            let _ = closing.wait_for(|closing| *closing).await;
        }
    }

    /// Tells the tasks a shutdown began, waits up to `grace` for them to end, aborts the
    /// rest and waits for them to unwind (each abort takes effect at the task's next
    /// await).
    pub(crate) async fn shutdown(&self, grace: Duration) {
        self.inner.closing.send_replace(true);
        if tokio::time::timeout(grace, self.all_ended()).await.is_ok() {
            return;
        }
        let stragglers: Vec<AbortHandle> = self.inner.live().values().cloned().collect();
        tracing::warn!(
            tasks = stragglers.len(),
            "tasks still running {grace:?} after shutdown began; aborting them"
        );
        for task in &stragglers {
            task.abort();
        }
        if tokio::time::timeout(ABORT_WAIT, self.all_ended())
            .await
            .is_err()
        {
            tracing::error!(tasks = self.len(), "aborted tasks did not end");
        }
    }

    async fn all_ended(&self) {
        loop {
            let ended = self.inner.ended.notified();
            if self.inner.live().is_empty() {
                return;
            }
            // The look again covers an entry inserted just after its task deregistered,
            // which no notification follows.
            let _ = tokio::time::timeout(RECHECK, ended).await;
        }
    }
}

/// How often a wait for the tasks to end looks again without a notification.
const RECHECK: Duration = Duration::from_millis(50);

/// How long aborted tasks may take to unwind (they only need to reach an await).
const ABORT_WAIT: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shutdown_waits_for_tasks_that_end_and_aborts_the_rest() {
        let tasks = Tasks::default();
        let closing = tasks.closing();
        let polite = tasks.spawn(async move {
            closing.await;
            "ended"
        });
        let stubborn = tasks.spawn(std::future::pending::<()>());
        let quick = tasks.spawn(async { 7 });
        assert_eq!(quick.await.unwrap(), 7);
        assert_eq!(tasks.len(), 2);
        tasks.shutdown(Duration::from_millis(100)).await;
        assert_eq!(tasks.len(), 0);
        assert_eq!(polite.await.unwrap(), "ended");
        assert!(stubborn.await.unwrap_err().is_cancelled());
        // After a shutdown began, closing() resolves at once.
        tasks.closing().await;
    }
}
