//! The oslo.messaging wire format (spec §3–§5): the 2.0 envelope, requests (call and cast),
//! replies, call-monitor heartbeats and failures, in Python's exact JSON dialect.
//!
//! Encoding reproduces the bytes a Python peer sends (key order, separators, escapes,
//! float forms); decoding accepts what any oslo peer may send (any key order, legacy
//! non-enveloped dicts, `NaN`/`Infinity`).

pub(crate) use buffers::take as take_buffer;

mod buffers;
mod envelope;
mod failure;
mod ids;
pub mod json;
mod reply;
mod request;

pub(crate) use buffers::recycle;
pub use envelope::{ENVELOPE_VERSION, open_envelope, seal_envelope};
pub use failure::{RemoteError, decode_failure, encode_failure};
pub(crate) use ids::new_id;
pub use json::{JsonError, RawJson};
pub use reply::{FailureField, Reply, decode_reply, encode_reply};
pub(crate) use reply::{REPLY_START, encode_owned_reply};
pub use request::{Args, CallHeader, Request, RequestHeader, decode_request, encode_request};

/// The only content type oslo accepts (spec §3.1 receiving side, §3.4).
pub const CONTENT_TYPE: &str = "application/json";
/// The content encoding oslo sends (spec §3.4).
pub const CONTENT_ENCODING: &str = "utf-8";

/// A message could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The body or the inner message is not valid JSON (in Python's dialect).
    #[error("malformed JSON in message: {0}")]
    Json(#[from] JsonError),
    /// The body is not UTF-8.
    #[error("message body is not valid UTF-8")]
    NotUtf8,
    /// The envelope's `oslo.version` is not compatible with 2.0 (oslo's
    /// `UnsupportedRpcEnvelopeVersion`, spec §3.1).
    #[error("unsupported envelope version {0:?}: this peer speaks oslo envelope 2.0")]
    EnvelopeVersion(String),
    /// The message has the wrong shape: not an object, a field of the wrong type, ...
    #[error("malformed message: {0}")]
    Malformed(String),
    /// The AMQP content type is not `application/json` (spec §3.1: kombu rejects it).
    #[error("content type {0:?} is not application/json")]
    ContentType(Option<String>),
}

impl CodecError {
    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        CodecError::Malformed(message.into())
    }
}

/// Checks the AMQP content type of an incoming message (spec §3.1).
pub(crate) fn check_content_type(content_type: Option<&str>) -> Result<(), CodecError> {
    match content_type {
        Some(CONTENT_TYPE) => Ok(()),
        other => Err(CodecError::ContentType(other.map(str::to_owned))),
    }
}

/// A short JSON type name for error messages.
pub(crate) fn json_type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod fixture_tests;
