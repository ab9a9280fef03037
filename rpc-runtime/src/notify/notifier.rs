//! `Notifier` (notify §1): sends notifications through its drivers to its topics, as
//! `<topic>.<priority>` on the transport's control exchange, confirmed by the broker.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use super::Priority;
use super::message::{EncodedNotification, NotificationHeader, utc_timestamp};
use crate::config::OsloConfig;
use crate::context::Context;
use crate::error::RpcError;
use crate::transport::{Destination, PublishOptions, Transport};
use crate::wire::{self, json};

/// The topic notifications go to unless told otherwise (`[oslo_messaging_notifications]
/// topics`).
pub const DEFAULT_TOPIC: &str = "notifications";

/// How a notifier emits notifications (oslo's notification drivers, notify §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotifyDriver {
    /// `messagingv2`: the 2.0 envelope, what current listeners expect (the default).
    MessagingV2,
    /// `messaging`: the bare message, for consumers that predate the envelope.
    Messaging,
    /// `log`: a `tracing` event per notification, at the priority's level (`audit` at
    /// INFO, `sample` at DEBUG), with secrets masked; nothing is sent.
    Log,
    /// `noop`: nothing.
    Noop,
}

impl NotifyDriver {
    /// oslo's name for the driver.
    pub fn name(self) -> &'static str {
        match self {
            NotifyDriver::MessagingV2 => "messagingv2",
            NotifyDriver::Messaging => "messaging",
            NotifyDriver::Log => "log",
            NotifyDriver::Noop => "noop",
        }
    }
}

impl std::str::FromStr for NotifyDriver {
    type Err = RpcError;

    fn from_str(name: &str) -> Result<NotifyDriver, RpcError> {
        [
            NotifyDriver::MessagingV2,
            NotifyDriver::Messaging,
            NotifyDriver::Log,
            NotifyDriver::Noop,
        ]
        .into_iter()
        .find(|d| d.name() == name)
        .ok_or_else(|| {
            RpcError::InvalidArgument(format!(
                "unknown notification driver {name:?}; expected messagingv2, messaging, log or noop"
            ))
        })
    }
}

/// Sends notifications (oslo's `Notifier`).
///
/// Cheap to clone; [`Notifier::publisher_id`] on a clone is oslo's `prepare()`.
///
/// ```
/// use oslo_rpc_runtime::notify::Notifier;
/// use oslo_rpc_runtime::{Context, RpcError, Transport};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), RpcError> {
/// let transport = Transport::new("memory://doc-notifier")?;
/// let notifier = Notifier::new(transport, "compute.host1").topics(["notifications"]);
/// let ctx = Context::new().with_request_id("req-1");
/// notifier
///     .info(&ctx, "compute.instance.create.end", &serde_json::json!({"id": 1}))
///     .await?; // confirmed by the broker
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Notifier {
    transport: Transport,
    publisher_id: Option<String>,
    topics: Arc<[String]>,
    drivers: Arc<[NotifyDriver]>,
    retry: Option<u32>,
}

impl Notifier {
    /// A notifier sending as `publisher_id` (e.g. `compute.host1`) to the topic
    /// `notifications` with the `messagingv2` driver, retrying for as long as the transport
    /// allows.
    pub fn new(transport: Transport, publisher_id: impl Into<String>) -> Notifier {
        Notifier {
            transport,
            publisher_id: Some(publisher_id.into()),
            topics: Arc::from([DEFAULT_TOPIC.to_owned()]),
            drivers: Arc::from([NotifyDriver::MessagingV2]),
            retry: None,
        }
    }

    /// A notifier as oslo's `Notifier(transport)` configures itself from
    /// `[oslo_messaging_notifications]`: its `driver`s (oslo-rpc's four; others were warned
    /// about when the files were read and are skipped), `topics` and `retry` (negative:
    /// as many as the transport allows). No publisher id (`null`, as oslo's default); set
    /// one with [`Notifier::publisher_id`].
    ///
    /// **As in oslo, files that set no `driver` give a notifier that sends nothing**
    /// ([`Notifier::is_enabled`] is false). The transport is usually
    /// [`Transport::notification_from_config`] of the same files.
    pub fn from_config(transport: Transport, config: &OsloConfig) -> Notifier {
        let options = config.notifications();
        let drivers = options
            .drivers()
            .iter()
            .filter_map(|name| name.parse::<NotifyDriver>().ok());
        let retry = match options.retry() {
            negative if negative < 0 => None,
            retries => Some(u32::try_from(retries).unwrap_or(u32::MAX)),
        };
        Notifier::new(transport, "")
            .publisher_id(None)
            .topics(options.topics().iter().cloned())
            .drivers(drivers)
            .retry(retry)
    }

