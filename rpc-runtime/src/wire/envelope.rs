//! The outer layer: `{"oslo.version": "2.0", "oslo.message": "<inner JSON as a string>"}`
//! (spec §3.1), and the legacy non-enveloped form that is still accepted.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::CodecError;
use super::json;
use crate::version::RpcVersion;

/// The envelope version this peer writes and serves.
pub const ENVELOPE_VERSION: RpcVersion = RpcVersion::new(2, 0);

const VERSION_KEY: &str = "oslo.version";
const MESSAGE_KEY: &str = "oslo.message";
/// How every envelope begins as kombu and this peer write it (spec §3.1): version 2.0
/// first, then the message string.
const CANONICAL_START: &str = "{\"oslo.version\": \"2.0\", \"oslo.message\": ";

/// Wraps an encoded inner message (pure ASCII, as our encoder writes it) in the envelope.
pub fn seal_envelope(inner: &[u8]) -> Vec<u8> {
    // The inner message is ASCII, so escaping it as a string only doubles `"` and `\`;
    // reserve for that plus the fixed prefix and suffix.
    let mut out = super::take_buffer(inner.len() + inner.len() / 4 + 48);
    out.extend_from_slice(CANONICAL_START.as_bytes());
    out.push(b'"');
    // Printable ASCII needs no UTF-8 validation pass before it is escaped.
    if !json::write_ascii_str_contents(&mut out, inner) {
        // Unreachable with our encoder; take the general path without panicking.
        out.truncate(CANONICAL_START.len() + 1);
        json::write_str_contents(&mut out, &String::from_utf8_lossy(inner));
    }
    out.extend_from_slice(b"\"}");
    out
}

/// Starts a body whose message is then written straight into its `oslo.message` string,
/// already escaped (`json::to_writer_escaped`, `json::write_str_escaped`): the bytes
/// [`seal_envelope`] makes of the same message, without writing it twice. `capacity` is
/// for the escaped message; [`close_body`] ends the envelope.
pub(crate) fn open_body(capacity: usize) -> Vec<u8> {
    let mut out = super::take_buffer(capacity + CANONICAL_START.len() + 3);
    out.extend_from_slice(CANONICAL_START.as_bytes());
    out.push(b'"');
    out
}

/// Ends a body begun with [`open_body`].
pub(crate) fn close_body(out: &mut Vec<u8>) {
    out.extend_from_slice(b"\"}");
}

/// Returns the inner message text of a body: the `oslo.message` string of an envelope
/// whose version is compatible with 2.0, or the body itself when it is a legacy dict.
pub fn open_envelope(body: &[u8]) -> Result<Cow<'_, str>, CodecError> {
    open_message(body).map(|(text, _)| text)
}

/// [`open_envelope`], with the long runs of a decoded message that hold no `"`, `\` or
/// control character (found while decoding it), for its parse to take as they are.
pub(crate) fn open_message(body: &[u8]) -> Result<(Cow<'_, str>, json::PlainRuns), CodecError> {
    let text = std::str::from_utf8(body).map_err(|_| CodecError::NotUtf8)?;
    if let Some((message, runs)) = canonical_message(text) {
        return Ok((Cow::Owned(message), runs));
    }
    let outer: Outer = json::from_str(text)?;
    match outer {
        Outer::Enveloped { version, message } => {
            let compatible = RpcVersion::parse(&version)
                .map(|v| ENVELOPE_VERSION.can_serve(&v))
                .unwrap_or(false);
            if !compatible {
                return Err(CodecError::EnvelopeVersion(version));
            }
            Ok((Cow::Owned(message), json::PlainRuns::default()))
        }
        Outer::Legacy => Ok((Cow::Borrowed(text), json::PlainRuns::default())),
    }
}

/// The message of an envelope written exactly as oslo writes it, decoded straight into a
/// string of the right capacity; `None` for any other body, which the general parser then
/// reads with the same outcome (any key order, other versions, errors).
fn canonical_message(text: &str) -> Option<(String, json::PlainRuns)> {
    if !text.starts_with(CANONICAL_START) {
        return None;
    }
    let (message, runs, rest) = json::owned_str_at(text, CANONICAL_START.len()).ok()?;
    let end = rest.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
    (end == "}").then_some((message, runs))
}

/// What the outer JSON object turned out to be.
enum Outer {
    Enveloped { version: String, message: String },
    Legacy,
}

impl<'de> Deserialize<'de> for Outer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(OuterVisitor)
    }
}

struct OuterVisitor;

