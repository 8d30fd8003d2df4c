//! The loop's tasks, by slab index: what a waker's id finds, and what keeps a task alive.
//!
//! Every wake and every poll looks a task up here, so the lookup is a few instructions with
//! no borrow flag. The slab sits in an `UnsafeCell`, as the run queue's ring does, and is
//! touched only inside the methods below. None of them calls code this crate does not control
//! while it holds the reference: slots move in and out whole (a removed task is handed back
//! to the caller, who drops it outside), and the only calls made are to the slab, to a task's
//! header (plain flag reads and writes), to `Rc::clone` and to the allocator (no method takes
//! a closure). So no two references to the slab ever overlap, which is what a `RefCell` would
//! check at run time. (Its count cost about a tenth of a yield: a load, an overflow check and
//! two stores on each of the wake and the poll.)

use std::cell::UnsafeCell;

use slab::Slab;

use super::task::cell::{Header, Runnable, header_of};
use super::task::id::TaskId;
use super::task::rc::TaskRc;

/// A live task in the slab: just the task. Its generation (part of its id) and its "queued"
/// flag live in the task's header, which keeps a slot at two words (the memory benchmark's
/// million pending tasks each pay for one).
pub(crate) struct Slot {
    pub(crate) task: TaskRc<dyn Runnable>,
}

impl Slot {
    /// The task's header (no virtual call).
    #[inline]
    fn header(&self) -> &Header {
        header_of(&*self.task)
    }

    /// True if this slot holds task `id` (not an earlier or later tenant of the index).
    #[inline]
    fn is(&self, id: TaskId) -> bool {
        self.header().id() == id
    }
}

/// The tasks of one loop (see the module docs). Not `Sync`: one thread at a time.
pub(crate) struct TaskSlab {
    slots: UnsafeCell<Slab<Slot>>,
}

impl TaskSlab {
    pub(crate) fn new() -> TaskSlab {
        TaskSlab {
            slots: UnsafeCell::new(Slab::new()),
        }
    }

    /// Shared access for one method's body.
    #[inline(always)]
    fn slots(&self) -> &Slab<Slot> {
        // SAFETY: the only mutable access is `slots_mut`, whose callers (the methods of this
        // type) end their use of it before returning and call nothing that could reach this
        // slab meanwhile (module docs); the type is not `Sync`. So no `&mut` is alive now.
        unsafe { &*self.slots.get() }
    }

    /// Exclusive access for one method's body.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    fn slots_mut(&self) -> &mut Slab<Slot> {
        // SAFETY: as in `slots`: every method takes at most one of these references, drops
        // it before returning, and calls no code that could reach the slab while it holds
        // it, so this reference is the only one alive.
        unsafe { &mut *self.slots.get() }
    }

    /// The index the next `insert` will use.
    #[inline]
    pub(crate) fn next_index(&self) -> usize {
        self.slots().vacant_key()
    }

    /// Stores `task` at the index `next_index` gave (nothing may insert in between).
    #[inline]
    pub(crate) fn insert(&self, task: TaskRc<dyn Runnable>) {
        let index = self.slots_mut().insert(Slot { task });
        debug_assert_eq!(index, header_of(&*self.slots()[index].task).id().index());
    }

    /// Marks task `id` queued; true if it exists and was not queued already (so the caller
    /// pushes it on the run queue). A stale id finds nothing and returns false.
    #[inline(always)]
    pub(crate) fn schedule(&self, id: TaskId) -> bool {
        match self.slots().get(id.index()) {
            Some(slot) => slot.is(id) && slot.header().schedule(),
            None => false,
        }
    }

    /// Clears task `id`'s queued mark for its poll and gives the task, if it exists and was
    /// queued (a stale run-queue entry gives `None`). The pointer stays valid for as long as
    /// the task stays in the slab.
    #[inline(always)]
    pub(crate) fn unschedule(&self, id: TaskId) -> Option<*const dyn Runnable> {
        let task: &dyn Runnable = &*self.slots().get(id.index())?.task;
        let header = header_of(task);
        (header.id() == id && header.unschedule()).then_some(std::ptr::from_ref(task))
    }

    /// Task `id`, if it is still in the slab.
    pub(crate) fn get(&self, id: TaskId) -> Option<TaskRc<dyn Runnable>> {
        let slot = self.slots().get(id.index())?;
        slot.is(id).then(|| slot.task.clone())
    }

    /// Takes task `id` out, if it is still in the slab; the caller drops it.
    #[inline]
    #[must_use = "dropping a task runs user code: drop it where that is contained"]
    pub(crate) fn remove(&self, id: TaskId) -> Option<Slot> {
        let slots = self.slots_mut();
        match slots.get(id.index()) {
            Some(slot) if slot.is(id) => Some(slots.remove(id.index())),
            _ => None,
        }
    }

    /// Every task not yet finished that is not the loop's own machinery (`all_tasks()`).
    pub(crate) fn live_user_tasks(&self) -> Vec<TaskRc<dyn Runnable>> {
        self.slots()
            .iter()
            .filter(|(_, slot)| !slot.header().is_done() && !slot.header().is_internal())
            .map(|(_, slot)| slot.task.clone())
            .collect()
    }

    /// Takes every task out; the caller drops them.
    #[must_use = "dropping a task runs user code: drop it where that is contained"]
    pub(crate) fn take_all(&self) -> Vec<TaskRc<dyn Runnable>> {
        self.slots_mut().drain().map(|slot| slot.task).collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.slots().len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.slots().is_empty()
    }
}
