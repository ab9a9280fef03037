//! What the examples log: tracing's `fmt` subscriber on stderr (stdout is the examples'
//! output), filtered by `RUST_LOG` when it is set, by `default` otherwise.
//!
//! `RUST_LOG=debug` shows every request a server handles, inside its `rpc.dispatch` span
//! (method, `request_id`, message id, outcome, duration); `RUST_LOG=oslo_rpc_runtime=debug`
//! shows only the runtime's own lines. See `oslo_rpc::telemetry` for the fields.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber; `default` is an `EnvFilter` directive such as `info`.
pub(crate) fn init(default: &str) {
    let directives = std::env::var("RUST_LOG").unwrap_or_else(|_| default.to_owned());
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::builder().parse_lossy(directives))
        .with_writer(std::io::stderr)
        .init();
}
