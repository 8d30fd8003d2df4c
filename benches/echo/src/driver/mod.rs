//! `echo-bench`: starts every server at once and visits them in turn with the load client.
//!
//! One run:
//! 1. `settings` reads the `ECHO_*` knobs; the C server is compiled (`gcc -O2`) into
//!    `target/echo/`; the syscall counter is chosen (`syscalls`).
//! 2. `fleet` starts every server on `127.0.0.1:0`, pinned to CPU 0. A server that cannot
//!    start (not built yet, uvloop missing) is left out with a note.
//! 3. Rounds: for each round, each load, each server, one client run pinned to CPU 1 (warm-up,
//!    then the measured window). Servers are the inner loop, so a slow moment of the machine
//!    hits neighbours in the table alike, and the median over rounds is reported. A visit in
//!    which the server waited long for its core (another process had it) is run again once.
//! 4. The syscall pass: one more visit per (load, server) with perf attached.
//! 5. `report`: Markdown tables and `RESULT echo <load> <server> <metric> <value>` lines,
//!    printed and saved as `target/echo/results.md` and `results.txt` (each visit's raw client
//!    line goes to `visits.txt`).
//!
//! Every child dies with the driver (see `procs`); every wait has a deadline.

use std::fs;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

mod fleet;
mod procs;
mod report;
mod settings;
mod syscalls;

use fleet::{Server, Tools};
use procs::{Cpu, Guard};
use report::{Results, SyscallSample};
use settings::{Load, Settings, SyscallChoice};
use syscalls::{Counter, Session};

use crate::client::Report;

