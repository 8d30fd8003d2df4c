//! Synchronization primitives: asyncio's `locks` module.
//!
//! [`Lock`], [`Event`], [`Condition`], [`Semaphore`], [`BoundedSemaphore`] and [`Barrier`] do what
//! their asyncio namesakes do, for tasks on one thread. Cloning a primitive gives another handle to
//! the *same* primitive, the way two Python names can refer to one object, so each task can own a
//! handle.
//!
//! # Ground rules
//!
//! * **FIFO.** Every primitive keeps its waiting tasks in a `WaitList`, served in arrival order.
//!   A task that finds a [`Lock`] free while others are queued does not barge ahead of them.
//! * **Grants, not hints.** Releasing a lock or a permit *grants* it to the first waiter: the
//!   waiter's record is marked, its waker is called, and nobody else can take what it was given.
//! * **Cancellation is dropping.** A waiting future that is dropped leaves the queue. If it had
//!   already been granted something it never got to use (lock, permit, notification), its `Drop`
//!   hands that on to the next waiter, so nothing is lost and nothing deadlocks.
//! * **No user code under a borrow.** State lives in a `RefCell`. Wakers are cloned under the
//!   borrow, but woken, and dropped, only after it ends: waking, or dropping a task's last waker,
//!   can run code that uses this very primitive again.
//!
//! ```text
//!              push                 grant_next / grant_all
//!   poll() ----------> [ waiting ] -------------------------> [ granted ]
//!                          |                                       |
//!                   drop   | cancel(): leave quietly        poll() | drop: cancel() returns the
//!                          v                                       v grant, the owner hands it on
//!                       (gone)                                 (consumed)
//! ```

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

// ---------------------------------------------------------------------------------------------
// WaitList: the FIFO queue of waiting futures shared by every primitive here and in `queues`.
// ---------------------------------------------------------------------------------------------

/// Identifies one waiter in a [`WaitList`]; ids grow with every push, so the list is sorted by id.
pub(crate) type WaiterId = u64;

/// A FIFO list of waiting futures, each either *waiting* or *granted* a value of type `G`.
///
/// Invariant: granted records form a prefix of `records` (we always grant the first waiting one,
/// removals keep the order), so `n_granted` splits the list in two and every operation is O(1)
/// apart from finding a record by id, which is a binary search because ids are increasing.
/// A waiting record always holds a waker; granting takes it out so the caller can call it after
/// releasing its borrow.
pub(crate) struct WaitList<G> {
    records: VecDeque<Record<G>>,
    n_granted: usize,
    next_id: WaiterId,
}

/// What [`WaitList::poll`] found.
pub(crate) enum Polled<G> {
    /// The grant arrived; the record is gone.
    Granted(G),
    /// Still waiting. Carries the waker this poll replaced, if any, which the caller must drop
    /// only after its borrow ends (dropping a waker may run arbitrary code).
    Waiting(Option<Waker>),
}

struct Record<G> {
    id: WaiterId,
    waker: Option<Waker>,
    grant: Option<G>,
}

impl<G> WaitList<G> {
    pub(crate) const fn new() -> Self {
        WaitList {
            records: VecDeque::new(),
            n_granted: 0,
            next_id: 0,
        }
    }

    /// No records at all, neither waiting nor granted-but-not-yet-consumed.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// How many records are still waiting for a grant.
    #[inline]
    pub(crate) fn n_waiting(&self) -> usize {
        self.records.len() - self.n_granted
    }

    /// How many records were granted but their futures have not consumed the grant yet.
    #[inline]
    pub(crate) fn n_granted(&self) -> usize {
        self.n_granted
    }

    /// Queue a new waiter at the back.
    #[inline]
    pub(crate) fn push(&mut self, waker: &Waker) -> WaiterId {
        let id = self.next_id;
        self.next_id += 1;
        self.records.push_back(Record {
            id,
            waker: Some(waker.clone()),
            grant: None,
        });
        id
    }

    #[inline]
    fn find(&self, id: WaiterId) -> Option<usize> {
        // Fast path: the front record is the one being served almost always.
        match self.records.front() {
            Some(r) if r.id == id => Some(0),
            _ => self.records.binary_search_by_key(&id, |r| r.id).ok(),
        }
    }

    #[inline]
    fn remove(&mut self, index: usize) -> (Option<G>, Option<Waker>) {
        // The front record is the one served almost always; `VecDeque::remove(0)` would still
        // go through its general shifting code.
        let record = if index == 0 {
            self.records.pop_front()
        } else {
            self.records.remove(index)
        }
        .expect("index found by find()");
        if index < self.n_granted {
            self.n_granted -= 1;
        }
        (record.grant, record.waker)
    }

    /// Called from a waiting future's `poll`: the grant if it arrived (the record is consumed),
    /// otherwise remember the newest waker and stay pending.
    #[inline]
    pub(crate) fn poll(&mut self, id: WaiterId, waker: &Waker) -> Polled<G> {
        let index = self
            .find(id)
            .expect("a waiter polled after it left its wait list");
        if index < self.n_granted {
            let (grant, _) = self.remove(index);
            return Polled::Granted(grant.expect("granted records hold their grant"));
        }
        let slot = &mut self.records[index].waker;
        match slot {
            Some(w) if w.will_wake(waker) => Polled::Waiting(None),
            _ => Polled::Waiting(slot.replace(waker.clone())),
        }
    }

    /// Called from a waiting future's `Drop`: removes its record. Returns the grant it had
    /// received but not consumed (the caller must hand it on) and the record's waker (the caller
    /// must drop it after its borrow ends).
    #[inline]
    pub(crate) fn cancel(&mut self, id: WaiterId) -> (Option<G>, Option<Waker>) {
        match self.find(id) {
            Some(index) => self.remove(index),
            None => (None, None),
        }
    }

    /// Grant `grant` to the first waiting record and return its waker, or `None` (dropping
    /// `grant`) when nobody is waiting.
    #[inline]
    pub(crate) fn grant_next(&mut self, grant: G) -> Option<Waker> {
        let record = self.records.get_mut(self.n_granted)?;
        record.grant = Some(grant);
        self.n_granted += 1;
        record.waker.take()
    }

