use serde_json::json;

use super::super::{JsonError, to_string, to_vec, to_writer, write_str};
use super::{Pairs, enc};

#[test]
fn containers_use_python_separators() {
    assert_eq!(
        enc(&json!({"a": 1, "b": [1, 2]})),
        r#"{"a": 1, "b": [1, 2]}"#
    );
    assert_eq!(enc(&json!({})), "{}");
    assert_eq!(enc(&json!([])), "[]");
    assert_eq!(enc(&json!([[]])), "[[]]");
    assert_eq!(
        enc(
            &json!({"outer": {"inner": [1, {"deep": [true, false, null]}], "empty_obj": {}, "empty_arr": []}, "z": "last"})
        ),
        r#"{"outer": {"inner": [1, {"deep": [true, false, null]}], "empty_obj": {}, "empty_arr": []}, "z": "last"}"#
    );
}

#[test]
fn strings_are_escaped_like_ensure_ascii() {
    let cases: &[(&str, &str)] = &[
        (
            "caf\u{e9} \u{2713} \u{1F600} \u{2028} \x7f \0 / \" \\ \n\r\t\u{8}\u{c} \x01\x1f end",
            r#""caf\u00e9 \u2713 \ud83d\ude00 \u2028 \u007f \u0000 / \" \\ \n\r\t\b\f \u0001\u001f end""#,
        ),
        (
            "\0\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ",
            r#""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f ""#,
        ),
        (
            "\u{ffff}\u{10000}\u{10ffff}\u{fffd}",
            r#""\uffff\ud800\udc00\udbff\udfff\ufffd""#,
        ),
        (
            "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\u{e9}ABCDEFGHIJKLMNOP\"tail",
            r#""abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\u00e9ABCDEFGHIJKLMNOP\"tail""#,
        ),
        ("", r#""""#),
        ("é", r#""\u00e9""#),
        ("✓", r#""\u2713""#),
        ("😀", r#""\ud83d\ude00""#),
        ("\u{2028}", r#""\u2028""#),
        ("\x7f", r#""\u007f""#),
        ("\0", r#""\u0000""#),
        (" ~", r#"" ~""#),
    ];
    for (input, expected) in cases {
        assert_eq!(enc(input), *expected, "{input:?}");
        let mut out = Vec::new();
        write_str(&mut out, input);
        assert_eq!(out, expected.as_bytes());
    }
}

#[test]
fn integers_are_plain_decimal() {
    let ints = (
        0u8,
        -1i8,
        i64::MIN,
        i64::MAX,
        u64::MAX,
        i128::MIN,
        u128::MAX,
        1u128 << 64,
        -(1i128 << 63) - 1,
    );
    assert_eq!(
        enc(&ints),
        "[0, -1, -9223372036854775808, 9223372036854775807, 18446744073709551615, \
         -170141183460469231731687303715884105728, 340282366920938463463374607431768211455, \
         18446744073709551616, -9223372036854775809]"
    );
    for n in [
        i16::MIN,
        -999,
        -100,
        -10,
        -9,
        0,
        9,
        10,
        99,
        100,
        1000,
        i16::MAX,
    ] {
        assert_eq!(enc(&n), n.to_string());
        assert_eq!(enc(&(n as i32 * 1000)), (n as i32 * 1000).to_string());
    }
}

#[test]
fn map_keys_follow_python_conversions() {
    assert_eq!(enc(&Pairs(vec![(1, 2), (-3, 4)])), r#"{"1": 2, "-3": 4}"#);
    assert_eq!(
        enc(&Pairs(vec![(true, 1), (false, 2)])),
        r#"{"true": 1, "false": 2}"#
    );
    assert_eq!(
        enc(&Pairs(vec![
            (1.5, "a"),
            (f64::NAN, "b"),
            (f64::INFINITY, "c"),
            (f64::NEG_INFINITY, "d"),
            (-0.0, "e"),
            (1e16, "f"),
            (3.0, "g"),
        ])),
        r#"{"1.5": "a", "NaN": "b", "Infinity": "c", "-Infinity": "d", "-0.0": "e", "1e+16": "f", "3.0": "g"}"#
    );
    assert_eq!(enc(&Pairs(vec![((), 1)])), r#"{"null": 1}"#);
    assert_eq!(enc(&Pairs(vec![(None::<u8>, 1)])), r#"{"null": 1}"#);
    assert_eq!(enc(&Pairs(vec![('é', 1)])), r#"{"\u00e9": 1}"#);
    assert_eq!(
        enc(&Pairs(vec![(u128::MAX, 1)])),
        r#"{"340282366920938463463374607431768211455": 1}"#
    );
}

#[test]
fn unsupported_map_keys_are_errors() {
    let errors: Vec<JsonError> = vec![
        to_vec(&Pairs(vec![(vec![1], 1)])).unwrap_err(),
        to_vec(&Pairs(vec![((1, 2), 1)])).unwrap_err(),
        to_vec(&Pairs(vec![(Pairs(vec![(1, 1)]), 1)])).unwrap_err(),
        to_vec(&Pairs(vec![(Bytes(vec![1, 2]), 1)])).unwrap_err(),
    ];
    for e in errors {
        assert!(e.message().contains("object keys must be"), "{e}");
        assert_eq!(e.offset(), None);
    }
}

/// Serializes through `serialize_bytes`, as `serde_bytes` does.
struct Bytes(Vec<u8>);

impl serde::Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

#[test]
fn scalars_and_serde_shapes() {
    assert_eq!(enc(&true), "true");
    assert_eq!(enc(&false), "false");
    assert_eq!(enc(&()), "null");
    assert_eq!(enc(&None::<u8>), "null");
    assert_eq!(enc(&Some(5)), "5");
    assert_eq!(enc(&'x'), r#""x""#);
    assert_eq!(enc(&'\u{1F600}'), r#""\ud83d\ude00""#);
    assert_eq!(enc(&Bytes(vec![0, 1, 255])), "[0, 1, 255]");
    assert_eq!(enc(&Bytes(vec![])), "[]");
    assert_eq!(enc(&(1, "a", [2.0])), r#"[1, "a", [2.0]]"#);
}

#[test]
fn to_writer_appends_and_to_string_matches_to_vec() {
    let mut out = b"prefix ".to_vec();
    to_writer(&mut out, &json!({"k": [1]})).unwrap();
    assert_eq!(out, br#"prefix {"k": [1]}"#);
    let value = json!({"x": "\u{e9}", "y": [1.5, null]});
    assert_eq!(
        to_string(&value).unwrap().as_bytes(),
        to_vec(&value).unwrap()
    );
    assert!(to_string(&value).unwrap().is_ascii());
}
