//! asyncio's low-level I/O API on the loop (`selector_events.py`): level-triggered fd
//! callbacks (`add_reader`, `add_writer`) and the `sock_*` coroutines for non-blocking
//! sockets that the program owns.
//!
//! Every `sock_*` operation tries its syscall first and waits only if the socket says
//! `WouldBlock`: data already there costs one syscall and no `epoll_ctl`. A wait costs one
//! `epoll_ctl` (which also proves the registration is current, since the fd may have been
//! closed and its number reused since the last wait); CPython's costs two (`add_reader`,
//! `remove_reader`). The machinery is in `runtime/io/fds.rs`.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::rc::Rc;

use crate::events::EventLoop;
use crate::runtime::core::with_running;
use crate::runtime::io::fds::blocking_error;
use crate::runtime::io::scheduled_io::Direction;
use crate::runtime::io::scratch::{SCRATCH_LEN, with_scratch};
use crate::runtime::io::sys;
use crate::socket::{Socket, error_with_addr};

/// A listening socket that [`EventLoop::sock_accept`] can take: std's `TcpListener` and
/// `UnixListener`, and a listening [`Socket`].
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let lp = asyncio::get_running_loop().unwrap();
///     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
///     listener.set_nonblocking(true).unwrap();
///     let addr = listener.local_addr().unwrap();
///     let client = std::thread::spawn(move || std::net::TcpStream::connect(addr).unwrap());
///     let (conn, peer): (std::net::TcpStream, _) = lp.sock_accept(&listener).await.unwrap();
///     assert_eq!(peer, client.join().unwrap().local_addr().unwrap());
///     drop(conn);
/// });
/// ```
pub trait Listener: AsFd {
    /// The connected socket an accept gives.
    type Stream;
    /// The peer's address.
    type Addr;

    /// Accepts one pending connection of a listener in non-blocking mode, as a non-blocking
    /// socket: a `WouldBlock` error when none is pending. [`EventLoop::sock_accept`] calls it
    /// when the listener may be ready.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::Listener;
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// listener.set_nonblocking(true).unwrap();
    /// let err = listener.accept_nonblocking().unwrap_err(); // nobody is connecting
    /// assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    /// ```
    fn accept_nonblocking(&self) -> io::Result<(Self::Stream, Self::Addr)>;
}

impl Listener for TcpListener {
    type Stream = TcpStream;
    type Addr = SocketAddr;

    fn accept_nonblocking(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (fd, peer) = sys::accept(self.as_raw_fd())?;
        Ok((TcpStream::from(fd), peer))
    }
}

impl Listener for Socket {
    type Stream = Socket;
    type Addr = SocketAddr;

    fn accept_nonblocking(&self) -> io::Result<(Socket, SocketAddr)> {
        let (fd, peer): (OwnedFd, _) = sys::accept(self.as_raw_fd())?;
        Ok((Socket::from(fd), peer))
    }
}

impl Listener for UnixListener {
    type Stream = UnixStream;
    type Addr = std::os::unix::net::SocketAddr;

    fn accept_nonblocking(&self) -> io::Result<(UnixStream, Self::Addr)> {
        let (stream, peer) = self.accept()?;
        stream.set_nonblocking(true)?;
        Ok((stream, peer))
    }
}

impl<L: Listener + ?Sized> Listener for &L {
    type Stream = L::Stream;
    type Addr = L::Addr;

    fn accept_nonblocking(&self) -> io::Result<(L::Stream, L::Addr)> {
        (**self).accept_nonblocking()
    }
}

/// What `add_reader` and friends take: a raw descriptor number, or a reference to anything
/// that has one (asyncio: "an int, or an object with a `fileno()` method").
///
/// # Examples
///
/// ```
/// use asyncio::Fileno;
/// use std::os::fd::AsRawFd;
/// let (rx, _tx) = std::io::pipe().unwrap();
/// assert_eq!((&rx).fileno(), rx.as_raw_fd());
/// assert_eq!(rx.as_raw_fd().fileno(), rx.as_raw_fd());
/// ```
pub trait Fileno {
    /// The descriptor number.
    fn fileno(&self) -> RawFd;
}

impl Fileno for RawFd {
    fn fileno(&self) -> RawFd {
        *self
    }
}

