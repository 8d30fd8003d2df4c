//! The per-source state the reactor and an I/O object share: readiness bits and two wakers.
//!
//! ```text
//!   event (epoll) --set bits, take waker--> task runs --syscall--+--> Ok: keep the bits
//!        ^                                                       |
//!        +---- next edge <---- clear bit, store waker <----------+--> WouldBlock / short read
//! ```
//!
//! Everything here runs on the loop's thread, so plain `Cell`s suffice: between a syscall that
//! says `WouldBlock` and the clearing of the bit, no event can be delivered (events are only
//! delivered by the loop itself, between task polls).

use std::cell::Cell;
use std::task::{Context, Poll, Waker};

/// Readiness bits of a source.
pub(crate) mod ready {
    /// Reading will not block (data, a connection to accept, or EOF).
    pub(crate) const READABLE: u8 = 1;
    /// Writing will not block.
    pub(crate) const WRITABLE: u8 = 2;
    /// The peer shut its writing side: reads return what is buffered, then EOF. Sticky.
    pub(crate) const READ_CLOSED: u8 = 4;
    /// Our writing side is shut (the peer is gone): writes fail. Sticky.
    pub(crate) const WRITE_CLOSED: u8 = 8;
    /// An error is pending on the socket (`SO_ERROR`); the next syscall reports it.
    pub(crate) const ERROR: u8 = 16;
    /// Every bit.
    pub(crate) const ALL: u8 = READABLE | WRITABLE | READ_CLOSED | WRITE_CLOSED | ERROR;
}

/// Which half of a source an operation uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The bits that let an operation in this direction proceed.
    #[inline]
    fn mask(self) -> u8 {
        match self {
            Direction::Read => ready::READABLE | ready::READ_CLOSED | ready::ERROR,
            Direction::Write => ready::WRITABLE | ready::WRITE_CLOSED | ready::ERROR,
        }
    }

    /// The bits a `WouldBlock` in this direction disproves. The closed bits are final, so
    /// they stay.
    #[inline]
    fn clearable(self) -> u8 {
        match self {
            Direction::Read => ready::READABLE | ready::ERROR,
            Direction::Write => ready::WRITABLE | ready::ERROR,
        }
    }
}

/// What a waker slot holds, compared with a given waker ([`ScheduledIo::slot_holds`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SlotHolds {
    Nothing,
    /// A waker that wakes the same task.
    Same,
    /// Someone else's waker.
    Other,
}

/// One registered source: its token (slab index and generation), readiness, and the waker of
/// the task waiting in each direction (one each: as in asyncio, two tasks reading one socket
/// at once is a mistake, and here the later one simply takes the slot).
pub(crate) struct ScheduledIo {
    token: usize,
    readiness: Cell<u8>,
    reader: Cell<Option<Waker>>,
    writer: Cell<Option<Waker>>,
}

impl ScheduledIo {
    pub(crate) fn new(token: usize, initial: u8) -> ScheduledIo {
        ScheduledIo {
            token,
            readiness: Cell::new(initial & ready::ALL),
            reader: Cell::new(None),
            writer: Cell::new(None),
        }
    }

    /// The token this source was registered with.
    #[inline]
    pub(crate) fn token(&self) -> usize {
        self.token
    }

    /// The current readiness bits.
    #[inline]
    pub(crate) fn readiness(&self) -> u8 {
        self.readiness.get()
    }

    fn slot(&self, dir: Direction) -> &Cell<Option<Waker>> {
        match dir {
            Direction::Read => &self.reader,
            Direction::Write => &self.writer,
        }
    }