/// The driver's main: runs everything, prints the report; a clear message on any setup error.
pub fn main() -> ExitCode {
    // A shell starts background jobs with SIGINT ignored (run.sh starts the driver so, to be
    // able to forward a kill to it), and children inherit that. Ctrl-C must stop the run: take
    // the default action back, so the driver dies and the kernel kills every child with it.
    // SAFETY: installing the default disposition runs no handler code of ours and touches no
    // memory; nothing else in the driver sets signal handlers.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("echo-bench: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let settings = Settings::from_env()?;
    let began = Instant::now();
    let load_at_start = load_average();
    let exe = std::env::current_exe().map_err(|e| format!("where am I: {e}"))?;
    let bin_dir = exe
        .parent()
        .ok_or("the driver has no directory")?
        .to_path_buf();
    // target/release/echo-bench -> target/echo/
    let out_dir = bin_dir.parent().unwrap_or(&bin_dir).join("echo");
    fs::create_dir_all(out_dir.join("logs")).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    for needed in ["echo-server", "echo-client"] {
        if !bin_dir.join(needed).is_file() {
            return Err(format!(
                "{} is missing: build with `cargo build --profile bench -p echo-bench` (benches/echo/run.sh does)",
                bin_dir.join(needed).display()
            ));
        }
    }
    let mut notes = Vec::new();

    let pin = settings.pin && can_pin();
    if settings.pin && !pin {
        notes.push(
            "not pinned: taskset is missing or CPUs 0 and 1 are not both available".to_owned(),
        );
    }
    let c_server = match fleet::compile_c(&out_dir) {
        Ok(path) => Some(path),
        Err(err) => {
            notes.push(format!("c-epoll left out: {err}"));
            None
        }
    };
    let python: PathBuf = std::env::var_os("ECHO_PYTHON")
        .unwrap_or_else(|| "python3".into())
        .into();
    let tools = Tools {
        bin_dir,
        out_dir: out_dir.clone(),
        c_server,
        python,
        pin,
    };

    let counter = match settings.syscalls {
        SyscallChoice::Off => None,
        choice => match Counter::detect(choice == SyscallChoice::Strace) {
            Ok(counter) => Some(counter),
            Err(err) => {
                notes.push(format!("no syscall counts: {err}"));
                None
            }
        },
    };

    // Start the fleet.
    let catalogue = fleet::catalogue();
    if let Some(wanted) = &settings.servers {
        let known: Vec<&str> = catalogue.iter().map(|s| s.name).collect();
        if let Some(bad) = wanted.iter().find(|w| !known.contains(&w.as_str())) {
            return Err(format!(
                "ECHO_SERVERS: unknown server {bad:?}; known: {}",
                known.join(", ")
            ));
        }
    }
    let specs: Vec<_> = catalogue
        .into_iter()
        .filter(|s| {
            settings
                .servers
                .as_ref()
                .is_none_or(|w| w.iter().any(|n| n == s.name))
        })
        .collect();
    let mut fleet: Vec<Server> = Vec::new();
    for spec in &specs {
        match fleet::start(spec, &tools) {
            Ok(server) => {
                eprintln!(
                    "echo-bench: {} listening on {} (pid {})",
                    server.name, server.addr, server.pid
                );
                fleet.push(server);
            }
            Err(err) => {
                eprintln!("echo-bench: {err}");
                notes.push(format!("left out: {err}"));
            }
        }
    }
    if fleet.is_empty() {
        return Err("no server could be started".into());
    }

    let mut results = Results::new(
        settings.loads.iter().map(|l| l.name.clone()).collect(),
        fleet.iter().map(|s| s.name).collect(),
    );
    let mut visits_log = fs::File::create(out_dir.join("visits.txt")).map_err(|e| e.to_string())?;

    // The rounds. `retried`: visits run again because the server's core was busy, and of those
    // how many were still over the limit at the last try.
    let mut retried = (0usize, 0usize);
    for round in 1..=settings.rounds {
        for load in &settings.loads {
            for server in fleet.iter_mut().filter(|s| !s.gone) {
                let outcome = quiet_visit(&tools, server, load, &settings, &mut retried);
                match outcome {
                    Ok(report) => {
                        eprintln!(
                            "round {round}/{} {:>9} {:<20} {:>9.0} req/s  cpu {:>6.2} µs/rt  p50 {:>8.1} µs  p99 {:>8.1} µs  client {:>3.0}%  server waited {:>4.1}%",
                            settings.rounds,
                            load.name,
                            server.name,
                            report.rps(),
                            report.server_cpu_us.unwrap_or(f64::NAN) / report.rts as f64,
                            report.p50_us,
                            report.p99_us,
                            report.client_cpu_pct,
                            report.server_wait_pct.unwrap_or(f64::NAN),
                        );
                        let _ = writeln!(
                            visits_log,
                            "VISIT {round} {} {} {}",
                            load.name,
                            server.name,
                            report.to_line()
                        );
                        results.add_visit(&load.name, server.name, report);
                    }
                    Err(err) => {
                        eprintln!(
                            "echo-bench: round {round} {} {}: {err}",
                            load.name, server.name
                        );
                        notes.push(format!(
                            "round {round}, {} on {}: {err}",
                            load.name, server.name
                        ));
                    }
                }
            }
        }
    }

    // The syscall pass.
    if let Some(counter) = &counter {
        for load in &settings.loads {
            for server in fleet.iter_mut().filter(|s| !s.gone) {
                match count_syscalls(&tools, counter, server, load, &settings) {
                    Ok(sample) => {
                        let per_rt = sample.counts.total as f64 / sample.rts.max(1) as f64;
                        eprintln!(
                            "syscalls {:>9} {:<20} {per_rt:.2} per round trip",
                            load.name, server.name
                        );
                        results.add_syscalls(&load.name, server.name, sample);
                    }
                    Err(err) => {
                        eprintln!("echo-bench: syscalls {} {}: {err}", load.name, server.name);
                        notes.push(format!(
                            "syscalls of {} on {}: {err}",
                            load.name, server.name
                        ));
                    }
                }
            }
        }
    }

    for server in fleet.iter_mut() {
        server.process.stop(libc::SIGTERM, Duration::from_secs(2));
    }
    drop(fleet);

    if retried.0 > 0 {
        notes.push(format!(
            "{} visit(s) were run again because the server waited over {}% of the window for its core (ECHO_MAX_WAIT, ECHO_RETRIES); {} still did at the last try and count as they are",
            retried.0, settings.max_wait_pct, retried.1
        ));
    }
    notes.push(format!(
        "load average (1 min) at the start and the end: {load_at_start} and {}; more than about 2 means other work shared the two cores",
        load_average()
    ));
    let heading = heading(&settings, &tools, &specs, pin, &notes, began.elapsed());
    let markdown = results.markdown(&heading, counter.as_ref().map(Counter::describe));
    let lines = results.result_lines().join("\n") + "\n";
    fs::write(out_dir.join("results.md"), &markdown).map_err(|e| e.to_string())?;
    fs::write(out_dir.join("results.txt"), &lines).map_err(|e| e.to_string())?;
    println!("{lines}");
    println!("{markdown}");
    eprintln!(
        "echo-bench: saved {} and {}",
        out_dir.join("results.md").display(),
        out_dir.join("results.txt").display()
    );
    Ok(())
}

