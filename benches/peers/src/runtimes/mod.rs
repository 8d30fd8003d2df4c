//! The seam between the workloads and the runtimes.
//!
//! Every workload in [`crate::workloads`] is written once, generic over [`Runtime`], so each
//! runtime runs exactly the same code and differs only in the five things a runtime provides:
//! a way to run a future to completion on a fresh runtime, spawn, yield, sleep, and a
//! capacity-1 channel. Each runtime lives in its own module and implements the trait with its
//! most idiomatic API (the choices are listed in `BENCHMARKS.md`).

use std::future::Future;
use std::time::Duration;

pub(crate) mod async_executor;
#[cfg(feature = "asyncio-rs")]
pub(crate) mod asyncio_rs;
pub(crate) mod localpool;
pub(crate) mod tokio;

/// What a runtime must offer to run the workloads.
///
/// All futures are `'static` and need not be `Send`: every runtime here is single-threaded.
pub(crate) trait Runtime: 'static {
    /// The name printed in `RESULT` lines and in the table.
    const NAME: &'static str;

    /// Whatever a task needs to spawn another task (a handle to the executor, or nothing when
    /// the runtime keeps it in a thread-local).
    type Spawner: Clone + 'static;
    /// A join handle: a future that completes when the task does. Its output is not used.
    type Task<T: 'static>: Future + 'static;
    /// A pending timer, registered with the runtime's timer on its first poll (or earlier).
    type Sleep: Future + 'static;
    /// The sending half of a capacity-1 channel.
    type Sender<T: 'static>: 'static;
    /// The receiving half of a capacity-1 channel.
    type Receiver<T: 'static>: 'static;

    /// Builds a fresh runtime, runs `make(spawner)` to completion on it, and tears it down.
    fn block_on<F, M>(make: M) -> F::Output
    where
        M: FnOnce(Self::Spawner) -> F,
        F: Future + 'static;

    /// Spawns `fut` as a task and returns its join handle.
    fn spawn<F>(spawner: &Self::Spawner, fut: F) -> Self::Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static;

    /// Spawns `fut` as a task that keeps running although nobody waits for it.
    fn spawn_detached<F>(spawner: &Self::Spawner, fut: F)
    where
        F: Future<Output = ()> + 'static;

    /// The runtime's own "let the others run" (`asyncio.sleep(0)`, `yield_now`).
    fn yield_now() -> impl Future<Output = ()>;

    /// A timer that fires `delay` from now.
    fn sleep(delay: Duration) -> Self::Sleep;

    /// A channel that holds at most one message.
    fn channel<T: 'static>() -> (Self::Sender<T>, Self::Receiver<T>);

    /// Sends `value`, waiting while the channel is full.
    fn send<T: 'static>(tx: &Self::Sender<T>, value: T) -> impl Future<Output = ()>;

    /// Receives the next message, waiting while the channel is empty.
    fn recv<T: 'static>(rx: &mut Self::Receiver<T>) -> impl Future<Output = T>;

    /// Runs every future as a child and returns their outputs in order: `asyncio.gather`.
    fn gather<F>(spawner: &Self::Spawner, futs: Vec<F>) -> impl Future<Output = Vec<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static;
}

/// Every runtime name the Rust binary knows, in table order.
pub(crate) const RUST_RUNTIMES: &[&str] = &[
    "asyncio-rs",
    "tokio",
    "tokio-localset",
    "async-executor",
    "localpool",
];

/// The peers that ratios are taken against: every Rust runtime except the crate under test.
pub(crate) const RUST_PEERS: &[&str] = &["tokio", "tokio-localset", "async-executor", "localpool"];

/// Calls `$body` with the type alias `$rt` bound to the runtime named `$name`; evaluates to
/// `None` when the name is unknown (or asyncio-rs was compiled out).
macro_rules! with_runtime {
    ($name:expr, $rt:ident => $body:expr) => {{
        use $crate::runtimes::*;
        match $name {
            #[cfg(feature = "asyncio-rs")]
            "asyncio-rs" => {
                type $rt = asyncio_rs::AsyncioRs;
                Some($body)
            }
            "tokio" => {
                type $rt = tokio::Tokio;
                Some($body)
            }
            "tokio-localset" => {
                type $rt = tokio::TokioLocalSet;
                Some($body)
            }
            "async-executor" => {
                type $rt = async_executor::AsyncExecutor;
                Some($body)
            }
            "localpool" => {
                type $rt = localpool::LocalPool;
                Some($body)
            }
            _ => None,
        }
    }};
}
pub(crate) use with_runtime;
