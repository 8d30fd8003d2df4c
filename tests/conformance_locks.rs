//! Ports of CPython's `Lib/test/test_asyncio/test_locks.py` (3.13) to this crate's API:
//! `SemaphoreTests` and `BarrierTests`, with a few `LockTests`.
//!
//! `async with sem:` is `let _permit = sem.acquire().await;`, `await sem.acquire()` (keeping
//! the permit) is `sem.acquire().await.forget()`, and `try: await barrier.wait() except
//! BrokenBarrierError:` is a `match` on the `Result`. Each test names the CPython test it ports.
//! What cannot be expressed here, and why:
//!
//! - `test_repr`, `test_barrier` (`await barrier` is a TypeError), `test_context_manager_*`:
//!   Python syntax and reprs; the states `repr` shows are checked through `Debug` instead.
//! - `test_abort_barrier_when_exception*`: they raise from inside `async with barrier`, which
//!   Rust spells as returning an error from the task; the behaviour (abort from one task breaks
//!   the others) is covered by `test_abort_barrier_when_tasks_half_draining_half_blocking`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use asyncio::{Barrier, BrokenBarrierError, Runner, Semaphore};

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    Runner::virtual_time().run(f)
}

type Log = Rc<RefCell<Vec<i32>>>;

fn log() -> Log {
    Rc::default()
}

// ----- Semaphore ------------------------------------------------------------------------------

/// `test_locks.py::SemaphoreTests::test_acquire`.
#[test]
fn test_semaphore_acquire() {
    run(async {
        let sem = Semaphore::new(3);
        let result = log();
        sem.acquire().await.forget();
        sem.acquire().await.forget();
        assert!(!sem.locked());
        let spawn = |n: i32| {
            let (sem, result) = (sem.clone(), result.clone());
            asyncio::create_task(async move {
                sem.acquire().await.forget();
                result.borrow_mut().push(n);
                true
            })
        };
        let (t1, t2, t3) = (spawn(1), spawn(2), spawn(3));
        asyncio::sleep(0).await;
        assert_eq!(*result.borrow(), [1]);
        assert!(sem.locked());
        let t4 = spawn(4);
        sem.release();
        sem.release();
        asyncio::sleep(0).await;
        assert_eq!(result.borrow().len(), 3);
        assert!(sem.locked());
        assert!(t1.done());
        let done = [&t2, &t3, &t4].iter().filter(|t| t.done()).count();
        assert_eq!(done, 2);
        sem.release();
        asyncio::gather([t2, t3, t4]).await.unwrap();
    });
}

/// `test_locks.py::SemaphoreTests::test_acquire_fifo_order`.
#[test]
fn test_acquire_fifo_order() {
    let result: Rc<RefCell<Vec<String>>> = Rc::default();
    run({
        let result = result.clone();
        async move {
            let sem = Semaphore::new(1);
            asyncio::TaskGroup::run(|tg| async move {
                for tag in ["c1", "c2", "c3"] {
                    let (sem, result) = (sem.clone(), result.clone());
                    tg.create_task(async move {
                        for round in 1..=2 {
                            sem.acquire().await.forget();
                            result.borrow_mut().push(format!("{tag}_{round}"));
                            asyncio::sleep(0.01).await;
                            sem.release();
                        }
                    });
                }
            })
            .await
            .unwrap();
        }
    });
    assert_eq!(
        *result.borrow(),
        ["c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"]
    );
}

/// `test_locks.py::SemaphoreTests::test_acquire_fifo_order_2`: a task that calls `acquire()`
/// while a woken waiter has not run yet queues behind it.
#[test]
fn test_acquire_fifo_order_2() {
    run(async {
        let sem = Semaphore::new(1);
        let result = log();
        let (s, r) = (sem.clone(), result.clone());
        let t1 = asyncio::create_task(async move {
            s.acquire().await.forget();
            r.borrow_mut().push(1);
        });
        let (s, r) = (sem.clone(), result.clone());
        let t2 = asyncio::create_task(async move {
            s.acquire().await.forget();
            r.borrow_mut().push(2);
            s.release();
            s.acquire().await.forget();
            r.borrow_mut().push(4);
        });
        let (s, r) = (sem.clone(), result.clone());
        let t3 = asyncio::create_task(async move {
            s.acquire().await.forget();
            r.borrow_mut().push(3);
        });
        asyncio::sleep(0).await;
        sem.release();
        sem.release();
        asyncio::gather([t1, t2, t3]).await.unwrap();
        assert_eq!(*result.borrow(), [1, 2, 3, 4]);
    });
}

