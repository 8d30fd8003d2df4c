//! Deadlines, as asyncio spells them: `wait_for` giving up on a slow task, `timeout` whose
//! deadline is pushed back while it runs, and `shield` keeping a task alive through a timeout.
//!
//! ```python
//! async def main():
//!     slow = asyncio.create_task(asyncio.sleep(10))
//!     try:
//!         await asyncio.wait_for(slow, timeout=1)
//!     except TimeoutError:
//!         print("wait_for gave up; slow cancelled:", slow.cancelled())
//!
//!     async with asyncio.timeout(2) as cm:
//!         await asyncio.sleep(1)
//!         cm.reschedule(loop.time() + 3)      # more time, please
//!         await asyncio.sleep(2)
//!
//!     save = asyncio.create_task(asyncio.sleep(3))
//!     try:
//!         await asyncio.wait_for(asyncio.shield(save), timeout=1)
//!     except TimeoutError:
//!         await save                           # it kept running
//! ```
//!
//! It runs on the virtual clock, so it finishes at once and the loop times it prints are
//! exact; `cargo run --example timeouts -- --real` runs it on the real clock (about 9 s).

use std::future::IntoFuture;

fn now() -> f64 {
    asyncio::get_running_loop().unwrap().time()
}

/// Prints `what` prefixed by the loop time since `start`.
fn say(start: f64, what: &str) {
    println!("[t={:.3}] {what}", now() - start);
}

/// Says when it is dropped: a cancelled future's destructors run.
struct Announce(&'static str, f64);

impl Drop for Announce {
    fn drop(&mut self) {
        say(self.1, self.0);
    }
}

async fn main_() {
    let start = now();

    // 1. wait_for a slow task: at the deadline the task is cancelled, and wait_for returns
    //    only once the task is gone.
    let slow = asyncio::create_task(async move {
        let _bye = Announce("slow task: dropped (cancelled)", start);
        asyncio::sleep(10).await;
    });
    slow.set_name("slow");
    say(start, "wait_for(slow, 1): waiting");
    match asyncio::wait_for(slow, 1.0).await {
        Ok(_) => say(start, "slow finished in time?!"),
        Err(e) => say(start, &format!("wait_for gave up: {e}")),
    }

    // 2. timeout with a reschedule: the operation asks for more time while it runs.
    let cm = asyncio::timeout(2);
    say(
        start,
        &format!(
            "timeout(2): deadline at t={:.3}",
            cm.when().unwrap() - start
        ),
    );
    let handle = cm.clone();
    let out = cm
        .run(async move {
            asyncio::sleep(1).await;
            handle.reschedule(now() + 3.0);
            say(
                start,
                &format!(
                    "rescheduled: deadline now t={:.3}",
                    handle.when().unwrap() - start
                ),
            );
            asyncio::sleep(2).await;
            "finished after the original deadline"
        })
        .await;
    say(
        start,
        &format!("timeout: {out:?}, expired: {}", cm.expired()),
    );

    // 3. shield: the timeout gives up waiting, but the task goes on and its result stays.
    let mut save = asyncio::shield(async move {
        asyncio::sleep(3).await;
        "saved"
    });
    match asyncio::wait_for(&mut save, 1).await {
        Ok(r) => say(start, &format!("save done early: {r:?}")),
        Err(_) => say(
            start,
            "wait_for(shield(save), 1) timed out; save still running",
        ),
    }
    let result = save.await.unwrap();
    say(start, &format!("save finished anyway: {result:?}"));

    // Awaiting a task's future through `&mut` is a shield too: the timeout drops the borrow.
    let mut fut = asyncio::create_task(asyncio::sleep(1)).into_future();
    let _ = asyncio::wait_for(&mut fut, 0.5).await;
    say(
        start,
        &format!(
            "borrowed task done after the timeout: {}",
            fut.task().done()
        ),
    );
    fut.await.unwrap();
    say(start, "and it finished");
}

fn main() {
    if std::env::args().any(|a| a == "--real") {
        asyncio::run(main_());
    } else {
        asyncio::Runner::virtual_time().run(main_());
    }
}
