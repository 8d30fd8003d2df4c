//! smol's building blocks: async-executor's `LocalExecutor`, run by `async_io::block_on` so the
//! async-io reactor drives its timers (`async_io::Timer`). Channels are
//! `async_channel::bounded(1)`, yielding is `futures_lite::future::yield_now`.

use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use async_executor::{LocalExecutor, Task};

use super::Runtime;

/// async-executor's `LocalExecutor` with async-io timers.
pub(crate) struct AsyncExecutor;

impl Runtime for AsyncExecutor {
    const NAME: &'static str = "async-executor";

    type Spawner = Rc<LocalExecutor<'static>>;
    type Task<T: 'static> = Task<T>;
    type Sleep = async_io::Timer;
    type Sender<T: 'static> = async_channel::Sender<T>;
    type Receiver<T: 'static> = async_channel::Receiver<T>;

    fn block_on<F, M>(make: M) -> F::Output
    where
        M: FnOnce(Self::Spawner) -> F,
        F: Future + 'static,
    {
        let ex = Rc::new(LocalExecutor::new());
        let fut = make(Rc::clone(&ex));
        async_io::block_on(ex.run(fut))
    }

    fn spawn<F>(ex: &Self::Spawner, fut: F) -> Self::Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        ex.spawn(fut)
    }

    fn spawn_detached<F>(ex: &Self::Spawner, fut: F)
    where
        F: Future<Output = ()> + 'static,
    {
        // Dropping an async-task `Task` cancels it; `detach` lets it run on.
        ex.spawn(fut).detach();
    }

    fn yield_now() -> impl Future<Output = ()> {
        futures_lite::future::yield_now()
    }

    fn sleep(delay: Duration) -> Self::Sleep {
        async_io::Timer::after(delay)
    }

    fn channel<T: 'static>() -> (Self::Sender<T>, Self::Receiver<T>) {
        async_channel::bounded(1)
    }

    async fn send<T: 'static>(tx: &Self::Sender<T>, value: T) {
        if tx.send(value).await.is_err() {
            panic!("ping_pong peer hung up");
        }
    }

    async fn recv<T: 'static>(rx: &mut Self::Receiver<T>) -> T {
        rx.recv().await.expect("ping_pong peer hung up")
    }

    async fn gather<F>(ex: &Self::Spawner, futs: Vec<F>) -> Vec<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // No gather in smol either: spawn every child, then await the tasks in order.
        let tasks: Vec<_> = futs.into_iter().map(|fut| ex.spawn(fut)).collect();
        let mut out = Vec::with_capacity(tasks.len());
        for task in tasks {
            out.push(task.await);
        }
        out
    }
}
