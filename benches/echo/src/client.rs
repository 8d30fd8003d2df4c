//! `echo-client`: the load generator, one thread on one core.
//!
//! N connections in a closed loop: each sends a message of S bytes, reads the S-byte echo, and
//! sends the next message at once. A warm-up comes first (its echoes are checked byte for byte,
//! so a server that garbles data fails loudly), then a measured window of D seconds in which
//! every round trip's latency is kept. At both ends of the window the client samples the
//! server's CPU time (`/proc/PID/stat`, and the finer `schedstat`) and, when given perf's control
//! FIFOs, switches `perf stat` on and off, so that CPU time, syscall counts and round trips
//! cover the same stretch of time.
//!
//! It is built to stay cheap: one `epoll` (mio), every socket registered once, edge-triggered,
//! for reading and writing; a read asks for exactly the bytes still missing, so a complete echo
//! (or a short read, which means the socket is drained) ends the reading without the extra
//! `read` that would only say "nothing more". A round trip costs the client one `write`, one
//! `read` and its share of one `epoll_wait`.
//!
//! The result is one line on stdout:
//! `CLIENT rts=.. secs=.. rps=.. p50_us=.. p99_us=.. server_cpu_us=.. server_sched_us=.. client_cpu_pct=.. all_rts=..`
//! (`all_rts` counts the warm-up too, for syscall counters that cannot be switched on and off).

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::procfs;

/// How long the client waits for any echo before it calls the server stuck.
const STALL: Duration = Duration::from_secs(10);

/// What `echo-client` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The server.
    pub addr: SocketAddr,
    /// Connections, all in the loop at once.
    pub conns: usize,
    /// Bytes per message.
    pub size: usize,
    /// Warm-up before the measured window.
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
    /// The server's process id, for its CPU time.
    pub server_pid: Option<u32>,
    /// `perf stat --control fifo:CTL,ACK`: the control FIFO ...
    pub perf_ctl: Option<PathBuf>,
    /// ... and the FIFO perf acknowledges on.
    pub perf_ack: Option<PathBuf>,
}

impl Options {
    /// Parses `--addr A --conns N --size BYTES --warmup SECS --duration SECS [--server-pid PID]
    /// [--perf-ctl FIFO --perf-ack FIFO]`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut addr = None;
        let mut opts = Options {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            conns: 1,
            size: 1024,
            warmup: Duration::from_secs(1),
            duration: Duration::from_secs(3),
            server_pid: None,
            perf_ctl: None,
            perf_ack: None,
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let bad = |what: &str| format!("{flag} {value:?}: expected {what}");
            match flag.as_str() {
                "--addr" => {
                    addr = Some(
                        value
                            .parse()
                            .map_err(|_| bad("an address like 127.0.0.1:8888"))?,
                    )
                }
                "--conns" => opts.conns = value.parse().map_err(|_| bad("a number"))?,
                "--size" => opts.size = value.parse().map_err(|_| bad("a byte count"))?,
                "--warmup" => opts.warmup = seconds(value).ok_or_else(|| bad("seconds"))?,
                "--duration" => opts.duration = seconds(value).ok_or_else(|| bad("seconds"))?,
                "--server-pid" => opts.server_pid = Some(value.parse().map_err(|_| bad("a pid"))?),
                "--perf-ctl" => opts.perf_ctl = Some(value.into()),
                "--perf-ack" => opts.perf_ack = Some(value.into()),
                _ => return Err(format!("unknown option {flag}")),
            }
        }
        opts.addr = addr.ok_or("--addr is required")?;
        if opts.conns == 0 || opts.size == 0 {
            return Err("--conns and --size must be at least 1".into());
        }
        if opts.perf_ctl.is_some() != opts.perf_ack.is_some() {
            return Err("--perf-ctl and --perf-ack go together".into());
        }
        Ok(opts)
    }
}

/// `"1.5"` as a duration.
fn seconds(text: &str) -> Option<Duration> {
    Duration::try_from_secs_f64(text.parse().ok()?).ok()
}

