//! Helpers shared by the integration tests (each test file includes this module and uses
//! what it needs).
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use futures::executor::{LocalPool, LocalSpawner};
use futures::task::ArcWake;

/// A waker that counts how often it was woken.
#[derive(Default)]
pub struct Counter(AtomicUsize);

impl ArcWake for Counter {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.0.fetch_add(1, Ordering::SeqCst);
    }
}

pub struct Probe {
    counter: Arc<Counter>,
    waker: Waker,
}

impl Probe {
    pub fn new() -> Self {
        let counter = Arc::new(Counter::default());
        let waker = futures::task::waker(counter.clone());
        Probe { counter, waker }
    }

    pub fn wakes(&self) -> usize {
        self.counter.0.load(Ordering::SeqCst)
    }

    pub fn poll<F: Future + Unpin>(&self, fut: &mut F) -> Poll<F::Output> {
        Pin::new(fut).poll(&mut Context::from_waker(&self.waker))
    }
}

thread_local! {
    /// Code run by `hook_waker` wakers when they are woken or dropped.
    static HOOK: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
}

/// A waker that runs the thread's `HOOK` when woken and when its last clone is dropped, to
/// prove the primitives and queues call and drop wakers with no `RefCell` borrow held.
pub struct HookWaker;

impl ArcWake for HookWaker {
    fn wake_by_ref(_: &Arc<Self>) {
        run_hook();
    }
}

impl Drop for HookWaker {
    fn drop(&mut self) {
        run_hook();
    }
}

pub fn run_hook() {
    HOOK.with(|hook| {
        if let Some(hook) = hook.borrow().as_ref() {
            hook();
        }
    });
}

pub fn set_hook(f: impl Fn() + 'static) {
    HOOK.with(|hook| *hook.borrow_mut() = Some(Box::new(f)));
}

pub fn poll_with_hook<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    // The only strong reference to the HookWaker ends up in the wait list.
    let waker = futures::task::waker(Arc::new(HookWaker));
    Pin::new(fut).poll(&mut Context::from_waker(&waker))
}

pub fn pool() -> (LocalPool, LocalSpawner) {
    let pool = LocalPool::new();
    let spawner = pool.spawner();
    (pool, spawner)
}

pub type Log<T> = Rc<RefCell<Vec<T>>>;

pub fn log<T>() -> Log<T> {
    Rc::new(RefCell::new(Vec::new()))
}

/// Counts how many times it was dropped: proof that a cancelled future's destructors ran.
#[derive(Clone, Default)]
pub struct Drops(Rc<Cell<u32>>);

impl Drops {
    pub fn guard(&self) -> Guard {
        Guard(self.0.clone())
    }

    pub fn count(&self) -> u32 {
        self.0.get()
    }
}

pub struct Guard(pub Rc<Cell<u32>>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

pub fn now() -> f64 {
    asyncio::get_running_loop().unwrap().time()
}