/// `test_locks.py::SemaphoreTests::test_acquire_fifo_order_3`.
#[test]
fn test_acquire_fifo_order_3() {
    run(async {
        let sem = Semaphore::new(0);
        let result = log();
        let spawn = |n: i32| {
            let (sem, result) = (sem.clone(), result.clone());
            asyncio::create_task(async move {
                sem.acquire().await.forget();
                result.borrow_mut().push(n);
            })
        };
        let (t1, t2, t3) = (spawn(1), spawn(2), spawn(3));
        asyncio::sleep(0).await;
        t1.cancel();
        asyncio::sleep(0).await;
        sem.release();
        sem.release();
        asyncio::gather([t1, t2, t3]).return_exceptions().await;
        assert_eq!(*result.borrow(), [2, 3]);
    });
}

/// `test_locks.py::SemaphoreTests::test_acquire_fifo_order_4`: a waiter that takes its permit
/// wakes the waiters queued behind it for the permits released meanwhile; until then the
/// semaphore is locked even with permits free.
#[test]
fn test_acquire_fifo_order_4() {
    run(async {
        let sem = Semaphore::new(0);
        let result = log();
        let t4: Rc<RefCell<Option<asyncio::Task<()>>>> = Rc::default();
        let value = |sem: &Semaphore| format!("{sem:?}");
        let (s, r, slot) = (sem.clone(), result.clone(), t4.clone());
        let t1 = asyncio::create_task(async move {
            assert!(value(&s).contains("value: 0"));
            s.acquire().await.forget();
            // Every waiting task has been woken now.
            assert!(value(&s).contains("value: 0"), "{s:?}");
            let r4 = r.clone();
            // Created here, it runs after c3, not c2.
            *slot.borrow_mut() = Some(asyncio::create_task(async move {
                r4.borrow_mut().push(4);
            }));
            r.borrow_mut().push(1);
        });
        let (s, r) = (sem.clone(), result.clone());
        let t2 = asyncio::create_task(async move {
            s.release();
            s.release();
            s.release();
            assert!(value(&s).contains("value: 2"), "{s:?}");
            assert!(s.locked(), "locked: c1 has not woken up yet");
            s.acquire().await.forget();
            r.borrow_mut().push(2);
        });
        let (s, r) = (sem.clone(), result.clone());
        let t3 = asyncio::create_task(async move {
            s.acquire().await.forget();
            assert!(s.locked());
            r.borrow_mut().push(3);
        });
        asyncio::sleep(0).await;
        // Three tasks are queued, the first has not woken up yet.
        assert!(value(&sem).contains("value: 2"));
        assert!(value(&sem).contains("waiters: 2"), "{sem:?}"); // + c1, granted
        asyncio::sleep(0).await;
        let t4 = t4.borrow_mut().take().expect("c1 created t4");
        asyncio::gather([t1, t2, t3, t4]).await.unwrap();
        assert_eq!(*result.borrow(), [1, 2, 3, 4]);
    });
}

/// `test_locks.py::SemaphoreTests::test_acquire_cancel_before_awoken`.
#[test]
fn test_acquire_cancel_before_awoken() {
    run(async {
        let sem = Semaphore::new(0);
        let spawn = || {
            let sem = sem.clone();
            asyncio::create_task(async move { sem.acquire().await.forget() })
        };
        let (t1, t2, t3, t4) = (spawn(), spawn(), spawn(), spawn());
        asyncio::sleep(0).await;
        t1.cancel();
        t2.cancel();
        sem.release();
        asyncio::sleep(0).await;
        asyncio::sleep(0).await;
        assert!(t3.done());
        assert!(!t4.done());
        t3.cancel();
        t4.cancel();
        asyncio::sleep(0).await;
    });
}

/// `test_locks.py::SemaphoreTests::test_acquire_hang`.
#[test]
fn test_acquire_hang() {
    run(async {
        let sem = Semaphore::new(0);
        let spawn = || {
            let sem = sem.clone();
            asyncio::create_task(async move { sem.acquire().await.forget() })
        };
        let (t1, t2) = (spawn(), spawn());
        asyncio::sleep(0).await;
        t1.cancel();
        sem.release();
        asyncio::sleep(0).await;
        asyncio::sleep(0).await;
        assert!(sem.locked());
        assert!(t2.done());
    });
}

