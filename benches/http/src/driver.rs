//! The driver: starts each server, loads it, measures it, prints Markdown tables.
//!
//! One visit: start the server (pinned with `taskset`), wait for its `listening on` line,
//! warm up, then a measured window during which the server's CPU time (user + system, all
//! threads, from `/proc/<pid>/stat`) is sampled at both edges. Servers are visited in turn,
//! round after round, so that a busy moment of the (shared) machine hits all alike; the
//! tables show medians. A last, shorter visit per server counts its syscalls with
//! `perf stat -e raw_syscalls:sys_enter`, kept apart so that perf's cost stays out of the CPU
//! numbers.
//!
//! Knobs (environment): `HTTP_QUICK=1` (short visits, one round), `HTTP_ROUNDS`,
//! `HTTP_WINDOW` and `HTTP_WARMUP` (seconds), `HTTP_ONLY=http|echo`, `HTTP_PYTHON` (an
//! interpreter with uvloop; without one the uvloop servers are left out), `HTTP_CONNS` (wrk
//! connections, 100), `HTTP_SERVERS=a,b` (only these servers).

use std::cell::{Cell, RefCell};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::load::EchoLoad;
use crate::servers::{ECHO, HTTP};

/// One server to visit.
#[derive(Debug, Clone)]
struct Spec {
    name: String,
    command: Vec<String>,
    threads: usize,
}

#[derive(Debug, Clone)]
struct Settings {
    rounds: usize,
    warmup: Duration,
    window: Duration,
    conns: usize,
    cpus: usize,
    taskset: bool,
    perf: bool,
    python: Option<String>,
    bin_dir: PathBuf,
    script: PathBuf,
    only: Option<String>,
}

fn env_f64(name: &str) -> Option<f64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

impl Settings {
    fn from_env() -> Settings {
        let quick = std::env::var("HTTP_QUICK").is_ok_and(|v| v == "1");
        let secs = |name, quick_default, default| {
            Duration::from_secs_f64(env_f64(name).unwrap_or(if quick {
                quick_default
            } else {
                default
            }))
        };
        let bin_dir = std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(PathBuf::from))
            .unwrap_or_default();
        Settings {
            rounds: env_f64("HTTP_ROUNDS").map_or(if quick { 1 } else { 3 }, |r| r as usize),
            warmup: secs("HTTP_WARMUP", 1.0, 2.0),
            window: secs("HTTP_WINDOW", 3.0, 8.0),
            conns: env_f64("HTTP_CONNS").map_or(100, |c| c as usize),
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            taskset: have("taskset"),
            perf: Command::new("perf")
                .args(["stat", "-e", "raw_syscalls:sys_enter", "true"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
            python: std::env::var("HTTP_PYTHON").ok().filter(|p| !p.is_empty()),
            bin_dir,
            script: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("uvloop_servers.py"),
            only: std::env::var("HTTP_ONLY").ok(),
        }
    }

    /// `taskset -c <cpus>` for a server of `threads` threads: CPU 0, or 0..threads.
    fn pin_server(&self, threads: usize) -> Vec<String> {
        if !self.taskset {
            return Vec::new();
        }
        let last = threads.min(self.cpus).max(1) - 1;
        vec!["taskset".into(), "-c".into(), format!("0-{last}")]
    }

    /// The load runs on the last CPU.
    fn pin_load(&self) -> Vec<String> {
        if !self.taskset {
            return Vec::new();
        }
        vec!["taskset".into(), "-c".into(), format!("{}", self.cpus - 1)]
    }
}

/// A running server; killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(settings: &Settings, spec: &Spec) -> Result<Server, String> {
    let mut argv = settings.pin_server(spec.threads);
    argv.extend(spec.command.iter().cloned());
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("{}: cannot start {argv:?}: {e}", spec.name))?;
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if let Some(addr) = line.strip_prefix("listening on ") {
                let _ = tx.send(addr.trim().to_owned());
            }
        }
    });
    let mut server = Server {
        child,
        addr: ([127, 0, 0, 1], 0).into(),
    };
    let addr = rx
        .recv_timeout(Duration::from_secs(20))
        .map_err(|_| format!("{}: no `listening on` line within 20 s", spec.name))?;
    server.addr = addr
        .parse()
        .map_err(|_| format!("{}: bad address {addr:?}", spec.name))?;
    Ok(server)
}

