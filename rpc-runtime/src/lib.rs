//! The oslo-rpc runtime: everything that runs when a Rust service speaks oslo.messaging RPC.
//!
//! Users normally depend on the facade crate `oslo-rpc`, which re-exports this crate.
//! The wire protocol and its semantics are specified in `oslo-rabbit-wire.md`; comments
//! cite its sections as "spec §N".

pub mod client;
mod clock;
pub mod config;
pub mod context;
pub mod dispatch;
pub mod error;
pub mod notify;
pub mod objects;
pub mod rabbit_options;
pub mod schema;
pub mod server;
pub mod tap;
pub mod target;
mod tasks;
pub mod telemetry;
pub mod transport;
pub mod url;
pub mod version;
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
