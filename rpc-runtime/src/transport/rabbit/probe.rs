//! A plain TCP connect to a broker before handing a reconnection to lapin.
//!
//! lapin 4.12.3 leaks two tasks (never ending) for every `Connection::connect` that fails,
//! e.g. on a refused TCP connect (found by `rpc-bench soak`: each restart of the broker
//! application left some thirty tasks behind; `tests/hardening.rs`,
//! `refused_reconnections_leave_no_task_behind`, pins the fix). A supervisor retries every
//! second while a broker is down, so an outage of minutes would leave hundreds of tasks
//! behind. Reconnections are therefore probed first: a broker that refuses TCP costs no
//! lapin connection. The first connection of a link is not probed (a probe shows up in the
//! broker's log as a client that closed its TCP connection without speaking AMQP), so a
//! transport started while its broker is down leaves lapin's two tasks behind, once per
//! connection; a handshake that fails after TCP was accepted (a refused login, a broker
//! still booting) still costs two as well.

use std::time::Duration;

use lapin::uri::AMQPUri;
use tokio::net::TcpStream;

/// Why a probe failed: the message, and whether the connection was refused.
pub(super) struct ProbeFailure {
    pub(super) message: String,
    pub(super) refused: bool,
}

/// Opens and closes a TCP connection to the URI's host and port within `limit`.
pub(super) async fn tcp(uri: &AMQPUri, limit: Duration) -> Result<(), ProbeFailure> {
    let address = (uri.authority.host.as_str(), uri.authority.port);
    match tokio::time::timeout(limit, TcpStream::connect(address)).await {
        Ok(Ok(stream)) => {
            drop(stream);
            Ok(())
        }
        Ok(Err(error)) => Err(ProbeFailure {
            refused: error.kind() == std::io::ErrorKind::ConnectionRefused,
            message: format!("IO error: {error}"),
        }),
        Err(_) => Err(ProbeFailure {
            refused: false,
            message: format!("no TCP connection within {} s", limit.as_secs()),
        }),
    }
}
