//! # oslo-rpc
//!
//! Typed RPC for Rust that speaks the oslo.messaging wire protocol, so Rust services can
//! call, serve and be called by OpenStack's Python services over RabbitMQ.
//!
//! An interface is a trait; [`rpc_endpoint`] turns it into a typed client and a server
//! dispatch table (see its documentation for everything it generates):
//!
//! ```
//! use oslo_rpc::prelude::*;
//!
//! #[rpc_endpoint(namespace = "calc", version = "1.3")]
//! pub trait Calc {
//!     async fn add(&self, ctx: &Context, a: i64, b: i64) -> Result<i64, RpcError>;
//! }
//!
//! struct MyCalc;
//!
//! impl Calc for MyCalc {
//!     async fn add(&self, _ctx: &Context, a: i64, b: i64) -> Result<i64, RpcError> {
//!         Ok(a + b)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), RpcError> {
//! // The in-process transport needs no broker; `rabbit://...` reaches RabbitMQ.
//! let transport = Transport::connect("memory://doc-typed").await?;
//! let server = RpcServer::builder(transport.clone(), Target::server("calc", "host-1"))
//!     .endpoint(CalcEndpoint::new(MyCalc))
//!     .build()?
//!     .start()
//!     .await?;
//!
//! let calc = CalcClient::new(RpcClient::new(transport, Target::topic("calc")));
//! assert_eq!(calc.add(&Context::new(), 2, 3).await?, 5);
//! server.stop().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Without a trait, [`DynamicEndpoint`] serves methods written as closures over JSON values,
//! and [`RpcClient::call`] sends keyword arguments as JSON:
//!
//! ```
//! use oslo_rpc::prelude::*;
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), RpcError> {
//! let transport = Transport::connect("memory://doc-example").await?;
//!
//! let calc = DynamicEndpoint::builder()
//!     .namespace("calc")
//!     .version(RpcVersion::new(1, 3))
//!     .method("add", |_ctx, args| async move {
//!         let (a, b) = (args["a"].as_i64().unwrap_or(0), args["b"].as_i64().unwrap_or(0));
//!         Ok::<_, RpcError>(json!(a + b))
//!     })
//!     .build();
//! let server = RpcServer::builder(transport.clone(), Target::server("calc", "host-1"))
//!     .endpoint(calc)
//!     .build()?
//!     .start()
//!     .await?;
//!
//! let client = RpcClient::new(transport, Target::topic("calc").with_namespace("calc"));
//! let sum = client.call(&Context::new(), "add", json!({"a": 2, "b": 3})).await?;
//! assert_eq!(sum, json!(5));
//! server.stop().await?;
//! # Ok(())
//! # }
//! ```

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
