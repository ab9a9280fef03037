use serde::{Deserialize, Serialize};
use serde_json::json;

use super::super::{RawJson, from_str, to_string};
use super::enc;

#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    method: String,
    args: RawJson,
    rest: Vec<RawJson>,
}

#[test]
fn captures_and_writes_source_text_verbatim() {
    let input = r#"{"method":"m",  "args" :  {"z":1,   "a":[1.50, 1E5, NaN, "\u00e9\/"],"m":{}}  , "rest": [ -0 , "x" ,null ] }"#;
    let envelope: Envelope = from_str(input).unwrap();
    assert_eq!(
        envelope.args.as_str(),
        r#"{"z":1,   "a":[1.50, 1E5, NaN, "\u00e9\/"],"m":{}}"#
    );
    assert_eq!(
        envelope
            .rest
            .iter()
            .map(RawJson::as_str)
            .collect::<Vec<_>>(),
        ["-0", r#""x""#, "null"]
    );
    assert!(envelope.rest[2].is_null());
    assert_eq!(
        enc(&envelope),
        r#"{"method": "m", "args": {"z":1,   "a":[1.50, 1E5, NaN, "\u00e9\/"],"m":{}}, "rest": [-0, "x", null]}"#
    );
}

#[test]
fn constructors_and_accessors() {
    let raw = RawJson::from_string("  [1, {\"b\": 2, \"a\": NaN}]\n".to_owned()).unwrap();
    assert_eq!(raw.as_str(), "[1, {\"b\": 2, \"a\": NaN}]");
    assert_eq!(raw.to_string(), raw.as_str());
    assert_eq!(format!("{raw:?}"), "RawJson([1, {\"b\": 2, \"a\": NaN}])");
    assert_eq!(raw.clone(), raw);
    let exact = RawJson::from_string("{}".to_owned()).unwrap();
    assert_eq!(exact.into_string(), "{}");

    for bad in ["", "1 2", "[1,]", "{'a': 1}", "\"\\x\""] {
        assert!(RawJson::from_string(bad.to_owned()).is_err(), "{bad:?}");
    }

    let raw = RawJson::from_serialize(&json!({"k": [1.0, "é"]})).unwrap();
    assert_eq!(raw.as_str(), r#"{"k": [1.0, "\u00e9"]}"#);
    let map: serde_json::Map<String, serde_json::Value> = raw.deserialize_into().unwrap();
    assert_eq!(map["k"], json!([1.0, "é"]));

    let borrowed = RawJson::from_string("\"text\"".to_owned()).unwrap();
    let s: &str = borrowed.deserialize_into().unwrap();
    assert_eq!(s, "text");

    assert!(RawJson::null().is_null());
    assert_eq!(RawJson::default(), RawJson::null());
    assert_eq!(String::from(RawJson::null()), "null");
    let floats: Vec<f64> = RawJson::from_string("[NaN, -Infinity]".to_owned())
        .unwrap()
        .deserialize_into()
        .unwrap();
    assert!(floats[0].is_nan() && floats[1] == f64::NEG_INFINITY);
}

#[test]
fn option_of_raw_reads_null_as_none() {
    let v: Vec<Option<RawJson>> = from_str("[null, 1]").unwrap();
    assert!(v[0].is_none());
    assert_eq!(v[1].as_ref().unwrap().as_str(), "1");
}

#[test]
fn other_formats_go_through_value() {
    let raw = RawJson::from_string(r#"{"b": [1, 2.5], "a": NaN}"#.to_owned()).unwrap();
    // serde_json as the serializer: forwarded as a parsed value (NaN has no Value form).
    assert_eq!(
        serde_json::to_string(&raw).unwrap(),
        r#"{"b":[1,2.5],"a":null}"#
    );
    assert_eq!(
        serde_json::to_value(&raw).unwrap(),
        json!({"b": [1, 2.5], "a": null})
    );
    // serde_json as the deserializer: re-encoded with our rules, key order kept.
    let back: RawJson = serde_json::from_str(r#"{"z":1,"a":[1.0,"\u00e9"]}"#).unwrap();
    assert_eq!(back.as_str(), r#"{"z": 1, "a": [1.0, "\u00e9"]}"#);
    let from_value: RawJson = serde_json::from_value(json!({"q": [true]})).unwrap();
    assert_eq!(from_value.as_str(), r#"{"q": [true]}"#);
}

#[test]
fn inside_buffered_enums_falls_back_to_value() {
    // Untagged enums buffer the input, so the source text is gone; the value survives.
    #[derive(Debug, Deserialize)]
    #[serde(untagged)]
    enum Either {
        Raw { raw: RawJson },
    }
    let Either::Raw { raw } = from_str::<Either>(r#"{"raw": {"b":1,"a":2}}"#).unwrap();
    assert_eq!(raw.as_str(), r#"{"b": 1, "a": 2}"#);
}

#[test]
fn raw_in_map_value_position_and_as_top_level() {
    let raw: RawJson = from_str("  \"\\u00e9\"  ").unwrap();
    assert_eq!(raw.as_str(), "\"\\u00e9\"");
    assert_eq!(to_string(&raw).unwrap(), "\"\\u00e9\"");
    let map: std::collections::BTreeMap<String, RawJson> =
        from_str(r#"{"a": [ 1 ], "b": {"c" : 2}}"#).unwrap();
    assert_eq!(map["a"].as_str(), "[ 1 ]");
    assert_eq!(enc(&map), r#"{"a": [ 1 ], "b": {"c" : 2}}"#);
}

#[test]
fn results_written_escaped_read_as_their_plain_encoding() {
    use super::super::write_str_contents;
    // Raw text with non-ASCII and spacing, as another encoder writes it.
    let theirs = RawJson::from_string("[\"\u{e9}\u{1f600}\", {\"k\" : 1}]".to_owned()).unwrap();
    for value in [
        json!(null),
        json!("q\"uote \\ / \u{0}\u{1f}\u{7f} \u{e9} \u{2028} \u{ffff} \u{1f600}"),
        json!({"a": [1.5, 1e16, -0.0, "x".repeat(70_000)], "\n": {}}),
    ] {
        for start in [&b""[..], b"{\"result\": "] {
            let plain = RawJson::from_serialize(&(&value, &theirs)).unwrap();
            let escaped = RawJson::from_serialize_escaped(&(&value, &theirs), start).unwrap();
            let mut expected = Vec::new();
            write_str_contents(&mut expected, plain.as_str());
            assert_eq!(escaped.escaped(), Some(&expected[..]));
            assert!(expected.is_ascii());
            assert_eq!(escaped.written_len(), expected.len());
            assert_eq!(plain.escaped(), None);
            // Everything else sees the plain text.
            assert_eq!(escaped.as_str(), plain.as_str());
            assert_eq!(escaped, plain);
            assert_eq!(format!("{escaped:?}"), format!("{plain:?}"));
            assert_eq!(enc(&escaped), enc(&plain));
            assert_eq!(escaped.clone().into_string(), plain.as_str());
            let back: serde_json::Value = escaped.deserialize_into().unwrap();
            assert_eq!(back, plain.deserialize_into::<serde_json::Value>().unwrap());
            // Its buffer goes to a reply only when alone and begun as the reply expects.
            let clone = escaped.clone();
            let escaped = escaped.into_reply_buffer(start).unwrap_err();
            drop(clone);
            let escaped = escaped.into_reply_buffer(b"other").unwrap_err();
            let mut whole = start.to_vec();
            whole.extend_from_slice(&expected);
            assert_eq!(escaped.into_reply_buffer(start).unwrap(), whole);
            assert!(plain.into_reply_buffer(b"").is_err());
        }
    }
}

#[test]
fn captured_strings_without_escapes_decode_as_any_text() {
    use super::super::{SharedText, from_shared};
    use std::collections::BTreeMap;

    #[derive(Debug, PartialEq, Deserialize)]
    enum Unit {
        Variant,
    }

    let text = r#"{"a": "plain text", "b": "esc\"aped \u00e9 \ud800 \/", "c": "", "d": ["x"],
        "e": "12", "f": "Variant", "g": 12, "h": "tab	not allowed", "i": "\u0041"}"#
        .replace("tab\tnot allowed", "no tab");
    let captured: BTreeMap<String, RawJson> = from_shared(&SharedText::new(text)).unwrap();
    let plain: Vec<&str> = captured
        .iter()
        .filter(|(_, raw)| raw.is_plain_string())
        .map(|(key, _)| key.as_str())
        .collect();
    assert_eq!(plain, ["a", "c", "e", "f", "h"]);
    for (key, raw) in &captured {
        assert!(raw.is_shared(), "{key}");
        // The same text, not known to be a plain string.
        let fresh = RawJson::from_string(raw.as_str().to_owned()).unwrap();
        fn same<'a, T>(raw: &'a RawJson, fresh: &'a RawJson)
        where
            T: Deserialize<'a> + PartialEq + std::fmt::Debug,
        {
            let ours = raw.deserialize_into::<T>().map_err(|e| e.to_string());
            let theirs = fresh.deserialize_into::<T>().map_err(|e| e.to_string());
            assert_eq!(ours, theirs, "{raw:?} as {}", std::any::type_name::<T>());
        }
        same::<serde_json::Value>(raw, &fresh);
        same::<String>(raw, &fresh);
        same::<&str>(raw, &fresh);
        same::<Option<String>>(raw, &fresh);
        same::<std::borrow::Cow<'_, str>>(raw, &fresh);
        same::<Vec<String>>(raw, &fresh);
        same::<i64>(raw, &fresh);
        same::<Unit>(raw, &fresh);
        same::<char>(raw, &fresh);
        same::<RawJson>(raw, &fresh);
    }
    assert_eq!(
        captured["a"].deserialize_into::<&str>().unwrap(),
        "plain text"
    );
}
