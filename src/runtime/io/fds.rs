//! Descriptors the loop watches but does not own: the socket given to `loop.sock_recv(sock,
//! n)`, the fd given to `loop.add_reader(fd, callback)`.
//!
//! The loop cannot see such an fd being closed. When it is, the kernel silently drops its
//! epoll registration, and the number may come back at once as a new socket. So nothing
//! about a foreign fd is trusted from one wait to the next:
//!
//! ```text
//!   sock_* op: syscall first --done--> return (no epoll_ctl at all)
//!        | WouldBlock
//!        v
//!   forget the fd's readiness bits; EPOLL_CTL_MOD(fd, token)
//!        |  ENOENT/EBADF: the fd was closed (maybe reused): drop the entry, EPOLL_CTL_ADD anew
//!        |  ok: the registration is this file's (epoll keys it by file *and* number), and
//!        v      epoll reports the file's readiness again, so no edge was missed meanwhile
//!   store the task's waker; event --> wake --> syscall again
//! ```
//!
//! That is one `epoll_ctl` per wait and none when data is already there. CPython's
//! `sock_recv` pays two per wait: `add_reader` before it (`EPOLL_CTL_ADD`) and
//! `remove_reader` after it (`EPOLL_CTL_DEL`). Measured with strace on a Unix-socket
//! ping-pong, each side pays per message: `recv` (EAGAIN), `epoll_ctl`, `epoll_wait`, `recv`,
//! `send`. The blocking-mode check (asyncio's `ValueError`) runs once per registration: the
//! same MOD that proves the registration proves the check was made for this file.
//!
//! Limit: a MOD cannot tell whose registration it finds, so an fd that a stream or server of
//! this loop owns must not be given to `sock_*` or `add_reader` (asyncio refuses that with
//! "File descriptor is used by transport"; here a fresh ADD says `EEXIST`, reported as busy,
//! but a stale entry's MOD would take the registration over).
//!
//! # Level-triggered callbacks over edge-triggered epoll
//!
//! asyncio calls an `add_reader` callback once per loop iteration for as long as the fd stays
//! readable. mio registers edge-triggered, so after running the callbacks of an fd the
//! dispatcher forgets the fd's readiness and re-arms it with `EPOLL_CTL_MOD`: if the fd is
//! still readable, the kernel queues a fresh event at once, the next iteration's
//! `epoll_wait` reports it, and the callback runs again. An fd that stopped being ready
//! reports nothing until new data comes. (CPython registers level-triggered and needs no
//! syscall per callback; here it costs one `epoll_ctl` per callback run.)
//!
//! ```text
//!   event --> dispatch waker --> fire: call_soon(dispatch), once per iteration
//!   dispatch (in the batch): callbacks of the ready directions, each under catch_unwind
//!            --> reset bits --> EPOLL_CTL_MOD --> next iteration's epoll_wait --> event ...
//! ```
//!
//! Ground rules:
//! - One entry per fd number per loop, registered in epoll for the directions somebody
//!   waits on.
//! - One waiter per fd and direction: a callback, or the `sock_*` operations of one task.
//!   Anything else gets a clear error: asyncio would silently replace the first waiter and
//!   leave it hanging.
//! - A waiting operation that is dropped takes its waker back: nothing of it stays to wake.
//! - No callback (user code) runs, and no callback or entry is dropped, while a `RefCell`
//!   of this table is borrowed.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::os::fd::RawFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use mio::Interest;

use super::reactor::Reactor;
use super::scheduled_io::{Direction, ScheduledIo, SlotHolds};
use super::source::BorrowedFd;
use super::sys;
use crate::exceptions::panic_message;
use crate::runtime::core::{self, Core, with_running};
use crate::runtime::report::ExceptionContext;
use crate::runtime::small_fn::SmallFn;

/// A callback given to `add_reader` or `add_writer`.
pub(crate) type FdCallback = Rc<dyn Fn()>;

/// Numbers the tables of all loops, so a dispatch waker can tell its own loop's table.
static NEXT_TABLE: AtomicUsize = AtomicUsize::new(0);

/// One loop's foreign descriptors, by number.
pub(crate) struct FdTable {
    id: usize,
    entries: RefCell<HashMap<RawFd, Rc<FdEntry>>>,
}

