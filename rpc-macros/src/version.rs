//! oslo RPC versions as the macros read them from attribute strings: the runtime's own
//! `RpcVersion` from the `oslo-rpc-version` crate both depend on (a proc-macro crate cannot
//! link the runtime), so a version the macro accepts is one the runtime accepts, with the same
//! error messages.

pub(crate) use oslo_rpc_version::RpcVersion as Version;
