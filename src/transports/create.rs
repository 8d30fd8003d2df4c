//! The loop methods that make stream transports (asyncio's `base_events.py` and
//! `unix_events.py`): `create_connection`, `create_server`, their Unix twins and
//! `connect_accepted_socket`.
//!
//! They share the streams' machinery: the same resolve-and-try-each-address connect, the
//! same listeners, accept loop and [`Server`]; only what happens to a new connection
//! differs (a protocol and its transport instead of a reader and a writer).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;

use super::stream::{self, transport_of};
use super::{ProtocolRef, Transport};
use crate::events::{EventLoop, ExceptionContext};
use crate::exceptions::panic_message;
use crate::protocols::StreamProtocol;
use crate::runtime::core::{Core, drop_payload, report, with_running};
use crate::runtime::io::source::loop_gone;
use crate::runtime::io::sys;
use crate::streams::conn::{CONNECTED, Conn, Stream};
use crate::streams::server::{self, Accept, Options, Server, ServerInner};
use crate::streams::{DEFAULT_LIMIT, connect};

/// What `create_connection` and its kin give: the transport and the protocol.
type Connected<P> = io::Result<(Transport, ProtocolRef<P>)>;

impl EventLoop {
    /// Connects to `host:port` and runs a protocol on the connection (asyncio's
    /// `loop.create_connection(protocol_factory, host, port)`).
    ///
    /// The addresses of `host` are tried in order until one connects; then
    /// `protocol_factory()` makes the protocol, its `connection_made` is called, and the
    /// transport starts reading. Options, as builder calls before `.await`:
    /// [`local_addr`](CreateConnection::local_addr). TCP_NODELAY is set, as asyncio does.
    ///
    /// # Errors
    ///
    /// As [`open_connection`](crate::open_connection): each address tried and why it failed;
    /// an error if this loop is not the one running.
    ///
    /// # Examples
    ///
    /// asyncio's echo client protocol:
    ///
    /// ```
    /// use asyncio::{Protocol, Transport};
    ///
    /// struct EchoClient {
    ///     message: &'static str,
    ///     on_con_lost: asyncio::Future<Vec<u8>>,
    ///     received: Vec<u8>,
    /// }
    ///
    /// impl Protocol for EchoClient {
    ///     fn connection_made(&mut self, transport: Transport) {
    ///         transport.write(self.message);
    ///         println!("Data sent: {:?}", self.message);
    ///         transport.write_eof();
    ///     }
    ///     fn data_received(&mut self, data: &[u8]) {
    ///         self.received.extend_from_slice(data);
    ///     }
    ///     fn connection_lost(&mut self, _exc: Option<std::io::Error>) {
    ///         println!("The server closed the connection");
    ///         let _ = self.on_con_lost.set_result(std::mem::take(&mut self.received));
    ///     }
    /// }
    ///
    /// asyncio::run(async {
    ///     // A streams echo server to talk to.
    ///     let server = asyncio::start_server(
    ///         |mut r: asyncio::StreamReader, mut w: asyncio::StreamWriter| async move {
    ///             let data = r.read(-1).await?;
    ///             w.write(&data)
    ///         },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let on_con_lost = lp.create_future();
    ///     let lost = on_con_lost.clone();
    ///     let factory = move || EchoClient { message: "Hello World!", on_con_lost: lost.clone(), received: Vec::new() };
    ///     let (_transport, _protocol) = lp.create_connection(factory, "127.0.0.1", port).await?;
    ///     assert_eq!(on_con_lost.await.unwrap(), b"Hello World!");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn create_connection<F, P>(
        &self,
        protocol_factory: F,
        host: impl Into<String>,
        port: u16,
    ) -> CreateConnection<F>
    where
        F: FnOnce() -> P + 'static,
        P: StreamProtocol,
    {
        CreateConnection {
            event_loop: self.clone(),
            factory: protocol_factory,
            host: host.into(),
            port,
            local_addr: None,
        }
    }

    /// Listens on `host:port` and runs a new protocol, from `protocol_factory`, on every
    /// connection (asyncio's `loop.create_server(protocol_factory, host, port)`).
    ///
    /// `host` as in [`start_server`](crate::start_server) (`""`: every interface). Options,
    /// as builder calls before `.await`: [`backlog`](CreateServer::backlog) (100),
    /// [`reuse_address`](CreateServer::reuse_address) (on),
    /// [`reuse_port`](CreateServer::reuse_port) (off: turn it on to give each of several
    /// loops its own listener on one port, see [`run_on_cores`](crate::run_on_cores)) and
    /// [`start_serving`](CreateServer::start_serving) (on). The [`Server`] is the one
    /// `start_server` returns.
    ///
    /// # Errors
    ///
    /// As [`start_server`](crate::start_server) (the address is in use...); an error if this
    /// loop is not the one running.
    ///
    /// # Examples
    ///
    /// ```
    /// #[derive(Default)]
    /// struct Upper(Option<asyncio::Transport>);
    /// impl asyncio::Protocol for Upper {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         self.0 = Some(t);
    ///     }
    ///     fn data_received(&mut self, data: &[u8]) {
    ///         self.0.as_ref().unwrap().write(data.to_ascii_uppercase());
    ///     }
    /// }
    ///
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let server = lp.create_server(Upper::default, "127.0.0.1", 0).backlog(64).await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     w.write(b"shout\n")?;
    ///     assert_eq!(r.readline().await?, b"SHOUT\n");
    ///     server.close();
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn create_server<F, P>(
        &self,
        protocol_factory: F,
        host: impl Into<String>,
        port: u16,
    ) -> CreateServer<F>
    where
        F: Fn() -> P + 'static,
        P: StreamProtocol,
    {
        CreateServer {
            event_loop: self.clone(),
            factory: protocol_factory,
            host: host.into(),
            port,
            options: Options::default(),
        }
    }

    /// Connects to the Unix socket at `path` and runs a protocol on it (asyncio's
    /// `loop.create_unix_connection(protocol_factory, path)`).
    ///
    /// # Examples
    ///
    /// ```
    /// #[derive(Default)]
    /// struct Echo(Option<asyncio::Transport>);
    /// impl asyncio::Protocol for Echo {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         self.0 = Some(t);
    ///     }
    ///     fn data_received(&mut self, data: &[u8]) {
    ///         self.0.as_ref().unwrap().write(data);
    ///     }
    /// }
    /// #[derive(Default)]
    /// struct Got(Vec<u8>);
    /// impl asyncio::Protocol for Got {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         t.write(b"over unix");
    ///     }
    ///     fn data_received(&mut self, data: &[u8]) {
    ///         self.0.extend_from_slice(data);
    ///     }
    /// }
    ///
    /// asyncio::run(async {
    ///     let dir = std::env::temp_dir().join(format!("asyncio-doc-cuc-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("echo.sock");
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let server = lp.create_unix_server(Echo::default, &path).await?;
    ///     let (_t, got) = lp.create_unix_connection(Got::default, &path).await?;
    ///     while got.with(|g| g.0.len()) != Some(9) {
    ///         asyncio::sleep(0.001).await;
    ///     }
    ///     server.close();
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn create_unix_connection<F, P>(
        &self,
        protocol_factory: F,
        path: impl AsRef<Path>,
    ) -> CreateUnixConnection<F>
    where
        F: FnOnce() -> P + 'static,
        P: StreamProtocol,
    {
        CreateUnixConnection {
            event_loop: self.clone(),
            factory: protocol_factory,
            path: path.as_ref().to_path_buf(),
        }
    }

    /// Listens on the Unix socket at `path` and runs a new protocol on every connection
    /// (asyncio's `loop.create_unix_server(protocol_factory, path)`). A stale socket file is
    /// removed first, and the file is removed when the server closes.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Hi;
    /// impl asyncio::Protocol for Hi {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         t.write(b"hi\n");
    ///         t.close();
    ///     }
    /// }
    /// asyncio::run(async {
    ///     let dir = std::env::temp_dir().join(format!("asyncio-doc-cus-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir)?;
    ///     let path = dir.join("hi.sock");
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let server = lp.create_unix_server(|| Hi, &path).backlog(8).await?;
    ///     let (mut r, _w) = asyncio::open_unix_connection(&path).await?;
    ///     assert_eq!(r.read(-1).await?, b"hi\n");
    ///     server.close();
    ///     assert!(!path.exists());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn create_unix_server<F, P>(
        &self,
        protocol_factory: F,
        path: impl AsRef<Path>,
    ) -> CreateUnixServer<F>
    where
        F: Fn() -> P + 'static,
        P: StreamProtocol,
    {
        CreateUnixServer {
            event_loop: self.clone(),
            factory: protocol_factory,
            path: path.as_ref().to_path_buf(),
            options: Options::default(),
        }
    }

    /// Runs a protocol on a connection accepted elsewhere (asyncio's
    /// `loop.connect_accepted_socket(protocol_factory, sock)`): a std `TcpStream` or
    /// `UnixStream`, or a connected [`Socket`](crate::Socket). The loop takes the socket
    /// over and makes it non-blocking.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `sock` is not a stream socket (a UDP socket, a pipe); an error if
    /// this loop is not the one running.
    ///
    /// # Examples
    ///
    /// ```
    /// #[derive(Default)]
    /// struct Echo(Option<asyncio::Transport>);
    /// impl asyncio::Protocol for Echo {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         self.0 = Some(t);
    ///     }
    ///     fn data_received(&mut self, data: &[u8]) {
    ///         self.0.as_ref().unwrap().write(data);
    ///     }
    /// }
    ///
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;
    ///     lp.connect_accepted_socket(Echo::default, ours).await?;
    ///     theirs.set_nonblocking(true)?;
    ///     lp.sock_sendall(&theirs, b"echo?").await?;
    ///     assert_eq!(lp.sock_recv(&theirs, 16).await?, b"echo?");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn connect_accepted_socket<F, P, S>(
        &self,
        protocol_factory: F,
        sock: S,
    ) -> Connected<P>
    where
        F: FnOnce() -> P + 'static,
        P: StreamProtocol,
        S: Into<OwnedFd>,
    {
        let core = running(self, "connect_accepted_socket")?;
        let fd: OwnedFd = sock.into();
        let stream = stream_of(fd)?;
        let conn = Conn::new(&core, stream, DEFAULT_LIMIT, CONNECTED)?;
        connected(&core, conn, protocol_factory)
    }
}