/// What one run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Round trips completed in the window.
    pub rts: u64,
    /// The window's length, in seconds.
    pub secs: f64,
    /// Median and 99th percentile round-trip latency, in microseconds.
    pub p50_us: f64,
    /// See `p50_us`.
    pub p99_us: f64,
    /// The server's `utime + stime` over the window, in microseconds (clock-tick resolution).
    pub server_cpu_us: Option<f64>,
    /// The server's scheduler run time over the window, in microseconds.
    pub server_sched_us: Option<f64>,
    /// How long the server waited for its CPU while runnable, in percent of the window: other
    /// processes on its core.
    pub server_wait_pct: Option<f64>,
    /// The client's own CPU use over the window, in percent of one core.
    pub client_cpu_pct: f64,
    /// Round trips since the first connection, warm-up included.
    pub all_rts: u64,
}

impl Report {
    /// Requests (round trips) per second.
    pub fn rps(&self) -> f64 {
        self.rts as f64 / self.secs
    }

    /// The `CLIENT key=value ...` line.
    pub fn to_line(&self) -> String {
        let opt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
        format!(
            "CLIENT rts={} secs={:.6} rps={:.1} p50_us={:.2} p99_us={:.2} server_cpu_us={} server_sched_us={} server_wait_pct={} client_cpu_pct={:.1} all_rts={}",
            self.rts,
            self.secs,
            self.rps(),
            self.p50_us,
            self.p99_us,
            opt(self.server_cpu_us),
            opt(self.server_sched_us),
            opt(self.server_wait_pct),
            self.client_cpu_pct,
            self.all_rts
        )
    }

    /// Reads a `CLIENT ...` line back; `None` if `line` is not one.
    pub fn from_line(line: &str) -> Option<Report> {
        let mut words = line.split_whitespace();
        if words.next()? != "CLIENT" {
            return None;
        }
        let mut fields = std::collections::HashMap::new();
        for word in words {
            let (key, value) = word.split_once('=')?;
            fields.insert(key, value);
        }
        let num = |key: &str| fields.get(key)?.parse::<f64>().ok();
        Some(Report {
            rts: fields.get("rts")?.parse().ok()?,
            secs: num("secs")?,
            p50_us: num("p50_us")?,
            p99_us: num("p99_us")?,
            server_cpu_us: num("server_cpu_us"),
            server_sched_us: num("server_sched_us"),
            server_wait_pct: num("server_wait_pct"),
            client_cpu_pct: num("client_cpu_pct")?,
            all_rts: fields.get("all_rts")?.parse().ok()?,
        })
    }
}

/// One connection of the loop: how far its current message got.
#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    sent: usize,
    received: usize,
    started: Instant,
}

/// `perf stat`'s control FIFOs, held open for the whole run.
#[derive(Debug)]
struct PerfControl {
    ctl: File,
    ack: File,
}

impl PerfControl {
    fn open(ctl: &PathBuf, ack: &PathBuf) -> io::Result<PerfControl> {
        // Read-write opens of a FIFO never block on Linux, whichever side comes first; perf's
        // own write-only open of the ack FIFO then finds a reader.
        let open = |path: &PathBuf| OpenOptions::new().read(true).write(true).open(path);
        Ok(PerfControl {
            ctl: open(ctl)?,
            ack: open(ack)?,
        })
    }

    /// Sends `enable` or `disable` and waits for perf's `ack`.
    fn command(&mut self, what: &str) -> io::Result<()> {
        self.ctl.write_all(format!("{what}\n").as_bytes())?;
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while !got.ends_with(b"ack\n") {
            if self.ack.read(&mut byte)? == 0 {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "perf closed its ack FIFO",
                ));
            }
            got.push(byte[0]);
        }
        Ok(())
    }
}

/// The server's and the client's clocks, read at one end of the window.
#[derive(Debug, Clone, Copy)]
struct Mark {
    at: Instant,
    server_ticks: Option<u64>,
    server_sched: Option<procfs::Sched>,
    client_ticks: u64,
}

fn mark(server_pid: Option<u32>) -> Mark {
    let pid = server_pid.map(|p| p.to_string());
    Mark {
        at: Instant::now(),
        server_ticks: pid.as_deref().and_then(|p| procfs::cpu_ticks(p).ok()),
        server_sched: pid.as_deref().and_then(procfs::sched),
        client_ticks: procfs::cpu_ticks("self").unwrap_or(0),
    }
}

