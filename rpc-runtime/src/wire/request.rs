//! Requests (call and cast): the fields, their order and omission rules (spec §3.2), and
//! how a server unpacks them (spec §3.3).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Number, Value};

use super::json::{self, RawJson};
use super::{CodecError, envelope, json_type_name};
use crate::context::{CONTEXT_PREFIX, Context};

/// What the sender of a request writes besides the arguments.
#[derive(Debug, Clone, Copy)]
pub struct RequestHeader<'a> {
    /// The endpoint method.
    pub method: &'a str,
    /// Written only when set (spec §3.2).
    pub namespace: Option<&'a str>,
    /// Written only when set, as given (`"1.3"` or `"1.3.0"`).
    pub version: Option<&'a str>,
    /// Present for calls, absent for casts.
    pub call: Option<CallHeader<'a>>,
    /// A fresh id for every message (spec §8.6).
    pub unique_id: &'a str,
    /// Flattened to `_context_*` keys after `_unique_id`.
    pub context: &'a Context,
}

/// The fields only a call carries.
#[derive(Debug, Clone, Copy)]
pub struct CallHeader<'a> {
    /// The call's id; the reply carries it back.
    pub msg_id: &'a str,
    /// The queue the reply goes to.
    pub reply_q: &'a str,
    /// The call-monitor timeout in seconds (`_timeout`), `null` when unset. Not the
    /// overall timeout (spec §3.2).
    pub call_monitor_timeout: Option<&'a Number>,
}

/// Encodes a request, envelope included. `args` must serialize to a JSON object.
pub fn encode_request<A: Serialize + ?Sized>(
    header: &RequestHeader<'_>,
    args: &A,
) -> Result<Vec<u8>, CodecError> {
    super::with_inner_buffer(|inner| {
        inner.extend_from_slice(b"{\"method\": ");
        json::write_str(inner, header.method);
        inner.extend_from_slice(b", \"args\": ");
        let args_start = inner.len();
        json::to_writer(inner, args)?;
        if inner.get(args_start) != Some(&b'{') {
            return Err(CodecError::malformed(
                "request arguments must be a JSON object",
            ));
        }
        if let Some(namespace) = header.namespace {
            inner.extend_from_slice(b", \"namespace\": ");
            json::write_str(inner, namespace);
        }
        if let Some(version) = header.version {
            inner.extend_from_slice(b", \"version\": ");
            json::write_str(inner, version);
        }
        if let Some(call) = &header.call {
            inner.extend_from_slice(b", \"_msg_id\": ");
            json::write_str(inner, call.msg_id);
            inner.extend_from_slice(b", \"_reply_q\": ");
            json::write_str(inner, call.reply_q);
            inner.extend_from_slice(b", \"_timeout\": ");
            match call.call_monitor_timeout {
                Some(seconds) => json::to_writer(inner, seconds)?,
                None => inner.extend_from_slice(b"null"),
            }
        }
        inner.extend_from_slice(b", \"_unique_id\": ");
        json::write_str(inner, header.unique_id);
        for (key, value) in header.context.iter() {
            // `"_context_<key>": `; the prefix needs no escaping.
            inner.extend_from_slice(b", \"");
            inner.extend_from_slice(CONTEXT_PREFIX.as_bytes());
            json::write_str_contents(inner, key);
            inner.extend_from_slice(b"\": ");
            json::to_writer(inner, value)?;
        }
        inner.push(b'}');
        Ok(envelope::seal_envelope(inner))
    })
}

