//! Where a stream-fanout consumer resumes (`rabbit_stream_fanout`; spec-production-topology
//! §3). oslo's `Consumer` starts at `x-stream-offset: "last"`, remembers the offset of every
//! delivery plus one, consumes from there after a reconnect (no duplicates, no gaps while the
//! stream retains the messages), and starts at `"last"` again after the broker cancels the
//! consumer (the stream may have been deleted and its offsets reset).

use std::sync::atomic::{AtomicI64, Ordering};

use lapin::message::Delivery;
use lapin::types::{AMQPValue, LongString};

/// The header RabbitMQ puts on each stream delivery, and the consumer argument.
pub(super) const OFFSET_KEY: &str = "x-stream-offset";

/// "Start at the last chunk": the first consume and the one after a cancel.
const LAST: i64 = -1;

/// The offset the next consume asks for. Shared by a consumer group (which consumes) and
/// its listener (which sees the deliveries).
#[derive(Debug)]
pub(super) struct StreamOffset {
    next: AtomicI64,
}

impl Default for StreamOffset {
    fn default() -> Self {
        StreamOffset {
            next: AtomicI64::new(LAST),
        }
    }
}

impl StreamOffset {
    /// The `x-stream-offset` consumer argument, with py-amqp's types: `"last"` as a long
    /// string, an offset as a signed 32-bit integer when it fits, else 64-bit.
    pub(super) fn consumer_argument(&self) -> AMQPValue {
        match self.next.load(Ordering::Acquire) {
            LAST => AMQPValue::LongString(LongString::from("last")),
            next => match i32::try_from(next) {
                Ok(small) => AMQPValue::LongInt(small),
                Err(_) => AMQPValue::LongLongInt(next),
            },
        }
    }

    /// Notes a delivery of the stream consumer: the next consume starts after it (oslo's
    /// `Consumer._callback`, before the message is handled). Deliveries without the header
    /// leave the offset as it was, as in oslo.
    pub(super) fn record(&self, delivery: &Delivery) {
        let offset = delivery
            .properties
            .headers()
            .as_ref()
            .and_then(|headers| headers.inner().get(OFFSET_KEY))
            .and_then(integer);
        if let Some(offset) = offset {
            self.next
                .store(offset.saturating_add(1).max(0), Ordering::Release);
        }
    }

    /// After a `basic.cancel` from the broker: start at `"last"` again
    /// (`Consumer.reset_stream_offset`).
    pub(super) fn reset(&self) {
        let was = self.next.swap(LAST, Ordering::AcqRel);
        if was != LAST {
            tracing::warn!(
                next_offset = was,
                "stream consumer cancelled: resuming at \"last\""
            );
        }
    }
}

fn integer(value: &AMQPValue) -> Option<i64> {
    match *value {
        AMQPValue::LongLongInt(v) => Some(v),
        AMQPValue::LongInt(v) => Some(v.into()),
        AMQPValue::LongUInt(v) => Some(v.into()),
        AMQPValue::ShortInt(v) => Some(v.into()),
        AMQPValue::ShortUInt(v) => Some(v.into()),
        AMQPValue::ShortShortInt(v) => Some(v.into()),
        AMQPValue::ShortShortUInt(v) => Some(v.into()),
        AMQPValue::Timestamp(v) => i64::try_from(v).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapin::BasicProperties;
    use lapin::types::FieldTable;

    fn delivery_at(offset: Option<AMQPValue>) -> Delivery {
        let mut headers = FieldTable::default();
        if let Some(offset) = offset {
            headers.insert(OFFSET_KEY.into(), offset);
        }
        let mut delivery = Delivery::mock(1, "".into(), "t".into(), false, b"{}".to_vec());
        delivery.properties = BasicProperties::default().with_headers(headers);
        delivery
    }

    #[test]
    fn starts_at_last_then_follows_deliveries_and_resets() {
        let offset = StreamOffset::default();
        assert_eq!(
            offset.consumer_argument(),
            AMQPValue::LongString("last".into())
        );
        offset.record(&delivery_at(Some(AMQPValue::LongLongInt(41))));
        assert_eq!(offset.consumer_argument(), AMQPValue::LongInt(42));
        offset.record(&delivery_at(None));
        assert_eq!(offset.consumer_argument(), AMQPValue::LongInt(42));
        offset.record(&delivery_at(Some(AMQPValue::LongLongInt(1 << 40))));
        assert_eq!(
            offset.consumer_argument(),
            AMQPValue::LongLongInt((1 << 40) + 1)
        );
        offset.reset();
        assert_eq!(
            offset.consumer_argument(),
            AMQPValue::LongString("last".into())
        );
    }
}
