//! One event loop: its tasks, its run queue, its timers, and the iteration that drives them.
//!
//! # One iteration (`run_once`, CPython's `_run_once`)
//!
//! ```text
//!   inbox (other threads) --drain--> wake_local ----------------+
//!                                                                v
//!   wheel --advance(now)--> fired wakers --wake--> wake_local --> ready queue
//!                                                                |
//!   swap ready <-> batch; poll exactly the batch, front to back  <+
//!        (anything woken meanwhile lands in `ready`: next iteration)
//!   if nothing is ready: park until the next timer (real clock) or jump to it (virtual)
//! ```
//!
//! Ground rules:
//! - Every `RefCell` here is borrowed only for a few lines of our own code. No user code (a
//!   future's poll or drop, a waker, a callback) ever runs while one is borrowed, so wakes
//!   that happen inside user code can always reach the run queue.
//! - A task is on the run queue at most once: its header's SCHEDULED flag says it is queued.
//! - Only the batch taken at the start of an iteration runs in it, so `sleep(0)` lets every
//!   other ready task run once, and a task that yields forever cannot starve timers.

use std::any::Any;
use std::cell::{Cell, OnceCell, RefCell};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::ptr;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use slab::Slab;

use super::io::reactor::Reactor;
use super::queue::RunQueue;
use super::remote::{self, Message, Remote};
use super::small_fn::SmallFn;
use super::task::cell::{DoneCallback, Runnable, TaskCell};
use super::task::id::{CALLBACK_INDEX, MAIN_INDEX, MAX_TASKS, TaskId};
use super::task::rc::TaskRc;
use super::task::waker::{is_task_waker, task_of, waker};
use super::task_slab::TaskSlab;
use super::time::clock::Clock;
use super::time::wheel::{TimerKey, Wheel};
use crate::exceptions::{RuntimeError, panic_message};
use crate::runtime::report::ExceptionContext;

/// An entry of the run queue, one word: a task (its id without the loop field, which is this
/// loop's), or, with the `CALL` bit, the key of a callback in `Core::callbacks`. One word rather
/// than an enum with a fat pointer halves the queue's memory, which matters when a million tasks
/// are spawned at once.
#[derive(Clone, Copy)]
struct Ready(usize);

impl Ready {
    /// Marks a callback entry (the top bit, never part of a task id's local bits).
    const CALL: usize = 1 << (usize::BITS - 1);

    fn task(id: TaskId) -> Ready {
        Ready(id.local_bits())
    }

    fn call(key: usize) -> Ready {
        Ready(Ready::CALL | key)
    }
}

/// A scheduled callback that can be cancelled before it runs (asyncio's `Handle`).
pub(crate) trait Callback {
    /// Runs the callback unless it was cancelled; at most once.
    fn run(&self);
    /// Cancels the callback and drops it (and what it captured) now.
    fn cancel(&self);
    /// True if cancelled.
    fn is_cancelled(&self) -> bool;
}

struct CallbackCell<F> {
    f: Cell<Option<F>>,
    cancelled: Cell<bool>,
}

impl<F: FnOnce()> Callback for CallbackCell<F> {
    fn run(&self) {
        if let Some(f) = self.f.take() {
            f();
        }
    }

    fn cancel(&self) {
        self.cancelled.set(true);
        drop(self.f.take());
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.get()
    }
}

/// Wraps `f` as a cancellable callback (one allocation).
pub(crate) fn callback(f: impl FnOnce() + 'static) -> Rc<dyn Callback> {
    Rc::new(CallbackCell {
        f: Cell::new(Some(f)),
        cancelled: Cell::new(false),
    })
}

/// A `call_later` callback and its timer (none for a delay that never elapses).
type TimedCallback = (Rc<dyn Callback>, Option<TimerKey>);

/// A callback on the run queue, in `Core::callbacks`.
enum Queued {
    /// `call_soon`'s (and the loop's own: done callbacks, calls from other threads), owned
    /// here: a small closure is stored in the slot itself, a larger one boxed (`SmallFn`).
    /// `serial` tells a `Handle` the slot still holds its callback; a cancelled one leaves
    /// `None` until its run-queue entry comes up, so that the slot is not reused while that
    /// entry still names it.
    Owned { serial: u64, f: Option<SmallFn> },
    /// A `call_later` callback whose timer fired; its `TimerHandle` shares it.
    Timed(Rc<dyn Callback>),
}

/// Names a `call_soon` callback for its `Handle`: its slot in `Core::callbacks` and the serial
/// that slot holds while it is still this callback's.
#[derive(Clone, Copy)]
pub(crate) struct CallKey {
    key: usize,
    serial: u64,
}

/// Settings fixed when a loop is built.
#[derive(Debug, Default, Clone)]
pub(crate) struct Config {
    pub(crate) virtual_time: bool,
    /// `Some` when set by the builder; `None` means "from `ASYNCIO_DEBUG`".
    pub(crate) debug: Option<bool>,
    /// Create tasks eagerly (asyncio 3.12's `eager_task_factory`).
    pub(crate) eager_tasks: bool,
    /// Virtual clock with I/O: how long to wait for real I/O before jumping to the next timer
    /// (`None`: the default, [`DEFAULT_AUTOJUMP_THRESHOLD`]).
    pub(crate) autojump_threshold: Option<Duration>,
}

/// How long a virtual clock waits for real I/O, while some task waits on a socket, before it
/// jumps to the next timer (trio's `autojump_threshold`). Long enough for a peer on another
/// thread or process to answer over loopback, short enough that tests stay quick.
pub(crate) const DEFAULT_AUTOJUMP_THRESHOLD: Duration = Duration::from_millis(250);

/// What `cancel_all` does with queued callbacks and timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Leftovers {
    /// Keep them for the loop to run (the shutdown of `asyncio.run`).
    Run,
    /// Drop them unrun (`close()`).
    Drop,
}

/// How deep eager first steps may nest before a new eager task is queued instead (each
/// level is a few stack frames of poll; this keeps the whole chain far from the stack's end).
const MAX_EAGER_DEPTH: u32 = 128;

/// `Core::current` when no task is being polled. Never a task's id: all ones would be the
/// main future's id (`MAIN_INDEX`) of the last loop number, and the main future is not a task.
const NO_TASK: usize = usize::MAX;

