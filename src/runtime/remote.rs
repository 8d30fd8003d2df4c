//! The way into a loop from outside: the process-wide registry of loops and each loop's inbox.
//!
//! A waker carries only a loop number. When it fires on a thread where that loop is not the
//! running loop, it looks the loop up here, pushes the task id into the loop's inbox and
//! unparks the loop's thread. The loop drains the inbox at the start of every iteration and
//! checks it before parking, so a wake is never lost (std's park token covers the race between
//! "checked the inbox" and "went to sleep").

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
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

/// A loop's inbox, shared with every thread that may wake it.
pub(crate) struct Remote {
    inbox: Mutex<Vec<Message>>,
    pending: AtomicBool,
    thread: Thread,
}

impl Remote {
    /// Posts a message and unparks the loop's thread.
    pub(crate) fn post(&self, msg: Message) {
        lock(&self.inbox).push(msg);
        self.pending.store(true, Ordering::Release);
        self.thread.unpark();
    }

    /// True if messages are waiting.
    #[inline]
    pub(crate) fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Takes every waiting message into `into` (which should be empty).
    pub(crate) fn drain_into(&self, into: &mut Vec<Message>) {
        self.pending.store(false, Ordering::Release);
        std::mem::swap(&mut *lock(&self.inbox), into);
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
        inbox: Mutex::new(Vec::new()),
        pending: AtomicBool::new(false),
        thread: thread::current(),
    });
    let mut reg = lock(&REGISTRY);
    let id = reg.insert(remote.clone());
    if id >= MAX_LOOPS {
        reg.remove(id);
        panic!("too many event loops alive at once (the limit is {MAX_LOOPS}); close some");
    }
    (id, remote)
}

/// Removes a loop from the registry (when it is dropped).
pub(crate) fn unregister(id: usize) {
    lock(&REGISTRY).try_remove(id);
}

/// Delivers a wake to the loop named in `id`; a loop that no longer exists is ignored.
pub(crate) fn wake(id: TaskId) {
    let remote = lock(&REGISTRY).get(id.loop_id()).cloned();
    if let Some(remote) = remote {
        remote.post(Message::Wake(id));
    }
}
