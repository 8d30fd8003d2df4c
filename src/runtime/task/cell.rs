//! Task storage: one allocation per task holds its header, then its future, then its result.
//!
//! ```text
//!            spawn                 poll -> Ready / panic            poll_join
//!   (new) ----------> Running(F) -----------------------> Finished(result) ---------> Consumed
//!                        |                                   ^
//!                        +---- cancel (next iteration) ------+   (result = Err(Cancelled))
//! ```
//!
//! The loop holds the task as `TaskRc<dyn Runnable>` (in its slab); the user's [`Task`] handle
//! holds the same allocation as `TaskRc<dyn Join<T>>` (`rc.rs`: an `Rc` whose one count lives
//! in the header). So spawning costs exactly one allocation,
//! and dropping the handle does not cancel the task (asyncio's semantics): the loop's
//! reference keeps it alive until it finishes.
//!
//! The [`Header`] is the untyped part (identity, state flags, the awaiting waker, and a
//! lazily allocated [`Extra`] for the rarely used name and done callbacks), so that type-erased
//! handles (`TaskRef`, `current_task()`) can reach it.
//!
//! # Cancellation travels down the await chain
//!
//! asyncio's `Task.cancel()` also cancels the future the task is blocked on (`_fut_waiter`), so
//! cancelling a task that awaits another task cancels both. Rust cancels by dropping: the loop
//! drops a cancelled task's future, a timeout drops its operation, a task group drops its body.
//! Those drops run inside [`cancel_scope`], and an await dropped there while pending
//! ([`in_cancel_scope`]: a `TaskFuture`, an `asyncio::Future` awaiter) cancels what it awaited,
//! as the `CancelledError` thrown into the awaiting coroutine would in asyncio. The chain is
//! walked one await per loop iteration, with no recursion and no bookkeeping on the hot path;
//! an ordinary drop of a `Task` handle (or of an await) cancels nothing.
//!
//! [`Task`]: crate::Task

use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::ptr::NonNull;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::finished::FinishedSet;
use super::id::TaskId;
use super::waker::{is_task_waker, loop_of, waker};
use crate::exceptions::TaskError;

/// State flags of a task, in [`Header::state`].
mod flag {
    /// The future has finished (returned, panicked or was cancelled).
    pub(super) const DONE: u8 = 1;
    /// It finished by being cancelled.
    pub(super) const CANCELLED: u8 = 2;
    /// It finished by panicking.
    pub(super) const FAILED: u8 = 4;
    /// `cancel()` was called: drop the future instead of polling it next time.
    pub(super) const CANCEL_REQUESTED: u8 = 8;
    /// The result was taken (or looked at) by the handle.
    pub(super) const RETRIEVED: u8 = 16;
    /// The task is on its loop's run queue (set by a wake, cleared when polled). A new task is
    /// born scheduled, since spawning queues it (or polls it at once, for eager tasks).
    pub(super) const SCHEDULED: u8 = 32;
    /// The loop's own machinery (a server's accept loop, a stream's flusher), not user work:
    /// left out of `all_tasks()`, so code that cancels "every other task" leaves it alone.
    pub(super) const INTERNAL: u8 = 64;
    /// The stage is borrowed (a [`StageMut`] is alive): the borrow flag of the stage's cell,
    /// kept here rather than in a word of its own. Set and cleared only by `StageMut`.
    pub(super) const BORROWED: u8 = 128;
}

/// A done callback of a task.
pub(crate) type DoneCallback = Box<dyn FnOnce()>;

/// What most tasks never need, allocated on first use.
#[derive(Default)]
pub(crate) struct Extra {
    name: Option<Box<str>>,
    callbacks: Vec<(u64, DoneCallback)>,
    next_callback: u64,
    /// `cancel()` calls not undone by `uncancel()` (asyncio's `cancelling()`).
    cancel_requests: u32,
    /// The message of the latest `cancel_with_msg`, for the task's `TaskError`.
    cancel_message: Option<Box<str>>,
}