/// The handler that receives errors nobody else sees (`set_exception_handler`).
pub(crate) type ExceptionHandler = Rc<dyn Fn(&ExceptionContext)>;

/// The state of one event loop. Shared as `Rc<Core>` by its `EventLoop` handles.
pub(crate) struct Core {
    this: Weak<Core>,
    loop_id: usize,
    remote: Arc<Remote>,
    pub(crate) clock: Clock,
    debug: Cell<bool>,
    pub(crate) eager_tasks: bool,
    slow_callback_duration: Cell<Duration>,
    handler: RefCell<Option<ExceptionHandler>>,
    tasks: TaskSlab,
    ready: RunQueue,
    /// Callbacks queued on `ready` (`call_soon`), by key.
    callbacks: RefCell<Slab<Queued>>,
    /// The serial of the last `Queued::Owned` callback.
    call_serial: Cell<u64>,
    /// Callbacks waiting for their timer (`call_later`), by key, with their timer.
    timed: RefCell<Slab<TimedCallback>>,
    /// The task being polled right now, if any.
    /// (The id's bits, or `NO_TASK`: half the size of an `Option<TaskId>`, set twice a poll.)
    current: Cell<usize>,
    /// Eager first steps running inside each other right now.
    eager_depth: Cell<u32>,
    /// Debug mode reported the loop as stuck, and nothing has run since.
    stuck_reported: Cell<bool>,
    wheel: RefCell<Wheel>,
    fired: RefCell<Vec<Waker>>,
    /// The I/O reactor, made at the first registration.
    io: OnceCell<Reactor>,
    /// See `Config::autojump_threshold`.
    autojump_threshold: Duration,
    inbox: RefCell<Vec<Message>>,
    next_generation: Cell<u32>,
    main_scheduled: Cell<bool>,
    /// Which `run_until_complete` call the MAIN id belongs to: a MAIN entry or wake left over
    /// from an earlier run carries an older generation and is ignored.
    main_generation: Cell<u32>,
    running: Cell<bool>,
    stopping: Cell<bool>,
    closed: Cell<bool>,
    /// The signal handlers of the layer above (`crate::unix_events`), made at the first one;
    /// called when the inbox says a signal arrived. Dropping it restores the dispositions.
    pub(crate) signals: OnceCell<Box<dyn SignalDispatch>>,
    /// State the layer above keeps per loop (`crate::threads`: the default executor and the
    /// liveness flag of threadsafe handles), type-erased so the runtime does not depend on it.
    /// Declared last: it is dropped after everything else the loop owns.
    pub(crate) threads: OnceCell<Box<dyn Any>>,
}

/// The signal handlers of a loop, as the loop sees them: something to run when a signal
/// arrived (it queues the handlers' callbacks).
pub(crate) trait SignalDispatch: Any {
    /// A signal arrived since the last call: queue the callbacks of those that did.
    fn dispatch(&self, core: &Core);
    /// For the layer above to get its own type back.
    fn as_any(&self) -> &dyn Any;
}

thread_local! {
    /// The loop running on this thread, or null. Set only by `Enter`, which keeps it valid.
    static RUNNING: Cell<*const Core> = const { Cell::new(ptr::null()) };
}

/// Calls `f` with the loop running on this thread, if any.
#[inline]
pub(crate) fn with_running<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    let p = RUNNING.try_with(Cell::get).unwrap_or(ptr::null());
    // SAFETY: RUNNING is non-null only while an `Enter` guard is alive on this thread (its
    // constructor sets it, its drop, which also runs on unwind, clears it). The guard borrows
    // the `Core` it points to, so the `Core` is alive for the guard's whole life, and `f` runs
    // inside that life: it is called from code the loop invokes below `block_on`/`run_forever`,
    // and it cannot drop the guard, which is private to those frames.
    unsafe { p.as_ref() }.map(f)
}

/// Calls `f` with loop `loop_id` if it is alive on this thread: the running loop for one
/// thread-local read, any other through the thread's list of loops (the rare case: a timer's
/// future dropped after its loop stopped running). A handle that keeps the loop's number
/// instead of a `Weak<Core>` saves the weak count's increment and decrement, and the
/// upgrade's, on every timer.
#[inline]
pub(crate) fn with_loop<R>(loop_id: usize, f: impl FnOnce(&Core) -> R) -> Option<R> {
    let p = RUNNING.try_with(Cell::get).unwrap_or(ptr::null());
    // SAFETY: as in `with_running`: a non-null RUNNING points to the `Core` an `Enter` guard
    // on this thread borrows, alive for the whole call of `f`.
    match unsafe { p.as_ref() } {
        Some(core) if core.loop_id == loop_id => Some(f(core)),
        _ => with_idle_loop(loop_id, f),
    }
}

/// `with_loop` for a loop that is not the running one.
#[cold]
#[inline(never)]
fn with_idle_loop<R>(loop_id: usize, f: impl FnOnce(&Core) -> R) -> Option<R> {
    loop_on_this_thread(loop_id).map(|core| f(&core))
}

/// Wakes `id` directly if its loop is the one running on this thread. Returns false if not.
#[inline]
pub(crate) fn try_wake_on_running_loop(id: TaskId) -> bool {
    with_running(|core| {
        if core.loop_id == id.loop_id() {
            core.wake_local(id);
            true
        } else {
            false
        }
    })
    .unwrap_or(false)
}

/// True if `ASYNCIO_DEBUG` is set to something other than empty or `0` (Python's
/// `PYTHONASYNCIODEBUG`).
fn debug_from_env() -> bool {
    std::env::var_os("ASYNCIO_DEBUG").is_some_and(|v| !v.is_empty() && v != "0")
}

thread_local! {
    /// The loops made on this thread, by loop number: a task's own loop, for what concerns it
    /// when that loop is not the running one (its unretrieved failure, its done callbacks).
    static LOOPS: RefCell<Vec<(usize, Weak<Core>)>> = const { RefCell::new(Vec::new()) };
}

/// The loop numbered `loop_id`, if it was made on this thread and is alive.
fn loop_on_this_thread(loop_id: usize) -> Option<Rc<Core>> {
    LOOPS
        .try_with(|loops| {
            loops
                .borrow()
                .iter()
                .find(|(id, _)| *id == loop_id)
                .and_then(|(_, core)| core.upgrade())
        })
        .ok()
        .flatten()
}

