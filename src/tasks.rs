//! Tasks and the functions that run them: asyncio's `tasks.py`.
//!
//! [`create_task`] schedules a future on the running loop and returns a [`Task`] handle;
//! [`sleep`] suspends the current task; [`gather`](fn@gather) and [`wait`] wait for several tasks.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::events::{EventLoop, get_event_loop, get_running_loop};
use crate::exceptions::{TaskError, TryGatherError};
use crate::runtime::core::{with_loop, with_running};
use crate::runtime::task::cell::{Join, Runnable, TaskCell, in_cancel_scope};
use crate::runtime::task::finished::FinishedSet;
use crate::runtime::task::rc::TaskRc;
use crate::runtime::time::wheel::TimerKey;

/// A future scheduled on an event loop: asyncio's `asyncio.Task`.
///
/// Created by [`create_task`], [`ensure_future`] or
/// [`EventLoop::create_task`](crate::EventLoop::create_task). The task starts running at the
/// loop's next iteration whether or not anyone awaits it, and dropping the handle does **not**
/// cancel it: the loop keeps the task alive until it finishes, as asyncio does.
///
/// Awaiting the handle gives the task's output, or a [`TaskError`] if the task panicked or was
/// cancelled.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let task = asyncio::create_task(async { 6 * 7 });
///     assert_eq!(task.await.unwrap(), 42);
/// });
/// ```
pub struct Task<T> {
    cell: TaskRc<dyn Join<T>>,
}

impl<T> Task<T> {
    #[inline]
    pub(crate) fn from_cell<F>(cell: TaskRc<TaskCell<F>>) -> Task<T>
    where
        F: Future<Output = T> + 'static,
    {
        Task {
            cell: cell.into_join(),
        }
    }

    /// True once the task has finished: returned, panicked or been cancelled (asyncio's
    /// `Task.done()`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let task = asyncio::create_task(async {});
    ///     assert!(!task.done());
    ///     asyncio::sleep(0).await; // let it run
    ///     assert!(task.done());
    /// });
    /// ```
    pub fn done(&self) -> bool {
        self.cell.header().is_done()
    }

    /// True if the task finished by being cancelled (asyncio's `Task.cancelled()`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let task = asyncio::create_task(async {});
    ///     assert!(!task.cancelled());
    /// });
    /// ```
    pub fn cancelled(&self) -> bool {
        self.cell.header().is_cancelled()
    }

    /// Asks the task to stop (asyncio's `Task.cancel`): at the loop's next iteration its future
    /// is dropped instead of polled, so its destructors run, and awaiting the task gives a
    /// cancelled [`TaskError`]. Returns false if the task had already finished.
    ///
    /// As in asyncio, the cancellation travels down the await chain: the task (or
    /// [`Future`](crate::Future)) this one is awaiting when its future is dropped is cancelled
    /// too, at the next iteration, and so on (not [`shield`](crate::shield)ed ones). A task
    /// cancelled during its own step (it cancels itself, say) still ends cancelled, even if that
    /// step returns.
    ///
    /// Unlike asyncio, the task's code sees no `CancelledError` and cannot refuse: Rust's
    /// cancellation is dropping the future. (A request not yet carried out can be withdrawn with
    /// [`uncancel`](Task::uncancel).)
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let task = asyncio::create_task(asyncio::sleep(3600));
    ///     assert!(task.cancel());
    ///     let err = task.await.unwrap_err();
    ///     assert!(err.is_cancelled());
    /// });
    /// ```
    pub fn cancel(&self) -> bool {
        self.cell.header().request_cancel(None)
    }

    /// [`cancel`](Task::cancel) with a message, which the task's [`TaskError`] carries (asyncio's
    /// `Task.cancel(msg=...)`; see [`TaskError::cancel_message`]).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let task = asyncio::create_task(asyncio::sleep(3600));
    ///     task.cancel_with_msg("user pressed stop");
    ///     let err = task.await.unwrap_err();
    ///     assert_eq!(err.cancel_message(), Some("user pressed stop"));
    /// });
    /// ```
    pub fn cancel_with_msg(&self, msg: impl AsRef<str>) -> bool {
        self.cell.header().request_cancel(Some(msg.as_ref()))
    }

    /// How many cancellation requests the task has had and not withdrawn with
    /// [`uncancel`](Task::uncancel) (asyncio's `Task.cancelling()`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let task = asyncio::create_task(asyncio::sleep(3600));
    ///     assert_eq!(task.cancelling(), 0);
    ///     task.cancel();
    ///     task.cancel();
    ///     assert_eq!(task.cancelling(), 2);
    /// });
    /// ```
    pub fn cancelling(&self) -> u32 {
        self.cell.header().cancelling()
    }

    /// Withdraws one cancellation request and returns how many are left (asyncio's
    /// `Task.uncancel()`). When none is left, a cancellation the loop has not carried out yet
    /// does not happen: the task goes on running, and so does what it awaits.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let task = asyncio::create_task(async {
    ///         asyncio::sleep(0).await;
    ///         "survived"
    ///     });
    ///     task.cancel();
    ///     assert_eq!(task.uncancel(), 0); // changed our mind before the loop acted on it
    ///     assert_eq!(task.await.unwrap(), "survived");
    /// });
    /// ```
    pub fn uncancel(&self) -> u32 {
        self.cell.header().uncancel()
    }

    /// The task's name (asyncio's `Task.get_name`): `Task-N` unless set.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let task = asyncio::create_task(async {});
    ///     assert!(task.get_name().starts_with("Task-"));
    ///     task.set_name("worker");
    ///     assert_eq!(task.get_name(), "worker");
    /// });
    /// ```
    pub fn get_name(&self) -> String {
        self.cell.header().name()
    }

    /// Renames the task (asyncio's `Task.set_name`).
    pub fn set_name(&self, name: impl AsRef<str>) {
        self.cell.header().set_name(name.as_ref());
    }

    /// The result without waiting (asyncio's `Task.result`), for outputs that can be copied.
    ///
    /// One outcome, as in asyncio: the value, or the [`TaskError`] that awaiting the task
    /// would give (it panicked, or was cancelled), or, while the task is still running, a
    /// `TaskError` for which [`is_not_done`](TaskError::is_not_done) is true (asyncio raises
    /// `InvalidStateError` there). The result stays in the task: awaiting it later still
    /// gives it.
    ///
    /// # Errors
    ///
    /// As above: not done yet, panicked, or cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let task = asyncio::create_task(async { 5 });
    ///     assert!(task.result().unwrap_err().is_not_done());
    ///     asyncio::sleep(0).await;
    ///     assert_eq!(task.result().unwrap(), 5);
    ///
    ///     let doomed = asyncio::create_task(asyncio::sleep(3600));
    ///     doomed.cancel();
    ///     asyncio::sleep(0).await;
    ///     assert!(doomed.result().unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn result(&self) -> Result<T, TaskError>
    where
        T: Clone,
    {
        match self.cell.peek() {
            Some(outcome) => outcome,
            None if self.done() => {
                panic!("Task::result: the result was already taken by awaiting the task")
            }
            None => Err(TaskError::not_done()),
        }
    }

