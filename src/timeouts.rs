//! Deadlines: asyncio's `timeouts.py` ([`timeout`], [`timeout_at`], [`Timeout`]) and the
//! timeout helpers of `tasks.py` ([`wait_for`], [`shield`], [`as_completed`]).
//!
//! # How a timeout cancels
//!
//! Rust cancels a future by dropping it, so a timeout is a wrapper future: it polls the
//! operation, and if its timer fires first it drops the operation (its destructors run there
//! and then) and returns [`TimeoutError`]. A [`Task`] handed to [`wait_for`] or
//! [`Timeout::run`] is different: dropping a task's handle leaves the task running, so the
//! timeout calls [`Task::cancel`] and waits until the loop has dropped the task's future,
//! exactly as asyncio waits for the task it cancelled. [`shield`] opts out of both.
//!
//! # A `Timeout`'s life (CPython's `timeouts._State`)
//!
//! ```text
//!            run(op) first polled            timer fires first            op dropped (a task:
//!   Created ---------------------> Entered ------------------> Expiring ---cancelled, gone)---> Expired
//!      |  ^                         |  ^                                                        (TimeoutError)
//!      +--+ reschedule()            +--+ reschedule() (re-arms the timer)
//!                                   |
//!                                   +-- op finishes first, or run()'s future is dropped --> Exited
//! ```
//!
//! [`Timeout::expired`] is true in `Expiring` and `Expired`; [`Timeout::reschedule`] is
//! allowed in `Created` and `Entered` only.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::exceptions::TaskError;
use crate::runtime::core::with_running;
use crate::runtime::task::cell::cancel_scope;
use crate::tasks::{
    Awaitable, Deferred, Delay, Sleep, Task, TaskFuture, TaskRef, create_task, ensure_future, sleep,
};

// ----- TimeoutError ----------------------------------------------------------------------

/// An operation did not finish before its deadline: asyncio's `asyncio.TimeoutError` (the
/// builtin `TimeoutError` since Python 3.11).
///
/// Returned by [`wait_for`], [`Timeout::run`] and, as the last item, [`as_completed`]. Its
/// `Display` says which of them timed out, when, and what happened to the operation.
///
/// # Examples
///
/// ```
/// asyncio::Runner::virtual_time().run(async {
///     let err: asyncio::TimeoutError = asyncio::wait_for(asyncio::sleep(10), 1.5)
///         .await
///         .unwrap_err();
///     assert_eq!(err.deadline(), Some(1.5)); // loop time
///     assert!(err.to_string().starts_with("asyncio::wait_for timed out"));
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeoutError {
    what: TimedOut,
    deadline: Option<f64>,
}

/// Which API timed out, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimedOut {
    WaitFor,
    Timeout,
    AsCompleted { still_running: usize },
}

impl TimeoutError {
    /// The loop time (see [`EventLoop::time`](crate::EventLoop::time)) at which the deadline
    /// fell, when it is known.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::Runner::virtual_time().run(async {
    ///     let t = asyncio::timeout_at(3.0);
    ///     let err = t.run(asyncio::sleep(5)).await.unwrap_err();
    ///     assert_eq!(err.deadline(), Some(3.0));
    /// });
    /// ```
    pub fn deadline(&self) -> Option<f64> {
        self.deadline
    }
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.what {
            TimedOut::WaitFor => "asyncio::wait_for",
            TimedOut::Timeout => "asyncio::timeout",
            TimedOut::AsCompleted { .. } => "asyncio::as_completed",
        };
        write!(f, "{name} timed out")?;
        if let Some(when) = self.deadline {
            write!(f, " (deadline: loop time {when:.3})")?;
        }
        match self.what {
            TimedOut::WaitFor => f.write_str(
                ": the awaited operation was cancelled; give it a longer timeout, \
                 or shield() it to let it run on",
            ),
            TimedOut::Timeout => f.write_str(
                ": the operation was cancelled; give it a later deadline \
                 or reschedule() the timeout while it runs",
            ),
            TimedOut::AsCompleted { still_running } => write!(
                f,
                ": {still_running} awaitable(s) had not finished and keep running; \
                 allow more time, or cancel them"
            ),
        }
    }
}

impl std::error::Error for TimeoutError {}

// ----- what a timeout can cancel ----------------------------------------------------------

