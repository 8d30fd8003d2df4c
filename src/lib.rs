//! Python's asyncio, for Rust: a small, fast, single-threaded event loop with asyncio's names
//! and semantics.
//!
//! If you know `asyncio`, you know this crate: [`run`] a main coroutine, [`create_task`] to
//! run things concurrently, [`sleep`], [`gather`](fn@gather), [`wait`], a settable [`Future`], and an
//! [`EventLoop`] with `run_until_complete`, `run_forever`, `stop` and `close`.
//!
//! # A task queue, a run loop, and time
//!
//! [`run`] makes an event loop and runs your main future on it. [`create_task`] puts another
//! future on the loop's run queue; it starts at the next iteration, whether or not you await
//! its handle:
//!
//! ```
//! asyncio::run(async {
//!     let task = asyncio::create_task(async { "hello from a task" });
//!     println!("{}", task.await.unwrap());
//! });
//! ```
//!
//! With the `macros` feature (on by default), [`#[asyncio::main]`](macro@main) writes that
//! `run` for you, and [`#[asyncio::test]`](macro@test) does the same for a test (add
//! `virtual_time` for a test on a virtual clock):
//!
//! ```
//! #[asyncio::main]
//! async fn main() -> Result<(), asyncio::TaskError> {
//!     let task = asyncio::create_task(async { "hello from a task" });
//!     println!("{}", task.await?);
//!     Ok(())
//! }
//! ```
//!
//! Each iteration polls exactly the tasks that were ready when it began; anything woken
//! meanwhile runs in the next one. So [`sleep`]`(0)` lets every other ready task run once:
//!
//! ```
//! use std::{cell::RefCell, rc::Rc};
//! asyncio::run(async {
//!     let log = Rc::new(RefCell::new(Vec::new()));
//!     let mut tasks = Vec::new();
//!     for name in ["a", "b"] {
//!         let log = log.clone();
//!         tasks.push(asyncio::create_task(async move {
//!             for i in 0..2 {
//!                 log.borrow_mut().push(format!("{name}{i}"));
//!                 asyncio::sleep(0).await;
//!             }
//!         }));
//!     }
//!     asyncio::wait(tasks).await;
//!     assert_eq!(*log.borrow(), ["a0", "b0", "a1", "b1"]);
//! });
//! ```
//!
//! When nothing is ready, the loop sleeps until the next timer. Two coroutines sleeping
//! concurrently take as long as the longer one, not the sum; on a virtual clock (for tests)
//! they take no real time at all and the times are exact:
//!
//! ```
//! async fn say_after(delay: f64, what: &'static str) -> &'static str {
//!     asyncio::sleep(delay).await;
//!     what
//! }
//!
//! let runner = asyncio::Runner::virtual_time();
//! let (words, elapsed) = runner.run(async {
//!     let lp = asyncio::get_running_loop().unwrap();
//!     let start = lp.time();
//!     let words = asyncio::gather!(say_after(1.0, "hello"), say_after(4.0, "world"))
//!         .await
//!         .unwrap();
//!     (words, lp.time() - start)
//! });
//! assert_eq!(words, ("hello", "world"));
//! assert_eq!(elapsed, 4.0); // 4 s, not 5 s
//! ```
//!
//! # Importing
//!
//! Like Python's `import asyncio`, the crate needs no `use`: write the paths, as the
//! examples here do (`asyncio::run`, `asyncio::sleep(1)`, `asyncio::Lock::new()`). For
//! shorter code, `use asyncio::prelude::*` imports every name except asyncio's [`Future`]
//! and the `main` and `test` attributes, which would hide std's `Future` trait and make
//! `#[test]` ambiguous (see [`prelude`]):
//!
//! ```
//! use asyncio::prelude::*;
//!
//! fn later(x: u32) -> impl Future<Output = u32> {
//!     async move {
//!         sleep(0.01).await;
//!         x
//!     }
//! }
//!
//! assert_eq!(run(async { create_task(later(7)).await.unwrap() }), 7);
//! ```
//!
//! `use asyncio::*` (Python's `from asyncio import *`) imports those three as well: prefer
//! the prelude.
//!
//! # asyncio names, Rust types
//!
//! | asyncio | here |
//! |---|---|
//! | `asyncio.run(main())` | [`run`]`(main)`, or [`#[asyncio::main]`](macro@main) on an `async fn main` |
//! | `asyncio.Runner()` | [`Runner`] |
//! | `asyncio.new_event_loop()`, `get_event_loop()`, `set_event_loop()` | [`new_event_loop`], [`get_event_loop`], [`set_event_loop`] |
//! | `asyncio.get_running_loop()` | [`get_running_loop`] (a `Result`) |
//! | `loop.run_until_complete`, `run_forever`, `stop`, `close`, `time`, `call_soon` | methods of [`EventLoop`] |
//! | `asyncio.create_task`, `ensure_future`, `loop.create_task` | [`create_task`], [`ensure_future`], [`EventLoop::create_task`] |
//! | `create_task(coro, name=...)` | [`create_task_named`], [`TaskGroup::create_task_named`] |
//! | `await task` | `task.await` gives `Result<T, `[`TaskError`]`>` |
//! | `task.result()` | [`Task::result`]: one `Result<T, TaskError>` ([`TaskError::is_not_done`] while it runs) |
//! | `asyncio.Future()`, `loop.create_future()` | [`Future`], [`EventLoop::create_future`] |
//! | `fut.set_exception(e)`, `fut.exception()` | [`Future::set_exception`], [`Future::exception`] on a `Future<Result<T, E>>` |
//! | `asyncio.sleep(delay)` | [`sleep`] (seconds as a number, or a `Duration`) |
//! | `asyncio.gather(*aws)` | [`gather`](fn@gather) (same types), [`gather!`] (mixed types), [`try_gather`] (stop at the first `Err`; any error type with [`TryGather::separate_task_errors`]) |
//! | `gather(..., return_exceptions=True)` | [`Gather::return_exceptions`] |
//! | `asyncio.wait(tasks, timeout, return_when)` | [`wait`] with [`Wait::timeout`], [`Wait::return_when`] |
//! | `task.cancel()`, `current_task()`, `all_tasks()` | [`Task::cancel`], [`current_task`], [`all_tasks`] |
//! | `asyncio.capture_call_graph()`, `print_call_graph()` (3.14), `python -m asyncio pstree` | [`capture_call_graph`] (a [`CallGraph`] of every task), [`print_call_graph`] |
//! | `task.cancel(msg)`, `cancelling()`, `uncancel()` | [`Task::cancel_with_msg`], [`Task::cancelling`], [`Task::uncancel`] |
//! | eager tasks (3.12) | [`create_eager_task`], [`LoopBuilder::eager_tasks`] |
//! | `loop.call_later`, `call_at`, `call_soon_threadsafe`, `run_coroutine_threadsafe` | [`EventLoop::call_later`], [`EventLoop::call_at`], [`ThreadsafeHandle`] |
//! | `asyncio.to_thread(func)`, `loop.run_in_executor(None, func)` | [`to_thread`], [`EventLoop::run_in_executor`] (a panic in `func` is an `Err`) |
//! | `loop.set_default_executor`, `shutdown_default_executor` | [`EventLoop::set_default_executor`], [`EventLoop::shutdown_default_executor`] (awaited by [`run`]) |
//! | `concurrent.futures.Future`, `ThreadPoolExecutor`, `asyncio.wrap_future` | [`ConcurrentFuture`], [`ThreadPoolExecutor`], [`wrap_future`] |
//! | `loop.getaddrinfo(host, port)`, `loop.getnameinfo(sockaddr, flags)` | [`EventLoop::getaddrinfo`], [`EventLoop::getnameinfo`] |
//! | `loop.set_exception_handler`, debug mode | [`EventLoop::set_exception_handler`], [`LoopBuilder::debug`] (or `ASYNCIO_DEBUG=1`) |
//! | `loop.add_reader`, `remove_reader`, `add_writer`, `remove_writer` | [`EventLoop::add_reader`], [`EventLoop::remove_reader`], [`EventLoop::add_writer`], [`EventLoop::remove_writer`] |
//! | `loop.sock_recv`, `sock_recv_into`, `sock_sendall`, `sock_connect`, `sock_accept`, `sock_recvfrom`, `sock_sendto` | [`EventLoop::sock_recv`], [`EventLoop::sock_recv_into`], [`EventLoop::sock_sendall`], [`EventLoop::sock_connect`], [`EventLoop::sock_accept`], [`EventLoop::sock_recvfrom`], [`EventLoop::sock_sendto`] |
//! | `socket.socket(family, type)` | [`Socket`] with [`Family`] and [`Kind`] (non-blocking) |
//! | `asyncio.wait_for`, `timeout`, `timeout_at`, `shield`, `as_completed` | [`wait_for`], [`timeout()`], [`timeout_at`], [`shield`], [`as_completed`] |
//! | `asyncio.TaskGroup` | [`TaskGroup`], failures in an [`ExceptionGroup`]; a child that raises: [`TaskGroup::create_try_task`] |
//! | `asyncio.Lock`, `Event`, `Condition`, `Semaphore`, `BoundedSemaphore`, `Barrier` | [`Lock`], [`Event`], [`Condition`], [`Semaphore`], [`BoundedSemaphore`], [`Barrier`] |
//! | `asyncio.Queue`, `PriorityQueue`, `LifoQueue` | [`Queue`], [`PriorityQueue`], [`LifoQueue`] |
//! | generators (`yield`, `send`, `close`) and async generators (`async for`) | [`Coroutine`], [`Generator`], [`async_gen`] |
//! | `CancelledError`, `InvalidStateError`, `RuntimeError`, `TimeoutError` | [`CancelledError`], [`InvalidStateError`], [`RuntimeError`], [`TimeoutError`] |
//! | virtual time for tests (trio's MockClock, tokio's paused clock) | [`Runner::virtual_time`], [`LoopBuilder::virtual_time`], [`#[asyncio::test(virtual_time)]`](macro@test) |
//! | `asyncio.open_connection`, `start_server`, `open_unix_connection`, `start_unix_server` | [`open_connection`], [`start_server`], [`open_unix_connection`], [`start_unix_server`] |
//! | `StreamReader`, `StreamWriter`, `Server`, `IncompleteReadError`, `LimitOverrunError` | [`StreamReader`], [`StreamWriter`], [`Server`], [`IncompleteReadError`], [`LimitOverrunError`] |
//! | `asyncio.create_subprocess_exec`, `create_subprocess_shell`, `Process` | [`create_subprocess_exec`], [`create_subprocess_shell`], [`Process`] |
//! | `asyncio.subprocess.PIPE`, `DEVNULL`, `STDOUT` | [`subprocess::PIPE`], [`subprocess::DEVNULL`], [`subprocess::STDOUT`] |
//! | `loop.add_signal_handler`, `remove_signal_handler`, `signal.SIGTERM` | [`EventLoop::add_signal_handler`], [`EventLoop::remove_signal_handler`], [`signal::SIGTERM`] |
//! | Ctrl-C in `asyncio.run` (3.11) | [`run`] and [`Runner::run`]: the first cancels `main` and cleans up, a second ends the process |
//! | `loop.create_connection`, `create_server`, `create_unix_connection`, `create_unix_server`, `connect_accepted_socket` | [`EventLoop::create_connection`], [`EventLoop::create_server`], [`EventLoop::create_unix_connection`], [`EventLoop::create_unix_server`], [`EventLoop::connect_accepted_socket`] |
//! | `asyncio.Protocol`, `BufferedProtocol`, `DatagramProtocol` | [`Protocol`], [`BufferedProtocol`] (in [`Buffered`]), [`DatagramProtocol`] |
//! | `asyncio.Transport`, `DatagramTransport`, the `protocol` of `create_connection` | [`Transport`], [`DatagramTransport`], [`ProtocolRef`] |
//! | `loop.create_datagram_endpoint` | [`EventLoop::create_datagram_endpoint`] |
//! | one loop per core ("many processes + coroutines") | [`run_on_cores`], [`MultiRunner`] |
//!
//! # Differences from asyncio
//!
//! - Errors are values: awaiting a task gives `Err(TaskError)` where asyncio raises.
//! - Cancellation drops the future (its destructors run) instead of raising
//!   `CancelledError` inside it; it still travels down the await chain, one await per loop
//!   iteration (see the README's "Differences from asyncio" for the full list).
//! - One loop per thread, and tasks are `!Send`: this is a single-threaded runtime.
//!   Wakers are `Send` and may be woken from any thread. [`run_on_cores`] runs one loop per
//!   core.
//! - A transport owns its protocol; [`ProtocolRef`] reaches into it (see the README).
//! - The default executor's idle threads exit after a keep-alive ([`DEFAULT_KEEP_ALIVE`]);
//!   CPython's stay until shutdown. `shutdown_default_executor` (and so [`run`]) waits for
//!   running jobs without asyncio's 300 s limit.
//! - Ctrl-C ends [`run`] by raising SIGINT again after the cleanup (as CPython ends after an
//!   uncaught `KeyboardInterrupt`), so code after `run` does not run; handle SIGINT with
//!   [`EventLoop::add_signal_handler`] to decide otherwise. Signal callbacks take no
//!   arguments, and one loop handles a given signal at a time.