/// The running loop's core, if it is `event_loop`; else a clear error.
pub(super) fn running(event_loop: &EventLoop, what: &str) -> io::Result<Rc<Core>> {
    let core = event_loop.core();
    if with_running(|running| std::ptr::eq(running, core)).unwrap_or(false) {
        Ok(core.rc())
    } else {
        Err(io::Error::other(format!(
            "{what}: this event loop is not running; await it inside the loop \
             (asyncio::run or run_until_complete)"
        )))
    }
}

/// A stream socket as the loop's `Stream`, non-blocking.
fn stream_of(fd: OwnedFd) -> io::Result<Stream> {
    let raw = fd.as_raw_fd();
    let kind = sys::getsockopt_int(raw, libc::SOL_SOCKET, libc::SO_TYPE).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("connect_accepted_socket: fd {raw} is not a socket: {e}"),
        )
    })?;
    if kind != libc::SOCK_STREAM {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("connect_accepted_socket: fd {raw} is not a stream socket (SOCK_STREAM)"),
        ));
    }
    sys::set_nonblocking(raw)?;
    let family = sys::getsockopt_int(raw, libc::SOL_SOCKET, libc::SO_DOMAIN)?;
    Ok(if family == libc::AF_UNIX {
        let s = std::os::unix::net::UnixStream::from(fd);
        Stream::Unix(mio::net::UnixStream::from_std(s))
    } else {
        let s = std::net::TcpStream::from(fd);
        let _ = s.set_nodelay(true);
        Stream::Tcp(mio::net::TcpStream::from_std(s))
    })
}

