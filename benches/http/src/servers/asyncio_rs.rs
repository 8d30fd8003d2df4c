//! This crate's servers: protocols (the fast path) and streams.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use asyncio::{Protocol, StreamReader, StreamWriter, Transport};

use super::{BUF_SIZE, announce};
use crate::hello;

/// One HTTP connection: parse in `data_received`, answer with one write.
#[derive(Default)]
struct Http {
    transport: Option<Transport>,
    parser: hello::Conn,
    out: Vec<u8>,
}

impl Protocol for Http {
    fn connection_made(&mut self, t: Transport) {
        self.transport = Some(t);
    }

    fn data_received(&mut self, data: &[u8]) {
        let close = self.parser.feed(data, &mut self.out);
        let t = self.transport.as_ref().expect("made first");
        if !self.out.is_empty() {
            t.write(&self.out);
            self.out.clear();
        }
        if close {
            t.close();
        }
    }
}

async fn http_loop(addr: SocketAddr, loops: usize, listening: &AtomicUsize) -> io::Result<()> {
    let lp = asyncio::get_running_loop().expect("in a loop");
    let server = lp
        .create_server(Http::default, addr.ip().to_string(), addr.port())
        .reuse_port(true)
        .backlog(1024)
        .await?;
    if listening.fetch_add(1, Ordering::SeqCst) + 1 == loops {
        announce(server.sockets()[0].inet().expect("TCP"));
    }
    server.serve_forever().await
}

fn serve_http(addr: SocketAddr, loops: usize) -> io::Result<()> {
    let listening = AtomicUsize::new(0);
    asyncio::MultiRunner::new()
        .loops(loops)
        .run(|_| http_loop(addr, loops, &listening))
        .into_iter()
        .collect()
}

/// One loop.
pub(crate) fn serve_http_1(addr: SocketAddr) -> io::Result<()> {
    serve_http(addr, 1)
}

/// Two loops on two threads, each with its own SO_REUSEPORT listener.
pub(crate) fn serve_http_2(addr: SocketAddr) -> io::Result<()> {
    serve_http(addr, 2)
}

/// Echo with a protocol: every chunk written back from `data_received`.
#[derive(Default)]
struct Echo(Option<Transport>);

impl Protocol for Echo {
    fn connection_made(&mut self, t: Transport) {
        self.0 = Some(t);
    }

    fn data_received(&mut self, data: &[u8]) {
        self.0.as_ref().expect("made first").write(data);
    }
}

/// `echo-server asyncio-protocol`.
pub(crate) fn serve_echo_protocol(addr: SocketAddr) -> io::Result<()> {
    asyncio::run(async move {
        let lp = asyncio::get_running_loop().expect("in a loop");
        let server = lp
            .create_server(Echo::default, addr.ip().to_string(), addr.port())
            .await?;
        announce(server.sockets()[0].inet().expect("TCP"));
        server.serve_forever().await
    })
}

/// Echoes until the peer closes or the connection fails (a reset at the end of a load is
/// the load's business).
async fn echo_streams(mut r: StreamReader, mut w: StreamWriter) {
    let _: io::Result<()> = async {
        loop {
            let data = r.read(BUF_SIZE as isize).await?;
            if data.is_empty() {
                return Ok(());
            }
            w.write(&data)?;
            w.drain().await?;
        }
    }
    .await;
}

/// `echo-server asyncio-streams`.
pub(crate) fn serve_echo_streams(addr: SocketAddr) -> io::Result<()> {
    asyncio::run(async move {
        let server =
            asyncio::start_server(echo_streams, addr.ip().to_string(), addr.port()).await?;
        announce(server.sockets()[0].inet().expect("TCP"));
        server.serve_forever().await
    })
}
