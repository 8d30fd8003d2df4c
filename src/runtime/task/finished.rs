//! Many tasks awaited together (a `gather`, a `wait`): who finished since the last look.
//!
//! Awaiting one task stores the awaiter's waker in the task; when the task finishes, the waker
//! says "look again". For a set of `n` tasks that is not enough: the awaiter would have to ask
//! every unfinished task on every wake, `n` questions for each of `n` finishes, and a gather of
//! 40,000 sleeps took 8 seconds instead of a few milliseconds. So each member of a set is
//! told its place in it instead of a waker ([`Waiter::InSet`](super::cell::Waiter)), and
//! when it finishes it appends that place here: the awaiter reads only the places that
//! finished, and is woken once for all the members that finish before it runs again.
//!
//! Like a task, a set belongs to one thread (`Rc`); its members are tasks of that thread.

use std::cell::RefCell;
use std::rc::Rc;
use std::task::{Context, Waker};

use crate::runtime::core::wake_contained;

/// The members of a set that finished, in the order they did, and who to tell.
#[derive(Default)]
pub(crate) struct FinishedSet {
    /// Places of the members that finished since the awaiter last looked.
    finished: RefCell<Vec<usize>>,
    /// The awaiter's waker, taken by the first finish after it looked.
    waker: RefCell<Option<Waker>>,
}

impl FinishedSet {
    pub(crate) fn new() -> Rc<FinishedSet> {
        Rc::default()
    }

    /// The member at `place` finished (or was found finished when it joined). Wakes the
    /// awaiter if this is the first finish since it last looked; the later ones find it
    /// already woken.
    pub(crate) fn finished(&self, place: usize) {
        let first = {
            let mut finished = self.finished.borrow_mut();
            finished.push(place);
            finished.len() == 1
        };
        if first {
            let waker = self.waker.borrow_mut().take();
            if let Some(waker) = waker {
                wake_contained(waker); // user code (a foreign waker): no borrow is held
            }
        }
    }

    /// For the awaiter's poll: appends to `out` the places that finished since the last call,
    /// in the order they finished, and makes `cx`'s waker the one the next finish wakes.
    pub(crate) fn poll_finished(&self, cx: &Context<'_>, out: &mut Vec<usize>) {
        out.append(&mut self.finished.borrow_mut());
        let same = self
            .waker
            .borrow()
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()));
        if !same {
            // A foreign waker's clone and drop are user code: neither runs under a borrow.
            let waker = cx.waker().clone();
            let old = self.waker.replace(Some(waker));
            drop(old);
        }
    }

    /// The awaiter is done with the set (it returned, or it is being dropped): members that
    /// finish later wake nobody.
    pub(crate) fn close(&self) {
        let old = self.waker.borrow_mut().take();
        drop(old);
    }

    /// The waker of the awaiter, for the call graph: read, not cloned. `f` runs under a borrow
    /// of the set: it must not run user code (the call graph only decodes the waker).
    pub(crate) fn with_awaiter<R>(&self, f: impl FnOnce(Option<&Waker>) -> R) -> R {
        f(self.waker.borrow().as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::testing::WakeCount;

    #[test]
    fn finishes_between_two_looks_wake_the_awaiter_once_and_come_in_order() {
        let (count, waker) = WakeCount::new();
        let cx = Context::from_waker(&waker);
        let set = FinishedSet::new();
        set.finished(4); // before the first look: nobody to wake yet
        let mut out = Vec::new();
        set.poll_finished(&cx, &mut out);
        assert_eq!(out, [4]);
        assert_eq!(count.get(), 0);
        set.finished(2);
        set.finished(0);
        assert_eq!(count.get(), 1);
        out.clear();
        set.poll_finished(&cx, &mut out);
        assert_eq!(out, [2, 0]);
        set.close();
        set.finished(1);
        assert_eq!(count.get(), 1, "closed: nobody is woken");
    }
}
