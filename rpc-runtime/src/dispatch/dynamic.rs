//! `DynamicEndpoint`: an endpoint built at run time from closures over JSON values, for
//! servers without a Rust trait (tools, tests, proxies). Typed endpoints come from the
//! `#[rpc_endpoint]` macro.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::{DispatchFuture, Endpoint, encode_result, failure_of, type_error};
use crate::context::Context;
use crate::error::RemoteException;
use crate::version::RpcVersion;
use crate::wire::Args;

type Handler = Arc<dyn Fn(Context, Map<String, Value>) -> DispatchFuture + Send + Sync>;

/// An endpoint whose methods take and return JSON values.
///
/// ```
/// use oslo_rpc_runtime::{dispatch::DynamicEndpoint, RpcError, RpcVersion};
/// use serde_json::json;
///
/// let endpoint = DynamicEndpoint::builder()
///     .namespace("calc")
///     .version(RpcVersion::new(1, 3))
///     .method("add", |_ctx, args| async move {
///         let a = args["a"].as_i64().unwrap_or(0);
///         let b = args["b"].as_i64().unwrap_or(0);
///         Ok::<_, RpcError>(json!(a + b))
///     })
///     .build();
/// ```
#[derive(Clone)]
pub struct DynamicEndpoint {
    namespace: Option<String>,
    version: Option<RpcVersion>,
    methods: HashMap<String, Handler>,
}

impl DynamicEndpoint {
    /// A builder for an endpoint in the null namespace at version `1.0`.
    pub fn builder() -> DynamicEndpointBuilder {
        DynamicEndpointBuilder {
            endpoint: DynamicEndpoint {
                namespace: None,
                version: None,
                methods: HashMap::new(),
            },
        }
    }
}

impl fmt::Debug for DynamicEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut methods: Vec<&String> = self.methods.keys().collect();
        methods.sort();
        f.debug_struct("DynamicEndpoint")
            .field("namespace", &self.namespace)
            .field("version", &self.version)
            .field("methods", &methods)
            .finish()
    }
}

/// Builds a [`DynamicEndpoint`].
#[must_use]
pub struct DynamicEndpointBuilder {
    endpoint: DynamicEndpoint,
}

impl DynamicEndpointBuilder {
    /// Sets the namespace.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.endpoint.namespace = Some(namespace.into());
        self
    }

    /// Sets the version implemented.
    pub fn version(mut self, version: RpcVersion) -> Self {
        self.endpoint.version = Some(version);
        self
    }

    /// Adds a method taking the request context and the keyword arguments as a JSON
    /// object (non-finite floats read as `null`), returning a JSON value or an error that
    /// chooses the Python exception class.
    pub fn method<F, Fut, E>(mut self, name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(Context, Map<String, Value>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, E>> + Send + 'static,
        E: RemoteException,
    {
        let handler: Handler = Arc::new(move |ctx, args| {
            let future = handler(ctx, args);
            Box::pin(async move {
                match future.await {
                    Ok(value) => encode_result(&value),
                    Err(error) => Err(failure_of(&error)),
                }
            })
        });
        self.endpoint.methods.insert(name.into(), handler);
        self
    }

    /// The endpoint.
    pub fn build(self) -> DynamicEndpoint {
        self.endpoint
    }
}

impl Endpoint for DynamicEndpoint {
    fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    fn version(&self) -> Option<RpcVersion> {
        self.version
    }

    fn has_method(&self, method: &str) -> bool {
        self.methods.contains_key(method)
    }

    fn dispatch(&self, ctx: Context, method: &str, args: Args) -> DispatchFuture {
        let Some(handler) = self.methods.get(method) else {
            return Box::pin(std::future::ready(Err(type_error(format!(
                "no method {method}"
            )))));
        };
        match args.to_map() {
            Ok(args) => handler(ctx, args),
            Err(error) => Box::pin(std::future::ready(Err(type_error(format!(
                "{method}() arguments could not be read: {error}"
            ))))),
        }
    }
}
