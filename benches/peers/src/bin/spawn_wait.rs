//! `cargo run --release -p peers --bin spawn_wait`: children per second, each `/bin/true`
//! spawned and waited for, on asyncio-rs, tokio's current-thread runtime (`tokio::process`),
//! CPython's asyncio (and uvloop, when installed), with plain blocking `std::process` as the
//! floor nobody can beat by much (fork/exec/wait dominate).
//!
//! Two shapes: one child at a time (`spawn_wait`), and batches of 16 at once
//! (`spawn_wait_16`). One `RESULT <workload> <runtime> <children per second>` line each, the
//! median of a few repetitions (round-robin over the runtimes), and for the Rust runtimes
//! `RESULT <workload>_cpu_us <runtime> <µs>`: the parent's own CPU time per child (fork and
//! exec in the parent, the loop's bookkeeping, the reaping; the child's time not included),
//! steadier than the wall clock on a shared machine. `PEERS_QUICK=1` makes it short,
//! `PEERS_PYTHON=0` skips Python.

use std::process::Command;
use std::time::Instant;

const PROGRAM: &str = "/bin/true";

/// Runs one batch of that many children to their end, on one runtime.
type RunBatch = Box<dyn FnMut(usize)>;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// This process's CPU time (user + system) so far, in microseconds; children not included.
fn cpu_us() -> f64 {
    // SAFETY: plain old data; all zeroes is valid, and getrusage fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a live local the kernel writes into.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    us(usage.ru_utime) + us(usage.ru_stime)
}

/// Children per second, and the parent's CPU microseconds per child, for `n` children,
/// `batch` at a time, with `run_batch`.
fn rate(n: usize, batch: usize, run_batch: &mut dyn FnMut(usize)) -> (f64, f64) {
    let start = Instant::now();
    let cpu = cpu_us();
    for _ in 0..n / batch {
        run_batch(batch);
    }
    let per_second = n as f64 / start.elapsed().as_secs_f64();
    (per_second, (cpu_us() - cpu) / n as f64)
}

fn asyncio_rs() -> RunBatch {
    let runner = asyncio::Runner::new();
    Box::new(move |batch| {
        runner.run(async {
            let mut tasks = Vec::with_capacity(batch);
            for _ in 0..batch {
                tasks.push(asyncio::create_task(async {
                    let proc = asyncio::create_subprocess_exec(PROGRAM, [""; 0])
                        .await
                        .unwrap();
                    assert_eq!(proc.wait().await, 0);
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
        })
    })
}

fn tokio_current_thread() -> RunBatch {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    Box::new(move |batch| {
        local.block_on(&rt, async {
            let mut tasks = Vec::with_capacity(batch);
            for _ in 0..batch {
                tasks.push(tokio::task::spawn_local(async {
                    let status = tokio::process::Command::new(PROGRAM)
                        .status()
                        .await
                        .unwrap();
                    assert!(status.success());
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
        })
    })
}

fn std_blocking() -> RunBatch {
    Box::new(|batch| {
        let children: Vec<_> = (0..batch)
            .map(|_| Command::new(PROGRAM).spawn().unwrap())
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
    })
}

const PYTHON: &str = r#"
import asyncio, statistics, sys, time
reps, n, batch, flavour = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if flavour == "uvloop":
    import uvloop
    new_loop = uvloop.new_event_loop
else:
    new_loop = asyncio.new_event_loop
async def one():
    proc = await asyncio.create_subprocess_exec("/bin/true")
    assert await proc.wait() == 0
async def main():
    start = time.perf_counter()
    for _ in range(n // batch):
        await asyncio.gather(*(one() for _ in range(batch)))
    return n / (time.perf_counter() - start)
rates = []
for _ in range(reps):
    with asyncio.Runner(loop_factory=new_loop) as runner:
        rates.append(runner.run(main()))
print(statistics.median(rates))
"#;

fn python(flavour: &str, reps: usize, n: usize, batch: usize) -> Option<f64> {
    let output = Command::new("python3")
        .args(["-c", PYTHON])
        .args([reps.to_string(), n.to_string(), batch.to_string()])
        .arg(flavour)
        .output()
        .ok()?;
    if !output.status.success() {
        return None; // no python3, or no uvloop
    }
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

fn main() {
    let quick = std::env::var("PEERS_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let with_python = std::env::var("PEERS_PYTHON").map_or(true, |v| v != "0");
    let (reps, n) = if quick { (3, 160) } else { (5, 1600) };
    println!(
        "# spawn_wait: {n} children of {PROGRAM} per repetition, median of {reps}, children/s"
    );
    for (workload, batch) in [("spawn_wait", 1), ("spawn_wait_16", 16)] {
        // Round-robin repetitions, so that a busy moment of a shared machine hits every
        // runtime alike.
        let mut runtimes: Vec<(&str, RunBatch)> = vec![
            ("asyncio-rs", asyncio_rs()),
            ("tokio", tokio_current_thread()),
            ("std-blocking", std_blocking()),
        ];
        let mut rates: Vec<Vec<f64>> = vec![Vec::new(); runtimes.len()];
        let mut cpus: Vec<Vec<f64>> = vec![Vec::new(); runtimes.len()];
        for _ in 0..reps {
            for (i, (_, run_batch)) in runtimes.iter_mut().enumerate() {
                let (per_second, cpu) = rate(n, batch, run_batch);
                rates[i].push(per_second);
                cpus[i].push(cpu);
            }
        }
        for ((name, _), cpu) in runtimes.iter().zip(cpus) {
            println!("RESULT {workload}_cpu_us {name} {:.1}", median(cpu));
        }
        let mut results: Vec<(&str, f64)> = runtimes
            .iter()
            .zip(rates)
            .map(|((name, _), r)| (*name, median(r)))
            .collect();
        if with_python {
            for flavour in ["cpython", "uvloop"] {
                if let Some(rate) = python(flavour, reps, n, batch) {
                    results.push((flavour, rate));
                }
            }
        }
        for (runtime, rate) in &results {
            println!("RESULT {workload} {runtime} {rate:.0}");
        }
        let ours = results[0].1;
        for (runtime, rate) in &results[1..] {
            println!(
                "#   {workload}: asyncio-rs / {runtime} = {:.2}",
                ours / rate
            );
        }
    }
}
