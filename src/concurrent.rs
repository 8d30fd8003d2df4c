//! `concurrent.futures` for this crate: a [`ConcurrentFuture`] any thread can wait for, and the
//! [`ThreadPoolExecutor`] that runs blocking functions on a small pool of std threads.
//!
//! Both meet the event loop elsewhere: `threads.rs` (`to_thread`, `run_in_executor`, the
//! per-loop default executor) and `ThreadsafeHandle::run_coroutine_threadsafe` in `events.rs`.
//!
//! # A future's states
//!
//! ```text
//!            start (a worker takes the job)          finish(value | panic)
//!  Pending ----------------------------------> Running ---------------------> Done(result)
//!    |   \------------------------- finish (a loop-side coroutine) -------------^   |
//!    | cancel()                                                                     | result(), await
//!    v                                                                              v
//!  Cancelled <-- finish(cancelled), or the Completer dropped unfinished          Taken
//! ```
//!
//! Ground rules:
//! - One `Mutex` guards a future's state. The `Condvar` wakes threads blocked in `result()`,
//!   the stored `Waker` the one task awaiting it. Wakers are cloned before the lock is taken
//!   and woken or dropped after it is released: no foreign code runs under the lock.
//! - The producing side holds a `Completer`. Dropping it without finishing (a closed loop, a
//!   job that never ran) marks the future cancelled, so nobody waits for a result that will
//!   never come.
//! - A worker thread never unwinds: the job's own panic becomes the future's error, and a
//!   panic from dropping something is caught around the whole job.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::num::NonZero;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::events::ExceptionContext;
use crate::exceptions::{RuntimeError, TaskError};
use crate::runtime::core::{report, with_running};
use crate::runtime::remote::ClockHold;
use crate::tasks::{Delay, TaskFuture};

/// Locks `m`, ignoring poison: nothing holding these locks runs foreign code, and a poisoned
/// lock must never take a loop or a worker down.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ----- ConcurrentFuture ------------------------------------------------------------------------

/// A result produced on one thread and waited for on another: asyncio's (and
/// `concurrent.futures`') `concurrent.futures.Future`.
///
/// [`ThreadsafeHandle::run_coroutine_threadsafe`](crate::ThreadsafeHandle::run_coroutine_threadsafe)
/// and [`ThreadPoolExecutor::submit`] return one. Another thread waits for it by blocking in
/// [`result`](ConcurrentFuture::result); a task awaits it (`cf.await`, or
/// [`wrap_future`]`(cf).await`, which also cancels it when dropped), without blocking its
/// loop. Either way the outcome is `Result<T, TaskError>`: the value, a panic, or a
/// cancellation. It is `Send` and `Sync` when `T` is `Send`.
///
/// Do not call the blocking methods on the thread of a loop the result depends on: that loop
/// cannot run while its thread is blocked. Await the future there instead.
///
/// # Examples
///
/// ```
/// let pool = asyncio::ThreadPoolExecutor::new();
/// let cf = pool.submit(|| 6 * 7).unwrap();
/// assert_eq!(cf.result().unwrap(), 42);
/// ```
pub struct ConcurrentFuture<T> {
    shared: Arc<Shared<T>>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Notified on every transition to a final stage.
    changed: Condvar,
}

struct State<T> {
    stage: Stage<T>,
    /// The task awaiting the future, if any.
    waiter: Option<Waker>,
    /// The loop-side producer to wake when `cancel()` is called (run_coroutine_threadsafe).
    on_cancel: Option<Waker>,
}

enum Stage<T> {
    Pending,
    Running,
    Done(Result<T, TaskError>),
    Cancelled,
    /// The result was handed out; the future is spent.
    Taken,
}

/// What a consumer finds when it looks at the state.
enum Outcome<T> {
    Ready(Result<T, TaskError>),
    NotYet,
    AlreadyTaken,
}

impl<T> Stage<T> {
    fn is_final(&self) -> bool {
        matches!(self, Stage::Done(_) | Stage::Cancelled | Stage::Taken)
    }

