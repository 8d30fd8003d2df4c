//! Cancelling tasks, and the other task and loop extras of asyncio: names, done callbacks,
//! current_task/all_tasks, eager tasks, call_later/call_at, the exception handler, debug mode.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use asyncio::{EventLoop, ExceptionContext, Runner};

struct DropCounter(Rc<Cell<u32>>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn cancel_drops_the_future_at_the_next_iteration_and_awaiters_see_cancelled() {
    let drops = Rc::new(Cell::new(0));
    let (err, at) = Runner::virtual_time().run({
        let drops = drops.clone();
        async move {
            let guard = DropCounter(drops.clone());
            let task = asyncio::create_task(async move {
                let _guard = guard;
                asyncio::sleep(3600).await;
            });
            asyncio::sleep(1).await;
            assert!(task.cancel());
            assert_eq!(drops.get(), 0, "not dropped inside cancel()");
            assert!(!task.done());
            let err = task.await.unwrap_err();
            (err, asyncio::get_running_loop().unwrap().time())
        }
    });
    assert!(err.is_cancelled());
    assert_eq!(drops.get(), 1);
    assert_eq!(at, 1.0, "cancellation does not wait for the task's timer");
}

#[test]
fn cancelling_a_finished_task_returns_false() {
    asyncio::run(async {
        let task = asyncio::create_task(async { 1 });
        asyncio::sleep(0).await;
        assert!(task.done());
        assert!(!task.cancel());
        assert!(!task.cancelled());
        assert_eq!(task.await.unwrap(), 1);
    });
}

#[test]
fn a_cancelled_task_reports_cancelled_and_its_timer_leaves_the_wheel() {
    Runner::virtual_time().run(async {
        let task = asyncio::create_task(asyncio::sleep(100));
        asyncio::sleep(0).await;
        task.cancel();
        asyncio::sleep(0).await;
        assert!(task.cancelled());
        assert!(asyncio::all_tasks().is_empty());
        // Nothing is left to fire: a long sleep after it takes exactly its own time.
        asyncio::sleep(1).await;
        assert_eq!(asyncio::get_running_loop().unwrap().time(), 1.0);
    });
}

#[test]
fn a_task_can_cancel_itself() {
    let after = Rc::new(Cell::new(false));
    let err = asyncio::run({
        let after = after.clone();
        async move {
            let task = asyncio::create_task(async move {
                asyncio::current_task().unwrap().cancel();
                asyncio::sleep(0).await;
                after.set(true);
            });
            task.await.unwrap_err()
        }
    });
    assert!(err.is_cancelled());
    assert!(!after.get());
}

#[test]
fn tasks_have_default_and_custom_names() {
    asyncio::run(async {
        let a = asyncio::create_task(async {});
        let b = asyncio::create_task(async {});
        let (na, nb) = (a.get_name(), b.get_name());
        assert!(na.starts_with("Task-") && nb.starts_with("Task-") && na != nb);
        b.set_name("downloader");
        assert_eq!(b.get_name(), "downloader");
        assert_eq!(format!("{b:?}"), "<Task pending name='downloader'>");
    });
}

#[test]
fn done_callbacks_run_after_completion_and_can_be_removed() {
    let log = Rc::new(RefCell::new(Vec::new()));
    asyncio::run({
        let log = log.clone();
        async move {
            let task = asyncio::create_task(async {});
            let l1 = log.clone();
            task.add_done_callback(move |t| l1.borrow_mut().push(format!("done={}", t.done())));
            let l2 = log.clone();
            let removed = task.add_done_callback(move |_| l2.borrow_mut().push("removed".into()));
            assert!(task.remove_done_callback(removed));
            assert!(!task.remove_done_callback(removed));
            task.await.unwrap();
            asyncio::sleep(0).await;
        }
    });
    assert_eq!(*log.borrow(), ["done=true"]);
}

#[test]
fn current_task_and_all_tasks_see_the_running_tasks() {
    asyncio::run(async {
        assert!(asyncio::current_task().is_none(), "main is not a task here");
        let t = asyncio::create_task(async {
            let me = asyncio::current_task().unwrap();
            me.get_name()
        });
        t.set_name("me");
        let _sleeper = asyncio::create_task(asyncio::sleep(10));
        assert_eq!(asyncio::all_tasks().len(), 2);
        assert_eq!(t.await.unwrap(), "me");
        assert_eq!(asyncio::all_tasks().len(), 1);
    });
}

#[test]
fn an_eager_task_that_finishes_at_once_never_waits_for_the_queue() {
    let log = Rc::new(RefCell::new(Vec::new()));
    asyncio::run({
        let log = log.clone();
        async move {
            let l = log.clone();
            let t = asyncio::create_eager_task(async move { l.borrow_mut().push("eager ran") });
            log.borrow_mut().push("after create");
            assert!(t.done());
            let l = log.clone();
            let lazy = asyncio::create_task(async move { l.borrow_mut().push("lazy ran") });
            log.borrow_mut().push("after lazy create");
            lazy.await.unwrap();
        }
    });
    assert_eq!(
        *log.borrow(),
        ["eager ran", "after create", "after lazy create", "lazy ran"]
    );
}

#[test]
fn an_eager_loop_runs_every_first_step_inside_create_task() {
    let lp = EventLoop::builder().eager_tasks().build();
    let out = lp
        .run_until_complete(async {
            let t = asyncio::create_task(async { 7 });
            (t.done(), t.await.unwrap())
        })
        .unwrap();
    assert_eq!(out, (true, 7));
}

#[test]
fn call_later_and_call_at_fire_at_their_times_and_can_be_cancelled() {
    let lp = EventLoop::builder().virtual_time().build();
    let log = Rc::new(RefCell::new(Vec::new()));
    for (delay, name) in [(2.0, "two"), (1.0, "one")] {
        let (l, inner) = (log.clone(), lp.clone());
        lp.call_later(delay, move || l.borrow_mut().push((name, inner.time())));
    }
    let (l, inner) = (log.clone(), lp.clone());
    let at = lp.call_at(3.0, move || l.borrow_mut().push(("three", inner.time())));
    assert_eq!(at.when(), 3.0);
    let cancelled = lp.call_later(1.5, || panic!("cancelled callbacks never run"));
    cancelled.cancel();
    lp.run_until_complete(asyncio::sleep(5)).unwrap();
    assert_eq!(*log.borrow(), [("one", 1.0), ("two", 2.0), ("three", 3.0)]);
    assert!(cancelled.cancelled());
}

fn collecting_handler(lp: &EventLoop) -> Rc<RefCell<Vec<ExceptionContext>>> {
    let seen: Rc<RefCell<Vec<ExceptionContext>>> = Rc::default();
    let s = seen.clone();
    lp.set_exception_handler(Some(move |ctx: &ExceptionContext| {
        s.borrow_mut().push(ctx.clone())
    }));
    seen
}

#[test]
fn the_exception_handler_receives_unretrieved_task_panics_with_the_task_name() {
    let lp = asyncio::new_event_loop();
    let seen = collecting_handler(&lp);
    lp.run_until_complete(async {
        let t = asyncio::create_task(async { panic!("lost") });
        t.set_name("doomed");
        drop(t);
        asyncio::sleep(0).await;
        asyncio::sleep(0).await;
    })
    .unwrap();
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0]
            .message
            .starts_with("Task exception was never retrieved")
    );
    assert_eq!(seen[0].task.as_deref(), Some("doomed"));
    assert_eq!(seen[0].panic.as_deref(), Some("lost"));
}

