//! Unix signals and child processes: asyncio's `unix_events.py` (`add_signal_handler`,
//! `remove_signal_handler`, the child watcher), and the Ctrl-C handling of
//! [`run`](crate::run) and [`Runner`](crate::Runner).
//!
//! # A signal's way to its callback
//!
//! ```text
//!   kernel --SIGTERM--> on_signal (any thread, async-signal-safe)
//!                         PENDING[sig] = true
//!                         TARGET[sig] -> the loop's Remote: signaled = pending = true,
//!                                        and if the loop is blocked, one write to its eventfd
//!   loop: drain_inbox --signaled--> LoopSignals::dispatch: PENDING[sig] taken,
//!                                   the callback queued with call_soon --> runs in the batch
//! ```
//!
//! Ground rules:
//! - The OS handler only stores to atomics and wakes the loop: no lock, no allocation, no
//!   user code. `errno` is saved and restored around it.
//! - Everything else (installing, removing, the table of who owns which signal) runs on the
//!   main thread under the `INSTALLED` lock, which the handler never takes.
//! - A loop that never adds a handler pays nothing: the only check is inside `drain_inbox`,
//!   which runs only when something was posted, and even then it is one atomic load.
//! - The handler reads the loop's `Remote` through a raw pointer. It is never freed under a
//!   running handler: whoever clears a `TARGET` waits until no handler is running
//!   (`IN_HANDLER == 0`) before letting the `Remote` go.
//! - One loop per signal: a second loop asking for a signal another loop handles gets an
//!   error (CPython silently moves every signal to the last loop, which breaks the first).
//!
//! # A child's exit
//!
//! No `SIGCHLD` handler. Where the kernel has `pidfd_open` (Linux 5.3), the child's pidfd is
//! registered in the reactor and a small internal task reaps the child when it becomes
//! readable; elsewhere (or if the loop closes first) a thread blocks in
//! `waitid(WEXITED | WNOWAIT)` and reaps it then (CPython 3.12's `ThreadedChildWatcher`).
//! Reaping and signalling both hold the child's lock, and signalling checks first that the
//! child is not reaped yet, so a signal never reaches a recycled pid.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::pin::Pin;
use std::ptr;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::events::EventLoop;
use crate::exceptions::RuntimeError;
use crate::runtime::core::{self, Core, SignalDispatch};
use crate::runtime::io::Direction;
use crate::runtime::io::scheduled_io::ready;
use crate::runtime::io::source::Source;
use crate::runtime::io::sys;
use crate::runtime::remote::Remote;
use crate::runtime::small_fn::SmallFn;

/// Signal numbers, as Python's `signal` module names them (`signal.SIGTERM`), for
/// [`EventLoop::add_signal_handler`] and [`Process::send_signal`](crate::Process::send_signal).
///
/// # Examples
///
/// ```
/// use asyncio::signal;
/// assert_eq!(signal::SIGINT, 2);
/// assert_eq!(signal::SIGKILL, 9);
/// assert_eq!(signal::SIGTERM, 15);
/// ```
pub mod signal {
    /// Hangup (the terminal went away; daemons reload their configuration).
    pub const SIGHUP: i32 = libc::SIGHUP;
    /// Interrupt (Ctrl-C).
    pub const SIGINT: i32 = libc::SIGINT;
    /// Quit (Ctrl-\).
    pub const SIGQUIT: i32 = libc::SIGQUIT;
    /// Kill: cannot be handled.
    pub const SIGKILL: i32 = libc::SIGKILL;
    /// User-defined signal 1.
    pub const SIGUSR1: i32 = libc::SIGUSR1;
    /// User-defined signal 2.
    pub const SIGUSR2: i32 = libc::SIGUSR2;
    /// Broken pipe.
    pub const SIGPIPE: i32 = libc::SIGPIPE;
    /// Alarm clock.
    pub const SIGALRM: i32 = libc::SIGALRM;
    /// Termination request (what `kill` sends by default).
    pub const SIGTERM: i32 = libc::SIGTERM;
    /// A child stopped or exited.
    pub const SIGCHLD: i32 = libc::SIGCHLD;
    /// Continue if stopped.
    pub const SIGCONT: i32 = libc::SIGCONT;
    /// Stop: cannot be handled.
    pub const SIGSTOP: i32 = libc::SIGSTOP;
    /// The terminal window changed size.
    pub const SIGWINCH: i32 = libc::SIGWINCH;
}

