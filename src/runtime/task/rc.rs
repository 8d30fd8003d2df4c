//! [`TaskRc`]: the one allocation of a task, shared by the loop and the handles, with its
//! reference count in the task's header.
//!
//! An `Rc<TaskCell<F>>` put two counts in front of every task, strong and weak (16 bytes),
//! and nothing ever took a weak reference to a task. A `TaskRc` keeps one count, a `u16` in
//! spare bytes of the [`Header`], so a task's allocation is 16 bytes smaller: 48 bytes for an
//! empty future instead of 64, one malloc size class down.
//!
//! The holders of a task are the loop's slab (until the task finishes), its `Task` handle, and
//! any `TaskRef`s (`current_task()`, `all_tasks()`). A count that reaches `u16::MAX` stays
//! there: the task is never freed (a leak, not a use after free). That takes 65,535 live
//! references to one task at once.
//!
//! Ground rules: a `TaskRc` is made only from a `Box<TaskCell<F>>` ([`TaskRc::new`]) and
//! converted only between the three [`HeaderFirst`] types, each of which starts with the
//! task's `Header`. The last `TaskRc` to go rebuilds the `Box` and drops it, so the task is
//! freed with the layout it was allocated with (the vtable of a `dyn` pointer carries it).

use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr::NonNull;

use super::cell::{Header, HeaderFirst, Join, Runnable, TaskCell, header_of};

/// A counted reference to a task (see the module docs). Not `Send`: the count is a `Cell`.
pub(crate) struct TaskRc<T: ?Sized + HeaderFirst> {
    ptr: NonNull<T>,
    /// Owns a `T` (for the drop check).
    _owns: PhantomData<T>,
}

// Moving a `TaskRc` moves the pointer, never the task (as for `Rc`).
impl<T: ?Sized + HeaderFirst> Unpin for TaskRc<T> {}

impl<F: Future + 'static> TaskRc<TaskCell<F>> {
    /// Moves `cell` into its own allocation, with one reference: this one.
    #[inline]
    pub(crate) fn new(cell: TaskCell<F>) -> Self {
        debug_assert_eq!(header_of(&cell).refs.get(), 1);
        TaskRc {
            ptr: NonNull::from(Box::leak(Box::new(cell))),
            _owns: PhantomData,
        }
    }

    /// The same reference, as the loop sees the task.
    #[inline]
    pub(crate) fn into_runnable(self) -> TaskRc<dyn Runnable> {
        let ptr: NonNull<dyn Runnable> = self.ptr;
        std::mem::forget(self); // the count moves to the new handle
        TaskRc {
            ptr,
            _owns: PhantomData,
        }
    }

    /// The same reference, as the task's `Task` handle sees it.
    #[inline]
    pub(crate) fn into_join(self) -> TaskRc<dyn Join<F::Output>> {
        let ptr: NonNull<dyn Join<F::Output>> = self.ptr;
        std::mem::forget(self);
        TaskRc {
            ptr,
            _owns: PhantomData,
        }
    }
}

impl<T> TaskRc<dyn Join<T>> {
    /// A new reference to the same task, as the loop sees it (`TaskRef::from_task`).
    pub(crate) fn to_runnable(&self) -> TaskRc<dyn Runnable> {
        self.header().acquire();
        TaskRc {
            // Made from this pointer itself, not from a reference to the task: the new pointer
            // may free the task one day, which a pointer derived from `&` may not.
            ptr: (**self).runnable_from(self.ptr.cast()),
            _owns: PhantomData,
        }
    }
}

impl<T: ?Sized + HeaderFirst> TaskRc<T> {
    /// The task's header.
    #[inline(always)]
    pub(crate) fn header(&self) -> &Header {
        header_of(&**self)
    }
}

impl<T: ?Sized + HeaderFirst> Deref for TaskRc<T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the allocation lives while any `TaskRc` to it does (the count includes this
        // one, and only the drop of the last frees it), and nothing takes a `&mut` to it: every
        // access goes through `&`, with interior mutability where the task changes.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T: ?Sized + HeaderFirst> Clone for TaskRc<T> {
    #[inline]
    fn clone(&self) -> Self {
        self.header().acquire();
        TaskRc {
            ptr: self.ptr,
            _owns: PhantomData,
        }
    }
}

impl<T: ?Sized + HeaderFirst> Drop for TaskRc<T> {
    #[inline]
    fn drop(&mut self) {
        if self.header().release() {
            // SAFETY: this was the last reference (the count just reached zero, and a
            // saturated count never does), so nothing else can reach the task. The pointer
            // came from `Box::leak` in `new`, through unsizing coercions only, so rebuilding
            // the `Box` frees the allocation with its own layout, after dropping the task.
            drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
        }
    }
}
