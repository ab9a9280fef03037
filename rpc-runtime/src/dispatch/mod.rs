//! The dispatch table: endpoints, oslo's endpoint selection (spec §6.1) and access
//! policies. Generated endpoints (the `#[rpc_endpoint]` macro) and
//! [`DynamicEndpoint`] both implement [`Endpoint`].

mod dynamic;
mod kwargs;
pub(crate) mod panics;

use std::fmt;
use std::sync::Arc;

pub use dynamic::{DynamicEndpoint, DynamicEndpointBuilder};
pub use kwargs::{Kwargs, Param};
pub use panics::{PANIC_CLASS, PANIC_MODULE};

use crate::context::Context;
use crate::error::{RemoteError, RemoteException, RpcError};
use crate::transport::BoxFuture;
use crate::version::RpcVersion;
use crate::wire::{Args, RawJson, Request};

/// The version an endpoint without one implements, and a request without one asks for.
pub const DEFAULT_VERSION: RpcVersion = RpcVersion::new(1, 0);

/// The failure a method sends back instead of a result (boxed: it is large and rare).
pub type Failure = Box<RemoteError>;

/// What a dispatched method resolves to: its encoded result, or the failure to send back.
pub type DispatchFuture = BoxFuture<'static, Result<RawJson, Failure>>;

/// A set of RPC methods served under one namespace and version (an oslo endpoint object
/// with its `target`).
pub trait Endpoint: Send + Sync + 'static {
    /// The namespace; `None` is oslo's null namespace.
    fn namespace(&self) -> Option<&str>;

    /// The version implemented; `None` counts as `1.0` (spec §6.1).
    fn version(&self) -> Option<RpcVersion>;

    /// Whether a request in `namespace` may reach this endpoint: by default only its own
    /// namespace (override to add oslo's `legacy_namespaces`).
    fn accepts_namespace(&self, namespace: Option<&str>) -> bool {
        self.namespace() == namespace
    }

    /// Whether the endpoint has a method of that wire name.
    fn has_method(&self, method: &str) -> bool;

    // Hidden: its argument and result types are the wire's; endpoints are made by
    // `#[rpc_endpoint]` and `DynamicEndpoint`, and the server calls this.
    /// Runs a method. Argument errors are failures (`TypeError`), never panics.
    #[doc(hidden)]
    fn dispatch(&self, ctx: Context, method: &str, args: Args) -> DispatchFuture;
}

/// Which methods a server lets callers reach (oslo's RPC access policies, spec §6.1).
#[derive(Clone, Default)]
pub enum AccessPolicy {
    /// oslo's `DefaultRPCAccessPolicy`: refuses names starting with `_`.
    #[default]
    Default,
    /// oslo's `LegacyRPCAccessPolicy`: allows every method.
    Legacy,
    /// A custom rule on the method name.
    Custom(Arc<dyn Fn(&str) -> bool + Send + Sync>),
}

impl AccessPolicy {
    /// Whether `method` may be called.
    pub fn is_allowed(&self, method: &str) -> bool {
        match self {
            AccessPolicy::Default => !method.starts_with('_'),
            AccessPolicy::Legacy => true,
            AccessPolicy::Custom(rule) => rule(method),
        }
    }
}

impl fmt::Debug for AccessPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccessPolicy::Default => "Default",
            AccessPolicy::Legacy => "Legacy",
            AccessPolicy::Custom(_) => "Custom",
        })
    }
}

/// The endpoints of a server in registration order, and its access policy.
#[derive(Clone)]
pub(crate) struct Dispatcher {
    endpoints: Vec<Arc<dyn Endpoint>>,
    policy: AccessPolicy,
}

impl Dispatcher {
    pub(crate) fn new(endpoints: Vec<Arc<dyn Endpoint>>, policy: AccessPolicy) -> Self {
        Dispatcher { endpoints, policy }
    }

    /// Finds the endpoint for a request and starts the method; lookup failures are
    /// answered as oslo answers them.
    pub(crate) fn dispatch(&self, request: Request) -> DispatchFuture {
        match self.select(&request) {
            Ok(endpoint) => endpoint.dispatch(request.context, &request.method, request.args),
            Err(failure) => Box::pin(std::future::ready(Err(failure))),
        }
    }

    /// oslo's selection loop (spec §6.1): the first endpoint, in registration order, that
    /// accepts the namespace, can serve the version, has the method and whose access
    /// policy allows it. NoSuchMethod when some endpoint was compatible, UnsupportedVersion
    /// otherwise.
    fn select(&self, request: &Request) -> Result<&Arc<dyn Endpoint>, Failure> {
        if let Some(problem) = &request.problem {
            return Err(type_error(format!("malformed request: {problem}")));
        }
        let requested = match request.version.as_deref() {
            None => DEFAULT_VERSION,
            Some(text) => RpcVersion::parse(text).map_err(|e| value_error(e.to_string()))?,
        };
        let method = request.method.as_str();
        let mut found_compatible = false;
        for endpoint in &self.endpoints {
            if !endpoint.accepts_namespace(request.namespace.as_deref()) {
                continue;
            }
            let implemented = endpoint.version().unwrap_or(DEFAULT_VERSION);
            if !implemented.can_serve(&requested) {
                continue;
            }
            if endpoint.has_method(method) && self.policy.is_allowed(method) {
                return Ok(endpoint);
            }
            found_compatible = true;
        }
        let error = if found_compatible {
            RpcError::NoSuchMethod {
                method: method.to_owned(),
            }
        } else {
            RpcError::UnsupportedVersion {
                version: request
                    .version
                    .clone()
                    .unwrap_or_else(|| DEFAULT_VERSION.to_string()),
                method: method.to_owned(),
            }
        };
        Err(failure_of(&error))
    }
}

/// A `builtins.TypeError` failure: what Python raises for missing, unexpected or
/// ill-typed keyword arguments.
pub(crate) fn type_error(message: impl Into<String>) -> Failure {
    Box::new(RemoteError::new("TypeError", "builtins", message))
}

/// A `builtins.ValueError` failure.
pub fn value_error(message: impl Into<String>) -> Failure {
    Box::new(RemoteError::new("ValueError", "builtins", message))
}

/// Encodes a method's return value as the reply's `result`.
///
/// The value is written once, already escaped as the reply's envelope carries it and
/// after the reply's first bytes, so the reply goes on in the same buffer; its plain text
/// ([`RawJson::as_str`]) is made only if asked for.
pub fn encode_result<T: serde::Serialize + ?Sized>(value: &T) -> Result<RawJson, Failure> {
    RawJson::from_serialize_escaped(value, crate::wire::REPLY_START)
        .map_err(|error| value_error(format!("the result could not be encoded: {error}")))
}

/// Turns a method's error into the failure a peer sees.
pub fn failure_of<E: RemoteException + ?Sized>(error: &E) -> Failure {
    Box::new(RemoteError::from_exception(error))
}

#[cfg(test)]
mod tests;