    /// Takes the outcome out, leaving `Taken` after a value (a cancellation can be read again).
    fn take_outcome(&mut self) -> Outcome<T> {
        match self {
            Stage::Pending | Stage::Running => Outcome::NotYet,
            Stage::Cancelled => Outcome::Ready(Err(TaskError::cancelled())),
            Stage::Taken => Outcome::AlreadyTaken,
            Stage::Done(_) => match std::mem::replace(self, Stage::Taken) {
                Stage::Done(result) => Outcome::Ready(result),
                _ => unreachable!("matched Done above"),
            },
        }
    }
}

fn already_taken() -> ! {
    panic!(
        "ConcurrentFuture: the result was already taken (by result_timeout or an await); \
         it can be taken only once"
    )
}

impl<T> ConcurrentFuture<T> {
    /// A pending future and the producer's half that settles it.
    pub(crate) fn pair() -> (ConcurrentFuture<T>, Completer<T>) {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                stage: Stage::Pending,
                waiter: None,
                on_cancel: None,
            }),
            changed: Condvar::new(),
        });
        let completer = Completer {
            shared: shared.clone(),
            settled: false,
        };
        (ConcurrentFuture { shared }, completer)
    }

    /// Blocks the calling thread until the outcome is known and returns it
    /// (`concurrent.futures.Future.result()`).
    ///
    /// It never blocks forever on a loop that went away: if the loop was closed or dropped
    /// before finishing the coroutine, the outcome is a cancellation.
    ///
    /// # Errors
    ///
    /// A [`TaskError`]: the work panicked, or was cancelled (by [`cancel`](Self::cancel), on
    /// the loop, or because the loop or executor was closed before running it).
    ///
    /// # Panics
    ///
    /// If the result was already taken by [`result_timeout`](Self::result_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::new_event_loop();
    /// let cf = lp.threadsafe_handle().run_coroutine_threadsafe(|| async { "never run" });
    /// drop(lp); // the loop is gone before it ran the coroutine
    /// assert!(cf.result().unwrap_err().is_cancelled());
    /// ```
    pub fn result(self) -> Result<T, TaskError> {
        let mut state = lock(&self.shared.state);
        loop {
            match state.stage.take_outcome() {
                Outcome::Ready(result) => return result,
                Outcome::AlreadyTaken => {
                    drop(state);
                    already_taken()
                }
                Outcome::NotYet => {
                    state = self
                        .shared
                        .changed
                        .wait(state)
                        .unwrap_or_else(|e| e.into_inner());
                }
            }
        }
    }

    /// Like [`result`](Self::result), but gives up after `timeout` (seconds or a `Duration`):
    /// `None` if the outcome is not known by then (where `concurrent.futures` raises
    /// `TimeoutError`). A `Some` takes the result out.
    ///
    /// # Panics
    ///
    /// If the result was already taken.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let pool = asyncio::ThreadPoolExecutor::new();
    /// let cf = pool.submit(move || rx.recv().is_ok()).unwrap();
    /// assert!(cf.result_timeout(0.01).is_none()); // still waiting for the message
    /// tx.send(()).unwrap();
    /// assert_eq!(cf.result_timeout(10).unwrap().unwrap(), true);
    /// ```
    pub fn result_timeout(&self, timeout: impl Delay) -> Option<Result<T, TaskError>> {
        let deadline = Instant::now().checked_add(timeout.into_duration());
        let mut state = lock(&self.shared.state);
        loop {
            match state.stage.take_outcome() {
                Outcome::Ready(result) => return Some(result),
                Outcome::AlreadyTaken => {
                    drop(state);
                    already_taken()
                }
                Outcome::NotYet => {
                    let left = match deadline {
                        Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                        None => Duration::MAX,
                    };
                    if left.is_zero() {
                        return None;
                    }
                    state = self
                        .shared
                        .changed
                        .wait_timeout(state, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
    }

    /// True once the outcome is known: finished, panicked or cancelled
    /// (`concurrent.futures.Future.done()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = asyncio::ThreadPoolExecutor::new();
    /// let cf = pool.submit(|| 1).unwrap();
    /// while !cf.done() {
    ///     std::thread::yield_now();
    /// }
    /// assert_eq!(cf.result().unwrap(), 1);
    /// ```
    pub fn done(&self) -> bool {
        lock(&self.shared.state).stage.is_final()
    }

    /// True if the future was cancelled, by [`cancel`](Self::cancel) or because its work was
    /// cancelled or abandoned (`concurrent.futures.Future.cancelled()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::new_event_loop();
    /// let cf = lp.threadsafe_handle().run_coroutine_threadsafe(|| async {});
    /// assert!(!cf.cancelled());
    /// lp.close().unwrap();
    /// assert!(cf.cancelled());
    /// ```
    pub fn cancelled(&self) -> bool {
        matches!(lock(&self.shared.state).stage, Stage::Cancelled)
    }

    /// True while an executor thread is running the function
    /// (`concurrent.futures.Future.running()`). A coroutine submitted with
    /// `run_coroutine_threadsafe` is never "running" in this sense, as in asyncio.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let (started_tx, started) = std::sync::mpsc::channel();
    /// let pool = asyncio::ThreadPoolExecutor::new();
    /// let cf = pool
    ///     .submit(move || {
    ///         started_tx.send(()).unwrap();
    ///         rx.recv().unwrap();
    ///     })
    ///     .unwrap();
    /// started.recv().unwrap();
    /// assert!(cf.running());
    /// tx.send(()).unwrap();
    /// cf.result().unwrap();
    /// ```
    pub fn running(&self) -> bool {
        matches!(lock(&self.shared.state).stage, Stage::Running)
    }

    /// Cancels the work if it has not started (`concurrent.futures.Future.cancel()`): a job
    /// still queued in an executor will not run; a coroutine submitted with
    /// `run_coroutine_threadsafe` has its loop-side task cancelled. Returns false if it is
    /// already running in a thread or finished, true if it is (now) cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::new_event_loop();
    /// let handle = lp.threadsafe_handle();
    /// let worker = std::thread::spawn(move || {
    ///     let cf = handle.run_coroutine_threadsafe(|| asyncio::sleep(3600));
    ///     assert!(cf.cancel()); // the loop-side task is cancelled: no hour-long wait
    ///     let outcome = cf.result();
    ///     handle.stop();
    ///     outcome
    /// });
    /// lp.run_forever().unwrap();
    /// assert!(worker.join().unwrap().unwrap_err().is_cancelled());
    /// ```
    pub fn cancel(&self) -> bool {
        let mut state = lock(&self.shared.state);
        match state.stage {
            Stage::Cancelled => true,
            Stage::Pending => {
                state.stage = Stage::Cancelled;
                let waiter = state.waiter.take();
                let on_cancel = state.on_cancel.take();
                drop(state);
                self.shared.changed.notify_all();
                wake(on_cancel);
                wake(waiter);
                true
            }
            Stage::Running | Stage::Done(_) | Stage::Taken => false,
        }
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Awaiting the future itself waits for its outcome without blocking the loop; dropping the
/// awaiting future does not cancel the work (use [`wrap_future`] for that link).
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let pool = asyncio::ThreadPoolExecutor::new();
///     let cf = pool.submit(|| "from a thread").unwrap();
///     assert_eq!(cf.await.unwrap(), "from a thread");
/// });
/// ```
impl<T> Future for ConcurrentFuture<T> {
    type Output = Result<T, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let waker = cx.waker().clone(); // cloned before locking: a waker's clone is foreign code
        let mut state = lock(&self.shared.state);
        match state.stage.take_outcome() {
            Outcome::Ready(result) => Poll::Ready(result),
            Outcome::AlreadyTaken => {
                drop(state);
                already_taken()
            }
            Outcome::NotYet => {
                let old = state.waiter.replace(waker);
                drop(state);
                drop(old);
                Poll::Pending
            }
        }
    }
}

impl<T> fmt::Debug for ConcurrentFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match lock(&self.shared.state).stage {
            Stage::Pending => "pending",
            Stage::Running => "running",
            Stage::Done(Ok(_)) => "finished",
            Stage::Done(Err(_)) => "failed",
            Stage::Cancelled => "cancelled",
            Stage::Taken => "finished (result taken)",
        };
        f.debug_struct("ConcurrentFuture")
            .field("state", &state)
            .finish()
    }
}

/// The producing half of a [`ConcurrentFuture`]: settles it once. Dropping it unsettled
/// cancels the future, which is how a closed loop or a discarded job reaches the waiters.
pub(crate) struct Completer<T> {
    shared: Arc<Shared<T>>,
    settled: bool,
}

impl<T> Completer<T> {
    /// A worker takes the job: `Pending -> Running`. False if the future was cancelled, in
    /// which case the job must not run.
    pub(crate) fn start(&self) -> bool {
        let mut state = lock(&self.shared.state);
        match state.stage {
            Stage::Pending => {
                state.stage = Stage::Running;
                true
            }
            _ => false,
        }
    }

    /// True if the consumer cancelled the future.
    pub(crate) fn is_cancelled(&self) -> bool {
        matches!(lock(&self.shared.state).stage, Stage::Cancelled)
    }

    /// True if the consumer cancelled the future; otherwise `waker` is woken when it does.
    pub(crate) fn poll_cancelled(&self, waker: &Waker) -> bool {
        let waker = waker.clone();
        let mut state = lock(&self.shared.state);
        if matches!(state.stage, Stage::Cancelled) {
            return true;
        }
        let old = state.on_cancel.replace(waker);
        drop(state);
        drop(old);
        false
    }

    /// Settles the future with `result` (a cancellation error settles it as cancelled). A
    /// future cancelled meanwhile keeps its cancellation; `result` is then dropped.
    pub(crate) fn finish(mut self, result: Result<T, TaskError>) {
        self.settled = true;
        let stage = match result {
            Err(e) if e.is_cancelled() => Stage::Cancelled,
            result => Stage::Done(result),
        };
        self.settle(stage);
    }

    fn settle(&self, stage: Stage<T>) {
        let mut state = lock(&self.shared.state);
        let (unused, on_cancel, waiter) = if state.stage.is_final() {
            (Some(stage), None, None)
        } else {
            state.stage = stage;
            (None, state.on_cancel.take(), state.waiter.take())
        };
        drop(state);
        self.shared.changed.notify_all();
        // Outside the lock: the value nobody will read, and a waker no longer needed.
        drop(unused);
        drop(on_cancel);
        wake(waiter);
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        if !self.settled {
            self.settle(Stage::Cancelled);
        }
    }
}

/// The loop-side half of `run_coroutine_threadsafe`: waits for the coroutine's task and
/// hands its outcome to the [`ConcurrentFuture`]; cancels the task if the future is cancelled
/// first. Dropped unfinished (the loop closed), its `Completer` cancels the future.
pub(crate) struct Forward<T> {
    task: TaskFuture<T>,
    completer: Option<Completer<T>>,
}

impl<T> Forward<T> {
    pub(crate) fn new(task: TaskFuture<T>, completer: Completer<T>) -> Forward<T> {
        Forward {
            task,
            completer: Some(completer),
        }
    }
}

impl<T> Future for Forward<T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(completer) = &self.completer else {
            return Poll::Ready(());
        };
        if completer.poll_cancelled(cx.waker()) {
            self.task.task().cancel();
            self.completer = None;
            return Poll::Ready(());
        }
        match Pin::new(&mut self.task).poll(cx) {
            Poll::Ready(result) => {
                if let Some(completer) = self.completer.take() {
                    completer.finish(result);
                }
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Makes a [`ConcurrentFuture`] awaitable on an event loop with asyncio's cancellation link:
/// asyncio's `asyncio.wrap_future`.
///
/// Awaiting the result gives the future's outcome without blocking the loop (the producing
/// thread wakes the awaiting task through the loop's cross-thread inbox). Dropping the
/// [`WrappedFuture`] before it finishes, which is how a task is cancelled here (by
/// [`wait_for`](crate::wait_for), [`Task::cancel`](crate::Task::cancel), ...), cancels the
/// concurrent future, as asyncio's cancellation of the wrapper does: a job still queued in its
/// executor never runs (one already running finishes, and its result is dropped).
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let pool = asyncio::ThreadPoolExecutor::new();
///     let cf = pool.submit(|| (1..=10).sum::<u32>()).unwrap();
///     assert_eq!(asyncio::wrap_future(cf).await.unwrap(), 55);
/// });
/// ```
pub fn wrap_future<T>(future: ConcurrentFuture<T>) -> WrappedFuture<T> {
    WrappedFuture {
        inner: future,
        finished: false,
        hold: with_running(|core| core.remote().hold_clock()),
    }
}

/// A [`ConcurrentFuture`] made awaitable by [`wrap_future`]; what
/// [`EventLoop::run_in_executor`](crate::EventLoop::run_in_executor) returns. Dropping it
/// unfinished cancels the concurrent future.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let lp = asyncio::get_running_loop().unwrap();
///     let wrapped: asyncio::WrappedFuture<u8> = lp.run_in_executor(|| 7).unwrap();
///     assert_eq!(wrapped.await.unwrap(), 7);
/// });
/// ```
#[must_use = "dropping a WrappedFuture cancels its work if it has not started"]
pub struct WrappedFuture<T> {
    inner: ConcurrentFuture<T>,
    finished: bool,
    /// Keeps a virtual clock from jumping past the work while it runs.
    hold: Option<ClockHold>,
}

impl<T> WrappedFuture<T> {
    /// True once the outcome is known (asyncio's `Future.done()`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let wrapped = lp.run_in_executor(|| ()).unwrap();
    ///     while !wrapped.done() {
    ///         asyncio::sleep(0.001).await;
    ///     }
    ///     wrapped.await.unwrap();
    /// });
    /// ```
    pub fn done(&self) -> bool {
        self.inner.done()
    }
}

impl<T> Future for WrappedFuture<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let poll = Pin::new(&mut self.inner).poll(cx);
        if poll.is_ready() {
            self.finished = true;
            self.hold = None;
        }
        poll
    }
}

impl<T> Drop for WrappedFuture<T> {
    fn drop(&mut self) {
        if !self.finished {
            self.inner.cancel();
        }
    }
}

impl<T> fmt::Debug for WrappedFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WrappedFuture").field(&self.inner).finish()
    }
}

