//! Task groups: asyncio's `taskgroups.py` (Python 3.11's `asyncio.TaskGroup`, with the
//! `cancel()` of Python 3.15).
//!
//! `async with asyncio.TaskGroup() as tg:` becomes [`TaskGroup::run`]`(|tg| async move { .. })`:
//! the closure's future is the body of the `async with`, and the group's future finishes when
//! the body and every child have.
//!
//! # A group's life
//!
//! ```text
//!            first failure (seen by run's poll), cancel(),
//!            or run's future dropped: cancel every child, drop the body
//!   Running -------------------------------------------------------------> Aborting
//!      |                                                                       |
//!      | body finished and no child left              no child left (each one's |
//!      v                                               future has been dropped) v
//!   Finished <-----------------------------------------------------------------+
//! ```
//!
//! Ground rules:
//! - A child is a task whose future is wrapped in [`Child`]: its poll catches the child's
//!   panic (recording it for the group, then re-raising it so the task's own handle sees it),
//!   and its destructor, which runs however the child ends, counts it out of the group.
//! - The group is told of a failure at once but aborts from its own poll, one iteration later,
//!   as asyncio's done callbacks do: siblings that fail in the same iteration are all reported.
//! - Nothing here calls user code (a waker, a destructor, a poll) while a `RefCell` of the
//!   group is borrowed: `abort` collects the children first, then cancels them.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;

use crate::exceptions::{TaskError, panic_message};
use crate::tasks::{Task, TaskRef, create_task, current_task};

/// Children run together, failing together: asyncio's `asyncio.TaskGroup`.
///
/// [`TaskGroup::run`] gives the body a `TaskGroup` handle; [`create_task`](TaskGroup::create_task)
/// starts a child. The group's future finishes when the body and all the children have. If a
/// child panics (Rust's raise), the group cancels the other children and the body, waits until
/// they are gone, and returns every failure together as an [`ExceptionGroup`]. Dropping the
/// group's future (cancelling the task that awaits it) cancels the children too, and
/// [`cancel`](TaskGroup::cancel) stops everything without an error.
///
/// A child that returns (even an `Err`) has not failed: only a panic counts, since the group
/// cannot know which outputs are errors. A child that is cancelled has not failed either.
///
/// The handle is cheap to clone: children may take one to start more children.
///
/// # Examples
///
/// ```
/// // async with asyncio.TaskGroup() as tg:
/// //     t1 = tg.create_task(some_coro(1))
/// //     t2 = tg.create_task(another_coro())
/// // print(f"both tasks have completed now: {t1.result()}, {t2.result()}")
/// async fn some_coro(x: u32) -> u32 {
///     asyncio::sleep(f64::from(x)).await;
///     x
/// }
///
/// asyncio::Runner::virtual_time().run(async {
///     let (t1, t2) = asyncio::TaskGroup::run(|tg| async move {
///         (tg.create_task(some_coro(1)), tg.create_task(some_coro(2)))
///     })
///     .await
///     .unwrap() // no child failed
///     .unwrap(); // the body finished (no cancel())
///     assert!(t1.done() && t2.done());
///     println!("both tasks have completed now: {}, {}", t1.await.unwrap(), t2.await.unwrap());
/// });
/// ```
#[derive(Clone)]
pub struct TaskGroup {
    group: Rc<Group>,
}

/// The state the handles, the children and the group's future share.
struct Group {
    phase: Cell<Phase>,
    /// Children still running, by creation number, to cancel them in creation order.
    children: RefCell<BTreeMap<u64, TaskRef>>,
    next_child: Cell<u64>,
    /// Child futures not yet dropped: the group is done when this is zero.
    live: Cell<usize>,
    failures: RefCell<Vec<TaskFailure>>,
    /// `cancel()` was called.
    cancel_requested: Cell<bool>,
    /// The waker of whoever awaits the group's future.
    waker: Cell<Option<Waker>>,
}

/// Where a group is in its life; see the module docs for the diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Children may be added.
    Running,
    /// A failure, `cancel()` or a dropped future: children are being cancelled.
    Aborting,
    /// The group's future returned or was dropped.
    Finished,
}

