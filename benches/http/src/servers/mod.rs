//! The servers, one module per runtime: each serves on an address and prints
//! `listening on <addr>` once bound (a two-loop server binds one listener per loop).

use std::io;
use std::net::SocketAddr;

pub mod asyncio_rs;
pub mod tokio_rt;

/// Bytes read per `read` call (asyncio's stream limit).
pub const BUF_SIZE: usize = 64 * 1024;

/// One HTTP server `http-server` can run.
#[derive(Debug)]
pub struct HttpServer {
    /// The `<runtime>` argument.
    pub arg: &'static str,
    /// What serves, in a few words.
    pub about: &'static str,
    /// Threads it runs on (the driver pins it to that many CPUs).
    pub threads: usize,
    /// Serves on `addr` until killed; prints `listening on <addr>` once bound.
    pub serve: fn(SocketAddr) -> io::Result<()>,
}

/// Every Rust HTTP server, in report order.
pub const HTTP: &[HttpServer] = &[
    HttpServer {
        arg: "asyncio-1",
        about: "this crate, 1 loop: loop.create_server + Protocol",
        threads: 1,
        serve: asyncio_rs::serve_http_1,
    },
    HttpServer {
        arg: "asyncio-2",
        about: "this crate, 2 loops (MultiRunner), each create_server(..).reuse_port(true)",
        threads: 2,
        serve: asyncio_rs::serve_http_2,
    },
    HttpServer {
        arg: "tokio-ct",
        about: "tokio current_thread: a task per connection, read + write_all",
        threads: 1,
        serve: tokio_rt::serve_http_current_thread,
    },
    HttpServer {
        arg: "tokio-mt2",
        about: "tokio multi_thread, 2 workers: a task per connection, read + write_all",
        threads: 2,
        serve: tokio_rt::serve_http_multi_thread,
    },
];

/// One echo server `echo-server` can run.
#[derive(Debug)]
pub struct EchoServer {
    /// The `<runtime>` argument.
    pub arg: &'static str,
    /// What serves.
    pub about: &'static str,
    /// Serves on `addr` until killed; prints `listening on <addr>` once bound.
    pub serve: fn(SocketAddr) -> io::Result<()>,
}

/// Every Rust echo server, in report order.
pub const ECHO: &[EchoServer] = &[
    EchoServer {
        arg: "asyncio-protocol",
        about: "this crate: create_server + Protocol, data_received -> transport.write",
        serve: asyncio_rs::serve_echo_protocol,
    },
    EchoServer {
        arg: "asyncio-streams",
        about: "this crate: start_server, StreamReader.read(64 KiB), write + drain",
        serve: asyncio_rs::serve_echo_streams,
    },
    EchoServer {
        arg: "tokio",
        about: "tokio current_thread: a task per connection, read + write_all",
        serve: tokio_rt::serve_echo,
    },
];

/// Prints the line the driver waits for.
pub fn announce(addr: SocketAddr) {
    use std::io::Write;
    println!("listening on {addr}");
    let _ = std::io::stdout().flush();
}
