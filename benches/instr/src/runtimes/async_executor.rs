//! smol's building blocks: async-executor's `LocalExecutor`, run by `async_io::block_on` so the
//! async-io reactor drives the timers (`async_io::Timer`), as in benches/peers.
//! `futures_lite::future::yield_now`, `async_channel::bounded(1)`. No virtual clock.

use std::future::Future;
use std::time::Duration;

use async_executor::{LocalExecutor, Task};

use crate::ops::Unsupported;

thread_local! {
    /// The executor: tasks reach it here to spawn, as they reach tokio's and asyncio-rs's
    /// through those runtimes' own thread-locals.
    static EXECUTOR: LocalExecutor<'static> = const { LocalExecutor::new() };
}

fn block_on(main: impl Future<Output = ()>) -> Result<(), Unsupported> {
    EXECUTOR.with(|ex| async_io::block_on(ex.run(main)));
    Ok(())
}

fn block_on_virtual(_: impl Future<Output = ()>) -> Result<(), Unsupported> {
    Err(Unsupported("async-io has no virtual clock"))
}

fn spawn<F: Future + 'static>(fut: F) -> Task<F::Output> {
    EXECUTOR.with(|ex| ex.spawn(fut))
}

fn spawn_detached(fut: impl Future<Output = ()> + 'static) {
    // Dropping an async-task `Task` cancels it; `detach` lets it run on.
    EXECUTOR.with(|ex| ex.spawn(fut).detach());
}

fn yield_now() -> impl Future<Output = ()> {
    futures_lite::future::yield_now()
}

fn sleep(delay: Duration) -> async_io::Timer {
    async_io::Timer::after(delay)
}

fn channel() -> (async_channel::Sender<u32>, async_channel::Receiver<u32>) {
    async_channel::bounded(1)
}

async fn send(tx: &async_channel::Sender<u32>, value: u32) {
    tx.send(value).await.expect("the receiver lives on");
}

async fn recv(rx: &mut async_channel::Receiver<u32>) -> u32 {
    rx.recv().await.expect("the sender lives on")
}

fn call_soon(_: usize) -> Result<(), Unsupported> {
    Err(Unsupported("async-executor has no callbacks outside tasks"))
}

ops!();
