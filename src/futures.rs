//! The settable future: asyncio's `futures.py`.

use std::cell::RefCell;
use std::fmt;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use slab::Slab;

use crate::events::{EventLoop, get_event_loop};
use crate::exceptions::{CancelledError, InvalidStateError};
use crate::runtime::core::{Core, with_running};
use crate::runtime::small_fn::SmallFn;
use crate::runtime::task::cell::in_cancel_scope;

/// A value that will be set later, by someone else: asyncio's `asyncio.Future`.
///
/// A `Future` is a shared handle (cloning it shares the same future, like a Python reference).
/// One side calls [`set_result`](Future::set_result); any number of tasks await it, each
/// getting a clone of the value (or [`CancelledError`] if it was [cancelled](Future::cancel)).
/// Done callbacks added with [`add_done_callback`](Future::add_done_callback) are scheduled on
/// the future's event loop when it completes, as asyncio schedules them.
///
/// The name is asyncio's; it is not [`std::future::Future`], which it implements.
///
/// A task awaiting a `Future` is tied to it as in asyncio: cancelling the task while it awaits
/// cancels the future (for every awaiter). A future that can fail holds a `Result`: see
/// [`set_exception`](Future::set_exception).
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let fut = asyncio::Future::new();
///     let setter = fut.clone();
///     asyncio::create_task(async move {
///         asyncio::sleep(0.01).await;
///         setter.set_result("done").unwrap();
///     });
///     assert_eq!(fut.await, Ok("done"));
/// });
/// ```
pub struct Future<T> {
    inner: Rc<Inner<T>>,
    /// This handle's entry in `waiters` while it is being awaited: each handle (each clone) is
    /// one awaiter, registered once and updated in place, so a future awaited by thousands of
    /// tasks costs O(1) per poll.
    waiter: Option<usize>,
}

struct Inner<T> {
    state: RefCell<State<T>>,
    event_loop: Weak<Core>,
    /// Itself, for a cancellation that reaches it through a task (see `cancel_inner`).
    this: Weak<Inner<T>>,
    /// `cancel_inner::<T>`, stored where `T: 'static` is known, for `Drop` (which cannot ask).
    cancel: fn(&Inner<T>),
}

type DoneCallback<T> = Box<dyn FnOnce(&Future<T>)>;

struct State<T> {
    outcome: Outcome<T>,
    waiters: Slab<Waker>,
    callbacks: Vec<(u64, DoneCallback<T>)>,
    next_callback: u64,
}

enum Outcome<T> {
    Pending,
    /// Shared, so that a copy for an awaiter is made (`T::clone`, user code) after the state's
    /// borrow has ended.
    Done(Rc<T>),
    Cancelled,
}

impl<T> Outcome<T> {
    /// A cheap copy of the outcome, to look at once the borrow has ended.
    fn share(&self) -> Outcome<T> {
        match self {
            Outcome::Pending => Outcome::Pending,
            Outcome::Done(v) => Outcome::Done(v.clone()),
            Outcome::Cancelled => Outcome::Cancelled,
        }
    }
}

