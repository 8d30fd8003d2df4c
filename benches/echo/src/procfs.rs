//! What `/proc` tells about a process's CPU time: `utime + stime` from `/proc/PID/stat` (clock
//! ticks, all threads), and the scheduler's nanosecond run time from `/proc/PID/task/*/schedstat`.

use std::fs;
use std::io;

/// Clock ticks per second, the unit of `utime` and `stime` (`sysconf(_SC_CLK_TCK)`).
pub fn ticks_per_second() -> u64 {
    // SAFETY: `sysconf` only reads a configuration value; it has no preconditions and touches no
    // memory of ours.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as u64 } else { 100 }
}

/// `utime + stime` of process `pid` (`"self"` works too), in clock ticks, all threads included.
pub fn cpu_ticks(pid: &str) -> io::Result<u64> {
    parse_stat_ticks(&fs::read_to_string(format!("/proc/{pid}/stat"))?).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("/proc/{pid}/stat: no utime/stime fields"),
        )
    })
}

/// `utime + stime` from the text of a `/proc/PID/stat` file. The command name (field 2) is in
/// parentheses and may hold spaces and parentheses itself, so fields are counted from the last
/// `)`: after it come field 3 (`state`) onwards, and `utime`, `stime` are fields 14 and 15.
pub fn parse_stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// What the scheduler says about a process, summed over its threads.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sched {
    /// Time on a CPU, ns.
    pub run_ns: u64,
    /// Time runnable but waiting for a CPU (another process had it), ns.
    pub wait_ns: u64,
}

/// The first two fields of each `/proc/PID/task/TID/schedstat`, summed over the threads of
/// process `pid`: finer than clock ticks, and the wait says how much other processes got in the
/// way. `None` where the kernel has no schedstats.
pub fn sched(pid: &str) -> Option<Sched> {
    let mut total = Sched::default();
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = task.ok()?.path().join("schedstat");
        // A thread that ended between the listing and the read has no more time to add.
        let Ok(text) = fs::read_to_string(path) else {
            continue;
        };
        let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().ok());
        total.run_ns += fields.next()??;
        total.wait_ns += fields.next()??;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_ticks_are_utime_plus_stime_even_with_odd_command_names() {
        // Fields 14 and 15 are 7 and 5; the name holds a space and a parenthesis.
        let stat = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 5 0 0 20 0 1 0 99 1000 10";
        assert_eq!(parse_stat_ticks(stat), Some(12));
        assert_eq!(parse_stat_ticks("42 (x) S 1"), None);
    }

    #[test]
    fn own_process_has_cpu_time() {
        assert!(cpu_ticks("self").is_ok());
        let me = std::process::id().to_string();
        if let Some(sched) = sched(&me) {
            assert!(sched.run_ns > 0);
        }
        assert!(ticks_per_second() >= 1);
    }
}
