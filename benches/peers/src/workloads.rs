//! The workloads, written once for every runtime.
//!
//! Each function builds a fresh runtime, runs one repetition and returns nanoseconds per
//! operation. The clock starts and stops inside the runtime, so building and tearing the
//! runtime down is not counted; everything from the first spawn to the last completion is.

use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::config::Sizes;
use crate::measure::{self, XorShift};
use crate::runtimes::Runtime;

fn ns_per_op(elapsed: Duration, ops: usize) -> f64 {
    elapsed.as_nanos() as f64 / ops as f64
}

/// `spawn_many`: spawn empty tasks, then await every handle. Op = one task.
pub(crate) fn spawn_many<R: Runtime>(s: &Sizes) -> f64 {
    let n = s.spawn_many;
    R::block_on(move |sp| async move {
        let start = Instant::now();
        let mut handles = Vec::with_capacity(n);
        for _ in 0..n {
            handles.push(R::spawn(&sp, async {}));
        }
        for handle in handles {
            let _ = handle.await;
        }
        ns_per_op(start.elapsed(), n)
    })
}

/// `yield_many`: tasks that each yield many times with the runtime's own yield. Op = one yield.
pub(crate) fn yield_many<R: Runtime>(s: &Sizes) -> f64 {
    yield_many_with::<R, _>(s, R::yield_now)
}

/// `yield_many_plain`: `yield_many` with one hand-written yield for every runtime
/// ([`PlainYield`]), so the figure compares the schedulers alone, not each runtime's yield.
pub(crate) fn yield_many_plain<R: Runtime>(s: &Sizes) -> f64 {
    yield_many_with::<R, _>(s, || PlainYield { yielded: false })
}

fn yield_many_with<R: Runtime, Y: Future<Output = ()> + 'static>(
    s: &Sizes,
    yield_now: fn() -> Y,
) -> f64 {
    let (tasks, yields) = (s.yield_tasks, s.yields);
    R::block_on(move |sp| async move {
        let start = Instant::now();
        let mut handles = Vec::with_capacity(tasks);
        for _ in 0..tasks {
            handles.push(R::spawn(&sp, async move {
                for _ in 0..yields {
                    yield_now().await;
                }
            }));
        }
        for handle in handles {
            let _ = handle.await;
        }
        ns_per_op(start.elapsed(), tasks * yields)
    })
}

/// The simplest yield there is, the same for every runtime: the first poll wakes its own task
/// and returns `Pending`, the second returns `Ready`. (tokio's `yield_now` defers its wake to
/// the end of the scheduler tick, futures-lite's wakes at once like this one, asyncio-rs's
/// `sleep(0)` is this one with a state more.)
struct PlainYield {
    yielded: bool,
}