/// A request as a server receives it, unpacked as in spec §3.3.
///
/// Decoding is lenient about what only the dispatcher can judge: a missing or ill-typed
/// `method`, `args`, `namespace` or `version` is recorded in `problem`, so a caller still
/// gets a failure reply instead of waiting for its timeout.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The method name (empty when `problem` says it is missing).
    pub method: String,
    /// The keyword arguments, each kept as the exact JSON text that was sent.
    pub args: Args,
    /// The namespace; an explicit `null` is the same as absent (spec §6.1).
    pub namespace: Option<String>,
    /// The version as sent; `None` means oslo's default `1.0`.
    pub version: Option<String>,
    /// `_msg_id`: present on calls.
    pub msg_id: Option<String>,
    /// `_reply_q`: present on calls.
    pub reply_q: Option<String>,
    /// `_timeout`: the call-monitor timeout (`None` when absent or `null`).
    pub call_monitor_timeout: Option<Number>,
    /// `_unique_id`, for duplicate detection (spec §8.2).
    pub unique_id: Option<String>,
    /// The `_context_*` keys with the prefix removed, in order.
    pub context: Context,
    /// Why this request cannot be dispatched, when it cannot.
    pub problem: Option<String>,
}

impl Request {
    /// True for a call: it has a `_msg_id` and a `_reply_q` to answer to.
    pub fn is_call(&self) -> bool {
        self.msg_id.is_some() && self.reply_q.is_some()
    }

    /// The call-monitor timeout in seconds, when the caller asked for heartbeats: a
    /// positive, finite number (or a string of an integer, as Python's `int()` reads it).
    /// Anything else (`null`, `0`, `-1`, `"x"`, `true`, `[1]`, `NaN`, `1e400`) asks for
    /// none, and the call is answered all the same, as oslo 18.3.1 does (spec §4.3).
    pub fn call_monitor_seconds(&self) -> Option<f64> {
        self.call_monitor_timeout
            .as_ref()
            .and_then(Number::as_f64)
            .filter(|s| s.is_finite() && *s > 0.0)
    }

    /// The header that re-encodes this request with its own ids.
    pub fn header(&self) -> RequestHeader<'_> {
        RequestHeader {
            method: &self.method,
            namespace: self.namespace.as_deref(),
            version: self.version.as_deref(),
            call: match (&self.msg_id, &self.reply_q) {
                (Some(msg_id), Some(reply_q)) => Some(CallHeader {
                    msg_id,
                    reply_q,
                    call_monitor_timeout: self.call_monitor_timeout.as_ref(),
                }),
                _ => None,
            },
            unique_id: self.unique_id.as_deref().unwrap_or(""),
            context: &self.context,
        }
    }
}

/// Decodes a request body (enveloped or legacy).
pub fn decode_request(body: &[u8]) -> Result<Request, CodecError> {
    let inner = envelope::open_envelope(body)?;
    let request = json::from_str::<RequestFields>(&inner)?.into_request();
    if let std::borrow::Cow::Owned(text) = inner {
        super::recycle(text.into_bytes());
    }
    Ok(request)
}

/// The keyword arguments of a request, in the order they were sent, each as raw JSON so a
/// typed handler decodes it straight into the parameter's type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args {
    entries: Vec<(String, RawJson)>,
}

impl Args {
    /// No arguments.
    pub fn new() -> Self {
        Args::default()
    }

    /// Appends an argument.
    pub fn push(&mut self, name: impl Into<String>, value: RawJson) {
        self.entries.push((name.into(), value));
    }

    /// Removes and returns an argument by name.
    pub fn take(&mut self, name: &str) -> Option<RawJson> {
        let index = self.entries.iter().position(|(n, _)| n == name)?;
        Some(self.entries.remove(index).1)
    }

    /// An argument by name.
    pub fn get(&self, name: &str) -> Option<&RawJson> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Argument names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// Arguments, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &RawJson)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// The number of arguments.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The arguments as a JSON object (non-finite floats become `null` there).
    pub fn to_map(&self) -> Result<Map<String, Value>, CodecError> {
        self.entries
            .iter()
            .map(|(name, raw)| Ok((name.clone(), raw.deserialize_into::<Value>()?)))
            .collect()
    }
}

