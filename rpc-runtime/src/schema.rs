//! Endpoint schemas: what an interface looks like on the wire (namespace, version, methods
//! with their wire names, `since`, keyword arguments and result as JSON Schema), and the
//! evolution check that compares two of them.
//!
//! `#[rpc_endpoint]` generates `<Trait>Client::schema()`. The JSON Schema of each type is
//! derived from how the type is written in the trait (the macro sees tokens, not types):
//! primitives, `Option`, sequences, maps, tuples and `serde_json::Value` are described;
//! any other type is `{"x-rust-type": "<the type as written>"}`.
//!
//! [`check_evolution`] tells whether a new version of an interface still serves the
//! clients of the old one, following oslo's versioning rules (spec §6.3): within a major
//! version, servers must accept every message older clients send, and additions must be
//! marked with a minor version (`since`) so newer clients can tell which servers have them.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::version::RpcVersion;

mod objects;

pub use objects::{ObjectFieldSchema, ObjectSchema};

/// The schema of one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EndpointSchema {
    /// The trait's name.
    pub name: String,
    /// The namespace; `None` is oslo's null namespace.
    pub namespace: Option<String>,
    /// The version the endpoint implements.
    pub version: RpcVersion,
    /// The methods, in declaration order.
    pub methods: Vec<MethodSchema>,
    /// The versioned objects the methods take or return (directly, in containers, or as
    /// fields of other objects), each once, in order of first use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ObjectSchema>,
}

/// The schema of one method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MethodSchema {
    /// The name on the wire.
    pub name: String,
    /// The Rust method's name (differs from `name` when renamed).
    pub rust_name: String,
    /// The version the method is sent as: its `since`, or `X.0` of the endpoint's major.
    pub since: RpcVersion,
    /// The keyword arguments, in declaration order.
    pub args: Vec<ArgSchema>,
    /// JSON Schema of the result.
    pub returns: Value,
    /// The Rust error type, as written.
    pub error: Option<String>,
}

/// The schema of one keyword argument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ArgSchema {
    /// The keyword name.
    pub name: String,
    /// For an optional argument added later: the version that added it (clients leave it
    /// out for servers below that version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<RpcVersion>,
    /// Whether a request must carry it (false for `Option<T>`).
    pub required: bool,
    /// JSON Schema of the value.
    pub schema: Value,
}

impl EndpointSchema {
    /// Reads a schema from JSON (the format of [`to_pretty_json`](Self::to_pretty_json)).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Pretty JSON with a trailing newline: fields in declaration order, methods and
    /// arguments in the trait's order, so the text is stable and diffs well.
    pub fn to_pretty_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self)
            .unwrap_or_else(|error| format!("{{\"error\": {:?}}}", error.to_string()));
        text.push('\n');
        text
    }

    /// A method by wire name.
    pub fn method(&self, name: &str) -> Option<&MethodSchema> {
        self.methods.iter().find(|method| method.name == name)
    }

    /// A versioned object by name.
    pub fn object(&self, name: &str) -> Option<&ObjectSchema> {
        self.objects.iter().find(|object| object.name == name)
    }
}

impl MethodSchema {
    /// An argument by keyword name.
    pub fn arg(&self, name: &str) -> Option<&ArgSchema> {
        self.args.iter().find(|arg| arg.name == name)
    }
}

/// How much a change matters to the clients and servers of the old version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Compatible and correctly versioned (listed for the record).
    Ok,
    /// Compatible with old clients, but newer clients cannot tell which servers have the
    /// addition: it needs a `since` above the old version and a minor version bump.
    NeedsMinorBump,
    /// Old clients (or the old wire contract) break.
    Breaking,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Ok => "ok",
            Severity::NeedsMinorBump => "needs-minor-bump",
            Severity::Breaking => "breaking",
        })
    }
}

/// One difference between two schemas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// The method concerned (wire name), if any.
    pub method: Option<String>,
    /// The argument concerned, if any.
    pub argument: Option<String>,
    /// The versioned object concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// One line naming the method or argument and what changed.
    pub description: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity, self.description)
    }
}

/// What [`check_evolution`] found, in the order: version and namespace, then methods in the
/// old schema's order, then new methods, then the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EvolutionReport {
    /// The old version.
    pub old_version: RpcVersion,
    /// The new version.
    pub new_version: RpcVersion,
    /// Every finding.
    pub findings: Vec<Finding>,
}

