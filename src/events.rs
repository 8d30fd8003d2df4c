//! The event loop and the functions that find it: asyncio's `events.py` and the loop half of
//! `base_events.py`.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use crate::concurrent::{ConcurrentFuture, Forward};
use crate::exceptions::RuntimeError;
use crate::futures::Future as AsyncioFuture;
use crate::runtime::core::{self, CallKey, Callback, Config, Core, with_running};
use crate::runtime::remote::{Message, Remote};
pub use crate::runtime::report::ExceptionContext;
use crate::runtime::small_fn::SmallFn;
use crate::tasks::{Delay, Task};

/// An event loop: asyncio's `asyncio.AbstractEventLoop`.
///
/// A loop runs tasks and callbacks on the thread that created it, one batch per iteration,
/// sleeping until the next timer when nothing is ready. `EventLoop` is a cheap handle: cloning
/// it gives another handle to the same loop. Most programs never touch it and call
/// [`run`](crate::run) instead.
///
/// # Examples
///
/// ```
/// let lp = asyncio::new_event_loop();
/// let answer = lp.run_until_complete(async { 42 }).unwrap();
/// assert_eq!(answer, 42);
/// lp.close().unwrap();
/// ```
#[derive(Clone)]
pub struct EventLoop {
    core: Rc<Core>,
}

/// Builds an [`EventLoop`] with options: a virtual clock, debug mode.
///
/// # Examples
///
/// ```
/// let lp = asyncio::EventLoop::builder().virtual_time().build();
/// let elapsed = lp
///     .run_until_complete(async {
///         let lp = asyncio::get_running_loop().unwrap();
///         let start = lp.time();
///         asyncio::sleep(3600).await; // an hour, in no time
///         lp.time() - start
///     })
///     .unwrap();
/// assert_eq!(elapsed, 3600.0);
/// ```
#[derive(Debug, Default, Clone)]
pub struct LoopBuilder {
    config: Config,
}

impl LoopBuilder {
    /// Use a virtual clock: time stands still while anything is ready to run and jumps
    /// straight to the next timer when nothing is. Sleeps take no real time and times are
    /// exact, which is what tests want.
    pub fn virtual_time(mut self) -> LoopBuilder {
        self.config.virtual_time = true;
        self
    }

    /// Turn debug mode on or off (asyncio's `loop.set_debug`). Without this call, debug mode
    /// is on when the environment variable `ASYNCIO_DEBUG` is set (to anything but `0`).
    ///
    /// In debug mode the loop reports every task step or callback that holds it longer than
    /// [`slow_callback_duration`](EventLoop::set_slow_callback_duration) (100 ms by default).
    pub fn debug(mut self, enabled: bool) -> LoopBuilder {
        self.config.debug = Some(enabled);
        self
    }

    /// On a virtual clock, how long to wait for real I/O before jumping to the next timer
    /// while some task waits on a socket (trio's `autojump_threshold`; 250 ms by default).
    /// Long enough for a peer on another thread or process to answer over loopback; make it
    /// longer for slower peers, or zero to jump at once as if no I/O could come.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::EventLoop::builder()
    ///     .virtual_time()
    ///     .autojump_threshold(1.0)
    ///     .build();
    /// lp.run_until_complete(asyncio::sleep(3600)).unwrap(); // no socket: jumps at once
    /// assert_eq!(lp.time(), 3600.0);
    /// ```
    pub fn autojump_threshold(mut self, seconds: impl Delay) -> LoopBuilder {
        self.config.autojump_threshold = Some(seconds.into_duration());
        self
    }

    /// Create tasks eagerly (asyncio 3.12's `eager_task_factory`): inside a running loop,
    /// `create_task` runs the task's first step at once, so a task that finishes without
    /// waiting never touches the run queue.
    pub fn eager_tasks(mut self) -> LoopBuilder {
        self.config.eager_tasks = true;
        self
    }

    /// Creates the loop.
    pub fn build(self) -> EventLoop {
        EventLoop::from_core(Core::new(&self.config))
    }
}

