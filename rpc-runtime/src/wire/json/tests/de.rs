use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::super::{JsonError, from_slice, from_str};

fn err<'a, T: Deserialize<'a> + std::fmt::Debug>(input: &'a str) -> JsonError {
    match from_str::<T>(input) {
        Ok(v) => panic!("{input:?} parsed as {v:?}"),
        Err(e) => e,
    }
}

#[test]
fn standard_json_and_whitespace() {
    let v: Value =
        from_str(" \t\n\r{\"a\" :[1 , 2.5,\"x\",true,false,null,{}],\"b\":{\"c\":[]}} \n").unwrap();
    assert_eq!(
        v,
        json!({"a": [1, 2.5, "x", true, false, null, {}], "b": {"c": []}})
    );
    assert_eq!(from_str::<f64>("1E5").unwrap(), 100000.0);
    assert_eq!(from_str::<f64>("1e+5").unwrap(), 100000.0);
    assert_eq!(from_str::<f64>("0.5e-3").unwrap(), 0.0005);
    assert_eq!(from_str::<i64>("-0").unwrap(), 0);
    assert_eq!(
        from_str::<f64>("-0.0").unwrap().to_bits(),
        (-0.0f64).to_bits()
    );
    assert_eq!(from_str::<f64>("1e400").unwrap(), f64::INFINITY);
    assert_eq!(from_str::<f64>("-1e400").unwrap(), f64::NEG_INFINITY);
    assert_eq!(from_str::<String>("\"\\/\"").unwrap(), "/");
    assert_eq!(from_str::<String>("\"\x7f\"").unwrap(), "\x7f");
}

#[test]
fn python_tokens_nan_and_infinity() {
    let v: Vec<f64> = from_str("[NaN, Infinity, -Infinity]").unwrap();
    assert!(v[0].is_nan());
    assert_eq!(v[1..], [f64::INFINITY, f64::NEG_INFINITY]);
    assert!(from_str::<f64>("NaN").unwrap().is_nan());
    // serde_json::Value has no room for them.
    assert_eq!(
        from_str::<Value>("[NaN, -Infinity]").unwrap(),
        json!([null, null])
    );
    let e = err::<f64>("-NaN");
    assert_eq!(e.offset(), Some(1));
    err::<f64>("nan");
    err::<f64>("NAN");
    err::<f64>("infinity");
    err::<f64>("+Infinity");
}

#[test]
fn integers_by_size() {
    assert_eq!(from_str::<u64>("18446744073709551615").unwrap(), u64::MAX);
    assert_eq!(from_str::<i64>("-9223372036854775808").unwrap(), i64::MIN);
    assert_eq!(from_str::<u128>("18446744073709551616").unwrap(), 1 << 64);
    assert_eq!(
        from_str::<i128>("-9223372036854775809").unwrap(),
        -(1 << 63) - 1
    );
    assert_eq!(
        from_str::<u128>("340282366920938463463374607431768211455").unwrap(),
        u128::MAX
    );
    assert_eq!(
        from_str::<i128>("1000000000000000000000000000000").unwrap(),
        10i128.pow(30)
    );
    // Untyped: beyond 64 bits becomes f64, as with serde_json.
    assert_eq!(
        from_str::<Value>("18446744073709551616").unwrap(),
        json!(18446744073709551616.0)
    );
    assert_eq!(
        from_str::<Value>("-9223372036854775809").unwrap(),
        json!(-9223372036854775809.0)
    );
    assert_eq!(
        from_str::<Value>("1000000000000000000000000000000").unwrap(),
        json!(1e30)
    );
    assert_eq!(
        from_str::<f64>("1000000000000000000000000000000").unwrap(),
        1e30
    );
    // Beyond 128 bits even the i128 target gets the f64 (and rejects it).
    assert!(from_str::<u128>("1000000000000000000000000000000000000000").is_err());
    assert_eq!(
        from_str::<Value>("18446744073709551615").unwrap(),
        json!(u64::MAX)
    );
    assert_eq!(
        from_str::<Value>("-9223372036854775808").unwrap(),
        json!(i64::MIN)
    );
    assert!(from_str::<u8>("256").is_err());
    assert!(from_str::<u32>("-1").is_err());
    assert!(from_str::<u32>("1.0").is_err());
}