/// Runs `factory` (user code: a panic is reported and gives `None`).
pub(super) fn make<P>(what: &str, factory: impl FnOnce() -> P) -> Option<P> {
    match catch_unwind(AssertUnwindSafe(factory)) {
        Ok(p) => Some(p),
        Err(payload) => {
            let message = panic_message(&*payload).to_owned();
            drop_payload(payload);
            report(ExceptionContext {
                message: format!("Exception in {what}'s protocol_factory(): panicked: {message}"),
                task: None,
                panic: Some(message),
            });
            None
        }
    }
}

/// The transport and protocol of a new client connection.
fn connected<P: StreamProtocol>(
    core: &Core,
    conn: Rc<Conn>,
    factory: impl FnOnce() -> P,
) -> Connected<P> {
    let Some(protocol) = make("create_connection", factory) else {
        conn.abort();
        return Err(io::Error::other(
            "create_connection: protocol_factory() panicked (reported to the exception handler)",
        ));
    };
    let shared = stream::start(core, conn, protocol);
    Ok((transport_of(&shared), stream::protocol_ref(shared)))
}

/// What a protocol server does with each accepted connection.
fn protocol_acceptor<F, P>(factory: F) -> Accept
where
    F: Fn() -> P + 'static,
    P: StreamProtocol,
{
    Rc::new(move |server: &Rc<ServerInner>, stream: Stream| {
        let core = server.core().ok_or_else(loop_gone)?;
        let conn = Conn::new(&core, stream, DEFAULT_LIMIT, CONNECTED)?;
        server.track(&conn);
        match make("create_server", &factory) {
            Some(protocol) => drop(stream::start(&core, conn, protocol)),
            None => conn.abort(),
        }
        Ok(())
    })
}

