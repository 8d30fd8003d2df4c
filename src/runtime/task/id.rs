//! A task's identity, packed into one machine word so that a waker can *be* the id.
//!
//! ```text
//!  64-bit: | loop: 16 | generation: 16 | index: 32 |
//!  32-bit: | loop:  8 | generation:  8 | index: 16 |
//! ```
//! - `loop` is the event loop's slot in the process-wide registry (see `remote.rs`);
//! - `index` is the task's key in that loop's task slab; `MAIN_INDEX` (all ones) names the
//!   future given to `run_until_complete`, which lives on the caller's stack, not in the slab;
//!   an index with the top bit (`CALLBACK_INDEX`) names a `call_later` callback instead;
//! - `generation` tells a reused slab slot from the task that held it before.
//!
//! Every field may wrap or be reused. That is harmless by construction: an id that no longer
//! names a live task is ignored, and one that names a *different* task causes at most one
//! spurious poll, which every Rust future must tolerate.

/// Bits for the slab index.
const INDEX_BITS: u32 = usize::BITS / 2;
/// Bits for the generation.
const GEN_BITS: u32 = usize::BITS / 4;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
const GEN_MASK: usize = (1 << GEN_BITS) - 1;
const LOCAL_MASK: usize = (1 << (INDEX_BITS + GEN_BITS)) - 1;

/// The largest number of event loops alive at once in a process.
pub(crate) const MAX_LOOPS: usize = 1 << (usize::BITS - INDEX_BITS - GEN_BITS);
/// The index reserved for the future driven by `run_until_complete`.
pub(crate) const MAIN_INDEX: usize = INDEX_MASK;
/// Indices with this bit (other than `MAIN_INDEX`) name a timed callback (`call_later`) by
/// its key, not a task: its timer's waker queues the callback.
pub(crate) const CALLBACK_INDEX: usize = 1 << (INDEX_BITS - 1);
/// The largest number of tasks alive at once in one loop.
pub(crate) const MAX_TASKS: usize = CALLBACK_INDEX;

/// A packed (loop, generation, index) triple. `Copy`, one word, no drop.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct TaskId(usize);

impl TaskId {
    #[inline]
    pub(crate) fn new(loop_id: usize, generation: usize, index: usize) -> TaskId {
        debug_assert!(loop_id < MAX_LOOPS && index <= INDEX_MASK);
        TaskId(
            (loop_id << (INDEX_BITS + GEN_BITS)) | ((generation & GEN_MASK) << INDEX_BITS) | index,
        )
    }

    #[inline]
    pub(crate) fn from_bits(bits: usize) -> TaskId {
        TaskId(bits)
    }

    #[inline]
    pub(crate) fn bits(self) -> usize {
        self.0
    }

    /// The id without its loop field (the part a loop's own run queue needs).
    #[inline]
    pub(crate) fn local_bits(self) -> usize {
        self.0 & LOCAL_MASK
    }

    /// Rebuilds an id from `local_bits` and the loop it belongs to.
    #[inline]
    pub(crate) fn from_local_bits(loop_id: usize, bits: usize) -> TaskId {
        TaskId((loop_id << (INDEX_BITS + GEN_BITS)) | (bits & LOCAL_MASK))
    }

    #[inline]
    pub(crate) fn loop_id(self) -> usize {
        self.0 >> (INDEX_BITS + GEN_BITS)
    }

    #[inline]
    pub(crate) fn generation(self) -> usize {
        (self.0 >> INDEX_BITS) & GEN_MASK
    }

    #[inline]
    pub(crate) fn index(self) -> usize {
        self.0 & INDEX_MASK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_and_generation_wraps() {
        let id = TaskId::new(MAX_LOOPS - 1, GEN_MASK + 3, 12345);
        assert_eq!(id.loop_id(), MAX_LOOPS - 1);
        assert_eq!(id.generation(), 2);
        assert_eq!(id.index(), 12345);
        assert_eq!(TaskId::new(0, 0, MAIN_INDEX).index(), MAIN_INDEX);
    }
}
