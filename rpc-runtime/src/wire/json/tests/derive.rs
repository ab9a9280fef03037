//! `#[derive]`d types, enums in every shape, `flatten`, and `serde_json::Value` order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::super::{from_str, to_string};
use super::enc;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Unit;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Newtype(u32);

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Pair(i8, String);

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Shape {
    Empty,
    Circle(f64),
    Line(i32, i32),
    Rect { w: u16, h: u16 },
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Everything {
    id: u64,
    name: String,
    ratio: f32,
    tags: Vec<String>,
    maybe: Option<i16>,
    nothing: Option<i16>,
    unit: Unit,
    newtype: Newtype,
    pair: Pair,
    shapes: Vec<Shape>,
    counts: BTreeMap<u8, bool>,
    nested: Option<Box<Everything>>,
}

fn everything() -> Everything {
    Everything {
        id: u64::MAX,
        name: "n\u{e9}e \u{1F600}".into(),
        ratio: 0.25,
        tags: vec!["a".into(), "".into()],
        maybe: Some(-3),
        nothing: None,
        unit: Unit,
        newtype: Newtype(7),
        pair: Pair(-1, "p".into()),
        shapes: vec![
            Shape::Empty,
            Shape::Circle(1.5),
            Shape::Line(1, -2),
            Shape::Rect { w: 3, h: 4 },
        ],
        counts: BTreeMap::from([(1, true), (2, false)]),
        nested: Some(Box::new(Everything {
            id: 0,
            name: String::new(),
            ratio: -0.0,
            tags: vec![],
            maybe: None,
            nothing: None,
            unit: Unit,
            newtype: Newtype(0),
            pair: Pair(0, String::new()),
            shapes: vec![],
            counts: BTreeMap::new(),
            nested: None,
        })),
    }
}

#[test]
fn derived_struct_round_trip() {
    let value = everything();
    let text = enc(&value);
    // Python: json.dumps of the equivalent dict.
    assert_eq!(
        text,
        r#"{"id": 18446744073709551615, "name": "n\u00e9e \ud83d\ude00", "ratio": 0.25, "tags": ["a", ""], "maybe": -3, "nothing": null, "unit": null, "newtype": 7, "pair": [-1, "p"], "shapes": ["Empty", {"Circle": 1.5}, {"Line": [1, -2]}, {"Rect": {"w": 3, "h": 4}}], "counts": {"1": true, "2": false}, "nested": {"id": 0, "name": "", "ratio": -0.0, "tags": [], "maybe": null, "nothing": null, "unit": null, "newtype": 0, "pair": [0, ""], "shapes": [], "counts": {}, "nested": null}}"#
    );
    assert_eq!(from_str::<Everything>(&text).unwrap(), value);
}

#[test]
fn enums_from_input_with_whitespace() {
    let shapes: Vec<Shape> = from_str(
        r#"[ "Empty" , { "Circle" : 2 } , {"Line":[3,4]}, {"Rect": {"h": 1, "w": 2}}, {"Empty": null}, "\u0045mpty" ]"#,
    )
    .unwrap();
    assert_eq!(
        shapes,
        [
            Shape::Empty,
            Shape::Circle(2.0),
            Shape::Line(3, 4),
            Shape::Rect { w: 2, h: 1 },
            Shape::Empty,
            Shape::Empty
        ]
    );
    for bad in [
        r#""Nope""#,
        r#"{"Circle": 1, "Line": [1, 2]}"#,
        r#"{}"#,
        r#"{"Circle"}"#,
        r#"["Empty"]"#,
        r#""Circle""#,
    ] {
        assert!(from_str::<Shape>(bad).is_err(), "{bad}");
    }
}

#[test]
fn internally_tagged_and_untagged_enums() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type")]
    enum Tagged {
        A { x: f64 },
        B,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(untagged)]
    enum Untagged {
        Num(f64),
        Text(String),
        List(Vec<Untagged>),
    }
    let tagged = vec![Tagged::A { x: f64::INFINITY }, Tagged::B];
    let text = enc(&tagged);
    assert_eq!(text, r#"[{"type": "A", "x": Infinity}, {"type": "B"}]"#);
    assert_eq!(from_str::<Vec<Tagged>>(&text).unwrap(), tagged);
    let untagged = Untagged::List(vec![Untagged::Num(1.0), Untagged::Text("t".into())]);
    let text = enc(&untagged);
    assert_eq!(text, r#"[1.0, "t"]"#);
    assert_eq!(from_str::<Untagged>(&text).unwrap(), untagged);
}

#[test]
fn flatten_keeps_field_order() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Request {
        method: String,
        #[serde(flatten)]
        context: Map<String, Value>,
        version: String,
    }
    let request = Request {
        method: "echo".into(),
        context: json!({"_context_user": "alice", "_context_roles": ["admin"]})
            .as_object()
            .unwrap()
            .clone(),
        version: "1.0".into(),
    };
    let text = enc(&request);
    assert_eq!(
        text,
        r#"{"method": "echo", "_context_user": "alice", "_context_roles": ["admin"], "version": "1.0"}"#
    );
    assert_eq!(from_str::<Request>(&text).unwrap(), request);
}

#[test]
fn value_round_trip_preserves_key_order() {
    let text = r#"{"zeta": 1, "alpha": {"y": [1.0, -2, "s"], "b": null, "a": true}, "mid": 1e+100, "big": 18446744073709551615}"#;
    let value: Value = from_str(text).unwrap();
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["zeta", "alpha", "mid", "big"]);
    assert_eq!(to_string(&value).unwrap(), text);
    // Through serde_json's own parser, too.
    let value: Value = serde_json::from_str(text).unwrap();
    assert_eq!(to_string(&value).unwrap(), text);
}

#[test]
fn skip_serializing_if_keeps_separators_right() {
    #[derive(Serialize)]
    struct Sparse {
        #[serde(skip_serializing_if = "Option::is_none")]
        a: Option<u8>,
        b: u8,
        #[serde(skip_serializing_if = "Option::is_none")]
        c: Option<u8>,
    }
    assert_eq!(
        enc(&Sparse {
            a: None,
            b: 1,
            c: None
        }),
        r#"{"b": 1}"#
    );
    assert_eq!(
        enc(&Sparse {
            a: Some(0),
            b: 1,
            c: Some(2)
        }),
        r#"{"a": 0, "b": 1, "c": 2}"#
    );
}