// ----- ThreadPoolExecutor ----------------------------------------------------------------------

/// How long an idle worker thread waits for a job before it exits, unless configured with
/// [`ExecutorBuilder::keep_alive`]. (CPython's threads never exit; ten seconds, as tokio's
/// blocking pool, lets a burst of work reuse its threads and an idle program hold none.)
///
/// # Examples
///
/// ```
/// assert_eq!(asyncio::DEFAULT_KEEP_ALIVE, std::time::Duration::from_secs(10));
/// ```
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// A pool of std threads that runs blocking functions: `concurrent.futures.ThreadPoolExecutor`,
/// which asyncio uses as every loop's default executor.
///
/// Threads are started lazily, one per submitted job that finds no idle thread, up to
/// [`max_workers`](Self::max_workers) (by default `min(32, cpus + 4)`, as CPython); further jobs
/// queue in order. A thread idle for the keep-alive ([`DEFAULT_KEEP_ALIVE`], 10 s) exits. A
/// panic in a job becomes that job's error; the thread lives on.
///
/// `ThreadPoolExecutor` is a cheap handle: clones share the pool, and when the last one is
/// dropped the pool shuts down without waiting (queued jobs still run, then the threads exit).
///
/// # Examples
///
/// ```
/// let pool = asyncio::ThreadPoolExecutor::builder().max_workers(2).build();
/// let jobs: Vec<_> = (0..4).map(|i| pool.submit(move || i * 10).unwrap()).collect();
/// let results: Vec<i32> = jobs.into_iter().map(|cf| cf.result().unwrap()).collect();
/// assert_eq!(results, [0, 10, 20, 30]);
/// assert!(pool.thread_count() <= 2);
/// ```
#[derive(Clone)]
pub struct ThreadPoolExecutor {
    owner: Arc<Owner>,
}

