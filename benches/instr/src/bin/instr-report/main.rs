//! `instr-report`: runs every (operation, runtime) case of the `instr` binary under valgrind's
//! callgrind, twice, with `n` and `2n` operations, and reports `(Ir(2n) - Ir(n)) / n`, the
//! instructions one operation costs: what the process does once (load, start the runtime,
//! spawn the driver task, tear down) is in both runs and cancels out. Run by
//! `benches/instr/run.sh`, which builds the binaries first; the knobs are listed there.
//!
//! Callgrind counts every instruction the process executes, in user space, on every thread,
//! whatever the load of the machine: the same binary with the same input gives the same count
//! (the report checks that on each runtime's first exact case; runs are made with address
//! randomisation off, `setarch -R`, where that works). Two operations also depend on something else, the
//! real clock or another thread; they are repeated and their median and range reported.
//!
//! The story: [`settings`] reads what to run, [`callgrind`] runs one case and reads its
//! profile, [`report`] turns the counts into Markdown tables and per-function breakdowns,
//! saved under `target/instr/` and printed.

#![warn(missing_debug_implementations, rust_2018_idioms, unreachable_pub)]

mod callgrind;
#[path = "../../op_names.rs"]
mod op_names;
mod report;
mod settings;

use std::path::Path;
use std::process::{Command, ExitCode};

use callgrind::{Outcome, Profile};
use report::{Case, Measured, Report};
use settings::Settings;

fn main() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("instr-report: {err}");
            return ExitCode::from(2);
        }
    };
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!(
            "instr-report: valgrind is not installed (Debian/Ubuntu: apt-get install valgrind)"
        );
        return ExitCode::from(2);
    }
    if !settings.bin.exists() {
        eprintln!(
            "instr-report: {} is missing; build it with \
             `cargo build --profile bench -p instr-bench` (or run benches/instr/run.sh)",
            settings.bin.display()
        );
        return ExitCode::from(2);
    }
    let cg_dir = settings.out.join("callgrind");
    if let Err(err) = std::fs::create_dir_all(&cg_dir) {
        eprintln!("instr-report: creating {}: {err}", cg_dir.display());
        return ExitCode::from(2);
    }

    println!(
        "# instr: {} run; instructions per op = (Ir(2n) - Ir(n)) / n under callgrind; \
         {} and {} repeated {}x (median)",
        if settings.quick { "quick" } else { "full" },
        settings::NOISY[0],
        settings::NOISY[1],
        settings.repeat
    );
    let mut report = Report::new(&settings);
    let mut failed = false;
    for &op in &settings.ops {
        for &runtime in &settings.runtimes {
            let case = measure(&settings, op, runtime, &cg_dir);
            match &case.measured {
                Measured::Counted { per_op, allocs, .. } => {
                    println!("RESULT instr {op} {runtime} {per_op:.1} allocs {allocs:.2}")
                }
                Measured::Unsupported(why) => println!("RESULT instr {op} {runtime} n/a ({why})"),
                Measured::Failed(err) => {
                    failed = true;
                    println!("RESULT instr {op} {runtime} FAILED: {err}");
                }
            }
            report.add(case);
        }
    }

    check_determinism(&settings, &cg_dir, &mut report);
    if settings.memory_tasks > 0 {
        for &runtime in &settings.runtimes {
            let rss = pending_rss(&settings.bin, runtime, settings.memory_tasks);
            match rss {
                Ok(bytes) => println!("RESULT pending_rss {runtime} {bytes:.1}"),
                Err(ref err) => println!("RESULT pending_rss {runtime} FAILED: {err}"),
            }
            report.add_rss(runtime, rss);
        }
    }

    let text = report.render();
    println!("\n{text}");
    let results = settings.out.join("results.md");
    match std::fs::write(&results, &text) {
        Ok(()) => println!(
            "(saved to {}; profiles in {})",
            results.display(),
            cg_dir.display()
        ),
        Err(err) => eprintln!("instr-report: writing {}: {err}", results.display()),
    }
    if let Err(err) = report.save_functions(&settings.out.join("functions")) {
        eprintln!("instr-report: saving the function tables: {err}");
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs one case: `runs` times at n and 2n, the median of the differences.
fn measure(settings: &Settings, op: &'static str, runtime: &'static str, dir: &Path) -> Case {
    let n = settings.n(op);
    let bin = match binary(settings, op, runtime) {
        Ok(bin) => bin,
        Err(why) => return Case::new(op, runtime, n, Measured::Unsupported(why)),
    };
    let mut pairs: Vec<(Profile, Profile)> = Vec::new();
    for rep in 0..settings.runs(op) {
        let mut pair = Vec::with_capacity(2);
        for count in [n, 2 * n] {
            let out = dir.join(format!("{runtime}.{op}.{count}.{rep}.out"));
            match callgrind::run(bin, runtime, op, count, &out) {
                Outcome::Counted(profile) => pair.push(profile),
                Outcome::Unsupported(why) => {
                    return Case::new(op, runtime, n, Measured::Unsupported(why));
                }
                Outcome::Failed(err) => return Case::new(op, runtime, n, Measured::Failed(err)),
            }
        }
        let long = pair.pop().expect("two runs");
        let short = pair.pop().expect("two runs");
        pairs.push((short, long));
    }
    let per_op =
        |(short, long): &(Profile, Profile)| (long.total as f64 - short.total as f64) / n as f64;
    // The median run, by its count per op, gives the figure and the function breakdown.
    pairs.sort_by(|a, b| per_op(a).total_cmp(&per_op(b)));
    let values: Vec<f64> = pairs.iter().map(per_op).collect();
    let (short, long) = pairs.swap_remove(pairs.len() / 2);
    let measured = Measured::Counted {
        per_op: values[values.len() / 2],
        low: values[0],
        high: values[values.len() - 1],
        allocs: (long.allocs as f64 - short.allocs as f64) / n as f64,
        clock_reads: (long.clock_reads as f64 - short.clock_reads as f64) / n as f64,
        functions: report::functions(&short, &long, n),
    };
    Case::new(op, runtime, n, measured)
}

/// The binary that runs `op` on `runtime`: tokio's paused clock lives in a build of its own
/// (see the `paused-clock` feature).
fn binary<'s>(settings: &'s Settings, op: &str, runtime: &str) -> Result<&'s Path, String> {
    if op == "timer_fire_virtual" && runtime.starts_with("tokio") {
        if settings.paused_bin.exists() {
            Ok(&settings.paused_bin)
        } else {
            Err(format!(
                "no {} (run.sh builds it with --features paused-clock)",
                settings.paused_bin.display()
            ))
        }
    } else {
        Ok(&settings.bin)
    }
}

