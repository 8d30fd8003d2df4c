//! What to run: the loads (message size x connections), the rounds and windows, and the
//! `ECHO_*` environment knobs.

use std::time::Duration;

/// One load: `conns` connections in a closed loop with `size`-byte messages.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Load {
    /// `1k-c10`: the size (`k` = KiB, or plain bytes) and the connection count.
    pub(crate) name: String,
    pub(crate) size: usize,
    pub(crate) conns: usize,
}

impl Load {
    /// Parses `<size>-c<conns>`, the size in bytes or with a `k` for KiB: `1k-c10`, `512-c1`.
    pub(crate) fn parse(name: &str) -> Result<Load, String> {
        let bad = || format!("load {name:?}: expected <size>-c<conns>, like 1k-c10 or 512-c1");
        let (size, conns) = name.split_once("-c").ok_or_else(bad)?;
        let size = match size.strip_suffix('k') {
            Some(kib) => kib.parse::<usize>().map_err(|_| bad())? * 1024,
            None => size.parse().map_err(|_| bad())?,
        };
        let conns: usize = conns.parse().map_err(|_| bad())?;
        if size == 0 || conns == 0 || conns > 10_000 {
            return Err(format!(
                "load {name:?}: size and connections must be 1..=10000"
            ));
        }
        Ok(Load {
            name: name.to_owned(),
            size,
            conns,
        })
    }
}

/// The issue's configurations: 1 KiB with 1, 10 and 100 connections; 10 and 100 KiB with 10.
pub(crate) const DEFAULT_LOADS: &[&str] = &["1k-c1", "1k-c10", "1k-c100", "10k-c10", "100k-c10"];

/// Everything the environment decides.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `ECHO_QUICK=1`: one short round.
    pub(crate) quick: bool,
    /// `ECHO_ROUNDS`: visits of every (server, load) for the CPU and latency figures.
    pub(crate) rounds: usize,
    /// `ECHO_WARMUP`: seconds of load before each measured window.
    pub(crate) warmup: Duration,
    /// `ECHO_DURATION`: seconds of each measured window.
    pub(crate) duration: Duration,
    /// The window of the extra visit with the syscall counter attached.
    pub(crate) syscall_window: Duration,
    /// `ECHO_SERVERS=tokio,c-epoll`: only these servers (names as in the tables).
    pub(crate) servers: Option<Vec<String>>,
    /// `ECHO_CONFIGS=1k-c10,100k-c10`: only these loads (any `<size>-c<conns>` works).
    pub(crate) loads: Vec<Load>,
    /// `ECHO_MAX_WAIT` (percent, default 10): a visit in which the server waited longer than
    /// this for its core (another process had it) is run again ...
    pub(crate) max_wait_pct: f64,
    /// ... up to `ECHO_RETRIES` times (default 1; 0 in the quick run), keeping the quietest.
    pub(crate) retries: usize,
    /// `ECHO_PIN=0`: do not pin (servers to CPU 0, client to CPU 1).
    pub(crate) pin: bool,
    /// `ECHO_SYSCALLS=0`: skip the syscall pass; `ECHO_SYSCALLS=strace` forces strace over perf.
    pub(crate) syscalls: SyscallChoice,
}

/// How syscalls are counted, as asked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum SyscallChoice {
    /// perf if it works, else strace.
    Auto,
    /// strace even where perf works.
    Strace,
    /// No syscall pass.
    Off,
}