/// `test_locks.py::SemaphoreTests::test_acquire_no_hang`.
#[test]
fn test_acquire_no_hang() {
    run(async {
        let sem = Semaphore::new(1);
        let t2_slot: Rc<RefCell<Option<asyncio::TaskRef>>> = Rc::default();
        let (s, slot) = (sem.clone(), t2_slot.clone());
        let t1 = asyncio::create_task(async move {
            {
                let _permit = s.acquire().await;
                asyncio::sleep(0).await;
            }
            slot.borrow().as_ref().unwrap().cancel();
        });
        let s = sem.clone();
        let t2 = asyncio::create_task(async move {
            let _permit = s.acquire().await;
            unreachable!("t2 is cancelled before it gets the semaphore");
        });
        *t2_slot.borrow_mut() = Some(asyncio::TaskRef::from(&t2));
        let (r1, r2) = asyncio::gather!(t1, async move { t2.await.unwrap_err() })
            .await
            .unwrap();
        assert_eq!(r1, ());
        assert!(r2.is_cancelled());
        asyncio::wait_for(sem.acquire(), 1.0)
            .await
            .unwrap()
            .forget();
    });
}

// ----- Barrier --------------------------------------------------------------------------------

const N: usize = 5;

/// Spawns `n` tasks of `make()` and gathers their results (CPython's `gather_tasks`).
async fn gather_tasks<F, T>(n: usize, make: impl Fn() -> F) -> Vec<T>
where
    F: std::future::Future<Output = T> + 'static,
    T: 'static,
{
    let tasks: Vec<_> = (0..n).map(|_| asyncio::create_task(make())).collect();
    asyncio::gather(tasks).await.unwrap()
}

fn state(barrier: &Barrier) -> String {
    format!("{barrier:?}")
}

/// `test_locks.py::BarrierTests::test_filling_one_task` and `test_filling_one_task_twice`.
#[test]
fn test_filling_one_task_twice() {
    run(async {
        let barrier = Barrier::new(1);
        let b = barrier.clone();
        let t1 = asyncio::create_task(async move { b.wait().await });
        asyncio::sleep(0).await;
        assert_eq!(barrier.n_waiting(), 0);
        let b = barrier.clone();
        let t2 = asyncio::create_task(async move { b.wait().await });
        asyncio::sleep(0).await;
        assert_eq!(t1.result().unwrap(), t2.result().unwrap());
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!barrier.broken());
    });
}

/// `test_locks.py::BarrierTests::test_filling_task_by_task`.
#[test]
fn test_filling_task_by_task() {
    run(async {
        let barrier = Barrier::new(3);
        let spawn = || {
            let b = barrier.clone();
            asyncio::create_task(async move { b.wait().await })
        };
        let t1 = spawn();
        asyncio::sleep(0).await;
        assert_eq!(barrier.n_waiting(), 1);
        assert!(state(&barrier).contains("filling"));
        let t2 = spawn();
        asyncio::sleep(0).await;
        assert_eq!(barrier.n_waiting(), 2);
        assert!(state(&barrier).contains("filling"));
        let t3 = spawn();
        asyncio::sleep(0).await;
        asyncio::wait([t1, t2, t3]).await;
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!barrier.broken());
    });
}

/// `test_locks.py::BarrierTests::test_filling_tasks_wait_twice` and
/// `test_filling_tasks_check_return_value`.
#[test]
fn test_filling_tasks_wait_twice() {
    run(async {
        let barrier = Barrier::new(N);
        let passes = Rc::new(Cell::new(0));
        let res = gather_tasks(N, || {
            let (b, p) = (barrier.clone(), passes.clone());
            async move {
                b.wait().await.unwrap();
                p.set(p.get() + 1);
                let i = b.wait().await.unwrap();
                p.set(p.get() + 1);
                i
            }
        })
        .await;
        assert_eq!(passes.get(), 2 * N);
        let mut sorted = res.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..N).collect::<Vec<_>>());
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!barrier.broken());
    });
}