thread_local! {
    /// How many cancelling drops are running on this thread (see [`cancel_scope`]).
    static CANCEL_SCOPE: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f` (a drop that *is* a cancellation: a timeout dropping its operation, a task group
/// dropping its body, the loop dropping a cancelled task's future) so that awaits dropped
/// inside it cancel what they awaited.
pub(crate) fn cancel_scope<R>(f: impl FnOnce() -> R) -> R {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            CANCEL_SCOPE.with(|n| n.set(n.get() - 1));
        }
    }
    CANCEL_SCOPE.with(|n| n.set(n.get() + 1));
    let _leave = Leave;
    f()
}

/// True inside [`cancel_scope`]: a pending await dropped now is being cancelled, not just
/// forgotten.
pub(crate) fn in_cancel_scope() -> bool {
    CANCEL_SCOPE.try_with(|n| n.get() > 0).unwrap_or(false)
}

/// The untyped part of a task.
pub(crate) struct Header {
    id: TaskId,
    /// Per-loop creation number, for the default name `Task-N`.
    serial: u32,
    state: Cell<u8>,
    /// How many `TaskRc`s point to the task (see `rc.rs`); in bytes the other fields leave.
    pub(super) refs: Cell<u16>,
    extra: Cell<Option<Box<Extra>>>,
}

impl Header {
    fn new(id: TaskId, serial: u32) -> Header {
        Header {
            id,
            serial,
            state: Cell::new(flag::SCHEDULED),
            refs: Cell::new(1),
            extra: Cell::new(None),
        }
    }

    /// Counts one more `TaskRc`. A count at `u16::MAX` stays there: the task is then never
    /// freed, which is a leak, never a use after free (see `rc.rs`).
    #[inline(always)]
    pub(super) fn acquire(&self) {
        let n = self.refs.get();
        if n != u16::MAX {
            self.refs.set(n + 1);
        }
    }

    /// Counts one `TaskRc` less; true if it was the last (the task is to be freed).
    #[inline(always)]
    pub(super) fn release(&self) -> bool {
        let n = self.refs.get();
        if n == u16::MAX {
            return false;
        }
        self.refs.set(n - 1);
        n == 1
    }

    fn has(&self, f: u8) -> bool {
        self.state.get() & f != 0
    }

    fn set(&self, f: u8) {
        self.state.set(self.state.get() | f);
    }

    pub(crate) fn id(&self) -> TaskId {
        self.id
    }

    /// Marks the task queued; false if it already was (a second wake before the poll).
    #[inline]
    pub(crate) fn schedule(&self) -> bool {
        let state = self.state.get();
        self.state.set(state | flag::SCHEDULED);
        state & flag::SCHEDULED == 0
    }

    /// Clears the queued mark before a poll; false if it was not queued (a stale entry).
    #[inline]
    pub(crate) fn unschedule(&self) -> bool {
        let state = self.state.get();
        self.state.set(state & !flag::SCHEDULED);
        state & flag::SCHEDULED != 0
    }

    /// Marks the task as the loop's own machinery (see `flag::INTERNAL`).
    pub(crate) fn mark_internal(&self) {
        self.set(flag::INTERNAL);
    }

    pub(crate) fn is_internal(&self) -> bool {
        self.has(flag::INTERNAL)
    }

    pub(crate) fn is_done(&self) -> bool {
        self.has(flag::DONE)
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.has(flag::CANCELLED)
    }

    pub(crate) fn is_failed(&self) -> bool {
        self.has(flag::FAILED)
    }

    /// Someone else took responsibility for the task's failure (a task group reports it):
    /// do not report it as never retrieved.
    pub(crate) fn mark_retrieved(&self) {
        self.set(flag::RETRIEVED);
    }

    /// Asks for cancellation (asyncio's `Task.cancel(msg)`): the loop drops the future instead
    /// of polling it next, and that drop cancels what the task was awaiting (see the module
    /// docs). Returns false if the task is already done.
    pub(crate) fn request_cancel(&self, msg: Option<&str>) -> bool {
        if self.is_done() {
            return false;
        }
        self.set(flag::CANCEL_REQUESTED);
        self.with_extra(|e| {
            e.cancel_requests = e.cancel_requests.saturating_add(1);
            if let Some(msg) = msg {
                e.cancel_message = Some(msg.into());
            }
        });
        waker(self.id).wake();
        true
    }

    /// Pending cancellation requests (asyncio's `Task.cancelling()`).
    pub(crate) fn cancelling(&self) -> u32 {
        self.peek_extra(|e| e.map_or(0, |e| e.cancel_requests))
    }

    /// Undoes one cancellation request (asyncio's `Task.uncancel()`); when none is left, a
    /// cancellation not yet carried out is withdrawn. Returns the requests left.
    pub(crate) fn uncancel(&self) -> u32 {
        let left = self.peek_extra(|e| match e {
            Some(e) => {
                e.cancel_requests = e.cancel_requests.saturating_sub(1);
                e.cancel_requests
            }
            None => 0,
        });
        if left == 0 && !self.is_done() {
            self.state.set(self.state.get() & !flag::CANCEL_REQUESTED);
        }
        left
    }

    /// The message the task's cancellation carries, if any.
    fn cancel_message(&self) -> Option<Box<str>> {
        self.peek_extra(|e| e.and_then(|e| e.cancel_message.clone()))
    }

    /// Runs `f` on the Extra if there is one, without allocating it. Same rule as `with_extra`.
    fn peek_extra<R>(&self, f: impl FnOnce(Option<&mut Extra>) -> R) -> R {
        let mut extra = self.extra.take();
        let r = f(extra.as_deref_mut());
        self.extra.set(extra);
        r
    }

    /// Runs `f` on the Extra (allocating it on first use). `f` must not run user code: the
    /// Extra is out of the header meanwhile.
    fn with_extra<R>(&self, f: impl FnOnce(&mut Extra) -> R) -> R {
        let mut extra = self.extra.take().unwrap_or_default();
        let r = f(&mut extra);
        self.extra.set(Some(extra));
        r
    }

    /// The task's name: the one set, or `Task-N`.
    pub(crate) fn name(&self) -> String {
        let name = self.peek_extra(|e| e.and_then(|e| e.name.clone()));
        name.map_or_else(|| format!("Task-{}", self.serial), String::from)
    }

    pub(crate) fn set_name(&self, name: &str) {
        self.with_extra(|e| e.name = Some(name.into()));
    }

    /// Registers a callback for when the task is done; if it already is, the callback is
    /// scheduled at once. Returns an id for `remove_done_callback`.
    pub(crate) fn add_done_callback(&self, cb: DoneCallback) -> u64 {
        if self.is_done() {
            crate::runtime::core::schedule_callback(self.id.loop_id(), cb);
            return u64::MAX;
        }
        self.with_extra(|e| {
            let id = e.next_callback;
            e.next_callback += 1;
            e.callbacks.push((id, cb));
            id
        })
    }

    /// Removes a registered callback; true if it was still registered.
    pub(crate) fn remove_done_callback(&self, id: u64) -> bool {
        let removed = self.with_extra(|e| {
            let at = e.callbacks.iter().position(|(i, _)| *i == id);
            at.map(|k| e.callbacks.remove(k))
        });
        // Dropped here, with the Extra back in place: the closure's captures are user code.
        removed.is_some()
    }

    /// Marks the task done and tells whoever waits: the awaiting waker or set, the done
    /// callbacks.
    fn complete(&self, flags: u8, waiter: Waiter) {
        self.set(flag::DONE | flags);
        match waiter {
            Waiter::Nobody => {}
            Waiter::Waker(w) => crate::runtime::core::wake_contained(w),
            Waiter::InSet(set, place) => set.finished(place),
        }
        if let Some(mut extra) = self.extra.take() {
            let callbacks = std::mem::take(&mut extra.callbacks);
            self.extra.set(Some(extra));
            for (_, cb) in callbacks {
                crate::runtime::core::schedule_callback(self.id.loop_id(), cb);
            }
        }
    }
}

/// Who waits for a running task to finish.
pub(crate) enum Waiter {
    /// Nobody has awaited the handle yet.
    Nobody,
    /// The waker of the one party awaiting the handle (a `Task` is awaited by its single
    /// owner).
    Waker(Waker),
    /// A gather or a wait, which awaits many tasks at once: this task's place in its set.
    InSet(Rc<FinishedSet>, usize),
}

/// The loop's view of a task: something it can poll and cancel.
///
/// # Safety
///
/// An implementor is `#[repr(C)]` with its [`Header`] as its first field, so that a pointer to
/// it is a pointer to its header: [`header_of`] relies on it to reach a task's flags without
/// a virtual call. [`TaskCell`] is the only implementor.
pub(crate) unsafe trait Runnable {
    /// Polls the future once (or drops it, if cancellation was requested). Returns true when
    /// the task has finished. A panic in the future is caught and stored as the result.
    fn poll(&self, cx: &mut Context<'_>) -> bool;
    /// Drops the future now if it has not finished, storing a cancelled result.
    fn cancel(&self);
    /// The untyped part.
    fn header(&self) -> &Header;
    /// Who awaits this task's handle: the stored waiter, decoded without cloning it (see
    /// `runtime/graph.rs`). `None` while the task runs (its stage is borrowed) or once it is
    /// finished.
    fn awaiter(&self) -> Option<super::super::graph::Awaiter>;
}

/// A type whose value starts with a task's [`Header`], so that a pointer to it is a pointer
/// to the header.
///
/// # Safety
///
/// Only for `TaskCell<F>` (`#[repr(C)]`, header first) and the trait objects whose only
/// implementor it is.
pub(crate) unsafe trait HeaderFirst {}

// SAFETY: `TaskCell` is `#[repr(C)]` with its `Header` as its first field.
unsafe impl<F: Future> HeaderFirst for TaskCell<F> {}
// SAFETY: by the contract of the unsafe trait `Runnable`, the data pointer of a
// `dyn Runnable` points to a `#[repr(C)]` value with its header first.
unsafe impl HeaderFirst for dyn Runnable {}
// SAFETY: as for `dyn Runnable`: `Join` is an unsafe trait with the same contract.
unsafe impl<T> HeaderFirst for dyn Join<T> {}

/// The header of `task`, reached without a virtual call (the loop does this on every wake).
#[inline(always)]
pub(crate) fn header_of<T: ?Sized + HeaderFirst>(task: &T) -> &Header {
    // SAFETY: by `HeaderFirst`, the address of `task` (the data part of a `&dyn`) is the
    // address of a live `Header`, borrowed for as long as `task` is.
    unsafe { &*std::ptr::from_ref(task).cast::<Header>() }
}

/// The handle's view of a task: something that yields a `T` once.
///
/// # Safety
///
/// As for [`Runnable`]: an implementor is `#[repr(C)]` with its [`Header`] first (a
/// `TaskRc<dyn Join<T>>` reaches the header through the data pointer). [`TaskCell`] is the
/// only implementor.
pub(crate) unsafe trait Join<T> {
    /// Takes the result if the task has finished; otherwise registers `cx`'s waker.
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>>;
    /// A copy of the result, if finished (`Task.result()`).
    fn peek(&self) -> Option<Result<T, TaskError>>
    where
        T: Clone;
    /// Makes this task a member of `set` at `place`: when it finishes it records `place`
    /// there instead of waking a waker (if it has already finished, it records it now).
    fn join_set(&self, set: &Rc<FinishedSet>, place: usize, cx: &Context<'_>);
    /// `this`, a pointer to this very task, as the loop's view of it: the vtable comes from
    /// here, the pointer (and what it may do) from `this` (see `TaskRc::to_runnable`).
    fn runnable_from(&self, this: NonNull<()>) -> NonNull<dyn Runnable>;
}

enum Stage<F: Future> {
    /// The future, and who awaits the handle. The waiter lives here, not in the header,
    /// because only a running task needs one: that keeps every task 16 bytes smaller.
    Running {
        future: F,
        waiter: Waiter,
    },
    Finished(Result<F::Output, TaskError>),
    Consumed,
}

/// One task: its header and its stage. `#[repr(C)]` with the header first: see [`Runnable`].
#[repr(C)]
pub(crate) struct TaskCell<F: Future> {
    header: Header,
    /// Reached only through [`TaskCell::stage`], a `RefCell` whose borrow flag is the header's
    /// `BORROWED` bit (a word less per task), so that a task touching its own handle while it
    /// runs sees a clear panic instead of undefined behaviour.
    stage: UnsafeCell<Stage<F>>,
}

/// The borrowed stage of a task: `RefMut`, with the flag in the task's header.
struct StageMut<'a, F: Future> {
    stage: &'a UnsafeCell<Stage<F>>,
    state: &'a Cell<u8>,
}

impl<F: Future> Deref for StageMut<'_, F> {
    type Target = Stage<F>;

    #[inline(always)]
    fn deref(&self) -> &Stage<F> {
        // SAFETY: a `StageMut` exists only while its task's BORROWED bit is set: `stage()`
        // makes one only after finding the bit clear and setting it, and only its drop clears
        // it (every other write of the state keeps the bits it does not own). So this guard
        // is the only way to the stage while it lives, and the reference it gives cannot
        // outlive it.
        unsafe { &*self.stage.get() }
    }
}

impl<F: Future> DerefMut for StageMut<'_, F> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut Stage<F> {
        // SAFETY: as in `deref`: this guard is the only access to the stage while it lives,
        // and `&mut self` makes this the only reference taken through it.
        unsafe { &mut *self.stage.get() }
    }
}