/// Shuts the pool down (without waiting) when the last handle goes. The workers hold the
/// `Pool` itself, so they do not keep it running.
struct Owner {
    pool: Arc<Pool>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.pool.shutdown(false);
    }
}

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    state: Mutex<PoolState>,
    /// Signalled when a job is queued or the pool shuts down.
    work: Condvar,
    max_workers: usize,
    keep_alive: Duration,
    thread_name_prefix: String,
}

struct PoolState {
    queue: VecDeque<Job>,
    /// Worker threads alive (started and not yet exiting).
    threads: usize,
    /// Workers waiting for a job. A queued job finds a thread if `queue.len() <= idle`.
    idle: usize,
    shutdown: bool,
    /// Handles of started threads; finished ones are reaped at the next start.
    handles: Vec<JoinHandle<()>>,
    started: usize,
}

/// Builds a [`ThreadPoolExecutor`]: its size, its threads' keep-alive and names.
///
/// # Examples
///
/// ```
/// let pool = asyncio::ThreadPoolExecutor::builder()
///     .max_workers(4)
///     .keep_alive(0.5) // idle threads exit after half a second
///     .thread_name_prefix("resolver")
///     .build();
/// let name = pool.submit(|| std::thread::current().name().map(str::to_owned)).unwrap();
/// assert_eq!(name.result().unwrap().as_deref(), Some("resolver_0"));
/// ```
#[derive(Debug, Clone)]
pub struct ExecutorBuilder {
    max_workers: usize,
    keep_alive: Duration,
    thread_name_prefix: String,
}

