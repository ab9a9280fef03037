//! oslo-rpc: typed RPC for Rust that speaks the oslo.messaging wire protocol.

pub use rpc_runtime::*;