/// Runs the n run of each runtime's first exact case again (of every exact case with
/// `INSTR_CHECK=all`) and records whether the two counts are equal.
fn check_determinism(settings: &Settings, dir: &Path, report: &mut Report) {
    let mut seen: Vec<&str> = Vec::new();
    let cases: Vec<(&'static str, &'static str, usize)> = report
        .counted()
        .filter(|(op, _, _)| !settings::NOISY.contains(op))
        .filter(|(_, runtime, _)| {
            let first = !seen.contains(runtime);
            seen.push(runtime);
            first || settings.check_all
        })
        .collect();
    for (op, runtime, n) in cases {
        let first = dir.join(format!("{runtime}.{op}.{n}.0.out"));
        let again = dir.join(format!("{runtime}.{op}.{n}.check.out"));
        let before = std::fs::read_to_string(&first).map(|t| callgrind::parse(&t));
        let after = match binary(settings, op, runtime)
            .map(|bin| callgrind::run(bin, runtime, op, n, &again))
        {
            Err(why) => Err(why),
            Ok(Outcome::Counted(profile)) => Ok(profile),
            Ok(Outcome::Unsupported(why) | Outcome::Failed(why)) => Err(why),
        };
        match (before, after) {
            (Ok(a), Ok(b)) => {
                println!(
                    "CHECK {runtime} {op} n={n}: {} and {} instructions",
                    a.total, b.total
                );
                report.add_check(runtime, op, n, &a, &b);
            }
            (Err(err), _) => println!("CHECK {runtime} {op}: reading {}: {err}", first.display()),
            (_, Err(err)) => println!("CHECK {runtime} {op}: {err}"),
        }
    }
}

/// Resident bytes per pending task, from a native (not valgrind) run of `instr ... pending_rss`.
fn pending_rss(bin: &Path, runtime: &str, tasks: usize) -> Result<f64, String> {
    let output = Command::new(bin)
        .args([runtime, "pending_rss", &tasks.to_string()])
        .output()
        .map_err(|e| format!("running {}: {e}", bin.display()))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim()
        .parse()
        .map_err(|_| format!("unexpected output {:?}", text.trim()))
}
