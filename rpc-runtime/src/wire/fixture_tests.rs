//! Test vectors: every message Python oslo.messaging 18.3.1 published in the capture
//! (`tests/fixtures/oslo-18.3.1-capture.json`, a copy of the shared fixture) decodes to the
//! captured fields, and re-encoding it with its own ids gives the captured bytes exactly.

use serde_json::{Map, Value};

use super::*;

const CAPTURE: &str = include_str!("../../tests/fixtures/oslo-18.3.1-capture.json");

struct Captured {
    title: String,
    kind: String,
    body: Vec<u8>,
    message: Map<String, Value>,
    failure: Option<Map<String, Value>>,
}

fn captured_messages() -> Vec<Captured> {
    let capture: Value = serde_json::from_str(CAPTURE).expect("fixture is JSON");
    let mut out = Vec::new();
    for step in capture["steps"].as_array().expect("steps") {
        for message in step["messages"].as_array().expect("messages") {
            let body = base64_decode(message["body_b64"].as_str().expect("body_b64"));
            assert_eq!(body.len() as u64, message["body_len"].as_u64().unwrap());
            out.push(Captured {
                title: step["title"].as_str().unwrap().to_owned(),
                kind: message["kind"].as_str().unwrap().to_owned(),
                body,
                message: message["decoded"]["message"].as_object().unwrap().clone(),
                failure: message["decoded"]["failure"].as_object().cloned(),
            });
        }
    }
    out
}

/// Standard base64 with padding, enough for the fixture (no dependency for a test).
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c).expect("base64 digit") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn str_field<'a>(message: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    message.get(key).and_then(Value::as_str)
}

#[test]
fn the_capture_has_all_kinds_of_messages() {
    let kinds: Vec<String> = captured_messages().into_iter().map(|m| m.kind).collect();
    assert_eq!(kinds.len(), 16);
    for kind in [
        "request (call)",
        "request (cast)",
        "reply (result)",
        "reply (failure)",
        "call-monitor heartbeat (reply with ending=false)",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind}");
    }
}

#[test]
fn captured_requests_decode_and_reencode_byte_exactly() {
    let mut seen = 0;
    for captured in captured_messages()
        .iter()
        .filter(|m| m.kind.starts_with("request"))
    {
        seen += 1;
        let request = decode_request(&captured.body).unwrap();
        let expected = &captured.message;
        assert_eq!(Some(request.method.as_str()), str_field(expected, "method"));
        assert_eq!(
            request.namespace.as_deref(),
            str_field(expected, "namespace")
        );
        assert_eq!(request.version.as_deref(), str_field(expected, "version"));
        assert_eq!(request.msg_id.as_deref(), str_field(expected, "_msg_id"));
        assert_eq!(request.reply_q.as_deref(), str_field(expected, "_reply_q"));
        assert_eq!(
            request.unique_id.as_deref(),
            str_field(expected, "_unique_id")
        );
        assert_eq!(request.is_call(), captured.kind == "request (call)");
        assert_eq!(
            request
                .call_monitor_timeout
                .as_ref()
                .map(|n| Value::Number(n.clone())),
            expected.get("_timeout").filter(|v| !v.is_null()).cloned()
        );
        assert_eq!(
            Value::Object(request.args.to_map().unwrap()),
            expected["args"]
        );
        for (key, value) in request.context.iter() {
            assert_eq!(
                Some(value),
                expected.get(&format!("_context_{key}")),
                "{key}"
            );
        }
        let context_keys = expected
            .keys()
            .filter(|k| k.starts_with("_context_"))
            .count();
        assert_eq!(request.context.len(), context_keys);

        // Re-encode from the decoded arguments as JSON values, so the encoder (not a
        // verbatim copy of the raw text) must reproduce Python's bytes.
        let args = Value::Object(request.args.to_map().unwrap());
        let reencoded = encode_request(&request.header(), &args).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&reencoded),
            String::from_utf8_lossy(&captured.body),
            "{}",
            captured.title
        );
    }
    assert_eq!(seen, 8);
}

#[test]
fn captured_replies_decode_and_reencode_byte_exactly() {
    let mut seen = 0;
    for captured in captured_messages()
        .iter()
        .filter(|m| !m.kind.starts_with("request"))
    {
        seen += 1;
        let reply = decode_reply(&captured.body).unwrap();
        let expected = &captured.message;
        assert_eq!(reply.msg_id.as_deref(), str_field(expected, "_msg_id"));
        assert_eq!(
            reply.unique_id.as_deref(),
            str_field(expected, "_unique_id")
        );
        assert_eq!(reply.ending, expected["ending"].as_bool());
        assert_eq!(
            reply.is_heartbeat(),
            captured.kind.starts_with("call-monitor")
        );
        let result: Value = reply.result.deserialize_into().unwrap();
        assert_eq!(result, expected["result"]);

        let failure_text = match &reply.failure {
            FailureField::Json(text) => Some(text.as_str()),
            FailureField::None => None,
            FailureField::NotAString(kind) => panic!("failure is {kind}"),
        };
        assert_eq!(failure_text, str_field(expected, "failure"));
        if let Some(text) = failure_text {
            let remote = decode_failure(text).unwrap();
            let fields = captured
                .failure
                .as_ref()
                .expect("decoded failure in fixture");
            assert_eq!(Some(remote.class.as_str()), str_field(fields, "class"));
            assert_eq!(Some(remote.module.as_str()), str_field(fields, "module"));
            assert_eq!(Some(remote.message.as_str()), str_field(fields, "message"));
            assert_eq!(serde_json::json!(remote.traceback), fields["tb"]);
            assert_eq!(Value::Array(remote.args.clone()), fields["args"]);
            assert_eq!(Value::Object(remote.kwargs.clone()), fields["kwargs"]);
            assert_eq!(encode_failure(&remote).unwrap(), text, "{}", captured.title);
        }

        // Re-encode the result from its decoded value, not from the captured text.
        let result = RawJson::from_serialize(&result).unwrap();
        let reencoded = encode_reply(
            Some(&result),
            failure_text,
            reply.is_ending(),
            reply.msg_id.as_deref().unwrap(),
            reply.unique_id.as_deref().unwrap(),
        );
        assert_eq!(
            String::from_utf8_lossy(&reencoded),
            String::from_utf8_lossy(&captured.body),
            "{}",
            captured.title
        );
    }
    assert_eq!(seen, 8);
}
