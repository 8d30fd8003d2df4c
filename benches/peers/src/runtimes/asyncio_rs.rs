//! The crate under test: `asyncio::run`, `asyncio::create_task`, `asyncio::sleep` (also
//! `sleep(0)` to yield), `asyncio::Queue::new(1)` as the channel and `asyncio::gather`.
//! `call_soon` is measured here too, because only asyncio has callbacks without a task.

use std::cell::Cell;
use std::future::Future;
use std::time::{Duration, Instant};

use super::Runtime;

/// This crate's event loop.
pub(crate) struct AsyncioRs;

impl Runtime for AsyncioRs {
    const NAME: &'static str = "asyncio-rs";

    type Spawner = ();
    type Task<T: 'static> = asyncio::TaskFuture<T>;
    type Sleep = asyncio::Sleep;
    type Sender<T: 'static> = asyncio::Queue<T>;
    type Receiver<T: 'static> = asyncio::Queue<T>;

    fn block_on<F, M>(make: M) -> F::Output
    where
        M: FnOnce(()) -> F,
        F: Future + 'static,
    {
        asyncio::run(make(()))
    }

    fn spawn<F>(_: &(), fut: F) -> Self::Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // A Task is IntoFuture; the awaitable form is its TaskFuture.
        std::future::IntoFuture::into_future(asyncio::create_task(fut))
    }

    fn spawn_detached<F>(_: &(), fut: F)
    where
        F: Future<Output = ()> + 'static,
    {
        // Dropping a `Task` handle does not cancel the task (as in asyncio).
        drop(asyncio::create_task(fut));
    }

    fn yield_now() -> impl Future<Output = ()> {
        asyncio::sleep(0)
    }

    fn sleep(delay: Duration) -> Self::Sleep {
        asyncio::sleep(delay)
    }

    fn channel<T: 'static>() -> (Self::Sender<T>, Self::Receiver<T>) {
        // Both halves are handles to the same queue, as in Python.
        let queue = asyncio::Queue::new(1);
        (queue.clone(), queue)
    }

    async fn send<T: 'static>(tx: &Self::Sender<T>, value: T) {
        if tx.put(value).await.is_err() {
            panic!("ping_pong queue shut down");
        }
    }

    async fn recv<T: 'static>(rx: &mut Self::Receiver<T>) -> T {
        rx.get().await.expect("ping_pong queue shut down")
    }

    async fn gather<F>(_: &(), futs: Vec<F>) -> Vec<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        asyncio::gather(futs).await.expect("gather child failed")
    }
}

thread_local! {
    /// How many `call_soon` callbacks have run.
    static RAN: Cell<usize> = const { Cell::new(0) };
}

/// `call_soon`: schedule `n` callbacks from a task and wait until the last has run. Op = one
/// callback (scheduling plus running it).
pub(crate) fn call_soon(n: usize) -> f64 {
    asyncio::run(async move {
        let lp = asyncio::get_running_loop().expect("inside asyncio::run");
        RAN.set(0);
        let done = asyncio::Future::<()>::new();
        let start = Instant::now();
        for _ in 0..n - 1 {
            lp.call_soon(|| RAN.set(RAN.get() + 1));
        }
        // Callbacks run in the order they were scheduled, so this one runs last.
        let last = done.clone();
        lp.call_soon(move || {
            RAN.set(RAN.get() + 1);
            last.set_result(()).expect("set once");
        });
        done.await.expect("not cancelled");
        let elapsed = start.elapsed();
        assert_eq!(RAN.get(), n);
        elapsed.as_nanos() as f64 / n as f64
    })
}
