//! The tutorial's concurrent `wget` (its asyncio chapter): three HTTP requests made at once
//! with `open_connection`, `drain` and `readline`, each printing its response's header lines.
//!
//! ```python
//! @asyncio.coroutine
//! def wget(host):
//!     print('wget %s...' % host)
//!     connect = asyncio.open_connection(host, 80)
//!     reader, writer = yield from connect
//!     header = 'GET / HTTP/1.0\r\nHost: %s\r\n\r\n' % host
//!     writer.write(header.encode('utf-8'))
//!     yield from writer.drain()
//!     while True:
//!         line = yield from reader.readline()
//!         if line == b'\r\n':
//!             break
//!         print('%s header > %s' % (host, line.decode('utf-8').rstrip()))
//!     # Ignore the body, close the socket
//!     writer.close()
//!
//! loop = asyncio.get_event_loop()
//! tasks = [wget(host) for host in ['www.sina.com.cn', 'www.sohu.com', 'www.163.com']]
//! loop.run_until_complete(asyncio.wait(tasks))
//! loop.close()
//! ```
//!
//! `cargo run --example wget` needs no network: it first serves the three hosts itself, each
//! a tiny HTTP/1.0 responder built on `start_server` on a free port of 127.0.0.1 (the mapping
//! goes to stderr), then fetches them concurrently under their tutorial names. All three
//! `wget <host>...` lines come first, then each host's header lines, one host after another,
//! as in the tutorial's output: a response arrives in one piece, so `readline` finds every
//! line already buffered and the task prints them all before it waits again.
//!
//! The local hosts answer in the order of the tutorial's output (www.163.com, then
//! www.sina.com.cn, then www.sohu.com), each once the host before it has been read and hung
//! up on, so the order is the same on every run however busy the machine; their headers are
//! modelled on the tutorial's (a `302` with a `Location` for www.sina.com.cn), with today's
//! `Date`. The `wget` lines come in list order: in the tutorial they came in the order of
//! the set that `asyncio.wait` made of the coroutines, which Python's string hashing
//! shuffles from run to run.
//!
//! `cargo run --example wget -- example.org` (any number of hosts, `host:port` for another
//! port than 80) fetches real hosts where a network exists. Unlike the tutorial's loop, which
//! would print empty headers forever if a server closed before the blank line, this one stops
//! at end of file too.

mod support;

use std::io;
use std::process::ExitCode;
use std::rc::Rc;

use asyncio::{Event, Server, StreamReader, StreamWriter};

async fn wget(host: String, (address, port): (String, u16)) -> Result<(), String> {
    println!("wget {host}...");
    let failed = |e: io::Error| format!("wget {host}: {e}");
    let (mut reader, mut writer) = asyncio::open_connection(address, port)
        .await
        .map_err(failed)?;
    let header = format!("GET / HTTP/1.0\r\nHost: {host}\r\n\r\n");
    writer.write(header.as_bytes()).map_err(failed)?;
    writer.drain().await.map_err(failed)?;
    loop {
        let line = reader.readline().await.map_err(failed)?;
        if line == b"\r\n" || line == b"\n" || line.is_empty() {
            break;
        }
        println!(
            "{host} header > {}",
            String::from_utf8_lossy(&line).trim_end()
        );
    }
    // Ignore the body, close the socket
    writer.close();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The three local hosts
// ---------------------------------------------------------------------------------------------

/// One local host: what it answers, and when.
struct Site {
    host: &'static str,
    /// Its place in the answering order (0 answers first).
    turn: usize,
    status: &'static str,
    /// Header lines in the order sent; `Date`, `Server` and `Content-Length` (no colon) are
    /// filled in when the response is made.
    headers: &'static [&'static str],
    body: &'static str,
}

const SITES: [Site; 3] = [
    Site {
        host: "www.sina.com.cn",
        turn: 1,
        status: "302 Moved Temporarily",
        headers: &[
            "Server",
            "Date",
            "Content-Type: text/html",
            "Content-Length",
            "Connection: close",
            "Location: https://www.sina.com.cn/",
        ],
        body: "<html><body><a href=\"https://www.sina.com.cn/\">moved</a></body></html>\n",
    },
    Site {
        host: "www.sohu.com",
        turn: 2,
        status: "200 OK",
        headers: &[
            "Content-Type: text/html;charset=UTF-8",
            "Connection: close",
            "Server",
            "Date",
            "Cache-Control: max-age=60",
            "Content-Length",
        ],
        body: "<html><body>sohu, served from 127.0.0.1</body></html>\n",
    },
    Site {
        host: "www.163.com",
        turn: 0,
        status: "200 OK",
        headers: &[
            "Date",
            "Content-Type: text/html; charset=UTF-8",
            "Connection: close",
            "Server",
            "Cache-Control: no-cache,no-store,private",
            "Content-Length",
            "Vary: Accept-Encoding",
        ],
        body: "<html><body>163, served from 127.0.0.1</body></html>\n",
    },
];