impl EvolutionReport {
    /// True when clients or servers of the old version break (the CLI fails on this).
    pub fn is_breaking(&self) -> bool {
        self.worst() == Some(Severity::Breaking)
    }

    /// True when something needs a `since` or a minor version bump (and nothing breaks).
    pub fn needs_minor_bump(&self) -> bool {
        self.worst() == Some(Severity::NeedsMinorBump)
    }

    /// The most severe finding's severity; `None` when the schemas are the same.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|finding| finding.severity).max()
    }

    /// The findings of one severity.
    pub fn with_severity(&self, severity: Severity) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(move |finding| finding.severity == severity)
    }
}

impl fmt::Display for EvolutionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} -> {}", self.old_version, self.new_version)?;
        if self.findings.is_empty() {
            return writeln!(f, "no changes");
        }
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        Ok(())
    }
}

/// Compares an interface's old and new schema and reports, one finding per change:
///
/// * breaking: the version going backwards; a changed namespace; a removed method or
///   argument; a changed argument or result type; a new required argument; an argument
///   that became required; any breaking change without a major version bump; and a major
///   bump itself (servers of the new major refuse every old client);
/// * needs-minor-bump: a new method, or a new optional argument, without a `since` above
///   the old version (with the endpoint's version raised to it);
/// * ok: correctly versioned additions, an argument that became optional, a changed error
///   type or `since`, and, under a major bump, every change.
///
/// The versioned objects of the two schemas are compared by name, after the endpoint's
/// findings and whatever its version did (object versions are their own): breaking are a
/// removed object, changed namespaces, a version going backwards or changing major, a
/// removed field, a field whose type, `since` or presence changed, and a field added
/// without a minor version bump and a `since` above the old version.
pub fn check_evolution(old: &EndpointSchema, new: &EndpointSchema) -> EvolutionReport {
    let mut findings = Findings::default();
    let (old_version, new_version) = (old.version, new.version);
    let major_bump = new_version.major() > old_version.major();

    if new_version < old_version {
        findings.push(
            Severity::Breaking,
            None,
            None,
            format!("version goes backwards from {old_version} to {new_version}"),
        );
    }
    if old.namespace != new.namespace {
        findings.change(
            None,
            None,
            format!(
                "namespace changed from {} to {}: clients of {old_version} send to the old one",
                namespace_text(&old.namespace),
                namespace_text(&new.namespace)
            ),
        );
    }
    for old_method in &old.methods {
        match new.method(&old_method.name) {
            None => findings.change(
                Some(&old_method.name),
                None,
                format!("method `{}` removed", old_method.name),
            ),
            Some(new_method) => compare_method(&mut findings, old, old_method, new_method),
        }
    }
    for new_method in &new.methods {
        if old.method(&new_method.name).is_some() {
            continue;
        }
        let versioned = new_method.since > old_version && new_version > old_version;
        if versioned || major_bump {
            findings.push(
                Severity::Ok,
                Some(&new_method.name),
                None,
                format!(
                    "new method `{}` since {}",
                    new_method.name, new_method.since
                ),
            );
        } else {
            findings.push(
                Severity::NeedsMinorBump,
                Some(&new_method.name),
                None,
                format!(
                    "new method `{}` is sent as {}, which servers of {old_version} claim to \
                     serve: give it a `since` above {old_version} and raise the version to it",
                    new_method.name, new_method.since
                ),
            );
        }
    }

    let mut findings = findings.list;
    if major_bump {
        // The new major is a new contract: every change is allowed, and the bump itself is
        // what breaks the old clients.
        for finding in &mut findings {
            if finding.severity != Severity::Ok {
                finding.severity = Severity::Ok;
                finding
                    .description
                    .push_str(" (allowed by the major version bump)");
            }
        }
        findings.push(Finding {
            severity: Severity::Breaking,
            method: None,
            argument: None,
            object: None,
            description: format!(
                "major version bump {old_version} -> {new_version}: servers of {} refuse \
                 every client of {}.x",
                new_version.major(),
                old_version.major()
            ),
        });
    } else if findings.iter().any(|f| f.severity == Severity::Breaking)
        && new_version >= old_version
    {
        findings.push(Finding {
            severity: Severity::Breaking,
            method: None,
            argument: None,
            object: None,
            description: format!(
                "breaking changes without a major version bump ({old_version} -> {new_version})"
            ),
        });
    }
    findings.extend(objects::compare_objects(&old.objects, &new.objects));
    EvolutionReport {
        old_version,
        new_version,
        findings,
    }
}

