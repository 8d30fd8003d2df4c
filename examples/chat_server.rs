//! A line-based chat server: every line a client sends goes to every other client. It shows
//! `readline` (with a line limit), broadcasting through many `StreamWriter`s, and a clean
//! shutdown: `close` (no new clients), a last word to everyone, `close_clients` (flush, then
//! hang up) and `wait_closed`.
//!
//! ```text
//! cargo run --example chat_server                 # serves on 127.0.0.1:8888
//! nc 127.0.0.1 8888                               # in two or more other terminals
//! ```
//!
//! The server asks each client for its name (the first line), tells the others `* alice
//! joined`, then relays every line as `alice: <line>` to everyone else, and `* alice left`
//! when the client hangs up. A client line `/shutdown` shuts the server down, and so does
//! `--seconds N` after N seconds: everyone gets `* The server is shutting down. Bye!`, then
//! end of file, and the program exits. The address can be given (`-- 127.0.0.1:9000`; port 0
//! picks a free one, named in the `Serving on` line).
//!
//! A client that does not read never holds the others up: writes to it are buffered (never
//! awaited), and once more than [`MAX_BUFFERED`] bytes wait for it, it is disconnected. A
//! line longer than [`LINE_LIMIT`] is dropped with a notice to its sender (`readline`'s
//! `LimitOverrunError`).

mod support;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io;
use std::process::ExitCode;
use std::rc::Rc;

use asyncio::{Event, LimitOverrunError, StreamReader, StreamWriter};
use support::net::{host_port, py_addr};

/// The longest line a client may send (the readers' `limit`).
const LINE_LIMIT: usize = 4096;

/// How many bytes may wait for a client that is not reading before it is disconnected.
const MAX_BUFFERED: usize = 1 << 20;

/// How long a shutdown waits for the clients' buffers to flush before aborting them.
const FLUSH_PATIENCE: f64 = 5.0;

/// Someone in the room.
struct Member {
    name: String,
    writer: StreamWriter,
}

/// Everyone connected, by arrival number, and the shutdown flag.
#[derive(Default)]
struct Room {
    members: RefCell<BTreeMap<u64, Member>>,
    arrivals: Cell<u64>,
    shutdown: Event,
    closing: Cell<bool>,
}

impl Room {
    /// Sends `line` to every member except `sender`. Writes are buffered, never awaited, so
    /// one slow reader holds up nobody; a member too far behind (or gone) is dropped.
    fn broadcast(&self, sender: Option<u64>, line: &str) {
        let mut behind = Vec::new();
        for (&id, member) in self.members.borrow_mut().iter_mut() {
            if Some(id) == sender {
                continue;
            }
            if member.writer.write(line).is_err()
                || member.writer.get_write_buffer_size() > MAX_BUFFERED
            {
                behind.push(id);
            }
        }
        for id in behind {
            let dropped = self.members.borrow_mut().remove(&id);
            if let Some(mut member) = dropped {
                println!("{} is not reading: disconnected", member.name);
                member.writer.abort(); // its reader sees end of file, and its task ends
                if !self.closing.get() {
                    self.broadcast(
                        None,
                        &format!("* {} is not reading: disconnected\n", member.name),
                    );
                }
            }
        }
    }

    /// Adds a member, greets it, and tells the others.
    fn join(&self, name: &str, mut writer: StreamWriter) -> u64 {
        let others: Vec<String> = self
            .members
            .borrow()
            .values()
            .map(|m| m.name.clone())
            .collect();
        let here = if others.is_empty() {
            "nobody else".to_owned()
        } else {
            others.join(", ")
        };
        let _ = writer.write(format!("* Hello {name}! Here: {here}\n"));
        self.broadcast(None, &format!("* {name} joined\n"));
        let id = self.arrivals.get() + 1;
        self.arrivals.set(id);
        let member = Member {
            name: name.to_owned(),
            writer,
        };
        self.members.borrow_mut().insert(id, member);
        id
    }