impl Serialize for Args {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (name, value) in &self.entries {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ArgsVisitor;
        impl<'de> Visitor<'de> for ArgsVisitor {
            type Value = Args;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of keyword arguments")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Args, A::Error> {
                let mut args = Args::new();
                while let Some((name, value)) = map.next_entry::<String, RawJson>()? {
                    args.push(name, value);
                }
                Ok(args)
            }
        }
        deserializer.deserialize_map(ArgsVisitor)
    }
}

/// The raw fields of a request object, before the leniency rules are applied.
#[derive(Default)]
struct RequestFields {
    method: Option<Value>,
    args: Option<ArgsField>,
    namespace: Option<Value>,
    version: Option<Value>,
    msg_id: Option<Value>,
    reply_q: Option<Value>,
    timeout: Option<Value>,
    unique_id: Option<Value>,
    context: Map<String, Value>,
}

/// `args` is normally an object; anything else is kept to be reported.
enum ArgsField {
    Object(Args),
    Other(&'static str),
}

impl<'de> Deserialize<'de> for ArgsField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ArgsFieldVisitor;
        impl<'de> Visitor<'de> for ArgsFieldVisitor {
            type Value = ArgsField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ArgsField, A::Error> {
                Args::deserialize(de::value::MapAccessDeserializer::new(map)).map(ArgsField::Object)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<ArgsField, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ArgsField::Other("an array"))
            }
            fn visit_unit<E>(self) -> Result<ArgsField, E> {
                Ok(ArgsField::Other("null"))
            }
            fn visit_none<E>(self) -> Result<ArgsField, E> {
                Ok(ArgsField::Other("null"))
            }
            fn visit_bool<E>(self, _: bool) -> Result<ArgsField, E> {
                Ok(ArgsField::Other("a boolean"))
            }
            fn visit_i64<E>(self, _: i64) -> Result<ArgsField, E> {
                Ok(ArgsField::Other("a number"))
            }
            fn visit_u64<E>(self, _: u64) -> Result<ArgsField, E> {
                Ok(ArgsField::Other("a number"))
            }
            fn visit_i128<E>(self, _: i128) -> Result<ArgsField, E> {
                Ok(ArgsField::Other("a number"))
            }
            fn visit_u128<E>(self, _: u128) -> Result<ArgsField, E> {
                Ok(ArgsField::Other("a number"))
            }
            fn visit_f64<E>(self, _: f64) -> Result<ArgsField, E> {
                Ok(ArgsField::Other("a number"))
            }
            fn visit_str<E>(self, _: &str) -> Result<ArgsField, E> {
                Ok(ArgsField::Other("a string"))
            }
        }
        deserializer.deserialize_any(ArgsFieldVisitor)
    }
}

impl<'de> Deserialize<'de> for RequestFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RequestVisitor)
    }
}

struct RequestVisitor;

impl<'de> Visitor<'de> for RequestVisitor {
    type Value = RequestFields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a request object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RequestFields, A::Error> {
        let mut fields = RequestFields::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "method" => fields.method = Some(map.next_value()?),
                "args" => fields.args = Some(map.next_value()?),
                "namespace" => fields.namespace = Some(map.next_value()?),
                "version" => fields.version = Some(map.next_value()?),
                "_msg_id" => fields.msg_id = Some(map.next_value()?),
                "_reply_q" => fields.reply_q = Some(map.next_value()?),
                "_timeout" => fields.timeout = Some(map.next_value()?),
                "_unique_id" => fields.unique_id = Some(map.next_value()?),
                other => match other.strip_prefix(CONTEXT_PREFIX) {
                    Some(context_key) => {
                        let value = map.next_value()?;
                        fields.context.insert(context_key.to_owned(), value);
                    }
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                },
            }
        }
        Ok(fields)
    }
}

