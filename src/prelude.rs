//! The asyncio names for a glob import: `use asyncio::prelude::*`, Python's
//! `from asyncio import *` without the names that would break Rust code.
//!
//! Python programs usually write `import asyncio` and then `asyncio.sleep(1)`; the same
//! style works here with no import at all (`asyncio::sleep(1)`, `asyncio::Lock::new()`).
//! For shorter code, import the prelude: it holds every public name of the crate except
//!
//! - [`Future`](crate::Future), asyncio's settable future: the name would hide the standard
//!   `Future` trait, which Rust 2024 imports everywhere and which `impl Future` and
//!   `F: Future` bounds mean. Write `asyncio::Future` for asyncio's (or import it under
//!   another name);
//! - the attributes [`main`](macro@crate::main) and [`test`](macro@crate::test): a glob
//!   import of `test` makes every plain `#[test]` in the module ambiguous. Write them as
//!   `#[asyncio::main]` and `#[asyncio::test]`.
//!
//! `use asyncio::*` imports both, which is why the prelude exists.
//!
//! # Examples
//!
//! ```
//! use asyncio::prelude::*;
//!
//! // `Future` is still std's trait:
//! fn answer_later(delay: f64) -> impl Future<Output = u32> {
//!     async move {
//!         sleep(delay).await;
//!         42
//!     }
//! }
//!
//! run(async {
//!     let lock = Lock::new();
//!     let task = create_task(answer_later(0.01));
//!     let (a, b) = gather!(task, answer_later(0.02)).await.unwrap();
//!     let _guard = lock.acquire().await;
//!     assert_eq!(a + b, 84);
//!
//!     // asyncio's own Future, by its path:
//!     let fut = asyncio::Future::new();
//!     fut.set_result("done").unwrap();
//!     assert_eq!(fut.await, Ok("done"));
//! });
//! ```

pub use crate::concurrent::{
    ConcurrentFuture, DEFAULT_KEEP_ALIVE, ExecutorBuilder, ThreadPoolExecutor, WrappedFuture,
    wrap_future,
};
pub use crate::cores::{MultiRunner, run_on_cores};
pub use crate::coroutines::{
    AsyncGenerator, CoState, Coroutine, CoroutineError, Generator, Yield, Yielder, async_gen,
};
pub use crate::events::{
    EventLoop, ExceptionContext, Handle, LoopBuilder, ThreadsafeHandle, TimerHandle,
    get_event_loop, get_running_loop, new_event_loop, set_event_loop,
};
pub use crate::exceptions::{
    CancelledError, InvalidStateError, RuntimeError, TaskError, TryGatherError,
};
/// The `gather` function and the `gather!` macro (mixed types), which share the name.
pub use crate::gather;
pub use crate::graph::{
    AwaitedBy, CallGraph, TaskNode, TaskState, capture_call_graph, print_call_graph,
};
pub use crate::locks::*;
pub use crate::protocols::{
    Buffered, BufferedProtocol, DatagramProtocol, Protocol, StreamProtocol,
};
pub use crate::queues::*;
pub use crate::runners::{Runner, run};
pub use crate::selector_events::{Fileno, Listener};
pub use crate::socket::{Family, Kind, Socket};
pub use crate::streams::{
    Address, ClientConnected, ExtraInfo, IncompleteReadError, LimitOverrunError, OpenConnection,
    OpenUnixConnection, Server, StartServer, StartUnixServer, StreamReader, StreamWriter,
    open_connection, open_unix_connection, start_server, start_server_on, start_unix_server,
};
pub use crate::subprocess::{
    CreateSubprocess, Process, create_subprocess_exec, create_subprocess_shell,
};
pub use crate::taskgroups::{ExceptionGroup, TaskFailure, TaskGroup, TaskGroupFuture};
pub use crate::tasks::{
    Awaitable, Delay, FromTaskError, Gather, GatherAll, ReturnWhen, SeparateTaskErrors, Sleep,
    Task, TaskFuture, TaskRef, TryGather, Wait, all_tasks, create_eager_task, create_task,
    create_task_named, current_task, ensure_future, sleep, try_gather, wait,
};
pub use crate::threads::{ToThread, to_thread};
pub use crate::timeouts::{
    AsCompleted, Cancellable, Shield, Timeout, TimeoutError, TimeoutFuture, WaitFor, as_completed,
    shield, timeout, timeout_at, wait_for,
};
pub use crate::transports::{
    CreateConnection, CreateDatagramEndpoint, CreateServer, CreateUnixConnection, CreateUnixServer,
    DatagramTransport, ProtocolRef, Transport,
};
pub use crate::unix_events::signal;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// Names (`Lock`, `run`...) and module globs (`locks::*`) of the `pub use` items of a
    /// source file, `crate::` left out.
    fn reexports(source: &str) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        let items = source.split("#[cfg(test)]").next().unwrap();
        for item in items.split("pub use ").skip(1) {
            let item = item.split(';').next().unwrap().replace("crate::", "");
            let (module, list) = match item.split_once('{') {
                Some((module, list)) => (module.to_owned(), list.trim_end_matches('}').to_owned()),
                None => match item.rsplit_once("::") {
                    Some((module, name)) => (format!("{module}::"), name.to_owned()),
                    None => (String::new(), item.clone()),
                },
            };
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                names.insert(if name == "*" {
                    format!("{module}*")
                } else {
                    name.to_owned()
                });
            }
        }
        names
    }

    #[test]
    fn the_prelude_has_every_public_name_but_those_that_shadow_std() {
        let crate_root = reexports(include_str!("lib.rs"));
        let prelude = reexports(include_str!("prelude.rs"));
        let left_out = ["Future", "main", "test", "__private"];
        let expected: BTreeSet<String> = crate_root
            .into_iter()
            .filter(|name| !left_out.contains(&name.as_str()))
            .collect();
        for sample in ["run", "create_task", "gather", "locks::*", "TimeoutError"] {
            assert!(expected.contains(sample), "{sample} in {expected:?}");
        }
        assert_eq!(
            prelude, expected,
            "src/prelude.rs must re-export what src/lib.rs does, except {left_out:?}"
        );
    }
}
