//! Ports of CPython's `Lib/test/test_asyncio/test_taskgroups.py` (3.13) to this crate's API.
//!
//! `async with TaskGroup() as g: body` is `TaskGroup::run(|g| async move { body }).await`;
//! a child that raises is a child that panics, or (with `create_try_task`) returns `Err`. Each
//! test names the CPython test it ports. What cannot be expressed here, and why:
//!
//! - `test_taskgroup_07`, `_15`, `_16`, `_17`, `_18`, `test_error_and_cancel`: the body or a
//!   child catches `CancelledError` and goes on (awaits more, raises something else); a Rust
//!   future is dropped when cancelled and cannot.
//! - `test_taskgroup_08`, `_11`, `_12`: the group's task is cancelled from outside and the
//!   children fail while being cancelled; asyncio then raises the children's errors out of the
//!   cancelled task. Here the cancelled task's group future is gone (dropped), so those failures
//!   are reported as "never retrieved" instead.
//! - The `cancelling()` asserts of `test_nested_groups_both_cancelled` and
//!   `test_cancelling_level_preserved`: the group never cancels its parent task (it drops the
//!   body), so the parent's `cancelling()` stays 0 throughout.
//! - `test_taskgroup_task_context` (contextvars), `test_exception_refcycles_*` (the gc),
//!   `test_taskgroup_already_entered` / `_double_enter` / `_not_entered` /
//!   `_without_parent_task` (a `TaskGroup` exists only inside `run`, entered once).
//! - `test_nested_groups_both_cancelled` itself differs in one point: the body is dropped when
//!   the outer group aborts, so it cannot catch the inner group's error (`except*`); the inner
//!   error is reported in the outer `ExceptionGroup` instead of being lost.

use std::cell::Cell;
use std::rc::Rc;

use asyncio::{Runner, TaskGroup};

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    Runner::virtual_time().run(f)
}

/// Counts its drops: the `except CancelledError: NUM += 1` of the CPython tests.
struct OnCancel(Rc<Cell<u32>>);