impl<F: Future> Drop for StageMut<'_, F> {
    #[inline(always)]
    fn drop(&mut self) {
        self.state.set(self.state.get() & !flag::BORROWED);
    }
}

impl<F: Future> TaskCell<F> {
    #[inline]
    pub(crate) fn new(id: TaskId, serial: u32, future: F) -> TaskCell<F> {
        TaskCell {
            header: Header::new(id, serial),
            stage: UnsafeCell::new(Stage::Running {
                future,
                waiter: Waiter::Nobody,
            }),
        }
    }

    /// The stage, unless it is borrowed already (the task is touching its own handle from
    /// inside its poll, or a clone of its output is).
    #[inline(always)]
    fn stage(&self) -> Option<StageMut<'_, F>> {
        let state = self.header.state.get();
        if state & flag::BORROWED != 0 {
            return None;
        }
        self.header.state.set(state | flag::BORROWED);
        Some(StageMut {
            stage: &self.stage,
            state: &self.header.state,
        })
    }

    /// The stage, where the loop knows nothing else holds it.
    #[inline(always)]
    fn stage_now(&self) -> StageMut<'_, F> {
        self.stage()
            .expect("a task's stage was borrowed while the loop needed it")
    }

    /// The error of a cancelled task, with the message it was cancelled with.
    fn cancelled_error(&self) -> TaskError {
        TaskError::cancelled_with(self.header.cancel_message().as_deref())
    }

    /// Makes `cx`'s waker the one woken when this (running) task finishes, for its handle's
    /// `poll_join`. The stage's borrow ends before any user code can run: a foreign waker's
    /// clone, the drop of the waker it replaces, and the other-loop check.
    #[inline(always)]
    fn wait_for_finish(&self, mut stage: StageMut<'_, F>, cx: &Context<'_>) {
        let Stage::Running { waiter, .. } = &mut *stage else {
            return;
        };
        if matches!(waiter, Waiter::Waker(w) if w.will_wake(cx.waker())) {
            return;
        }
        let first = matches!(waiter, Waiter::Nobody);
        let replaced = if is_task_waker(cx.waker()) {
            // One of this crate's: its clone copies a word.
            std::mem::replace(waiter, Waiter::Waker(cx.waker().clone()))
        } else {
            drop(stage);
            let new = Waiter::Waker(cx.waker().clone()); // user code: unborrowed
            match self.stage() {
                Some(mut stage) => match &mut *stage {
                    Stage::Running { waiter, .. } => std::mem::replace(waiter, new),
                    _ => new, // it finished meanwhile: nothing to wait for
                },
                None => new, // the clone is polling this task: leave it be
            }
        };
        drop(replaced); // a waker's drop is user code: not under the borrow
        if first {
            self.check_same_loop(cx);
        }
    }

    /// Panics if the task belongs to another loop than the one polling it (the waker says
    /// which): that task can only make progress while its own loop runs, which cannot happen
    /// while this one does, so waiting would hang forever.
    fn check_same_loop(&self, cx: &Context<'_>) {
        let polling = loop_of(cx.waker()).or_else(|| {
            crate::runtime::core::with_running(|core| {
                core.current_task().map(|t| t.header().id().loop_id())
            })
            .flatten()
        });
        if polling.is_some_and(|l| l != self.header.id.loop_id()) {
            panic!(
                "awaited a pending task of another event loop: it can only run when its own \
                 loop runs, which cannot happen while this one does, so the await would hang \
                 forever (asyncio: RuntimeError: Task got Future attached to a different loop); \
                 create the task on the loop that awaits it"
            );
        }
    }

    fn finish(&self, result: Result<F::Output, TaskError>) {
        let mut stage = self.stage_now();
        let waiter = match &mut *stage {
            Stage::Running { waiter, .. } => std::mem::replace(waiter, Waiter::Nobody),
            _ => Waiter::Nobody,
        };
        // Drop the future in place (not moving it keeps the pinning promise). Its destructor is
        // user code: if it panics, that panic becomes the task's outcome, as an exception in a
        // coroutine's cleanup would in asyncio, instead of unwinding through the loop. When the
        // task is being cancelled, the drop is its cancellation: what it awaited is cancelled.
        let cancelling = matches!(&result, Err(e) if e.is_cancelled());
        let drop_future = || *stage = Stage::Consumed;
        let dropped = if cancelling {
            catch_unwind(AssertUnwindSafe(|| cancel_scope(drop_future)))
        } else {
            catch_unwind(AssertUnwindSafe(drop_future))
        };
        let result = match dropped {
            Ok(()) => result,
            Err(payload) => Err(TaskError::panic(payload)),
        };
        let flags = match &result {
            Ok(_) => 0,
            Err(e) if e.is_cancelled() => flag::CANCELLED,
            Err(_) => flag::FAILED,
        };
        *stage = Stage::Finished(result);
        drop(stage);
        self.header.complete(flags, waiter);
    }
}

