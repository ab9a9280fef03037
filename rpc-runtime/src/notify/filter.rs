//! `NotificationFilter` (notify §2.6): which notifications an endpoint receives, by regular
//! expressions on the publisher id, the event type, and keys of the context, the metadata
//! and the payload.

use regex::Regex;
use serde_json::Value;

use super::message::RawNotification;
use crate::error::RpcError;

/// Selects the notifications an endpoint is given, like oslo's `NotificationFilter`.
///
/// Each pattern must match at the start of its value (Python's `re.match`; add `$` to match
/// the whole value). A key pattern needs the key present with a string value. Every given
/// pattern must match. Patterns use the `regex` crate's syntax: what oslo users write works,
/// look-around and back-references do not.
///
/// ```
/// use oslo_rpc_runtime::notify::NotificationFilter;
///
/// let filter = NotificationFilter::new()
///     .publisher_id("^compute")?
///     .event_type(r"^compute\.instance\..*\.end$")?
///     .payload("state", "^active$")?;
/// # Ok::<(), oslo_rpc_runtime::RpcError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    publisher_id: Option<Regex>,
    event_type: Option<Regex>,
    context: Vec<(String, Regex)>,
    metadata: Vec<(String, Regex)>,
    payload: Vec<(String, Regex)>,
}

fn compile(what: &str, pattern: &str) -> Result<Regex, RpcError> {
    // Anchored at the start only, as re.match is.
    Regex::new(&format!(r"\A(?:{pattern})")).map_err(|error| {
        RpcError::InvalidArgument(format!(
            "notification filter: {what} pattern {pattern:?} is not a valid regular expression: {error}"
        ))
    })
}

impl NotificationFilter {
    /// A filter that lets everything through.
    pub fn new() -> Self {
        NotificationFilter::default()
    }

    /// Requires the publisher id to match `pattern`.
    pub fn publisher_id(mut self, pattern: &str) -> Result<Self, RpcError> {
        self.publisher_id = Some(compile("publisher_id", pattern)?);
        Ok(self)
    }

    /// Requires the event type to match `pattern`.
    pub fn event_type(mut self, pattern: &str) -> Result<Self, RpcError> {
        self.event_type = Some(compile("event_type", pattern)?);
        Ok(self)
    }

    /// Requires the context key `key` to be a string matching `pattern`. A Python notifier
    /// sends no context for a plain dict (notify §1.4), so this never matches those.
    pub fn context(mut self, key: &str, pattern: &str) -> Result<Self, RpcError> {
        let regex = compile(&format!("context {key:?}"), pattern)?;
        self.context.push((key.to_owned(), regex));
        Ok(self)
    }

    /// Requires the metadata key (`message_id` or `timestamp`) to match `pattern`.
    pub fn metadata(mut self, key: &str, pattern: &str) -> Result<Self, RpcError> {
        let regex = compile(&format!("metadata {key:?}"), pattern)?;
        self.metadata.push((key.to_owned(), regex));
        Ok(self)
    }

    /// Requires the payload to be an object whose key `key` is a string matching `pattern`.
    pub fn payload(mut self, key: &str, pattern: &str) -> Result<Self, RpcError> {
        let regex = compile(&format!("payload {key:?}"), pattern)?;
        self.payload.push((key.to_owned(), regex));
        Ok(self)
    }

    /// Whether the notification passes.
    pub fn matches(&self, notification: &RawNotification) -> bool {
        let single = |regex: &Option<Regex>, value: Option<&str>| match regex {
            None => true,
            Some(regex) => value.is_some_and(|v| regex.is_match(v)),
        };
        if !single(&self.publisher_id, notification.publisher_id.as_deref())
            || !single(&self.event_type, notification.event_type.as_deref())
        {
            return false;
        }
        if !keyed(&self.context, |key| notification.context.get_str(key)) {
            return false;
        }
        let metadata = |key: &str| match key {
            "message_id" => notification.message_id.as_deref(),
            "timestamp" => notification.timestamp.as_deref(),
            _ => None,
        };
        if !keyed(&self.metadata, metadata) {
            return false;
        }
        if self.payload.is_empty() {
            return true;
        }
        // Parsed only for payload patterns; a payload that is not an object mismatches.
        let Ok(Value::Object(payload)) = notification.payload.deserialize_into::<Value>() else {
            return false;
        };
        keyed(&self.payload, |key| {
            payload.get(key).and_then(Value::as_str)
        })
    }
}

/// Every `(key, pattern)` matches the string value `lookup` finds for the key.
fn keyed<'v>(patterns: &[(String, Regex)], lookup: impl Fn(&str) -> Option<&'v str>) -> bool {
    patterns
        .iter()
        .all(|(key, regex)| lookup(key).is_some_and(|v| regex.is_match(v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::message::decode_notification;

    fn notification(body: &str) -> RawNotification {
        decode_notification(body.as_bytes()).unwrap()
    }

    #[test]
    fn patterns_match_at_the_start_like_re_match() {
        let n = notification(
            r#"{"publisher_id": "compute.host1", "event_type": "compute.instance.create.end", "priority": "INFO", "payload": {"state": "active", "n": 1}, "message_id": "m-1", "timestamp": "2026-12-06 16:13:24", "_context_user": "alice", "_context_roles": ["admin"]}"#,
        );
        let pass = |f: NotificationFilter| f.matches(&n);
        assert!(pass(NotificationFilter::new()));
        assert!(pass(
            NotificationFilter::new().publisher_id("compute").unwrap()
        ));
        assert!(
            !pass(NotificationFilter::new().publisher_id("host1").unwrap()),
            "anchored"
        );
        assert!(pass(
            NotificationFilter::new()
                .event_type(r"compute\.instance")
                .unwrap()
        ));
        assert!(!pass(
            NotificationFilter::new().event_type(r"^compute$").unwrap()
        ));
        assert!(pass(
            NotificationFilter::new().context("user", "^al").unwrap()
        ));
        assert!(
            !pass(NotificationFilter::new().context("roles", ".").unwrap()),
            "not a string"
        );
        assert!(!pass(
            NotificationFilter::new().context("missing", ".*").unwrap()
        ));
        assert!(pass(
            NotificationFilter::new()
                .metadata("timestamp", "^2026")
                .unwrap()
        ));
        assert!(pass(
            NotificationFilter::new()
                .metadata("message_id", "m-")
                .unwrap()
        ));
        assert!(pass(
            NotificationFilter::new()
                .payload("state", "^active$")
                .unwrap()
        ));
        assert!(
            !pass(NotificationFilter::new().payload("n", ".*").unwrap()),
            "not a string"
        );
        let both = NotificationFilter::new()
            .publisher_id("^compute")
            .unwrap()
            .payload("state", "^stopped$")
            .unwrap();
        assert!(!pass(both), "every pattern must match");
    }

    #[test]
    fn missing_fields_and_non_object_payloads_mismatch() {
        let n = notification(r#"{"priority": "INFO", "payload": "active"}"#);
        assert!(
            !NotificationFilter::new()
                .event_type(".*")
                .unwrap()
                .matches(&n)
        );
        assert!(
            !NotificationFilter::new()
                .publisher_id("")
                .unwrap()
                .matches(&n)
        );
        assert!(
            !NotificationFilter::new()
                .payload("state", ".*")
                .unwrap()
                .matches(&n)
        );
    }

    #[test]
    fn bad_patterns_are_errors_naming_them() {
        let error = NotificationFilter::new().event_type("(").unwrap_err();
        assert!(
            error.to_string().contains("event_type pattern \"(\""),
            "{error}"
        );
    }
}
