//! The event loop itself: running, stopping, closing, misuse, and waking from other threads.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use asyncio::{EventLoop, RuntimeError};

mod common;

#[test]
fn run_until_complete_returns_the_output_and_runs_other_tasks() {
    let lp = asyncio::new_event_loop();
    let side = Rc::new(Cell::new(0));
    let s = side.clone();
    lp.create_task(async move { s.set(1) });
    assert_eq!(lp.run_until_complete(async { "main" }).unwrap(), "main");
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    assert_eq!(side.get(), 1);
}

#[test]
fn run_forever_runs_until_stop_is_called_from_a_task() {
    let lp = EventLoop::builder().virtual_time().build();
    let stopper = lp.clone();
    let ticks = Rc::new(Cell::new(0));
    let t = ticks.clone();
    lp.create_task(async move {
        for _ in 0..5 {
            asyncio::sleep(1).await;
            t.set(t.get() + 1);
        }
        stopper.stop();
    });
    lp.run_forever().unwrap();
    assert_eq!(ticks.get(), 5);
    assert_eq!(lp.time(), 5.0);
    assert!(!lp.is_running());
}

#[test]
fn stop_from_a_done_callback_ends_run_forever() {
    let lp = asyncio::new_event_loop();
    let fut = lp.create_future::<&str>();
    let stopper = lp.clone();
    let seen = Rc::new(Cell::new(""));
    let s = seen.clone();
    fut.add_done_callback(move |f| {
        s.set(f.result().unwrap());
        stopper.stop();
    });
    let setter = fut.clone();
    lp.create_task(async move {
        asyncio::sleep(0.01).await;
        setter.set_result("Future is done!").unwrap();
    });
    lp.run_forever().unwrap();
    assert_eq!(seen.get(), "Future is done!");
}

#[test]
fn stop_before_the_future_completes_is_an_error() {
    let lp = asyncio::new_event_loop();
    let stopper = lp.clone();
    lp.call_soon(move || stopper.stop());
    let err = lp.run_until_complete(asyncio::sleep(10)).unwrap_err();
    assert_eq!(err, RuntimeError::StoppedBeforeComplete);
}

#[test]
fn running_a_loop_from_inside_itself_is_an_error_not_a_deadlock() {
    let lp = asyncio::new_event_loop();
    let inner = lp.clone();
    let err = lp
        .run_until_complete(async move { inner.run_until_complete(async {}).unwrap_err() })
        .unwrap();
    assert_eq!(err, RuntimeError::AlreadyRunning);
    assert!(
        err.to_string()
            .starts_with("This event loop is already running: ")
    );
}

#[test]
fn running_another_loop_inside_a_running_one_is_an_error() {
    let err = asyncio::run(async {
        let other = asyncio::new_event_loop();
        other.run_until_complete(async {}).unwrap_err()
    });
    assert_eq!(err, RuntimeError::AnotherLoopRunning);
}

#[test]
fn nested_asyncio_run_panics_with_a_clear_message() {
    let err = asyncio::run(async {
        asyncio::create_task(async { asyncio::run(async {}) })
            .await
            .unwrap_err()
    });
    let msg = err.panic_message().unwrap();
    assert!(
        msg.contains("cannot be called from a running event loop"),
        "{msg}"
    );
}

#[test]
fn a_closed_loop_refuses_to_run() {
    let lp = asyncio::new_event_loop();
    lp.close().unwrap();
    assert!(lp.is_closed());
    assert_eq!(
        lp.run_until_complete(async {}).unwrap_err(),
        RuntimeError::Closed
    );
    assert_eq!(lp.run_forever().unwrap_err(), RuntimeError::Closed);
    lp.close().unwrap(); // closing twice is fine
}

#[test]
fn closing_a_running_loop_is_an_error() {
    let lp = asyncio::new_event_loop();
    let inner = lp.clone();
    let err = lp.run_until_complete(async move { inner.close() }).unwrap();
    assert_eq!(err, Err(RuntimeError::CloseWhileRunning));
}

#[test]
fn get_running_loop_is_an_error_outside_a_loop() {
    assert_eq!(
        asyncio::get_running_loop().unwrap_err(),
        RuntimeError::NoRunningLoop
    );
    asyncio::run(async {
        assert!(asyncio::get_running_loop().unwrap().is_running());
    });
}