impl<T: 'static> Future<T> {
    /// A new, pending future bound to the running event loop (or, outside one, to
    /// [`get_event_loop`]'s loop, as asyncio does).
    ///
    /// # Examples
    ///
    /// ```
    /// let fut = asyncio::Future::<u8>::new();
    /// assert!(!fut.done());
    /// ```
    pub fn new() -> Future<T> {
        let event_loop = with_running(Core::weak).unwrap_or_else(|| get_event_loop().weak());
        Future::bound_to(event_loop)
    }

    pub(crate) fn bound_to(event_loop: Weak<Core>) -> Future<T> {
        Future {
            waiter: None,
            inner: Rc::new_cyclic(|this| Inner {
                state: RefCell::new(State {
                    outcome: Outcome::Pending,
                    waiters: Slab::new(),
                    callbacks: Vec::new(),
                    next_callback: 0,
                }),
                event_loop,
                this: this.clone(),
                cancel: cancel_inner::<T>,
            }),
        }
    }

    /// Sets the result and wakes every awaiter: asyncio's `Future.set_result`.
    ///
    /// # Errors
    ///
    /// [`InvalidStateError::AlreadyDone`] if the future already has a result or was cancelled;
    /// the value is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let fut = asyncio::Future::new();
    /// assert!(fut.set_result(1).is_ok());
    /// assert_eq!(fut.set_result(2), Err(asyncio::InvalidStateError::AlreadyDone));
    /// ```
    pub fn set_result(&self, value: T) -> Result<(), InvalidStateError> {
        self.complete(Outcome::Done(Rc::new(value)))
    }

    /// Cancels the future: awaiters get [`CancelledError`]. Returns false if it was already
    /// done or cancelled (asyncio's `Future.cancel`).
    ///
    /// # Examples
    ///
    /// ```
    /// let fut = asyncio::Future::<()>::new();
    /// assert!(fut.cancel());
    /// assert!(fut.cancelled());
    /// assert!(!fut.cancel());
    /// ```
    pub fn cancel(&self) -> bool {
        self.complete(Outcome::Cancelled).is_ok()
    }

    fn complete(&self, outcome: Outcome<T>) -> Result<(), InvalidStateError> {
        let taken = {
            let mut state = self.inner.state.borrow_mut();
            if matches!(state.outcome, Outcome::Pending) {
                state.outcome = outcome;
                Ok((
                    std::mem::take(&mut state.waiters),
                    std::mem::take(&mut state.callbacks),
                ))
            } else {
                Err(outcome)
            }
        };
        let (waiters, callbacks) = match taken {
            Ok(taken) => taken,
            Err(refused) => {
                drop(refused); // the value's destructor runs with nothing borrowed
                return Err(InvalidStateError::AlreadyDone);
            }
        };
        for (_, waker) in waiters {
            waker.wake();
        }
        for (_, cb) in callbacks {
            self.schedule(cb);
        }
        Ok(())
    }

    /// Schedules a done callback on the running loop (or, when none runs, the future's own
    /// loop), so a future made outside a loop still calls back inside the one that uses it.
    fn schedule(&self, cb: DoneCallback<T>) {
        let this = self.clone();
        let running = with_running(Core::rc);
        match running.or_else(|| self.inner.event_loop.upgrade()) {
            Some(core) if !core.is_closed() => {
                core.call_soon(SmallFn::new(move || cb(&this)));
            }
            _ => cb(&this), // no loop left to schedule on: call it now
        }
    }

    /// Adds a callback to run (on the event loop, soon after) when the future is done;
    /// asyncio's `Future.add_done_callback`. If it is already done, the callback is scheduled
    /// at once. Returns an id for [`remove_done_callback`](Future::remove_done_callback).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// asyncio::run(async {
    ///     let seen = Rc::new(Cell::new(0));
    ///     let fut = asyncio::Future::new();
    ///     let s = seen.clone();
    ///     fut.add_done_callback(move |f| s.set(f.result().unwrap()));
    ///     fut.set_result(7).unwrap();
    ///     asyncio::sleep(0).await; // callbacks run in the next loop iteration
    ///     assert_eq!(seen.get(), 7);
    /// });
    /// ```
    pub fn add_done_callback(&self, f: impl FnOnce(&Future<T>) + 'static) -> u64 {
        let mut state = self.inner.state.borrow_mut();
        let id = state.next_callback;
        state.next_callback += 1;
        if matches!(state.outcome, Outcome::Pending) {
            state.callbacks.push((id, Box::new(f)));
        } else {
            drop(state);
            self.schedule(Box::new(f));
        }
        id
    }

    /// Removes a done callback by the id `add_done_callback` gave; true if it was still
    /// registered (asyncio's `Future.remove_done_callback`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let fut = asyncio::Future::new();
    ///     let id = fut.add_done_callback(|_| unreachable!("removed"));
    ///     assert!(fut.remove_done_callback(id));
    ///     fut.set_result(()).unwrap();
    ///     asyncio::sleep(0).await;
    /// });
    /// ```
    pub fn remove_done_callback(&self, id: u64) -> bool {
        let removed = {
            let mut state = self.inner.state.borrow_mut();
            let at = state.callbacks.iter().position(|(i, _)| *i == id);
            at.map(|k| state.callbacks.remove(k))
        };
        removed.is_some() // the closure is dropped here, outside the borrow
    }

    /// The event loop the future belongs to, if it is still alive.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let fut = asyncio::Future::<()>::new();
    ///     assert!(fut.get_loop().unwrap().is_running());
    /// });
    /// ```
    pub fn get_loop(&self) -> Option<EventLoop> {
        self.inner.event_loop.upgrade().map(EventLoop::from_core)
    }
}

