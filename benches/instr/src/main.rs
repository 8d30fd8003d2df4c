//! `instr`: runs ONE operation `n` times on ONE runtime, for valgrind's callgrind to count.
//!
//! ```text
//! instr <runtime> <op> <n>        # the operation, n times, then exit
//! instr <runtime> pending_rss <n> # n pending tasks; prints resident bytes per task (native run)
//! instr --list                    # the runtimes and the operations
//! ```
//!
//! The driver (`instr-report`, run by `benches/instr/run.sh`) runs each case under callgrind
//! with `n` and `2n` and takes the difference, so what the process does once (start the
//! runtime, spawn the driver task, tear down) cancels out and what is left is `n` operations.
//!
//! The story: [`ops`] writes every operation once, as a macro expanded inside each runtime
//! module of [`runtimes`]; a module provides the handful of primitives the operations use
//! (`block_on`, `spawn`, `yield_now`, `sleep`, a capacity-1 channel) with its runtime's most
//! idiomatic API. Expanding instead of writing generic code keeps the concrete types visible,
//! so tokio's `spawn` sees that the futures are `Send` and no wrapper (or `unsafe`) is needed.
//! [`shared`] holds the pieces that are the same on every runtime: the hand-written yield
//! future, poll-once, and the helper thread of the cross-thread wake.

#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]

use std::process::ExitCode;

mod op_names;
#[macro_use]
mod ops;
mod runtimes;
mod shared;

/// Exit status for an operation the runtime does not have (`call_soon` outside asyncio-rs):
/// the driver shows "n/a".
const UNSUPPORTED: u8 = 3;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--list") {
        println!("runtimes: {}", runtimes::NAMES.join(" "));
        println!("ops: {} pending_rss", ops::NAMES.join(" "));
        return ExitCode::SUCCESS;
    }
    let [runtime, op, n] = args.as_slice() else {
        eprintln!("usage: instr <runtime> <op> <n>   (instr --list for the names)");
        return ExitCode::from(2);
    };
    let Ok(n) = n.parse::<usize>() else {
        eprintln!("instr: <n> must be a count, got {n:?}");
        return ExitCode::from(2);
    };
    if n == 0 {
        eprintln!("instr: <n> must be at least 1");
        return ExitCode::from(2);
    }
    if op != "pending_rss" && !ops::NAMES.contains(&op.as_str()) {
        eprintln!("instr: unknown op {op:?}; ops: {}", ops::NAMES.join(" "));
        return ExitCode::from(2);
    }
    match runtimes::run(runtime, op, n) {
        None => {
            eprintln!(
                "instr: unknown runtime {runtime:?}; runtimes: {}",
                runtimes::NAMES.join(" ")
            );
            ExitCode::from(2)
        }
        Some(Err(ops::Unsupported(why))) => {
            eprintln!("instr: {runtime} has no {op}: {why}");
            ExitCode::from(UNSUPPORTED)
        }
        Some(Ok(())) => ExitCode::SUCCESS,
    }
}
