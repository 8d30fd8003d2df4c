//! Name resolution off the loop's thread: `getaddrinfo` blocks, so it runs on a helper thread
//! and the answer comes back through the task's waker.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Resolves `host:port` on a helper thread. The error names the host, as `socket.gaierror`
/// does in its message.
pub(crate) async fn lookup(host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
    let (tx, rx) = futures::channel::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("asyncio-resolver".into())
        .spawn(move || {
            let result = (host.as_str(), port)
                .to_socket_addrs()
                .map(Iterator::collect)
                .map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("getaddrinfo failed for {host}:{port}: {e}"),
                    )
                });
            let _ = tx.send(result);
        });
    spawned?;
    rx.await
        .unwrap_or_else(|_| Err(io::Error::other("the resolver thread died")))
}
