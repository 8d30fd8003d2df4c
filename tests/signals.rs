//! Signal handlers (`add_signal_handler`, `remove_signal_handler`) and Ctrl-C in `run`.
//!
//! Signal dispositions belong to the whole process, and `add_signal_handler` works only on
//! the main thread, which libtest keeps for itself. So this file has its own `main`
//! (`harness = false` in Cargo.toml) and runs its scenarios there, one after another.
//! The Ctrl-C scenarios end their process by SIGINT, so each runs in a child: this same
//! binary, started again with `ASYNCIO_SIGNALS_CHILD=<scenario>`.
//!
//! `cargo test --test signals` runs everything; `cargo test --test signals -- ctrl_c` only
//! the scenarios whose name contains `ctrl_c`.

use std::cell::{Cell, RefCell};
use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use asyncio::signal::{SIGINT, SIGKILL, SIGSTOP, SIGTERM, SIGUSR1, SIGUSR2};
use asyncio::{EventLoop, get_running_loop, wait_for};

/// How long anything here may take before the scenario fails.
const BOUND: Duration = Duration::from_secs(20);
/// The environment variable that makes this binary run one child scenario.
const CHILD: &str = "ASYNCIO_SIGNALS_CHILD";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Sends `sig` to this process (as `kill -<sig> <pid>` from outside would).
fn send_to_self(sig: i32) {
    // SAFETY: kill takes integers only.
    assert_eq!(unsafe { libc::kill(libc::getpid(), sig) }, 0);
}

/// The handler address of `sig`'s current disposition (`SIG_DFL`, `SIG_IGN`, or a function).
fn disposition(sig: i32) -> libc::sighandler_t {
    // SAFETY: plain old data; all zeroes is valid.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null new action only reads the disposition into `old`, a live local.
    assert_eq!(
        unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) },
        0
    );
    old.sa_sigaction
}

/// Sets `sig`'s disposition to `SIG_DFL` or `SIG_IGN`.
fn set_disposition(sig: i32, handler: libc::sighandler_t) {
    // SAFETY: `signal` with SIG_DFL or SIG_IGN installs no code of ours.
    assert_ne!(unsafe { libc::signal(sig, handler) }, libc::SIG_ERR);
}