#[test]
fn closing_a_loop_with_pending_tasks_reports_them_by_name() {
    let lp = asyncio::new_event_loop();
    let t = lp.create_task(asyncio::sleep(10));
    t.set_name("sleeper");
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    let seen: Rc<RefCell<Vec<String>>> = Rc::default();
    let s = seen.clone();
    lp.set_exception_handler(Some(move |ctx: &ExceptionContext| {
        s.borrow_mut().push(ctx.message.clone())
    }));
    lp.close().unwrap();
    assert!(t.cancelled());
    assert_eq!(
        *seen.borrow(),
        ["Task was destroyed but it is pending!\ntask: <Task pending name='sleeper'>"]
    );
}

#[test]
fn debug_mode_reports_a_slow_task_step_with_its_name() {
    let lp = EventLoop::builder().debug(true).build();
    lp.set_slow_callback_duration(0.05);
    let seen = collecting_handler(&lp);
    lp.run_until_complete(async {
        let t = asyncio::create_task(async {
            std::thread::sleep(std::time::Duration::from_millis(80));
        });
        t.set_name("slow");
        t.await.unwrap();
        let quick = asyncio::create_task(async {});
        quick.await.unwrap();
    })
    .unwrap();
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0]
            .message
            .starts_with("Executing <Task name='slow'> took 0.0"),
        "{}",
        seen[0].message
    );
}

#[test]
fn debug_mode_is_off_by_default_and_can_be_switched() {
    let lp = EventLoop::builder().debug(false).build();
    assert!(!lp.get_debug());
    lp.set_debug(true);
    assert!(lp.get_debug());
}

