//! Ports of CPython's `Lib/test/test_asyncio/test_futures.py` (3.13) to this crate's API.
//!
//! Errors are values: a future that can fail is a `Future<Result<T, E>>`, and
//! `set_exception(e)` / `exception()` work on it; `result()` of a failed future gives
//! `Ok(Err(e))` where asyncio raises. Each test names the CPython test it ports. What cannot be
//! expressed here, and why:
//!
//! - `test_future_cancel_message_getter`, `test_future_cancel_message_setter`: a `Future`'s
//!   cancellation carries no message (`CancelledError` is a unit type); a `Task`'s does (see
//!   `conformance_tasks.rs`).
//! - `test_constructor_*`, `test_future_repr*`, `test_copy_state`, `test_wrap_future*`,
//!   `test_future_del_*` (`__del__` and the gc), `test_generic_alias`: Python object protocol
//!   and `concurrent.futures` interop.
//! - `test_future_stop_iteration_args`, `test_future_iter_throw`: generator protocol.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use asyncio::{CancelledError, Future, InvalidStateError, Runner};

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    Runner::virtual_time().run(f)
}

/// `test_futures.py::test_initial_state`.
#[test]
fn test_initial_state() {
    let f = Future::<u8>::new();
    assert!(!f.cancelled());
    assert!(!f.done());
    f.cancel();
    assert!(f.cancelled());
}

/// `test_futures.py::test_cancel`.
#[test]
fn test_cancel() {
    let f = Future::<Result<u8, String>>::new();
    assert!(f.cancel());
    assert!(f.cancelled());
    assert!(f.done());
    assert_eq!(f.result(), Err(InvalidStateError::Cancelled));
    assert_eq!(f.exception(), Err(InvalidStateError::Cancelled));
    assert_eq!(f.set_result(Ok(1)), Err(InvalidStateError::AlreadyDone));
    assert_eq!(
        f.set_exception("late".into()),
        Err(InvalidStateError::AlreadyDone)
    );
    assert!(!f.cancel());
}

/// `test_futures.py::test_result`.
#[test]
fn test_result() {
    let f = Future::<Result<u8, String>>::new();
    assert_eq!(f.result(), Err(InvalidStateError::NotDone));
    f.set_result(Ok(42)).unwrap();
    assert!(!f.cancelled());
    assert!(f.done());
    assert_eq!(f.result(), Ok(Ok(42)));
    assert_eq!(f.exception(), Ok(None));
    assert_eq!(f.set_result(Ok(0)), Err(InvalidStateError::AlreadyDone));
    assert!(!f.cancel());
}

/// `test_futures.py::test_exception`: `set_exception` on a `Future<Result<..>>`.
#[test]
fn test_exception() {
    let f = Future::<Result<u8, String>>::new();
    assert_eq!(f.exception(), Err(InvalidStateError::NotDone));
    f.set_exception("RuntimeError".to_string()).unwrap();
    assert!(!f.cancelled());
    assert!(f.done());
    assert_eq!(f.result(), Ok(Err("RuntimeError".to_string())));
    assert_eq!(f.exception(), Ok(Some("RuntimeError".to_string())));
    assert_eq!(f.set_result(Ok(1)), Err(InvalidStateError::AlreadyDone));
    assert_eq!(
        f.set_exception("again".into()),
        Err(InvalidStateError::AlreadyDone)
    );
    assert!(!f.cancel());
}

/// `test_futures.py::test_yield_from_twice` and `test_await_twice`-like: every awaiter gets
/// the value, and so does a second await of the same handle.
#[test]
fn test_yield_from_twice() {
    run(async {
        let f = Future::new();
        let setter = f.clone();
        asyncio::create_task(async move { setter.set_result(5).unwrap() });
        let a = f.clone().await;
        let b = f.await;
        assert_eq!((a, b), (Ok(5), Ok(5)));
    });
}

/// An awaiter of a failed future gets the error (the outer `Result` is the cancellation).
#[test]
fn awaiting_a_failed_future_gives_the_error() {
    run(async {
        let f = Future::<Result<(), String>>::new();
        let setter = f.clone();
        asyncio::create_task(async move { setter.set_exception("boom".into()).unwrap() });
        assert_eq!(f.clone().await, Ok(Err("boom".to_string())));
        let cancelled = Future::<Result<(), String>>::new();
        cancelled.cancel();
        assert_eq!(cancelled.await, Err(CancelledError));
    });
}

/// `test_futures.py::test_callbacks_invoked_on_set_result`: done callbacks run in the order
/// they were added, after the loop's next iteration begins.
#[test]
fn test_callbacks_invoked_on_set_result() {
    run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let f = Future::new();
        for n in [42, 17, 100] {
            let log = log.clone();
            f.add_done_callback(move |f| log.borrow_mut().push((n, f.result().unwrap())));
        }
        assert!(log.borrow().is_empty());
        f.set_result(10).unwrap();
        assert!(log.borrow().is_empty(), "scheduled, not called");
        asyncio::sleep(0).await;
        assert_eq!(*log.borrow(), [(42, 10), (17, 10), (100, 10)]);
    });
}

/// `test_futures.py::test_callbacks_remove_first_callback` (its principle).
#[test]
fn test_callbacks_remove_callback() {
    run(async {
        let hits = Rc::new(Cell::new(0));
        let f = Future::new();
        let h = hits.clone();
        let first = f.add_done_callback(|_| unreachable!("removed"));
        f.add_done_callback(move |_| h.set(h.get() + 1));
        assert!(f.remove_done_callback(first));
        assert!(!f.remove_done_callback(first));
        f.set_result(()).unwrap();
        asyncio::sleep(0).await;
        assert_eq!(hits.get(), 1);
    });
}

/// `test_futures.py::test_callbacks_invoked_on_set_exception` (adding a callback to a done
/// future schedules it at once).
#[test]
fn test_callback_added_after_done_is_scheduled() {
    run(async {
        let hit = Rc::new(Cell::new(false));
        let f = Future::<Result<(), &str>>::new();
        f.set_exception("e").unwrap();
        let h = hit.clone();
        f.add_done_callback(move |f| h.set(f.exception() == Ok(Some("e"))));
        asyncio::sleep(0).await;
        assert!(hit.get());
    });
}

thread_local! {
    static SELF: RefCell<Option<Future<Reentrant>>> = const { RefCell::new(None) };
}

/// A value whose `Clone` looks at the future holding it: user code that must not run under the
/// future's own borrow.
#[derive(Debug, PartialEq)]
struct Reentrant(u8);

impl Clone for Reentrant {
    fn clone(&self) -> Reentrant {
        SELF.with(|f| {
            let f = f.borrow();
            let f = f.as_ref().unwrap();
            assert!(f.done());
            assert!(!f.cancelled());
        });
        Reentrant(self.0)
    }
}

/// The fault from issue 9: `T::clone` called while the future's state was borrowed, so a
/// `Clone` that touches the future panicked ("already mutably borrowed").
#[test]
fn a_clone_that_touches_its_own_future_works_for_every_awaiter() {
    run(async {
        let f = Future::new();
        SELF.with(|s| *s.borrow_mut() = Some(f.clone()));
        let waiters: Vec<_> = (0..3).map(|_| asyncio::create_task(f.clone())).collect();
        asyncio::sleep(0).await;
        f.set_result(Reentrant(9)).unwrap();
        for w in waiters {
            assert_eq!(w.await.unwrap(), Ok(Reentrant(9)));
        }
        assert_eq!(f.result(), Ok(Reentrant(9)));
        SELF.with(|s| s.borrow_mut().take());
    });
}