impl FdTable {
    pub(crate) fn new() -> FdTable {
        FdTable {
            id: NEXT_TABLE.fetch_add(1, Ordering::Relaxed),
            entries: RefCell::new(HashMap::new()),
        }
    }
}

/// One fd: its registration, its callbacks and how many operations wait on it.
struct FdEntry {
    fd: RawFd,
    sched: Rc<ScheduledIo>,
    /// False once the entry left the table (the fd was closed, or nothing watches it).
    live: Cell<bool>,
    /// The `add_reader` and `add_writer` callbacks, by `slot(dir)`.
    callbacks: [RefCell<Option<FdCallback>>; 2],
    /// `sock_*` operations waiting, by `slot(dir)`.
    waiters: [Cell<u32>; 2],
    /// A dispatch is on the run queue.
    queued: Cell<bool>,
    /// An operation found the fd non-blocking. Kept while the registration is proven to be
    /// the same file's, so a wait costs no `fcntl` after the first.
    nonblocking: Cell<bool>,
    /// The waker a callback direction stores in `sched`: it queues the dispatch.
    dispatch: Waker,
}

fn slot(dir: Direction) -> usize {
    match dir {
        Direction::Read => 0,
        Direction::Write => 1,
    }
}

fn interest(dir: Direction) -> Interest {
    match dir {
        Direction::Read => Interest::READABLE,
        Direction::Write => Interest::WRITABLE,
    }
}

fn verb(dir: Direction) -> &'static str {
    match dir {
        Direction::Read => "read",
        Direction::Write => "write",
    }
}

fn api(dir: Direction) -> &'static str {
    match dir {
        Direction::Read => "add_reader",
        Direction::Write => "add_writer",
    }
}

/// The error for an operation on a blocking socket (where asyncio raises `ValueError`).
pub(crate) fn blocking_error(fd: RawFd, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{what}: the socket (fd {fd}) is in blocking mode; call set_nonblocking(true) on it \
             first"
        ),
    )
}

fn is_gone(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT | libc::EBADF))
}

impl FdEntry {
    fn callback(&self, dir: Direction) -> Option<FdCallback> {
        self.callbacks[slot(dir)].borrow().clone()
    }

    fn has_callback(&self, dir: Direction) -> bool {
        self.callbacks[slot(dir)].borrow().is_some()
    }

    fn take_callback(&self, dir: Direction) -> Option<FdCallback> {
        self.callbacks[slot(dir)].borrow_mut().take()
    }

    fn wants(&self, dir: Direction) -> bool {
        self.has_callback(dir) || self.waiters[slot(dir)].get() > 0
    }

    /// The directions epoll should report: those with a callback or a waiter, plus `extra`.
    fn interest(&self, extra: Option<Direction>) -> Option<Interest> {
        let wants = |dir| extra == Some(dir) || self.wants(dir);
        match (wants(Direction::Read), wants(Direction::Write)) {
            (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
            (true, false) => Some(Interest::READABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        }
    }

    /// An error if `waker`'s task may not wait in `dir` now (one waiter per direction).
    fn may_wait(&self, dir: Direction, waker: &Waker, what: &str) -> io::Result<()> {
        let fd = self.fd;
        if self.has_callback(dir) {
            return Err(io::Error::new(
                io::ErrorKind::ResourceBusy,
                format!(
                    "{what}: fd {fd} has a callback from {}; one fd has one {}er at a time: \
                     remove it first",
                    api(dir),
                    verb(dir)
                ),
            ));
        }
        if self.waiters[slot(dir)].get() > 0
            && self.sched.slot_holds(dir, waker) == SlotHolds::Other
        {
            return Err(io::Error::new(
                io::ErrorKind::ResourceBusy,
                format!(
                    "{what}: another task is already waiting to {} fd {fd}; one socket has one \
                     {}er at a time",
                    verb(dir),
                    verb(dir)
                ),
            ));
        }
        Ok(())
    }
}

/// The waker of a callback direction: queues the entry's dispatch on its loop. It holds
/// only numbers, so it is `Send` as wakers must be, and a wake that finds another loop, or
/// an entry of another generation, does nothing.
struct DispatchWake {
    table: usize,
    fd: RawFd,
    token: usize,
}

impl Wake for DispatchWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        with_running(|core| {
            if let Some(reactor) = core.reactor_if_any() {
                reactor.fd_fire(core, self);
            }
        });
    }
}