// ----- the process-wide signal table -------------------------------------------------------------

/// Signal numbers 1..=64 (Linux's `SIGRTMAX`) index the tables below.
const NSIG: usize = 65;

/// A signal arrived and its loop has not dispatched it yet.
static PENDING: [AtomicBool; NSIG] = [const { AtomicBool::new(false) }; NSIG];
/// The loop to wake for each signal (its `Remote`), or null.
static TARGET: [AtomicPtr<Remote>; NSIG] = [const { AtomicPtr::new(ptr::null_mut()) }; NSIG];
/// OS handlers running right now (on any thread).
static IN_HANDLER: AtomicUsize = AtomicUsize::new(0);
/// SIGINT belongs to a `Runner`'s Ctrl-C handling: a second one ends the process at once.
static INTERRUPT_MODE: AtomicBool = AtomicBool::new(false);
/// SIGINTs received while `INTERRUPT_MODE` was on.
static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);

/// A signal whose disposition is ours: which loop owns it and what to restore.
struct Installed {
    /// The owning loop, named by its `Remote`'s address.
    owner: usize,
    previous: libc::sigaction,
}

/// Who owns each signal. Taken only on the main thread, never by the OS handler.
static INSTALLED: Mutex<[Option<Installed>; NSIG]> = Mutex::new([const { None }; NSIG]);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The OS handler of every signal the loops handle.
extern "C" fn on_signal(sig: libc::c_int) {
    let saved_errno = sys::errno();
    IN_HANDLER.fetch_add(1, SeqCst);
    let index = usize::try_from(sig).ok().filter(|&i| i < NSIG);
    if let Some(i) = index {
        if sig == libc::SIGINT
            && INTERRUPT_MODE.load(SeqCst)
            && INTERRUPTS.fetch_add(1, SeqCst) >= 1
        {
            // The second Ctrl-C while a Runner cleans up: end the process now, by the signal
            // (the raised SIGINT is blocked while this handler runs, and delivered with the
            // default disposition as soon as it returns).
            sys::set_default_in_handler(libc::SIGINT);
            sys::raise(libc::SIGINT);
        } else {
            PENDING[i].store(true, SeqCst);
            let target = TARGET[i].load(SeqCst);
            // SAFETY: a non-null TARGET points into an `Arc<Remote>` held by the `LoopSignals`
            // that stored it. It is cleared (set to null) before that Arc is released, and the
            // release waits until IN_HANDLER is 0; this handler incremented IN_HANDLER before
            // loading the pointer (all SeqCst), so either it saw null or the Remote outlives
            // this use. `signal_arrived` is async-signal-safe (atomics and one write).
            if let Some(remote) = unsafe { target.as_ref() } {
                remote.signal_arrived();
            }
        }
    }
    IN_HANDLER.fetch_sub(1, SeqCst);
    sys::set_errno(saved_errno);
}

/// `sig` as a table index, or a clear error for a number no handler can be added for.
fn check_signal(sig: i32) -> io::Result<usize> {
    let invalid = |why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid signal number {sig}: {why}"),
        )
    };
    let index = usize::try_from(sig)
        .ok()
        .filter(|&i| (1..NSIG).contains(&i))
        .ok_or_else(|| invalid("signals are numbered 1 to 64"))?;
    match sig {
        libc::SIGKILL | libc::SIGSTOP => Err(invalid("SIGKILL and SIGSTOP cannot be handled")),
        libc::SIGSEGV | libc::SIGBUS | libc::SIGFPE | libc::SIGILL => Err(invalid(
            "a fault signal cannot wait for the loop: the faulting instruction would run again",
        )),
        _ => Ok(index),
    }
}