impl ExecutorBuilder {
    /// At most `n` threads (CPython's `max_workers`).
    ///
    /// # Panics
    ///
    /// If `n` is 0 (CPython raises `ValueError`).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = asyncio::ThreadPoolExecutor::builder().max_workers(3).build();
    /// assert_eq!(pool.max_workers(), 3);
    /// ```
    pub fn max_workers(mut self, n: usize) -> ExecutorBuilder {
        assert!(
            n > 0,
            "ThreadPoolExecutor: max_workers must be greater than 0"
        );
        self.max_workers = n;
        self
    }

    /// How long an idle thread waits for work before it exits (seconds or a `Duration`).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = asyncio::ThreadPoolExecutor::builder().keep_alive(0.001).build();
    /// pool.submit(|| ()).unwrap().result().unwrap();
    /// while pool.thread_count() > 0 {
    ///     std::thread::yield_now(); // the idle thread exits a millisecond later
    /// }
    /// ```
    pub fn keep_alive(mut self, idle: impl Delay) -> ExecutorBuilder {
        self.keep_alive = idle.into_duration();
        self
    }

    /// Threads are named `<prefix>_0`, `<prefix>_1`, ... (CPython's `thread_name_prefix`;
    /// `asyncio` by default, as asyncio's default executor).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = asyncio::ThreadPoolExecutor::new();
    /// let name = pool.submit(|| std::thread::current().name().map(str::to_owned)).unwrap();
    /// assert_eq!(name.result().unwrap().as_deref(), Some("asyncio_0"));
    /// ```
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> ExecutorBuilder {
        self.thread_name_prefix = prefix.into();
        self
    }

