//! Every core: one event loop per thread, all running the same main (the tutorials' advice,
//! "many processes plus coroutines", with threads for processes).
//!
//! A loop is single-threaded, so one loop uses one core. To use every core, run one loop per
//! core and let the kernel share the work out: each loop listens on the same port with
//! `SO_REUSEPORT` ([`start_server`](crate::start_server)`(..).reuse_port(true)` or
//! [`EventLoop::create_server`](crate::EventLoop::create_server)`(..).reuse_port(true)`),
//! and the kernel spreads new connections across the listeners by a hash of their
//! addresses. Nothing is shared between the loops but what you pass on purpose: `Send`
//! values, through a loop's [`ThreadsafeHandle`](crate::ThreadsafeHandle) (see the
//! `cross_loop` example).
//!
//! ```text
//!   run_on_cores(main) --spawn N threads--> thread i: asyncio::run(main(i))
//!        |                                     | a panic: cancel every other loop's main
//!        +--join all, first panic resumed <----+
//! ```
//!
//! # Closing one loop's listener while the others serve
//!
//! With `SO_REUSEPORT`, each listener has its own accept queue. When one is closed
//! ([`Server::close`](crate::Server::close), or its loop ending), Linux resets the
//! connections still waiting in *its* queue: their clients read `ECONNRESET`
//! (`ConnectionReset`) although the port is still served by the other loops. Connections
//! already accepted are not touched, and new connections go only to the listeners still
//! open. To stop one loop without losing anyone: stop it last, or, on Linux 5.14 and
//! later, set `net.ipv4.tcp_migrate_req = 1`, which moves the queued connections to another
//! listener of the group instead (`tests/cores.rs` checks the default behaviour).

use std::any::Any;
use std::future::{Future, IntoFuture};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::pin;
use std::sync::Mutex;
use std::task::Poll;

use futures::channel::oneshot;

use crate::runners::Runner;

/// Runs `main(index)` on one event loop per core, each on its own thread, and returns their
/// outputs in index order: [`MultiRunner::new`]`().run(main)`.
///
/// The number of loops is [`std::thread::available_parallelism`]. Each loop is an
/// [`asyncio::run`](crate::run) of its own: tasks it creates stay on it, and its leftovers
/// are cancelled when its main returns. If one main panics, the others are cancelled
/// (their futures dropped, their destructors run, as asyncio cancels a main task), every
/// thread is joined, and the first panic is resumed in the caller.
///
/// # Examples
///
/// One HTTP-ish server per core, all on one port:
///
/// ```
/// asyncio::run_on_cores(|index| async move {
///     let server = asyncio::start_server(
///         |_r, mut w: asyncio::StreamWriter| async move { w.write(b"hi") },
///         "127.0.0.1",
///         0, // a real server names its port; with 0 each loop would get its own
///     )
///     .reuse_port(true)
///     .await
///     .unwrap();
///     println!("loop {index} serves on {}", server.sockets()[0]);
///     server.close(); // a real server would `serve_forever().await`
/// });
/// ```
pub fn run_on_cores<F, Fut>(main: F) -> Vec<Fut::Output>
where
    F: Fn(usize) -> Fut + Sync,
    Fut: IntoFuture,
    Fut::Output: Send,
{
    MultiRunner::new().run(main)
}

/// Runs one event loop per thread, all with the same main: see [`run_on_cores`].
///
/// # Examples
///
/// ```
/// let squares = asyncio::MultiRunner::new().loops(3).run(|i| async move {
///     asyncio::sleep(0.01).await;
///     i * i
/// });
/// assert_eq!(squares, [0, 1, 4]);
/// ```
#[derive(Debug, Clone)]
pub struct MultiRunner {
    loops: usize,
    virtual_time: bool,
}

impl Default for MultiRunner {
    fn default() -> MultiRunner {
        MultiRunner::new()
    }
}

/// What the threads share: who to cancel, and the first panic.
struct Shutdown {
    state: Mutex<State>,
}

struct State {
    cancelled: bool,
    cancels: Vec<Option<oneshot::Sender<()>>>,
    first_panic: Option<Box<dyn Any + Send>>,
}

