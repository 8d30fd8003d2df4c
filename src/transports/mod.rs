//! Transports: asyncio's `asyncio.transports`, the socket side of protocols.
//!
//! A [`Transport`] is the handle a [`Protocol`](crate::Protocol) writes to: `write` sends at
//! once when nothing is buffered (one `send`, no task, no wake), buffers the rest for a small
//! flusher task, and tells the protocol `pause_writing` / `resume_writing` around the
//! buffer's water marks. Reading is pushed: whenever the socket is readable (and reading is
//! not paused), the transport reads once and calls `data_received`.
//!
//! ```text
//!   epoll event --> the connection's driver task --recv--> protocol.data_received(&bytes)
//!                        | EOF: eof_received() -> false: close()            |
//!                        | closed, lost, aborted: connection_lost(exc)      +--> transport.write()
//!                        | buffer back at low water: resume_writing()           send now, or buffer
//! ```
//!
//! One readiness path: the transport is a stream connection (`streams/conn.rs`: the socket
//! registered once with the reactor, the write buffer, its flusher and the close state),
//! with a driver task instead of a `StreamReader`. Per message an echo costs what the
//! streams' costs: `epoll_wait`, one `recv` (a short read says the kernel buffer is empty,
//! so there is no second `recv` to hear `EAGAIN`), one `send`.
//!
//! Ground rules:
//! - A protocol callback never runs inside another callback of the same protocol, and no
//!   `RefCell` borrow is held while one runs: the protocol is taken out of its cell for the
//!   call and put back after. A `pause_writing` due while a callback runs (its own write
//!   went over the high-water mark) is delivered as soon as that callback returns.
//! - A callback that panics is reported to the loop's exception handler ("Exception in
//!   protocol.data_received()"); the connection is aborted and `connection_lost` gets the
//!   panic as an error. Nothing else is affected.
//! - `connection_lost` is called exactly once, by the driver task, which then ends. The
//!   [`Transport`] handle is weak: once the connection is lost and nobody holds its
//!   [`ProtocolRef`], the protocol is dropped, even if it kept its own transport (no cycle).

mod create;
mod datagram;
mod stream;

use std::fmt;
use std::io;
use std::rc::{Rc, Weak};

pub use create::{CreateConnection, CreateServer, CreateUnixConnection, CreateUnixServer};
pub use datagram::{CreateDatagramEndpoint, DatagramTransport};

use crate::streams::ExtraInfo;
use stream::TransportImpl;

/// The write side and controls of a stream connection, handed to
/// [`Protocol::connection_made`](crate::Protocol::connection_made) (asyncio's
/// `asyncio.Transport`).
///
/// Cloning gives another handle to the same connection. Use it from the protocol's
/// callbacks or from any task on the loop. Once the connection is lost, every method is a
/// harmless no-op and [`is_closing`](Transport::is_closing) is true.
///
/// # Examples
///
/// ```
/// use asyncio::{Protocol, Transport};
///
/// struct Hello;
/// impl Protocol for Hello {
///     fn connection_made(&mut self, transport: Transport) {
///         transport.write(b"hello\n");
///         transport.close(); // flushes, then closes
///     }
/// }
///
/// asyncio::run(async {
///     let lp = asyncio::get_running_loop().unwrap();
///     let server = lp.create_server(|| Hello, "127.0.0.1", 0).await?;
///     let port = server.sockets()[0].inet().unwrap().port();
///     let (mut r, _w) = asyncio::open_connection("127.0.0.1", port).await?;
///     assert_eq!(r.read(-1).await?, b"hello\n");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct Transport {
    inner: Weak<dyn TransportImpl>,
}

impl Transport {
    fn with<R>(&self, f: impl FnOnce(&dyn TransportImpl) -> R) -> Option<R> {
        self.inner.upgrade().map(|inner| f(&*inner))
    }