/// `test_locks.py::BarrierTests::test_draining_state`: every released task but the last one out
/// sees the barrier draining.
#[test]
fn test_draining_state() {
    run(async {
        let barrier = Barrier::new(N);
        let results = gather_tasks(N, || {
            let b = barrier.clone();
            async move {
                b.wait().await.unwrap();
                state(&b).contains("draining")
            }
        })
        .await;
        // The releaser and the first N - 2 resumed parties see "draining"; the last one out
        // has already turned the barrier back to "filling".
        let draining = results.iter().filter(|d| **d).count();
        assert_eq!(draining, N - 1, "{results:?}");
        assert!(
            !results[N - 2],
            "the last party to leave sees filling: {results:?}"
        );
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!barrier.broken());
    });
}

/// `test_locks.py::BarrierTests::test_blocking_tasks_while_draining`: parties that wait again
/// while the barrier drains wait for the next round, they do not overtake the current one.
#[test]
fn test_blocking_tasks_while_draining() {
    run(async {
        let rewait = 2;
        let barrier = Barrier::new(N);
        let nowaiting = Barrier::new(N - rewait);
        let rewait_n = Rc::new(Cell::new(rewait));
        gather_tasks(N, || {
            let (b, nw, r) = (barrier.clone(), nowaiting.clone(), rewait_n.clone());
            async move {
                b.wait().await.unwrap();
                if r.get() > 0 {
                    r.set(r.get() - 1);
                    b.wait().await.unwrap();
                } else {
                    nw.wait().await.unwrap();
                    b.wait().await.unwrap();
                }
            }
        })
        .await;
    });
}

/// `test_locks.py::BarrierTests::test_filling_tasks_cancel_one`.
#[test]
fn test_filling_tasks_cancel_one() {
    run(async {
        let barrier = Barrier::new(3);
        let results = Rc::new(Cell::new(0));
        let spawn = || {
            let (b, r) = (barrier.clone(), results.clone());
            asyncio::create_task(async move {
                b.wait().await.unwrap();
                r.set(r.get() + 1);
            })
        };
        let t1 = spawn();
        asyncio::sleep(0).await;
        assert_eq!(barrier.n_waiting(), 1);
        let t2 = spawn();
        asyncio::sleep(0).await;
        assert_eq!(barrier.n_waiting(), 2);
        t1.cancel();
        asyncio::sleep(0).await;
        assert_eq!(barrier.n_waiting(), 1);
        assert!(t1.await.unwrap_err().is_cancelled());
        let t3 = spawn();
        asyncio::sleep(0).await;
        assert_eq!(barrier.n_waiting(), 2);
        let t4 = spawn();
        asyncio::gather([t2, t3, t4]).await.unwrap();
        assert_eq!(results.get(), 3);
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!barrier.broken());
    });
}

/// `test_locks.py::BarrierTests::test_reset_barrier`.
#[test]
fn test_reset_barrier() {
    run(async {
        let barrier = Barrier::new(1);
        barrier.reset();
        asyncio::sleep(0).await;
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!barrier.broken());
    });
}

/// `test_locks.py::BarrierTests::test_reset_barrier_while_tasks_waiting`.
#[test]
fn test_reset_barrier_while_tasks_waiting() {
    run(async {
        let barrier = Barrier::new(N);
        let tasks: Vec<_> = (0..N - 1)
            .map(|_| {
                let b = barrier.clone();
                asyncio::create_task(async move { b.wait().await == Err(BrokenBarrierError) })
            })
            .collect();
        asyncio::sleep(0).await;
        let b = barrier.clone();
        asyncio::create_task(async move { b.reset() });
        let results = asyncio::gather(tasks).await.unwrap();
        assert!(results.iter().all(|broken| *broken));
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!state(&barrier).contains("resetting"));
        assert!(!barrier.broken());
    });
}

/// `test_locks.py::BarrierTests::test_reset_barrier_when_tasks_half_draining`: a reset while
/// released parties have not all resumed gives the rest of them `BrokenBarrierError`.
#[test]
fn test_reset_barrier_when_tasks_half_draining() {
    run(async {
        let barrier = Barrier::new(N);
        let rest_of_tasks = N / 2;
        let broken = Rc::new(Cell::new(0));
        let out = Rc::new(Cell::new(0));
        gather_tasks(N, || {
            let (b, broken, out) = (barrier.clone(), broken.clone(), out.clone());
            async move {
                match b.wait().await {
                    Err(BrokenBarrierError) => broken.set(broken.get() + 1),
                    Ok(_) => {
                        // CPython: `if rest_of_tasks == barrier._count`, the parties still
                        // inside; N - out of them are.
                        out.set(out.get() + 1);
                        if N - out.get() == rest_of_tasks {
                            b.reset();
                        }
                    }
                }
            }
        })
        .await;
        assert_eq!(broken.get(), rest_of_tasks);
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!state(&barrier).contains("resetting"));
        assert!(!barrier.broken());
    });
}

