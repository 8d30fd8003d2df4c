//! The operations, each written once.
//!
//! [`ops!`] expands, inside a runtime module, to that module's `run(op, n)`. Every operation
//! runs inside a spawned task (the "driver task"), never in the future given to `block_on`,
//! because runtimes poll that main future on a path of its own (tokio's `block_on` polls it
//! outside the scheduler) and real programs do their work in tasks.
//!
//! What a runtime module provides, under these names, with its own types:
//!
//! | item | what it is |
//! |---|---|
//! | `block_on(main)` | a fresh runtime on the real clock, `main` run to completion on it, torn down |
//! | `block_on_virtual(main)` | the same on a virtual clock, or `Err(Unsupported)` |
//! | `spawn(fut)` | a task; returns its join handle (awaitable) |
//! | `spawn_detached(fut)` | a task nobody waits for |
//! | `yield_now()` | the runtime's own "let the others run" |
//! | `sleep(duration)` | the runtime's timer future |
//! | `channel()`, `send(&tx, v)`, `recv(&mut rx)` | a channel of capacity 1 |
//! | `call_soon(n)` | asyncio's `call_soon` measured `n` times, or `Err(Unsupported)` |

/// The operations, in table order (see `op_names.rs`).
pub(crate) const NAMES: &[&str] = crate::op_names::OPS;

/// This runtime has no such operation; the text says why (shown by the driver).
#[derive(Debug)]
pub(crate) struct Unsupported(pub(crate) &'static str);

/// How long `timer_fire` sleeps: 1 ms, the finest step of tokio's wheel.
pub(crate) const FIRE_DELAY: std::time::Duration = std::time::Duration::from_millis(1);

/// How far ahead `timer_cancel` sets its timer: far enough that it never fires before it is
/// dropped, even at valgrind's speed, near enough to stay in the wheels' lower levels.
pub(crate) const CANCEL_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs `body` as the driver task on `block_on`'s runtime and waits for it.
macro_rules! in_task {
    ($block_on:ident, $body:expr) => {{
        let body = $body;
        $block_on(async move {
            let _ = spawn(body).await;
        })
    }};
}

/// Defines `run(op, n)` in the invoking runtime module (see the module docs for what that
/// module must provide).
macro_rules! ops {
    () => {
        /// Runs `op` `n` times on a fresh runtime of this module's kind.
        pub(crate) fn run(op: &str, n: usize) -> Result<(), $crate::ops::Unsupported> {
            use $crate::ops::{CANCEL_DELAY, FIRE_DELAY};
            use $crate::shared;

            match op {
                // The runtime's own yield: asyncio.sleep(0), tokio / futures-lite yield_now.
                "yield_sleep0" => in_task!(block_on, async move {
                    for _ in 0..n {
                        yield_now().await;
                    }
                }),
                // The same hand-written future on every runtime: wake_by_ref, Pending, Ready.
                "yield_wake" => in_task!(block_on, async move {
                    for _ in 0..n {
                        shared::YieldOnce::default().await;
                    }
                }),
                // Spawn an empty task and wait for it: create, schedule, poll, complete, join.
                "spawn_await" => in_task!(block_on, async move {
                    for _ in 0..n {
                        let _ = spawn(async {}).await;
                    }
                }),
                // Spawn n tasks nobody waits for, then yield until every one has run.
                "spawn_detached" => in_task!(block_on, async move {
                    shared::RAN.set(0);
                    for _ in 0..n {
                        spawn_detached(async { shared::RAN.set(shared::RAN.get() + 1) });
                    }
                    while shared::RAN.get() < n {
                        yield_now().await;
                    }
                }),
                // Sleep 1 ms, on the real clock: the loop really blocks until the timer is due.
                "timer_fire" => in_task!(block_on, async move {
                    for _ in 0..n {
                        let _ = sleep(FIRE_DELAY).await;
                    }
                }),
                // Sleep 1 ms on a virtual clock: the loop jumps to the timer instead of blocking.
                "timer_fire_virtual" => in_task!(block_on_virtual, async move {
                    for _ in 0..n {
                        let _ = sleep(FIRE_DELAY).await;
                    }
                }),
                // Create a timer, poll it once (it registers), drop it (it unregisters).
                "timer_cancel" => in_task!(block_on, async move {
                    for _ in 0..n {
                        let timer = std::pin::pin!(sleep(CANCEL_DELAY));
                        let first = shared::PollOnce(timer).await;
                        assert!(first.is_pending(), "a 1 s timer fired at once");
                    }
                }),
                "call_soon" => call_soon(n),
                // One round trip: the driver task sends, the echo task receives and sends back.
                "queue_ping_pong" => in_task!(block_on, async move {
                    let (ping_tx, mut ping_rx) = channel();
                    let (pong_tx, mut pong_rx) = channel();
                    let echo = spawn(async move {
                        for _ in 0..n {
                            let v = recv(&mut ping_rx).await;
                            send(&pong_tx, v).await;
                        }
                    });
                    for i in 0..n as u32 {
                        send(&ping_tx, i).await;
                        assert_eq!(recv(&mut pong_rx).await, i);
                    }
                    let _ = echo.await;
                }),
                // One round trip with a std thread: the task parks, the thread wakes it.
                "cross_thread_wake" => in_task!(block_on, async move {
                    let helper = shared::PingThread::start();
                    for _ in 0..n {
                        helper.ping().await;
                    }
                    drop(helper);
                }),
                // Memory, run natively: n tasks that wait forever, resident bytes per task.
                "pending_rss" => in_task!(block_on, async move {
                    shared::RAN.set(0);
                    let before = shared::rss_bytes();
                    for _ in 0..n {
                        spawn_detached(async {
                            shared::RAN.set(shared::RAN.get() + 1);
                            std::future::pending::<()>().await;
                        });
                    }
                    while shared::RAN.get() < n {
                        yield_now().await;
                    }
                    let grown = shared::rss_bytes().saturating_sub(before);
                    println!("{:.1}", grown as f64 / n as f64);
                    // The tasks are never cleaned up: the measurement is all this run is for.
                    std::process::exit(0);
                }),
                _ => Err($crate::ops::Unsupported("not an operation")),
            }
        }
    };
}