#[test]
fn get_event_loop_returns_the_same_loop_until_it_is_closed() {
    let a = asyncio::get_event_loop();
    let b = asyncio::get_event_loop();
    a.stop();
    b.run_forever().unwrap(); // b saw a's stop: same loop
    a.close().unwrap();
    assert!(
        !asyncio::get_event_loop().is_closed(),
        "a closed current loop is replaced"
    );
}

#[test]
fn is_running_is_true_only_while_running() {
    let lp = asyncio::new_event_loop();
    assert!(!lp.is_running());
    let inner = lp.clone();
    assert!(
        lp.run_until_complete(async move { inner.is_running() })
            .unwrap()
    );
    assert!(!lp.is_running());
}

/// A future that hands its waker to another thread, which wakes it after `delay`.
fn woken_from_another_thread(delay: Duration) -> impl Future<Output = ()> {
    let state: Arc<Mutex<(bool, Option<Waker>)>> = Arc::default();
    let started = Cell::new(false);
    std::future::poll_fn(move |cx| {
        let mut s = state.lock().unwrap();
        if s.0 {
            return Poll::Ready(());
        }
        s.1 = Some(cx.waker().clone());
        if !started.replace(true) {
            let state = state.clone();
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                let waker = {
                    let mut s = state.lock().unwrap();
                    s.0 = true;
                    s.1.take()
                };
                waker.unwrap().wake();
            });
        }
        Poll::Pending
    })
}