impl<T> Future<T> {
    /// True once a result is set or the future is cancelled (asyncio's `Future.done`).
    ///
    /// # Examples
    ///
    /// ```
    /// let fut = asyncio::Future::new();
    /// fut.set_result(()).unwrap();
    /// assert!(fut.done());
    /// ```
    pub fn done(&self) -> bool {
        !matches!(self.inner.state.borrow().outcome, Outcome::Pending)
    }

    /// True if the future was cancelled (asyncio's `Future.cancelled`).
    ///
    /// # Examples
    ///
    /// ```
    /// let fut = asyncio::Future::<()>::new();
    /// assert!(!fut.cancelled());
    /// ```
    pub fn cancelled(&self) -> bool {
        matches!(self.inner.state.borrow().outcome, Outcome::Cancelled)
    }

    /// The result, without waiting (asyncio's `Future.result`).
    ///
    /// # Errors
    ///
    /// [`InvalidStateError::NotDone`] if no result is set yet,
    /// [`InvalidStateError::Cancelled`] if the future was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let fut = asyncio::Future::new();
    /// assert_eq!(fut.result(), Err(asyncio::InvalidStateError::NotDone));
    /// fut.set_result(String::from("Future is done!")).unwrap();
    /// assert_eq!(fut.result().unwrap(), "Future is done!");
    /// ```
    pub fn result(&self) -> Result<T, InvalidStateError>
    where
        T: Clone,
    {
        let outcome = self.inner.state.borrow().outcome.share();
        match outcome {
            Outcome::Pending => Err(InvalidStateError::NotDone),
            Outcome::Done(v) => Ok(T::clone(&v)), // user code, nothing borrowed
            Outcome::Cancelled => Err(InvalidStateError::Cancelled),
        }
    }
}

impl<T: 'static, E: 'static> Future<Result<T, E>> {
    /// Marks the future as failed with `error`: asyncio's `Future.set_exception`.
    ///
    /// Errors are values here, so a future that can fail is a `Future<Result<T, E>>`:
    /// `set_exception(e)` is `set_result(Err(e))`, and every awaiter gets `Ok(Err(e))` (the outer
    /// `Result` is the cancellation). Awaiting code usually flattens it with `?`.
    ///
    /// # Errors
    ///
    /// [`InvalidStateError::AlreadyDone`] if the future is already done; `error` is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let fut: asyncio::Future<Result<u32, String>> = asyncio::Future::new();
    ///     let setter = fut.clone();
    ///     asyncio::create_task(async move {
    ///         setter.set_exception("connection reset".to_string()).unwrap();
    ///     });
    ///     // try: await fut / except ... as e:
    ///     match fut.await.unwrap() {
    ///         Ok(n) => println!("{n}"),
    ///         Err(e) => assert_eq!(e, "connection reset"),
    ///     }
    /// });
    /// ```
    pub fn set_exception(&self, error: E) -> Result<(), InvalidStateError> {
        self.set_result(Err(error))
    }

    /// The error the future failed with, or `None` if it succeeded: asyncio's
    /// `Future.exception()`.
    ///
    /// # Errors
    ///
    /// [`InvalidStateError::NotDone`] before it is done, [`InvalidStateError::Cancelled`] if it
    /// was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let fut = asyncio::Future::<Result<(), &str>>::new();
    /// assert!(fut.exception().is_err()); // not done yet
    /// fut.set_exception("boom").unwrap();
    /// assert_eq!(fut.exception(), Ok(Some("boom")));
    /// ```
    pub fn exception(&self) -> Result<Option<E>, InvalidStateError>
    where
        E: Clone,
    {
        let outcome = self.inner.state.borrow().outcome.share();
        match outcome {
            Outcome::Pending => Err(InvalidStateError::NotDone),
            Outcome::Done(v) => Ok(v.as_ref().as_ref().err().cloned()),
            Outcome::Cancelled => Err(InvalidStateError::Cancelled),
        }
    }
}

