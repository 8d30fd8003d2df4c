//! [`start_server`], [`start_unix_server`] and the [`Server`] they return (asyncio's
//! `streams.start_server` and `base_events.Server`).
//!
//! ```text
//!   start_server --bind, listen--> Server --start_serving--> one accept task per listener
//!                                                               | accept until WouldBlock
//!                                                               v
//!                                             Conn + a task running cb(reader, writer)
//!   close(): listeners closed now, accept tasks cancelled; clients keep running
//!   wait_closed(): until closed and every client connection has closed
//! ```

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{Future, IntoFuture, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Poll, Waker};
use std::time::Duration;

use slab::Slab;

use super::conn::{CONNECTED, Conn, Stream};
use super::{Address, DEFAULT_LIMIT, StreamReader, StreamWriter, resolve};
use crate::events::{EventLoop, ExceptionContext};
use crate::runtime::core::{Core, report, with_running};
use crate::runtime::io::Direction;
use crate::runtime::io::source::{Source, no_running_loop};
use crate::runtime::io::sys;
use crate::tasks::{Task, sleep};

/// How long a server stops accepting after running out of file descriptors (asyncio's
/// `ACCEPT_RETRY_DELAY`).
const ACCEPT_RETRY_DELAY: Duration = Duration::from_secs(1);

/// What a client callback may return: `()`, or a `Result` whose error is reported to the
/// loop's exception handler ("Unhandled exception in client_connected_cb"), as asyncio
/// logs an exception raised by the callback.
///
/// # Examples
///
/// ```
/// // Both callbacks are accepted by start_server.
/// async fn quiet(_r: asyncio::StreamReader, _w: asyncio::StreamWriter) {}
/// async fn fallible(mut r: asyncio::StreamReader, _w: asyncio::StreamWriter) -> std::io::Result<()> {
///     r.readexactly(4).await?;
///     Ok(())
/// }
/// let _quiet = asyncio::start_server(quiet, "127.0.0.1", 0);
/// let _fallible = asyncio::start_server(fallible, "127.0.0.1", 0);
/// ```
pub trait ClientConnected {
    /// The error to report, if the callback failed.
    fn failure(self) -> Option<String>;
}

impl ClientConnected for () {
    fn failure(self) -> Option<String> {
        None
    }
}

impl<T, E: fmt::Display> ClientConnected for Result<T, E> {
    fn failure(self) -> Option<String> {
        self.err().map(|e| e.to_string())
    }
}

/// A listening socket.
#[derive(Debug)]
enum Listen {
    Tcp(mio::net::TcpListener),
    Unix(mio::net::UnixListener),
}

impl Listen {
    fn accept(&self) -> io::Result<Stream> {
        match self {
            Listen::Tcp(l) => l.accept().map(|(s, _)| {
                let _ = s.set_nodelay(true);
                Stream::Tcp(s)
            }),
            Listen::Unix(l) => l.accept().map(|(s, _)| Stream::Unix(s)),
        }
    }
}

impl mio::event::Source for Listen {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        match self {
            Listen::Tcp(l) => l.register(registry, token, interests),
            Listen::Unix(l) => l.register(registry, token, interests),
        }
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        match self {
            Listen::Tcp(l) => l.reregister(registry, token, interests),
            Listen::Unix(l) => l.reregister(registry, token, interests),
        }
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        match self {
            Listen::Tcp(l) => l.deregister(registry),
            Listen::Unix(l) => l.deregister(registry),
        }
    }
}

/// One listening socket of a server.
pub(crate) struct Listener {
    source: Source<Listen>,
    addr: Address,
}

/// A Unix socket file this server made, to remove on close if it is still ours.
pub(crate) struct UnixFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

/// What a server does with each accepted connection: makes a stream pair and runs the
/// client callback (`start_server`), or makes a transport and its protocol
/// (`loop.create_server`). It registers the connection with [`ServerInner::track`].
pub(crate) type Accept = Rc<dyn Fn(&Rc<ServerInner>, Stream) -> io::Result<()>>;

