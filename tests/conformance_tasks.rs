//! Ports of CPython's `Lib/test/test_asyncio/test_tasks.py` (3.13) to this crate's API.
//!
//! Each test names the CPython test it ports. What cannot be expressed here, and why:
//!
//! - `test_cancel_task_catching`, `test_cancel_task_ignoring`, `test_uncancel_basic`: a Rust
//!   task cannot catch its cancellation (cancelling drops the future), so it cannot return 42
//!   from an `except CancelledError` or `uncancel()` itself there. `uncancel()` before the loop
//!   acts is ported instead.
//! - `test_cancel_inner_future`: awaiting a cancelled `Future` gives the awaiter
//!   `Err(CancelledError)` as a value; the awaiting task decides what to do with it, it is not
//!   cancelled itself (errors are values).
//! - White-box asserts on `_must_cancel` and `_fut_waiter` are replaced by what they imply:
//!   `cancelled()` of the task and of what it awaited.

use std::cell::{Cell, RefCell};
use std::future::IntoFuture;
use std::rc::Rc;

use asyncio::{EventLoop, Task};

fn loop_() -> EventLoop {
    EventLoop::builder().virtual_time().build()
}

/// `test_tasks.py::test_cancel_at_end`: a coroutine that returns right after its task is
/// cancelled still ends cancelled, and its result is dropped.
#[test]
fn test_cancel_at_end() {
    let lp = loop_();
    let me: Rc<RefCell<Option<asyncio::TaskRef>>> = Rc::default();
    let m = me.clone();
    let t = lp.create_task(async move {
        m.borrow().as_ref().unwrap().cancel();
        12
    });
    *me.borrow_mut() = Some(asyncio::TaskRef::from(&t));
    assert!(!t.cancelled());
    let t2 = asyncio::TaskRef::from(&t);
    let err = lp.run_until_complete(t).unwrap().unwrap_err();
    assert!(err.is_cancelled());
    assert!(t2.done());
    assert!(t2.cancelled());
    assert!(!t2.cancel());
}

/// `test_tasks.py::test_cancel_current_task`: a task that cancels itself is cancelled at its
/// next await, the sleep never runs out.
#[test]
fn test_cancel_current_task() {
    let lp = loop_();
    let reached = Rc::new(Cell::new(false));
    let r = reached.clone();
    let t = lp.create_task(async move {
        asyncio::current_task().unwrap().cancel();
        asyncio::sleep(100).await;
        r.set(true);
        12
    });
    let err = lp.run_until_complete(t).unwrap().unwrap_err();
    assert!(err.is_cancelled());
    assert!(!reached.get());
    assert_eq!(lp.time(), 0.0, "the sleep was cancelled immediately");
}

/// `test_tasks.py::test_cancel_awaited_task`: a task cancelled while not blocked (it cancels
/// itself), then awaiting a nested task: the nested task, and the future the nested task
/// awaits, are cancelled too.
#[test]
fn test_cancel_awaited_task() {
    let lp = loop_();
    let fut = lp.create_future::<()>();
    let nested_slot: Rc<RefCell<Option<asyncio::TaskRef>>> = Rc::default();
    let (f, slot) = (fut.clone(), nested_slot.clone());
    let task = lp.create_task(async move {
        let nested = asyncio::create_task(f); // nested(): await fut
        *slot.borrow_mut() = Some(asyncio::TaskRef::from(&nested));
        asyncio::sleep(0).await;
        asyncio::current_task().unwrap().cancel();
        let _ = nested.await;
    });
    let err = lp.run_until_complete(task).unwrap().unwrap_err();
    assert!(err.is_cancelled());
    let nested = nested_slot.borrow().clone().unwrap();
    assert!(
        nested.cancelled(),
        "the awaited task is cancelled with its awaiter"
    );
    assert!(fut.cancelled(), "and so is the future it awaited");
}

/// `test_tasks.py::test_task_cancel_waiter_future`: cancelling a task blocked on a future
/// cancels the future.
#[test]
fn test_task_cancel_waiter_future() {
    let lp = loop_();
    let fut = lp.create_future::<u8>();
    let f = fut.clone();
    let task = lp.create_task(f); // coro(): await fut
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    task.cancel();
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    assert!(
        lp.run_until_complete(task)
            .unwrap()
            .unwrap_err()
            .is_cancelled()
    );
    assert!(fut.cancelled());
}