impl Settings {
    /// Reads the `ECHO_*` variables.
    pub(crate) fn from_env() -> Result<Settings, String> {
        Settings::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.is_empty()))
    }

    /// The same, from any lookup (tests pass a map).
    pub(crate) fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let quick = var("ECHO_QUICK").is_some_and(|v| v != "0");
        let secs = |key: &str, default: f64| -> Result<Duration, String> {
            match var(key) {
                None => Ok(Duration::from_secs_f64(default)),
                Some(v) => v
                    .parse::<f64>()
                    .ok()
                    .and_then(|s| Duration::try_from_secs_f64(s).ok())
                    .filter(|d| !d.is_zero() && d.as_secs() < 600)
                    .ok_or_else(|| {
                        format!("{key}={v:?}: expected seconds, more than 0, under 600")
                    }),
            }
        };
        let rounds = match var("ECHO_ROUNDS") {
            None => {
                if quick {
                    1
                } else {
                    3
                }
            }
            Some(v) => v
                .parse()
                .ok()
                .filter(|&r| (1..=100).contains(&r))
                .ok_or_else(|| format!("ECHO_ROUNDS={v:?}: expected 1..=100"))?,
        };
        let list = |v: String| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        };
        let loads = match var("ECHO_CONFIGS") {
            None => DEFAULT_LOADS
                .iter()
                .map(|n| Load::parse(n))
                .collect::<Result<_, _>>()?,
            Some(v) => list(v)
                .iter()
                .map(|n| Load::parse(n))
                .collect::<Result<Vec<_>, _>>()?,
        };
        if loads.is_empty() {
            return Err("ECHO_CONFIGS names no load".into());
        }
        let syscalls = match var("ECHO_SYSCALLS").as_deref() {
            None | Some("1") | Some("perf") => SyscallChoice::Auto,
            Some("0") => SyscallChoice::Off,
            Some("strace") => SyscallChoice::Strace,
            Some(v) => return Err(format!("ECHO_SYSCALLS={v:?}: expected 0, 1 or strace")),
        };
        Ok(Settings {
            quick,
            rounds,
            warmup: secs("ECHO_WARMUP", if quick { 0.2 } else { 1.0 })?,
            duration: secs("ECHO_DURATION", if quick { 0.5 } else { 3.0 })?,
            syscall_window: if quick {
                Duration::from_millis(300)
            } else {
                Duration::from_secs(2)
            },
            max_wait_pct: match var("ECHO_MAX_WAIT") {
                None => 10.0,
                Some(v) => v
                    .parse::<f64>()
                    .ok()
                    .filter(|p| (0.0..=100.0).contains(p))
                    .ok_or_else(|| format!("ECHO_MAX_WAIT={v:?}: expected a percentage"))?,
            },
            retries: match var("ECHO_RETRIES") {
                None => usize::from(!quick),
                Some(v) => v
                    .parse()
                    .ok()
                    .filter(|&r| r <= 10)
                    .ok_or_else(|| format!("ECHO_RETRIES={v:?}: expected 0..=10"))?,
            },
            servers: var("ECHO_SERVERS").map(list),
            loads,
            pin: var("ECHO_PIN").is_none_or(|v| v != "0"),
            syscalls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn loads_parse_sizes_in_kib_or_bytes() {
        assert_eq!(Load::parse("100k-c10").unwrap().size, 102_400);
        let load = Load::parse("512-c3").unwrap();
        assert_eq!((load.size, load.conns), (512, 3));
        assert!(Load::parse("1k").is_err());
        assert!(Load::parse("1k-c0").is_err());
        assert!(Load::parse("xk-c1").is_err());
    }

    #[test]
    fn defaults_are_the_issues_configs_and_quick_is_one_short_round() {
        let full = settings(&[]).unwrap();
        let names: Vec<_> = full.loads.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, DEFAULT_LOADS);
        assert_eq!((full.rounds, full.duration), (3, Duration::from_secs(3)));
        let quick = settings(&[("ECHO_QUICK", "1")]).unwrap();
        assert_eq!(
            (quick.rounds, quick.duration),
            (1, Duration::from_millis(500))
        );
    }

    #[test]
    fn filters_and_bad_values() {
        let s = settings(&[
            ("ECHO_SERVERS", "tokio, c-epoll"),
            ("ECHO_CONFIGS", "1k-c10"),
        ])
        .unwrap();
        assert_eq!(s.servers.unwrap(), ["tokio", "c-epoll"]);
        assert_eq!(s.loads.len(), 1);
        assert!(
            settings(&[("ECHO_ROUNDS", "0")])
                .unwrap_err()
                .contains("ECHO_ROUNDS")
        );
        assert!(settings(&[("ECHO_DURATION", "-1")]).is_err());
        assert!(settings(&[("ECHO_SYSCALLS", "maybe")]).is_err());
        assert_eq!(
            settings(&[("ECHO_SYSCALLS", "0")]).unwrap().syscalls,
            SyscallChoice::Off
        );
    }
}