/// Reports a failed task nobody awaited (asyncio: "Task exception was never retrieved") to
/// the task's own loop's handler (else the running loop's, else stderr).
pub(crate) fn report_unretrieved(loop_id: usize, task: &str, message: &str) {
    let context = ExceptionContext {
        message: format!(
            "Task exception was never retrieved\ntask: <Task finished name='{task}'> panicked: {message}"
        ),
        task: Some(task.to_owned()),
        panic: Some(message.to_owned()),
    };
    match loop_on_this_thread(loop_id) {
        Some(core) => core.report(context),
        None => report(context),
    }
}

/// Hands an error the program cannot otherwise see to the running loop's exception handler,
/// or writes it to stderr (asyncio's default handler logs it).
pub(crate) fn report(context: ExceptionContext) {
    match with_running(Core::rc) {
        Some(core) => core.report(context),
        None => eprintln!("{}", context.message),
    }
}

/// Runs `f`, user code the loop calls outside any task (a foreign waker, a destructor of a
/// task's output or of a callback's captures), so that a panic in it cannot unwind through
/// the loop: it is reported as `Exception in {what}` and the loop goes on.
pub(crate) fn contain(what: &str, f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        let message = panic_message(&*payload).to_owned();
        drop_payload(payload);
        report(ExceptionContext {
            message: format!("Exception in {what}: panicked: {message}"),
            task: None,
            panic: Some(message),
        });
    }
}

/// Drops a panic payload, whose destructor is user code too: a second panic there is
/// caught and the payload leaked rather than unwinding further.
pub(crate) fn drop_payload(payload: Box<dyn std::any::Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
}

/// Wakes `waker`: directly if it is one of ours (a task id: no user code), else contained.
#[inline]
pub(crate) fn wake_contained(waker: Waker) {
    if is_task_waker(&waker) {
        waker.wake();
    } else {
        contain("a waker", move || waker.wake());
    }
}

/// Schedules a done callback of a task of loop `loop_id` on that loop (asyncio calls a done
/// callback with the future's own loop's `call_soon`), even while it is not running; if it
/// is closed or gone, calls it now.
pub(crate) fn schedule_callback(loop_id: usize, cb: DoneCallback) {
    match loop_on_this_thread(loop_id) {
        Some(core) if !core.closed.get() => {
            core.call_soon(SmallFn::from(cb));
        }
        _ => cb(),
    }
}

/// Marks a loop as running on this thread for as long as it lives.
struct Enter<'a> {
    core: &'a Core,
}

impl<'a> Enter<'a> {
    fn new(core: &'a Core) -> Result<Enter<'a>, RuntimeError> {
        if core.closed.get() {
            return Err(RuntimeError::Closed);
        }
        if core.running.get() {
            return Err(RuntimeError::AlreadyRunning);
        }
        if with_running(|_| ()).is_some() {
            return Err(RuntimeError::AnotherLoopRunning);
        }
        RUNNING.set(core);
        core.running.set(true);
        Ok(Enter { core })
    }
}

impl Drop for Enter<'_> {
    fn drop(&mut self) {
        RUNNING.set(ptr::null());
        self.core.running.set(false);
        self.core.main_scheduled.set(false);
        self.core.current.set(NO_TASK);
        // A stop() that arrived as the run ended must not stop the next run (CPython resets
        // `_stopping` when run_forever returns).
        self.core.stopping.set(false);
    }
}

impl Core {
    pub(crate) fn new(config: &Config) -> Rc<Core> {
        let (loop_id, remote) = remote::register();
        let core = Rc::new_cyclic(|this| Core {
            this: this.clone(),
            loop_id,
            remote,
            clock: if config.virtual_time {
                Clock::virtual_clock()
            } else {
                Clock::real()
            },
            debug: Cell::new(config.debug.unwrap_or_else(debug_from_env)),
            eager_tasks: config.eager_tasks,
            slow_callback_duration: Cell::new(Duration::from_millis(100)),
            handler: RefCell::new(None),
            tasks: TaskSlab::new(),
            ready: RunQueue::new(),
            callbacks: RefCell::new(Slab::new()),
            call_serial: Cell::new(0),
            timed: RefCell::new(Slab::new()),
            current: Cell::new(NO_TASK),
            eager_depth: Cell::new(0),
            stuck_reported: Cell::new(false),
            wheel: RefCell::new(Wheel::new()),
            fired: RefCell::new(Vec::new()),
            io: OnceCell::new(),
            autojump_threshold: config
                .autojump_threshold
                .unwrap_or(DEFAULT_AUTOJUMP_THRESHOLD),
            inbox: RefCell::new(Vec::new()),
            next_generation: Cell::new(0),
            main_scheduled: Cell::new(false),
            main_generation: Cell::new(0),
            running: Cell::new(false),
            stopping: Cell::new(false),
            closed: Cell::new(false),
            signals: OnceCell::new(),
            threads: OnceCell::new(),
        });
        LOOPS.with(|loops| loops.borrow_mut().push((loop_id, core.weak())));
        core
    }

    /// A strong reference to this loop.
    pub(crate) fn rc(&self) -> Rc<Core> {
        self.this
            .upgrade()
            .expect("the event loop is being dropped")
    }

    /// A weak reference to this loop.
    pub(crate) fn weak(&self) -> Weak<Core> {
        self.this.clone()
    }

    /// This loop's process-wide number.
    #[inline]
    pub(crate) fn loop_id(&self) -> usize {
        self.loop_id
    }

    pub(crate) fn remote(&self) -> &Arc<Remote> {
        &self.remote
    }

    /// The loop's reactor, made now if this is its first I/O. From then on a blocked loop
    /// waits in `epoll_wait`, and other threads wake it through the reactor's eventfd.
    pub(crate) fn reactor(&self) -> std::io::Result<&Reactor> {
        if let Some(reactor) = self.io.get() {
            return Ok(reactor);
        }
        let (reactor, waker) = Reactor::new()?;
        self.remote.set_io_waker(waker);
        Ok(self.io.get_or_init(|| reactor))
    }

    /// The loop's reactor if it has one.
    #[inline]
    pub(crate) fn reactor_if_any(&self) -> Option<&Reactor> {
        self.io.get()
    }

    pub(crate) fn is_running(&self) -> bool {
        self.running.get()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.get()
    }