impl EventLoop {
    /// A new event loop on the real clock (asyncio's `asyncio.new_event_loop()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::EventLoop::new();
    /// assert!(!lp.is_running());
    /// ```
    pub fn new() -> EventLoop {
        LoopBuilder::default().build()
    }

    /// A builder for a loop with options.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::EventLoop::builder().virtual_time().build();
    /// assert_eq!(lp.time(), 0.0);
    /// ```
    pub fn builder() -> LoopBuilder {
        LoopBuilder::default()
    }

    pub(crate) fn from_core(core: Rc<Core>) -> EventLoop {
        EventLoop { core }
    }

    pub(crate) fn weak(&self) -> Weak<Core> {
        Rc::downgrade(&self.core)
    }

    pub(crate) fn core(&self) -> &Core {
        &self.core
    }

    /// Runs the loop until `future` completes and returns its output: asyncio's
    /// `loop.run_until_complete`. Tasks created meanwhile run too.
    ///
    /// # Errors
    ///
    /// [`RuntimeError`] if the loop is closed or already running, if another loop is running
    /// on this thread, or if [`stop`](EventLoop::stop) was called before `future` finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::new_event_loop();
    /// let task = lp.create_task(async { "from a task" });
    /// assert_eq!(lp.run_until_complete(task).unwrap().unwrap(), "from a task");
    /// ```
    pub fn run_until_complete<F: IntoFuture>(&self, future: F) -> Result<F::Output, RuntimeError> {
        self.core.block_on(future.into_future())
    }

    /// Runs the loop until [`stop`](EventLoop::stop) is called: asyncio's `loop.run_forever`.
    ///
    /// # Errors
    ///
    /// [`RuntimeError`] if the loop is closed or already running, or another loop is running
    /// on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::new_event_loop();
    /// let stopper = lp.clone();
    /// lp.create_task(async move {
    ///     asyncio::sleep(0.01).await;
    ///     stopper.stop();
    /// });
    /// lp.run_forever().unwrap();
    /// ```
    pub fn run_forever(&self) -> Result<(), RuntimeError> {
        self.core.run_forever()
    }

    /// Asks the loop to stop after the current iteration (asyncio's `loop.stop`). If the loop
    /// is not running, the next `run_forever` runs one iteration and returns.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::new_event_loop();
    /// lp.stop();
    /// lp.run_forever().unwrap(); // returns after one iteration
    /// ```
    pub fn stop(&self) {
        self.core.stop();
    }

    /// Closes the loop (asyncio's `loop.close`): tasks still pending are destroyed (their
    /// futures dropped, with a "Task was destroyed but it is pending!" report for each) and
    /// the loop refuses to run again. Its default executor is shut down without waiting
    /// (queued jobs still run; see [`shutdown_default_executor`](Self::shutdown_default_executor)
    /// to wait), and callbacks posted from other threads are dropped from then on. Closing
    /// twice is fine.
    ///
    /// # Errors
    ///
    /// [`RuntimeError::CloseWhileRunning`] if the loop is running.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::new_event_loop();
    /// lp.close().unwrap();
    /// assert!(lp.is_closed());
    /// ```
    pub fn close(&self) -> Result<(), RuntimeError> {
        self.core.close()?;
        crate::threads::loop_closed(&self.core); // stop the default executor
        crate::unix_events::loop_closed(&self.core); // restore signal dispositions
        Ok(())
    }

    /// True while the loop is running (asyncio's `loop.is_running`).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::new_event_loop();
    /// assert!(!lp.is_running());
    /// assert!(lp.run_until_complete(async { asyncio::get_running_loop().unwrap().is_running() }).unwrap());
    /// ```
    pub fn is_running(&self) -> bool {
        self.core.is_running()
    }

