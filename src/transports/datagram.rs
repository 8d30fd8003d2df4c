//! UDP: [`DatagramTransport`] and `loop.create_datagram_endpoint` (asyncio's
//! `_SelectorDatagramTransport`).
//!
//! ```text
//!   readable --wake--> driver task: recvfrom until WouldBlock (32 at most, then yield)
//!                           -> datagram_received(data, addr) | error_received(exc)
//!   sendto(data, addr): sendto(2) now if nothing waits; WouldBlock: queue, the driver
//!                       sends when writable; an OSError: error_received (after the call)
//! ```
//!
//! As in asyncio, errors of single datagrams (the ICMP "port unreachable" a connected
//! socket hears as `ECONNREFUSED`, a datagram too large) go to `error_received` and the
//! endpoint stays open; only `close()`/`abort()` end it.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, IntoFuture, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use super::stream::water_marks;
use super::{ProtocolAccess, ProtocolCell, ProtocolRef};
use crate::events::{EventLoop, ExceptionContext};
use crate::protocols::DatagramProtocol;
use crate::protocols::private::{put_scratch, take_scratch};
use crate::runtime::core::{Core, report};
use crate::runtime::io::Direction;
use crate::runtime::io::scheduled_io::ready;
use crate::runtime::io::source::Source;
use crate::runtime::io::sys;
use crate::streams::ExtraInfo;
use crate::streams::conn::DEFAULT_HIGH_WATER;

/// Datagrams received per wake before the driver yields to the rest of the loop.
const READS_PER_WAKE: usize = 32;

/// The sending side and controls of a UDP endpoint, handed to
/// [`DatagramProtocol::connection_made`] (asyncio's `asyncio.DatagramTransport`).
///
/// # Examples
///
/// ```
/// struct Ping;
/// impl asyncio::DatagramProtocol for Ping {
///     fn connection_made(&mut self, t: asyncio::DatagramTransport) {
///         t.sendto(b"ping", None); // to the remote address it was connected to
///     }
/// }
/// asyncio::run(async {
///     let lp = asyncio::get_running_loop().unwrap();
///     let peer = std::net::UdpSocket::bind("127.0.0.1:0")?;
///     peer.set_nonblocking(true)?;
///     let (t, _p) = lp
///         .create_datagram_endpoint(|| Ping)
///         .remote_addr(peer.local_addr()?)
///         .await?;
///     let (data, from) = lp.sock_recvfrom(&peer, 100).await?;
///     assert_eq!((data.as_slice(), Some(from)), (&b"ping"[..], t.sockname()));
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct DatagramTransport {
    inner: Weak<dyn DatagramImpl>,
}

impl DatagramTransport {
    fn with<R>(&self, f: impl FnOnce(&Endpoint) -> R) -> Option<R> {
        self.inner.upgrade().map(|inner| f(inner.endpoint()))
    }

