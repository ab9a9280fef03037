//! Failures: the JSON text a server puts in a reply's `failure` string when the method
//! raised (spec §5.1), and its reading on the client (spec §5.2).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::CodecError;
use super::json;

/// An exception raised by the remote side, exactly as its `failure` described it (spec §5).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RemoteError {
    /// The exception class, e.g. `ValueError`.
    pub class: String,
    /// The class's module, e.g. `builtins` or `nova.exception`.
    pub module: String,
    /// `str(exc)` on the remote side.
    pub message: String,
    /// The remote traceback lines, each ending in a newline.
    pub traceback: Vec<String>,
    /// The exception's `args`.
    pub args: Vec<Value>,
    /// The exception's `kwargs` (oslo-style exceptions carry them).
    pub kwargs: Map<String, Value>,
}

impl RemoteError {
    /// A remote error with a class, module and message and no traceback.
    pub fn new(
        class: impl Into<String>,
        module: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let message = message.into();
        RemoteError {
            class: class.into(),
            module: module.into(),
            args: vec![Value::String(message.clone())],
            message,
            traceback: Vec::new(),
            kwargs: Map::new(),
        }
    }

    /// `module.Class`, the way Python names the exception type.
    ///
    /// ```
    /// let error = oslo_rpc_runtime::RemoteError::new("ValueError", "builtins", "bad size");
    /// assert_eq!(error.qualified_class(), "builtins.ValueError");
    /// assert_eq!(error.to_string(), "builtins.ValueError: bad size");
    /// ```
    pub fn qualified_class(&self) -> String {
        format!("{}.{}", self.module, self.class)
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}: {}", self.module, self.class, self.message)
    }
}

impl std::error::Error for RemoteError {}

const REMOTE_SUFFIX: &str = "_Remote";

/// Encodes a failure as oslo's JSON text: `class`, `module`, `message`, `tb`, `args`,
/// `kwargs`, in that order. A `_Remote` suffix on both class and module (an exception that
/// was itself rebuilt from a remote one) is removed, as oslo does.
pub fn encode_failure(error: &RemoteError) -> Result<String, CodecError> {
    let (class, module) = match (
        error.class.strip_suffix(REMOTE_SUFFIX),
        error.module.strip_suffix(REMOTE_SUFFIX),
    ) {
        (Some(class), Some(module)) => (class, module),
        _ => (error.class.as_str(), error.module.as_str()),
    };
    let failure = FailureOut {
        class,
        module,
        message: &error.message,
        tb: &error.traceback,
        args: &error.args,
        kwargs: &error.kwargs,
    };
    Ok(json::to_string(&failure)?)
}

/// Reads a failure's JSON text. Missing keys get neutral defaults; a non-object is an error.
pub fn decode_failure(text: &str) -> Result<RemoteError, CodecError> {
    let failure: FailureIn = json::from_str(text).map_err(|e| {
        CodecError::malformed(format!("reply failure is not a failure object: {e}"))
    })?;
    Ok(RemoteError {
        class: failure.class.unwrap_or_else(|| "Exception".to_owned()),
        module: failure.module.unwrap_or_else(|| "builtins".to_owned()),
        message: failure.message.map(value_text).unwrap_or_default(),
        traceback: failure
            .tb
            .map(|lines| lines.into_iter().map(value_text).collect())
            .unwrap_or_default(),
        args: failure.args.unwrap_or_default(),
        kwargs: failure.kwargs.unwrap_or_default(),
    })
}

/// A string as itself, anything else as its JSON text (Python would `str()` it).
fn value_text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

#[derive(Serialize)]
struct FailureOut<'a> {
    class: &'a str,
    module: &'a str,
    message: &'a str,
    tb: &'a [String],
    args: &'a [Value],
    kwargs: &'a Map<String, Value>,
}

#[derive(Deserialize)]
struct FailureIn {
    class: Option<String>,
    module: Option<String>,
    message: Option<Value>,
    tb: Option<Vec<Value>>,
    // `null` and absent both read as None, i.e. empty.
    args: Option<Vec<Value>>,
    kwargs: Option<Map<String, Value>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn failures_encode_in_oslo_key_order_and_strip_remote_suffix() {
        let mut error = RemoteError::new("CalcError_Remote", "calc_errors_Remote", "custom err");
        error.traceback = vec!["Traceback (most recent call last):\n".into()];
        error.kwargs.insert("code".into(), json!(7));
        assert_eq!(
            encode_failure(&error).unwrap(),
            r#"{"class": "CalcError", "module": "calc_errors", "message": "custom err", "tb": ["Traceback (most recent call last):\n"], "args": ["custom err"], "kwargs": {"code": 7}}"#
        );
        let half = RemoteError::new("Err_Remote", "mod", "x");
        assert!(
            encode_failure(&half)
                .unwrap()
                .starts_with(r#"{"class": "Err_Remote", "module": "mod""#)
        );
    }

    #[test]
    fn failures_decode_leniently_but_not_non_objects() {
        let error = decode_failure(r#"{"message": "m", "args": null, "tb": ["a\n", 3]}"#).unwrap();
        assert_eq!(
            (error.class.as_str(), error.module.as_str()),
            ("Exception", "builtins")
        );
        assert_eq!(error.traceback, ["a\n", "3"]);
        assert!(error.args.is_empty() && error.kwargs.is_empty());
        assert!(decode_failure("[1]").is_err());
        assert!(decode_failure("not json").is_err());
    }
}
