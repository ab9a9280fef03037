//! How the CLI reports a failure: the exit code for each kind, and the text (or JSON) on
//! stderr.

use std::process::ExitCode;

use oslo_rpc::{RemoteException, RpcError};
use serde_json::json;

/// Exit codes (documented in `--help`).
pub(crate) mod code {
    /// The server raised (a remote error, NoSuchMethod, UnsupportedVersion); or
    /// `schema check` found a breaking change.
    pub(crate) const REMOTE: u8 = 1;
    /// A bad URL, target, version, argument or option; or a version cap refusal.
    pub(crate) const USAGE: u8 = 2;
    /// No reply within the timeout (or the call-monitor timeout).
    pub(crate) const TIMEOUT: u8 = 3;
    /// The broker could not be reached (also when a call's time ran out before any
    /// connection was made), refused the login or virtual host, or failed.
    pub(crate) const TRANSPORT: u8 = 4;
}

/// A failure of a CLI command.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad input from the command line.
    Usage(String),
    /// An RPC that failed.
    Rpc(RpcError),
    /// `schema check` found a breaking change (the report is already printed).
    Breaking,
}

impl From<RpcError> for Failure {
    fn from(error: RpcError) -> Self {
        Failure::Rpc(error)
    }
}

impl Failure {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => code::USAGE,
            Failure::Breaking => code::REMOTE,
            Failure::Rpc(error) => match error {
                RpcError::Remote(_)
                | RpcError::NoSuchMethod { .. }
                | RpcError::UnsupportedVersion { .. } => code::REMOTE,
                RpcError::Timeout { .. } => code::TIMEOUT,
                RpcError::Transport(_) => code::TRANSPORT,
                _ => code::USAGE,
            },
        }
    }

    /// Prints the failure on stderr: one line of text, or one JSON object with `--json`.
    pub(crate) fn report(&self, as_json: bool) -> ExitCode {
        let exit = self.exit_code();
        if let Failure::Breaking = self {
            return ExitCode::from(exit);
        }
        if as_json {
            eprintln!("{}", self.to_json());
        } else {
            eprintln!("{}", self.to_line());
        }
        ExitCode::from(exit)
    }

    fn to_line(&self) -> String {
        match self {
            Failure::Usage(message) => format!("oslo-rpc: {message}"),
            Failure::Breaking => "oslo-rpc: breaking interface change".to_owned(),
            Failure::Rpc(error) if self.exit_code() == code::REMOTE => {
                format!(
                    "{}.{}: {}",
                    error.module_name(),
                    error.class_name(),
                    error.message()
                )
            }
            Failure::Rpc(error) => format!("oslo-rpc: {}", one_line(&error.to_string())),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            Failure::Usage(message) => json!({"error": "usage", "message": message}),
            Failure::Breaking => json!({"error": "breaking"}),
            Failure::Rpc(error) => {
                let kind = match self.exit_code() {
                    code::REMOTE => "remote",
                    code::TIMEOUT => "timeout",
                    code::TRANSPORT => "transport",
                    _ => "usage",
                };
                let mut out = json!({
                    "error": kind,
                    "class": error.class_name(),
                    "module": error.module_name(),
                    "message": error.message(),
                });
                if let Some(remote) = error.remote() {
                    out["traceback"] = json!(remote.traceback);
                    out["args"] = json!(remote.args);
                    out["kwargs"] = json!(remote.kwargs);
                }
                out
            }
        }
    }
}

/// Prints a warning on stderr: `oslo-rpc: warning: ...`, or `{"warning": "..."}` with `--json`.
pub(crate) fn warn(message: &str, as_json: bool) {
    if as_json {
        eprintln!("{}", json!({ "warning": message }));
    } else {
        eprintln!("oslo-rpc: warning: {}", one_line(message));
    }
}

fn one_line(text: &str) -> String {
    text.lines().collect::<Vec<_>>().join(" ")
}