/// The future of [`EventLoop::create_connection`], with its options.
///
/// # Examples
///
/// ```
/// struct P;
/// impl asyncio::Protocol for P {}
/// asyncio::run(async {
///     let lp = asyncio::get_running_loop().unwrap();
///     let server = lp.create_server(|| P, "127.0.0.1", 0).await?;
///     let port = server.sockets()[0].inet().unwrap().port();
///     let (t, _p) = lp
///         .create_connection(|| P, "127.0.0.1", port)
///         .local_addr("127.0.0.1:0".parse().unwrap())
///         .await?;
///     assert!(t.get_extra_info("sockname").is_some());
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
#[must_use = "create_connection does nothing unless awaited"]
pub struct CreateConnection<F> {
    event_loop: EventLoop,
    factory: F,
    host: String,
    port: u16,
    local_addr: Option<SocketAddr>,
}

impl<F> CreateConnection<F> {
    /// Binds the socket to `addr` before connecting (asyncio's `local_addr=`).
    pub fn local_addr(mut self, addr: SocketAddr) -> Self {
        self.local_addr = Some(addr);
        self
    }
}

impl<F, P> IntoFuture for CreateConnection<F>
where
    F: FnOnce() -> P + 'static,
    P: StreamProtocol,
{
    type Output = Connected<P>;
    type IntoFuture = Pin<Box<dyn Future<Output = Connected<P>>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let core = running(&self.event_loop, "create_connection")?;
            let conn =
                connect::connect_host(&core, &self.host, self.port, self.local_addr, DEFAULT_LIMIT)
                    .await?;
            connected(&core, conn, self.factory)
        })
    }
}

/// The future of [`EventLoop::create_unix_connection`].
///
/// # Examples
///
/// ```
/// struct P;
/// impl asyncio::Protocol for P {}
/// asyncio::run(async {
///     let lp = asyncio::get_running_loop().unwrap();
///     let err = lp.create_unix_connection(|| P, "/nonexistent/asyncio.sock").await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// });
/// ```
#[must_use = "create_unix_connection does nothing unless awaited"]
pub struct CreateUnixConnection<F> {
    event_loop: EventLoop,
    factory: F,
    path: PathBuf,
}

impl<F, P> IntoFuture for CreateUnixConnection<F>
where
    F: FnOnce() -> P + 'static,
    P: StreamProtocol,
{
    type Output = Connected<P>;
    type IntoFuture = Pin<Box<dyn Future<Output = Connected<P>>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let core = running(&self.event_loop, "create_unix_connection")?;
            let conn = connect::connect_unix(&core, &self.path, DEFAULT_LIMIT).await?;
            connected(&core, conn, self.factory)
        })
    }
}

