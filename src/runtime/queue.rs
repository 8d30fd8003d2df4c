//! The run queue: a ring of one-word entries, FIFO, grown by doubling.
//!
//! Every wake pushes and every poll pops, so both are a handful of instructions inlined into
//! their callers: no borrow flag (the ring is only touched inside these methods, which call
//! no user code), no capacity check beyond one comparison; growing is out of line.

use std::cell::{Cell, UnsafeCell};

/// A FIFO of `usize` entries for one loop (see `core::Ready`).
pub(crate) struct RunQueue {
    /// Storage; its length is the capacity, a power of two (or zero before the first push).
    slots: UnsafeCell<Box<[usize]>>,
    /// Index of the front entry, free-running (wraps with the mask).
    head: Cell<usize>,
    /// Index one past the back entry, free-running.
    tail: Cell<usize>,
}

impl RunQueue {
    pub(crate) fn new() -> RunQueue {
        RunQueue {
            slots: UnsafeCell::new(Box::new([])),
            head: Cell::new(0),
            tail: Cell::new(0),
        }
    }

    /// Entries queued.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.tail.get().wrapping_sub(self.head.get())
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `entry` at the back.
    #[inline(always)]
    pub(crate) fn push(&self, entry: usize) {
        // SAFETY: `slots` is only accessed inside the methods of this type, none of which
        // calls out to other code while it holds the reference, and the type is not `Sync`
        // (it holds `Cell`s): so this is the only reference to the storage right now.
        let slots = unsafe { &mut *self.slots.get() };
        let tail = self.tail.get();
        let len = self.len();
        if len == slots.len() {
            grow(slots, self.head.get(), tail);
            // Growing laid the entries out again from index 0.
            self.head.set(0);
            slots[len] = entry;
            self.tail.set(len + 1);
            return;
        }
        slots[tail & (slots.len() - 1)] = entry;
        self.tail.set(tail.wrapping_add(1));
    }

    /// Removes and returns the front entry.
    #[inline(always)]
    pub(crate) fn pop(&self) -> Option<usize> {
        let head = self.head.get();
        if head == self.tail.get() {
            return None;
        }
        // SAFETY: as in `push`; shared access suffices here.
        let slots = unsafe { &*self.slots.get() };
        let entry = slots[head & (slots.len() - 1)];
        self.head.set(head.wrapping_add(1));
        Some(entry)
    }

    /// Removes every entry.
    pub(crate) fn clear(&self) {
        self.head.set(0);
        self.tail.set(0);
    }
}

/// Doubles the ring (at least 64 entries), moving the `head..tail` entries to the front.
#[cold]
#[inline(never)]
fn grow(slots: &mut Box<[usize]>, head: usize, tail: usize) {
    let old = slots.len();
    let new_len = (old * 2).max(64);
    let mut grown = vec![0usize; new_len].into_boxed_slice();
    let mask = old.wrapping_sub(1);
    for (i, at) in (0..tail.wrapping_sub(head))
        .map(|k| head.wrapping_add(k))
        .enumerate()
    {
        grown[i] = slots[at & mask];
    }
    *slots = grown;
}

impl std::fmt::Debug for RunQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunQueue")
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_across_growth_and_wraparound() {
        let q = RunQueue::new();
        let mut expected = std::collections::VecDeque::new();
        let mut next = 0;
        for round in 0..2000 {
            for _ in 0..(round % 7) + 1 {
                q.push(next);
                expected.push_back(next);
                next += 1;
            }
            for _ in 0..(round % 5) {
                assert_eq!(q.pop(), expected.pop_front());
            }
            assert_eq!(q.len(), expected.len());
        }
        while let Some(e) = expected.pop_front() {
            assert_eq!(q.pop(), Some(e));
        }
        assert_eq!(q.pop(), None);
        assert!(q.is_empty());
    }
}