    /// Ready (with the bits) if `dir` may proceed; otherwise stores `cx`'s waker.
    #[inline]
    pub(crate) fn poll_ready(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<u8> {
        let bits = self.readiness.get() & dir.mask();
        if bits != 0 {
            return Poll::Ready(bits);
        }
        self.set_waker(dir, cx.waker());
        Poll::Pending
    }

    /// True if `dir` may proceed (no waker stored).
    #[inline]
    pub(crate) fn is_ready(&self, dir: Direction) -> bool {
        self.readiness.get() & dir.mask() != 0
    }

    /// Stores `waker` for `dir` unless the one there already wakes the same task.
    pub(crate) fn set_waker(&self, dir: Direction, waker: &Waker) {
        let slot = self.slot(dir);
        let old = slot.take();
        let new = match old {
            Some(w) if w.will_wake(waker) => w,
            _ => waker.clone(),
        };
        slot.set(Some(new));
    }

    /// The syscall said `WouldBlock` (or came back short): `dir` is not ready any more.
    #[inline]
    pub(crate) fn clear(&self, dir: Direction) {
        self.readiness.set(self.readiness.get() & !dir.clearable());
    }

    /// Forgets the waker of `dir` (its waiter went away).
    pub(crate) fn drop_waker(&self, dir: Direction) {
        drop(self.slot(dir).take());
    }

    /// The bits that let `dir` proceed, or 0.
    #[inline]
    pub(crate) fn ready_bits(&self, dir: Direction) -> u8 {
        self.readiness.get() & dir.mask()
    }

    /// Forgets every bit of `dir`, the sticky closed bits too. For a descriptor the loop does
    /// not own (see `fds.rs`): there a `WouldBlock` is the only truth, the fd may have been
    /// closed and reused since the bits were set, and the re-arm that follows makes epoll
    /// report whatever is true now, EOF included.
    #[inline]
    pub(crate) fn reset(&self, dir: Direction) {
        self.readiness.set(self.readiness.get() & !dir.mask());
    }

    /// What `dir`'s slot holds, compared with `waker`.
    pub(crate) fn slot_holds(&self, dir: Direction, waker: &Waker) -> SlotHolds {
        let slot = self.slot(dir);
        let old = slot.take();
        let holds = match &old {
            None => SlotHolds::Nothing,
            Some(w) if w.will_wake(waker) => SlotHolds::Same,
            Some(_) => SlotHolds::Other,
        };
        slot.set(old);
        holds
    }

    /// Forgets the waker of `dir` if it wakes the same task as `waker`.
    pub(crate) fn drop_waker_if(&self, dir: Direction, waker: &Waker) {
        if self.slot_holds(dir, waker) == SlotHolds::Same {
            self.drop_waker(dir);
        }
    }

    /// True if a task is waiting on this source (for the virtual clock: real I/O may come).
    pub(crate) fn has_waiter(&self) -> bool {
        let waiting = |slot: &Cell<Option<Waker>>| {
            let w = slot.take();
            let some = w.is_some();
            slot.set(w);
            some
        };
        waiting(&self.reader) || waiting(&self.writer)
    }

    /// An event arrived with `bits`: remember them and hand out the wakers they concern.
    pub(crate) fn deliver(&self, bits: u8, woken: &mut Vec<Waker>) {
        self.readiness.set(self.readiness.get() | bits);
        if bits & Direction::Read.mask() != 0 {
            woken.extend(self.reader.take());
        }
        if bits & Direction::Write.mask() != 0 {
            woken.extend(self.writer.take());
        }
    }

    /// Hands out both wakers (the source is going away, or its loop is closing).
    pub(crate) fn wake_all(&self, woken: &mut Vec<Waker>) {
        woken.extend(self.reader.take());
        woken.extend(self.writer.take());
    }
}

impl std::fmt::Debug for ScheduledIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScheduledIo")
            .field("token", &self.token)
            .field("readiness", &self.readiness.get())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::testing::WakeCount;

    #[test]
    fn would_block_clears_the_bit_and_an_event_wakes_the_waiter() {
        let io = ScheduledIo::new(7, ready::READABLE | ready::WRITABLE);
        let (count, waker) = WakeCount::new();
        let mut cx = Context::from_waker(&waker);
        assert!(io.poll_ready(Direction::Read, &mut cx).is_ready());
        io.clear(Direction::Read);
        io.set_waker(Direction::Read, cx.waker());
        assert!(io.poll_ready(Direction::Read, &mut cx).is_pending());
        assert!(io.has_waiter());
        assert!(
            io.is_ready(Direction::Write),
            "the other direction is untouched"
        );
        let mut woken = Vec::new();
        io.deliver(ready::WRITABLE, &mut woken);
        assert!(woken.is_empty(), "a write event does not wake a reader");
        io.deliver(ready::READABLE, &mut woken);
        assert_eq!(woken.len(), 1);
        woken.drain(..).for_each(Waker::wake);
        assert_eq!(count.get(), 1);
        assert!(!io.has_waiter());
    }

    #[test]
    fn closed_bits_survive_would_block() {
        let io = ScheduledIo::new(1, 0);
        io.deliver(ready::READ_CLOSED | ready::READABLE, &mut Vec::new());
        io.clear(Direction::Read);
        assert!(io.is_ready(Direction::Read), "EOF stays visible");
    }
}