/// A queued dispatch. Dropped unrun (the loop closed), it still clears `queued`.
struct Queued(Weak<FdEntry>);

impl Drop for Queued {
    fn drop(&mut self) {
        if let Some(entry) = self.0.upgrade() {
            entry.queued.set(false);
        }
    }
}

impl Reactor {
    /// The entry of `fd`, registered for what it already watches plus `dir`, and proven to
    /// be the registration of the file `fd` names now (see the module docs).
    fn fd_armed(&self, fd: RawFd, dir: Direction) -> io::Result<Rc<FdEntry>> {
        let existing = self.fds.entries.borrow().get(&fd).cloned();
        if let Some(entry) = existing {
            let wanted = entry.interest(Some(dir)).unwrap_or(interest(dir));
            match self.reregister(&mut BorrowedFd(fd), &entry.sched, wanted) {
                Ok(()) => return Ok(entry),
                // Closed (EBADF), or closed and reused (ENOENT): the old registration went
                // with the old file. A fresh one is made, or the ADD says what is wrong.
                Err(e) if is_gone(&e) => self.fd_discard(&entry),
                Err(e) => return Err(e),
            }
        }
        let sched = self
            .register_with(&mut BorrowedFd(fd), 0, interest(dir))
            .map_err(|e| {
                if e.raw_os_error() == Some(libc::EEXIST) {
                    io::Error::new(
                        io::ErrorKind::ResourceBusy,
                        format!(
                            "fd {fd} is already watched by this loop (a stream or server owns it)"
                        ),
                    )
                } else {
                    e
                }
            })?;
        let dispatch = Waker::from(Arc::new(DispatchWake {
            table: self.fds.id,
            fd,
            token: sched.token(),
        }));
        let entry = Rc::new(FdEntry {
            fd,
            sched,
            live: Cell::new(true),
            callbacks: [RefCell::new(None), RefCell::new(None)],
            waiters: [Cell::new(0), Cell::new(0)],
            queued: Cell::new(false),
            nonblocking: Cell::new(false),
            dispatch,
        });
        let old = self.fds.entries.borrow_mut().insert(fd, entry.clone());
        drop(old);
        Ok(entry)
    }

    /// Forgets `entry`: its fd was closed behind the loop's back. Waiting operations are woken
    /// (their syscall then says what happened) and callbacks are dropped, with a report.
    fn fd_discard(&self, entry: &Rc<FdEntry>) {
        let removed = {
            let mut entries = self.fds.entries.borrow_mut();
            match entries.get(&entry.fd) {
                Some(e) if Rc::ptr_eq(e, entry) => entries.remove(&entry.fd),
                _ => None,
            }
        };
        let (woken, callbacks) = self.retire(entry);
        drop(removed);
        woken.into_iter().for_each(Waker::wake);
        if callbacks.iter().any(Option::is_some) {
            core::report(ExceptionContext {
                message: format!(
                    "fd {} was closed while it had add_reader/add_writer callbacks; they were \
                     dropped (call remove_reader/remove_writer before closing an fd)",
                    entry.fd
                ),
                task: None,
                panic: None,
            });
        }
        drop(callbacks);
    }

    /// `add_reader`/`add_writer`: `callback` becomes `fd`'s callback for `dir`, replacing the
    /// one there.
    pub(crate) fn fd_add_callback(
        &self,
        fd: RawFd,
        dir: Direction,
        callback: FdCallback,
    ) -> io::Result<()> {
        let entry = self.fd_armed(fd, dir)?;
        if entry.waiters[slot(dir)].get() > 0 {
            return Err(io::Error::new(
                io::ErrorKind::ResourceBusy,
                format!(
                    "{}: a sock_* operation is waiting to {} fd {fd}; one fd has one {}er at a \
                     time",
                    api(dir),
                    verb(dir),
                    verb(dir)
                ),
            ));
        }
        // Bits from before are not evidence; the MOD just made epoll report the truth.
        entry.sched.reset(dir);
        let old = entry.callbacks[slot(dir)].replace(Some(callback));
        entry.sched.set_waker(dir, &entry.dispatch);
        drop(old);
        Ok(())
    }