impl Group {
    fn wake(&self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    /// Moves to `Aborting` (unless already there or past it) and returns the children to
    /// cancel, so the caller can cancel them with nothing borrowed.
    fn abort(&self) -> Vec<TaskRef> {
        if self.phase.get() != Phase::Running {
            return Vec::new();
        }
        self.phase.set(Phase::Aborting);
        self.children.borrow().values().cloned().collect()
    }

    /// A child panicked: record it; `run`'s next poll aborts the group.
    fn child_failed(&self, failure: TaskFailure) {
        self.failures.borrow_mut().push(failure);
        self.wake();
    }

    /// A child's future was dropped, however it ended.
    fn child_gone(&self, id: u64) {
        let removed = self.children.borrow_mut().remove(&id);
        drop(removed); // outside the borrow
        self.live.set(self.live.get() - 1);
        if self.live.get() == 0 {
            self.wake();
        }
    }
}

/// Cancels `children` (each is dropped at the loop's next iteration).
fn cancel_all(children: Vec<TaskRef>) {
    for child in children {
        child.cancel();
    }
}

impl TaskGroup {
    /// Runs `body` as the body of a new group and waits for it and every child: asyncio's
    /// `async with asyncio.TaskGroup() as tg:`.
    ///
    /// The output is:
    /// - `Ok(Some(value))`: the body returned `value` and every child finished without
    ///   panicking;
    /// - `Ok(None)`: [`cancel`](TaskGroup::cancel) stopped the group before the body finished;
    /// - `Err(`[`ExceptionGroup`]`)`: a child (or the body) panicked. The group then cancelled
    ///   the rest and waited until they were gone; the error lists every failure.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::Runner::virtual_time().run(async {
    ///     let err = asyncio::TaskGroup::run(|tg| async move {
    ///         tg.create_task(async { asyncio::sleep(10).await }); // cancelled at t = 1
    ///         tg.create_task(async {
    ///             asyncio::sleep(1).await;
    ///             panic!("oops");
    ///         })
    ///         .set_name("failing");
    ///     })
    ///     .await
    ///     .unwrap_err();
    ///     assert_eq!(err.exceptions()[0].task_name(), Some("failing"));
    ///     assert_eq!(asyncio::get_running_loop().unwrap().time(), 1.0);
    /// });
    /// ```
    pub fn run<B, Fut>(body: B) -> TaskGroupFuture<Fut>
    where
        B: FnOnce(TaskGroup) -> Fut,
        Fut: Future,
    {
        let tg = TaskGroup {
            group: Rc::new(Group {
                phase: Cell::new(Phase::Running),
                children: RefCell::new(BTreeMap::new()),
                next_child: Cell::new(0),
                live: Cell::new(0),
                failures: RefCell::new(Vec::new()),
                cancel_requested: Cell::new(false),
                waker: Cell::new(None),
            }),
        };
        TaskGroupFuture {
            body: Some(body(tg.clone())),
            output: None,
            tg,
        }
    }

    /// Starts `future` as a child task of the group (asyncio's `TaskGroup.create_task`) and
    /// returns its handle. The child starts at the loop's next iteration.
    ///
    /// # Panics
    ///
    /// If the group is shutting down or finished (asyncio raises `RuntimeError`), or no event
    /// loop is running.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let out = asyncio::TaskGroup::run(|tg| async move {
    ///         let t = tg.create_task(async { 6 * 7 });
    ///         t.await.unwrap()
    ///     })
    ///     .await;
    ///     assert_eq!(out.unwrap(), Some(42));
    /// });
    /// ```
    pub fn create_task<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let group = &self.group;
        match group.phase.get() {
            Phase::Running => {}
            Phase::Aborting => panic!(
                "TaskGroup::create_task: the group is shutting down (a child failed or it was \
                 cancelled); no new child can start"
            ),
            Phase::Finished => panic!(
                "TaskGroup::create_task: the group has finished; start tasks with \
                 asyncio::create_task, or in a new TaskGroup"
            ),
        }
        let id = group.next_child.get();
        group.next_child.set(id + 1);
        group.live.set(group.live.get() + 1);
        let task = create_task(Child {
            future,
            guard: ChildGuard {
                group: group.clone(),
                id,
            },
        });
        // An eager loop may have run the child to its end already: nothing to cancel then.
        if !task.done() {
            let child = TaskRef::from_task(&task);
            group.children.borrow_mut().insert(id, child);
        }
        task
    }

