//! Subprocesses: spawning, pipes, exit codes, signals, many children at once, and children
//! that outlive their `Process` or their loop.
//!
//! Every wait is bounded: a test that would hang fails after [`BOUND`] seconds instead.

use std::io;
use std::time::{Duration, Instant};

use asyncio::subprocess::{DEVNULL, PIPE, STDOUT, Stdio};
use asyncio::{create_subprocess_exec, create_subprocess_shell, wait_for};

/// Seconds any one wait in these tests may take.
const BOUND: f64 = 20.0;

/// No arguments (the type `[&str; 0]` is what `create_subprocess_exec` needs for none).
const NO_ARGS: [&str; 0] = [];

/// `run` with the body's io errors turned into a test failure.
fn run(main: impl std::future::Future<Output = io::Result<()>>) {
    asyncio::run(main).unwrap();
}

/// True once `pid` is gone: reaped (a zombie still answers `kill(pid, 0)`).
fn is_reaped(pid: u32) -> bool {
    // SAFETY: kill with signal 0 only checks whether the process exists.
    unsafe { libc::kill(pid as libc::pid_t, 0) == -1 }
}

fn wait_until_reaped(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs_f64(BOUND);
    while !is_reaped(pid) {
        assert!(Instant::now() < deadline, "child {pid} was never reaped");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn exec_gives_the_exit_code_and_the_output() {
    run(async {
        let mut proc = create_subprocess_exec("sh", ["-c", "echo out; echo err >&2; exit 5"])
            .stdout(PIPE)
            .stderr(PIPE)
            .await?;
        // A fast child may already be reaped by the time spawning returns (under valgrind,
        // say); if so, with its real exit code.
        assert!(matches!(proc.returncode(), None | Some(5)));
        let (out, err) = wait_for(proc.communicate(b""), BOUND).await.unwrap()?;
        assert_eq!(out, b"out\n");
        assert_eq!(err, b"err\n");
        assert_eq!(proc.returncode(), Some(5));
        assert_eq!(proc.wait().await, 5, "wait after the exit returns at once");
        Ok(())
    });
}

#[test]
fn a_missing_program_is_not_found_and_named() {
    run(async {
        let err = create_subprocess_exec("/no/such/program-xyz", NO_ARGS)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("/no/such/program-xyz"), "{err}");

        let err = create_subprocess_exec("true", NO_ARGS)
            .cwd("/no/such/dir-xyz")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("/no/such/dir-xyz"), "{err}");
        Ok(())
    });
}

#[test]
fn stdout_as_a_target_is_only_for_stderr() {
    run(async {
        for (stdin, stdout) in [(STDOUT, Stdio::Inherit), (Stdio::Inherit, STDOUT)] {
            let err = create_subprocess_exec("true", NO_ARGS)
                .stdin(stdin)
                .stdout(stdout)
                .await
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains("only for stderr"), "{err}");
        }
        Ok(())
    });
}

#[test]
fn stderr_into_stdout_keeps_the_order_of_writes() {
    run(async {
        let mut proc = create_subprocess_shell("echo 1; echo 2 >&2; echo 3; echo 4 >&2")
            .stdout(PIPE)
            .stderr(STDOUT)
            .await?;
        assert!(proc.stderr.is_none());
        let (out, err) = wait_for(proc.communicate(b""), BOUND).await.unwrap()?;
        assert_eq!(out, b"1\n2\n3\n4\n");
        assert!(err.is_empty());
        Ok(())
    });
}

#[test]
fn devnull_stdin_reads_as_empty_and_devnull_stdout_discards() {
    run(async {
        let mut proc = create_subprocess_exec("wc", ["-c"])
            .stdin(DEVNULL)
            .stdout(PIPE)
            .await?;
        let (out, _) = wait_for(proc.communicate(b"ignored: stdin is not piped"), BOUND)
            .await
            .unwrap()?;
        assert_eq!(String::from_utf8_lossy(&out).trim(), "0");

        let mut quiet = create_subprocess_exec("echo", ["hidden"])
            .stdout(DEVNULL)
            .await?;
        assert!(quiet.stdout.is_none());
        let (out, _) = quiet.communicate(b"").await?;
        assert!(out.is_empty());
        assert_eq!(quiet.returncode(), Some(0));
        Ok(())
    });
}