    /// Sends `data` to `addr` (asyncio's `transport.sendto(data, addr)`); `None` means
    /// the remote address the endpoint was made with. At once if nothing is queued, else
    /// queued for when the socket has room. A send error goes to the protocol's
    /// `error_received`; an address the endpoint cannot use (another one than its remote
    /// address, or none on an unconnected endpoint) is reported to the loop's exception
    /// handler and the datagram dropped (asyncio raises `ValueError`).
    ///
    /// # Examples
    ///
    /// ```
    /// struct Hello;
    /// impl asyncio::DatagramProtocol for Hello {
    ///     fn datagram_received(&mut self, _data: &[u8], _addr: std::net::SocketAddr) {}
    ///     fn connection_made(&mut self, t: asyncio::DatagramTransport) {
    ///         t.sendto(b"hello", Some("127.0.0.1:9".parse().unwrap()));
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let (t, _p) = lp.create_datagram_endpoint(|| Hello).local_addr(([127, 0, 0, 1], 0)).await.unwrap();
    /// #     let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// #     if let Some(addr) = t.sockname() {
    /// #         peer.send_to(b"hi", addr).unwrap();
    /// #     }
    /// #     asyncio::sleep(0.05).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn sendto(&self, data: impl AsRef<[u8]>, addr: Option<SocketAddr>) {
        if let Some(inner) = self.inner.upgrade() {
            inner.sendto(data.as_ref(), addr);
        }
    }

    /// Closes the endpoint once queued datagrams are sent; `connection_lost(None)` follows
    /// (asyncio's `transport.close`). Receiving stops now.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Once;
    /// impl asyncio::DatagramProtocol for Once {
    ///     fn connection_made(&mut self, t: asyncio::DatagramTransport) {
    ///         t.close();
    ///         assert!(t.is_closing());
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let (t, _p) = lp.create_datagram_endpoint(|| Once).local_addr(([127, 0, 0, 1], 0)).await.unwrap();
    /// #     let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// #     if let Some(addr) = t.sockname() {
    /// #         peer.send_to(b"hi", addr).unwrap();
    /// #     }
    /// #     asyncio::sleep(0.05).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn close(&self) {
        self.with(Endpoint::close);
    }

    /// Closes at once, dropping queued datagrams (asyncio's `transport.abort`).
    ///
    /// # Examples
    ///
    /// ```
    /// struct Gone;
    /// impl asyncio::DatagramProtocol for Gone {
    ///     fn connection_made(&mut self, t: asyncio::DatagramTransport) {
    ///         t.abort();
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let (t, _p) = lp.create_datagram_endpoint(|| Gone).local_addr(([127, 0, 0, 1], 0)).await.unwrap();
    /// #     let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// #     if let Some(addr) = t.sockname() {
    /// #         peer.send_to(b"hi", addr).unwrap();
    /// #     }
    /// #     asyncio::sleep(0.05).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn abort(&self) {
        self.with(Endpoint::abort);
    }

    /// True once closing or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// struct P;
    /// impl asyncio::DatagramProtocol for P {
    ///     fn connection_made(&mut self, t: asyncio::DatagramTransport) {
    ///         assert!(!t.is_closing());
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let (t, _p) = lp.create_datagram_endpoint(|| P).local_addr(([127, 0, 0, 1], 0)).await.unwrap();
    /// #     let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// #     if let Some(addr) = t.sockname() {
    /// #         peer.send_to(b"hi", addr).unwrap();
    /// #     }
    /// #     asyncio::sleep(0.05).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn is_closing(&self) -> bool {
        self.with(|e| e.closing.get()).unwrap_or(true)
    }

    /// Bytes of datagrams queued and not yet sent.
    ///
    /// # Examples
    ///
    /// ```
    /// struct P;
    /// impl asyncio::DatagramProtocol for P {
    ///     fn connection_made(&mut self, t: asyncio::DatagramTransport) {
    ///         assert_eq!(t.get_write_buffer_size(), 0);
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let (t, _p) = lp.create_datagram_endpoint(|| P).local_addr(([127, 0, 0, 1], 0)).await.unwrap();
    /// #     let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// #     if let Some(addr) = t.sockname() {
    /// #         peer.send_to(b"hi", addr).unwrap();
    /// #     }
    /// #     asyncio::sleep(0.05).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn get_write_buffer_size(&self) -> usize {
        self.with(|e| e.queued_bytes.get()).unwrap_or(0)
    }

    /// Sets the water marks of `pause_writing` / `resume_writing`, as
    /// [`Transport::set_write_buffer_limits`](crate::Transport::set_write_buffer_limits).
    ///
    /// # Examples
    ///
    /// ```
    /// struct P;
    /// impl asyncio::DatagramProtocol for P {
    ///     fn connection_made(&mut self, t: asyncio::DatagramTransport) {
    ///         t.set_write_buffer_limits(Some(4096), Some(1024));
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let (t, _p) = lp.create_datagram_endpoint(|| P).local_addr(([127, 0, 0, 1], 0)).await.unwrap();
    /// #     let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// #     if let Some(addr) = t.sockname() {
    /// #         peer.send_to(b"hi", addr).unwrap();
    /// #     }
    /// #     asyncio::sleep(0.05).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn set_write_buffer_limits(&self, high: Option<usize>, low: Option<usize>) {
        let (high, low) = water_marks(high, low);
        if let Some(inner) = self.inner.upgrade() {
            let e = inner.endpoint();
            e.high_water.set(high);
            e.low_water.set(low.min(high));
            inner.maybe_pause();
        }
    }

    /// The local address (`get_extra_info("sockname")`).
    ///
    /// # Examples
    ///
    /// ```
    /// struct P;
    /// impl asyncio::DatagramProtocol for P {}
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let (t, _p) = lp.create_datagram_endpoint(|| P).local_addr(([127, 0, 0, 1], 0)).await?;
    ///     assert!(t.sockname().unwrap().ip().is_loopback());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn sockname(&self) -> Option<SocketAddr> {
        self.with(|e| e.fd().and_then(|fd| sys::local_addr(fd).ok()))
            .flatten()
    }

    /// The remote address, for an endpoint made with one (`get_extra_info("peername")`).
    ///
    /// # Examples
    ///
    /// ```
    /// struct P;
    /// impl asyncio::DatagramProtocol for P {}
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let (t, _p) = lp.create_datagram_endpoint(|| P).local_addr(([127, 0, 0, 1], 0)).await?;
    ///     assert_eq!(t.peername(), None);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn peername(&self) -> Option<SocketAddr> {
        self.with(|e| e.remote).flatten()
    }

    /// `"sockname"`, `"peername"` or `"socket"` (asyncio's `transport.get_extra_info`).
    ///
    /// # Examples
    ///
    /// ```
    /// struct P;
    /// impl asyncio::DatagramProtocol for P {
    ///     fn connection_made(&mut self, t: asyncio::DatagramTransport) {
    ///         assert!(t.get_extra_info("socket").is_some());
    ///     }
    /// }
    /// # asyncio::run(async {
    /// #     let lp = asyncio::get_running_loop().unwrap();
    /// #     let failed = std::rc::Rc::new(std::cell::Cell::new(false));
    /// #     let seen = failed.clone();
    /// #     lp.set_exception_handler(Some(move |_: &asyncio::ExceptionContext| seen.set(true)));
    /// #     let (t, _p) = lp.create_datagram_endpoint(|| P).local_addr(([127, 0, 0, 1], 0)).await.unwrap();
    /// #     let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// #     if let Some(addr) = t.sockname() {
    /// #         peer.send_to(b"hi", addr).unwrap();
    /// #     }
    /// #     asyncio::sleep(0.05).await;
    /// #     assert!(!failed.get(), "a callback panicked");
    /// # });
    /// ```
    pub fn get_extra_info(&self, name: &str) -> Option<ExtraInfo> {
        let inet = |a: SocketAddr| ExtraInfo::Address(crate::Address::Inet(a));
        match name {
            "sockname" => self.sockname().map(inet),
            "peername" => self.peername().map(inet),
            "socket" => self.with(Endpoint::fd).flatten().map(ExtraInfo::Socket),
            _ => None,
        }
    }
}

