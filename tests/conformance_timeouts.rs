//! Ports of CPython's `Lib/test/test_asyncio/test_timeouts.py` (3.13) to this crate's API.
//!
//! `async with asyncio.timeout(d) as cm: body` is `let cm = asyncio::timeout(d);
//! cm.run(async { body }).await`. Each test names the CPython test it ports. What cannot be
//! expressed here, and why:
//!
//! - `test_waiter_cancelled`, `test_nested_timeout_in_finally`, `test_timeout_after_cancellation`,
//!   `test_cancel_in_timeout_after_cancellation`, `test_timeout_exception_cause`: they catch the
//!   `CancelledError` thrown into the body, or run code in its `finally`; a Rust body is dropped
//!   (its destructors run, they cannot await).
//! - `test_nested_timeouts_concurrent`, `test_nested_timeouts_loop_busy`: they block the thread
//!   with `time.sleep`, which has no meaning on the virtual clock these tests use.
//! - `test_foreign_cancel_doesnt_timeout_if_not_expired`: ported as the task's cancellation
//!   (the task ends cancelled, the timeout is not expired).

use asyncio::{EventLoop, Runner};

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    Runner::virtual_time().run(f)
}

fn now() -> f64 {
    asyncio::get_running_loop().unwrap().time()
}

/// `test_timeouts.py::test_timeout_basic`.
#[test]
fn test_timeout_basic() {
    run(async {
        let cm = asyncio::timeout(0.01);
        assert!(cm.run(asyncio::sleep(10)).await.is_err());
        assert!(cm.expired());
        assert_eq!(now(), 0.01);
    });
}

/// `test_timeouts.py::test_timeout_at_basic`.
#[test]
fn test_timeout_at_basic() {
    run(async {
        let deadline = now() + 0.01;
        let cm = asyncio::timeout_at(deadline);
        assert!(cm.run(asyncio::sleep(10)).await.is_err());
        assert!(cm.expired());
        assert_eq!(cm.when(), Some(deadline));
    });
}

/// `test_timeouts.py::test_nested_timeouts`: two timeouts with the same deadline. Only the
/// outer one raises, and both are expired.
#[test]
fn test_nested_timeouts() {
    run(async {
        let deadline = now() + 0.01;
        let cm1 = asyncio::timeout_at(deadline);
        let cm2 = asyncio::timeout_at(deadline);
        let inner = cm2.clone();
        let out = cm1
            .run(async move { inner.run(asyncio::sleep(10)).await })
            .await;
        let err = out.expect_err("the outer timeout raises TimeoutError");
        assert_eq!(err.deadline(), Some(deadline));
        assert!(cm1.expired());
        assert!(cm2.expired());
    });
}

/// `test_timeouts.py::test_timeout_not_called`.
#[test]
fn test_timeout_not_called() {
    run(async {
        let cm = asyncio::timeout(10);
        assert!(cm.run(asyncio::sleep(0.01)).await.is_ok());
        assert!(!cm.expired());
        assert!(cm.when().unwrap() > now());
    });
}

/// `test_timeouts.py::test_timeout_disabled` and `test_timeout_at_disabled` (`timeout(None)`
/// is `timeout_at(None)` here).
#[test]
fn test_timeout_disabled() {
    run(async {
        let cm = asyncio::timeout_at(None);
        assert!(cm.run(asyncio::sleep(0.01)).await.is_ok());
        assert!(!cm.expired());
        assert_eq!(cm.when(), None);
    });
}

/// `test_timeouts.py::test_timeout_zero`.
#[test]
fn test_timeout_zero() {
    run(async {
        let t0 = now();
        let cm = asyncio::timeout(0);
        assert!(cm.run(asyncio::sleep(10)).await.is_err());
        let t1 = now();
        assert!(cm.expired());
        assert!(t0 <= cm.when().unwrap() && cm.when().unwrap() <= t1);
        assert_eq!(t1, t0, "expired at once, not after the sleep");
    });
}

/// `test_timeouts.py::test_timeout_zero_sleep_zero`: a zero timeout expires even around a
/// body that only yields once.
#[test]
fn test_timeout_zero_sleep_zero() {
    run(async {
        let t0 = now();
        let cm = asyncio::timeout(0);
        assert!(cm.run(asyncio::sleep(0)).await.is_err());
        let t1 = now();
        assert!(cm.expired());
        assert!(t0 <= cm.when().unwrap() && cm.when().unwrap() <= t1);
    });
}

/// `test_timeouts.py::test_timeout_in_the_past_sleep_zero`: so does a deadline in the past,
/// which `when()` reports as it is.
#[test]
fn test_timeout_in_the_past_sleep_zero() {
    run(async {
        asyncio::sleep(20).await; // so that 11 s ago is still loop time >= 0
        let t0 = now();
        let cm = asyncio::timeout(-11);
        assert!(cm.run(asyncio::sleep(0)).await.is_err());
        assert!(cm.expired());
        assert_eq!(cm.when(), Some(t0 - 11.0));
    });
}

/// A body that finishes without ever waiting is in time, even under `timeout(0)`: asyncio's
/// timeout callback only runs once the body yields.
#[test]
fn a_zero_timeout_lets_a_body_that_never_waits_finish() {
    run(async {
        let cm = asyncio::timeout(0);
        assert_eq!(cm.run(async { 5 }).await, Ok(5));
        assert!(!cm.expired());
    });
}