fn compare_method(
    findings: &mut Findings,
    old: &EndpointSchema,
    old_method: &MethodSchema,
    new_method: &MethodSchema,
) {
    let name = &old_method.name;
    let method = Some(name.as_str());
    if old_method.returns != new_method.returns {
        findings.change(
            method,
            None,
            format!(
                "method `{name}`: result type changed from {} to {}",
                old_method.returns, new_method.returns
            ),
        );
    }
    if old_method.error != new_method.error {
        findings.push(
            Severity::Ok,
            method,
            None,
            format!(
                "method `{name}`: error type changed from {} to {}",
                old_method.error.as_deref().unwrap_or("(none)"),
                new_method.error.as_deref().unwrap_or("(none)")
            ),
        );
    }
    if old_method.since != new_method.since {
        findings.push(
            Severity::Ok,
            method,
            None,
            format!(
                "method `{name}`: now sent as {} (was {})",
                new_method.since, old_method.since
            ),
        );
    }
    for old_arg in &old_method.args {
        let arg = Some(old_arg.name.as_str());
        let Some(new_arg) = new_method.arg(&old_arg.name) else {
            findings.change(
                method,
                arg,
                format!(
                    "method `{name}`: argument `{}` removed (clients of {} still send it)",
                    old_arg.name, old.version
                ),
            );
            continue;
        };
        if old_arg.schema != new_arg.schema {
            if !new_arg.required && is_nullable_of(&new_arg.schema, &old_arg.schema) {
                findings.push(
                    Severity::Ok,
                    method,
                    arg,
                    format!(
                        "method `{name}`: argument `{}` became optional",
                        old_arg.name
                    ),
                );
            } else {
                findings.change(
                    method,
                    arg,
                    format!(
                        "method `{name}`: argument `{}` type changed from {} to {}",
                        old_arg.name, old_arg.schema, new_arg.schema
                    ),
                );
            }
        } else if new_arg.required && !old_arg.required {
            findings.change(
                method,
                arg,
                format!(
                    "method `{name}`: argument `{}` became required",
                    old_arg.name
                ),
            );
        }
    }
    for new_arg in &new_method.args {
        if old_method.arg(&new_arg.name).is_some() {
            continue;
        }
        let arg = Some(new_arg.name.as_str());
        if new_arg.required {
            findings.change(
                method,
                arg,
                format!(
                    "method `{name}`: new required argument `{}` (clients of {} do not send \
                     it)",
                    new_arg.name, old.version
                ),
            );
            continue;
        }
        match new_arg.since {
            Some(since) if since > old.version => findings.push(
                Severity::Ok,
                method,
                arg,
                format!(
                    "method `{name}`: new optional argument `{}` since {since}",
                    new_arg.name
                ),
            ),
            _ => findings.push(
                Severity::NeedsMinorBump,
                method,
                arg,
                format!(
                    "method `{name}`: new optional argument `{}` has no `since` above {}: \
                     servers of {} would refuse it as unexpected",
                    new_arg.name, old.version, old.version
                ),
            ),
        }
    }
}

/// `{"anyOf": [inner, {"type": "null"}]}`: how an `Option<T>` of `inner` is described.
fn is_nullable_of(schema: &Value, inner: &Value) -> bool {
    match schema.get("anyOf").and_then(Value::as_array) {
        Some(options) => {
            options.len() == 2
                && &options[0] == inner
                && options[1] == serde_json::json!({"type": "null"})
        }
        None => false,
    }
}

fn namespace_text(namespace: &Option<String>) -> String {
    match namespace {
        Some(namespace) => format!("`{namespace}`"),
        None => "the null namespace".to_owned(),
    }
}

#[derive(Default)]
struct Findings {
    list: Vec<Finding>,
}

impl Findings {
    fn push(
        &mut self,
        severity: Severity,
        method: Option<&str>,
        argument: Option<&str>,
        description: String,
    ) {
        self.list.push(Finding {
            severity,
            method: method.map(str::to_owned),
            argument: argument.map(str::to_owned),
            object: None,
            description,
        });
    }

    /// A change that breaks old clients.
    fn change(&mut self, method: Option<&str>, argument: Option<&str>, description: String) {
        self.push(Severity::Breaking, method, argument, description);
    }
}

#[cfg(test)]
mod tests;