    /// Creates the pool. No thread starts until the first job.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = asyncio::ThreadPoolExecutor::builder().build();
    /// assert_eq!(pool.thread_count(), 0);
    /// ```
    pub fn build(self) -> ThreadPoolExecutor {
        let pool = Pool {
            state: Mutex::new(PoolState {
                queue: VecDeque::new(),
                threads: 0,
                idle: 0,
                shutdown: false,
                handles: Vec::new(),
                started: 0,
            }),
            work: Condvar::new(),
            max_workers: self.max_workers,
            keep_alive: self.keep_alive,
            thread_name_prefix: self.thread_name_prefix,
        };
        ThreadPoolExecutor {
            owner: Arc::new(Owner {
                pool: Arc::new(pool),
            }),
        }
    }
}

impl Default for ExecutorBuilder {
    fn default() -> ExecutorBuilder {
        ExecutorBuilder {
            max_workers: default_max_workers(),
            keep_alive: DEFAULT_KEEP_ALIVE,
            thread_name_prefix: "asyncio".to_owned(),
        }
    }
}

/// CPython's default: `min(32, cpus + 4)`, enough threads for I/O-bound work without
/// swamping a big machine.
fn default_max_workers() -> usize {
    let cpus = thread::available_parallelism().map_or(1, NonZero::get);
    (cpus + 4).min(32)
}