/// User and system CPU time of process `pid`, all its threads.
fn cpu_times(pid: u32) -> (Duration, Duration) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the ')'.
    // SAFETY: sysconf takes an integer and returns one.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let at = |i| Duration::from_micros(ticks(i) * 1_000_000 / hz);
    (at(11), at(12))
}

/// `perf stat` counting the syscalls of `pid` until dropped.
struct SyscallCount {
    child: Option<Child>,
}

impl SyscallCount {
    fn attach(pid: u32) -> Option<SyscallCount> {
        let child = Command::new("perf")
            .args(["stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "-p"])
            .arg(pid.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        std::thread::sleep(Duration::from_millis(300)); // let it attach
        Some(SyscallCount { child: Some(child) })
    }

    fn finish(mut self) -> Option<u64> {
        let child = self.child.take()?;
        // SAFETY: kill(2) with the pid of our own child and a signal number.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
        let output = child.wait_with_output().ok()?;
        let text = String::from_utf8_lossy(&output.stderr);
        text.lines()
            .find(|l| l.contains("raw_syscalls:sys_enter"))
            .and_then(|l| l.split(',').next())
            .and_then(|n| n.trim().parse().ok())
    }
}

impl Drop for SyscallCount {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What one wrk run says.
#[derive(Debug, Clone, Copy, Default)]
struct Wrk {
    requests: f64,
    seconds: f64,
    p50_us: f64,
    p99_us: f64,
}

fn parse_duration_us(text: &str) -> Option<f64> {
    let text = text.trim();
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1e3)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1e6)
    } else {
        (text, 1.0)
    };
    number.parse::<f64>().ok().map(|n| n * scale)
}

fn wrk(settings: &Settings, addr: SocketAddr, seconds: Duration) -> Result<Wrk, String> {
    let mut argv = settings.pin_load();
    argv.extend([
        "wrk".to_owned(),
        "-t1".to_owned(),
        format!("-c{}", settings.conns),
        format!("-d{}s", seconds.as_secs_f64().ceil() as u64),
        "--latency".to_owned(),
        format!("http://{addr}/"),
    ]);
    let output = Command::new(&argv[0])
        .args(&argv[1..])
        .output()
        .map_err(|e| format!("cannot run wrk: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut result = Wrk::default();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [n, "requests", "in", t, ..] => {
                result.requests = n.parse().unwrap_or(0.0);
                result.seconds = parse_duration_us(t.trim_end_matches(',')).unwrap_or(0.0) / 1e6;
            }
            ["50%", t] => result.p50_us = parse_duration_us(t).unwrap_or(0.0),
            ["99%", t] => result.p99_us = parse_duration_us(t).unwrap_or(0.0),
            _ => {}
        }
    }
    if result.requests == 0.0 || !text.contains("Latency Distribution") {
        return Err(format!("wrk said nothing useful:\n{text}"));
    }
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        eprintln!("note: wrk reported errors against {addr}:\n{text}");
    }
    Ok(result)
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}

/// One HTTP visit: requests/s, p50, p99, CPU µs per request, user CPU µs per request.
fn http_visit(settings: &Settings, spec: &Spec) -> Result<[f64; 5], String> {
    let server = start(settings, spec)?;
    wrk(settings, server.addr, settings.warmup)?;
    let (user0, sys0) = cpu_times(server.child.id());
    let run = wrk(settings, server.addr, settings.window)?;
    let (user1, sys1) = cpu_times(server.child.id());
    let per = |d: Duration| d.as_secs_f64() * 1e6 / run.requests;
    Ok([
        run.requests / run.seconds,
        run.p50_us,
        run.p99_us,
        per(user1 + sys1 - user0 - sys0),
        per(user1 - user0),
    ])
}

fn http_syscalls(settings: &Settings, spec: &Spec) -> Option<f64> {
    let server = start(settings, spec).ok()?;
    wrk(settings, server.addr, Duration::from_secs(1)).ok()?;
    let count = SyscallCount::attach(server.child.id())?;
    let run = wrk(settings, server.addr, Duration::from_secs(3)).ok()?;
    let calls = count.finish()?;
    Some(calls as f64 / run.requests)
}