/// The state of a [`Server`], shared by its handles and its accept tasks.
pub(crate) struct ServerInner {
    core: Weak<Core>,
    listeners: RefCell<Vec<Rc<Listener>>>,
    addrs: Vec<Address>,
    accepting: RefCell<Vec<Task<()>>>,
    /// Sets up each accepted connection.
    accept: Accept,
    serving: Cell<bool>,
    serving_forever: Cell<bool>,
    closed: Cell<bool>,
    clients: RefCell<Slab<Weak<Conn>>>,
    waiters: RefCell<Vec<Waker>>,
    unix_file: Option<UnixFile>,
    backlog: u32,
}

impl ServerInner {
    /// `Server::close`, also run when the last `Server` handle is dropped.
    fn close(&self) {
        let inner = self;
        if inner.closed.replace(true) {
            return;
        }
        inner.serving.set(false);
        let listeners = std::mem::take(&mut *inner.listeners.borrow_mut());
        drop(listeners); // deregistered and closed now
        let accepting = std::mem::take(&mut *inner.accepting.borrow_mut());
        for task in &accepting {
            task.cancel();
        }
        if let Some(file) = &inner.unix_file {
            if let Ok(meta) = std::fs::symlink_metadata(&file.path) {
                if meta.dev() == file.dev && meta.ino() == file.ino {
                    let _ = std::fs::remove_file(&file.path);
                }
            }
        }
        inner.wake_waiters();
    }

    fn wake_waiters(&self) {
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        waiters.into_iter().for_each(Waker::wake);
    }

    fn client_gone(&self, key: usize) {
        let now_idle = {
            let mut clients = self.clients.borrow_mut();
            clients.try_remove(key);
            clients.is_empty()
        };
        if now_idle && self.closed.get() {
            self.wake_waiters();
        }
    }

    /// Counts `conn` among the server's clients until it closes (for `wait_closed`,
    /// `close_clients` and `abort_clients`).
    pub(crate) fn track(self: &Rc<Self>, conn: &Rc<Conn>) {
        let key = self.clients.borrow_mut().insert(Rc::downgrade(conn));
        let weak = Rc::downgrade(self);
        conn.set_on_close(Box::new(move || {
            if let Some(server) = weak.upgrade() {
                server.client_gone(key);
            }
        }));
    }

    /// The loop the server runs on, if it is still alive.
    pub(crate) fn core(&self) -> Option<Rc<Core>> {
        self.core.upgrade()
    }

    fn wait(&self, waker: &Waker) {
        let mut waiters = self.waiters.borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(waker)) {
            waiters.push(waker.clone());
        }
    }
}

/// A listening server (asyncio's `Server`), from [`start_server`] or [`start_unix_server`].
///
/// It serves while a handle to it is kept (the handle is `Clone`), until
/// [`close`](Server::close) or until the last handle is dropped, which closes it the same
/// way (asyncio keeps an unreferenced server serving; in Rust a dropped handle frees what it
/// holds). Closing stops accepting at once (the listening sockets are closed); connections
/// already accepted keep running until they end, and [`wait_closed`](Server::wait_closed)
/// waits for them.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let server = asyncio::start_server(
///         |_r, mut w: asyncio::StreamWriter| async move { w.write(b"hi") },
///         "127.0.0.1",
///         0,
///     )
///     .await?;
///     assert!(server.is_serving());
///     let port = server.sockets()[0].inet().unwrap().port();
///     let (mut r, _w) = asyncio::open_connection("127.0.0.1", port).await?;
///     assert_eq!(r.read(-1).await?, b"hi");
///     server.close();
///     server.wait_closed().await;
///     assert!(!server.is_serving());
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
#[must_use = "dropping the last handle of a Server closes it: keep it, or await serve_forever()"]
pub struct Server {
    inner: Rc<ServerInner>,
}

