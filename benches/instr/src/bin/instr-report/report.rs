//! From counts to Markdown: the table of instructions per op (with the ratio of the crate
//! under test to the best peer), allocations per op, memory, the determinism check, and the
//! per-function breakdown of the crate under test.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use crate::callgrind::Profile;
use crate::settings::{NOISY, Settings, UNDER_TEST};

/// How many functions the printed breakdowns show (the saved files have them all).
const TOP: usize = 12;

/// One (operation, runtime) cell.
#[derive(Debug)]
pub(crate) struct Case {
    op: &'static str,
    runtime: &'static str,
    n: usize,
    pub(crate) measured: Measured,
}

impl Case {
    pub(crate) fn new(
        op: &'static str,
        runtime: &'static str,
        n: usize,
        measured: Measured,
    ) -> Case {
        Case {
            op,
            runtime,
            n,
            measured,
        }
    }
}

#[derive(Debug)]
pub(crate) enum Measured {
    Counted {
        /// Instructions per op (the median run's).
        per_op: f64,
        /// The lowest and highest of the runs (equal when run once).
        low: f64,
        high: f64,
        /// Calls into the allocator per op.
        allocs: f64,
        /// Calls to `clock_gettime` per op.
        clock_reads: f64,
        functions: Vec<Function>,
    },
    Unsupported(String),
    Failed(String),
}

/// One function's instructions per op.
#[derive(Debug, Clone)]
pub(crate) struct Function {
    name: String,
    inclusive: f64,
    own: f64,
}

/// Per function, what the long run counted beyond the short one, divided by `n`: the
/// function's share of one op. Functions under half an instruction per op are left out.
pub(crate) fn functions(short: &Profile, long: &Profile, n: usize) -> Vec<Function> {
    let per_op = |before: &HashMap<String, u64>, after: &HashMap<String, u64>, name: &str| {
        let at = |map: &HashMap<String, u64>| map.get(name).copied().unwrap_or(0) as f64;
        (at(after) - at(before)) / n as f64
    };
    let names: BTreeSet<&String> = short.incl_ir.keys().chain(long.incl_ir.keys()).collect();
    let mut rows: Vec<Function> = names
        .into_iter()
        .map(|name| Function {
            name: name.clone(),
            inclusive: per_op(&short.incl_ir, &long.incl_ir, name),
            own: per_op(&short.self_ir, &long.self_ir, name),
        })
        .filter(|f| f.inclusive.abs() >= 0.5 || f.own.abs() >= 0.5)
        .collect();
    rows.sort_by(|a, b| {
        b.inclusive
            .total_cmp(&a.inclusive)
            .then(a.name.cmp(&b.name))
    });
    rows
}

/// The process's scaffolding around every op (startup, `main`, the runtime's `block_on`
/// entry): always at the top of the inclusive list, saying nothing about the op.
fn is_scaffolding(name: &str) -> bool {
    name.starts_with("0x")
        || name.contains("(below main)")
        || name.starts_with("__libc_start")
        || name.starts_with("std::rt::")
        || name.contains("__rust_begin_short_backtrace")
        || matches!(name, "main" | "instr::main")
}

#[derive(Debug)]
pub(crate) struct Report {
    quick: bool,
    repeat: usize,
    ops: Vec<&'static str>,
    runtimes: Vec<&'static str>,
    memory_tasks: usize,
    cases: Vec<Case>,
    checks: Vec<String>,
    rss: Vec<(&'static str, Result<f64, String>)>,
}

impl Report {
    pub(crate) fn new(settings: &Settings) -> Report {
        Report {
            quick: settings.quick,
            repeat: settings.repeat,
            ops: settings.ops.clone(),
            runtimes: settings.runtimes.clone(),
            memory_tasks: settings.memory_tasks,
            cases: Vec::new(),
            checks: Vec::new(),
            rss: Vec::new(),
        }
    }

    pub(crate) fn add(&mut self, case: Case) {
        self.cases.push(case);
    }

    pub(crate) fn add_rss(&mut self, runtime: &'static str, rss: Result<f64, String>) {
        self.rss.push((runtime, rss));
    }

    /// Records a case run twice with the same n: `a` and `b` are the two profiles.
    pub(crate) fn add_check(
        &mut self,
        runtime: &str,
        op: &str,
        n: usize,
        a: &Profile,
        b: &Profile,
    ) {
        let verdict = if a.total == b.total {
            "identical".to_owned()
        } else {
            // Say where the difference is: the functions whose own count moved most.
            let mut moved: Vec<(&String, i64)> = a
                .self_ir
                .keys()
                .chain(b.self_ir.keys())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|name| {
                    let at = |p: &Profile| p.self_ir.get(name).copied().unwrap_or(0) as i64;
                    (name, at(b) - at(a))
                })
                .filter(|(_, d)| *d != 0)
                .collect();
            moved.sort_by_key(|(name, d)| (std::cmp::Reverse(d.abs()), (*name).clone()));
            let top: Vec<String> = moved
                .iter()
                .take(3)
                .map(|(name, d)| format!("`{}` {d:+}", short(name)))
                .collect();
            let d = b.total as i64 - a.total as i64;
            format!(
                "{d:+} instructions, {:.4} per op; most in {}",
                d as f64 / n as f64,
                top.join(", ")
            )
        };
        self.checks.push(format!(
            "`{runtime} {op}` with n = {n}, run twice: {} and {} instructions: {verdict}",
            thousands(a.total as f64),
            thousands(b.total as f64)
        ));
    }

