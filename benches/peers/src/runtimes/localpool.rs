//! futures' `LocalPool` (futures-executor). It has no timer of its own, so timers come from
//! futures-timer, whose `Delay` is served by one global helper thread (that thread's CPU time is
//! part of the process's, and so of the `timers` figure). Channels are `async_channel::bounded(1)`,
//! yielding is `futures_lite::future::yield_now`, join handles are `spawn_local_with_handle`'s
//! `RemoteHandle`.

use std::future::Future;
use std::time::Duration;

use futures::executor::LocalSpawner;
use futures::future::RemoteHandle;
use futures::task::LocalSpawnExt;

use super::Runtime;

/// futures' `LocalPool`, with futures-timer for timers.
pub(crate) struct LocalPool;

impl Runtime for LocalPool {
    const NAME: &'static str = "localpool";

    type Spawner = LocalSpawner;
    type Task<T: 'static> = RemoteHandle<T>;
    type Sleep = futures_timer::Delay;
    type Sender<T: 'static> = async_channel::Sender<T>;
    type Receiver<T: 'static> = async_channel::Receiver<T>;

    fn block_on<F, M>(make: M) -> F::Output
    where
        M: FnOnce(Self::Spawner) -> F,
        F: Future + 'static,
    {
        let mut pool = futures::executor::LocalPool::new();
        let fut = make(pool.spawner());
        pool.run_until(fut)
    }

    fn spawn<F>(spawner: &Self::Spawner, fut: F) -> Self::Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawner
            .spawn_local_with_handle(fut)
            .expect("LocalPool is running")
    }

    fn spawn_detached<F>(spawner: &Self::Spawner, fut: F)
    where
        F: Future<Output = ()> + 'static,
    {
        spawner.spawn_local(fut).expect("LocalPool is running");
    }

    fn yield_now() -> impl Future<Output = ()> {
        futures_lite::future::yield_now()
    }

    fn sleep(delay: Duration) -> Self::Sleep {
        futures_timer::Delay::new(delay)
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

    async fn gather<F>(spawner: &Self::Spawner, futs: Vec<F>) -> Vec<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let handles: Vec<_> = futs
            .into_iter()
            .map(|fut| Self::spawn(spawner, fut))
            .collect();
        let mut out = Vec::with_capacity(handles.len());
        for handle in handles {
            out.push(handle.await);
        }
        out
    }
}
