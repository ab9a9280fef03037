//! The names oslo gives its exchanges, queues and routing keys (spec §2.1, §2.2), shared by
//! every driver so that memory and RabbitMQ route identically.

use crate::wire::new_id;

/// Routing key (and queue name) of a request: `<topic>` or `<topic>.<server>`.
pub fn routing_key(topic: &str, server: Option<&str>) -> String {
    match server {
        Some(server) => server_queue(topic, server),
        None => topic.to_owned(),
    }
}

/// The queue of one server: `<topic>.<server>`.
pub fn server_queue(topic: &str, server: &str) -> String {
    format!("{topic}.{server}")
}

/// The fanout exchange of a topic: `<topic>_fanout`, whatever the control exchange.
pub fn fanout_exchange(topic: &str) -> String {
    format!("{topic}_fanout")
}

/// A fresh per-listener fanout queue: `<topic>_fanout_<uuid4 hex>`.
pub fn fanout_queue(topic: &str) -> String {
    format!("{topic}_fanout_{}", new_id())
}

/// A fanout queue named by oslo's queue manager: `<topic>_fanout_<host>:<process>:<n>`.
pub fn fanout_queue_named(topic: &str, unique: &str) -> String {
    format!("{topic}_fanout_{unique}")
}

/// A fresh reply queue name: `reply_<uuid4 hex>`.
pub fn reply_queue_name() -> String {
    format!("reply_{}", new_id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_oslo() {
        assert_eq!(routing_key("calc", None), "calc");
        assert_eq!(routing_key("calc", Some("h1")), "calc.h1");
        assert_eq!(fanout_exchange("calc"), "calc_fanout");
        let queue = fanout_queue("calc");
        assert!(queue.starts_with("calc_fanout_") && queue.len() == "calc_fanout_".len() + 32);
        let reply = reply_queue_name();
        assert!(reply.starts_with("reply_") && reply.len() == 38);
    }
}