    /// Grant every waiting record, the `i`-th of them (in arrival order) getting `grant(i)`.
    /// Returns the wakers to call once the borrow is released.
    pub(crate) fn grant_all(&mut self, mut grant: impl FnMut(usize) -> G) -> Vec<Waker> {
        let start = self.n_granted;
        let mut wakers = Vec::with_capacity(self.records.len() - start);
        for (i, record) in self.records.range_mut(start..).enumerate() {
            record.grant = Some(grant(i));
            wakers.extend(record.waker.take());
        }
        self.n_granted = self.records.len();
        wakers
    }
}

impl<G> fmt::Debug for WaitList<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitList")
            .field("waiting", &self.n_waiting())
            .field("granted", &self.n_granted)
            .finish()
    }
}

/// Call wakers collected under a borrow, after the borrow has ended.
pub(crate) fn wake_all(wakers: Vec<Waker>) {
    wakers.into_iter().for_each(Waker::wake);
}

/// Call a waker returned by [`WaitList::grant_next`], after the borrow has ended.
#[inline]
pub(crate) fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// A value was out of range: asyncio raises `ValueError` for these.
///
/// Returned by [`BoundedSemaphore::release`] when it would raise the counter above its initial
/// value, and by the queues' `task_done` when it is called more times than items were put.
///
/// # Examples
///
/// ```
/// use asyncio::BoundedSemaphore;
///
/// let sem = BoundedSemaphore::new(1);
/// let err = sem.release().unwrap_err();
/// assert_eq!(err.message(), "BoundedSemaphore released too many times");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueError {
    message: &'static str,
    hint: &'static str,
}

impl ValueError {
    pub(crate) const fn new(message: &'static str, hint: &'static str) -> Self {
        ValueError { message, hint }
    }

    /// The message asyncio would put in its `ValueError`, without the advice that
    /// [`Display`](fmt::Display) adds.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::BoundedSemaphore;
    ///
    /// let err = BoundedSemaphore::new(2).release().unwrap_err();
    /// assert!(err.message().contains("too many times"));
    /// ```
    pub fn message(&self) -> &str {
        self.message
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; {}", self.message, self.hint)
    }
}

impl std::error::Error for ValueError {}

/// A task waited on a [`Barrier`] that was aborted or reset: asyncio's `BrokenBarrierError`.
///
/// Tasks that were waiting when [`Barrier::reset`] or [`Barrier::abort`] was called get this
/// error, and so does every later [`Barrier::wait`] after an abort until the barrier is reset.
///
/// # Examples
///
/// ```
/// use asyncio::{Barrier, BrokenBarrierError};
///
/// let barrier = Barrier::new(2);
/// barrier.abort();
/// assert_eq!(asyncio::run(barrier.wait()), Err(BrokenBarrierError));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BrokenBarrierError;

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "barrier is broken: it was aborted, or reset while this task was waiting; \
             call reset() before waiting on it again",
        )
    }
}

impl std::error::Error for BrokenBarrierError {}

// ---------------------------------------------------------------------------------------------
// Lock
// ---------------------------------------------------------------------------------------------

/// A mutual-exclusion lock for tasks: asyncio's `Lock`.
///
/// `lock.acquire().await` returns a [`LockGuard`] that releases the lock when dropped, which is
/// Python's `async with lock:`. Waiting tasks get the lock in the order they asked for it; a task
/// that calls `acquire` while others are queued waits behind them even if the lock looks free.
///
/// Clones share the same lock.
///
/// # Examples
///
/// ```
/// use asyncio::Lock;
///
/// let lock = Lock::new();
/// asyncio::run(async {
///     let guard = lock.acquire().await; // async with lock:
///     assert!(lock.locked());
///     drop(guard);
///     assert!(!lock.locked());
/// });
/// ```
#[derive(Clone, Default)]
pub struct Lock {
    state: Rc<RefCell<LockState>>,
}

#[derive(Default)]
struct LockState {
    /// A guard exists. (While the lock is being handed to a granted waiter this is false, as in
    /// asyncio, but the granted record in `waiters` keeps everybody else out.)
    locked: bool,
    waiters: WaitList<()>,
}

impl<G> Default for WaitList<G> {
    fn default() -> Self {
        WaitList::new()
    }
}

impl Lock {
    /// Create an unlocked lock: asyncio's `Lock()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = asyncio::Lock::new();
    /// assert!(!lock.locked());
    /// ```
    pub fn new() -> Self {
        Lock::default()
    }

    /// Wait until the lock is free and take it: asyncio's `await lock.acquire()` / `async with lock`.
    ///
    /// The returned guard releases the lock when dropped. Dropping the future while it waits
    /// (cancelling it) leaves the queue; if the lock had already been handed to it, it is handed
    /// on to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::Lock;
    ///
    /// let lock = Lock::new();
    /// asyncio::run(async {
    ///     let _guard = lock.acquire().await;
    ///     assert!(lock.try_acquire().is_none());
    /// });
    /// ```
    pub fn acquire(&self) -> LockAcquire<'_> {
        LockAcquire {
            lock: self,
            waiter: None,
        }
    }

    /// Take the lock if that needs no waiting, else `None`.
    ///
    /// asyncio has no such method; it is what `acquire()` does when it does not have to wait. It
    /// fails when tasks are queued for the lock, even in the moment the lock is being handed
    /// over to the first of them, so it never barges ahead.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = asyncio::Lock::new();
    /// let guard = lock.try_acquire().expect("the lock is free");
    /// assert!(lock.try_acquire().is_none());
    /// drop(guard);
    /// assert!(lock.try_acquire().is_some());
    /// ```
    pub fn try_acquire(&self) -> Option<LockGuard<'_>> {
        let mut st = self.state.borrow_mut();
        if st.locked || !st.waiters.is_empty() {
            return None;
        }
        st.locked = true;
        Some(LockGuard { lock: self })
    }

    /// Whether a task holds the lock: asyncio's `lock.locked()`.
    ///
    /// Like asyncio, this is false in the short moment after a release handed the lock to a
    /// waiting task that has not resumed yet; that task still gets the lock first.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = asyncio::Lock::new();
    /// let guard = lock.try_acquire().unwrap();
    /// assert!(lock.locked());
    /// drop(guard);
    /// assert!(!lock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.state.borrow().locked
    }

    fn same_as(&self, other: &Lock) -> bool {
        Rc::ptr_eq(&self.state, &other.state)
    }

    /// asyncio's `Lock.release()`: free the lock and grant it to the first waiter, if any.
    fn release(&self) {
        let waker = {
            let mut st = self.state.borrow_mut();
            st.locked = false;
            if st.waiters.n_granted() == 0 {
                st.waiters.grant_next(())
            } else {
                None
            }
        };
        wake(waker);
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.borrow();
        f.debug_struct("Lock")
            .field("locked", &st.locked)
            .field("waiters", &st.waiters.n_waiting())
            .finish()
    }
}

