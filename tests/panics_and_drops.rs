//! A panic in each place user code runs (a future's poll and drop, a task's output, `Clone`,
//! `Display`, `Into`, destructors of values a primitive holds), in the style of async-task's
//! `panic.rs` and `drop.rs`: the panic lands where asyncio would raise it (the task, the group,
//! the caller), never in the loop, and every value is dropped exactly once.
//!
//! Queue items (`Drop`, `Ord`) are covered in `conformance_queues.rs`, task group cleanups in
//! `conformance_taskgroups.rs`, timeout cleanups in `conformance_timeouts.rs`.

use std::cell::Cell;
use std::rc::Rc;

use asyncio::{EventLoop, TaskGroup};

fn loop_() -> EventLoop {
    EventLoop::builder().virtual_time().build()
}

/// Counts drops; panics in its destructor if `bomb`.
#[derive(Debug)]
struct Tracked {
    drops: Rc<Cell<u32>>,
    bomb: bool,
}

impl Tracked {
    fn new(drops: &Rc<Cell<u32>>) -> Tracked {
        Tracked {
            drops: drops.clone(),
            bomb: false,
        }
    }

    fn bomb(drops: &Rc<Cell<u32>>) -> Tracked {
        Tracked {
            drops: drops.clone(),
            bomb: true,
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
        if self.bomb {
            panic!("drop panicked");
        }
    }
}

#[test]
fn a_panicking_poll_fails_the_task_and_drops_its_captures_once() {
    let lp = loop_();
    let drops = Rc::new(Cell::new(0));
    let held = Tracked::new(&drops);
    let task = lp.create_task(async move {
        let _held = held;
        asyncio::sleep(0).await;
        panic!("poll panicked");
    });
    let err = lp.run_until_complete(task).unwrap().unwrap_err();
    assert_eq!(err.panic_message(), Some("poll panicked"));
    assert_eq!(drops.get(), 1);
    assert!(
        lp.run_until_complete(async { 1 }).is_ok(),
        "the loop is fine"
    );
}

#[test]
fn a_panicking_destructor_of_a_cancelled_task_is_its_outcome_and_runs_once() {
    let lp = loop_();
    let drops = Rc::new(Cell::new(0));
    let held = Tracked::bomb(&drops);
    let task = lp.create_task(async move {
        let _held = held;
        asyncio::sleep(10).await;
    });
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    task.cancel();
    let err = lp.run_until_complete(task).unwrap().unwrap_err();
    assert_eq!(err.panic_message(), Some("drop panicked"));
    assert_eq!(drops.get(), 1);
}

#[test]
fn cancel_at_end_drops_the_output_once_even_if_its_destructor_panics() {
    let lp = loop_();
    let drops = Rc::new(Cell::new(0));
    let (d, ok_drops) = (drops.clone(), Rc::new(Cell::new(0)));
    let o = ok_drops.clone();
    let quiet = lp.create_task(async move {
        asyncio::current_task().unwrap().cancel();
        Tracked::new(&o)
    });
    let loud = lp.create_task(async move {
        asyncio::current_task().unwrap().cancel();
        Tracked::bomb(&d)
    });
    let quiet = lp.run_until_complete(quiet).unwrap();
    assert!(quiet.unwrap_err().is_cancelled());
    assert_eq!(ok_drops.get(), 1, "the discarded output was dropped");
    let loud = lp.run_until_complete(loud).unwrap().unwrap_err();
    assert_eq!(loud.panic_message(), Some("drop panicked"));
    assert_eq!(drops.get(), 1);
}

#[test]
fn an_output_nobody_takes_is_dropped_once() {
    let lp = loop_();
    let drops = Rc::new(Cell::new(0));
    let d = drops.clone();
    drop(lp.create_task(async move { Tracked::new(&d) }));
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    assert_eq!(drops.get(), 1);
}

/// A value whose `Clone` panics on demand.
#[derive(Debug)]
struct Fragile {
    fail: Rc<Cell<bool>>,
    drops: Rc<Cell<u32>>,
}

impl Clone for Fragile {
    fn clone(&self) -> Fragile {
        assert!(!self.fail.get(), "clone panicked");
        Fragile {
            fail: self.fail.clone(),
            drops: self.drops.clone(),
        }
    }
}

impl Drop for Fragile {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

#[test]
fn a_panicking_clone_fails_only_its_awaiter_and_the_future_stays_usable() {
    let lp = loop_();
    let (fail, drops) = (Rc::new(Cell::new(false)), Rc::new(Cell::new(0)));
    lp.run_until_complete({
        let (fail, drops) = (fail.clone(), drops.clone());
        async move {
            let fut = asyncio::Future::new();
            let first = asyncio::create_task(fut.clone());
            asyncio::sleep(0).await;
            fut.set_result(Fragile {
                fail: fail.clone(),
                drops: drops.clone(),
            })
            .unwrap();
            fail.set(true);
            let err = first.await.unwrap_err();
            assert_eq!(err.panic_message(), Some("clone panicked"));
            fail.set(false);
            let copy = fut.clone().await.unwrap();
            drop(copy);
            assert_eq!(fut.result().map(drop), Ok(()));
            assert_eq!(
                drops.get(),
                2,
                "the two copies; the value is still in the future"
            );
            drop(fut);
        }
    })
    .unwrap();
    assert_eq!(
        drops.get(),
        3,
        "and the value itself once the last handle went"
    );
}

#[test]
fn task_result_with_a_panicking_clone_panics_in_the_caller_only() {
    let lp = loop_();
    let (fail, drops) = (Rc::new(Cell::new(false)), Rc::new(Cell::new(0)));
    let (f, d) = (fail.clone(), drops.clone());
    let task = lp.create_task(async move { Fragile { fail: f, drops: d } });
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    fail.set(true);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| task.result()));
    assert!(caught.is_err());
    fail.set(false);
    drop(task.result().unwrap());
    let value = lp.run_until_complete(task).unwrap().unwrap();
    drop(value);
    assert_eq!(drops.get(), 2, "one copy, and the value");
}

