//! oslo's `NotificationDispatcher` and `BatchNotificationDispatcher` (notify §2.4, §2.5):
//! endpoints in registration order, filters, the first requeue wins, and a handler that
//! panics (in its body, in the `Deserialize` of its payload type, or in a hand-written
//! `handle` before its future exists) counts as one that raised (requeue), without taking
//! the listener down.

use std::sync::Arc;

use super::Priority;
use super::endpoint::{BatchNotificationEndpoint, NotificationEndpoint, Outcome};
use super::filter::NotificationFilter;
use super::message::RawNotification;
use crate::dispatch::panics::catch_panics;
use crate::transport::BoxFuture;

/// An endpoint with its filter, as registered.
pub(crate) struct Registered<E: ?Sized> {
    pub(crate) endpoint: Arc<E>,
    pub(crate) filter: Option<NotificationFilter>,
}

impl<E: ?Sized> Clone for Registered<E> {
    fn clone(&self) -> Self {
        Registered {
            endpoint: self.endpoint.clone(),
            filter: self.filter.clone(),
        }
    }
}

impl<E: ?Sized> Registered<E> {
    fn passes(&self, notification: &RawNotification) -> bool {
        self.filter.as_ref().is_none_or(|f| f.matches(notification))
    }
}

/// The priorities of a set of endpoints, each once, in oslo's order.
pub(crate) fn supported_priorities<'a>(
    lists: impl IntoIterator<Item = &'a [Priority]>,
) -> Vec<Priority> {
    let mut all: Vec<Priority> = lists.into_iter().flatten().copied().collect();
    all.sort();
    all.dedup();
    all
}

/// Dispatches one notification (`NotificationDispatcher.dispatch`).
pub(crate) async fn dispatch(
    endpoints: &[Registered<dyn NotificationEndpoint>],
    notification: &RawNotification,
) -> Outcome {
    let Some(priority) = notification.priority() else {
        // oslo logs and acknowledges it (notify §2.3).
        tracing::warn!(
            priority = notification.priority_name.as_deref().unwrap_or(""),
            "Unknown priority"
        );
        return Outcome::Handled;
    };
    for registered in endpoints {
        if !registered.endpoint.priorities().contains(&priority) || !registered.passes(notification)
        {
            continue;
        }
        let handling = || registered.endpoint.handle(priority, notification);
        if guarded(handling, priority).await == Outcome::Requeue {
            return Outcome::Requeue;
        }
    }
    Outcome::Handled
}

/// Dispatches a batch (`BatchNotificationDispatcher.dispatch`): grouped by priority, each
/// endpoint gets the group's filtered notifications; a requeue marks the whole group.
/// Returns, per notification, whether it is to be requeued.
pub(crate) async fn dispatch_batch(
    endpoints: &[Registered<dyn BatchNotificationEndpoint>],
    batch: &[RawNotification],
) -> Vec<bool> {
    let mut requeue = vec![false; batch.len()];
    for priority in Priority::ALL {
        let group: Vec<usize> = (0..batch.len())
            .filter(|&i| batch[i].priority() == Some(priority))
            .collect();
        if group.is_empty() {
            continue;
        }
        for registered in endpoints {
            if !registered.endpoint.priorities().contains(&priority) {
                continue;
            }
            let selected: Vec<RawNotification> = group
                .iter()
                .map(|&i| &batch[i])
                .filter(|n| registered.passes(n))
                .cloned()
                .collect();
            if selected.is_empty() {
                continue;
            }
            let handling = || registered.endpoint.handle_batch(priority, &selected);
            if guarded(handling, priority).await == Outcome::Requeue {
                for &i in &group {
                    requeue[i] = true;
                }
                break;
            }
        }
    }
    for notification in batch.iter().filter(|n| n.priority().is_none()) {
        tracing::warn!(
            priority = notification.priority_name.as_deref().unwrap_or(""),
            "Unknown priority"
        );
    }
    requeue
}