    /// Adds a callback to run on the loop soon after the task finishes (asyncio's
    /// `Task.add_done_callback`); at once (next iteration) if it already has. Returns an id for
    /// [`remove_done_callback`](Task::remove_done_callback).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// asyncio::run(async {
    ///     let seen = Rc::new(Cell::new(false));
    ///     let task = asyncio::create_task(async {});
    ///     let s = seen.clone();
    ///     task.add_done_callback(move |t| s.set(t.done()));
    ///     task.await.unwrap();
    ///     asyncio::sleep(0).await;
    ///     assert!(seen.get());
    /// });
    /// ```
    pub fn add_done_callback(&self, f: impl FnOnce(&TaskRef) + 'static) -> u64
    where
        T: 'static,
    {
        let me = TaskRef::from_task(self);
        self.cell
            .header()
            .add_done_callback(Box::new(move || f(&me)))
    }

    /// Removes a done callback by the id `add_done_callback` gave; true if it was still
    /// registered (asyncio's `Task.remove_done_callback`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let task = asyncio::create_task(async {});
    ///     let id = task.add_done_callback(|_| unreachable!());
    ///     assert!(task.remove_done_callback(id));
    ///     task.await.unwrap();
    ///     asyncio::sleep(0).await;
    /// });
    /// ```
    pub fn remove_done_callback(&self, id: u64) -> bool {
        self.cell.header().remove_done_callback(id)
    }

    /// Takes the result if done; otherwise registers the waker. Records nothing on the polling
    /// task: cancelling it does not cancel this one (gather and shield poll this way).
    pub(crate) fn poll_result(&self, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>> {
        #[cfg(test)]
        tests::LOOKS.set(tests::LOOKS.get() + 1);
        self.cell.poll_join(cx)
    }

    /// Makes the task a member of `set` at `place` (a gather or a wait over many tasks):
    /// when it finishes it records `place` there (see `runtime/task/finished.rs`).
    fn join_set(&self, set: &Rc<FinishedSet>, place: usize, cx: &Context<'_>) {
        self.cell.join_set(set, place, cx);
    }

    fn failed(&self) -> bool {
        #[cfg(test)]
        tests::LOOKS.set(tests::LOOKS.get() + 1);
        self.cell.header().is_failed()
    }
}

impl<T> IntoFuture for Task<T> {
    type Output = Result<T, TaskError>;
    type IntoFuture = TaskFuture<T>;

    fn into_future(self) -> TaskFuture<T> {
        TaskFuture {
            task: self,
            pending: false,
            finished: false,
        }
    }
}

/// The future that awaiting a [`Task`] runs: it resolves to the task's output.
///
/// `Task` is [`IntoFuture`] rather than a `Future` itself so that [`gather`](fn@gather),
/// [`ensure_future`] and friends can tell a task (used as it is, as asyncio does) from a
/// coroutine (scheduled as a new task): stable Rust cannot have both, see [`Awaitable`].
/// Call `.into_future()` to hand a task to a combinator that wants a `Future`
/// (`futures::join!`, `select!`, `FuturesUnordered`, `buffer_unordered`); the `TaskFuture` is
/// a [`FusedFuture`](::futures::future::FusedFuture), so `select!` takes it as it is.
///
/// # Examples
///
/// ```
/// use std::future::IntoFuture;
/// asyncio::run(async {
///     let fut: asyncio::TaskFuture<u8> = asyncio::create_task(async { 7 }).into_future();
///     assert_eq!(fut.await.unwrap(), 7);
/// });
/// ```
///
/// With the `futures` crate's combinators:
///
/// ```
/// use futures::stream::{FuturesUnordered, StreamExt};
/// use std::future::IntoFuture;
///
/// asyncio::run(async {
///     let a = asyncio::create_task(async { 1 });
///     let b = asyncio::create_task(async { 2 });
///     let (a, b) = futures::join!(a.into_future(), b.into_future());
///     assert_eq!((a.unwrap(), b.unwrap()), (1, 2));
///
///     let mut running: FuturesUnordered<_> = (0..3)
///         .map(|i| asyncio::create_task(async move { i * 10 }).into_future())
///         .collect();
///     let mut sum = 0;
///     while let Some(out) = running.next().await {
///         sum += out.unwrap();
///     }
///     assert_eq!(sum, 30);
/// });
/// ```
///
/// Awaiting a task ties it to the awaiting code, as in asyncio: when that code is cancelled
/// while the await is pending (its task cancelled, or a timeout or task group dropping it), the
/// awaited task is cancelled too. Dropping the `TaskFuture` otherwise leaves the task running.
/// [`shield`](crate::shield) unties them.
#[must_use = "a TaskFuture does nothing unless awaited (the task runs anyway)"]
pub struct TaskFuture<T> {
    task: Task<T>,
    /// Polled and not finished: dropping it inside a cancellation cancels the task.
    pending: bool,
    /// The result was given out: polling again would panic ([`FusedFuture`] says so).
    ///
    /// [`FusedFuture`]: ::futures::future::FusedFuture
    finished: bool,
}

impl<T> TaskFuture<T> {
    /// The task being awaited.
    pub fn task(&self) -> &Task<T> {
        &self.task
    }
}

impl<T> Future for TaskFuture<T> {
    type Output = Result<T, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let out = this.task.cell.poll_join(cx);
        this.pending = out.is_pending();
        this.finished = out.is_ready();
        out
    }
}

impl<T> ::futures::future::FusedFuture for TaskFuture<T> {
    /// True once the task's result was given out.
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

impl<T> Drop for TaskFuture<T> {
    fn drop(&mut self) {
        // Dropped while pending inside a cancellation (the awaiting task's future being dropped
        // because it was cancelled, a timeout dropping its operation): cancel the task, as the
        // CancelledError thrown into the awaiting coroutine would. An ordinary drop does not.
        if self.pending && in_cancel_scope() {
            self.task.cancel();
        }
    }
}

impl<T> fmt::Debug for TaskFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.task.fmt(f)
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<Task {} name='{}'>",
            state_name(self.cell.header()),
            self.get_name()
        )
    }
}

/// What asyncio's `repr(task)` shows first: `pending`, `cancelling`, `finished` or
/// `cancelled`.
fn state_name(header: &crate::runtime::task::cell::Header) -> &'static str {
    if header.is_cancelled() {
        "cancelled"
    } else if header.is_done() {
        "finished"
    } else if header.cancelling() > 0 {
        "cancelling"
    } else {
        "pending"
    }
}

/// A handle to any task, whatever its output type: what [`current_task`] and [`all_tasks`]
/// return, and what done callbacks receive.
///
/// It can name, inspect and cancel the task, but not take its result (that is the
/// [`Task`] handle's job).
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let worker = asyncio::create_task(async {
///         asyncio::current_task().unwrap().get_name()
///     });
///     worker.set_name("worker");
///     assert_eq!(worker.await.unwrap(), "worker");
/// });
/// ```
#[derive(Clone)]
pub struct TaskRef {
    task: TaskRc<dyn Runnable>,
}

impl TaskRef {
    pub(crate) fn from_task<T: 'static>(task: &Task<T>) -> TaskRef {
        TaskRef {
            task: task.cell.to_runnable(),
        }
    }

    /// The task's name.
    pub fn get_name(&self) -> String {
        self.task.header().name()
    }

    /// Renames the task.
    pub fn set_name(&self, name: impl AsRef<str>) {
        self.task.header().set_name(name.as_ref());
    }

    /// Asks the task to stop; see [`Task::cancel`].
    pub fn cancel(&self) -> bool {
        self.task.header().request_cancel(None)
    }

    /// Asks the task to stop, with a message; see [`Task::cancel_with_msg`].
    pub fn cancel_with_msg(&self, msg: impl AsRef<str>) -> bool {
        self.task.header().request_cancel(Some(msg.as_ref()))
    }

    /// Pending cancellation requests; see [`Task::cancelling`].
    pub fn cancelling(&self) -> u32 {
        self.task.header().cancelling()
    }

    /// Withdraws one cancellation request; see [`Task::uncancel`].
    pub fn uncancel(&self) -> u32 {
        self.task.header().uncancel()
    }

    /// True once the task has finished.
    pub fn done(&self) -> bool {
        self.task.header().is_done()
    }

    /// True if the task finished by being cancelled.
    pub fn cancelled(&self) -> bool {
        self.task.header().is_cancelled()
    }

    /// Marks the task's failure as reported elsewhere, so the loop does not report it as
    /// "never retrieved".
    pub(crate) fn mark_retrieved(&self) {
        self.task.header().mark_retrieved();
    }
}

impl PartialEq for TaskRef {
    fn eq(&self, other: &TaskRef) -> bool {
        self.task.header().id() == other.task.header().id()
    }
}

impl fmt::Debug for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<Task {} name='{}'>",
            state_name(self.task.header()),
            self.get_name()
        )
    }
}

