//! Protocols: asyncio's `asyncio.protocols`, the callback side of transports.
//!
//! A protocol is an object whose methods the loop calls as things happen on a connection:
//! [`connection_made`](Protocol::connection_made) with the [`Transport`] to write to, then
//! [`data_received`](Protocol::data_received) for every chunk the socket gives,
//! [`eof_received`](Protocol::eof_received) when the peer closes its side, and
//! [`connection_lost`](Protocol::connection_lost) once at the end. Where streams *pull* (a
//! task awaits `read`), protocols are *pushed* to: no task per connection, no await, one
//! call per chunk, which is what made uvloop fast.
//!
//! ```text
//!   connection_made -> data_received* -> [eof_received] -> connection_lost   (exactly once)
//!                  pause_writing / resume_writing around the write buffer's high-water mark
//! ```
//!
//! Every callback runs on the loop, never inside another callback of the same protocol. A
//! callback that panics is reported to the loop's exception handler, its connection is
//! aborted, and `connection_lost` gets the panic as an error; the loop and every other
//! connection go on.

use std::io;
use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};

use crate::transports::{DatagramTransport, Transport};

/// The callbacks of a stream connection (asyncio's `asyncio.Protocol`).
///
/// Every method has a default that does nothing (`eof_received` returns `false`, which
/// closes the transport), so a protocol implements only what it needs. Pass a factory that
/// makes one protocol per connection to [`EventLoop::create_server`] or
/// [`EventLoop::create_connection`].
///
/// [`EventLoop::create_server`]: crate::EventLoop::create_server
/// [`EventLoop::create_connection`]: crate::EventLoop::create_connection
///
/// # Examples
///
/// asyncio's echo server protocol:
///
/// ```
/// use asyncio::{Protocol, Transport};
///
/// #[derive(Default)]
/// struct EchoServer {
///     transport: Option<Transport>,
/// }
///
/// impl Protocol for EchoServer {
///     fn connection_made(&mut self, transport: Transport) {
///         self.transport = Some(transport);
///     }
///
///     fn data_received(&mut self, data: &[u8]) {
///         if let Some(t) = &self.transport {
///             t.write(data); // sent at once if the socket has room
///         }
///     }
/// }
///
/// asyncio::run(async {
///     let lp = asyncio::get_running_loop().unwrap();
///     let server = lp.create_server(EchoServer::default, "127.0.0.1", 0).await?;
///     let port = server.sockets()[0].inet().unwrap().port();
///     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await?;
///     w.write(b"ping")?;
///     assert_eq!(r.read(4).await?, b"ping");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub trait Protocol: 'static {
    /// The connection is made; `transport` is the handle to write to and close it (keep it).
    ///
    /// # Examples
    ///
    /// ```
    /// struct Greeter;
    /// impl asyncio::Protocol for Greeter {
    ///     fn connection_made(&mut self, transport: asyncio::Transport) {
    ///         transport.write(b"hello\n");
    ///         transport.close(); // after the greeting is sent
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| Greeter, "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn connection_made(&mut self, transport: Transport) {
        let _ = transport;
    }

    /// Bytes arrived. They are a chunk of the stream, cut wherever the socket cut them:
    /// a protocol that parses messages keeps what it has not parsed yet.
    ///
    /// # Examples
    ///
    /// ```
    /// #[derive(Default)]
    /// struct Lines {
    ///     pending: Vec<u8>,
    ///     lines: Vec<String>,
    /// }
    /// impl asyncio::Protocol for Lines {
    ///     fn data_received(&mut self, data: &[u8]) {
    ///         self.pending.extend_from_slice(data);
    ///         while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
    ///             let line: Vec<u8> = self.pending.drain(..=end).collect();
    ///             self.lines.push(String::from_utf8_lossy(&line).into_owned());
    ///         }
    ///     }
    /// }
    /// let mut p = Lines::default();
    /// asyncio::Protocol::data_received(&mut p, b"a\nb");
    /// asyncio::Protocol::data_received(&mut p, b"c\n");
    /// assert_eq!(p.lines, ["a\n", "bc\n"]);
    /// ```
    fn data_received(&mut self, data: &[u8]) {
        let _ = data;
    }

    /// The peer closed its writing side. Return `false` (the default) to close the
    /// transport, `true` to keep it open for writing; then close it yourself when done.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Answerer(Option<asyncio::Transport>);
    /// impl asyncio::Protocol for Answerer {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         self.0 = Some(t);
    ///     }
    ///     fn eof_received(&mut self) -> bool {
    ///         let t = self.0.as_ref().unwrap();
    ///         t.write(b"bye\n"); // the peer stopped sending, but still reads
    ///         t.close();
    ///         true
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| Answerer(None), "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn eof_received(&mut self) -> bool {
        false
    }

    /// The connection is closed: `None` after a close or an EOF, else the error that ended
    /// it (reset by the peer, a failed send, a panicking callback). Called exactly once.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Watch(asyncio::Future<bool>);
    /// impl asyncio::Protocol for Watch {
    ///     fn connection_lost(&mut self, exc: Option<std::io::Error>) {
    ///         let _ = self.0.set_result(exc.is_none()); // true: a clean close
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| Watch(asyncio::Future::new()), "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn connection_lost(&mut self, exc: Option<io::Error>) {
        let _ = exc;
    }

    /// The transport's write buffer went over its high-water mark: stop writing until
    /// [`resume_writing`](Protocol::resume_writing). Writes still work meanwhile; they pile up.
    ///
    /// # Examples
    ///
    /// ```
    /// #[derive(Default)]
    /// struct Producer {
    ///     paused: bool,
    /// }
    /// impl asyncio::Protocol for Producer {
    ///     fn pause_writing(&mut self) {
    ///         self.paused = true;
    ///     }
    ///     fn resume_writing(&mut self) {
    ///         self.paused = false;
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| Producer::default(), "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn pause_writing(&mut self) {}

    /// The write buffer is back at its low-water mark: writing may go on.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Quiet;
    /// impl asyncio::Protocol for Quiet {
    ///     fn resume_writing(&mut self) {
    ///         println!("room again");
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| Quiet, "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn resume_writing(&mut self) {}
}