    /// Sends `data` (asyncio's `transport.write`): at once if nothing is buffered, the rest
    /// later. Never blocks and never waits; when the buffer goes over the high-water mark
    /// the protocol's `pause_writing` is called.
    ///
    /// A send that fails ends the connection: the protocol hears it in `connection_lost`.
    /// Writing after `close()` or after the connection is lost drops the data (asyncio
    /// does the same); writing after `write_eof()` is reported to the loop's exception
    /// handler and dropped (asyncio raises `RuntimeError`).
    ///
    /// # Examples
    ///
    /// ```
    /// struct Banner;
    /// impl asyncio::Protocol for Banner {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         t.write("220 ready\r\n"); // anything that is AsRef<[u8]>
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| Banner, "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn write(&self, data: impl AsRef<[u8]>) {
        self.with(|t| t.write(data.as_ref()));
    }

    /// Writes each chunk in turn (asyncio's `transport.writelines`).
    ///
    /// # Examples
    ///
    /// ```
    /// struct Http;
    /// impl asyncio::Protocol for Http {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         t.writelines([&b"HTTP/1.1 204 No Content\r\n"[..], b"\r\n"]);
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| Http, "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn writelines<I>(&self, data: I)
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.with(|t| {
            for chunk in data {
                t.write(chunk.as_ref());
            }
        });
    }

    /// Shuts the writing side once the buffer is flushed: the peer reads EOF, and may still
    /// answer (asyncio's `transport.write_eof`).
    ///
    /// # Examples
    ///
    /// ```
    /// struct OneShot;
    /// impl asyncio::Protocol for OneShot {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         t.write(b"question");
    ///         t.write_eof(); // then wait for the answer in data_received
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| OneShot, "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn write_eof(&self) {
        self.with(|t| t.base().conn.write_eof());
    }

    /// True: TCP and Unix stream transports can shut their writing side.
    ///
    /// # Examples
    ///
    /// ```
    /// struct P;
    /// impl asyncio::Protocol for P {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         assert!(t.can_write_eof());
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| P, "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Closes the transport (asyncio's `transport.close`): reading stops now, what is
    /// buffered is sent, then the socket closes and the protocol's `connection_lost(None)`
    /// is called.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Bye;
    /// impl asyncio::Protocol for Bye {
    ///     fn data_received(&mut self, _data: &[u8]) {}
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         t.write(b"bye");
    ///         t.close();
    ///         assert!(t.is_closing());
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| Bye, "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn close(&self) {
        self.with(|t| t.base().conn.close());
    }

    /// Closes at once, dropping what is buffered (asyncio's `transport.abort`);
    /// `connection_lost(None)` follows.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Rude;
    /// impl asyncio::Protocol for Rude {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         t.abort();
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| Rude, "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn abort(&self) {
        self.with(|t| t.base().conn.abort());
    }

    /// True once `close()` or `abort()` was called or the connection was lost.
    ///
    /// # Examples
    ///
    /// ```
    /// struct P;
    /// impl asyncio::Protocol for P {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         assert!(!t.is_closing());
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| P, "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn is_closing(&self) -> bool {
        self.with(|t| t.base().conn.is_closing()).unwrap_or(true)
    }

    /// Stops reading: no `data_received` until [`resume_reading`](Transport::resume_reading)
    /// (asyncio's `transport.pause_reading`). The peer is held back by TCP itself once the
    /// kernel's buffers fill.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Slow(Option<asyncio::Transport>);
    /// impl asyncio::Protocol for Slow {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         self.0 = Some(t);
    ///     }
    ///     fn data_received(&mut self, _data: &[u8]) {
    ///         let t = self.0.as_ref().unwrap();
    ///         t.pause_reading(); // busy: no more data for now
    ///         assert!(!t.is_reading());
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| Slow(None), "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn pause_reading(&self) {
        self.with(|t| t.base().pause_reading());
    }

    /// Starts reading again after [`pause_reading`](Transport::pause_reading).
    ///
    /// # Examples
    ///
    /// ```
    /// struct P;
    /// impl asyncio::Protocol for P {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         t.pause_reading();
    ///         t.resume_reading();
    ///         assert!(t.is_reading());
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| P, "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn resume_reading(&self) {
        self.with(|t| t.base().resume_reading());
    }

    /// True while the transport reads: not paused, not closing.
    ///
    /// # Examples
    ///
    /// ```
    /// struct P;
    /// impl asyncio::Protocol for P {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         assert!(t.is_reading());
    ///         t.close();
    ///         assert!(!t.is_reading());
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| P, "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn is_reading(&self) -> bool {
        self.with(|t| t.base().is_reading()).unwrap_or(false)
    }

    /// Bytes buffered and not yet sent (asyncio's `transport.get_write_buffer_size`).
    ///
    /// # Examples
    ///
    /// ```
    /// struct P;
    /// impl asyncio::Protocol for P {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         t.write(b"small");
    ///         assert_eq!(t.get_write_buffer_size(), 0); // the kernel took it
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| P, "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn get_write_buffer_size(&self) -> usize {
        self.with(|t| t.base().conn.write_buffer_size())
            .unwrap_or(0)
    }

    /// Sets the water marks of `pause_writing` / `resume_writing` (asyncio's
    /// `transport.set_write_buffer_limits(high, low)`): `high` defaults to 64 KiB, `low` to
    /// a quarter of `high` (`4 * low` for `high` when only `low` is given). Crossing the new
    /// high-water mark pauses the protocol at once.
    ///
    /// # Examples
    ///
    /// ```
    /// struct P;
    /// impl asyncio::Protocol for P {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         t.set_write_buffer_limits(Some(1024), None);
    ///         assert_eq!(t.get_write_buffer_limits(), (256, 1024));
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| P, "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn set_write_buffer_limits(&self, high: Option<usize>, low: Option<usize>) {
        let (high, low) = stream::water_marks(high, low);
        self.with(|t| {
            t.base().conn.set_write_buffer_limits(high, low);
            t.maybe_pause();
        });
    }

    /// The `(low, high)` water marks.
    ///
    /// # Examples
    ///
    /// ```
    /// struct P;
    /// impl asyncio::Protocol for P {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         assert_eq!(t.get_write_buffer_limits(), (16 * 1024, 64 * 1024));
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| P, "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn get_write_buffer_limits(&self) -> (usize, usize) {
        self.with(|t| t.base().conn.write_buffer_limits())
            .unwrap_or((0, 0))
    }

    /// Facts about the connection (asyncio's `transport.get_extra_info(name)`):
    /// `"peername"`, `"sockname"` (an [`Address`](crate::Address)) or `"socket"` (the file
    /// descriptor); `None` for other names or once closed.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Who;
    /// impl asyncio::Protocol for Who {
    ///     fn connection_made(&mut self, t: asyncio::Transport) {
    ///         let peer = t.get_extra_info("peername").unwrap();
    ///         println!("connection from {}", peer.address().unwrap());
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let server = lp.create_server(|| Who, "127.0.0.1", 0).await.unwrap();
    /// #     let port = server.sockets()[0].inet().unwrap().port();
    /// #     let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
    /// #     w.write(b"data").unwrap();
    /// #     w.write_eof().unwrap();
    /// #     let _ = asyncio::wait_for(r.read(-1), 0.5).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn get_extra_info(&self, name: &str) -> Option<ExtraInfo> {
        self.with(|t| {
            let conn = &t.base().conn;
            match name {
                "peername" => conn
                    .with_stream(|s| s.peer())
                    .flatten()
                    .map(ExtraInfo::Address),
                "sockname" => conn
                    .with_stream(|s| s.local())
                    .flatten()
                    .map(ExtraInfo::Address),
                "socket" => conn.with_stream(|s| s.raw_fd()).map(ExtraInfo::Socket),
                _ => None,
            }
        })
        .flatten()
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("closing", &self.is_closing())
            .field("reading", &self.is_reading())
            .field("buffered", &self.get_write_buffer_size())
            .finish()
    }
}