    /// True once the loop was closed (asyncio's `loop.is_closed`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!asyncio::new_event_loop().is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.core.is_closed()
    }

    /// The loop's clock, in seconds (asyncio's `loop.time`): monotonic, with an arbitrary
    /// origin for the real clock and 0.0 at creation for a virtual one.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::new_event_loop();
    /// let t0 = lp.time();
    /// assert!(lp.time() >= t0);
    /// ```
    pub fn time(&self) -> f64 {
        self.core.clock.time()
    }

    /// True in debug mode (asyncio's `loop.get_debug`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(asyncio::EventLoop::builder().debug(true).build().get_debug());
    /// ```
    pub fn get_debug(&self) -> bool {
        self.core.debug()
    }

    /// Turns debug mode on or off (asyncio's `loop.set_debug`).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::new_event_loop();
    /// lp.set_debug(true);
    /// assert!(lp.get_debug());
    /// ```
    pub fn set_debug(&self, enabled: bool) {
        self.core.set_debug(enabled);
    }

    /// Sets how long a task step or callback may hold the loop before debug mode reports it
    /// (asyncio's `loop.slow_callback_duration`, default 0.1 s).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::new_event_loop();
    /// lp.set_slow_callback_duration(0.25);
    /// assert_eq!(lp.slow_callback_duration(), 0.25);
    /// ```
    pub fn set_slow_callback_duration(&self, seconds: impl Delay) {
        self.core
            .set_slow_callback_duration(seconds.into_duration());
    }

    /// The slow-callback threshold, in seconds.
    pub fn slow_callback_duration(&self) -> f64 {
        self.core.slow_callback_duration().as_secs_f64()
    }

    /// Sets the handler for errors nobody else sees (asyncio's `loop.set_exception_handler`):
    /// "Task exception was never retrieved", "Task was destroyed but it is pending!",
    /// a panicking callback, a slow step in debug mode. `None` restores the default, which
    /// writes the message to stderr.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// let seen = Rc::new(RefCell::new(Vec::new()));
    /// let lp = asyncio::new_event_loop();
    /// let s = seen.clone();
    /// lp.set_exception_handler(Some(move |ctx: &asyncio::ExceptionContext| {
    ///     s.borrow_mut().push(ctx.message.clone())
    /// }));
    /// lp.call_soon(|| panic!("oops"));
    /// lp.run_until_complete(asyncio::sleep(0)).unwrap();
    /// assert!(seen.borrow()[0].contains("oops"));
    /// ```
    pub fn set_exception_handler<H>(&self, handler: Option<H>)
    where
        H: Fn(&ExceptionContext) + 'static,
    {
        self.core
            .set_exception_handler(handler.map(|h| Rc::new(h) as core::ExceptionHandler));
    }

    /// Schedules `future` as a task on this loop, running or not (asyncio's
    /// `loop.create_task`).
    ///
    /// # Panics
    ///
    /// If the loop is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::new_event_loop();
    /// let t = lp.create_task(async { 1 });
    /// assert_eq!(lp.run_until_complete(t).unwrap().unwrap(), 1);
    /// ```
    pub fn create_task<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
    {
        Task::from_cell(self.core.spawn(future))
    }

    /// A new pending [`asyncio::Future`](crate::Future) bound to this loop (asyncio's
    /// `loop.create_future`).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::new_event_loop();
    /// let fut: asyncio::Future<i32> = lp.create_future();
    /// fut.set_result(3).unwrap();
    /// assert_eq!(lp.run_until_complete(fut).unwrap(), Ok(3));
    /// ```
    pub fn create_future<T: 'static>(&self) -> crate::Future<T> {
        AsyncioFuture::bound_to(self.weak())
    }

    /// Schedules `f` to be called in the loop's next iteration, after what is already queued
    /// (asyncio's `loop.call_soon`). The returned [`Handle`] can cancel it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// let lp = asyncio::new_event_loop();
    /// let hits = Rc::new(Cell::new(0));
    /// let h = hits.clone();
    /// lp.call_soon(move || h.set(h.get() + 1));
    /// let cancelled = lp.call_soon({ let h = hits.clone(); move || h.set(100) });
    /// cancelled.cancel();
    /// lp.run_until_complete(asyncio::sleep(0)).unwrap();
    /// assert_eq!(hits.get(), 1);
    /// ```
    ///
    /// # Panics
    ///
    /// If the loop is closed (asyncio raises `RuntimeError` there too).
    pub fn call_soon(&self, f: impl FnOnce() + 'static) -> Handle {
        if self.is_closed() {
            panic!("{}: cannot call_soon on it", RuntimeError::Closed);
        }
        let key = self.core.call_soon(SmallFn::new(f));
        Handle {
            loop_id: self.core.loop_id(),
            key,
            cancelled: Cell::new(false),
            _not_send: PhantomData,
        }
    }

    /// Schedules `f` to be called after `delay` (asyncio's `loop.call_later`). The returned
    /// [`TimerHandle`] can cancel it and tells when it is due.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// let lp = asyncio::EventLoop::builder().virtual_time().build();
    /// let at = Rc::new(Cell::new(0.0));
    /// let (a, inner) = (at.clone(), lp.clone());
    /// let h = lp.call_later(2.5, move || a.set(inner.time()));
    /// assert_eq!(h.when(), 2.5);
    /// lp.run_until_complete(asyncio::sleep(3)).unwrap();
    /// assert_eq!(at.get(), 2.5);
    /// ```
    pub fn call_later(&self, delay: impl Delay, f: impl FnOnce() + 'static) -> TimerHandle {
        // A negative delay is kept as a past deadline, so that past timers keep their order
        // (asyncio: `call_later(-1, a); call_later(-2, b)` runs b, then a).
        let when = self.time() + delay.into_secs_f64();
        self.timer_handle(when, self.core.clock.deadline_at(when), f)
    }

    /// Schedules `f` to be called at loop time `when` (asyncio's `loop.call_at`); see
    /// [`time`](EventLoop::time).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// let lp = asyncio::EventLoop::builder().virtual_time().build();
    /// let hit = Rc::new(Cell::new(false));
    /// let h = hit.clone();
    /// let handle = lp.call_at(lp.time() + 1.0, move || h.set(true));
    /// handle.cancel();
    /// lp.run_until_complete(asyncio::sleep(2)).unwrap();
    /// assert!(!hit.get());
    /// ```
    pub fn call_at(&self, when: f64, f: impl FnOnce() + 'static) -> TimerHandle {
        assert!(
            !when.is_nan(),
            "call_at: `when` is NaN; pass a loop time in seconds"
        );
        self.timer_handle(when, self.core.clock.deadline_at(when), f)
    }

    fn timer_handle(&self, when: f64, deadline: u64, f: impl FnOnce() + 'static) -> TimerHandle {
        if self.is_closed() {
            panic!("{}: cannot schedule a callback on it", RuntimeError::Closed);
        }
        let callback = core::callback(f);
        let key = self.core.call_at_tick(deadline, callback.clone());
        TimerHandle {
            callback,
            key,
            event_loop: self.weak(),
            when,
        }
    }
    /// A handle to this loop that other threads may use: it is `Send + Sync`, where the
    /// `EventLoop` itself stays on its thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::new_event_loop();
    /// let handle = lp.threadsafe_handle();
    /// std::thread::spawn(move || handle.stop());
    /// lp.run_forever().unwrap(); // returns once the other thread's stop arrives
    /// ```
    pub fn threadsafe_handle(&self) -> ThreadsafeHandle {
        ThreadsafeHandle {
            remote: self.core.remote().clone(),
        }
    }
}

