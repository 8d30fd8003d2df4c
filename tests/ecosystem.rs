//! The `futures` crate's combinators on this crate's futures: `join!`, `select!`,
//! `FuturesUnordered`, `buffer_unordered`. A task goes in as its `TaskFuture`
//! (`task.into_future()`, see `asyncio::TaskFuture` for why a `Task` is not a `Future` itself).

use std::future::IntoFuture;

use futures::future::FusedFuture;
use futures::stream::{self, FuturesUnordered, StreamExt};

async fn after(secs: u64, value: u32) -> u32 {
    asyncio::sleep(secs).await;
    value
}

fn now() -> f64 {
    asyncio::get_running_loop().unwrap().time()
}

#[test]
fn join_waits_for_two_tasks_concurrently() {
    let (out, elapsed) = asyncio::Runner::virtual_time().run(async {
        let a = asyncio::create_task(after(2, 1));
        let b = asyncio::create_task(after(3, 2));
        let (a, b) = futures::join!(a.into_future(), b.into_future());
        ((a.unwrap(), b.unwrap()), now())
    });
    assert_eq!(out, (1, 2));
    assert_eq!(elapsed, 3.0, "3 s, not 5 s");
}

#[test]
fn select_takes_whichever_of_a_task_and_a_sleep_is_first() {
    asyncio::Runner::virtual_time().run(async {
        let mut slow = asyncio::create_task(after(10, 7)).into_future();
        let mut nap = asyncio::sleep(1);
        let first = futures::select! {
            out = slow => format!("task {}", out.unwrap()),
            () = nap => "sleep".to_owned(),
        };
        assert_eq!(first, "sleep");
        assert_eq!(now(), 1.0);
        assert!(nap.is_terminated() && !slow.is_terminated());

        // The task kept running; a second select sees it finish (the sleep is done and
        // skipped, being a FusedFuture).
        let second = futures::select! {
            out = slow => format!("task {}", out.unwrap()),
            () = nap => "sleep again".to_owned(),
        };
        assert_eq!(second, "task 7");
        assert_eq!(now(), 10.0);
        assert!(slow.is_terminated());
    });
}

#[test]
fn futures_unordered_yields_tasks_in_the_order_they_finish() {
    let order = asyncio::Runner::virtual_time().run(async {
        let mut running: FuturesUnordered<_> = [(3, 30), (1, 10), (2, 20)]
            .into_iter()
            .map(|(secs, v)| asyncio::create_task(after(secs, v)).into_future())
            .collect();
        let mut order = Vec::new();
        while let Some(out) = running.next().await {
            order.push((out.unwrap(), now()));
        }
        order
    });
    assert_eq!(order, [(10, 1.0), (20, 2.0), (30, 3.0)]);
}

#[test]
fn buffer_unordered_runs_at_most_n_tasks_at_once() {
    let (mut out, elapsed) = asyncio::Runner::virtual_time().run(async {
        let out: Vec<u32> = stream::iter(0..6)
            .map(|i| asyncio::create_task(after(1, i)).into_future())
            .buffer_unordered(2)
            .map(Result::unwrap)
            .collect()
            .await;
        (out, now())
    });
    out.sort_unstable();
    assert_eq!(out, [0, 1, 2, 3, 4, 5]);
    // The stream creates a task only when a slot is free, so six one-second tasks, two at a
    // time, take three seconds.
    assert_eq!(elapsed, 3.0);
}

#[test]
fn a_gather_and_a_wait_for_are_fused_futures_too() {
    asyncio::Runner::virtual_time().run(async {
        let mut all = asyncio::gather([after(1, 1), after(2, 2)]);
        // A wait_for around an `async fn` is not Unpin: pin it where it is, as select! wants.
        let mut limited = std::pin::pin!(asyncio::wait_for(after(5, 5), 3));
        assert!(!all.is_terminated() && !limited.is_terminated());
        let mut got = Vec::new();
        while !(all.is_terminated() && limited.is_terminated()) {
            futures::select! {
                out = all => got.push(format!("gather {:?}", out.unwrap())),
                out = limited => got.push(format!("wait_for {}", out.is_err())),
            }
        }
        assert_eq!(got, ["gather [1, 2]", "wait_for true"]);
        assert_eq!(now(), 3.0);
    });
}