/// Whether `taskset` can put a process on CPU 1 (and so on 0 and 1).
fn can_pin() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
        && std::process::Command::new("taskset")
            .args(["-c", "1", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

/// One client run against `server`: warm-up, then a window of `window`.
fn visit(
    tools: &Tools,
    server: &mut Server,
    load: &Load,
    warmup: Duration,
    window: Duration,
    extra: &[String],
) -> Result<Report, String> {
    server.check_alive()?;
    let mut cmd = procs::command(tools.bin_dir.join("echo-client"), Cpu::Client, tools.pin);
    cmd.arg("--addr")
        .arg(server.addr.to_string())
        .args([
            "--conns",
            &load.conns.to_string(),
            "--size",
            &load.size.to_string(),
        ])
        .args(["--warmup", &warmup.as_secs_f64().to_string()])
        .args(["--duration", &window.as_secs_f64().to_string()])
        .args(["--server-pid", &server.pid.to_string()])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().map_err(|e| format!("echo-client: {e}"))?;
    let mut client = Guard(child);
    // The client gives up by itself after 10 s without an echo; this is the backstop.
    let limit = warmup + window + Duration::from_secs(30);
    let status = procs::wait_timeout(&mut client.0, limit).map_err(|e| e.to_string())?;
    let Some(status) = status else {
        return Err(format!("the client did not finish within {limit:?}"));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    use std::io::Read as _;
    if let Some(mut out) = client.0.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    if let Some(mut err) = client.0.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    if !status.success() {
        server.check_alive()?;
        return Err(format!("the client failed ({status}): {}", stderr.trim()));
    }
    stdout
        .lines()
        .find_map(Report::from_line)
        .ok_or_else(|| format!("the client printed no CLIENT line: {stdout:?}"))
}

/// A visit, run again (up to `settings.retries` times) while the server waited for its core
/// for more than `settings.max_wait_pct` of the window; the quietest try counts.
fn quiet_visit(
    tools: &Tools,
    server: &mut Server,
    load: &Load,
    settings: &Settings,
    retried: &mut (usize, usize),
) -> Result<Report, String> {
    let wait = |r: &Report| r.server_wait_pct.unwrap_or(0.0);
    let mut best = visit(tools, server, load, settings.warmup, settings.duration, &[])?;
    if wait(&best) <= settings.max_wait_pct || settings.retries == 0 {
        return Ok(best);
    }
    retried.0 += 1;
    for _ in 0..settings.retries {
        // Give whatever held the core a moment to finish.
        std::thread::sleep(Duration::from_millis(300));
        let again = visit(tools, server, load, settings.warmup, settings.duration, &[])?;
        if wait(&again) < wait(&best) {
            best = again;
        }
        if wait(&best) <= settings.max_wait_pct {
            return Ok(best);
        }
    }
    retried.1 += 1;
    Ok(best)
}

/// The extra visit with the syscall counter attached.
fn count_syscalls(
    tools: &Tools,
    counter: &Counter,
    server: &mut Server,
    load: &Load,
    settings: &Settings,
) -> Result<SyscallSample, String> {
    server.check_alive()?;
    let tag = format!("{}-{}", server.name, load.name);
    let session = Session::start(
        counter,
        server.pid,
        &tools.out_dir.join("tmp"),
        &tag,
        tools.pin,
    )?;
    let extra = session.client_args.clone();
    let whole_run = session.counts_whole_run();
    let report = visit(
        tools,
        server,
        load,
        settings.warmup,
        settings.syscall_window,
        &extra,
    )?;
    let counts = session.finish()?;
    Ok(SyscallSample {
        counts,
        rts: if whole_run {
            report.all_rts
        } else {
            report.rts
        },
    })
}

/// The report's first lines: what ran, where, and every note.
fn heading(
    settings: &Settings,
    tools: &Tools,
    specs: &[fleet::Spec],
    pin: bool,
    notes: &[String],
    took: Duration,
) -> String {
    let mut h = String::new();
    let kind = if settings.quick {
        "quick (ECHO_QUICK=1)"
    } else {
        "full"
    };
    h.push_str(&format!(
        "## TCP echo: {kind} run, {} round(s), {:.1} s warm-up + {:.1} s window per visit, median over rounds ({:.0} s in all)\n\n",
        settings.rounds,
        settings.warmup.as_secs_f64(),
        settings.duration.as_secs_f64(),
        took.as_secs_f64()
    ));
    h.push_str(&format!("- machine: {}\n", machine()));
    h.push_str(&format!(
        "- pinning: {}\n",
        if pin {
            "servers on CPU 0, client (and perf, and this driver's waits) on CPU 1 (taskset)"
        } else {
            "none"
        }
    ));
    if let Some(python) = python_versions(&tools.python) {
        h.push_str(&format!("- Python: {python}\n"));
    }
    h.push_str("- servers:\n");
    for spec in specs {
        h.push_str(&format!("  - `{}`: {}\n", spec.name, spec.about));
    }
    for note in notes {
        h.push_str(&format!("- note: {note}\n"));
    }
    h
}

/// The 1-minute load average, as /proc/loadavg says it.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

fn machine() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cores} cores, {cpu}, Linux {}", kernel.trim())
}

fn python_versions(python: &PathBuf) -> Option<String> {
    let script = "import sys\ntry:\n import uvloop; u = uvloop.__version__\nexcept Exception:\n u = 'missing'\nprint(sys.version.split()[0], 'uvloop', u)";
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !text.is_empty()).then(|| format!("CPython {text}"))
}
