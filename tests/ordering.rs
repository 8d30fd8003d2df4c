//! The order in which the loop runs things: CPython's `_run_once` semantics.
//!
//! Each test records a trace and asserts it exactly. All run on the virtual clock, where
//! timing is not the point.

use std::cell::RefCell;
use std::rc::Rc;

type Trace = Rc<RefCell<Vec<String>>>;

fn trace() -> Trace {
    Rc::new(RefCell::new(Vec::new()))
}

fn log(t: &Trace, s: impl Into<String>) {
    t.borrow_mut().push(s.into());
}

#[test]
fn tasks_start_in_creation_order_after_the_creator_yields() {
    let t = trace();
    asyncio::Runner::virtual_time().run({
        let t = t.clone();
        async move {
            for name in ["a", "b", "c"] {
                let t = t.clone();
                asyncio::create_task(async move { log(&t, name) });
            }
            log(&t, "main");
            asyncio::sleep(0).await;
            log(&t, "main again");
        }
    });
    assert_eq!(*t.borrow(), ["main", "a", "b", "c", "main again"]);
}

#[test]
fn a_task_woken_during_an_iteration_runs_in_the_next_one() {
    // `second` is created (woken) while the first batch runs: it must run after `late`,
    // which was already queued when the batch began.
    let t = trace();
    asyncio::Runner::virtual_time().run({
        let t = t.clone();
        async move {
            let t1 = t.clone();
            asyncio::create_task(async move {
                log(&t1, "first");
                let t2 = t1.clone();
                asyncio::create_task(async move { log(&t2, "second") });
            });
            let t3 = t.clone();
            asyncio::create_task(async move { log(&t3, "late") });
            asyncio::sleep(0).await;
            asyncio::sleep(0).await;
        }
    });
    assert_eq!(*t.borrow(), ["first", "late", "second"]);
}

#[test]
fn sleep_zero_lets_every_other_ready_task_run_once() {
    let t = trace();
    asyncio::Runner::virtual_time().run({
        let t = t.clone();
        async move {
            let tasks: Vec<_> = ["x", "y", "z"]
                .into_iter()
                .map(|name| {
                    let t = t.clone();
                    asyncio::create_task(async move {
                        for i in 0..3 {
                            log(&t, format!("{name}{i}"));
                            asyncio::sleep(0).await;
                        }
                    })
                })
                .collect();
            asyncio::wait(tasks).await;
        }
    });
    assert_eq!(
        *t.borrow(),
        ["x0", "y0", "z0", "x1", "y1", "z1", "x2", "y2", "z2"]
    );
}

#[test]
fn a_task_that_yields_forever_does_not_starve_timers() {
    // Real clock: a virtual clock only moves when nothing is ready, and here something
    // always is.
    let t = trace();
    asyncio::run({
        let t = t.clone();
        async move {
            let spinner = asyncio::create_task(async {
                loop {
                    asyncio::sleep(0).await;
                }
            });
            asyncio::sleep(0.01).await;
            log(&t, "timer fired while another task spins");
            drop(spinner); // not cancelled: asyncio::run cancels it at the end
        }
    });
    assert_eq!(t.borrow().len(), 1);
}

#[test]
fn timers_fire_in_deadline_order_fifo_among_equal_deadlines() {
    let t = trace();
    asyncio::Runner::virtual_time().run({
        let t = t.clone();
        async move {
            let delays = [
                (0.3, "c"),
                (0.1, "a1"),
                (0.2, "b"),
                (0.1, "a2"),
                (0.1, "a3"),
            ];
            let tasks: Vec<_> = delays
                .into_iter()
                .map(|(d, name)| {
                    let t = t.clone();
                    asyncio::create_task(async move {
                        asyncio::sleep(d).await;
                        log(&t, name);
                    })
                })
                .collect();
            asyncio::wait(tasks).await;
        }
    });
    assert_eq!(*t.borrow(), ["a1", "a2", "a3", "b", "c"]);
}

#[test]
fn timers_never_fire_early_on_the_real_clock() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        for delay in [0.001, 0.0105, 0.02, 0.033] {
            let start = lp.time();
            asyncio::sleep(delay).await;
            let slept = lp.time() - start;
            assert!(slept >= delay, "slept {slept} s for a {delay} s sleep");
        }
    });
}

#[test]
fn timers_fire_at_exact_times_on_the_virtual_clock() {
    asyncio::Runner::virtual_time().run(async {
        let lp = asyncio::get_running_loop().unwrap();
        assert_eq!(lp.time(), 0.0);
        asyncio::sleep(0.25).await;
        assert_eq!(lp.time(), 0.25);
        asyncio::sleep(2).await;
        assert_eq!(lp.time(), 2.25);
        // a 3-hour schedule of sleeps
        for _ in 0..180 {
            asyncio::sleep(60).await;
        }
        assert_eq!(lp.time(), 2.25 + 10800.0);
    });
}

#[test]
fn call_soon_callbacks_run_in_fifo_order_with_tasks() {
    let t = trace();
    let lp = asyncio::new_event_loop();
    {
        let t1 = t.clone();
        lp.call_soon(move || log(&t1, "cb1"));
        let t2 = t.clone();
        lp.create_task(async move { log(&t2, "task") });
        let t3 = t.clone();
        lp.call_soon(move || log(&t3, "cb2"));
    }
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    assert_eq!(*t.borrow(), ["cb1", "task", "cb2"]);
}