/// A protocol that reads into its own buffer (asyncio's `asyncio.BufferedProtocol`): the
/// transport asks [`get_buffer`](BufferedProtocol::get_buffer) for room, receives straight
/// into it, and says how much came with [`buffer_updated`](BufferedProtocol::buffer_updated).
/// No copy, and no allocation per read.
///
/// Wrap it in [`Buffered`] when handing its factory to the loop.
///
/// # Examples
///
/// ```
/// use asyncio::{Buffered, BufferedProtocol, Transport};
///
/// /// Counts bytes until the peer closes, then answers with the count.
/// struct Counter {
///     buf: Vec<u8>,
///     total: usize,
///     transport: Option<Transport>,
/// }
///
/// impl BufferedProtocol for Counter {
///     fn connection_made(&mut self, transport: Transport) {
///         self.transport = Some(transport);
///     }
///     fn get_buffer(&mut self, _sizehint: usize) -> &mut [u8] {
///         &mut self.buf
///     }
///     fn buffer_updated(&mut self, nbytes: usize) {
///         self.total += nbytes;
///     }
///     fn eof_received(&mut self) -> bool {
///         let t = self.transport.as_ref().unwrap();
///         t.write(self.total.to_string().as_bytes());
///         false // close after the answer is sent
///     }
/// }
///
/// asyncio::run(async {
///     let lp = asyncio::get_running_loop().unwrap();
///     let factory = || Buffered(Counter { buf: vec![0; 4096], total: 0, transport: None });
///     let server = lp.create_server(factory, "127.0.0.1", 0).await?;
///     let port = server.sockets()[0].inet().unwrap().port();
///     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await?;
///     w.write(&[1u8; 10_000])?;
///     w.write_eof()?;
///     assert_eq!(r.read(-1).await?, b"10000");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub trait BufferedProtocol: 'static {
    /// As [`Protocol::connection_made`].
    ///
    /// # Examples
    ///
    /// ```
    /// struct P(Option<asyncio::Transport>, [u8; 64]);
    /// impl asyncio::BufferedProtocol for P {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         self.0 = Some(t);
    ///     }
    ///     fn get_buffer(&mut self, _hint: usize) -> &mut [u8] {
    ///         &mut self.1
    ///     }
    ///     fn buffer_updated(&mut self, _n: usize) {}
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| asyncio::Buffered(P(None, [0; 64])), "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn connection_made(&mut self, transport: Transport) {
        let _ = transport;
    }

    /// Room for the next read: at least one byte (an empty buffer is an error that aborts
    /// the connection, as asyncio's). `sizehint` is how much the transport would like (64
    /// KiB); any size works.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Ring {
    ///     buf: Vec<u8>,
    ///     used: usize,
    /// }
    /// impl asyncio::BufferedProtocol for Ring {
    ///     fn get_buffer(&mut self, _hint: usize) -> &mut [u8] {
    ///         if self.used == self.buf.len() {
    ///             self.used = 0; // start over (a real parser would consume first)
    ///         }
    ///         &mut self.buf[self.used..]
    ///     }
    ///     fn buffer_updated(&mut self, n: usize) {
    ///         self.used += n;
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| asyncio::Buffered(Ring { buf: vec![0; 64], used: 0 }), "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn get_buffer(&mut self, sizehint: usize) -> &mut [u8];

    /// The last [`get_buffer`](BufferedProtocol::get_buffer) now holds `nbytes` new bytes
    /// at its start.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Sum(u64, [u8; 16]);
    /// impl asyncio::BufferedProtocol for Sum {
    ///     fn get_buffer(&mut self, _hint: usize) -> &mut [u8] {
    ///         &mut self.1
    ///     }
    ///     fn buffer_updated(&mut self, n: usize) {
    ///         self.0 += self.1[..n].iter().map(|&b| u64::from(b)).sum::<u64>();
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| asyncio::Buffered(Sum(0, [0; 16])), "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn buffer_updated(&mut self, nbytes: usize);

    /// As [`Protocol::eof_received`].
    ///
    /// # Examples
    ///
    /// ```
    /// struct Keep([u8; 8]);
    /// impl asyncio::BufferedProtocol for Keep {
    ///     fn get_buffer(&mut self, _hint: usize) -> &mut [u8] {
    ///         &mut self.0
    ///     }
    ///     fn buffer_updated(&mut self, _n: usize) {}
    ///     fn eof_received(&mut self) -> bool {
    ///         true // keep the transport open: the protocol closes it later
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| asyncio::Buffered(Keep([0; 8])), "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn eof_received(&mut self) -> bool {
        false
    }

    /// As [`Protocol::connection_lost`].
    ///
    /// # Examples
    ///
    /// ```
    /// struct Log([u8; 8]);
    /// impl asyncio::BufferedProtocol for Log {
    ///     fn get_buffer(&mut self, _hint: usize) -> &mut [u8] {
    ///         &mut self.0
    ///     }
    ///     fn buffer_updated(&mut self, _n: usize) {}
    ///     fn connection_lost(&mut self, exc: Option<std::io::Error>) {
    ///         if let Some(e) = exc {
    ///             eprintln!("lost: {e}");
    ///         }
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| asyncio::Buffered(Log([0; 8])), "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn connection_lost(&mut self, exc: Option<io::Error>) {
        let _ = exc;
    }

    /// As [`Protocol::pause_writing`].
    ///
    /// # Examples
    ///
    /// ```
    /// struct P(bool, [u8; 8]);
    /// impl asyncio::BufferedProtocol for P {
    ///     fn get_buffer(&mut self, _hint: usize) -> &mut [u8] {
    ///         &mut self.1
    ///     }
    ///     fn buffer_updated(&mut self, _n: usize) {}
    ///     fn pause_writing(&mut self) {
    ///         self.0 = true;
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| asyncio::Buffered(P(false, [0; 8])), "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn pause_writing(&mut self) {}

    /// As [`Protocol::resume_writing`].
    ///
    /// # Examples
    ///
    /// ```
    /// struct P(bool, [u8; 8]);
    /// impl asyncio::BufferedProtocol for P {
    ///     fn get_buffer(&mut self, _hint: usize) -> &mut [u8] {
    ///         &mut self.1
    ///     }
    ///     fn buffer_updated(&mut self, _n: usize) {}
    ///     fn resume_writing(&mut self) {
    ///         self.0 = false;
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| asyncio::Buffered(P(false, [0; 8])), "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn resume_writing(&mut self) {}
}

