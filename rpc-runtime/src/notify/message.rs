//! The notification message (notify §1.3, §2.3): encoding exactly as Python's `Notifier`
//! writes it, in the 2.0 envelope (`messagingv2`) or bare (`messaging`), and lenient
//! decoding of either form.

use std::borrow::Cow;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::Priority;
use crate::context::{CONTEXT_PREFIX, Context};
use crate::wire::json::{self, RawJson};
use crate::wire::{CodecError, open_envelope, seal_envelope};

/// What is the same on every topic a notification goes to: encoded once, then finished
/// per publish with a fresh `_unique_id` (notify §1.3: same `message_id` and `timestamp`
/// on every topic).
#[derive(Debug, Clone)]
pub struct EncodedNotification {
    /// `{"message_id": ..., ..., "timestamp": "..."` without the closing brace.
    head: Vec<u8>,
    /// `, "_context_k": v` for every context key.
    context: Vec<u8>,
}

/// The fields of a notification a sender chooses.
#[derive(Debug, Clone, Copy)]
pub struct NotificationHeader<'a> {
    /// `message_id`: a uuid4 with dashes.
    pub message_id: &'a str,
    /// `publisher_id`, `null` when `None`.
    pub publisher_id: Option<&'a str>,
    /// `event_type`.
    pub event_type: &'a str,
    /// `priority`, written in upper case.
    pub priority: Priority,
    /// `timestamp`, as [`utc_timestamp`] writes it.
    pub timestamp: &'a str,
    /// Sent as `_context_*` keys after `_unique_id` (notify §1.4).
    pub context: &'a Context,
}

impl EncodedNotification {
    /// Encodes everything but `_unique_id`. The payload may be any JSON value.
    pub fn new<P: Serialize + ?Sized>(
        header: &NotificationHeader<'_>,
        payload: &P,
    ) -> Result<EncodedNotification, CodecError> {
        let mut head = Vec::with_capacity(256);
        head.extend_from_slice(b"{\"message_id\": ");
        json::write_str(&mut head, header.message_id);
        head.extend_from_slice(b", \"publisher_id\": ");
        match header.publisher_id {
            Some(publisher) => json::write_str(&mut head, publisher),
            None => head.extend_from_slice(b"null"),
        }
        head.extend_from_slice(b", \"event_type\": ");
        json::write_str(&mut head, header.event_type);
        head.extend_from_slice(b", \"priority\": ");
        json::write_str(&mut head, header.priority.wire_name());
        head.extend_from_slice(b", \"payload\": ");
        json::to_writer(&mut head, payload)?;
        head.extend_from_slice(b", \"timestamp\": ");
        json::write_str(&mut head, header.timestamp);
        let mut context = Vec::new();
        for (key, value) in header.context.iter() {
            context.extend_from_slice(b", ");
            let mut name = String::with_capacity(CONTEXT_PREFIX.len() + key.len());
            name.push_str(CONTEXT_PREFIX);
            name.push_str(key);
            json::write_str(&mut context, &name);
            context.extend_from_slice(b": ");
            json::to_writer(&mut context, value)?;
        }
        Ok(EncodedNotification { head, context })
    }

    /// The message with this `_unique_id`, as the bare JSON object (`messaging`, the 1.0
    /// format).
    pub fn bare(&self, unique_id: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.head.len() + self.context.len() + 64);
        out.extend_from_slice(&self.head);
        out.extend_from_slice(b", \"_unique_id\": ");
        json::write_str(&mut out, unique_id);
        out.extend_from_slice(&self.context);
        out.push(b'}');
        out
    }

    /// The message with this `_unique_id` in the 2.0 envelope (`messagingv2`).
    pub fn enveloped(&self, unique_id: &str) -> Vec<u8> {
        seal_envelope(&self.bare(unique_id))
    }
}

/// `str(datetime.utcnow())` for now (notify §1.3).
pub fn utc_timestamp() -> String {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format_timestamp(since_epoch.as_secs(), since_epoch.subsec_micros())
}

