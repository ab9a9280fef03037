//! Table tests of the evolution check: pairs of schemas and the findings they must give.

use serde_json::{Value, json};

use super::*;

fn version(text: &str) -> RpcVersion {
    RpcVersion::parse(text).unwrap()
}

fn int() -> Value {
    json!({"type": "integer"})
}

fn string() -> Value {
    json!({"type": "string"})
}

fn nullable(inner: Value) -> Value {
    json!({"anyOf": [inner, {"type": "null"}]})
}

fn required(name: &str, schema: Value) -> ArgSchema {
    ArgSchema {
        name: name.to_owned(),
        since: None,
        required: true,
        schema,
    }
}

fn optional(name: &str, since: Option<&str>, inner: Value) -> ArgSchema {
    ArgSchema {
        name: name.to_owned(),
        since: since.map(version),
        required: false,
        schema: nullable(inner),
    }
}

fn method(name: &str, since: &str, args: Vec<ArgSchema>, returns: Value) -> MethodSchema {
    MethodSchema {
        name: name.to_owned(),
        rust_name: name.to_owned(),
        since: version(since),
        args,
        returns,
        error: Some("CalcError".to_owned()),
    }
}

fn endpoint(version_text: &str, methods: Vec<MethodSchema>) -> EndpointSchema {
    EndpointSchema {
        name: "Calc".to_owned(),
        namespace: Some("calc".to_owned()),
        version: version(version_text),
        methods,
        objects: Vec::new(),
    }
}

/// The `calc` interface at 1.2: `add(a, b) -> int`, `resize(size)` since 1.2.
fn base() -> EndpointSchema {
    endpoint(
        "1.2",
        vec![
            method(
                "add",
                "1.0",
                vec![required("a", int()), required("b", int())],
                int(),
            ),
            method(
                "resize",
                "1.2",
                vec![required("size", int())],
                json!({"type": "null"}),
            ),
        ],
    )
}

fn with(change: impl FnOnce(&mut EndpointSchema)) -> EndpointSchema {
    let mut schema = base();
    change(&mut schema);
    schema
}

struct Case {
    name: &'static str,
    new: EndpointSchema,
    /// (severity, a piece of the description) for every finding, in order.
    findings: &'static [(Severity, &'static str)],
}

#[test]
fn evolution_table() {
    let cases = vec![
        Case {
            name: "identical schemas",
            new: base(),
            findings: &[],
        },
        Case {
            name: "a version bump alone",
            new: with(|s| s.version = version("1.3")),
            findings: &[],
        },
        Case {
            name: "removed method",
            new: with(|s| {
                s.methods.remove(1);
            }),
            findings: &[
                (Severity::Breaking, "method `resize` removed"),
                (
                    Severity::Breaking,
                    "without a major version bump (1.2 -> 1.2)",
                ),
            ],
        },
        Case {
            name: "removed argument",
            new: with(|s| {
                s.methods[0].args.remove(1);
            }),
            findings: &[
                (Severity::Breaking, "method `add`: argument `b` removed"),
                (Severity::Breaking, "without a major version bump"),
            ],
        },
        Case {
            name: "changed argument type",
            new: with(|s| s.methods[0].args[0].schema = string()),
            findings: &[
                (
                    Severity::Breaking,
                    "method `add`: argument `a` type changed from {\"type\":\"integer\"} to \
                     {\"type\":\"string\"}",
                ),
                (Severity::Breaking, "without a major version bump"),
            ],
        },
        Case {
            name: "changed result type",
            new: with(|s| s.methods[0].returns = string()),
            findings: &[
                (Severity::Breaking, "method `add`: result type changed"),
                (Severity::Breaking, "without a major version bump"),
            ],
        },
        Case {
            name: "new required argument",
            new: with(|s| {
                s.version = version("1.3");
                s.methods[0].args.push(required("c", int()));
            }),
            findings: &[
                (
                    Severity::Breaking,
                    "method `add`: new required argument `c`",
                ),
                (
                    Severity::Breaking,
                    "without a major version bump (1.2 -> 1.3)",
                ),
            ],
        },
        Case {
            name: "argument became optional",
            new: with(|s| s.methods[0].args[1] = optional("b", None, int())),
            findings: &[(Severity::Ok, "method `add`: argument `b` became optional")],
        },
        Case {
            name: "new optional argument with since and a minor bump",
            new: with(|s| {
                s.version = version("1.3");
                s.methods[1]
                    .args
                    .push(optional("force", Some("1.3"), json!({"type": "boolean"})));
            }),
            findings: &[(
                Severity::Ok,
                "method `resize`: new optional argument `force` since 1.3",
            )],
        },
        Case {
            name: "new optional argument without since",
            new: with(|s| {
                s.version = version("1.3");
                s.methods[1]
                    .args
                    .push(optional("force", None, json!({"type": "boolean"})));
            }),
            findings: &[(
                Severity::NeedsMinorBump,
                "method `resize`: new optional argument `force` has no `since` above 1.2",
            )],
        },
        Case {
            name: "new optional argument whose since the old version already had",
            new: with(|s| {
                s.methods[1]
                    .args
                    .push(optional("force", Some("1.2"), json!({"type": "boolean"})));
            }),
            findings: &[(
                Severity::NeedsMinorBump,
                "argument `force` has no `since` above 1.2",
            )],
        },
        Case {
            name: "new method with since and a minor bump",
            new: with(|s| {
                s.version = version("1.3");
                s.methods.push(method("echo", "1.3", vec![], json!({})));
            }),
            findings: &[(Severity::Ok, "new method `echo` since 1.3")],
        },
        Case {
            name: "new method without a minor bump",
            new: with(|s| s.methods.push(method("echo", "1.2", vec![], json!({})))),
            findings: &[(
                Severity::NeedsMinorBump,
                "new method `echo` is sent as 1.2, which servers of 1.2 claim to serve",
            )],
        },
        Case {
            name: "new method with a bump but the old since",
            new: with(|s| {
                s.version = version("1.3");
                s.methods.push(method("echo", "1.0", vec![], json!({})));
            }),
            findings: &[(Severity::NeedsMinorBump, "new method `echo` is sent as 1.0")],
        },
        Case {
            name: "version going backwards",
            new: with(|s| s.version = version("1.1")),
            findings: &[(Severity::Breaking, "version goes backwards from 1.2 to 1.1")],
        },
        Case {
            name: "namespace change",
            new: with(|s| s.namespace = None),
            findings: &[
                (
                    Severity::Breaking,
                    "namespace changed from `calc` to the null namespace",
                ),
                (Severity::Breaking, "without a major version bump"),
            ],
        },
        Case {
            name: "breaking changes under a major bump",
            new: with(|s| {
                s.version = version("2.0");
                s.methods.remove(1);
                s.methods[0].since = version("2.0");
                s.methods.push(method("ping", "2.0", vec![], string()));
            }),
            findings: &[
                (Severity::Ok, "method `add`: now sent as 2.0 (was 1.0)"),
                (
                    Severity::Ok,
                    "method `resize` removed (allowed by the major version bump)",
                ),
                (Severity::Ok, "new method `ping` since 2.0"),
                (
                    Severity::Breaking,
                    "major version bump 1.2 -> 2.0: servers of 2 refuse every client of 1.x",
                ),
            ],
        },
        Case {
            name: "renamed Rust method, same wire name; changed error type",
            new: with(|s| {
                s.methods[0].rust_name = "plus".to_owned();
                s.methods[0].error = Some("RpcError".to_owned());
            }),
            findings: &[(
                Severity::Ok,
                "method `add`: error type changed from CalcError to RpcError",
            )],
        },
    ];
    for case in cases {
        let report = check_evolution(&base(), &case.new);
        let got: Vec<(Severity, &str)> = report
            .findings
            .iter()
            .map(|f| (f.severity, f.description.as_str()))
            .collect();
        assert_eq!(
            got.len(),
            case.findings.len(),
            "{}: findings {got:#?}",
            case.name
        );
        for ((severity, description), (want_severity, want_piece)) in got.iter().zip(case.findings)
        {
            assert_eq!(severity, want_severity, "{}: {description}", case.name);
            assert!(
                description.contains(want_piece),
                "{}: {description:?} should contain {want_piece:?}",
                case.name
            );
        }
        let breaking = case
            .findings
            .iter()
            .any(|(severity, _)| *severity == Severity::Breaking);
        assert_eq!(report.is_breaking(), breaking, "{}", case.name);
    }
}

