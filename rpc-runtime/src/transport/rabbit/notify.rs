//! Notification topology (notify §1.5, §2.2): the notifier's default queue and a
//! notification listener's queues, with the flags and arguments of topic queues (`D`, `AD`,
//! and the HA or quorum arguments the URL configures, wire §2.1).

use lapin::Channel;

use super::config::TopologyConfig;
use super::declare::{self, ConsumeMode, ConsumeSpec, ExchangeSpec, QueueSpec};
use crate::transport::NotificationListenSpec;

impl TopologyConfig {
    /// A queue declared like a topic queue: the notifier's default queue `<topic>.<priority>`,
    /// a listener's queue of that name, or a pool's queue.
    pub(super) fn notification_queue(&self, name: &str) -> QueueSpec {
        QueueSpec {
            name: name.to_owned(),
            durable: self.durable,
            auto_delete: self.auto_delete,
            exclusive: false,
            arguments: self.topic_queue_args.clone(),
        }
    }

    /// A notification listener's consumers, in the order of the spec's bindings: without a
    /// pool one queue per routing key, each consumed (tags "1", "2", ...); with a pool one
    /// queue of that name bound with every key and consumed once (tag "1"), as oslo's
    /// per-queue consumer tags make it (notify §2.2).
    pub(super) fn notification_listener(&self, spec: &NotificationListenSpec) -> Vec<ConsumeSpec> {
        let mut plan: Vec<ConsumeSpec> = Vec::with_capacity(spec.bindings.len());
        let mut consumed: Vec<String> = Vec::new();
        for (exchange, routing_key) in &spec.bindings {
            let queue = spec.pool.as_deref().unwrap_or(routing_key);
            let first = !consumed.iter().any(|q| q == queue);
            if first {
                consumed.push(queue.to_owned());
            }
            plan.push(ConsumeSpec {
                exchange: (!exchange.is_empty()).then(|| self.control_exchange(exchange)),
                queue: self.notification_queue(queue),
                routing_key: routing_key.clone(),
                consumer_tag: consumed.len().to_string(),
                mode: if first {
                    ConsumeMode::Manual
                } else {
                    ConsumeMode::BindOnly
                },
            });
        }
        plan
    }
}

/// Declares a notifier's default queue and binds it to its exchange with its own name as
/// the routing key (`_publish_and_creates_default_queue`).
pub(super) async fn declare_default_queue(
    channel: &Channel,
    exchange: &ExchangeSpec,
    queue: &QueueSpec,
) -> lapin::Result<()> {
    declare::declare_queue(channel, queue).await?;
    let binding = ConsumeSpec {
        exchange: Some(exchange.clone()),
        queue: queue.clone(),
        routing_key: queue.name.clone(),
        consumer_tag: String::new(),
        mode: ConsumeMode::BindOnly,
    };
    declare::bind(channel, &binding).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::TransportUrl;
    use lapin::types::AMQPValue;

    fn topology(url: &str) -> TopologyConfig {
        let url = TransportUrl::parse(url).unwrap();
        TopologyConfig::from_options(url.rabbit_options().unwrap())
    }

    fn spec(pool: Option<&str>) -> NotificationListenSpec {
        NotificationListenSpec {
            bindings: vec![
                ("openstack".into(), "ncap.info".into()),
                ("openstack".into(), "ncap.warn".into()),
                ("otherx".into(), "ncap.info".into()),
            ],
            pool: pool.map(str::to_owned),
            min_prefetch: 64,
        }
    }

    #[test]
    fn without_a_pool_every_routing_key_has_its_queue_and_consumer() {
        // notify §2.2 [observed]: queues ncap.audit ... ncap.warn, one consumer each.
        let plan = topology("rabbit://h/").notification_listener(&spec(None));
        let seen: Vec<(&str, &str, &str, &str, ConsumeMode)> = plan
            .iter()
            .map(|c| {
                (
                    c.exchange.as_ref().unwrap().name.as_str(),
                    c.queue.name.as_str(),
                    c.routing_key.as_str(),
                    c.consumer_tag.as_str(),
                    c.mode,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "openstack",
                    "ncap.info",
                    "ncap.info",
                    "1",
                    ConsumeMode::Manual
                ),
                (
                    "openstack",
                    "ncap.warn",
                    "ncap.warn",
                    "2",
                    ConsumeMode::Manual
                ),
                (
                    "otherx",
                    "ncap.info",
                    "ncap.info",
                    "2",
                    ConsumeMode::BindOnly
                ),
            ]
        );
        for c in &plan {
            assert!(!c.queue.durable && !c.queue.auto_delete && !c.queue.exclusive);
            assert!(c.queue.arguments.inner().is_empty(), "no x-expires");
            let exchange = c.exchange.as_ref().unwrap();
            assert!(!exchange.fanout && !exchange.durable && !exchange.auto_delete);
        }
    }

    #[test]
    fn a_pool_is_one_queue_bound_with_every_key_and_consumed_once() {
        // notify §2.2 [observed]: ncap-poolA, seven bindings, consumer "1".
        let plan = topology("rabbit://h/").notification_listener(&spec(Some("billing")));
        assert!(plan.iter().all(|c| c.queue.name == "billing"));
        let modes: Vec<ConsumeMode> = plan.iter().map(|c| c.mode).collect();
        assert_eq!(
            modes,
            [
                ConsumeMode::Manual,
                ConsumeMode::BindOnly,
                ConsumeMode::BindOnly
            ]
        );
        assert_eq!(plan[0].consumer_tag, "1");
        let keys: Vec<&str> = plan.iter().map(|c| c.routing_key.as_str()).collect();
        assert_eq!(keys, ["ncap.info", "ncap.warn", "ncap.info"]);
    }

    #[test]
    fn quorum_options_give_durable_quorum_queues() {
        // notify §1.5, §2.2 [observed under rabbit_quorum_queue=true].
        let t = topology("rabbit://h/?rabbit_quorum_queue=true");
        let queue = t.notification_queue("ncapq.info");
        assert!(queue.durable && !queue.auto_delete);
        assert_eq!(
            queue.arguments.inner().get("x-queue-type"),
            Some(&AMQPValue::LongString("quorum".into()))
        );
        let plan = t.notification_listener(&spec(Some("ncapq-pool")));
        assert!(plan[0].queue.durable && plan[0].exchange.as_ref().unwrap().durable);
    }
}