/// What [`wait_for`] and [`Timeout::run`] accept: any future, which is dropped on timeout, or
/// a [`Task`], which is cancelled on timeout (asyncio cancels the task it waits for).
///
/// A plain future runs inline, inside the caller's task, with no task of its own. A `Task`
/// keeps running elsewhere, so the timeout calls [`Task::cancel`] and waits until the loop
/// has dropped the task's future before it returns. Awaiting a task gives
/// `Result<T, TaskError>`, so that is the output here too.
///
/// To wait for a task without cancelling it on timeout, pass `&mut` a [`TaskFuture`]
/// (`task.into_future()`): the timeout drops only the reference. (Cancelling the task that
/// awaits still cancels it, as awaiting a task does in asyncio.) [`shield`]`(task)` protects it
/// from both.
///
/// # Examples
///
/// ```
/// use std::future::IntoFuture;
///
/// asyncio::Runner::virtual_time().run(async {
///     // A task: cancelled on timeout, and gone by the time the error arrives.
///     let task = asyncio::create_task(asyncio::sleep(10));
///     assert!(asyncio::wait_for(task, 1).await.is_err());
///     assert!(asyncio::all_tasks().is_empty());
///
///     // A task's future, borrowed: the timeout leaves the task alone.
///     let mut fut = asyncio::create_task(asyncio::sleep(10)).into_future();
///     assert!(asyncio::wait_for(&mut fut, 1).await.is_err());
///     assert!(!fut.task().done());
///     fut.await.unwrap(); // finishes at t = 11
/// });
/// ```
pub trait Cancellable {
    /// What awaiting it gives.
    type Output;
    /// The future that is polled.
    #[doc(hidden)]
    type Future: Future<Output = Self::Output>;
    /// The future to poll and, for a task, the task to cancel when time is up.
    #[doc(hidden)]
    fn into_parts(self) -> (Self::Future, Option<TaskRef>);
}

impl<F: Future> Cancellable for F {
    type Output = F::Output;
    type Future = F;

    fn into_parts(self) -> (F, Option<TaskRef>) {
        (self, None)
    }
}

impl<T: 'static> Cancellable for Task<T> {
    type Output = Result<T, TaskError>;
    type Future = TaskFuture<T>;

    fn into_parts(self) -> (TaskFuture<T>, Option<TaskRef>) {
        let task = TaskRef::from_task(&self);
        (self.into_future(), Some(task))
    }
}

pin_project! {
    /// The operation a timeout guards: polled while in time, cancelled when late.
    struct Guarded<F> {
        #[pin]
        fut: Option<F>,
        // For a task: the task to cancel (dropping `fut` alone would not).
        task: Option<TaskRef>,
        cancel_sent: bool,
    }
}

impl<F: Future> Guarded<F> {
    fn new<C: Cancellable<Future = F>>(op: C) -> Guarded<F> {
        let (fut, task) = op.into_parts();
        Guarded {
            fut: Some(fut),
            task,
            cancel_sent: false,
        }
    }

    /// Polls the operation; once it is ready, drops it.
    fn poll_op(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        let fut = this
            .fut
            .as_mut()
            .as_pin_mut()
            .expect("a timeout's future was polled after it completed");
        let out = ready!(fut.poll(cx));
        this.fut.set(None);
        Poll::Ready(out)
    }

    /// Cancels the operation. `Ready(None)` once it is gone; `Ready(Some(out))` if a task
    /// finished anyway before the cancellation reached it (asyncio then returns its result).
    fn poll_cancel(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        let mut this = self.project();
        let Some(task) = this.task.as_ref() else {
            // Dropped in place: the operation's destructors run now. The drop is its
            // cancellation, so a task or Future it was awaiting is cancelled too, as the
            // CancelledError asyncio throws into it would cancel them.
            cancel_scope(|| this.fut.set(None));
            return Poll::Ready(None);
        };
        if !*this.cancel_sent {
            *this.cancel_sent = true;
            task.cancel(); // the loop drops the task's future at its next iteration
        }
        let Some(fut) = this.fut.as_mut().as_pin_mut() else {
            return Poll::Ready(None);
        };
        let out = ready!(fut.poll(cx));
        let cancelled = task.cancelled();
        this.fut.set(None);
        Poll::Ready(if cancelled { None } else { Some(out) })
    }
}

/// The running loop's time, for deadlines; `None` outside a running loop.
fn loop_time() -> Option<f64> {
    with_running(|core| core.clock.time())
}

// ----- wait_for --------------------------------------------------------------------------

