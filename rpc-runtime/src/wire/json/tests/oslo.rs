//! The captured oslo.messaging call body from the wire spec (§3.1), byte for byte.

use serde_json::Value;

use super::super::{from_str, to_string, write_str};

const INNER: &str = r#"{"method": "echo", "args": {"x": [1, "two", {"three": 3.0}]}, "version": "1.0", "_msg_id": "8d11db6c73a3489c94bc6f9a16dd4329", "_reply_q": "reply_ee651b22711c4edeadcfe900f584cd9a", "_timeout": null, "_unique_id": "b2d7cf50fc53461e90a45a9249836736", "_context_user": "alice", "_context_request_id": "req-1"}"#;

const BODY: &str = r#"{"oslo.version": "2.0", "oslo.message": "{\"method\": \"echo\", \"args\": {\"x\": [1, \"two\", {\"three\": 3.0}]}, \"version\": \"1.0\", \"_msg_id\": \"8d11db6c73a3489c94bc6f9a16dd4329\", \"_reply_q\": \"reply_ee651b22711c4edeadcfe900f584cd9a\", \"_timeout\": null, \"_unique_id\": \"b2d7cf50fc53461e90a45a9249836736\", \"_context_user\": \"alice\", \"_context_request_id\": \"req-1\"}"}"#;

#[test]
fn inner_message_round_trips_through_value() {
    let value: Value = from_str(INNER).unwrap();
    assert_eq!(to_string(&value).unwrap(), INNER);
}

#[test]
fn write_str_nests_the_inner_message_like_python() {
    let mut out = Vec::new();
    write_str(&mut out, INNER);
    let quoted = std::str::from_utf8(&out).unwrap();
    assert_eq!(
        &BODY[BODY.find(": \"{").unwrap() + 2..BODY.len() - 1],
        quoted
    );

    let mut body = br#"{"oslo.version": "2.0", "oslo.message": "#.to_vec();
    write_str(&mut body, INNER);
    body.push(b'}');
    assert_eq!(body, BODY.as_bytes());
}

#[test]
fn whole_body_round_trips() {
    let value: Value = from_str(BODY).unwrap();
    assert_eq!(to_string(&value).unwrap(), BODY);
    let inner = value["oslo.message"].as_str().unwrap();
    assert_eq!(inner, INNER);
    let inner: Value = from_str(inner).unwrap();
    assert_eq!(inner["args"]["x"][2]["three"], 3.0);
}
