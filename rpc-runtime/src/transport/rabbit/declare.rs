//! The exchanges, queues and bindings of spec §2.1, with oslo's exact flags and arguments,
//! and the record of what a driver declared.

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard};

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{FieldTable, ShortString};
use lapin::{Channel, ExchangeKind};

use super::config::TopologyConfig;
use crate::error::RpcError;
use crate::transport::{ListenSpec, TapSpec, topology};

/// An exchange declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ExchangeSpec {
    pub(super) name: String,
    pub(super) fanout: bool,
    pub(super) durable: bool,
    pub(super) auto_delete: bool,
}

/// A queue declaration (never passive; exclusive only for a tap's own queue — oslo's are
/// never exclusive, spec §2.1).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct QueueSpec {
    pub(super) name: String,
    pub(super) durable: bool,
    pub(super) auto_delete: bool,
    pub(super) exclusive: bool,
    pub(super) arguments: FieldTable,
}

/// How a queue of a consumer group is consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ConsumeMode {
    /// Manual acknowledgement (every oslo consumer; spec §2.1).
    Manual,
    /// The broker considers deliveries settled on sending (a tap's copies).
    AutoAck,
    /// Declared and bound only: another spec of the group consumes the queue.
    BindOnly,
}

/// The arguments of a `basic.consume` (`Consumer.declare` in oslo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ConsumerArgs {
    /// None: an empty table.
    None,
    /// `{"x-cancel-on-ha-failover": true}` (`enable_cancel_on_failover`).
    CancelOnFailover,
    /// `{"x-stream-offset": <"last" or the next offset>}` only, even with
    /// `enable_cancel_on_failover` (oslo replaces the table); the group keeps the offset.
    StreamOffset,
}

/// One consumer of spec §2.1 "Order and consume": exchange, queue, binding, consumer tag.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ConsumeSpec {
    /// The exchange to declare and bind to; `None` for the reply queue (default exchange).
    pub(super) exchange: Option<ExchangeSpec>,
    pub(super) queue: QueueSpec,
    pub(super) routing_key: String,
    pub(super) consumer_tag: String,
    pub(super) mode: ConsumeMode,
    pub(super) consumer_args: ConsumerArgs,
}

impl TopologyConfig {
    /// The control exchange, or a target's own exchange: topic, `D`, `AD`.
    pub(super) fn control_exchange(&self, name: &str) -> ExchangeSpec {
        ExchangeSpec {
            name: name.to_owned(),
            fanout: false,
            durable: self.durable,
            auto_delete: self.auto_delete,
        }
    }

    /// `<topic>_fanout`: fanout, `TQ`, always auto-delete.
    pub(super) fn fanout_exchange(&self, name: &str) -> ExchangeSpec {
        ExchangeSpec {
            name: name.to_owned(),
            fanout: true,
            durable: self.transient_durable,
            auto_delete: true,
        }
    }

    /// `<topic>` and `<topic>.<server>`: `D`, `AD`, no `x-expires`.
    fn topic_queue(&self, name: String) -> QueueSpec {
        QueueSpec {
            name,
            durable: self.durable,
            auto_delete: self.auto_delete,
            exclusive: false,
            arguments: self.topic_queue_args.clone(),
        }
    }

    /// `<topic>_fanout_<uuid>` and `reply_<uuid>`: `TQ`, not auto-delete, `x-expires`.
    fn transient_queue(&self, name: String) -> QueueSpec {
        QueueSpec {
            name,
            durable: self.transient_durable,
            auto_delete: false,
            exclusive: false,
            arguments: self.transient_queue_args.clone(),
        }
    }

    /// A server's fanout queue: its own transient queue, or with `rabbit_stream_fanout`
    /// the stream `<topic>_fanout` every server of the topic shares (durable: `TQ OR
    /// stream`, and stream fanout requires `TQ`), with only the stream arguments.
    fn fanout_queue(&self, name: String) -> QueueSpec {
        let mut queue = self.transient_queue(name);
        if let Some(arguments) = &self.stream_fanout_args {
            queue.durable = true;
            queue.arguments = arguments.clone();
        }
        queue
    }

