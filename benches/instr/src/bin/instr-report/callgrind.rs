//! Running one case under callgrind and reading its profile.
//!
//! The profile is read straight from callgrind's output file rather than from
//! `callgrind_annotate`: with `lto` nearly everything is inlined, and callgrind then splits one
//! function into several entries by the source file of the inlined code, with calls between
//! those entries that are not calls. Here entries are merged by function name, so a
//! function's self cost is the sum of its entries' and its inclusive cost adds only calls to
//! other functions.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

/// The allocator's entry points: a call to one of them from outside them is one allocation.
const ALLOCATORS: &[&str] = &[
    "malloc",
    "calloc",
    "realloc",
    "posix_memalign",
    "aligned_alloc",
    "memalign",
    "__libc_malloc",
    "__libc_calloc",
    "__libc_realloc",
    "__libc_memalign",
];

/// What one callgrind run counted.
#[derive(Debug, Default, Clone)]
pub(crate) struct Profile {
    /// Instructions executed by the whole process (every thread).
    pub(crate) total: u64,
    /// Calls into the allocator (see [`ALLOCATORS`]).
    pub(crate) allocs: u64,
    /// Calls to `clock_gettime` (each `Instant::now`).
    pub(crate) clock_reads: u64,
    /// Per function: instructions in its own code.
    pub(crate) self_ir: HashMap<String, u64>,
    /// Per function: its own code plus everything it called.
    pub(crate) incl_ir: HashMap<String, u64>,
}

/// How a run ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    Counted(Profile),
    /// The runtime has no such operation (exit status 3); the text is the binary's reason.
    Unsupported(String),
    Failed(String),
}

/// Runs `bin runtime op n` under callgrind, writing the profile to `out`.
pub(crate) fn run(bin: &Path, runtime: &str, op: &str, n: usize, out: &Path) -> Outcome {
    let mut command = if no_aslr() {
        let mut c = Command::new("setarch");
        c.args(["-R", "valgrind"]);
        c
    } else {
        Command::new("valgrind")
    };
    let result = command
        .arg("--tool=callgrind")
        .arg("-q")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(bin)
        .args([runtime, op, &n.to_string()])
        .output();
    let output = match result {
        Ok(output) => output,
        Err(err) => return Outcome::Failed(format!("could not start valgrind: {err}")),
    };
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    match output.status.code() {
        Some(0) => {}
        Some(3) => {
            let why = stderr.rsplit(": ").next().unwrap_or("").to_owned();
            return Outcome::Unsupported(why);
        }
        _ => return Outcome::Failed(format!("{}: {stderr}", output.status)),
    }
    match std::fs::read_to_string(out) {
        Ok(text) => Outcome::Counted(parse(&text)),
        Err(err) => Outcome::Failed(format!("reading {}: {err}", out.display())),
    }
}

/// Whether `setarch -R` works here. With address randomisation on, std's start-up reads
/// `/proc/self/maps`, whose length changes with the addresses, and the count moves by a few
/// instructions from run to run; `setarch -R` turns it off for the run.
fn no_aslr() -> bool {
    static WORKS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WORKS.get_or_init(|| {
        Command::new("setarch")
            .args(["-R", "true"])
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Reads a callgrind output file (one event, `Ir`; compressed or plain names).
pub(crate) fn parse(text: &str) -> Profile {
    let mut names: HashMap<String, String> = HashMap::new();
    let mut profile = Profile::default();
    let mut current = String::new();
    let mut callee = String::new();
    // Set by a `calls=` line: the next cost line is the cost of that call, not self cost.
    let mut in_call = false;
    // Per function: what its calls to other functions cost.
    let mut called: HashMap<String, u64> = HashMap::new();
    for line in text.lines() {
        if let Some(spec) = line.strip_prefix("fn=") {
            current = resolve(&mut names, spec);
        } else if let Some(spec) = line.strip_prefix("cfn=") {
            callee = resolve(&mut names, spec);
        } else if let Some(spec) = line.strip_prefix("calls=") {
            in_call = true;
            let count: u64 = spec
                .split_whitespace()
                .next()
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            if is_allocator(&callee) && !is_allocator(&current) {
                profile.allocs += count;
            }
            if is_clock(&callee) && !is_clock(&current) {
                profile.clock_reads += count;
            }
        } else if let Some(total) = line
            .strip_prefix("summary:")
            .or_else(|| line.strip_prefix("totals:"))
        {
            profile.total = total.trim().parse().unwrap_or(profile.total);
        } else if line.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '*')) {
            let ir: u64 = line
                .split_whitespace()
                .nth(1)
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            if in_call {
                in_call = false;
                if callee != current {
                    *called.entry(current.clone()).or_default() += ir;
                }
            } else {
                *profile.self_ir.entry(current.clone()).or_default() += ir;
            }
        }
    }
    profile.incl_ir = profile.self_ir.clone();
    for (function, ir) in called {
        *profile.incl_ir.entry(function).or_default() += ir;
    }
    profile
}

/// `(12) name` defines name 12, `(12)` uses it, `name` is uncompressed.
fn resolve(names: &mut HashMap<String, String>, spec: &str) -> String {
    let spec = spec.trim();
    let Some(rest) = spec.strip_prefix('(') else {
        return spec.to_owned();
    };
    let Some((id, name)) = rest.split_once(')') else {
        return spec.to_owned();
    };
    let name = name.trim();
    if name.is_empty() {
        names.get(id).cloned().unwrap_or_else(|| format!("({id})"))
    } else {
        names.insert(id.to_owned(), name.to_owned());
        name.to_owned()
    }
}

fn is_allocator(function: &str) -> bool {
    ALLOCATORS.contains(&function)
}

/// glibc's `clock_gettime` (its symbol carries a version: `clock_gettime@@GLIBC_2.17`).
fn is_clock(function: &str) -> bool {
    function.starts_with("clock_gettime") || function.starts_with("__clock_gettime")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
events: Ir
summary: 1000
fl=(1) a.rs
fn=(1) outer
0 10
fi=(2) b.rs
0 5
cfn=(1)
calls=1 0
0 7
cfn=(2) inner
calls=3 0
0 30
cfn=(3) malloc
calls=2 0
0 40
cfn=(5) clock_gettime@@GLIBC_2.17
calls=4 0
0 8
fn=(2)
0 30
fn=(3)
0 40
cfn=(4) _int_malloc
calls=1 0
0 20
";

    #[test]
    fn self_cost_sums_a_functions_entries_and_calls_to_itself_are_not_inclusive_cost() {
        let p = parse(SAMPLE);
        assert_eq!(p.total, 1000);
        assert_eq!(p.self_ir["outer"], 15);
        assert_eq!(p.incl_ir["outer"], 15 + 30 + 40 + 8);
        assert_eq!(p.self_ir["inner"], 30);
        assert_eq!(p.incl_ir["malloc"], 60);
    }

    #[test]
    fn allocations_are_calls_into_the_allocator_from_outside_it() {
        assert_eq!(parse(SAMPLE).allocs, 2);
    }

    #[test]
    fn clock_reads_are_calls_to_clock_gettime() {
        assert_eq!(parse(SAMPLE).clock_reads, 4);
    }
}