/// The protocol of a connection made by [`EventLoop::create_connection`] (the `protocol`
/// of asyncio's `transport, protocol = await loop.create_connection(...)`).
///
/// The transport owns its protocol; this handle reaches into it between callbacks, and
/// keeps it alive after the connection is lost so its results can be read.
///
/// [`EventLoop::create_connection`]: crate::EventLoop::create_connection
///
/// # Examples
///
/// ```
/// #[derive(Default)]
/// struct Collect(Vec<u8>);
/// impl asyncio::Protocol for Collect {
///     fn data_received(&mut self, data: &[u8]) {
///         self.0.extend_from_slice(data);
///     }
/// }
///
/// asyncio::run(async {
///     let lp = asyncio::get_running_loop().unwrap();
///     let server = asyncio::start_server(
///         |_r, mut w: asyncio::StreamWriter| async move { w.write(b"data") },
///         "127.0.0.1",
///         0,
///     )
///     .await?;
///     let port = server.sockets()[0].inet().unwrap().port();
///     let (_transport, protocol) = lp.create_connection(Collect::default, "127.0.0.1", port).await?;
///     while protocol.with(|p| p.0.len()) != Some(4) {
///         asyncio::sleep(0.001).await;
///     }
///     assert_eq!(protocol.with(|p| p.0.clone()).unwrap(), b"data");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct ProtocolRef<P> {
    cell: Rc<dyn ProtocolAccess<P>>,
}