impl ThreadPoolExecutor {
    /// A pool with the defaults: `min(32, cpus + 4)` threads, 10 s keep-alive.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = asyncio::ThreadPoolExecutor::new();
    /// assert_eq!(pool.thread_count(), 0); // threads start with the first job
    /// ```
    pub fn new() -> ThreadPoolExecutor {
        ExecutorBuilder::default().build()
    }

    /// A builder to choose the pool's size, keep-alive and thread names.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = asyncio::ThreadPoolExecutor::builder().max_workers(1).build();
    /// assert_eq!(pool.max_workers(), 1);
    /// ```
    pub fn builder() -> ExecutorBuilder {
        ExecutorBuilder::default()
    }

    /// Queues `f` to run on a pool thread and returns its [`ConcurrentFuture`]
    /// (`executor.submit(fn)`). A panic in `f` becomes the future's error.
    ///
    /// # Errors
    ///
    /// [`RuntimeError::ExecutorShutdown`] once the pool was shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = asyncio::ThreadPoolExecutor::new();
    /// let failed = pool.submit(|| -> u8 { panic!("bad input") }).unwrap();
    /// assert_eq!(failed.result().unwrap_err().panic_message(), Some("bad input"));
    /// assert_eq!(pool.submit(|| 1).unwrap().result().unwrap(), 1); // the pool lives on
    /// ```
    pub fn submit<F, T>(&self, f: F) -> Result<ConcurrentFuture<T>, RuntimeError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (future, completer) = ConcurrentFuture::pair();
        let job: Job = Box::new(move || {
            if completer.start() {
                let result = catch_unwind(AssertUnwindSafe(f)).map_err(TaskError::panic);
                completer.finish(result);
            }
            // Otherwise the future was cancelled while queued: `f` is dropped unrun.
        });
        self.owner.pool.push(job)?;
        Ok(future)
    }

    /// Shuts the pool down (`executor.shutdown(wait)`): no new jobs are accepted; the queued
    /// ones still run, then the threads exit. With `wait`, blocks until every thread has
    /// exited. Calling it again is harmless.
    ///
    /// On an event loop, prefer
    /// [`EventLoop::shutdown_default_executor`](crate::EventLoop::shutdown_default_executor),
    /// which waits without blocking the loop.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = asyncio::ThreadPoolExecutor::new();
    /// let cf = pool.submit(|| 5).unwrap();
    /// pool.shutdown(true);
    /// assert_eq!(pool.thread_count(), 0);
    /// assert_eq!(cf.result().unwrap(), 5); // queued work finished first
    /// assert_eq!(pool.submit(|| 6).unwrap_err(), asyncio::RuntimeError::ExecutorShutdown);
    /// ```
    pub fn shutdown(&self, wait: bool) {
        self.owner.pool.shutdown(wait);
    }

    /// The most threads this pool runs at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let cpus = std::thread::available_parallelism().unwrap().get();
    /// assert_eq!(asyncio::ThreadPoolExecutor::new().max_workers(), (cpus + 4).min(32));
    /// ```
    pub fn max_workers(&self) -> usize {
        self.owner.pool.max_workers
    }

    /// How many worker threads are alive now.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = asyncio::ThreadPoolExecutor::builder().keep_alive(0.01).build();
    /// pool.submit(|| ()).unwrap().result().unwrap();
    /// assert!(pool.thread_count() <= 1);
    /// while pool.thread_count() > 0 {
    ///     std::thread::sleep(std::time::Duration::from_millis(1)); // it exits when idle
    /// }
    /// ```
    pub fn thread_count(&self) -> usize {
        lock(&self.owner.pool.state).threads
    }
}