#[test]
fn strings_borrow_when_unescaped() {
    #[derive(Deserialize)]
    struct Borrowed<'a> {
        #[serde(borrow)]
        name: &'a str,
    }
    let input = r#"{"name": "plain text \u00e9 too"}"#;
    assert!(
        from_str::<Borrowed<'_>>(input).is_err(),
        "escaped strings cannot be borrowed"
    );
    let input = "{\"name\": \"plain text, caf\u{e9}\"}";
    let b: Borrowed<'_> = from_str(input).unwrap();
    assert_eq!(b.name, "plain text, caf\u{e9}");
    let start = input.find("plain").unwrap();
    assert_eq!(b.name.as_ptr(), input[start..].as_ptr());
}

#[test]
fn string_escapes() {
    let cases: &[(&str, &str)] = &[
        (r#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{c}\n\r\t"),
        (
            r#""\u00e9\u2713\ud83d\ude00\u2028\u007f\u0000""#,
            "é✓😀\u{2028}\x7f\0",
        ),
        (r#""\u00E9\uD83D\uDE00""#, "é😀"),
        (r#""a\u0041b""#, "aAb"),
        // Lone surrogates (which Python keeps) become U+FFFD.
        (r#""\ud800""#, "\u{fffd}"),
        (r#""\ud800x""#, "\u{fffd}x"),
        (r#""\udc00""#, "\u{fffd}"),
        (r#""\ud800\u0041""#, "\u{fffd}A"),
        (r#""\udc00\ud800""#, "\u{fffd}\u{fffd}"),
        (r#""\ud800\ud83d\ude00""#, "\u{fffd}😀"),
        ("\"raw \u{e9} and \u{1F600}\"", "raw é and 😀"),
    ];
    for (input, expected) in cases {
        assert_eq!(from_str::<String>(input).unwrap(), *expected, "{input}");
        assert_eq!(
            from_str::<Value>(input).unwrap(),
            json!(expected),
            "{input}"
        );
    }
    // A long string mixing runs and escapes, to exercise the word-at-a-time scanner.
    let long = format!(
        "\"{}\\n{}\\u00e9{}\"",
        "a".repeat(37),
        "b".repeat(8),
        "c".repeat(3)
    );
    let expected = format!("{}\n{}é{}", "a".repeat(37), "b".repeat(8), "c".repeat(3));
    assert_eq!(from_str::<String>(&long).unwrap(), expected);
}

#[test]
fn malformed_inputs_are_errors() {
    // Every one of these is also rejected by Python's json.loads.
    let bad = [
        "",
        " ",
        "[1,]",
        "{\"a\": 1,}",
        "01",
        "-01",
        "-",
        "1.",
        ".5",
        "1e",
        "1e+",
        "\"\\x\"",
        "\"\x01\"",
        "\"\t\"",
        "[1 2]",
        "{1: 2}",
        "'a'",
        "// c\n1",
        "nul",
        "[",
        "{\"a\"",
        "{\"a\":",
        "\"abc",
        "1 2",
        "+1",
        "[1,,2]",
        "\"\\u12\"",
        "\"\\uZZZZ\"",
        "[,1]",
        "{,}",
        "tru",
        "[1]]",
        "{\"a\" 1}",
        "\"\\",
        "1.e5",
        "0x10",
        "\u{feff}1",
        "[1,]   ",
        "{\"a\":1 \"b\":2}",
        "[\"\\ud800\\u12\"]",
    ];
    for input in bad {
        let e = err::<Value>(input);
        assert!(e.offset().is_some(), "{input:?}: {e}");
        assert!(e.offset().unwrap() <= input.len(), "{input:?}: {e}");
        // The same input must also fail when skipped (ignored) or captured raw.
        assert!(
            from_str::<serde::de::IgnoredAny>(input).is_err(),
            "{input:?}"
        );
        assert!(
            from_str::<super::super::RawJson>(input).is_err(),
            "{input:?}"
        );
    }
}

#[test]
fn error_messages_and_positions() {
    let e = err::<Value>("[1, 2,]");
    assert_eq!(e.message(), "trailing comma");
    assert_eq!(
        (e.offset(), e.line(), e.column()),
        (Some(6), Some(1), Some(7))
    );
    assert_eq!(e.to_string(), "trailing comma at line 1, column 7 (byte 6)");

    let e = err::<Value>("{\n  \"a\": 01\n}");
    assert_eq!(e.message(), "leading zeros are not allowed");
    assert_eq!((e.line(), e.column()), (Some(2), Some(9)));

    let e = err::<Value>("\"\\q\"");
    assert_eq!((e.message(), e.offset()), ("invalid escape", Some(2)));

    let e = err::<Value>("\"a\x01\"");
    assert_eq!(
        (e.message(), e.offset()),
        ("control character in string", Some(2))
    );

    let e = err::<Value>("1 x");
    assert_eq!(
        (e.message(), e.offset()),
        ("trailing characters after the JSON value", Some(2))
    );

    let e = err::<Value>("[1");
    assert_eq!(
        (e.message(), e.offset()),
        ("EOF while parsing an array", Some(2))
    );

    // Errors raised by Deserialize impls get the position where they were raised.
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Need {
        a: u8,
        b: u8,
    }
    let e = err::<Need>("{\"a\": 1}");
    assert_eq!(e.message(), "missing field `b`");
    assert_eq!(e.offset(), Some(7));
    let e = err::<Need>("{\"a\": 1, \"b\": \"x\"}");
    assert!(e.message().starts_with("invalid type: string \"x\""), "{e}");
    assert!(!e.to_string().contains('\n'));
}

#[test]
fn invalid_utf8_is_an_error_not_a_panic() {
    let e = from_slice::<Value>(b"[\"ab\xff\"]").unwrap_err();
    assert_eq!((e.message(), e.offset()), ("invalid UTF-8", Some(4)));
    assert!(from_slice::<Value>(b"\"\xc3\"").is_err());
    assert!(
        from_slice::<Value>(b"\"\xed\xa0\x80\"").is_err(),
        "UTF-8 encoded surrogate"
    );
    assert_eq!(
        from_slice::<String>("\"\u{e9}\"".as_bytes()).unwrap(),
        "\u{e9}"
    );
}

#[test]
fn nesting_limit() {
    let ok = format!("{}{}", "[".repeat(128), "]".repeat(128));
    assert!(from_str::<Value>(&ok).is_ok());
    assert!(from_str::<serde::de::IgnoredAny>(&ok).is_ok());
    let too_deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
    let e = from_str::<Value>(&too_deep).unwrap_err();
    assert_eq!(e.message(), "arrays and objects nested too deeply");
    assert_eq!(e.offset(), Some(128));
    assert!(from_str::<serde::de::IgnoredAny>(&too_deep).is_err());
    assert!(from_str::<super::super::RawJson>(&too_deep).is_err());
    let objects = "{\"a\": ".repeat(200) + &"}".repeat(200);
    assert!(from_str::<Value>(&objects).is_err());
    // Hostile input far deeper than any stack could take is still just an error.
    let hostile = "[".repeat(1_000_000);
    assert!(from_str::<Value>(&hostile).is_err());
    assert!(from_str::<super::super::RawJson>(&hostile).is_err());
}

#[test]
fn maps_with_non_string_keys() {
    let m: HashMap<u32, String> = from_str(r#"{"1": "a", "22": "b"}"#).unwrap();
    assert_eq!(m[&22], "b");
    let m: HashMap<i128, u8> =
        from_str(r#"{"-170141183460469231731687303715884105728": 1}"#).unwrap();
    assert_eq!(m[&i128::MIN], 1);
    let m: HashMap<bool, u8> = from_str(r#"{"true": 1, "false": 0}"#).unwrap();
    assert_eq!(m[&true], 1);
    let m: Vec<(f64, u8)> = from_str::<HashMap<String, u8>>(r#"{"NaN": 1}"#)
        .unwrap()
        .into_keys()
        .map(|k| (k.parse().unwrap(), 1))
        .collect();
    assert!(m[0].0.is_nan());
    let e = from_str::<HashMap<u32, u8>>(r#"{"x": 1}"#).unwrap_err();
    assert_eq!(
        (e.message(), e.offset()),
        ("object key is not an unsigned integer", Some(1))
    );
    let m: HashMap<String, u8> = from_str(r#"{"\u00e9": 1}"#).unwrap();
    assert_eq!(m["é"], 1);
}

#[test]
fn ignored_fields_are_validated() {
    #[derive(Debug, Deserialize)]
    struct One {
        a: u8,
    }
    let one: One = from_str(r#"{"skip": [1, {"x": NaN}, "\u00e9"], "a": 7}"#).unwrap();
    assert_eq!(one.a, 7);
    assert!(from_str::<One>(r#"{"skip": [1, ], "a": 7}"#).is_err());
    assert!(from_str::<One>(r#"{"skip": "\x", "a": 7}"#).is_err());
}

#[test]
fn sequences_must_be_fully_consumed() {
    let e = from_str::<(u8, u8)>("[1, 2, 3]").unwrap_err();
    assert_eq!(e.message(), "more array elements than expected");
    assert_eq!(from_str::<(u8, u8)>("[1, 2]").unwrap(), (1, 2));
    assert!(from_str::<(u8, u8)>("[1]").is_err());
}

#[test]
fn long_plain_runs_of_a_decoded_string_are_recorded_for_its_parse() {
    use super::super::{RawJson, SharedText, from_shared, owned_str_at, to_string};
    let long = "x".repeat(1_000);
    let message = format!(
        r#"{{"a": "{long}", "b": "{long}\"{long}\\{long}\u00e9{long}\n", "c": ["{long}", 1], "d": "short"}}"#
    );
    // The message as an envelope carries it: a string literal.
    let literal = to_string(&message).unwrap();
    let (decoded, runs, rest) = owned_str_at(&literal, 0).unwrap();
    assert_eq!(decoded, message);
    assert_eq!(rest, "");
    // Every long run of the x's, and only plain text.
    assert_eq!(runs.0.len(), 6, "{:?}", runs.0);
    let mut last = 0;
    for &(start, end) in &runs.0 {
        assert!(last <= start && end - start >= 256, "{:?}", runs.0);
        assert!(
            decoded.as_bytes()[start..end]
                .iter()
                .all(|&b| b >= 0x20 && b != b'"' && b != b'\\')
        );
        last = end;
    }
    // Parsing with the runs reads what parsing without them reads.
    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Message {
        a: String,
        b: String,
        c: (String, u8),
        d: String,
        #[serde(default)]
        e: Option<RawJson>,
    }
    let with_runs: Message =
        from_shared(&SharedText::with_plain_runs(decoded.clone(), runs)).unwrap();
    let without: Message = from_str(&decoded).unwrap();
    assert_eq!(with_runs, without);
    assert_eq!(with_runs.a, long);

    // Runs out of order, past the end or off character boundaries are dropped, not trusted.
    let text = "[\"é\", \"abc\"]".to_owned();
    let odd = super::super::PlainRuns(vec![(3, 4), (2, 3), (8, 100)]);
    let parsed: Vec<String> = from_shared(&SharedText::with_plain_runs(text, odd)).unwrap();
    assert_eq!(parsed, ["é", "abc"]);
}
