//! The settable `asyncio::Future`.

use std::cell::RefCell;
use std::rc::Rc;

use asyncio::{CancelledError, InvalidStateError};

#[test]
fn setting_a_result_twice_is_an_invalid_state_error() {
    let fut = asyncio::Future::new();
    fut.set_result(1).unwrap();
    assert_eq!(fut.set_result(2), Err(InvalidStateError::AlreadyDone));
    assert_eq!(fut.result(), Ok(1));
}

#[test]
fn result_before_set_is_an_invalid_state_error() {
    let fut = asyncio::Future::<i32>::new();
    assert_eq!(fut.result(), Err(InvalidStateError::NotDone));
    assert!(!fut.done());
}

#[test]
fn every_awaiter_gets_the_value() {
    let got = asyncio::run(async {
        let fut = asyncio::Future::new();
        let waiters: Vec<_> = (0..3).map(|_| asyncio::create_task(fut.clone())).collect();
        asyncio::sleep(0).await;
        fut.set_result(String::from("shared")).unwrap();
        asyncio::gather(waiters).await.unwrap()
    });
    assert_eq!(got, vec![Ok(String::from("shared")); 3]);
}

#[test]
fn a_cancelled_future_gives_cancelled_error_to_awaiters() {
    let got = asyncio::run(async {
        let fut = asyncio::Future::<i32>::new();
        let waiter = asyncio::create_task(fut.clone());
        asyncio::sleep(0).await;
        assert!(fut.cancel());
        assert!(fut.cancelled());
        waiter.await.unwrap()
    });
    assert_eq!(got, Err(CancelledError));
}

#[test]
fn done_callbacks_run_on_the_loop_in_the_next_iteration_in_order() {
    let log = Rc::new(RefCell::new(Vec::new()));
    asyncio::run({
        let log = log.clone();
        async move {
            let fut = asyncio::Future::new();
            for i in 0..3 {
                let log = log.clone();
                fut.add_done_callback(move |f| log.borrow_mut().push(f.result().unwrap() + i));
            }
            fut.set_result(10).unwrap();
            assert!(
                log.borrow().is_empty(),
                "callbacks are scheduled, not called inline"
            );
            asyncio::sleep(0).await;
            assert_eq!(*log.borrow(), [10, 11, 12]);
            let late = log.clone();
            fut.add_done_callback(move |_| late.borrow_mut().push(99));
            asyncio::sleep(0).await;
        }
    });
    assert_eq!(*log.borrow(), [10, 11, 12, 99]);
}

#[test]
fn a_future_made_outside_a_loop_calls_back_inside_the_loop_that_completes_it() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let fut = asyncio::Future::new();
    let l = log.clone();
    fut.add_done_callback(move |f| l.borrow_mut().push(f.result().unwrap()));
    let f = fut.clone();
    asyncio::run(async move {
        let s = f.clone();
        asyncio::create_task(async move { s.set_result(5).unwrap() });
        assert_eq!(f.await, Ok(5));
        asyncio::sleep(0).await;
    });
    assert_eq!(*log.borrow(), [5]);
}

#[test]
fn run_until_complete_accepts_a_future() {
    let lp = asyncio::new_event_loop();
    let fut = lp.create_future();
    let setter = fut.clone();
    lp.create_task(async move {
        asyncio::sleep(0.01).await;
        setter.set_result("Future is done!").unwrap();
    });
    assert_eq!(
        lp.run_until_complete(fut.clone()).unwrap(),
        Ok("Future is done!")
    );
    assert_eq!(fut.result(), Ok("Future is done!"));
}

#[test]
fn ten_thousand_awaiters_get_the_value_and_a_cancelled_awaiter_does_not() {
    let got = asyncio::Runner::virtual_time().run(async {
        let fut = asyncio::Future::<u32>::new();
        let waiters: Vec<_> = (0..10_000)
            .map(|_| asyncio::create_task(fut.clone()))
            .collect();
        // Poll each awaiter many times (spurious wake-ups): nothing piles up.
        for _ in 0..3 {
            asyncio::sleep(0).await;
        }
        // Shielded: cancelling an awaiter that awaits the future directly would cancel the
        // future itself, as in asyncio (see conformance_tasks.rs).
        let gone = asyncio::create_task(asyncio::shield(fut.clone()));
        asyncio::sleep(0).await;
        gone.cancel();
        asyncio::sleep(0).await;
        fut.set_result(7).unwrap();
        let out = asyncio::gather(waiters).await.unwrap();
        assert!(gone.await.unwrap_err().is_cancelled());
        out
    });
    assert_eq!(got.len(), 10_000);
    assert!(got.iter().all(|r| *r == Ok(7)));
}
