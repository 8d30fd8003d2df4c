//! Timeouts: wait_for, timeout/timeout_at, shield and as_completed, on the virtual clock.

use std::cell::RefCell;
use std::future::IntoFuture;
use std::rc::Rc;

use futures::StreamExt;

mod common;
use common::*;

async fn sleep_then(delay: f64, value: &'static str) -> &'static str {
    asyncio::sleep(delay).await;
    value
}

#[test]
fn wait_for_cancels_inner_on_timeout() {
    let drops = Drops::default();
    let (out, dropped_before_return, at) = asyncio::Runner::virtual_time().run({
        let drops = drops.clone();
        async move {
            let guard = drops.guard();
            let out = asyncio::wait_for(
                async move {
                    let _guard = guard;
                    asyncio::sleep(10).await;
                },
                2.5,
            )
            .await;
            (out, drops.count(), now())
        }
    });
    let err = out.unwrap_err();
    assert_eq!(
        dropped_before_return, 1,
        "the inner future is dropped before the error"
    );
    assert_eq!(at, 2.5);
    assert_eq!(err.deadline(), Some(2.5));
    assert!(err.to_string().contains("wait_for timed out"));
}

#[test]
fn wait_for_returns_the_value_when_in_time() {
    let (out, at) = asyncio::Runner::virtual_time().run(async {
        let out = asyncio::wait_for(sleep_then(1.0, "in time"), 2).await;
        (out, now())
    });
    assert_eq!(out, Ok("in time"));
    assert_eq!(
        at, 1.0,
        "returns as soon as the value is ready, not at the deadline"
    );
}

#[test]
fn wait_for_cancels_a_task_and_waits_until_it_is_gone() {
    let drops = Drops::default();
    asyncio::Runner::virtual_time().run({
        let drops = drops.clone();
        async move {
            let guard = drops.guard();
            let task = asyncio::create_task(async move {
                let _guard = guard;
                asyncio::sleep(10).await;
            });
            let out = asyncio::wait_for(task, 1).await;
            assert!(out.is_err());
            assert_eq!(
                drops.count(),
                1,
                "the task's future is dropped before the error"
            );
            assert!(asyncio::all_tasks().is_empty());
            assert_eq!(now(), 1.0);
        }
    });
}

#[test]
fn wait_for_a_task_in_time_gives_the_task_outcome() {
    asyncio::Runner::virtual_time().run(async {
        let task = asyncio::create_task(sleep_then(1.0, "done"));
        assert_eq!(asyncio::wait_for(task, 5).await.unwrap().unwrap(), "done");
        let bad = asyncio::create_task(async { panic!("bad") });
        let err = asyncio::wait_for(bad, 5).await.unwrap().unwrap_err();
        assert_eq!(err.panic_message(), Some("bad"));
    });
}

#[test]
fn wait_for_with_an_infinite_timeout_never_times_out() {
    let at = asyncio::Runner::virtual_time().run(async {
        let out = asyncio::wait_for(sleep_then(86_400.0, "a day later"), f64::INFINITY).await;
        assert_eq!(out, Ok("a day later"));
        now()
    });
    assert_eq!(at, 86_400.0);
}

#[test]
fn timeout_reschedule_extends_the_deadline() {
    let (out, at, when) = asyncio::Runner::virtual_time().run(async {
        let cm = asyncio::timeout(1);
        let handle = cm.clone();
        let out = cm
            .run(async move {
                asyncio::sleep(0.5).await;
                handle.reschedule(now() + 3.0); // deadline 1.0 -> 3.5
                asyncio::sleep(2).await; // until 2.5: past the old deadline
                "finished"
            })
            .await;
        (out, now(), cm.when())
    });
    assert_eq!(out, Ok("finished"));
    assert_eq!(at, 2.5);
    assert_eq!(when, Some(3.5));
}

#[test]
fn timeout_reschedule_from_another_task_moves_the_deadline() {
    let (out, at) = asyncio::Runner::virtual_time().run(async {
        let cm = asyncio::timeout_at(None); // no deadline yet
        let handle = cm.clone();
        asyncio::create_task(async move {
            asyncio::sleep(2).await;
            handle.reschedule(4.0);
        });
        let out = cm.run(asyncio::sleep(100)).await;
        (out, now())
    });
    assert!(out.is_err());
    assert_eq!(at, 4.0);
}

#[test]
fn timeout_expired_reports_true_only_after_expiry() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    asyncio::Runner::virtual_time().run({
        let seen = seen.clone();
        async move {
            let cm = asyncio::timeout(2);
            seen.borrow_mut().push(("created", cm.expired()));
            let (inside, log) = (cm.clone(), seen.clone());
            let out = cm
                .run(async move {
                    asyncio::sleep(1).await;
                    log.borrow_mut().push(("running", inside.expired()));
                    asyncio::sleep(5).await;
                })
                .await;
            assert!(out.is_err());
            seen.borrow_mut().push(("after", cm.expired()));

            let in_time = asyncio::timeout(2);
            in_time.run(asyncio::sleep(1)).await.unwrap();
            seen.borrow_mut()
                .push(("finished in time", in_time.expired()));
        }
    });
    assert_eq!(
        *seen.borrow(),
        [
            ("created", false),
            ("running", false),
            ("after", true),
            ("finished in time", false)
        ]
    );
}

#[test]
fn timeout_at_uses_loop_time() {
    let (out, at) = asyncio::Runner::virtual_time().run(async {
        asyncio::sleep(10).await; // loop time is now 10
        let cm = asyncio::timeout_at(12.0); // an absolute loop time, not a delay
        assert_eq!(cm.when(), Some(12.0));
        let out = cm.run(asyncio::sleep(5)).await;
        (out, now())
    });
    assert_eq!(out.unwrap_err().deadline(), Some(12.0));
    assert_eq!(at, 12.0);
}