    /// The counted cases, as (op, runtime, n).
    pub(crate) fn counted(&self) -> impl Iterator<Item = (&'static str, &'static str, usize)> + '_ {
        self.cases
            .iter()
            .filter(|c| matches!(c.measured, Measured::Counted { .. }))
            .map(|c| (c.op, c.runtime, c.n))
    }

    fn case(&self, op: &str, runtime: &str) -> Option<&Case> {
        self.cases
            .iter()
            .find(|c| c.op == op && c.runtime == runtime)
    }

    pub(crate) fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "## Instructions per operation ({} run)\n",
            if self.quick { "quick" } else { "full" }
        );
        self.table(
            &mut s,
            |m| match m {
                Measured::Counted {
                    per_op, low, high, ..
                } if low != high => {
                    format!("{} ({}..{})", count(*per_op), count(*low), count(*high))
                }
                Measured::Counted { per_op, .. } => count(*per_op),
                _ => unreachable!(),
            },
            true,
        );
        let _ = writeln!(
            s,
            "\n{} are the median of {} runs (each at n and 2n), lowest..highest in brackets; \
             every other case is run once (the determinism check below shows how far a repeat \
             moves). `n` per op: {}.",
            NOISY
                .iter()
                .map(|o| format!("`{o}`"))
                .collect::<Vec<_>>()
                .join(" and "),
            self.repeat,
            self.ops
                .iter()
                .filter_map(|op| self
                    .cases
                    .iter()
                    .find(|c| c.op == *op)
                    .map(|c| format!("{op} {}", c.n)))
                .collect::<Vec<_>>()
                .join(", ")
        );

        let _ = writeln!(s, "\n### Allocations per operation\n");
        self.table(
            &mut s,
            |m| match m {
                Measured::Counted { allocs, .. } => format!("{allocs:.2}"),
                _ => unreachable!(),
            },
            false,
        );

        let _ = writeln!(
            s,
            "\n### Clock reads per operation\n\n\
             Calls to `clock_gettime`. Under valgrind it makes the system call (about 10 \
             instructions counted, the kernel's work not); natively it runs in the vDSO, some \
             tens of instructions and no system call. So each read here costs more than the \
             table above shows.\n"
        );
        self.table(
            &mut s,
            |m| match m {
                Measured::Counted { clock_reads, .. } => format!("{clock_reads:.2}"),
                _ => unreachable!(),
            },
            false,
        );

        if !self.rss.is_empty() {
            let _ = writeln!(s, "\n### Memory\n");
            let _ = writeln!(s, "| | {} |", self.runtimes.join(" | "));
            let _ = writeln!(s, "|---|{}", "---:|".repeat(self.runtimes.len()));
            let rss: Vec<String> = self
                .runtimes
                .iter()
                .map(|rt| match self.rss.iter().find(|(r, _)| r == rt) {
                    Some((_, Ok(bytes))) => format!("{bytes:.1}"),
                    Some((_, Err(_))) => "failed".to_owned(),
                    None => "-".to_owned(),
                })
                .collect();
            let _ = writeln!(
                s,
                "| resident bytes per pending task ({} tasks, native run) | {} |",
                thousands(self.memory_tasks as f64),
                rss.join(" | ")
            );
            let spawn: Vec<String> = self
                .runtimes
                .iter()
                .map(
                    |rt| match self.case("spawn_detached", rt).map(|c| &c.measured) {
                        Some(Measured::Counted { allocs, .. }) => format!("{allocs:.2}"),
                        _ => "-".to_owned(),
                    },
                )
                .collect();
            let _ = writeln!(
                s,
                "| allocations per spawn (`spawn_detached`, callgrind) | {} |",
                spawn.join(" | ")
            );
        }

        if !self.checks.is_empty() {
            let _ = writeln!(s, "\n### Determinism\n");
            for check in &self.checks {
                let _ = writeln!(s, "- {check}");
            }
        }

        let _ = writeln!(
            s,
            "\n### Where {UNDER_TEST}'s instructions go, per op\n\n\
             Per function, instructions per op: inclusive (with what it calls) and self (its own \
             code, with everything inlined into it). Startup scaffolding left out; the full lists \
             are in `target/instr/functions/`."
        );
        for &op in &self.ops {
            let Some(Case {
                measured:
                    Measured::Counted {
                        per_op, functions, ..
                    },
                ..
            }) = self.case(op, UNDER_TEST)
            else {
                continue;
            };
            let _ = writeln!(s, "\n#### {op}: {} instructions per op\n", count(*per_op));
            let shown: Vec<&Function> = functions
                .iter()
                .filter(|f| !is_scaffolding(&f.name))
                .collect();
            let mut by_self = shown.clone();
            by_self.sort_by(|a, b| b.own.total_cmp(&a.own).then(a.name.cmp(&b.name)));
            let _ = writeln!(
                s,
                "| inclusive | self | function (top {TOP} by inclusive) |"
            );
            let _ = writeln!(s, "|---:|---:|---|");
            for f in shown.iter().take(TOP) {
                let _ = writeln!(
                    s,
                    "| {} | {} | `{}` |",
                    count(f.inclusive),
                    count(f.own),
                    short(&f.name)
                );
            }
            let _ = writeln!(s, "\n| self | inclusive | function (top {TOP} by self) |");
            let _ = writeln!(s, "|---:|---:|---|");
            for f in by_self.iter().take(TOP) {
                let _ = writeln!(
                    s,
                    "| {} | {} | `{}` |",
                    count(f.own),
                    count(f.inclusive),
                    short(&f.name)
                );
            }
        }
        s
    }

    /// One row per op, one column per runtime; `ratio` adds the crate under test over the best
    /// other runtime.
    fn table(&self, s: &mut String, cell: impl Fn(&Measured) -> String, ratio: bool) {
        let _ = write!(s, "| op | {} |", self.runtimes.join(" | "));
        let under_test = self.runtimes.contains(&UNDER_TEST) && self.runtimes.len() > 1;
        if ratio && under_test {
            let _ = write!(s, " {UNDER_TEST} / best peer |");
        }
        let _ = writeln!(s);
        let _ = write!(s, "|---|{}", "---:|".repeat(self.runtimes.len()));
        if ratio && under_test {
            let _ = write!(s, "---:|");
        }
        let _ = writeln!(s);
        for &op in &self.ops {
            let _ = write!(s, "| {op} |");
            for &rt in &self.runtimes {
                let text = match self.case(op, rt).map(|c| &c.measured) {
                    Some(m @ Measured::Counted { .. }) => cell(m),
                    Some(Measured::Unsupported(_)) => "n/a".to_owned(),
                    Some(Measured::Failed(_)) => "failed".to_owned(),
                    None => "-".to_owned(),
                };
                let _ = write!(s, " {text} |");
            }
            if ratio && under_test {
                let _ = write!(s, " {} |", self.ratio(op));
            }
            let _ = writeln!(s);
        }
    }

    /// "0.85x (tokio-localset)": the crate under test over the best other runtime.
    fn ratio(&self, op: &str) -> String {
        let value = |rt: &str| match self.case(op, rt).map(|c| &c.measured) {
            Some(Measured::Counted { per_op, .. }) => Some(*per_op),
            _ => None,
        };
        let Some(ours) = value(UNDER_TEST) else {
            return "-".to_owned();
        };
        let best = self
            .runtimes
            .iter()
            .filter(|rt| **rt != UNDER_TEST)
            .filter_map(|rt| value(rt).map(|v| (v, *rt)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        match best {
            Some((theirs, rt)) if theirs > 0.0 => format!("{:.2}x ({rt})", ours / theirs),
            _ => "n/a".to_owned(),
        }
    }

    /// Every runtime's full per-function list, one file per case.
    pub(crate) fn save_functions(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for case in &self.cases {
            let Measured::Counted {
                per_op, functions, ..
            } = &case.measured
            else {
                continue;
            };
            let mut s = format!(
                "# {} {}: {} instructions per op (n = {}); per function, instructions per op\n\
                 # inclusive       self  function\n",
                case.runtime,
                case.op,
                count(*per_op),
                case.n
            );
            for f in functions {
                let _ = writeln!(s, "{:>11.1} {:>10.1}  {}", f.inclusive, f.own, f.name);
            }
            std::fs::write(dir.join(format!("{}.{}.txt", case.runtime, case.op)), s)?;
        }
        Ok(())
    }
}

/// An instruction count for a table: one decimal under 100, whole numbers with thousands
/// separators above.
fn count(v: f64) -> String {
    if v.abs() < 100.0 {
        format!("{v:.1}")
    } else {
        thousands(v)
    }
}

fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 && digits != "0" {
        out.insert(0, '-');
    }
    out
}

/// A function name short enough for a table row.
fn short(name: &str) -> String {
    const MAX: usize = 110;
    if name.chars().count() <= MAX {
        name.to_owned()
    } else {
        let cut: String = name.chars().take(MAX - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(1_234_567.0), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(-1_000.0), "-1,000");
        assert_eq!(count(12.34), "12.3");
    }
}