    pub(crate) fn stop(&self) {
        self.stopping.set(true);
    }

    pub(crate) fn debug(&self) -> bool {
        self.debug.get()
    }

    pub(crate) fn set_debug(&self, enabled: bool) {
        self.debug.set(enabled);
    }

    pub(crate) fn slow_callback_duration(&self) -> Duration {
        self.slow_callback_duration.get()
    }

    pub(crate) fn set_slow_callback_duration(&self, d: Duration) {
        self.slow_callback_duration.set(d);
    }

    pub(crate) fn set_exception_handler(&self, handler: Option<ExceptionHandler>) {
        let old = self.handler.replace(handler);
        drop(old);
    }

    /// Hands `context` to this loop's exception handler, or writes it to stderr. A handler
    /// that panics does not take the loop down: both messages go to stderr.
    fn report(&self, context: ExceptionContext) {
        let handler = self.handler.borrow().clone();
        match handler {
            Some(handler) => {
                if let Err(payload) = catch_unwind(AssertUnwindSafe(|| handler(&context))) {
                    eprintln!(
                        "{}\nthe exception handler panicked on it: {}",
                        context.message,
                        panic_message(&*payload)
                    );
                    drop_payload(payload);
                }
            }
            None => eprintln!("{}", context.message),
        }
    }