#[test]
fn run_coroutine_threadsafe_returns_the_result_to_the_other_thread() {
    let lp = asyncio::new_event_loop();
    let h = lp.threadsafe_handle();
    let worker = std::thread::spawn(move || {
        let ok = h
            .run_coroutine_threadsafe(|| async {
                asyncio::sleep(0.01).await;
                "from the loop"
            })
            .result();
        let bad = h
            .run_coroutine_threadsafe(|| async { panic!("inside") })
            .result();
        h.stop();
        (ok, bad)
    });
    lp.run_forever().unwrap();
    let (ok, bad) = worker.join().unwrap();
    assert_eq!(ok.unwrap(), "from the loop");
    assert_eq!(bad.unwrap_err().panic_message(), Some("inside"));
}

struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("destructor failed");
    }
}

#[test]
fn a_panicking_destructor_of_a_cancelled_task_becomes_its_outcome_not_a_loop_crash() {
    let (err, done) = Runner::virtual_time().run(async {
        let task = asyncio::create_task(async {
            let _p = PanicOnDrop;
            asyncio::sleep(10).await;
        });
        asyncio::sleep(1).await;
        task.cancel();
        asyncio::sleep(0).await;
        let done = task.done();
        (task.await.unwrap_err(), done)
    });
    assert!(done, "the task is marked done");
    assert_eq!(err.panic_message(), Some("destructor failed"));
}

#[test]
fn removing_a_done_callback_drops_it_with_the_name_and_callbacks_intact() {
    struct OnDrop(Option<Box<dyn FnOnce()>>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    let seen = Rc::new(RefCell::new(Vec::new()));
    asyncio::run({
        let seen = seen.clone();
        async move {
            let task = Rc::new(asyncio::create_task(async {}));
            task.set_name("worker");
            let (t, s) = (task.clone(), seen.clone());
            let guard = OnDrop(Some(Box::new(move || {
                s.borrow_mut().push(t.get_name());
                let s2 = s.clone();
                t.add_done_callback(move |_| s2.borrow_mut().push("added in drop".into()));
            })));
            let id = task.add_done_callback(move |_| drop(guard));
            assert!(task.remove_done_callback(id));
            while !task.done() {
                asyncio::sleep(0).await;
            }
            asyncio::sleep(0).await;
        }
    });
    assert_eq!(*seen.borrow(), ["worker", "added in drop"]);
}

#[test]
fn a_cancelled_timer_handle_reports_cancelled_at_once() {
    let lp = EventLoop::builder().virtual_time().build();
    let h = lp.call_later(1, || {});
    h.cancel();
    assert!(h.cancelled());
}

#[test]
fn a_panicking_exception_handler_does_not_take_the_loop_down() {
    let lp = asyncio::new_event_loop();
    lp.set_exception_handler(Some(|_: &ExceptionContext| panic!("handler broke")));
    lp.call_soon(|| panic!("callback broke"));
    assert_eq!(lp.run_until_complete(async { 5 }), Ok(5));
}

#[test]
fn call_later_callbacks_are_callbacks_not_tasks() {
    let lp = EventLoop::builder().virtual_time().build();
    let seen = collecting_handler(&lp);
    let inside = Rc::new(Cell::new(None));
    let i = inside.clone();
    lp.call_later(1, move || i.set(Some(asyncio::current_task().is_none())));
    lp.call_later(2, || panic!("timed callback broke"));
    lp.run_until_complete(async {
        assert!(
            asyncio::all_tasks().is_empty(),
            "a pending call_later is not a task"
        );
        asyncio::sleep(3).await;
    })
    .unwrap();
    assert_eq!(
        inside.get(),
        Some(true),
        "no current task inside a callback"
    );
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].message.starts_with("Exception in callback"),
        "{}",
        seen[0].message
    );
}

#[test]
fn cancelling_a_timer_handle_drops_its_closure_at_once() {
    let lp = EventLoop::builder().virtual_time().build();
    let drops = Rc::new(Cell::new(0));
    let guard = DropCounter(drops.clone());
    let h = lp.call_later(5, move || drop(guard));
    assert_eq!(drops.get(), 0);
    h.cancel();
    assert_eq!(drops.get(), 1);
    assert!(h.cancelled());
    // Nothing is left to wait for: the next timer decides the clock.
    lp.run_until_complete(asyncio::sleep(1)).unwrap();
    assert_eq!(lp.time(), 1.0);
}

#[test]
fn call_later_with_a_past_or_zero_delay_runs_on_the_next_iteration() {
    let lp = EventLoop::builder().virtual_time().build();
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    lp.call_later(0, move || l.borrow_mut().push("later(0)"));
    let l = log.clone();
    lp.call_at(-10.0, move || l.borrow_mut().push("at(past)"));
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    // Deadline order, as asyncio's heap: the past deadline first.
    assert_eq!(*log.borrow(), ["at(past)", "later(0)"]);
    assert_eq!(lp.time(), 0.0);
}