/// Proof that the current task holds a [`Lock`]; dropping it releases the lock (the end of
/// Python's `async with lock:` block, or `lock.release()`).
///
/// # Examples
///
/// ```
/// let lock = asyncio::Lock::new();
/// {
///     let _guard = lock.try_acquire().unwrap();
///     assert!(lock.locked());
/// } // released here
/// assert!(!lock.locked());
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        self.lock.release();
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}

/// The future returned by [`Lock::acquire`] (and [`Condition::acquire`]).
///
/// # Examples
///
/// ```
/// use asyncio::{Lock, LockAcquire};
///
/// let lock = Lock::new();
/// let acquire: LockAcquire<'_> = lock.acquire();
/// let _guard = asyncio::run(acquire);
/// assert!(lock.locked());
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct LockAcquire<'a> {
    lock: &'a Lock,
    /// `Some` while queued in the lock's wait list.
    waiter: Option<WaiterId>,
}

impl<'a> Future for LockAcquire<'a> {
    type Output = LockGuard<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard<'a>> {
        let lock = self.lock;
        let mut st = lock.state.borrow_mut();
        match self.waiter {
            None if !st.locked && st.waiters.is_empty() => {}
            None => {
                self.waiter = Some(st.waiters.push(cx.waker()));
                return Poll::Pending;
            }
            Some(id) => match st.waiters.poll(id, cx.waker()) {
                Polled::Granted(()) => self.waiter = None,
                Polled::Waiting(stale) => {
                    drop(st);
                    drop(stale);
                    return Poll::Pending;
                }
            },
        }
        st.locked = true;
        Poll::Ready(LockGuard { lock })
    }
}

impl Drop for LockAcquire<'_> {
    fn drop(&mut self) {
        let Some(id) = self.waiter else { return };
        let (next, _stale) = {
            let mut st = self.lock.state.borrow_mut();
            match st.waiters.cancel(id) {
                // We were handed the lock but will never use it: pass it on.
                (Some(()), stale) if !st.locked => (st.waiters.grant_next(()), stale),
                (_, stale) => (None, stale),
            }
        };
        wake(next);
    }
}

impl fmt::Debug for LockAcquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockAcquire")
            .field("queued", &self.waiter.is_some())
            .finish()
    }
}

// ---------------------------------------------------------------------------------------------
// Event
// ---------------------------------------------------------------------------------------------

/// A flag tasks can wait for: asyncio's `Event`.
///
/// [`set`](Event::set) wakes every task waiting in [`wait`](Event::wait); later waits return at
/// once until [`clear`](Event::clear). A task woken by `set` returns from `wait` even if the
/// event was cleared again before it ran. Clones share the same event.
///
/// # Examples
///
/// ```
/// use asyncio::Event;
///
/// let event = Event::new();
/// event.set();
/// asyncio::run(event.wait()); // returns at once: the flag is set
/// assert!(event.is_set());
/// ```
#[derive(Clone, Default)]
pub struct Event {
    state: Rc<RefCell<EventState>>,
}

#[derive(Default)]
struct EventState {
    value: bool,
    waiters: WaitList<()>,
}

impl Event {
    /// Create an event whose flag is not set: asyncio's `Event()`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!asyncio::Event::new().is_set());
    /// ```
    pub fn new() -> Self {
        Event::default()
    }

    /// Set the flag and wake every waiting task: asyncio's `event.set()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = asyncio::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn set(&self) {
        let wakers = {
            let mut st = self.state.borrow_mut();
            if st.value {
                return;
            }
            st.value = true;
            st.waiters.grant_all(|_| ())
        };
        wake_all(wakers);
    }

    /// Reset the flag, so that later waits block until the next `set`: asyncio's `event.clear()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = asyncio::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        self.state.borrow_mut().value = false;
    }

    /// Whether the flag is set: asyncio's `event.is_set()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = asyncio::Event::new();
    /// assert!(!event.is_set());
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.state.borrow().value
    }

    /// Wait until the flag is set: asyncio's `await event.wait()` (which always returns `True`;
    /// here it returns `()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::Event;
    /// use futures::future::join;
    ///
    /// let event = Event::new();
    /// asyncio::run(join(event.wait(), async { event.set() }));
    /// ```
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            waiter: None,
        }
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.borrow();
        f.debug_struct("Event")
            .field("set", &st.value)
            .field("waiters", &st.waiters.n_waiting())
            .finish()
    }
}

/// The future returned by [`Event::wait`].
///
/// # Examples
///
/// ```
/// use asyncio::{Event, EventWait};
///
/// let event = Event::new();
/// let wait: EventWait<'_> = event.wait();
/// event.set();
/// asyncio::run(wait);
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct EventWait<'a> {
    event: &'a Event,
    waiter: Option<WaiterId>,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.event.state.borrow_mut();
        match self.waiter {
            None if st.value => Poll::Ready(()),
            None => {
                self.waiter = Some(st.waiters.push(cx.waker()));
                Poll::Pending
            }
            Some(id) => match st.waiters.poll(id, cx.waker()) {
                Polled::Granted(()) => {
                    self.waiter = None;
                    Poll::Ready(())
                }
                Polled::Waiting(stale) => {
                    drop(st);
                    drop(stale);
                    Poll::Pending
                }
            },
        }
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.waiter {
            // A wake-up from `set` is not a scarce resource: nothing to hand on.
            let _left = self.event.state.borrow_mut().waiters.cancel(id);
        }
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait")
            .field("queued", &self.waiter.is_some())
            .finish()
    }
}

// ---------------------------------------------------------------------------------------------
// Condition
// ---------------------------------------------------------------------------------------------