    /// The consumer arguments of a queue that is not the stream.
    pub(super) fn consumer_args(&self) -> ConsumerArgs {
        if self.cancel_on_failover {
            ConsumerArgs::CancelOnFailover
        } else {
            ConsumerArgs::None
        }
    }

    /// Whether fanout goes through one shared stream queue per topic.
    pub(super) fn stream_fanout(&self) -> bool {
        self.stream_fanout_args.is_some()
    }

    /// A server's three consumers, tagged "1", "2", "3" as oslo's are (spec §2.1).
    pub(super) fn listener(&self, spec: &ListenSpec, fanout_queue: &str) -> Vec<ConsumeSpec> {
        let control = (!spec.exchange.is_empty()).then(|| self.control_exchange(&spec.exchange));
        let server_queue = topology::server_queue(&spec.topic, &spec.server);
        let fanout_args = if self.stream_fanout() {
            ConsumerArgs::StreamOffset
        } else {
            self.consumer_args()
        };
        vec![
            ConsumeSpec {
                exchange: control.clone(),
                queue: self.topic_queue(spec.topic.clone()),
                routing_key: spec.topic.clone(),
                consumer_tag: "1".to_owned(),
                mode: ConsumeMode::Manual,
                consumer_args: self.consumer_args(),
            },
            ConsumeSpec {
                exchange: control,
                queue: self.topic_queue(server_queue.clone()),
                routing_key: server_queue,
                consumer_tag: "2".to_owned(),
                mode: ConsumeMode::Manual,
                consumer_args: self.consumer_args(),
            },
            ConsumeSpec {
                exchange: Some(self.fanout_exchange(&topology::fanout_exchange(&spec.topic))),
                queue: self.fanout_queue(fanout_queue.to_owned()),
                routing_key: spec.topic.clone(),
                consumer_tag: "3".to_owned(),
                mode: ConsumeMode::Manual,
                consumer_args: fanout_args,
            },
        ]
    }

    /// The client's reply consumer: no exchange, tag "1".
    pub(super) fn reply(&self, queue: &str) -> Vec<ConsumeSpec> {
        vec![ConsumeSpec {
            exchange: None,
            queue: self.transient_queue(queue.to_owned()),
            routing_key: String::new(),
            consumer_tag: "1".to_owned(),
            mode: ConsumeMode::Manual,
            consumer_args: self.consumer_args(),
        }]
    }

    /// A tap's queue (exclusive, auto-delete, not durable: it dies with the tap) bound like
    /// the topic queue, every server queue and a fanout queue of `spec.topic`, consumed once.
    pub(super) fn tap(&self, spec: &TapSpec, queue: &str) -> Vec<ConsumeSpec> {
        let queue = QueueSpec {
            name: queue.to_owned(),
            durable: false,
            auto_delete: true,
            exclusive: true,
            arguments: FieldTable::default(),
        };
        let control = (!spec.exchange.is_empty()).then(|| self.control_exchange(&spec.exchange));
        let fanout = self.fanout_exchange(&topology::fanout_exchange(&spec.topic));
        let bind = |exchange: Option<ExchangeSpec>, routing_key: String, mode| ConsumeSpec {
            exchange,
            queue: queue.clone(),
            routing_key,
            consumer_tag: "tap".to_owned(),
            mode,
            consumer_args: ConsumerArgs::None,
        };
        vec![
            bind(control.clone(), spec.topic.clone(), ConsumeMode::AutoAck),
            bind(control, format!("{}.*", spec.topic), ConsumeMode::BindOnly),
            bind(Some(fanout), spec.topic.clone(), ConsumeMode::BindOnly),
        ]
    }
}

/// A name as an AMQP short string (at most 255 bytes), or an error naming it.
pub(super) fn short(what: &str, name: &str) -> Result<ShortString, RpcError> {
    ShortString::try_new(name).map_err(|_| {
        RpcError::InvalidArgument(format!(
            "{what} {name:?} is {} bytes long; AMQP allows at most 255",
            name.len()
        ))
    })
}