/// Waits for `op`, giving up after `timeout`: asyncio's `asyncio.wait_for(aw, timeout)`.
///
/// `op` is any future, run inline, or a [`Task`] (see [`Cancellable`]). If it finishes in
/// time you get its output. If not, it is cancelled, and only once it is gone (its future
/// dropped, its destructors run) do you get [`TimeoutError`]. The clock starts at the first
/// poll, as asyncio's starts when the `wait_for` coroutine starts.
///
/// `timeout` is anything [`sleep`] accepts; `f64::INFINITY` is asyncio's `timeout=None`
/// (never time out). A zero timeout lets the operation run until it first waits.
///
/// # Examples
///
/// ```
/// async fn eternity() -> &'static str {
///     asyncio::sleep(3600).await;
///     "done"
/// }
///
/// asyncio::Runner::virtual_time().run(async {
///     let lp = asyncio::get_running_loop().unwrap();
///     match asyncio::wait_for(eternity(), 1.0).await {
///         Ok(what) => println!("{what}"),
///         Err(e) => println!("timeout! {e}"),
///     }
///     assert_eq!(lp.time(), 1.0);
///     assert_eq!(asyncio::wait_for(eternity(), f64::INFINITY).await, Ok("done"));
/// });
/// ```
pub fn wait_for<C: Cancellable>(op: C, timeout: impl Delay) -> WaitFor<C::Future> {
    let delay = timeout.into_duration();
    WaitFor {
        op: Guarded::new(op),
        timer: sleep(delay),
        delay,
        deadline: None,
        started: false,
        expiring: false,
    }
}

pin_project! {
    /// The future returned by [`wait_for`].
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let fut: asyncio::WaitFor<_> = asyncio::wait_for(async { 7 }, 1);
    ///     assert_eq!(fut.await, Ok(7));
    /// });
    /// ```
    #[must_use = "wait_for does nothing unless awaited"]
    pub struct WaitFor<F> {
        #[pin]
        op: Guarded<F>,
        timer: Sleep,
        delay: Duration,
        deadline: Option<f64>,
        started: bool,
        expiring: bool,
    }
}

impl<F: Future> Future for WaitFor<F> {
    type Output = Result<F::Output, TimeoutError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let first = !*this.started;
        if first {
            *this.started = true;
            *this.deadline = loop_time().map(|now| now + this.delay.as_secs_f64());
        }
        if !*this.expiring {
            // After the first step, the deadline comes first: asyncio's timeout callback runs
            // before the operation's next step, so an operation woken in the same iteration
            // as its deadline (or a zero timeout, whose timer is due at once) is cancelled.
            if !first && Pin::new(&mut *this.timer).poll(cx).is_ready() {
                *this.expiring = true;
            } else if let Poll::Ready(out) = this.op.as_mut().poll_op(cx) {
                return Poll::Ready(Ok(out));
            } else if Pin::new(&mut *this.timer).poll(cx).is_pending() {
                return Poll::Pending;
            } else {
                *this.expiring = true;
            }
        }
        Poll::Ready(match ready!(this.op.poll_cancel(cx)) {
            Some(out) => Ok(out),
            None => Err(TimeoutError {
                what: TimedOut::WaitFor,
                deadline: *this.deadline,
            }),
        })
    }
}

impl<F: Future> ::futures::future::FusedFuture for WaitFor<F> {
    /// True once it has returned (the operation's output or the `TimeoutError`).
    fn is_terminated(&self) -> bool {
        self.op.fut.is_none()
    }
}

impl<F> fmt::Debug for WaitFor<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitFor")
            .field("timeout", &self.delay)
            .field("deadline", &self.deadline)
            .field("expiring", &self.expiring)
            .finish()
    }
}

// ----- timeout / timeout_at ----------------------------------------------------------------

/// A deadline for an operation, that can be moved while it runs: asyncio's
/// `asyncio.Timeout`, what `async with asyncio.timeout(...) as t:` gives.
///
/// Rust has no `async with`, so the block becomes the future given to [`run`](Timeout::run);
/// the `Timeout` itself is a cheap shared handle (clone it into the operation to let the
/// operation [`reschedule`](Timeout::reschedule) its own deadline). A `Timeout` runs one
/// operation, once.
///
/// # Examples
///
/// ```
/// // async with asyncio.timeout(10) as cm:
/// //     cm.reschedule(loop.time() + 1)
/// //     await asyncio.sleep(5)
/// asyncio::Runner::virtual_time().run(async {
///     let lp = asyncio::get_running_loop().unwrap();
///     let cm = asyncio::timeout(10);
///     let handle = cm.clone();
///     let out = cm
///         .run(async move {
///             handle.reschedule(lp.time() + 1.0);
///             asyncio::sleep(5).await;
///         })
///         .await;
///     assert!(out.is_err());
///     assert!(cm.expired());
///     assert_eq!(asyncio::get_running_loop().unwrap().time(), 1.0);
/// });
/// ```
#[derive(Clone)]
pub struct Timeout {
    shared: Rc<TimeoutShared>,
}

struct TimeoutShared {
    state: Cell<State>,
    /// The deadline, in loop time; `None` is no deadline.
    when: Cell<Option<f64>>,
    /// Bumped by every `reschedule`, so the running future knows to re-arm its timer.
    generation: Cell<u64>,
    /// The waker of the task running the operation, for a reschedule from elsewhere.
    waker: Cell<Option<Waker>>,
}