impl fmt::Debug for DatagramTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatagramTransport")
            .field("sockname", &self.sockname())
            .field("peername", &self.peername())
            .field("closing", &self.is_closing())
            .finish()
    }
}

/// The endpoint's state that does not depend on the protocol's type.
struct Endpoint {
    source: RefCell<Option<Source<mio::net::UdpSocket>>>,
    remote: Option<SocketAddr>,
    queue: RefCell<VecDeque<(Vec<u8>, Option<SocketAddr>)>>,
    queued_bytes: Cell<usize>,
    high_water: Cell<usize>,
    low_water: Cell<usize>,
    /// `pause_writing` delivered (or due), `resume_writing` not yet.
    writing_paused: Cell<bool>,
    pause_due: Cell<bool>,
    /// Send errors for `error_received`, delivered by the driver.
    errors: RefCell<Vec<io::Error>>,
    closing: Cell<bool>,
    /// Why the endpoint ended (a panicking callback).
    error: RefCell<Option<io::Error>>,
    lost: Cell<bool>,
    driver: Cell<Option<Waker>>,
}

impl Endpoint {
    fn fd(&self) -> Option<std::os::fd::RawFd> {
        self.source
            .borrow()
            .as_ref()
            .map(|s| s.get_ref().as_raw_fd())
    }