/// One echo visit: round trips/s, CPU µs and user CPU µs per round trip.
fn echo_visit(settings: &Settings, spec: &Spec, conns: usize) -> Result<[f64; 3], String> {
    let server = start(settings, spec)?;
    let pid = server.child.id();
    let load = EchoLoad {
        addr: server.addr,
        conns,
        size: 1024,
        warmup: settings.warmup,
        window: settings.window,
    };
    let zero = (Duration::ZERO, Duration::ZERO);
    let (before, after) = (Cell::new(zero), Cell::new(zero));
    let trips = pinned_load(settings, || {
        load.run(|| before.set(cpu_times(pid)), || after.set(cpu_times(pid)))
    })
    .map_err(|e| format!("{}: {e}", spec.name))?;
    let ((user0, sys0), (user1, sys1)) = (before.get(), after.get());
    let trips = trips as f64;
    let per = |d: Duration| d.as_secs_f64() * 1e6 / trips;
    Ok([
        trips / settings.window.as_secs_f64(),
        per(user1 + sys1 - user0 - sys0),
        per(user1 - user0),
    ])
}

fn echo_syscalls(settings: &Settings, spec: &Spec, conns: usize) -> Option<f64> {
    let server = start(settings, spec).ok()?;
    let pid = server.child.id();
    let load = EchoLoad {
        addr: server.addr,
        conns,
        size: 1024,
        warmup: Duration::from_secs(1),
        window: Duration::from_secs(3),
    };
    let count = RefCell::new(None);
    let calls = Cell::new(None);
    let trips = pinned_load(settings, || {
        load.run(
            || *count.borrow_mut() = SyscallCount::attach(pid),
            || calls.set(count.borrow_mut().take().and_then(SyscallCount::finish)),
        )
    })
    .ok()?;
    Some(calls.get()? as f64 / trips as f64)
}

/// Runs `f` with this thread pinned to the load's CPU.
fn pinned_load<R>(settings: &Settings, f: impl FnOnce() -> R) -> R {
    if settings.taskset {
        // SAFETY: a zeroed cpu_set_t is an empty set; CPU_SET writes inside it; the call
        // reads `size_of` bytes of it.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(settings.cpus - 1, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
    }
    f()
}

fn specs(settings: &Settings) -> (Vec<Spec>, Vec<Spec>) {
    let bin = |name: &str| settings.bin_dir.join(name).display().to_string();
    let mut http: Vec<Spec> = HTTP
        .iter()
        .map(|s| Spec {
            name: s.arg.to_owned(),
            command: vec![
                bin("http-server"),
                s.arg.to_owned(),
                "127.0.0.1:0".to_owned(),
            ],
            threads: s.threads,
        })
        .collect();
    let mut echo: Vec<Spec> = ECHO
        .iter()
        .map(|s| Spec {
            name: s.arg.to_owned(),
            command: vec![
                bin("echo-server"),
                s.arg.to_owned(),
                "127.0.0.1:0".to_owned(),
            ],
            threads: 1,
        })
        .collect();
    if let Some(python) = &settings.python {
        let script = settings.script.display().to_string();
        let py = |mode: &str| Spec {
            name: format!("uvloop-{mode}"),
            command: vec![
                python.clone(),
                script.clone(),
                mode.to_owned(),
                "127.0.0.1:0".to_owned(),
            ],
            threads: 1,
        };
        http.push(Spec {
            name: "uvloop-protocol".to_owned(),
            ..py("http")
        });
        echo.push(py("protocol"));
        echo.push(py("streams"));
    } else {
        eprintln!("note: no HTTP_PYTHON with uvloop: the uvloop servers are left out");
    }
    if let Ok(only) = std::env::var("HTTP_SERVERS") {
        let wanted: Vec<&str> = only.split(',').map(str::trim).collect();
        http.retain(|s| wanted.contains(&s.name.as_str()));
        echo.retain(|s| wanted.contains(&s.name.as_str()));
    }
    (http, echo)
}