#[test]
fn timeout_past_deadline_expires_at_once() {
    let at = asyncio::Runner::virtual_time().run(async {
        asyncio::sleep(3).await;
        let cm = asyncio::timeout_at(1.0);
        assert!(cm.run(asyncio::sleep(5)).await.is_err());
        now()
    });
    assert_eq!(at, 3.0);
}

#[test]
#[should_panic(expected = "already been entered")]
fn a_timeout_runs_only_one_operation() {
    asyncio::Runner::virtual_time().run(async {
        let cm = asyncio::timeout(1);
        cm.run(async {}).await.unwrap();
        let _ = cm.run(async {}).await;
    });
}

#[test]
fn shield_keeps_inner_running() {
    let drops = Drops::default();
    asyncio::Runner::virtual_time().run({
        let drops = drops.clone();
        async move {
            let guard = drops.guard();
            let mut shielded = asyncio::shield(async move {
                let _guard = guard;
                asyncio::sleep(3).await;
                "saved"
            });
            let out = asyncio::wait_for(&mut shielded, 1).await;
            assert!(out.is_err());
            assert_eq!(now(), 1.0);
            assert_eq!(drops.count(), 0, "the shielded task was not cancelled");
            assert!(!shielded.task().done());
            assert_eq!(shielded.await.unwrap(), "saved");
            assert_eq!(now(), 3.0);
        }
    });
    assert_eq!(drops.count(), 1);
}

#[test]
fn dropping_a_shield_leaves_its_task_running() {
    asyncio::Runner::virtual_time().run(async {
        let task = asyncio::create_task(sleep_then(2.0, "kept"));
        let mut fut = task.into_future();
        {
            let shield = asyncio::shield(asyncio::create_task(asyncio::sleep(2)));
            let inner = asyncio::wait_for(shield, 1).await; // the shield is dropped here
            assert!(inner.is_err());
        }
        assert_eq!(asyncio::all_tasks().len(), 2, "both tasks still run");
        assert_eq!((&mut fut).await.unwrap(), "kept");
    });
}

#[test]
fn as_completed_yields_in_completion_order() {
    let (order, times) = asyncio::Runner::virtual_time().run(async {
        let mut stream = asyncio::as_completed([
            sleep_then(3.0, "three"),
            sleep_then(1.0, "one"),
            sleep_then(2.0, "two"),
        ]);
        let (mut order, mut times) = (Vec::new(), Vec::new());
        while let Some(item) = stream.next().await {
            order.push(item.unwrap());
            times.push(now());
        }
        (order, times)
    });
    assert_eq!(order, ["one", "two", "three"]);
    assert_eq!(times, [1.0, 2.0, 3.0]);
}

#[test]
fn as_completed_reports_a_panicking_task_as_its_outcome() {
    asyncio::Runner::virtual_time().run(async {
        let mut stream = asyncio::as_completed([
            asyncio::create_task(async {
                asyncio::sleep(1).await;
                panic!("first");
            }),
            asyncio::create_task(async { asyncio::sleep(2).await }),
        ]);
        let first = stream.next().await.unwrap().unwrap_err();
        assert_eq!(first.panic_message(), Some("first"));
        assert!(stream.next().await.unwrap().is_ok());
        assert!(stream.next().await.is_none());
    });
}

#[test]
fn as_completed_times_out() {
    let drops = Drops::default();
    asyncio::Runner::virtual_time().run({
        let drops = drops.clone();
        async move {
            let guard = drops.guard();
            let slow = asyncio::create_task(async move {
                let _guard = guard;
                asyncio::sleep(10).await;
            });
            let mut stream = asyncio::as_completed([
                asyncio::create_task(asyncio::sleep(1)),
                slow,
                asyncio::create_task(asyncio::sleep(2)),
            ])
            .timeout(5);
            let mut items = Vec::new();
            let mut last = None;
            while let Some(item) = stream.next().await {
                match item {
                    Ok(()) => items.push(now()),
                    Err(e) => last = Some((e, now())),
                }
            }
            let (err, at) = last.expect("the timeout is the last item");
            assert_eq!(items, [1.0, 2.0]);
            assert_eq!(at, 5.0);
            assert!(err.is_timeout());
            assert_eq!(err.timeout().unwrap().deadline(), Some(5.0));
            assert!(err.to_string().contains("1 awaitable(s) had not finished"));
            assert_eq!(items.len(), 2, "ends after the timeout");
            assert_eq!(drops.count(), 0, "as asyncio, the slow task keeps running");
            assert_eq!(asyncio::all_tasks().len(), 1);
        }
    });
    assert_eq!(drops.count(), 1, "dropped when the runner closed");
}

#[test]
fn a_task_cancelled_while_holding_a_timer_leaves_nothing_pending() {
    let drops = Drops::default();
    let at = asyncio::Runner::virtual_time().run({
        let drops = drops.clone();
        async move {
            let guard = drops.guard();
            let task = asyncio::create_task(async move {
                let _guard = guard;
                let cm = asyncio::timeout(50);
                let _ = cm.run(asyncio::wait_for(asyncio::sleep(100), 75)).await;
            });
            asyncio::sleep(1).await;
            assert!(task.cancel());
            let (done, pending) = asyncio::wait([task]).await;
            assert_eq!((done.len(), pending.len()), (1, 0));
            assert!(done[0].cancelled());
            assert!(asyncio::all_tasks().is_empty());
            // If the timers at 50, 75 and 100 were still armed, nothing would notice here,
            // so the unit test in src/timeouts.rs counts the wheel's entries as well.
            now()
        }
    });
    assert_eq!(at, 1.0);
    assert_eq!(drops.count(), 1);
}