    fn wake_driver(&self) {
        if let Some(w) = self.driver.take() {
            self.driver.set(Some(w.clone()));
            w.wake();
        }
    }

    fn close(&self) {
        if !self.closing.replace(true) {
            self.wake_driver();
        }
    }

    fn abort(&self) {
        self.closing.set(true);
        self.queue.borrow_mut().clear();
        self.queued_bytes.set(0);
        drop(self.source.borrow_mut().take()); // deregistered and closed now
        self.wake_driver();
    }

    /// One `sendto` (or `send` on a connected socket).
    fn send_one(&self, data: &[u8], addr: Option<SocketAddr>) -> Poll<io::Result<usize>> {
        let guard = self.source.borrow();
        let Some(source) = guard.as_ref() else {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "endpoint is closed",
            )));
        };
        if !source.sched().is_ready(Direction::Write) {
            return Poll::Pending;
        }
        let result = match addr {
            Some(addr) if self.remote.is_none() => source.get_ref().send_to(data, addr),
            _ => source.get_ref().send(data),
        };
        match result {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                source.sched().clear(Direction::Write);
                Poll::Pending
            }
            other => Poll::Ready(other),
        }
    }

    fn enqueue(&self, data: &[u8], addr: Option<SocketAddr>) {
        self.queued_bytes.set(self.queued_bytes.get() + data.len());
        self.queue.borrow_mut().push_back((data.to_vec(), addr));
        self.wake_driver();
    }

    /// Sends what is queued until the socket has no room; ready once the queue is empty.
    fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let front = self.queue.borrow_mut().pop_front();
            let Some((data, addr)) = front else {
                return Poll::Ready(());
            };
            match self.send_one(&data, addr) {
                Poll::Pending => {
                    self.queue.borrow_mut().push_front((data, addr));
                    if let Some(s) = self.source.borrow().as_ref() {
                        if s.poll_ready(Direction::Write, cx).is_ready() {
                            continue; // an event came in between: try again
                        }
                    }
                    return Poll::Pending;
                }
                Poll::Ready(result) => {
                    self.queued_bytes
                        .set(self.queued_bytes.get().saturating_sub(data.len()));
                    if let Err(e) = result {
                        self.errors.borrow_mut().push(e);
                    }
                }
            }
        }
    }
}

/// What a [`DatagramTransport`] handle needs, whatever the protocol's type.
trait DatagramImpl {
    fn endpoint(&self) -> &Endpoint;
    fn sendto(&self, data: &[u8], addr: Option<SocketAddr>);
    fn maybe_pause(&self);
}

struct Shared<P> {
    endpoint: Endpoint,
    protocol: ProtocolCell<P>,
}

impl<P: DatagramProtocol> DatagramImpl for Shared<P> {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn sendto(&self, data: &[u8], addr: Option<SocketAddr>) {
        let e = &self.endpoint;
        if e.closing.get() {
            return; // asyncio drops it too (and warns after a few)
        }
        match (e.remote, addr) {
            (Some(remote), Some(addr)) if addr != remote => {
                return bad_address(format!(
                    "Invalid address: must be None or {remote} (the endpoint is connected), \
                     not {addr}"
                ));
            }
            (None, None) => {
                return bad_address(
                    "sendto(data, None) on an endpoint made without remote_addr: give the \
                     destination"
                        .to_owned(),
                );
            }
            _ => {}
        }
        if e.queue.borrow().is_empty() {
            match e.send_one(data, addr) {
                Poll::Ready(Ok(_)) => return,
                Poll::Ready(Err(err)) => {
                    e.errors.borrow_mut().push(err);
                    e.wake_driver();
                    return;
                }
                Poll::Pending => {}
            }
        }
        e.enqueue(data, addr);
        self.maybe_pause();
    }

