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
    let result_len = result.map_or(4, RawJson::written_len);
    let mut out =
        envelope::open_body(result_len + result_len / 16 + rest_len(failure, msg_id, unique_id));
    // Each fragment below is the escaped form of the text the comment shows.
    // `{"result": `
    out.extend_from_slice(RESULT_KEY);
    match result {
        // A method's result comes escaped already (`dispatch::encode_result`).
        Some(raw) => match raw.escaped() {
            Some(escaped) => out.extend_from_slice(escaped),
            None => json::write_str_contents(&mut out, raw.as_str()),
        },
        None => out.extend_from_slice(b"null"),
    }
    write_rest(&mut out, failure, ending, msg_id, unique_id);
    out
}

/// `{"result": ` as a reply's message begins, escaped in the envelope's string.
const RESULT_KEY: &[u8] = br#"{\"result\": "#;

/// A reply body's bytes up to its result: the envelope's opening (as
/// `envelope::open_body` writes it), then [`RESULT_KEY`]. `dispatch::encode_result`
/// writes a method's result after them, so that [`encode_owned_reply`] goes on in the
/// same buffer instead of copying the result.
pub(crate) const REPLY_START: &[u8] = br#"{"oslo.version": "2.0", "oslo.message": "{\"result\": "#;

/// [`encode_reply`] of a final reply that owns its result: a result made by
/// `dispatch::encode_result` is not copied, the reply is written on after it in its
/// buffer. The same bytes as [`encode_reply`].
pub(crate) fn encode_owned_reply(
    result: Option<RawJson>,
    failure: Option<&str>,
    msg_id: &str,
    unique_id: &str,
) -> Vec<u8> {
    let result = match result.map(|raw| raw.into_reply_buffer(REPLY_START)) {
        Some(Ok(mut out)) => {
            out.reserve(rest_len(failure, msg_id, unique_id));
            write_rest(&mut out, failure, true, msg_id, unique_id);
            return out;
        }
        Some(Err(raw)) => Some(raw),
        None => None,
    };
    encode_reply(result.as_ref(), failure, true, msg_id, unique_id)
}

/// Room for what follows a reply's result, escaped.
fn rest_len(failure: Option<&str>, msg_id: &str, unique_id: &str) -> usize {
    let failure_len = failure.map_or(4, |text| text.len() + text.len() / 2);
    failure_len + msg_id.len() + unique_id.len() + 112
}

/// Writes what follows a reply's result, escaped, and closes the envelope.
fn write_rest(
    out: &mut Vec<u8>,
    failure: Option<&str>,
    ending: bool,
    msg_id: &str,
    unique_id: &str,
) {
    // `, "failure": `
    out.extend_from_slice(br#", \"failure\": "#);
    match failure {
        Some(text) => json::write_str_escaped(out, text),
        None => out.extend_from_slice(b"null"),
    }
    // `, "ending": true, "_msg_id": `
    out.extend_from_slice(if ending {
        br#", \"ending\": true, \"_msg_id\": "#
    } else {
        br#", \"ending\": false, \"_msg_id\": "#
    });
    json::write_str_escaped(out, msg_id);
    // `, "_unique_id": `
    out.extend_from_slice(br#", \"_unique_id\": "#);
    json::write_str_escaped(out, unique_id);
    out.push(b'}');
    envelope::close_body(out);
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
    let (text, runs) = envelope::open_message(body)?;
    match text {
        Cow::Owned(text) => Ok(json::from_shared::<Reply>(
            &json::SharedText::with_plain_runs(text, runs),
        )?),
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
    fn results_written_for_the_reply_give_the_same_bytes_without_a_copy() {
        assert_eq!(REPLY_START, {
            let mut start = envelope::open_body(0);
            start.extend_from_slice(RESULT_KEY);
            start
        });
        let long = "x".repeat(70_000);
        let mut texts: Vec<&str> = crate::wire::request::tests::TRICKY.to_vec();
        texts.push(&long);
        for text in texts {
            let value = serde_json::json!({ text: [text, 1.5, null] });
            // The plain encoding, as the reply wrote it before.
            let plain = RawJson::from_serialize(&value).unwrap();
            let expected =
                |failure: Option<&str>| encode_reply(Some(&plain), failure, true, text, "u");
            let ours = || crate::dispatch::encode_result(&value).unwrap();
            assert_eq!(ours().as_str(), plain.as_str(), "{text:?}");
            assert_eq!(
                encode_reply(Some(&ours()), None, true, text, "u"),
                expected(None)
            );
            if text.len() > 1000 {
                // Owned and alone, with ids as long as oslo's: the reply goes on in the
                // result's buffer, which left room for the rest (small results may grow
                // once). Longer ids or a failure may need more room, and growing the buffer
                // may or may not move it, so only this case is checked for the copy.
                let result = ours();
                let address = result.escaped().unwrap().as_ptr() as usize - REPLY_START.len();
                let id = "0123456789abcdef0123456789abcdef";
                let body = encode_owned_reply(Some(result), None, id, id);
                assert_eq!(body, encode_reply(Some(&plain), None, true, id, id));
                assert_eq!(body.as_ptr() as usize, address, "{text:?}: copied");
            }
            for failure in [None, Some(text)] {
                // Owned and alone: the same bytes, whatever the ids.
                let result = ours();
                let body = encode_owned_reply(Some(result), failure, text, "u");
                assert_eq!(body, expected(failure), "{text:?}");
                // Shared with a clone, or read as plain text first: the same bytes.
                let result = ours();
                let clone = result.clone();
                assert_eq!(
                    encode_owned_reply(Some(result), failure, text, "u"),
                    expected(failure)
                );
                assert_eq!(clone.as_str(), plain.as_str());
                let result = ours();
                assert_eq!(result.as_str(), plain.as_str());
                assert_eq!(
                    encode_owned_reply(Some(result), failure, text, "u"),
                    expected(failure)
                );
                // Results made otherwise, and none.
                assert_eq!(
                    encode_owned_reply(Some(plain.clone()), failure, text, "u"),
                    expected(failure)
                );
                assert_eq!(
                    encode_owned_reply(None, failure, text, "u"),
                    encode_reply(None, failure, true, text, "u")
                );
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