    /// Cancels the group (asyncio 3.15's `TaskGroup.cancel`): every child still running and
    /// the body are cancelled, and the group's future returns `Ok(None)` (or `Ok(Some(..))` if
    /// the body had already finished) instead of an error. Does nothing once the group is
    /// shutting down or finished.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::Runner::virtual_time().run(async {
    ///     let out = asyncio::TaskGroup::run(|tg| async move {
    ///         tg.create_task(asyncio::sleep(3600)); // a server, say
    ///         let stopper = tg.clone();
    ///         tg.create_task(async move {
    ///             asyncio::sleep(5).await;
    ///             stopper.cancel(); // enough serving
    ///         });
    ///         asyncio::sleep(3600).await;
    ///         "the body never gets here"
    ///     })
    ///     .await;
    ///     assert_eq!(out.unwrap(), None);
    ///     assert_eq!(asyncio::get_running_loop().unwrap().time(), 5.0);
    /// });
    /// ```
    pub fn cancel(&self) {
        let group = &self.group;
        if group.phase.get() != Phase::Running {
            return;
        }
        group.cancel_requested.set(true);
        cancel_all(group.abort());
        group.wake(); // run's poll drops the body
    }
}

impl fmt::Debug for TaskGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = &self.group;
        let phase = match group.phase.get() {
            Phase::Running => "entered",
            Phase::Aborting => "cancelling",
            Phase::Finished => "finished",
        };
        write!(f, "<TaskGroup {phase} tasks={}", group.live.get())?;
        let errors = group.failures.try_borrow().map_or(0, |f| f.len());
        if errors > 0 {
            write!(f, " errors={errors}")?;
        }
        f.write_str(">")
    }
}

pin_project! {
    /// A child's future, as the group runs it.
    struct Child<F> {
        // Declared first: the child's own destructors run before the group counts it out.
        #[pin]
        future: F,
        guard: ChildGuard,
    }
}

/// Tells the group when its child is gone, however it ended.
struct ChildGuard {
    group: Rc<Group>,
    id: u64,
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.group.child_gone(self.id);
    }
}

impl<F: Future> Future for Child<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let future = this.future;
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(poll) => poll,
            Err(payload) => {
                // The group keeps the payload; the task's own handle gets the message.
                let message = panic_message(&*payload).to_owned();
                let me = current_task();
                if let Some(me) = &me {
                    me.mark_retrieved(); // the group reports it in its ExceptionGroup
                }
                this.guard.group.child_failed(TaskFailure {
                    task: Some(me.map_or_else(String::new, |t| t.get_name())),
                    error: TaskError::panic(payload),
                });
                resume_unwind(Box::new(message))
            }
        }
    }
}

pin_project! {
    /// The future returned by [`TaskGroup::run`]: the body, then every child.
    ///
    /// Dropping it (cancelling the task that awaits it) cancels the children: their futures
    /// are dropped at the loop's next iteration.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let fut: asyncio::TaskGroupFuture<_> =
    ///         asyncio::TaskGroup::run(|_tg| async { "empty group" });
    ///     assert_eq!(fut.await.unwrap(), Some("empty group"));
    /// });
    /// ```
    #[must_use = "a TaskGroup's body runs only when its future is awaited"]
    pub struct TaskGroupFuture<Fut: Future> {
        #[pin]
        body: Option<Fut>,
        output: Option<Fut::Output>,
        tg: TaskGroup,
    }

    impl<Fut: Future> PinnedDrop for TaskGroupFuture<Fut> {
        fn drop(this: Pin<&mut Self>) {
            // The parent was cancelled: so are the children (the body is dropped right after).
            let group = &this.tg.group;
            cancel_all(group.abort());
            group.phase.set(Phase::Finished);
        }
    }
}

