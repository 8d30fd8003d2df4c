//! The reactor: one `mio::Poll` (epoll) per loop, its sources, and the cross-thread waker.
//!
//! The loop calls [`Reactor::poll`] once per iteration (see `core.rs`): with a zero timeout when
//! tasks are ready, else until the next timer, else forever. Events set readiness bits on
//! their [`ScheduledIo`] and wake the tasks waiting on it.
//!
//! ```text
//!  token = | generation: half a word | slab index: half a word |
//! ```

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::task::Waker;
use std::time::Duration;

use mio::event::Source as MioSource;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

use super::fds::FdTable;
use super::scheduled_io::{ScheduledIo, ready};

/// Bits of a token that hold the slab index.
const INDEX_BITS: u32 = usize::BITS / 2;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// The token of the cross-thread waker (an eventfd); never a slab index.
pub(crate) const WAKE_TOKEN: Token = Token(usize::MAX);
/// Events taken per `epoll_wait`; more simply wait for the next iteration.
const EVENTS_CAPACITY: usize = 1024;

/// One loop's reactor.
pub(crate) struct Reactor {
    /// Borrowed mutably only for the `epoll_wait` itself.
    poll: RefCell<Poll>,
    events: RefCell<Events>,
    sources: RefCell<Slab<Rc<ScheduledIo>>>,
    next_generation: Cell<usize>,
    /// Wakers taken from sources during delivery, woken once the slab is released.
    woken: RefCell<Vec<Waker>>,
    /// Descriptors the loop watches but does not own (`sock_recv`, `add_reader`).
    pub(super) fds: FdTable,
}

impl Reactor {
    /// Makes the epoll instance and the cross-thread waker registered in it.
    pub(crate) fn new() -> io::Result<(Reactor, mio::Waker)> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        let reactor = Reactor {
            poll: RefCell::new(poll),
            events: RefCell::new(Events::with_capacity(EVENTS_CAPACITY)),
            sources: RefCell::new(Slab::new()),
            next_generation: Cell::new(0),
            woken: RefCell::new(Vec::new()),
            fds: FdTable::new(),
        };
        Ok((reactor, waker))
    }

    /// Registers `source` for both directions, edge-triggered, with readiness `initial`.
    pub(crate) fn register(
        &self,
        source: &mut impl MioSource,
        initial: u8,
    ) -> io::Result<Rc<ScheduledIo>> {
        self.register_with(source, initial, Interest::READABLE | Interest::WRITABLE)
    }

    /// Registers `source` for `interest`, edge-triggered, with readiness `initial`.
    pub(crate) fn register_with(
        &self,
        source: &mut impl MioSource,
        initial: u8,
        interest: Interest,
    ) -> io::Result<Rc<ScheduledIo>> {
        let generation = self.next_generation.get().wrapping_add(1);
        self.next_generation.set(generation);
        let mut sources = self.sources.borrow_mut();
        let entry = sources.vacant_entry();
        let index = entry.key();
        if index >= INDEX_MASK {
            return Err(io::Error::other(
                "too many sockets registered in one event loop",
            ));
        }
        let token = (generation << INDEX_BITS) | index;
        let io = Rc::new(ScheduledIo::new(token, initial));
        self.poll
            .borrow()
            .registry()
            .register(source, Token(token), interest)?;
        entry.insert(io.clone());
        Ok(io)
    }

    /// `rearm` for `interest` only: epoll reports those directions' current readiness again
    /// and stops reporting the others.
    pub(crate) fn reregister(
        &self,
        source: &mut impl MioSource,
        io: &ScheduledIo,
        interest: Interest,
    ) -> io::Result<()> {
        self.poll
            .borrow()
            .registry()
            .reregister(source, Token(io.token()), interest)
    }

    /// Removes `source` (before its fd is closed) and wakes whoever still waits on it.
    pub(crate) fn deregister(&self, source: &mut impl MioSource, io: &ScheduledIo) {
        // An error here means the kernel already forgot the fd (closed elsewhere): nothing to undo.
        let _ = self.poll.borrow().registry().deregister(source);
        self.forget(io);
    }

    /// Drops the reactor's entry for `io` without touching epoll (the fd is already gone).
    pub(crate) fn forget(&self, io: &ScheduledIo) {
        let index = io.token() & INDEX_MASK;
        let removed = {
            let mut sources = self.sources.borrow_mut();
            match sources.get(index) {
                Some(s) if s.token() == io.token() => Some(sources.remove(index)),
                _ => None,
            }
        };
        drop(removed);
    }

    /// Number of registered sources.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.sources.borrow().len()
    }

    /// True if some task waits for readiness on some source.
    pub(crate) fn has_waiters(&self) -> bool {
        self.sources.borrow().iter().any(|(_, s)| s.has_waiter())
    }

    /// Waits up to `timeout` (`None`: forever) for events and delivers them: readiness bits
    /// set, waiting tasks woken. Returns how many source events were delivered (the
    /// cross-thread waker's are not counted).
    pub(crate) fn poll(&self, timeout: Option<Duration>) -> usize {
        let mut events = self.events.borrow_mut();
        let result = self.poll.borrow_mut().poll(&mut events, timeout);
        if let Err(e) = result {
            // EINTR (a signal) is an ordinary early return; anything else would repeat
            // forever, so say so once per occurrence rather than spin silently.
            if e.kind() != io::ErrorKind::Interrupted {
                eprintln!("asyncio: epoll_wait failed: {e}");
            }
            return 0;
        }
        let mut delivered = 0;
        let mut woken = std::mem::take(&mut *self.woken.borrow_mut());
        {
            let sources = self.sources.borrow();
            for event in events.iter() {
                let token = event.token();
                if token == WAKE_TOKEN {
                    continue; // the inbox is drained by the loop
                }
                let Some(io) = sources.get(token.0 & INDEX_MASK) else {
                    continue;
                };
                if io.token() != token.0 {
                    continue; // a late event for a source that is gone
                }
                let mut bits = 0;
                if event.is_readable() {
                    bits |= ready::READABLE;
                }
                if event.is_writable() {
                    bits |= ready::WRITABLE;
                }
                if event.is_read_closed() {
                    bits |= ready::READ_CLOSED;
                }
                if event.is_write_closed() {
                    bits |= ready::WRITE_CLOSED;
                }
                if event.is_error() {
                    bits |= ready::ERROR;
                }
                io.deliver(bits, &mut woken);
                delivered += 1;
            }
        }
        drop(events);
        for waker in woken.drain(..) {
            crate::runtime::core::wake_contained(waker);
        }
        *self.woken.borrow_mut() = woken;
        delivered
    }
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reactor")
            .field("sources", &self.sources.try_borrow().map(|s| s.len()).ok())
            .finish()
    }
}
