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
//! - A failure is a panic, or an `Err` from a child started with
//!   [`create_try_task`](TaskGroup::create_try_task) (asyncio's raised exception).
//! - Aborting drops the body, which may hold an inner group whose children failed in that same
//!   iteration: the inner group hands its failures to the outer one as it is dropped, so no
//!   error is lost (`test_nested_groups_both_cancelled`).
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

use crate::exceptions::{BoxError, RaisedError, TaskError, panic_message};
use crate::runtime::core::with_running;
use crate::runtime::task::cell::cancel_scope;
use crate::tasks::{Named, Task, TaskRef, create_task, current_task};

thread_local! {
    /// The groups whose bodies are being dropped because they abort, innermost last: an inner
    /// group dropped meanwhile hands them its failures.
    static ABORTING: RefCell<Vec<Rc<Group>>> = const { RefCell::new(Vec::new()) };
}

/// Drops `group`'s body (its cancellation), collecting the failures of groups inside it. The
/// body's destructors are user code: a panic there is a failure of the body (asyncio: the body
/// raised while being cancelled).
fn drop_body(group: &Rc<Group>, drop_it: impl FnOnce()) {
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            ABORTING.with(|a| a.borrow_mut().pop());
        }
    }
    ABORTING.with(|a| a.borrow_mut().push(group.clone()));
    let dropped = {
        let _pop = Pop;
        catch_unwind(AssertUnwindSafe(|| cancel_scope(drop_it)))
    };
    if let Err(payload) = dropped {
        group.failures.borrow_mut().push(TaskFailure {
            task: None,
            error: TaskError::panic(payload),
        });
    }
}

/// Children run together, failing together: asyncio's `asyncio.TaskGroup`.
///
/// [`TaskGroup::run`] gives the body a `TaskGroup` handle; [`create_task`](TaskGroup::create_task)
/// starts a child. The group's future finishes when the body and all the children have. If a
/// child panics (Rust's raise), the group cancels the other children and the body, waits until
/// they are gone, and returns every failure together as an [`ExceptionGroup`]. Dropping the
/// group's future (cancelling the task that awaits it) cancels the children too, and
/// [`cancel`](TaskGroup::cancel) stops everything without an error.
///
/// A child started with [`create_task`](TaskGroup::create_task) fails only by panicking: the
/// group cannot know which outputs are errors. Start a child that returns `Result` with
/// [`create_try_task`](TaskGroup::create_try_task) to make its `Err` a failure, as an exception
/// raised in an asyncio child is. A child that is cancelled has not failed.
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
        self.spawn_child(|guard| Child {
            future: Some(future),
            guard,
        })
    }

    /// [`create_task`](TaskGroup::create_task) with a name (asyncio's
    /// `tg.create_task(coro, name=...)`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let eg = asyncio::TaskGroup::run(|tg| async move {
    ///         tg.create_task_named("fetch", async { panic!("timeout") });
    ///     })
    ///     .await
    ///     .unwrap_err();
    ///     assert_eq!(eg.exceptions()[0].task_name(), Some("fetch"));
    /// });
    /// ```
    pub fn create_task_named<F>(&self, name: impl AsRef<str>, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let name = name.as_ref();
        // An eager task's first step runs inside create_task: let it name itself then.
        let eager = with_running(|core| core.eager_tasks).unwrap_or(false);
        let task = self.spawn_child(|guard| Child {
            future: Some(Named::new(eager.then(|| name.into()), future)),
            guard,
        });
        if !eager {
            task.set_name(name);
        }
        task
    }

    /// Starts a child whose `Err` is a failure of the group, as an exception raised in an
    /// asyncio child is: the group cancels the other children and the body, and its
    /// [`ExceptionGroup`] holds the error (see [`TaskError::error`] to downcast it).
    ///
    /// The child's own handle gives the `Ok` value, or a [`TaskError`] for which
    /// [`is_error`](TaskError::is_error) is true and that carries the error's message (the
    /// group owns the error itself).
    ///
    /// # Panics
    ///
    /// As [`create_task`](TaskGroup::create_task).
    ///
    /// # Examples
    ///
    /// ```
    /// async fn fetch(url: &str) -> Result<usize, String> {
    ///     asyncio::sleep(0.1).await;
    ///     if url.contains("bad") { Err(format!("{url}: not found")) } else { Ok(url.len()) }
    /// }
    ///
    /// asyncio::Runner::virtual_time().run(async {
    ///     let eg = asyncio::TaskGroup::run(|tg| async move {
    ///         tg.create_try_task(fetch("http://bad.example"));
    ///         tg.create_task(asyncio::sleep(3600)); // cancelled when the fetch fails
    ///     })
    ///     .await
    ///     .unwrap_err();
    ///     assert_eq!(eg.len(), 1);
    ///     assert_eq!(eg.exceptions()[0].error().error_message(), Some("http://bad.example: not found"));
    ///     assert_eq!(asyncio::get_running_loop().unwrap().time(), 0.1);
    /// });
    /// ```
    pub fn create_try_task<F, T, E>(&self, future: F) -> Task<T>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
        E: Into<BoxError> + 'static,
    {
        self.spawn_child(|guard| TryChild {
            future: Some(future),
            guard,
        })
    }

    /// Starts the child future `make` builds around its guard.
    fn spawn_child<C>(&self, make: impl FnOnce(ChildGuard) -> C) -> Task<C::Output>
    where
        C: Future + 'static,
        C::Output: 'static,
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
        let task = create_task(make(ChildGuard {
            group: group.clone(),
            id,
        }));
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
        // Dropped first (by `drop_child`): the child's own destructors run before the group
        // counts it out, and a panic in them is a failure of the group.
        #[pin]
        future: Option<F>,
        guard: ChildGuard,
    }

    impl<F> PinnedDrop for Child<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            drop_child(this.future, this.guard);
        }
    }
}

