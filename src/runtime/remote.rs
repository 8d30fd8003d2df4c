//! The way into a loop from outside: the process-wide registry of loops and each loop's inbox.
//!
//! A waker carries only a loop number. When it fires on a thread where that loop is not the
//! running loop, it looks the loop up here, puts the task id into the loop's inbox and, if
//! the loop is blocked waiting, wakes it: through the reactor's eventfd once the loop does
//! I/O (the loop is then blocked in `epoll_wait`), else by unparking its thread.
//!
//! ```text
//!   poster:  push to inbox; pending = true; if parked.swap(false) { notify }
//!   loop:    parked = true; if pending { parked = false; don't block } else block; parked = false
//! ```
//!
//! Both sides use sequentially consistent operations, so at least one of them sees the
//! other's write: either the loop sees `pending` and does not block, or the poster sees
//! `parked` and notifies. A busy loop is never notified (no syscall per post), and many posts
//! to a blocked loop make one notification. Wakes of one task coalesce too: a task id already
//! in the inbox is not added again, so a flood of wakes costs no memory.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::{self, Thread};

use slab::Slab;

use super::task::id::{MAX_LOOPS, TaskId};

/// Something sent to a loop from outside it.
pub(crate) enum Message {
    /// Wake this task.
    Wake(TaskId),
    /// Run this callback on the loop (`call_soon_threadsafe`).
    Call(Box<dyn FnOnce() + Send>),
}

/// A hasher for task ids, which are already well mixed in their low bits (slab indices).
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[derive(Default)]
struct Inbox {
    messages: Vec<Message>,
    /// The tasks with a `Wake` in `messages`.
    woken: HashSet<usize, BuildHasherDefault<IdHasher>>,
}

/// A loop's inbox, shared with every thread that may wake it.
pub(crate) struct Remote {
    inbox: Mutex<Inbox>,
    pending: AtomicBool,
    /// The loop is blocked (or about to block) waiting for something to happen.
    parked: AtomicBool,
    /// The loop is gone: posts are refused.
    closed: AtomicBool,
    thread: Thread,
    /// The reactor's eventfd waker, once the loop does I/O.
    io_waker: OnceLock<mio::Waker>,
    /// Work outside the loop that its tasks await (executor jobs): see [`ClockHold`].
    held: AtomicUsize,
    /// A signal with a handler on this loop arrived (set by the OS signal handler, see
    /// [`Remote::signal_arrived`]); the loop looks when it drains the inbox.
    signaled: AtomicBool,
}

/// While alive, a virtual clock does not jump ahead: a task of the loop awaits work done
/// outside it (a `to_thread` job) whose answer will come in real time, however long that is.
/// tokio's paused clock holds still for `spawn_blocking` in the same way.
pub(crate) struct ClockHold {
    remote: Arc<Remote>,
}

impl Drop for ClockHold {
    fn drop(&mut self) {
        self.remote.held.fetch_sub(1, SeqCst);
    }
}

impl std::fmt::Debug for ClockHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClockHold")
    }
}

impl Remote {
    /// Posts a message and wakes the loop if it is blocked. Returns false (and drops the
    /// message) if the loop is gone.
    pub(crate) fn post(&self, msg: Message) -> bool {
        let refused = {
            let mut inbox = lock(&self.inbox);
            if self.closed.load(SeqCst) {
                Some(msg)
            } else {
                match msg {
                    Message::Wake(id) if !inbox.woken.insert(id.bits()) => {} // already there
                    msg => inbox.messages.push(msg),
                }
                None
            }
        };
        if let Some(msg) = refused {
            discard(msg); // a callback's captures are user code: dropped outside the lock
            return false;
        }
        self.pending.store(true, SeqCst);
        if self.parked.swap(false, SeqCst) {
            self.notify();
        }
        true
    }

    fn notify(&self) {
        match self.io_waker.get() {
            Some(waker) => {
                // Fails only if the eventfd is broken; the loop then wakes at its next timer.
                let _ = waker.wake();
            }
            None => self.thread.unpark(),
        }
    }

    /// True if messages are waiting.
    #[inline]
    pub(crate) fn has_pending(&self) -> bool {
        self.pending.load(SeqCst)
    }

    /// Takes every waiting message into `into` (which should be empty).
    pub(crate) fn drain_into(&self, into: &mut Vec<Message>) {
        self.pending.store(false, SeqCst);
        let mut inbox = lock(&self.inbox);
        inbox.woken.clear();
        std::mem::swap(&mut inbox.messages, into);
    }

    /// The loop is about to block. False if it must not (messages are waiting).
    pub(crate) fn park_begin(&self) -> bool {
        self.parked.store(true, SeqCst);
        if self.pending.load(SeqCst) {
            self.parked.store(false, SeqCst);
            return false;
        }
        true
    }

    /// The loop is awake again.
    pub(crate) fn park_end(&self) {
        self.parked.store(false, SeqCst);
    }