/// Makes `on_signal` the handler of `sig` for the loop of `remote`, remembering the previous
/// disposition. Nothing to do if that loop already owns it; an error if another loop does.
fn install(sig: i32, remote: &Arc<Remote>) -> io::Result<()> {
    let index = check_signal(sig)?;
    let owner = Arc::as_ptr(remote) as usize;
    let mut table = lock(&INSTALLED);
    match &table[index] {
        Some(installed) if installed.owner == owner => return Ok(()),
        Some(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!(
                    "signal {sig} already has a handler on another event loop; remove it there \
                     (or close that loop) first"
                ),
            ));
        }
        None => {}
    }
    let previous = sys::sigaction_get(sig)?;
    PENDING[index].store(false, SeqCst);
    TARGET[index].store(Arc::as_ptr(remote).cast_mut(), SeqCst);
    if let Err(e) = sys::sigaction_set(sig, &sys::handler_action(on_signal)) {
        clear_target(index);
        return Err(io::Error::new(
            e.kind(),
            format!("cannot handle signal {sig}: {e}"),
        ));
    }
    table[index] = Some(Installed { owner, previous });
    Ok(())
}

/// Gives `sig` back its previous disposition, if the loop of `remote` owns it.
fn uninstall(sig: i32, remote: &Arc<Remote>) {
    let Ok(index) = check_signal(sig) else {
        return;
    };
    let owner = Arc::as_ptr(remote) as usize;
    let mut table = lock(&INSTALLED);
    if table[index].as_ref().is_some_and(|i| i.owner == owner) {
        if let Some(installed) = table[index].take() {
            // Fails only for an invalid signal, which could not have been installed.
            let _ = sys::sigaction_set(sig, &installed.previous);
        }
        if sig == libc::SIGINT {
            INTERRUPT_MODE.store(false, SeqCst);
        }
        clear_target(index);
        PENDING[index].store(false, SeqCst);
    }
}

/// Clears `TARGET[index]` and waits until no OS handler can still be using the old pointer.
fn clear_target(index: usize) {
    TARGET[index].store(ptr::null_mut(), SeqCst);
    while IN_HANDLER.load(SeqCst) != 0 {
        std::thread::yield_now();
    }
}

/// True if one of the loops owns `sig`.
fn is_installed(sig: i32) -> bool {
    check_signal(sig).is_ok_and(|i| lock(&INSTALLED)[i].is_some())
}

// ----- per loop ----------------------------------------------------------------------------------

/// A signal callback. Shared so that a queued call can see whether it was removed meanwhile.
type SignalCallback = Rc<dyn Fn()>;

/// One loop's signal handlers (kept in `Core::signals`).
struct LoopSignals {
    remote: Arc<Remote>,
    handlers: RefCell<BTreeMap<i32, SignalCallback>>,
    /// The Ctrl-C handling of a `Runner::run` in progress: SIGINT's callback unless the
    /// program added its own.
    ctrl_c: RefCell<Option<SignalCallback>>,
}

impl LoopSignals {
    /// The signals whose disposition this loop holds.
    fn owned(&self) -> Vec<i32> {
        let mut sigs: Vec<i32> = self.handlers.borrow().keys().copied().collect();
        if self.ctrl_c.borrow().is_some() && !sigs.contains(&libc::SIGINT) {
            sigs.push(libc::SIGINT);
        }
        sigs
    }

    /// SIGINT's second arrival ends the process only while the Ctrl-C handling is SIGINT's
    /// callback (a program's own SIGINT handler gets every SIGINT).
    /// Only the loop with the Ctrl-C handling sets it; it is cleared when that handling ends
    /// (or SIGINT is given back).
    fn refresh_interrupt_mode(&self) {
        if self.ctrl_c.borrow().is_some() {
            let own = self.handlers.borrow().contains_key(&libc::SIGINT);
            INTERRUPT_MODE.store(!own, SeqCst);
        }
    }

