//! `RpcError`, the one error type of the runtime, and `RemoteException`, the trait that lets
//! a user's error type choose the class and module a Python peer sees (spec §5).

use std::fmt;

use serde_json::{Map, Value};

use crate::config::ConfigError;
use crate::url::UrlError;
use crate::version::VersionError;
use crate::wire::CodecError;
pub use crate::wire::RemoteError;

/// Module of oslo's dispatcher exceptions (`NoSuchMethod`, `UnsupportedVersion`), spec §5.1.
pub const DISPATCHER_MODULE: &str = "oslo_messaging.rpc.dispatcher";

/// Everything that can go wrong with a call, a cast or a server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    /// No reply arrived in time: either the overall timeout or the call-monitor timeout
    /// (no heartbeat from the server for that long) expired.
    #[error(
        "timed out after {seconds}s waiting for a reply to {method} on {target} \
         (message ID {msg_id}){}{}",
        if *.call_monitor { ", no call-monitor heartbeat" } else { "" },
        .unreachable.as_ref().map(|e| format!("; the broker could not be reached: {e}")).unwrap_or_default()
    )]
    Timeout {
        /// The target the call went to, as `Target`'s `Display` renders it.
        target: String,
        /// The RPC method.
        method: String,
        /// The timeout that expired, in seconds.
        seconds: f64,
        /// The call's `_msg_id`.
        msg_id: String,
        /// True when the call-monitor timeout expired rather than the overall timeout.
        call_monitor: bool,
        /// When the transport had no connection to the broker as the time ran out, its last
        /// connection error (e.g. a TLS certificate refused): the connection was lost after
        /// the request was handed over. A request the broker was never reached for fails
        /// with [`TransportErrorKind::Unreachable`] instead, not a timeout.
        unreachable: Option<String>,
    },
    /// The server raised an exception; its class, module, message and traceback as sent.
    #[error("{0}")]
    Remote(Box<RemoteError>),
    /// No endpoint compatible with the request implements the method (oslo `NoSuchMethod`).
    #[error("Endpoint does not support RPC method {method}")]
    NoSuchMethod {
        /// The method that was asked for.
        method: String,
    },
    /// No endpoint in the namespace serves the requested version (oslo `UnsupportedVersion`).
    #[error("Endpoint does not support RPC version {version}. Attempted method: {method}")]
    UnsupportedVersion {
        /// The version the request carried (`1.0` when it carried none).
        version: String,
        /// The method that was asked for.
        method: String,
    },
    /// The client refused to send: the message version is above the client's `version_cap`
    /// (oslo `RPCVersionCapError`, spec §6.2). Nothing was sent.
    #[error(
        "refusing to send {method}: message version {} is not compatible with version_cap {cap}",
        .version.as_deref().unwrap_or("(none)")
    )]
    VersionCap {
        /// The method that was not sent.
        method: String,
        /// The message version (None when the target has no version, which oslo also refuses).
        version: Option<String>,
        /// The cap in force.
        cap: String,
    },
    /// A target lacks what the operation needs (oslo `InvalidTarget`); the text names the field.
    #[error("invalid target: {0}")]
    InvalidTarget(String),
    /// A transport URL could not be parsed or names an unknown option.
    #[error(transparent)]
    InvalidUrl(#[from] UrlError),
    /// oslo config files that cannot be used (see [`crate::config`]). Boxed: it is large
    /// and rare, and every call returns an `RpcError`.
    #[error(transparent)]
    InvalidConfig(Box<ConfigError>),
    /// A version string is malformed.
    #[error(transparent)]
    InvalidVersion(#[from] VersionError),
    /// An argument could not be used: not serializable, or not a JSON object of kwargs.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The broker could not be reached or refused an operation.
    #[error("transport error: {0}")]
    Transport(#[from] TransportError),
    /// A message could not be encoded or decoded.
    #[error(transparent)]
    Codec(#[from] CodecError),
}

impl RpcError {
    /// Builds a transport error from a message.
    pub fn transport(message: impl Into<String>) -> Self {
        RpcError::Transport(TransportError::new(message))
    }

    /// The remote exception, when this error came from the server's `failure`.
    pub fn remote(&self) -> Option<&RemoteError> {
        match self {
            RpcError::Remote(remote) => Some(remote),
            _ => None,
        }
    }

    /// Rebuilds the user's own error type from a remote failure, when `E` recognises it.
    pub fn rebuild<E: RemoteException>(&self) -> Option<E> {
        self.remote().and_then(E::from_remote)
    }

    /// True for errors a caller may retry later (timeouts and transport failures).
    ///
    /// ```
    /// use oslo_rpc_runtime::RpcError;
    ///
    /// assert!(RpcError::transport("connection reset").is_transient());
    /// assert!(!RpcError::InvalidTarget("a call needs a topic".into()).is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        matches!(self, RpcError::Timeout { .. } | RpcError::Transport(_))
    }
}

impl From<ConfigError> for RpcError {
    fn from(error: ConfigError) -> Self {
        RpcError::InvalidConfig(Box::new(error))
    }
}

/// A failure of the transport layer: connection refused, channel closed, publish not confirmed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    message: String,
    kind: TransportErrorKind,
}

/// What kind of transport failure happened, for the callers that react differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// Anything else: connection lost, channel closed, broker error.
    Other,
    /// A mandatory message had no queue to go to (`basic.return` NO_ROUTE); spec §4.5.
    Unroutable,
    /// The transport was shut down.
    Closed,
    /// The broker could not be reached before the operation's deadline: the message was
    /// not sent. The error names the host and the last connection error.
    Unreachable,
    /// The broker refused the login or the virtual host (`ACCESS_REFUSED`, `NOT_ALLOWED`):
    /// the operation failed at once, as waiting would not help.
    AccessRefused,
}

