//! [`Source`]: an I/O object registered with its loop's reactor (tokio's `PollEvented`).
//!
//! Every operation goes through [`Source::poll_io`]: if the direction's readiness bit is set,
//! try the syscall; on `WouldBlock`, clear the bit and wait for the next edge. Dropping the
//! source deregisters it before the object (and its fd) is dropped.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use mio::event::Source as MioSource;
use mio::{Interest, Registry, Token};

use super::scheduled_io::{Direction, ScheduledIo};
use crate::runtime::core::Core;

/// An I/O object `S` registered with a loop.
pub(crate) struct Source<S: MioSource> {
    io: Option<S>,
    sched: Rc<ScheduledIo>,
    core: Weak<Core>,
}

impl<S: MioSource> Source<S> {
    /// Registers `io` with `core`'s reactor (made now if this is the loop's first source),
    /// with readiness `initial` (see `scheduled_io::ready`).
    pub(crate) fn new(core: &Core, mut io: S, initial: u8) -> io::Result<Source<S>> {
        let sched = core.reactor()?.register(&mut io, initial)?;
        Ok(Source {
            io: Some(io),
            sched,
            core: core.weak(),
        })
    }

    /// Registers `io` with the loop running on this thread.
    #[cfg(test)]
    pub(crate) fn on_running_loop(io: S, initial: u8) -> io::Result<Source<S>> {
        crate::runtime::core::with_running(|core| Source::new(core, io, initial))
            .unwrap_or_else(|| Err(no_running_loop()))
    }

    /// The object.
    #[inline]
    pub(crate) fn get_ref(&self) -> &S {
        self.io
            .as_ref()
            .expect("a Source holds its object until dropped")
    }

    /// The readiness state shared with the reactor.
    #[inline]
    pub(crate) fn sched(&self) -> &ScheduledIo {
        &self.sched
    }

    /// Ready with `f`'s result once `f` does not say `WouldBlock`; `f` runs only while `dir`
    /// is believed ready. `f` should be one syscall.
    #[inline]
    pub(crate) fn poll_io<R>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        mut f: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            if self.sched.poll_ready(dir, cx).is_pending() {
                return Poll::Pending;
            }
            match f(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.sched.clear(dir),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }

    /// Ready when `dir` is (or may be) ready, without doing anything.
    #[inline]
    pub(crate) fn poll_ready(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<u8> {
        self.sched.poll_ready(dir, cx)
    }

    /// Deregisters `io` and wakes whoever still waits on it, so that nobody waits forever
    /// for an event that can no longer come.
    fn deregister(&self, io: &mut S) {
        if let Some(core) = self.core.upgrade() {
            if let Some(reactor) = core.reactor_if_any() {
                reactor.deregister(io, &self.sched);
            }
        }
        let mut woken = Vec::new();
        self.sched.wake_all(&mut woken);
        woken.into_iter().for_each(std::task::Waker::wake);
    }
}

impl<S: MioSource> Drop for Source<S> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            self.deregister(&mut io);
        }
    }
}

impl<S: MioSource + std::fmt::Debug> std::fmt::Debug for Source<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("io", &self.io)
            .field("readiness", &self.sched.readiness())
            .finish()
    }
}

/// A file descriptor the reactor watches but does not own (a socket given to `sock_recv`,
/// an fd given to `add_reader`): dropping it does not close the fd.
#[derive(Debug)]
pub(crate) struct BorrowedFd(pub(crate) RawFd);

impl AsRawFd for BorrowedFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

impl MioSource for BorrowedFd {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.0).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.0).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        mio::unix::SourceFd(&self.0).deregister(registry)
    }
}

/// The error for I/O attempted with no loop running on this thread.
pub(crate) fn no_running_loop() -> io::Error {
    io::Error::other("no running event loop: do I/O inside asyncio::run(...)")
}

/// The error for I/O on a socket whose loop has been dropped.
pub(crate) fn loop_gone() -> io::Error {
    io::Error::other("the event loop this socket belongs to is gone")
}
