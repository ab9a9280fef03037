//! Replies and call-monitor heartbeats (spec §4.1, §4.3): one final reply per call,
//! `{"result", "failure", "ending", "_msg_id", "_unique_id"}`, to the caller's reply queue.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use super::json::{self, RawJson};
use super::{CodecError, envelope, json_type_name};

/// Encodes a reply, envelope included.
///
/// `result` is the already-encoded return value (`None` writes `null`); `failure` is the
/// failure JSON text from [`encode_failure`](super::encode_failure), written as a JSON
/// *string* as oslo requires; `ending` is false only for heartbeats.
///
/// The message is written once, straight into the envelope's string in its escaped form:
/// the same bytes as encoding it and then sealing it (spec §3.1).
pub fn encode_reply(
    result: Option<&RawJson>,
    failure: Option<&str>,
    ending: bool,
    msg_id: &str,
    unique_id: &str,
) -> Vec<u8> {
    let result_len = result.map_or(4, |raw| raw.as_str().len());
    let failure_len = failure.map_or(4, |text| text.len() + text.len() / 2);
    let mut out = envelope::open_body(
        result_len + result_len / 16 + failure_len + msg_id.len() + unique_id.len() + 112,
    );
    // Each fragment below is the escaped form of the text the comment shows.
    // `{"result": `
    out.extend_from_slice(br#"{\"result\": "#);
    match result {
        Some(raw) => json::write_str_contents(&mut out, raw.as_str()),
        None => out.extend_from_slice(b"null"),
    }
    // `, "failure": `
    out.extend_from_slice(br#", \"failure\": "#);
    match failure {
        Some(text) => json::write_str_escaped(&mut out, text),
        None => out.extend_from_slice(b"null"),
    }
    // `, "ending": true, "_msg_id": `
    out.extend_from_slice(if ending {
        br#", \"ending\": true, \"_msg_id\": "#
    } else {
        br#", \"ending\": false, \"_msg_id\": "#
    });
    json::write_str_escaped(&mut out, msg_id);
    // `, "_unique_id": `
    out.extend_from_slice(br#", \"_unique_id\": "#);
    json::write_str_escaped(&mut out, unique_id);
    out.push(b'}');
    envelope::close_body(&mut out);
    out
}

/// A reply as a client receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The return value as raw JSON (`null` when absent).
    pub result: RawJson,
    /// The failure, when the call raised.
    pub failure: FailureField,
    /// `ending`; `None` when absent (the first message of the legacy two-message pattern,
    /// spec §4.2). Non-boolean values are read with Python truthiness.
    pub ending: Option<bool>,
    /// The call this reply answers.
    pub msg_id: Option<String>,
    /// The reply's own id.
    pub unique_id: Option<String>,
}

impl Reply {
    /// True for the final reply of a call.
    pub fn is_ending(&self) -> bool {
        self.ending.unwrap_or(false)
    }

    /// True for a call-monitor heartbeat: no result, no failure, not ending (spec §4.3).
    pub fn is_heartbeat(&self) -> bool {
        !self.is_ending() && self.result.is_null() && matches!(self.failure, FailureField::None)
    }
}

/// The `failure` field of a reply.
#[derive(Debug, Clone, PartialEq)]
pub enum FailureField {
    /// `null` or absent (absent is treated as null, unlike oslo's KeyError; spec §4.4).
    None,
    /// The failure JSON text, to be read with [`decode_failure`](super::decode_failure).
    Json(String),
    /// Something other than a string (oslo requires a string; spec §10.2 bug 12).
    NotAString(&'static str),
}

/// Decodes a reply body (enveloped or legacy).
pub fn decode_reply(body: &[u8]) -> Result<Reply, CodecError> {
    // An envelope's message is decoded into a text of its own, which the result shares.
    match envelope::open_envelope(body)? {
        Cow::Owned(text) => Ok(json::from_shared::<Reply>(&json::SharedText::new(text))?),
        Cow::Borrowed(text) => Ok(json::from_str::<Reply>(text)?),
    }
}

impl<'de> Deserialize<'de> for Reply {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ReplyVisitor)
    }
}

struct ReplyVisitor;

impl<'de> Visitor<'de> for ReplyVisitor {
    type Value = Reply;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a reply object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Reply, A::Error> {
        let mut reply = Reply {
            result: RawJson::null(),
            failure: FailureField::None,
            ending: None,
            msg_id: None,
            unique_id: None,
        };
        while let Some(json::Key(key)) = map.next_key()? {
            match key.as_ref() {
                "result" => reply.result = map.next_value()?,
                "failure" => {
                    reply.failure = match map.next_value::<Value>()? {
                        Value::Null => FailureField::None,
                        Value::String(text) => FailureField::Json(text),
                        other => FailureField::NotAString(json_type_name(&other)),
                    }
                }
                "ending" => reply.ending = Some(python_truth(&map.next_value::<Value>()?)),
                "_msg_id" => reply.msg_id = string_or_none(map.next_value()?),
                "_unique_id" => reply.unique_id = string_or_none(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(reply)
    }
}

fn string_or_none(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// Python's `bool(value)` for a JSON value.
fn python_truth(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inner(body: &[u8]) -> String {
        envelope::open_envelope(body).unwrap().into_owned()
    }

    /// The two-pass encoding the one-pass writer replaced.
    fn two_pass(
        result: Option<&RawJson>,
        failure: Option<&str>,
        ending: bool,
        msg_id: &str,
        unique_id: &str,
    ) -> Vec<u8> {
        let mut inner = Vec::new();
        inner.extend_from_slice(b"{\"result\": ");
        match result {
            Some(raw) => inner.extend_from_slice(raw.as_str().as_bytes()),
            None => inner.extend_from_slice(b"null"),
        }
        inner.extend_from_slice(b", \"failure\": ");
        match failure {
            Some(text) => json::write_str(&mut inner, text),
            None => inner.extend_from_slice(b"null"),
        }
        inner.extend_from_slice(if ending {
            b", \"ending\": true, \"_msg_id\": "
        } else {
            b", \"ending\": false, \"_msg_id\": "
        });
        json::write_str(&mut inner, msg_id);
        inner.extend_from_slice(b", \"_unique_id\": ");
        json::write_str(&mut inner, unique_id);
        inner.push(b'}');
        envelope::seal_envelope(&inner)
    }

    #[test]
    fn one_pass_replies_are_the_sealed_two_pass_bytes() {
        let long = "x".repeat(70_000);
        let mut texts: Vec<&str> = crate::wire::request::tests::TRICKY.to_vec();
        texts.push(&long);
        for text in texts {
            // Raw results as our encoder writes them, and as other encoders may (raw
            // non-ASCII, whitespace between tokens).
            let ours = RawJson::from_serialize(&serde_json::json!({ text: [text, 1.5] })).unwrap();
            let theirs = RawJson::from_string(
                serde_json::to_string_pretty(&serde_json::json!({ text: [text, 1.5] })).unwrap(),
            )
            .unwrap();
            for result in [None, Some(&ours), Some(&theirs)] {
                for failure in [None, Some(text)] {
                    for ending in [true, false] {
                        assert_eq!(
                            String::from_utf8(encode_reply(result, failure, ending, text, text))
                                .unwrap(),
                            String::from_utf8(two_pass(result, failure, ending, text, text))
                                .unwrap(),
                            "{text:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn replies_and_heartbeats_have_oslo_shape() {
        let result = RawJson::from_string("5".to_owned()).unwrap();
        assert_eq!(
            inner(&encode_reply(Some(&result), None, true, "m1", "u1")),
            r#"{"result": 5, "failure": null, "ending": true, "_msg_id": "m1", "_unique_id": "u1"}"#
        );
        let heartbeat = encode_reply(None, None, false, "m1", "u2");
        assert_eq!(
            inner(&heartbeat),
            r#"{"result": null, "failure": null, "ending": false, "_msg_id": "m1", "_unique_id": "u2"}"#
        );
        assert!(decode_reply(&heartbeat).unwrap().is_heartbeat());
        let failed = encode_reply(None, Some(r#"{"class": "E"}"#), true, "m1", "u3");
        assert_eq!(
            inner(&failed),
            r#"{"result": null, "failure": "{\"class\": \"E\"}", "ending": true, "_msg_id": "m1", "_unique_id": "u3"}"#
        );
    }

    #[test]
    fn minimal_legacy_and_odd_replies_decode() {
        let minimal =
            decode_reply(br#"{"result": "min", "failure": null, "ending": true, "_msg_id": "m"}"#)
                .unwrap();
        assert_eq!(minimal.result.as_str(), r#""min""#);
        assert!(minimal.is_ending());
        assert_eq!(minimal.unique_id, None);

        let legacy_first = decode_reply(br#"{"_msg_id": "m", "result": null}"#).unwrap();
        assert_eq!(legacy_first.ending, None);
        assert_eq!(legacy_first.failure, FailureField::None);
        assert!(legacy_first.is_heartbeat());

        let object_failure = decode_reply(br#"{"failure": {"class": "E"}, "ending": 1}"#).unwrap();
        assert_eq!(
            object_failure.failure,
            FailureField::NotAString("an object")
        );
        assert_eq!(object_failure.ending, Some(true));
    }

    #[test]
    fn undecodable_replies_are_errors() {
        for body in [&b"nope"[..], b"[]", b"{\"result\": }", b"{\"result\": 1} x"] {
            assert!(decode_reply(body).is_err());
        }
    }
}