impl<T: 'static> From<&Task<T>> for TaskRef {
    /// A type-erased handle to the same task (to keep in a list of tasks of different types,
    /// say).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let task = asyncio::create_task(async { 1 });
    ///     let any: asyncio::TaskRef = (&task).into();
    ///     assert_eq!(any.get_name(), task.get_name());
    /// });
    /// ```
    fn from(task: &Task<T>) -> TaskRef {
        TaskRef::from_task(task)
    }
}

/// The task running right now (asyncio's `asyncio.current_task`), or `None` outside a task.
///
/// The future given to `run`/`run_until_complete` is driven by the loop directly rather than
/// as a task, so inside it this is `None` (asyncio wraps it in a task).
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     assert!(asyncio::current_task().is_none());
///     let t = asyncio::create_task(async { asyncio::current_task().is_some() });
///     assert!(t.await.unwrap());
/// });
/// ```
pub fn current_task() -> Option<TaskRef> {
    with_running(|core| core.current_task())
        .flatten()
        .map(|task| TaskRef { task })
}

/// Every task of the running loop that has not finished (asyncio's `asyncio.all_tasks`).
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let _t = asyncio::create_task(asyncio::sleep(1));
///     assert_eq!(asyncio::all_tasks().len(), 1);
/// });
/// ```
pub fn all_tasks() -> Vec<TaskRef> {
    with_running(|core| core.all_tasks())
        .unwrap_or_default()
        .into_iter()
        .map(|task| TaskRef { task })
        .collect()
}

/// Creates a task whose first step runs right now, inside this call (asyncio 3.12's eager
/// tasks): a task that finishes without waiting never touches the run queue.
///
/// # Panics
///
/// If no event loop is running on this thread.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let task = asyncio::create_eager_task(async { 1 });
///     assert!(task.done()); // already finished: it never waited
///     assert_eq!(task.await.unwrap(), 1);
/// });
/// ```
pub fn create_eager_task<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
{
    match with_running(|core| Task::from_cell(core.spawn_with(future, true))) {
        Some(task) => task,
        None => {
            panic!("create_eager_task: no running event loop; call it inside asyncio::run(...)")
        }
    }
}

/// Schedules `future` on the running event loop: asyncio's `asyncio.create_task`.
///
/// The task runs concurrently with the caller, starting at the loop's next iteration.
///
/// # Panics
///
/// If no event loop is running on this thread. Use
/// [`EventLoop::create_task`](crate::EventLoop::create_task) or [`ensure_future`] to schedule a
/// task on a loop that is not running yet.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let a = asyncio::create_task(async { "hello" });
///     let b = asyncio::create_task(async { "world" });
///     assert_eq!((a.await.unwrap(), b.await.unwrap()), ("hello", "world"));
/// });
/// ```
#[inline]
pub fn create_task<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
{
    match with_running(|core| Task::from_cell(core.spawn(future))) {
        Some(task) => task,
        None => panic!(
            "create_task: no running event loop; call it inside asyncio::run(...) or a task, \
             or use EventLoop::create_task / asyncio::ensure_future"
        ),
    }
}

/// [`create_task`] with a name (asyncio's `create_task(coro, name=...)`): the task has its
/// name from the start, even an eager task whose first step runs inside this call.
///
/// # Panics
///
/// If no event loop is running on this thread.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let task = asyncio::create_task_named("fetcher", async {
///         asyncio::current_task().unwrap().get_name()
///     });
///     assert_eq!(task.get_name(), "fetcher");
///     assert_eq!(task.await.unwrap(), "fetcher");
/// });
/// ```
pub fn create_task_named<F>(name: impl AsRef<str>, future: F) -> Task<F::Output>
where
    F: Future + 'static,
{
    let name = name.as_ref();
    let spawned = with_running(|core| {
        if core.eager_tasks {
            // The first step runs inside spawn, before we could name the task: let the task
            // name itself as that step starts.
            Task::from_cell(core.spawn(Named::new(Some(name.into()), future)))
        } else {
            let task = Task::from_cell(core.spawn(future));
            task.set_name(name);
            task
        }
    });
    match spawned {
        Some(task) => task,
        None => panic!(
            "create_task_named: no running event loop; call it inside asyncio::run(...) or a task"
        ),
    }
}

pin_project_lite::pin_project! {
    /// A future that names its task when first polled: for an eager task, whose first step
    /// runs before its creator could name it ([`create_task_named`], a task group's
    /// `create_task_named`).
    pub(crate) struct Named<F> {
        name: Option<Box<str>>,
        #[pin]
        future: F,
    }
}

impl<F> Named<F> {
    /// Names the task `name` (if any) as `future` starts.
    pub(crate) fn new(name: Option<Box<str>>, future: F) -> Named<F> {
        Named { name, future }
    }
}

impl<F: Future> Future for Named<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if let Some(name) = this.name.take() {
            if let Some(me) = current_task() {
                me.set_name(&name);
            }
        }
        this.future.poll(cx)
    }
}

/// What [`ensure_future`], [`gather`](fn@gather) and [`gather!`](crate::gather!) accept: a [`Task`],
/// used as it is, or any future, scheduled as a new task (asyncio's "awaitable").
///
/// This is why a `Task` is [`IntoFuture`] and not a `Future` itself: if it were a future (of
/// `Result<T, TaskError>`), it would also be "any future", and stable Rust cannot give one type
/// two meanings here (that takes specialization). `gather(tasks)` would then have to wrap each
/// task in a new task and give `Vec<Result<T, TaskError>>` instead of the tasks' values. Where a
/// `Future` is wanted (`futures::join!`, `select!`, `FuturesUnordered`), pass
/// `task.into_future()`: see [`TaskFuture`].
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let task = asyncio::create_task(async { 1 });
///     // a task and a coroutine, side by side; the task is not wrapped again
///     let (a, b) = asyncio::gather!(task, async { 2 }).await.unwrap();
///     assert_eq!((a, b), (1, 2));
/// });
/// ```
pub trait Awaitable {
    /// What the awaitable produces.
    type Output: 'static;
    /// Schedules it on `event_loop` (a task is returned as it is).
    fn into_task(self, event_loop: &EventLoop) -> Task<Self::Output>;
    /// Keeps it to be scheduled later, on whichever loop first polls the combinator.
    #[doc(hidden)]
    fn defer(self) -> Deferred<Self::Output>;
}

