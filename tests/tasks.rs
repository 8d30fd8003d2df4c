//! Tasks: creation, results, panics, and the gather and wait combinators.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use asyncio::{ReturnWhen, TaskError};

mod common;

#[test]
fn awaiting_a_task_gives_its_output() {
    let out = asyncio::run(async { asyncio::create_task(async { 40 + 2 }).await });
    assert_eq!(out.unwrap(), 42);
}

#[test]
fn dropping_a_task_handle_does_not_cancel_the_task() {
    let finished = Rc::new(Cell::new(false));
    asyncio::Runner::virtual_time().run({
        let finished = finished.clone();
        async move {
            let task = asyncio::create_task({
                let finished = finished.clone();
                async move {
                    asyncio::sleep(1).await;
                    finished.set(true);
                }
            });
            drop(task);
            asyncio::sleep(2).await;
        }
    });
    assert!(finished.get());
}

#[test]
fn a_task_runs_even_if_never_awaited() {
    let ran = Rc::new(Cell::new(0));
    asyncio::run({
        let ran = ran.clone();
        async move {
            let _ = asyncio::create_task(async move { ran.set(ran.get() + 1) });
            asyncio::sleep(0).await;
        }
    });
    assert_eq!(ran.get(), 1);
}

#[test]
fn a_panicking_task_is_isolated_and_its_awaiter_sees_the_error() {
    let survivor_done = Rc::new(Cell::new(false));
    let err = asyncio::Runner::virtual_time().run({
        let survivor_done = survivor_done.clone();
        async move {
            let survivor = asyncio::create_task(async move {
                asyncio::sleep(1).await;
                survivor_done.set(true);
            });
            let bad = asyncio::create_task(async {
                asyncio::sleep(0.5).await;
                panic!("task blew up");
            });
            let err = bad.await.unwrap_err();
            survivor.await.unwrap();
            err
        }
    });
    assert!(survivor_done.get());
    assert!(err.is_panic());
    assert_eq!(err.panic_message(), Some("task blew up"));
    assert_eq!(err.to_string(), "the task panicked: task blew up");
}

#[test]
fn a_panic_in_main_propagates_after_cleanup() {
    let dropped = Rc::new(Cell::new(false));
    struct SetOnDrop(Rc<Cell<bool>>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        asyncio::run({
            let guard = SetOnDrop(dropped.clone());
            async move {
                asyncio::create_task(async move {
                    let _guard = guard;
                    asyncio::sleep(100).await;
                });
                asyncio::sleep(0).await;
                panic!("main failed");
            }
        })
    }));
    let payload = result.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"main failed"));
    assert!(
        dropped.get(),
        "the leftover task was cancelled (dropped) before the panic left run"
    );
}

#[test]
fn run_cancels_leftover_tasks_and_runs_their_destructors() {
    let drops = Rc::new(Cell::new(0));
    struct Count(Rc<Cell<u32>>);
    impl Drop for Count {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    asyncio::run({
        let drops = drops.clone();
        async move {
            for _ in 0..3 {
                let c = Count(drops.clone());
                asyncio::create_task(async move {
                    let _c = c;
                    asyncio::sleep(1000).await;
                });
            }
            asyncio::sleep(0).await;
        }
    });
    assert_eq!(drops.get(), 3);
}

#[test]
fn gather_returns_results_in_argument_order() {
    let out = asyncio::Runner::virtual_time().run(async {
        let delays = [0.3, 0.1, 0.2];
        asyncio::gather(delays.map(|d| async move {
            asyncio::sleep(d).await;
            d
        }))
        .await
    });
    assert_eq!(out.unwrap(), [0.3, 0.1, 0.2]);
}

#[test]
fn gather_children_run_concurrently() {
    let elapsed = asyncio::Runner::virtual_time().run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let t0 = lp.time();
        asyncio::gather((0..3).map(|_| asyncio::sleep(1.0)))
            .await
            .unwrap();
        lp.time() - t0
    });
    assert_eq!(elapsed, 1.0);
}