/// What [`ProtocolRef`] needs from a transport: a turn with its protocol.
pub(crate) trait ProtocolAccess<P> {
    /// Calls `f` with the protocol unless one of its callbacks is running; false if so.
    fn access(&self, f: &mut dyn FnMut(&mut P)) -> bool;
    /// True once `connection_lost` was delivered.
    fn lost(&self) -> bool;
}

impl<P: 'static> ProtocolRef<P> {
    pub(crate) fn new(cell: Rc<dyn ProtocolAccess<P>>) -> ProtocolRef<P> {
        ProtocolRef { cell }
    }

    /// Calls `f` with the protocol. `None` if the protocol is running one of its own
    /// callbacks right now (only possible from inside that callback's call chain).
    ///
    /// # Examples
    ///
    /// See [`ProtocolRef`].
    pub fn with<R>(&self, f: impl FnOnce(&mut P) -> R) -> Option<R> {
        let mut f = Some(f);
        let mut out = None;
        self.cell.access(&mut |p| {
            if let Some(f) = f.take() {
                out = Some(f(p));
            }
        });
        out
    }

    /// True once the protocol's `connection_lost` was called.
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
    ///     let (t, protocol) = lp.create_connection(|| P, "127.0.0.1", port).await?;
    ///     assert!(!protocol.is_lost());
    ///     t.close();
    ///     while !protocol.is_lost() {
    ///         asyncio::sleep(0.001).await;
    ///     }
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn is_lost(&self) -> bool {
        self.cell.lost()
    }
}

impl<P> Clone for ProtocolRef<P> {
    fn clone(&self) -> Self {
        ProtocolRef {
            cell: self.cell.clone(),
        }
    }
}

impl<P> fmt::Debug for ProtocolRef<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtocolRef")
            .field("lost", &self.cell.lost())
            .finish()
    }
}

/// A protocol, out of its cell while one of its callbacks runs, so that no borrow is held
/// across user code and a callback can never run inside another.
pub(crate) struct ProtocolCell<P> {
    protocol: std::cell::Cell<Option<P>>,
}

impl<P> ProtocolCell<P> {
    pub(crate) fn new(protocol: P) -> ProtocolCell<P> {
        ProtocolCell {
            protocol: std::cell::Cell::new(Some(protocol)),
        }
    }

    /// True while one of the protocol's callbacks runs.
    pub(crate) fn is_busy(&self) -> bool {
        let p = self.protocol.take();
        let busy = p.is_none();
        self.protocol.set(p);
        busy
    }

    /// Calls `f` with the protocol, contained: `Ok(None)` if the protocol is busy,
    /// `Err(message)` if `f` panicked (reported to the loop's exception handler as
    /// "Exception in protocol.{what}()").
    pub(crate) fn call<R>(
        &self,
        what: &str,
        f: impl FnOnce(&mut P) -> R,
    ) -> Result<Option<R>, io::Error> {
        let Some(mut protocol) = self.protocol.take() else {
            return Ok(None);
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut protocol)));
        self.protocol.set(Some(protocol));
        match result {
            Ok(r) => Ok(Some(r)),
            Err(payload) => {
                let message = crate::exceptions::panic_message(&*payload).to_owned();
                crate::runtime::core::drop_payload(payload);
                crate::runtime::core::report(crate::ExceptionContext {
                    message: format!("Exception in protocol.{what}(): panicked: {message}"),
                    task: None,
                    panic: Some(message.clone()),
                });
                Err(panicked(what, &message))
            }
        }
    }

    /// The user's own call (`ProtocolRef::with`): not contained, but the protocol goes back
    /// in its cell whatever happens. False if the protocol is busy.
    pub(crate) fn with_user(&self, f: &mut dyn FnMut(&mut P)) -> bool {
        struct PutBack<'a, P> {
            cell: &'a std::cell::Cell<Option<P>>,
            protocol: Option<P>,
        }
        impl<P> Drop for PutBack<'_, P> {
            fn drop(&mut self) {
                self.cell.set(self.protocol.take());
            }
        }
        let Some(protocol) = self.protocol.take() else {
            return false;
        };
        let mut guard = PutBack {
            cell: &self.protocol,
            protocol: Some(protocol),
        };
        if let Some(p) = guard.protocol.as_mut() {
            f(p);
        }
        true
    }
}

/// The error for a protocol callback that panicked: what `connection_lost` receives.
fn panicked(what: &str, message: &str) -> io::Error {
    io::Error::other(format!("protocol.{what}() panicked: {message}"))
}
