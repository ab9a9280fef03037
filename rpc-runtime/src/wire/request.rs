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
///
/// The message is written once, straight into the envelope's string in its escaped form:
/// the same bytes as encoding it and then sealing it (spec §3.1).
pub fn encode_request<A: Serialize + ?Sized>(
    header: &RequestHeader<'_>,
    args: &A,
) -> Result<Vec<u8>, CodecError> {
    // Each fragment below is the escaped form of the text the comment shows.
    let mut out = envelope::open_body(request_capacity());
    // `{"method": `
    out.extend_from_slice(br#"{\"method\": "#);
    json::write_str_escaped(&mut out, header.method);
    // `, "args": `
    out.extend_from_slice(br#", \"args\": "#);
    let args_start = out.len();
    json::to_writer_escaped(&mut out, args)?;
    if out.get(args_start) != Some(&b'{') {
        return Err(CodecError::malformed(
            "request arguments must be a JSON object",
        ));
    }
    if let Some(namespace) = header.namespace {
        out.extend_from_slice(br#", \"namespace\": "#);
        json::write_str_escaped(&mut out, namespace);
    }
    if let Some(version) = header.version {
        out.extend_from_slice(br#", \"version\": "#);
        json::write_str_escaped(&mut out, version);
    }
    if let Some(call) = &header.call {
        out.extend_from_slice(br#", \"_msg_id\": "#);
        json::write_str_escaped(&mut out, call.msg_id);
        out.extend_from_slice(br#", \"_reply_q\": "#);
        json::write_str_escaped(&mut out, call.reply_q);
        out.extend_from_slice(br#", \"_timeout\": "#);
        match call.call_monitor_timeout {
            Some(seconds) => json::to_writer_escaped(&mut out, seconds)?,
            None => out.extend_from_slice(b"null"),
        }
    }
    out.extend_from_slice(br#", \"_unique_id\": "#);
    json::write_str_escaped(&mut out, header.unique_id);
    for (key, value) in header.context.iter() {
        // `, "_context_<key>": `; the prefix needs no escaping.
        out.extend_from_slice(br#", \""#);
        out.extend_from_slice(CONTEXT_PREFIX.as_bytes());
        json::write_str_contents_escaped(&mut out, key);
        out.extend_from_slice(br#"\": "#);
        json::to_writer_escaped(&mut out, value)?;
    }
    out.push(b'}');
    envelope::close_body(&mut out);
    remember_request_len(out.len());
    Ok(out)
}

thread_local! {
    /// The length of the last request body this thread encoded: the next one is given room
    /// for as much, so a large message is not regrown (and copied) step by step.
    static LAST_REQUEST_LEN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The largest body length remembered for the next request: bounds what a small request
/// reserves after a huge one.
const REQUEST_HINT_MAX: usize = 256 * 1024;

fn request_capacity() -> usize {
    LAST_REQUEST_LEN
        .try_with(std::cell::Cell::get)
        .unwrap_or(0)
        .clamp(384, REQUEST_HINT_MAX)
}

fn remember_request_len(len: usize) {
    let _ = LAST_REQUEST_LEN.try_with(|last| last.set(len + len / 16));
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
    // An envelope's message is decoded into a text of its own, which the arguments share.
    let (text, runs) = envelope::open_message(body)?;
    let fields = match text {
        Cow::Owned(text) => {
            json::from_shared::<RequestFields>(&json::SharedText::with_plain_runs(text, runs))?
        }
        Cow::Borrowed(text) => json::from_str::<RequestFields>(text)?,
    };
    Ok(fields.into_request())
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
        while let Some(json::Key(key)) = map.next_key()? {
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
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    fn inner_of(body: &[u8]) -> String {
        envelope::open_envelope(body).unwrap().into_owned()
    }

    /// A cast of method `m` with no namespace or version.
    fn plain_cast(ctx: &Context) -> RequestHeader<'_> {
        RequestHeader {
            method: "m",
            namespace: None,
            version: None,
            call: None,
            unique_id: "u",
            context: ctx,
        }
    }

    /// The two-pass encoding the one-pass writer replaced: the inner message first, then
    /// sealed in the envelope.
    pub(crate) fn two_pass(header: &RequestHeader<'_>, args: &Value) -> Vec<u8> {
        let mut inner = Vec::new();
        inner.extend_from_slice(b"{\"method\": ");
        json::write_str(&mut inner, header.method);
        inner.extend_from_slice(b", \"args\": ");
        json::to_writer(&mut inner, args).unwrap();
        if let Some(namespace) = header.namespace {
            inner.extend_from_slice(b", \"namespace\": ");
            json::write_str(&mut inner, namespace);
        }
        if let Some(version) = header.version {
            inner.extend_from_slice(b", \"version\": ");
            json::write_str(&mut inner, version);
        }
        if let Some(call) = &header.call {
            inner.extend_from_slice(b", \"_msg_id\": ");
            json::write_str(&mut inner, call.msg_id);
            inner.extend_from_slice(b", \"_reply_q\": ");
            json::write_str(&mut inner, call.reply_q);
            inner.extend_from_slice(b", \"_timeout\": ");
            match call.call_monitor_timeout {
                Some(seconds) => json::to_writer(&mut inner, seconds).unwrap(),
                None => inner.extend_from_slice(b"null"),
            }
        }
        inner.extend_from_slice(b", \"_unique_id\": ");
        json::write_str(&mut inner, header.unique_id);
        for (key, value) in header.context.iter() {
            inner.extend_from_slice(b", \"");
            inner.extend_from_slice(CONTEXT_PREFIX.as_bytes());
            json::write_str_contents(&mut inner, key);
            inner.extend_from_slice(b"\": ");
            json::to_writer(&mut inner, value).unwrap();
        }
        inner.push(b'}');
        envelope::seal_envelope(&inner)
    }

    /// Text that every escape path meets: quotes, backslashes, controls, DEL, non-ASCII,
    /// characters above U+FFFF, `/`, and a long plain run.
    pub(crate) const TRICKY: &[&str] = &[
        "",
        "plain",
        "q\"uote",
        "back\\slash\\",
        "\"\\\"\\",
        "/slash/",
        "new\nline\r\t\u{8}\u{c}",
        "\u{0}\u{1f}\u{7f}",
        "caf\u{e9} \u{2028} \u{ffff}",
        "\u{1f600}\u{10ffff}",
        "{\"not\": \"json\"}",
    ];

    #[test]
    fn one_pass_requests_are_the_sealed_two_pass_bytes() {
        let long = "x".repeat(70_000);
        let timeout = Number::from_f64(2.5).unwrap();
        let mut texts: Vec<&str> = TRICKY.to_vec();
        texts.push(&long);
        for (i, text) in texts.iter().enumerate() {
            let ctx = Context::new()
                .with(*text, *text)
                .with("n", json!([1, -2, 1.5e-7, 1e16, null, true]))
                .with("o", json!({ *text: { "k": [*text] } }));
            let number = Number::from(i);
            let calls = [
                None,
                Some(CallHeader {
                    msg_id: text,
                    reply_q: "reply_q",
                    call_monitor_timeout: None,
                }),
                Some(CallHeader {
                    msg_id: "m",
                    reply_q: text,
                    call_monitor_timeout: Some(if i % 2 == 0 { &timeout } else { &number }),
                }),
            ];
            for call in calls {
                let header = RequestHeader {
                    method: text,
                    namespace: (i % 2 == 0).then_some(*text),
                    version: (i % 3 == 0).then_some(*text),
                    call,
                    unique_id: text,
                    context: &ctx,
                };
                let args = json!({ *text: *text, "list": [*text, {"x": *text}], "f": 0.1 });
                let body = encode_request(&header, &args).unwrap();
                assert_eq!(
                    String::from_utf8(body).unwrap(),
                    String::from_utf8(two_pass(&header, &args)).unwrap(),
                    "{text:?}"
                );
            }
        }
    }

    #[test]
    fn one_pass_requests_write_keys_and_raw_values_as_sealed() {
        use std::collections::BTreeMap;
        let ctx = Context::new();
        let header = plain_cast(&ctx);
        // Non-string keys, a float key, raw JSON with whitespace and raw non-ASCII text.
        let mut numbered = BTreeMap::new();
        numbered.insert(-3_i64, "a\"b");
        numbered.insert(7, "\u{e9}");
        let raw =
            RawJson::from_string("[1,\n\t\"caf\u{e9} \\\" \u{1f600}\", NaN]".to_owned()).unwrap();
        #[derive(serde::Serialize)]
        enum Shape {
            Unit,
            New(&'static str),
            Tuple(u8, &'static str),
            Struct { q: &'static str },
        }
        let args = (
            ("numbered", numbered),
            ("raw", raw),
            (
                "shapes",
                [
                    Shape::Unit,
                    Shape::New("\""),
                    Shape::Tuple(1, "\\"),
                    Shape::Struct { q: "\u{7f}" },
                ],
            ),
            ("char", '"'),
            ("bytes", serde_bytes_like(b"\"\\")),
        );
        let body = encode_request(&header, &ArgsOf(&args)).unwrap();
        let inner_args = json::to_string(&ArgsOf(&args)).unwrap();
        let mut inner = Vec::new();
        inner.extend_from_slice(b"{\"method\": \"m\", \"args\": ");
        inner.extend_from_slice(inner_args.as_bytes());
        inner.extend_from_slice(b", \"_unique_id\": \"u\"}");
        assert_eq!(
            String::from_utf8(body).unwrap(),
            String::from_utf8(envelope::seal_envelope(&inner)).unwrap()
        );
    }

    /// Bytes, serialized as serde's `serialize_bytes` (an array of numbers here).
    fn serde_bytes_like(bytes: &'static [u8]) -> impl Serialize {
        struct Bytes(&'static [u8]);
        impl Serialize for Bytes {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_bytes(self.0)
            }
        }
        Bytes(bytes)
    }

    /// Pairs of (name, value) written as an object, keys in order.
    struct ArgsOf<'a, T>(&'a T);

    impl<A: Serialize, B: Serialize, C: Serialize, D: Serialize, E: Serialize> Serialize
        for ArgsOf<'_, ((&str, A), (&str, B), (&str, C), (&str, D), (&str, E))>
    {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let (a, b, c, d, e) = self.0;
            let mut map = serializer.serialize_map(Some(5))?;
            map.serialize_entry(a.0, &a.1)?;
            map.serialize_entry(b.0, &b.1)?;
            map.serialize_entry(c.0, &c.1)?;
            map.serialize_entry(d.0, &d.1)?;
            map.serialize_entry(e.0, &e.1)?;
            map.end()
        }
    }

    #[test]
    fn enveloped_arguments_share_the_message_text_legacy_ones_are_copied() {
        let ctx = Context::new();
        let header = plain_cast(&ctx);
        let args = json!({"a": "x\"y\u{e9}", "b": [1, {"c": null}], "n": 1.5});
        let request = decode_request(&encode_request(&header, &args).unwrap()).unwrap();
        for (name, raw) in request.args.iter() {
            assert!(raw.is_shared(), "{name}");
        }
        assert_eq!(request.args.get("a").unwrap().as_str(), r#""x\"y\u00e9""#);
        assert_eq!(request.args.to_map().unwrap(), *args.as_object().unwrap());
        // Values outlive the request and one another; clones compare by text.
        let b = request.args.get("b").unwrap().clone();
        drop(request);
        assert_eq!(
            b,
            RawJson::from_string("[1, {\"c\": null}]".to_owned()).unwrap()
        );
        assert_eq!(b.clone().into_string(), r#"[1, {"c": null}]"#);
        // A legacy body is decoded where it lies: its values are copies.
        let legacy = decode_request(br#"{"method": "m", "args": {"a": [1]}}"#).unwrap();
        assert!(!legacy.args.get("a").unwrap().is_shared());
        // Text decoded outside a message is never shared.
        let raw: RawJson = json::from_str("[2]").unwrap();
        assert!(!raw.is_shared());
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
        let header = plain_cast(&ctx);
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
    fn keys_with_escapes_are_read_like_plain_ones() {
        let body = br#"{"\u006dethod": "echo", "args": {"\u0078": 1}, "_context_\u0075ser": "bob", "_msg_id": "m", "_reply_\u0071": "r"}"#;
        let request = decode_request(body).unwrap();
        assert_eq!(request.method, "echo");
        assert_eq!(request.args.get("x").unwrap().as_str(), "1");
        assert_eq!(request.context.user_id(), Some("bob"));
        assert!(request.is_call());
        let reply =
            crate::wire::decode_reply(br#"{"res\u0075lt": 2, "\u0065nding": true}"#).unwrap();
        assert_eq!(reply.result.as_str(), "2");
        assert!(reply.is_ending());
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