/// A condition variable: asyncio's `Condition`.
///
/// A task holding the condition's [`Lock`] calls [`wait`](Condition::wait), which releases the
/// lock, sleeps until another task calls [`notify`](Condition::notify) or
/// [`notify_all`](Condition::notify_all), and re-acquires the lock before returning. In Rust the
/// held lock is the [`LockGuard`]: `wait` takes it and gives it back.
///
/// Clones share the same condition (and lock).
///
/// # Examples
///
/// ```
/// use asyncio::Condition;
/// use futures::future::join;
/// use std::cell::Cell;
///
/// let cond = Condition::new();
/// let ready = Cell::new(false);
/// asyncio::run(join(
///     async {
///         let guard = cond.acquire().await; // async with cond:
///         let _guard = cond.wait_for(guard, || ready.get()).await;
///     },
///     async {
///         let _guard = cond.acquire().await;
///         ready.set(true);
///         cond.notify_all();
///     },
/// ));
/// ```
#[derive(Clone, Default)]
pub struct Condition {
    inner: Rc<ConditionInner>,
}

#[derive(Default)]
struct ConditionInner {
    lock: Lock,
    waiters: RefCell<WaitList<()>>,
}

impl Condition {
    /// Create a condition with a new lock of its own: asyncio's `Condition()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = asyncio::Condition::new();
    /// assert!(!cond.locked());
    /// ```
    pub fn new() -> Self {
        Condition::default()
    }

    /// Create a condition that uses an existing lock: asyncio's `Condition(lock)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{Condition, Lock};
    ///
    /// let lock = Lock::new();
    /// let cond = Condition::with_lock(lock.clone());
    /// let _guard = lock.try_acquire().unwrap();
    /// assert!(cond.locked());
    /// ```
    pub fn with_lock(lock: Lock) -> Self {
        Condition {
            inner: Rc::new(ConditionInner {
                lock,
                waiters: RefCell::default(),
            }),
        }
    }

    /// The underlying lock (asyncio keeps it private, but exposes its methods on the condition).
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = asyncio::Condition::new();
    /// let _guard = cond.lock().try_acquire().unwrap();
    /// assert!(cond.locked());
    /// ```
    pub fn lock(&self) -> &Lock {
        &self.inner.lock
    }

    /// Acquire the underlying lock: asyncio's `await cond.acquire()` / `async with cond`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = asyncio::Condition::new();
    /// let _guard = asyncio::run(cond.acquire());
    /// assert!(cond.locked());
    /// ```
    pub fn acquire(&self) -> LockAcquire<'_> {
        self.inner.lock.acquire()
    }

    /// Whether the underlying lock is held: asyncio's `cond.locked()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = asyncio::Condition::new();
    /// assert!(!cond.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.inner.lock.locked()
    }

    /// Release the lock, wait to be notified, re-acquire the lock: asyncio's `await cond.wait()`.
    ///
    /// `guard` must come from this condition's lock; the re-acquired guard is the output.
    ///
    /// Dropping the future (cancelling the wait) after it was notified passes the notification
    /// on to the next waiter, as asyncio does, so a `notify(1)` is never swallowed by a
    /// cancelled task. The lock is *not* re-acquired on cancellation: the guard is gone with
    /// the future.
    ///
    /// # Panics
    ///
    /// If `guard` belongs to a different lock (asyncio: `RuntimeError`).
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::Condition;
    /// use futures::future::join;
    ///
    /// let cond = Condition::new();
    /// asyncio::run(join(
    ///     async {
    ///         let guard = cond.acquire().await;
    ///         let guard = cond.wait(guard).await; // notified, and holding the lock again
    ///         assert!(cond.locked());
    ///         drop(guard);
    ///     },
    ///     async {
    ///         let _guard = cond.acquire().await;
    ///         cond.notify(1);
    ///     },
    /// ));
    /// ```
    pub fn wait<'a>(&'a self, guard: LockGuard<'a>) -> ConditionWait<'a> {
        assert!(
            guard.lock.same_as(&self.inner.lock),
            "Condition::wait() was given the guard of a different lock; \
             pass the guard returned by this condition's acquire()"
        );
        ConditionWait {
            cond: self,
            state: WaitState::Start { _guard: guard },
            notified: false,
        }
    }

    /// Wait until `predicate` returns true: asyncio's `await cond.wait_for(predicate)`.
    ///
    /// The predicate is checked first, then again after every wake-up, always with the lock
    /// held; the output is the guard, with the predicate true.
    ///
    /// # Panics
    ///
    /// If `guard` belongs to a different lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::Condition;
    ///
    /// let cond = Condition::new();
    /// asyncio::run(async {
    ///     let guard = cond.acquire().await;
    ///     // Already true: returns without waiting.
    ///     let _guard = cond.wait_for(guard, || true).await;
    /// });
    /// ```
    pub async fn wait_for<'a>(
        &'a self,
        mut guard: LockGuard<'a>,
        mut predicate: impl FnMut() -> bool,
    ) -> LockGuard<'a> {
        while !predicate() {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wake up to `n` waiting tasks: asyncio's `cond.notify(n)`.
    ///
    /// Woken tasks return from [`wait`](Condition::wait) once they get the lock back, which is
    /// after the notifying task releases it.
    ///
    /// # Panics
    ///
    /// If the lock is not held (asyncio: `RuntimeError: cannot notify on un-acquired lock`).
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = asyncio::Condition::new();
    /// let _guard = cond.lock().try_acquire().unwrap();
    /// cond.notify(1); // nobody is waiting: does nothing
    /// ```
    pub fn notify(&self, n: usize) {
        self.assert_locked("notify");
        self.notify_unchecked(n);
    }

    /// Wake up every waiting task: asyncio's `cond.notify_all()`.
    ///
    /// # Panics
    ///
    /// If the lock is not held.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = asyncio::Condition::new();
    /// let _guard = cond.lock().try_acquire().unwrap();
    /// cond.notify_all();
    /// ```
    pub fn notify_all(&self) {
        self.assert_locked("notify_all");
        let wakers = self.inner.waiters.borrow_mut().grant_all(|_| ());
        wake_all(wakers);
    }

    fn assert_locked(&self, what: &str) {
        assert!(
            self.locked(),
            "Condition::{what}() called without holding the condition's lock; \
             acquire it first (asyncio: RuntimeError: cannot notify on un-acquired lock)"
        );
    }

    fn notify_unchecked(&self, n: usize) {
        for _ in 0..n {
            let waker = self.inner.waiters.borrow_mut().grant_next(());
            match waker {
                Some(waker) => waker.wake(),
                None => break,
            }
        }
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("lock", &self.inner.lock)
            .field("waiters", &self.inner.waiters.borrow().n_waiting())
            .finish()
    }
}