impl<F> Awaitable for F
where
    F: Future + 'static,
    F::Output: 'static,
{
    type Output = F::Output;

    fn into_task(self, event_loop: &EventLoop) -> Task<F::Output> {
        event_loop.create_task(self)
    }

    fn defer(self) -> Deferred<F::Output> {
        Deferred::Future(Box::pin(self))
    }
}

impl<T: 'static> Awaitable for Task<T> {
    type Output = T;

    fn into_task(self, _: &EventLoop) -> Task<T> {
        self
    }

    fn defer(self) -> Deferred<T> {
        Deferred::Task(self)
    }
}

/// An awaitable waiting to be scheduled; not public API.
#[doc(hidden)]
pub enum Deferred<T> {
    Task(Task<T>),
    Future(Pin<Box<dyn Future<Output = T>>>),
}

impl<T: 'static> Deferred<T> {
    /// Schedules it on the running loop.
    fn schedule(self) -> Task<T> {
        match self {
            Deferred::Task(task) => task,
            Deferred::Future(f) => create_task(f),
        }
    }
}

impl<T> fmt::Debug for Deferred<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Deferred")
    }
}

/// Turns an awaitable into a task on the current event loop, running or not: asyncio's
/// `asyncio.ensure_future`. A [`Task`] is returned as it is.
///
/// Outside a running loop the task goes to [`get_event_loop`]'s loop and starts when that loop
/// runs, which is what the asyncio programs of Python 3.7 rely on.
///
/// # Examples
///
/// ```
/// let lp = asyncio::get_event_loop();
/// let task = asyncio::ensure_future(async { 1 + 1 });
/// assert_eq!(lp.run_until_complete(task).unwrap().unwrap(), 2);
/// ```
pub fn ensure_future<A: Awaitable>(awaitable: A) -> Task<A::Output> {
    // get_event_loop() is already "the running loop, else this thread's current one".
    awaitable.into_task(&get_event_loop())
}

/// Something [`sleep`] accepts as a delay: seconds as a number, or a [`Duration`].
///
/// Negative numbers sleep zero seconds (as in asyncio), NaN panics, and a delay too large to
/// represent (such as `f64::INFINITY` or `Duration::MAX`) never elapses.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// asyncio::run(async {
///     asyncio::sleep(0.001).await;
///     asyncio::sleep(Duration::from_millis(1)).await;
///     asyncio::sleep(0).await;
/// });
/// ```
pub trait Delay {
    /// The delay as a `Duration`.
    fn into_duration(self) -> Duration;

    /// The delay in seconds with its sign: where asyncio computes a deadline as
    /// `loop.time() + delay` (`timeout(-11)`, `call_later(-1, ...)`), a negative delay is a
    /// deadline in the past, earlier than a zero one.
    #[doc(hidden)]
    fn into_secs_f64(self) -> f64
    where
        Self: Sized,
    {
        self.into_duration().as_secs_f64()
    }
}

impl Delay for Duration {
    fn into_duration(self) -> Duration {
        self
    }
}

impl Delay for f64 {
    fn into_duration(self) -> Duration {
        assert!(
            !self.is_nan(),
            "sleep: the delay is NaN; pass a number of seconds"
        );
        if self <= 0.0 {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(self).unwrap_or(Duration::MAX)
        }
    }

    fn into_secs_f64(self) -> f64 {
        assert!(!self.is_nan(), "the delay is NaN; pass a number of seconds");
        self
    }
}

impl Delay for f32 {
    fn into_duration(self) -> Duration {
        f64::from(self).into_duration()
    }

    fn into_secs_f64(self) -> f64 {
        f64::from(self).into_secs_f64()
    }
}

impl Delay for i32 {
    fn into_duration(self) -> Duration {
        Duration::from_secs(self.max(0) as u64)
    }

    fn into_secs_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Delay for i64 {
    fn into_duration(self) -> Duration {
        Duration::from_secs(self.max(0) as u64)
    }

    fn into_secs_f64(self) -> f64 {
        self as f64
    }
}

impl Delay for u32 {
    fn into_duration(self) -> Duration {
        Duration::from_secs(u64::from(self))
    }
}

impl Delay for u64 {
    fn into_duration(self) -> Duration {
        Duration::from_secs(self)
    }
}

/// Suspends the current task for `delay`: asyncio's `asyncio.sleep`.
///
/// `sleep(0)` yields exactly once: every other ready task runs before this one resumes. A
/// positive delay registers a timer on the running loop when first awaited; the task resumes
/// no earlier than `delay` after that. Dropping the `Sleep` removes its timer.
///
/// # Panics
///
/// When a positive delay is awaited outside a running event loop, or the delay is NaN.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let lp = asyncio::get_running_loop().unwrap();
///     let start = lp.time();
///     asyncio::sleep(0.05).await;
///     assert!(lp.time() - start >= 0.05);
/// });
/// ```
pub fn sleep(delay: impl Delay) -> Sleep {
    Sleep {
        state: SleepState::Start(delay.into_duration()),
        _not_send: PhantomData,
    }
}

/// The future returned by [`sleep`].
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let nap: asyncio::Sleep = asyncio::sleep(0.01);
///     nap.await;
/// });
/// ```
#[must_use = "a Sleep does nothing unless awaited"]
pub struct Sleep {
    state: SleepState,
    /// A timer belongs to its loop's thread (`Timer` names the loop by number, and only that
    /// thread can reach the loop to remove it): a `Sleep` is not `Send`.
    _not_send: PhantomData<Rc<()>>,
}

/// Where a sleep is. The delay is kept only until the timer is registered, so a pending sleep
/// is three words (the timer-churn benchmark holds a million of them).
enum SleepState {
    Start(Duration),
    Yielded,
    /// Registered in the wheel of loop number `loop_id` (see `with_loop`).
    Timer {
        loop_id: usize,
        key: TimerKey,
    },
    Forever,
    Done,
}

impl Future for Sleep {
    type Output = ();

    /// `sleep(0)` is asyncio's yield, so its two steps are inlined into the caller; a real
    /// timer goes out of line (`poll_timer`).
    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        match &this.state {
            SleepState::Start(delay) if delay.is_zero() => {
                this.state = SleepState::Yielded;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            SleepState::Yielded | SleepState::Done => {
                this.state = SleepState::Done;
                Poll::Ready(())
            }
            _ => this.poll_timer(cx),
        }
    }
}

impl Sleep {
    /// `poll` for a sleep with a timer: registers it on the first poll, then checks it.
    #[inline(never)]
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &self.state {
            &SleepState::Start(delay) => {
                self.state =
                    with_running(|core| match core.timer_insert_after(delay, cx.waker()) {
                        Some(key) => SleepState::Timer {
                            loop_id: core.loop_id(),
                            key,
                        },
                        None => SleepState::Forever,
                    })
                    .unwrap_or_else(|| {
                        panic!("sleep: no running event loop; await it inside asyncio::run(...)")
                    });
                Poll::Pending
            }
            &SleepState::Timer { loop_id, key } => {
                let fired = with_loop(loop_id, |core| {
                    let fired = core.timer_poll(key, cx.waker());
                    if fired {
                        core.timer_remove(key);
                    }
                    fired
                });
                // No loop: it is gone, and nothing will ever fire.
                if fired == Some(true) {
                    self.state = SleepState::Done;
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            }
            SleepState::Forever => Poll::Pending,
            SleepState::Yielded | SleepState::Done => {
                self.state = SleepState::Done;
                Poll::Ready(())
            }
        }
    }