/// Declares an exchange (never the default exchange `""`).
pub(super) async fn declare_exchange(channel: &Channel, spec: &ExchangeSpec) -> lapin::Result<()> {
    let kind = if spec.fanout {
        ExchangeKind::Fanout
    } else {
        ExchangeKind::Topic
    };
    channel
        .exchange_declare(
            spec.name.as_str().into(),
            kind,
            ExchangeDeclareOptions {
                passive: false,
                durable: spec.durable,
                auto_delete: spec.auto_delete,
                internal: false,
                nowait: false,
            },
            FieldTable::default(),
        )
        .await
}

/// Declares a queue.
pub(super) async fn declare_queue(channel: &Channel, spec: &QueueSpec) -> lapin::Result<()> {
    channel
        .queue_declare(
            spec.queue_name(),
            QueueDeclareOptions {
                passive: false,
                durable: spec.durable,
                exclusive: spec.exclusive,
                auto_delete: spec.auto_delete,
                nowait: false,
            },
            spec.arguments.clone(),
        )
        .await
        .map(drop)
}

/// Binds a queue to an exchange.
pub(super) async fn bind(channel: &Channel, spec: &ConsumeSpec) -> lapin::Result<()> {
    let Some(exchange) = &spec.exchange else {
        return Ok(());
    };
    channel
        .queue_bind(
            spec.queue.queue_name(),
            exchange.name.as_str().into(),
            spec.routing_key.as_str().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
}

impl QueueSpec {
    fn queue_name(&self) -> ShortString {
        self.name.as_str().into()
    }
}

impl ConsumeSpec {
    /// Checks every name fits an AMQP short string before anything is sent.
    pub(super) fn check_names(&self) -> Result<(), RpcError> {
        if let Some(exchange) = &self.exchange {
            short("exchange", &exchange.name)?;
        }
        short("queue", &self.queue.name)?;
        short("routing key", &self.routing_key)?;
        Ok(())
    }

    /// The same consumer with every durable flag cleared: oslo's fallback after
    /// `inequivalent arg 'durable'` (spec §2.1, `Consumer._declare_fallback_nondurable`).
    pub(super) fn non_durable(&self) -> ConsumeSpec {
        let mut spec = self.clone();
        if let Some(exchange) = &mut spec.exchange {
            exchange.durable = false;
        }
        spec.queue.durable = false;
        spec
    }
}

/// What kind of entity a declared name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntityKind {
    /// An exchange.
    Exchange,
    /// A queue.
    Queue,
}

/// The names a driver has declared (or deleted again), for diagnostics and test cleanup.
#[derive(Debug, Default)]
pub(super) struct Declared {
    names: Mutex<BTreeSet<(EntityKind, String)>>,
}

impl Declared {
    fn names(&self) -> MutexGuard<'_, BTreeSet<(EntityKind, String)>> {
        self.names.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn exchange(&self, name: &str) {
        if !name.is_empty() {
            self.names().insert((EntityKind::Exchange, name.to_owned()));
        }
    }

    pub(super) fn queue(&self, name: &str) {
        self.names().insert((EntityKind::Queue, name.to_owned()));
    }

    pub(super) fn forget_queue(&self, name: &str) {
        self.names().remove(&(EntityKind::Queue, name.to_owned()));
    }

    pub(super) fn snapshot(&self) -> Vec<(EntityKind, String)> {
        self.names().iter().cloned().collect()
    }
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