/// The part of an [`EventLoop`] other threads may use: asyncio's `loop.call_soon_threadsafe`.
///
/// Posting to the loop wakes it at once if it is parked waiting for a timer.
///
/// # Examples
///
/// ```
/// use std::sync::mpsc;
/// let lp = asyncio::new_event_loop();
/// let handle = lp.threadsafe_handle();
/// let (tx, rx) = mpsc::channel();
/// std::thread::spawn(move || {
///     handle.call_soon_threadsafe(move || tx.send("ran on the loop").unwrap());
///     handle.stop();
/// });
/// lp.run_forever().unwrap();
/// assert_eq!(rx.recv().unwrap(), "ran on the loop");
/// ```
#[derive(Clone)]
pub struct ThreadsafeHandle {
    remote: Arc<Remote>,
}

impl ThreadsafeHandle {
    /// Schedules `f` to run on the loop's thread in its next iteration, waking the loop.
    ///
    /// Once the loop is closed or dropped, `f` is dropped at once instead of being kept for a
    /// loop that will never run it (asyncio raises `RuntimeError` there).
    pub fn call_soon_threadsafe(&self, f: impl FnOnce() + Send + 'static) {
        self.remote.post(Message::Call(Box::new(f)));
    }

    /// Submits a coroutine to the loop from another thread and returns a handle to wait for
    /// its result there (asyncio's `asyncio.run_coroutine_threadsafe`).
    ///
    /// What crosses threads is `make`, a `Send` closure; it builds the future on the loop's
    /// thread, inside a new task, so the future itself need not be `Send` (loop futures such
    /// as [`sleep`] are not). The [`ConcurrentFuture`] gets the task's outcome;
    /// [`ConcurrentFuture::cancel`] cancels the task. If the loop is closed or dropped before
    /// the task finishes (or before it starts), the future is settled as cancelled, so
    /// [`result`](ConcurrentFuture::result) returns an error rather than blocking forever.
    ///
    /// [`sleep`]: crate::sleep
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::new_event_loop();
    /// let handle = lp.threadsafe_handle();
    /// let worker = std::thread::spawn(move || {
    ///     let answer = handle.run_coroutine_threadsafe(|| async {
    ///         asyncio::sleep(0.01).await;
    ///         42
    ///     });
    ///     let out = answer.result().unwrap();
    ///     handle.stop();
    ///     out
    /// });
    /// lp.run_forever().unwrap();
    /// assert_eq!(worker.join().unwrap(), 42);
    /// ```
    pub fn run_coroutine_threadsafe<M, F>(&self, make: M) -> ConcurrentFuture<F::Output>
    where
        M: FnOnce() -> F + Send + 'static,
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        let (future, completer) = ConcurrentFuture::pair();
        // If this callback never runs (the loop is closed), dropping it drops `completer`,
        // which settles the future as cancelled.
        self.call_soon_threadsafe(move || {
            if completer.is_cancelled() {
                return; // cancelled before it reached the loop: never start it
            }
            let task = crate::tasks::create_task(async move { make().await });
            crate::tasks::create_task(Forward::new(task.into_future(), completer));
        });
        future
    }

    /// Stops the loop after its current iteration (`loop.stop()` from another thread, as
    /// asyncio spells it: `loop.call_soon_threadsafe(loop.stop)`).
    pub fn stop(&self) {
        self.call_soon_threadsafe(|| {
            if let Ok(lp) = get_running_loop() {
                lp.stop();
            }
        });
    }
}