impl TransportError {
    /// A transport error of kind `Other`.
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_kind(TransportErrorKind::Other, message)
    }

    /// A transport error of the given kind.
    pub fn with_kind(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        TransportError {
            message: message.into(),
            kind,
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }
}

// The type lives beside its wire format (`wire::failure`); the conversion from a user's
// error type lives here, with `RemoteException`.
impl RemoteError {
    /// The failure a method's error becomes on the wire (no traceback yet).
    pub fn from_exception<E: RemoteException + ?Sized>(error: &E) -> Self {
        RemoteError {
            class: error.class_name().to_owned(),
            module: error.module_name().to_owned(),
            message: error.message(),
            traceback: Vec::new(),
            args: error.args(),
            kwargs: error.kwargs(),
        }
    }
}

impl From<RemoteError> for RpcError {
    fn from(remote: RemoteError) -> Self {
        RpcError::Remote(Box::new(remote))
    }
}

/// An error type a server method may return: it chooses what a Python peer sees.
///
/// A Python client rebuilds the exception from `module` and `class` when the module is in
/// its `allowed_remote_exmods` (builtins always are), and as `RemoteError` otherwise
/// (spec §5.2). `message` is `str(exc)` on the Python side; `args` and `kwargs` are passed
/// to the exception's constructor when it is rebuilt.
pub trait RemoteException: fmt::Display + Send + Sync + 'static {
    /// The Python exception class name, e.g. `ValueError`.
    fn class_name(&self) -> &str;

    /// The Python module of the class; `builtins` unless overridden.
    fn module_name(&self) -> &str {
        "builtins"
    }

    /// `str(exc)` as the Python peer will see it; the `Display` text unless overridden.
    fn message(&self) -> String {
        self.to_string()
    }

    /// The exception's `args`; by default the message alone, like `Exception(message)`.
    fn args(&self) -> Vec<Value> {
        vec![Value::String(self.message())]
    }

    /// The exception's `kwargs` (oslo/nova exceptions carry e.g. `{"code": 7}`).
    fn kwargs(&self) -> Map<String, Value> {
        Map::new()
    }

    /// Rebuilds this type on the client side from a remote failure, when it recognises it.
    fn from_remote(remote: &RemoteError) -> Option<Self>
    where
        Self: Sized,
    {
        let _ = remote;
        None
    }
}

impl RemoteException for RemoteError {
    fn class_name(&self) -> &str {
        &self.class
    }
    fn module_name(&self) -> &str {
        &self.module
    }
    fn args(&self) -> Vec<Value> {
        self.args.clone()
    }
    fn kwargs(&self) -> Map<String, Value> {
        self.kwargs.clone()
    }
    fn message(&self) -> String {
        self.message.clone()
    }
    fn from_remote(remote: &RemoteError) -> Option<Self> {
        Some(remote.clone())
    }
}

/// Errors of the runtime map to the oslo exception classes a Python peer knows, so a Rust
/// server that propagates, say, a timeout from a nested call looks like a Python one.
impl RemoteException for RpcError {
    fn class_name(&self) -> &str {
        match self {
            RpcError::Remote(remote) => &remote.class,
            RpcError::Timeout { .. } => "MessagingTimeout",
            RpcError::NoSuchMethod { .. } => "NoSuchMethod",
            RpcError::UnsupportedVersion { .. } => "UnsupportedVersion",
            RpcError::VersionCap { .. } => "RPCVersionCapError",
            RpcError::InvalidTarget(_) => "InvalidTarget",
            RpcError::Transport(_) => "MessageDeliveryFailure",
            RpcError::InvalidArgument(_) => "TypeError",
            RpcError::InvalidConfig(_) => "ConfigFileValueError",
            RpcError::InvalidUrl(_) | RpcError::InvalidVersion(_) | RpcError::Codec(_) => {
                "ValueError"
            }
        }
    }

    fn module_name(&self) -> &str {
        match self {
            RpcError::Remote(remote) => &remote.module,
            RpcError::NoSuchMethod { .. } | RpcError::UnsupportedVersion { .. } => {
                DISPATCHER_MODULE
            }
            RpcError::VersionCap { .. } => "oslo_messaging.rpc.client",
            RpcError::InvalidConfig(_) => "oslo_config.cfg",
            RpcError::Timeout { .. } | RpcError::InvalidTarget(_) | RpcError::Transport(_) => {
                "oslo_messaging.exceptions"
            }
            RpcError::InvalidArgument(_)
            | RpcError::InvalidUrl(_)
            | RpcError::InvalidVersion(_)
            | RpcError::Codec(_) => "builtins",
        }
    }

    fn args(&self) -> Vec<Value> {
        match self {
            RpcError::Remote(remote) => remote.args.clone(),
            other => vec![Value::String(other.to_string())],
        }
    }

    fn kwargs(&self) -> Map<String, Value> {
        match self {
            RpcError::Remote(remote) => remote.kwargs.clone(),
            _ => Map::new(),
        }
    }

    fn message(&self) -> String {
        match self {
            RpcError::Remote(remote) => remote.message.clone(),
            other => other.to_string(),
        }
    }

    fn from_remote(remote: &RemoteError) -> Option<Self> {
        Some(RpcError::from(remote.clone()))
    }
}