#[test]
fn a_wake_from_another_thread_unparks_a_sleeping_loop() {
    // The loop has no timers, so it parks with no deadline: only the foreign wake ends it.
    let start = Instant::now();
    asyncio::run(woken_from_another_thread(Duration::from_millis(100)));
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(100), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn a_wake_from_another_thread_cuts_a_long_timer_wait_short() {
    let start = Instant::now();
    asyncio::run(async {
        let _long = asyncio::create_task(asyncio::sleep(30));
        woken_from_another_thread(Duration::from_millis(50)).await;
    });
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn call_soon_threadsafe_runs_on_the_loop_thread_and_wakes_it() {
    let lp = asyncio::new_event_loop();
    let handle = lp.threadsafe_handle();
    let loop_thread = std::thread::current().id();
    let ran_on = Arc::new(Mutex::new(None));
    let r = ran_on.clone();
    let start = Instant::now();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        handle.call_soon_threadsafe(move || {
            *r.lock().unwrap() = Some(std::thread::current().id());
        });
        handle.stop();
    });
    lp.run_forever().unwrap();
    assert_eq!(*ran_on.lock().unwrap(), Some(loop_thread));
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_waker_that_outlives_its_loop_is_harmless() {
    let lp = asyncio::new_event_loop();
    let waker = lp
        .run_until_complete(std::future::poll_fn(|cx| Poll::Ready(cx.waker().clone())))
        .unwrap();
    lp.close().unwrap();
    drop(lp);
    waker.wake_by_ref(); // same thread, loop gone
    std::thread::spawn(move || waker.wake()).join().unwrap(); // another thread
}

/// CPU time this thread has used, from Linux's schedstat (nanoseconds).
fn thread_cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

#[test]
fn an_idle_loop_does_not_spin() {
    let Some(before) = thread_cpu_time() else {
        eprintln!("no /proc/thread-self/schedstat here; skipping");
        return;
    };
    asyncio::run(asyncio::sleep(1.0));
    let used = thread_cpu_time().unwrap() - before;
    assert!(
        used < Duration::from_millis(50),
        "a 1 s sleep used {used:?} of CPU"
    );
}

#[test]
fn loop_time_is_monotonic_seconds() {
    let lp = asyncio::new_event_loop();
    let t0 = lp.time();
    std::thread::sleep(Duration::from_millis(20));
    let t1 = lp.time();
    assert!(t1 - t0 >= 0.02 && t1 - t0 < 1.0, "{t0} -> {t1}");
}

#[test]
fn a_stop_as_the_main_future_finishes_does_not_stop_the_next_run() {
    let lp = EventLoop::builder().virtual_time().build();
    lp.run_until_complete(async { asyncio::get_running_loop().unwrap().stop() })
        .unwrap();
    assert_eq!(lp.run_until_complete(asyncio::sleep(0.01)), Ok(()));
}

#[test]
fn a_main_wake_left_from_an_earlier_run_does_not_disturb_the_next() {
    let lp = asyncio::new_event_loop();
    // Main wakes itself in the step that completes it: a stale MAIN entry stays queued.
    lp.run_until_complete(std::future::poll_fn(|cx| {
        cx.waker().wake_by_ref();
        Poll::Ready(())
    }))
    .unwrap();
    let log = Rc::new(std::cell::RefCell::new(Vec::new()));
    let l = log.clone();
    lp.run_until_complete(async move {
        let l2 = l.clone();
        let _child = asyncio::create_task(async move { l2.borrow_mut().push("child") });
        asyncio::sleep(0).await;
        l.borrow_mut().push("main after sleep(0)");
    })
    .unwrap();
    assert_eq!(*log.borrow(), ["child", "main after sleep(0)"]);
}

#[test]
fn replacing_a_closed_current_loop_drops_it_outside_the_borrow() {
    struct CallsGetEventLoop;
    impl Drop for CallsGetEventLoop {
        fn drop(&mut self) {
            let _ = asyncio::get_event_loop();
        }
    }
    let lp = asyncio::get_event_loop();
    let guard = CallsGetEventLoop;
    let task = lp.create_task(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    drop(task);
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    lp.close().unwrap();
    drop(lp);
    assert!(!asyncio::get_event_loop().is_closed());
}

#[test]
#[should_panic(expected = "Event loop is closed")]
fn call_soon_on_a_closed_loop_panics_clearly() {
    let lp = asyncio::new_event_loop();
    lp.close().unwrap();
    lp.call_soon(|| {});
}

/// A callback that writes `name` in `log`.
fn record(log: &common::Log<&'static str>, name: &'static str) -> Box<dyn FnOnce()> {
    let log = log.clone();
    Box::new(move || log.borrow_mut().push(name))
}

#[test]
fn cancelling_a_handle_whose_callback_ran_leaves_later_callbacks_alone() {
    let lp = asyncio::new_event_loop();
    let ran = common::log();
    let first = lp.call_soon(record(&ran, "first"));
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    // The next callback may take the slot the first one had: cancelling the first must not
    // cancel it.
    let second = lp.call_soon(record(&ran, "second"));
    first.cancel();
    assert!(first.cancelled() && !second.cancelled());
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    assert_eq!(*ran.borrow(), ["first", "second"]);
}

#[test]
fn a_cancelled_callback_keeps_the_others_in_order_and_drops_its_captures_at_once() {
    let lp = asyncio::new_event_loop();
    let ran = common::log();
    let captured = Rc::new(());
    let held = captured.clone();
    lp.call_soon(record(&ran, "a"));
    let b = lp.call_soon(move || drop(held));
    lp.call_soon(record(&ran, "c"));
    b.cancel();
    assert_eq!(
        Rc::strong_count(&captured),
        1,
        "cancel drops what the callback captured"
    );
    let d = lp.call_soon(record(&ran, "d")); // may reuse nothing yet: b's slot waits for its turn
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    assert_eq!(*ran.borrow(), ["a", "c", "d"]);
    assert!(!d.cancelled());
}

#[test]
fn a_callback_can_cancel_itself_and_a_later_one() {
    let lp = asyncio::new_event_loop();
    let ran = common::log();
    let slot: Rc<std::cell::RefCell<Option<asyncio::Handle>>> = Rc::default();
    let later: Rc<std::cell::RefCell<Option<asyncio::Handle>>> = Rc::default();
    let (s, l, r) = (slot.clone(), later.clone(), record(&ran, "first"));
    *slot.borrow_mut() = Some(lp.call_soon(move || {
        r();
        s.borrow().as_ref().unwrap().cancel(); // already running: nothing to cancel
        l.borrow().as_ref().unwrap().cancel();
    }));
    *later.borrow_mut() = Some(lp.call_soon(record(&ran, "later")));
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    assert_eq!(*ran.borrow(), ["first"]);
    assert!(later.borrow().as_ref().unwrap().cancelled());
}

#[test]
fn cancelling_a_handle_after_its_loop_is_gone_does_nothing() {
    let lp = asyncio::new_event_loop();
    let handle = lp.call_soon(|| unreachable!("the loop never ran"));
    drop(lp);
    handle.cancel();
    assert!(handle.cancelled());
}