/// Calls a handler and drives its future; a panic in either is logged at error level and
/// becomes [`Outcome::Requeue`], as an exception in a Python endpoint does (oslo logs
/// "Callback raised an exception." and returns `NotificationResult.REQUEUE`; the listener
/// then requeues if allowed and acknowledges otherwise, notify §2.4).
async fn guarded<'a>(
    handling: impl FnOnce() -> BoxFuture<'a, Outcome>,
    priority: Priority,
) -> Outcome {
    match catch_panics(handling).await {
        Ok(outcome) => outcome,
        Err(panic) => {
            tracing::error!(
                %priority,
                %panic,
                "notification handler panicked; requeueing"
            );
            Outcome::Requeue
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::message::decode_notification;
    use std::sync::Mutex;

    struct Probe {
        name: &'static str,
        priorities: Vec<Priority>,
        outcome: Outcome,
        panics: bool,
        seen: Arc<Mutex<Vec<String>>>,
    }

    impl NotificationEndpoint for Probe {
        fn priorities(&self) -> &[Priority] {
            &self.priorities
        }
        fn handle<'a>(
            &'a self,
            priority: Priority,
            notification: &'a RawNotification,
        ) -> BoxFuture<'a, Outcome> {
            Box::pin(async move {
                let event = notification.event_type.clone().unwrap_or_default();
                self.seen
                    .lock()
                    .unwrap()
                    .push(format!("{}:{priority}:{event}", self.name));
                if self.panics {
                    panic!("handler bug");
                }
                self.outcome
            })
        }
    }

    fn probe(
        name: &'static str,
        priorities: &[Priority],
        outcome: Outcome,
        seen: &Arc<Mutex<Vec<String>>>,
    ) -> Registered<dyn NotificationEndpoint> {
        Registered {
            endpoint: Arc::new(Probe {
                name,
                priorities: priorities.to_vec(),
                outcome,
                panics: false,
                seen: seen.clone(),
            }),
            filter: None,
        }
    }

    fn notification(priority: &str, event: &str) -> RawNotification {
        decode_notification(
            format!(r#"{{"priority": "{priority}", "event_type": "{event}", "payload": {{}}}}"#)
                .as_bytes(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn endpoints_run_in_order_until_one_requeues() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let endpoints = vec![
            probe("a", &[Priority::Info], Outcome::Handled, &seen),
            probe("b", &[Priority::Warn], Outcome::Requeue, &seen),
            probe(
                "c",
                &[Priority::Info, Priority::Warn],
                Outcome::Requeue,
                &seen,
            ),
            probe("d", &[Priority::Info], Outcome::Handled, &seen),
        ];
        assert_eq!(
            dispatch(&endpoints, &notification("INFO", "e1")).await,
            Outcome::Requeue
        );
        assert_eq!(*seen.lock().unwrap(), ["a:info:e1", "c:info:e1"]);
        seen.lock().unwrap().clear();
        // The body's priority decides, in any case; unknown ones are handled (acked).
        assert_eq!(
            dispatch(&endpoints, &notification("warn", "e2")).await,
            Outcome::Requeue
        );
        assert_eq!(*seen.lock().unwrap(), ["b:warn:e2"]);
        assert_eq!(
            dispatch(&endpoints, &notification("NOTICE", "e3")).await,
            Outcome::Handled
        );
        assert_eq!(
            dispatch(&endpoints, &notification("ERROR", "e4")).await,
            Outcome::Handled
        );
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn filters_skip_endpoints_and_panics_requeue() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut filtered = probe("filtered", &[Priority::Info], Outcome::Requeue, &seen);
        filtered.filter = Some(NotificationFilter::new().event_type("^wanted").unwrap());
        let panicking = Registered {
            endpoint: Arc::new(Probe {
                name: "panics",
                priorities: vec![Priority::Info],
                outcome: Outcome::Handled,
                panics: true,
                seen: seen.clone(),
            }) as Arc<dyn NotificationEndpoint>,
            filter: Some(NotificationFilter::new().event_type("^boom").unwrap()),
        };
        let endpoints = vec![filtered, panicking];
        assert_eq!(
            dispatch(&endpoints, &notification("INFO", "other")).await,
            Outcome::Handled
        );
        assert_eq!(
            dispatch(&endpoints, &notification("INFO", "wanted")).await,
            Outcome::Requeue
        );
        assert_eq!(
            dispatch(&endpoints, &notification("INFO", "boom")).await,
            Outcome::Requeue
        );
        assert_eq!(
            *seen.lock().unwrap(),
            ["filtered:info:wanted", "panics:info:boom"]
        );
    }

    /// A hand-written endpoint that panics in `handle` itself, before any future exists.
    struct PanicsAtCall;

    impl NotificationEndpoint for PanicsAtCall {
        fn priorities(&self) -> &[Priority] {
            &[Priority::Info]
        }
        fn handle<'a>(
            &'a self,
            _priority: Priority,
            notification: &'a RawNotification,
        ) -> BoxFuture<'a, Outcome> {
            let event = notification.event_type.as_deref().unwrap_or_default();
            if event == "sync-boom" {
                panic!("panicked before the future: {event}");
            }
            Box::pin(std::future::ready(Outcome::Handled))
        }
    }

    #[tokio::test]
    async fn a_panic_in_handle_itself_requeues_and_later_endpoints_are_skipped() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let endpoints: Vec<Registered<dyn NotificationEndpoint>> = vec![
            Registered {
                endpoint: Arc::new(PanicsAtCall),
                filter: None,
            },
            probe("after", &[Priority::Info], Outcome::Handled, &seen),
        ];
        assert_eq!(
            dispatch(&endpoints, &notification("INFO", "sync-boom")).await,
            Outcome::Requeue
        );
        assert!(seen.lock().unwrap().is_empty());
        assert_eq!(
            dispatch(&endpoints, &notification("INFO", "fine")).await,
            Outcome::Handled
        );
        assert_eq!(*seen.lock().unwrap(), ["after:info:fine"]);
    }

    struct BatchProbe {
        requeue_event: &'static str,
        seen: Arc<Mutex<Vec<String>>>,
    }

    impl BatchNotificationEndpoint for BatchProbe {
        fn priorities(&self) -> &[Priority] {
            &[Priority::Info, Priority::Error]
        }
        fn handle_batch<'a>(
            &'a self,
            priority: Priority,
            batch: &'a [RawNotification],
        ) -> BoxFuture<'a, Outcome> {
            Box::pin(async move {
                let events: Vec<String> = batch
                    .iter()
                    .map(|n| n.event_type.clone().unwrap_or_default())
                    .collect();
                self.seen
                    .lock()
                    .unwrap()
                    .push(format!("{priority}:{}", events.join(",")));
                if events.iter().any(|e| e == self.requeue_event) {
                    Outcome::Requeue
                } else {
                    Outcome::Handled
                }
            })
        }
    }

    #[tokio::test]
    async fn batches_are_grouped_by_priority_and_requeued_per_group() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let endpoints: Vec<Registered<dyn BatchNotificationEndpoint>> = vec![Registered {
            endpoint: Arc::new(BatchProbe {
                requeue_event: "bad",
                seen: seen.clone(),
            }),
            filter: None,
        }];
        let batch = [
            notification("ERROR", "e1"),
            notification("INFO", "i1"),
            notification("ERROR", "bad"),
            notification("INFO", "i2"),
            notification("AUDIT", "a1"),
        ];
        let requeue = dispatch_batch(&endpoints, &batch).await;
        assert_eq!(requeue, [true, false, true, false, false]);
        assert_eq!(*seen.lock().unwrap(), ["info:i1,i2", "error:e1,bad"]);
    }
}