/// Marks a [`BufferedProtocol`] for the loop: `create_server(|| Buffered(MyProto::new()), ..)`
/// reads into the protocol's buffer. It derefs to the protocol inside.
///
/// (asyncio tells the two kinds apart with `isinstance`; Rust picks at compile time, and
/// this wrapper is how a factory says which.)
///
/// # Examples
///
/// ```
/// struct Sink([u8; 1024]);
/// impl asyncio::BufferedProtocol for Sink {
///     fn get_buffer(&mut self, _hint: usize) -> &mut [u8] {
///         &mut self.0
///     }
///     fn buffer_updated(&mut self, _n: usize) {}
/// }
/// let p = asyncio::Buffered(Sink([0; 1024]));
/// let inner: &Sink = &p; // the protocol, through Deref
/// assert_eq!(inner.0.len(), 1024);
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Buffered<P>(pub P);

impl<P> Deref for Buffered<P> {
    type Target = P;
    fn deref(&self) -> &P {
        &self.0
    }
}

impl<P> DerefMut for Buffered<P> {
    fn deref_mut(&mut self) -> &mut P {
        &mut self.0
    }
}

/// What a stream transport can drive: any [`Protocol`], or a [`BufferedProtocol`] wrapped
/// in [`Buffered`]. Implemented for those two only; it is the bound of
/// [`EventLoop::create_server`](crate::EventLoop::create_server) and friends.
///
/// # Examples
///
/// ```
/// fn takes<P: asyncio::StreamProtocol>(_p: P) {}
/// struct Plain;
/// impl asyncio::Protocol for Plain {}
/// takes(Plain);
/// ```
pub trait StreamProtocol: private::Handler {}