/// Where a [`Timeout`] is in its life; see the module docs for the diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Made, not yet running anything.
    Created,
    /// Its operation is running, the timer armed.
    Entered,
    /// The deadline passed: the operation is being cancelled.
    Expiring,
    /// The deadline passed and the operation is gone.
    Expired,
    /// The operation finished in time (or its future was dropped).
    Exited,
}

impl State {
    /// CPython's names for the states, as `repr(Timeout)` shows them.
    fn name(self) -> &'static str {
        match self {
            State::Created => "created",
            State::Entered => "active",
            State::Expiring => "expiring",
            State::Expired => "expired",
            State::Exited => "finished",
        }
    }
}

/// A [`Timeout`] that expires `delay` from now: asyncio's `asyncio.timeout(delay)`.
///
/// The deadline is fixed now, as loop time plus `delay`; see [`timeout_at`] for no deadline
/// at all (asyncio's `timeout(None)`).
///
/// # Panics
///
/// Outside a running event loop (asyncio raises `RuntimeError` there too); use
/// [`timeout_at`], which needs no loop.
///
/// # Examples
///
/// ```
/// // async with asyncio.timeout(1):
/// //     await asyncio.sleep(5)
/// asyncio::Runner::virtual_time().run(async {
///     let cm = asyncio::timeout(1);
///     assert_eq!(cm.when(), Some(1.0));
///     assert!(cm.run(asyncio::sleep(5)).await.is_err());
///     assert!(cm.expired());
/// });
/// ```
pub fn timeout(delay: impl Delay) -> Timeout {
    let now = loop_time().unwrap_or_else(|| {
        panic!(
            "asyncio::timeout: no running event loop; call it inside asyncio::run(...), \
             or use asyncio::timeout_at(when), which needs none"
        )
    });
    // Signed: `timeout(-11)` is a deadline 11 s in the past, as in asyncio.
    timeout_at(now + delay.into_secs_f64())
}

/// A [`Timeout`] that expires at loop time `when` (see
/// [`EventLoop::time`](crate::EventLoop::time)), or never for `None`: asyncio's
/// `asyncio.timeout_at(when)`.
///
/// # Panics
///
/// If `when` is NaN.
///
/// # Examples
///
/// ```
/// // async with asyncio.timeout_at(loop.time() + 2):
/// asyncio::Runner::virtual_time().run(async {
///     let lp = asyncio::get_running_loop().unwrap();
///     let cm = asyncio::timeout_at(lp.time() + 2.0);
///     assert_eq!(cm.run(async { 42 }).await, Ok(42));
///     assert!(!cm.expired());
///
///     let never = asyncio::timeout_at(None);
///     assert_eq!(never.run(asyncio::sleep(3600)).await, Ok(()));
/// });
/// ```
pub fn timeout_at(when: impl Into<Option<f64>>) -> Timeout {
    let when = checked(when.into());
    Timeout {
        shared: Rc::new(TimeoutShared {
            state: Cell::new(State::Created),
            when: Cell::new(when),
            generation: Cell::new(0),
            waker: Cell::new(None),
        }),
    }
}

fn checked(when: Option<f64>) -> Option<f64> {
    assert!(
        !when.is_some_and(f64::is_nan),
        "asyncio::Timeout: the deadline is NaN; pass a loop time (loop.time() + seconds) or None"
    );
    when
}