impl<'de> Visitor<'de> for OuterVisitor {
    type Value = Outer;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object (an oslo envelope or a legacy message)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Outer, A::Error> {
        let mut version: Option<serde_json::Value> = None;
        let mut message: Option<serde_json::Value> = None;
        while let Some(json::Key(key)) = map.next_key()? {
            match key.as_ref() {
                VERSION_KEY => version = Some(map.next_value()?),
                // A legacy message is read again as a whole later; only an envelope's
                // message is needed here.
                MESSAGE_KEY => message = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        // oslo treats a dict as an envelope only when it has both keys (spec §3.1).
        match (version, message) {
            (Some(version), Some(message)) => {
                let version = match version {
                    serde_json::Value::String(v) => v,
                    other => {
                        return Err(de::Error::custom(format!(
                            "envelope version must be a string, got {}",
                            super::json_type_name(&other)
                        )));
                    }
                };
                let message = match message {
                    serde_json::Value::String(m) => m,
                    other => {
                        return Err(de::Error::custom(format!(
                            "envelope message must be a JSON string, got {}",
                            super::json_type_name(&other)
                        )));
                    }
                };
                Ok(Outer::Enveloped { version, message })
            }
            _ => Ok(Outer::Legacy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_gives_the_inner_message_back() {
        let inner = br#"{"method": "echo", "args": {"s": "a\"b\\c"}}"#;
        let body = seal_envelope(inner);
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"oslo.version": "2.0", "oslo.message": "{\"method\": \"echo\", \"args\": {\"s\": \"a\\\"b\\\\c\"}}"}"#
        );
        assert_eq!(open_envelope(&body).unwrap().as_bytes(), inner);
    }

    #[test]
    fn legacy_dicts_pass_through_and_key_order_does_not_matter() {
        let legacy = br#"{"method": "ping", "args": {}}"#;
        assert_eq!(open_envelope(legacy).unwrap().as_bytes(), legacy);
        let reordered = br#"{"oslo.message": "{}", "x": [1, NaN], "oslo.version": "2.0"}"#;
        assert_eq!(open_envelope(reordered).unwrap(), "{}");
        // Only one of the two keys: still a legacy message (spec §3.1).
        let half = br#"{"oslo.version": "2.0", "method": "m"}"#;
        assert!(matches!(open_envelope(half).unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn incompatible_or_malformed_envelopes_are_typed_errors() {
        for (body, expect_version) in [
            (
                &br#"{"oslo.version": "3.0", "oslo.message": "{}"}"#[..],
                Some("3.0"),
            ),
            (
                br#"{"oslo.version": "2.1", "oslo.message": "{}"}"#,
                Some("2.1"),
            ),
            (br#"{"oslo.version": "2", "oslo.message": "{}"}"#, Some("2")),
            (br#"{"oslo.version": 2.0, "oslo.message": "{}"}"#, None),
            (br#"{"oslo.version": "2.0", "oslo.message": {}}"#, None),
            (br#"[1, 2]"#, None),
            (br#""text""#, None),
            (br#"{"oslo.version": "2.0", "oslo.message": "{}""#, None),
            (b"\xff\xfe", None),
            (b"", None),
        ] {
            match (open_envelope(body), expect_version) {
                (Err(CodecError::EnvelopeVersion(v)), Some(expected)) => assert_eq!(v, expected),
                (Err(CodecError::EnvelopeVersion(v)), None) => panic!("unexpected version {v}"),
                (Err(_), None) => {}
                (other, _) => panic!("{:?} -> {other:?}", String::from_utf8_lossy(body)),
            }
        }
    }

    #[test]
    fn the_canonical_fast_path_reads_like_the_general_parser() {
        // Bodies that start like oslo's envelope but are decided by the general parser
        // (spec §3.1): what follows the message, escapes of every kind, errors.
        for (body, inner) in [
            (
                &br#"{"oslo.version": "2.0", "oslo.message": "{\"a\": \"\\\\ \/ \u00e9 \n\"}"}"#[..],
                Some("{\"a\": \"\\\\ / \u{e9} \n\"}"),
            ),
            (
                br#"{"oslo.version": "2.0", "oslo.message": "{}" }  "#,
                Some("{}"),
            ),
            (
                br#"{"oslo.version": "2.0", "oslo.message": "{}", "oslo.message": "[]"}"#,
                Some("[]"),
            ),
            (br#"{"oslo.version": "2.0", "oslo.message": "x\"}"#, None),
            (br#"{"oslo.version": "2.0", "oslo.message": "{}"} x"#, None),
            (br#"{"oslo.version": "2.0", "oslo.message": {}}"#, None),
        ] {
            let opened = open_envelope(body);
            match inner {
                Some(inner) => {
                    assert_eq!(opened.unwrap(), inner, "{}", String::from_utf8_lossy(body))
                }
                None => assert!(opened.is_err(), "{}", String::from_utf8_lossy(body)),
            }
        }
    }

    #[test]
    fn revisions_of_2_0_are_accepted() {
        let body = br#"{"oslo.version": "2.0.0", "oslo.message": "{}"}"#;
        assert_eq!(open_envelope(body).unwrap(), "{}");
    }
}