impl RequestFields {
    fn into_request(self) -> Request {
        let mut problems = Vec::new();
        let method = match self.method {
            Some(Value::String(method)) => method,
            Some(other) => {
                problems.push(format!(
                    "'method' must be a string, got {}",
                    json_type_name(&other)
                ));
                String::new()
            }
            None => {
                problems.push("the request has no 'method'".to_owned());
                String::new()
            }
        };
        let args = match self.args {
            Some(ArgsField::Object(args)) => args,
            Some(ArgsField::Other(kind)) => {
                problems.push(format!("'args' must be an object, got {kind}"));
                Args::new()
            }
            None => Args::new(),
        };
        let namespace = optional_string("namespace", self.namespace, &mut problems);
        let version = optional_string("version", self.version, &mut problems);
        // Ids that are not strings cannot be answered to or matched: treat them as absent.
        let as_id = |value: Option<Value>| match value {
            Some(Value::String(id)) => Some(id),
            _ => None,
        };
        let call_monitor_timeout = match self.timeout {
            Some(Value::Number(n)) => Some(n),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok().map(Number::from),
            _ => None,
        };
        Request {
            method,
            args,
            namespace,
            version,
            msg_id: as_id(self.msg_id),
            reply_q: as_id(self.reply_q),
            call_monitor_timeout,
            unique_id: as_id(self.unique_id),
            context: Context::from_map(self.context),
            problem: (!problems.is_empty()).then(|| problems.join("; ")),
        }
    }
}