impl Future for PlainYield {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// `ping_pong`: pairs of tasks bouncing a message over two capacity-1 channels. Op = one round
/// trip (ping there, pong back).
pub(crate) fn ping_pong<R: Runtime>(s: &Sizes) -> f64 {
    let (pairs, trips) = (s.pairs, s.round_trips);
    R::block_on(move |sp| async move {
        let start = Instant::now();
        let mut handles = Vec::with_capacity(2 * pairs);
        for _ in 0..pairs {
            let (ping_tx, mut ping_rx) = R::channel::<u32>();
            let (pong_tx, mut pong_rx) = R::channel::<u32>();
            handles.push(R::spawn(&sp, async move {
                for i in 0..trips as u32 {
                    R::send(&ping_tx, i).await;
                    let pong = R::recv(&mut pong_rx).await;
                    assert_eq!(pong, i);
                }
            }));
            handles.push(R::spawn(&sp, async move {
                for _ in 0..trips {
                    let ping = R::recv(&mut ping_rx).await;
                    R::send(&pong_tx, ping).await;
                }
            }));
        }
        for handle in handles {
            let _ = handle.await;
        }
        ns_per_op(start.elapsed(), pairs * trips)
    })
}

/// Spawns the next link of a chain; the last link reports on `done`.
fn spawn_link<R: Runtime>(sp: &R::Spawner, left: usize, done: R::Sender<()>) {
    let next = sp.clone();
    R::spawn_detached(sp, async move {
        if left == 0 {
            R::send(&done, ()).await;
        } else {
            spawn_link::<R>(&next, left - 1, done);
        }
    });
}

/// `chained_spawn`: a chain of tasks, each spawning the next, repeated. Op = one spawn.
pub(crate) fn chained_spawn<R: Runtime>(s: &Sizes) -> f64 {
    let (len, chains) = (s.chain_len, s.chains);
    R::block_on(move |sp| async move {
        let start = Instant::now();
        for _ in 0..chains {
            let (done_tx, mut done_rx) = R::channel::<()>();
            spawn_link::<R>(&sp, len - 1, done_tx);
            R::recv(&mut done_rx).await;
        }
        ns_per_op(start.elapsed(), len * chains)
    })
}

/// `timers`: many tasks each sleeping a random 0-100 ms. Returns CPU (not wall) nanoseconds per
/// timer: the wall time is the 100 ms.
pub(crate) fn timers<R: Runtime>(s: &Sizes) -> f64 {
    let n = s.timers;
    R::block_on(move |sp| async move {
        let mut rng = XorShift::seeded();
        let cpu = measure::cpu_time();
        let mut handles = Vec::with_capacity(n);
        for _ in 0..n {
            let delay = Duration::from_micros(rng.below(100_001));
            handles.push(R::spawn(&sp, async move {
                R::sleep(delay).await;
            }));
        }
        for handle in handles {
            let _ = handle.await;
        }
        ns_per_op(measure::cpu_time() - cpu, n)
    })
}

/// `timer_churn`: create `n` sleeps with random deadlines between 10 s and 10 min, each polled
/// once right after it is made so it is registered with the timer, then drop (cancel) them all.
/// Op = one create + cancel.
///
/// Everything happens inside one poll of the main task, so no timer can fire meanwhile, and the
/// 10 s minimum keeps every deadline in the future when its sleep is polled.
pub(crate) fn timer_churn<R: Runtime>(n: usize) -> f64 {
    R::block_on(move |_| async move {
        let mut rng = XorShift::seeded();
        let start = Instant::now();
        let mut sleeps: Vec<R::Sleep> = Vec::with_capacity(n);
        poll_fn(|cx| {
            for _ in 0..n {
                let delay = Duration::from_millis(10_000 + rng.below(590_000));
                sleeps.push(R::sleep(delay));
                let sleep = sleeps.last_mut().expect("just pushed");
                // SAFETY: the sleep stays where it is from here until it is dropped: `sleeps`
                // was allocated for all `n` up front, so pushing never reallocates it, no sleep
                // is moved out of it, and `drop(sleeps)` below drops each one in place.
                let sleep = unsafe { Pin::new_unchecked(sleep) };
                assert!(sleep.poll(cx).is_pending(), "a churned timer fired");
            }
            Poll::Ready(())
        })
        .await;
        drop(sleeps);
        ns_per_op(start.elapsed(), n)
    })
}

/// `gather`: gather trivial children, `gather_rounds` times. Op = one child.
pub(crate) fn gather<R: Runtime>(s: &Sizes) -> f64 {
    let (n, rounds) = (s.gather, s.gather_rounds);
    R::block_on(move |sp| async move {
        let start = Instant::now();
        for _ in 0..rounds {
            let children: Vec<_> = (0..n).map(|i| async move { i }).collect();
            let out = R::gather(&sp, children).await;
            assert_eq!(out.len(), n);
            assert_eq!(out[n - 1], n - 1);
        }
        ns_per_op(start.elapsed(), n * rounds)
    })
}

thread_local! {
    /// How many `memory` tasks have been polled (they each count themselves once).
    static POLLED: Cell<usize> = const { Cell::new(0) };
}

/// What the `memory` workload measured.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Memory {
    /// Growth of the resident set per pending task.
    pub(crate) rss_bytes_per_task: f64,
    /// Heap allocations per spawn.
    pub(crate) allocs_per_spawn: f64,
    /// Growth of the bytes allocated on the heap (as requested, before the allocator's own
    /// overhead) per pending task: what the resident-set growth is made of.
    pub(crate) heap_bytes_per_task: f64,
}

/// `memory`: spawn `n` tasks that each wait forever, run until every one has been polled once,
/// and report the resident-set and heap growth per task and the allocations per spawn.
///
/// Run it in a fresh process (the parent re-executes the binary for that): the tasks are
/// never cleaned up, and the process exits right after.
pub(crate) fn memory<R: Runtime>(n: usize) -> Memory {
    R::block_on(move |sp| async move {
        let rss = measure::rss_bytes();
        let heap = measure::live_bytes();
        let allocs = measure::allocations();
        for _ in 0..n {
            R::spawn_detached(&sp, async {
                POLLED.set(POLLED.get() + 1);
                std::future::pending::<()>().await;
            });
        }
        let allocs = measure::allocations() - allocs;
        while POLLED.get() < n {
            R::yield_now().await;
        }
        let rss = measure::rss_bytes().saturating_sub(rss);
        let heap = measure::live_bytes().wrapping_sub(heap) as i64;
        Memory {
            heap_bytes_per_task: heap as f64 / n as f64,
            rss_bytes_per_task: rss as f64 / n as f64,
            allocs_per_spawn: allocs as f64 / n as f64,
        }
    })
}