    /// Removes every handler and gives every signal back its previous disposition.
    fn clear(&self) {
        for sig in self.owned() {
            uninstall(sig, &self.remote);
        }
        let handlers = std::mem::take(&mut *self.handlers.borrow_mut());
        let ctrl_c = self.ctrl_c.borrow_mut().take();
        // Dropping the callbacks drops what they captured: user code, and the loop may be
        // shutting down, so a panic there is reported, never propagated.
        core::contain("dropping a signal handler", move || {
            drop(handlers);
            drop(ctrl_c);
        });
    }
}

impl SignalDispatch for LoopSignals {
    fn dispatch(&self, core: &Core) {
        let mut due: Vec<std::rc::Weak<dyn Fn()>> = Vec::new();
        {
            let handlers = self.handlers.borrow();
            let ctrl_c = self.ctrl_c.borrow();
            for sig in self.owned() {
                let Ok(index) = check_signal(sig) else {
                    continue;
                };
                if PENDING[index].swap(false, SeqCst) {
                    let callback = handlers.get(&sig).or(ctrl_c.as_ref());
                    due.extend(callback.map(Rc::downgrade));
                }
            }
        }
        for callback in due {
            // Queued, not called: it runs in the next batch like any callback, under the
            // loop's catch_unwind (a panic is reported and the loop goes on). A handler
            // removed before then does not run.
            core.call_soon(SmallFn::new(move || {
                if let Some(callback) = callback.upgrade() {
                    callback();
                }
            }));
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for LoopSignals {
    fn drop(&mut self) {
        self.clear();
    }
}

/// The loop's signal state, made now if this is its first signal handler.
fn loop_signals(core: &Core) -> &LoopSignals {
    core.signals
        .get_or_init(|| {
            Box::new(LoopSignals {
                remote: core.remote().clone(),
                handlers: RefCell::new(BTreeMap::new()),
                ctrl_c: RefCell::new(None),
            })
        })
        .as_any()
        .downcast_ref()
        .expect("Core::signals holds the LoopSignals of unix_events.rs")
}

/// Called by `EventLoop::close`: as asyncio's `close()`, remove every signal handler.
pub(crate) fn loop_closed(core: &Core) {
    if let Some(signals) = core.signals.get() {
        if let Some(signals) = signals.as_any().downcast_ref::<LoopSignals>() {
            signals.clear();
        }
    }
}

impl EventLoop {
    /// Calls `callback` on the loop whenever signal `sig` arrives: asyncio's
    /// `loop.add_signal_handler(sig, callback)` (Unix).
    ///
    /// The operating system's handler only records the signal and wakes the loop; `callback`
    /// runs on the loop, in its next iteration, like a [`call_soon`](EventLoop::call_soon)
    /// callback (a panic in it is reported to the exception handler and the loop goes on).
    /// Several arrivals before the loop gets to them make one call. Adding a handler for a
    /// signal that has one replaces it. The disposition the signal had before is restored by
    /// [`remove_signal_handler`](Self::remove_signal_handler), by
    /// [`close`](EventLoop::close), and when the loop is dropped.
    ///
    /// # Errors
    ///
    /// As asyncio: only the main thread may handle signals (the handlers are process-wide),
    /// so from any other thread this is an error, as it is for a closed loop. An invalid
    /// signal (0, above 64, `SIGKILL`, `SIGSTOP`, or a fault signal such as `SIGSEGV`, whose
    /// handler cannot wait for the loop) is `InvalidInput`. A signal another loop already
    /// handles is `AddrInUse`: one loop per signal.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use asyncio::signal::SIGUSR1;
    ///
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let got = Rc::new(asyncio::Event::new());
    ///     let set = got.clone();
    ///     lp.add_signal_handler(SIGUSR1, move || set.set()).unwrap();
    ///     // Have a child send us the signal, as `kill -USR1 <pid>` from a shell would.
    ///     let kill = format!("kill -USR1 {}", std::process::id());
    ///     asyncio::create_subprocess_shell(kill).await.unwrap().wait().await;
    ///     got.wait().await;
    ///     assert!(lp.remove_signal_handler(SIGUSR1));
    ///
    ///     let err = lp.add_signal_handler(asyncio::signal::SIGKILL, || {}).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// });
    /// ```
    pub fn add_signal_handler(&self, sig: i32, callback: impl Fn() + 'static) -> io::Result<()> {
        check_signal(sig)?;
        if self.is_closed() {
            return Err(io::Error::other(RuntimeError::Closed));
        }
        if !sys::is_main_thread() {
            return Err(io::Error::other(
                "add_signal_handler() must be called from the main thread: signal handlers \
                 belong to the whole process (asyncio has the same rule)",
            ));
        }
        let core = self.core();
        // The OS handler wakes a blocked loop through the reactor's eventfd: make it now.
        core.reactor()?;
        let signals = loop_signals(core);
        // The callback first: a signal that arrives as soon as the OS handler is in place
        // finds it.
        let old = signals.handlers.borrow_mut().insert(sig, Rc::new(callback));
        let installed = install(sig, &signals.remote);
        if installed.is_err() {
            let mut handlers = signals.handlers.borrow_mut();
            let ours = match old.clone() {
                Some(old) => handlers.insert(sig, old),
                None => handlers.remove(&sig),
            };
            drop(handlers);
            drop(ours); // user code, outside the borrow
        }
        signals.refresh_interrupt_mode();
        drop(old); // user code, outside the borrow
        installed
    }

    /// Removes the handler of signal `sig` and restores the disposition it had before:
    /// asyncio's `loop.remove_signal_handler(sig)`. True if there was a handler.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::signal::SIGUSR2;
    ///
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     assert!(!lp.remove_signal_handler(SIGUSR2)); // none yet
    ///     lp.add_signal_handler(SIGUSR2, || println!("USR2")).unwrap();
    ///     assert!(lp.remove_signal_handler(SIGUSR2));
    /// });
    /// ```
    pub fn remove_signal_handler(&self, sig: i32) -> bool {
        let Some(signals) = self.core().signals.get() else {
            return false;
        };
        let Some(signals) = signals.as_any().downcast_ref::<LoopSignals>() else {
            return false;
        };
        let removed = signals.handlers.borrow_mut().remove(&sig);
        if removed.is_none() {
            return false;
        }
        // A Runner's Ctrl-C handling keeps SIGINT until its run ends.
        if !(sig == libc::SIGINT && signals.ctrl_c.borrow().is_some()) {
            uninstall(sig, &signals.remote);
        }
        signals.refresh_interrupt_mode();
        drop(removed); // user code, outside the borrow
        true
    }
}

// ----- Ctrl-C in Runner::run ---------------------------------------------------------------------

/// The Ctrl-C handling of one `Runner::run` (asyncio 3.11's `Runner._on_sigint`): the first
/// SIGINT stops the loop, which drops the main future; a second ends the process at once.
/// Dropping it gives SIGINT back its default disposition.
pub(crate) struct CtrlC {
    event_loop: EventLoop,
    /// The main future still runs: a SIGINT stops the loop.
    active: Rc<Cell<bool>>,
}

impl CtrlC {
    /// Installs the handling if, as asyncio requires, this is the main thread and SIGINT has
    /// its default disposition (a program that handles or ignores SIGINT keeps its choice).
    ///
    /// No reactor is made for this: a loop without I/O stays without syscalls per iteration,
    /// and the OS handler wakes it by unparking its thread (a futex wake, no lock).
    pub(crate) fn install(event_loop: &EventLoop) -> Option<CtrlC> {
        if event_loop.is_closed() || event_loop.is_running() || !sys::is_main_thread() {
            return None;
        }
        if is_installed(libc::SIGINT) {
            return None;
        }
        let current = sys::sigaction_get(libc::SIGINT).ok()?;
        if current.sa_sigaction != libc::SIG_DFL {
            return None;
        }
        let core = event_loop.core();
        let signals = loop_signals(core);
        INTERRUPTS.store(0, SeqCst);
        let active = Rc::new(Cell::new(true));
        let (flag, weak) = (active.clone(), core.weak());
        let on_sigint: SignalCallback = Rc::new(move || {
            if flag.replace(false) {
                if let Some(core) = Weak::upgrade(&weak) {
                    core.stop(); // run_until_complete returns, dropping the main future
                }
            }
        });
        // The callback and the interrupt mode first: the first SIGINT may come at once.
        *signals.ctrl_c.borrow_mut() = Some(on_sigint);
        signals.refresh_interrupt_mode();
        if install(libc::SIGINT, &signals.remote).is_err() {
            let ours = signals.ctrl_c.borrow_mut().take();
            INTERRUPT_MODE.store(false, SeqCst);
            drop(ours);
            return None;
        }
        Some(CtrlC {
            event_loop: event_loop.clone(),
            active,
        })
    }

    /// The main future is over (finished, panicked or dropped): a SIGINT from now on no
    /// longer stops the loop, but still counts as an interruption.
    pub(crate) fn main_done(&self) {
        self.active.set(false);
    }

    /// True if a SIGINT arrived while this handling was on.
    pub(crate) fn interrupted(&self) -> bool {
        INTERRUPTS.load(SeqCst) > 0
    }
}

impl Drop for CtrlC {
    fn drop(&mut self) {
        let Some(signals) = self.event_loop.core().signals.get() else {
            return;
        };
        let Some(signals) = signals.as_any().downcast_ref::<LoopSignals>() else {
            return;
        };
        let old = signals.ctrl_c.borrow_mut().take();
        if old.is_some() {
            INTERRUPT_MODE.store(false, SeqCst);
            if !signals.handlers.borrow().contains_key(&libc::SIGINT) {
                uninstall(libc::SIGINT, &signals.remote);
            }
        }
        INTERRUPTS.store(0, SeqCst);
        drop(old);
    }
}

/// Ends the process the way CPython ends after an uncaught `KeyboardInterrupt`: SIGINT
/// raised again with its default disposition, so the process dies by the signal (status 130
/// in a shell). Standard output and error are flushed first.
pub(crate) fn exit_by_sigint() -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    let _ = sys::sigaction_set(libc::SIGINT, &sys::default_action());
    sys::unblock(libc::SIGINT);
    sys::raise(libc::SIGINT);
    // Unreachable unless something in the process catches SIGINT behind our back.
    panic!("interrupted by SIGINT (Ctrl-C)");
}

// ----- child watching ----------------------------------------------------------------------------

/// What is known about one child: its exit status once reaped, and who waits for it.
#[derive(Default)]
struct ChildState {
    returncode: Option<i32>,
    waiters: Vec<Waker>,
}

/// One child process, watched until it is reaped (even after its `Process` is dropped).
pub(crate) struct ChildWatch {
    pid: libc::pid_t,
    state: Mutex<ChildState>,
}

#[cfg(test)]
thread_local! {
    /// Tests: watch children with the waiter thread even where pidfds exist.
    pub(crate) static FORCE_WAITER_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// How a reaped child's raw wait status reads in asyncio: the exit code, or minus the signal
/// that killed it.
fn returncode(status: libc::c_int) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    let status = std::process::ExitStatus::from_raw(status);
    status
        .code()
        .or_else(|| status.signal().map(|s| -s))
        .unwrap_or(255)
}

impl ChildWatch {
    /// Starts watching child `pid` of the loop `core`: a pidfd in the reactor if possible,
    /// else a waiter thread. If neither can be had, the child is killed and reaped, and the
    /// error returned.
    pub(crate) fn start(core: &Core, pid: libc::pid_t) -> io::Result<Arc<ChildWatch>> {
        let watch = Arc::new(ChildWatch {
            pid,
            state: Mutex::new(ChildState::default()),
        });
        #[cfg(test)]
        let forced = FORCE_WAITER_THREAD.with(Cell::get);
        #[cfg(not(test))]
        let forced = false;
        let pidfd = if forced {
            Err(io::Error::from_raw_os_error(libc::ENOSYS))
        } else {
            sys::pidfd_open(pid)
        };
        let source = pidfd.and_then(|fd| Source::new(core, PidFd(fd), ready::READABLE));
        let started = match source {
            Ok(source) => {
                core.spawn_internal(PidfdWatcher {
                    watch: watch.clone(),
                    source: Some(source),
                });
                Ok(())
            }
            Err(_) => spawn_waiter_thread(watch.clone()),
        };
        if let Err(e) = started {
            let _ = sys::kill(pid, libc::SIGKILL);
            let _ = sys::wait_exited_nowait(pid);
            watch.try_reap();
            return Err(io::Error::new(
                e.kind(),
                format!("cannot watch child process {pid}: {e}"),
            ));
        }
        Ok(watch)
    }

    /// The returncode, once the child is reaped.
    pub(crate) fn returncode(&self) -> Option<i32> {
        lock(&self.state).returncode
    }

    /// Ready with the returncode once the child is reaped.
    pub(crate) fn poll_exit(&self, cx: &mut Context<'_>) -> Poll<i32> {
        let mut state = lock(&self.state);
        if let Some(code) = state.returncode {
            return Poll::Ready(code);
        }
        if !state.waiters.iter().any(|w| w.will_wake(cx.waker())) {
            state.waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// `kill(pid, sig)` unless the child is already reaped (then nothing, as Python's
    /// `Popen.send_signal`): under the lock that reaping takes, so the pid is still ours.
    pub(crate) fn send_signal(&self, sig: i32) -> io::Result<()> {
        let state = lock(&self.state);
        if state.returncode.is_some() {
            return Ok(());
        }
        sys::kill(self.pid, sig).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot send signal {sig} to process {}: {e}", self.pid),
            )
        })
    }

    /// Reaps the child if it has exited and records its returncode. True once recorded.
    fn try_reap(&self) -> bool {
        let waiters = {
            let mut state = lock(&self.state);
            if state.returncode.is_some() {
                return true;
            }
            let code = match sys::reap_nohang(self.pid) {
                Ok(None) => return false,
                Ok(Some(status)) => returncode(status),
                // Someone else reaped it (SIGCHLD ignored, or a waitpid(-1) elsewhere): the
                // status is lost. asyncio reports 255 in that case too.
                Err(_) => 255,
            };
            state.returncode = Some(code);
            std::mem::take(&mut state.waiters)
        };
        waiters.into_iter().for_each(core::wake_contained);
        true
    }
}

impl std::fmt::Debug for ChildWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildWatch")
            .field("pid", &self.pid)
            .field("returncode", &self.returncode())
            .finish()
    }
}

