//! Who awaits whom, read on demand: the facts behind `asyncio::capture_call_graph` (asyncio
//! 3.14's `asyncio.graph`) and behind the debug-mode report of a loop that is stuck.
//!
//! Nothing is recorded when a task awaits something. The facts are already stored:
//!
//! ```text
//!   task b's cell, Running stage: waiter = waker of a   -->  "a awaits b"
//!        (a waker of this crate IS a task id: see waker.rs; MAIN_INDEX is run_until_complete's future)
//!   wheel entry: (deadline, waker of c)                 -->  "c sleeps until <deadline>"
//! ```
//!
//! [`snapshot`] walks the loop's tasks once and decodes those wakers; [`render`] draws the
//! tree that `python -m asyncio pstree` draws, from the roots (what nobody awaits, and what
//! the main future awaits) down the await chains. Reading costs one walk over the tasks and
//! the timers, and only when a graph is asked for.
//!
//! The two reads come from where the facts live: `Runnable::awaiter` (the waiter stored in a
//! task's cell) and `Core::timer_waits` (the pending deadlines of the wheel).

use std::fmt;
use std::task::Waker;

use super::core::Core;
use super::task::cell::Runnable;
use super::task::id::{MAIN_INDEX, TaskId};
use super::task::waker::task_of;

/// Every task of one loop, at one moment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Snapshot {
    /// In the loop's order (slab order: creation order, until slots are reused).
    pub(crate) tasks: Vec<TaskFacts>,
}

/// One task, as the loop sees it.
#[derive(Debug, Clone)]
pub(crate) struct TaskFacts {
    pub(crate) id: TaskId,
    pub(crate) name: String,
    pub(crate) state: State,
    pub(crate) awaiter: Awaiter,
    /// Loop time its timer is due, if it sleeps.
    pub(crate) sleeping_until: Option<f64>,
}

/// What asyncio's `repr(task)` shows first, plus "running" for the task being polled now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Pending,
    Cancelling,
    Running,
}

/// Who holds the waker a task will wake when it finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Awaiter {
    /// Nobody awaits its handle (yet).
    Nobody,
    /// The future given to `run_until_complete` (asyncio's main task).
    Main,
    /// Another task of the loop.
    Task(TaskId),
    /// A waker this crate did not make: a combinator or executor of another crate
    /// (`FuturesUnordered`, a `select!` inside a task keeps the task's own waker, so it is not
    /// one of these).
    Foreign,
    /// Not known: the task is being polled right now, so its cell cannot be read.
    Unknown,
}

/// Who `waker` wakes, for a task of loop `loop_id`.
pub(crate) fn classify(waker: &Waker, loop_id: usize) -> Awaiter {
    let Some(id) = task_of(waker) else {
        return Awaiter::Foreign;
    };
    match id.index() {
        _ if id.loop_id() != loop_id => Awaiter::Foreign,
        MAIN_INDEX => Awaiter::Main,
        _ => Awaiter::Task(id),
    }
}

/// Who awaits `task`'s handle.
fn awaiter_of(task: &dyn Runnable) -> Awaiter {
    // `None`: the task is being polled right now (the one asking for the graph): unreadable.
    task.awaiter().unwrap_or(Awaiter::Unknown)
}

/// When each sleeping task's timer is due.
fn timer_waits(core: &Core) -> Vec<(TaskId, f64)> {
    core.timer_waits()
}

/// Every live task of `core` (those `all_tasks()` lists) with what the loop knows of it.
pub(crate) fn snapshot(core: &Core) -> Snapshot {
    let current = core.current_task().map(|t| t.header().id());
    let timers = timer_waits(core);
    let tasks = core
        .all_tasks()
        .iter()
        .map(|task| {
            let header = task.header();
            let id = header.id();
            let state = if Some(id) == current {
                State::Running
            } else if header.cancelling() > 0 {
                State::Cancelling
            } else {
                State::Pending
            };
            // The earliest of its timers: a task waits on one at a time, except inside
            // combinators (a select! of two sleeps), where the first to fire wakes it.
            let sleeping_until = timers
                .iter()
                .filter(|(t, _)| *t == id)
                .map(|&(_, when)| when)
                .reduce(f64::min);
            TaskFacts {
                id,
                name: header.name(),
                state,
                awaiter: awaiter_of(&**task),
                sleeping_until,
            }
        })
        .collect();
    Snapshot { tasks }
}

