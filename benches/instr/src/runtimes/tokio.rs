//! tokio's `current_thread` runtime (time enabled, no I/O driver: the same features as
//! benches/peers), two ways: plain `tokio::spawn` ([`plain`]) and `spawn_local` on a
//! `LocalSet` ([`localset`]). `tokio::task::yield_now`, `tokio::time::sleep`,
//! `tokio::sync::mpsc::channel(1)`. The virtual clock is `start_paused`, which needs the
//! `paused-clock` feature (tokio's `test-util`).

use std::time::Duration;

use tokio::sync::mpsc;

use crate::ops::Unsupported;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("building a tokio current_thread runtime")
}

#[cfg(feature = "paused-clock")]
fn paused_runtime() -> Result<tokio::runtime::Runtime, Unsupported> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("building a paused tokio current_thread runtime"))
}

#[cfg(not(feature = "paused-clock"))]
fn paused_runtime() -> Result<tokio::runtime::Runtime, Unsupported> {
    Err(Unsupported(
        "start_paused needs tokio's test-util: the `instr-paused` build (feature paused-clock)",
    ))
}

fn yield_now() -> impl Future<Output = ()> {
    tokio::task::yield_now()
}

fn sleep(delay: Duration) -> tokio::time::Sleep {
    tokio::time::sleep(delay)
}

fn channel() -> (mpsc::Sender<u32>, mpsc::Receiver<u32>) {
    mpsc::channel(1)
}

async fn send(tx: &mpsc::Sender<u32>, value: u32) {
    tx.send(value).await.expect("the receiver lives on");
}

async fn recv(rx: &mut mpsc::Receiver<u32>) -> u32 {
    rx.recv().await.expect("the sender lives on")
}

fn call_soon(_: usize) -> Result<(), Unsupported> {
    Err(Unsupported("tokio has no callbacks outside tasks"))
}

/// `tokio::spawn` on the `current_thread` runtime.
pub(crate) mod plain {
    use std::future::Future;

    use super::{Unsupported, call_soon, channel, recv, send, sleep, yield_now};

    fn block_on(main: impl Future<Output = ()>) -> Result<(), Unsupported> {
        super::runtime().block_on(main);
        Ok(())
    }

    fn block_on_virtual(main: impl Future<Output = ()>) -> Result<(), Unsupported> {
        super::paused_runtime()?.block_on(main);
        Ok(())
    }

    fn spawn<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(fut)
    }

    fn spawn_detached(fut: impl Future<Output = ()> + Send + 'static) {
        drop(tokio::spawn(fut));
    }

    ops!();
}

/// `tokio::task::spawn_local` on a `LocalSet` driven by the `current_thread` runtime.
pub(crate) mod localset {
    use std::future::Future;

    use tokio::task::LocalSet;

    use super::{Unsupported, call_soon, channel, recv, send, sleep, yield_now};

    fn block_on(main: impl Future<Output = ()>) -> Result<(), Unsupported> {
        super::runtime().block_on(LocalSet::new().run_until(main));
        Ok(())
    }

    fn block_on_virtual(main: impl Future<Output = ()>) -> Result<(), Unsupported> {
        super::paused_runtime()?.block_on(LocalSet::new().run_until(main));
        Ok(())
    }

    fn spawn<F: Future + 'static>(fut: F) -> tokio::task::JoinHandle<F::Output> {
        tokio::task::spawn_local(fut)
    }

    fn spawn_detached(fut: impl Future<Output = ()> + 'static) {
        drop(tokio::task::spawn_local(fut));
    }

    ops!();
}
