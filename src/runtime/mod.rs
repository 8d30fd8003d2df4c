//! The private machinery of the event loop.
//!
//! ```text
//!  user future --spawn--> task (task/cell.rs) --id--> run queue (core.rs)
//!       ^                                               |
//!       |                                             poll (with a waker that is the id)
//!       +--------- waker (task/waker.rs) <--------------+
//!                     ^            ^
//!        timer fires  |            |  wake from another thread     | socket ready
//!  sleep --> wheel entry (time/)   remote inbox (remote.rs)    source (io/) <-- epoll
//!                                   + eventfd or unpark
//! ```
//!
//! Data flows one way: a future becomes a task, a task is polled from the run queue, a waker
//! puts it back. `task/` says what a task is, `core.rs` who runs it and when, `time/`, `io/`
//! and `remote.rs` what wakes it.
//!
//! This is the ground floor: nothing here imports the public modules (`events`, `tasks`,
//! `futures`, `streams`...). The runtime hands out its own types (a task cell, a source, an
//! [`report::ExceptionContext`]) and the public layer wraps them (`Task::from_cell`, the
//! streams' connections) or re-exports them. Only the plain error types of `exceptions` are
//! shared by both floors.

pub(crate) mod core;
pub(crate) mod graph;
pub(crate) mod io;
pub(crate) mod queue;
pub(crate) mod remote;
pub(crate) mod report;
pub(crate) mod small_fn;
pub(crate) mod task;
pub(crate) mod task_slab;
#[cfg(test)]
pub(crate) mod testing;
pub(crate) mod time;