    fn maybe_pause(&self) {
        let e = &self.endpoint;
        if e.queued_bytes.get() > e.high_water.get() && !e.writing_paused.replace(true) {
            if self.protocol.is_busy() {
                e.pause_due.set(true);
            } else {
                self.call("pause_writing", |p| p.pause_writing());
            }
            e.wake_driver();
        }
    }
}

fn bad_address(message: String) {
    report(ExceptionContext {
        message: format!("DatagramTransport.sendto(): {message}"),
        task: None,
        panic: None,
    });
}

impl<P: DatagramProtocol> Shared<P> {
    fn call<R>(&self, what: &'static str, f: impl FnOnce(&mut P) -> R) -> Option<R> {
        match self.protocol.call(what, f) {
            Ok(r) => r,
            Err(e) => {
                self.endpoint.error.borrow_mut().get_or_insert(e);
                self.endpoint.abort();
                None
            }
        }
    }

    fn deliver_due(&self) {
        let e = &self.endpoint;
        if e.pause_due.replace(false) && !e.lost.get() {
            self.call("pause_writing", |p| p.pause_writing());
        }
        loop {
            let next = {
                let mut errors = e.errors.borrow_mut();
                if errors.is_empty() {
                    None
                } else {
                    Some(errors.remove(0))
                }
            };
            let Some(err) = next else { break };
            if e.lost.get() {
                e.errors.borrow_mut().clear(); // nobody to tell any more
                break;
            }
            self.call("error_received", |p| p.error_received(err));
        }
    }