/// Blocks a thread until the child exits, then reaps it. The thread needs nothing from the
/// loop, so it also finishes the watch of a loop that closed first.
fn spawn_waiter_thread(watch: Arc<ChildWatch>) -> io::Result<()> {
    std::thread::Builder::new()
        .name(format!("asyncio-waitpid-{}", watch.pid))
        .stack_size(64 * 1024)
        .spawn(move || {
            loop {
                let waited = sys::wait_exited_nowait(watch.pid);
                if watch.try_reap() || waited.is_err() {
                    break;
                }
            }
        })?;
    Ok(())
}

/// A pidfd: readable once its process has exited.
#[derive(Debug)]
struct PidFd(OwnedFd);

impl mio::event::Source for PidFd {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).deregister(registry)
    }
}

/// The loop's internal task that reaps a child when its pidfd becomes readable. Cancelled
/// (the loop closed first), it hands the child to a waiter thread, so no zombie stays behind.
struct PidfdWatcher {
    watch: Arc<ChildWatch>,
    source: Option<Source<PidFd>>,
}

impl Future for PidfdWatcher {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(source) = self.source.as_ref() else {
            return Poll::Ready(());
        };
        let watch = &self.watch;
        let reaped = source.poll_io(Direction::Read, cx, |_| {
            if watch.try_reap() {
                Ok(())
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            }
        });
        match reaped {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) => {
                self.source = None; // deregister and close the pidfd now
                Poll::Ready(())
            }
        }
    }
}