/// `test_locks.py::BarrierTests::test_reset_barrier_when_tasks_half_draining_half_blocking`
/// (deadlocked before the barrier had asyncio's states).
#[test]
fn test_reset_barrier_when_tasks_half_draining_half_blocking() {
    run(async {
        let barrier = Barrier::new(N);
        let blocking_tasks = N / 2;
        let results1 = Rc::new(Cell::new(0));
        let results2 = Rc::new(Cell::new(0));
        let count = Rc::new(Cell::new(0));
        gather_tasks(N, || {
            let (b, r1, r2, count) = (
                barrier.clone(),
                results1.clone(),
                results2.clone(),
                count.clone(),
            );
            async move {
                match b.wait().await {
                    Err(BrokenBarrierError) => {
                        // the parties still waiting to drain: wait again to reach `parties`
                        r1.set(r1.get() + 1);
                        b.wait().await.unwrap();
                    }
                    Ok(_) => {
                        count.set(count.get() + 1);
                        if count.get() > blocking_tasks {
                            // breaks the round for the parties not yet resumed
                            b.reset();
                            b.wait().await.unwrap();
                        } else if b.wait().await.is_err() {
                            // blocked while draining: no error here
                            r2.set(r2.get() + 1);
                        }
                    }
                }
            }
        })
        .await;
        assert_eq!(results1.get(), blocking_tasks);
        assert_eq!(results2.get(), 0);
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!state(&barrier).contains("resetting"));
        assert!(!barrier.broken());
    });
}