/// Calls `client_connected_cb(reader, writer)` for every connection to `host:port`
/// (asyncio's `start_server`).
///
/// `host` is a name or a numeric address; `""` listens on every interface (IPv4 and IPv6).
/// Each resolved address gets its own listening socket. Each connection runs in its own
/// task; when the callback returns, its reader and writer are dropped, which closes the
/// connection after flushing. A callback that returns `Err` has it reported to the loop's
/// exception handler. Options, as builder calls before `.await`:
/// [`limit`](StartServer::limit), [`backlog`](StartServer::backlog) (100),
/// [`reuse_address`](StartServer::reuse_address) (on),
/// [`reuse_port`](StartServer::reuse_port) (off) and
/// [`start_serving`](StartServer::start_serving) (on).
///
/// # Examples
///
/// ```
/// use asyncio::{StreamReader, StreamWriter};
///
/// async fn handle_echo(mut reader: StreamReader, mut writer: StreamWriter) -> std::io::Result<()> {
///     let data = reader.read(100).await?;
///     writer.write(&data)?;
///     writer.drain().await?;
///     writer.close();
///     writer.wait_closed().await
/// }
///
/// asyncio::run(async {
///     let server = asyncio::start_server(handle_echo, "127.0.0.1", 0).await?;
///     let addr = server.sockets()[0].clone();
///     println!("Serving on {addr}");
///     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", addr.inet().unwrap().port()).await?;
///     w.write(b"Hello World!")?;
///     assert_eq!(r.read(100).await?, b"Hello World!");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub fn start_server<F, Fut>(
    client_connected_cb: F,
    host: impl Into<String>,
    port: u16,
) -> StartServer<F>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + 'static,
    Fut: Future + 'static,
    Fut::Output: ClientConnected,
{
    StartServer {
        callback: client_connected_cb,
        host: host.into(),
        port,
        sock: None,
        options: Options::default(),
    }
}

/// [`start_server`] on a listening socket the caller made (asyncio's
/// `start_server(cb, sock=sock)`): bound, listening, with whatever options it chose. The
/// socket is made non-blocking; `backlog`, `reuse_address` and `reuse_port` do not apply.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
///     let port = listener.local_addr()?.port();
///     let _server = asyncio::start_server_on(
///         |_r, mut w: asyncio::StreamWriter| async move { w.write(b"hi") },
///         listener,
///     )
///     .await?;
///     let (mut r, _w) = asyncio::open_connection("127.0.0.1", port).await?;
///     assert_eq!(r.read(-1).await?, b"hi");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub fn start_server_on<F, Fut>(
    client_connected_cb: F,
    sock: std::net::TcpListener,
) -> StartServer<F>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + 'static,
    Fut: Future + 'static,
    Fut::Output: ClientConnected,
{
    StartServer {
        callback: client_connected_cb,
        host: String::new(),
        port: 0,
        sock: Some(sock),
        options: Options::default(),
    }
}

/// The options of a listening server, shared by `start_server` and `loop.create_server`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    pub(crate) limit: usize,
    pub(crate) backlog: u32,
    pub(crate) reuse_address: bool,
    pub(crate) reuse_port: bool,
    pub(crate) start_serving: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            limit: DEFAULT_LIMIT,
            backlog: 100,
            reuse_address: true,
            reuse_port: false,
            start_serving: true,
        }
    }
}

/// The future of [`start_server`], with its options.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0)
///         .backlog(16)
///         .reuse_port(true)
///         .limit(1024)
///         .start_serving(false)
///         .await?;
///     assert!(!server.is_serving());
///     server.start_serving().await?;
///     assert!(server.is_serving());
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
#[must_use = "start_server does nothing unless awaited"]
#[derive(Debug)]
pub struct StartServer<F> {
    callback: F,
    host: String,
    port: u16,
    /// A listening socket given by the caller (`start_server_on`).
    sock: Option<std::net::TcpListener>,
    options: Options,
}

macro_rules! server_options {
    ($ty:ident) => {
        impl<F> $ty<F> {
            /// The buffer limit of each client's reader (asyncio's `limit=`).
            pub fn limit(mut self, limit: usize) -> Self {
                self.options.limit = limit;
                self
            }

            /// The listen backlog (asyncio's `backlog=`, 100 by default).
            pub fn backlog(mut self, backlog: u32) -> Self {
                self.options.backlog = backlog;
                self
            }

            /// Start accepting at once (asyncio's `start_serving=`, on by default); else call
            /// [`Server::start_serving`] or [`Server::serve_forever`].
            pub fn start_serving(mut self, start: bool) -> Self {
                self.options.start_serving = start;
                self
            }
        }
    };
}

server_options!(StartServer);
server_options!(StartUnixServer);

impl<F> StartServer<F> {
    /// `SO_REUSEADDR` (asyncio's `reuse_address=`, on by default on Unix).
    pub fn reuse_address(mut self, reuse: bool) -> Self {
        self.options.reuse_address = reuse;
        self
    }