#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![doc(test(attr(deny(warnings))))]

mod concurrent;
mod cores;
mod coroutines;
mod events;
mod exceptions;
mod futures;
mod graph;
mod locks;
pub mod prelude;
mod protocols;
mod queues;
mod runners;
mod runtime;
mod selector_events;
mod socket;
pub mod streams;
pub mod subprocess;
mod taskgroups;
mod tasks;
mod threads;
mod timeouts;
mod transports;
mod unix_events;

pub use concurrent::{
    ConcurrentFuture, DEFAULT_KEEP_ALIVE, ExecutorBuilder, ThreadPoolExecutor, WrappedFuture,
    wrap_future,
};
pub use cores::{MultiRunner, run_on_cores};
pub use coroutines::{
    AsyncGenerator, CoState, Coroutine, CoroutineError, Generator, Yield, Yielder, async_gen,
};

pub use events::{
    EventLoop, ExceptionContext, Handle, LoopBuilder, ThreadsafeHandle, TimerHandle,
    get_event_loop, get_running_loop, new_event_loop, set_event_loop,
};
pub use exceptions::{CancelledError, InvalidStateError, RuntimeError, TaskError, TryGatherError};
pub use futures::Future;
pub use graph::{AwaitedBy, CallGraph, TaskNode, TaskState, capture_call_graph, print_call_graph};
pub use locks::*;
pub use protocols::{Buffered, BufferedProtocol, DatagramProtocol, Protocol, StreamProtocol};
pub use queues::*;
pub use runners::{Runner, run};
pub use selector_events::{Fileno, Listener};
pub use socket::{Family, Kind, Socket};
pub use streams::{
    Address, ClientConnected, ExtraInfo, IncompleteReadError, LimitOverrunError, OpenConnection,
    OpenUnixConnection, Server, StartServer, StartUnixServer, StreamReader, StreamWriter,
    open_connection, open_unix_connection, start_server, start_server_on, start_unix_server,
};
pub use subprocess::{CreateSubprocess, Process, create_subprocess_exec, create_subprocess_shell};
pub use taskgroups::{ExceptionGroup, TaskFailure, TaskGroup, TaskGroupFuture};
#[doc(hidden)]
pub use tasks::__private;
pub use tasks::{
    Awaitable, Delay, FromTaskError, Gather, GatherAll, ReturnWhen, SeparateTaskErrors, Sleep,
    Task, TaskFuture, TaskRef, TryGather, Wait, all_tasks, create_eager_task, create_task,
    create_task_named, current_task, ensure_future, gather, sleep, try_gather, wait,
};
pub use threads::{ToThread, to_thread};
pub use timeouts::{
    AsCompleted, Cancellable, Shield, Timeout, TimeoutError, TimeoutFuture, WaitFor, as_completed,
    shield, timeout, timeout_at, wait_for,
};
pub use transports::{
    CreateConnection, CreateDatagramEndpoint, CreateServer, CreateUnixConnection, CreateUnixServer,
    DatagramTransport, ProtocolRef, Transport,
};
pub use unix_events::signal;

#[cfg(feature = "macros")]
#[doc(inline)]
pub use asyncio_macros::{main, test};

/// The README's code, compiled as a doctest so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
