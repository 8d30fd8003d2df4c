//! Task storage: one allocation per task holds the future, then its result.
//!
//! ```text
//!            spawn                 poll -> Ready / panic            poll_join
//!   (new) ----------> Running(F) -----------------------> Finished(result) ---------> Consumed
//!                        |                                   ^
//!                        +------------ cancel ---------------+   (result = Err(Cancelled))
//! ```
//!
//! The loop holds the task as `Rc<dyn Runnable>` (in its slab); the user's [`Task`] handle
//! holds the same allocation as `Rc<dyn Join<T>>`. So spawning costs exactly one allocation,
//! and dropping the handle does not cancel the task (asyncio's semantics): the loop's
//! reference keeps it alive until it finishes.
//!
//! [`Task`]: crate::Task

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::id::TaskId;
use crate::exceptions::TaskError;

/// The loop's view of a task: something it can poll and cancel.
pub(crate) trait Runnable {
    /// Polls the future once. Returns true when the task has finished (result stored).
    /// A panic in the future is caught and stored as the task's result.
    fn poll(&self, cx: &mut Context<'_>) -> bool;
    /// Drops the future if it has not finished, storing a cancelled result.
    fn cancel(&self);
}

/// The handle's view of a task: something that yields a `T` once.
pub(crate) trait Join<T> {
    /// Takes the result if the task has finished; otherwise registers `cx`'s waker.
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>>;
    /// Ready when the task has finished, without taking the result.
    fn poll_done(&self, cx: &mut Context<'_>) -> Poll<()>;
    /// True once the task has finished (result stored or taken).
    fn is_done(&self) -> bool;
    /// True if the task finished by cancellation.
    fn is_cancelled(&self) -> bool;
    /// True if the task finished by panicking.
    fn is_failed(&self) -> bool;
    /// The task's id.
    fn id(&self) -> TaskId;
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, TaskError>),
    Consumed { cancelled: bool },
}

/// One task: its id, the waker of whoever awaits it, and its stage.
pub(crate) struct TaskCell<F: Future> {
    id: TaskId,
    /// The waker of the one party awaiting the handle (a `Task` is awaited by its single owner).
    waiter: Cell<Option<Waker>>,
    /// `RefCell` so that a task touching its own handle while it runs (for example asking
    /// `done()` from inside) sees "running" instead of undefined behaviour.
    stage: RefCell<Stage<F>>,
}

impl<F: Future> TaskCell<F> {
    pub(crate) fn new(id: TaskId, future: F) -> TaskCell<F> {
        TaskCell {
            id,
            waiter: Cell::new(None),
            stage: RefCell::new(Stage::Running(future)),
        }
    }

    fn finish(&self, result: Result<F::Output, TaskError>) {
        // Dropping the future in place (not moving it) keeps the pinning promise.
        *self.stage.borrow_mut() = Stage::Finished(result);
        if let Some(w) = self.waiter.take() {
            w.wake();
        }
    }
}

impl<F: Future> Runnable for TaskCell<F> {
    fn poll(&self, cx: &mut Context<'_>) -> bool {
        let mut stage = self.stage.borrow_mut();
        let Stage::Running(future) = &mut *stage else {
            return true;
        };
        // SAFETY: the future lives inside this cell, which lives inside an `Rc` allocation
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
        self.finish(result);
        true
    }

    fn cancel(&self) {
        let running = matches!(*self.stage.borrow(), Stage::Running(_));
        if running {
            self.finish(Err(TaskError::cancelled()));
        }
    }
}

impl<F: Future> Join<F::Output> for TaskCell<F> {
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<F::Output, TaskError>> {
        let Ok(mut stage) = self.stage.try_borrow_mut() else {
            panic!("a task cannot await itself (it would wait forever)");
        };
        match &*stage {
            Stage::Running(_) => {
                drop(stage);
                set_waker(&self.waiter, cx.waker());
                Poll::Pending
            }
            Stage::Finished(result) => {
                let cancelled = matches!(result, Err(e) if e.is_cancelled());
                match std::mem::replace(&mut *stage, Stage::Consumed { cancelled }) {
                    Stage::Finished(result) => Poll::Ready(result),
                    _ => unreachable!(),
                }
            }
            Stage::Consumed { .. } => panic!("a Task's result was already taken (awaited twice)"),
        }
    }

    fn poll_done(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_done() {
            Poll::Ready(())
        } else {
            set_waker(&self.waiter, cx.waker());
            Poll::Pending
        }
    }

    fn is_done(&self) -> bool {
        // Borrowed means the task is being polled right now: running, not done.
        self.stage
            .try_borrow()
            .is_ok_and(|s| !matches!(*s, Stage::Running(_)))
    }

    fn is_cancelled(&self) -> bool {
        self.stage.try_borrow().is_ok_and(|s| match &*s {
            Stage::Finished(Err(e)) => e.is_cancelled(),
            Stage::Consumed { cancelled } => *cancelled,
            _ => false,
        })
    }

    fn is_failed(&self) -> bool {
        self.stage
            .try_borrow()
            .is_ok_and(|s| matches!(&*s, Stage::Finished(Err(e)) if e.is_panic()))
    }

    fn id(&self) -> TaskId {
        self.id
    }
}

impl<F: Future> Drop for TaskCell<F> {
    fn drop(&mut self) {
        if let Stage::Finished(Err(e)) = self.stage.get_mut() {
            if let Some(msg) = e.panic_message() {
                crate::runtime::core::report_unretrieved(msg);
            }
        }
    }
}

/// Stores `waker` in `slot` unless the one there already wakes the same task.
fn set_waker(slot: &Cell<Option<Waker>>, waker: &Waker) {
    let old = slot.take();
    match old {
        Some(w) if w.will_wake(waker) => slot.set(Some(w)),
        _ => slot.set(Some(waker.clone())),
    }
}
