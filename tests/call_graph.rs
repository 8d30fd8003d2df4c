//! The call graph (`capture_call_graph`, `print_call_graph`): every task with its name and
//! state, and who awaits whom.

use std::cell::RefCell;
use std::rc::Rc;

use asyncio::{AwaitedBy, TaskState};

#[test]
fn every_task_is_listed_with_its_name_and_state() {
    asyncio::Runner::virtual_time().run(async {
        let sleeper = asyncio::create_task_named("sleeper", asyncio::sleep(10));
        let doomed = asyncio::create_task_named("doomed", asyncio::sleep(10));
        asyncio::sleep(0).await;
        // Queued before the cancellation is carried out, so it sees `doomed` cancelling.
        let observer =
            asyncio::create_task_named("observer", async { asyncio::capture_call_graph() });
        doomed.cancel();
        let graph = observer.await.unwrap();
        let seen: Vec<(&str, TaskState)> = graph
            .tasks()
            .iter()
            .map(|t| (t.name(), t.state()))
            .collect();
        assert_eq!(
            seen,
            [
                ("sleeper", TaskState::Pending),
                ("doomed", TaskState::Cancelling),
                ("observer", TaskState::Running),
            ]
        );
        let text = graph.to_string();
        for line in [
            "(T) sleeper [pending]",
            "(T) doomed [cancelling]",
            "(T) observer [running]",
        ] {
            assert!(text.contains(line), "{line:?} not in\n{text}");
        }
        assert_eq!(text.lines().count(), 3, "one line per task:\n{text}");
        sleeper.cancel();
    });
}

#[test]
fn outside_a_running_loop_the_graph_is_empty() {
    let graph = asyncio::capture_call_graph();
    assert!(graph.tasks().is_empty());
    assert_eq!(graph.to_string(), "no tasks\n");
}

/// main awaits a, a awaits b, b awaits c, c sleeps: the graph, captured by a callback (which
/// runs outside every task) at t = 1, is one branch.
#[test]
fn a_three_level_await_chain_prints_as_a_tree() {
    let text = Rc::new(RefCell::new(String::new()));
    let out = text.clone();
    let graph = asyncio::Runner::virtual_time().run(async move {
        let lp = asyncio::get_running_loop().unwrap();
        let captured = Rc::new(RefCell::new(None));
        let keep = captured.clone();
        lp.call_later(1.0, move || {
            let graph = asyncio::capture_call_graph();
            *out.borrow_mut() = graph.to_string();
            *keep.borrow_mut() = Some(graph);
        });
        let a = asyncio::create_task_named("a", async {
            let b = asyncio::create_task_named("b", async {
                let c = asyncio::create_task_named("c", asyncio::sleep(10));
                c.await.unwrap();
            });
            b.await.unwrap();
        });
        a.await.unwrap();
        captured.take().expect("the callback ran at t = 1")
    });
    assert_eq!(
        *text.borrow(),
        "└── main (the future run_until_complete runs)\n\
         \x20   └── (T) a [pending]\n\
         \x20       └── (T) b [pending]\n\
         \x20           └── (T) c [pending] sleeping until loop time 10.000\n"
    );
    let by: Vec<AwaitedBy> = graph.tasks().iter().map(|t| t.awaited_by()).collect();
    assert_eq!(
        by,
        [AwaitedBy::Main, AwaitedBy::Task(0), AwaitedBy::Task(1)]
    );
    assert_eq!(graph.awaited_by_task(0).collect::<Vec<_>>(), [1]);
    assert_eq!(graph.tasks()[2].sleeping_until(), Some(10.0));
}

#[test]
fn debug_mode_reports_a_stuck_loop_with_its_call_graph() {
    // A task awaits a Future nobody sets; main awaits the task: nothing in the loop can
    // wake either. The loop reports it once; another thread then ends the wait.
    let lp = asyncio::EventLoop::builder().debug(true).build();
    let seen = Rc::new(RefCell::new(Vec::<String>::new()));
    let s = seen.clone();
    // The other thread stops the loop once the report is out (or after 10 s, so that a loop
    // that never reports still ends): a fixed delay raced the loop's start under valgrind.
    let (reported, wait_for_report) = std::sync::mpsc::channel::<()>();
    lp.set_exception_handler(Some(move |ctx: &asyncio::ExceptionContext| {
        s.borrow_mut().push(ctx.message.clone());
        let _ = reported.send(());
    }));
    let handle = lp.threadsafe_handle();
    std::thread::spawn(move || {
        let _ = wait_for_report.recv_timeout(std::time::Duration::from_secs(10));
        std::thread::sleep(std::time::Duration::from_millis(50)); // a second report would show
        handle.stop();
    });
    let result = lp.run_until_complete(async {
        let never = asyncio::Future::<u8>::new();
        let waiter = asyncio::create_task_named("waiter", never);
        waiter.await
    });
    assert!(result.is_err(), "stopped from the other thread");
    let seen = seen.borrow();
    let stuck: Vec<_> = seen.iter().filter(|m| m.contains("looks stuck")).collect();
    assert_eq!(stuck.len(), 1, "{seen:?}");
    assert!(stuck[0].contains("waiter"), "{}", stuck[0]);
}