/// Runs the benchmark and prints its tables.
pub fn main() -> ExitCode {
    let settings = Settings::from_env();
    let (http, echo) = specs(&settings);
    println!(
        "<!-- http-bench: {} rounds, warm-up {:?}, window {:?}, {} CPUs, taskset {}, perf {} -->",
        settings.rounds,
        settings.warmup,
        settings.window,
        settings.cpus,
        settings.taskset,
        settings.perf
    );
    let mut failed = false;
    if settings.only.as_deref() != Some("echo") {
        failed |= run_http(&settings, &http);
    }
    if settings.only.as_deref() != Some("http") {
        failed |= run_echo(&settings, &echo);
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn run_http(settings: &Settings, specs: &[Spec]) -> bool {
    if !have("wrk") {
        eprintln!("note: wrk is not installed (Debian: apt-get install wrk): HTTP left out");
        return false;
    }
    let mut samples: Vec<Vec<[f64; 5]>> = vec![Vec::new(); specs.len()];
    let mut failed = false;
    for round in 0..settings.rounds {
        for (i, spec) in specs.iter().enumerate() {
            eprintln!("http round {}: {}", round + 1, spec.name);
            match http_visit(settings, spec) {
                Ok(s) => samples[i].push(s),
                Err(e) => {
                    eprintln!("error: {e}");
                    failed = true;
                }
            }
        }
    }
    let syscalls: Vec<Option<f64>> = specs
        .iter()
        .map(|s| settings.perf.then(|| http_syscalls(settings, s)).flatten())
        .collect();
    println!(
        "\n### HTTP hello-world (wrk -t1 -c{}, keep-alive; medians of {} rounds)\n",
        settings.conns, settings.rounds
    );
    println!(
        "| server | threads | requests/s | p50 | p99 | server CPU µs/request | of which user | syscalls/request |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut rps = Vec::new();
    let mut cpu = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let col = |k: usize| median(samples[i].iter().map(|s| s[k]).collect());
        rps.push(col(0));
        cpu.push(col(3));
        println!(
            "| {} | {} | {:.0} | {:.0} µs | {:.0} µs | {:.2} | {:.2} | {} |",
            spec.name,
            spec.threads,
            col(0),
            col(1),
            col(2),
            col(3),
            col(4),
            syscalls[i].map_or("-".to_owned(), |s| format!("{s:.2}"))
        );
        println!(
            "RESULT http {} rps {:.0} p50_us {:.0} p99_us {:.0} cpu_us {:.3}",
            spec.name,
            col(0),
            col(1),
            col(2),
            col(3)
        );
    }
    let find = |name: &str| specs.iter().position(|s| s.name == name);
    if let (Some(a1), Some(a2), Some(t)) = (find("asyncio-1"), find("asyncio-2"), find("tokio-ct"))
    {
        println!(
            "\nRatios: CPU/request asyncio-1 / tokio-ct = {:.2}; requests/s asyncio-2 / asyncio-1 = {:.2}",
            cpu[a1] / cpu[t],
            rps[a2] / rps[a1]
        );
        if let Some(u) = find("uvloop-protocol") {
            println!(
                "Requests/s per core asyncio-1 / uvloop-protocol = {:.2}; CPU/request uvloop / asyncio-1 = {:.2}",
                rps[a1] / rps[u],
                cpu[u] / cpu[a1]
            );
        }
    }
    failed
}

fn run_echo(settings: &Settings, specs: &[Spec]) -> bool {
    let configs = [10usize, 100];
    let mut failed = false;
    let mut samples = vec![vec![Vec::new(); specs.len()]; configs.len()];
    for round in 0..settings.rounds {
        for (c, &conns) in configs.iter().enumerate() {
            for (i, spec) in specs.iter().enumerate() {
                eprintln!("echo round {}: 1k-c{conns} {}", round + 1, spec.name);
                match echo_visit(settings, spec, conns) {
                    Ok(s) => samples[c][i].push(s),
                    Err(e) => {
                        eprintln!("error: {e}");
                        failed = true;
                    }
                }
            }
        }
    }
    println!(
        "\n### TCP echo, 1 KiB messages (closed loop; medians of {} rounds)\n",
        settings.rounds
    );
    println!(
        "| connections | server | round trips/s | server CPU µs/round trip | of which user | syscalls/round trip |"
    );
    println!("|---:|---|---:|---:|---:|---:|");
    for (c, &conns) in configs.iter().enumerate() {
        for (i, spec) in specs.iter().enumerate() {
            let col = |k: usize| median(samples[c][i].iter().map(|s| s[k]).collect());
            let sys = settings
                .perf
                .then(|| echo_syscalls(settings, spec, conns))
                .flatten();
            println!(
                "| {conns} | {} | {:.0} | {:.2} | {:.2} | {} |",
                spec.name,
                col(0),
                col(1),
                col(2),
                sys.map_or("-".to_owned(), |s| format!("{s:.2}"))
            );
            println!(
                "RESULT echo 1k-c{conns} {} rps {:.0} cpu_us {:.3}",
                spec.name,
                col(0),
                col(1)
            );
        }
    }
    failed
}