    /// `SO_REUSEPORT` (asyncio's `reuse_port=`): several sockets, in several processes or
    /// loops, may listen on one port, and the kernel spreads connections across them.
    pub fn reuse_port(mut self, reuse: bool) -> Self {
        self.options.reuse_port = reuse;
        self
    }
}

impl<F, Fut> IntoFuture for StartServer<F>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + 'static,
    Fut: Future + 'static,
    Fut::Output: ClientConnected,
{
    type Output = io::Result<Server>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<Server>>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let core = with_running(Core::rc).ok_or_else(no_running_loop)?;
            if let Some(sock) = self.sock {
                sock.set_nonblocking(true)?;
                let local = sock.local_addr()?;
                let source =
                    Source::new(&core, Listen::Tcp(mio::net::TcpListener::from_std(sock)), 0)?;
                let listener = Listener {
                    source,
                    addr: Address::Inet(local),
                };
                let accept = stream_acceptor(self.callback, self.options.limit);
                return Ok(Server::new(
                    &core,
                    vec![listener],
                    accept,
                    self.options,
                    None,
                ));
            }
            let listeners = bind_tcp(&core, &self.host, self.port, &self.options).await?;
            let accept = stream_acceptor(self.callback, self.options.limit);
            Ok(Server::new(&core, listeners, accept, self.options, None))
        })
    }
}

/// Resolves `host` and binds a listening socket to each of its addresses, with `o`'s
/// options (asyncio's `create_server` binding step).
pub(crate) async fn bind_tcp(
    core: &Core,
    host: &str,
    port: u16,
    o: &Options,
) -> io::Result<Vec<Listener>> {
    let addrs = resolve(host, port).await?;
    let mut listeners = Vec::new();
    let mut skipped = None;
    for addr in &addrs {
        match sys::tcp_listener(addr, o.backlog, o.reuse_address, o.reuse_port) {
            Ok(l) => {
                let local = l.local_addr()?;
                let source = Source::new(core, Listen::Tcp(mio::net::TcpListener::from_std(l)), 0)?;
                listeners.push(Listener {
                    source,
                    addr: Address::Inet(local),
                });
            }
            // A family this host cannot bind ("localhost" resolving to ::1 without
            // IPv6): skip it if another address works.
            Err(e) if addrs.len() > 1 && unavailable(&e) => skipped = Some(e),
            Err(e) => return Err(bind_error(addr, e)),
        }
    }
    if listeners.is_empty() {
        let e = skipped.unwrap_or_else(|| io::Error::other("no address to listen on"));
        return Err(io::Error::new(
            e.kind(),
            format!("could not listen on {host}:{port}: {e}"),
        ));
    }
    Ok(listeners)
}

fn unavailable(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EADDRNOTAVAIL) | Some(libc::EAFNOSUPPORT)
    )
}

fn bind_error(addr: &SocketAddr, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("error while attempting to bind on address {addr}: {e}"),
    )
}

/// Calls `client_connected_cb(reader, writer)` for every connection to the Unix socket at
/// `path` (asyncio's `start_unix_server`). A stale socket file at `path` is removed first,
/// and the file is removed again when the server closes (if it is still this server's).
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let dir = std::env::temp_dir().join(format!("asyncio-doc-us-{}", std::process::id()));
///     std::fs::create_dir_all(&dir)?;
///     let path = dir.join("server.sock");
///     let server = asyncio::start_unix_server(
///         |mut r: asyncio::StreamReader, mut w: asyncio::StreamWriter| async move {
///             let line = r.readline().await?;
///             w.write(&line)
///         },
///         &path,
///     )
///     .await?;
///     assert_eq!(server.sockets()[0].path().unwrap(), path);
///     let (mut r, mut w) = asyncio::open_unix_connection(&path).await?;
///     w.write(b"ping\n")?;
///     assert_eq!(r.readline().await?, b"ping\n");
///     server.close();
///     assert!(!path.exists(), "closing removes the socket file");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub fn start_unix_server<F, Fut>(
    client_connected_cb: F,
    path: impl AsRef<Path>,
) -> StartUnixServer<F>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + 'static,
    Fut: Future + 'static,
    Fut::Output: ClientConnected,
{
    StartUnixServer {
        callback: client_connected_cb,
        path: path.as_ref().to_path_buf(),
        options: Options::default(),
    }
}