/// `test_locks.py::BarrierTests::test_reset_barrier_while_tasks_waiting_and_waiting_again`.
#[test]
fn test_reset_barrier_while_tasks_waiting_and_waiting_again() {
    run(async {
        let barrier = Barrier::new(N);
        let results1 = Rc::new(Cell::new(0));
        let results2 = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..N - 1)
            .map(|_| {
                let (b, r1, r2) = (barrier.clone(), results1.clone(), results2.clone());
                asyncio::create_task(async move {
                    if b.wait().await.is_err() {
                        r1.set(r1.get() + 1);
                    }
                    // finally:
                    b.wait().await.unwrap();
                    r2.set(r2.get() + 1);
                })
            })
            .collect();
        let b = barrier.clone();
        asyncio::create_task(async move { b.reset() });
        asyncio::sleep(0).await;
        let (b, r2) = (barrier.clone(), results2.clone());
        asyncio::create_task(async move {
            b.wait().await.unwrap();
            r2.set(r2.get() + 1);
        });
        asyncio::gather(tasks).await.unwrap();
        asyncio::sleep(0).await; // let the last party record its pass
        assert!(!barrier.broken());
        assert_eq!(results1.get(), N - 1);
        assert_eq!(results2.get(), N);
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// `test_locks.py::BarrierTests::test_reset_barrier_while_tasks_draining` (deadlocked before).
#[test]
fn test_reset_barrier_while_tasks_draining() {
    run(async {
        let barrier = Barrier::new(N);
        let results1 = Rc::new(Cell::new(0));
        let results2 = Rc::new(Cell::new(0));
        let results3 = Rc::new(Cell::new(0));
        let count = Rc::new(Cell::new(0));
        gather_tasks(N, || {
            let (b, r1, r2, r3, count) = (
                barrier.clone(),
                results1.clone(),
                results2.clone(),
                results3.clone(),
                count.clone(),
            );
            async move {
                b.wait().await.unwrap();
                count.set(count.get() + 1);
                if count.get() == N {
                    // the last party out of the barrier
                    b.reset();
                    b.wait().await.unwrap();
                } else {
                    match b.wait().await {
                        Ok(_) => r1.set(r1.get() + 1),
                        Err(_) => r2.set(r2.get() + 1),
                    }
                }
                // pass the barrier once more: must complete
                b.wait().await.unwrap();
                r3.set(r3.get() + 1);
            }
        })
        .await;
        assert!(!barrier.broken());
        assert_eq!(results1.get(), N - 1);
        assert_eq!(results2.get(), 0);
        assert_eq!(results3.get(), N);
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// `test_locks.py::BarrierTests::test_abort_barrier`.
#[test]
fn test_abort_barrier() {
    run(async {
        let barrier = Barrier::new(1);
        barrier.abort();
        asyncio::sleep(0).await;
        assert_eq!(barrier.n_waiting(), 0);
        assert!(barrier.broken());
        assert_eq!(barrier.wait().await, Err(BrokenBarrierError));
    });
}

/// `test_locks.py::BarrierTests::test_abort_barrier_when_tasks_half_draining_half_blocking`:
/// an abort reaches released parties that have not resumed, and parties blocked waiting for
/// the drain to end.
#[test]
fn test_abort_barrier_when_tasks_half_draining_half_blocking() {
    run(async {
        let barrier = Barrier::new(N);
        let blocking_tasks = N / 2;
        let results1 = Rc::new(Cell::new(0));
        let results2 = Rc::new(Cell::new(0));
        let count = Rc::new(Cell::new(0));
        gather_tasks(N, || {
            let (b, r1, r2, count) = (
                barrier.clone(),
                results1.clone(),
                results2.clone(),
                count.clone(),
            );
            async move {
                match b.wait().await {
                    // the parties waiting to drain
                    Err(BrokenBarrierError) => r1.set(r1.get() + 1),
                    Ok(_) => {
                        count.set(count.get() + 1);
                        if count.get() > blocking_tasks {
                            b.abort();
                        } else if b.wait().await.is_err() {
                            // the parties blocked (already drained)
                            r2.set(r2.get() + 1);
                        }
                    }
                }
            }
        })
        .await;
        assert!(barrier.broken());
        assert_eq!(results1.get(), blocking_tasks);
        assert_eq!(results2.get(), N - blocking_tasks - 1);
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!state(&barrier).contains("resetting"));
    });
}

/// `test_locks.py::BarrierTests::test_repr`'s states, through `Debug`.
#[test]
fn test_barrier_states_in_debug() {
    run(async {
        let barrier = Barrier::new(N);
        assert!(state(&barrier).contains("filling"));
        let mut waiters = Vec::new();
        let spawn = |waiters: &mut Vec<asyncio::Task<_>>| {
            let b = barrier.clone();
            waiters.push(asyncio::create_task(async move { b.wait().await }));
        };
        for _ in 0..2 {
            spawn(&mut waiters);
        }
        asyncio::sleep(0).await;
        assert!(state(&barrier).contains("waiters: 2"));
        assert!(state(&barrier).contains("filling"));
        for _ in 0..barrier.parties() - barrier.n_waiting() {
            spawn(&mut waiters);
        }
        asyncio::sleep(0).await;
        assert!(state(&barrier).contains("draining"), "{barrier:?}");
        for _ in 0..2 {
            spawn(&mut waiters);
        }
        asyncio::sleep(0).await;
        barrier.reset();
        assert!(state(&barrier).contains("resetting"), "{barrier:?}");
        for _ in 0..2 {
            spawn(&mut waiters);
        }
        asyncio::sleep(0).await;
        barrier.abort();
        assert!(state(&barrier).contains("broken"));
        assert!(barrier.broken());
        asyncio::gather(waiters).return_exceptions().await;
    });
}

// ----- Lock -----------------------------------------------------------------------------------

/// `test_locks.py::LockTests::test_acquire`: waiters get the lock in FIFO order, one per
/// release.
#[test]
fn test_lock_acquire() {
    run(async {
        let lock = asyncio::Lock::new();
        let result = log();
        let guard = lock.acquire().await;
        let spawn = |n: i32| {
            let (lock, result) = (lock.clone(), result.clone());
            asyncio::create_task(async move {
                let _g = lock.acquire().await;
                result.borrow_mut().push(n);
                asyncio::sleep(0).await; // hold it for an iteration
            })
        };
        let (t1, t2) = (spawn(1), spawn(2));
        asyncio::sleep(0).await;
        assert!(result.borrow().is_empty());
        drop(guard);
        asyncio::sleep(0).await;
        assert_eq!(*result.borrow(), [1]);
        let t3 = spawn(3);
        asyncio::gather([t1, t2, t3]).await.unwrap();
        assert_eq!(*result.borrow(), [1, 2, 3]);
    });
}