    /// `remove_reader`/`remove_writer`: true if `fd` had a callback for `dir`.
    pub(crate) fn fd_remove_callback(&self, fd: RawFd, dir: Direction) -> bool {
        let Some(entry) = self.fds.entries.borrow().get(&fd).cloned() else {
            return false;
        };
        let Some(old) = entry.take_callback(dir) else {
            return false;
        };
        entry.sched.drop_waker_if(dir, &entry.dispatch);
        match entry.interest(None) {
            None => {
                // Nothing watches the fd any more: stop epoll reporting it (one epoll_ctl, as
                // asyncio's remove_reader).
                entry.live.set(false);
                let removed = self.fds.entries.borrow_mut().remove(&fd);
                self.deregister(&mut BorrowedFd(fd), &entry.sched);
                drop(removed);
            }
            Some(wanted) => {
                if let Err(e) = self.reregister(&mut BorrowedFd(fd), &entry.sched, wanted) {
                    if is_gone(&e) {
                        self.fd_discard(&entry);
                    }
                }
            }
        }
        drop(old);
        true
    }

    /// A dispatch waker fired: queue the entry's dispatch, unless it is queued already.
    fn fd_fire(&self, core: &Core, wake: &DispatchWake) {
        if wake.table != self.fds.id {
            return;
        }
        let entry = match self.fds.entries.borrow().get(&wake.fd) {
            Some(e) if e.sched.token() == wake.token => e.clone(),
            _ => return,
        };
        if entry.queued.replace(true) {
            return;
        }
        let queued = Queued(Rc::downgrade(&entry));
        core.call_soon(SmallFn::new(move || {
            let Some(entry) = queued.0.upgrade() else {
                return;
            };
            drop(queued);
            if let Some(core) = with_running(Core::rc) {
                if let Some(reactor) = core.reactor_if_any() {
                    reactor.fd_dispatch(&entry);
                }
            }
        }));
    }

    /// Runs the callbacks of `entry`'s ready directions, then re-arms it so that epoll
    /// reports it again next iteration if it is still ready (level triggering).
    fn fd_dispatch(&self, entry: &Rc<FdEntry>) {
        let mut ran = false;
        for dir in [Direction::Read, Direction::Write] {
            if !entry.live.get() {
                return;
            }
            if entry.sched.ready_bits(dir) == 0 {
                continue;
            }
            let Some(callback) = entry.callback(dir) else {
                continue;
            };
            entry.sched.reset(dir);
            ran = true;
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| callback())) {
                let message = panic_message(&*payload).to_owned();
                core::report(ExceptionContext {
                    message: format!(
                        "Exception in callback {}(fd={}): panicked: {message}",
                        api(dir),
                        entry.fd
                    ),
                    task: None,
                    panic: Some(message),
                });
            }
            drop(callback); // perhaps the last reference, if the callback replaced itself
        }
        if !entry.live.get() {
            return;
        }
        for dir in [Direction::Read, Direction::Write] {
            if entry.has_callback(dir) {
                entry.sched.set_waker(dir, &entry.dispatch);
            }
        }
        if !ran {
            return;
        }
        if let Some(wanted) = entry.interest(None) {
            if self
                .reregister(&mut BorrowedFd(entry.fd), &entry.sched, wanted)
                .is_err()
            {
                // EBADF or ENOENT: the callback (or someone) closed the fd without
                // remove_reader; nothing else can fail for an fd that was registered.
                self.fd_discard(entry);
            }
        }
    }

    /// Waits until `fd` may be ready for `dir` (after a syscall said `WouldBlock`). `what`
    /// names the operation in errors. With `check_mode`, a blocking fd is refused (asyncio's
    /// `ValueError`), checked once per registration.
    pub(crate) fn fd_wait(
        &self,
        fd: RawFd,
        dir: Direction,
        what: &'static str,
        check_mode: bool,
    ) -> FdWait<'_> {
        FdWait {
            reactor: self,
            fd,
            dir,
            what,
            check_mode,
            armed: None,
        }
    }

    /// The loop is closing: drop every callback and wake every waiting operation.
    pub(crate) fn fd_close(&self) {
        let entries: Vec<Rc<FdEntry>> = self
            .fds
            .entries
            .borrow_mut()
            .drain()
            .map(|(_, e)| e)
            .collect();
        for entry in &entries {
            // No EPOLL_CTL_DEL: the epoll fd goes with the loop, and the number may name a
            // file someone else registered by now.
            let (woken, callbacks) = self.retire(entry);
            drop(callbacks);
            woken.into_iter().for_each(Waker::wake);
        }
    }

    /// Takes `entry` out of service: marks it dead and leaves the reactor's sources. Gives
    /// back the wakers of its waiting operations and its callbacks, for the caller to wake
    /// and drop once no borrow is held (both are user code).
    fn retire(&self, entry: &FdEntry) -> (Vec<Waker>, [Option<FdCallback>; 2]) {
        entry.live.set(false);
        self.forget(&entry.sched);
        let mut woken = Vec::new();
        entry.sched.wake_all(&mut woken);
        let callbacks = [
            entry.take_callback(Direction::Read),
            entry.take_callback(Direction::Write),
        ];
        (woken, callbacks)
    }

    /// Number of foreign fds in the table.
    #[cfg(test)]
    pub(crate) fn fd_count(&self) -> usize {
        self.fds.entries.borrow().len()
    }
}

