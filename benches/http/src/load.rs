//! The echo load: N connections in a closed loop (send S bytes, read the S-byte echo, send
//! again) on one thread with one epoll, warm-up first, then a measured window.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

/// One echo load.
#[derive(Debug, Clone)]
pub struct EchoLoad {
    /// The server.
    pub addr: SocketAddr,
    /// Connections.
    pub conns: usize,
    /// Bytes per message.
    pub size: usize,
    /// Before the window.
    pub warmup: Duration,
    /// The measured window.
    pub window: Duration,
}

struct Conn {
    stream: TcpStream,
    /// Bytes of the current message not yet written.
    to_write: usize,
    /// Bytes of the echo still to read.
    to_read: usize,
}

impl EchoLoad {
    /// Runs the load; calls `start` and `end` at the edges of the window and returns the
    /// round trips completed inside it.
    pub fn run(&self, mut start: impl FnMut(), mut end: impl FnMut()) -> io::Result<u64> {
        let mut poll = Poll::new()?;
        let mut conns = Vec::with_capacity(self.conns);
        for i in 0..self.conns {
            let std = std::net::TcpStream::connect(self.addr)?;
            std.set_nodelay(true)?;
            std.set_nonblocking(true)?;
            let mut stream = TcpStream::from_std(std);
            poll.registry().register(
                &mut stream,
                Token(i),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            conns.push(Conn {
                stream,
                to_write: self.size,
                to_read: self.size,
            });
        }
        let message = vec![b'x'; self.size];
        let mut buf = vec![0u8; 64 * 1024];
        let mut events = Events::with_capacity(1024);
        for c in &mut conns {
            write_some(c, &message)?;
        }
        let began = Instant::now();
        let (window_start, window_end) = (began + self.warmup, began + self.warmup + self.window);
        let mut in_window = false;
        let mut count = 0u64;
        loop {
            let now = Instant::now();
            if !in_window && now >= window_start {
                in_window = true;
                count = 0;
                start();
            }
            if now >= window_end {
                end();
                return Ok(count);
            }
            poll.poll(&mut events, Some(Duration::from_millis(10)))?;
            for event in events.iter() {
                let c = &mut conns[event.token().0];
                if event.is_writable() && c.to_write > 0 {
                    write_some(c, &message)?;
                }
                if event.is_readable() {
                    loop {
                        match c.stream.read(&mut buf) {
                            Ok(0) => {
                                return Err(io::Error::new(
                                    io::ErrorKind::UnexpectedEof,
                                    "the echo server closed a connection",
                                ));
                            }
                            Ok(n) => {
                                let mut n = n;
                                while n > 0 {
                                    let take = n.min(c.to_read);
                                    c.to_read -= take;
                                    n -= take;
                                    if c.to_read == 0 {
                                        count += 1;
                                        c.to_read = self.size;
                                        c.to_write = self.size;
                                        write_some(c, &message)?;
                                    }
                                }
                            }
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
            }
        }
    }
}

fn write_some(c: &mut Conn, message: &[u8]) -> io::Result<()> {
    while c.to_write > 0 {
        let from = message.len() - c.to_write;
        match c.stream.write(&message[from..]) {
            Ok(n) => c.to_write -= n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