/// `test_tasks.py::test_cancel_both_task_and_inner_future`.
#[test]
fn test_cancel_both_task_and_inner_future() {
    let lp = loop_();
    let fut = lp.create_future::<u8>();
    let f = fut.clone();
    let t = lp.create_task(async move {
        let _ = f.await;
        12
    });
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    fut.cancel();
    t.cancel();
    let t2 = asyncio::TaskRef::from(&t);
    assert!(
        lp.run_until_complete(t)
            .unwrap()
            .unwrap_err()
            .is_cancelled()
    );
    assert!(t2.done() && t2.cancelled());
    assert!(fut.cancelled());
}

/// Cancellation travels down a chain of awaits (`test_cancel_awaited_task`'s principle, a
/// longer chain): cancelling the outermost task cancels every task it is transitively awaiting,
/// one link per loop iteration, without recursion, even ten thousand deep.
#[test]
fn cancelling_the_head_of_a_long_await_chain_cancels_every_link() {
    let lp = loop_();
    let fut = lp.create_future::<()>();
    let mut links: Vec<asyncio::TaskRef> = Vec::new();
    let f = fut.clone();
    let mut inner: Task<()> = lp.create_task(async move {
        let _ = f.await;
    });
    links.push(asyncio::TaskRef::from(&inner));
    for _ in 0..10_000 {
        let below = inner;
        inner = lp.create_task(async move {
            let _ = below.await;
        });
        links.push(asyncio::TaskRef::from(&inner));
    }
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    assert!(inner.cancel());
    let mut iterations = 0;
    while !fut.cancelled() {
        lp.run_until_complete(asyncio::sleep(0)).unwrap();
        iterations += 1;
        assert!(iterations <= 10_002, "the cancellation got lost");
    }
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    assert!(links.iter().all(asyncio::TaskRef::cancelled));
}

/// asyncio keeps "dropping a task does not cancel it": only a cancellation propagates. A task
/// whose awaiting future is merely dropped (not cancelled) keeps running.
#[test]
fn dropping_an_await_of_a_task_does_not_cancel_it() {
    let lp = loop_();
    let done = Rc::new(Cell::new(false));
    let d = done.clone();
    let worker = lp.create_task(async move {
        asyncio::sleep(1).await;
        d.set(true);
    });
    let w = asyncio::TaskRef::from(&worker);
    lp.run_until_complete(async move {
        let mut fut = worker.into_future();
        // Poll it once (pending, recorded), then drop it: an ordinary drop.
        assert!(futures::poll!(&mut fut).is_pending());
        drop(fut);
        asyncio::sleep(2).await;
    })
    .unwrap();
    assert!(done.get() && !w.cancelled());
}

/// `shield` unties the awaited task from its awaiter's cancellation
/// (`test_tasks.py::test_shield_effect`).
#[test]
fn test_shield_effect() {
    let lp = loop_();
    let inner = lp.create_task(async {
        asyncio::sleep(1).await;
        "done"
    });
    let i = asyncio::TaskRef::from(&inner);
    let outer = lp.create_task(async move { asyncio::shield(inner).await });
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    outer.cancel();
    assert!(
        lp.run_until_complete(outer)
            .unwrap()
            .unwrap_err()
            .is_cancelled()
    );
    assert!(!i.cancelled());
    lp.run_until_complete(asyncio::sleep(2)).unwrap();
    assert!(i.done() && !i.cancelled());
}

/// `test_tasks.py::test_cancel_with_message_before_starting_task`: the message reaches the
/// error.
#[test]
fn test_cancel_with_message_before_starting_task() {
    let lp = loop_();
    let out = lp
        .run_until_complete(async {
            let task = asyncio::create_task(asyncio::sleep(10));
            task.cancel_with_msg("my message");
            let (done, _) = asyncio::wait([task]).await;
            done.into_iter().next().unwrap().await.unwrap_err()
        })
        .unwrap();
    assert!(out.is_cancelled());
    assert_eq!(out.cancel_message(), Some("my message"));
    assert!(out.to_string().contains("my message"));
}

