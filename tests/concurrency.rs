//! Real concurrency on the real clock: the tutorials' timing, each with a virtual-clock twin that
//! asserts the exact times.
//!
//! Timing is the behaviour here ("3 s, not 6 s"), so these are the suite's only wall-clock
//! assertions, with tolerances that survive a busy 2-core machine.

use std::time::Instant;

use asyncio::Runner;

/// The tutorial's dispatcher program: func_a sleeps 1 + 1 + 1 s, func_b sleeps 3 s.
async fn dispatcher() -> Vec<&'static str> {
    let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let (la, lb) = (log.clone(), log.clone());
    let a = asyncio::create_task(async move {
        la.borrow_mut().push("a start");
        for _ in 0..3 {
            asyncio::sleep(1).await;
        }
        la.borrow_mut().push("a end");
    });
    let b = asyncio::create_task(async move {
        lb.borrow_mut().push("b start");
        asyncio::sleep(3).await;
        lb.borrow_mut().push("b end");
    });
    asyncio::gather([a, b]).await.unwrap();
    log.take()
}

async fn say_after(delay: f64, what: &'static str) -> &'static str {
    asyncio::sleep(delay).await;
    what
}

async fn three_computations() -> Vec<u32> {
    async fn compute(x: u32, y: u32) -> u32 {
        asyncio::sleep(1.0).await;
        x + y
    }
    asyncio::gather([compute(1, 2), compute(11, 12), compute(111, 112)])
        .await
        .unwrap()
}

fn wall<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed().as_secs_f64())
}

fn virtual_run<T>(fut: impl Future<Output = T>) -> (T, f64) {
    Runner::virtual_time().run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let t0 = lp.time();
        let out = fut.await;
        (out, lp.time() - t0)
    })
}

#[test]
fn dispatcher_finishes_in_three_seconds_not_six() {
    let (log, secs) = wall(|| asyncio::run(dispatcher()));
    assert!((3.0..3.5).contains(&secs), "took {secs} s");
    assert_eq!(log, ["a start", "b start", "b end", "a end"]);
}

#[test]
fn dispatcher_on_virtual_time_takes_exactly_three_seconds() {
    let (log, secs) = virtual_run(dispatcher());
    assert_eq!(secs, 3.0);
    assert_eq!(log.len(), 4);
}

#[test]
fn say_after_as_tasks_takes_four_seconds_not_five() {
    let (words, secs) = wall(|| {
        asyncio::run(async {
            let a = asyncio::create_task(say_after(1.0, "hello"));
            let b = asyncio::create_task(say_after(4.0, "world"));
            (a.await.unwrap(), b.await.unwrap())
        })
    });
    assert_eq!(words, ("hello", "world"));
    assert!((4.0..4.5).contains(&secs), "took {secs} s");
}

#[test]
fn say_after_on_virtual_time_concurrent_four_sequential_five() {
    let (_, concurrent) = virtual_run(async {
        let a = asyncio::create_task(say_after(1.0, "hello"));
        let b = asyncio::create_task(say_after(4.0, "world"));
        a.await.unwrap();
        b.await.unwrap();
    });
    assert_eq!(concurrent, 4.0);
    let (_, sequential) = virtual_run(async {
        say_after(1.0, "hello").await;
        say_after(4.0, "world").await;
    });
    assert_eq!(sequential, 5.0);
}

#[test]
fn three_one_second_computations_gathered_take_one_second_not_three() {
    let (sums, secs) = wall(|| asyncio::run(three_computations()));
    assert_eq!(sums, [3, 23, 223]);
    assert!((1.0..1.5).contains(&secs), "took {secs} s");
}

#[test]
fn three_computations_on_virtual_time_take_exactly_one_second() {
    let (sums, secs) = virtual_run(three_computations());
    assert_eq!(sums, [3, 23, 223]);
    assert_eq!(secs, 1.0);
}