    fn poll_drive(&self, cx: &mut Context<'_>) -> Poll<()> {
        let e = &self.endpoint;
        let old = e.driver.take();
        e.driver.set(Some(match old {
            Some(w) if w.will_wake(cx.waker()) => w,
            _ => cx.waker().clone(),
        }));
        loop {
            self.deliver_due();
            let flushed = e.poll_flush(cx).is_ready();
            if !e.errors.borrow().is_empty() {
                continue;
            }
            if e.writing_paused.get() && e.queued_bytes.get() <= e.low_water.get() {
                e.writing_paused.set(false);
                self.call("resume_writing", |p| p.resume_writing());
                continue;
            }
            if e.closing.get() {
                if flushed || e.source.borrow().is_none() {
                    drop(e.source.borrow_mut().take());
                    self.deliver_lost();
                    return Poll::Ready(());
                }
                return Poll::Pending;
            }
            match self.receive(cx) {
                Poll::Ready(true) => continue,
                Poll::Ready(false) => {
                    cx.waker().wake_by_ref(); // more may wait: after the others
                    return Poll::Pending;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Receives up to [`READS_PER_WAKE`] datagrams. `Ready(true)`: something to look at
    /// (an error, a close); `Ready(false)`: the budget ran out; `Pending`: nothing more.
    fn receive(&self, cx: &mut Context<'_>) -> Poll<bool> {
        let mut buf = take_scratch();
        let outcome = self.receive_into(cx, &mut buf);
        put_scratch(buf);
        outcome
    }

    fn receive_into(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<bool> {
        let e = &self.endpoint;
        for _ in 0..READS_PER_WAKE {
            let got = {
                let guard = e.source.borrow();
                let Some(source) = guard.as_ref() else {
                    return Poll::Ready(true);
                };
                source.poll_io(Direction::Read, cx, |s| s.recv_from(buf))
            };
            match got {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok((n, addr))) => {
                    self.call("datagram_received", |p| {
                        p.datagram_received(&buf[..n], addr)
                    });
                }
                Poll::Ready(Err(err)) => {
                    self.call("error_received", |p| p.error_received(err));
                }
            }
            if e.closing.get() || e.lost.get() || !e.errors.borrow().is_empty() {
                return Poll::Ready(true);
            }
        }
        Poll::Ready(false)
    }

    fn deliver_lost(&self) {
        let e = &self.endpoint;
        if e.lost.replace(true) {
            return;
        }
        let error = e.error.borrow_mut().take();
        self.call("connection_lost", |p| p.connection_lost(error));
    }
}

impl<P: DatagramProtocol> ProtocolAccess<P> for Shared<P> {
    fn access(&self, f: &mut dyn FnMut(&mut P)) -> bool {
        let done = self.protocol.with_user(f);
        self.deliver_due();
        done
    }

    fn lost(&self) -> bool {
        self.endpoint.lost.get()
    }
}

impl EventLoop {
    /// Makes a UDP endpoint and runs a protocol on it (asyncio's
    /// `loop.create_datagram_endpoint(protocol_factory, local_addr=, remote_addr=)`).
    ///
    /// Give at least one address, as builder calls before `.await`:
    /// [`local_addr`](CreateDatagramEndpoint::local_addr) to bind (port 0 picks a free one),
    /// [`remote_addr`](CreateDatagramEndpoint::remote_addr) to connect (then `sendto(data,
    /// None)` sends there, only datagrams from there arrive, and ICMP errors come back as
    /// `error_received`); options [`reuse_port`](CreateDatagramEndpoint::reuse_port) and
    /// [`allow_broadcast`](CreateDatagramEndpoint::allow_broadcast).
    ///
    /// # Errors
    ///
    /// Neither address given, addresses of two families, a bind or connect that fails; an
    /// error if this loop is not the one running.
    ///
    /// # Examples
    ///
    /// See [`DatagramProtocol`](crate::DatagramProtocol) for a UDP echo server.
    ///
    /// ```
    /// struct P;
    /// impl asyncio::DatagramProtocol for P {}
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let err = lp.create_datagram_endpoint(|| P).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// });
    /// ```
    pub fn create_datagram_endpoint<F, P>(&self, protocol_factory: F) -> CreateDatagramEndpoint<F>
    where
        F: FnOnce() -> P + 'static,
        P: DatagramProtocol,
    {
        CreateDatagramEndpoint {
            event_loop: self.clone(),
            factory: protocol_factory,
            local: None,
            remote: None,
            reuse_port: false,
            allow_broadcast: false,
        }
    }
}

/// The future of [`EventLoop::create_datagram_endpoint`], with its options.
///
/// # Examples
///
/// ```
/// struct P;
/// impl asyncio::DatagramProtocol for P {}
/// asyncio::run(async {
///     let lp = asyncio::get_running_loop().unwrap();
///     let (a, _) = lp
///         .create_datagram_endpoint(|| P)
///         .local_addr(([127, 0, 0, 1], 0))
///         .reuse_port(true)
///         .allow_broadcast(true)
///         .await?;
///     let port = a.sockname().unwrap().port();
///     // reuse_port: a second endpoint on the same port.
///     let (b, _) = lp
///         .create_datagram_endpoint(|| P)
///         .local_addr(([127, 0, 0, 1], port))
///         .reuse_port(true)
///         .await?;
///     assert_eq!(b.sockname().unwrap().port(), port);
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
#[must_use = "create_datagram_endpoint does nothing unless awaited"]
pub struct CreateDatagramEndpoint<F> {
    event_loop: EventLoop,
    factory: F,
    local: Option<SocketAddr>,
    remote: Option<SocketAddr>,
    reuse_port: bool,
    allow_broadcast: bool,
}

impl<F> CreateDatagramEndpoint<F> {
    /// Binds the endpoint to `addr` (asyncio's `local_addr=`).
    pub fn local_addr(mut self, addr: impl Into<SocketAddr>) -> Self {
        self.local = Some(addr.into());
        self
    }

    /// Connects the endpoint to `addr` (asyncio's `remote_addr=`).
    pub fn remote_addr(mut self, addr: impl Into<SocketAddr>) -> Self {
        self.remote = Some(addr.into());
        self
    }

    /// `SO_REUSEPORT` (asyncio's `reuse_port=`): several endpoints may bind one port.
    pub fn reuse_port(mut self, on: bool) -> Self {
        self.reuse_port = on;
        self
    }

    /// `SO_BROADCAST` (asyncio's `allow_broadcast=`): may send to broadcast addresses.
    pub fn allow_broadcast(mut self, on: bool) -> Self {
        self.allow_broadcast = on;
        self
    }

    fn socket(&self) -> io::Result<mio::net::UdpSocket> {
        let family = match (self.local, self.remote) {
            (None, None) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "create_datagram_endpoint: give local_addr or remote_addr",
                ));
            }
            (Some(l), Some(r)) if l.is_ipv4() != r.is_ipv4() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "create_datagram_endpoint: local_addr {l} and remote_addr {r} are of \
                         different families"
                    ),
                ));
            }
            (Some(a), _) | (None, Some(a)) => sys::family(&a),
        };
        let fd = sys::socket(family, libc::SOCK_DGRAM)?;
        let raw = fd.as_raw_fd();
        if self.reuse_port {
            sys::setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
        }
        if self.allow_broadcast {
            sys::setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_BROADCAST, 1)?;
        }
        if let Some(local) = &self.local {
            sys::bind(raw, local).map_err(|e| crate::socket::error_with_addr(e, "bind", local))?;
        }
        if let Some(remote) = &self.remote {
            sys::connect(raw, remote)
                .map_err(|e| crate::socket::error_with_addr(e, "connect", remote))?;
        }
        Ok(mio::net::UdpSocket::from_std(std::net::UdpSocket::from(fd)))
    }
}

