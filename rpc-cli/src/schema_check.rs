//! `oslo-rpc schema check OLD.json NEW.json`: the evolution check of two interface
//! schemas (as `#[rpc_endpoint]` writes them), for CI pipelines.

use std::path::Path;

use oslo_rpc::schema::{EndpointSchema, EvolutionReport, Severity, check_evolution};

use crate::failure::Failure;

/// What the check concluded, for the exit code.
pub(crate) enum Verdict {
    /// Nothing breaks (and with `--strict`, nothing needs a minor bump).
    Compatible,
    /// Something breaks old clients or servers.
    Breaking,
}

/// Compares two schema files and prints the report (text, or JSON with `as_json`).
pub(crate) fn run(old: &Path, new: &Path, strict: bool, as_json: bool) -> Result<Verdict, Failure> {
    let old_schema = read(old)?;
    let new_schema = read(new)?;
    let report = check_evolution(&old_schema, &new_schema);
    if as_json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| Failure::Usage(format!("cannot print the report: {e}")))?;
        println!("{text}");
    } else {
        print!("{}", render(&new_schema.name, &report));
    }
    let failing =
        report.is_breaking() || (strict && report.worst() == Some(Severity::NeedsMinorBump));
    Ok(if failing {
        Verdict::Breaking
    } else {
        Verdict::Compatible
    })
}

fn read(path: &Path) -> Result<EndpointSchema, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
    EndpointSchema::from_json(&text)
        .map_err(|e| Failure::Usage(format!("{} is not an endpoint schema: {e}", path.display())))
}

fn render(name: &str, report: &EvolutionReport) -> String {
    if report.findings.is_empty() {
        return format!(
            "{name} {} -> {}: no changes\n",
            report.old_version, report.new_version
        );
    }
    let verdict = match report.worst() {
        None => "no changes", // unreachable after the early return, kept for totality
        Some(Severity::Ok) => "compatible",
        Some(Severity::NeedsMinorBump) => {
            "compatible, but additions need a `since` and a minor version bump"
        }
        Some(Severity::Breaking) => "BREAKING",
    };
    format!("{name} {report}=> {verdict}\n")
}
