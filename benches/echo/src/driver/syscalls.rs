//! Syscalls per round trip: `perf stat` on the kernel's syscall tracepoints, attached to the
//! server for exactly the client's measured window; `strace -c` where perf is not allowed.
//!
//! perf starts with its counters off (`--delay=-1`) and listens on two FIFOs (`--control`); the
//! client sends `enable` when its window opens and `disable` when it closes, and waits for
//! perf's `ack` each time. Counting costs the server a little on every syscall, so this is an
//! extra visit of its own and the CPU figures come from the visits without it.
//!
//! strace stops the server at every syscall (ptrace), which slows it down several times and
//! changes how much work piles up per wake-up: its counts are marked as distorted. It cannot be
//! switched on and off, so it counts the whole client run, warm-up included, and divides by
//! all of its round trips.

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use super::procs::{self, Cpu, Guard};

/// The syscalls counted one by one; the rest is summed as `other` (from `raw_syscalls`).
const NAMED: &[&str] = &[
    "read",
    "write",
    "recvfrom",
    "sendto",
    "readv",
    "writev",
    "recvmsg",
    "sendmsg",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_ctl",
    "accept4",
    "close",
    "futex",
    "poll",
    "ppoll",
    "io_uring_enter",
    "getsockopt",
    "setsockopt",
    "sched_yield",
    "timerfd_settime",
    "mmap",
    "munmap",
    "madvise",
    "brk",
    "mprotect",
    "rt_sigprocmask",
    "ioctl",
    "getpid",
];

/// How syscalls get counted on this machine.
#[derive(Debug, Clone)]
pub(crate) enum Counter {
    /// `perf stat` with these tracepoints.
    Perf { events: String },
    /// `strace -c -f` (distorts).
    Strace,
}

/// Counts over one window: `(syscall, count)`, and the grand total.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Counts {
    pub(crate) total: u64,
    pub(crate) by_name: Vec<(String, u64)>,
}

impl Counter {
    /// perf if it can count syscall tracepoints here, else strace if present. `Err` says why
    /// neither works.
    pub(crate) fn detect(force_strace: bool) -> Result<Counter, String> {
        let perf_works = !force_strace
            && std::process::Command::new("perf")
                .args([
                    "stat",
                    "-x",
                    ",",
                    "-e",
                    "raw_syscalls:sys_enter",
                    "--",
                    "true",
                ])
                .stdout(Stdio::null())
                .output()
                .is_ok_and(|o| {
                    o.status.success() && parse_perf(&String::from_utf8_lossy(&o.stderr)).total > 0
                });
        if perf_works {
            // Name only the tracepoints this kernel has: perf refuses an unknown one. (The check
            // above has mounted tracefs if it was not.)
            let dir = [
                "/sys/kernel/tracing/events/syscalls",
                "/sys/kernel/debug/tracing/events/syscalls",
            ]
            .into_iter()
            .map(Path::new)
            .find(|d| d.is_dir());
            let mut events = "raw_syscalls:sys_enter".to_owned();
            for name in NAMED {
                if dir.is_some_and(|d| d.join(format!("sys_enter_{name}")).is_dir()) {
                    events.push_str(&format!(",syscalls:sys_enter_{name}"));
                }
            }
            return Ok(Counter::Perf { events });
        }
        let strace = std::process::Command::new("strace").arg("-V").output();
        if strace.is_ok_and(|o| o.status.success()) {
            return Ok(Counter::Strace);
        }
        Err("neither perf (syscall tracepoints) nor strace works here".into())
    }

    /// What the report says about the method.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Counter::Perf { .. } => {
                "perf stat on raw_syscalls:sys_enter and syscalls:sys_enter_* tracepoints, attached to the server for one measured window"
            }
            Counter::Strace => {
                "strace -c -f (perf unavailable, or ECHO_SYSCALLS=strace): ptrace stops the server at every syscall, which distorts the pattern (fewer events per wake-up), so take these as rough"
            }
        }
    }
}

/// A perf session attached to `pid`, counting nothing until the client enables it.
#[derive(Debug)]
pub(crate) struct Session {
    process: Guard,
    output: PathBuf,
    /// Extra arguments for `echo-client`.
    pub(crate) client_args: Vec<String>,
    strace: bool,
}

impl Session {
    /// Attaches to the server `pid`; files go to `dir` under `tag`.
    pub(crate) fn start(
        counter: &Counter,
        pid: u32,
        dir: &Path,
        tag: &str,
        pin: bool,
    ) -> Result<Session, String> {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let output = dir.join(format!("syscalls-{tag}.txt"));
        let _ = fs::remove_file(&output);
        match counter {
            Counter::Perf { events } => {
                let ctl = dir.join("perf-ctl.fifo");
                let ack = dir.join("perf-ack.fifo");
                make_fifo(&ctl)?;
                make_fifo(&ack)?;
                let mut cmd = procs::command("perf", Cpu::Client, pin);
                cmd.args(["stat", "-x", ",", "--delay=-1"])
                    .arg("-o")
                    .arg(&output)
                    .arg(format!(
                        "--control=fifo:{},{}",
                        ctl.display(),
                        ack.display()
                    ))
                    .args(["-e", events, "-p", &pid.to_string()])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                let child = cmd.spawn().map_err(|e| format!("perf: {e}"))?;
                Ok(Session {
                    process: Guard(child),
                    output,
                    client_args: vec![
                        "--perf-ctl".into(),
                        ctl.display().to_string(),
                        "--perf-ack".into(),
                        ack.display().to_string(),
                    ],
                    strace: false,
                })
            }
            Counter::Strace => {
                let mut cmd = procs::command("strace", Cpu::Client, pin);
                cmd.args(["-c", "-f", "-q", "-o"])
                    .arg(&output)
                    .args(["-p", &pid.to_string()])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                let child = cmd.spawn().map_err(|e| format!("strace: {e}"))?;
                // strace has no "ready" signal: give it time to attach before the load starts.
                std::thread::sleep(Duration::from_millis(500));
                Ok(Session {
                    process: Guard(child),
                    output,
                    client_args: Vec::new(),
                    strace: true,
                })
            }
        }
    }