    /// [`contain`], reporting to this loop's handler (running or not).
    fn contain(&self, what: &str, f: impl FnOnce()) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
            let message = panic_message(&*payload).to_owned();
            drop_payload(payload);
            self.report(ExceptionContext {
                message: format!("Exception in {what}: panicked: {message}"),
                task: None,
                panic: Some(message),
            });
        }
    }

    /// The task being polled right now.
    pub(crate) fn current_task(&self) -> Option<TaskRc<dyn Runnable>> {
        let bits = self.current.get();
        (bits != NO_TASK).then(|| self.tasks.get(TaskId::from_bits(bits)))?
    }

    /// Every live (not yet finished) task.
    pub(crate) fn all_tasks(&self) -> Vec<TaskRc<dyn Runnable>> {
        self.tasks.live_user_tasks()
    }

    /// The loop time each sleeping task's timer is due (for the call graph).
    pub(crate) fn timer_waits(&self) -> Vec<(TaskId, f64)> {
        use super::graph::{Awaiter, classify};
        let wheel = self.wheel.borrow();
        wheel
            .pending()
            .filter_map(|(deadline, waker)| match classify(waker, self.loop_id) {
                Awaiter::Task(id) => Some((id, self.clock.tick_to_time(deadline))),
                _ => None,
            })
            .collect()
    }

    /// Number of live tasks.
    #[cfg(test)]
    pub(crate) fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// Number of live timer entries (pending or fired but not yet collected).
    #[cfg(test)]
    pub(crate) fn timer_count(&self) -> usize {
        self.wheel.borrow().len()
    }

    // ----- spawning and waking ---------------------------------------------------------------

    /// Creates a task for `future` and queues its first poll (or, for an eager loop inside
    /// a running task, runs its first step right now).
    #[inline]
    pub(crate) fn spawn<F>(&self, future: F) -> TaskRc<TaskCell<F>>
    where
        F: Future + 'static,
    {
        self.spawn_with(future, self.eager_tasks)
    }

    /// Spawns a task of the loop's own machinery (a server's accept loop, a stream's
    /// flusher): it runs like any task but is not listed by `all_tasks()`.
    pub(crate) fn spawn_internal<F>(&self, future: F) -> TaskRc<TaskCell<F>>
    where
        F: Future + 'static,
    {
        let task = self.spawn_with(future, false);
        task.header().mark_internal();
        task
    }

    /// `spawn`, choosing eagerness (asyncio 3.12's eager tasks: the first step runs inside
    /// `create_task`, so a task that finishes at once never touches the run queue).
    #[inline]
    pub(crate) fn spawn_with<F>(&self, future: F, eager: bool) -> TaskRc<TaskCell<F>>
    where
        F: Future + 'static,
    {
        if self.closed.get() {
            panic!("{}: cannot create a task on it", RuntimeError::Closed);
        }
        let serial = self.next_generation.get().wrapping_add(1);
        self.next_generation.set(serial);
        let index = self.tasks.next_index();
        assert!(
            index < MAX_TASKS,
            "too many tasks alive at once in one event loop (the limit is {MAX_TASKS})"
        );
        let id = TaskId::new(self.loop_id, serial as usize, index);
        let cell = TaskRc::new(TaskCell::new(id, serial, future));
        self.tasks.insert(cell.clone().into_runnable()); // born scheduled: see Header::new
        // An eager task's first step runs here, inside its creator's step; a chain of eager
        // tasks that each create the next would recurse without bound, so past a depth the
        // task is queued like any other (its first step then runs in the next iteration).
        if eager && self.running.get() && self.eager_depth.get() < MAX_EAGER_DEPTH {
            self.eager_depth.set(self.eager_depth.get() + 1);
            self.poll_task(id);
            self.eager_depth.set(self.eager_depth.get() - 1);
        } else {
            self.ready.push(Ready::task(id).0);
        }
        cell
    }

    /// Queues task `id` unless it is already queued or no longer exists. Every wake on the
    /// loop's thread ends here: the common case (a task of the slab) is the straight line.
    #[inline(always)]
    pub(crate) fn wake_local(&self, id: TaskId) {
        let index = id.index();
        if index & CALLBACK_INDEX != 0 {
            return self.wake_special(id);
        }
        if self.tasks.schedule(id) {
            self.ready.push(Ready::task(id).0);
        }
    }

    /// Wakes the waker of a fired timer. One of this loop's task wakers (nearly every one)
    /// goes straight to `wake_local`: no indirect call, no thread-local read. Its drop does
    /// nothing, so it is forgotten.
    #[inline]
    fn wake_fired(&self, waker: Waker) {
        match task_of(&waker) {
            Some(id) if id.loop_id() == self.loop_id => {
                std::mem::forget(waker);
                self.wake_local(id);
            }
            _ => wake_contained(waker),
        }
    }

    /// `wake_local` for the ids that are not slab tasks: the main future, a timed callback.
    #[cold]
    #[inline(never)]
    fn wake_special(&self, id: TaskId) {
        if id.index() == MAIN_INDEX {
            if self.is_current_main(id) && !self.main_scheduled.replace(true) {
                self.ready.push(Ready::task(id).0);
            }
        } else {
            self.timed_callback_due(id.index() & !CALLBACK_INDEX);
        }
    }

    /// Schedules `callback` to be queued when tick `deadline` comes (`call_later`); returns
    /// its key for `cancel_timed`. A `u64::MAX` deadline never comes.
    pub(crate) fn call_at_tick(&self, deadline: u64, callback: Rc<dyn Callback>) -> usize {
        let mut timed = self.timed.borrow_mut();
        let entry = timed.vacant_entry();
        let key = entry.key();
        assert!(
            key < CALLBACK_INDEX - 1,
            "too many call_later callbacks pending at once"
        );
        let timer = (deadline != u64::MAX).then(|| {
            let waker = waker(TaskId::new(self.loop_id, 0, CALLBACK_INDEX | key));
            self.timer_insert(deadline, &waker)
        });
        entry.insert((callback, timer));
        key
    }

    /// The timer of timed callback `key` fired: move the callback to the run queue. (Its
    /// waker lives only in the wheel entry, so this happens once per key.)
    fn timed_callback_due(&self, key: usize) {
        let due = self.timed.borrow_mut().try_remove(key);
        if let Some((callback, timer)) = due {
            if let Some(timer) = timer {
                self.timer_remove(timer);
            }
            self.queue_callback(Queued::Timed(callback));
        }
    }

    /// Cancels timed callback `key` if `callback` still waits for its timer there.
    pub(crate) fn cancel_timed(&self, key: usize, callback: &Rc<dyn Callback>) {
        let removed = {
            let mut timed = self.timed.borrow_mut();
            match timed.get(key) {
                Some((cb, _)) if Rc::ptr_eq(cb, callback) => Some(timed.remove(key)),
                _ => None,
            }
        };
        if let Some((_, Some(timer))) = &removed {
            self.timer_remove(*timer);
        }
        drop(removed);
    }

    /// Queues `f` to run in the next iteration (`call_soon`); the key lets a `Handle` cancel
    /// it. Callbacks posted from other threads before this call (`call_soon_threadsafe`) are
    /// queued first: one FIFO, as in asyncio.
    #[inline]
    pub(crate) fn call_soon(&self, f: SmallFn) -> CallKey {
        let serial = self.call_serial.get() + 1;
        self.call_serial.set(serial);
        let key = self.queue_callback(Queued::Owned { serial, f: Some(f) });
        CallKey { key, serial }
    }

    /// Puts `queued` on the run queue (after what other threads posted); returns its slot.
    #[inline]
    fn queue_callback(&self, queued: Queued) -> usize {
        if self.remote.has_pending() {
            self.drain_inbox();
        }
        let key = self.callbacks.borrow_mut().insert(queued);
        self.ready.push(Ready::call(key).0);
        key
    }

    /// Cancels the `call_soon` callback `key` names, if it has not run yet: its closure (user
    /// code to drop) is dropped now, with nothing borrowed; its slot stays until its run-queue
    /// entry comes up. A callback that already ran (its slot gone or reused) is left alone.
    pub(crate) fn cancel_soon(&self, key: CallKey) {
        let closure = match self.callbacks.borrow_mut().get_mut(key.key) {
            Some(Queued::Owned { serial, f }) if *serial == key.serial => f.take(),
            _ => None,
        };
        drop(closure);
    }

    // ----- timers ----------------------------------------------------------------------------

    /// Registers a timer due at `deadline` (a tick) that wakes `waker`.
    pub(crate) fn timer_insert(&self, deadline: u64, waker: &Waker) -> TimerKey {
        self.timer_insert_with(deadline, || self.clock.now_tick(), waker)
    }

    /// A timer `delay` from now for `waker` (`sleep`), reading the clock once for both the
    /// deadline and the wheel's "now"; `None` if the deadline is too far to ever come.
    #[inline]
    pub(crate) fn timer_insert_after(&self, delay: Duration, waker: &Waker) -> Option<TimerKey> {
        let now = self.clock.elapsed_ns();
        let deadline = Clock::deadline_from(now, delay);
        (deadline != u64::MAX)
            .then(|| self.timer_insert_with(deadline, || Clock::tick_of(now), waker))
    }

    #[inline]
    fn timer_insert_with(
        &self,
        deadline: u64,
        now: impl FnOnce() -> u64,
        waker: &Waker,
    ) -> TimerKey {
        let waker = waker.clone();
        let mut wheel = self.wheel.borrow_mut();
        if wheel.is_empty() {
            // Keep the wheel's notion of "now" fresh so the entry lands on the right level.
            wheel.advance(now(), &mut Vec::new());
        }
        wheel.insert(deadline, waker)
    }

    /// True if the timer has fired; otherwise makes sure it will wake `waker`.
    pub(crate) fn timer_poll(&self, key: TimerKey, waker: &Waker) -> bool {
        let mut wheel = self.wheel.borrow_mut();
        if wheel.is_fired(key) {
            true
        } else {
            wheel.set_waker(key, waker);
            false
        }
    }

    /// Removes a timer, fired or not.
    pub(crate) fn timer_remove(&self, key: TimerKey) {
        self.wheel.borrow_mut().remove(key);
    }

    // ----- running ---------------------------------------------------------------------------

    /// True if `id` is the MAIN id of the `run_until_complete` call in progress.
    fn is_current_main(&self, id: TaskId) -> bool {
        self.running.get() && id.generation() == self.main_generation.get() as usize
    }

    /// `run_until_complete`: runs the loop until `future` is done; returns its output.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> Result<F::Output, RuntimeError> {
        let _enter = Enter::new(self)?;
        let mut future = pin!(future);
        let generation = self.main_generation.get().wrapping_add(1);
        self.main_generation.set(generation);
        let main = TaskId::new(self.loop_id, generation as usize, MAIN_INDEX);
        // Stored as the id carries it, so the comparison in `is_current_main` is exact.
        self.main_generation.set(main.generation() as u32);
        let main_waker = waker(main);
        let mut output = None;
        self.main_scheduled.set(true);
        self.ready.push(Ready::task(main).0);
        let finished = self.run_iterations(&mut || {
            if output.is_none() {
                let mut cx = Context::from_waker(&main_waker);
                if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
                    output = Some(v);
                    return true;
                }
            }
            false
        });
        match output {
            Some(v) if finished => Ok(v),
            _ => Err(RuntimeError::StoppedBeforeComplete),
        }
    }

    /// `run_forever`: runs iterations until `stop()` is called.
    pub(crate) fn run_forever(&self) -> Result<(), RuntimeError> {
        let _enter = Enter::new(self)?;
        self.run_iterations(&mut || false);
        Ok(())
    }

    /// Runs iterations until one in which `main` (the future of `run_until_complete`, polled
    /// when its MAIN entry comes up) returns true, or until `stop()`; returns true in the first
    /// case. The whole run is one call, with the iteration inlined: a call per iteration cost
    /// its prologue and epilogue on every yield of a lone task.
    fn run_iterations(&self, main: &mut dyn FnMut() -> bool) -> bool {
        loop {
            if self.run_once(main) {
                return true;
            }
            if self.stopping.replace(false) {
                return false;
            }
        }
    }

    /// One iteration: inbox, timers (parking if idle), then exactly one batch of ready work:
    /// the entries queued when the batch began. Anything queued meanwhile goes behind them and
    /// waits for the next iteration (CPython's `ntodo`).
    ///
    /// Returns true if `main` ran in this batch and returned true (the main future finished).
    #[inline(always)]
    fn run_once(&self, main: &mut dyn FnMut() -> bool) -> bool {
        if self.remote.has_pending() {
            self.drain_inbox();
        }
        self.poll_events();

        let batch = self.ready.len();
        if batch > 0 {
            self.stuck_reported.set(false);
        }
        let mut finished = false;
        for _ in 0..batch {
            let Some(bits) = self.ready.pop() else {
                break;
            };
            if bits & Ready::CALL != 0 {
                let queued = self.callbacks.borrow_mut().try_remove(bits & !Ready::CALL);
                match queued {
                    Some(Queued::Owned { f: Some(f), .. }) => self.run_callback(|| f.call()),
                    Some(Queued::Timed(callback)) => self.run_callback(move || callback.run()),
                    _ => {} // cancelled
                }
                continue;
            }
            let id = TaskId::from_local_bits(self.loop_id, bits);
            if id.index() == MAIN_INDEX {
                if self.is_current_main(id) && self.main_scheduled.replace(false) {
                    finished |= main();
                }
            } else {
                self.poll_task(id);
            }
        }
        finished
    }

    /// Polls task `id` once if it is still queued. The hot path of the loop: inlined into
    /// `run_once`, with the rare cases (debug mode, a finished task) out of line.
    #[inline(always)]
    fn poll_task(&self, id: TaskId) {
        let Some(task) = self.tasks.unschedule(id) else {
            return;
        };
        // SAFETY: the slab's `TaskRc` keeps the task alive until its slot is removed, and a slot
        // is removed only (a) by `reap`, after the poll, (b) by `cancel_all`, which refuses to
        // run while the loop runs, and (c) when the loop is dropped, which cannot happen while
        // it runs (`block_on`/`run_forever` borrow it). Nothing polls the same task inside its
        // own poll (its SCHEDULED flag is clear, so a wake queues it for the next iteration).
        // So `task` is valid for this whole call; after `reap` it is not used. (Cloning the
        // `TaskRc` instead cost a fifth of a yield's instructions.)
        let task = unsafe { &*task };
        if self.debug.get() {
            return self.poll_task_timed(id, task);
        }
        // The id waker's drop does nothing: skip its indirect call.
        let waker = ManuallyDrop::new(waker(id));
        let mut cx = Context::from_waker(&waker);
        let outer = self.current.replace(id.bits());
        let finished = task.poll(&mut cx);
        self.current.set(outer);
        if finished {
            self.reap(id);
        }
    }

    /// `poll_task` in debug mode: reports a step slower than `slow_callback_duration`.
    #[cold]
    #[inline(never)]
    fn poll_task_timed(&self, id: TaskId, task: &dyn Runnable) {
        let waker = waker(id);
        let mut cx = Context::from_waker(&waker);
        let outer = self.current.replace(id.bits());
        let started = Instant::now();
        let finished = task.poll(&mut cx);
        self.current.set(outer);
        self.warn_if_slow(started, || {
            format!("<Task name='{}'>", task.header().name())
        });
        if finished {
            self.reap(id);
        }
    }

    /// Removes finished task `id` from the slab and drops it (with its result, if its handle
    /// is gone: the result's destructor is user code, so it runs contained and unborrowed).
    #[inline(never)]
    fn reap(&self, id: TaskId) {
        let removed = self.tasks.remove(id);
        self.contain("dropping a task's result", move || drop(removed));
    }

    /// Runs a callback (its captures are dropped inside, as it consumes them); a panic in it
    /// is reported, not raised.
    #[inline]
    fn run_callback(&self, callback: impl FnOnce()) {
        let started = self.debug.get().then(Instant::now);
        if let Err(payload) = catch_unwind(AssertUnwindSafe(callback)) {
            let message = panic_message(&*payload).to_owned();
            drop_payload(payload);
            self.report(ExceptionContext {
                message: format!("Exception in callback: panicked: {message}"),
                task: None,
                panic: Some(message),
            });
        }
        if let Some(started) = started {
            self.warn_if_slow(started, || "<Handle callback>".to_owned());
        }
    }

    /// Debug mode: reports a step that held the loop longer than `slow_callback_duration`.
    fn warn_if_slow(&self, started: Instant, what: impl FnOnce() -> String) {
        let took = started.elapsed();
        if took >= self.slow_callback_duration.get() {
            self.report(ExceptionContext {
                message: format!(
                    "Executing {} took {:.3} seconds",
                    what(),
                    took.as_secs_f64()
                ),
                task: None,
                panic: None,
            });
        }
    }

    fn drain_inbox(&self) {
        let mut messages = std::mem::take(&mut *self.inbox.borrow_mut());
        self.remote.drain_into(&mut messages);
        for message in messages.drain(..) {
            match message {
                Message::Wake(id) => self.wake_local(id),
                Message::Call(f) => {
                    self.call_soon(SmallFn::Boxed(f));
                }
            }
        }
        *self.inbox.borrow_mut() = messages;
        if self.remote.take_signaled() {
            if let Some(signals) = self.signals.get() {
                signals.dispatch(self);
            }
        }
    }

    /// Collects what happened since the last iteration: I/O readiness (if the loop has a
    /// reactor) and due timers, both moved to the run queue. When nothing is ready, first waits
    /// for the next of them: the next timer, an I/O event, or a wake from another thread.
    fn poll_events(&self) {
        let idle = self.ready.is_empty() && !self.stopping.get();
        let next = {
            let wheel = self.wheel.borrow();
            if wheel.is_empty() {
                None
            } else {
                wheel.next_expiration()
            }
        };
        match self.io.get() {
            // No I/O, no timers, work to do: no syscall, not even a clock read.
            None if next.is_none() && !idle => return,
            None if idle => self.park_until(next),
            None => {}
            // Work to do: only look (timeout 0), so ready tasks never starve I/O.
            Some(reactor) if !idle => {
                reactor.poll(Some(Duration::ZERO));
            }
            Some(reactor) => self.wait_for_io(reactor, next),
        }
        if self.remote.has_pending() {
            self.drain_inbox();
        }
        if next.is_some() {
            let now = self.clock.now_tick();
            let mut fired = std::mem::take(&mut *self.fired.borrow_mut());
            self.wheel.borrow_mut().advance(now, &mut fired);
            for waker in fired.drain(..) {
                self.wake_fired(waker);
            }
            *self.fired.borrow_mut() = fired;
        }
    }

    /// Debug mode: the loop is about to block with nothing of its own that could wake it (no
    /// ready task, no timer, no socket waited on). Reports the call graph once, until a task or
    /// callback runs again; only another thread could end the wait.
    #[cold]
    fn report_if_stuck(&self) {
        if !self.debug.get() || self.stuck_reported.replace(true) || self.remote.clock_held() {
            return;
        }
        if self.tasks.is_empty() && !self.main_scheduled.get() && !self.running.get() {
            return;
        }
        self.report(ExceptionContext {
            message: super::graph::stuck_message(self),
            task: None,
            panic: None,
        });
    }

    /// Nothing ready and no reactor: park the thread until the next timer (or jump to it, on
    /// a virtual clock) or a wake from another thread.
    fn park_until(&self, next: Option<u64>) {
        let next = next.filter(|_| !self.clock.is_virtual() || !self.remote.clock_held());
        if let (Some(tick), true) = (next, self.clock.is_virtual()) {
            if !self.remote.has_pending() {
                self.clock.jump_to(tick);
            }
            return;
        }
        let timeout = next.map(|tick| self.clock.until(tick));
        if timeout.is_none() {
            self.report_if_stuck();
        }
        if timeout.is_some_and(|t| t.is_zero()) || !self.remote.park_begin() {
            return;
        }
        match timeout {
            Some(d) => std::thread::park_timeout(d),
            None => std::thread::park(),
        }
        self.remote.park_end();
    }

    /// Nothing ready, and the loop has a reactor: wait in `epoll_wait` until the next timer,
    /// an I/O event, or a wake from another thread (the reactor's eventfd).
    ///
    /// On a virtual clock, real I/O may still be on its way while every task waits, so the
    /// clock jumps to the next timer only after `autojump_threshold` of real time passes with
    /// no event (and at once if no task waits on any socket).
    fn wait_for_io(&self, reactor: &Reactor, next: Option<u64>) {
        let virtual_jump = next.filter(|_| self.clock.is_virtual());
        let mut timeout = match (next, virtual_jump) {
            (None, _) => None,
            // Work outside the loop is awaited: wait for it, however long (ClockHold).
            (Some(_), Some(_)) if self.remote.clock_held() => None,
            (Some(_), Some(_)) if reactor.has_waiters() => Some(self.autojump_threshold),
            (Some(_), Some(_)) => Some(Duration::ZERO),
            (Some(tick), None) => Some(self.clock.until(tick)),
        };
        if timeout.is_none() && !reactor.has_waiters() {
            self.report_if_stuck();
        }
        let blocking = timeout != Some(Duration::ZERO);
        if blocking && !self.remote.park_begin() {
            timeout = Some(Duration::ZERO);
        }
        let delivered = reactor.poll(timeout);
        if blocking {
            self.remote.park_end();
        }
        if let Some(tick) = virtual_jump {
            if delivered == 0
                && !self.remote.has_pending()
                && !self.remote.clock_held()
                && self.ready.is_empty()
            {
                self.clock.jump_to(tick);
            }
        }
    }

    // ----- shutting down ---------------------------------------------------------------------

    /// Drops every task's future (cancelling it). Tasks spawned by destructors meanwhile are
    /// cancelled too. `on_pending` sees each task that was pending.
    ///
    /// With `Leftovers::Run` (asyncio.run's shutdown), callbacks stay queued, done callbacks
    /// of the cancelled tasks among them, for the loop to run before it closes; with
    /// `Leftovers::Drop` (`close()`), they are dropped unrun, with the timers.
    pub(crate) fn cancel_all(&self, leftovers: Leftovers, on_pending: &dyn Fn(&dyn Runnable)) {
        if self.running.get() {
            return; // tasks are being polled (poll_task relies on this)
        }
        for _ in 0..64 {
            let tasks = self.tasks.take_all();
            let (queued, callbacks, timed) = match leftovers {
                Leftovers::Run => (0, Slab::new(), Slab::new()),
                Leftovers::Drop => {
                    let queued = self.ready.len();
                    self.ready.clear();
                    (
                        queued,
                        std::mem::take(&mut *self.callbacks.borrow_mut()),
                        std::mem::take(&mut *self.timed.borrow_mut()),
                    )
                }
            };
            for (_, (_, timer)) in &timed {
                if let Some(timer) = timer {
                    self.timer_remove(*timer);
                }
            }
            if tasks.is_empty() && queued == 0 && timed.is_empty() {
                return;
            }
            // Every drop below runs user code (captures of callbacks that never ran, futures,
            // results): each is contained, so one panic neither stops the shutdown nor
            // escapes it.
            for (_, callback) in callbacks {
                self.contain("dropping a callback that never ran", move || drop(callback));
            }
            for (_, (callback, _)) in timed {
                self.contain("dropping a callback that never ran", move || drop(callback));
            }
            for task in tasks {
                // The loop's own machinery (accept loops, flushers) is not a user's task left
                // pending: asyncio has callbacks there, which nobody reports.
                if !task.header().is_done() && !task.header().is_internal() {
                    on_pending(&*task);
                }
                self.contain("cancelling a task", || task.cancel());
                self.contain("dropping a task", move || drop(task));
            }
        }
    }

    /// `close()`: cancels what is left and refuses to run again.
    pub(crate) fn close(&self) -> Result<(), RuntimeError> {
        if self.running.get() {
            return Err(RuntimeError::CloseWhileRunning);
        }
        if !self.closed.replace(true) {
            // Callbacks posted from other threads from now on are dropped, not kept.
            self.remote.close();
            self.cancel_all(Leftovers::Drop, &|task| {
                let name = task.header().name();
                self.report(ExceptionContext {
                    message: format!(
                        "Task was destroyed but it is pending!\ntask: <Task pending name='{name}'>"
                    ),
                    task: Some(name),
                    panic: None,
                });
            });
            // asyncio's close() closes the selector: add_reader callbacks go too.
            if let Some(reactor) = self.io.get() {
                reactor.fd_close();
            }
        }
        Ok(())
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        remote::unregister(self.loop_id);
        let id = self.loop_id;
        let _ = LOOPS.try_with(|loops| loops.borrow_mut().retain(|(l, _)| *l != id));
        for task in self.tasks.take_all() {
            contain("cancelling a task", || task.cancel());
            contain("dropping a task", move || drop(task));
        }
        for (_, callback) in std::mem::take(self.callbacks.get_mut()) {
            contain("dropping a callback that never ran", move || drop(callback));
        }
        for (_, (callback, _)) in std::mem::take(self.timed.get_mut()) {
            contain("dropping a callback that never ran", move || drop(callback));
        }
    }
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLoop")
            .field("running", &self.running.get())
            .field("closed", &self.closed.get())
            .field("tasks", &self.tasks.len())
            .field("virtual_time", &self.clock.is_virtual())
            .field("debug", &self.debug.get())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Waker};

    use super::*;
    use crate::{EventLoop, sleep};

    fn running_core() -> Rc<Core> {
        with_running(Core::rc).expect("inside a running loop")
    }

    #[test]
    fn a_million_dropped_sleeps_leave_the_wheel_empty() {
        EventLoop::new()
            .run_until_complete(async {
                let core = running_core();
                let mut cx = Context::from_waker(Waker::noop());
                for i in 0..1_000_000u32 {
                    let mut nap = sleep(1.0 + f64::from(i % 5000));
                    assert!(Pin::new(&mut nap).poll(&mut cx).is_pending());
                    if i == 0 {
                        assert_eq!(core.timer_count(), 1, "polling registers the timer");
                    }
                }
                assert_eq!(core.timer_count(), 0);
            })
            .unwrap();
    }

    #[test]
    fn finished_tasks_leave_the_slab_and_fired_timers_leave_the_wheel() {
        let lp = EventLoop::builder().virtual_time().build();
        lp.run_until_complete(async {
            let core = running_core();
            let tasks: Vec<_> = (0..100)
                .map(|i| crate::create_task(sleep(f64::from(i) / 100.0)))
                .collect();
            assert_eq!(core.task_count(), 100);
            crate::wait(tasks).await;
            sleep(0).await; // let the loop reap the last finisher
            assert_eq!(core.task_count(), 0);
            assert_eq!(core.timer_count(), 0);
        })
        .unwrap();
    }

    #[test]
    fn a_task_cancelled_while_sleeping_leaves_the_wheel_empty() {
        let lp = EventLoop::new();
        lp.create_task(sleep(100));
        lp.run_until_complete(sleep(0)).unwrap();
        assert_eq!(lp.core().timer_count(), 1);
        lp.core().cancel_all(Leftovers::Drop, &|_| {});
        assert_eq!(lp.core().timer_count(), 0);
        assert_eq!(lp.core().task_count(), 0);
    }

    #[test]
    fn a_second_wake_before_the_poll_does_not_queue_twice() {
        let lp = EventLoop::new();
        let polls = Rc::new(Cell::new(0));
        let p = polls.clone();
        let task = lp.create_task(std::future::poll_fn(move |cx| {
            p.set(p.get() + 1);
            if p.get() == 1 {
                cx.waker().wake_by_ref();
                cx.waker().wake_by_ref();
                let copy = cx.waker().clone();
                copy.wake(); // a clone wakes the same task
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        }));
        lp.run_until_complete(task).unwrap().unwrap();
        lp.run_until_complete(sleep(0)).unwrap();
        assert_eq!(polls.get(), 2);
    }
}
#[cfg(test)]
mod size_tests {
    use super::*;