impl<T: AsFd + ?Sized> Fileno for &T {
    fn fileno(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

impl Fileno for std::os::fd::BorrowedFd<'_> {
    fn fileno(&self) -> RawFd {
        self.as_raw_fd()
    }
}

/// Whether an operation's fd mode was checked before its first syscall.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Check it when the operation must wait, once per registration of the fd (its
    /// syscalls use `MSG_DONTWAIT`, so they never block the loop whatever the mode; the check
    /// is asyncio's `ValueError`, and costs no syscall when data is already there).
    CheckOnWait,
    /// Checked already (accept and connect have no `MSG_DONTWAIT`: a blocking socket would
    /// block the loop at once).
    Checked,
}

/// The error for a blocking socket (asyncio raises `ValueError`).
fn ensure_nonblocking(fd: RawFd, what: &str) -> io::Result<()> {
    let nonblocking = sys::is_nonblocking(fd)
        .map_err(|e| io::Error::new(e.kind(), format!("{what}: fd {fd}: {e}")))?;
    if nonblocking {
        Ok(())
    } else {
        Err(blocking_error(fd, what))
    }
}

/// A buffer of `n` zeroes, or an error (asyncio's `MemoryError`) if `n` bytes cannot be had.
fn zeroed_buffer(n: usize, what: &str) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    buf.try_reserve_exact(n).map_err(|_| {
        io::Error::new(
            io::ErrorKind::OutOfMemory,
            format!("{what}: cannot allocate a buffer of {n} bytes"),
        )
    })?;
    buf.resize(n, 0);
    Ok(buf)
}

/// `add_reader`'s errors, said for a person: an fd epoll refuses, an fd that is not open.
fn watch_error(e: io::Error, fd: RawFd, what: &str) -> io::Error {
    let text = match e.raw_os_error() {
        Some(libc::EPERM) => format!(
            "{what}: fd {fd} cannot be watched: it is a regular file or directory, which is \
             always ready, and epoll refuses it ({e})"
        ),
        Some(libc::EBADF) => format!("{what}: fd {fd} is not an open file descriptor ({e})"),
        _ if e.kind() == io::ErrorKind::ResourceBusy => return e,
        _ => format!("{what}: fd {fd}: {e}"),
    };
    io::Error::new(e.kind(), text)
}

impl EventLoop {
    fn add_callback(
        &self,
        fd: RawFd,
        dir: Direction,
        callback: Rc<dyn Fn()>,
        what: &str,
    ) -> io::Result<()> {
        if self.is_closed() {
            return Err(io::Error::other(format!(
                "{what}: the event loop is closed"
            )));
        }
        let reactor = self.core().reactor()?;
        reactor
            .fd_add_callback(fd, dir, callback)
            .map_err(|e| watch_error(e, fd, what))
    }

    fn remove_callback(&self, fd: RawFd, dir: Direction) -> bool {
        self.core()
            .reactor_if_any()
            .is_some_and(|reactor| reactor.fd_remove_callback(fd, dir))
    }

    /// Calls `callback` whenever `fd` is readable: asyncio's `loop.add_reader(fd, callback)`.
    ///
    /// The callback runs on the loop, once per loop iteration for as long as `fd` stays
    /// readable (level-triggered, as in asyncio): read from the fd in it, or it comes back
    /// next iteration. A second `add_reader` for the same fd replaces the callback. A
    /// panicking callback is reported to the loop's exception handler and stays registered.
    /// `fd` is a raw descriptor or a reference to anything with one (`&socket`,
    /// `&pipe_reader`; see [`Fileno`]); the loop does not own it: call [`remove_reader`](EventLoop::remove_reader) before closing it.
    ///
    /// # Errors
    ///
    /// - a regular file or a directory (epoll refuses them: they are always ready), or an fd
    ///   that is not open; asyncio raises the same `OSError`;
    /// - a `sock_*` operation is waiting to read the same fd (`ResourceBusy`): one fd has one
    ///   reader at a time;
    /// - the loop is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let (rx, mut tx) = std::io::pipe().unwrap();
    ///     let done = lp.create_future::<Vec<u8>>();
    ///     let fd = std::os::fd::AsRawFd::as_raw_fd(&rx);
    ///     let (d, inner) = (done.clone(), lp.clone());
    ///     lp.add_reader(fd, move || {
    ///         let mut buf = [0u8; 64];
    ///         let n = (&rx).read(&mut buf).unwrap(); // readable: this does not block
    ///         inner.remove_reader(fd);
    ///         d.set_result(buf[..n].to_vec()).unwrap();
    ///     })
    ///     .unwrap();
    ///     tx.write_all(b"hello").unwrap();
    ///     assert_eq!(done.await.unwrap(), b"hello");
    /// });
    /// ```
    pub fn add_reader(&self, fd: impl Fileno, callback: impl Fn() + 'static) -> io::Result<()> {
        self.add_callback(
            fd.fileno(),
            Direction::Read,
            Rc::new(callback),
            "add_reader",
        )
    }