#[test]
fn findings_name_method_and_argument() {
    let new = with(|s| {
        s.methods[0].args.remove(1);
    });
    let report = check_evolution(&base(), &new);
    let finding = &report.findings[0];
    assert_eq!(finding.method.as_deref(), Some("add"));
    assert_eq!(finding.argument.as_deref(), Some("b"));
    assert_eq!(
        finding.to_string(),
        "breaking: method `add`: argument `b` removed (clients of 1.2 still send it)"
    );
    assert!(report.to_string().starts_with("1.2 -> 1.2\nbreaking: "));
    assert!(!report.needs_minor_bump());
}

#[test]
fn schema_json_round_trips_with_a_stable_layout() {
    let schema = with(|s| {
        s.methods[1]
            .args
            .push(optional("force", Some("1.3"), json!({"type": "boolean"})));
    });
    let text = schema.to_pretty_json();
    assert_eq!(EndpointSchema::from_json(&text).unwrap(), schema);
    // Field order is the declaration order; `since` is left out when absent.
    let name = text.find("\"name\"").unwrap();
    let namespace = text.find("\"namespace\"").unwrap();
    let version = text.find("\"version\"").unwrap();
    assert!(name < namespace && namespace < version);
    assert_eq!(text.matches("\"since\": \"1.3\"").count(), 1);
    assert!(text.ends_with("}\n"));
}

/// Found by fuzzing (`fuzz/regressions/schema/`): serde_json's default float reader read
/// this bound one ulp off after the pretty form wrote it, so a schema did not read back
/// as itself; the workspace enables `float_roundtrip`.
#[test]
fn schemas_read_back_floats_exactly() {
    let text = r#"{"name": "Calc", "namespace": null, "version": "1.3", "methods": [
        {"name": "add", "rust_name": "add", "since": "1.0", "args": [
            {"name": "a", "required": true,
             "schema": {"type": "integer", "minimum": -9.230332726854777e+18}}],
         "returns": {"type": "integer"}}]}"#;
    let schema = EndpointSchema::from_json(text).unwrap();
    let minimum = &schema.methods[0].args[0].schema["minimum"];
    assert_eq!(minimum.as_f64(), Some(-9.230332726854777e18));
    assert_eq!(
        EndpointSchema::from_json(&schema.to_pretty_json()).unwrap(),
        schema
    );
}