/// The future returned by [`Condition::wait`]; its output is the re-acquired guard.
///
/// # Examples
///
/// ```
/// use asyncio::{Condition, ConditionWait};
///
/// let cond = Condition::new();
/// let guard = cond.lock().try_acquire().unwrap();
/// let wait: ConditionWait<'_> = cond.wait(guard);
/// drop(wait); // never polled: just releases the lock
/// assert!(!cond.locked());
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct ConditionWait<'a> {
    cond: &'a Condition,
    state: WaitState<'a>,
    /// Set once a notification was granted to us; if we are dropped before returning, it is
    /// passed on.
    notified: bool,
}

enum WaitState<'a> {
    /// Not polled yet: still holding the lock.
    Start { _guard: LockGuard<'a> },
    /// Lock released, queued for a notification.
    Waiting(WaiterId),
    /// Notified, queued for the lock again.
    Reacquire(LockAcquire<'a>),
    /// Returned the guard.
    Done,
}

impl<'a> Future for ConditionWait<'a> {
    type Output = LockGuard<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard<'a>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                WaitState::Start { .. } => {
                    let id = this.cond.inner.waiters.borrow_mut().push(cx.waker());
                    // Dropping the guard releases the lock (and may wake a lock waiter), with
                    // no borrow of ours held.
                    this.state = WaitState::Waiting(id);
                    return Poll::Pending;
                }
                WaitState::Waiting(id) => {
                    let polled = this.cond.inner.waiters.borrow_mut().poll(*id, cx.waker());
                    if let Polled::Waiting(_stale) = polled {
                        return Poll::Pending;
                    }
                    this.notified = true;
                    this.state = WaitState::Reacquire(this.cond.inner.lock.acquire());
                }
                WaitState::Reacquire(acquire) => {
                    let guard = std::task::ready!(Pin::new(acquire).poll(cx));
                    this.state = WaitState::Done;
                    this.notified = false;
                    return Poll::Ready(guard);
                }
                WaitState::Done => panic!("ConditionWait polled after it returned its guard"),
            }
        }
    }
}

impl Drop for ConditionWait<'_> {
    fn drop(&mut self) {
        if let WaitState::Waiting(id) = self.state {
            let (grant, _stale) = self.cond.inner.waiters.borrow_mut().cancel(id);
            self.notified |= grant.is_some();
        }
        if self.notified {
            // Notified but cancelled before returning: wake someone else instead (asyncio
            // 3.13 does the same), so the notification is not lost.
            self.cond.notify_unchecked(1);
        }
    }
}

impl fmt::Debug for ConditionWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            WaitState::Start { .. } => "start",
            WaitState::Waiting(_) => "waiting for notify",
            WaitState::Reacquire(_) => "re-acquiring the lock",
            WaitState::Done => "done",
        };
        f.debug_struct("ConditionWait")
            .field("state", &state)
            .finish()
    }
}

// ---------------------------------------------------------------------------------------------
// Semaphore and BoundedSemaphore
// ---------------------------------------------------------------------------------------------

/// State shared by [`Semaphore`] and [`BoundedSemaphore`].
///
/// `value` counts the free permits nobody has been granted. As in asyncio 3.13, the semaphore is
/// FIFO: while any waiter's record is in `waiters` (waiting, or granted but not yet run), a new
/// `acquire` queues behind it even if `value > 0`, and `locked()` is true. A waiter that takes
/// its grant, or leaves, hands free permits on to the next waiters (asyncio's `finally: while
/// self._value > 0: self._wake_up_next()`).
struct SemaphoreState {
    value: usize,
    /// `Some(initial value)` for a [`BoundedSemaphore`].
    bound: Option<usize>,
    waiters: WaitList<()>,
}

impl SemaphoreState {
    /// asyncio's `locked()`: `acquire` would wait, for want of a permit or behind others.
    fn locked(&self) -> bool {
        self.value == 0 || !self.waiters.is_empty()
    }

    /// Grants free permits to waiting records while there are both; returns their wakers.
    fn wake_waiters(&mut self) -> Vec<Waker> {
        let mut wakers = Vec::new();
        while self.value > 0 && self.waiters.n_waiting() > 0 {
            self.value -= 1;
            wakers.extend(self.waiters.grant_next(()));
        }
        wakers
    }
}

type SemaphoreCore = RefCell<SemaphoreState>;

fn semaphore_core(value: usize, bound: Option<usize>) -> Rc<SemaphoreCore> {
    Rc::new(RefCell::new(SemaphoreState {
        value,
        bound,
        waiters: WaitList::new(),
    }))
}

/// Give one permit back, waking the first waiter if there is one (asyncio: `_value += 1;
/// _wake_up_next()`). Fails only for a bounded semaphore already at its initial value.
fn semaphore_release(core: &SemaphoreCore) -> Result<(), ValueError> {
    let waker = {
        let mut st = core.borrow_mut();
        if st.bound.is_some_and(|bound| st.value >= bound) {
            return Err(ValueError::new(
                "BoundedSemaphore released too many times",
                "release() only permits that were acquired (or forgotten)",
            ));
        }
        st.value += 1;
        if st.waiters.n_waiting() > 0 {
            st.value -= 1;
            st.waiters.grant_next(())
        } else {
            None
        }
    };
    wake(waker);
    Ok(())
}

fn semaphore_try_acquire(core: &SemaphoreCore) -> Option<SemaphorePermit<'_>> {
    let mut st = core.borrow_mut();
    if st.locked() {
        return None;
    }
    st.value -= 1;
    Some(SemaphorePermit { core })
}

fn semaphore_debug(name: &str, core: &SemaphoreCore, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let st = core.borrow();
    f.debug_struct(name)
        .field("locked", &st.locked())
        .field("value", &st.value)
        .field("waiters", &st.waiters.n_waiting())
        .finish()
}

/// A counter of permits that tasks acquire and release: asyncio's `Semaphore`.
///
/// `sem.acquire().await` waits until the counter is above zero, decrements it and returns a
/// [`SemaphorePermit`] that increments it again when dropped (Python's `async with sem:`).
/// Waiting tasks are served in FIFO order. Clones share the same semaphore.
///
/// # Examples
///
/// ```
/// use asyncio::Semaphore;
///
/// let sem = Semaphore::new(2); // at most two tasks at a time
/// asyncio::run(async {
///     let _a = sem.acquire().await;
///     let _b = sem.acquire().await;
///     assert!(sem.locked()); // a third acquire() would wait
/// });
/// assert!(!sem.locked());
/// ```
#[derive(Clone)]
pub struct Semaphore {
    core: Rc<SemaphoreCore>,
}