impl Timeout {
    /// Runs `op` under this deadline: the body of asyncio's `async with timeout(...):`.
    ///
    /// The output is `op`'s, or [`TimeoutError`] if the deadline passed first, in which case
    /// `op` was cancelled: dropped, or for a [`Task`], cancelled and waited for (see
    /// [`Cancellable`]). If a cancelled task finishes anyway, its output is returned and
    /// [`expired`](Timeout::expired) is still true, as in asyncio.
    ///
    /// # Panics
    ///
    /// When the returned future is first polled, if this `Timeout` has already run something
    /// (asyncio: "Timeout has already been entered").
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::Runner::virtual_time().run(async {
    ///     let cm = asyncio::timeout(2);
    ///     let out = cm.run(async {
    ///         asyncio::sleep(1).await;
    ///         "in time"
    ///     });
    ///     assert_eq!(out.await, Ok("in time"));
    /// });
    /// ```
    pub fn run<C: Cancellable>(&self, op: C) -> TimeoutFuture<C::Future> {
        TimeoutFuture {
            op: Guarded::new(op),
            timer: None,
            armed: None,
            entry: Entry {
                timeout: self.clone(),
                entered: false,
            },
        }
    }

    /// The deadline in loop time, or `None` for none (asyncio's `Timeout.when()`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(asyncio::timeout_at(12.5).when(), Some(12.5));
    /// assert_eq!(asyncio::timeout_at(None).when(), None);
    /// ```
    pub fn when(&self) -> Option<f64> {
        self.shared.when.get()
    }

    /// Moves the deadline to loop time `when`, or removes it with `None` (asyncio's
    /// `Timeout.reschedule()`). A deadline already past expires the timeout at once.
    ///
    /// It may be called from the operation itself, from another task, or (unlike asyncio)
    /// before the operation starts.
    ///
    /// # Panics
    ///
    /// Once the timeout has expired or finished (asyncio raises `RuntimeError`), or if `when`
    /// is NaN.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::Runner::virtual_time().run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let cm = asyncio::timeout(1);
    ///     let handle = cm.clone();
    ///     let out = cm
    ///         .run(async move {
    ///             asyncio::sleep(0.5).await;
    ///             handle.reschedule(lp.time() + 2.0); // more time, please
    ///             asyncio::sleep(1).await;
    ///             "finished at 1.5"
    ///         })
    ///         .await;
    ///     assert_eq!(out, Ok("finished at 1.5"));
    ///     assert_eq!(cm.when(), Some(2.5));
    /// });
    /// ```
    pub fn reschedule(&self, when: impl Into<Option<f64>>) {
        let shared = &self.shared;
        match shared.state.get() {
            State::Created | State::Entered => {}
            state => panic!(
                "Timeout::reschedule: cannot change the deadline of a {} timeout; \
                 a Timeout runs one operation, make a new one for the next",
                state.name()
            ),
        }
        shared.when.set(checked(when.into()));
        shared
            .generation
            .set(shared.generation.get().wrapping_add(1));
        // The running future re-arms its timer when next polled; make sure it is.
        if let Some(waker) = shared.waker.take() {
            waker.wake();
        }
    }

    /// True once the deadline has passed and the operation is being, or has been, cancelled
    /// (asyncio's `Timeout.expired()`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::Runner::virtual_time().run(async {
    ///     let cm = asyncio::timeout(1);
    ///     assert!(!cm.expired());
    ///     let _ = cm.run(asyncio::sleep(2)).await;
    ///     assert!(cm.expired());
    /// });
    /// ```
    pub fn expired(&self) -> bool {
        matches!(self.shared.state.get(), State::Expiring | State::Expired)
    }
}

impl fmt::Debug for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<Timeout [{}]", self.shared.state.get().name())?;
        if self.shared.state.get() == State::Entered {
            match self.when() {
                Some(when) => write!(f, " when={when:?}")?, // 10.0, as Python prints a float
                None => write!(f, " when=None")?,
            }
        }
        f.write_str(">")
    }
}

/// The running future's hold on its [`Timeout`]: moves the state on when dropped.
struct Entry {
    timeout: Timeout,
    entered: bool,
}

impl Drop for Entry {
    fn drop(&mut self) {
        let state = &self.timeout.shared.state;
        match state.get() {
            // Dropped while running (the caller was cancelled): CPython exits the same way.
            State::Entered if self.entered => state.set(State::Exited),
            State::Expiring if self.entered => state.set(State::Expired),
            _ => {}
        }
    }
}

pin_project! {
    /// The future returned by [`Timeout::run`]: the operation, under the deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let cm = asyncio::timeout(1);
    ///     let fut: asyncio::TimeoutFuture<_> = cm.run(async { "quick" });
    ///     assert_eq!(fut.await, Ok("quick"));
    /// });
    /// ```
    #[must_use = "a Timeout's operation does nothing unless awaited"]
    pub struct TimeoutFuture<F> {
        // Declared first, so it is dropped before `entry` updates the state.
        #[pin]
        op: Guarded<F>,
        timer: Option<Sleep>,
        // The reschedule generation `timer` was armed for.
        armed: Option<u64>,
        entry: Entry,
    }

    impl<F> PinnedDrop for TimeoutFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped while running, as its deadline had passed (an enclosing timeout with the
            // same deadline expired first and dropped it): in asyncio both timers fire in that
            // iteration, so both timeouts are expired (`test_nested_timeouts`).
            let this = this.project();
            let shared = &this.entry.timeout.shared;
            if this.entry.entered && shared.state.get() == State::Entered {
                let mut cx = Context::from_waker(Waker::noop());
                if let Some(timer) = this.timer.as_mut() {
                    if Pin::new(timer).poll(&mut cx).is_ready() {
                        shared.state.set(State::Expiring); // Entry's drop makes it Expired
                    }
                }
            }
        }
    }
}