    /// `Drop` for a sleep whose timer is still in the wheel.
    #[inline(never)]
    fn drop_timer(&mut self) {
        if let SleepState::Timer { loop_id, key } = self.state {
            with_loop(loop_id, |core| core.timer_remove(key));
        }
    }
}

impl ::futures::future::FusedFuture for Sleep {
    /// True once the sleep has returned `Ready`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::future::FusedFuture;
    /// asyncio::run(async {
    ///     let mut nap = asyncio::sleep(0);
    ///     assert!(!nap.is_terminated());
    ///     (&mut nap).await;
    ///     assert!(nap.is_terminated());
    /// });
    /// ```
    fn is_terminated(&self) -> bool {
        matches!(self.state, SleepState::Done)
    }
}

impl Drop for Sleep {
    #[inline]
    fn drop(&mut self) {
        if matches!(self.state, SleepState::Timer { .. }) {
            self.drop_timer();
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            SleepState::Start(_) => "not started",
            SleepState::Yielded => "yielded",
            SleepState::Timer { .. } => "waiting",
            SleepState::Forever => "forever",
            SleepState::Done => "done",
        };
        f.debug_struct("Sleep").field("state", &state).finish()
    }
}

// ----- gather --------------------------------------------------------------------------------

/// The tasks of a gather or a wait, watched as one set (`runtime/task/finished.rs`): a look
/// gives the tasks that finished since the last one, so nobody asks every unfinished task on
/// every wake.
struct Watched {
    /// Made at the first look, which makes every task a member.
    set: Option<Rc<FinishedSet>>,
    /// The places the set gave, being handled.
    places: Vec<usize>,
}

impl Watched {
    fn new() -> Watched {
        Watched {
            set: None,
            places: Vec::new(),
        }
    }

    /// The places in `tasks` of those that finished since the last look (at the first look,
    /// of those already finished), in the order they finished; the next finish wakes `cx`.
    fn finished<T>(&mut self, tasks: &[Task<T>], cx: &Context<'_>) -> std::vec::Drain<'_, usize> {
        let set = self.set.get_or_insert_with(|| {
            let set = FinishedSet::new();
            for (place, task) in tasks.iter().enumerate() {
                task.join_set(&set, place, cx);
            }
            set
        });
        set.poll_finished(cx, &mut self.places);
        self.places.drain(..)
    }

    /// The awaiter is done (it returned or is dropped): tasks that finish later tell nobody.
    fn close(&mut self) {
        if let Some(set) = self.set.take() {
            set.close();
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.close();
    }
}

/// The children of a gather: their handles, and their outcomes as they arrive.
struct Children<T> {
    tasks: Vec<Task<T>>,
    deferred: Vec<Deferred<T>>,
    outcomes: Vec<Option<Result<T, TaskError>>>,
    /// Children whose outcome has not arrived yet.
    pending: usize,
    /// Which children finished, so that a poll looks at those only.
    watched: Watched,
    /// The gather has returned (all done, or a failure reported): dropping it now leaves
    /// the remaining children running, as asyncio's fail-fast gather does.
    returned: bool,
}

// The outputs are stored, never pinned: moving a gather is fine whatever `T` is.
impl<T> Unpin for Children<T> {}

impl<T> Drop for Children<T> {
    /// Dropping (cancelling) a gather before it returned cancels its unfinished children.
    fn drop(&mut self) {
        if !self.returned {
            for (task, outcome) in self.tasks.iter().zip(&self.outcomes) {
                if outcome.is_none() {
                    task.cancel();
                }
            }
        }
    }
}

impl<T> Children<T> {
    fn len(&self) -> usize {
        self.outcomes.len()
    }
}

impl<T: 'static> Children<T> {
    /// Schedules every awaitable as a task now if a loop is running, else on first poll.
    fn new<I>(awaitables: I) -> Children<T>
    where
        I: IntoIterator,
        I::Item: Awaitable<Output = T>,
    {
        let (tasks, deferred): (Vec<_>, Vec<_>) = match get_running_loop() {
            Ok(lp) => (
                awaitables.into_iter().map(|a| a.into_task(&lp)).collect(),
                Vec::new(),
            ),
            Err(_) => (
                Vec::new(),
                awaitables.into_iter().map(Awaitable::defer).collect(),
            ),
        };
        let n = tasks.len() + deferred.len();
        Children {
            tasks,
            deferred,
            outcomes: (0..n).map(|_| None).collect(),
            pending: n,
            watched: Watched::new(),
            returned: false,
        }
    }

    /// Collects finished children. `Ready(Some(i))` as soon as child `i`'s outcome is a
    /// failure by `is_failure`; `Ready(None)` when all are done.
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        is_failure: impl Fn(&Result<T, TaskError>) -> bool,
    ) -> Poll<Option<usize>> {
        if !self.deferred.is_empty() {
            self.tasks = self.deferred.drain(..).map(Deferred::schedule).collect();
        }
        // In the order the children finished: the first failure is the first to happen.
        let mut failure = None;
        for i in self.watched.finished(&self.tasks, cx) {
            let Poll::Ready(outcome) = self.tasks[i].poll_result(cx) else {
                unreachable!("gather: a child reported itself finished before it was");
            };
            let failed = is_failure(&outcome);
            self.outcomes[i] = Some(outcome);
            self.pending -= 1;
            if failed {
                failure = Some(i);
                break;
            }
        }
        if failure.is_none() && self.pending > 0 {
            return Poll::Pending;
        }
        self.returned = true;
        self.watched.close();
        Poll::Ready(failure)
    }

    fn take(&mut self, i: usize) -> Result<T, TaskError> {
        self.outcomes[i]
            .take()
            .expect("gather polled after completion")
    }

    fn take_all(&mut self) -> impl Iterator<Item = Result<T, TaskError>> + '_ {
        self.outcomes
            .iter_mut()
            .map(|o| o.take().expect("gather polled after completion"))
    }
}

/// Runs awaitables concurrently as tasks and collects their outputs in argument order:
/// asyncio's `asyncio.gather(*aws)`.
///
/// Futures become new tasks; [`Task`]s are used as they are (see [`Awaitable`]).
///
/// Inside a running loop each future is scheduled as a task at once; outside one (as in
/// `loop.run_until_complete(gather(...))`) they are scheduled when the gather is first polled,
/// on the loop that polls it. Awaiting the gather
/// gives every output in argument order, or the first failure (a panic or a cancellation) as
/// soon as it happens; the other children keep running, as in asyncio. For futures whose
/// output is a `Result`, [`try_gather`] also stops at the first `Err`, and
/// [`Gather::return_exceptions`] gives every outcome instead. For futures of different types,
/// use the [`gather!`](crate::gather!) macro.
///
/// # Examples
///
/// ```
/// async fn square(x: u64) -> u64 {
///     asyncio::sleep(0.01).await;
///     x * x
/// }
///
/// asyncio::run(async {
///     let squares = asyncio::gather((1..=3).map(square)).await.unwrap();
///     assert_eq!(squares, [1, 4, 9]);
/// });
/// ```
pub fn gather<I>(awaitables: I) -> Gather<<I::Item as Awaitable>::Output>
where
    I: IntoIterator,
    I::Item: Awaitable,
{
    Gather {
        children: Children::new(awaitables),
    }
}

/// The future returned by [`gather`](fn@gather).
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let g: asyncio::Gather<i32> = asyncio::gather((1..=2).map(|i| async move { i }));
///     assert_eq!(g.await.unwrap(), [1, 2]);
/// });
/// ```
#[must_use = "the children run anyway, but their results are only collected when awaited"]
pub struct Gather<T> {
    children: Children<T>,
}