// SAFETY: `TaskCell` is `#[repr(C)]` and `header` is its first field.
unsafe impl<F: Future> Runnable for TaskCell<F> {
    fn poll(&self, cx: &mut Context<'_>) -> bool {
        if self.header.has(flag::CANCEL_REQUESTED) {
            self.cancel();
            return true;
        }
        let mut stage = self.stage_now();
        let Stage::Running { future, .. } = &mut *stage else {
            return true;
        };
        // SAFETY: the future lives inside this cell, which lives inside a `TaskRc` allocation
        // that never moves. The future is never moved out of `Stage::Running`: it leaves only
        // by being dropped in place when the stage is overwritten (`finish`). So it stays
        // pinned from its first poll until its drop.
        let future = unsafe { Pin::new_unchecked(future) };
        let result = match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => return false,
            Ok(Poll::Ready(out)) => Ok(out),
            Err(payload) => Err(TaskError::panic(payload)),
        };
        drop(stage);
        let result = match result {
            // cancel() was called during this last step (the task cancelled itself, say): as
            // in asyncio (`test_cancel_at_end`), the task still ends cancelled. Its output is
            // user code to drop; a panic there becomes the outcome instead.
            Ok(out) if self.header.has(flag::CANCEL_REQUESTED) => {
                match catch_unwind(AssertUnwindSafe(|| drop(out))) {
                    Ok(()) => Err(self.cancelled_error()),
                    Err(payload) => Err(TaskError::panic(payload)),
                }
            }
            result => result,
        };
        self.finish(result);
        true
    }

    fn cancel(&self) {
        let running = matches!(*self.stage_now(), Stage::Running { .. });
        if running {
            self.finish(Err(self.cancelled_error()));
        }
    }

    fn header(&self) -> &Header {
        &self.header
    }

    fn awaiter(&self) -> Option<super::super::graph::Awaiter> {
        use super::super::graph::{Awaiter, classify};
        match &*self.stage()? {
            Stage::Running { waiter, .. } => {
                let of = |w: Option<&Waker>| {
                    w.map_or(Awaiter::Nobody, |w| classify(w, self.header.id.loop_id()))
                };
                Some(match waiter {
                    Waiter::Nobody => Awaiter::Nobody,
                    Waiter::Waker(w) => of(Some(w)),
                    Waiter::InSet(set, _) => set.with_awaiter(of),
                })
            }
            _ => None,
        }
    }
}