impl Snapshot {
    /// The tasks `parent` awaits (`None`: the main future), in the snapshot's order.
    fn awaited_by(&self, parent: Option<TaskId>) -> impl Iterator<Item = usize> + '_ {
        let wanted = parent.map_or(Awaiter::Main, Awaiter::Task);
        (0..self.tasks.len()).filter(move |&i| self.tasks[i].awaiter == wanted)
    }

    /// True if `awaiter` is a task of this snapshot.
    fn has(&self, awaiter: Awaiter) -> bool {
        match awaiter {
            Awaiter::Task(id) => self.tasks.iter().any(|t| t.id == id),
            _ => false,
        }
    }
}

/// Draws the snapshot as `python -m asyncio pstree` does: one tree per root, each task under
/// the task that awaits it.
///
/// ```text
/// └── main (the future run_until_complete runs)
///     └── (T) a [pending]
///         └── (T) b [pending]
///             └── (T) c [pending] sleeping until loop time 10.000
/// ```
pub(crate) fn render(snapshot: &Snapshot, f: &mut impl fmt::Write) -> fmt::Result {
    if snapshot.tasks.is_empty() {
        return f.write_str("no tasks\n");
    }
    let mut drawn = vec![false; snapshot.tasks.len()];
    let mut roots: Vec<Root> = Vec::new();
    if snapshot.awaited_by(None).next().is_some() {
        roots.push(Root::Main);
    }
    for (i, task) in snapshot.tasks.iter().enumerate() {
        let root = match task.awaiter {
            Awaiter::Main => false,
            Awaiter::Task(_) => !snapshot.has(task.awaiter),
            Awaiter::Nobody | Awaiter::Foreign | Awaiter::Unknown => true,
        };
        if root {
            roots.push(Root::Task(i));
        }
    }
    let count = roots.len();
    for (k, root) in roots.into_iter().enumerate() {
        let last = k + 1 == count;
        match root {
            Root::Main => {
                writeln!(
                    f,
                    "{}main (the future run_until_complete runs)",
                    branch(last)
                )?;
                let prefix = indent("", last);
                draw_children(snapshot, None, &prefix, &mut drawn, f)?;
            }
            Root::Task(i) => draw_task(snapshot, i, "", last, &mut drawn, f)?,
        }
    }
    // What is left awaits in a circle (a awaits b, b awaits a): no root leads to it.
    for i in 0..snapshot.tasks.len() {
        if !drawn[i] {
            writeln!(
                f,
                "(a cycle: these tasks await each other, none can finish)"
            )?;
            draw_task(snapshot, i, "", true, &mut drawn, f)?;
        }
    }
    Ok(())
}

enum Root {
    Main,
    Task(usize),
}

fn branch(last: bool) -> &'static str {
    if last { "└── " } else { "├── " }
}

fn indent(prefix: &str, last: bool) -> String {
    format!("{prefix}{}", if last { "    " } else { "│   " })
}

fn draw_task(
    snapshot: &Snapshot,
    i: usize,
    prefix: &str,
    last: bool,
    drawn: &mut [bool],
    f: &mut impl fmt::Write,
) -> fmt::Result {
    let task = &snapshot.tasks[i];
    write!(
        f,
        "{prefix}{}(T) {} [{}]",
        branch(last),
        task.name,
        task.state.name()
    )?;
    if drawn[i] {
        // Reached again down its own chain: a cycle.
        return writeln!(
            f,
            " (awaits a task above it: a cycle, none of them can finish)"
        );
    }
    drawn[i] = true;
    if let Some(when) = task.sleeping_until {
        write!(f, " sleeping until loop time {when:.3}")?;
    }
    match task.awaiter {
        Awaiter::Foreign => f.write_str(" (awaited through another crate's waker)")?,
        Awaiter::Task(_) if prefix.is_empty() && !snapshot.has(task.awaiter) => {
            f.write_str(" (awaited by a task of the loop's own machinery)")?;
        }
        _ => {}
    }
    f.write_char('\n')?;
    let prefix = indent(prefix, last);
    draw_children(snapshot, Some(task.id), &prefix, drawn, f)
}