    /// Stops the counter and reads its counts.
    pub(crate) fn finish(mut self) -> Result<Counts, String> {
        self.process.stop(libc::SIGINT, Duration::from_secs(10));
        let text = fs::read_to_string(&self.output)
            .map_err(|e| format!("{}: {e}", self.output.display()))?;
        let counts = if self.strace {
            parse_strace(&text)
        } else {
            parse_perf(&text)
        };
        if counts.total == 0 {
            return Err(format!("no syscalls counted ({})", self.output.display()));
        }
        Ok(counts)
    }

    /// Whether the counts cover the whole client run (strace) rather than its window (perf).
    pub(crate) fn counts_whole_run(&self) -> bool {
        self.strace
    }
}

fn make_fifo(path: &Path) -> Result<(), String> {
    let _ = fs::remove_file(path);
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("{}: a NUL in the path", path.display()))?;
    // SAFETY: `c_path` is a NUL-terminated string that outlives the call; `mkfifo` only reads it.
    if unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) } != 0 {
        return Err(format!(
            "mkfifo {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// `perf stat -x,` output: `count,unit,event,...` per line; `raw_syscalls:sys_enter` is the total.
pub(crate) fn parse_perf(text: &str) -> Counts {
    let mut counts = Counts::default();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(',').collect();
        let (Some(count), Some(event)) = (fields.first(), fields.get(2)) else {
            continue;
        };
        // perf writes its "Events enabled/disabled" messages into the same file, without
        // line breaks of their own, so a count may follow one: keep only the digits at the end.
        let count = count.trim();
        let digits = &count[count.trim_end_matches(|c: char| c.is_ascii_digit()).len()..];
        let Ok(count) = digits.parse::<u64>() else {
            continue; // `<not counted>`, comments
        };
        if *event == "raw_syscalls:sys_enter" {
            counts.total = count;
        } else if let Some(name) = event.strip_prefix("syscalls:sys_enter_") {
            counts.by_name.push((name.to_owned(), count));
        }
    }
    counts.finish()
}

/// `strace -c` output: a table whose rows end with `calls [errors] syscall`; the `total` row is
/// the total.
pub(crate) fn parse_strace(text: &str) -> Counts {
    let mut counts = Counts::default();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() < 5 || words[0].starts_with('%') || words[0].starts_with('-') {
            continue;
        }
        // % time, seconds, usecs/call, calls, [errors,] syscall
        let (Ok(calls), Some(name)) = (words[3].parse::<u64>(), words.last()) else {
            continue;
        };
        if *name == "total" {
            counts.total = calls;
        } else {
            counts.by_name.push(((*name).to_owned(), calls));
        }
    }
    counts.finish()
}

impl Counts {
    /// Sorts by count, drops zeros, and adds `other` for what the named ones leave of the total.
    fn finish(mut self) -> Counts {
        self.by_name.retain(|(_, n)| *n > 0);
        let named: u64 = self.by_name.iter().map(|(_, n)| n).sum();
        if self.total > named {
            self.by_name.push(("other".to_owned(), self.total - named));
        }
        self.total = self.total.max(named);
        self.by_name
            .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perf_csv_gives_total_and_named_counts_with_other_for_the_rest() {
        let text = "# started on ...\n\n\
            3010,,raw_syscalls:sys_enter,1000,100.00,,\n\
            1000,,syscalls:sys_enter_recvfrom,1000,100.00,,\n\
            1000,,syscalls:sys_enter_sendto,1000,100.00,,\n\
            Events disabled1000,,syscalls:sys_enter_epoll_wait,1000,100.00,,\n\
            0,,syscalls:sys_enter_epoll_ctl,1000,100.00,,Events disabled\n\
            Events enabled\n\
            <not counted>,,syscalls:sys_enter_futex,0,0.00,,\n";
        let counts = parse_perf(text);
        assert_eq!(counts.total, 3010);
        let names: Vec<&str> = counts.by_name.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["epoll_wait", "recvfrom", "sendto", "other"]);
        assert_eq!(counts.by_name[3].1, 10);
    }

    #[test]
    fn strace_summary_with_and_without_errors_column() {
        let text = "% time     seconds  usecs/call     calls    errors syscall\n\
            ------ ----------- ----------- --------- --------- ----------------\n\
             50.00    0.001000           1      1000           sendto\n\
             40.00    0.000800           0      1000       200 recvfrom\n\
             10.00    0.000200           0       500           epoll_wait\n\
            ------ ----------- ----------- --------- --------- ----------------\n\
            100.00    0.002000           0      2500       200 total\n";
        let counts = parse_strace(text);
        assert_eq!(counts.total, 2500);
        assert_eq!(counts.by_name.len(), 3);
        assert!(counts.by_name.contains(&("recvfrom".to_owned(), 1000)));
    }
}
