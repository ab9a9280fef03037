//! The oslo-rpc runtime: everything that runs when a Rust service speaks oslo.messaging RPC.
//!
//! Users normally depend on the facade crate `oslo-rpc`, which re-exports this crate.

pub mod rabbit_options;
pub mod url;
pub mod version;
pub mod wire;