/// How long a host waits for its turn before answering anyway, so that a client that never
/// came cannot hold up the others for good.
const TURN_PATIENCE: f64 = 2.0;

fn response(site: &Site) -> String {
    let mut head = format!("HTTP/1.0 {}\r\n", site.status);
    for &header in site.headers {
        match header {
            "Date" => head += &format!("Date: {}\r\n", support::http_date()),
            "Server" => head += "Server: asyncio (examples/wget.rs)\r\n",
            "Content-Length" => head += &format!("Content-Length: {}\r\n", site.body.len()),
            other => head += &format!("{other}\r\n"),
        }
    }
    head + "\r\n" + site.body
}

/// Hands the turn to the next host when dropped, however the answer went.
struct PassTurn<'a>(Option<&'a Event>);

impl Drop for PassTurn<'_> {
    fn drop(&mut self) {
        if let Some(next) = self.0 {
            next.set();
        }
    }
}

/// Answers one request: reads its head, waits for this host's turn, sends the response, then
/// waits until the client hangs up before passing the turn on.
async fn respond(
    site: &'static Site,
    turns: Rc<[Event; 3]>,
    mut reader: StreamReader,
    mut writer: StreamWriter,
) {
    let _pass = PassTurn(turns.get(site.turn + 1));
    loop {
        match reader.readline().await {
            Ok(line) if line == b"\r\n" || line == b"\n" => break,
            Ok(line) if line.is_empty() => return, // the client left without asking
            Ok(_) => {}
            Err(e) => {
                eprintln!("{}: bad request: {e}", site.host);
                return;
            }
        }
    }
    let _ = asyncio::wait_for(turns[site.turn].wait(), TURN_PATIENCE).await;
    if writer.write(response(site)).is_err() || writer.drain().await.is_err() {
        return;
    }
    // The client reads the headers, then closes without reading the body: EOF or a reset.
    let _ = reader.read(-1).await;
}

/// Starts the three hosts; returns each one's server and address.
async fn serve_sites() -> io::Result<Vec<(Server, (String, u16))>> {
    let turns = Rc::new([Event::new(), Event::new(), Event::new()]);
    turns[0].set();
    let mut served = Vec::new();
    for site in &SITES {
        let turns = turns.clone();
        let server = asyncio::start_server(
            move |reader, writer| respond(site, turns.clone(), reader, writer),
            "127.0.0.1",
            0,
        )
        .await?;
        let port = server.sockets()[0].inet().map_or(0, |a| a.port());
        eprintln!("serving {} on 127.0.0.1:{port}", site.host);
        served.push((server, ("127.0.0.1".to_owned(), port)));
    }
    Ok(served)
}

/// `host` or `host:port` (port 80 if not given; a bare IPv6 address is a host).
fn target(arg: &str) -> Result<(String, u16), String> {
    if arg.contains(':') && arg.parse::<std::net::IpAddr>().is_err() {
        support::net::host_port(arg)
    } else {
        Ok((arg.to_owned(), 80))
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a.starts_with('-')) {
        eprintln!("usage: wget [HOST[:PORT]...]   (no hosts: fetch three local ones)");
        return ExitCode::from(2);
    }
    let lp = asyncio::get_event_loop();
    let mut servers = Vec::new();
    let mut targets = Vec::new();
    if args.is_empty() {
        match lp.run_until_complete(serve_sites()) {
            Ok(Ok(served)) => {
                for (site, (server, address)) in SITES.iter().zip(served) {
                    targets.push((site.host.to_owned(), address));
                    servers.push(server);
                }
            }
            Ok(Err(e)) => {
                eprintln!("wget: could not start the local hosts: {e}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("wget: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        for arg in &args {
            match target(arg) {
                Ok(address) => targets.push((arg.clone(), address)),
                Err(e) => {
                    eprintln!("wget: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    }

    let tasks: Vec<_> = targets
        .into_iter()
        .map(|(host, address)| lp.create_task(wget(host, address)))
        .collect();
    let mut code = ExitCode::SUCCESS;
    match lp.run_until_complete(asyncio::wait(tasks)) {
        Ok((done, _pending)) => {
            for task in done {
                match task.result() {
                    Ok(Ok(())) => {}
                    Ok(Err(message)) => {
                        eprintln!("{message}");
                        code = ExitCode::FAILURE;
                    }
                    Err(e) => {
                        eprintln!("wget: {e}");
                        code = ExitCode::FAILURE;
                    }
                }
            }
        }
        Err(e) => {
            eprintln!("wget: {e}");
            code = ExitCode::FAILURE;
        }
    }

    let shut_down = async {
        for server in &servers {
            server.close();
            server.wait_closed().await;
        }
    };
    if let Err(e) = lp.run_until_complete(shut_down) {
        eprintln!("wget: {e}");
    }
    if let Err(e) = lp.close() {
        eprintln!("wget: {e}");
    }
    code
}
