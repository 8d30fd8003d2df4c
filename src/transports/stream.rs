//! The stream transport: a connection (`streams/conn.rs`), its protocol, and the driver
//! task that reads and calls the protocol (asyncio's `_SelectorSocketTransport`).
//!
//! ```text
//!              +--------------------- driver task (one per connection) ---------------------+
//!   readable   |  closed?  -> connection_lost(exc), end                                    |
//!   --wake-->  |  paused writing and the buffer drained? -> resume_writing                  |
//!              |  reading? -> recv once -> data_received(bytes) | EOF -> eof_received        |
//!              |  else wait: read readiness, drain, close                                  |
//!              +-----------------------------------------------------------------------------+
//! ```
//!
//! One `recv` per wake: a short read means the kernel buffer is empty (the readiness bit is
//! cleared, no second `recv`); a full one leaves the bit set and the task yields once before
//! reading again, so one busy connection cannot starve the others (asyncio reads once per
//! loop iteration too).

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::events::ExceptionContext;
use crate::protocols::private::Handler;
use crate::runtime::core::{Core, report};
use crate::streams::conn::{Conn, DEFAULT_HIGH_WATER, WriteState};

use super::{ProtocolAccess, ProtocolCell, ProtocolRef, Transport};

/// asyncio's `LOG_THRESHOLD_FOR_CONNLOST_WRITES`: after this many writes to a lost
/// connection, say so (once).
const LOST_WRITES_BEFORE_WARNING: u32 = 5;

/// The state of a transport that does not depend on the protocol's type.
pub(crate) struct Base {
    pub(crate) conn: Rc<Conn>,
    /// Not paused by `pause_reading`.
    reading: Cell<bool>,
    /// EOF was read (and `eof_received` called).
    eof: Cell<bool>,
    /// `pause_writing` was delivered (or is due) and `resume_writing` not yet.
    writing_paused: Cell<bool>,
    /// `pause_writing` is due but a callback of the protocol is running: deliver it after.
    pause_due: Cell<bool>,
    /// `connection_lost` was delivered.
    lost: Cell<bool>,
    /// Why the connection ended, when the transport knows better than the socket (a read
    /// error, a panicking callback).
    error: RefCell<Option<io::Error>>,
    /// The driver task's waker, to restart reading. Set at its first poll: it is a task of
    /// this loop, whose waker never changes, so it also registers for the close only once.
    driver: Cell<Option<Waker>>,
    lost_writes: Cell<u32>,
}

impl Base {
    fn new(conn: Rc<Conn>) -> Base {
        Base {
            conn,
            reading: Cell::new(true),
            eof: Cell::new(false),
            writing_paused: Cell::new(false),
            pause_due: Cell::new(false),
            lost: Cell::new(false),
            error: RefCell::new(None),
            driver: Cell::new(None),
            lost_writes: Cell::new(0),
        }
    }

    pub(crate) fn is_reading(&self) -> bool {
        self.reading.get() && !self.conn.is_closing()
    }

    pub(crate) fn pause_reading(&self) {
        if !self.conn.is_closing() {
            self.reading.set(false);
        }
    }

    pub(crate) fn resume_reading(&self) {
        if self.conn.is_closing() || self.reading.replace(true) {
            return;
        }
        self.wake_driver();
    }

    fn wake_driver(&self) {
        if let Some(w) = self.driver.take() {
            self.driver.set(Some(w.clone()));
            w.wake();
        }
    }

    /// Remembers the driver's waker; true the first time (then the driver must also
    /// register for the close).
    fn set_driver(&self, waker: &Waker) -> bool {
        let old = self.driver.take();
        let first = old.is_none();
        self.driver.set(Some(old.unwrap_or_else(|| waker.clone())));
        first
    }

    /// Ends the connection because of `e` (kept for `connection_lost`).
    fn fail(&self, e: io::Error) {
        self.error.borrow_mut().get_or_insert(e);
        self.conn.abort();
    }

    /// A write the connection refused: report what asyncio reports.
    fn refused_write(&self) {
        match self.conn.write_state() {
            WriteState::EofPending | WriteState::EofSent => report(ExceptionContext {
                message: "transport.write() after write_eof(): data dropped".to_owned(),
                task: None,
                panic: None,
            }),
            _ => {
                let n = self.lost_writes.get() + 1;
                self.lost_writes.set(n);
                if n == LOST_WRITES_BEFORE_WARNING {
                    report(ExceptionContext {
                        message: "transport.write() on a closed transport: data dropped \
                                  (asyncio: socket.send() raised exception.)"
                            .to_owned(),
                        task: None,
                        panic: None,
                    });
                }
            }
        }
    }
}

/// What a [`Transport`] handle needs from its connection, whatever the protocol's type.
pub(crate) trait TransportImpl {
    fn base(&self) -> &Base;
    /// `transport.write(data)`.
    fn write(&self, data: &[u8]);
    /// Tells the protocol to pause writing if the buffer just went over its high-water mark.
    fn maybe_pause(&self);
}

/// A transport and its protocol.
pub(crate) struct Shared<H> {
    pub(crate) base: Base,
    protocol: ProtocolCell<H>,
}

impl<H: Handler> TransportImpl for Shared<H> {
    fn base(&self) -> &Base {
        &self.base
    }

    fn write(&self, data: &[u8]) {
        match self.base.conn.write(data) {
            Ok(()) => self.maybe_pause(),
            // A failed send: the connection is lost, and the driver tells the protocol.
            Err(_) if self.base.conn.write_state() == WriteState::Closed => {
                if self.base.conn.lost_error().is_none() {
                    self.base.refused_write();
                }
            }
            Err(_) => self.base.refused_write(),
        }
    }