    /// The memory benchmark counts bytes per pending task; these sizes are what it is made of
    /// (the task's allocation, its slab slot, its run-queue entry). Growing them is a choice to
    /// make with the benchmark in hand, not by accident.
    #[test]
    fn task_and_queue_entry_stay_small() {
        type F = std::future::Pending<()>;
        assert!(std::mem::size_of::<TaskCell<F>>() <= 48);
        // An async block has a state byte of its own, and the stage's tag must still fit in
        // spare values (of it or of the waiter's tag), not in a word of its own.
        let block = async { std::future::pending::<()>().await };
        assert!(std::mem::size_of_val(&TaskCell::new(TaskId::from_bits(0), 0, block)) <= 56);
        assert_eq!(
            std::mem::size_of::<crate::runtime::task_slab::Slot>(),
            2 * std::mem::size_of::<usize>()
        );
        assert_eq!(std::mem::size_of::<Ready>(), std::mem::size_of::<usize>());
        assert_eq!(std::mem::size_of::<crate::TaskError>(), 8);
        assert!(std::mem::size_of::<crate::Sleep>() <= 24);
    }
}

#[cfg(test)]
mod timed_callback_tests {
    use crate::EventLoop;

    #[test]
    fn a_cancelled_or_fired_call_later_leaves_no_timer_behind() {
        let lp = EventLoop::builder().virtual_time().build();
        let keep = lp.call_later(1, || {});
        let gone = lp.call_later(2, || {});
        assert_eq!(lp.core().timer_count(), 2);
        gone.cancel();
        assert_eq!(lp.core().timer_count(), 1);
        lp.run_until_complete(crate::sleep(3)).unwrap();
        assert_eq!(lp.core().timer_count(), 0);
        assert!(!keep.cancelled());
    }
}