impl Semaphore {
    /// Create a semaphore with `value` permits: asyncio's `Semaphore(value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = asyncio::Semaphore::new(0);
    /// assert!(sem.locked());
    /// ```
    pub fn new(value: usize) -> Self {
        Semaphore {
            core: semaphore_core(value, None),
        }
    }

    /// Wait for a permit: asyncio's `await sem.acquire()` / `async with sem`.
    ///
    /// The permit goes back when the returned guard is dropped. Dropping the future while it
    /// waits (cancelling it) leaves the queue; if a permit had already been handed to it, the
    /// permit is handed on.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = asyncio::Semaphore::new(1);
    /// let permit = asyncio::run(sem.acquire());
    /// assert!(sem.locked());
    /// drop(permit);
    /// assert!(!sem.locked());
    /// ```
    pub fn acquire(&self) -> SemaphoreAcquire<'_> {
        SemaphoreAcquire {
            core: &self.core,
            waiter: None,
        }
    }

    /// Take a permit if one is free without waiting, else `None` (asyncio has no such method).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = asyncio::Semaphore::new(1);
    /// let permit = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_none());
    /// drop(permit);
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        semaphore_try_acquire(&self.core)
    }

    /// Add a permit, waking the first waiter if there is one: asyncio's `sem.release()`.
    ///
    /// A plain semaphore can be released any number of times, growing past its initial value.
    /// Pair it with [`SemaphorePermit::forget`] to acquire in one place and release in another.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = asyncio::Semaphore::new(0);
    /// sem.release();
    /// assert!(sem.try_acquire().is_some());
    /// ```
    pub fn release(&self) {
        semaphore_release(&self.core).expect("an unbounded semaphore cannot be over-released");
    }

    /// Whether `acquire` would wait: asyncio's `sem.locked()`. True when no permit is free,
    /// and also while earlier waiters are queued (even one already handed a permit that has not
    /// run yet): a new `acquire` waits its turn behind them.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = asyncio::Semaphore::new(1);
    /// assert!(!sem.locked());
    /// let _permit = sem.try_acquire();
    /// assert!(sem.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.core.borrow().locked()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        semaphore_debug("Semaphore", &self.core, f)
    }
}

/// A semaphore that refuses to be released above its initial value: asyncio's
/// `BoundedSemaphore`.
///
/// Releasing too often is a bug in the program; [`release`](BoundedSemaphore::release) reports it
/// as a [`ValueError`] instead of silently growing the counter.
///
/// # Examples
///
/// ```
/// use asyncio::BoundedSemaphore;
///
/// let sem = BoundedSemaphore::new(1);
/// let permit = sem.try_acquire().unwrap();
/// permit.forget();           // keep the permit without the guard...
/// assert!(sem.release().is_ok()); // ...and give it back by hand
/// assert!(sem.release().is_err()); // one release too many
/// ```
#[derive(Clone)]
pub struct BoundedSemaphore {
    core: Rc<SemaphoreCore>,
}

impl BoundedSemaphore {
    /// Create a bounded semaphore with `value` permits: asyncio's `BoundedSemaphore(value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = asyncio::BoundedSemaphore::new(3);
    /// assert!(!sem.locked());
    /// ```
    pub fn new(value: usize) -> Self {
        BoundedSemaphore {
            core: semaphore_core(value, Some(value)),
        }
    }

    /// Wait for a permit: asyncio's `await sem.acquire()` / `async with sem`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = asyncio::BoundedSemaphore::new(1);
    /// let _permit = asyncio::run(sem.acquire());
    /// assert!(sem.locked());
    /// ```
    pub fn acquire(&self) -> SemaphoreAcquire<'_> {
        SemaphoreAcquire {
            core: &self.core,
            waiter: None,
        }
    }

    /// Take a permit if one is free without waiting, else `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = asyncio::BoundedSemaphore::new(1);
    /// let _permit = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_none());
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        semaphore_try_acquire(&self.core)
    }

    /// Give a permit back by hand: asyncio's `sem.release()`.
    ///
    /// # Errors
    ///
    /// [`ValueError`] if the counter is already at its initial value (asyncio raises
    /// `ValueError: BoundedSemaphore released too many times`); nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = asyncio::BoundedSemaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.release(), Ok(()));
    /// assert!(sem.release().is_err());
    /// ```
    pub fn release(&self) -> Result<(), ValueError> {
        semaphore_release(&self.core)
    }

    /// Whether `acquire` would wait: asyncio's `sem.locked()` (see [`Semaphore::locked`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = asyncio::BoundedSemaphore::new(1);
    /// let _permit = sem.try_acquire();
    /// assert!(sem.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.core.borrow().locked()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        semaphore_debug("BoundedSemaphore", &self.core, f)
    }
}

/// One permit of a [`Semaphore`] or [`BoundedSemaphore`]; dropping it releases the permit (the
/// end of Python's `async with sem:` block).
///
/// Dropping never fails: if a [`BoundedSemaphore`] is already at its initial value (only possible
/// when `release()` was also called by hand while this permit was held), the drop adds nothing.
///
/// # Examples
///
/// ```
/// let sem = asyncio::Semaphore::new(1);
/// {
///     let _permit = sem.try_acquire().unwrap();
///     assert!(sem.locked());
/// }
/// assert!(!sem.locked());
/// ```
#[must_use = "the permit is released as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    core: &'a SemaphoreCore,
}

impl SemaphorePermit<'_> {
    /// Keep the permit taken without releasing it on drop, for asyncio-style code that calls
    /// `acquire()` in one place and `release()` in another.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = asyncio::Semaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert!(sem.locked()); // still taken
    /// sem.release();
    /// assert!(!sem.locked());
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        // Over-releasing a bounded semaphore is only possible by also calling release() by hand
        // while holding this permit; the extra release is ignored rather than panicking in drop.
        let _ = semaphore_release(self.core);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}