    fn maybe_pause(&self) {
        let base = &self.base;
        if base.conn.is_write_paused() && !base.writing_paused.replace(true) {
            // Called at once, as asyncio does, unless a callback of this protocol is running
            // (its own write did this): then right after it returns.
            if self.protocol.is_busy() {
                base.pause_due.set(!base.lost.get());
            } else {
                self.call("pause_writing", Handler::pause);
            }
            base.wake_driver(); // it waits for the drain, to resume
        }
    }
}

impl<H: Handler> Shared<H> {
    /// Calls the protocol: `None` if it is out (one of its callbacks is running) or the call
    /// panicked (reported; the connection is aborted).
    fn call<R>(&self, what: &'static str, f: impl FnOnce(&mut H) -> R) -> Option<R> {
        match self.protocol.call(what, f) {
            Ok(r) => r,
            Err(e) => {
                self.base.fail(e);
                None
            }
        }
    }

    /// Delivers a `pause_writing` that came due during a callback.
    fn deliver_due_pause(&self) {
        if self.base.pause_due.replace(false) && !self.base.lost.get() {
            self.call("pause_writing", Handler::pause);
        }
    }

    /// The driver task's body: see the module's diagram.
    fn poll_drive(&self, cx: &mut Context<'_>) -> Poll<()> {
        let base = &self.base;
        let conn = &base.conn;
        // The close wakes the waker registered here (once: the driver's never changes).
        if base.set_driver(cx.waker()) && conn.poll_closed(cx).is_ready() {
            self.deliver_lost();
            return Poll::Ready(());
        }
        loop {
            self.deliver_due_pause();
            if conn.write_state() == WriteState::Closed {
                self.deliver_lost();
                return Poll::Ready(());
            }
            if base.writing_paused.get() && conn.poll_drain(cx).is_ready() {
                if conn.write_state() != WriteState::Closed {
                    base.writing_paused.set(false);
                    self.call("resume_writing", Handler::resume);
                }
                continue;
            }
            if base.reading.get() && !base.eof.get() && !conn.is_closing() {
                let mut full = false;
                let received = self.call("data_received", |p| {
                    p.receive(&mut |buf: &mut [u8]| {
                        let result = conn.poll_read_into(cx, buf);
                        full = matches!(result, Poll::Ready(Ok(n)) if n == buf.len());
                        result
                    })
                });
                match received {
                    None | Some(Poll::Pending) if conn.write_state() != WriteState::Closed => {}
                    None | Some(Poll::Pending) => continue,
                    Some(Poll::Ready(Ok(0))) => {
                        base.eof.set(true);
                        if self.call("eof_received", Handler::eof) == Some(false) {
                            conn.close();
                        }
                        continue;
                    }
                    Some(Poll::Ready(Ok(_))) if full => {
                        // More may be waiting: read it next iteration, after the others.
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    Some(Poll::Ready(Ok(_))) => continue,
                    Some(Poll::Ready(Err(e))) => {
                        base.fail(e);
                        continue;
                    }
                }
            }
            return Poll::Pending;
        }
    }

    fn deliver_lost(&self) {
        let base = &self.base;
        if base.lost.replace(true) {
            return;
        }
        base.pause_due.set(false);
        let error = base.error.borrow_mut().take();
        let error = error.or_else(|| base.conn.lost_error());
        self.call("connection_lost", |p| p.lost(error));
    }
}

/// A new handle to `shared`'s transport.
pub(crate) fn transport_of<H: Handler>(shared: &Rc<Shared<H>>) -> Transport {
    let weak = Rc::downgrade(shared);
    Transport { inner: weak }
}

impl<H: Handler> ProtocolAccess<H> for Shared<H> {
    fn access(&self, f: &mut dyn FnMut(&mut H)) -> bool {
        let done = self.protocol.with_user(f);
        self.deliver_due_pause();
        done
    }

    fn lost(&self) -> bool {
        self.base.lost.get()
    }
}

/// The [`ProtocolRef`] of `shared`.
pub(crate) fn protocol_ref<H: Handler>(shared: Rc<Shared<H>>) -> ProtocolRef<H> {
    ProtocolRef::new(shared)
}

/// Makes the transport of `conn` for `protocol`: calls `connection_made`, then starts the
/// driver task on `core`.
pub(crate) fn start<H: Handler>(core: &Core, conn: Rc<Conn>, protocol: H) -> Rc<Shared<H>> {
    let shared = Rc::new(Shared {
        base: Base::new(conn),
        protocol: ProtocolCell::new(protocol),
    });
    let transport = transport_of(&shared);
    shared.call("connection_made", |p| p.made(transport));
    let driver = shared.clone();
    core.spawn_internal(async move {
        poll_fn(|cx| driver.poll_drive(cx)).await;
    });
    shared
}

/// asyncio's defaults for `set_write_buffer_limits(high, low)`: `high` 64 KiB, `low` a
/// quarter of `high`; only `low` given: `high = 4 * low`.
pub(crate) fn water_marks(high: Option<usize>, low: Option<usize>) -> (usize, usize) {
    match (high, low) {
        (Some(h), Some(l)) => (h, l),
        (Some(h), None) => (h, h / 4),
        (None, Some(l)) => (l.saturating_mul(4), l),
        (None, None) => (DEFAULT_HIGH_WATER, DEFAULT_HIGH_WATER / 4),
    }
}
