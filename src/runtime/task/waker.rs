//! The waker: just a [`TaskId`] in the data word of a `RawWaker`.
//!
//! - `clone` copies the word, `drop` does nothing: no allocation, no reference count.
//! - `wake` on the loop's own thread, while that loop runs, pushes the id onto the run queue
//!   directly (no lock, no allocation): see `Core::wake_local`.
//! - `wake` anywhere else (another thread, or the loop is not running) goes through the
//!   process-wide registry to the loop's `Remote` inbox and unparks the loop's thread.
//! - A waker that outlives its task or its loop finds nothing to wake and does nothing.
//!
//! The data word is never dereferenced, so nothing a waker does depends on a pointer being
//! valid; that is what makes this waker sound to send and share across threads.

use std::ptr;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::id::TaskId;
use crate::runtime::{core, remote};

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);

fn clone(data: *const ()) -> RawWaker {
    RawWaker::new(data, &VTABLE)
}

fn wake(data: *const ()) {
    let id = TaskId::from_bits(data.addr());
    if !core::try_wake_on_running_loop(id) {
        wake_remote(id);
    }
}

/// A wake from another thread, or for a loop that is not running here: through the inbox.
#[cold]
#[inline(never)]
fn wake_remote(id: TaskId) {
    remote::wake(id);
}

fn drop(_: *const ()) {}

/// True if `waker` is a task waker of this crate (waking it runs no user code).
#[inline]
pub(crate) fn is_task_waker(waker: &Waker) -> bool {
    std::ptr::eq(waker.vtable(), &VTABLE)
}

/// The task a waker made by [`waker`] wakes; `None` for any other waker.
#[inline]
pub(crate) fn task_of(waker: &Waker) -> Option<TaskId> {
    is_task_waker(waker).then(|| TaskId::from_bits(waker.data().addr()))
}

/// The loop a waker made by [`waker`] belongs to; `None` for any other waker (one a combinator
/// or another executor made).
pub(crate) fn loop_of(waker: &Waker) -> Option<usize> {
    task_of(waker).map(TaskId::loop_id)
}

/// The waker for `id`.
#[inline]
pub(crate) fn waker(id: TaskId) -> Waker {
    let raw = RawWaker::new(ptr::without_provenance(id.bits()), &VTABLE);
    // SAFETY: `Waker::from_raw` requires the vtable functions to be thread-safe and to uphold
    // the RawWaker contract for `data`. Our `data` is an integer, never dereferenced; `clone`
    // returns an identical RawWaker, `drop` owns nothing, and `wake` only reads this thread's
    // thread-local loop pointer (valid on any thread) or locks the process-wide registry, so
    // every function may run on any thread, any number of times, in any order.
    unsafe { Waker::from_raw(raw) }
}