    /// From now on, wake the loop through the reactor (it blocks in `epoll_wait`, not in
    /// `thread::park`). Called once, on the loop's thread, while it is not blocked.
    pub(crate) fn set_io_waker(&self, waker: mio::Waker) {
        let _ = self.io_waker.set(waker);
    }

    /// The loop is gone: refuse further posts and drop what is queued.
    pub(crate) fn close(&self) {
        let queued = {
            let mut inbox = lock(&self.inbox);
            self.closed.store(true, SeqCst);
            inbox.woken.clear();
            std::mem::take(&mut inbox.messages)
        };
        queued.into_iter().for_each(discard); // outside the lock: captures are user code
    }

    /// Holds a virtual clock still until the returned guard is dropped.
    pub(crate) fn hold_clock(self: &Arc<Self>) -> ClockHold {
        self.held.fetch_add(1, SeqCst);
        ClockHold {
            remote: self.clone(),
        }
    }

    /// True while some [`ClockHold`] is alive.
    pub(crate) fn clock_held(&self) -> bool {
        self.held.load(SeqCst) != 0
    }

    /// Called from an OS signal handler (`crate::unix_events`): marks a signal as arrived
    /// and wakes the loop if it is blocked. Async-signal-safe: atomic operations, and at most
    /// one `write` to the reactor's eventfd (or, for a loop without a reactor, the futex wake
    /// of `Thread::unpark`); no lock, no allocation.
    pub(crate) fn signal_arrived(&self) {
        self.signaled.store(true, SeqCst);
        self.pending.store(true, SeqCst);
        if self.parked.swap(false, SeqCst) {
            self.notify();
        }
    }

    /// True (once) if a signal arrived since the last call. Read only when draining the inbox,
    /// which `signal_arrived` makes happen.
    #[inline]
    pub(crate) fn take_signaled(&self) -> bool {
        self.signaled.load(SeqCst) && self.signaled.swap(false, SeqCst)
    }

    /// True once the loop is gone.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(SeqCst)
    }
}

/// Drops a message the loop will never run. A callback's captures may panic on drop: that
/// is written to stderr (there is no loop to report it to), never propagated to the poster
/// or into the loop's shutdown.
fn discard(message: Message) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(message))) {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!(
            "Exception in dropping a callback posted to a closed event loop: panicked: {text}"
        );
        // The payload's own destructor is user code too.
        if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            std::mem::forget(again);
        }
    }
}

static REGISTRY: Mutex<Slab<Arc<Remote>>> = Mutex::new(Slab::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing that holds these locks can panic midway, but never let poison take a loop down.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Registers a new loop owned by the current thread; returns its number and inbox.
pub(crate) fn register() -> (usize, Arc<Remote>) {
    let remote = Arc::new(Remote {
        inbox: Mutex::new(Inbox::default()),
        pending: AtomicBool::new(false),
        parked: AtomicBool::new(false),
        closed: AtomicBool::new(false),
        thread: thread::current(),
        io_waker: OnceLock::new(),
        held: AtomicUsize::new(0),
        signaled: AtomicBool::new(false),
    });
    let mut reg = lock(&REGISTRY);
    let id = reg.insert(remote.clone());
    if id >= MAX_LOOPS {
        reg.remove(id);
        drop(reg);
        panic!("too many event loops alive at once (the limit is {MAX_LOOPS}); close some");
    }
    (id, remote)
}

/// Removes a loop from the registry (when it is dropped).
pub(crate) fn unregister(id: usize) {
    let remote = lock(&REGISTRY).try_remove(id);
    if let Some(remote) = remote {
        remote.close();
    }
}

/// Delivers a wake to the loop named in `id`; a loop that no longer exists is ignored.
pub(crate) fn wake(id: TaskId) {
    let remote = lock(&REGISTRY).get(id.loop_id()).cloned();
    if let Some(remote) = remote {
        remote.post(Message::Wake(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wakes_of_one_task_coalesce_and_a_closed_inbox_refuses_posts() {
        let (id, remote) = register();
        let task = TaskId::new(id, 1, 5);
        for _ in 0..10_000 {
            assert!(remote.post(Message::Wake(task)));
        }
        remote.post(Message::Wake(TaskId::new(id, 1, 6)));
        let mut got = Vec::new();
        remote.drain_into(&mut got);
        assert_eq!(got.len(), 2, "one entry per distinct task");
        assert!(!remote.has_pending());
        // After a drain, the same task can be woken again.
        remote.post(Message::Wake(task));
        unregister(id);
        assert!(remote.is_closed());
        assert!(!remote.post(Message::Call(Box::new(|| {}))));
        let mut after = Vec::new();
        remote.drain_into(&mut after);
        assert!(after.is_empty(), "closing dropped what was queued");
    }

    #[test]
    fn a_post_notifies_only_a_parked_loop() {
        let (id, remote) = register();
        assert!(remote.park_begin());
        remote.post(Message::Call(Box::new(|| {})));
        // The post saw `parked` and cleared it (and unparked this thread).
        assert!(!remote.parked.load(SeqCst));
        assert!(!remote.park_begin(), "a pending message forbids blocking");
        remote.park_end();
        unregister(id);
    }
}