#[test]
fn gather_fails_fast_and_the_other_children_keep_running() {
    let slow_done = Rc::new(Cell::new(false));
    let (err, t_fail, t_end) = asyncio::Runner::virtual_time().run({
        let slow_done = slow_done.clone();
        async move {
            let lp = asyncio::get_running_loop().unwrap();
            let slow = async move {
                asyncio::sleep(5).await;
                slow_done.set(true);
            };
            let bad = async {
                asyncio::sleep(1).await;
                panic!("child failed");
            };
            let err = asyncio::gather!(slow, bad).await.unwrap_err();
            let t_fail = lp.time();
            asyncio::sleep(10).await;
            (err, t_fail, lp.time())
        }
    });
    assert_eq!(err.panic_message(), Some("child failed"));
    assert_eq!(
        t_fail, 1.0,
        "the failure is returned at once, not after the slow child"
    );
    assert_eq!(t_end, 11.0);
    assert!(slow_done.get(), "the slow child was not cancelled");
}

#[test]
fn gather_with_return_exceptions_gives_every_outcome_in_order() {
    let out = asyncio::run(async {
        asyncio::gather([
            Box::pin(async { 1 }) as std::pin::Pin<Box<dyn Future<Output = i32>>>,
            Box::pin(async { panic!("second") }),
            Box::pin(async { 3 }),
        ])
        .return_exceptions()
        .await
    });
    assert_eq!(*out[0].as_ref().unwrap(), 1);
    assert_eq!(out[1].as_ref().unwrap_err().panic_message(), Some("second"));
    assert_eq!(*out[2].as_ref().unwrap(), 3);
}

#[derive(Debug, PartialEq)]
enum AppError {
    Bad(u32),
    Task,
}

impl From<TaskError> for AppError {
    fn from(_: TaskError) -> AppError {
        AppError::Task
    }
}

#[test]
fn try_gather_returns_the_first_err_at_once() {
    let (out, at) = asyncio::Runner::virtual_time().run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let out = asyncio::try_gather((0..4).map(|i| async move {
            asyncio::sleep(f64::from(i)).await;
            if i == 2 { Err(AppError::Bad(i)) } else { Ok(i) }
        }))
        .await;
        (out, lp.time())
    });
    assert_eq!(out, Err(AppError::Bad(2)));
    assert_eq!(at, 2.0);
}

#[test]
fn gather_created_outside_the_loop_runs_on_the_loop_that_polls_it() {
    let lp = asyncio::new_event_loop();
    let g = asyncio::gather((1..=2).map(|i| async move { i }));
    assert_eq!(lp.run_until_complete(g).unwrap().unwrap(), [1, 2]);
}

#[test]
fn wait_returns_done_and_pending_without_cancelling() {
    asyncio::Runner::virtual_time().run(async {
        let fast = asyncio::create_task(asyncio::sleep(1));
        let slow = asyncio::create_task(asyncio::sleep(3));
        let (done, pending) = asyncio::wait([fast, slow])
            .return_when(ReturnWhen::FirstCompleted)
            .await;
        assert_eq!((done.len(), pending.len()), (1, 1));
        let lp = asyncio::get_running_loop().unwrap();
        assert_eq!(lp.time(), 1.0);
        let (done, pending) = asyncio::wait(pending).await;
        assert_eq!((done.len(), pending.len()), (1, 0));
        assert_eq!(lp.time(), 3.0);
    });
}

#[test]
fn wait_first_exception_returns_when_a_task_panics() {
    asyncio::Runner::virtual_time().run(async {
        let ok = asyncio::create_task(async {
            asyncio::sleep(5).await;
        });
        let bad = asyncio::create_task(async {
            asyncio::sleep(1).await;
            panic!("bad");
        });
        let (done, pending) = asyncio::wait([ok, bad])
            .return_when(ReturnWhen::FirstException)
            .await;
        assert_eq!((done.len(), pending.len()), (1, 1));
        assert_eq!(asyncio::get_running_loop().unwrap().time(), 1.0);
    });
}

#[test]
fn wait_with_timeout_returns_the_unfinished_as_pending() {
    asyncio::Runner::virtual_time().run(async {
        let slow = asyncio::create_task(asyncio::sleep(10));
        let (done, pending) = asyncio::wait([slow]).timeout(2).await;
        assert_eq!((done.len(), pending.len()), (0, 1));
        assert_eq!(asyncio::get_running_loop().unwrap().time(), 2.0);
    });
}

#[test]
#[should_panic(expected = "no running event loop")]
fn create_task_outside_a_running_loop_panics_clearly() {
    let _ = asyncio::create_task(async {});
}

#[test]
#[should_panic(expected = "no running event loop")]
fn awaiting_sleep_outside_a_running_loop_panics_clearly() {
    futures::executor::block_on(asyncio::sleep(1));
}

