#![doc = include_str!("guide.md")]

pub use rpc_runtime::*;

#[doc = include_str!("rpc_endpoint.md")]
pub use rpc_macros::rpc_endpoint;

#[doc = include_str!("notification_endpoint.md")]
pub use rpc_macros::notification_endpoint;

#[doc = include_str!("versioned_object.md")]
pub use rpc_macros::VersionedObject;
pub use rpc_runtime::objects::VersionedObject;

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
