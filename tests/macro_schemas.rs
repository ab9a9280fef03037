//! Endpoint schemas: `schemas/*.json` must match the example interfaces (the drift test),
//! the JSON Schema the macro derives from type spellings, and the evolution check on
//! schemas generated from two versions of a trait.

#[path = "../examples/calc/mod.rs"]
mod calc;
#[path = "../examples/compute/mod.rs"]
mod compute;

use std::path::PathBuf;

use oslo_rpc::schema::{EndpointSchema, Severity, check_evolution};
use serde_json::json;

/// The command that rewrites `schemas/` from the code; the drift test names it.
const BLESS: &str = "OSLO_RPC_BLESS_SCHEMAS=1 cargo test --test macro_schemas";

/// Every example endpoint and the file holding its schema.
fn example_schemas() -> Vec<(&'static str, EndpointSchema)> {
    vec![
        ("calc.json", calc::CalcClient::schema()),
        ("ping.json", calc::PingClient::schema()),
        ("compute.json", compute::ComputeApiClient::schema()),
    ]
}

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

#[test]
fn schema_files_match_the_example_interfaces() {
    let bless = std::env::var_os("OSLO_RPC_BLESS_SCHEMAS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (file, schema) in example_schemas() {
        let path = schema_dir().join(file);
        let expected = schema.to_pretty_json();
        if bless {
            std::fs::create_dir_all(schema_dir()).unwrap();
            std::fs::write(&path, &expected).unwrap();
            continue;
        }
        let actual = std::fs::read_to_string(&path).unwrap_or_default();
        if actual == expected {
            // What is committed reads back as the same schema: no evolution findings.
            let committed = EndpointSchema::from_json(&actual).unwrap();
            assert!(check_evolution(&committed, &schema).findings.is_empty());
        } else {
            let line = actual
                .lines()
                .zip(expected.lines())
                .position(|(a, e)| a != e)
                .unwrap_or_else(|| actual.lines().count().min(expected.lines().count()));
            stale.push(format!(
                "schemas/{file} differs from the code from line {}:\n  file: {}\n  code: {}",
                line + 1,
                actual.lines().nth(line).unwrap_or("(end of file)"),
                expected.lines().nth(line).unwrap_or("(end of schema)")
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "{}\n\nIf the interface change is intended, regenerate the files with\n\n    {BLESS}\n\n\
         and commit them (check the evolution report of the change too).",
        stale.join("\n")
    );
}

#[test]
fn calc_schema_describes_the_wire() {
    let schema = calc::CalcClient::schema();
    assert_eq!(schema.name, "Calc");
    assert_eq!(schema.namespace.as_deref(), Some("calc"));
    assert_eq!(schema.version.to_string(), "1.3");
    let names: Vec<(&str, String)> = schema
        .methods
        .iter()
        .map(|m| (m.name.as_str(), m.since.to_string()))
        .collect();
    assert_eq!(
        names,
        [
            ("add", "1.0".to_owned()),
            ("echo", "1.1".to_owned()),
            ("sleep", "1.0".to_owned()),
            ("fail", "1.0".to_owned()),
            ("resize", "1.2".to_owned()),
            ("echo_floats", "1.3".to_owned()),
            ("context", "1.3".to_owned()),
        ]
    );
    let add = schema.method("add").unwrap();
    assert_eq!(
        add.arg("a").unwrap().schema,
        json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX})
    );
    assert_eq!(add.error.as_deref(), Some("CalcError"));
    let resize = schema.method("resize").unwrap();
    assert_eq!(
        resize.arg("size").unwrap().schema,
        json!({"type": "integer", "minimum": 0, "maximum": u32::MAX})
    );
    let force = resize.arg("force").unwrap();
    assert!(!force.required);
    assert_eq!(force.since.map(|v| v.to_string()).as_deref(), Some("1.3"));
    assert_eq!(
        force.schema,
        json!({"anyOf": [{"type": "boolean"}, {"type": "null"}]})
    );
    assert_eq!(resize.returns, json!({"type": "null"}));
    assert_eq!(schema.method("echo").unwrap().returns, json!({}));
    assert_eq!(
        schema.method("echo_floats").unwrap().returns,
        json!({"type": "array", "items": {"type": "number"}})
    );

    let ping = calc::PingClient::schema();
    assert_eq!(ping.namespace, None);
    assert_eq!(ping.methods[0].returns, json!({"type": "string"}));
    assert_eq!(ping.methods[0].error.as_deref(), Some("RpcError"));
}

/// Types as the macro reads them.
#[allow(dead_code)]
mod shapes {
    use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

    use oslo_rpc::json::RawJson;
    use oslo_rpc::prelude::*;

    /// A type the macro cannot look into.
    #[derive(serde::Serialize, serde::Deserialize)]
    pub(crate) struct Flavor {
        name: String,
    }

    #[rpc_endpoint(version = "1.0")]
    pub(crate) trait Shapes {
        #[allow(clippy::too_many_arguments, clippy::type_complexity)]
        async fn all(
            &self,
            flag: bool,
            small: u8,
            signed: i16,
            wide: u64,
            huge: u128,
            ratio: f32,
            letter: char,
            names: VecDeque<String>,
            tags: HashSet<String>,
            ordered: BTreeSet<i32>,
            scores: HashMap<String, f64>,
            sorted: BTreeMap<String, Vec<u8>>,
            pair: (i64, String),
            quad: [u8; 4],
            anything: serde_json::Value,
            raw: RawJson,
            boxed: Box<str>,
            flavor: Flavor,
            flavors: Option<Vec<Flavor>>,
        ) -> Result<(), RpcError>;
    }
}

#[test]
fn json_schema_follows_the_type_spelling() {
    let schema = shapes::ShapesClient::schema();
    let args: Vec<(&str, serde_json::Value)> = schema.methods[0]
        .args
        .iter()
        .map(|arg| (arg.name.as_str(), arg.schema.clone()))
        .collect();
    let expected = [
        ("flag", json!({"type": "boolean"})),
        (
            "small",
            json!({"type": "integer", "minimum": 0, "maximum": 255}),
        ),
        (
            "signed",
            json!({"type": "integer", "minimum": -32768, "maximum": 32767}),
        ),
        (
            "wide",
            json!({"type": "integer", "minimum": 0, "maximum": u64::MAX}),
        ),
        ("huge", json!({"type": "integer", "minimum": 0})),
        ("ratio", json!({"type": "number"})),
        ("letter", json!({"type": "string"})),
        (
            "names",
            json!({"type": "array", "items": {"type": "string"}}),
        ),
        (
            "tags",
            json!({"type": "array", "items": {"type": "string"}, "uniqueItems": true}),
        ),
        (
            "ordered",
            json!({"type": "array", "items": {"type": "integer", "minimum": i32::MIN, "maximum": i32::MAX}, "uniqueItems": true}),
        ),
        (
            "scores",
            json!({"type": "object", "additionalProperties": {"type": "number"}}),
        ),
        (
            "sorted",
            json!({"type": "object", "additionalProperties": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 255}}}),
        ),
        (
            "pair",
            json!({
                "type": "array",
                "prefixItems": [
                    {"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX},
                    {"type": "string"}
                ],
                "items": false,
                "minItems": 2,
                "maxItems": 2
            }),
        ),
        (
            "quad",
            json!({"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 255}, "minItems": 4, "maxItems": 4}),
        ),
        ("anything", json!({})),
        ("raw", json!({})),
        ("boxed", json!({"type": "string"})),
        ("flavor", json!({"x-rust-type": "Flavor"})),
        (
            "flavors",
            json!({"anyOf": [{"type": "array", "items": {"x-rust-type": "Flavor"}}, {"type": "null"}]}),
        ),
    ];
    assert_eq!(args.len(), expected.len());
    for ((name, got), (want_name, want)) in args.iter().zip(expected) {
        assert_eq!(*name, want_name);
        assert_eq!(got, &want, "{name}");
    }
    let flavors = &schema.methods[0].args[18];
    assert!(!flavors.required);
    assert!(schema.methods[0].args[0].required);
}

/// The `calc` interface one release later, three ways.
#[allow(dead_code)]
mod next {
    use oslo_rpc::prelude::*;
    use serde_json::Value;

    /// 1.4 done right: a new method and a new optional argument, both `since = "1.4"`.
    #[rpc_endpoint(namespace = "calc", version = "1.4")]
    pub(crate) trait Good {
        async fn add(&self, ctx: &Context, a: i64, b: i64) -> Result<i64, super::calc::CalcError>;
        #[rpc(since = "1.1")]
        async fn echo(&self, payload: Value) -> Result<Value, super::calc::CalcError>;
        async fn sleep(
            &self,
            seconds: f64,
            #[rpc(since = "1.4")] jitter: Option<f64>,
        ) -> Result<f64, super::calc::CalcError>;
        async fn fail(&self, kind: String) -> Result<(), super::calc::CalcError>;
        #[rpc(since = "1.2")]
        async fn resize(
            &self,
            ctx: &Context,
            size: u32,
            #[rpc(since = "1.3")] force: Option<bool>,
        ) -> Result<(), super::calc::CalcError>;
        #[rpc(since = "1.3")]
        async fn echo_floats(&self, values: Vec<f64>) -> Result<Vec<f64>, super::calc::CalcError>;
        #[rpc(since = "1.3")]
        async fn context(&self, ctx: &Context) -> Result<Value, super::calc::CalcError>;
        #[rpc(since = "1.4")]
        async fn square(&self, x: i64) -> Result<i64, super::calc::CalcError>;
    }

    /// A new method that forgot its `since` and the version bump.
    #[rpc_endpoint(namespace = "calc", version = "1.3")]
    pub(crate) trait Forgetful {
        async fn add(&self, ctx: &Context, a: i64, b: i64) -> Result<i64, super::calc::CalcError>;
        #[rpc(since = "1.1")]
        async fn echo(&self, payload: Value) -> Result<Value, super::calc::CalcError>;
        async fn sleep(&self, seconds: f64) -> Result<f64, super::calc::CalcError>;
        async fn fail(&self, kind: String) -> Result<(), super::calc::CalcError>;
        #[rpc(since = "1.2")]
        async fn resize(
            &self,
            ctx: &Context,
            size: u32,
            #[rpc(since = "1.3")] force: Option<bool>,
        ) -> Result<(), super::calc::CalcError>;
        #[rpc(since = "1.3")]
        async fn echo_floats(&self, values: Vec<f64>) -> Result<Vec<f64>, super::calc::CalcError>;
        #[rpc(since = "1.3")]
        async fn context(&self, ctx: &Context) -> Result<Value, super::calc::CalcError>;
        async fn square(&self, x: i64) -> Result<i64, super::calc::CalcError>;
    }

    /// Breaking: `add` takes floats, `fail` is gone, `resize` needs a new argument.
    #[rpc_endpoint(namespace = "calc", version = "1.4")]
    pub(crate) trait Breaking {
        async fn add(&self, ctx: &Context, a: f64, b: f64) -> Result<f64, super::calc::CalcError>;
        #[rpc(since = "1.1")]
        async fn echo(&self, payload: Value) -> Result<Value, super::calc::CalcError>;
        async fn sleep(&self, seconds: f64) -> Result<f64, super::calc::CalcError>;
        #[rpc(since = "1.2")]
        async fn resize(
            &self,
            ctx: &Context,
            size: u32,
            unit: String,
            #[rpc(since = "1.3")] force: Option<bool>,
        ) -> Result<(), super::calc::CalcError>;
        #[rpc(since = "1.3")]
        async fn echo_floats(&self, values: Vec<f64>) -> Result<Vec<f64>, super::calc::CalcError>;
        #[rpc(since = "1.3")]
        async fn context(&self, ctx: &Context) -> Result<Value, super::calc::CalcError>;
    }
}

fn summary(old: &EndpointSchema, new: &EndpointSchema) -> Vec<(Severity, String)> {
    check_evolution(old, new)
        .findings
        .into_iter()
        .map(|finding| (finding.severity, finding.description))
        .collect()
}

#[test]
fn evolution_of_generated_schemas() {
    let current = calc::CalcClient::schema();

    let good = summary(&current, &next::GoodClient::schema());
    assert_eq!(
        good,
        [
            (
                Severity::Ok,
                "method `sleep`: new optional argument `jitter` since 1.4".to_owned()
            ),
            (Severity::Ok, "new method `square` since 1.4".to_owned()),
        ]
    );

    let forgetful = check_evolution(&current, &next::ForgetfulClient::schema());
    assert!(forgetful.needs_minor_bump() && !forgetful.is_breaking());
    assert_eq!(forgetful.findings.len(), 1);
    assert!(
        forgetful.findings[0]
            .description
            .starts_with("new method `square` is sent as 1.0"),
        "{forgetful}"
    );

    let breaking = check_evolution(&current, &next::BreakingClient::schema());
    assert!(breaking.is_breaking(), "{breaking}");
    let text = breaking.to_string();
    for piece in [
        "breaking: method `add`: argument `a` type changed",
        "breaking: method `add`: argument `b` type changed",
        "breaking: method `add`: result type changed",
        "breaking: method `fail` removed",
        "breaking: method `resize`: new required argument `unit`",
        "breaking: breaking changes without a major version bump (1.3 -> 1.4)",
    ] {
        assert!(text.contains(piece), "missing {piece:?} in\n{text}");
    }
}