/// Drops a child's future in place. Its destructors are user code: a panic there (a cleanup
/// that fails while the group cancels the child, say) is reported to the group like any
/// failure while the group can still report it, then goes on unwinding into the task, whose
/// outcome it becomes.
fn drop_child<F>(future: Pin<&mut Option<F>>, guard: &ChildGuard) {
    if future.is_none() {
        return;
    }
    let mut future = future;
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| future.set(None))) {
        if guard.group.phase.get() == Phase::Finished {
            resume_unwind(payload); // nobody collects it: the task reports it as unretrieved
        }
        guard.panicked(payload);
    }
}

/// Polls a child's inner future, catching its panic as a failure of the group.
fn poll_child<F: Future>(
    future: Pin<&mut Option<F>>,
    guard: &ChildGuard,
    cx: &mut Context<'_>,
) -> Poll<F::Output> {
    let future = future
        .as_pin_mut()
        .expect("a task group child was polled after it completed");
    match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
        Ok(poll) => poll,
        Err(payload) => guard.panicked(payload),
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
        poll_child(this.future, this.guard, cx)
    }
}

impl ChildGuard {
    /// The child panicked: the group keeps the payload; the task's own handle gets the message.
    fn panicked(&self, payload: Box<dyn std::any::Any + Send>) -> ! {
        let message = panic_message(&*payload).to_owned();
        self.failed(TaskError::panic(payload));
        resume_unwind(Box::new(message))
    }

    /// Reports the child's failure to the group, which reports it in its ExceptionGroup.
    fn failed(&self, error: TaskError) {
        let me = current_task();
        if let Some(me) = &me {
            me.mark_retrieved();
        }
        self.group.child_failed(TaskFailure {
            task: Some(me.map_or_else(String::new, |t| t.get_name())),
            error,
        });
    }
}

pin_project! {
    /// A [`TaskGroup::create_try_task`] child: its `Err` fails the group like a panic.
    struct TryChild<F> {
        #[pin]
        future: Option<F>,
        guard: ChildGuard,
    }

    impl<F> PinnedDrop for TryChild<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            drop_child(this.future, this.guard);
        }
    }
}

impl<F, T, E> Future for TryChild<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.project();
        match poll_child(this.future, this.guard, cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(value)) => Poll::Ready(value),
            Poll::Ready(Err(error)) => {
                // `Into` and `Display` are user code: a panic there is the child's panic.
                let boxed = catch_unwind(AssertUnwindSafe(|| {
                    let error: BoxError = error.into();
                    let message: Box<str> = error.to_string().into();
                    (error, message)
                }));
                let (error, message) = match boxed {
                    Ok(boxed) => boxed,
                    Err(payload) => this.guard.panicked(payload),
                };
                this.guard.failed(TaskError::from_error(error));
                // Ends the task as failed with this error (not as a panic: the cell turns this
                // payload into an error-kind TaskError). `resume_unwind` skips the panic hook.
                resume_unwind(Box::new(RaisedError(message)))
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
            // Failures not yet returned: if an enclosing group is dropping us as it aborts,
            // they are its failures too (asyncio's body would have seen this group raise).
            let orphans = std::mem::take(&mut *group.failures.borrow_mut());
            if !orphans.is_empty() {
                let outer = ABORTING.with(|a| a.borrow().last().cloned());
                match outer {
                    Some(outer) => outer.failures.borrow_mut().extend(orphans),
                    None => drop(orphans),
                }
            }
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
        if group.phase.get() == Phase::Aborting && this.body.is_some() {
            // The body is cancelled: its destructors run now.
            drop_body(&this.tg.group, || this.body.set(None));
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
                drop_body(&this.tg.group, || this.body.set(None));
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

    /// What went wrong: a panic, with its message, or the `Err` of a
    /// [`create_try_task`](TaskGroup::create_try_task) child ([`TaskError::error`]).
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
        let (how, message) = match (self.error.panic_message(), self.error.error_message()) {
            (Some(m), _) => ("panicked", m),
            (None, Some(m)) => ("failed", m),
            (None, None) => ("was cancelled", ""),
        };
        match &self.task {
            Some(name) => write!(f, "task '{name}' {how}")?,
            None => write!(f, "the TaskGroup body {how}")?,
        }
        if !message.is_empty() {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TaskFailure {
    /// The task's [`TaskError`] (whose own source is a child's `Err`, if any).
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