/// The future of [`EventLoop::create_server`], with its options.
///
/// # Examples
///
/// ```
/// struct P;
/// impl asyncio::Protocol for P {}
/// asyncio::run(async {
///     let lp = asyncio::get_running_loop().unwrap();
///     let a = lp.create_server(|| P, "127.0.0.1", 0).reuse_port(true).await?;
///     let port = a.sockets()[0].inet().unwrap().port();
///     // A second listener on the same port: the kernel spreads connections over both.
///     let b = lp.create_server(|| P, "127.0.0.1", port).reuse_port(true).await?;
///     assert_eq!(b.sockets()[0].inet().unwrap().port(), port);
///     let idle = lp.create_server(|| P, "127.0.0.1", 0).start_serving(false).await?;
///     assert!(!idle.is_serving());
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
#[must_use = "create_server does nothing unless awaited"]
pub struct CreateServer<F> {
    event_loop: EventLoop,
    factory: F,
    host: String,
    port: u16,
    options: Options,
}

impl<F> CreateServer<F> {
    /// The listen backlog (asyncio's `backlog=`, 100 by default).
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.options.backlog = backlog;
        self
    }

    /// `SO_REUSEADDR` (asyncio's `reuse_address=`, on by default on Unix).
    pub fn reuse_address(mut self, reuse: bool) -> Self {
        self.options.reuse_address = reuse;
        self
    }

    /// `SO_REUSEPORT` (asyncio's `reuse_port=`): several listeners, in several loops or
    /// processes, share one port, and the kernel spreads new connections across them.
    /// Closing one of them resets the connections still waiting in its backlog (see
    /// [`run_on_cores`](crate::run_on_cores)).
    pub fn reuse_port(mut self, reuse: bool) -> Self {
        self.options.reuse_port = reuse;
        self
    }

    /// Start accepting at once (asyncio's `start_serving=`, on by default).
    pub fn start_serving(mut self, start: bool) -> Self {
        self.options.start_serving = start;
        self
    }
}

impl<F, P> IntoFuture for CreateServer<F>
where
    F: Fn() -> P + 'static,
    P: StreamProtocol,
{
    type Output = io::Result<Server>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<Server>>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let core = running(&self.event_loop, "create_server")?;
            let listeners = server::bind_tcp(&core, &self.host, self.port, &self.options).await?;
            let accept = protocol_acceptor(self.factory);
            Ok(Server::new(&core, listeners, accept, self.options, None))
        })
    }
}

/// The future of [`EventLoop::create_unix_server`], with its options.
///
/// # Examples
///
/// ```
/// struct P;
/// impl asyncio::Protocol for P {}
/// let lp = asyncio::new_event_loop();
/// let start = lp.create_unix_server(|| P, "/tmp/app.sock").backlog(8).start_serving(false);
/// drop(start); // nothing happens until it is awaited
/// ```
#[must_use = "create_unix_server does nothing unless awaited"]
pub struct CreateUnixServer<F> {
    event_loop: EventLoop,
    factory: F,
    path: PathBuf,
    options: Options,
}

impl<F> CreateUnixServer<F> {
    /// The listen backlog (asyncio's `backlog=`, 100 by default).
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.options.backlog = backlog;
        self
    }

    /// Start accepting at once (asyncio's `start_serving=`, on by default).
    pub fn start_serving(mut self, start: bool) -> Self {
        self.options.start_serving = start;
        self
    }
}

impl<F, P> IntoFuture for CreateUnixServer<F>
where
    F: Fn() -> P + 'static,
    P: StreamProtocol,
{
    type Output = io::Result<Server>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<Server>>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let core = running(&self.event_loop, "create_unix_server")?;
            let (listeners, file) = server::bind_unix(&core, &self.path, &self.options)?;
            let accept = protocol_acceptor(self.factory);
            Ok(Server::new(
                &core,
                listeners,
                accept,
                self.options,
                Some(file),
            ))
        })
    }
}

macro_rules! debug_builder {
    ($($ty:ident),*) => {$(
        impl<F> fmt::Debug for $ty<F> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty)).finish_non_exhaustive()
            }
        }
    )*};
}

debug_builder!(
    CreateConnection,
    CreateUnixConnection,
    CreateServer,
    CreateUnixServer
);