#[test]
fn ten_mib_go_through_cat_and_back_without_deadlock() {
    run(async {
        let input: Vec<u8> = (0..10 << 20).map(|i: u32| (i % 251) as u8).collect();
        let mut proc = create_subprocess_exec("cat", NO_ARGS)
            .stdin(PIPE)
            .stdout(PIPE)
            .await?;
        let (out, err) = wait_for(proc.communicate(&input), BOUND).await.unwrap()?;
        assert_eq!(out.len(), input.len());
        assert!(out == input, "cat gave back different bytes");
        assert!(err.is_empty());
        assert_eq!(proc.returncode(), Some(0));
        Ok(())
    });
}

#[test]
fn communicate_does_not_deadlock_on_a_child_that_never_reads_its_input() {
    run(async {
        // The child ignores stdin and fills both of its output pipes many times over.
        let mut proc = create_subprocess_shell(
            "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2; exit 0",
        )
        .stdin(PIPE)
        .stdout(PIPE)
        .stderr(PIPE)
        .await?;
        let input = vec![b'x'; 10 << 20];
        let (out, err) = wait_for(proc.communicate(&input), BOUND).await.unwrap()?;
        assert_eq!(out.len(), 1 << 20);
        assert_eq!(err.len(), 1 << 20);
        assert_eq!(proc.returncode(), Some(0));
        Ok(())
    });
}

#[test]
fn a_hundred_children_run_at_once() {
    run(async {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..100 {
            tasks.push(asyncio::create_task(async move {
                // Each sleeps a little, so all hundred are alive together.
                let mut proc =
                    create_subprocess_shell(format!("sleep 0.3; echo child {i}; exit {}", i % 7))
                        .stdout(PIPE)
                        .await?;
                let (out, _) = proc.communicate(b"").await?;
                Ok::<_, io::Error>((i, out, proc.returncode()))
            }));
        }
        let results = wait_for(asyncio::gather(tasks), BOUND)
            .await
            .unwrap()
            .unwrap();
        for result in results {
            let (i, out, code) = result?;
            assert_eq!(out, format!("child {i}\n").into_bytes());
            assert_eq!(code, Some(i % 7));
        }
        // A hundred 0.3 s sleeps, concurrently: far less than their 30 s sum.
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{:?}",
            start.elapsed()
        );
        Ok(())
    });
}

#[test]
fn signals_give_negative_returncodes() {
    run(async {
        let proc = create_subprocess_exec("sleep", ["30"]).await?;
        proc.terminate()?;
        assert_eq!(wait_for(proc.wait(), BOUND).await.unwrap(), -libc::SIGTERM);

        let proc = create_subprocess_exec("sleep", ["30"]).await?;
        proc.kill()?;
        assert_eq!(wait_for(proc.wait(), BOUND).await.unwrap(), -libc::SIGKILL);

        let proc = create_subprocess_exec("sleep", ["30"]).await?;
        proc.send_signal(asyncio::signal::SIGUSR1)?;
        assert_eq!(wait_for(proc.wait(), BOUND).await.unwrap(), -libc::SIGUSR1);
        // Exited and reaped: signalling it again does nothing (the pid may be reused).
        proc.send_signal(asyncio::signal::SIGKILL)?;
        proc.kill()?;
        Ok(())
    });
}

#[test]
fn a_cancelled_wait_leaves_the_process_waitable() {
    run(async {
        let proc = create_subprocess_exec("sleep", ["30"]).await?;
        let timed_out = wait_for(proc.wait(), 0.05).await;
        assert!(timed_out.is_err(), "sleep 30 cannot be done yet");
        assert_eq!(proc.returncode(), None);
        proc.kill()?;
        assert_eq!(wait_for(proc.wait(), BOUND).await.unwrap(), -9);
        Ok(())
    });
}

