//! The subprocess and signal examples, run as programs: asyncio's subprocess example against
//! its golden output (what CPython prints for the same program), and `graceful_shutdown`
//! interrupted with SIGINT as Ctrl-C would.
//!
//! The examples are built once, with the same `cargo` and profile (debug) as the tests, and
//! run straight from `<target dir>/debug/examples/`. Every run is bounded in time.

use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

const EXAMPLES: &[&str] = &["subprocess", "graceful_shutdown"];

/// How long any one program may run, or any one expected line take to come.
const BOUND: Duration = Duration::from_secs(20);

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args(["build", "--quiet", "--manifest-path"])
            .arg(manifest_dir().join("Cargo.toml"));
        for name in EXAMPLES {
            cargo.args(["--example", name]);
        }
        let output = cargo.output().map_err(|e| format!("cargo build: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    });
    if let Err(e) = built {
        panic!("building the examples failed:\n{e}");
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => manifest_dir().join(dir),
        None => manifest_dir().join("target"),
    };
    target.join("debug").join("examples").join(name)
}

/// Runs `command` to its end within [`BOUND`]; kills it and fails otherwise.
fn output_within_bound(mut command: Command) -> std::process::Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (send, recv) = channel();
    std::thread::spawn(move || {
        let _ = send.send(child.wait_with_output());
    });
    match recv.recv_timeout(BOUND) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            // SAFETY: kill takes integers only; the child is not reaped (its waiter is stuck).
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("example did not finish within {BOUND:?}");
        }
    }
}

#[test]
fn subprocess_prints_what_asyncio_s_example_prints() {
    let golden = std::fs::read_to_string(manifest_dir().join("tests/golden/subprocess.txt"))
        .expect("tests/golden/subprocess.txt");
    let ls_is_gnu = Command::new("ls")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("GNU"));
    if !ls_is_gnu {
        eprintln!("skipped: the golden output is GNU ls's message");
        return;
    }
    let mut command = Command::new(example("subprocess"));
    command.env("LC_ALL", "C");
    let output = output_within_bound(command);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), golden);

    // Another command, with stdout.
    let mut command = Command::new(example("subprocess"));
    command.arg("echo hello; exit 3");
    let output = output_within_bound(command);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "['echo hello; exit 3' exited with 3]\n[stdout]\nhello\n\n"
    );
}

#[test]
fn graceful_shutdown_cleans_up_on_sigint_and_ends_by_it() {
    let mut command = Command::new(example("graceful_shutdown"));
    command.stdin(Stdio::null()).stdout(Stdio::piped());
    // SAFETY: between fork and exec only `signal`, which is async-signal-safe, runs: the
    // example must start with SIGINT at its default disposition even if the tests run in the
    // background (where shells ignore SIGINT).
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    let mut child = command.spawn().unwrap();
    let pid = child.id();
    let (send, lines) = channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    let ready = lines.recv_timeout(BOUND).expect("the ready line");
    assert_eq!(ready, format!("Running as pid {pid}; press Ctrl-C to stop"));
    // SAFETY: kill takes integers only; the child is not reaped yet, so the pid is its.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGINT) }, 0);
    let deadline = Instant::now() + BOUND;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("graceful_shutdown still runs {BOUND:?} after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let rest: Vec<String> = lines.iter().collect();
    assert_eq!(rest, ["cleanup done", "worker cancelled"]);
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
}
