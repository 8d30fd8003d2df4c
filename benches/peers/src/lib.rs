//! `peers`: the same workloads on asyncio-rs and its Rust peers (tokio, async-executor,
//! futures' LocalPool), then on CPython's asyncio and uvloop, in one invocation.
//!
//! ```text
//! cargo run --profile bench -p peers      # everything (also: cargo bench -p peers)
//! PEERS_QUICK=1 cargo run --profile bench -p peers
//! PEERS_ONLY=spawn_many,timer_churn PEERS_RUNTIMES=asyncio-rs,tokio PEERS_PYTHON=0 ...
//! ```
//!
//! The story of one run: [`config`] says which workloads and runtimes, and how big;
//! [`workloads`] holds each workload once, generic over the [`runtimes::Runtime`] trait that
//! every runtime module implements; [`measure`] has the clocks and counters; [`report`] prints a
//! `RESULT <workload> <runtime> <value>` line per result and the table at the end. The `memory`
//! workload runs in a child process per runtime (this same binary, re-executed with
//! `--memory-child`), and the Python side is `benches/asyncio_bench.py`, run as a child too.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

mod config;
mod measure;
mod report;
mod runtimes;
mod workloads;

use config::{Config, Sizes, churn_name};
use report::Results;
use runtimes::{RUST_RUNTIMES, with_runtime};

#[global_allocator]
static ALLOC: measure::CountingAlloc = measure::CountingAlloc;

/// The argument that makes the binary a `memory` child: `--memory-child <runtime> <tasks>`.
const MEMORY_CHILD: &str = "--memory-child";

/// The Python side, next to this crate.
const PYTHON_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../asyncio_bench.py");

/// Runs the whole comparison (or, with `--memory-child`, one `memory` measurement).
pub fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == MEMORY_CHILD) {
        let runtime = args.get(at + 1).expect("--memory-child <runtime> <tasks>");
        let tasks = args
            .get(at + 2)
            .and_then(|n| n.parse().ok())
            .expect("--memory-child <runtime> <tasks>");
        memory_child(runtime, tasks);
        return;
    }

    let config = Config::from_env();
    println!(
        "# peers: {} run, {} repetitions per workload and runtime, median reported",
        if config.quick { "quick" } else { "full" },
        config.sizes.reps
    );
    let mut results = Results::default();
    run_rust(&config, &mut results);
    if config.python {
        run_python(&config, &mut results);
    }
    results.print_table();
}

/// The workloads, in report order.
fn workload_names(sizes: &Sizes) -> Vec<String> {
    let mut names: Vec<String> = [
        "spawn_many",
        "yield_many",
        "yield_many_plain",
        "ping_pong",
        "chained_spawn",
        "timers",
    ]
    .map(str::to_owned)
    .to_vec();
    names.extend(sizes.churn.iter().map(|&n| churn_name(n)));
    names.extend(["gather", "call_soon"].map(str::to_owned));
    names.push("memory".to_owned());
    names
}

/// One repetition of `workload` on `runtime`, in ns per op; `None` if that runtime does not
/// run that workload.
fn measure_once(workload: &str, runtime: &str, sizes: &Sizes) -> Option<f64> {
    if workload == "call_soon" {
        // Callbacks without a task are asyncio's alone.
        #[cfg(feature = "asyncio-rs")]
        if runtime == "asyncio-rs" {
            return Some(runtimes::asyncio_rs::call_soon(sizes.call_soon));
        }
        return None;
    }
    with_runtime!(runtime, R => match workload {
        "spawn_many" => Some(workloads::spawn_many::<R>(sizes)),
        "yield_many" => Some(workloads::yield_many::<R>(sizes)),
        "yield_many_plain" => Some(workloads::yield_many_plain::<R>(sizes)),
        "ping_pong" => Some(workloads::ping_pong::<R>(sizes)),
        "chained_spawn" => Some(workloads::chained_spawn::<R>(sizes)),
        "timers" => Some(workloads::timers::<R>(sizes)),
        "gather" => Some(workloads::gather::<R>(sizes)),
        churn => sizes
            .churn
            .iter()
            .find(|&&n| churn_name(n) == churn)
            .map(|&n| workloads::timer_churn::<R>(n)),
    })
    .flatten()
}

fn run_rust(config: &Config, results: &mut Results) {
    let runtimes: Vec<&str> = RUST_RUNTIMES
        .iter()
        .copied()
        .filter(|rt| config.wants_runtime(rt))
        .filter(|&rt| rt != "asyncio-rs" || cfg!(feature = "asyncio-rs"))
        .collect();
    if !cfg!(feature = "asyncio-rs") {
        println!("# built without the asyncio-rs feature: peers only");
    }
    for workload in workload_names(&config.sizes) {
        if !config.wants_workload(&workload) {
            continue;
        }
        if workload == "memory" {
            for rt in &runtimes {
                run_memory_child(rt, config.sizes.memory, results);
            }
            continue;
        }
        // Repetitions outer, runtimes inner: a slow patch of a busy machine hits every runtime
        // alike instead of one runtime's every repetition.
        let mut samples: Vec<(&str, Vec<f64>)> = runtimes.iter().map(|&rt| (rt, vec![])).collect();
        for _ in 0..config.sizes.reps {
            for (rt, values) in &mut samples {
                if let Some(v) = measure_once(&workload, rt, &config.sizes) {
                    values.push(v);
                }
            }
        }
        for (rt, mut values) in samples {
            if !values.is_empty() {
                results.record(&workload, rt, measure::median(&mut values));
            }
        }
    }
}

/// Runs `memory` for `runtime` in a fresh process, so the resident set it measures holds
/// nothing but that runtime's tasks.
fn run_memory_child(runtime: &str, tasks: usize, results: &mut Results) {
    let exe = std::env::current_exe().expect("path of this binary");
    let out = Command::new(exe)
        .args([MEMORY_CHILD, runtime, &tasks.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .expect("running the memory child");
    assert!(out.status.success(), "memory child for {runtime} failed");
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        results.record_line(line);
    }
}

fn memory_child(runtime: &str, tasks: usize) {
    let (runtime, memory) = with_runtime!(runtime, R => (R::NAME, workloads::memory::<R>(tasks)))
        .unwrap_or_else(|| panic!("unknown runtime {runtime}"));
    println!("RESULT memory {runtime} {}", memory.rss_bytes_per_task);
    println!("RESULT memory_allocs {runtime} {}", memory.allocs_per_spawn);
    println!(
        "RESULT memory_heap {runtime} {}",
        memory.heap_bytes_per_task
    );
}

/// Runs `benches/asyncio_bench.py` (CPython's asyncio, and uvloop when installed) with the same
/// `PEERS_*` settings, passing its output through and keeping its results. Skipped with a note
/// when `python3` is missing.
fn run_python(config: &Config, results: &mut Results) {
    if !config.wants_runtime("cpython") && !config.wants_runtime("uvloop") {
        return;
    }
    let child = Command::new("python3")
        .arg(PYTHON_SCRIPT)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(err) => {
            println!("# python3 not run ({err}); PEERS_PYTHON=0 silences this");
            return;
        }
    };
    let stdout = child.stdout.take().expect("piped stdout");
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("reading asyncio_bench.py output");
        if !results.record_line(&line) {
            println!("{line}");
        }
    }
    let status = child.wait().expect("waiting for asyncio_bench.py");
    if !status.success() {
        println!("# asyncio_bench.py failed: {status}");
    }
}