/// The future of [`start_unix_server`], with its options.
///
/// # Examples
///
/// ```
/// let start = asyncio::start_unix_server(|_r, _w| async {}, "/tmp/app.sock").backlog(8);
/// drop(start); // nothing happens until it is awaited
/// ```
#[must_use = "start_unix_server does nothing unless awaited"]
#[derive(Debug)]
pub struct StartUnixServer<F> {
    callback: F,
    path: PathBuf,
    options: Options,
}

impl<F, Fut> IntoFuture for StartUnixServer<F>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + 'static,
    Fut: Future + 'static,
    Fut::Output: ClientConnected,
{
    type Output = io::Result<Server>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<Server>>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let core = with_running(Core::rc).ok_or_else(no_running_loop)?;
            let (listeners, unix_file) = bind_unix(&core, &self.path, &self.options)?;
            let accept = stream_acceptor(self.callback, self.options.limit);
            Ok(Server::new(
                &core,
                listeners,
                accept,
                self.options,
                Some(unix_file),
            ))
        })
    }
}

/// Binds a listening Unix socket at `path` (removing a stale socket file first, as asyncio
/// does), with `o`'s backlog.
pub(crate) fn bind_unix(
    core: &Core,
    path: &Path,
    o: &Options,
) -> io::Result<(Vec<Listener>, UnixFile)> {
    let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.file_type().is_socket() {
            let _ = std::fs::remove_file(path); // a stale socket, as asyncio removes
        }
    }
    let std_listener = std::os::unix::net::UnixListener::bind(path).map_err(named)?;
    sys::set_nonblocking(std::os::fd::AsRawFd::as_raw_fd(&std_listener))?;
    if o.backlog != 128 {
        sys::listen(std::os::fd::AsRawFd::as_raw_fd(&std_listener), o.backlog)?;
    }
    let meta = std::fs::symlink_metadata(path).map_err(named)?;
    let unix_file = UnixFile {
        path: path.to_path_buf(),
        dev: meta.dev(),
        ino: meta.ino(),
    };
    let listener = mio::net::UnixListener::from_std(std_listener);
    let source = Source::new(core, Listen::Unix(listener), 0)?;
    let listeners = vec![Listener {
        source,
        addr: Address::Unix(path.to_path_buf()),
    }];
    Ok((listeners, unix_file))
}

/// The acceptor of `start_server`: a stream pair per connection, handed to `callback` in a
/// task of its own.
fn stream_acceptor<F, Fut>(callback: F, limit: usize) -> Accept
where
    F: Fn(StreamReader, StreamWriter) -> Fut + 'static,
    Fut: Future + 'static,
    Fut::Output: ClientConnected,
{
    Rc::new(move |server: &Rc<ServerInner>, stream: Stream| {
        connection_made(server, stream, &callback, limit)
    })
}

impl Server {
    /// A server over `listeners` that hands every accepted connection to `accept`.
    pub(crate) fn new(
        core: &Core,
        listeners: Vec<Listener>,
        accept: Accept,
        options: Options,
        unix_file: Option<UnixFile>,
    ) -> Server {
        let addrs = listeners.iter().map(|l| l.addr.clone()).collect();
        let inner = Rc::new(ServerInner {
            core: core.weak(),
            listeners: RefCell::new(listeners.into_iter().map(Rc::new).collect()),
            addrs,
            accepting: RefCell::new(Vec::new()),
            accept,
            serving: Cell::new(false),
            serving_forever: Cell::new(false),
            closed: Cell::new(false),
            clients: RefCell::new(Slab::new()),
            waiters: RefCell::new(Vec::new()),
            unix_file,
            backlog: options.backlog,
        });
        let server = Server { inner };
        if options.start_serving {
            server.begin_serving();
        }
        server
    }

    /// Spawns one accept task per listener, once.
    fn begin_serving(&self) {
        let server = &self.inner;
        if server.serving.replace(true) {
            return;
        }
        let Some(core) = server.core.upgrade() else {
            return;
        };
        let listeners: Vec<_> = server
            .listeners
            .borrow()
            .iter()
            .map(Rc::downgrade)
            .collect();
        let tasks: Vec<Task<()>> = listeners
            .into_iter()
            .map(|l| Task::from_cell(core.spawn_internal(accept_loop(Rc::downgrade(server), l))))
            .collect();
        server.accepting.borrow_mut().extend(tasks);
    }