/// The future returned by [`Semaphore::acquire`] and [`BoundedSemaphore::acquire`].
///
/// # Examples
///
/// ```
/// use asyncio::{Semaphore, SemaphoreAcquire};
///
/// let sem = Semaphore::new(1);
/// let acquire: SemaphoreAcquire<'_> = sem.acquire();
/// let _permit = asyncio::run(acquire);
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct SemaphoreAcquire<'a> {
    core: &'a SemaphoreCore,
    waiter: Option<WaiterId>,
}

impl<'a> Future for SemaphoreAcquire<'a> {
    type Output = SemaphorePermit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        let core = self.core;
        let mut st = core.borrow_mut();
        let wakers = match self.waiter {
            // FIFO: a permit is taken at once only if nobody is queued (see SemaphoreState).
            None if !st.locked() => {
                st.value -= 1;
                Vec::new()
            }
            None => {
                self.waiter = Some(st.waiters.push(cx.waker()));
                return Poll::Pending;
            }
            // A granted permit was already taken off the counter by the releaser.
            Some(id) => match st.waiters.poll(id, cx.waker()) {
                Polled::Granted(()) => {
                    self.waiter = None;
                    // Permits released while we waited our turn go to those behind us.
                    st.wake_waiters()
                }
                Polled::Waiting(stale) => {
                    drop(st);
                    drop(stale);
                    return Poll::Pending;
                }
            },
        };
        drop(st);
        wake_all(wakers);
        Poll::Ready(SemaphorePermit { core })
    }
}

impl Drop for SemaphoreAcquire<'_> {
    fn drop(&mut self) {
        let Some(id) = self.waiter else { return };
        let (wakers, _stale) = {
            let mut st = self.core.borrow_mut();
            let (grant, stale) = st.waiters.cancel(id);
            if grant.is_some() {
                // We own a permit we will never use: it is free again.
                st.value += 1;
            }
            // Leaving may also unblock those queued behind us (FIFO kept them waiting).
            (st.wake_waiters(), stale)
        };
        wake_all(wakers);
    }
}

impl fmt::Debug for SemaphoreAcquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreAcquire")
            .field("queued", &self.waiter.is_some())
            .finish()
    }
}

// ---------------------------------------------------------------------------------------------
// Barrier
// ---------------------------------------------------------------------------------------------

/// A meeting point for a fixed number of tasks: asyncio's `Barrier` (Python 3.11).
///
/// Each task calls [`wait`](Barrier::wait); the first `parties - 1` wait, and the last one to
/// arrive releases them all. Every task gets its arrival index, `0` to `parties - 1`. The barrier
/// then starts over for the next round. [`abort`](Barrier::abort) breaks it and
/// [`reset`](Barrier::reset) mends it; tasks caught waiting by either get
/// [`BrokenBarrierError`].
///
/// The barrier goes through asyncio's four states:
///
/// ```text
///              last party arrives                 last released party leaves
///   filling ----------------------> draining ------------------------------> filling
///      |  ^                            |
///      |  | reset() (nobody inside)    | reset() (parties inside: the ones
///      |  +----------- resetting <-----+          not yet resumed get BrokenBarrierError)
///      | abort()                     last party leaves
///      v
///   broken  (every wait fails, until reset())
/// ```
///
/// While the barrier drains or resets, a task calling `wait` again waits for it to fill anew,
/// so a fast party cannot overtake the round it just left; a released party that has not run
/// yet is still inside, and a `reset` or `abort` reaches it.
///
/// A waiting task that is cancelled (its future dropped) simply leaves: the barrier then needs one
/// more arrival, as in asyncio. Clones share the same barrier.
///
/// # Examples
///
/// ```
/// use asyncio::Barrier;
/// use futures::future::join3;
///
/// let barrier = Barrier::new(3);
/// let indices = asyncio::run(join3(barrier.wait(), barrier.wait(), barrier.wait()));
/// assert_eq!(indices, (Ok(0), Ok(1), Ok(2)));
/// ```
#[derive(Clone)]
pub struct Barrier {
    state: Rc<RefCell<BarrierState>>,
}

/// asyncio's `_BarrierState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Parties arrive and wait.
    Filling,
    /// Released: parties leave; new ones wait for the next round.
    Draining,
    /// `reset()` while parties were inside: they leave with an error.
    Resetting,
    /// `abort()`: every wait fails until `reset()`.
    Broken,
}

impl Phase {
    /// asyncio's names, as `repr(barrier)` shows them.
    fn name(self) -> &'static str {
        match self {
            Phase::Filling => "filling",
            Phase::Draining => "draining",
            Phase::Resetting => "resetting",
            Phase::Broken => "broken",
        }
    }
}

struct BarrierState {
    parties: usize,
    phase: Phase,
    /// Parties inside `wait`: arrived in this round and not yet left (asyncio's `_count`).
    count: usize,
    /// Tasks waiting for the phase to change (asyncio's Condition), in arrival order; every
    /// change wakes them all and each re-checks what it waits for.
    waiters: WaitList<()>,
}

impl BarrierState {
    /// asyncio's `notify_all`.
    fn notify_all(&mut self) -> Vec<Waker> {
        self.waiters.grant_all(|_| ())
    }

    /// A party leaves `wait` (asyncio's `_exit`): the last one out ends a drain or a reset.
    fn exit(&mut self) -> Vec<Waker> {
        self.count -= 1;
        if self.count > 0 {
            return Vec::new();
        }
        if matches!(self.phase, Phase::Draining | Phase::Resetting) {
            self.phase = Phase::Filling;
        }
        self.notify_all()
    }
}

impl Barrier {
    /// Create a barrier for `parties` tasks: asyncio's `Barrier(parties)`.
    ///
    /// # Panics
    ///
    /// If `parties` is 0 (asyncio: `ValueError: parties must be > 0`).
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = asyncio::Barrier::new(4);
    /// assert_eq!(barrier.parties(), 4);
    /// ```
    pub fn new(parties: usize) -> Self {
        assert!(parties > 0, "Barrier::new(0): parties must be > 0");
        let state = BarrierState {
            parties,
            phase: Phase::Filling,
            count: 0,
            waiters: WaitList::new(),
        };
        Barrier {
            state: Rc::new(RefCell::new(state)),
        }
    }