#[test]
#[should_panic(expected = "NaN")]
fn sleep_nan_panics_clearly() {
    drop(asyncio::sleep(f64::NAN));
}

#[test]
fn negative_sleep_is_a_zero_sleep() {
    asyncio::Runner::virtual_time().run(async {
        asyncio::sleep(-5.0).await;
        asyncio::sleep(-1).await;
        assert_eq!(asyncio::get_running_loop().unwrap().time(), 0.0);
    });
}

#[test]
fn sleep_duration_max_never_fires_and_never_overflows() {
    asyncio::Runner::virtual_time().run(async {
        let (done, pending) = asyncio::wait([
            asyncio::create_task(asyncio::sleep(std::time::Duration::MAX)),
            asyncio::create_task(asyncio::sleep(f64::INFINITY)),
        ])
        .timeout(3600)
        .await;
        assert_eq!((done.len(), pending.len()), (0, 2));
    });
}

#[test]
fn a_task_awaiting_itself_is_a_clear_error() {
    use std::cell::RefCell;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::pin::Pin;
    use std::task::{Context, Waker};

    let message = asyncio::run(async {
        let slot: Rc<RefCell<Option<asyncio::Task<()>>>> = Rc::new(RefCell::new(None));
        let seen: Rc<RefCell<String>> = Rc::default();
        let (s, m) = (slot.clone(), seen.clone());
        let task = asyncio::create_task(async move {
            asyncio::sleep(0).await;
            let mut me = std::future::IntoFuture::into_future(s.borrow_mut().take().unwrap());
            let mut cx = Context::from_waker(Waker::noop());
            let payload = catch_unwind(AssertUnwindSafe(|| Pin::new(&mut me).poll(&mut cx)))
                .expect_err("polling itself must panic");
            *m.borrow_mut() = payload.downcast_ref::<&str>().unwrap().to_string();
        });
        *slot.borrow_mut() = Some(task);
        asyncio::sleep(0).await;
        asyncio::sleep(0).await;
        seen.take()
    });
    assert!(message.contains("a task cannot await itself"), "{message}");
}

#[test]
fn an_unretrieved_panic_is_reported_once_on_stderr() {
    const NAME: &str = "an_unretrieved_panic_is_reported_once_on_stderr";
    if std::env::var_os("ASYNCIO_REPORT_CHILD").is_some() {
        asyncio::run(async {
            let _ = asyncio::create_task(async { panic!("nobody looked") });
            asyncio::sleep(0).await;
            asyncio::sleep(0).await;
        });
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env("ASYNCIO_REPORT_CHILD", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("Task exception was never retrieved").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("nobody looked"), "{stderr}");
}

#[test]
fn dropping_a_gather_before_it_returns_cancels_its_children() {
    let drops = Rc::new(Cell::new(0));
    struct Count(Rc<Cell<u32>>);
    impl Drop for Count {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    asyncio::Runner::virtual_time().run({
        let drops = drops.clone();
        async move {
            let child = |d: Rc<Cell<u32>>| async move {
                let _c = Count(d);
                asyncio::sleep(10).await;
            };
            let g = asyncio::gather([child(drops.clone()), child(drops.clone())]);
            let t = asyncio::gather!(child(drops.clone()), child(drops.clone()));
            asyncio::sleep(1).await; // children started and waiting
            assert_eq!(drops.get(), 0);
            drop(g);
            drop(t);
            asyncio::sleep(0).await; // cancellation lands at the next iteration
            assert_eq!(drops.get(), 4);
            assert!(asyncio::all_tasks().is_empty());
        }
    });
}

#[test]
fn a_gather_that_failed_fast_leaves_the_rest_running_when_dropped() {
    let finished = Rc::new(Cell::new(false));
    asyncio::Runner::virtual_time().run({
        let finished = finished.clone();
        async move {
            let slow = asyncio::create_task(async move {
                asyncio::sleep(2).await;
                finished.set(true);
            });
            let bad = asyncio::create_task(async { panic!("fail fast") });
            let g = asyncio::gather!(slow, bad);
            assert!(g.await.is_err());
            asyncio::sleep(3).await;
        }
    });
    assert!(finished.get());
}

// ----- gather and wait watch their tasks as a set; a task's lifetime ----------------------

async fn fail_after(delay: f64, message: &'static str) {
    asyncio::sleep(delay).await;
    panic!("{message}");
}

async fn after(delay: f64, value: u32) -> u32 {
    asyncio::sleep(delay).await;
    value
}

#[test]
fn a_gathers_first_failure_is_the_first_to_happen() {
    let lp = asyncio::EventLoop::builder().virtual_time().build();
    let err = lp
        .run_until_complete(asyncio::gather([
            fail_after(0.2, "late"),
            fail_after(0.1, "early"),
        ]))
        .unwrap()
        .unwrap_err();
    assert_eq!(err.panic_message(), Some("early"));
}

#[test]
fn a_task_waiting_on_itself_fails_clearly_instead_of_hanging() {
    let lp = asyncio::EventLoop::builder().virtual_time().build();
    let me: Rc<RefCell<Option<asyncio::Task<()>>>> = Rc::default();
    let slot = me.clone();
    let task = lp.create_task(async move {
        asyncio::sleep(0).await;
        let own = slot.borrow_mut().take().expect("the handle was stored");
        asyncio::wait([own]).await;
    });
    *me.borrow_mut() = Some(task);
    let seen = common::log::<String>();
    let log = seen.clone();
    lp.set_exception_handler(Some(move |c: &asyncio::ExceptionContext| {
        log.borrow_mut().push(c.panic.clone().unwrap_or_default());
    }));
    lp.run_until_complete(asyncio::sleep(1)).unwrap();
    // Nobody holds the task's handle but the task itself, so its failure is reported.
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].contains("cannot await itself"), "{seen:?}");
}