    #[test]
    fn listener_entities_match_spec_2_1() {
        let t = topology("rabbit://h/");
        let spec = ListenSpec {
            exchange: "openstack".into(),
            topic: "rtopic".into(),
            server: "srv1".into(),
        };
        let plan = t.listener(&spec, "rtopic_fanout_9e53235ef0a54049ac0c19d9407a5d3d");
        let control = ExchangeSpec {
            name: "openstack".into(),
            fanout: false,
            durable: false,
            auto_delete: false,
        };
        assert_eq!(plan[0].exchange.as_ref(), Some(&control));
        assert_eq!(
            (plan[0].queue.name.as_str(), plan[0].routing_key.as_str()),
            ("rtopic", "rtopic")
        );
        assert!(!plan[0].queue.durable && !plan[0].queue.auto_delete);
        assert!(plan[0].queue.arguments.inner().is_empty());
        assert_eq!(plan[1].exchange.as_ref(), Some(&control));
        assert_eq!(
            (plan[1].queue.name.as_str(), plan[1].routing_key.as_str()),
            ("rtopic.srv1", "rtopic.srv1")
        );
        assert!(plan[1].queue.arguments.inner().is_empty());
        assert_eq!(
            plan[2].exchange,
            Some(ExchangeSpec {
                name: "rtopic_fanout".into(),
                fanout: true,
                durable: false,
                auto_delete: true
            })
        );
        assert_eq!(plan[2].routing_key, "rtopic");
        assert!(!plan[2].queue.durable && !plan[2].queue.auto_delete);
        assert_eq!(
            plan[2].queue.arguments.inner().get("x-expires"),
            Some(&AMQPValue::LongInt(1_800_000))
        );
        let tags: Vec<&str> = plan.iter().map(|c| c.consumer_tag.as_str()).collect();
        assert_eq!(tags, ["1", "2", "3"]);
    }

    #[test]
    fn reply_queue_matches_spec_2_1() {
        let t = topology("rabbit://h/");
        let plan = t.reply("reply_ee651b22711c4edeadcfe900f584cd9a");
        assert_eq!(plan.len(), 1);
        assert!(plan[0].exchange.is_none());
        assert!(!plan[0].queue.durable && !plan[0].queue.auto_delete);
        assert_eq!(
            plan[0].queue.arguments.inner().get("x-expires"),
            Some(&AMQPValue::LongInt(1_800_000))
        );
        assert_eq!(plan[0].consumer_tag, "1");
    }

    #[test]
    fn durable_and_auto_delete_options_apply_where_oslo_applies_them() {
        let t = topology("rabbit://h/?amqp_durable_queues=true&amqp_auto_delete=true");
        let spec = ListenSpec {
            exchange: "nova".into(),
            topic: "t".into(),
            server: "s".into(),
        };
        let plan = t.listener(&spec, "t_fanout_x");
        let control = plan[0].exchange.as_ref().unwrap();
        assert!(control.durable && control.auto_delete);
        assert!(plan[0].queue.durable && plan[0].queue.auto_delete);
        assert!(plan[1].queue.durable && plan[1].queue.auto_delete);
        // The fanout side follows TQ, not D/AD.
        let fanout = plan[2].exchange.as_ref().unwrap();
        assert!(!fanout.durable && fanout.auto_delete);
        assert!(!plan[2].queue.durable && !plan[2].queue.auto_delete);
        let fallback = plan[0].non_durable();
        assert!(!fallback.queue.durable && !fallback.exchange.unwrap().durable);
    }

    /// The production options of issue 11, as a deployment sets them.
    const PRODUCTION: &str = "rabbit://h/?rabbit_quorum_queue=true&rabbit_transient_quorum_queue=true\
        &rabbit_stream_fanout=true&rabbit_qos_prefetch_count=1&rabbit_quorum_delivery_limit=5\
        &rabbit_quorum_max_memory_length=100&rabbit_quorum_max_memory_bytes=3000000000";

    fn table(pairs: &[(&str, AMQPValue)]) -> FieldTable {
        let mut table = FieldTable::default();
        for (key, value) in pairs {
            table.insert((*key).into(), value.clone());
        }
        table
    }

    fn text(value: &str) -> AMQPValue {
        AMQPValue::LongString(value.into())
    }