/// A value that prints `what` when dropped: proof that a destructor ran.
struct Print(&'static str);

impl Drop for Print {
    fn drop(&mut self) {
        println!("{}", self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios on the main thread
// ---------------------------------------------------------------------------------------------

fn a_handler_runs_on_the_loop_in_a_later_iteration() {
    asyncio::run(async {
        let lp = get_running_loop().unwrap();
        let event = Rc::new(asyncio::Event::new());
        let calls = Rc::new(Cell::new(0));
        let (e, c) = (event.clone(), calls.clone());
        let main_thread = std::thread::current().id();
        lp.add_signal_handler(SIGUSR1, move || {
            assert_eq!(std::thread::current().id(), main_thread);
            c.set(c.get() + 1);
            e.set();
        })
        .unwrap();
        send_to_self(SIGUSR1);
        assert_eq!(
            calls.get(),
            0,
            "the callback waits for the loop, never runs in the handler"
        );
        wait_for(event.wait(), BOUND.as_secs_f64()).await.unwrap();
        assert_eq!(calls.get(), 1);
        // Again: a handler stays until removed.
        event.clear();
        send_to_self(SIGUSR1);
        wait_for(event.wait(), BOUND.as_secs_f64()).await.unwrap();
        assert_eq!(calls.get(), 2);
        assert!(lp.remove_signal_handler(SIGUSR1));
    });
}

fn a_signal_wakes_a_loop_blocked_with_nothing_else_to_do() {
    let started = Instant::now();
    asyncio::run(async {
        let lp = get_running_loop().unwrap();
        let event = Rc::new(asyncio::Event::new());
        let e = event.clone();
        lp.add_signal_handler(SIGUSR2, move || e.set()).unwrap();
        std::thread::spawn(|| {
            std::thread::sleep(Duration::from_millis(100));
            send_to_self(SIGUSR2);
        });
        // No timer and no other I/O: only the signal's wake can end this wait.
        event.wait().await;
        lp.remove_signal_handler(SIGUSR2);
    });
    assert!(started.elapsed() < BOUND);
}

fn a_panicking_handler_is_reported_and_the_loop_goes_on() {
    // The panic is expected: keep the default hook from printing it.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    asyncio::run(async {
        let lp = get_running_loop().unwrap();
        let reports = Rc::new(RefCell::new(Vec::new()));
        let r = reports.clone();
        lp.set_exception_handler(Some(move |ctx: &asyncio::ExceptionContext| {
            r.borrow_mut().push(ctx.message.clone());
        }));
        let event = Rc::new(asyncio::Event::new());
        let calls = Rc::new(Cell::new(0));
        let (e, c) = (event.clone(), calls.clone());
        lp.add_signal_handler(SIGUSR1, move || {
            c.set(c.get() + 1);
            if c.get() == 1 {
                panic!("handler failed");
            }
            e.set();
        })
        .unwrap();
        send_to_self(SIGUSR1);
        while calls.get() == 0 {
            asyncio::sleep(0.001).await;
        }
        assert_eq!(reports.borrow().len(), 1);
        assert!(
            reports.borrow()[0].contains("handler failed"),
            "{:?}",
            reports.borrow()
        );
        send_to_self(SIGUSR1);
        wait_for(event.wait(), BOUND.as_secs_f64()).await.unwrap();
        assert_eq!(calls.get(), 2, "the handler still runs after its panic");
        lp.remove_signal_handler(SIGUSR1);
    });
    std::panic::set_hook(default_hook);
}

fn replacing_a_handler_calls_only_the_new_one() {
    asyncio::run(async {
        let lp = get_running_loop().unwrap();
        let log = Rc::new(RefCell::new(Vec::new()));
        let event = Rc::new(asyncio::Event::new());
        let l = log.clone();
        lp.add_signal_handler(SIGUSR2, move || l.borrow_mut().push("old"))
            .unwrap();
        let (l, e) = (log.clone(), event.clone());
        lp.add_signal_handler(SIGUSR2, move || {
            l.borrow_mut().push("new");
            e.set();
        })
        .unwrap();
        send_to_self(SIGUSR2);
        wait_for(event.wait(), BOUND.as_secs_f64()).await.unwrap();
        assert_eq!(*log.borrow(), ["new"]);
        assert!(lp.remove_signal_handler(SIGUSR2));
        assert!(!lp.remove_signal_handler(SIGUSR2), "removed already");
    });
}

fn remove_close_and_drop_restore_the_previous_disposition() {
    set_disposition(SIGUSR1, libc::SIG_IGN);

    let lp = EventLoop::new();
    lp.add_signal_handler(SIGUSR1, || {}).unwrap();
    assert_ne!(
        disposition(SIGUSR1),
        libc::SIG_IGN,
        "our handler is installed"
    );
    assert!(lp.remove_signal_handler(SIGUSR1));
    assert_eq!(disposition(SIGUSR1), libc::SIG_IGN, "remove restores");

    lp.add_signal_handler(SIGUSR1, || {}).unwrap();
    lp.close().unwrap();
    assert_eq!(disposition(SIGUSR1), libc::SIG_IGN, "close restores");
    assert!(!lp.remove_signal_handler(SIGUSR1), "close removed it");
    drop(lp);

    let lp = EventLoop::new();
    lp.add_signal_handler(SIGUSR1, || {}).unwrap();
    drop(lp);
    assert_eq!(
        disposition(SIGUSR1),
        libc::SIG_IGN,
        "dropping the loop restores"
    );

    set_disposition(SIGUSR1, libc::SIG_DFL);
}

fn bad_input_is_a_clear_error() {
    let lp = EventLoop::new();
    for sig in [0, -3, 65, 1000, SIGKILL, SIGSTOP, libc::SIGSEGV] {
        let err = lp.add_signal_handler(sig, || {}).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{sig}: {err}");
        assert!(err.to_string().contains("invalid signal number"), "{err}");
        assert!(!lp.remove_signal_handler(sig));
    }

    // Off the main thread: refused, as asyncio refuses.
    let err = std::thread::spawn(|| {
        EventLoop::new()
            .add_signal_handler(SIGTERM, || {})
            .unwrap_err()
            .to_string()
    })
    .join()
    .unwrap();
    assert!(err.contains("main thread"), "{err}");

    // One loop per signal.
    lp.add_signal_handler(SIGUSR2, || {}).unwrap();
    let other = EventLoop::new();
    let err = other.add_signal_handler(SIGUSR2, || {}).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
    assert!(err.to_string().contains("another event loop"), "{err}");
    drop(lp); // gives SIGUSR2 back ...
    other.add_signal_handler(SIGUSR2, || {}).unwrap(); // ... so the other may have it
    assert!(other.remove_signal_handler(SIGUSR2));

    // A closed loop.
    other.close().unwrap();
    let err = other.add_signal_handler(SIGUSR2, || {}).unwrap_err();
    assert!(err.to_string().contains("closed"), "{err}");
    assert_eq!(disposition(SIGUSR2), libc::SIG_DFL);
}

fn a_signal_during_loop_shutdown_is_harmless() {
    set_disposition(SIGUSR2, libc::SIG_IGN);
    let calls = Rc::new(Cell::new(0));
    let lp = EventLoop::new();
    lp.set_exception_handler(Some(|_: &asyncio::ExceptionContext| {})); // the pending task
    let c = calls.clone();
    lp.add_signal_handler(SIGUSR2, move || c.set(c.get() + 1))
        .unwrap();

    /// Raises SIGUSR2 from a destructor: the loop is closing when it runs.
    struct RaiseOnDrop;
    impl Drop for RaiseOnDrop {
        fn drop(&mut self) {
            send_to_self(SIGUSR2);
        }
    }
    lp.create_task(async {
        let _raise = RaiseOnDrop;
        std::future::pending::<()>().await;
    });
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    lp.close().unwrap(); // cancels the task: SIGUSR2 arrives while the loop closes
    assert_eq!(calls.get(), 0, "a closed loop runs no callback");
    assert_eq!(disposition(SIGUSR2), libc::SIG_IGN);
    send_to_self(SIGUSR2); // ignored again, as before the loop
    drop(lp);
    assert_eq!(calls.get(), 0);

    // A signal between two iterations of a loop that is then dropped with the signal still
    // undelivered: nothing runs, nothing breaks.
    let lp = EventLoop::new();
    let c = calls.clone();
    lp.add_signal_handler(SIGUSR2, move || c.set(c.get() + 1))
        .unwrap();
    send_to_self(SIGUSR2);
    drop(lp);
    assert_eq!(calls.get(), 0);
    assert_eq!(disposition(SIGUSR2), libc::SIG_IGN);
    set_disposition(SIGUSR2, libc::SIG_DFL);
}

// ---------------------------------------------------------------------------------------------
// Ctrl-C: children of this binary
// ---------------------------------------------------------------------------------------------

/// One child scenario; runs in the child process.
fn child(scenario: &str) {
    match scenario {
        // Interrupted with a destructor in main, a leftover task and an executor job: all
        // cleaned up, then the process ends by SIGINT.
        "ctrl_c" | "ctrl_c_runner" | "ctrl_c_slow_cleanup" => {
            let job_secs = if scenario == "ctrl_c_slow_cleanup" {
                60
            } else {
                0
            };
            let main = async move {
                let _main = Print("main dropped");
                let _task = asyncio::create_task(async {
                    let _guard = Print("task cancelled");
                    std::future::pending::<()>().await;
                });
                let lp = get_running_loop().unwrap();
                let started = Arc::new(AtomicBool::new(false));
                let s = started.clone();
                let _job = lp
                    .run_in_executor(move || {
                        s.store(true, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(300 + job_secs * 1000));
                        println!("job finished");
                    })
                    .unwrap();
                // A job dropped before it starts is cancelled: wait until it runs.
                while !started.load(Ordering::SeqCst) {
                    asyncio::sleep(0.001).await;
                }
                println!("ready");
                // No timer, no I/O: the loop sleeps until the signal wakes it.
                std::future::pending::<()>().await;
            };
            if scenario == "ctrl_c_runner" {
                asyncio::Runner::new().run(main);
            } else {
                asyncio::run(main);
            }
            println!("after run");
        }
        // The program handles SIGINT itself: the runner leaves it alone.
        "own_handler" => {
            let got = asyncio::run(async {
                let lp = get_running_loop().unwrap();
                let count = Rc::new(Cell::new(0));
                let c = count.clone();
                lp.add_signal_handler(SIGINT, move || c.set(c.get() + 1))
                    .unwrap();
                println!("ready");
                while count.get() < 2 {
                    asyncio::sleep(0.01).await;
                }
                assert!(lp.remove_signal_handler(SIGINT));
                count.get()
            });
            println!("after run: {got} SIGINTs");
        }
        // SIGINT ignored before `run`: it stays ignored.
        "ignored" => {
            set_disposition(SIGINT, libc::SIG_IGN);
            asyncio::run(async {
                println!("ready");
                asyncio::sleep(0.5).await;
            });
            println!("after run");
        }
        other => panic!("unknown child scenario {other}"),
    }
}

/// A running child scenario, its stdout read line by line. Killed when dropped.
struct Scenario {
    name: String,
    process: std::process::Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Scenario {
    fn start(name: &str) -> Scenario {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .env(CHILD, name)
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        // SAFETY: between fork and exec only `signal`, which is async-signal-safe, runs. The
        // child must start with SIGINT at its default disposition even if this test was
        // started in the background (where shells ignore SIGINT).
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                Ok(())
            });
        }
        let mut process = command.spawn().unwrap();
        let stdout = process.stdout.take().unwrap();
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Scenario {
            name: name.to_owned(),
            process,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for the line `expected`.
    fn expect(&mut self, expected: &str) {
        let line = self.lines.recv_timeout(BOUND).unwrap_or_else(|_| {
            panic!(
                "{}: no line {expected:?} within {BOUND:?}; saw {:?}",
                self.name, self.seen
            )
        });
        self.seen.push(line.clone());
        assert_eq!(line, expected, "{}: after {:?}", self.name, self.seen);
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill takes integers only; the child is not reaped yet, so the pid is its.
        assert_eq!(unsafe { libc::kill(self.process.id() as i32, sig) }, 0);
    }

    /// Waits (at most `bound`) for the exit; returns the status and the lines not yet read.
    fn exit(&mut self, bound: Duration) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + bound;
        let status = loop {
            if let Some(status) = self.process.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "{}: still running after {bound:?}; saw {:?}",
                self.name,
                self.seen
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        let rest: Vec<String> = self.lines.iter().collect();
        (status, rest)
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn ctrl_c_cancels_main_cleans_up_and_ends_by_sigint() {
    for name in ["ctrl_c", "ctrl_c_runner"] {
        let mut child = Scenario::start(name);
        child.expect("ready");
        let sent = Instant::now();
        child.signal(SIGINT);
        let (status, rest) = child.exit(BOUND);
        assert_eq!(
            rest,
            ["main dropped", "task cancelled", "job finished"],
            "{name}: destructors, then the leftover task, then the executor's job; and \
             nothing after run"
        );
        assert_eq!(status.signal(), Some(SIGINT), "{name}: {status:?}");
        assert!(sent.elapsed() < BOUND);
    }
}

fn a_second_ctrl_c_during_cleanup_ends_the_process_at_once() {
    let mut child = Scenario::start("ctrl_c_slow_cleanup");
    child.expect("ready");
    child.signal(SIGINT);
    child.expect("main dropped");
    child.expect("task cancelled");
    // The runner now waits for the executor's 60 s job ...
    let sent = Instant::now();
    child.signal(SIGINT);
    let (status, rest) = child.exit(BOUND);
    // ... and the second SIGINT ends it without waiting.
    assert!(rest.is_empty(), "{rest:?}");
    assert_eq!(status.signal(), Some(SIGINT), "{status:?}");
    assert!(
        sent.elapsed() < Duration::from_secs(15),
        "{:?}",
        sent.elapsed()
    );
}

fn a_program_s_own_sigint_handler_is_left_alone() {
    let mut child = Scenario::start("own_handler");
    child.expect("ready");
    child.signal(SIGINT);
    std::thread::sleep(Duration::from_millis(50));
    child.signal(SIGINT);
    let (status, rest) = child.exit(BOUND);
    assert_eq!(rest, ["after run: 2 SIGINTs"]);
    assert_eq!(status.code(), Some(0), "{status:?}");
}

fn an_ignored_sigint_stays_ignored() {
    let mut child = Scenario::start("ignored");
    child.expect("ready");
    child.signal(SIGINT);
    let (status, rest) = child.exit(BOUND);
    assert_eq!(rest, ["after run"]);
    assert_eq!(status.code(), Some(0), "{status:?}");
}

// ---------------------------------------------------------------------------------------------

fn main() {
    if let Ok(scenario) = std::env::var(CHILD) {
        child(&scenario);
        return;
    }
    let tests: &[(&str, fn())] = &[
        (
            "a_handler_runs_on_the_loop_in_a_later_iteration",
            a_handler_runs_on_the_loop_in_a_later_iteration,
        ),
        (
            "a_signal_wakes_a_loop_blocked_with_nothing_else_to_do",
            a_signal_wakes_a_loop_blocked_with_nothing_else_to_do,
        ),
        (
            "a_panicking_handler_is_reported_and_the_loop_goes_on",
            a_panicking_handler_is_reported_and_the_loop_goes_on,
        ),
        (
            "replacing_a_handler_calls_only_the_new_one",
            replacing_a_handler_calls_only_the_new_one,
        ),
        (
            "remove_close_and_drop_restore_the_previous_disposition",
            remove_close_and_drop_restore_the_previous_disposition,
        ),
        ("bad_input_is_a_clear_error", bad_input_is_a_clear_error),
        (
            "a_signal_during_loop_shutdown_is_harmless",
            a_signal_during_loop_shutdown_is_harmless,
        ),
        (
            "ctrl_c_cancels_main_cleans_up_and_ends_by_sigint",
            ctrl_c_cancels_main_cleans_up_and_ends_by_sigint,
        ),
        (
            "a_second_ctrl_c_during_cleanup_ends_the_process_at_once",
            a_second_ctrl_c_during_cleanup_ends_the_process_at_once,
        ),
        (
            "a_program_s_own_sigint_handler_is_left_alone",
            a_program_s_own_sigint_handler_is_left_alone,
        ),
        (
            "an_ignored_sigint_stays_ignored",
            an_ignored_sigint_stays_ignored,
        ),
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in tests {
            println!("{name}: test");
        }
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let selected: Vec<_> = tests
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    println!(
        "\nrunning {} tests (on the main thread, one at a time)",
        selected.len()
    );
    for (name, test) in &selected {
        print!("test {name} ... ");
        test();
        println!("ok");
    }
    println!(
        "\ntest result: ok. {} passed; {} filtered out\n",
        selected.len(),
        tests.len() - selected.len()
    );
}
