//! Child processes that cannot outlive the driver, and waiting with a deadline.
//!
//! Every child (server, client, perf, strace) is started through [`command`], which pins it to a
//! CPU with `taskset` when asked and has the kernel kill it (`PR_SET_PDEATHSIG`) the moment the
//! driver dies, however it dies: Ctrl-C, `kill`, a panic. [`Guard`] kills and reaps a child when
//! it goes out of scope, so an early return leaves nothing behind either.

use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

/// Which CPU a child runs on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cpu {
    /// The servers' core.
    Server,
    /// The client's core (also perf's and strace's, and the driver's own).
    Client,
}

impl Cpu {
    fn index(self) -> &'static str {
        match self {
            Cpu::Server => "0",
            Cpu::Client => "1",
        }
    }
}

/// `program`, pinned to `cpu` with `taskset` when `pin`, dying with the driver.
pub(crate) fn command(program: impl AsRef<Path>, cpu: Cpu, pin: bool) -> Command {
    let mut cmd = if pin {
        let mut cmd = Command::new("taskset");
        cmd.arg("-c").arg(cpu.index()).arg(program.as_ref());
        cmd
    } else {
        Command::new(program.as_ref())
    };
    let driver = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the forked child before `exec`, where only async-signal-safe
    // calls are allowed: `prctl(PR_SET_PDEATHSIG)` and `getppid` are system calls that allocate
    // nothing and take no lock, and the closure touches no memory but its copied `driver`.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The driver died between fork and prctl: the signal will never come, so stop here.
            if libc::getppid() != driver {
                return Err(io::Error::other("the driver is gone"));
            }
            Ok(())
        });
    }
    cmd
}

/// Sends `signal` to `child`.
pub(crate) fn signal(child: &Child, signal: libc::c_int) {
    // SAFETY: `kill` takes plain integers and touches no memory. The pid is that of a child we
    // have not reaped yet (a `Child` still owned here), so it cannot name another process.
    unsafe {
        libc::kill(child.id() as libc::pid_t, signal);
    }
}

/// Waits for `child` until `timeout`; `None` if it is still running then.
pub(crate) fn wait_timeout(child: &mut Child, timeout: Duration) -> io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        // Rare wake-ups, and on the client's core: the driver must not disturb the server's.
        thread::sleep(Duration::from_millis(10));
    }
}

/// A running child that is killed and reaped when the guard is dropped.
#[derive(Debug)]
pub(crate) struct Guard(pub(crate) Child);

impl Guard {
    /// Asks politely with `first` (SIGINT, SIGTERM), waits up to `grace`, then kills. Returns the
    /// exit status if the child stopped by itself within the grace period.
    pub(crate) fn stop(&mut self, first: libc::c_int, grace: Duration) -> Option<ExitStatus> {
        if let Ok(Some(status)) = self.0.try_wait() {
            return Some(status);
        }
        signal(&self.0, first);
        match wait_timeout(&mut self.0, grace) {
            Ok(Some(status)) => Some(status),
            _ => {
                let _ = self.0.kill();
                let _ = self.0.wait();
                None
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The last `lines` lines of a log file, for error messages.
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join(" | ")
}