impl<Fut: Future> TaskGroupFuture<Fut> {
    /// The group's handle (the one the body got).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let fut = asyncio::TaskGroup::run(|_tg| async {});
    ///     let tg = fut.task_group().clone();
    ///     tg.create_task(async {});
    ///     fut.await.unwrap();
    /// });
    /// ```
    pub fn task_group(&self) -> &TaskGroup {
        &self.tg
    }
}

impl<Fut: Future> Future for TaskGroupFuture<Fut> {
    type Output = Result<Option<Fut::Output>, ExceptionGroup>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let group = &*this.tg.group;
        assert!(
            group.phase.get() != Phase::Finished,
            "a TaskGroupFuture was polled after it completed"
        );
        let must_abort = |g: &Group| !g.failures.borrow().is_empty() || g.cancel_requested.get();
        if must_abort(group) {
            cancel_all(group.abort());
        }
        if group.phase.get() == Phase::Aborting {
            this.body.set(None); // the body is cancelled: its destructors run now
        }
        if let Some(body) = this.body.as_mut().as_pin_mut() {
            match catch_unwind(AssertUnwindSafe(|| body.poll(cx))) {
                Ok(Poll::Pending) => {}
                Ok(Poll::Ready(value)) => {
                    this.body.set(None);
                    *this.output = Some(value);
                }
                Err(payload) => {
                    this.body.set(None);
                    group.failures.borrow_mut().push(TaskFailure {
                        task: None,
                        error: TaskError::panic(payload),
                    });
                }
            }
            // The body may have failed, cancelled the group, or seen a child fail eagerly.
            if must_abort(group) {
                cancel_all(group.abort());
                this.body.set(None);
            }
        }
        if this.body.is_none() && group.live.get() == 0 {
            group.phase.set(Phase::Finished);
            let failures = std::mem::take(&mut *group.failures.borrow_mut());
            return Poll::Ready(if failures.is_empty() {
                Ok(this.output.take())
            } else {
                Err(ExceptionGroup { failures })
            });
        }
        store_waker(&group.waker, cx.waker());
        Poll::Pending
    }
}

impl<Fut: Future> fmt::Debug for TaskGroupFuture<Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TaskGroupFuture").field(&self.tg).finish()
    }
}

/// Keeps `waker` in `slot` unless the one there already wakes the same task.
fn store_waker(slot: &Cell<Option<Waker>>, waker: &Waker) {
    match slot.take() {
        Some(old) if old.will_wake(waker) => slot.set(Some(old)),
        _ => slot.set(Some(waker.clone())),
    }
}

// ----- errors ------------------------------------------------------------------------------

/// Every failure of a [`TaskGroup`], together: asyncio's `ExceptionGroup("unhandled errors in
/// a TaskGroup", [...])`.
///
/// The failures are in the order they happened; each names its task.
///
/// # Examples
///
/// ```
/// asyncio::Runner::virtual_time().run(async {
///     let err: asyncio::ExceptionGroup = asyncio::TaskGroup::run(|tg| async move {
///         for (name, delay) in [("a", 1), ("b", 1)] {
///             tg.create_task(async move {
///                 asyncio::sleep(delay).await;
///                 panic!("{name} failed");
///             })
///             .set_name(name);
///         }
///     })
///     .await
///     .unwrap_err();
///     // except* RuntimeError as eg: for e in eg.exceptions: ...
///     let names: Vec<_> = err.exceptions().iter().map(|f| f.task_name().unwrap()).collect();
///     assert_eq!(names, ["a", "b"]);
///     assert_eq!(err.exceptions()[1].error().panic_message(), Some("b failed"));
///     assert!(err.to_string().starts_with("unhandled errors in a TaskGroup (2 sub-exceptions)"));
/// });
/// ```
#[derive(Debug)]
pub struct ExceptionGroup {
    failures: Vec<TaskFailure>,
}

