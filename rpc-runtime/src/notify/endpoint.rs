//! What a notification listener calls: endpoints with a handler per priority (notify §2.1),
//! the typed [`Notification`] they receive and the [`Outcome`] they return.
//!
//! `#[notification_endpoint]` writes these trait impls from an `impl` block whose methods
//! are named like priorities; the traits can also be implemented by hand (the CLI does).

use std::fmt;

use serde::de::DeserializeOwned;

use super::Priority;
use super::message::RawNotification;
use crate::context::Context;
use crate::transport::BoxFuture;
use crate::wire::CodecError;

/// What became of a notification (oslo's `NotificationResult`, notify §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Outcome {
    /// Done with: acknowledged.
    #[default]
    Handled,
    /// Give it back to its queue to be delivered again, when the listener allows requeue;
    /// acknowledged otherwise.
    Requeue,
}

/// What a handler may return: an [`Outcome`], `()` (handled), or a `Result` whose error is
/// logged and counts as [`Outcome::Requeue`], as a Python endpoint that raises.
pub trait IntoOutcome {
    /// The outcome.
    fn into_outcome(self) -> Outcome;
}

impl IntoOutcome for Outcome {
    fn into_outcome(self) -> Outcome {
        self
    }
}

impl IntoOutcome for () {
    fn into_outcome(self) -> Outcome {
        Outcome::Handled
    }
}

impl<T: IntoOutcome, E: fmt::Display> IntoOutcome for Result<T, E> {
    fn into_outcome(self) -> Outcome {
        match self {
            Ok(outcome) => outcome.into_outcome(),
            Err(error) => {
                tracing::warn!(%error, "notification handler failed; requeueing");
                Outcome::Requeue
            }
        }
    }
}

/// `message_id` and `timestamp` as the notifier sent them (oslo's `metadata`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Metadata {
    /// A uuid4 with dashes, the same on every topic the notification went to.
    pub message_id: Option<String>,
    /// UTC, `YYYY-MM-DD HH:MM:SS[.ffffff]`.
    pub timestamp: Option<String>,
}

/// A notification with its payload decoded into `P`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Notification<P = serde_json::Value> {
    /// Its priority (the handler method that receives it).
    pub priority: Priority,
    /// The context sent as `_context_*` keys; empty from a Python notifier given a plain
    /// dict (notify §1.4).
    pub context: Context,
    /// Who sent it, e.g. `compute.host1`.
    pub publisher_id: Option<String>,
    /// What happened, e.g. `compute.instance.create.end` (empty when missing).
    pub event_type: String,
    /// The payload.
    pub payload: P,
    /// `message_id` and `timestamp`.
    pub metadata: Metadata,
}

impl RawNotification {
    /// The notification with its payload decoded into `P`, as `priority`.
    pub fn decode<P: DeserializeOwned>(
        &self,
        priority: Priority,
    ) -> Result<Notification<P>, CodecError> {
        Ok(Notification {
            priority,
            context: self.context.clone(),
            publisher_id: self.publisher_id.clone(),
            event_type: self.event_type.clone().unwrap_or_default(),
            payload: self.payload.deserialize_into()?,
            metadata: Metadata {
                message_id: self.message_id.clone(),
                timestamp: self.timestamp.clone(),
            },
        })
    }
}

/// Handles notifications one at a time (oslo's notification endpoint).
pub trait NotificationEndpoint: Send + Sync + 'static {
    /// The priorities handled. A listener consumes only these priorities' queues (or binds
    /// only these routing keys to its pool), as oslo's does.
    fn priorities(&self) -> &[Priority];

    /// Handles a notification of one of [`NotificationEndpoint::priorities`]. A payload
    /// the endpoint cannot decode is skipped with a warning (it is not for this endpoint).
    fn handle<'a>(
        &'a self,
        priority: Priority,
        notification: &'a RawNotification,
    ) -> BoxFuture<'a, Outcome>;
}

/// Handles notifications in batches (oslo's batch notification endpoint).
pub trait BatchNotificationEndpoint: Send + Sync + 'static {
    /// The priorities handled.
    fn priorities(&self) -> &[Priority];

    /// Handles a batch of notifications, all of one of
    /// [`BatchNotificationEndpoint::priorities`]. [`Outcome::Requeue`] requeues the whole
    /// batch (notify §2.5).
    fn handle_batch<'a>(
        &'a self,
        priority: Priority,
        batch: &'a [RawNotification],
    ) -> BoxFuture<'a, Outcome>;
}

/// The conversion of a handler's return type into its [`Outcome`]; the witness that
/// `#[notification_endpoint]` names with the span of the user's return type.
#[doc(hidden)]
pub fn outcome_of<R: IntoOutcome>() -> fn(R) -> Outcome {
    R::into_outcome
}

/// Decodes a notification for a typed handler; on failure logs why and returns `None`
/// (the generated code then skips the handler). Used by `#[notification_endpoint]`.
#[doc(hidden)]
pub fn decode_for_handler<P: DeserializeOwned>(
    endpoint: &str,
    priority: Priority,
    raw: &RawNotification,
) -> Option<Notification<P>> {
    match raw.decode(priority) {
        Ok(notification) => Some(notification),
        Err(error) => {
            tracing::warn!(
                endpoint,
                %priority,
                event_type = raw.event_type.as_deref().unwrap_or(""),
                %error,
                "skipping a notification whose payload this endpoint cannot decode"
            );
            None
        }
    }
}

/// Decodes a batch for a typed batch handler, skipping (with a warning) what it cannot
/// decode. Used by `#[notification_endpoint(batch)]`.
#[doc(hidden)]
pub fn decode_batch_for_handler<P: DeserializeOwned>(
    endpoint: &str,
    priority: Priority,
    raw: &[RawNotification],
) -> Vec<Notification<P>> {
    raw.iter()
        .filter_map(|n| decode_for_handler(endpoint, priority, n))
        .collect()
}
