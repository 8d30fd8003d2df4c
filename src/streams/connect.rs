//! [`open_connection`] and [`open_unix_connection`]: asyncio's client side of streams.

use std::future::{Future, IntoFuture, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;

use super::conn::{CONNECTED, Conn, Stream};
use super::{DEFAULT_LIMIT, StreamReader, StreamWriter, resolve};
use crate::runtime::core::{Core, with_running};
use crate::runtime::io::Direction;
use crate::runtime::io::source::no_running_loop;
use crate::runtime::io::sys;

/// Connects to `host:port` and returns a reader and a writer (asyncio's `open_connection`).
///
/// `host` may be a name (resolved off the loop's thread) or a numeric address (resolved at
/// once). The addresses are tried in order until one connects; if none does, the error names
/// each address and why it failed. Options, as builder calls before `.await`:
/// [`limit`](OpenConnection::limit) (the reader's buffer limit, 64 KiB by default) and
/// [`local_addr`](OpenConnection::local_addr) (bind the socket first).
///
/// TCP_NODELAY is set, as asyncio does for every TCP transport.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let server = asyncio::start_server(
///         |mut r: asyncio::StreamReader, mut w: asyncio::StreamWriter| async move {
///             let name = r.readline().await?;
///             w.write(b"hello, ")?;
///             w.write(&name)?;
///             w.drain().await
///         },
///         "127.0.0.1",
///         0,
///     )
///     .await?;
///     let port = server.sockets()[0].inet().unwrap().port();
///
///     let (mut reader, mut writer) = asyncio::open_connection("127.0.0.1", port).await?;
///     writer.write(b"world\n")?;
///     writer.drain().await?;
///     assert_eq!(reader.readline().await?, b"hello, world\n");
///
///     // Nothing listens on port 1: a clear error, never a hang.
///     let err = asyncio::open_connection("127.0.0.1", 1).await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
///     assert!(err.to_string().contains("127.0.0.1:1"));
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub fn open_connection(host: impl Into<String>, port: u16) -> OpenConnection {
    OpenConnection {
        host: host.into(),
        port,
        limit: DEFAULT_LIMIT,
        local_addr: None,
    }
}

/// The future of [`open_connection`], with its options.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
///     let port = server.sockets()[0].inet().unwrap().port();
///     let (_reader, writer) = asyncio::open_connection("127.0.0.1", port)
///         .limit(1024)
///         .local_addr("127.0.0.1:0".parse().unwrap())
///         .await?;
///     assert!(writer.sockname().is_some());
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use = "open_connection does nothing unless awaited"]
pub struct OpenConnection {
    host: String,
    port: u16,
    limit: usize,
    local_addr: Option<SocketAddr>,
}

impl OpenConnection {
    /// The reader's buffer limit (asyncio's `limit=`): the longest line `readline` accepts.
    pub fn limit(mut self, limit: usize) -> OpenConnection {
        self.limit = limit;
        self
    }

    /// Binds the socket to `addr` before connecting (asyncio's `local_addr=`).
    pub fn local_addr(mut self, addr: SocketAddr) -> OpenConnection {
        self.local_addr = Some(addr);
        self
    }
}

impl IntoFuture for OpenConnection {
    type Output = io::Result<(StreamReader, StreamWriter)>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let core = with_running(Core::rc).ok_or_else(no_running_loop)?;
            let conn =
                connect_host(&core, &self.host, self.port, self.local_addr, self.limit).await?;
            Ok(pair(conn))
        })
    }
}

/// Resolves `host` and tries its addresses in order until one connects (asyncio's
/// `create_connection` without happy eyeballs). The error names every address tried.
pub(crate) async fn connect_host(
    core: &Core,
    host: &str,
    port: u16,
    local_addr: Option<SocketAddr>,
    limit: usize,
) -> io::Result<Rc<Conn>> {
    let addrs = resolve(host, port).await?;
    let mut failures = Vec::new();
    for addr in addrs {
        if let Some(local) = &local_addr {
            if local.is_ipv4() != addr.is_ipv4() {
                continue; // asyncio skips addresses of the other family
            }
        }
        match connect_tcp(core, &addr, local_addr.as_ref(), limit).await {
            Ok(conn) => return Ok(conn),
            Err(e) => failures.push((addr, e)),
        }
    }
    Err(connect_error(host, port, failures))
}

