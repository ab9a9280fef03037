#![doc = include_str!("guide.md")]
// The facade names every item it exports: a new item of the runtime is public here only
// once it is listed below, and `public-api/oslo-rpc.txt` (tests/public_api.rs) shows the
// change in review. What generated code needs is in `__private`.

#[doc = include_str!("rpc_endpoint.md")]
pub use rpc_macros::rpc_endpoint;

#[doc = include_str!("notification_endpoint.md")]
pub use rpc_macros::notification_endpoint;

#[doc = include_str!("versioned_object.md")]
pub use rpc_macros::VersionedObject;
pub use rpc_runtime::objects::VersionedObject;

pub use rpc_runtime::client::{CallOptions, RpcClient};
pub use rpc_runtime::context::Context;
pub use rpc_runtime::dispatch::{AccessPolicy, DynamicEndpoint, DynamicEndpointBuilder, Endpoint};
pub use rpc_runtime::error::{RemoteError, RemoteException, RpcError, TransportError};
pub use rpc_runtime::server::{RpcServer, RpcServerBuilder, ServerHandle};
pub use rpc_runtime::target::Target;
pub use rpc_runtime::transport::{Transport, TransportBuilder, TransportConfig};
pub use rpc_runtime::url::TransportUrl;
pub use rpc_runtime::version::RpcVersion;

/// Errors: what a call returns ([`RpcError`]) and what a peer's failure carries.
pub mod error {
    pub use rpc_runtime::error::{
        DISPATCHER_MODULE, RemoteError, RemoteException, RpcError, TransportError,
        TransportErrorKind,
    };
    pub use rpc_runtime::wire::CodecError;
}

/// oslo RPC versions (`X.Y[.Z]`) and oslo's compatibility rule.
pub mod version {
    pub use rpc_runtime::version::{RpcVersion, VersionError, version_is_compatible};
}

/// Transport URLs: `rabbit://user:pass@h1:5672,h2/vhost?option=value`, `memory://`.
pub mod url {
    pub use rpc_runtime::url::{DEFAULT_PORT, Secret, TransportHost, TransportUrl, UrlError};
}

/// The bus and its settings, and the RabbitMQ driver's options.
pub mod transport {
    pub use rpc_runtime::transport::{
        BoxFuture, SHUTDOWN_GRACE, SUPPORTED_SCHEMES, Transport, TransportBuilder, TransportConfig,
    };

    /// The RabbitMQ driver's settings: TLS and the `[oslo_messaging_rabbit]` options.
    pub mod rabbit {
        pub use rpc_runtime::transport::rabbit::{
            DEFAULT_PREFETCH, TlsError, TlsOptions, TlsVersion,
        };

        /// The `[oslo_messaging_rabbit]` options, as URL query parameters or config files
        /// give them.
        pub mod options {
            pub use rpc_runtime::transport::rabbit::options::{
                FailoverStrategy, LoginMethod, OptionError, RabbitOptions,
            };
        }
    }
}

/// oslo config files: `[DEFAULT]`, `[oslo_messaging_rabbit]`, `[oslo_messaging_notifications]`.
pub mod config {
    pub use rpc_runtime::config::{
        ConfigError, ConfigSource, ConfigWarning, Location, NotificationOptions, OsloConfig,
    };
}

/// The server's limits.
pub mod server {
    pub use rpc_runtime::server::{
        DEFAULT_MAX_CONCURRENCY, MAX_CONCURRENCY, RpcServer, RpcServerBuilder, STOP_REPLY_GRACE,
        ServerHandle,
    };
}

/// oslo notifications: sending them ([`Notifier`](notify::Notifier)) and listening to them
/// ([`NotificationListener`](notify::NotificationListener), `#[notification_endpoint]`).
pub mod notify {
    pub use rpc_runtime::notify::{
        BatchNotificationEndpoint, BatchNotificationListenerBuilder, DEFAULT_MAX_CONCURRENCY,
        DEFAULT_TOPIC, IntoOutcome, ListenerBuilder, ListenerHandle, Metadata, Notification,
        NotificationEndpoint, NotificationFilter, NotificationListener,
        NotificationListenerBuilder, Notifier, NotifyDriver, Outcome, Priority, RawNotification,
    };
}

/// oslo.versionedobjects: objects as Python services send them, and version manifests.
pub mod objects {
    pub use rpc_runtime::objects::{
        DateTime, DateTimeError, Field, FieldInfo, IpNetwork, IpNetworkError, ObjectData,
        ObjectError, ObjectInfo, ObjectState, OutOfRange, Presence, VersionManifest,
        VersionedObject, as_datetime,
    };
}

/// Interface schemas (what `#[rpc_endpoint]` writes) and the check of their evolution.
pub mod schema {
    pub use rpc_runtime::schema::{
        ArgSchema, EndpointSchema, EvolutionReport, Finding, MethodSchema, ObjectFieldSchema,
        ObjectSchema, Severity, check_evolution,
    };
}

/// JSON in Python's dialect (`NaN`, `Infinity`), as oslo peers read and write it.
pub mod json {
    pub use rpc_runtime::wire::json::{
        JsonError, RawJson, from_slice, from_str, to_string, to_vec, to_writer,
    };
}

pub use rpc_runtime::telemetry;

/// The names most programs need: `use oslo_rpc::prelude::*;`.
pub mod prelude {
    pub use rpc_macros::{VersionedObject, notification_endpoint, rpc_endpoint};
    pub use rpc_runtime::notify::{
        Notification, NotificationFilter, NotificationListener, Notifier, Outcome, Priority,
    };
    pub use rpc_runtime::objects::{ObjectState, VersionedObject};
    pub use rpc_runtime::{
        CallOptions, Context, DynamicEndpoint, Endpoint, RemoteError, RemoteException, RpcClient,
        RpcError, RpcServer, RpcVersion, Target, Transport,
    };
}

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