impl<T> Gather<T> {
    /// Waits for every child and returns every outcome in argument order, failures included:
    /// asyncio's `gather(..., return_exceptions=True)`.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let out = asyncio::gather([
    ///         asyncio::create_task(async { 1 }),
    ///         asyncio::create_task(async { panic!("two") }),
    ///     ])
    ///     .return_exceptions()
    ///     .await;
    ///     assert_eq!(*out[0].as_ref().unwrap(), 1);
    ///     assert!(out[1].as_ref().unwrap_err().is_panic());
    /// });
    /// ```
    pub fn return_exceptions(self) -> GatherAll<T> {
        GatherAll {
            children: self.children,
        }
    }
}

impl<T: 'static> Future for Gather<T> {
    type Output = Result<Vec<T>, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let children = &mut self.children;
        match children.poll(cx, Result::is_err) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(i)) => Poll::Ready(Err(children.take(i).err().unwrap())),
            Poll::Ready(None) => Poll::Ready(children.take_all().collect()),
        }
    }
}

impl<T: 'static> ::futures::future::FusedFuture for Gather<T> {
    /// True once the gather has returned (all done, or the first failure).
    fn is_terminated(&self) -> bool {
        self.children.returned
    }
}

impl<T> fmt::Debug for Gather<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather")
            .field("children", &self.children.len())
            .field("pending", &self.children.pending)
            .finish()
    }
}

/// The future returned by [`Gather::return_exceptions`]: every outcome, in argument order.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let all: asyncio::GatherAll<i32> = asyncio::gather([async { 1 }]).return_exceptions();
///     assert_eq!(all.await[0].as_ref().unwrap(), &1);
/// });
/// ```
#[must_use = "the children run anyway, but their results are only collected when awaited"]
pub struct GatherAll<T> {
    children: Children<T>,
}

impl<T: 'static> Future for GatherAll<T> {
    type Output = Vec<Result<T, TaskError>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let children = &mut self.children;
        match children.poll(cx, |_| false) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) => Poll::Ready(children.take_all().collect()),
        }
    }
}

impl<T: 'static> ::futures::future::FusedFuture for GatherAll<T> {
    /// True once every outcome has been returned.
    fn is_terminated(&self) -> bool {
        self.children.returned
    }
}

impl<T> fmt::Debug for GatherAll<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherAll")
            .field("children", &self.children.len())
            .finish()
    }
}

/// [`gather`](fn@gather) for futures that return `Result`: the first `Err` (or panic, or cancellation)
/// is returned at once, while the other children keep running.
///
/// Awaiting it gives `Result<Vec<T>, E>`: a panic or cancellation is turned into `E` with
/// `From<TaskError>`, so `?` works on your own error type. For an error type that cannot hold
/// a [`TaskError`] (a `String`, say), await
/// [`.separate_task_errors()`](TryGather::separate_task_errors) instead: its error is a
/// [`TryGatherError<E>`], your `E` or the `TaskError`.
///
/// # Examples
///
/// ```
/// #[derive(Debug, PartialEq)]
/// enum MyError { Bad, Task }
/// impl From<asyncio::TaskError> for MyError {
///     fn from(_: asyncio::TaskError) -> MyError { MyError::Task }
/// }
///
/// async fn check(x: u32) -> Result<u32, MyError> {
///     asyncio::sleep(f64::from(x) / 100.0).await;
///     if x == 2 { Err(MyError::Bad) } else { Ok(x) }
/// }
///
/// asyncio::run(async {
///     assert_eq!(asyncio::try_gather([0, 1].map(check)).await, Ok(vec![0, 1]));
///     // the Err comes back after 0.02 s, without waiting for the 0.1 s child
///     assert_eq!(asyncio::try_gather([10, 2].map(check)).await, Err(MyError::Bad));
/// });
/// ```
///
/// Any error type, with `?` into a `Box<dyn Error>`:
///
/// ```
/// async fn parse(text: &'static str) -> Result<u32, String> {
///     text.parse().map_err(|e| format!("{text:?}: {e}"))
/// }
///
/// async fn total() -> Result<u32, Box<dyn std::error::Error>> {
///     let numbers = asyncio::try_gather(["1", "2", "x"].map(parse))
///         .separate_task_errors()
///         .await?;
///     Ok(numbers.iter().sum())
/// }
///
/// let err = asyncio::run(total()).unwrap_err();
/// assert!(err.to_string().contains(r#""x": invalid digit"#));
/// ```
pub fn try_gather<I, T, E>(awaitables: I) -> TryGather<T, E>
where
    I: IntoIterator,
    I::Item: Awaitable<Output = Result<T, E>>,
    T: 'static,
    E: 'static,
{
    TryGather {
        children: Children::new(awaitables),
    }
}

/// The future returned by [`try_gather`].
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let g: asyncio::TryGather<i32, asyncio::TaskError> =
///         asyncio::try_gather([async { Ok(1) }]);
///     assert_eq!(g.await.unwrap(), [1]);
/// });
/// ```
#[must_use = "the children run anyway, but their results are only collected when awaited"]
pub struct TryGather<T, E> {
    children: Children<Result<T, E>>,
}

impl<T: 'static, E: 'static> TryGather<T, E> {
    /// Keeps your error type as it is, whatever it is: awaiting gives
    /// `Result<Vec<T>, `[`TryGatherError<E>`]`>`, the first child's `Err(e)` as
    /// [`TryGatherError::Child`], or the first panic or cancellation as
    /// [`TryGatherError::Task`]. Use it when `E` has no `From<TaskError>` (a `String`, an
    /// error type of another crate).
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::TryGatherError;
    ///
    /// async fn fetch(n: u32) -> Result<u32, String> {
    ///     match n {
    ///         0 => Err("no such page".to_owned()),
    ///         1 => panic!("parser bug"),
    ///         _ => Ok(n),
    ///     }
    /// }
    ///
    /// asyncio::run(async {
    ///     let out = asyncio::try_gather([2, 3].map(fetch)).separate_task_errors().await;
    ///     assert_eq!(out.unwrap(), [2, 3]);
    ///
    ///     match asyncio::try_gather([2, 0].map(fetch)).separate_task_errors().await {
    ///         Err(TryGatherError::Child(e)) => assert_eq!(e, "no such page"),
    ///         other => panic!("{other:?}"),
    ///     }
    ///     match asyncio::try_gather([2, 1].map(fetch)).separate_task_errors().await {
    ///         Err(TryGatherError::Task(e)) => assert_eq!(e.panic_message(), Some("parser bug")),
    ///         other => panic!("{other:?}"),
    ///     }
    /// });
    /// ```
    pub fn separate_task_errors(self) -> SeparateTaskErrors<T, E> {
        SeparateTaskErrors { inner: self }
    }

    /// Polls the children; the first failure, with the task's error kept apart.
    fn poll_separate(&mut self, cx: &mut Context<'_>) -> Poll<Result<Vec<T>, TryGatherError<E>>> {
        let children = &mut self.children;
        let failed = |o: &Result<Result<T, E>, TaskError>| !matches!(o, Ok(Ok(_)));
        let split = |o: Result<Result<T, E>, TaskError>| match o {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(TryGatherError::Child(e)),
            Err(e) => Err(TryGatherError::Task(e)),
        };
        match children.poll(cx, failed) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(i)) => Poll::Ready(Err(split(children.take(i))
                .err()
                .expect("a success is not a failure"))),
            Poll::Ready(None) => Poll::Ready(children.take_all().map(split).collect()),
        }
    }
}