/// One error out of the failures of every address tried: the first one's kind, each one's
/// address and message.
fn connect_error(host: &str, port: u16, failures: Vec<(SocketAddr, io::Error)>) -> io::Error {
    let Some(kind) = failures.first().map(|(_, e)| e.kind()) else {
        return io::Error::new(
            io::ErrorKind::NotFound,
            format!("connect to {host}:{port}: no address of a usable family"),
        );
    };
    if let [(addr, e)] = &failures[..] {
        return io::Error::new(
            e.kind(),
            format!("connect to {host}:{port} ({addr}) failed: {e}"),
        );
    }
    let detail: Vec<String> = failures
        .iter()
        .map(|(addr, e)| format!("{addr}: {e}"))
        .collect();
    io::Error::new(
        kind,
        format!("connect to {host}:{port} failed: {}", detail.join("; ")),
    )
}

async fn connect_tcp(
    core: &Core,
    addr: &SocketAddr,
    local: Option<&SocketAddr>,
    limit: usize,
) -> io::Result<Rc<Conn>> {
    let (socket, done) = sys::tcp_connect(addr, local)?;
    let _ = socket.set_nodelay(true);
    let stream = Stream::Tcp(mio::net::TcpStream::from_std(socket));
    let conn = Conn::new(core, stream, limit, if done { CONNECTED } else { 0 })?;
    if !done {
        // Writable means the connection attempt is over; SO_ERROR says how it went.
        poll_fn(|cx| conn.poll_ready(Direction::Write, cx)).await;
        let fd = conn.with_stream(|s| s.raw_fd()).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotConnected,
                "socket closed while connecting",
            )
        })?;
        if let Some(e) = sys::take_error(fd)? {
            return Err(e);
        }
    }
    Ok(conn)
}

fn pair(conn: Rc<Conn>) -> (StreamReader, StreamWriter) {
    (StreamReader::new(conn.clone()), StreamWriter::new(conn))
}

/// Connects to the Unix socket at `path` (asyncio's `open_unix_connection`).
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let dir = std::env::temp_dir().join(format!("asyncio-doc-{}", std::process::id()));
///     std::fs::create_dir_all(&dir)?;
///     let path = dir.join("open_unix.sock");
///     let server = asyncio::start_unix_server(
///         |_r, mut w: asyncio::StreamWriter| async move { w.write(b"hi\n") },
///         &path,
///     )
///     .await?;
///     let (mut reader, _w) = asyncio::open_unix_connection(&path).await?;
///     assert_eq!(reader.readline().await?, b"hi\n");
///     server.close();
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub fn open_unix_connection(path: impl AsRef<Path>) -> OpenUnixConnection {
    OpenUnixConnection {
        path: path.as_ref().to_path_buf(),
        limit: DEFAULT_LIMIT,
    }
}

/// The future of [`open_unix_connection`], with its options.
///
/// # Examples
///
/// ```
/// let connect = asyncio::open_unix_connection("/tmp/app.sock").limit(4096);
/// drop(connect); // nothing happens until it is awaited
/// ```
#[derive(Debug, Clone)]
#[must_use = "open_unix_connection does nothing unless awaited"]
pub struct OpenUnixConnection {
    path: PathBuf,
    limit: usize,
}

impl OpenUnixConnection {
    /// The reader's buffer limit (asyncio's `limit=`).
    pub fn limit(mut self, limit: usize) -> OpenUnixConnection {
        self.limit = limit;
        self
    }
}

impl IntoFuture for OpenUnixConnection {
    type Output = io::Result<(StreamReader, StreamWriter)>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let core = with_running(Core::rc).ok_or_else(no_running_loop)?;
            Ok(pair(connect_unix(&core, &self.path, self.limit).await?))
        })
    }
}

/// Connects to the Unix socket at `path`; errors name the path.
pub(crate) async fn connect_unix(core: &Core, path: &Path, limit: usize) -> io::Result<Rc<Conn>> {
    let named =
        |e: io::Error| io::Error::new(e.kind(), format!("connect to {}: {e}", path.display()));
    let stream = mio::net::UnixStream::connect(path).map_err(named)?;
    let conn = Conn::new(core, Stream::Unix(stream), limit, 0)?;
    poll_fn(|cx| conn.poll_ready(Direction::Write, cx)).await;
    let fd = conn
        .with_stream(|s| s.raw_fd())
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "socket closed"))?;
    if let Some(e) = sys::take_error(fd)? {
        return Err(named(e));
    }
    Ok(conn)
}