impl<F> TimeoutFuture<F> {
    /// Arms the timer for the current deadline unless it already is (first poll, or after a
    /// `reschedule`). A deadline already past gives a zero sleep, due at the next poll.
    fn arm(timer: &mut Option<Sleep>, armed: &mut Option<u64>, shared: &TimeoutShared) {
        let generation = shared.generation.get();
        if *armed == Some(generation) {
            return;
        }
        *armed = Some(generation);
        *timer = shared.when.get().map(|when| {
            let now = loop_time().unwrap_or_else(|| {
                panic!("Timeout::run: no running event loop; await it inside asyncio::run(...)")
            });
            sleep(when - now)
        });
    }

    /// True if the armed timer has fired; otherwise it will wake `cx`.
    fn fired(timer: &mut Option<Sleep>, cx: &mut Context<'_>) -> bool {
        timer
            .as_mut()
            .is_some_and(|timer| Pin::new(timer).poll(cx).is_ready())
    }
}

impl<F: Future> Future for TimeoutFuture<F> {
    type Output = Result<F::Output, TimeoutError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let shared = &*this.entry.timeout.shared;
        let first = !this.entry.entered;
        if first {
            match shared.state.get() {
                State::Created => shared.state.set(State::Entered),
                state => panic!(
                    "Timeout::run: this Timeout has already been entered (it is {}); \
                     a Timeout runs one operation, make a new one for the next",
                    state.name()
                ),
            }
            this.entry.entered = true;
        }
        if shared.state.get() == State::Entered {
            // The body runs until it first waits, however early the deadline. After that the
            // deadline comes first: asyncio's timeout callback runs before the body's next step
            // (a deadline already past is a `call_soon`), so `timeout(0)` expires even around a
            // body that only does `sleep(0)`.
            let mut expired = false;
            if !first {
                Self::arm(this.timer, this.armed, shared);
                expired = Self::fired(this.timer, cx);
            }
            if !expired {
                if let Poll::Ready(out) = this.op.as_mut().poll_op(cx) {
                    shared.state.set(State::Exited);
                    return Poll::Ready(Ok(out));
                }
                // First poll, or the operation (or anyone) rescheduled meanwhile.
                Self::arm(this.timer, this.armed, shared);
                if !Self::fired(this.timer, cx) {
                    store_waker(&shared.waker, cx.waker());
                    return Poll::Pending;
                }
            }
            shared.state.set(State::Expiring);
        }
        if shared.state.get() != State::Expiring {
            panic!("a TimeoutFuture was polled after it completed");
        }
        let out = ready!(this.op.poll_cancel(cx));
        shared.state.set(State::Expired);
        Poll::Ready(match out {
            Some(out) => Ok(out),
            None => Err(TimeoutError {
                what: TimedOut::Timeout,
                deadline: shared.when.get(),
            }),
        })
    }
}

impl<F: Future> ::futures::future::FusedFuture for TimeoutFuture<F> {
    /// True once it has returned (the operation's output or the `TimeoutError`).
    fn is_terminated(&self) -> bool {
        self.op.fut.is_none()
    }
}

impl<F> fmt::Debug for TimeoutFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TimeoutFuture")
            .field(&self.entry.timeout)
            .finish()
    }
}

/// Keeps `waker` in `slot` unless the one there already wakes the same task.
fn store_waker(slot: &Cell<Option<Waker>>, waker: &Waker) {
    match slot.take() {
        Some(old) if old.will_wake(waker) => slot.set(Some(old)),
        _ => slot.set(Some(waker.clone())),
    }
}

// ----- shield ------------------------------------------------------------------------------

/// Protects a task from being cancelled by whoever awaits it: asyncio's `asyncio.shield(aw)`.
///
/// `aw` becomes a task (a [`Task`] is used as it is). The returned [`Shield`] is a plain
/// future for the task's result: dropping it, as [`wait_for`] or a [`Timeout`] does on timeout
/// or as cancelling the awaiting task does, leaves the task running. Await the shield through
/// `&mut` to keep it, and with it the task's result, across a timeout.
///
/// # Examples
///
/// ```
/// // task = asyncio.create_task(save())
/// // try:
/// //     await asyncio.wait_for(asyncio.shield(task), 1)
/// // except TimeoutError:
/// //     await task   # still running
/// asyncio::Runner::virtual_time().run(async {
///     let mut saving = asyncio::shield(async {
///         asyncio::sleep(3).await;
///         "saved"
///     });
///     assert!(asyncio::wait_for(&mut saving, 1).await.is_err());
///     assert!(!saving.task().done()); // the timeout did not cancel it
///     assert_eq!(saving.await.unwrap(), "saved");
///     assert_eq!(asyncio::get_running_loop().unwrap().time(), 3.0);
/// });
/// ```
pub fn shield<A: Awaitable>(aw: A) -> Shield<A::Output> {
    Shield {
        fut: ensure_future(aw).into_future(),
        finished: false,
    }
}