/// `Future::cancel` on the shared state, for a cancellation coming from an awaiter that is
/// dropped inside a cancellation (see `Drop for Future`).
fn cancel_inner<T: 'static>(inner: &Inner<T>) {
    let taken = {
        let mut state = inner.state.borrow_mut();
        if !matches!(state.outcome, Outcome::Pending) {
            return;
        }
        state.outcome = Outcome::Cancelled;
        (
            std::mem::take(&mut state.waiters),
            std::mem::take(&mut state.callbacks),
        )
    };
    let (waiters, callbacks) = taken;
    for (_, waker) in waiters {
        waker.wake();
    }
    if callbacks.is_empty() {
        return;
    }
    // Callbacks get a handle to the future; the cancelling side has only the shared state.
    let handle = inner.this.upgrade().map(|inner| Future {
        inner,
        waiter: None,
    });
    match handle {
        Some(fut) => {
            for (_, cb) in callbacks {
                fut.schedule(cb);
            }
        }
        None => drop(callbacks),
    }
}

impl<T: 'static> Default for Future<T> {
    fn default() -> Future<T> {
        Future::new()
    }
}

impl<T> Clone for Future<T> {
    fn clone(&self) -> Future<T> {
        Future {
            inner: self.inner.clone(),
            waiter: None,
        }
    }
}

impl<T: Clone + 'static> std::future::Future for Future<T> {
    type Output = Result<T, CancelledError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut state = this.inner.state.borrow_mut();
        let outcome = state.outcome.share();
        let replaced = match outcome {
            Outcome::Pending => match this.waiter.and_then(|k| state.waiters.get_mut(k)) {
                Some(waker) if waker.will_wake(cx.waker()) => None,
                Some(waker) => Some(std::mem::replace(waker, cx.waker().clone())),
                None => {
                    this.waiter = Some(state.waiters.insert(cx.waker().clone()));
                    None
                }
            },
            _ => None,
        };
        drop(state);
        drop(replaced); // a waker's drop is user code: not under the borrow
        match outcome {
            Outcome::Pending => Poll::Pending,
            Outcome::Done(v) => Poll::Ready(Ok(T::clone(&v))), // user code, nothing borrowed
            Outcome::Cancelled => Poll::Ready(Err(CancelledError)),
        }
    }
}

impl<T> Drop for Future<T> {
    /// An awaiter that goes away (its task was cancelled, say) leaves the waiter list. If it
    /// goes away *because* it is being cancelled (a timeout dropping it, its task's future being
    /// dropped by a cancellation), the future is cancelled, as asyncio cancels the future a
    /// cancelled task awaits.
    fn drop(&mut self) {
        let Some(k) = self.waiter else { return };
        let (removed, pending) = match self.inner.state.try_borrow_mut() {
            Ok(mut state) if matches!(state.outcome, Outcome::Pending) => {
                (state.waiters.try_remove(k), true)
            }
            _ => (None, false),
        };
        drop(removed); // a waker is dropped outside the borrow
        if pending && in_cancel_scope() {
            (self.inner.cancel)(&self.inner);
        }
    }
}

impl<T> fmt::Debug for Future<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self
            .inner
            .state
            .try_borrow()
            .map(|s| match s.outcome {
                Outcome::Pending => "pending",
                Outcome::Done(_) => "finished",
                Outcome::Cancelled => "cancelled",
            })
            .unwrap_or("busy");
        write!(f, "<Future {state}>")
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future as _;
    use std::pin::Pin;
    use std::task::{Context, Waker};

    #[test]
    fn one_awaiter_polled_often_holds_one_waker_and_leaves_when_dropped() {
        let lp = crate::new_event_loop();
        let fut = lp.create_future::<u8>();
        let (mut a, mut b) = (fut.clone(), fut.clone());
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..5 {
            assert!(Pin::new(&mut a).poll(&mut cx).is_pending());
            assert!(Pin::new(&mut b).poll(&mut cx).is_pending());
        }
        assert_eq!(fut.inner.state.borrow().waiters.len(), 2);
        drop(a);
        assert_eq!(fut.inner.state.borrow().waiters.len(), 1);
        fut.set_result(1).unwrap();
        assert_eq!(
            Pin::new(&mut b).poll(&mut cx),
            std::task::Poll::Ready(Ok(1))
        );
    }
}