    #[test]
    fn production_listener_matches_what_python_declared() {
        // spec-production-topology §2, §3: rabbitmqctl's listing of a Python 18.3.1 server
        // with these options (types: longstr, signedint, long).
        let t = topology(PRODUCTION);
        let spec = ListenSpec {
            exchange: "nova".into(),
            topic: "compute".into(),
            server: "host1".into(),
        };
        let plan = t.listener(&spec, "compute_fanout");
        let quorum = table(&[
            ("x-queue-type", text("quorum")),
            ("x-delivery-limit", AMQPValue::LongInt(5)),
            ("x-max-in-memory-length", AMQPValue::LongInt(100)),
            (
                "x-max-in-memory-bytes",
                AMQPValue::LongLongInt(3_000_000_000),
            ),
        ]);
        let control = ExchangeSpec {
            name: "nova".into(),
            fanout: false,
            durable: true,
            auto_delete: false,
        };
        for (consumer, name) in plan[..2].iter().zip(["compute", "compute.host1"]) {
            assert_eq!(consumer.exchange.as_ref(), Some(&control));
            assert_eq!(
                consumer.queue,
                QueueSpec {
                    name: name.into(),
                    durable: true,
                    auto_delete: false,
                    exclusive: false,
                    arguments: quorum.clone(),
                }
            );
            assert_eq!(consumer.consumer_args, ConsumerArgs::None);
        }
        let fanout = &plan[2];
        assert_eq!(
            fanout.exchange,
            Some(ExchangeSpec {
                name: "compute_fanout".into(),
                fanout: true,
                durable: true,
                auto_delete: true,
            })
        );
        assert_eq!(
            fanout.queue,
            QueueSpec {
                name: "compute_fanout".into(),
                durable: true,
                auto_delete: false,
                exclusive: false,
                arguments: table(&[
                    ("x-queue-type", text("stream")),
                    ("x-max-age", text("1800s")),
                ]),
            }
        );
        assert_eq!(fanout.routing_key, "compute");
        assert_eq!(fanout.consumer_args, ConsumerArgs::StreamOffset);
        assert!(t.stream_fanout());

        let reply = &t.reply("reply_h:p:1")[0];
        let mut transient = quorum.clone();
        transient.insert("x-expires".into(), AMQPValue::LongInt(1_800_000));
        assert!(reply.queue.durable && !reply.queue.auto_delete);
        assert_eq!(reply.queue.arguments, transient);
    }

    #[test]
    fn transient_quorum_without_stream_keeps_per_server_fanout_queues() {
        let t = topology("rabbit://h/?rabbit_transient_quorum_queue=true");
        let spec = ListenSpec {
            exchange: "openstack".into(),
            topic: "t".into(),
            server: "s".into(),
        };
        let plan = t.listener(&spec, "t_fanout_h:p:1");
        // Topic and server queues stay classic (D is false), the fanout side is quorum.
        assert!(!plan[0].queue.durable && plan[0].queue.arguments.inner().is_empty());
        assert!(plan[2].queue.durable && plan[2].exchange.as_ref().unwrap().durable);
        assert_eq!(
            plan[2].queue.arguments,
            table(&[
                ("x-queue-type", text("quorum")),
                ("x-expires", AMQPValue::LongInt(1_800_000)),
            ])
        );
        assert!(!t.stream_fanout());
    }

    #[test]
    fn cancel_on_failover_is_a_consumer_argument_except_on_the_stream() {
        let t = topology("rabbit://h/?enable_cancel_on_failover=true");
        let spec = ListenSpec {
            exchange: "openstack".into(),
            topic: "t".into(),
            server: "s".into(),
        };
        let plan = t.listener(&spec, "t_fanout_x");
        assert!(
            plan.iter()
                .all(|c| c.consumer_args == ConsumerArgs::CancelOnFailover)
        );
        assert_eq!(
            t.reply("r")[0].consumer_args,
            ConsumerArgs::CancelOnFailover
        );
        let t = topology(&format!("{PRODUCTION}&enable_cancel_on_failover=true"));
        let plan = t.listener(&spec, "t_fanout");
        assert_eq!(plan[0].consumer_args, ConsumerArgs::CancelOnFailover);
        // oslo replaces the consumer arguments of the stream by the offset alone.
        assert_eq!(plan[2].consumer_args, ConsumerArgs::StreamOffset);
    }

    #[test]
    fn long_names_are_refused_before_sending() {
        let name = "x".repeat(256);
        assert!(short("queue", &name).is_err());
        assert!(short("queue", &name[..255]).is_ok());
    }
}
