//! One connection, shared by its [`StreamReader`] and [`StreamWriter`]: the socket, the read
//! buffer, the write buffer and the close state (asyncio's transport and protocol, in one).
//!
//! Reading is *pulled*: bytes leave the kernel only when the reader asks, so a slow reader
//! pushes back on its peer through TCP itself, and a message costs one `recv`. A read that
//! comes back shorter than asked means the kernel buffer is empty: the readiness bit is
//! cleared without the extra `recv` that would only say `EAGAIN` (libuv's trick).
//!
//! Writing is *pushed*: [`StreamWriter::write`] sends at once when nothing is buffered and
//! buffers only what the kernel did not take; a small flusher task then waits for
//! writability and sends the rest. `drain` waits while the buffer is above the high-water
//! mark, until it is back at the low-water mark (asyncio's flow control).
//!
//! ```text
//!   Open --write_eof--> EofPending --flushed--> EofSent
//!     |                     |                      |
//!     +--------close--------+----------close-------+--> Closing --flushed--> Closed
//!     +--------abort / fatal error -------------------------------------------^
//! ```
//!
//! [`StreamReader`]: super::StreamReader
//! [`StreamWriter`]: super::StreamWriter
//! [`StreamWriter::write`]: super::StreamWriter::write

use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use crate::runtime::core::Core;
use crate::runtime::io::Direction;
use crate::runtime::io::scheduled_io::ready;
use crate::runtime::io::scratch::{SCRATCH_LEN, with_scratch};
use crate::runtime::io::source::Source;

use super::Address;

/// The socket (or pipe) under a stream.
#[derive(Debug)]
pub(crate) enum Stream {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
    /// The read end of a pipe (a child's stdout or stderr); writes fail.
    PipeRead(mio::unix::pipe::Receiver),
    /// The write end of a pipe (a child's stdin); reads fail, and `write_eof` closes it.
    PipeWrite(mio::unix::pipe::Sender),
}

/// The error for the wrong direction on one end of a pipe.
fn wrong_end(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("cannot {what} this end of a pipe"),
    )
}

impl Stream {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => (&*s).read(buf),
            Stream::Unix(s) => (&*s).read(buf),
            Stream::PipeRead(p) => (&*p).read(buf),
            Stream::PipeWrite(_) => Err(wrong_end("read from")),
        }
    }

    fn write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => (&*s).write(buf),
            Stream::Unix(s) => (&*s).write(buf),
            Stream::PipeWrite(p) => (&*p).write(buf),
            Stream::PipeRead(_) => Err(wrong_end("write to")),
        }
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(how),
            Stream::Unix(s) => s.shutdown(how),
            // A pipe has no half-close: its writer's EOF is closing it (see `shutdown_write`).
            Stream::PipeRead(_) | Stream::PipeWrite(_) => Ok(()),
        }
    }

    /// True for either end of a pipe.
    pub(crate) fn is_pipe(&self) -> bool {
        matches!(self, Stream::PipeRead(_) | Stream::PipeWrite(_))
    }

    pub(crate) fn peer(&self) -> Option<Address> {
        match self {
            Stream::Tcp(s) => s.peer_addr().ok().map(Address::Inet),
            Stream::Unix(s) => s.peer_addr().ok().map(|a| Address::from_unix(&a)),
            Stream::PipeRead(_) | Stream::PipeWrite(_) => None,
        }
    }

    pub(crate) fn local(&self) -> Option<Address> {
        match self {
            Stream::Tcp(s) => s.local_addr().ok().map(Address::Inet),
            Stream::Unix(s) => s.local_addr().ok().map(|a| Address::from_unix(&a)),
            Stream::PipeRead(_) | Stream::PipeWrite(_) => None,
        }
    }

    pub(crate) fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::PipeRead(p) => p.as_raw_fd(),
            Stream::PipeWrite(p) => p.as_raw_fd(),
        }
    }
}

impl mio::event::Source for Stream {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.register(registry, token, interests),
            Stream::Unix(s) => s.register(registry, token, interests),
            Stream::PipeRead(p) => p.register(registry, token, interests),
            Stream::PipeWrite(p) => p.register(registry, token, interests),
        }
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.reregister(registry, token, interests),
            Stream::Unix(s) => s.reregister(registry, token, interests),
            Stream::PipeRead(p) => p.reregister(registry, token, interests),
            Stream::PipeWrite(p) => p.reregister(registry, token, interests),
        }
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.deregister(registry),
            Stream::Unix(s) => s.deregister(registry),
            Stream::PipeRead(p) => p.deregister(registry),
            Stream::PipeWrite(p) => p.deregister(registry),
        }
    }
}

