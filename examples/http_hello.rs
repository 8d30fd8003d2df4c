//! A minimal HTTP/1.1 keep-alive server that answers every request with `Hello, World!`,
//! on one event loop or on one per core: the tutorials' advice ("many processes plus
//! coroutines") with threads, each loop listening on the same port with `SO_REUSEPORT`.
//!
//! ```text
//! cargo run --release --example http_hello                       # 127.0.0.1:8080, 1 loop
//! cargo run --release --example http_hello -- 127.0.0.1:8080 --cores 2
//! wrk -t2 -c100 -d10s http://127.0.0.1:8080/
//! ```
//!
//! It uses the transport and protocol API, asyncio's fastest: no task per connection, no
//! await, one call of `data_received` per chunk the socket gives. The parser is as small as
//! an HTTP server can be and stay correct for what benchmarks and browsers send: requests
//! may come several per chunk (pipelining) or split over chunks; a body announced by
//! `Content-Length` is skipped; `Connection: close` and HTTP/1.0 close after the answer;
//! a request head over 64 KiB gets `431` and a close. Everything else is `Hello, World!`.
//! Port 0 picks a free port (for all the loops, with `--cores`); `Serving on` says which.

mod support;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use asyncio::{Protocol, Transport};
use support::net::{host_port, py_addr};

const HELLO: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
const HELLO_CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!";
const TOO_LARGE: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
/// The longest request head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// One connection.
#[derive(Default)]
struct Http {
    transport: Option<Transport>,
    /// The start of a request whose head has not all arrived yet.
    pending: Vec<u8>,
    /// Body bytes of the last request still to skip.
    skip: usize,
    /// The answers to this chunk's requests, sent with one write.
    out: Vec<u8>,
}

/// What one request head says.
struct Head {
    /// Bytes of the head, with its blank line.
    len: usize,
    body: usize,
    close: bool,
}

/// Parses the head at the start of `buf`, if it is all there.
fn parse_head(buf: &[u8]) -> Option<Head> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = &buf[..end];
    let mut lines = head.split(|&b| b == b'\n');
    let request_line = lines.next().unwrap_or_default();
    let http10 = request_line.ends_with(b"HTTP/1.0\r") || request_line.ends_with(b"HTTP/1.0");
    let (mut close, mut body) = (http10, 0);
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"connection") {
            if value.eq_ignore_ascii_case(b"close") {
                close = true;
            } else if value.eq_ignore_ascii_case(b"keep-alive") {
                close = false;
            }
        } else if name.eq_ignore_ascii_case(b"content-length") {
            body = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
        }
    }
    Some(Head {
        len: end + 4,
        body,
        close,
    })
}

impl Http {
    /// Answers every complete request in `buf`; returns how much of it was used and
    /// whether to close.
    fn answer(&mut self, buf: &[u8]) -> (usize, bool) {
        let mut at = 0;
        loop {
            let skipped = self.skip.min(buf.len() - at);
            self.skip -= skipped;
            at += skipped;
            if self.skip > 0 || at == buf.len() {
                return (at, false);
            }
            let Some(head) = parse_head(&buf[at..]) else {
                if buf.len() - at > MAX_HEAD {
                    self.out.extend_from_slice(TOO_LARGE);
                    return (buf.len(), true);
                }
                return (at, false);
            };
            at += head.len;
            self.skip = head.body;
            if head.close {
                self.out.extend_from_slice(HELLO_CLOSE);
                return (buf.len(), true);
            }
            self.out.extend_from_slice(HELLO);
        }
    }
}

impl Protocol for Http {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        let close = if self.pending.is_empty() {
            // The usual case: whole requests in one chunk, parsed where they lie.
            let (used, close) = self.answer(data);
            self.pending.extend_from_slice(&data[used..]);
            close
        } else {
            let mut buf = std::mem::take(&mut self.pending);
            buf.extend_from_slice(data);
            let (used, close) = self.answer(&buf);
            buf.drain(..used);
            self.pending = buf;
            close
        };
        let transport = self.transport.as_ref().expect("connection_made came first");
        if !self.out.is_empty() {
            transport.write(&self.out);
            self.out.clear();
        }
        if close {
            transport.close();
        }
    }
}

/// Serves on `addr` until the program is killed; the last loop to listen prints the address.
async fn serve(addr: SocketAddr, listening: &AtomicUsize, loops: usize) -> std::io::Result<()> {
    let lp = asyncio::get_running_loop().expect("inside a loop");
    let server = lp
        .create_server(Http::default, addr.ip().to_string(), addr.port())
        .reuse_port(loops > 1)
        .backlog(1024)
        .await?;
    if listening.fetch_add(1, Ordering::SeqCst) + 1 == loops {
        let shown: Vec<String> = server.sockets().iter().map(py_addr).collect();
        println!("Serving on {}", shown.join(", "));
    }
    server.serve_forever().await
}

fn usage() -> ExitCode {
    eprintln!("usage: http_hello [HOST:PORT] [--cores N]   (default 127.0.0.1:8080, 1 loop)");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut address = "127.0.0.1:8080".to_owned();
    let mut cores = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cores" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) if n >= 1 => cores = n,
                _ => return usage(),
            },
            a if a.starts_with('-') => return usage(),
            a => address = a.to_owned(),
        }
    }
    let addr: SocketAddr = match host_port(&address).map(|(host, port)| format!("{host}:{port}")) {
        Ok(text) => match text.parse() {
            Ok(addr) => addr,
            Err(_) => {
                eprintln!("http_hello: {address:?}: give a numeric address, e.g. 127.0.0.1:8080");
                return ExitCode::from(2);
            }
        },
        Err(e) => {
            eprintln!("http_hello: {e}");
            return ExitCode::from(2);
        }
    };
    // Port 0 with several loops: pick the port once, so that every loop shares it. The
    // probe stays bound (it never listens, so it is given no connection) to keep the port.
    let mut addr = addr;
    let _probe = if cores > 1 && addr.port() == 0 {
        let probe = asyncio::Socket::new(asyncio::Family::of(&addr), asyncio::Kind::Stream);
        let probe = probe.and_then(|p| {
            p.set_reuse_address(true)?;
            p.set_reuse_port(true)?;
            p.bind(addr)?;
            Ok(p)
        });
        match probe.and_then(|p| p.local_addr().map(|a| (p, a))) {
            Ok((p, a)) => {
                addr = a;
                Some(p)
            }
            Err(e) => {
                eprintln!("http_hello: cannot bind {addr}: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let listening = AtomicUsize::new(0);
    let results = asyncio::MultiRunner::new()
        .loops(cores)
        .run(|_index| serve(addr, &listening, cores));
    match results.into_iter().find_map(Result::err) {
        Some(e) => {
            eprintln!("http_hello: {e}");
            ExitCode::FAILURE
        }
        None => ExitCode::SUCCESS,
    }
}