    /// Stops watching `fd` for reading: asyncio's `loop.remove_reader(fd)`. True if it had a
    /// reader callback. The callback is dropped now.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let (rx, _tx) = std::io::pipe().unwrap();
    ///     lp.add_reader(&rx, || {}).unwrap();
    ///     assert!(lp.remove_reader(&rx));
    ///     assert!(!lp.remove_reader(&rx)); // nothing left to remove
    /// });
    /// ```
    pub fn remove_reader(&self, fd: impl Fileno) -> bool {
        self.remove_callback(fd.fileno(), Direction::Read)
    }

    /// Calls `callback` whenever `fd` is writable: asyncio's `loop.add_writer(fd, callback)`.
    /// Level-triggered like [`add_reader`](EventLoop::add_reader): a socket with room in its
    /// send buffer is writable, so the callback runs every iteration until
    /// [`remove_writer`](EventLoop::remove_writer).
    ///
    /// # Errors
    ///
    /// As [`add_reader`](EventLoop::add_reader), for writing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let (_rx, tx) = std::io::pipe().unwrap();
    ///     let done = lp.create_future::<()>();
    ///     let (d, inner) = (done.clone(), lp.clone());
    ///     let fd = std::os::fd::AsRawFd::as_raw_fd(&tx);
    ///     lp.add_writer(fd, move || {
    ///         (&tx).write_all(b"room in the pipe").unwrap();
    ///         inner.remove_writer(fd);
    ///         d.set_result(()).unwrap();
    ///     })
    ///     .unwrap();
    ///     done.await.unwrap();
    /// });
    /// ```
    pub fn add_writer(&self, fd: impl Fileno, callback: impl Fn() + 'static) -> io::Result<()> {
        self.add_callback(
            fd.fileno(),
            Direction::Write,
            Rc::new(callback),
            "add_writer",
        )
    }

    /// Stops watching `fd` for writing: asyncio's `loop.remove_writer(fd)`. True if it had a
    /// writer callback.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let (_rx, tx) = std::io::pipe().unwrap();
    ///     assert!(!lp.remove_writer(&tx));
    ///     lp.add_writer(&tx, || {}).unwrap();
    ///     assert!(lp.remove_writer(&tx));
    /// });
    /// ```
    pub fn remove_writer(&self, fd: impl Fileno) -> bool {
        self.remove_callback(fd.fileno(), Direction::Write)
    }

    /// Waits until `fd` may be ready for `dir`: on this loop, which must be running.
    async fn wait_fd(
        &self,
        fd: RawFd,
        dir: Direction,
        mode: Mode,
        what: &'static str,
    ) -> io::Result<()> {
        let core = self.core();
        if !with_running(|running| std::ptr::eq(running, core)).unwrap_or(false) {
            return Err(io::Error::other(format!(
                "{what}: this event loop is not running; await sock_* operations inside it \
                 (asyncio::run or run_until_complete)"
            )));
        }
        core.reactor()?
            .fd_wait(fd, dir, what, mode == Mode::CheckOnWait)
            .await
    }

