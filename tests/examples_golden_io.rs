//! The I/O examples, run as programs over real loopback sockets: the tutorial's `wget`
//! against its golden output, asyncio's TCP echo server and client, and the chat server.
//!
//! - Only 127.0.0.1 is used, and every server listens on a free port: it is started with
//!   `127.0.0.1:0` and the test reads the port from its `Serving on ('127.0.0.1', <port>)`.
//! - Every run is bounded in time: a child that does not finish within its bound is killed
//!   and the test fails; a [`Child`] guard kills its process whenever a test ends, passing or
//!   failing, so no server outlives its test. Reads in the tests' own clients go through
//!   `wait_for`.
//! - The examples are built once, by whichever test gets there first, with the same `cargo`
//!   and profile (debug) as the tests, and run straight from `<target dir>/debug/examples/`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use asyncio::{StreamReader, StreamWriter};

/// Every example this file runs; only these are built.
const EXAMPLES: &[&str] = &[
    "wget",
    "tcp_echo_server",
    "tcp_echo_client",
    "chat_server",
    "http_hello",
    "cross_loop",
];

/// How long any one program may run, or any one expected line take to come.
const BOUND: Duration = Duration::from_secs(20);

/// The same bound for the tests' own reads, in seconds (for `wait_for`).
const READ_BOUND: f64 = 20.0;

// ---------------------------------------------------------------------------------------------
// Building and running the examples
// ---------------------------------------------------------------------------------------------

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where cargo puts the debug example binaries: `$CARGO_TARGET_DIR` if set (relative to the
/// package, where cargo runs tests), else `<package>/target`.
fn examples_dir() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => manifest_dir().join(dir),
        None => manifest_dir().join("target"),
    };
    target.join("debug").join("examples")
}

/// `cargo build` of this file's examples, once per test binary; later callers wait for it.
fn build_examples() {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args(["build", "--quiet", "--manifest-path"])
            .arg(manifest_dir().join("Cargo.toml"));
        for name in EXAMPLES {
            cargo.args(["--example", name]);
        }
        let output = cargo
            .output()
            .map_err(|error| format!("could not start cargo build: {error}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "cargo build of the I/O examples failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    });
    if let Err(error) = built {
        panic!("{error}");
    }
}

/// A running example. Dropping it kills the process (if it is still running) and reaps it,
/// so a failing test leaves nothing behind.
struct Child {
    name: String,
    process: std::process::Child,
    stdout: Receiver<String>,
    /// Everything the child wrote to stderr so far, for failure messages.
    stderr: Arc<Mutex<String>>,
    /// The thread collecting stderr: it ends when the child is gone (joined on exit, so that
    /// nothing the child wrote is missed).
    stderr_reader: Option<thread::JoinHandle<()>>,
    /// Every stdout line received so far.
    seen: Vec<String>,
}

impl Child {
    /// Starts example `name` with `args`, its stdout read line by line on a thread.
    fn start(name: &str, args: &[&str]) -> Child {
        build_examples();
        let binary = examples_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        let mut process = Command::new(&binary)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("could not start {}: {error}", binary.display()));
        let (send, stdout) = channel();
        let out = process.stdout.take().expect("stdout is piped");
        thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = process.stderr.take().expect("stderr is piped");
        let collected = stderr.clone();
        let stderr_reader = thread::spawn(move || {
            let mut buf = [0; 4096];
            while let Ok(n @ 1..) = err.read(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                collected.lock().unwrap().push_str(&text);
            }
        });
        Child {
            name: format!("{name} {}", args.join(" ")),
            process,
            stdout,
            stderr,
            stderr_reader: Some(stderr_reader),
            seen: Vec::new(),
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The next line the child prints; fails the test if none comes within [`BOUND`].
    fn line(&mut self) -> String {
        match self.stdout.recv_timeout(BOUND) {
            Ok(line) => {
                self.seen.push(line.clone());
                line
            }
            Err(RecvTimeoutError::Timeout) => panic!(
                "{} printed no line within {BOUND:?}; so far:\n{}\nstderr:\n{}",
                self.name,
                self.seen.join("\n"),
                self.stderr()
            ),
            Err(RecvTimeoutError::Disconnected) => panic!(
                "{} closed its stdout; it printed:\n{}\nstderr:\n{}",
                self.name,
                self.seen.join("\n"),
                self.stderr()
            ),
        }
    }

    /// Reads the `Serving on ('127.0.0.1', <port>)` line a server prints first.
    fn serving_port(&mut self) -> u16 {
        let line = self.line();
        line.strip_prefix("Serving on ('127.0.0.1', ")
            .and_then(|rest| rest.strip_suffix(')'))
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("{}: expected a Serving on line, got {line:?}", self.name))
    }

