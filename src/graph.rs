//! What is waiting on what: asyncio 3.14's `asyncio.graph` ([`capture_call_graph`],
//! [`print_call_graph`]) and the tree `python -m asyncio pstree` draws.
//!
//! A [`CallGraph`] lists every task of the running loop with its name and state, who awaits
//! it (another task, the main future, or nobody) and, for a sleeping task, when its timer is
//! due. Its `Display` draws one tree per root, each task under the one that awaits it:
//!
//! ```text
//! └── main (the future run_until_complete runs)
//!     └── (T) a [pending]
//!         └── (T) b [pending]
//!             └── (T) c [pending] sleeping until loop time 10.000
//! ```
//!
//! Rust futures have no frames to walk, so the graph shows tasks, not the coroutine stack
//! inside each (asyncio's "Call stack"). Nothing is recorded while tasks run: the graph is
//! read, when asked for, from the wakers the loop stores anyway (see
//! `src/runtime/graph.rs`). In debug mode the loop reports the same tree through its
//! exception handler when it looks stuck: tasks wait and nothing in the loop can wake them.

use std::fmt;

use crate::runtime::core::with_running;
use crate::runtime::graph::{self, Awaiter, Snapshot, State};

/// Every task of the running loop and who awaits whom: asyncio 3.14's
/// `asyncio.capture_call_graph()`, for the whole loop at once.
///
/// `Display` draws it as `python -m asyncio pstree` does; [`tasks`](CallGraph::tasks) gives
/// the same facts to a program.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let worker = asyncio::create_task_named("worker", asyncio::sleep(3600));
///     let graph = asyncio::capture_call_graph();
///     assert_eq!(graph.tasks().len(), 1);
///     assert_eq!(graph.tasks()[0].name(), "worker");
///     assert!(graph.to_string().contains("(T) worker [pending]"));
///     worker.cancel();
/// });
/// ```
#[derive(Debug, Clone, Default)]
pub struct CallGraph {
    snapshot: Snapshot,
    /// One node per task, in the order of `snapshot.tasks`.
    nodes: Vec<TaskNode>,
}

/// One task of a [`CallGraph`].
///
/// # Examples
///
/// ```
/// use asyncio::TaskState;
/// asyncio::run(async {
///     let t = asyncio::create_task(asyncio::sleep(1));
///     let graph = asyncio::capture_call_graph();
///     let node = &graph.tasks()[0];
///     assert_eq!(node.name(), t.get_name());
///     assert_eq!(node.state(), TaskState::Pending);
///     t.await.unwrap();
/// });
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TaskNode {
    name: String,
    state: TaskState,
    awaited_by: AwaitedBy,
    sleeping_until: Option<f64>,
}

/// A task's state in a [`CallGraph`]: asyncio's `repr(task)` states, and the task that is
/// running right now (the one that asked for the graph, say).
///
/// # Examples
///
/// ```
/// use asyncio::TaskState;
/// asyncio::run(async {
///     let me = asyncio::create_task(async {
///         let graph = asyncio::capture_call_graph();
///         graph.tasks().iter().map(|t| t.state()).collect::<Vec<_>>()
///     });
///     assert_eq!(me.await.unwrap(), [TaskState::Running]);
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskState {
    /// Waiting for something (or ready to run at the next iteration).
    Pending,
    /// [`Task::cancel`](crate::Task::cancel) was called; the loop has not carried it out yet.
    Cancelling,
    /// Being polled right now.
    Running,
}

/// Who awaits a task in a [`CallGraph`]: who holds the waker the task will wake when it
/// finishes.
///
/// # Examples
///
/// ```
/// use asyncio::AwaitedBy;
/// asyncio::run(async {
///     let idle = asyncio::create_task(asyncio::sleep(3600));
///     let graph = asyncio::capture_call_graph();
///     // Nobody has awaited `idle`'s handle. (Until the loop can read the waiter a task
///     // keeps, every task shows as Unknown here.)
///     let by = graph.tasks()[0].awaited_by();
///     assert!(by == AwaitedBy::Nobody || by == AwaitedBy::Unknown);
///     idle.cancel();
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AwaitedBy {
    /// Nobody awaits its handle.
    Nobody,
    /// The future given to [`run`](crate::run) or `run_until_complete` (asyncio's main task).
    Main,
    /// The task at this index of [`CallGraph::tasks`].
    Task(usize),
    /// Something else: a task not listed (the loop's own machinery), or a combinator or
    /// executor of another crate (`FuturesUnordered` wakes tasks through its own wakers).
    Other,
    /// The loop could not tell: the task is the one running right now.
    Unknown,
}