/// How much one `recv` asks for (CPython's transports read up to 256 KiB; 64 KiB keeps the
/// per-thread scratch buffer small and is what an echo server's `read(65536)` asks anyway).
pub(crate) const READ_CHUNK: usize = SCRATCH_LEN;

/// Where the write side is (see the module's diagram).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum WriteState {
    Open,
    /// `write_eof` was called; the buffer is being flushed first.
    EofPending,
    /// The write side is shut.
    EofSent,
    /// `close` was called; the buffer is being flushed first.
    Closing,
    /// The socket is closed (by us, or by a fatal error).
    Closed,
}

/// Bytes waiting to be sent: a vector and how much of its front is already gone.
#[derive(Debug, Default)]
struct WriteBuf {
    buf: Vec<u8>,
    pos: usize,
}

impl WriteBuf {
    fn len(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn front(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    fn push(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
    }

    fn clear(&mut self) {
        self.buf = Vec::new();
        self.pos = 0;
    }
}

/// An I/O error kept to be reported again (io::Error is not `Clone`).
#[derive(Debug, Clone)]
struct SavedError {
    kind: io::ErrorKind,
    message: String,
}

impl SavedError {
    fn of(e: &io::Error) -> SavedError {
        SavedError {
            kind: e.kind(),
            message: e.to_string(),
        }
    }

    fn to_error(&self) -> io::Error {
        io::Error::new(self.kind, self.message.clone())
    }
}

/// Called when a connection closes (a server forgets its client).
pub(crate) type OnClose = Box<dyn FnOnce()>;

/// One connection.
pub(crate) struct Conn {
    /// The socket; `None` once closed.
    source: RefCell<Option<Source<Stream>>>,
    core: Weak<Core>,
    // ----- read side (the buffer belongs to the StreamReader)
    eof: Cell<bool>,
    read_error: RefCell<Option<SavedError>>,
    pub(crate) limit: usize,
    // ----- write side
    wbuf: RefCell<WriteBuf>,
    state: Cell<WriteState>,
    write_error: RefCell<Option<SavedError>>,
    high_water: Cell<usize>,
    low_water: Cell<usize>,
    /// Above the high-water mark and not yet back at the low one: `drain` waits.
    paused: Cell<bool>,
    flusher: Cell<bool>,
    drain_waiter: Cell<Option<Waker>>,
    /// Woken when the buffer becomes empty (`AsyncWrite::poll_flush`).
    flush_waiter: Cell<Option<Waker>>,
    close_waiters: RefCell<Vec<Waker>>,
    on_close: Cell<Option<OnClose>>,
}

/// asyncio's default high-water mark for a transport's write buffer (64 KiB).
pub(crate) const DEFAULT_HIGH_WATER: usize = 64 * 1024;

impl Conn {
    /// A connection over `stream`, registered with `core`'s reactor; `initial` readiness.
    pub(crate) fn new(
        core: &Core,
        stream: Stream,
        limit: usize,
        initial: u8,
    ) -> io::Result<Rc<Conn>> {
        let source = Source::new(core, stream, initial)?;
        Ok(Rc::new(Conn {
            source: RefCell::new(Some(source)),
            core: core.weak(),
            eof: Cell::new(false),
            read_error: RefCell::new(None),
            limit,
            wbuf: RefCell::new(WriteBuf::default()),
            state: Cell::new(WriteState::Open),
            write_error: RefCell::new(None),
            high_water: Cell::new(DEFAULT_HIGH_WATER),
            low_water: Cell::new(DEFAULT_HIGH_WATER / 4),
            paused: Cell::new(false),
            flusher: Cell::new(false),
            drain_waiter: Cell::new(None),
            flush_waiter: Cell::new(None),
            close_waiters: RefCell::new(Vec::new()),
            on_close: Cell::new(None),
        }))
    }

    /// Runs `f` when the connection closes (at once if it already has).
    pub(crate) fn set_on_close(&self, f: OnClose) {
        if self.state.get() == WriteState::Closed {
            f();
        } else {
            self.on_close.set(Some(f));
        }
    }

    /// Ready when `dir` is (or may be) ready, or the connection is closed.
    pub(crate) fn poll_ready(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<()> {
        match &*self.source.borrow() {
            Some(source) => source.poll_ready(dir, cx).map(|_| ()),
            None => Poll::Ready(()),
        }
    }

    /// Calls `f` with the socket, if still open.
    pub(crate) fn with_stream<R>(&self, f: impl FnOnce(&Stream) -> R) -> Option<R> {
        self.source.borrow().as_ref().map(|s| f(s.get_ref()))
    }

    // ----- reading ---------------------------------------------------------------------------

    /// True once EOF was seen (bytes may still be buffered).
    pub(crate) fn eof_seen(&self) -> bool {
        self.eof.get()
    }

    /// Reads once from the socket (up to `max` bytes) and hands the bytes to `sink` (the
    /// reader's buffer, or straight to the caller). Ready with the count: 0 at EOF (or once
    /// the connection is closed).
    pub(crate) fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        max: usize,
        sink: impl FnOnce(&[u8]),
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = &*self.read_error.borrow() {
            return Poll::Ready(Err(e.to_error()));
        }
        if self.eof.get() {
            return Poll::Ready(Ok(0));
        }
        let source = self.source.borrow();
        let Some(source) = source.as_ref() else {
            self.eof.set(true); // closed: what is buffered, then EOF
            return Poll::Ready(Ok(0));
        };
        let want = max.clamp(1, READ_CHUNK);
        let result = with_scratch(|scratch| {
            let buf = &mut scratch[..want];
            match source.poll_io(Direction::Read, cx, |s| s.read(buf)) {
                Poll::Ready(Ok(n)) => {
                    if n > 0 && n < want {
                        // Short: the kernel buffer is empty; a new edge will say when not.
                        source.sched().clear(Direction::Read);
                    }
                    sink(&buf[..n]);
                    Poll::Ready(Ok(n))
                }
                other => other,
            }
        });
        match result {
            Poll::Ready(Ok(0)) => self.eof.set(true),
            Poll::Ready(Err(ref e)) => *self.read_error.borrow_mut() = Some(SavedError::of(e)),
            _ => {}
        }
        result
    }

    /// `AsyncRead`: reads from the socket straight into `buf` (no copy through the scratch
    /// buffer).
    pub(crate) fn poll_read_into(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if let Some(e) = &*self.read_error.borrow() {
            return Poll::Ready(Err(e.to_error()));
        }
        if self.eof.get() {
            return Poll::Ready(Ok(0));
        }
        let source = self.source.borrow();
        let Some(source) = source.as_ref() else {
            self.eof.set(true);
            return Poll::Ready(Ok(0));
        };
        let want = buf.len();
        let result = source.poll_io(Direction::Read, cx, |s| s.read(buf));
        match result {
            Poll::Ready(Ok(0)) => self.eof.set(true),
            Poll::Ready(Ok(n)) if n < want => source.sched().clear(Direction::Read),
            Poll::Ready(Err(ref e)) => *self.read_error.borrow_mut() = Some(SavedError::of(e)),
            _ => {}
        }
        result
    }

    // ----- writing ---------------------------------------------------------------------------

    pub(crate) fn write_state(&self) -> WriteState {
        self.state.get()
    }

    /// `StreamWriter.write`: sends at once if nothing is buffered, buffers the rest.
    pub(crate) fn write(self: &Rc<Self>, data: &[u8]) -> io::Result<()> {
        if let Some(e) = &*self.write_error.borrow() {
            return Err(e.to_error());
        }
        match self.state.get() {
            WriteState::Open => {}
            WriteState::EofPending | WriteState::EofSent => {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "cannot write after write_eof()",
                ));
            }
            WriteState::Closing | WriteState::Closed => {
                return Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "cannot write to a closed stream (close() was called)",
                ));
            }
        }
        if data.is_empty() {
            return Ok(());
        }
        let mut rest = data;
        if self.wbuf.borrow().is_empty() {
            let guard = self.source.borrow();
            let Some(source) = guard.as_ref() else {
                return Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "stream is closed",
                ));
            };
            if source.sched().is_ready(Direction::Write) {
                match source.get_ref().write(data) {
                    Ok(n) if n == data.len() => return Ok(()),
                    Ok(n) => {
                        source.sched().clear(Direction::Write);
                        rest = &data[n..];
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        source.sched().clear(Direction::Write);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        drop(guard);
                        self.fatal(&e);
                        return Err(e);
                    }
                }
            }
        }
        let len = {
            let mut wbuf = self.wbuf.borrow_mut();
            wbuf.push(rest);
            wbuf.len()
        };
        if len > self.high_water.get() {
            self.paused.set(true);
        }
        self.start_flusher();
        Ok(())
    }

    /// Bytes buffered and not yet sent (`transport.get_write_buffer_size()`).
    pub(crate) fn write_buffer_size(&self) -> usize {
        self.wbuf.borrow().len()
    }

    /// `transport.set_write_buffer_limits(high, low)`.
    pub(crate) fn set_write_buffer_limits(&self, high: usize, low: usize) {
        self.high_water.set(high);
        self.low_water.set(low.min(high));
        let len = self.write_buffer_size();
        if len > high {
            self.paused.set(true);
        } else if len <= self.low_water.get() {
            self.resume_writers();
        }
    }

    /// True while the buffer is above the high-water mark and not yet back at the low one
    /// (a transport's protocol is paused meanwhile).
    pub(crate) fn is_write_paused(&self) -> bool {
        self.paused.get()
    }

    pub(crate) fn write_buffer_limits(&self) -> (usize, usize) {
        (self.low_water.get(), self.high_water.get())
    }

    fn start_flusher(self: &Rc<Self>) {
        if self.flusher.replace(true) {
            return;
        }
        let Some(core) = self.core.upgrade() else {
            self.flusher.set(false);
            return;
        };
        let conn = self.clone();
        core.spawn_internal(async move {
            let _ = std::future::poll_fn(|cx| conn.poll_flush_buffer(cx)).await;
            conn.flusher.set(false);
            conn.after_flush();
        });
    }

    /// Sends the buffer until it is empty (or an error ends the connection).
    fn poll_flush_buffer(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let guard = self.source.borrow();
            let Some(source) = guard.as_ref() else {
                return Poll::Ready(Ok(()));
            };
            let result = {
                let wbuf = self.wbuf.borrow();
                if wbuf.is_empty() {
                    return Poll::Ready(Ok(()));
                }
                let front = wbuf.front();
                let want = front.len();
                match source.poll_io(Direction::Write, cx, |s| s.write(front)) {
                    Poll::Ready(Ok(n)) => {
                        if n < want {
                            source.sched().clear(Direction::Write);
                        }
                        Ok(n)
                    }
                    Poll::Ready(Err(e)) => Err(e),
                    Poll::Pending => return Poll::Pending,
                }
            };
            drop(guard);
            match result {
                Ok(n) => {
                    let left = {
                        let mut wbuf = self.wbuf.borrow_mut();
                        wbuf.consume(n);
                        wbuf.len()
                    };
                    if left <= self.low_water.get() {
                        self.resume_writers();
                    }
                }
                Err(e) => {
                    self.fatal(&e);
                    return Poll::Ready(Err(e));
                }
            }
        }
    }

    /// The buffer is empty: wake a flush, finish a pending `write_eof` or `close`.
    fn after_flush(&self) {
        if let Some(w) = self.flush_waiter.take() {
            w.wake();
        }
        match self.state.get() {
            WriteState::EofPending => self.shutdown_write(),
            WriteState::Closing => self.finish_close(),
            _ => {}
        }
    }

    fn resume_writers(&self) {
        self.paused.set(false);
        if let Some(w) = self.drain_waiter.take() {
            w.wake();
        }
    }

    /// `drain()`: ready at once unless the buffer passed the high-water mark; then when it is
    /// back at the low one. An error if the connection was lost.
    pub(crate) fn poll_drain(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = &*self.write_error.borrow() {
            return Poll::Ready(Err(e.to_error()));
        }
        if self.state.get() == WriteState::Closed {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "Connection lost",
            )));
        }
        if !self.paused.get() {
            return Poll::Ready(Ok(()));
        }
        set_waker(&self.drain_waiter, cx.waker());
        Poll::Pending
    }

    /// `AsyncWrite::poll_flush`: ready once everything buffered was sent.
    pub(crate) fn poll_flushed(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = &*self.write_error.borrow() {
            return Poll::Ready(Err(e.to_error()));
        }
        if self.wbuf.borrow().is_empty() || self.state.get() == WriteState::Closed {
            return Poll::Ready(Ok(()));
        }
        // The flusher runs whenever the buffer is not empty; it wakes this when it empties.
        set_waker(&self.flush_waiter, cx.waker());
        Poll::Pending
    }

    /// `write_eof()`: shuts the write side once the buffer is flushed.
    pub(crate) fn write_eof(&self) {
        if self.state.get() != WriteState::Open {
            return;
        }
        if self.wbuf.borrow().is_empty() {
            self.state.set(WriteState::EofPending);
            self.shutdown_write();
        } else {
            self.state.set(WriteState::EofPending);
        }
    }

    fn shutdown_write(&self) {
        if self.with_stream(Stream::is_pipe) == Some(true) {
            // The reader of a pipe sees EOF only when its write end is closed.
            self.finish_close();
            return;
        }
        self.state.set(WriteState::EofSent);
        let result = self.with_stream(|s| s.shutdown(Shutdown::Write));
        if let Some(Err(e)) = result {
            if e.kind() != io::ErrorKind::NotConnected {
                self.fatal(&e);
            }
        }
    }

    /// `close()`: closes the socket once the buffer is flushed.
    pub(crate) fn close(&self) {
        if self.state.get() >= WriteState::Closing {
            return;
        }
        self.state.set(WriteState::Closing);
        if self.wbuf.borrow().is_empty() || !self.flusher.get() {
            self.finish_close();
        }
    }

    /// `abort()`: closes at once, dropping what is buffered.
    pub(crate) fn abort(&self) {
        self.wbuf.borrow_mut().clear();
        self.finish_close();
    }

    /// A send or shutdown failed: the connection is lost; report it to writers from now on.
    fn fatal(&self, e: &io::Error) {
        self.write_error
            .borrow_mut()
            .get_or_insert_with(|| SavedError::of(e));
        // As asyncio's `connection_lost(exc)`: the reader raises it too.
        self.read_error
            .borrow_mut()
            .get_or_insert_with(|| SavedError::of(e));
        self.wbuf.borrow_mut().clear();
        self.finish_close();
    }

    /// Closes the socket and tells everyone waiting: readers see EOF after the buffer, `drain`
    /// and `wait_closed` return.
    fn finish_close(&self) {
        self.state.set(WriteState::Closed);
        let Some(source) = self.source.borrow_mut().take() else {
            return; // already closed
        };
        let mut woken = Vec::new();
        source.sched().wake_all(&mut woken);
        drop(source); // deregisters and closes the fd
        woken.extend(self.drain_waiter.take());
        woken.extend(self.flush_waiter.take());
        woken.append(&mut self.close_waiters.borrow_mut());
        self.paused.set(false);
        let on_close = self.on_close.take();
        for w in woken {
            w.wake();
        }
        if let Some(f) = on_close {
            f();
        }
    }

    /// Ready once the connection is closed (`wait_closed()`).
    pub(crate) fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.state.get() == WriteState::Closed {
            return Poll::Ready(());
        }
        let mut waiters = self.close_waiters.borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
            waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// The error the connection was lost to, if any.
    pub(crate) fn lost_error(&self) -> Option<io::Error> {
        self.write_error.borrow().as_ref().map(SavedError::to_error)
    }

    /// True once `close()` was called or the connection was lost (`is_closing()`).
    pub(crate) fn is_closing(&self) -> bool {
        self.state.get() >= WriteState::Closing
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Both halves are gone and nothing is left to flush (the flusher holds the connection
        // while it runs). Tell a server that its client is gone.
        if let Some(f) = self.on_close.take() {
            f();
        }
    }
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("state", &self.state.get())
            .field("buffered_to_write", &self.wbuf.borrow().len())
            .field("eof", &self.eof.get())
            .finish()
    }
}

fn set_waker(slot: &Cell<Option<Waker>>, waker: &Waker) {
    let old = slot.take();
    let new = match old {
        Some(w) if w.will_wake(waker) => w,
        _ => waker.clone(),
    };
    slot.set(Some(new));
}

/// Readiness for a socket that is connected and usually ready both ways.
pub(crate) const CONNECTED: u8 = ready::READABLE | ready::WRITABLE;
