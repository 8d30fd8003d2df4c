//! User code that panics where the loop runs it outside a task (wakers, destructors of
//! results and of callbacks' captures, done callbacks during shutdown): each panic is
//! reported to the exception handler, and the loop neither goes down nor loses a result.

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// Panics when dropped.
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("{}", self.0);
        }
    }
}

/// A waker whose wake panics.
struct PanickyWaker;

impl Wake for PanickyWaker {
    fn wake(self: Arc<Self>) {
        panic!("the waker broke");
    }
}

fn recording_loop() -> (asyncio::EventLoop, Rc<RefCell<Vec<String>>>) {
    let lp = asyncio::EventLoop::new();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    lp.set_exception_handler(Some(move |ctx: &asyncio::ExceptionContext| {
        s.borrow_mut().push(ctx.message.clone());
    }));
    (lp, seen)
}

#[test]
fn a_panicking_waker_fired_by_a_timer_is_reported() {
    let (lp, seen) = recording_loop();
    let out = lp
        .run_until_complete(async {
            let waker = Waker::from(Arc::new(PanickyWaker));
            let mut nap = pin!(asyncio::sleep(0.01));
            // Register the timer with the panicking waker, then wait for it to fire.
            assert!(
                nap.as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending()
            );
            asyncio::sleep(0.05).await;
            "the loop lived on"
        })
        .unwrap();
    assert_eq!(out, "the loop lived on");
    let seen = seen.borrow();
    assert!(
        seen.iter()
            .any(|m| m.contains("a waker") && m.contains("the waker broke")),
        "{seen:?}"
    );
}

#[test]
fn a_result_whose_drop_panics_is_reported_when_the_loop_drops_it() {
    let (lp, seen) = recording_loop();
    lp.run_until_complete(async {
        drop(asyncio::create_task(async { PanicOnDrop("result drop") }));
        asyncio::sleep(0).await;
        asyncio::sleep(0).await;
    })
    .unwrap();
    assert!(
        seen.borrow().iter().any(|m| m.contains("result drop")),
        "{:?}",
        seen.borrow()
    );
}

#[test]
fn close_survives_panicking_drops_of_unrun_callbacks_and_tasks() {
    let (lp, seen) = recording_loop();
    let guard = PanicOnDrop("callback captures");
    lp.call_soon(move || drop(guard));
    let g2 = PanicOnDrop("timed callback captures");
    lp.call_later(10, move || drop(g2));
    let g3 = PanicOnDrop("future captures");
    lp.create_task(async move {
        let _g = g3;
        std::future::pending::<()>().await;
    });
    assert!(lp.close().is_ok());
    let seen = seen.borrow();
    for what in ["callback captures", "timed callback captures"] {
        assert!(seen.iter().any(|m| m.contains(what)), "{what}: {seen:?}");
    }
}

#[test]
fn a_done_callback_that_panics_at_shutdown_loses_no_result() {
    let out = asyncio::run(async {
        let forever = asyncio::create_task(std::future::pending::<()>());
        forever.add_done_callback(|_| panic!("done callback at shutdown"));
        21 * 2
    });
    assert_eq!(out, 42);
}

#[test]
fn a_done_callback_that_panics_in_close_is_contained() {
    let (lp, _seen) = recording_loop();
    let task = lp.create_task(std::future::pending::<()>());
    task.add_done_callback(|_| panic!("done callback in close"));
    assert!(lp.close().is_ok());
    assert!(task.cancelled());
}

#[test]
fn a_deep_chain_of_eager_tasks_does_not_overflow_the_stack() {
    fn chain(n: u32) -> std::pin::Pin<Box<dyn Future<Output = u32>>> {
        Box::pin(async move {
            if n == 0 {
                0
            } else {
                asyncio::create_eager_task(chain(n - 1)).await.unwrap() + 1
            }
        })
    }
    // Run on a thread with a small stack, so that unbounded recursion would overflow it.
    let depth = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(|| asyncio::run(chain(20_000)))
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(depth, 20_000);
}

#[test]
fn a_waker_that_panics_when_a_task_finishes_does_not_stop_the_loop() {
    let (lp, seen) = recording_loop();
    lp.run_until_complete(async {
        let task = asyncio::create_task(async { asyncio::sleep(0.01).await });
        let mut join = pin!(task.into_future());
        let waker = Waker::from(Arc::new(PanickyWaker));
        // Await the task with the panicking waker: its completion wakes it.
        let _ =
            poll_fn(|_| Poll::Ready(join.as_mut().poll(&mut Context::from_waker(&waker)))).await;
        asyncio::sleep(0.05).await;
    })
    .unwrap();
    assert!(
        seen.borrow().iter().any(|m| m.contains("the waker broke")),
        "{:?}",
        seen.borrow()
    );
}

#[test]
fn an_unretrieved_failure_goes_to_the_tasks_own_loop() {
    let (a, seen_a) = recording_loop();
    let (b, seen_b) = recording_loop();
    // A task of loop `a` fails; its handle is kept, then dropped while loop `b` runs.
    let task = a.create_task(async { panic!("a's task failed") });
    a.run_until_complete(asyncio::sleep(0)).unwrap();
    b.run_until_complete(async move {
        drop(task);
    })
    .unwrap();
    assert!(
        seen_a
            .borrow()
            .iter()
            .any(|m| m.contains("never retrieved")),
        "{:?}",
        seen_a.borrow()
    );
    assert!(seen_b.borrow().is_empty(), "{:?}", seen_b.borrow());
}

#[test]
fn done_callbacks_of_tasks_cancelled_at_shutdown_run_on_their_loop() {
    // asyncio.run cancels leftover tasks, then runs the loop so their callbacks run in it.
    let ran_in_loop = Rc::new(RefCell::new(None));
    let r = ran_in_loop.clone();
    asyncio::run(async move {
        let leftover = asyncio::create_task(std::future::pending::<()>());
        leftover.add_done_callback(move |t| {
            *r.borrow_mut() = Some((t.cancelled(), asyncio::get_running_loop().is_ok()));
        });
    });
    assert_eq!(*ran_in_loop.borrow(), Some((true, true)));
}