    /// Starts accepting connections if not already (asyncio's `start_serving`). An error
    /// once the server is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0)
    ///         .start_serving(false)
    ///         .await?;
    ///     server.start_serving().await?;
    ///     assert!(server.is_serving());
    ///     server.close();
    ///     assert!(server.start_serving().await.is_err());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn start_serving(&self) -> io::Result<()> {
        if self.inner.closed.get() {
            return Err(closed_error());
        }
        self.begin_serving();
        Ok(())
    }

    /// Serves until the server is closed (asyncio's `serve_forever`). If this future is
    /// dropped (its task cancelled), the server is closed, as asyncio closes it when
    /// `serve_forever` is cancelled. An error if the server is already closed or another
    /// `serve_forever` is running.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
    ///     let s2 = server.clone();
    ///     // Close it from elsewhere after a moment; serve_forever then returns.
    ///     asyncio::get_running_loop().unwrap().call_later(0.05, move || s2.close());
    ///     server.serve_forever().await?;
    ///     assert!(!server.is_serving());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn serve_forever(&self) -> io::Result<()> {
        if self.inner.closed.get() {
            return Err(closed_error());
        }
        if self.inner.serving_forever.replace(true) {
            return Err(io::Error::other(
                "server is already being awaited on serve_forever()",
            ));
        }
        struct CloseOnDrop<'a>(&'a Server);
        impl Drop for CloseOnDrop<'_> {
            fn drop(&mut self) {
                self.0.inner.serving_forever.set(false);
                self.0.close();
            }
        }
        let _guard = CloseOnDrop(self);
        self.begin_serving();
        let inner = &self.inner;
        poll_fn(|cx| {
            if inner.closed.get() {
                Poll::Ready(())
            } else {
                inner.wait(cx.waker());
                Poll::Pending
            }
        })
        .await;
        Ok(())
    }

    /// Stops serving (asyncio's `close`): the listening sockets close now; connections
    /// already accepted keep running. Does not wait: see [`wait_closed`](Server::wait_closed).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     server.close();
    ///     let refused = asyncio::open_connection("127.0.0.1", port).await;
    ///     assert_eq!(refused.unwrap_err().kind(), std::io::ErrorKind::ConnectionRefused);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn close(&self) {
        self.inner.close();
    }

    /// Waits until the server is closed and every connection it accepted has closed
    /// (asyncio 3.12's `wait_closed`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(
    ///         |_r, _w| async { asyncio::sleep(0.05).await },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let _client = asyncio::open_connection("127.0.0.1", port).await?;
    ///     asyncio::sleep(0.01).await; // let the server accept it
    ///     server.close();
    ///     server.wait_closed().await; // returns once the 50 ms handler is done
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn wait_closed(&self) {
        let inner = &self.inner;
        poll_fn(|cx| {
            if inner.closed.get() && inner.clients.borrow().is_empty() {
                Poll::Ready(())
            } else {
                inner.wait(cx.waker());
                Poll::Pending
            }
        })
        .await;
    }

    /// True while the server accepts connections (asyncio's `is_serving`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
    ///     assert!(server.is_serving());
    ///     server.close();
    ///     assert!(!server.is_serving());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn is_serving(&self) -> bool {
        self.inner.serving.get() && !self.inner.closed.get()
    }

    /// The addresses the server listens on (asyncio's `sockets`, as their `getsockname()`);
    /// empty once closed.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
    ///     let addr = server.sockets()[0].inet().unwrap();
    ///     assert!(addr.ip().is_loopback() && addr.port() != 0);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn sockets(&self) -> Vec<Address> {
        if self.inner.closed.get() {
            return Vec::new();
        }
        self.inner.addrs.clone()
    }

    /// Closes every connection the server accepted, after flushing what each has buffered
    /// (asyncio 3.13's `close_clients`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(
    ///         |mut r: asyncio::StreamReader, _w| async move { r.read(-1).await.map(drop) },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (mut r, _w) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     asyncio::sleep(0.01).await;
    ///     server.close();
    ///     server.close_clients();
    ///     assert!(r.read(10).await?.is_empty(), "the server closed our connection");
    ///     server.wait_closed().await;
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn close_clients(&self) {
        for conn in self.clients() {
            conn.close();
        }
    }

    /// Closes every connection the server accepted at once, dropping buffered data (asyncio
    /// 3.13's `abort_clients`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async { asyncio::sleep(10).await }, "127.0.0.1", 0).await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (mut r, _w) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     asyncio::sleep(0.01).await;
    ///     server.abort_clients();
    ///     assert!(r.read(10).await.map_or(true, |d| d.is_empty()));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn abort_clients(&self) {
        for conn in self.clients() {
            conn.abort();
        }
    }

    fn clients(&self) -> Vec<Rc<Conn>> {
        self.inner
            .clients
            .borrow()
            .iter()
            .filter_map(|(_, c)| c.upgrade())
            .collect()
    }

    /// The loop the server runs on (asyncio's `get_loop`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
    ///     assert!(server.get_loop().is_some());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn get_loop(&self) -> Option<EventLoop> {
        self.inner.core.upgrade().map(EventLoop::from_core)
    }
}