impl Shutdown {
    /// Registers loop `index`'s cancel; `None` if the run is already being cancelled.
    fn register(&self, index: usize) -> Option<oneshot::Receiver<()>> {
        let mut state = self.lock();
        if state.cancelled {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        state.cancels[index] = Some(tx);
        Some(rx)
    }

    /// Keeps the first panic and cancels every loop's main.
    fn failed(&self, payload: Box<dyn Any + Send>) {
        let cancels = {
            let mut state = self.lock();
            state.cancelled = true;
            if state.first_panic.is_none() {
                state.first_panic = Some(payload);
            } else {
                crate::runtime::core::drop_payload(payload);
            }
            std::mem::take(&mut state.cancels)
        };
        for tx in cancels.into_iter().flatten() {
            let _ = tx.send(()); // a loop that already finished has dropped its receiver
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic never happens while the lock is held (only moves and pushes), but a
        // poisoned lock is still the same data: go on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl MultiRunner {
    /// One loop per core ([`std::thread::available_parallelism`], 1 if unknown).
    ///
    /// # Examples
    ///
    /// ```
    /// let n = asyncio::MultiRunner::new().loop_count();
    /// assert!(n >= 1);
    /// ```
    pub fn new() -> MultiRunner {
        let loops = std::thread::available_parallelism().map_or(1, usize::from);
        MultiRunner {
            loops,
            virtual_time: false,
        }
    }

    /// Runs `n` loops instead.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(asyncio::MultiRunner::new().loops(2).loop_count(), 2);
    /// ```
    pub fn loops(mut self, n: usize) -> MultiRunner {
        assert!(n >= 1, "MultiRunner::loops(0): run at least one loop");
        self.loops = n;
        self
    }

    /// Gives every loop a virtual clock (see [`Runner::virtual_time`]), for tests.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = asyncio::MultiRunner::new().loops(2).virtual_time().run(|_| async {
    ///     asyncio::sleep(3600).await;
    ///     asyncio::get_running_loop().unwrap().time()
    /// });
    /// assert_eq!(t, [3600.0, 3600.0]);
    /// ```
    pub fn virtual_time(mut self) -> MultiRunner {
        self.virtual_time = true;
        self
    }

    /// How many loops [`run`](MultiRunner::run) starts.
    pub fn loop_count(&self) -> usize {
        self.loops
    }

    /// Runs `main(index)` for `index` in `0..loop_count()`, one loop and thread each, and
    /// returns the outputs in index order.
    ///
    /// # Panics
    ///
    /// With the first panic of a main, after every other loop's main was cancelled and every
    /// thread joined; if a thread cannot be started, after the same cleanup.
    ///
    /// # Examples
    ///
    /// A failing loop stops the others:
    ///
    /// ```
    /// let outcome = std::panic::catch_unwind(|| {
    ///     asyncio::MultiRunner::new().loops(2).run(|i| async move {
    ///         if i == 1 {
    ///             panic!("loop 1 failed");
    ///         }
    ///         asyncio::sleep(3600).await; // cancelled, not waited for
    ///     })
    /// });
    /// assert!(outcome.is_err());
    /// ```
    pub fn run<F, Fut>(&self, main: F) -> Vec<Fut::Output>
    where
        F: Fn(usize) -> Fut + Sync,
        Fut: IntoFuture,
        Fut::Output: Send,
    {
        let shutdown = Shutdown {
            state: Mutex::new(State {
                cancelled: false,
                cancels: (0..self.loops).map(|_| None).collect(),
                first_panic: None,
            }),
        };
        let outputs: Vec<Option<Fut::Output>> = std::thread::scope(|scope| {
            let mut threads = Vec::with_capacity(self.loops);
            for index in 0..self.loops {
                let (shutdown, main, virtual_time) = (&shutdown, &main, self.virtual_time);
                let spawned = std::thread::Builder::new()
                    .name(format!("asyncio-loop-{index}"))
                    .spawn_scoped(scope, move || {
                        run_one(index, shutdown, virtual_time, || main(index))
                    });
                match spawned {
                    Ok(thread) => threads.push(thread),
                    Err(e) => {
                        let message = format!("run_on_cores: cannot start loop {index}: {e}");
                        shutdown.failed(Box::new(message));
                        break;
                    }
                }
            }
            threads
                .into_iter()
                .map(|t| {
                    t.join().unwrap_or_else(|payload| {
                        shutdown.failed(payload);
                        None
                    })
                })
                .collect()
        });
        if let Some(payload) = shutdown.lock().first_panic.take() {
            resume_unwind(payload);
        }
        outputs
            .into_iter()
            .map(|o| o.expect("a loop without a panic finished its main"))
            .collect()
    }
}

/// One loop's life: its main, cancelled if another loop fails. `None` if cancelled or if it
/// panicked (the panic is in `shutdown`).
fn run_one<Fut>(
    index: usize,
    shutdown: &Shutdown,
    virtual_time: bool,
    main: impl FnOnce() -> Fut,
) -> Option<Fut::Output>
where
    Fut: IntoFuture,
{
    let cancel = shutdown.register(index)?;
    let runner = if virtual_time {
        Runner::virtual_time()
    } else {
        Runner::new()
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        runner.run(async move {
            let mut main = pin!(main().into_future());
            let mut cancel = cancel;
            std::future::poll_fn(|cx| {
                if let Poll::Ready(v) = main.as_mut().poll(cx) {
                    return Poll::Ready(Some(v));
                }
                match std::pin::Pin::new(&mut cancel).poll(cx) {
                    Poll::Ready(_) => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                }
            })
            .await
        })
    }));
    drop(runner);
    match outcome {
        Ok(output) => output,
        Err(payload) => {
            shutdown.failed(payload);
            None
        }
    }
}
