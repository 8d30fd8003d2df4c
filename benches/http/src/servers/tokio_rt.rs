//! tokio: current_thread and multi_thread (2 workers), a task per connection.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{BUF_SIZE, announce};
use crate::hello;

async fn http_conn(mut s: tokio::net::TcpStream) {
    let mut buf = vec![0u8; BUF_SIZE];
    let mut parser = hello::Conn::default();
    let mut out = Vec::new();
    loop {
        let n = match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let close = parser.feed(&buf[..n], &mut out);
        if s.write_all(&out).await.is_err() || close {
            return;
        }
        out.clear();
    }
}

async fn http_accept(addr: SocketAddr) -> io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    announce(listener.local_addr()?);
    loop {
        let (s, _) = listener.accept().await?;
        s.set_nodelay(true)?;
        tokio::spawn(http_conn(s));
    }
}

/// `tokio::runtime::Builder::new_current_thread`.
pub(crate) fn serve_http_current_thread(addr: SocketAddr) -> io::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?
        .block_on(http_accept(addr))
}

/// `new_multi_thread().worker_threads(2)`.
pub(crate) fn serve_http_multi_thread(addr: SocketAddr) -> io::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .build()?
        .block_on(http_accept(addr))
}

async fn echo_conn(mut s: tokio::net::TcpStream) {
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if s.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// `echo-server tokio`.
pub(crate) fn serve_echo(addr: SocketAddr) -> io::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            announce(listener.local_addr()?);
            loop {
                let (s, _) = listener.accept().await?;
                s.set_nodelay(true)?;
                tokio::spawn(echo_conn(s));
            }
        })
}