impl<P: Protocol> StreamProtocol for P {}
impl<P: BufferedProtocol> StreamProtocol for Buffered<P> {}

/// The callbacks of a UDP endpoint (asyncio's `asyncio.DatagramProtocol`), for
/// [`EventLoop::create_datagram_endpoint`](crate::EventLoop::create_datagram_endpoint).
///
/// # Examples
///
/// A UDP echo server:
///
/// ```
/// use std::net::SocketAddr;
/// use asyncio::{DatagramProtocol, DatagramTransport};
///
/// #[derive(Default)]
/// struct Echo(Option<DatagramTransport>);
///
/// impl DatagramProtocol for Echo {
///     fn connection_made(&mut self, transport: DatagramTransport) {
///         self.0 = Some(transport);
///     }
///     fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
///         self.0.as_ref().unwrap().sendto(data, Some(addr));
///     }
/// }
///
/// asyncio::run(async {
///     let lp = asyncio::get_running_loop().unwrap();
///     let (server, _) = lp
///         .create_datagram_endpoint(Echo::default)
///         .local_addr(([127, 0, 0, 1], 0))
///         .await?;
///     let addr = server.sockname().unwrap();
///     let client = std::net::UdpSocket::bind("127.0.0.1:0")?;
///     client.set_nonblocking(true)?;
///     lp.sock_sendto(&client, b"ping", addr).await?;
///     let (data, from) = lp.sock_recvfrom(&client, 100).await?;
///     assert_eq!((data.as_slice(), from), (&b"ping"[..], addr));
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub trait DatagramProtocol: 'static {
    /// The endpoint is ready; `transport` sends datagrams and closes it.
    ///
    /// # Examples
    ///
    /// ```
    /// struct P(Option<asyncio::DatagramTransport>);
    /// impl asyncio::DatagramProtocol for P {
    ///     fn connection_made(&mut self, t: asyncio::DatagramTransport) {
    ///         self.0 = Some(t);
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let (t, _p) = lp.create_datagram_endpoint(|| P(None)).local_addr(([127, 0, 0, 1], 0)).await.unwrap();
    /// #     let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// #     if let Some(addr) = t.sockname() {
    /// #         peer.send_to(b"hi", addr).unwrap();
    /// #     }
    /// #     asyncio::sleep(0.05).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn connection_made(&mut self, transport: DatagramTransport) {
        let _ = transport;
    }

    /// A datagram came from `addr` (cut to 256 KiB at most, as asyncio's `recvfrom`).
    ///
    /// # Examples
    ///
    /// ```
    /// #[derive(Default)]
    /// struct Count(usize);
    /// impl asyncio::DatagramProtocol for Count {
    ///     fn datagram_received(&mut self, data: &[u8], _addr: std::net::SocketAddr) {
    ///         self.0 += data.len();
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let (t, _p) = lp.create_datagram_endpoint(|| Count::default()).local_addr(([127, 0, 0, 1], 0)).await.unwrap();
    /// #     let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// #     if let Some(addr) = t.sockname() {
    /// #         peer.send_to(b"hi", addr).unwrap();
    /// #     }
    /// #     asyncio::sleep(0.05).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
        let _ = (data, addr);
    }

    /// A send or receive failed without ending the endpoint: most often
    /// `ConnectionRefused`, the ICMP "port unreachable" a connected socket gets back after
    /// sending to a port where nobody listens.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Log;
    /// impl asyncio::DatagramProtocol for Log {
    ///     fn error_received(&mut self, exc: std::io::Error) {
    ///         eprintln!("udp error: {exc}");
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let (t, _p) = lp.create_datagram_endpoint(|| Log).local_addr(([127, 0, 0, 1], 0)).await.unwrap();
    /// #     let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// #     if let Some(addr) = t.sockname() {
    /// #         peer.send_to(b"hi", addr).unwrap();
    /// #     }
    /// #     asyncio::sleep(0.05).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn error_received(&mut self, exc: io::Error) {
        let _ = exc;
    }

    /// The endpoint is closed (`None` after `close()`). Called exactly once.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Done(asyncio::Future<()>);
    /// impl asyncio::DatagramProtocol for Done {
    ///     fn connection_lost(&mut self, _exc: Option<std::io::Error>) {
    ///         let _ = self.0.set_result(());
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let (t, _p) = lp.create_datagram_endpoint(|| Done(asyncio::Future::new())).local_addr(([127, 0, 0, 1], 0)).await.unwrap();
    /// #     let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// #     if let Some(addr) = t.sockname() {
    /// #         peer.send_to(b"hi", addr).unwrap();
    /// #     }
    /// #     asyncio::sleep(0.05).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn connection_lost(&mut self, exc: Option<io::Error>) {
        let _ = exc;
    }

    /// Datagrams waiting to be sent went over the high-water mark (see
    /// [`Protocol::pause_writing`]).
    ///
    /// # Examples
    ///
    /// ```
    /// struct P(bool);
    /// impl asyncio::DatagramProtocol for P {
    ///     fn pause_writing(&mut self) {
    ///         self.0 = true;
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let (t, _p) = lp.create_datagram_endpoint(|| P(false)).local_addr(([127, 0, 0, 1], 0)).await.unwrap();
    /// #     let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// #     if let Some(addr) = t.sockname() {
    /// #         peer.send_to(b"hi", addr).unwrap();
    /// #     }
    /// #     asyncio::sleep(0.05).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn pause_writing(&mut self) {}

    /// Back at the low-water mark.
    ///
    /// # Examples
    ///
    /// ```
    /// struct P(bool);
    /// impl asyncio::DatagramProtocol for P {
    ///     fn resume_writing(&mut self) {
    ///         self.0 = false;
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let (t, _p) = lp.create_datagram_endpoint(|| P(false)).local_addr(([127, 0, 0, 1], 0)).await.unwrap();
    /// #     let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// #     if let Some(addr) = t.sockname() {
    /// #         peer.send_to(b"hi", addr).unwrap();
    /// #     }
    /// #     asyncio::sleep(0.05).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    fn resume_writing(&mut self) {}
}