impl fmt::Debug for ThreadsafeHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ThreadsafeHandle")
    }
}

impl Default for EventLoop {
    fn default() -> EventLoop {
        EventLoop::new()
    }
}

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt(f)
    }
}

/// A scheduled callback: asyncio's `asyncio.Handle`, returned by
/// [`EventLoop::call_soon`].
///
/// # Examples
///
/// ```
/// let lp = asyncio::new_event_loop();
/// let handle = lp.call_soon(|| println!("never printed"));
/// handle.cancel();
/// assert!(handle.cancelled());
/// ```
pub struct Handle {
    /// The loop, by number, and the callback's place in it: the loop owns the callback, so
    /// scheduling one allocates nothing but its box.
    loop_id: usize,
    key: CallKey,
    cancelled: Cell<bool>,
    /// The loop is reached from its own thread only.
    _not_send: PhantomData<Rc<()>>,
}

impl Handle {
    /// Cancels the callback if it has not run yet; what it captured is dropped now.
    pub fn cancel(&self) {
        self.cancelled.set(true);
        core::with_loop(self.loop_id, |core| core.cancel_soon(self.key));
    }

    /// True if [`cancel`](Handle::cancel) was called.
    pub fn cancelled(&self) -> bool {
        self.cancelled.get()
    }
}