/// `test_tasks.py::test_cancel_with_message_then_future_result`: the message survives
/// `result()` too, and travels down to an awaited task.
#[test]
fn test_cancel_with_message_then_future_result() {
    let lp = loop_();
    let (outer_err, inner_err) = lp
        .run_until_complete(async {
            let inner = asyncio::create_task(asyncio::sleep(10));
            let i = asyncio::TaskRef::from(&inner);
            let outer = asyncio::create_task(async move {
                let _ = inner.await;
            });
            asyncio::sleep(0).await;
            outer.cancel_with_msg("stop");
            let (done, _) = asyncio::wait([outer]).await;
            asyncio::sleep(0).await;
            assert!(i.cancelled());
            (done.into_iter().next().unwrap().result().unwrap_err(), i)
        })
        .unwrap();
    assert!(outer_err.is_cancelled());
    assert_eq!(outer_err.cancel_message(), Some("stop"));
    assert!(inner_err.cancelled());
}

/// `test_tasks.py::test_cancelling`: every request counts, and a cancelling task says so.
#[test]
fn test_cancelling() {
    let lp = loop_();
    let t = lp.create_task(asyncio::sleep(10));
    assert_eq!(t.cancelling(), 0);
    assert!(!format!("{t:?}").contains("cancelling"));
    assert!(t.cancel());
    assert_eq!(t.cancelling(), 1);
    assert!(format!("{t:?}").contains("cancelling"));
    assert!(t.cancel());
    assert_eq!(t.cancelling(), 2);
    assert!(
        lp.run_until_complete(t)
            .unwrap()
            .unwrap_err()
            .is_cancelled()
    );
}

/// `test_tasks.py::test_uncancel_structured_blocks` (its principle): an `uncancel()` that brings
/// the count to zero before the loop acts withdraws the cancellation.
#[test]
fn uncancel_before_the_loop_acts_withdraws_the_cancellation() {
    let lp = loop_();
    let t = lp.create_task(async {
        asyncio::sleep(1).await;
        7
    });
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    t.cancel();
    t.cancel();
    assert_eq!(t.uncancel(), 1);
    assert_eq!(t.uncancel(), 0);
    assert_eq!(t.uncancel(), 0, "never below zero");
    assert_eq!(lp.run_until_complete(t).unwrap().unwrap(), 7);
}

/// `test_tasks.py::test_other_loop_future`: awaiting something of another loop is an error,
/// never a hang.
#[test]
fn test_other_loop_future() {
    let other = asyncio::new_event_loop();
    let foreign = other.create_task(asyncio::sleep(1));
    let lp = loop_();
    let err = lp
        .run_until_complete(async move {
            asyncio::create_task(async move { foreign.await })
                .await
                .unwrap_err()
        })
        .unwrap();
    assert!(err.is_panic());
    assert!(
        err.panic_message().unwrap().contains("another event loop"),
        "{err}"
    );
}

/// The same, under `wait_for`: the error comes at once, not a hang waiting for a cancellation
/// that the other loop can never carry out.
#[test]
fn awaiting_a_task_of_another_loop_under_wait_for_is_an_error() {
    let other = asyncio::new_event_loop();
    let foreign = other.create_task(asyncio::sleep(1));
    let lp = loop_();
    let err = lp
        .run_until_complete(async move {
            asyncio::create_task(async move { asyncio::wait_for(foreign, 5).await })
                .await
                .unwrap_err()
        })
        .unwrap();
    assert!(err.panic_message().unwrap().contains("another event loop"));
    assert_eq!(lp.time(), 0.0);
}

/// A finished task of another loop just gives its result (asyncio: a done future is not
/// awaited at all).
#[test]
fn a_finished_task_of_another_loop_gives_its_result() {
    let other = asyncio::new_event_loop();
    let foreign = other.create_task(async { 5 });
    other.run_until_complete(asyncio::sleep(0)).unwrap();
    let lp = loop_();
    let got = lp
        .run_until_complete(async move { asyncio::create_task(foreign.into_future()).await })
        .unwrap();
    assert_eq!(got.unwrap().unwrap(), 5);
}

/// `test_tasks.py::test_create_task_with_name` (`create_task(coro, name=...)`), including an
/// eager task, whose first step runs inside the call: it already has its name there.
#[test]
fn test_create_task_with_name() {
    asyncio::run(async {
        let t = asyncio::create_task_named("worker", async {
            asyncio::current_task().unwrap().get_name()
        });
        assert_eq!(t.get_name(), "worker");
        assert_eq!(t.await.unwrap(), "worker");
    });
    let lp = EventLoop::builder().eager_tasks().build();
    let seen = lp
        .run_until_complete(async {
            let t = asyncio::create_task_named("eager", async {
                asyncio::current_task().unwrap().get_name()
            });
            assert!(t.done());
            t.await.unwrap()
        })
        .unwrap();
    assert_eq!(seen, "eager");
}