impl Drop for OnCancel {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

async fn sleep_then<T>(delay: f64, value: T) -> T {
    asyncio::sleep(delay).await;
    value
}

/// `test_taskgroups.py::test_taskgroup_01` and `_02`.
#[test]
fn test_taskgroup_01() {
    run(async {
        let (t1, t2) = TaskGroup::run(|g| async move {
            let t1 = g.create_task(sleep_then(0.1, 42));
            asyncio::sleep(0.15).await;
            let t2 = g.create_task(sleep_then(0.2, 11));
            (t1, t2)
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(t1.result().unwrap(), 42);
        assert_eq!(t2.result().unwrap(), 11);
    });
}

/// `test_taskgroups.py::test_taskgroup_03`: cancelling one child explicitly is not a failure.
#[test]
fn test_taskgroup_03() {
    run(async {
        let (t1, t2) = TaskGroup::run(|g| async move {
            let t1 = g.create_task(sleep_then(1.0, 42));
            asyncio::sleep(0.15).await;
            t1.cancel();
            let t2 = g.create_task(sleep_then(0.2, 11));
            (t1, t2)
        })
        .await
        .unwrap()
        .unwrap();
        assert!(t1.cancelled());
        assert_eq!(t2.result().unwrap(), 11);
    });
}

/// `test_taskgroups.py::test_taskgroup_04` and `test_cancel_children_on_child_error`: a
/// failing child cancels its siblings and the body, and the group fails with its error only.
#[test]
fn test_cancel_children_on_child_error() {
    run(async {
        let num = Rc::new(Cell::new(0));
        let cancelled = Rc::new(Cell::new(0));
        let (n, c) = (num.clone(), cancelled.clone());
        let eg = TaskGroup::run(|g| async move {
            for _ in 0..3 {
                g.create_task(async {
                    asyncio::sleep(0.1).await;
                    panic!("ZeroDivisionError");
                });
            }
            let (n2, c2) = (n.clone(), c.clone());
            g.create_task(async move {
                let _cancel = OnCancel(c2);
                asyncio::sleep(5).await;
                n2.set(n2.get() + 1);
            });
            let _cancel = OnCancel(c);
            asyncio::sleep(10).await;
            n.set(n.get() + 10);
        })
        .await
        .unwrap_err();
        assert!(
            eg.exceptions()
                .iter()
                .all(|f| f.error().panic_message() == Some("ZeroDivisionError"))
        );
        assert_eq!(eg.len(), 3);
        assert_eq!(num.get(), 0);
        assert_eq!(
            cancelled.get(),
            2,
            "the sibling and the body were cancelled"
        );
    });
}

/// `test_taskgroups.py::test_cancellation`: cancelling the task that runs the group cancels
/// every child.
#[test]
fn test_cancellation() {
    run(async {
        let num = Rc::new(Cell::new(0));
        let n = num.clone();
        let r = asyncio::create_task(async move {
            TaskGroup::run(|g| async move {
                for _ in 0..5 {
                    let n = n.clone();
                    g.create_task(async move {
                        let _cancel = OnCancel(n);
                        asyncio::sleep(5).await;
                    });
                }
            })
            .await
        });
        asyncio::sleep(0.1).await;
        assert!(!r.done());
        r.cancel();
        assert!(r.await.unwrap_err().is_cancelled());
        asyncio::sleep(0).await;
        assert_eq!(num.get(), 5);
    });
}

/// `test_taskgroups.py::test_taskgroup_09` and `_10`: the body failing cancels the children.
#[test]
fn test_taskgroup_09() {
    run(async {
        let tasks = Rc::new(Cell::new(None));
        let t = tasks.clone();
        let eg = TaskGroup::run(|g| async move {
            let t1 = asyncio::TaskRef::from(&g.create_task(sleep_then(1.0, 42)));
            let t2 = asyncio::TaskRef::from(&g.create_task(sleep_then(2.0, 11)));
            t.set(Some((t1, t2)));
            asyncio::sleep(0.1).await;
            panic!("ZeroDivisionError");
        })
        .await
        .unwrap_err();
        assert_eq!(eg.len(), 1);
        assert_eq!(eg.exceptions()[0].task_name(), None, "the body failed");
        let (t1, t2) = tasks.take().unwrap();
        assert!(t1.cancelled() && t2.cancelled());
    });
}

/// `test_taskgroups.py::test_taskgroup_13`: an outer child failing cancels the inner group.
#[test]
fn test_taskgroup_13() {
    run(async {
        let eg = TaskGroup::run(|g1| async move {
            g1.create_task(async {
                asyncio::sleep(0.1).await;
                panic!("ValueError(0.1)");
            });
            let _ = TaskGroup::run(|g2| async move {
                g2.create_task(async {
                    asyncio::sleep(10).await;
                    panic!("ValueError(10)");
                });
            })
            .await;
        })
        .await
        .unwrap_err();
        assert_eq!(eg.len(), 1);
        assert_eq!(
            eg.exceptions()[0].error().panic_message(),
            Some("ValueError(0.1)")
        );
        assert_eq!(asyncio::get_running_loop().unwrap().time(), 0.1);
    });
}

/// `test_taskgroups.py::test_taskgroup_14`: the inner group fails first; the body re-raises its
/// `ExceptionGroup`, which the outer group reports.
#[test]
fn test_taskgroup_14() {
    run(async {
        let eg = TaskGroup::run(|g1| async move {
            g1.create_task(async {
                asyncio::sleep(10).await;
                panic!("ValueError(10)");
            });
            let inner = TaskGroup::run(|g2| async move {
                g2.create_task(async {
                    asyncio::sleep(0.1).await;
                    panic!("ValueError(0.1)");
                });
            })
            .await;
            if let Err(inner) = inner {
                panic!("{inner}"); // `raise` the inner ExceptionGroup
            }
        })
        .await
        .unwrap_err();
        assert_eq!(eg.len(), 1);
        let msg = eg.exceptions()[0].error().panic_message().unwrap();
        assert!(msg.starts_with("unhandled errors in a TaskGroup"), "{msg}");
        assert!(msg.contains("ValueError(0.1)"), "{msg}");
    });
}

/// `test_taskgroups.py::test_taskgroup_19`: a failure in the body's cleanup while the group
/// cancels it is reported along with the child's.
#[test]
fn test_taskgroup_19() {
    struct RaiseInFinally;
    impl Drop for RaiseInFinally {
        fn drop(&mut self) {
            panic!("MyExc");
        }
    }
    run(async {
        let eg = TaskGroup::run(|g| async move {
            g.create_task(async {
                asyncio::sleep(0.1).await;
                panic!("ZeroDivisionError");
            });
            let _nested = RaiseInFinally;
            asyncio::sleep(10).await;
        })
        .await
        .unwrap_err();
        let mut messages: Vec<_> = eg
            .exceptions()
            .iter()
            .map(|f| f.error().panic_message().unwrap())
            .collect();
        messages.sort_unstable();
        assert_eq!(messages, ["MyExc", "ZeroDivisionError"]);
    });
}

/// A child that fails in its cleanup while the group cancels it is a failure of the group too
/// (`test_taskgroup_08`'s children, with the group still collecting).
#[test]
fn a_child_failing_while_being_cancelled_is_reported() {
    struct RaiseInFinally;
    impl Drop for RaiseInFinally {
        fn drop(&mut self) {
            panic!("cleanup failed");
        }
    }
    run(async {
        let eg = TaskGroup::run(|g| async move {
            g.create_task(async {
                let _f = RaiseInFinally;
                asyncio::sleep(10).await;
            });
            g.create_task(async {
                asyncio::sleep(0.1).await;
                panic!("first");
            });
        })
        .await
        .unwrap_err();
        let messages: Vec<_> = eg
            .exceptions()
            .iter()
            .map(|f| f.error().panic_message().unwrap())
            .collect();
        assert_eq!(messages, ["first", "cleanup failed"]);
    });
}

/// `test_taskgroups.py::test_taskgroup_22`.
#[test]
fn test_taskgroup_22() {
    run(async {
        let r = asyncio::create_task(async {
            TaskGroup::run(|g| async move {
                g.create_task(sleep_then(1.0, 42));
                g.create_task(sleep_then(2.0, 11));
            })
            .await
            .map(|_| ())
            .map_err(|_| ())
        });
        asyncio::sleep(0.05).await;
        r.cancel();
        assert!(r.await.unwrap_err().is_cancelled());
    });
}

/// `test_taskgroups.py::test_taskgroup_24`: a child starting more children.
#[test]
fn test_taskgroup_24() {
    run(async {
        TaskGroup::run(|g| async move {
            let g2 = g.clone();
            g.create_task(async move {
                asyncio::sleep(0.1).await;
                g2.create_task(asyncio::sleep(0.1));
                g2.create_task(asyncio::sleep(0.2));
            });
        })
        .await
        .unwrap();
        assert_eq!(asyncio::get_running_loop().unwrap().time(), 0.3);
    });
}

/// `test_taskgroups.py::test_taskgroup_25`.
#[test]
fn test_taskgroup_25() {
    async fn hydra(g: TaskGroup, n: Rc<Cell<u32>>) {
        n.set(n.get() + 1);
        asyncio::sleep(0.01).await;
        g.create_task(Box::pin(hydra(g.clone(), n.clone())));
        g.create_task(Box::pin(hydra(g.clone(), n.clone())));
    }
    run(async {
        let nhydras = Rc::new(Cell::new(0));
        let n = nhydras.clone();
        let eg = TaskGroup::run(|g| async move {
            g.create_task(hydra(g.clone(), n.clone()));
            g.create_task(async move {
                while n.get() < 10 {
                    asyncio::sleep(0.015).await;
                }
                panic!("ZeroDivisionError");
            });
        })
        .await
        .unwrap_err();
        assert!(
            eg.exceptions()
                .iter()
                .all(|f| f.error().panic_message() == Some("ZeroDivisionError"))
        );
        assert!(nhydras.get() >= 10);
    });
}

/// `test_taskgroups.py::test_taskgroup_task_name` and `test_name`.
#[test]
fn test_taskgroup_task_name() {
    run(async {
        let name = Rc::new(Cell::new(None));
        let n = name.clone();
        TaskGroup::run(|g| async move {
            let t = g.create_task_named("yolo", async move {
                n.set(Some(asyncio::current_task().unwrap().get_name()));
            });
            assert_eq!(t.get_name(), "yolo");
        })
        .await
        .unwrap();
        assert_eq!(name.take().as_deref(), Some("yolo"));
    });
}

/// `test_taskgroups.py::test_taskgroup_no_create_task_after_failure`: a child being cancelled
/// because a sibling failed cannot start a new child (asyncio: RuntimeError), and once the
/// group has finished nobody can.
#[test]
fn test_taskgroup_no_create_task_after_failure() {
    /// Tries to start a child from its destructor: the `except CancelledError` of `coro2`.
    struct TryToSpawn(TaskGroup, Rc<std::cell::RefCell<String>>);
    impl Drop for TryToSpawn {
        fn drop(&mut self) {
            let g = self.0.clone();
            let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                g.create_task(async {});
            }))
            .unwrap_err();
            let msg = refused.downcast_ref::<&str>().copied().unwrap_or_default();
            *self.1.borrow_mut() = msg.to_owned();
        }
    }
    run(async {
        let refusal = Rc::new(std::cell::RefCell::new(String::new()));
        let (r, slot) = (refusal.clone(), Rc::new(std::cell::RefCell::new(None)));
        let s = slot.clone();
        let eg = TaskGroup::run(|g| async move {
            *s.borrow_mut() = Some(g.clone());
            g.create_task(async {
                asyncio::sleep(0.001).await;
                panic!("ZeroDivisionError");
            });
            let g2 = g.clone();
            g.create_task(async move {
                let _spawn = TryToSpawn(g2, r);
                asyncio::sleep(1).await;
            });
        })
        .await
        .unwrap_err();
        assert_eq!(eg.len(), 1);
        assert!(
            refusal.borrow().contains("shutting down"),
            "{}",
            refusal.borrow()
        );
        let g = slot.borrow_mut().take().unwrap();
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            g.create_task(async {});
        }))
        .unwrap_err();
        let msg = err.downcast_ref::<&str>().copied().unwrap_or_default();
        assert!(msg.contains("has finished"), "{msg}");
    });
}