/// The future returned by [`shield`]: the task's result, without the power to cancel it.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let s: asyncio::Shield<i32> = asyncio::shield(async { 1 });
///     assert_eq!(s.await.unwrap(), 1);
/// });
/// ```
#[must_use = "the task runs anyway; the shield only waits for its result"]
pub struct Shield<T> {
    fut: TaskFuture<T>,
    /// The task's result was given out.
    finished: bool,
}

impl<T> Shield<T> {
    /// The shielded task, to inspect it (or cancel it on purpose).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let s = asyncio::shield(asyncio::sleep(3600));
    ///     s.task().set_name("backup");
    ///     assert!(!s.task().done());
    ///     s.task().cancel(); // on purpose: the shield only stops *others* cancelling it
    ///     assert!(s.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn task(&self) -> &Task<T> {
        self.fut.task()
    }
}

impl<T> Future for Shield<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Not through the TaskFuture: that would tie the task to the awaiting task's
        // cancellation, which is exactly what a shield is for.
        let out = self.fut.task().poll_result(cx);
        self.finished = out.is_ready();
        out
    }
}

impl<T> ::futures::future::FusedFuture for Shield<T> {
    /// True once the task's result was given out.
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

impl<T> fmt::Debug for Shield<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Shield").field(self.task()).finish()
    }
}

// ----- as_completed ------------------------------------------------------------------------

/// Yields the awaitables' results in the order they finish: asyncio's
/// `asyncio.as_completed(aws, timeout=...)`.
///
/// Each awaitable becomes a task (a [`Task`] is used as it is). The returned [`AsCompleted`]
/// is a [`Stream`](::futures::Stream) whose items are what awaiting each task gives: its
/// value, or the [`TaskError`] it failed with. With [`AsCompleted::timeout`], if the deadline
/// passes first the stream yields one more `Err`, a `TaskError` for which
/// [`is_timeout`](TaskError::is_timeout) is true (asyncio raises `TimeoutError` there), and
/// ends; the tasks not done keep running, as in asyncio (cancel them if you no longer want
/// them).
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
///
/// async fn nap(secs: u64) -> u64 {
///     asyncio::sleep(secs).await;
///     secs
/// }
///
/// asyncio::Runner::virtual_time().run(async {
///     let mut done = asyncio::as_completed([nap(3), nap(1), nap(2)]);
///     let mut order = Vec::new();
///     while let Some(item) = done.next().await {
///         order.push(item.unwrap());
///     }
///     assert_eq!(order, [1, 2, 3]);
/// });
/// ```
pub fn as_completed<I>(awaitables: I) -> AsCompleted<<I::Item as Awaitable>::Output>
where
    I: IntoIterator,
    I::Item: Awaitable,
{
    let finished = Rc::new(Finished::default());
    let mut stream = AsCompleted {
        slots: Vec::new(),
        deferred: Vec::new(),
        finished,
        remaining: 0,
        delay: None,
        timer: None,
        deadline: None,
        ended: false,
    };
    match crate::events::get_running_loop() {
        Ok(lp) => {
            for aw in awaitables {
                stream.push(aw.into_task(&lp));
            }
        }
        Err(_) => stream.deferred = awaitables.into_iter().map(Awaitable::defer).collect(),
    }
    stream.remaining += stream.deferred.len();
    stream
}

/// The [`Stream`](::futures::Stream) returned by [`as_completed`].
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// asyncio::run(async {
///     let mut s: asyncio::AsCompleted<u8> = asyncio::as_completed([async { 1 }]);
///     assert_eq!(s.next().await.unwrap().unwrap(), 1);
///     assert!(s.next().await.is_none());
/// });
/// ```
#[must_use = "streams do nothing unless polled (the tasks run anyway)"]
pub struct AsCompleted<T> {
    /// Every task by index, with its done-callback id, until its result is yielded.
    slots: Vec<Option<(TaskFuture<T>, u64)>>,
    /// Awaitables waiting for a running loop (first poll) to become tasks.
    deferred: Vec<Deferred<T>>,
    finished: Rc<Finished>,
    /// Results not yet yielded.
    remaining: usize,
    delay: Option<Duration>,
    timer: Option<Sleep>,
    deadline: Option<f64>,
    ended: bool,
}

/// What the tasks' done callbacks share with the stream.
#[derive(Default)]
struct Finished {
    /// Indices of finished tasks, in the order they finished.
    order: RefCell<VecDeque<usize>>,
    /// The waker of whoever polls the stream.
    waker: Cell<Option<Waker>>,
}