/// A callback scheduled for later: asyncio's `asyncio.TimerHandle`, returned by
/// [`EventLoop::call_later`] and [`EventLoop::call_at`].
///
/// # Examples
///
/// ```
/// let lp = asyncio::EventLoop::builder().virtual_time().build();
/// let handle = lp.call_later(5, || unreachable!("cancelled"));
/// assert_eq!(handle.when(), 5.0);
/// handle.cancel();
/// lp.run_until_complete(asyncio::sleep(10)).unwrap();
/// assert!(handle.cancelled());
/// ```
pub struct TimerHandle {
    callback: Rc<dyn Callback>,
    key: usize,
    event_loop: Weak<Core>,
    when: f64,
}

impl TimerHandle {
    /// Cancels the callback if it has not run yet: what it captured is dropped now, and its
    /// timer leaves the loop's wheel.
    pub fn cancel(&self) {
        self.callback.cancel();
        if let Some(core) = self.event_loop.upgrade() {
            core.cancel_timed(self.key, &self.callback);
        }
    }

    /// True once [`cancel`](TimerHandle::cancel) was called.
    pub fn cancelled(&self) -> bool {
        self.callback.is_cancelled()
    }

    /// The loop time at which the callback is due.
    pub fn when(&self) -> f64 {
        self.when
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHandle")
            .field("when", &self.when)
            .field("cancelled", &self.cancelled())
            .finish()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("cancelled", &self.cancelled())
            .finish()
    }
}

thread_local! {
    /// The loop `get_event_loop` returns when none is running (asyncio's policy loop).
    static CURRENT: RefCell<Option<EventLoop>> = const { RefCell::new(None) };
}

/// A new event loop (asyncio's `asyncio.new_event_loop`). It is not made the current loop;
/// see [`set_event_loop`].
///
/// # Examples
///
/// ```
/// let lp = asyncio::new_event_loop();
/// assert_eq!(lp.run_until_complete(async { "ok" }).unwrap(), "ok");
/// ```
pub fn new_event_loop() -> EventLoop {
    EventLoop::new()
}

/// The running event loop (asyncio's `asyncio.get_running_loop`).
///
/// # Errors
///
/// [`RuntimeError::NoRunningLoop`] when called outside a running loop.
///
/// # Examples
///
/// ```
/// assert!(asyncio::get_running_loop().is_err());
/// asyncio::run(async {
///     assert!(asyncio::get_running_loop().is_ok());
/// });
/// ```
pub fn get_running_loop() -> Result<EventLoop, RuntimeError> {
    with_running(|core| EventLoop::from_core(core.rc())).ok_or(RuntimeError::NoRunningLoop)
}

/// The running loop, or else this thread's current loop, created on first use (asyncio's
/// `asyncio.get_event_loop` as the Python 3.7 programs use it).
///
/// # Examples
///
/// ```
/// let a = asyncio::get_event_loop();
/// let b = asyncio::get_event_loop();
/// a.stop();
/// b.run_forever().unwrap(); // same loop: it sees the stop and returns
/// ```
pub fn get_event_loop() -> EventLoop {
    if let Ok(lp) = get_running_loop() {
        return lp;
    }
    let (lp, closed) = CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        match &*current {
            Some(lp) if !lp.is_closed() => (lp.clone(), None),
            _ => {
                let fresh = EventLoop::new();
                let old = current.replace(fresh.clone());
                (fresh, old)
            }
        }
    });
    drop(closed); // outside the borrow: dropping a loop runs task destructors
    lp
}

/// Makes `event_loop` this thread's current loop, or forgets it with `None` (asyncio's
/// `asyncio.set_event_loop`).
///
/// # Examples
///
/// ```
/// let lp = asyncio::new_event_loop();
/// asyncio::set_event_loop(Some(lp.clone()));
/// lp.stop();
/// asyncio::get_event_loop().run_forever().unwrap(); // the same loop
/// asyncio::set_event_loop(None);
/// ```
pub fn set_event_loop(event_loop: Option<EventLoop>) {
    let old = CURRENT.with(|current| std::mem::replace(&mut *current.borrow_mut(), event_loop));
    drop(old); // outside the borrow: dropping a loop runs task destructors
}