fn closed_error() -> io::Error {
    io::Error::other("server is closed")
}

/// Accepts connections on `listener` until it is closed, handing each to the server's
/// acceptor.
async fn accept_loop(server: Weak<ServerInner>, listener: Weak<Listener>) {
    let mut in_a_row = 0;
    loop {
        let accepted = poll_fn(|cx| match listener.upgrade() {
            None => Poll::Ready(None),
            Some(l) => l
                .source
                .poll_io(Direction::Read, cx, |l| l.accept())
                .map(Some),
        })
        .await;
        match accepted {
            None => return, // closed
            Some(Ok(stream)) => {
                // The accept task holds the server weakly: dropping its last handle closes it.
                let Some(server) = server.upgrade() else {
                    return;
                };
                let accept = server.accept.clone();
                if let Err(e) = accept(&server, stream) {
                    report_error(&format!("Error setting up an accepted connection: {e}"));
                }
                in_a_row += 1;
                if in_a_row >= server.backlog.max(1) {
                    in_a_row = 0;
                    sleep(0).await; // let the clients run before accepting more
                }
            }
            Some(Err(e)) if transient(&e) => {}
            Some(Err(e)) => {
                let addr = listener
                    .upgrade()
                    .map(|l| l.addr.to_string())
                    .unwrap_or_default();
                report_error(&format!(
                    "socket.accept() out of system resource\nsocket: {addr}\nerror: {e}\n\
                     (accepting again in {} s; connections already accepted are served)",
                    ACCEPT_RETRY_DELAY.as_secs()
                ));
                sleep(ACCEPT_RETRY_DELAY).await;
            }
        }
    }
}

/// Errors of one connection attempt that say nothing about the listener.
fn transient(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::ConnectionAborted
        || e.kind() == io::ErrorKind::Interrupted
        || matches!(
            e.raw_os_error(),
            Some(libc::EPROTO)
                | Some(libc::ENETDOWN)
                | Some(libc::ENOPROTOOPT)
                | Some(libc::EHOSTDOWN)
                | Some(libc::ENONET)
                | Some(libc::EHOSTUNREACH)
                | Some(libc::EOPNOTSUPP)
                | Some(libc::ENETUNREACH)
                | Some(libc::EPERM)
        )
}

pub(crate) fn report_error(message: &str) {
    report(ExceptionContext {
        message: message.to_owned(),
        task: None,
        panic: None,
    });
}

fn connection_made<F, Fut>(
    server: &Rc<ServerInner>,
    stream: Stream,
    callback: &F,
    limit: usize,
) -> io::Result<()>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + 'static,
    Fut: Future + 'static,
    Fut::Output: ClientConnected,
{
    let core = server
        .core
        .upgrade()
        .ok_or_else(crate::runtime::io::source::loop_gone)?;
    let conn = Conn::new(&core, stream, limit, CONNECTED)?;
    server.track(&conn);
    let client = callback(StreamReader::new(conn.clone()), StreamWriter::new(conn));
    core.spawn(async move {
        if let Some(e) = client.await.failure() {
            report_error(&format!("Unhandled exception in client_connected_cb\n{e}"));
        }
    });
    Ok(())
}

impl Drop for ServerInner {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("sockets", &self.inner.addrs)
            .field("serving", &self.is_serving())
            .field("clients", &self.inner.clients.borrow().len())
            .finish()
    }
}
