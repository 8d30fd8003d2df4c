//! tokio's `current_thread` runtime, two ways: plain `tokio::spawn` ([`Tokio`]) and
//! `spawn_local` on a `LocalSet` ([`TokioLocalSet`]). Timers are tokio's wheel, channels are
//! `tokio::sync::mpsc::channel(1)`, yielding is `tokio::task::yield_now`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::{JoinHandle, LocalSet};

use super::Runtime;

/// `tokio::spawn` on a `current_thread` runtime.
pub(crate) struct Tokio;

/// `tokio::task::spawn_local` on a `LocalSet` driven by a `current_thread` runtime.
pub(crate) struct TokioLocalSet;

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("building a tokio current_thread runtime")
}

pin_project_lite::pin_project! {
    /// A value that is made, used and dropped on one thread, though its type does not say so.
    ///
    /// `tokio::spawn` asks for `Send` because a multi-threaded runtime may move tasks between
    /// threads. The workloads are generic, so the compiler cannot see that the futures they
    /// build for tokio are `Send`; this wrapper vouches for them instead.
    pub(crate) struct OnThisThread<T> {
        #[pin]
        inner: T,
    }
}

// SAFETY: every `OnThisThread` is created inside `Tokio::block_on`, on a `current_thread`
// runtime. Such a runtime has no worker threads: tasks are polled, completed and (at shutdown)
// dropped by the thread that calls `block_on` and drops the runtime, which is the thread that
// created them. Join handles are awaited and dropped on that same thread. So no wrapped value is
// ever touched by another thread.
unsafe impl<T> Send for OnThisThread<T> {}

impl<F: Future> Future for OnThisThread<F> {
    type Output = OnThisThread<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project()
            .inner
            .poll(cx)
            .map(|inner| OnThisThread { inner })
    }
}

async fn send<T>(tx: &mpsc::Sender<T>, value: T) {
    if tx.send(value).await.is_err() {
        panic!("ping_pong peer hung up");
    }
}

async fn recv<T>(rx: &mut mpsc::Receiver<T>) -> T {
    rx.recv().await.expect("ping_pong peer hung up")
}

impl Runtime for Tokio {
    const NAME: &'static str = "tokio";

    type Spawner = ();
    type Task<T: 'static> = JoinHandle<OnThisThread<T>>;
    type Sleep = tokio::time::Sleep;
    type Sender<T: 'static> = mpsc::Sender<T>;
    type Receiver<T: 'static> = mpsc::Receiver<T>;

    fn block_on<F, M>(make: M) -> F::Output
    where
        M: FnOnce(()) -> F,
        F: Future + 'static,
    {
        current_thread().block_on(make(()))
    }

    fn spawn<F>(_: &(), fut: F) -> Self::Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        tokio::spawn(OnThisThread { inner: fut })
    }

    fn spawn_detached<F>(_: &(), fut: F)
    where
        F: Future<Output = ()> + 'static,
    {
        drop(tokio::spawn(OnThisThread { inner: fut }));
    }

    fn yield_now() -> impl Future<Output = ()> {
        tokio::task::yield_now()
    }

    fn sleep(delay: Duration) -> Self::Sleep {
        tokio::time::sleep(delay)
    }

    fn channel<T: 'static>() -> (Self::Sender<T>, Self::Receiver<T>) {
        mpsc::channel(1)
    }

    fn send<T: 'static>(tx: &Self::Sender<T>, value: T) -> impl Future<Output = ()> {
        send(tx, value)
    }

    fn recv<T: 'static>(rx: &mut Self::Receiver<T>) -> impl Future<Output = T> {
        recv(rx)
    }

    async fn gather<F>(_: &(), futs: Vec<F>) -> Vec<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // tokio has no gather: spawn every child, then await the handles in order.
        let handles: Vec<_> = futs
            .into_iter()
            .map(|fut| tokio::spawn(OnThisThread { inner: fut }))
            .collect();
        let mut out = Vec::with_capacity(handles.len());
        for handle in handles {
            out.push(handle.await.expect("gather child panicked").inner);
        }
        out
    }
}

impl Runtime for TokioLocalSet {
    const NAME: &'static str = "tokio-localset";

    type Spawner = ();
    type Task<T: 'static> = JoinHandle<T>;
    type Sleep = tokio::time::Sleep;
    type Sender<T: 'static> = mpsc::Sender<T>;
    type Receiver<T: 'static> = mpsc::Receiver<T>;

    fn block_on<F, M>(make: M) -> F::Output
    where
        M: FnOnce(()) -> F,
        F: Future + 'static,
    {
        let local = LocalSet::new();
        current_thread().block_on(local.run_until(make(())))
    }

    fn spawn<F>(_: &(), fut: F) -> Self::Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        tokio::task::spawn_local(fut)
    }

    fn spawn_detached<F>(_: &(), fut: F)
    where
        F: Future<Output = ()> + 'static,
    {
        drop(tokio::task::spawn_local(fut));
    }

    fn yield_now() -> impl Future<Output = ()> {
        tokio::task::yield_now()
    }

    fn sleep(delay: Duration) -> Self::Sleep {
        tokio::time::sleep(delay)
    }

    fn channel<T: 'static>() -> (Self::Sender<T>, Self::Receiver<T>) {
        mpsc::channel(1)
    }

    fn send<T: 'static>(tx: &Self::Sender<T>, value: T) -> impl Future<Output = ()> {
        send(tx, value)
    }

    fn recv<T: 'static>(rx: &mut Self::Receiver<T>) -> impl Future<Output = T> {
        recv(rx)
    }

    async fn gather<F>(_: &(), futs: Vec<F>) -> Vec<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let handles: Vec<_> = futs.into_iter().map(tokio::task::spawn_local).collect();
        let mut out = Vec::with_capacity(handles.len());
        for handle in handles {
            out.push(handle.await.expect("gather child panicked"));
        }
        out
    }
}