    /// Wait until `parties` tasks are waiting: asyncio's `await barrier.wait()`.
    ///
    /// Returns this task's arrival index in the round, `0..parties`. If the barrier is draining
    /// or resetting, first waits for it to fill again.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrierError`] if the barrier is broken, or is aborted or reset while waiting (or
    /// after releasing this task, before it resumed).
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = asyncio::Barrier::new(1);
    /// assert_eq!(asyncio::run(barrier.wait()), Ok(0)); // a party of one passes at once
    /// ```
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            stage: WaitStage::Blocked,
            waiter: None,
        }
    }

    /// Return the barrier to its empty, unbroken state: asyncio's `await barrier.reset()`.
    ///
    /// Tasks inside the barrier (waiting in the current round, or released but not yet resumed)
    /// get [`BrokenBarrierError`]; the barrier is `resetting` until they have all left.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = asyncio::Barrier::new(2);
    /// barrier.abort();
    /// barrier.reset();
    /// assert!(!barrier.broken());
    /// ```
    pub fn reset(&self) {
        let wakers = {
            let mut st = self.state.borrow_mut();
            st.phase = if st.count > 0 {
                Phase::Resetting
            } else {
                Phase::Filling
            };
            st.notify_all()
        };
        wake_all(wakers);
    }

    /// Break the barrier: asyncio's `await barrier.abort()`.
    ///
    /// Tasks inside the barrier and every later `wait` get [`BrokenBarrierError`] until
    /// [`reset`](Barrier::reset).
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = asyncio::Barrier::new(2);
    /// barrier.abort();
    /// assert!(barrier.broken());
    /// ```
    pub fn abort(&self) {
        let wakers = {
            let mut st = self.state.borrow_mut();
            st.phase = Phase::Broken;
            st.notify_all()
        };
        wake_all(wakers);
    }

    /// How many tasks must call `wait` to pass: asyncio's `barrier.parties`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(asyncio::Barrier::new(3).parties(), 3);
    /// ```
    pub fn parties(&self) -> usize {
        self.state.borrow().parties
    }

    /// How many tasks are waiting in the current round while it fills: asyncio's
    /// `barrier.n_waiting` (0 while draining, resetting or broken).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::poll;
    ///
    /// let barrier = asyncio::Barrier::new(2);
    /// asyncio::run(async {
    ///     let mut wait = barrier.wait();
    ///     assert!(poll!(&mut wait).is_pending());
    ///     assert_eq!(barrier.n_waiting(), 1);
    /// });
    /// ```
    pub fn n_waiting(&self) -> usize {
        let st = self.state.borrow();
        if st.phase == Phase::Filling {
            st.count
        } else {
            0
        }
    }

    /// Whether the barrier is broken (aborted and not reset): asyncio's `barrier.broken`.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = asyncio::Barrier::new(2);
    /// assert!(!barrier.broken());
    /// barrier.abort();
    /// assert!(barrier.broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.state.borrow().phase == Phase::Broken
    }
}

impl fmt::Debug for Barrier {
    /// Like asyncio's `repr`: `Barrier { state: "filling", waiters: 2, parties: 5 }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.borrow();
        let waiting = if st.phase == Phase::Filling {
            st.count
        } else {
            0
        };
        f.debug_struct("Barrier")
            .field("state", &st.phase.name())
            .field("waiters", &waiting)
            .field("parties", &st.parties)
            .finish()
    }
}

/// The future returned by [`Barrier::wait`]; its output is the arrival index.
///
/// # Examples
///
/// ```
/// use asyncio::{Barrier, BarrierWait};
///
/// let barrier = Barrier::new(1);
/// let wait: BarrierWait<'_> = barrier.wait();
/// assert_eq!(asyncio::run(wait), Ok(0));
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    stage: WaitStage,
    /// Our record while waiting for the phase to change.
    waiter: Option<WaiterId>,
}

/// Where a [`BarrierWait`] is (the two `wait_for`s of asyncio's `Barrier.wait`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WaitStage {
    /// Not inside yet: waiting while the barrier drains or resets (asyncio's `_block`).
    Blocked,
    /// Inside with this arrival index, waiting for the round to be released (`_wait`).
    Inside(usize),
    /// Returned.
    Done,
}

impl Future for BarrierWait<'_> {
    type Output = Result<usize, BrokenBarrierError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut st = this.barrier.state.borrow_mut();
        if let Some(id) = this.waiter {
            match st.waiters.poll(id, cx.waker()) {
                // Notified: re-check below, like asyncio's `wait_for(predicate)`.
                Polled::Granted(()) => this.waiter = None,
                Polled::Waiting(stale) => {
                    drop(st);
                    drop(stale);
                    return Poll::Pending;
                }
            }
        }
        let (result, wakers) = match this.stage {
            WaitStage::Blocked => match st.phase {
                Phase::Draining | Phase::Resetting => {
                    this.waiter = Some(st.waiters.push(cx.waker()));
                    return Poll::Pending;
                }
                Phase::Broken => (Err(BrokenBarrierError), Vec::new()),
                Phase::Filling => {
                    let index = st.count;
                    st.count += 1;
                    if index + 1 < st.parties {
                        this.stage = WaitStage::Inside(index);
                        this.waiter = Some(st.waiters.push(cx.waker()));
                        return Poll::Pending;
                    }
                    // Last to arrive: release the round (asyncio's `_release`), then leave.
                    st.phase = Phase::Draining;
                    let mut wakers = st.notify_all();
                    wakers.extend(st.exit());
                    (Ok(index), wakers)
                }
            },
            WaitStage::Inside(index) => {
                let result = match st.phase {
                    Phase::Filling => {
                        this.waiter = Some(st.waiters.push(cx.waker()));
                        return Poll::Pending;
                    }
                    Phase::Draining => Ok(index),
                    Phase::Resetting | Phase::Broken => Err(BrokenBarrierError),
                };
                (result, st.exit())
            }
            WaitStage::Done => panic!("BarrierWait polled after it completed"),
        };
        this.stage = WaitStage::Done;
        drop(st);
        wake_all(wakers);
        Poll::Ready(result)
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        let (wakers, _left) = {
            let mut st = self.barrier.state.borrow_mut();
            let left = self.waiter.map(|id| st.waiters.cancel(id));
            // Cancelled inside the barrier: leave it (asyncio's `finally: _count -= 1; _exit()`).
            let wakers = match self.stage {
                WaitStage::Inside(_) => st.exit(),
                _ => Vec::new(),
            };
            (wakers, left)
        };
        wake_all(wakers);
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait")
            .field("stage", &self.stage)
            .finish()
    }
}