/// `test_timeouts.py::test_foreign_exception_passed`: a panic in the body propagates, the
/// timeout is not expired.
#[test]
fn test_foreign_exception_passed() {
    run(async {
        let cm = asyncio::timeout(0.01);
        let c = cm.clone();
        let err = asyncio::create_task(async move {
            let _ = c.run(async { panic!("KeyError") }).await;
        })
        .await
        .unwrap_err();
        assert_eq!(err.panic_message(), Some("KeyError"));
        assert!(!cm.expired());
    });
}

/// `test_timeouts.py::test_foreign_exception_on_timeout`: a destructor that panics while the
/// timeout cancels the body: the panic is what the task ends with.
#[test]
fn test_foreign_exception_on_timeout() {
    struct Crash;
    impl Drop for Crash {
        fn drop(&mut self) {
            panic!("ZeroDivisionError");
        }
    }
    run(async {
        let err = asyncio::create_task(async {
            let _ = asyncio::timeout(0.01)
                .run(async {
                    let _crash = Crash;
                    asyncio::sleep(1).await;
                })
                .await;
        })
        .await
        .unwrap_err();
        assert_eq!(err.panic_message(), Some("ZeroDivisionError"));
    });
}

/// `test_timeouts.py::test_foreign_cancel_doesnt_timeout_if_not_expired`.
#[test]
fn test_foreign_cancel_doesnt_timeout_if_not_expired() {
    run(async {
        let cm = asyncio::timeout(10);
        let c = cm.clone();
        let err = asyncio::create_task(async move {
            let _ = c
                .run(async {
                    asyncio::current_task().unwrap().cancel();
                    asyncio::sleep(10).await;
                })
                .await;
        })
        .await
        .unwrap_err();
        assert!(err.is_cancelled());
        assert!(!cm.expired());
    });
}

/// `test_timeouts.py::test_outer_task_is_not_cancelled`.
#[test]
fn test_outer_task_is_not_cancelled() {
    run(async {
        let task = asyncio::create_task(async {
            assert!(
                asyncio::timeout(0.001)
                    .run(asyncio::sleep(10))
                    .await
                    .is_err()
            );
        });
        let t = asyncio::TaskRef::from(&task);
        task.await.unwrap();
        assert!(!t.cancelled() && t.done());
    });
}

/// `test_timeouts.py::test_reschedule`.
#[test]
fn test_reschedule() {
    run(async {
        let deadline1 = now() + 10.0;
        let deadline2 = deadline1 + 20.0;
        let cm = asyncio::timeout_at(deadline1);
        let c = cm.clone();
        let task = asyncio::create_task(async move {
            let _ = c.run(asyncio::sleep(50)).await;
        });
        asyncio::sleep(0).await;
        assert_eq!(cm.when(), Some(deadline1));
        cm.reschedule(deadline2);
        assert_eq!(cm.when(), Some(deadline2));
        cm.reschedule(None);
        assert_eq!(cm.when(), None);
        task.cancel();
        assert!(task.await.unwrap_err().is_cancelled());
        assert!(!cm.expired());
    });
}

/// Rescheduling a running timeout into the past expires it before the body's next step
/// (asyncio's `reschedule` then uses `call_soon`).
#[test]
fn rescheduling_into_the_past_expires_before_the_next_step() {
    run(async {
        let cm = asyncio::timeout(10);
        let c = cm.clone();
        let out = cm
            .run(async move {
                c.reschedule(now() - 1.0);
                asyncio::sleep(0).await;
                "should not get here"
            })
            .await;
        assert!(out.is_err());
        assert!(cm.expired());
    });
}

/// `test_timeouts.py::test_repr_active`, `test_repr_expired`, `test_repr_finished`,
/// `test_repr_disabled`.
#[test]
fn test_repr() {
    run(async {
        let cm = asyncio::timeout(10);
        let c = cm.clone();
        cm.run(async move {
            let repr = format!("{c:?}");
            assert!(repr.starts_with("<Timeout [active] when=10."), "{repr}");
        })
        .await
        .unwrap();
        assert_eq!(format!("{cm:?}"), "<Timeout [finished]>");

        let cm = asyncio::timeout(0.01);
        let _ = cm.run(asyncio::sleep(10)).await;
        assert_eq!(format!("{cm:?}"), "<Timeout [expired]>");

        let cm = asyncio::timeout_at(None);
        let c = cm.clone();
        cm.run(async move {
            assert_eq!(format!("{c:?}"), "<Timeout [active] when=None>");
        })
        .await
        .unwrap();
    });
}

/// `test_timeouts.py::test_waiter_cancelled`'s consequence that Rust can express: the timeout
/// cancels what the body awaits. A task awaited inline by the body is cancelled too (asyncio
/// cancels the body's task, whose awaited task goes with it).
#[test]
fn a_timeout_cancels_the_task_its_body_awaits() {
    let lp = EventLoop::builder().virtual_time().build();
    lp.run_until_complete(async {
        let worker = asyncio::create_task(asyncio::sleep(10));
        let w = asyncio::TaskRef::from(&worker);
        let out = asyncio::timeout(1).run(async move { worker.await }).await;
        assert!(out.is_err());
        asyncio::sleep(0).await;
        assert!(w.cancelled());
    })
    .unwrap();
}