/// Runs the load described by `opts` and returns what it measured.
pub fn run(opts: &Options) -> io::Result<Report> {
    let mut perf = match (&opts.perf_ctl, &opts.perf_ack) {
        (Some(ctl), Some(ack)) => Some(PerfControl::open(ctl, ack)?),
        _ => None,
    };
    let message: Vec<u8> = (0..opts.size).map(|i| (i % 251) as u8).collect();
    let mut scratch = vec![0u8; opts.size.min(256 * 1024)];

    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let mut conns = Vec::with_capacity(opts.conns);
    for i in 0..opts.conns {
        let stream = std::net::TcpStream::connect_timeout(&opts.addr, Duration::from_secs(5))
            .map_err(|e| io::Error::new(e.kind(), format!("connect {}: {e}", opts.addr)))?;
        stream.set_nodelay(true)?;
        stream.set_nonblocking(true)?;
        let mut stream = TcpStream::from_std(stream);
        poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        conns.push(Conn {
            stream,
            sent: 0,
            received: 0,
            started: Instant::now(),
        });
    }

    let began = Instant::now();
    for conn in &mut conns {
        conn.started = Instant::now();
        send(conn, &message)?;
    }

    let mut latencies_ns: Vec<u32> = Vec::with_capacity(1 << 20);
    let mut all_rts = 0u64;
    let mut warming = true;
    let mut window_start = None;
    let mut deadline = began + opts.warmup;
    let mut last_echo = Instant::now();

    let end = loop {
        poll.poll(&mut events, Some(Duration::from_millis(50)))?;
        for event in events.iter() {
            let conn = &mut conns[event.token().0];
            if event.is_writable() && conn.sent < opts.size {
                send(conn, &message)?;
            }
            if event.is_readable() || event.is_read_closed() || event.is_error() {
                let check = if warming { Some(&message[..]) } else { None };
                if receive(conn, &mut scratch, opts.size, check)? {
                    let now = Instant::now();
                    if !warming {
                        let ns = now.duration_since(conn.started).as_nanos();
                        latencies_ns.push(ns.min(u32::MAX as u128) as u32);
                    }
                    all_rts += 1;
                    last_echo = now;
                    conn.started = now;
                    conn.sent = 0;
                    conn.received = 0;
                    send(conn, &message)?;
                }
            }
        }
        let now = Instant::now();
        if now.duration_since(last_echo) > STALL {
            return Err(io::Error::new(
                ErrorKind::TimedOut,
                format!(
                    "no echo from {} for {STALL:?}: is the server stuck?",
                    opts.addr
                ),
            ));
        }
        if now < deadline {
            continue;
        }
        if warming {
            if let Some(perf) = &mut perf {
                perf.command("enable")?;
            }
            warming = false;
            latencies_ns.clear();
            let start = mark(opts.server_pid);
            deadline = start.at + opts.duration;
            window_start = Some(start);
        } else {
            let end = mark(opts.server_pid);
            if let Some(perf) = &mut perf {
                perf.command("disable")?;
            }
            break end;
        }
    };
    drop(conns);

    let start = window_start.expect("the window opens before it closes");
    let secs = end.at.duration_since(start.at).as_secs_f64();
    let hz = procfs::ticks_per_second() as f64;
    let tick_us = |a: Option<u64>, b: Option<u64>| Some((b? - a?) as f64 / hz * 1e6);
    latencies_ns.sort_unstable();
    let pct = |p: usize| {
        latencies_ns
            .get(latencies_ns.len() * p / 100)
            .map_or(f64::NAN, |&ns| ns as f64 / 1e3)
    };
    Ok(Report {
        rts: latencies_ns.len() as u64,
        secs,
        p50_us: pct(50),
        p99_us: pct(99),
        server_cpu_us: tick_us(start.server_ticks, end.server_ticks),
        server_sched_us: start
            .server_sched
            .zip(end.server_sched)
            .map(|(a, b)| (b.run_ns - a.run_ns) as f64 / 1e3),
        server_wait_pct: start
            .server_sched
            .zip(end.server_sched)
            .map(|(a, b)| (b.wait_ns - a.wait_ns) as f64 / 1e9 / secs * 100.0),
        client_cpu_pct: (end.client_ticks - start.client_ticks) as f64 / hz / secs * 100.0,
        all_rts,
    })
}

