//! A loopback TCP proxy a test controls, to simulate a silent network partition: once
//! [`Proxy::black_hole`] is called, bytes in both directions are dropped while every socket
//! stays open (no FIN, no RST), and new connections are accepted and treated alike. What
//! the client observes is what a partition that drops packets shows an application:
//! silence. (nft/iptables are not installed on these machines; a network namespace needs
//! CAP_NET_ADMIN and a forwarder to reach a broker listening on 127.0.0.1 anyway.)

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A proxy from `127.0.0.1:<port>` to a target; stops (closing its sockets) when dropped.
pub struct Proxy {
    pub port: u16,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

#[derive(Default)]
struct State {
    black_holed: AtomicBool,
    accepted: AtomicUsize,
    pumps: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl Proxy {
    /// Listens on an ephemeral loopback port and forwards each connection to `target`.
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a proxy port");
        let port = listener.local_addr().expect("proxy address").port();
        let state = Arc::new(State::default());
        let accept = tokio::spawn(accept_loop(listener, target, state.clone()));
        Proxy {
            port,
            state,
            accept,
        }
    }

    /// From now on, drop every byte in both directions and keep every socket open.
    pub fn black_hole(&self) {
        self.state.black_holed.store(true, Ordering::SeqCst);
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        for pump in self
            .state
            .pumps
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            pump.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, target: SocketAddr, state: Arc<State>) {
    while let Ok((client, _)) = listener.accept().await {
        state.accepted.fetch_add(1, Ordering::SeqCst);
        let state2 = state.clone();
        let pump = tokio::spawn(async move {
            let Ok(upstream) = TcpStream::connect(target).await else {
                // Nothing to forward to: keep the client open and silent while
                // black-holed, else close it as a refused upstream would.
                if state2.black_holed.load(Ordering::SeqCst) {
                    std::future::pending::<()>().await;
                }
                return;
            };
            let (client_read, client_write) = client.into_split();
            let (upstream_read, upstream_write) = upstream.into_split();
            tokio::join!(
                pump(client_read, upstream_write, state2.clone()),
                pump(upstream_read, client_write, state2.clone()),
            );
            // Both directions ended; a black-holed peer never sees the close.
            if state2.black_holed.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
        });
        state
            .pumps
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(pump);
    }
}

/// Copies `from` to `to` until `from` ends, dropping the bytes while black-holed. When
/// the partition is on, `to` is left open whatever happens to `from`.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, state: Arc<State>) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        if state.black_holed.load(Ordering::SeqCst) {
            continue;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            break;
        }
    }
    if state.black_holed.load(Ordering::SeqCst) {
        // Keep the write half (and so the socket) open: no FIN reaches the peer.
        std::future::pending::<()>().await;
    }
    let _ = to.shutdown().await;
}