impl<T: 'static> AsCompleted<T> {
    /// Gives up at `delay` after the first poll (asyncio's `timeout=`): the stream then yields
    /// one `Err(`[`TaskError`]`)` for which [`is_timeout`](TaskError::is_timeout) is true (its
    /// [`timeout`](TaskError::timeout) is the [`TimeoutError`]) and ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// asyncio::Runner::virtual_time().run(async {
    ///     let slow = asyncio::create_task(asyncio::sleep(10));
    ///     let mut s = asyncio::as_completed([slow]).timeout(1);
    ///     assert!(s.next().await.unwrap().unwrap_err().is_timeout());
    ///     assert!(s.next().await.is_none());
    /// });
    /// ```
    pub fn timeout(mut self, delay: impl Delay) -> AsCompleted<T> {
        self.delay = Some(delay.into_duration());
        self
    }

    /// Registers `task`: its done callback records its index.
    fn push(&mut self, task: Task<T>) {
        let index = self.slots.len();
        let finished = self.finished.clone();
        let id = task.add_done_callback(move |_| {
            finished.order.borrow_mut().push_back(index);
            if let Some(waker) = finished.waker.take() {
                waker.wake();
            }
        });
        self.slots.push(Some((task.into_future(), id)));
        self.remaining += 1;
    }
}

impl<T: 'static> ::futures::Stream for AsCompleted<T> {
    type Item = Result<T, TaskError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if !this.deferred.is_empty() {
            this.remaining -= this.deferred.len();
            for deferred in std::mem::take(&mut this.deferred) {
                let task = match deferred {
                    Deferred::Task(task) => task,
                    Deferred::Future(fut) => create_task(fut),
                };
                this.push(task);
            }
        }
        if this.ended {
            return Poll::Ready(None);
        }
        if this.timer.is_none() {
            if let Some(delay) = this.delay {
                this.timer = Some(sleep(delay));
                this.deadline = loop_time().map(|now| now + delay.as_secs_f64());
            }
        }
        let next = this.finished.order.borrow_mut().pop_front();
        if let Some(index) = next {
            let (mut fut, _) = this.slots[index]
                .take()
                .expect("as_completed: a task finished twice");
            this.remaining -= 1;
            return match Pin::new(&mut fut).poll(cx) {
                Poll::Ready(outcome) => Poll::Ready(Some(outcome)),
                Poll::Pending => unreachable!("a task's done callback ran before it was done"),
            };
        }
        if this.remaining == 0 {
            this.ended = true;
            return Poll::Ready(None);
        }
        store_waker(&this.finished.waker, cx.waker());
        if let Some(timer) = this.timer.as_mut() {
            if Pin::new(timer).poll(cx).is_ready() {
                this.ended = true;
                return Poll::Ready(Some(Err(TaskError::from(TimeoutError {
                    what: TimedOut::AsCompleted {
                        still_running: this.remaining,
                    },
                    deadline: this.deadline,
                }))));
            }
        }
        Poll::Pending
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.ended {
            (0, Some(0))
        } else if self.delay.is_some() {
            (0, Some(self.remaining + 1))
        } else {
            (self.remaining, Some(self.remaining))
        }
    }
}

impl<T: 'static> ::futures::stream::FusedStream for AsCompleted<T> {
    fn is_terminated(&self) -> bool {
        self.ended
    }
}

impl<T> Drop for AsCompleted<T> {
    fn drop(&mut self) {
        // The tasks keep running; they need not tell a stream that is gone.
        for (fut, id) in self.slots.iter().flatten() {
            fut.task().remove_done_callback(*id);
        }
    }
}

impl<T> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.remaining)
            .field("timeout", &self.delay)
            .field("ended", &self.ended)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;
    use crate::EventLoop;

    fn timers() -> usize {
        with_running(|core| core.timer_count()).expect("inside a running loop")
    }

    struct Bomb(Rc<Cell<u32>>);

    impl Drop for Bomb {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn a_cancelled_task_leaves_no_timer_behind() {
        let drops = Rc::new(Cell::new(0));
        let lp = EventLoop::builder().virtual_time().build();
        let d = drops.clone();
        lp.run_until_complete(async move {
            let task = crate::create_task(async move {
                let _bomb = Bomb(d);
                let cm = timeout(50);
                // Two timers: the timeout's and the operation's.
                let _ = cm.run(wait_for(sleep(100), 75)).await;
            });
            sleep(1).await;
            assert_eq!(timers(), 3, "timeout, wait_for and sleep each hold a timer");
            task.cancel();
            sleep(0).await;
            assert!(task.done());
            assert_eq!(timers(), 0);
            assert!(crate::all_tasks().is_empty());
        })
        .unwrap();
        assert_eq!(drops.get(), 1);
    }

    #[test]
    fn expiry_drops_the_operation_and_its_timer_before_returning() {
        let lp = EventLoop::builder().virtual_time().build();
        lp.run_until_complete(async {
            let out = wait_for(sleep(100), 2).await;
            assert!(out.is_err());
            assert_eq!(timers(), 0);
        })
        .unwrap();
    }
}
