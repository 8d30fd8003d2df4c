//! What every runtime gets exactly the same copy of: the foreign yield future, poll-once, the
//! counter of tasks that ran, the resident-set reading, and the helper thread of
//! `cross_thread_wake`.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::{self, JoinHandle, Thread};
use std::time::Duration;

thread_local! {
    /// How many of the spawned tasks have run (`spawn_detached`, `pending_rss`).
    pub(crate) static RAN: Cell<usize> = const { Cell::new(0) };
}

/// A yield that owes nothing to the runtime: wake our own waker, return `Pending` once, then
/// `Ready`. The runtime under test only sees a task that wakes itself.
#[derive(Debug, Default)]
pub(crate) struct YieldOnce {
    yielded: bool,
}

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            Poll::Ready(())
        } else {
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Polls the future once with the task's context and completes with what that poll returned.
#[derive(Debug)]
pub(crate) struct PollOnce<'a, F>(pub(crate) Pin<&'a mut F>);

impl<F: Future> Future for PollOnce<'_, F> {
    type Output = Poll<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(self.0.as_mut().poll(cx))
    }
}

/// The process's resident set in bytes (`VmRSS` of `/proc/self/status`; 0 where there is none).
pub(crate) fn rss_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<usize>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

/// `PingThread::state`: nothing asked.
const IDLE: u32 = 0;
/// The task asks: the thread is to wake it.
const PING: u32 = 1;
/// The thread has answered (and woken the task, or is about to).
const PONG: u32 = 2;
/// The thread is to exit.
const STOP: u32 = 3;

/// How long the helper thread waits between seeing `PING` and waking the task.
const SETTLE: Duration = Duration::from_micros(200);

/// What the task and the helper thread share.
#[derive(Debug)]
struct Shared {
    /// `IDLE`, `PING`, `PONG` or `STOP`.
    state: AtomicU32,
    /// The waker of the task that sent the last `PING`; the thread takes it to wake the task.
    waker: Mutex<Option<Waker>>,
}

/// A std thread that wakes the task each time it is asked to: `cross_thread_wake`.
///
/// One round trip: the task stores a clone of its waker, sets `PING`, unparks the thread and
/// returns `Pending` (its loop has nothing else to do, so it blocks); the thread, parked until
/// then, takes the waker, sets `PONG` and wakes the task from its own thread; the loop wakes,
/// polls the task, which sees `PONG`. std's `park`/`unpark` (a futex) on the thread's side,
/// the runtime's cross-thread wake on the loop's side: the same construction for every runtime.
#[derive(Debug)]
pub(crate) struct PingThread {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl PingThread {
    /// Starts the helper thread, parked.
    pub(crate) fn start() -> PingThread {
        let shared = Arc::new(Shared {
            state: AtomicU32::new(IDLE),
            waker: Mutex::new(None),
        });
        let theirs = Arc::clone(&shared);
        let thread = thread::spawn(move || answer(&theirs));
        PingThread {
            shared,
            thread: Some(thread),
        }
    }

    /// One round trip: completes once the helper thread has woken this task.
    pub(crate) fn ping(&self) -> Ping<'_> {
        Ping {
            helper: self,
            sent: false,
        }
    }

    fn thread(&self) -> &Thread {
        self.thread.as_ref().expect("joined only on drop").thread()
    }
}

impl Drop for PingThread {
    fn drop(&mut self) {
        self.shared.state.store(STOP, SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            thread.join().expect("the ping thread does not panic");
        }
    }
}

/// The helper thread: answer every `PING` until `STOP`.
fn answer(shared: &Shared) {
    loop {
        match shared.state.load(SeqCst) {
            PING => {
                // Give the loop time to block (it has nothing else to do), so that the wake
                // always takes the same path: it finds the loop blocked and has to wake it.
                // Without this, whether the loop has blocked yet is a race whose outcome
                // changes the counts (valgrind runs one thread at a time, switching at
                // system calls).
                thread::sleep(SETTLE);
                let waker = shared.waker.lock().expect("no panic holds it").take();
                shared.state.store(PONG, SeqCst);
                // The lock is released: the wake runs the runtime's code, never under our lock.
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            STOP => return,
            // Parked until the task unparks us (a token left by an earlier unpark returns at once).
            _ => thread::park(),
        }
    }
}

/// The future of one round trip (see [`PingThread`]).
#[derive(Debug)]
pub(crate) struct Ping<'a> {
    helper: &'a PingThread,
    sent: bool,
}

impl Future for Ping<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let shared = &self.helper.shared;
        if !self.sent {
            // The waker first, then PING: the thread must find the waker when it sees PING.
            *shared.waker.lock().expect("no panic holds it") = Some(cx.waker().clone());
            shared.state.store(PING, SeqCst);
            self.helper.thread().unpark();
            self.sent = true;
            return Poll::Pending;
        }
        if shared.state.load(SeqCst) == PONG {
            shared.state.store(IDLE, SeqCst);
            Poll::Ready(())
        } else {
            // Polled before the answer (nothing here does that, but a runtime may): the thread
            // still holds, or is about to take, the waker stored above.
            Poll::Pending
        }
    }
}
