//! What to run, from the environment (`INSTR_*`, see `benches/instr/run.sh`).

use std::path::PathBuf;

/// The operations, in table order (the `instr` binary's names).
pub(crate) use crate::op_names::OPS;

/// The runtimes, in table order; the first is the crate under test.
pub(crate) const RUNTIMES: &[&str] = &["asyncio-rs", "tokio", "tokio-localset", "async-executor"];

/// The crate under test: its ratio is taken against the best of the others.
pub(crate) const UNDER_TEST: &str = "asyncio-rs";

/// Operations whose count depends on something besides the binary and its input: the real
/// clock (how often the loop wakes before the timer is due) or another thread (whether the
/// loop has blocked yet when the wake comes). They are repeated and the median is reported.
pub(crate) const NOISY: &[&str] = &["timer_fire", "cross_thread_wake"];

#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) quick: bool,
    pub(crate) ops: Vec<&'static str>,
    pub(crate) runtimes: Vec<&'static str>,
    /// `INSTR_N`: one count for every op, instead of the per-op defaults.
    pub(crate) n: Option<usize>,
    /// Runs (each at n and 2n) of a noisy op.
    pub(crate) repeat: usize,
    /// Tasks for the native `pending_rss` run; 0 skips it.
    pub(crate) memory_tasks: usize,
    /// Repeat the n run of every deterministic case, not only of the first.
    pub(crate) check_all: bool,
    pub(crate) bin: PathBuf,
    pub(crate) paused_bin: PathBuf,
    pub(crate) out: PathBuf,
}

impl Settings {
    pub(crate) fn from_env() -> Result<Settings, String> {
        let quick = flag("INSTR_QUICK");
        let exe = std::env::current_exe().map_err(|e| format!("path of this binary: {e}"))?;
        let dir = exe.parent().map(PathBuf::from).unwrap_or_default();
        let path = |var: &str, default: PathBuf| {
            std::env::var_os(var).map(PathBuf::from).unwrap_or(default)
        };
        let settings = Settings {
            quick,
            ops: pick("INSTR_OPS", OPS)?,
            runtimes: pick("INSTR_RUNTIMES", RUNTIMES)?,
            n: number("INSTR_N")?,
            repeat: number("INSTR_REPEAT")?
                .unwrap_or(if quick { 3 } else { 5 })
                .max(1),
            memory_tasks: number("INSTR_MEMORY")?.unwrap_or(if quick {
                100_000
            } else {
                1_000_000
            }),
            check_all: std::env::var("INSTR_CHECK").is_ok_and(|v| v == "all"),
            bin: path("INSTR_BIN", dir.join("instr")),
            paused_bin: path("INSTR_PAUSED_BIN", dir.join("instr-paused")),
            // The binaries are in <target>/release/: the results go to <target>/instr/.
            out: path(
                "INSTR_OUT",
                dir.parent()
                    .map_or_else(|| dir.join("instr"), |t| t.join("instr")),
            ),
        };
        if settings.n == Some(0) {
            return Err("INSTR_N must be at least 1".into());
        }
        Ok(settings)
    }

    /// How many times `op` runs in the shorter of its two runs (the other runs twice as many).
    pub(crate) fn n(&self, op: &str) -> usize {
        if let Some(n) = self.n {
            return n;
        }
        let full = match op {
            // Each one really waits 1 ms (plus valgrind's slowness).
            "timer_fire" => 1_000,
            "cross_thread_wake" => 5_000,
            _ => 20_000,
        };
        if self.quick { full / 5 } else { full }
    }

    pub(crate) fn runs(&self, op: &str) -> usize {
        if NOISY.contains(&op) { self.repeat } else { 1 }
    }
}

fn flag(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| !v.is_empty() && v != "0")
}

fn number(var: &str) -> Result<Option<usize>, String> {
    match std::env::var(var) {
        Err(_) => Ok(None),
        Ok(v) if v.is_empty() => Ok(None),
        Ok(v) => v
            .replace('_', "")
            .parse()
            .map(Some)
            .map_err(|_| format!("{var} must be a count, got {v:?}")),
    }
}

/// A comma-separated subset of `all` (all of it when the variable is unset), in `all`'s order.
fn pick(var: &str, all: &[&'static str]) -> Result<Vec<&'static str>, String> {
    let Ok(list) = std::env::var(var) else {
        return Ok(all.to_vec());
    };
    let wanted: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(bad) = wanted.iter().find(|w| !all.contains(w)) {
        return Err(format!(
            "{var}: unknown name {bad:?}; known: {}",
            all.join(",")
        ));
    }
    Ok(all
        .iter()
        .copied()
        .filter(|name| wanted.contains(name))
        .collect())
}
