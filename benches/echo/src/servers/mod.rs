//! The Rust echo servers, one module per runtime, behind one seam: `serve(listener)`.
//!
//! `echo-server <runtime> <addr>` binds a std [`TcpListener`] to `addr`, prints
//! `listening on <addr>` (the driver reads the actual port from it), makes the listener
//! non-blocking and hands it to the runtime's `serve`, which never returns while all goes well.
//! Every server does the same: accept, set `TCP_NODELAY`, spawn one task per connection that
//! reads up to 64 KiB into a buffer and writes all of it back, until the peer closes.
//!
//! Adding a runtime: a file `src/servers/<name>.rs` with
//! `pub(crate) fn serve(listener: std::net::TcpListener) -> std::io::Result<()>`, a `mod` line
//! below, and its entry in [`RUNTIMES`] (`serve: Some(<name>::serve)`). The driver picks it up
//! from that list.

use std::io;
use std::net::TcpListener;

mod async_io;
#[cfg(feature = "asyncio-rs")]
mod asyncio_sock;
#[cfg(feature = "asyncio-rs")]
mod asyncio_streams;
mod tokio;

/// Bytes read per `read` call: asyncio's stream limit, and what every server here uses.
pub const BUF_SIZE: usize = 64 * 1024;

/// One Rust runtime that `echo-server` can serve on.
#[derive(Debug)]
pub struct Runtime {
    /// The `<runtime>` argument of `echo-server`.
    pub arg: &'static str,
    /// The server's name in the driver's tables and `RESULT` lines.
    pub label: &'static str,
    /// What serves, in a few words (printed in the report).
    pub about: &'static str,
    /// Serves `listener` (bound, non-blocking) until an error; `None` while not built yet.
    pub serve: Option<fn(TcpListener) -> io::Result<()>>,
}

/// Every Rust runtime, in report order.
pub const RUNTIMES: &[Runtime] = &[
    Runtime {
        arg: "asyncio-streams",
        label: "asyncio-rs-streams",
        about: "this crate: start_server, StreamReader.read(64 KiB), write + drain",
        #[cfg(feature = "asyncio-rs")]
        serve: Some(asyncio_streams::serve),
        #[cfg(not(feature = "asyncio-rs"))]
        serve: None,
    },
    Runtime {
        arg: "asyncio-sock",
        label: "asyncio-rs-sock",
        about: "this crate: loop.sock_accept, sock_recv(64 KiB), sock_sendall",
        #[cfg(feature = "asyncio-rs")]
        serve: Some(asyncio_sock::serve),
        #[cfg(not(feature = "asyncio-rs"))]
        serve: None,
    },
    Runtime {
        arg: "tokio",
        label: "tokio",
        about: "tokio current_thread: TcpListener, a spawned task per connection, read + write_all",
        serve: Some(tokio::serve),
    },
    Runtime {
        arg: "async-io",
        label: "async-io",
        about: "async-executor LocalExecutor + async-io Async<TcpStream>, read + write_all",
        serve: Some(async_io::serve),
    },
];

/// The runtime whose `echo-server` argument is `arg`.
pub fn find(arg: &str) -> Option<&'static Runtime> {
    RUNTIMES.iter().find(|r| r.arg == arg)
}