/// The future of [`Reactor::fd_wait`]. Dropped before it is ready, it takes its waker back.
pub(crate) struct FdWait<'a> {
    reactor: &'a Reactor,
    fd: RawFd,
    dir: Direction,
    what: &'static str,
    check_mode: bool,
    /// Once registered: the entry and the waker stored in it.
    armed: Option<(Rc<FdEntry>, Waker)>,
}

impl FdWait<'_> {
    /// No longer waiting: count it, and take the waker back if no other operation of the
    /// same task still waits.
    fn finish(&mut self) {
        if let Some((entry, waker)) = self.armed.take() {
            let waiters = &entry.waiters[slot(self.dir)];
            waiters.set(waiters.get().saturating_sub(1));
            if waiters.get() == 0 {
                entry.sched.drop_waker_if(self.dir, &waker);
            }
        }
    }
}

impl Future for FdWait<'_> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let dir = this.dir;
        let Some((entry, stored)) = &mut this.armed else {
            let entry = match this.reactor.fd_armed(this.fd, dir) {
                Ok(entry) => entry,
                Err(e) => return Poll::Ready(Err(e)),
            };
            if let Err(e) = entry.may_wait(dir, cx.waker(), this.what) {
                return Poll::Ready(Err(e));
            }
            if this.check_mode && !entry.nonblocking.get() {
                match sys::is_nonblocking(this.fd) {
                    Ok(true) => entry.nonblocking.set(true),
                    Ok(false) => return Poll::Ready(Err(blocking_error(this.fd, this.what))),
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
            entry.sched.reset(dir);
            let waiters = &entry.waiters[slot(dir)];
            waiters.set(waiters.get() + 1);
            entry.sched.set_waker(dir, cx.waker());
            this.armed = Some((entry, cx.waker().clone()));
            return Poll::Pending;
        };
        if !entry.live.get() || entry.sched.ready_bits(dir) != 0 {
            this.finish();
            return Poll::Ready(Ok(()));
        }
        match entry.sched.slot_holds(dir, cx.waker()) {
            SlotHolds::Same => {}
            SlotHolds::Nothing => entry.sched.set_waker(dir, cx.waker()),
            SlotHolds::Other if entry.sched.slot_holds(dir, stored) == SlotHolds::Same => {
                // Our task's waker changed (the future moved to another task).
                entry.sched.set_waker(dir, cx.waker());
            }
            SlotHolds::Other => {
                let e = io::Error::new(
                    io::ErrorKind::ResourceBusy,
                    format!(
                        "{}: another task started waiting to {} fd {} meanwhile; one socket has \
                         one {}er at a time",
                        this.what,
                        verb(dir),
                        this.fd,
                        verb(dir)
                    ),
                );
                this.finish();
                return Poll::Ready(Err(e));
            }
        }
        if !stored.will_wake(cx.waker()) {
            *stored = cx.waker().clone();
        }
        Poll::Pending
    }
}

impl Drop for FdWait<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}

impl std::fmt::Debug for FdTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FdTable")
            .field("fds", &self.entries.try_borrow().map(|e| e.len()).ok())
            .finish()
    }
}
