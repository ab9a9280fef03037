//! Schemas of versioned objects (`#[derive(VersionedObject)]`) and the evolution rules of
//! oslo.versionedobjects: within a major version, a new field needs a minor version bump
//! and a `since` above the old version, and no field may be removed or change type (older
//! peers fill and read exactly the fields of their version, and downgrades drop fields by
//! `since`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Finding, Severity};
use crate::version::RpcVersion;

/// The schema of one versioned object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ObjectSchema {
    /// The object's name on the wire.
    pub name: String,
    /// The serial namespace (`nova_object`, ...).
    pub serial_namespace: String,
    /// The project namespace (`nova`, ...).
    pub namespace: String,
    /// The version.
    pub version: RpcVersion,
    /// The fields, in declaration order.
    pub fields: Vec<ObjectFieldSchema>,
}

/// The schema of one field of an object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ObjectFieldSchema {
    /// The name in the primitive's data.
    pub name: String,
    /// The version that added it, if not the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<RpcVersion>,
    /// Whether every primitive carries it (`T`, and `Option<T>` without `since`).
    pub required: bool,
    /// JSON Schema of the value (as far as the type's spelling tells; a nested object is
    /// `{"x-rust-type": "<its type>"}` and has its own entry among the objects).
    pub schema: Value,
}

impl ObjectSchema {
    /// Reads a schema from JSON.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// A field by name.
    pub fn field(&self, name: &str) -> Option<&ObjectFieldSchema> {
        self.fields.iter().find(|field| field.name == name)
    }
}

/// The findings of the objects of two endpoint schemas, by object name. Object versions
/// are independent of the endpoint's: an endpoint major bump excuses none of these.
pub(super) fn compare_objects(old: &[ObjectSchema], new: &[ObjectSchema]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for old_object in old {
        match new.iter().find(|object| object.name == old_object.name) {
            None => findings.push(finding(
                Severity::Breaking,
                &old_object.name,
                format!(
                    "object `{}` removed from the interface (peers of {} still send it)",
                    old_object.name, old_object.version
                ),
            )),
            Some(new_object) => compare_object(&mut findings, old_object, new_object),
        }
    }
    for new_object in new {
        if !old.iter().any(|object| object.name == new_object.name) {
            findings.push(finding(
                Severity::Ok,
                &new_object.name,
                format!("new object `{}` {}", new_object.name, new_object.version),
            ));
        }
    }
    findings
}

fn compare_object(findings: &mut Vec<Finding>, old: &ObjectSchema, new: &ObjectSchema) {
    let name = &old.name;
    let mut push =
        |severity, description: String| findings.push(finding(severity, name, description));
    let (old_version, new_version) = (old.version, new.version);
    if old.serial_namespace != new.serial_namespace || old.namespace != new.namespace {
        push(
            Severity::Breaking,
            format!(
                "object `{name}`: namespaces changed from {}/{} to {}/{}: peers refuse it",
                old.serial_namespace, old.namespace, new.serial_namespace, new.namespace
            ),
        );
    }
    if new_version < old_version {
        push(
            Severity::Breaking,
            format!("object `{name}`: version goes backwards from {old_version} to {new_version}"),
        );
    }
    if new_version.major() != old_version.major() {
        push(
            Severity::Breaking,
            format!(
                "object `{name}`: major version change {old_version} -> {new_version}: peers of \
                 {}.x refuse it",
                old_version.major()
            ),
        );
    }
    for old_field in &old.fields {
        let Some(new_field) = new.field(&old_field.name) else {
            push(
                Severity::Breaking,
                format!(
                    "object `{name}`: field `{}` removed (peers of {old_version} expect it)",
                    old_field.name
                ),
            );
            continue;
        };
        if old_field.schema != new_field.schema {
            push(
                Severity::Breaking,
                format!(
                    "object `{name}`: field `{}` type changed from {} to {}",
                    old_field.name, old_field.schema, new_field.schema
                ),
            );
        }
        if old_field.since != new_field.since {
            push(
                Severity::Breaking,
                format!(
                    "object `{name}`: field `{}` since changed from {} to {}: downgrades to \
                     the versions between now keep or drop it wrongly",
                    old_field.name,
                    since_text(old_field.since),
                    since_text(new_field.since)
                ),
            );
        }
        if new_field.required && !old_field.required {
            push(
                Severity::Breaking,
                format!(
                    "object `{name}`: field `{}` became required (peers of {old_version} may \
                     leave it out)",
                    old_field.name
                ),
            );
        }
    }
    let mut added = false;
    for new_field in &new.fields {
        if old.field(&new_field.name).is_some() {
            continue;
        }
        added = true;
        let versioned =
            new_version > old_version && new_field.since.is_some_and(|since| since > old_version);
        if versioned {
            push(
                Severity::Ok,
                format!(
                    "object `{name}`: new field `{}` since {}",
                    new_field.name,
                    since_text(new_field.since)
                ),
            );
        } else {
            push(
                Severity::Breaking,
                format!(
                    "object `{name}`: field `{}` added without a minor version bump: give it \
                     `since` above {old_version} and raise the object's version to it (peers \
                     of {old_version} would receive a field they do not have, and downgrades \
                     would not drop it)",
                    new_field.name
                ),
            );
        }
    }
    if new_version > old_version && new_version.major() == old_version.major() && !added {
        push(
            Severity::Ok,
            format!("object `{name}`: version {old_version} -> {new_version}"),
        );
    }
}

fn since_text(since: Option<RpcVersion>) -> String {
    since.map_or_else(|| "(first version)".to_owned(), |since| since.to_string())
}

fn finding(severity: Severity, object: &str, description: String) -> Finding {
    Finding {
        severity,
        method: None,
        argument: None,
        object: Some(object.to_owned()),
        description,
    }
}
