//! `oslo-rpc schema check`: exit 0 for compatible changes, 1 for breaking ones, 2 for
//! unreadable input; on the real `schemas/calc.json` and edited copies of it.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn calc_schema() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas/calc.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("schemas/calc.json")).expect("JSON")
}

fn write(name: &str, schema: &Value) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oslo-rpc-cli-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(schema).expect("JSON")).expect("write");
    path
}

fn check(old: &PathBuf, new: &PathBuf, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oslo-rpc"))
        .args(["schema", "check"])
        .args(extra)
        .arg(old)
        .arg(new)
        .output()
        .expect("run oslo-rpc")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn identical_schemas_pass() {
    let old = write("same-old.json", &calc_schema());
    let output = check(&old, &old, &[]);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stdout(&output).contains("no changes"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_removed_method_is_breaking() {
    let old = write("removed-old.json", &calc_schema());
    let mut new = calc_schema();
    new["methods"]
        .as_array_mut()
        .unwrap()
        .retain(|m| m["name"] != "fail");
    new["version"] = "1.4".into();
    let new = write("removed-new.json", &new);
    let output = check(&old, &new, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(
        text.contains("method `fail` removed") && text.contains("BREAKING"),
        "{text}"
    );

    let output = check(&old, &new, &["--json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&output)).expect("JSON report");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["severity"] == "breaking")
    );
}

#[test]
fn an_unversioned_addition_fails_only_when_strict() {
    let old = write("added-old.json", &calc_schema());
    let mut new = calc_schema();
    let mut added = new["methods"][0].clone();
    added["name"] = "square".into();
    added["rust_name"] = "square".into();
    new["methods"].as_array_mut().unwrap().push(added);
    let new = write("added-new.json", &new);
    let output = check(&old, &new, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("needs-minor-bump"),
        "{}",
        stdout(&output)
    );
    assert_eq!(check(&old, &new, &["--strict"]).status.code(), Some(1));
}

#[test]
fn unreadable_input_exits_2() {
    let old = write("bad-old.json", &calc_schema());
    let missing = PathBuf::from("/nonexistent/schema.json");
    let output = check(&old, &missing, &[]);
    assert_eq!(output.status.code(), Some(2));
    let garbage = write("bad-new.json", &Value::String("not a schema".into()));
    assert_eq!(check(&old, &garbage, &[]).status.code(), Some(2));
}

/// The `Instance` object of a compute schema.
fn instance(schema: &mut Value) -> &mut Value {
    schema["objects"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|o| o["name"] == "Instance")
        .expect("Instance in schemas/compute.json")
}

/// On `schemas/compute.json` (the versioned-object example): object fields follow
/// oslo.versionedobjects' rules.
#[test]
fn object_field_changes_follow_the_object_rules() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas/compute.json");
    let compute: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schemas/compute.json"))
            .expect("JSON");
    let old = write("objects-old.json", &compute);

    // A field added with a minor bump and `since`: fine.
    let mut added = compute.clone();
    let object = instance(&mut added);
    object["version"] = "1.4".into();
    object["fields"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!(
            {"name": "node", "since": "1.4", "required": false, "schema": {"type": "string"}}
        ));
    let output = check(&old, &write("objects-added.json", &added), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("new field `node` since 1.4"),
        "{}",
        stdout(&output)
    );

    // The same field without the bump, and a field removed: breaking, naming the object.
    let mut broken = compute.clone();
    let object = instance(&mut broken);
    let fields = object["fields"].as_array_mut().unwrap();
    fields.retain(|f| f["name"] != "host");
    fields.push(serde_json::json!({"name": "node", "required": false, "schema": {}}));
    let output = check(&old, &write("objects-broken.json", &broken), &["--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).expect("JSON report");
    let breaking: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "breaking" && f["object"] == "Instance")
        .map(|f| f["description"].as_str().unwrap())
        .collect();
    assert!(
        breaking.iter().any(|d| d.contains("field `host` removed")),
        "{breaking:?}"
    );
    assert!(
        breaking
            .iter()
            .any(|d| d.contains("field `node` added without a minor version bump")),
        "{breaking:?}"
    );
}