impl Default for ThreadPoolExecutor {
    fn default() -> ThreadPoolExecutor {
        ThreadPoolExecutor::new()
    }
}

impl fmt::Debug for ThreadPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pool = &self.owner.pool;
        let state = lock(&pool.state);
        f.debug_struct("ThreadPoolExecutor")
            .field("max_workers", &pool.max_workers)
            .field("threads", &state.threads)
            .field("queued", &state.queue.len())
            .field("shutdown", &state.shutdown)
            .finish()
    }
}

impl Pool {
    /// Queues a job and makes sure a thread will take it: an idle one, or a new one while
    /// under the bound (otherwise it waits for the next thread that finishes a job).
    fn push(self: &Arc<Pool>, job: Job) -> Result<(), RuntimeError> {
        let mut state = lock(&self.state);
        if state.shutdown {
            drop(state);
            drop(job); // the caller's closure, dropped outside the lock
            return Err(RuntimeError::ExecutorShutdown);
        }
        state.queue.push_back(job);
        if state.idle > 0 {
            self.work.notify_one();
        }
        if state.queue.len() > state.idle && state.threads < self.max_workers {
            self.start_thread(state);
        }
        Ok(())
    }

    /// Starts a worker. Called with the lock held, so the new thread (which begins by taking
    /// the lock) sees the queue only once its handle is stored.
    fn start_thread(self: &Arc<Pool>, mut state: MutexGuard<'_, PoolState>) {
        state.handles.retain(|h| !h.is_finished());
        let name = format!("{}_{}", self.thread_name_prefix, state.started);
        let pool = Arc::clone(self);
        match thread::Builder::new().name(name).spawn(move || pool.work()) {
            Ok(handle) => {
                state.threads += 1;
                state.started += 1;
                state.handles.push(handle);
            }
            Err(e) if state.threads == 0 => {
                // Nobody will ever run the queue: settle its jobs as cancelled rather than
                // leave their waiters hanging, and say why.
                let abandoned = std::mem::take(&mut state.queue);
                drop(state);
                drop(abandoned);
                report(ExceptionContext {
                    message: format!(
                        "ThreadPoolExecutor: could not start a worker thread ({e}); \
                         the queued jobs were cancelled"
                    ),
                    task: None,
                    panic: None,
                });
            }
            Err(_) => {} // the running threads will get to the job
        }
    }

    /// A worker thread's life: run queued jobs; when there are none, wait up to the
    /// keep-alive for one, then exit. After shutdown, finish the queue and exit.
    fn work(&self) {
        let mut state = lock(&self.state);
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                run_job(job);
                state = lock(&self.state);
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let deadline = Instant::now().checked_add(self.keep_alive);
            while state.queue.is_empty() && !state.shutdown {
                let left = match deadline {
                    Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                    None => Duration::MAX,
                };
                if left.is_zero() {
                    break;
                }
                state = self
                    .work
                    .wait_timeout(state, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            state.idle -= 1;
            if state.queue.is_empty() && !state.shutdown {
                break; // idle for the whole keep-alive
            }
        }
        state.threads -= 1;
    }

    fn shutdown(&self, wait: bool) {
        let handles = {
            let mut state = lock(&self.state);
            state.shutdown = true;
            if wait {
                std::mem::take(&mut state.handles)
            } else {
                Vec::new()
            }
        };
        self.work.notify_all();
        let me = thread::current().id();
        for handle in handles {
            if handle.thread().id() != me {
                // A worker never unwinds (see `run_job`), so there is no panic to collect.
                let _ = handle.join();
            }
        }
    }
}

/// Runs a job so that nothing unwinds out of the worker. The job's own panic is already its
/// future's error; what could still panic here is dropping a value (the unread result, a
/// cancelled job's closure), so that is caught too, and a payload whose drop panics again is
/// leaked rather than allowed to abort the thread.
fn run_job(job: Job) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(job)) {
        if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            std::mem::forget(again);
        }
    }
}