/// The one seam between a stream transport and the two kinds of protocol: how a chunk is
/// received (into the loop's scratch buffer, or into the protocol's own) and delivered.
/// Public in a private module so that [`StreamProtocol`] can name it, sealed from users.
pub(crate) mod private {
    use std::io;
    use std::task::Poll;

    use super::{Buffered, BufferedProtocol, Protocol};
    use crate::transports::Transport;

    /// One read: fills the buffer it is given, as `read(2)` would.
    pub(crate) type ReadOnce<'a> = &'a mut dyn FnMut(&mut [u8]) -> Poll<io::Result<usize>>;

    /// How much one read asks for (what `Protocol::data_received` gets at most).
    pub(crate) const READ_SIZE: usize = 64 * 1024;

    thread_local! {
        /// Where a plain protocol's reads land: one buffer per thread (one per loop), taken
        /// out while a callback runs so that no borrow is held across user code.
        static SCRATCH: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    }

    /// The thread's read buffer ([`READ_SIZE`] bytes), taken out; give it back with
    /// [`put_scratch`]. A nested taker gets a new one.
    pub(crate) fn take_scratch() -> Vec<u8> {
        let mut buf = SCRATCH.take();
        if buf.len() < READ_SIZE {
            buf.resize(READ_SIZE, 0);
        }
        buf
    }