    /// The same notifier with another publisher id (`None` sends `null`, as a Python
    /// notifier without one does).
    pub fn publisher_id(mut self, publisher_id: Option<String>) -> Notifier {
        self.publisher_id = publisher_id;
        self
    }

    /// Sends to these topics (each notification goes to every one).
    pub fn topics<I, S>(mut self, topics: I) -> Notifier
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.topics = topics.into_iter().map(Into::into).collect();
        self
    }

    /// Uses this driver only.
    pub fn driver(self, driver: NotifyDriver) -> Notifier {
        self.drivers([driver])
    }

    /// Uses these drivers, each for every notification (oslo's `driver` is a list too).
    /// None at all sends nothing, as in oslo.
    pub fn drivers(mut self, drivers: impl IntoIterator<Item = NotifyDriver>) -> Notifier {
        self.drivers = drivers.into_iter().collect();
        self
    }

    /// Connection retries per send: `None` as many as the transport's time limits allow,
    /// `Some(0)` none (oslo's `retry`, wire §7.3).
    pub fn retry(mut self, retry: Option<u32>) -> Notifier {
        self.retry = retry;
        self
    }

    /// The publisher id.
    pub fn current_publisher_id(&self) -> Option<&str> {
        self.publisher_id.as_deref()
    }

    /// The topics.
    pub fn current_topics(&self) -> &[String] {
        &self.topics
    }

    /// False when the notifier would emit nothing (no driver, or only `noop`).
    pub fn is_enabled(&self) -> bool {
        self.drivers.iter().any(|d| *d != NotifyDriver::Noop)
    }

    /// Sends a notification at `priority`. Resolves once every topic's message is
    /// confirmed by the broker. Unlike oslo, which logs and carries on, a failure is
    /// returned (after every topic was tried).
    pub async fn notify<P: Serialize + ?Sized>(
        &self,
        ctx: &Context,
        priority: Priority,
        event_type: &str,
        payload: &P,
    ) -> Result<(), RpcError> {
        let message_id = uuid::Uuid::new_v4().to_string();
        let timestamp = utc_timestamp();
        let context = redacted(ctx);
        let header = NotificationHeader {
            message_id: &message_id,
            publisher_id: self.publisher_id.as_deref(),
            event_type,
            priority,
            timestamp: &timestamp,
            context: &context,
        };
        let encoded = EncodedNotification::new(&header, payload)?;
        let mut first_error = None;
        for driver in self.drivers.iter() {
            let outcome = match driver {
                NotifyDriver::MessagingV2 => self.publish(&encoded, priority, true).await,
                NotifyDriver::Messaging => self.publish(&encoded, priority, false).await,
                NotifyDriver::Log => {
                    log(&encoded, priority, event_type);
                    Ok(())
                }
                NotifyDriver::Noop => Ok(()),
            };
            if let Err(error) = outcome {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Publishes to every topic, confirmed; returns the first failure after trying all.
    async fn publish(
        &self,
        encoded: &EncodedNotification,
        priority: Priority,
        envelope: bool,
    ) -> Result<(), RpcError> {
        let exchange = &self.transport.config().control_exchange;
        let options = PublishOptions {
            retry: self.retry,
            ..PublishOptions::default()
        };
        let mut first_error = None;
        for topic in self.topics.iter() {
            if topic.is_empty() {
                first_error.get_or_insert(RpcError::InvalidTarget(
                    "a notification topic must not be empty".to_owned(),
                ));
                continue;
            }
            let routing_key = format!("{topic}.{priority}");
            let unique_id = wire::new_id();
            let body = if envelope {
                encoded.enveloped(&unique_id)
            } else {
                encoded.bare(&unique_id)
            };
            let destination = Destination::Notification {
                exchange,
                routing_key: &routing_key,
            };
            let sent = self
                .transport
                .driver()
                .send(destination, &body, options)
                .await;
            wire::recycle(body);
            if let Err(error) = sent {
                tracing::warn!(%error, %topic, "Could not send notification");
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Sends at `audit`.
    pub async fn audit<P: Serialize + ?Sized>(
        &self,
        ctx: &Context,
        event_type: &str,
        payload: &P,
    ) -> Result<(), RpcError> {
        self.notify(ctx, Priority::Audit, event_type, payload).await
    }

    /// Sends at `debug`.
    pub async fn debug<P: Serialize + ?Sized>(
        &self,
        ctx: &Context,
        event_type: &str,
        payload: &P,
    ) -> Result<(), RpcError> {
        self.notify(ctx, Priority::Debug, event_type, payload).await
    }

    /// Sends at `info`.
    pub async fn info<P: Serialize + ?Sized>(
        &self,
        ctx: &Context,
        event_type: &str,
        payload: &P,
    ) -> Result<(), RpcError> {
        self.notify(ctx, Priority::Info, event_type, payload).await
    }

    /// Sends at `warn` (oslo's `warn` and `warning`).
    pub async fn warn<P: Serialize + ?Sized>(
        &self,
        ctx: &Context,
        event_type: &str,
        payload: &P,
    ) -> Result<(), RpcError> {
        self.notify(ctx, Priority::Warn, event_type, payload).await
    }

    /// Sends at `error`.
    pub async fn error<P: Serialize + ?Sized>(
        &self,
        ctx: &Context,
        event_type: &str,
        payload: &P,
    ) -> Result<(), RpcError> {
        self.notify(ctx, Priority::Error, event_type, payload).await
    }

    /// Sends at `critical`.
    pub async fn critical<P: Serialize + ?Sized>(
        &self,
        ctx: &Context,
        event_type: &str,
        payload: &P,
    ) -> Result<(), RpcError> {
        self.notify(ctx, Priority::Critical, event_type, payload)
            .await
    }

    /// Sends at `sample`: frequent events with small payloads.
    pub async fn sample<P: Serialize + ?Sized>(
        &self,
        ctx: &Context,
        event_type: &str,
        payload: &P,
    ) -> Result<(), RpcError> {
        self.notify(ctx, Priority::Sample, event_type, payload)
            .await
    }
}

/// The context as oslo.context's `redacted_copy()` leaves it: `auth_token` goes out as
/// `null` (notify §1.4).
fn redacted(ctx: &Context) -> Context {
    let mut context = ctx.clone();
    if context.get("auth_token").is_some() {
        context.insert("auth_token", Value::Null);
    }
    context
}

/// Key fragments whose values the log driver masks (`oslo_utils.strutils._SANITIZE_KEYS`,
/// the generic ones).
const SECRET_KEYS: &[&str] = &[
    "adminpass",
    "admin_pass",
    "password",
    "admin_password",
    "auth_token",
    "new_pass",
    "auth_password",
    "secret_uuid",
    "secret",
    "sys_pswd",
    "token",
    "configdrive",
    "chappassword",
    "encrypted_key",
    "private_key",
    "fernetkey",
    "sslkey",
    "passphrase",
];

fn mask_secrets(value: &mut Value) {
    if let Value::Object(map) = value {
        for (key, value) in map.iter_mut() {
            let lower = key.to_lowercase();
            if value.is_object() {
                mask_secrets(value);
            } else if SECRET_KEYS.iter().any(|secret| lower.contains(secret)) {
                *value = Value::String("***".to_owned());
            }
        }
    }
}

/// The `log` driver: the message as JSON, secrets masked, on the logger oslo would use.
fn log(encoded: &EncodedNotification, priority: Priority, event_type: &str) {
    let logger = format!("oslo.messaging.notification.{event_type}");
    let mut message =
        json::from_str::<Map<String, Value>>(&String::from_utf8_lossy(&encoded.bare("")))
            .map(Value::Object)
            .unwrap_or(Value::Null);
    if let Value::Object(map) = &mut message {
        map.shift_remove("_unique_id");
        map.retain(|key, _| !key.starts_with(crate::context::CONTEXT_PREFIX));
    }
    mask_secrets(&mut message);
    let text = json::to_string(&message).unwrap_or_default();
    match priority {
        Priority::Debug | Priority::Sample => tracing::debug!(logger, "{text}"),
        Priority::Info | Priority::Audit => tracing::info!(logger, "{text}"),
        Priority::Warn => tracing::warn!(logger, "{text}"),
        Priority::Error | Priority::Critical => tracing::error!(logger, "{text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drivers_parse_by_oslo_name() {
        for driver in [
            NotifyDriver::MessagingV2,
            NotifyDriver::Messaging,
            NotifyDriver::Log,
            NotifyDriver::Noop,
        ] {
            assert_eq!(driver.name().parse::<NotifyDriver>().unwrap(), driver);
        }
        assert!("routing".parse::<NotifyDriver>().is_err());
    }

    #[test]
    fn auth_tokens_are_redacted_and_secrets_masked() {
        let ctx = Context::new()
            .with("user", "u1")
            .with("auth_token", "secret-token");
        let sent = redacted(&ctx);
        assert_eq!(sent.get("auth_token"), Some(&Value::Null));
        assert_eq!(sent.get_str("user"), Some("u1"));
        assert_eq!(redacted(&Context::new()).len(), 0);
        let mut payload = json!({"admin_password": "x", "user": "u", "nested": {"Token": 1}});
        mask_secrets(&mut payload);
        assert_eq!(
            payload,
            json!({"admin_password": "***", "user": "u", "nested": {"Token": "***"}})
        );
    }
}