/// The call graph of the running loop: asyncio 3.14's `asyncio.capture_call_graph()`, for
/// every task at once (asyncio's takes one task and follows who awaits it).
///
/// Outside a running loop the graph is empty.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let child = asyncio::create_task_named("child", asyncio::sleep(1));
///     let graph = asyncio::capture_call_graph();
///     let names: Vec<&str> = graph.tasks().iter().map(|t| t.name()).collect();
///     assert_eq!(names, ["child"]);
///     child.await.unwrap();
/// });
/// assert!(asyncio::capture_call_graph().tasks().is_empty());
/// ```
pub fn capture_call_graph() -> CallGraph {
    with_running(|core| CallGraph::from_snapshot(graph::snapshot(core))).unwrap_or_default()
}

/// Prints the running loop's [`CallGraph`] on stdout: asyncio 3.14's
/// `asyncio.print_call_graph()` (and `python -m asyncio pstree`).
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let t = asyncio::create_task_named("downloader", asyncio::sleep(1));
///     asyncio::print_call_graph(); // └── (T) downloader [pending]
///     t.await.unwrap();
/// });
/// ```
pub fn print_call_graph() {
    print!("{}", capture_call_graph());
}

impl CallGraph {
    fn from_snapshot(snapshot: Snapshot) -> CallGraph {
        let index = |id| snapshot.tasks.iter().position(|t| t.id == id);
        let nodes = snapshot
            .tasks
            .iter()
            .map(|t| TaskNode {
                name: t.name.clone(),
                state: match t.state {
                    State::Pending => TaskState::Pending,
                    State::Cancelling => TaskState::Cancelling,
                    State::Running => TaskState::Running,
                },
                awaited_by: match t.awaiter {
                    Awaiter::Nobody => AwaitedBy::Nobody,
                    Awaiter::Main => AwaitedBy::Main,
                    Awaiter::Task(id) => index(id).map_or(AwaitedBy::Other, AwaitedBy::Task),
                    Awaiter::Foreign => AwaitedBy::Other,
                    Awaiter::Unknown => AwaitedBy::Unknown,
                },
                sleeping_until: t.sleeping_until,
            })
            .collect();
        CallGraph { snapshot, nodes }
    }

    /// Every live task of the loop (those [`all_tasks`](crate::all_tasks) lists), in the
    /// loop's order.
    pub fn tasks(&self) -> &[TaskNode] {
        &self.nodes
    }

    /// The indices of the tasks that the task at `index` awaits, in the loop's order.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let t = asyncio::create_task(asyncio::sleep(1));
    ///     let graph = asyncio::capture_call_graph();
    ///     assert_eq!(graph.awaited_by_task(0).count(), 0); // t awaits no task
    ///     t.await.unwrap();
    /// });
    /// ```
    pub fn awaited_by_task(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        self.nodes
            .iter()
            .enumerate()
            .filter(move |(_, n)| n.awaited_by == AwaitedBy::Task(index))
            .map(|(i, _)| i)
    }
}

impl fmt::Display for CallGraph {
    /// The tree of `python -m asyncio pstree`: the main future and every task nobody awaits
    /// at the roots, each task under the one that awaits it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        graph::render(&self.snapshot, f)
    }
}

impl TaskNode {
    /// The task's name ([`Task::get_name`](crate::Task::get_name)).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its state.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// Who awaits it.
    pub fn awaited_by(&self) -> AwaitedBy {
        self.awaited_by
    }

    /// The loop time (see [`EventLoop::time`](crate::EventLoop::time)) its timer is due, if
    /// it sleeps.
    pub fn sleeping_until(&self) -> Option<f64> {
        self.sleeping_until
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use crate::runtime::graph::stuck_message;

    /// The message the debug mode gives a stuck loop, asked for explicitly (the loop's owner
    /// wires the detection into the loop: see `stuck_message`).
    #[test]
    fn a_stuck_loop_is_explained_by_what_its_tasks_await() {
        let report = Rc::new(RefCell::new(String::new()));
        let lp = crate::EventLoop::builder().virtual_time().build();
        let out = report.clone();
        lp.run_until_complete(async move {
            let never = crate::Future::<()>::new();
            let waiter = never.clone();
            let t = crate::create_task_named("waits-forever", async move {
                let _ = waiter.await;
            });
            crate::sleep(0).await;
            // A callback runs outside every task, as the loop's own check would.
            let lp = crate::get_running_loop().unwrap();
            lp.call_soon(move || {
                let text = crate::runtime::core::with_running(stuck_message).unwrap();
                *out.borrow_mut() = text;
            });
            crate::sleep(0).await;
            t.cancel();
        })
        .unwrap();
        let report = report.borrow();
        assert!(
            report.starts_with(
                "the event loop looks stuck: 1 task waits and nothing in the loop can wake it \
                 (no task is ready, no timer is set, no socket is waited on)"
            ),
            "{report}"
        );
        assert!(
            report.ends_with("(T) waits-forever [pending]\n"),
            "{report}"
        );
    }
}
