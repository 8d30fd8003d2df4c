//! Ports of CPython's `Lib/test/test_asyncio/test_waitfor.py` (3.13) to this crate's API.
//!
//! Each test names the CPython test it ports. What cannot be expressed here, and why:
//!
//! - `test_asyncio_wait_for_cancelled`, `test_asyncio_wait_for_timeout`,
//!   `test_wait_for_cancellation_race_condition`, `test_wait_for_self_cancellation`,
//!   `test_wait_for_cancel_suppressed`: the awaited code catches `CancelledError` and goes on;
//!   Rust cancels by dropping, so nothing can catch it.
//! - `test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started`: asyncio wraps the
//!   coroutine in a task and cancels it before it starts. Here a plain future runs inline, so a
//!   zero timeout lets it run until it first waits (documented on `wait_for`); a `Task` given
//!   with a zero timeout is cancelled as in asyncio (ported below).

use std::cell::Cell;
use std::rc::Rc;

use asyncio::Runner;

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    Runner::virtual_time().run(f)
}

fn now() -> f64 {
    asyncio::get_running_loop().unwrap().time()
}

/// Sets its flag when dropped: the `finally:` of the CPython tests.
struct Finally(Rc<Cell<bool>>);

impl Drop for Finally {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// `test_waitfor.py::_test_cancel_wait_for` with a timeout (`test_cancel_wait_for`): cancelling
/// the task that runs `wait_for(task, timeout)` cancels the inner task too (Python issue
/// #23219).
#[test]
fn test_cancel_wait_for() {
    cancel_wait_for(60.0);
}

/// `test_waitfor.py::test_cancel_blocking_wait_for`: the same with no timeout.
#[test]
fn test_cancel_blocking_wait_for() {
    cancel_wait_for(f64::INFINITY);
}

fn cancel_wait_for(timeout: f64) {
    run(async move {
        let lp = asyncio::get_running_loop().unwrap();
        let task = asyncio::create_task(async {
            let fut = asyncio::Future::<()>::new();
            let _ = fut.await; // blocks: the result is never set
        });
        let inner = asyncio::TaskRef::from(&task);
        let wait = asyncio::create_task(asyncio::wait_for(task, timeout));
        let w = asyncio::TaskRef::from(&wait);
        lp.call_soon(move || {
            w.cancel();
        });
        assert!(wait.await.unwrap_err().is_cancelled());
        asyncio::sleep(0).await;
        assert!(
            inner.cancelled(),
            "cancelling the wait must also cancel the task"
        );
    });
}

/// The same when the `wait_for` is dropped by a cancellation from further out (here an outer
/// timeout): the inner task is cancelled, not left pending forever.
#[test]
fn an_outer_timeout_dropping_wait_for_cancels_the_inner_task() {
    run(async {
        let task = asyncio::create_task(asyncio::sleep(3600));
        let inner = asyncio::TaskRef::from(&task);
        let out = asyncio::timeout(1).run(asyncio::wait_for(task, 60)).await;
        assert!(out.is_err());
        asyncio::sleep(0).await;
        assert!(inner.cancelled());
        assert_eq!(now(), 1.0);
    });
}

/// `test_waitfor.py::test_wait_for_timeout_less_then_0_or_0_future_done`.
#[test]
fn test_wait_for_timeout_less_then_0_or_0_future_done() {
    run(async {
        let fut = asyncio::Future::new();
        fut.set_result("done").unwrap();
        let t0 = now();
        assert_eq!(asyncio::wait_for(fut.clone(), 0).await, Ok(Ok("done")));
        assert!(fut.done());
        assert_eq!(now(), t0);
    });
}

/// `test_waitfor.py::test_wait_for_timeout_less_then_0_or_0`: a running task with a zero or
/// negative timeout is cancelled, and gone when the error arrives.
#[test]
fn test_wait_for_timeout_less_then_0_or_0() {
    for timeout in [0.0, -1.0] {
        run(async move {
            let running = Rc::new(Cell::new(None));
            let started = asyncio::Future::<()>::new();
            let (r, s) = (running.clone(), started.clone());
            let fut = asyncio::create_task(async move {
                r.set(Some(true));
                s.set_result(()).unwrap();
                struct Stop(Rc<Cell<Option<bool>>>);
                impl Drop for Stop {
                    fn drop(&mut self) {
                        self.0.set(Some(false));
                    }
                }
                let _stop = Stop(r);
                asyncio::sleep(10).await;
                "done"
            });
            let f = asyncio::TaskRef::from(&fut);
            started.await.unwrap();
            let t0 = now();
            assert!(asyncio::wait_for(fut, timeout).await.is_err());
            assert!(f.done() && f.cancelled());
            assert_eq!(running.get(), Some(false));
            assert_eq!(now(), t0);
        });
    }
}

/// `test_waitfor.py::test_wait_for`.
#[test]
fn test_wait_for() {
    run(async {
        let finally = Rc::new(Cell::new(false));
        let fl = finally.clone();
        let fut = asyncio::create_task(async move {
            let _finally = Finally(fl);
            asyncio::sleep(10).await;
            "done"
        });
        let f = asyncio::TaskRef::from(&fut);
        let t0 = now();
        assert!(asyncio::wait_for(fut, 0.1).await.is_err());
        assert!(f.done() && f.cancelled());
        assert!(now() - t0 < 0.5);
        assert!(finally.get());
    });
}

/// `test_waitfor.py::test_wait_for_blocking`: `timeout=None` is `f64::INFINITY`.
#[test]
fn test_wait_for_blocking() {
    run(async {
        assert_eq!(
            asyncio::wait_for(async { "done" }, f64::INFINITY).await,
            Ok("done")
        );
    });
}

/// `test_waitfor.py::test_wait_for_race_condition`.
#[test]
fn test_wait_for_race_condition() {
    run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let fut = asyncio::Future::new();
        let setter = fut.clone();
        lp.call_later(0.1, move || setter.set_result("ok").unwrap());
        assert_eq!(asyncio::wait_for(fut, 0.2).await, Ok(Ok("ok")));
    });
}