/// Python's `str()` of a naive datetime: `YYYY-MM-DD HH:MM:SS.ffffff`, without the
/// fraction when the microseconds are 0.
fn format_timestamp(unix_seconds: u64, micros: u32) -> String {
    let days = unix_seconds / 86_400;
    let seconds_of_day = unix_seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (
        seconds_of_day / 3600,
        seconds_of_day / 60 % 60,
        seconds_of_day % 60,
    );
    let mut out = format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}");
    if micros != 0 {
        out.push_str(&format!(".{micros:06}"));
    }
    out
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// A notification as a listener receives it, before its payload is decoded
/// (notify §2.3: every field may be missing; oslo reads them with `.get()`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RawNotification {
    /// The `priority` field as sent, when it is a string.
    pub priority_name: Option<String>,
    /// `publisher_id`, when it is a string.
    pub publisher_id: Option<String>,
    /// `event_type`, when it is a string.
    pub event_type: Option<String>,
    /// `payload`, as the exact JSON text sent (`null` when missing).
    pub payload: RawJson,
    /// `message_id`, when it is a string.
    pub message_id: Option<String>,
    /// `timestamp`, when it is a string.
    pub timestamp: Option<String>,
    /// `_unique_id`, for duplicate detection.
    pub unique_id: Option<String>,
    /// The `_context_*` keys, prefix removed, in order.
    pub context: Context,
}

impl RawNotification {
    /// The priority the dispatcher uses: the body's `priority`, in any case.
    pub fn priority(&self) -> Option<Priority> {
        self.priority_name.as_deref().and_then(Priority::from_wire)
    }
}

/// Decodes a notification body, enveloped (`messagingv2`) or bare (`messaging`).
pub fn decode_notification(body: &[u8]) -> Result<RawNotification, CodecError> {
    let inner: Cow<'_, str> = open_envelope(body)?;
    let fields: Fields = json::from_str(&inner)?;
    Ok(fields.0)
}

