//! The servers: which exist, how each is started, and the running fleet.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::procs::{self, Cpu, Guard};
use crate::servers;

/// How long a server may take to print `listening on <addr>` (Python imports included).
const STARTUP: Duration = Duration::from_secs(20);

/// The Python script, next to this crate's manifest.
pub(crate) const PYTHON_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/echo_server.py");

/// The C server's source.
pub(crate) const C_SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/c/echo_epoll.c");

/// What program serves.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// `echo-server <runtime>`.
    Rust(&'static str),
    /// `c/echo_epoll.c`, compiled by the driver.
    C,
    /// `echo_server.py <mode>`.
    Python(&'static str),
}

/// One server of the catalogue.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    /// Its name in the tables.
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    /// What it is, for the report.
    pub(crate) about: &'static str,
}

/// Every server, in report order: this crate's, the Rust peers, C, then Python.
pub(crate) fn catalogue() -> Vec<Spec> {
    let mut specs: Vec<Spec> = servers::RUNTIMES
        .iter()
        .map(|r| Spec {
            name: r.label,
            kind: Kind::Rust(r.arg),
            about: r.about,
        })
        .collect();
    specs.push(Spec {
        name: "c-epoll",
        kind: Kind::C,
        about: "hand-written C: epoll edge-triggered, non-blocking, read until short read or EAGAIN, write (gcc -O2)",
    });
    for (name, mode, about) in [
        (
            "cpython-streams",
            "asyncio-streams",
            "CPython asyncio.start_server: reader.read(64 KiB), writer.write + drain",
        ),
        (
            "cpython-protocol",
            "asyncio-protocol",
            "CPython asyncio Protocol: data_received -> transport.write",
        ),
        (
            "uvloop-streams",
            "uvloop-streams",
            "uvloop, streams as cpython-streams",
        ),
        (
            "uvloop-protocol",
            "uvloop-protocol",
            "uvloop, Protocol as cpython-protocol",
        ),
    ] {
        specs.push(Spec {
            name,
            kind: Kind::Python(mode),
            about,
        });
    }
    specs
}

/// Where the programs are.
#[derive(Debug, Clone)]
pub(crate) struct Tools {
    /// `echo-server` and `echo-client`, next to the driver.
    pub(crate) bin_dir: PathBuf,
    /// `target/echo/`: the C binary, logs, FIFOs, results.
    pub(crate) out_dir: PathBuf,
    /// The C server, once compiled.
    pub(crate) c_server: Option<PathBuf>,
    /// The Python interpreter (`ECHO_PYTHON`, else `python3`).
    pub(crate) python: PathBuf,
    /// Whether children are pinned.
    pub(crate) pin: bool,
}

/// A server that is up.
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) name: &'static str,
    pub(crate) addr: SocketAddr,
    pub(crate) pid: u32,
    pub(crate) log: PathBuf,
    pub(crate) process: Guard,
    /// It exited; the note saying so is made, later visits skip it.
    pub(crate) gone: bool,
}

impl Server {
    /// Whether the process still runs; if not, what it said last.
    pub(crate) fn check_alive(&mut self) -> Result<(), String> {
        match self.process.0.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => {
                self.gone = true;
                let last_words = procs::tail(&self.log, 3);
                Err(format!("{} exited ({status}): {last_words}", self.name))
            }
            Err(err) => Err(format!("{}: {err}", self.name)),
        }
    }
}

/// Starts `spec` on 127.0.0.1 with a port of the kernel's choosing, pinned to the server CPU, and
/// waits for its `listening on` line. `Err` says why it is not in the run.
pub(crate) fn start(spec: &Spec, tools: &Tools) -> Result<Server, String> {
    let mut cmd = match spec.kind {
        Kind::Rust(runtime) => {
            let mut cmd = procs::command(tools.bin_dir.join("echo-server"), Cpu::Server, tools.pin);
            cmd.arg(runtime);
            cmd
        }
        Kind::C => {
            let binary = tools
                .c_server
                .as_ref()
                .ok_or("the C server was not compiled")?;
            procs::command(binary, Cpu::Server, tools.pin)
        }
        Kind::Python(mode) => {
            let mut cmd = procs::command(&tools.python, Cpu::Server, tools.pin);
            cmd.arg(PYTHON_SCRIPT).arg(mode);
            cmd
        }
    };
    cmd.arg("127.0.0.1:0");
    let log = tools
        .out_dir
        .join("logs")
        .join(format!("{}.log", spec.name));
    let log_file = File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", spec.name))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let pid = child.id();
    let mut process = Guard(child);

    // A helper thread reads the first line and then drains the rest, so that a chatty server can
    // never block on a full pipe.
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = tx.send(lines.next());
        for _ in lines {}
    });
    let first = match rx.recv_timeout(STARTUP) {
        Ok(Some(Ok(line))) => line,
        Ok(_) => {
            let status = procs::wait_timeout(&mut process.0, Duration::from_secs(2));
            let code = match status {
                Ok(Some(s)) => s.to_string(),
                _ => "still running".to_owned(),
            };
            return Err(format!(
                "{} did not start ({code}): {}",
                spec.name,
                procs::tail(&log, 3)
            ));
        }
        Err(_) => {
            return Err(format!(
                "{} printed no `listening on` within {STARTUP:?}",
                spec.name
            ));
        }
    };
    let addr = first
        .strip_prefix("listening on ")
        .and_then(|a| a.trim().parse().ok())
        .ok_or_else(|| {
            format!(
                "{}: expected `listening on <addr>`, got {first:?}",
                spec.name
            )
        })?;
    Ok(Server {
        name: spec.name,
        addr,
        pid,
        log,
        process,
        gone: false,
    })
}

/// Compiles the C server into `out_dir` with `gcc -O2`; `Err` says why not.
pub(crate) fn compile_c(out_dir: &Path) -> Result<PathBuf, String> {
    let binary = out_dir.join("echo_epoll");
    let output = std::process::Command::new("gcc")
        .args(["-O2", "-Wall", "-Wextra", "-o"])
        .arg(&binary)
        .arg(C_SOURCE)
        .output()
        .map_err(|e| format!("gcc: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "gcc failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(binary)
}