/// `test_waitfor.py::test_wait_for_waits_for_task_cancellation`: the error comes only once the
/// task is gone.
#[test]
fn test_wait_for_waits_for_task_cancellation() {
    run(async {
        let done = Rc::new(Cell::new(false));
        let d = done.clone();
        let inner = asyncio::create_task(async move {
            let _finally = Finally(d);
            asyncio::sleep(10).await;
        });
        assert!(asyncio::wait_for(inner, 0.0001).await.is_err());
        assert!(done.get());
    });
}

/// `test_waitfor.py::test_wait_for_waits_for_task_cancellation_w_timeout_0`.
#[test]
fn test_wait_for_waits_for_task_cancellation_w_timeout_0() {
    run(async {
        let done = Rc::new(Cell::new(false));
        let d = done.clone();
        let inner = asyncio::create_task(async move {
            let _finally = Finally(d);
            asyncio::sleep(10).await;
        });
        asyncio::sleep(0.0001).await;
        assert!(asyncio::wait_for(inner, 0).await.is_err());
        assert!(done.get());
    });
}

/// `test_waitfor.py::test_wait_for_reraises_exception_during_cancellation`: a task whose
/// cleanup fails while being cancelled gives that failure, not `TimeoutError`.
#[test]
fn test_wait_for_reraises_exception_during_cancellation() {
    struct Foo;
    impl Drop for Foo {
        fn drop(&mut self) {
            panic!("FooException");
        }
    }
    run(async {
        let inner = asyncio::create_task(async {
            let _foo = Foo;
            asyncio::sleep(0.2).await;
        });
        let out = asyncio::wait_for(inner, 0.0001).await;
        let err = out.expect("not a TimeoutError").unwrap_err();
        assert_eq!(err.panic_message(), Some("FooException"));
    });
}

/// `test_waitfor.py::test_wait_for_issue86296`.
#[test]
fn test_wait_for_issue86296() {
    run(async {
        let reached_end = Rc::new(Cell::new(false));
        let r = reached_end.clone();
        let task = asyncio::create_task(async move {
            asyncio::wait_for(async {}, 100).await.unwrap();
            asyncio::sleep(1).await;
            r.set(true);
        });
        asyncio::sleep(0).await;
        assert!(!task.done());
        task.cancel();
        assert!(task.await.unwrap_err().is_cancelled());
        assert!(!reached_end.get());
    });
}