fn optional_string(
    field: &str,
    value: Option<Value>,
    problems: &mut Vec<String>,
) -> Option<String> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            problems.push(format!(
                "'{field}' must be a string, got {}",
                json_type_name(&other)
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inner_of(body: &[u8]) -> String {
        envelope::open_envelope(body).unwrap().into_owned()
    }

    #[test]
    fn call_fields_are_written_in_oslo_order() {
        let ctx = Context::new()
            .with("user", "alice")
            .with("request_id", "req-1");
        let timeout = Number::from(2);
        let header = RequestHeader {
            method: "slow",
            namespace: Some("ns2"),
            version: Some("2.0"),
            call: Some(CallHeader {
                msg_id: "m1",
                reply_q: "reply_q1",
                call_monitor_timeout: Some(&timeout),
            }),
            unique_id: "u1",
            context: &ctx,
        };
        let body = encode_request(&header, &json!({"secs": 3})).unwrap();
        assert_eq!(
            inner_of(&body),
            r#"{"method": "slow", "args": {"secs": 3}, "namespace": "ns2", "version": "2.0", "_msg_id": "m1", "_reply_q": "reply_q1", "_timeout": 2, "_unique_id": "u1", "_context_user": "alice", "_context_request_id": "req-1"}"#
        );
    }

    #[test]
    fn casts_omit_call_fields_and_unset_namespace_and_version() {
        let ctx = Context::new();
        let header = RequestHeader {
            method: "echo",
            namespace: None,
            version: None,
            call: None,
            unique_id: "u2",
            context: &ctx,
        };
        let body = encode_request(&header, &json!({})).unwrap();
        assert_eq!(
            inner_of(&body),
            r#"{"method": "echo", "args": {}, "_unique_id": "u2"}"#
        );
    }

    #[test]
    fn non_object_args_are_refused_at_encoding() {
        let ctx = Context::new();
        let header = RequestHeader {
            method: "m",
            namespace: None,
            version: None,
            call: None,
            unique_id: "u",
            context: &ctx,
        };
        assert!(encode_request(&header, &json!([1, 2])).is_err());
    }

    #[test]
    fn decoding_accepts_any_key_order_legacy_and_nan() {
        let legacy = br#"{"_context_user": "bob", "args": {"x": NaN, "y": [1, 2.5]}, "_unique_id": "u", "method": "echo", "_msg_id": "m", "_reply_q": "r", "namespace": null}"#;
        let request = decode_request(legacy).unwrap();
        assert_eq!(request.method, "echo");
        assert_eq!(request.namespace, None);
        assert!(request.is_call());
        assert_eq!(request.context.user_id(), Some("bob"));
        assert_eq!(request.args.get("x").unwrap().as_str(), "NaN");
        assert_eq!(request.args.get("y").unwrap().as_str(), "[1, 2.5]");
        let x: f64 = request.args.get("x").unwrap().deserialize_into().unwrap();
        assert!(x.is_nan());
        assert!(request.problem.is_none());
    }

    #[test]
    fn dispatch_problems_are_recorded_not_fatal() {
        for (body, expected) in [
            (&br#"{"args": {}}"#[..], "no 'method'"),
            (br#"{"method": 7}"#, "'method' must be a string"),
            (
                br#"{"method": "m", "args": null}"#,
                "'args' must be an object, got null",
            ),
            (br#"{"method": "m", "args": [1]}"#, "got an array"),
            (
                br#"{"method": "m", "version": 1.1}"#,
                "'version' must be a string",
            ),
            (
                br#"{"method": "m", "namespace": ["a"]}"#,
                "'namespace' must be a string",
            ),
        ] {
            let request = decode_request(body).unwrap();
            let problem = request.problem.unwrap_or_default();
            assert!(problem.contains(expected), "{problem:?} lacks {expected:?}");
        }
    }

    #[test]
    fn undecodable_requests_are_errors() {
        for body in [
            &b"{"[..],
            b"[]",
            b"null",
            b"{\"method\": \"m\",}",
            b"\xc3\x28",
        ] {
            assert!(
                decode_request(body).is_err(),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn call_monitor_timeout_accepts_numbers_and_numeric_strings() {
        let request = decode_request(br#"{"method": "m", "_timeout": "4"}"#).unwrap();
        assert_eq!(request.call_monitor_seconds(), Some(4.0));
        let request = decode_request(br#"{"method": "m", "_timeout": "soon"}"#).unwrap();
        assert_eq!(request.call_monitor_seconds(), None);
        let request = decode_request(br#"{"method": "m", "_timeout": 0}"#).unwrap();
        assert_eq!(request.call_monitor_seconds(), None);
    }

    /// Every class of `_timeout` value decodes (the call will be answered) and asks for
    /// heartbeats exactly when it is a positive finite number or an integer string, which
    /// is when oslo 18.3.1's watchdog gets an interval out of `int(_timeout) / 2` (spec §4.3).
    #[test]
    fn every_class_of_timeout_value_decodes_and_only_positive_numbers_monitor() {
        for (timeout, expected) in [
            // positive finite numbers, and integer strings as int() reads them
            ("4", Some(4.0)),
            ("2.5", Some(2.5)),
            ("0.5", Some(0.5)),
            ("\"4\"", Some(4.0)),
            ("\" 4 \"", Some(4.0)),
            // too large for any wait: still numbers; the server sends no heartbeat
            ("1e300", Some(1e300)),
            ("18446744073709551616", Some(18446744073709551616.0)),
            // not positive
            ("0", None),
            ("-1", None),
            ("-1e300", None),
            // not finite: Python's reader makes 1e400 infinity
            ("1e400", None),
            ("-1e400", None),
            ("NaN", None),
            ("Infinity", None),
            ("-Infinity", None),
            // not a number
            ("null", None),
            ("\"x\"", None),
            ("\"4.5\"", None),
            ("\"\"", None),
            ("true", None),
            ("false", None),
            ("[1]", None),
            ("{\"a\": 1}", None),
        ] {
            let body = format!(
                r#"{{"method": "m", "_msg_id": "i", "_reply_q": "q", "_timeout": {timeout}}}"#
            );
            let request = decode_request(body.as_bytes())
                .unwrap_or_else(|e| panic!("_timeout {timeout} must decode: {e}"));
            assert!(request.is_call() && request.problem.is_none(), "{timeout}");
            assert_eq!(request.call_monitor_seconds(), expected, "{timeout}");
        }
    }
}
