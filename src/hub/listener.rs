//! What the hub accepts connections on: plain TCP, or TLS on the same
//! routes (`serve --tls-cert --tls-key`).
//!
//! With TLS, handshakes run beside the accept loop, each in its own task
//! and bounded by the hub's `hello_timeout` (the TLS handshake is part of
//! the time a client has to say hello): a client that opens a socket and says nothing
//! (or speaks plain HTTP to the TLS port) costs one task until the timeout,
//! never the listener's attention. Finished streams come back over a
//! bounded channel, so a hub that cannot keep up stops taking new
//! handshakes instead of queueing without end. A failed handshake is logged
//! at debug and dropped.
//!
//! Either way every accepted socket is tuned first (no Nagle delay, the
//! capped send buffer), and the address stays a `SocketAddr`, so
//! `ConnectInfo<Peer>` works the same with and without TLS.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::Limits;
use crate::tls::ServerTls;

/// Handshaken streams waiting for the accept loop.
const READY_QUEUE: usize = 64;

/// A byte stream the hub serves HTTP on, plain or TLS.
pub(crate) trait HubStream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> HubStream for T {}

/// The hub's listener, for `axum::serve`.
pub(crate) struct HubListener {
    local: SocketAddr,
    incoming: Incoming,
}

enum Incoming {
    Plain {
        tcp: TcpListener,
        send_buffer: Option<usize>,
    },
    Tls {
        ready: mpsc::Receiver<(tokio_rustls::server::TlsStream<TcpStream>, SocketAddr)>,
        /// The accept loop; stopped when the listener is dropped.
        accepting: tokio::task::JoinHandle<()>,
    },
}

impl Drop for HubListener {
    fn drop(&mut self) {
        if let Incoming::Tls { accepting, .. } = &self.incoming {
            accepting.abort();
        }
    }
}

impl HubListener {
    pub(crate) fn new(
        tcp: TcpListener,
        tls: Option<&ServerTls>,
        limits: &Limits,
    ) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let send_buffer = limits.send_buffer_bytes;
        let incoming = match tls {
            None => Incoming::Plain { tcp, send_buffer },
            Some(tls) => {
                let (tx, ready) = mpsc::channel(READY_QUEUE);
                let accepting = tokio::spawn(accept_tls(
                    tcp,
                    tls.acceptor(),
                    send_buffer,
                    limits.hello_timeout,
                    tx,
                ));
                Incoming::Tls { ready, accepting }
            }
        };
        Ok(Self { local, incoming })
    }
}

/// The peer's address as the routes read it (`ConnectInfo<Peer>`): axum
/// takes it from its own listeners only, so ours says how.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, HubListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, HubListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl axum::serve::Listener for HubListener {
    type Io = Box<dyn HubStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match &mut self.incoming {
            Incoming::Plain { tcp, send_buffer } => {
                let (stream, addr) = axum::serve::Listener::accept(tcp).await;
                tune(&stream, *send_buffer);
                (Box::new(stream), addr)
            }
            Incoming::Tls { ready, .. } => match ready.recv().await {
                Some((stream, addr)) => (Box::new(stream), addr),
                // The accept loop only ends when aborted, i.e. never while
                // this listener lives; wait for the shutdown that drops it.
                None => std::future::pending().await,
            },
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// Accepts sockets and starts a handshake task for each. Transient accept
/// errors are handled (and waited out) by axum's own `TcpListener` accept.
async fn accept_tls(
    mut tcp: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    send_buffer: Option<usize>,
    handshake_timeout: Duration,
    ready: mpsc::Sender<(tokio_rustls::server::TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let (stream, addr) = axum::serve::Listener::accept(&mut tcp).await;
        tune(&stream, send_buffer);
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = ready.send((tls, addr)).await;
                }
                Ok(Err(e)) => tracing::debug!(%addr, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
            }
        });
    }
}

/// Small frames must leave at once: batching is done per connection.
/// The send buffer is capped so that what a connection can have in flight
/// is bounded by the hub's limits, not by the kernel's autotuning.
fn tune(tcp: &TcpStream, send_buffer: Option<usize>) {
    let _ = tcp.set_nodelay(true);
    if let Some(bytes) = send_buffer {
        cap_send_buffer(tcp, bytes);
    }
}

/// Sets an accepted socket's `SO_SNDBUF`. A failure only costs the cap, so
/// it is logged and the connection served anyway.
fn cap_send_buffer(tcp: &TcpStream, bytes: usize) {
    let sock = socket2::SockRef::from(tcp);
    match sock.set_send_buffer_size(bytes) {
        Ok(()) => tracing::debug!(
            requested = bytes,
            granted = sock.send_buffer_size().ok(),
            "send buffer capped"
        ),
        Err(e) => tracing::warn!(error = %e, bytes, "could not cap a socket's send buffer"),
    }
}