struct Fields(RawNotification);

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(FieldsVisitor)
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a notification object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
        let string = |value: Value| match value {
            Value::String(s) => Some(s),
            _ => None,
        };
        let mut n = RawNotification {
            priority_name: None,
            publisher_id: None,
            event_type: None,
            payload: RawJson::null(),
            message_id: None,
            timestamp: None,
            unique_id: None,
            context: Context::new(),
        };
        let mut context = Map::new();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "priority" => n.priority_name = string(map.next_value()?),
                "publisher_id" => n.publisher_id = string(map.next_value()?),
                "event_type" => n.event_type = string(map.next_value()?),
                "payload" => n.payload = map.next_value()?,
                "message_id" => n.message_id = string(map.next_value()?),
                "timestamp" => n.timestamp = string(map.next_value()?),
                "_unique_id" => n.unique_id = string(map.next_value()?),
                other => match other.strip_prefix(CONTEXT_PREFIX) {
                    Some(context_key) => {
                        context.insert(context_key.to_owned(), map.next_value()?);
                    }
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                },
            }
        }
        n.context = Context::from_map(context);
        Ok(Fields(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CAPTURE: &str = include_str!("../../tests/fixtures/oslo-18.3.1-notifications.json");

    /// Every notification Python published in the capture (notify §0), as
    /// `(step title, event)`.
    fn published() -> Vec<(String, Value)> {
        let capture: Value = serde_json::from_str(CAPTURE).unwrap();
        let mut out = Vec::new();
        for step in capture["steps"].as_array().unwrap() {
            for event in step["events"].as_array().unwrap() {
                if event["event"].as_str().unwrap().starts_with("publish.")
                    && event
                        .get("message")
                        .is_some_and(|m| m.get("message_id").is_some())
                {
                    out.push((step["title"].as_str().unwrap().to_owned(), event.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn encoding_reproduces_every_captured_python_notification_byte_for_byte() {
        // notify §1.3, §1.4: the same fields, order, separators and escapes; the envelope
        // for messagingv2, none for messaging.
        let mut checked = 0;
        for (title, event) in published() {
            let body = event["body"].as_str().unwrap();
            let message = &event["message"];
            let mut context = Map::new();
            for (key, value) in message.as_object().unwrap() {
                if let Some(k) = key.strip_prefix("_context_") {
                    context.insert(k.to_owned(), value.clone());
                }
            }
            let context = Context::from_map(context);
            let header = NotificationHeader {
                message_id: message["message_id"].as_str().unwrap(),
                publisher_id: message["publisher_id"].as_str(),
                event_type: message["event_type"].as_str().unwrap(),
                priority: Priority::from_wire(message["priority"].as_str().unwrap()).unwrap(),
                timestamp: message["timestamp"].as_str().unwrap(),
                context: &context,
            };
            let encoded = EncodedNotification::new(&header, &message["payload"]).unwrap();
            let unique_id = message["_unique_id"].as_str().unwrap();
            let ours = if event.get("inner").is_some() {
                encoded.enveloped(unique_id)
            } else {
                encoded.bare(unique_id)
            };
            assert_eq!(String::from_utf8(ours).unwrap(), body, "{title}");
            checked += 1;
        }
        assert!(checked >= 20, "only {checked} captured notifications");
    }

    #[test]
    fn decoding_reads_every_captured_notification() {
        for (title, event) in published() {
            let body = event["body"].as_str().unwrap();
            let n = decode_notification(body.as_bytes()).unwrap();
            let message = &event["message"];
            assert_eq!(
                n.message_id.as_deref(),
                message["message_id"].as_str(),
                "{title}"
            );
            assert_eq!(n.publisher_id.as_deref(), message["publisher_id"].as_str());
            assert_eq!(n.event_type.as_deref(), message["event_type"].as_str());
            assert_eq!(n.timestamp.as_deref(), message["timestamp"].as_str());
            assert_eq!(n.unique_id.as_deref(), message["_unique_id"].as_str());
            assert!(n.priority().is_some());
            let payload: Value = n.payload.deserialize_into().unwrap();
            assert_eq!(payload, message["payload"]);
        }
    }

    #[test]
    fn a_request_context_arrives_as_sent() {
        let (_, event) = published()
            .into_iter()
            .find(|(_, e)| e["message"]["event_type"] == "ctx.request_context")
            .unwrap();
        let n = decode_notification(event["body"].as_str().unwrap().as_bytes()).unwrap();
        assert_eq!(n.context.get_str("user"), Some("u1"));
        assert_eq!(n.context.get("auth_token"), Some(&Value::Null));
        assert_eq!(n.context.get("roles"), Some(&json!(["admin"])));
        assert_eq!(n.context.len(), 17);
    }

    #[test]
    fn missing_and_ill_typed_fields_are_absent_not_errors() {
        let n = decode_notification(br#"{"priority": 7, "payload": [1, NaN]}"#).unwrap();
        assert_eq!(n.priority_name, None);
        assert_eq!(n.event_type, None);
        assert_eq!(n.payload.as_str(), "[1, NaN]");
        let n = decode_notification(br#"{"event_type": "x"}"#).unwrap();
        assert!(n.payload.is_null());
        for bad in [
            &b"not json"[..],
            b"[1]",
            b"{\"oslo.version\": \"3.0\", \"oslo.message\": \"{}\"}",
        ] {
            assert!(decode_notification(bad).is_err());
        }
    }

    #[test]
    fn timestamps_are_pythons_str_of_utcnow() {
        assert_eq!(format_timestamp(0, 0), "1970-01-01 00:00:00");
        // 2026-12-06 16:13:24.477322 UTC, the first captured notification.
        assert_eq!(
            format_timestamp(1_796_573_604, 477_322),
            "2026-12-06 16:13:24.477322"
        );
        assert_eq!(
            format_timestamp(951_782_400, 5),
            "2000-02-29 00:00:00.000005"
        );
        assert_eq!(format_timestamp(4_107_542_399, 0), "2100-02-28 23:59:59");
        let now = utc_timestamp();
        assert!(now.len() == 19 || now.len() == 26, "{now}");
    }
}