#[test]
fn a_refused_value_is_dropped_once_with_nothing_borrowed() {
    thread_local! {
        static FUT: std::cell::RefCell<Option<asyncio::Future<Touch>>> =
            const { std::cell::RefCell::new(None) };
    }
    /// Looks at the future from its destructor.
    struct Touch(Rc<Cell<u32>>);
    impl Drop for Touch {
        fn drop(&mut self) {
            FUT.with(|f| {
                if let Some(f) = f.borrow().as_ref() {
                    assert!(f.done());
                }
            });
            self.0.set(self.0.get() + 1);
        }
    }
    let drops = Rc::new(Cell::new(0));
    let fut = asyncio::Future::new();
    FUT.with(|f| *f.borrow_mut() = Some(fut.clone()));
    fut.set_result(Touch(drops.clone())).ok().unwrap();
    assert!(fut.set_result(Touch(drops.clone())).is_err());
    assert_eq!(
        drops.get(),
        1,
        "the refused value, dropped outside the borrow"
    );
    FUT.with(|f| f.borrow_mut().take());
    drop(fut);
    assert_eq!(drops.get(), 2);
}

#[test]
fn a_cancellation_down_an_await_chain_drops_every_link_once() {
    let lp = loop_();
    let drops = Rc::new(Cell::new(0));
    let fut = lp.create_future::<()>();
    let (f, d) = (fut.clone(), drops.clone());
    let mut below = lp.create_task(async move {
        let _t = Tracked::new(&d);
        let _ = f.await;
    });
    for _ in 0..100 {
        let d = drops.clone();
        let inner = below;
        below = lp.create_task(async move {
            let _t = Tracked::new(&d);
            let _ = inner.await;
        });
    }
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    below.cancel();
    assert!(
        lp.run_until_complete(below)
            .unwrap()
            .unwrap_err()
            .is_cancelled()
    );
    // One link per iteration.
    for _ in 0..101 {
        lp.run_until_complete(asyncio::sleep(0)).unwrap();
    }
    assert_eq!(drops.get(), 101);
    assert!(fut.cancelled());
}

#[test]
fn a_group_child_panicking_is_collected_and_its_captures_dropped_once() {
    let lp = loop_();
    let drops = Rc::new(Cell::new(0));
    let d = drops.clone();
    let eg = lp
        .run_until_complete(TaskGroup::run(|tg| async move {
            let (d1, d2) = (d.clone(), d.clone());
            tg.create_task(async move {
                let _t = Tracked::new(&d1);
                asyncio::sleep(1).await;
                panic!("child");
            });
            tg.create_task(async move {
                let _t = Tracked::new(&d2);
                asyncio::sleep(10).await;
            });
            let _t = Tracked::new(&d);
            asyncio::sleep(10).await;
        }))
        .unwrap()
        .unwrap_err();
    assert_eq!(eg.len(), 1);
    assert_eq!(
        drops.get(),
        3,
        "the failed child, the cancelled sibling, the body"
    );
}

#[test]
fn a_try_child_whose_error_display_panics_is_reported_as_its_panic() {
    #[derive(Debug)]
    struct BadDisplay;
    impl std::fmt::Display for BadDisplay {
        fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            panic!("Display panicked");
        }
    }
    impl std::error::Error for BadDisplay {}
    let lp = loop_();
    let eg = lp
        .run_until_complete(TaskGroup::run(|tg| async move {
            tg.create_try_task(async { Err::<(), _>(BadDisplay) });
        }))
        .unwrap()
        .unwrap_err();
    assert_eq!(eg.len(), 1);
    assert_eq!(
        eg.exceptions()[0].error().panic_message(),
        Some("Display panicked")
    );
}

#[test]
fn a_barrier_waiter_dropped_inside_the_barrier_leaves_it() {
    let lp = loop_();
    lp.run_until_complete(async {
        let barrier = asyncio::Barrier::new(3);
        let b = barrier.clone();
        let t = asyncio::create_task(async move { b.wait().await });
        asyncio::sleep(0).await;
        assert_eq!(barrier.n_waiting(), 1);
        t.cancel();
        asyncio::sleep(0).await;
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!barrier.broken());
    })
    .unwrap();
}
