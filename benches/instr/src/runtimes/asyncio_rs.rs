//! The crate under test: `asyncio::run` (a `Runner` on the real clock; `Runner::virtual_time`
//! for the virtual one), `create_task`, `sleep` (and `sleep(0)` to yield), `Queue::new(1)`,
//! `call_soon`.

use std::future::{Future, IntoFuture};
use std::time::Duration;

use crate::ops::Unsupported;

fn block_on(main: impl Future<Output = ()> + 'static) -> Result<(), Unsupported> {
    asyncio::run(main);
    Ok(())
}

fn block_on_virtual(main: impl Future<Output = ()> + 'static) -> Result<(), Unsupported> {
    asyncio::Runner::virtual_time().run(main);
    Ok(())
}

fn spawn<F: Future + 'static>(fut: F) -> impl IntoFuture {
    asyncio::create_task(fut)
}

fn spawn_detached(fut: impl Future<Output = ()> + 'static) {
    // Dropping the `Task` handle does not cancel the task (as in asyncio).
    drop(asyncio::create_task(fut));
}

fn yield_now() -> asyncio::Sleep {
    asyncio::sleep(0)
}

fn sleep(delay: Duration) -> asyncio::Sleep {
    asyncio::sleep(delay)
}

fn channel() -> (asyncio::Queue<u32>, asyncio::Queue<u32>) {
    // Both ends are handles to the one queue, as in Python.
    let queue = asyncio::Queue::new(1);
    (queue.clone(), queue)
}

async fn send(tx: &asyncio::Queue<u32>, value: u32) {
    tx.put(value).await.expect("the queue is never shut down");
}

async fn recv(rx: &mut asyncio::Queue<u32>) -> u32 {
    rx.get().await.expect("the queue is never shut down")
}

/// `call_soon`: the driver task schedules callbacks in rounds of [`CALL_SOON_ROUND`] and
/// yields after each round until its callbacks have run (they all run in the loop's next
/// batch, before the task). One op: a callback capturing one value scheduled (its `Handle`
/// dropped, which does not cancel it) and run, plus 1/64 of a `sleep(0)`. Rounds keep the
/// allocator in its steady state (freed callbacks are reused) instead of holding `n`
/// callbacks at once.
fn call_soon(n: usize) -> Result<(), Unsupported> {
    use crate::shared::RAN;
    in_task!(block_on, async move {
        let lp = asyncio::get_running_loop().expect("inside asyncio::run");
        RAN.set(0);
        let mut scheduled = 0;
        while scheduled < n {
            let round = CALL_SOON_ROUND.min(n - scheduled);
            for _ in 0..round {
                // The callback captures a value, as most do (a closure that captures nothing
                // needs no allocation, which would flatter the count).
                let step = std::hint::black_box(1);
                lp.call_soon(move || RAN.set(RAN.get() + step));
            }
            scheduled += round;
            while RAN.get() < scheduled {
                asyncio::sleep(0).await;
            }
        }
    })
}

/// Callbacks scheduled between two yields of `call_soon`'s driver task.
const CALL_SOON_ROUND: usize = 64;

ops!();
