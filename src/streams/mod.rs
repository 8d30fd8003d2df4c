//! Streams: asyncio's `asyncio.streams`, the high-level way to talk TCP and Unix sockets.
//!
//! [`open_connection`] connects and gives a ([`StreamReader`], [`StreamWriter`]) pair;
//! [`start_server`] listens and calls your coroutine with such a pair for every client.
//!
//! ```
//! asyncio::run(async {
//!     // An echo server on a free port of 127.0.0.1 ...
//!     let server = asyncio::start_server(
//!         |mut reader: asyncio::StreamReader, mut writer: asyncio::StreamWriter| async move {
//!             let line = reader.readline().await?;
//!             writer.write(&line)?;
//!             writer.drain().await
//!         },
//!         "127.0.0.1",
//!         0,
//!     )
//!     .await?;
//!     let port = server.sockets()[0].inet().unwrap().port();
//!
//!     // ... and a client.
//!     let (mut reader, mut writer) = asyncio::open_connection("127.0.0.1", port).await?;
//!     writer.write(b"hello\n")?;
//!     writer.drain().await?;
//!     assert_eq!(reader.readline().await?, b"hello\n");
//!     writer.close();
//!     writer.wait_closed().await?;
//!     server.close();
//!     server.wait_closed().await;
//!     Ok::<(), std::io::Error>(())
//! })
//! .unwrap();
//! ```
//!
//! How it costs what it costs: see `conn.rs`. In short, a read is one `recv` (and none of the
//! extra ones that would only say "no more data"), a write with nothing buffered is one
//! `send`, and the socket is registered with epoll once, when it is made.

pub(crate) mod conn;
mod reader;
pub(crate) mod server;
mod writer;

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

pub use reader::StreamReader;
pub use server::{
    ClientConnected, Server, StartServer, StartUnixServer, start_server, start_server_on,
    start_unix_server,
};
pub use writer::StreamWriter;

pub(crate) mod connect;
pub use connect::{OpenConnection, OpenUnixConnection, open_connection, open_unix_connection};

/// The default buffer limit of a [`StreamReader`] (asyncio's `_DEFAULT_LIMIT`, 64 KiB): the
/// longest line [`StreamReader::readline`] or [`StreamReader::readuntil`] accepts.
///
/// # Examples
///
/// ```
/// assert_eq!(asyncio::streams::DEFAULT_LIMIT, 65536);
/// ```
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// A socket's address: an IP address and port, or a Unix socket's path.
///
/// What asyncio's `get_extra_info("peername")` and `server.sockets` give: a `(host, port)`
/// tuple for TCP, a path string for Unix sockets.
///
/// # Examples
///
/// ```
/// let a = asyncio::Address::Inet("127.0.0.1:8888".parse().unwrap());
/// assert_eq!(a.inet().unwrap().port(), 8888);
/// assert_eq!(a.to_string(), "127.0.0.1:8888");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// An IPv4 or IPv6 socket address.
    Inet(SocketAddr),
    /// A Unix socket's path (empty for an unnamed socket).
    Unix(PathBuf),
}

impl Address {
    /// The IP address and port, for a TCP socket.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = asyncio::Address::Unix("/tmp/sock".into());
    /// assert!(a.inet().is_none());
    /// ```
    pub fn inet(&self) -> Option<SocketAddr> {
        match self {
            Address::Inet(a) => Some(*a),
            Address::Unix(_) => None,
        }
    }

    /// The path, for a Unix socket.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = asyncio::Address::Unix("/tmp/sock".into());
    /// assert_eq!(a.path().unwrap(), std::path::Path::new("/tmp/sock"));
    /// ```
    pub fn path(&self) -> Option<&Path> {
        match self {
            Address::Unix(p) => Some(p),
            Address::Inet(_) => None,
        }
    }

    pub(crate) fn from_unix(addr: &std::os::unix::net::SocketAddr) -> Address {
        Address::Unix(
            addr.as_pathname()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
        )
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Inet(a) => a.fmt(f),
            Address::Unix(p) => p.display().fmt(f),
        }
    }
}

/// What [`StreamWriter::get_extra_info`] returns (asyncio's `transport.get_extra_info`).
///
/// # Examples
///
/// ```
/// let info = asyncio::ExtraInfo::Address(asyncio::Address::Unix("/tmp/s".into()));
/// assert!(info.address().is_some());
/// assert!(info.socket().is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtraInfo {
    /// `"peername"` or `"sockname"`.
    Address(Address),
    /// `"socket"`: the socket's file descriptor, still owned by the stream.
    Socket(std::os::fd::RawFd),
}

impl ExtraInfo {
    /// The address, for `"peername"` and `"sockname"`.
    ///
    /// # Examples
    ///
    /// ```
    /// let info = asyncio::ExtraInfo::Socket(3);
    /// assert!(info.address().is_none());
    /// ```
    pub fn address(&self) -> Option<&Address> {
        match self {
            ExtraInfo::Address(a) => Some(a),
            ExtraInfo::Socket(_) => None,
        }
    }