impl ExceptionGroup {
    /// The failures, in the order they happened (asyncio's `ExceptionGroup.exceptions`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let eg = asyncio::TaskGroup::run(|tg| async move {
    ///         tg.create_task(async { panic!("no") }).set_name("child");
    ///     })
    ///     .await
    ///     .unwrap_err();
    ///     for failure in eg.exceptions() {
    ///         assert_eq!(failure.to_string(), "task 'child' panicked: no");
    ///     }
    /// });
    /// ```
    pub fn exceptions(&self) -> &[TaskFailure] {
        &self.failures
    }

    /// The failures, owned: to re-raise one with [`TaskError::into_panic`].
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let eg = asyncio::TaskGroup::run(|tg| async move {
    ///         tg.create_task(async { panic!("no") });
    ///     })
    ///     .await
    ///     .unwrap_err();
    ///     let first = eg.into_exceptions().remove(0).into_error();
    ///     let payload = first.into_panic().ok().unwrap();
    ///     // std::panic::resume_unwind(payload) would re-raise it here
    ///     assert_eq!(payload.downcast_ref::<&str>(), Some(&"no"));
    /// });
    /// ```
    pub fn into_exceptions(self) -> Vec<TaskFailure> {
        self.failures
    }

    /// How many failures there are (at least one).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let eg = asyncio::TaskGroup::run(|_tg| async { panic!("body") }).await.unwrap_err();
    ///     assert_eq!(eg.len(), 1);
    ///     assert!(!eg.is_empty());
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.failures.len()
    }

    /// Always false: a group only fails with at least one failure.
    pub fn is_empty(&self) -> bool {
        self.failures.is_empty()
    }
}

impl fmt::Display for ExceptionGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.failures.len();
        let plural = if n == 1 { "" } else { "s" };
        write!(
            f,
            "unhandled errors in a TaskGroup ({n} sub-exception{plural})"
        )?;
        for failure in &self.failures {
            write!(f, "\n  {failure}")?;
        }
        f.write_str("\n(the other children were cancelled; see .exceptions() for each failure)")
    }
}

impl std::error::Error for ExceptionGroup {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.failures
            .first()
            .map(|f| &f.error as &(dyn std::error::Error + 'static))
    }
}

/// One failure in an [`ExceptionGroup`]: which task failed, and how.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let err = asyncio::TaskGroup::run(|_tg| async { panic!("in the body") })
///         .await
///         .unwrap_err();
///     let failure: &asyncio::TaskFailure = &err.exceptions()[0];
///     assert_eq!(failure.task_name(), None); // the body, not a child
///     assert!(failure.error().is_panic());
/// });
/// ```
#[derive(Debug)]
pub struct TaskFailure {
    /// The child's name; `None` for the group's body.
    task: Option<String>,
    error: TaskError,
}

impl TaskFailure {
    /// The failed child's name (see [`Task::get_name`]), or `None` if the body failed.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let eg = asyncio::TaskGroup::run(|tg| async move {
    ///         tg.create_task(async { panic!("no") }).set_name("fetch");
    ///     })
    ///     .await
    ///     .unwrap_err();
    ///     assert_eq!(eg.exceptions()[0].task_name(), Some("fetch"));
    /// });
    /// ```
    pub fn task_name(&self) -> Option<&str> {
        self.task.as_deref()
    }

    /// What went wrong: a panic, with its message.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let eg = asyncio::TaskGroup::run(|_tg| async { panic!("bad {}", 1) })
    ///         .await
    ///         .unwrap_err();
    ///     assert_eq!(eg.exceptions()[0].error().panic_message(), Some("bad 1"));
    /// });
    /// ```
    pub fn error(&self) -> &TaskError {
        &self.error
    }

    /// The error, owned (it holds the panic's payload); see
    /// [`ExceptionGroup::into_exceptions`].
    pub fn into_error(self) -> TaskError {
        self.error
    }
}

impl fmt::Display for TaskFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.error.panic_message().unwrap_or("(cancelled)");
        match &self.task {
            Some(name) => write!(f, "task '{name}' panicked: {message}"),
            None => write!(f, "the TaskGroup body panicked: {message}"),
        }
    }
}