fn draw_children(
    snapshot: &Snapshot,
    parent: Option<TaskId>,
    prefix: &str,
    drawn: &mut [bool],
    f: &mut impl fmt::Write,
) -> fmt::Result {
    let children: Vec<usize> = snapshot.awaited_by(parent).collect();
    let count = children.len();
    for (k, child) in children.into_iter().enumerate() {
        draw_task(snapshot, child, prefix, k + 1 == count, drawn, f)?;
    }
    Ok(())
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Cancelling => "cancelling",
            State::Running => "running",
        }
    }
}

/// The message the debug mode reports, once, when the loop looks stuck: tasks wait, and
/// nothing in the loop can wake them (no task is ready, no timer is set, no socket is waited
/// on); only another thread could.
///
/// Debug mode reports it (`Core::report_if_stuck`) when the loop is about to block with
/// nothing that could wake it from inside: no ready task, no timer, no socket waited on.
pub(crate) fn stuck_message(core: &Core) -> String {
    let snapshot = snapshot(core);
    let mut text = format!(
        "the event loop looks stuck: {} task{} wait{} and nothing in the loop can wake {} (no \
         task is ready, no timer is set, no socket is waited on); unless another thread wakes \
         it, a task awaits a Future nobody will set, or a lock or queue nobody will release or \
         fill. What each task awaits:\n",
        snapshot.tasks.len(),
        if snapshot.tasks.len() == 1 { "" } else { "s" },
        if snapshot.tasks.len() == 1 { "s" } else { "" },
        if snapshot.tasks.len() == 1 {
            "it"
        } else {
            "them"
        },
    );
    // Writing to a String cannot fail.
    let _ = render(&snapshot, &mut text);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(index: usize, name: &str, awaiter: Awaiter) -> TaskFacts {
        TaskFacts {
            id: TaskId::new(0, 0, index),
            name: name.to_owned(),
            state: State::Pending,
            awaiter,
            sleeping_until: None,
        }
    }

    fn id(index: usize) -> Awaiter {
        Awaiter::Task(TaskId::new(0, 0, index))
    }

    fn drawn(snapshot: &Snapshot) -> String {
        let mut out = String::new();
        render(snapshot, &mut out).unwrap();
        out
    }

    #[test]
    fn a_three_level_await_chain_draws_as_one_branch_under_main() {
        let mut c = task(3, "c", id(2));
        c.sleeping_until = Some(10.0);
        let snapshot = Snapshot {
            tasks: vec![task(1, "a", Awaiter::Main), task(2, "b", id(1)), c],
        };
        assert_eq!(
            drawn(&snapshot),
            "└── main (the future run_until_complete runs)\n\
             \x20   └── (T) a [pending]\n\
             \x20       └── (T) b [pending]\n\
             \x20           └── (T) c [pending] sleeping until loop time 10.000\n"
        );
    }

    #[test]
    fn siblings_roots_foreign_wakers_and_cycles_are_all_drawn() {
        let mut busy = task(6, "busy", Awaiter::Nobody);
        busy.state = State::Running;
        let snapshot = Snapshot {
            tasks: vec![
                task(1, "gather", Awaiter::Nobody),
                task(2, "child-1", id(1)),
                task(3, "child-2", id(1)),
                task(4, "in-a-stream", Awaiter::Foreign),
                task(5, "loop-a", id(7)),
                busy,
                task(7, "loop-b", id(5)),
            ],
        };
        assert_eq!(
            drawn(&snapshot),
            "├── (T) gather [pending]\n\
             │   ├── (T) child-1 [pending]\n\
             │   └── (T) child-2 [pending]\n\
             ├── (T) in-a-stream [pending] (awaited through another crate's waker)\n\
             └── (T) busy [running]\n\
             (a cycle: these tasks await each other, none can finish)\n\
             └── (T) loop-a [pending]\n\
             \x20   └── (T) loop-b [pending]\n\
             \x20       └── (T) loop-a [pending] (awaits a task above it: a cycle, none of them can finish)\n"
        );
    }

    #[test]
    fn a_waker_decodes_to_its_task_the_main_future_or_nothing_of_ours() {
        use super::super::task::waker::waker;
        let a = TaskId::new(3, 1, 42);
        assert_eq!(classify(&waker(a), 3), Awaiter::Task(a));
        assert_eq!(
            classify(&waker(TaskId::new(3, 5, MAIN_INDEX)), 3),
            Awaiter::Main
        );
        assert_eq!(
            classify(&waker(a), 4),
            Awaiter::Foreign,
            "another loop's task"
        );
        assert_eq!(classify(Waker::noop(), 3), Awaiter::Foreign);
    }
}