/// Writes what is left of the current message, until done or the socket is full (the writable
/// event then calls again).
fn send(conn: &mut Conn, message: &[u8]) -> io::Result<()> {
    while conn.sent < message.len() {
        match conn.stream.write(&message[conn.sent..]) {
            Ok(0) => {
                return Err(io::Error::new(
                    ErrorKind::WriteZero,
                    "server stopped reading",
                ));
            }
            Ok(n) => conn.sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads what has arrived of the echo; returns whether it is complete. Asks for no more than
/// is missing, and stops at a short read: the socket is drained then, and the next arrival
/// raises a new edge. With `check`, compares the bytes with the message sent.
fn receive(
    conn: &mut Conn,
    scratch: &mut [u8],
    size: usize,
    check: Option<&[u8]>,
) -> io::Result<bool> {
    loop {
        let want = (size - conn.received).min(scratch.len());
        match conn.stream.read(&mut scratch[..want]) {
            Ok(0) => {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "the server closed the connection mid-run",
                ));
            }
            Ok(n) => {
                if let Some(message) = check
                    && scratch[..n] != message[conn.received..conn.received + n]
                {
                    return Err(io::Error::new(
                        ErrorKind::InvalidData,
                        format!(
                            "the echo differs from what was sent (at byte {})",
                            conn.received
                        ),
                    ));
                }
                conn.received += n;
                if conn.received == size {
                    return Ok(true);
                }
                if n < want {
                    return Ok(false);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// `echo-client`'s main: parse, run, print the `CLIENT` line.
pub fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match Options::parse(&args) {
        Ok(opts) => opts,
        Err(err) => {
            eprintln!("echo-client: {err}");
            eprintln!(
                "usage: echo-client --addr 127.0.0.1:PORT --conns N --size BYTES --warmup SECS --duration SECS [--server-pid PID] [--perf-ctl FIFO --perf-ack FIFO]"
            );
            return std::process::ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(report) => {
            println!("{}", report.to_line());
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("echo-client: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_line_round_trips() {
        let report = Report {
            rts: 1234,
            secs: 0.5,
            p50_us: 12.25,
            p99_us: 40.5,
            server_cpu_us: Some(3000.0),
            server_sched_us: None,
            server_wait_pct: Some(1.5),
            client_cpu_pct: 55.5,
            all_rts: 2000,
        };
        let back = Report::from_line(&report.to_line()).unwrap();
        assert_eq!(back, report);
        assert_eq!(back.rps(), 2468.0);
        assert_eq!(Report::from_line("listening on 127.0.0.1:1"), None);
    }

    #[test]
    fn options_need_an_address_and_reject_unknown_flags() {
        let args = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        let opts = Options::parse(&args(
            "--addr 127.0.0.1:9 --conns 10 --size 10240 --warmup 0.2",
        ))
        .unwrap();
        assert_eq!((opts.conns, opts.size), (10, 10240));
        assert_eq!(opts.warmup, Duration::from_millis(200));
        assert!(
            Options::parse(&args("--conns 10"))
                .unwrap_err()
                .contains("--addr")
        );
        assert!(
            Options::parse(&args("--addr 127.0.0.1:9 --bogus 1"))
                .unwrap_err()
                .contains("--bogus")
        );
        assert!(Options::parse(&args("--addr 127.0.0.1:9 --perf-ctl x")).is_err());
    }

    /// The whole loop against a tiny blocking echo server on a thread.
    #[test]
    fn measures_round_trips_against_a_real_server() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(2) {
                let mut stream = stream.unwrap();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0 || stream.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let opts = Options {
            addr,
            conns: 2,
            size: 10_000,
            warmup: Duration::from_millis(50),
            duration: Duration::from_millis(100),
            server_pid: Some(std::process::id()),
            perf_ctl: None,
            perf_ack: None,
        };
        let report = run(&opts).unwrap();
        assert!(report.rts > 0 && report.all_rts > report.rts, "{report:?}");
        assert!(report.p50_us <= report.p99_us);
        assert!(report.secs >= 0.1);
        assert!(report.server_cpu_us.is_some());
    }
}