#[test]
fn pipes_are_streams_a_line_at_a_time() {
    run(async {
        let mut proc = create_subprocess_exec("cat", NO_ARGS)
            .stdin(PIPE)
            .stdout(PIPE)
            .await?;
        let mut stdin = proc.stdin.take().unwrap();
        let stdout = proc.stdout.as_mut().unwrap();
        for line in ["one\n", "two\n", "three\n"] {
            stdin.write(line)?;
            stdin.drain().await?;
            let got = wait_for(stdout.readline(), BOUND).await.unwrap()?;
            assert_eq!(got, line.as_bytes());
        }
        assert!(stdin.can_write_eof());
        stdin.write_eof()?; // cat sees EOF ...
        assert!(wait_for(stdout.read(-1), BOUND).await.unwrap()?.is_empty());
        assert_eq!(wait_for(proc.wait(), BOUND).await.unwrap(), 0); // ... and exits
        assert!(stdin.write(b"late").is_err(), "the pipe is closed");
        Ok(())
    });
}

#[test]
fn env_and_cwd_reach_the_child() {
    run(async {
        let dir = std::env::temp_dir();
        let mut proc = create_subprocess_shell("pwd; echo \"$ONLY\"; echo \"${HOME:-unset}\"")
            .cwd(&dir)
            .env_clear()
            .env("ONLY", "this one")
            .stdout(PIPE)
            .await?;
        let (out, _) = proc.communicate(b"").await?;
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        let expected_dir = dir.canonicalize().unwrap();
        assert_eq!(
            std::path::Path::new(lines[0]).canonicalize().unwrap(),
            expected_dir
        );
        assert_eq!(lines[1..], ["this one", "unset"]);
        Ok(())
    });
}

#[test]
fn a_dropped_process_keeps_running_and_is_reaped_when_it_exits() {
    let marker = std::env::temp_dir().join(format!("asyncio-drop-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let pid = asyncio::run({
        let marker = marker.clone();
        async move {
            let proc =
                create_subprocess_shell(format!("sleep 0.2; echo done > '{}'", marker.display()))
                    .await
                    .unwrap();
            let pid = proc.pid();
            drop(proc); // neither killed nor waited for
            let deadline = Instant::now() + Duration::from_secs_f64(BOUND);
            while !marker.exists() {
                assert!(Instant::now() < deadline, "the dropped child was killed");
                asyncio::sleep(0.01).await;
            }
            // The loop (its pidfd watcher, or the waiter thread) reaps it without anyone
            // waiting: no zombie.
            while !is_reaped(pid) {
                assert!(
                    Instant::now() < deadline,
                    "the dropped child became a zombie"
                );
                asyncio::sleep(0.01).await;
            }
            pid
        }
    });
    assert!(is_reaped(pid));
    let _ = std::fs::remove_file(&marker);
}

#[test]
fn children_exiting_while_the_loop_shuts_down_are_reaped_and_harmless() {
    // `run` returns while ten children still run; the loop closes under them.
    let pids = asyncio::run(async {
        let mut pids = Vec::new();
        for i in 0..10 {
            let delay = if i % 2 == 0 { "0" } else { "0.1" };
            let proc = create_subprocess_exec("sleep", [delay]).await.unwrap();
            pids.push(proc.pid());
        }
        pids
    });
    for pid in pids {
        wait_until_reaped(pid);
    }
    // And the next loop on this thread is unaffected.
    assert_eq!(asyncio::run(async { 7 }), 7);
}

#[test]
fn a_virtual_clock_holds_still_while_a_child_is_awaited() {
    let runner = asyncio::Runner::virtual_time();
    let elapsed = runner.run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let start = lp.time();
        // A virtual timer far away, which must not fire while the real child runs (longer
        // than the 250 ms a virtual clock waits for real I/O before it jumps).
        let far = asyncio::create_task(asyncio::sleep(1000));
        let proc = create_subprocess_exec("sleep", ["0.5"]).await.unwrap();
        assert_eq!(proc.wait().await, 0);
        let elapsed = lp.time() - start;
        far.cancel();
        elapsed
    });
    assert!(
        elapsed < 10.0,
        "the clock jumped toward the timer: {elapsed}"
    );
}

#[test]
fn create_subprocess_needs_a_running_loop() {
    let err = futures::executor::block_on(async {
        create_subprocess_exec("true", NO_ARGS).await.unwrap_err()
    });
    assert!(err.to_string().contains("no running event loop"), "{err}");
}