    /// The file descriptor, for `"socket"`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(asyncio::ExtraInfo::Socket(3).socket(), Some(3));
    /// ```
    pub fn socket(&self) -> Option<std::os::fd::RawFd> {
        match self {
            ExtraInfo::Socket(fd) => Some(*fd),
            ExtraInfo::Address(_) => None,
        }
    }
}

/// The stream ended before the expected bytes arrived (asyncio's `IncompleteReadError`).
///
/// Returned by [`StreamReader::readexactly`] and [`StreamReader::readuntil`] inside an
/// `io::Error` of kind `UnexpectedEof`; [`IncompleteReadError::of`] gets it back, with the
/// bytes that did arrive.
///
/// # Examples
///
/// ```
/// let e = asyncio::IncompleteReadError { partial: b"ab".to_vec(), expected: Some(4) };
/// assert!(e.to_string().starts_with("2 bytes read on a total of 4 expected bytes: "));
/// let io: std::io::Error = e.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::UnexpectedEof);
/// assert_eq!(asyncio::IncompleteReadError::of(&io).unwrap().partial, b"ab");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteReadError {
    /// The bytes read before EOF.
    pub partial: Vec<u8>,
    /// How many bytes were expected (`None`: up to a separator).
    pub expected: Option<usize>,
}

impl IncompleteReadError {
    /// The `IncompleteReadError` inside an `io::Error` returned by a stream read, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let other = std::io::Error::other("no");
    /// assert!(asyncio::IncompleteReadError::of(&other).is_none());
    /// ```
    pub fn of(e: &io::Error) -> Option<&IncompleteReadError> {
        e.get_ref()?.downcast_ref()
    }
}

impl fmt::Display for IncompleteReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.expected {
            Some(n) => write!(
                f,
                "{} bytes read on a total of {n} expected bytes",
                self.partial.len()
            )?,
            None => write!(
                f,
                "{} bytes read on a total of undefined expected bytes",
                self.partial.len()
            )?,
        }
        f.write_str(
            ": the stream reached EOF first (the peer closed its side); the bytes that did \
             arrive are in `partial` (IncompleteReadError::of(&err))",
        )
    }
}

impl std::error::Error for IncompleteReadError {}

impl From<IncompleteReadError> for io::Error {
    fn from(e: IncompleteReadError) -> io::Error {
        io::Error::new(io::ErrorKind::UnexpectedEof, e)
    }
}

/// A line or chunk is longer than the reader's limit (asyncio's `LimitOverrunError`).
///
/// Returned by [`StreamReader::readuntil`] (the buffer is left as it was, so the data can
/// still be read) and [`StreamReader::readline`] (which, as asyncio, drops the long line)
/// inside an `io::Error` of kind `InvalidData`.
///
/// # Examples
///
/// ```
/// let e = asyncio::LimitOverrunError {
///     message: "Separator is not found, and chunk exceed the limit".into(),
///     consumed: 10,
/// };
/// let io: std::io::Error = e.into();
/// assert_eq!(asyncio::LimitOverrunError::of(&io).unwrap().consumed, 10);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitOverrunError {
    /// What went wrong.
    pub message: String,
    /// How many bytes to consume to get past the problem (asyncio's `consumed`).
    pub consumed: usize,
}

impl LimitOverrunError {
    /// The `LimitOverrunError` inside an `io::Error` returned by a stream read, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let other = std::io::Error::other("no");
    /// assert!(asyncio::LimitOverrunError::of(&other).is_none());
    /// ```
    pub fn of(e: &io::Error) -> Option<&LimitOverrunError> {
        e.get_ref()?.downcast_ref()
    }
}

impl fmt::Display for LimitOverrunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: the data is longer than the reader's limit ({} bytes in the buffer); raise the \
             limit of the stream, or read the data in pieces with read(n)",
            self.message, self.consumed
        )
    }
}

impl std::error::Error for LimitOverrunError {}

impl From<LimitOverrunError> for io::Error {
    fn from(e: LimitOverrunError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

/// Resolves `host` and `port` to socket addresses, in the resolver's order, with the loop's
/// `getaddrinfo` (numeric addresses at once, names on the default executor). `""` means
/// every local address (for servers: `0.0.0.0` and `::`).
pub(crate) async fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    if host.is_empty() {
        return Ok(vec![
            SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), port),
            SocketAddr::new(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED), port),
        ]);
    }
    let event_loop = crate::get_running_loop()
        .map_err(|e| io::Error::other(format!("resolving {host}: {e}")))?;
    let addrs = event_loop.getaddrinfo(host, port).await?;
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("getaddrinfo: no address for {host}:{port}"),
        ));
    }
    Ok(addrs)
}