    /// Runs `op` (one non-blocking syscall) until it does not say `WouldBlock`, waiting for
    /// `dir` in between.
    async fn retry<R>(
        &self,
        fd: RawFd,
        dir: Direction,
        mode: Mode,
        what: &'static str,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.wait_fd(fd, dir, mode, what).await?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return result,
            }
        }
    }

    /// Receives up to `nbytes` bytes: asyncio's `await loop.sock_recv(sock, nbytes)`. An
    /// empty result means the peer closed its end (EOF).
    ///
    /// `sock` is any non-blocking socket: std's `TcpStream`, `UdpSocket`, `UnixStream`,
    /// `UnixDatagram`, or a [`Socket`]. Dropping the future before it is ready (a timeout,
    /// a cancelled task) loses no data and leaves nothing registered that could wake.
    ///
    /// # Errors
    ///
    /// What the socket reports (reset by peer, ...); `InvalidInput` for a socket in
    /// blocking mode (asyncio's `ValueError`), noticed when the call would have to wait; an
    /// error if another task is already waiting to read the same socket, or if this loop is
    /// not the running one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let (a, b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     b.set_nonblocking(true).unwrap();
    ///     lp.sock_sendall(&a, b"hello").await.unwrap();
    ///     assert_eq!(lp.sock_recv(&b, 1024).await.unwrap(), b"hello");
    /// });
    /// ```
    pub async fn sock_recv<S: AsFd + ?Sized>(
        &self,
        sock: &S,
        nbytes: usize,
    ) -> io::Result<Vec<u8>> {
        if nbytes <= SCRATCH_LEN {
            // Into the thread's scratch buffer, then only what came is copied: no zeroing of
            // a buffer of `nbytes` per call.
            let fd = sock.as_fd().as_raw_fd();
            return self
                .retry(fd, Direction::Read, Mode::CheckOnWait, "sock_recv", || {
                    with_scratch(|scratch| {
                        let n = sys::recv_nowait(fd, &mut scratch[..nbytes])?;
                        Ok(scratch[..n].to_vec())
                    })
                })
                .await;
        }
        let mut buf = zeroed_buffer(nbytes, "sock_recv")?;
        let n = self.sock_recv_into(sock, &mut buf).await?;
        buf.truncate(n);
        if buf.capacity() > 2 * n + 64 {
            buf.shrink_to_fit(); // a big request answered with a line keeps a line's memory
        }
        Ok(buf)
    }

    /// Receives into `buf`, returning how many bytes came: asyncio's
    /// `await loop.sock_recv_into(sock, buf)`. 0 means EOF (or an empty `buf`).
    ///
    /// # Errors
    ///
    /// As [`sock_recv`](EventLoop::sock_recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let (a, b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     b.set_nonblocking(true).unwrap();
    ///     lp.sock_sendall(&a, b"abc").await.unwrap();
    ///     let mut buf = [0u8; 16];
    ///     let n = lp.sock_recv_into(&b, &mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"abc");
    /// });
    /// ```
    pub async fn sock_recv_into<S: AsFd + ?Sized>(
        &self,
        sock: &S,
        buf: &mut [u8],
    ) -> io::Result<usize> {
        let fd = sock.as_fd().as_raw_fd();
        self.retry(fd, Direction::Read, Mode::CheckOnWait, "sock_recv", || {
            sys::recv_nowait(fd, buf)
        })
        .await
    }

    /// Sends all of `data`, waiting for room as needed: asyncio's
    /// `await loop.sock_sendall(sock, data)`. If the future is dropped midway, an unknown
    /// prefix of `data` has been sent (as in asyncio).
    ///
    /// # Errors
    ///
    /// What the socket reports (broken pipe, reset by peer: never a `SIGPIPE`);
    /// `InvalidInput` for a socket in blocking mode, noticed when the call would have to
    /// wait; an error if another task is already waiting to write the same socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let (a, b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     b.set_nonblocking(true).unwrap();
    ///     let big = vec![7u8; 1 << 20]; // more than the socket buffer holds
    ///     let reader = asyncio::create_task({
    ///         let lp = lp.clone();
    ///         async move {
    ///             let mut got = 0;
    ///             while got < 1 << 20 {
    ///                 got += lp.sock_recv(&b, 65536).await.unwrap().len();
    ///             }
    ///             got
    ///         }
    ///     });
    ///     lp.sock_sendall(&a, &big).await.unwrap();
    ///     assert_eq!(reader.await.unwrap(), 1 << 20);
    /// });
    /// ```
    pub async fn sock_sendall<S: AsFd + ?Sized>(&self, sock: &S, data: &[u8]) -> io::Result<()> {
        let fd = sock.as_fd().as_raw_fd();
        let mut sent = 0;
        while sent < data.len() {
            let rest = &data[sent..];
            sent += self
                .retry(
                    fd,
                    Direction::Write,
                    Mode::CheckOnWait,
                    "sock_sendall",
                    || sys::send_nowait(fd, rest),
                )
                .await?;
        }
        Ok(())
    }

    /// Connects `sock` to `addr` without blocking the loop: asyncio's
    /// `await loop.sock_connect(sock, address)`. The address is an IP socket address
    /// (`"127.0.0.1:8080".parse()`, `([127, 0, 0, 1], 8080)`); resolve names first.
    ///
    /// # Errors
    ///
    /// The connection's failure, naming the address (`connection refused: 127.0.0.1:1`,
    /// kind `ConnectionRefused`); `InvalidInput` for a socket in blocking mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{Family, Kind, Socket};
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let sock = Socket::new(Family::Inet, Kind::Stream).unwrap();
    ///     lp.sock_connect(&sock, listener.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(sock.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub async fn sock_connect<S: AsFd + ?Sized>(
        &self,
        sock: &S,
        addr: impl Into<SocketAddr>,
    ) -> io::Result<()> {
        let addr = addr.into();
        let fd = sock.as_fd().as_raw_fd();
        ensure_nonblocking(fd, "sock_connect")?;
        let failed = |e| error_with_addr(e, "sock_connect", &addr);
        match sys::connect(fd, &addr) {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            // An interrupted connect goes on in the background, as one in progress does.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(failed(e)),
        }
        loop {
            self.wait_fd(fd, Direction::Write, Mode::Checked, "sock_connect")
                .await?;
            if let Some(e) = sys::take_error(fd)? {
                return Err(failed(e));
            }
            match sys::peer_addr(fd) {
                Ok(_) => return Ok(()),
                // Woken before the handshake ended: wait for the next event.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
                Err(e) => return Err(failed(e)),
            }
        }
    }

    /// Accepts a connection: asyncio's `await loop.sock_accept(sock)`, which gives
    /// `(conn, address)`. The new socket is non-blocking, ready for the other `sock_*`
    /// methods. `listener` is std's `TcpListener` or `UnixListener`, or a listening
    /// [`Socket`], in non-blocking mode; see [`Listener`].
    ///
    /// # Errors
    ///
    /// What `accept` reports (too many open files, ...); `InvalidInput` for a listener in
    /// blocking mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{Family, Kind, Socket};
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let server = Socket::new(Family::Inet, Kind::Stream).unwrap();
    ///     server.bind(([127, 0, 0, 1], 0)).unwrap();
    ///     server.listen(16).unwrap();
    ///     let addr = server.local_addr().unwrap();
    ///     let accept = asyncio::create_task({
    ///         let lp = lp.clone();
    ///         async move { lp.sock_accept(&server).await.map(|(_conn, peer)| peer) }
    ///     });
    ///     let client = Socket::new(Family::Inet, Kind::Stream).unwrap();
    ///     lp.sock_connect(&client, addr).await.unwrap();
    ///     assert_eq!(accept.await.unwrap().unwrap(), client.local_addr().unwrap());
    /// });
    /// ```
    pub async fn sock_accept<L: Listener + ?Sized>(
        &self,
        listener: &L,
    ) -> io::Result<(L::Stream, L::Addr)> {
        let fd = listener.as_fd().as_raw_fd();
        ensure_nonblocking(fd, "sock_accept")?;
        self.retry(fd, Direction::Read, Mode::Checked, "sock_accept", || {
            listener.accept_nonblocking()
        })
        .await
    }

    /// Receives one datagram of up to `nbytes` bytes and its sender: asyncio's
    /// `await loop.sock_recvfrom(sock, bufsize)`. For IP sockets (`UdpSocket`, a datagram
    /// [`Socket`]); a longer datagram is cut to `nbytes`.
    ///
    /// # Errors
    ///
    /// As [`sock_recv`](EventLoop::sock_recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::UdpSocket;
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     b.set_nonblocking(true).unwrap();
    ///     lp.sock_sendto(&a, b"hi", b.local_addr().unwrap()).await.unwrap();
    ///     let (data, from) = lp.sock_recvfrom(&b, 1500).await.unwrap();
    ///     assert_eq!((data.as_slice(), from), (&b"hi"[..], a.local_addr().unwrap()));
    /// });
    /// ```
    pub async fn sock_recvfrom<S: AsFd + ?Sized>(
        &self,
        sock: &S,
        nbytes: usize,
    ) -> io::Result<(Vec<u8>, SocketAddr)> {
        let mut buf = zeroed_buffer(nbytes, "sock_recvfrom")?;
        let (n, from) = self.sock_recvfrom_into(sock, &mut buf).await?;
        buf.truncate(n);
        if buf.capacity() > 2 * n + 64 {
            buf.shrink_to_fit();
        }
        Ok((buf, from))
    }

    /// Receives one datagram into `buf`: asyncio's `await loop.sock_recvfrom_into(sock, buf)`,
    /// giving the length and the sender.
    ///
    /// # Errors
    ///
    /// As [`sock_recv`](EventLoop::sock_recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::UdpSocket;
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     b.set_nonblocking(true).unwrap();
    ///     lp.sock_sendto(&a, b"ping", b.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0u8; 1500];
    ///     let (n, _from) = lp.sock_recvfrom_into(&b, &mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"ping");
    /// });
    /// ```
    pub async fn sock_recvfrom_into<S: AsFd + ?Sized>(
        &self,
        sock: &S,
        buf: &mut [u8],
    ) -> io::Result<(usize, SocketAddr)> {
        let fd = sock.as_fd().as_raw_fd();
        self.retry(
            fd,
            Direction::Read,
            Mode::CheckOnWait,
            "sock_recvfrom",
            || sys::recvfrom_nowait(fd, buf),
        )
        .await
    }

    /// Sends one datagram to `addr`: asyncio's `await loop.sock_sendto(sock, data, address)`,
    /// giving the number of bytes sent.
    ///
    /// # Errors
    ///
    /// What the socket reports (a datagram too large, ...); `InvalidInput` for a socket in
    /// blocking mode, noticed when the call would have to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::UdpSocket;
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let sent = lp.sock_sendto(&a, b"hello", a.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(sent, 5);
    /// });
    /// ```
    pub async fn sock_sendto<S: AsFd + ?Sized>(
        &self,
        sock: &S,
        data: &[u8],
        addr: impl Into<SocketAddr>,
    ) -> io::Result<usize> {
        let addr = addr.into();
        let fd = sock.as_fd().as_raw_fd();
        self.retry(
            fd,
            Direction::Write,
            Mode::CheckOnWait,
            "sock_sendto",
            || sys::sendto_nowait(fd, data, &addr),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::net::UnixStream;

    use crate::EventLoop;

    fn pair() -> (UnixStream, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        (a, b)
    }

    #[test]
    fn a_dropped_sock_recv_leaves_no_waker_behind() {
        let lp = EventLoop::new();
        let inner = lp.clone();
        lp.run_until_complete(async move {
            let (a, b) = pair();
            let timed_out = crate::wait_for(inner.sock_recv(&b, 10), 0.01).await;
            assert!(timed_out.is_err(), "nothing was sent");
            let reactor = inner.core().reactor().unwrap();
            assert_eq!(
                reactor.fd_count(),
                1,
                "the fd stays registered for the next wait"
            );
            assert!(
                !reactor.has_waiters(),
                "the cancelled wait took its waker back"
            );
            inner.sock_sendall(&a, b"x").await.unwrap();
            assert_eq!(inner.sock_recv(&b, 10).await.unwrap(), b"x");
        })
        .unwrap();
    }

    #[test]
    fn data_already_there_needs_no_registration() {
        let lp = EventLoop::new();
        let inner = lp.clone();
        lp.run_until_complete(async move {
            let (a, b) = pair();
            inner.sock_sendall(&a, b"ready").await.unwrap();
            assert_eq!(inner.sock_recv(&b, 10).await.unwrap(), b"ready");
            assert!(
                inner.core().reactor_if_any().is_none(),
                "no wait, so no reactor and no epoll_ctl"
            );
        })
        .unwrap();
    }

    #[test]
    fn remove_reader_forgets_the_fd() {
        let lp = EventLoop::new();
        let inner = lp.clone();
        lp.run_until_complete(async move {
            let (a, _b) = pair();
            inner.add_reader(&a, || {}).unwrap();
            inner.add_writer(&a, || {}).unwrap();
            let reactor = inner.core().reactor().unwrap();
            assert_eq!((reactor.fd_count(), reactor.len()), (1, 1));
            assert!(inner.remove_reader(&a));
            assert_eq!(reactor.fd_count(), 1, "the writer still watches it");
            assert!(inner.remove_writer(&a));
            assert_eq!((reactor.fd_count(), reactor.len()), (0, 0));
        })
        .unwrap();
    }
}