    /// Waits for the child to exit by itself within [`BOUND`] and returns its status and the
    /// rest of what it printed; fails the test (and the guard kills it) if it does not.
    fn wait_exit(&mut self) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + BOUND;
        let status = loop {
            match self.process.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
                Ok(None) => panic!(
                    "{} did not exit within {BOUND:?}; it printed:\n{}\nstderr:\n{}",
                    self.name,
                    self.seen.join("\n"),
                    self.stderr()
                ),
                Err(error) => panic!("waiting for {}: {error}", self.name),
            }
        };
        // The pipes close when the process is gone: collect what is left of its output.
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        let mut rest = Vec::new();
        while let Ok(line) = self.stdout.recv_timeout(BOUND) {
            self.seen.push(line.clone());
            rest.push(line);
        }
        (status, rest)
    }

    /// Kills the child now and returns whatever else it had printed.
    fn kill(&mut self) -> Vec<String> {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let mut rest = Vec::new();
        while let Ok(line) = self.stdout.recv_timeout(BOUND) {
            rest.push(line);
        }
        rest
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Runs an example to its end (bounded by [`BOUND`]); returns its status, stdout and stderr.
fn run(name: &str, args: &[&str]) -> (ExitStatus, String, String) {
    let mut child = Child::start(name, args);
    let (status, lines) = child.wait_exit();
    let mut stdout = lines.join("\n");
    if !lines.is_empty() {
        stdout.push('\n');
    }
    (status, stdout, child.stderr())
}

/// The recorded output `tests/golden/<name>.txt`.
fn golden(name: &str) -> String {
    let path = manifest_dir()
        .join("tests/golden")
        .join(format!("{name}.txt"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("could not read {}: {error}", path.display()))
}

fn assert_golden(name: &str, actual: &str) {
    let expected = golden(name);
    assert!(
        actual == expected,
        "output differs from tests/golden/{name}.txt\n--- expected\n{expected}--- actual\n{actual}---"
    );
}

/// Reads one line within [`READ_BOUND`] and checks it.
async fn expect_line(reader: &mut StreamReader, who: &str, want: &str) {
    let line = asyncio::wait_for(reader.readline(), READ_BOUND)
        .await
        .unwrap_or_else(|_| panic!("{who} waited {READ_BOUND} s for {want:?}"))
        .unwrap_or_else(|e| panic!("{who} expected {want:?}, the read failed: {e}"));
    assert_eq!(
        String::from_utf8_lossy(&line),
        format!("{want}\n"),
        "what {who} received"
    );
}

/// Reads until end of file within [`READ_BOUND`]; a reset counts as the end too.
async fn expect_eof(reader: &mut StreamReader, who: &str) -> Vec<u8> {
    match asyncio::wait_for(reader.read(-1), READ_BOUND).await {
        Ok(Ok(rest)) => rest,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => Vec::new(),
        Ok(Err(e)) => panic!("{who}: reading to the end failed: {e}"),
        Err(_) => panic!("{who}: the server did not close within {READ_BOUND} s"),
    }
}

// ---------------------------------------------------------------------------------------------
// wget
// ---------------------------------------------------------------------------------------------

/// Replaces what follows `Date: ` with `<http-date>`, after checking that it is one
/// (`Tue, 01 Dec 2026 20:04:06 GMT`).
fn normalise_http_dates(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        match line.split_once("header > Date: ") {
            Some((head, date)) => {
                let fields: Vec<&str> = date.split(' ').collect();
                let ok = fields.len() == 6
                    && fields[0].len() == 4
                    && fields[0].ends_with(',')
                    && fields[1].len() == 2
                    && fields[3].len() == 4
                    && fields[4].len() == 8
                    && fields[4].matches(':').count() == 2
                    && fields[5] == "GMT";
                assert!(ok, "not an HTTP date: {date:?}");
                out.push_str(head);
                out.push_str("header > Date: <http-date>");
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[test]
fn wget_fetches_the_three_local_hosts_concurrently_as_the_tutorial_prints() {
    let (status, stdout, stderr) = run("wget", &[]);
    assert!(status.success(), "wget exited with {status}:\n{stderr}");
    assert_golden("wget", &normalise_http_dates(&stdout));
    for host in ["www.sina.com.cn", "www.sohu.com", "www.163.com"] {
        assert!(
            stderr.contains(&format!("serving {host} on 127.0.0.1:")),
            "the mapping of {host} is on stderr:\n{stderr}"
        );
    }
}

#[test]
fn wget_prints_the_same_lines_in_the_same_order_on_every_run() {
    let runs: Vec<String> = (0..3)
        .map(|_| normalise_http_dates(&run("wget", &[]).1))
        .collect();
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[1], runs[2]);
}

#[test]
fn wget_with_host_arguments_sends_the_tutorials_request_and_reports_failures() {
    // A one-shot HTTP server on a thread, standing in for a real host.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(BOUND)).unwrap();
        let mut request = Vec::new();
        let mut byte = [0];
        while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
            request.push(byte[0]);
        }
        stream
            .write_all(b"HTTP/1.0 200 OK\r\nX-Test: yes\r\n\r\nthe body is not printed\r\n")
            .unwrap();
        String::from_utf8(request).unwrap()
    });

    // Port 1 of 127.0.0.1: nothing listens there.
    let host = format!("127.0.0.1:{port}");
    let (status, stdout, stderr) = run("wget", &[&host, "127.0.0.1:1"]);
    let request = server.join().expect("the test server failed");
    assert_eq!(request, format!("GET / HTTP/1.0\r\nHost: {host}\r\n\r\n"));
    assert_eq!(
        stdout,
        format!(
            "wget {host}...\nwget 127.0.0.1:1...\n\
             {host} header > HTTP/1.0 200 OK\n{host} header > X-Test: yes\n"
        )
    );
    assert!(
        !status.success(),
        "a failed fetch makes the exit status a failure"
    );
    assert!(
        stderr.contains("wget 127.0.0.1:1:") && stderr.contains("refused"),
        "the refused connection is reported:\n{stderr}"
    );
}

#[test]
fn wget_rejects_a_bad_port_with_usage_status() {
    let (status, stdout, stderr) = run("wget", &["example.org:http"]);
    assert_eq!(status.code(), Some(2), "stderr:\n{stderr}");
    assert!(stdout.is_empty(), "nothing fetched:\n{stdout}");
    assert!(stderr.contains("not a port number"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// TCP echo server and client
// ---------------------------------------------------------------------------------------------

/// Replaces the port in `('127.0.0.1', <port>)` with `<port>`.
fn normalise_ports(line: &str) -> String {
    const OPEN: &str = "('127.0.0.1', ";
    match line.find(OPEN) {
        Some(at) => {
            let rest = &line[at + OPEN.len()..];
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            assert!(digits > 0, "no port in {line:?}");
            format!("{}{OPEN}<port>{}", &line[..at], &rest[digits..])
        }
        None => line.to_owned(),
    }
}

#[test]
fn echo_client_and_server_print_what_the_asyncio_docs_show() {
    let mut server = Child::start("tcp_echo_server", &["127.0.0.1:0"]);
    let port = server.serving_port();
    let (status, stdout, stderr) = run("tcp_echo_client", &[&format!("127.0.0.1:{port}")]);
    assert!(
        status.success(),
        "the client exited with {status}:\n{stderr}"
    );
    assert_golden("tcp_echo_client", &stdout);

    // The server printed its three lines by the time the client closed (or soon after).
    let mut printed = format!("Serving on ('127.0.0.1', {port})\n");
    for _ in 0..3 {
        printed.push_str(&server.line());
        printed.push('\n');
    }
    let normalised: String = printed.lines().map(|l| normalise_ports(l) + "\n").collect();
    assert_golden("tcp_echo_server", &normalised);
    let rest = server.kill();
    assert!(rest.is_empty(), "nothing more: {rest:?}");
}

#[test]
fn quiet_echo_server_echoes_a_megabyte_byte_for_byte_and_prints_nothing() {
    let mut server = Child::start("tcp_echo_server", &["127.0.0.1:0", "--quiet"]);
    let port = server.serving_port();
    let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
    let sent = data.clone();
    let echoed = asyncio::run(async move {
        let (mut reader, mut writer) = asyncio::open_connection("127.0.0.1", port).await?;
        // Write and read at once: the server echoes as it reads, so a client that wrote
        // everything before reading would fill both directions and stall.
        let send = asyncio::create_task(async move {
            for chunk in sent.chunks(10_000) {
                writer.write(chunk)?;
                writer.drain().await?;
            }
            writer.write_eof()?;
            writer.drain().await?;
            Ok::<StreamWriter, std::io::Error>(writer)
        });
        let echoed = asyncio::wait_for(reader.readexactly(1 << 20), READ_BOUND)
            .await
            .expect("the echo came back in time")?;
        let writer = send.await.expect("the sending task")?;
        // The server closes once it has read our EOF and echoed everything.
        assert!(expect_eof(&mut reader, "client").await.is_empty());
        drop(writer);
        Ok::<Vec<u8>, std::io::Error>(echoed)
    })
    .expect("the echo round trip");
    assert!(echoed == data, "the echo differs from what was sent");
    // `Received`/`Send` would be printed before each echo was sent, so by now they would be
    // in the pipe: with --quiet there is nothing.
    let rest = server.kill();
    assert!(
        rest.is_empty(),
        "--quiet prints nothing per message: {rest:?}"
    );
}

#[test]
fn echo_examples_reject_bad_addresses_with_usage_status() {
    let (status, _, stderr) = run("tcp_echo_server", &["127.0.0.1"]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("expected host:port"), "{stderr}");
    let (status, _, stderr) = run("tcp_echo_client", &["127.0.0.1:99999"]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a port number"), "{stderr}");
}

#[test]
fn echo_client_reports_a_refused_connection() {
    let (status, stdout, stderr) = run("tcp_echo_client", &["127.0.0.1:1"]);
    assert_eq!(status.code(), Some(1));
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("127.0.0.1:1") && stderr.contains("refused"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// Chat server
// ---------------------------------------------------------------------------------------------

/// Connects to the chat server and introduces itself as `name`; returns once the server has
/// greeted it (from then on it receives what others say).
async fn join(port: u16, name: &str, here: &str) -> std::io::Result<(StreamReader, StreamWriter)> {
    let (mut reader, mut writer) = asyncio::open_connection("127.0.0.1", port).await?;
    expect_line(&mut reader, name, "* Welcome! What is your name?").await;
    writer.write(format!("{name}\n"))?;
    writer.drain().await?;
    expect_line(&mut reader, name, &format!("* Hello {name}! Here: {here}")).await;
    Ok((reader, writer))
}

async fn say(writer: &mut StreamWriter, line: &str) -> std::io::Result<()> {
    writer.write(format!("{line}\n"))?;
    writer.drain().await
}

#[test]
fn chat_server_relays_every_line_to_every_other_client_and_shuts_down_cleanly() {
    let mut server = Child::start("chat_server", &["127.0.0.1:0"]);
    let port = server.serving_port();
    asyncio::run(async {
        let (mut alice_r, mut alice_w) = join(port, "alice", "nobody else").await?;
        let (mut bob_r, mut bob_w) = join(port, "bob", "alice").await?;
        expect_line(&mut alice_r, "alice", "* bob joined").await;
        let (mut carol_r, mut carol_w) = join(port, "carol", "alice, bob").await?;
        expect_line(&mut alice_r, "alice", "* carol joined").await;
        expect_line(&mut bob_r, "bob", "* carol joined").await;

        // Each line reaches the two others, and not its sender: the sender's next line is
        // what the next speaker said, not its own words.
        say(&mut alice_w, "hello from alice").await?;
        expect_line(&mut bob_r, "bob", "alice: hello from alice").await;
        expect_line(&mut carol_r, "carol", "alice: hello from alice").await;
        say(&mut bob_w, "hi, bob here").await?;
        expect_line(&mut alice_r, "alice", "bob: hi, bob here").await;
        expect_line(&mut carol_r, "carol", "bob: hi, bob here").await;
        say(&mut carol_w, "and carol").await?;
        expect_line(&mut alice_r, "alice", "carol: and carol").await;
        expect_line(&mut bob_r, "bob", "carol: and carol").await;

        // Two lines in one write are two messages.
        alice_w.write("one\ntwo\n")?;
        alice_w.drain().await?;
        for who in [(&mut bob_r, "bob"), (&mut carol_r, "carol")] {
            expect_line(who.0, who.1, "alice: one").await;
            expect_line(who.0, who.1, "alice: two").await;
        }

        // A line over the limit is dropped, and only its sender hears of it.
        say(&mut bob_w, &"x".repeat(5000)).await?;
        expect_line(
            &mut bob_r,
            "bob",
            "* Line too long (over 4096 bytes), dropped",
        )
        .await;
        say(&mut bob_w, "short again").await?;
        expect_line(&mut alice_r, "alice", "bob: short again").await;
        expect_line(&mut carol_r, "carol", "bob: short again").await;

        // Carol hangs up; the others are told.
        carol_w.close();
        drop(carol_r);
        expect_line(&mut alice_r, "alice", "* carol left").await;
        expect_line(&mut bob_r, "bob", "* carol left").await;

        // Alice shuts the server down: both hear the last word, then end of file.
        say(&mut alice_w, "/shutdown").await?;
        for who in [(&mut alice_r, "alice"), (&mut bob_r, "bob")] {
            expect_line(who.0, who.1, "* The server is shutting down. Bye!").await;
            assert!(
                expect_eof(who.0, who.1).await.is_empty(),
                "nothing after the bye"
            );
        }
        drop((alice_w, bob_w));
        Ok::<(), std::io::Error>(())
    })
    .expect("the chat clients");

    let (status, rest) = server.wait_exit();
    assert!(
        status.success(),
        "chat_server exited with {status}:\n{}",
        server.stderr()
    );
    let rest: Vec<String> = rest.iter().map(|l| normalise_ports(l)).collect();
    assert_eq!(
        rest,
        [
            "alice joined from ('127.0.0.1', <port>)",
            "bob joined from ('127.0.0.1', <port>)",
            "carol joined from ('127.0.0.1', <port>)",
            "carol left",
            "alice asked for a shutdown",
            "Shutting down (/shutdown)",
            "Server closed",
        ]
    );
    // Closed means closed: nothing listens on the port any more.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn chat_server_shuts_down_by_itself_after_the_given_seconds() {
    let mut server = Child::start("chat_server", &["127.0.0.1:0", "--seconds", "0.5"]);
    let port = server.serving_port();
    asyncio::run(async {
        let (mut reader, writer) = join(port, "dave", "nobody else").await?;
        expect_line(&mut reader, "dave", "* The server is shutting down. Bye!").await;
        assert!(expect_eof(&mut reader, "dave").await.is_empty());
        drop(writer);
        Ok::<(), std::io::Error>(())
    })
    .expect("the chat client");
    let (status, rest) = server.wait_exit();
    assert!(
        status.success(),
        "chat_server exited with {status}:\n{}",
        server.stderr()
    );
    assert_eq!(
        rest.last().map(String::as_str),
        Some("Server closed"),
        "{rest:?}"
    );
    assert!(
        rest.contains(&"Shutting down (time is up)".to_owned()),
        "{rest:?}"
    );
}

#[test]
fn chat_server_disconnects_a_client_that_does_not_read() {
    let mut server = Child::start("chat_server", &["127.0.0.1:0"]);
    let port = server.serving_port();
    asyncio::run(async {
        let (mut sleepy_r, sleepy_w) = join(port, "sleepy", "nobody else").await?;
        let (mut talker_r, talker_w) = join(port, "talker", "sleepy").await?;
        expect_line(&mut sleepy_r, "sleepy", "* talker joined").await;

        // The talker floods; sleepy reads nothing, so the server's buffer for it grows until
        // the server gives up on it and says so. The talker keeps talking meanwhile.
        let line = format!("{}\n", "y".repeat(4000));
        let flood = asyncio::create_task(async move {
            let mut talker_w = talker_w;
            for _ in 0..20_000 {
                if talker_w.write(&line).is_err() || talker_w.drain().await.is_err() {
                    break;
                }
            }
            talker_w
        });
        expect_line(
            &mut talker_r,
            "talker",
            "* sleepy is not reading: disconnected",
        )
        .await;
        flood.cancel();

        // Sleepy's connection was aborted: what the kernel had buffered, then the end.
        let rest = expect_eof(&mut sleepy_r, "sleepy").await;
        assert!(
            rest.len() < 64 << 20,
            "the backlog stayed bounded: {} bytes",
            rest.len()
        );
        drop(sleepy_w);
        Ok::<(), std::io::Error>(())
    })
    .expect("the chat clients");
    let rest = server.kill();
    assert!(
        rest.contains(&"sleepy is not reading: disconnected".to_owned()),
        "{rest:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// http_hello and cross_loop
// ---------------------------------------------------------------------------------------------

/// Reads one HTTP response (head and a `Content-Length` body) from `s`.
fn read_response(s: &mut std::net::TcpStream) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        assert_eq!(
            s.read(&mut byte).expect("the response head"),
            1,
            "closed early"
        );
        got.push(byte[0]);
    }
    let head = String::from_utf8(got).expect("ASCII head");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .expect("a Content-Length")
        .parse()
        .expect("a number");
    let mut body = vec![0u8; length];
    s.read_exact(&mut body).expect("the body");
    head + &String::from_utf8(body).expect("ASCII body")
}

fn http_hello_answers_two_requests_on_one_connection(args: &[&str]) {
    let mut server = Child::start("http_hello", args);
    let port = server.serving_port();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(BOUND)).unwrap();
    let expected =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
    for _ in 0..2 {
        s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
        assert_eq!(read_response(&mut s), expected, "a keep-alive answer");
    }
    // Two requests in one write (pipelining), the second asking to close.
    s.write_all(
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    )
    .unwrap();
    assert_eq!(read_response(&mut s), expected);
    let last = read_response(&mut s);
    assert!(last.contains("Connection: close\r\n"), "{last:?}");
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).expect("the server closes");
    assert!(rest.is_empty(), "{rest:?}");
    drop(server);
}

#[test]
fn http_hello_keeps_the_connection_alive_on_one_loop() {
    http_hello_answers_two_requests_on_one_connection(&["127.0.0.1:0"]);
}

#[test]
fn http_hello_keeps_the_connection_alive_on_two_loops() {
    http_hello_answers_two_requests_on_one_connection(&["127.0.0.1:0", "--cores", "2"]);
}

#[test]
fn http_hello_rejects_bad_arguments_with_usage_status() {
    let (status, _, stderr) = run("http_hello", &["--cores", "0"]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("usage"), "{stderr}");
}

#[test]
fn cross_loop_passes_jobs_and_an_answer_between_two_loops() {
    let (status, stdout, stderr) = run("cross_loop", &[]);
    assert!(status.success(), "{stderr}");
    assert_eq!(
        stdout,
        "consumer got: job 0\nconsumer got: job 1\nconsumer got: job 2\n\
         producer: the consumer handled 3 jobs\n"
    );
}