impl Drop for PidfdWatcher {
    fn drop(&mut self) {
        drop(self.source.take());
        if !self.watch.try_reap() {
            if let Err(e) = spawn_waiter_thread(self.watch.clone()) {
                eprintln!(
                    "asyncio: cannot watch child process {} after its loop closed: {e}",
                    self.watch.pid
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_signal_numbers_are_refused_with_a_reason() {
        for sig in [0, -1, 65, 1000, libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV] {
            let err = check_signal(sig).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{sig}");
            assert!(err.to_string().contains(&sig.to_string()), "{err}");
        }
        assert_eq!(check_signal(libc::SIGTERM).unwrap(), 15);
    }

    #[test]
    fn add_signal_handler_off_the_main_thread_is_a_clear_error() {
        // libtest runs each test on a thread of its own, never the main one.
        let lp = EventLoop::new();
        let err = lp.add_signal_handler(libc::SIGUSR1, || {}).unwrap_err();
        assert!(err.to_string().contains("main thread"), "{err}");
        assert!(!lp.remove_signal_handler(libc::SIGUSR1));
        assert!(
            CtrlC::install(&lp).is_none(),
            "no Ctrl-C handling off the main thread"
        );
    }

    #[test]
    fn exit_statuses_read_as_asyncio_returncodes() {
        assert_eq!(returncode(0), 0);
        assert_eq!(returncode(2 << 8), 2); // exit(2)
        assert_eq!(returncode(libc::SIGKILL), -9); // killed by SIGKILL
    }

    fn run_child_with_waiter_thread(args: &[&str]) -> (Option<i32>, i32) {
        FORCE_WAITER_THREAD.with(|f| f.set(true));
        let lp = EventLoop::new();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let out = lp
            .run_until_complete(async move {
                let proc = crate::create_subprocess_exec(&args[0], &args[1..])
                    .await
                    .unwrap();
                let before = proc.returncode();
                (before, proc.wait().await)
            })
            .unwrap();
        FORCE_WAITER_THREAD.with(|f| f.set(false));
        out
    }

    #[test]
    fn the_waiter_thread_reports_an_exit_code_and_a_signal_death() {
        assert_eq!(run_child_with_waiter_thread(&["sh", "-c", "exit 3"]).1, 3);
        assert_eq!(
            run_child_with_waiter_thread(&["sh", "-c", "kill -TERM $$"]).1,
            -libc::SIGTERM
        );
    }

    #[test]
    fn a_child_of_a_closed_loop_is_still_reaped() {
        for forced in [false, true] {
            FORCE_WAITER_THREAD.with(|f| f.set(forced));
            let lp = EventLoop::new();
            let pid = lp
                .run_until_complete(async {
                    let proc = crate::create_subprocess_exec("sleep", ["0.2"])
                        .await
                        .unwrap();
                    proc.pid()
                })
                .unwrap();
            lp.close().unwrap();
            drop(lp);
            FORCE_WAITER_THREAD.with(|f| f.set(false));
            // A zombie still answers kill(pid, 0); a reaped child does not.
            let pid = pid as libc::pid_t;
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while sys::kill(pid, 0).is_ok() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "child {pid} never reaped"
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }
}