impl<T: 'static, E: FromTaskError + 'static> Future for TryGather<T, E> {
    type Output = Result<Vec<T>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.poll_separate(cx).map_err(|e| match e {
            TryGatherError::Child(e) => e,
            TryGatherError::Task(e) => E::from_task_error(e),
        })
    }
}

/// Error types that can hold a [`TaskError`]: every `E: From<TaskError>`. It is what
/// `try_gather(..).await` needs of its error type; implement `From<TaskError>` to get it (or
/// use [`TryGather::separate_task_errors`], which needs nothing).
///
/// # Examples
///
/// ```
/// fn check<E: asyncio::FromTaskError>() {}
/// check::<asyncio::TaskError>();
/// check::<Box<dyn std::error::Error>>();
/// ```
///
/// A `String` error does not compile with a plain `.await`; the compiler's message names
/// `separate_task_errors`:
///
/// ```compile_fail,E0277
/// asyncio::run(async {
///     let _ = asyncio::try_gather([async { Err::<u8, String>("no".into()) }]).await;
/// });
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold a TaskError, so `try_gather(...).await` cannot return it",
    label = "`{Self}` has no `From<asyncio::TaskError>`",
    note = "await `try_gather(...).separate_task_errors()` instead: its error is \
            `asyncio::TryGatherError<{Self}>`, your error or the TaskError of a child that \
            panicked or was cancelled (or implement `From<asyncio::TaskError>` for `{Self}`)"
)]
pub trait FromTaskError {
    /// The error for a child that panicked or was cancelled.
    fn from_task_error(error: TaskError) -> Self;
}

#[diagnostic::do_not_recommend]
impl<E: From<TaskError>> FromTaskError for E {
    fn from_task_error(error: TaskError) -> E {
        E::from(error)
    }
}

/// The future returned by [`TryGather::separate_task_errors`]: the outputs, or the first
/// failure as a [`TryGatherError`].
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let g: asyncio::SeparateTaskErrors<u8, String> =
///         asyncio::try_gather([async { Ok(1) }]).separate_task_errors();
///     assert_eq!(g.await.unwrap(), [1]);
/// });
/// ```
#[must_use = "the children run anyway, but their results are only collected when awaited"]
pub struct SeparateTaskErrors<T, E> {
    inner: TryGather<T, E>,
}

impl<T: 'static, E: 'static> Future for SeparateTaskErrors<T, E> {
    type Output = Result<Vec<T>, TryGatherError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.poll_separate(cx)
    }
}

impl<T: 'static, E: 'static> ::futures::future::FusedFuture for SeparateTaskErrors<T, E> {
    /// True once the gather has returned (all done, or the first failure).
    fn is_terminated(&self) -> bool {
        self.inner.children.returned
    }
}

impl<T, E> fmt::Debug for SeparateTaskErrors<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SeparateTaskErrors")
            .field(&self.inner)
            .finish()
    }
}

impl<T: 'static, E: FromTaskError + 'static> ::futures::future::FusedFuture for TryGather<T, E> {
    /// True once the gather has returned (all done, or the first failure).
    fn is_terminated(&self) -> bool {
        self.children.returned
    }
}

impl<T, E> fmt::Debug for TryGather<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryGather")
            .field("children", &self.children.len())
            .finish()
    }
}

/// Support for the [`gather!`](crate::gather!) macro; not public API.
#[doc(hidden)]
pub mod __private {
    use super::*;

    /// One child of a tuple gather.
    pub struct Child<T> {
        state: ChildState<T>,
    }

    enum ChildState<T> {
        Deferred(Deferred<T>),
        Running(Task<T>),
        Finished(T),
        Taken,
    }

    impl<T: 'static> Child<T> {
        /// Schedules `awaitable` now if a loop is running, else when first polled.
        pub fn new<A: Awaitable<Output = T>>(awaitable: A) -> Child<T> {
            let state = match get_running_loop() {
                Ok(lp) => ChildState::Running(awaitable.into_task(&lp)),
                Err(_) => ChildState::Deferred(awaitable.defer()),
            };
            Child { state }
        }

        fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TaskError>> {
            if let ChildState::Deferred(_) = self.state {
                let ChildState::Deferred(d) = std::mem::replace(&mut self.state, ChildState::Taken)
                else {
                    unreachable!()
                };
                self.state = ChildState::Running(d.schedule());
            }
            let ChildState::Running(task) = &mut self.state else {
                return Poll::Ready(Ok(()));
            };
            match task.poll_result(cx) {
                Poll::Ready(Ok(v)) => {
                    self.state = ChildState::Finished(v);
                    Poll::Ready(Ok(()))
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        }

        fn take(&mut self) -> T {
            match std::mem::replace(&mut self.state, ChildState::Taken) {
                ChildState::Finished(v) => v,
                _ => panic!("gather! polled after completion"),
            }
        }
    }

    impl<T> Child<T> {
        fn cancel(&mut self) {
            if let ChildState::Running(task) = &self.state {
                task.cancel();
            }
        }
    }

    impl<T> fmt::Debug for Child<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Child")
        }
    }

    /// A tuple of children that can be polled together.
    pub trait Children {
        /// The tuple of outputs.
        type Output;
        /// Polls every unfinished child; the first failure is returned at once.
        fn poll_all(&mut self, cx: &mut Context<'_>) -> Poll<Result<Self::Output, TaskError>>;
        /// Cancels every child still running.
        fn cancel_all(&mut self);
    }

    macro_rules! tuple_children {
        ($($T:ident $t:ident),+) => {
            impl<$($T: 'static),+> Children for ($(Child<$T>,)+) {
                type Output = ($($T,)+);
                fn poll_all(
                    &mut self,
                    cx: &mut Context<'_>,
                ) -> Poll<Result<Self::Output, TaskError>> {
                    let ($($t,)+) = self;
                    let mut all_done = true;
                    $(
                        match $t.poll(cx) {
                            Poll::Ready(Ok(())) => {}
                            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                            Poll::Pending => all_done = false,
                        }
                    )+
                    if !all_done {
                        return Poll::Pending;
                    }
                    Poll::Ready(Ok(($($t.take(),)+)))
                }

                fn cancel_all(&mut self) {
                    let ($($t,)+) = self;
                    $($t.cancel();)+
                }
            }
        };
    }

    tuple_children!(A a);
    tuple_children!(A a, B b);
    tuple_children!(A a, B b, C c);
    tuple_children!(A a, B b, C c, D d);
    tuple_children!(A a, B b, C c, D d, E e);
    tuple_children!(A a, B b, C c, D d, E e, F f);
    tuple_children!(A a, B b, C c, D d, E e, F f, G g);
    tuple_children!(A a, B b, C c, D d, E e, F f, G g, H h);
    tuple_children!(A a, B b, C c, D d, E e, F f, G g, H h, I i);
    tuple_children!(A a, B b, C c, D d, E e, F f, G g, H h, I i, J j);
    tuple_children!(A a, B b, C c, D d, E e, F f, G g, H h, I i, J j, K k);
    tuple_children!(A a, B b, C c, D d, E e, F f, G g, H h, I i, J j, K k, L l);

    /// The future the [`gather!`](crate::gather!) macro returns.
    #[must_use = "the children run anyway, but their results are only collected when awaited"]
    #[derive(Debug)]
    pub struct GatherTuple<C: Children> {
        children: C,
        returned: bool,
    }

    impl<C: Children> GatherTuple<C> {
        /// Wraps the children.
        pub fn new(children: C) -> GatherTuple<C> {
            GatherTuple {
                children,
                returned: false,
            }
        }
    }

    impl<C: Children + Unpin> Future for GatherTuple<C> {
        type Output = Result<C::Output, TaskError>;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let out = self.children.poll_all(cx);
            if out.is_ready() {
                self.returned = true;
            }
            out
        }
    }

    impl<C: Children + Unpin> ::futures::future::FusedFuture for GatherTuple<C> {
        fn is_terminated(&self) -> bool {
            self.returned
        }
    }

    impl<C: Children> Drop for GatherTuple<C> {
        /// Dropping (cancelling) the gather before it returned cancels its children.
        fn drop(&mut self) {
            if !self.returned {
                self.children.cancel_all();
            }
        }
    }
}

