//! The oslo-rpc runtime: everything that runs when a Rust service speaks oslo.messaging RPC.
//!
//! Users normally depend on the facade crate `oslo-rpc`, which re-exports the user-facing
//! items of this crate by name (its `public-api/oslo-rpc.txt` lists them).
//! The wire protocol and its semantics are specified in `oslo-rabbit-wire.md`; comments
//! cite its sections as "spec §N". The facade's documentation is the guide; this crate's
//! is the reference.
//!
//! # Map
//!
//! | module | what |
//! |--------|------|
//! | [`transport`] | [`Transport`]: the bus (RabbitMQ or `memory://`), its drivers and settings |
//! | [`client`] | [`RpcClient`]: calls and casts with oslo's `prepare()` options |
//! | [`server`] | [`RpcServer`]: consumes a target's queues and dispatches to endpoints |
//! | [`dispatch`] | [`Endpoint`], [`DynamicEndpoint`], oslo's method selection and access policies |
//! | [`context`] | [`Context`]: the request context (`request_id`, `user_id`, ...) |
//! | [`target`], [`version`] | [`Target`] and [`RpcVersion`], oslo's version rules |
//! | [`error`] | [`RpcError`], [`RemoteError`] and [`RemoteException`] |
//! | [`url`], [`config`], [`rabbit_options`] | transport URLs, oslo config files, `[oslo_messaging_rabbit]` |
//! | [`notify`] | oslo notifications: [`notify::Notifier`] and [`notify::NotificationListener`] |
//! | [`objects`] | oslo.versionedobjects primitives and version manifests |
//! | [`schema`] | interface schemas and their compatibility check |
//! | [`tap`] | watching the requests sent to a topic |
//! | [`telemetry`] | the `tracing` spans and events the runtime emits |
//! | [`wire`] | the oslo.messaging message format (JSON envelope, requests, replies) |
//!
//! ```
//! use oslo_rpc_runtime::{Context, DynamicEndpoint, RpcClient, RpcError, RpcServer, Target, Transport};
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), RpcError> {
//! let transport = Transport::new("memory://doc-runtime")?;
//! let server = RpcServer::builder(transport.clone(), Target::server("t", "s"))
//!     .endpoint(
//!         DynamicEndpoint::builder()
//!             .method("ping", |_ctx, _args| async { Ok::<_, RpcError>(json!("pong")) })
//!             .build(),
//!     )
//!     .build()?
//!     .start()
//!     .await?;
//! let client = RpcClient::new(transport.clone(), Target::topic("t"));
//! assert_eq!(client.call(&Context::new(), "ping", json!({})).await?, json!("pong"));
//! server.stop().await?;
//! transport.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub mod client;
mod clock;
pub mod config;
pub mod context;
pub mod dispatch;
pub mod error;
pub mod notify;
pub mod objects;
/// The `[oslo_messaging_rabbit]` options: [`transport::rabbit::options`], re-exported here
/// under their former path.
pub mod rabbit_options {
    pub use crate::transport::rabbit::options::*;
}
pub mod schema;
pub mod server;
pub mod tap;
pub mod target;
mod tasks;
pub mod telemetry;
pub mod transport;
pub mod url;
/// oslo RPC versions: the [`oslo_rpc_version`] crate, which the macros share.
pub mod version {
    pub use oslo_rpc_version::*;
}
pub mod wire;

pub use client::{CallOptions, RpcClient};
pub use context::Context;
pub use dispatch::{AccessPolicy, DynamicEndpoint, Endpoint};
pub use error::{RemoteError, RemoteException, RpcError, TransportError};
pub use server::{RpcServer, RpcServerBuilder, ServerHandle};
pub use target::Target;
pub use transport::{Transport, TransportBuilder, TransportConfig};
pub use url::TransportUrl;
pub use version::RpcVersion;