    /// Gives the read buffer back.
    pub(crate) fn put_scratch(buf: Vec<u8>) {
        SCRATCH.set(buf);
    }

    /// The callbacks a stream transport makes, whatever the kind of protocol.
    pub trait Handler: 'static {
        /// `connection_made`.
        fn made(&mut self, transport: Transport);
        /// Reads once with `read` and delivers what came. `Ok(0)` is EOF (not delivered:
        /// the transport calls [`eof`](Handler::eof)).
        fn receive(&mut self, read: ReadOnce<'_>) -> Poll<io::Result<usize>>;
        /// `eof_received`.
        fn eof(&mut self) -> bool;
        /// `connection_lost`.
        fn lost(&mut self, exc: Option<io::Error>);
        /// `pause_writing`.
        fn pause(&mut self);
        /// `resume_writing`.
        fn resume(&mut self);
    }

    impl<P: Protocol> Handler for P {
        fn made(&mut self, transport: Transport) {
            self.connection_made(transport);
        }

        fn receive(&mut self, read: ReadOnce<'_>) -> Poll<io::Result<usize>> {
            let mut buf = take_scratch();
            let result = read(&mut buf);
            if let Poll::Ready(Ok(n)) = result {
                if n > 0 {
                    // If this panics, the buffer is dropped with the unwind; the next read
                    // makes a new one.
                    self.data_received(&buf[..n]);
                }
            }
            put_scratch(buf);
            result
        }

        fn eof(&mut self) -> bool {
            self.eof_received()
        }

        fn lost(&mut self, exc: Option<io::Error>) {
            self.connection_lost(exc);
        }

        fn pause(&mut self) {
            self.pause_writing();
        }

        fn resume(&mut self) {
            self.resume_writing();
        }
    }

    impl<P: BufferedProtocol> Handler for Buffered<P> {
        fn made(&mut self, transport: Transport) {
            self.0.connection_made(transport);
        }

        fn receive(&mut self, read: ReadOnce<'_>) -> Poll<io::Result<usize>> {
            let buf = self.0.get_buffer(READ_SIZE);
            if buf.is_empty() {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "get_buffer() returned an empty buffer",
                )));
            }
            let result = read(buf);
            if let Poll::Ready(Ok(n)) = result {
                if n > 0 {
                    self.0.buffer_updated(n);
                }
            }
            result
        }

        fn eof(&mut self) -> bool {
            self.0.eof_received()
        }

        fn lost(&mut self, exc: Option<io::Error>) {
            self.0.connection_lost(exc);
        }

        fn pause(&mut self) {
            self.0.pause_writing();
        }

        fn resume(&mut self) {
            self.0.resume_writing();
        }
    }
}
