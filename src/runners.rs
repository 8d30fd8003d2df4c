//! Running a program's main future: asyncio's `runners.py`.

use std::future::IntoFuture;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use crate::events::EventLoop;
use crate::exceptions::RuntimeError;
use crate::runtime::core::contain;
use crate::unix_events::{CtrlC, exit_by_sigint};

/// Runs `main` on a new event loop and returns its output: asyncio's `asyncio.run`.
///
/// The loop is created, `main` runs to completion (with every task it creates running
/// concurrently), then tasks still pending are cancelled (their futures are dropped, so their
/// destructors run), the default executor's threads finish their jobs and exit, and the loop
/// is closed. If `main` panics, the panic propagates after that cleanup.
///
/// # Ctrl-C
///
/// As asyncio 3.11 does, on the main thread, when SIGINT has its default disposition (the
/// program neither handles nor ignores it): the first Ctrl-C (SIGINT) drops `main` (its
/// destructors run), leftover tasks are cancelled, the default executor is shut down and
/// the loop closed; then SIGINT is raised again with its default disposition, so the
/// process ends by the signal, as Python does after `KeyboardInterrupt` (status 130 in a
/// shell). Code after `run` does not run then: to decide for yourself what Ctrl-C does, add
/// a handler with [`EventLoop::add_signal_handler`]. A second Ctrl-C during the cleanup ends
/// the process at once.
///
/// # Panics
///
/// If called while an event loop is running on this thread (from inside a task): asyncio
/// raises `RuntimeError` there too. Await the future instead.
///
/// # Examples
///
/// ```
/// async fn say_after(delay: f64, what: &str) {
///     asyncio::sleep(delay).await;
///     println!("{what}");
/// }
///
/// asyncio::run(async {
///     let a = asyncio::create_task(say_after(0.02, "hello"));
///     let b = asyncio::create_task(say_after(0.01, "world"));
///     a.await.unwrap();
///     b.await.unwrap();
/// });
/// ```
pub fn run<F: IntoFuture>(main: F) -> F::Output {
    Runner::new().run(main)
}

/// Runs several main futures on one event loop, then cleans up: asyncio's `asyncio.Runner`.
///
/// Tasks left over by one [`run`](Runner::run) keep existing until the next run or until the
/// runner is closed (or dropped), which cancels them and closes the loop.
///
/// # Examples
///
/// ```
/// let runner = asyncio::Runner::virtual_time();
/// let t = runner.run(async {
///     asyncio::sleep(10).await;
///     asyncio::get_running_loop().unwrap().time()
/// });
/// assert_eq!(t, 10.0); // ten virtual seconds, in no real time
/// ```
#[derive(Debug)]
pub struct Runner {
    event_loop: EventLoop,
}

impl Runner {
    /// A runner with a new event loop on the real clock.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(asyncio::Runner::new().run(async { 1 }), 1);
    /// ```
    pub fn new() -> Runner {
        Runner::with_loop(EventLoop::new())
    }

    /// A runner whose loop has a virtual clock (see
    /// [`LoopBuilder::virtual_time`](crate::LoopBuilder::virtual_time)).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(asyncio::Runner::virtual_time().run(async { 1 }), 1);
    /// ```
    pub fn virtual_time() -> Runner {
        Runner::with_loop(EventLoop::builder().virtual_time().build())
    }

    /// A runner for an existing loop.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = asyncio::EventLoop::builder().debug(true).build();
    /// let runner = asyncio::Runner::with_loop(lp);
    /// assert!(runner.get_loop().get_debug());
    /// ```
    pub fn with_loop(event_loop: EventLoop) -> Runner {
        Runner { event_loop }
    }

    /// The runner's loop.
    pub fn get_loop(&self) -> &EventLoop {
        &self.event_loop
    }

    /// Runs `main` to completion on the runner's loop and returns its output. Ctrl-C ends it
    /// as it ends [`run`](crate::run) (see there), after the runner's cleanup.
    ///
    /// # Panics
    ///
    /// If an event loop is already running on this thread, or the runner was closed; and
    /// with `main`'s own panic, after cleanup, if `main` panics.
    pub fn run<F: IntoFuture>(&self, main: F) -> F::Output {
        let ctrl_c = CtrlC::install(&self.event_loop);
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.event_loop.run_until_complete(main)
        }));
        if let Some(ctrl_c) = ctrl_c {
            ctrl_c.main_done();
            if ctrl_c.interrupted() {
                // asyncio 3.11: the main task was cancelled (here: its future was dropped when
                // the loop stopped); clean up as `Runner.close()` does, with a second Ctrl-C
                // still ending the process at once, then end as a KeyboardInterrupt does.
                contain("dropping the result of an interrupted main", move || {
                    drop(result)
                });
                self.close();
                drop(ctrl_c);
                exit_by_sigint();
            }
        }
        match result {
            Ok(Ok(output)) => output,
            Ok(Err(RuntimeError::AnotherLoopRunning | RuntimeError::AlreadyRunning)) => panic!(
                "asyncio::run() cannot be called from a running event loop; \
                 await the future (or create_task it) instead"
            ),
            Ok(Err(e)) => panic!("asyncio::run: {e}"),
            Err(payload) => {
                self.close();
                resume_unwind(payload)
            }
        }
    }

    /// Cancels the tasks still pending, waits for the default executor's threads
    /// ([`EventLoop::shutdown_default_executor`]) and closes the loop. Dropping the runner
    /// does this too.
    pub fn close(&self) {
        if !self.event_loop.is_running() {
            self.event_loop
                .core()
                .cancel_all(crate::runtime::core::Leftovers::Run, &|_| {});
            let shutdown = self.event_loop.shutdown_default_executor();
            let _ = self.event_loop.run_until_complete(shutdown);
            let _ = self.event_loop.close();
        }
    }
}

impl Default for Runner {
    fn default() -> Runner {
        Runner::new()
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.close();
    }
}