// SAFETY: `TaskCell` is `#[repr(C)]` and `header` is its first field.
unsafe impl<F: Future + 'static> Join<F::Output> for TaskCell<F> {
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<F::Output, TaskError>> {
        let Some(mut stage) = self.stage() else {
            panic!("a task cannot await itself (it would wait forever)");
        };
        match &mut *stage {
            Stage::Running { .. } => {
                self.wait_for_finish(stage, cx);
                Poll::Pending
            }
            Stage::Finished(_) => {
                self.header.set(flag::RETRIEVED);
                match std::mem::replace(&mut *stage, Stage::Consumed) {
                    Stage::Finished(result) => Poll::Ready(result),
                    _ => unreachable!(),
                }
            }
            Stage::Consumed => panic!("a Task's result was already taken (awaited twice)"),
        }
    }

    fn peek(&self) -> Option<Result<F::Output, TaskError>>
    where
        F::Output: Clone,
    {
        let stage = self.stage()?;
        match &*stage {
            Stage::Finished(Ok(_)) => {}
            Stage::Finished(Err(e)) => {
                self.header.set(flag::RETRIEVED);
                return Some(Err(e.duplicate()));
            }
            _ => return None,
        }
        // `T::clone` is user code: it runs with the stage borrowed through a shared reference,
        // and a re-entrant look at this task from inside it fails cleanly (the "task awaits
        // itself" panic, or `None` here).
        let Stage::Finished(Ok(v)) = &*stage else {
            unreachable!()
        };
        Some(Ok(v.clone()))
    }

    fn join_set(&self, set: &Rc<FinishedSet>, place: usize, cx: &Context<'_>) {
        let Some(mut stage) = self.stage() else {
            panic!("a task cannot await itself (it would wait forever)");
        };
        let Stage::Running { waiter, .. } = &mut *stage else {
            drop(stage);
            return set.finished(place);
        };
        let replaced = std::mem::replace(waiter, Waiter::InSet(set.clone(), place));
        drop(stage);
        drop(replaced); // a waker's drop is user code: not under the borrow
        self.check_same_loop(cx);
    }

    fn runnable_from(&self, this: NonNull<()>) -> NonNull<dyn Runnable> {
        let this: NonNull<TaskCell<F>> = this.cast();
        this
    }
}

impl<F: Future> Drop for TaskCell<F> {
    fn drop(&mut self) {
        if self.header.has(flag::RETRIEVED) {
            return;
        }
        if let Stage::Finished(Err(e)) = self.stage.get_mut() {
            if let Some(msg) = e.panic_message().or(e.error_message()) {
                crate::runtime::core::report_unretrieved(
                    self.header.id().loop_id(),
                    &self.header.name(),
                    msg,
                );
            }
        }
    }
}
