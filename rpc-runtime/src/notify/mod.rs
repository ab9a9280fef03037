//! Notifications (oslo.messaging's `Notifier` and notification listeners), on the wire as
//! oslo.messaging 18.3.1 puts them (`docs/spec-notifications.md`, cited as "notify §N").
//!
//! * [`Notifier`] sends: one method per [`Priority`], any `Serialize` payload, to each of
//!   its topics as `<topic>.<priority>` on the control exchange, confirmed by the broker.
//! * [`NotificationListener`] receives: [`NotificationEndpoint`]s (usually written with
//!   `#[notification_endpoint]`) get typed [`Notification`]s per priority and return an
//!   [`Outcome`]; acknowledgement follows the handling; pools, filters, requeue, batches
//!   and a concurrency limit as in oslo.

mod dispatcher;
mod endpoint;
mod filter;
mod listener;
mod message;
mod notifier;
mod priority;

pub use endpoint::{
    BatchNotificationEndpoint, IntoOutcome, Metadata, Notification, NotificationEndpoint, Outcome,
    decode_batch_for_handler, decode_for_handler, outcome_of,
};
pub use filter::NotificationFilter;
pub use listener::{
    BatchNotificationListenerBuilder, DEFAULT_MAX_CONCURRENCY, ListenerBuilder, ListenerHandle,
    NotificationListener, NotificationListenerBuilder,
};
pub use message::{
    EncodedNotification, NotificationHeader, RawNotification, decode_notification, utc_timestamp,
};
pub use notifier::{DEFAULT_TOPIC, Notifier, NotifyDriver};
pub use priority::Priority;