/// [`gather`](fn@gather) for awaitables of different types (up to 12): outputs come back as a tuple.
///
/// Each future is scheduled as a task (at once inside a running loop, else when first
/// polled); awaiting gives `Ok((a, b, ...))` in argument
/// order, or the first panic or cancellation as soon as it happens.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let (n, s) = asyncio::gather!(async { 1 }, async { "one" }).await.unwrap();
///     assert_eq!((n, s), (1, "one"));
/// });
/// ```
#[macro_export]
macro_rules! gather {
    ($($future:expr),+ $(,)?) => {
        $crate::__private::GatherTuple::new((
            $($crate::__private::Child::new($future),)+
        ))
    };
}

// ----- wait ----------------------------------------------------------------------------------

/// When [`wait`] returns: asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`.
///
/// # Examples
///
/// ```
/// use asyncio::ReturnWhen;
/// assert_eq!(ReturnWhen::default(), ReturnWhen::AllCompleted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReturnWhen {
    /// As soon as any task finishes.
    FirstCompleted,
    /// As soon as any task panics (cancellation does not count), else when all finish.
    FirstException,
    /// When every task has finished.
    #[default]
    AllCompleted,
}

/// Waits for tasks without taking their results: asyncio's `asyncio.wait`.
///
/// Resolves to `(done, pending)`: the tasks that finished and those that did not, each in
/// argument order. By default it waits for all of them; [`Wait::return_when`] and
/// [`Wait::timeout`] return earlier. It never cancels anything.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let tasks = vec![
///         asyncio::create_task(async { 1 }),
///         asyncio::create_task(async { 2 }),
///     ];
///     let (done, pending) = asyncio::wait(tasks).await;
///     assert_eq!((done.len(), pending.len()), (2, 0));
/// });
/// ```
pub fn wait<T, I>(tasks: I) -> Wait<T>
where
    I: IntoIterator<Item = Task<T>>,
{
    Wait {
        tasks: tasks.into_iter().collect(),
        return_when: ReturnWhen::AllCompleted,
        timeout: None,
        watched: Watched::new(),
        finished: 0,
        failed: false,
        returned: false,
    }
}

/// The future returned by [`wait`].
///
/// # Examples
///
/// ```
/// use asyncio::ReturnWhen;
/// asyncio::run(async {
///     let slow = asyncio::create_task(asyncio::sleep(10));
///     let fast = asyncio::create_task(asyncio::sleep(0.01));
///     let (done, pending) = asyncio::wait([slow, fast])
///         .return_when(ReturnWhen::FirstCompleted)
///         .await;
///     assert_eq!((done.len(), pending.len()), (1, 1));
/// });
/// ```
#[must_use = "wait does nothing unless awaited"]
pub struct Wait<T> {
    tasks: Vec<Task<T>>,
    return_when: ReturnWhen,
    timeout: Option<Pin<Box<Sleep>>>,
    /// Which tasks finished, as in a gather.
    watched: Watched,
    /// Tasks finished so far, and whether one of them failed.
    finished: usize,
    failed: bool,
    /// It has returned its `(done, pending)` (a [`FusedFuture`](::futures::future::FusedFuture)).
    returned: bool,
}

impl<T> Wait<T> {
    /// Sets when to return (asyncio's `return_when=`).
    pub fn return_when(mut self, when: ReturnWhen) -> Wait<T> {
        self.return_when = when;
        self
    }

    /// Returns after at most `delay`, with the unfinished tasks in `pending` (asyncio's
    /// `timeout=`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let slow = asyncio::create_task(asyncio::sleep(10));
    ///     let (done, pending) = asyncio::wait([slow]).timeout(0.01).await;
    ///     assert_eq!((done.len(), pending.len()), (0, 1));
    /// });
    /// ```
    pub fn timeout(mut self, delay: impl Delay) -> Wait<T> {
        self.timeout = Some(Box::pin(sleep(delay)));
        self
    }

    fn split(&mut self) -> (Vec<Task<T>>, Vec<Task<T>>) {
        self.watched.close();
        self.tasks.drain(..).partition(Task::done)
    }
}

impl<T> Future for Wait<T> {
    type Output = (Vec<Task<T>>, Vec<Task<T>>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        for place in this.watched.finished(&this.tasks, cx) {
            this.finished += 1;
            this.failed |= this.tasks[place].failed();
        }
        let (finished, failed) = (this.finished, this.failed);
        let ready = match this.return_when {
            _ if finished == this.tasks.len() => true,
            ReturnWhen::FirstCompleted => finished > 0,
            ReturnWhen::FirstException => failed,
            ReturnWhen::AllCompleted => false,
        };
        let timed_out = this
            .timeout
            .as_mut()
            .is_some_and(|t| t.as_mut().poll(cx).is_ready());
        if ready || timed_out {
            this.returned = true;
            Poll::Ready(this.split())
        } else {
            Poll::Pending
        }
    }
}

impl<T> ::futures::future::FusedFuture for Wait<T> {
    /// True once it has returned.
    fn is_terminated(&self) -> bool {
        self.returned
    }
}

impl<T> fmt::Debug for Wait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("tasks", &self.tasks.len())
            .field("return_when", &self.return_when)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use crate::{EventLoop, create_task, gather, sleep, wait};

    thread_local! {
        /// How many times a gather or a wait looked at one of its tasks (`poll_result`,
        /// `failed`).
        pub(super) static LOOKS: Cell<usize> = const { Cell::new(0) };
    }

    /// Children that finish one per loop iteration, 1 ms apart on a virtual clock.
    const CHILDREN: usize = 1000;

    async fn staggered(i: usize) -> usize {
        sleep(i as f64 / 1000.0).await;
        i
    }

    #[test]
    fn a_gather_looks_at_each_child_once_however_they_finish() {
        let lp = EventLoop::builder().virtual_time().build();
        LOOKS.set(0);
        let out = lp
            .run_until_complete(gather((0..CHILDREN).rev().map(staggered)))
            .unwrap()
            .unwrap();
        assert_eq!(out, (0..CHILDREN).rev().collect::<Vec<_>>());
        // Asking every unfinished child on every wake made this CHILDREN² / 2.
        assert_eq!(LOOKS.get(), CHILDREN);
    }

    #[test]
    fn a_wait_looks_at_each_task_once_however_they_finish() {
        let lp = EventLoop::builder().virtual_time().build();
        LOOKS.set(0);
        let (done, pending) = lp
            .run_until_complete(async {
                let tasks: Vec<_> = (0..CHILDREN).map(|i| create_task(staggered(i))).collect();
                wait(tasks).await
            })
            .unwrap();
        assert_eq!((done.len(), pending.len()), (CHILDREN, 0));
        assert_eq!(LOOKS.get(), CHILDREN);
    }
}