    /// Removes a member (if still there) and tells the others, unless the room is closing.
    fn leave(&self, id: u64) {
        let gone = self.members.borrow_mut().remove(&id);
        if let Some(member) = gone {
            println!("{} left", member.name);
            if !self.closing.get() {
                self.broadcast(None, &format!("* {} left\n", member.name));
            }
        }
    }

    /// Sends `line` to one member.
    fn tell(&self, id: u64, line: &str) {
        if let Some(member) = self.members.borrow_mut().get_mut(&id) {
            let _ = member.writer.write(line);
        }
    }
}

/// A line as text, without its line ending.
fn text(line: &[u8]) -> String {
    String::from_utf8_lossy(line).trim_end().to_owned()
}

/// One client, from its name to its last line.
async fn client(room: Rc<Room>, mut reader: StreamReader, mut writer: StreamWriter) {
    let peer = writer
        .peername()
        .map_or_else(|| "None".to_owned(), |a| py_addr(&a));
    if writer.write("* Welcome! What is your name?\n").is_err() {
        return;
    }
    let name = match reader.readline().await {
        Ok(line) if !line.is_empty() => text(&line),
        _ => return, // gone before saying who it is
    };
    let name = if name.is_empty() { peer.clone() } else { name };
    if room.closing.get() {
        return;
    }
    println!("{name} joined from {peer}");
    let id = room.join(&name, writer);
    loop {
        match reader.readline().await {
            Ok(line) if line.is_empty() => break, // end of file: the client hung up
            Ok(line) => match text(&line).as_str() {
                "" => {}
                "/shutdown" => {
                    println!("{name} asked for a shutdown");
                    room.shutdown.set();
                }
                said => room.broadcast(Some(id), &format!("{name}: {said}\n")),
            },
            Err(e) if LimitOverrunError::of(&e).is_some() => {
                room.tell(
                    id,
                    &format!("* Line too long (over {LINE_LIMIT} bytes), dropped\n"),
                );
            }
            Err(_) => break, // reset by the peer
        }
    }
    room.leave(id);
}

async fn serve(host: String, port: u16, seconds: Option<f64>) -> io::Result<()> {
    let room = Rc::new(Room::default());
    let in_room = room.clone();
    let server = asyncio::start_server(
        move |reader, writer| client(in_room.clone(), reader, writer),
        host,
        port,
    )
    .limit(LINE_LIMIT)
    .await?;
    let addrs: Vec<String> = server.sockets().iter().map(py_addr).collect();
    println!("Serving on {}", addrs.join(", "));

    let reason = match seconds {
        Some(s) => match asyncio::wait_for(room.shutdown.wait(), s).await {
            Ok(()) => "/shutdown",
            Err(_) => "time is up",
        },
        None => {
            room.shutdown.wait().await;
            "/shutdown"
        }
    };
    println!("Shutting down ({reason})");
    server.close(); // stop accepting; the clients are still connected
    room.broadcast(None, "* The server is shutting down. Bye!\n");
    room.closing.set(true);
    server.close_clients(); // each connection closes once its buffer is sent
    if asyncio::wait_for(server.wait_closed(), FLUSH_PATIENCE)
        .await
        .is_err()
    {
        println!("Some clients are not reading: aborting them");
        server.abort_clients();
        server.wait_closed().await;
    }
    println!("Server closed");
    Ok(())
}

fn main() -> ExitCode {
    const USAGE: &str = "usage: chat_server [HOST:PORT] [--seconds N]   (default 127.0.0.1:8888)";
    let mut address = "127.0.0.1:8888".to_owned();
    let mut seconds = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => match args.next().and_then(|s| s.parse::<f64>().ok()) {
                Some(s) if s.is_finite() && s >= 0.0 => seconds = Some(s),
                _ => {
                    eprintln!("chat_server: --seconds needs a number of seconds\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            a if a.starts_with('-') => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
            a => address = a.to_owned(),
        }
    }
    let (host, port) = match host_port(&address) {
        Ok(hp) => hp,
        Err(e) => {
            eprintln!("chat_server: {e}");
            return ExitCode::from(2);
        }
    };
    match asyncio::run(serve(host, port, seconds)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat_server: {e}");
            ExitCode::FAILURE
        }
    }
}