/// `test_taskgroups.py::test_nested_groups_both_cancelled`: an inner group's failure that lands
/// in the same iteration as an outer child's is not lost.
#[test]
fn test_nested_groups_both_cancelled() {
    run(async {
        let eg = TaskGroup::run(|outer| async move {
            let _ = TaskGroup::run(|inner| async move {
                inner.create_task_named("inner-child", async {
                    asyncio::sleep(0).await;
                    panic!("RuntimeError");
                });
                outer.create_task_named("outer-child", async {
                    asyncio::sleep(0).await;
                    panic!("ValueError");
                });
                asyncio::sleep(1).await;
            })
            .await;
        })
        .await
        .unwrap_err();
        let mut failures: Vec<_> = eg
            .exceptions()
            .iter()
            .map(|f| (f.task_name().unwrap(), f.error().panic_message().unwrap()))
            .collect();
        failures.sort_unstable();
        assert_eq!(
            failures,
            [
                ("inner-child", "RuntimeError"),
                ("outer-child", "ValueError")
            ]
        );
    });
}

/// `test_taskgroups.py::test_cancels_task_if_created_during_creation`, with `Err` as the
/// raised exception: a child that returns `Err` fails the group and cancels the sibling.
#[test]
fn test_cancels_task_if_created_during_creation() {
    #[derive(Debug)]
    struct MyError(&'static str);
    impl std::fmt::Display for MyError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for MyError {}

    run(async {
        let ran = Rc::new(Cell::new(false));
        let r = ran.clone();
        let eg = TaskGroup::run(|tg| async move {
            let tg2 = tg.clone();
            tg.create_task(async move {
                let _ran = OnCancel(Rc::new(Cell::new(0)));
                tg2.create_try_task(async { Err::<(), _>(MyError("third task failed")) });
                r.set(true);
                asyncio::sleep(0).await;
                asyncio::sleep(0).await;
                unreachable!("cancelled");
            });
        })
        .await
        .unwrap_err();
        assert!(ran.get());
        assert_eq!(eg.len(), 1);
        let err = eg.exceptions()[0].error();
        assert!(err.is_error());
        assert!(err.error().unwrap().downcast_ref::<MyError>().is_some());
        assert_eq!(
            eg.exceptions()[0].to_string().split(": ").last(),
            Some("third task failed")
        );
    });
}

/// A `create_try_task` child that succeeds gives its value; its handle of a failed one gives
/// an error-kind `TaskError` with the message.
#[test]
fn try_task_children_give_values_and_report_errors() {
    run(async {
        let handle = Rc::new(std::cell::RefCell::new(None));
        let h = handle.clone();
        let eg = TaskGroup::run(|tg| async move {
            let ok = tg.create_try_task(async { Ok::<_, String>(5) });
            assert_eq!(ok.await.unwrap(), 5);
            *h.borrow_mut() = Some(tg.create_try_task(async {
                asyncio::sleep(1).await;
                Err::<u8, _>("disk full".to_string())
            }));
            asyncio::sleep(3600).await;
        })
        .await
        .unwrap_err();
        assert_eq!(eg.len(), 1);
        assert_eq!(
            eg.exceptions()[0].error().error_message(),
            Some("disk full")
        );
        let failed = handle.borrow_mut().take().unwrap();
        let err = failed.await.unwrap_err();
        assert!(err.is_error() && !err.is_panic());
        assert_eq!(err.error_message(), Some("disk full"));
        assert_eq!(err.to_string(), "the task failed: disk full");
    });
}