impl<F, P> IntoFuture for CreateDatagramEndpoint<F>
where
    F: FnOnce() -> P + 'static,
    P: DatagramProtocol,
{
    type Output = io::Result<(DatagramTransport, ProtocolRef<P>)>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let core = super::create::running(&self.event_loop, "create_datagram_endpoint")?;
            let socket = self.socket()?;
            let source = Source::new(&core, socket, ready::WRITABLE)?;
            let protocol = super::create::make("create_datagram_endpoint", self.factory)
                .ok_or_else(|| io::Error::other("protocol_factory() panicked (reported)"))?;
            Ok(start(&core, source, self.remote, protocol))
        })
    }
}

fn start<P: DatagramProtocol>(
    core: &Core,
    source: Source<mio::net::UdpSocket>,
    remote: Option<SocketAddr>,
    protocol: P,
) -> (DatagramTransport, ProtocolRef<P>) {
    let shared = Rc::new(Shared {
        endpoint: Endpoint {
            source: RefCell::new(Some(source)),
            remote,
            queue: RefCell::new(VecDeque::new()),
            queued_bytes: Cell::new(0),
            high_water: Cell::new(DEFAULT_HIGH_WATER),
            low_water: Cell::new(DEFAULT_HIGH_WATER / 4),
            writing_paused: Cell::new(false),
            pause_due: Cell::new(false),
            errors: RefCell::new(Vec::new()),
            closing: Cell::new(false),
            error: RefCell::new(None),
            lost: Cell::new(false),
            driver: Cell::new(None),
        },
        protocol: ProtocolCell::new(protocol),
    });
    let weak = Rc::downgrade(&shared);
    let transport = DatagramTransport { inner: weak };
    shared.call("connection_made", |p| p.connection_made(transport.clone()));
    let driver = shared.clone();
    core.spawn_internal(async move {
        poll_fn(|cx| driver.poll_drive(cx)).await;
    });
    (transport, ProtocolRef::new(shared))
}

impl<F> fmt::Debug for CreateDatagramEndpoint<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateDatagramEndpoint")
            .field("local_addr", &self.local)
            .field("remote_addr", &self.remote)
            .field("reuse_port", &self.reuse_port)
            .field("allow_broadcast", &self.allow_broadcast)
            .finish_non_exhaustive()
    }
}
