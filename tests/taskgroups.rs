//! TaskGroup: waiting for children, failing together, cancelling, on the virtual clock.

use std::cell::RefCell;
use std::rc::Rc;

use asyncio::TaskGroup;

mod common;
use common::*;

/// Sleeps `delay` seconds, holding `guard`, then returns `delay`.
async fn child(delay: f64, guard: Guard) -> f64 {
    let _guard = guard;
    asyncio::sleep(delay).await;
    delay
}

/// Sleeps `delay` seconds, then panics with `message`.
async fn failing(delay: f64, message: &'static str) {
    asyncio::sleep(delay).await;
    panic!("{message}");
}

#[test]
fn task_group_waits_for_all_children() {
    let finished = Rc::new(RefCell::new(Vec::new()));
    let (out, at) = asyncio::Runner::virtual_time().run({
        let finished = finished.clone();
        async move {
            let out = TaskGroup::run(|tg| async move {
                for delay in [3.0, 1.0, 2.0] {
                    let finished = finished.clone();
                    tg.create_task(async move {
                        asyncio::sleep(delay).await;
                        finished.borrow_mut().push(delay);
                    });
                }
                "body done"
            })
            .await;
            (out, now())
        }
    });
    assert_eq!(out.unwrap(), Some("body done"));
    assert_eq!(at, 3.0, "the group ends with its last child");
    assert_eq!(*finished.borrow(), [1.0, 2.0, 3.0]);
}

#[test]
fn task_group_children_can_start_children() {
    let at = asyncio::Runner::virtual_time().run(async {
        TaskGroup::run(|tg| async move {
            let inner = tg.clone();
            tg.create_task(async move {
                asyncio::sleep(1).await;
                inner.create_task(asyncio::sleep(4)); // ends at 5
            });
        })
        .await
        .unwrap();
        now()
    });
    assert_eq!(at, 5.0);
}

#[test]
fn task_group_cancels_siblings_on_first_failure() {
    let (siblings, body) = (Drops::default(), Drops::default());
    let (err, at) = asyncio::Runner::virtual_time().run({
        let (siblings, body) = (siblings.clone(), body.clone());
        async move {
            let out = TaskGroup::run(|tg| async move {
                let _body_guard = body.guard();
                tg.create_task(child(10.0, siblings.guard()));
                tg.create_task(child(20.0, siblings.guard()));
                tg.create_task(failing(1.0, "boom")).set_name("failing");
                asyncio::sleep(30).await;
                unreachable!("the body is cancelled at t = 1");
            })
            .await;
            (out.unwrap_err(), now())
        }
    });
    assert_eq!(siblings.count(), 2, "both siblings' destructors ran");
    assert_eq!(body.count(), 1, "the body's destructors ran");
    assert_eq!(at, 1.0, "nobody waited for the 10 s and 20 s children");
    assert_eq!(err.len(), 1);
    assert_eq!(err.exceptions()[0].task_name(), Some("failing"));
    assert_eq!(err.exceptions()[0].error().panic_message(), Some("boom"));
}

#[test]
fn task_group_reports_every_failure() {
    let sibling = Drops::default();
    let err = asyncio::Runner::virtual_time().run({
        let sibling = sibling.clone();
        async move {
            TaskGroup::run(|tg| async move {
                tg.create_task(failing(2.0, "first")).set_name("a");
                tg.create_task(failing(2.0, "second")).set_name("b");
                tg.create_task(child(5.0, sibling.guard()));
            })
            .await
            .unwrap_err()
        }
    });
    let failures: Vec<_> = err
        .exceptions()
        .iter()
        .map(|f| (f.task_name().unwrap(), f.error().panic_message().unwrap()))
        .collect();
    assert_eq!(failures, [("a", "first"), ("b", "second")]);
    assert_eq!(sibling.count(), 1);
    let text = err.to_string();
    assert!(text.starts_with("unhandled errors in a TaskGroup (2 sub-exceptions)"));
    assert!(text.contains("task 'a' panicked: first"));
    assert!(text.contains("task 'b' panicked: second"));
}

#[test]
fn a_failed_child_panic_is_in_the_group_and_in_its_handle() {
    asyncio::Runner::virtual_time().run(async {
        let handle = Rc::new(RefCell::new(None));
        let err = TaskGroup::run(|tg| {
            let handle = handle.clone();
            async move {
                *handle.borrow_mut() = Some(tg.create_task(async {
                    asyncio::sleep(1).await;
                    panic!("oops");
                }));
            }
        })
        .await
        .unwrap_err();
        // The group holds the original payload, to re-raise it...
        let payload = err.into_exceptions().remove(0).into_error().into_panic();
        assert_eq!(payload.ok().unwrap().downcast_ref::<&str>(), Some(&"oops"));
        // ...and the child's own handle still reports the panic, as t.result() would.
        let task = handle.borrow_mut().take().unwrap();
        assert_eq!(task.await.unwrap_err().panic_message(), Some("oops"));
    });
}