#[test]
fn a_wait_dropped_before_it_returned_wakes_nobody_when_its_tasks_finish() {
    let lp = asyncio::EventLoop::builder().virtual_time().build();
    let probe = common::Probe::new();
    lp.run_until_complete(async {
        let mut waiting = Box::pin(asyncio::wait([asyncio::create_task(asyncio::sleep(1))]));
        assert!(probe.poll(&mut waiting).is_pending());
        drop(waiting); // the task keeps running (dropping its handle does not cancel it)
        asyncio::sleep(2).await;
    })
    .unwrap();
    assert_eq!(probe.wakes(), 0);
}

#[test]
fn tasks_a_wait_left_pending_can_be_awaited_afterwards() {
    let lp = asyncio::EventLoop::builder().virtual_time().build();
    let total = lp
        .run_until_complete(async {
            let tasks: Vec<_> = (1..=3)
                .map(|i| asyncio::create_task(after(f64::from(i) / 100.0, i * 10)))
                .collect();
            let (done, pending) = asyncio::wait(tasks)
                .return_when(ReturnWhen::FirstCompleted)
                .await;
            assert_eq!((done.len(), pending.len()), (1, 2));
            let mut total = 0;
            for task in done.into_iter().chain(pending) {
                total += task.await.unwrap();
            }
            total
        })
        .unwrap();
    assert_eq!(total, 60);
}

#[test]
fn a_task_lives_until_its_last_reference_goes_and_is_dropped_once() {
    let lp = asyncio::EventLoop::new();
    let drops = common::Drops::default();
    let (guard, refs) = (drops.guard(), common::log::<asyncio::TaskRef>());
    let r = refs.clone();
    let task = lp.create_task(async move {
        r.borrow_mut()
            .push(asyncio::current_task().expect("inside a task"));
        guard // the output
    });
    lp.run_until_complete(asyncio::sleep(0)).unwrap(); // it ran; the loop let go of it
    assert!(task.done());
    let by_ref = refs
        .borrow_mut()
        .pop()
        .expect("the task stored its TaskRef");
    let again = by_ref.clone();
    drop(task);
    drop(by_ref);
    assert_eq!(drops.count(), 0, "a reference is left: the output lives");
    assert!(again.done());
    drop(again);
    assert_eq!(drops.count(), 1);
}

#[test]
fn a_handle_dropped_first_leaves_the_running_task_to_the_loop() {
    let lp = asyncio::EventLoop::builder().virtual_time().build();
    let drops = common::Drops::default();
    let guard = drops.guard();
    drop(lp.create_task(async move {
        asyncio::sleep(1).await;
        guard
    }));
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    assert_eq!(drops.count(), 0, "still running");
    lp.run_until_complete(asyncio::sleep(2)).unwrap();
    assert_eq!(
        drops.count(),
        1,
        "finished with nobody to take the output: dropped"
    );
}