#[test]
fn a_panicking_body_cancels_the_children() {
    let children = Drops::default();
    let err = asyncio::Runner::virtual_time().run({
        let children = children.clone();
        async move {
            TaskGroup::run(|tg| async move {
                tg.create_task(child(10.0, children.guard()));
                asyncio::sleep(1).await;
                panic!("body failed");
            })
            .await
            .unwrap_err()
        }
    });
    assert_eq!(children.count(), 1);
    assert_eq!(err.exceptions()[0].task_name(), None);
    assert_eq!(
        err.exceptions()[0].error().panic_message(),
        Some("body failed")
    );
}

#[test]
fn cancelling_the_group_cancels_children() {
    let children = Drops::default();
    asyncio::Runner::virtual_time().run({
        let children = children.clone();
        async move {
            let (a, b) = (children.guard(), children.guard());
            let parent = asyncio::create_task(async move {
                TaskGroup::run(|tg| async move {
                    tg.create_task(child(10.0, a));
                    tg.create_task(child(20.0, b));
                    asyncio::sleep(30).await;
                })
                .await
            });
            asyncio::sleep(1).await;
            assert_eq!(asyncio::all_tasks().len(), 3);
            parent.cancel();
            assert!(parent.await.unwrap_err().is_cancelled());
            asyncio::sleep(0).await; // the children go at the iteration after the parent
            assert_eq!(children.count(), 2);
            assert!(asyncio::all_tasks().is_empty());
            assert_eq!(now(), 1.0);
        }
    });
}

#[test]
fn task_group_cancel_method_cancels_children_without_error() {
    let (children, body) = (Drops::default(), Drops::default());
    let (out, at) = asyncio::Runner::virtual_time().run({
        let (children, body) = (children.clone(), body.clone());
        async move {
            let out = TaskGroup::run(|tg| async move {
                let _body_guard = body.guard();
                tg.create_task(child(10.0, children.guard()));
                tg.create_task(child(20.0, children.guard()));
                let stopper = tg.clone();
                tg.create_task(async move {
                    asyncio::sleep(2).await;
                    stopper.cancel();
                });
                asyncio::sleep(30).await;
                "never"
            })
            .await;
            (out, now())
        }
    });
    assert_eq!(out.unwrap(), None, "no error, and no body output");
    assert_eq!(children.count(), 2);
    assert_eq!(body.count(), 1);
    assert_eq!(at, 2.0);
}

#[test]
fn cancel_after_the_body_finished_keeps_its_output() {
    let out = asyncio::Runner::virtual_time().run(async {
        TaskGroup::run(|tg| async move {
            tg.create_task(asyncio::sleep(10));
            let stopper = tg.clone();
            tg.create_task(async move {
                asyncio::sleep(1).await;
                stopper.cancel();
            });
            "body output"
        })
        .await
    });
    assert_eq!(out.unwrap(), Some("body output"));
}

#[test]
#[should_panic(expected = "the group has finished")]
fn create_task_on_a_finished_group_panics() {
    asyncio::run(async {
        let tg = TaskGroup::run(|tg| async move { tg })
            .await
            .unwrap()
            .unwrap();
        tg.create_task(async {});
    });
}

#[test]
fn task_group_works_with_eager_tasks() {
    let lp = asyncio::EventLoop::builder()
        .virtual_time()
        .eager_tasks()
        .build();
    let sibling = Drops::default();
    let err = lp
        .run_until_complete({
            let sibling = sibling.clone();
            async move {
                TaskGroup::run(|tg| async move {
                    let quick = tg.create_task(async { 1 }); // finished inside create_task
                    assert!(quick.done());
                    tg.create_task(child(10.0, sibling.guard()));
                    tg.create_task(async { panic!("at once") }); // fails inside create_task
                    asyncio::sleep(5).await;
                    unreachable!("the body is cancelled before it resumes");
                })
                .await
                .unwrap_err()
            }
        })
        .unwrap();
    assert_eq!(err.len(), 1);
    assert_eq!(sibling.count(), 1);
    assert_eq!(lp.time(), 0.0);
    lp.close().unwrap();
}

#[test]
fn a_failure_reported_by_the_group_is_not_reported_again_as_never_retrieved() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let lp = asyncio::EventLoop::builder().virtual_time().build();
    let reports: Rc<RefCell<Vec<String>>> = Rc::default();
    let r = reports.clone();
    lp.set_exception_handler(Some(move |ctx: &asyncio::ExceptionContext| {
        r.borrow_mut().push(ctx.message.clone())
    }));
    let eg = lp
        .run_until_complete(asyncio::TaskGroup::run(|tg| async move {
            drop(tg.create_task(async { panic!("reported once") }));
            asyncio::sleep(1).await;
        }))
        .unwrap()
        .unwrap_err();
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    assert_eq!(eg.len(), 1);
    assert!(reports.borrow().is_empty(), "{:?}", reports.borrow());
}
