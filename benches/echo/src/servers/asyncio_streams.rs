//! This crate's streams, written the way asyncio's documentation writes an echo server:
//! `start_server`, then per connection `read(65536)`, `write`, `drain` until EOF.

use std::io;

use asyncio::{StreamReader, StreamWriter};

use super::BUF_SIZE;

/// Serves on `listener` (asyncio's `start_server(cb, sock=listener)`) forever.
pub(crate) fn serve(listener: std::net::TcpListener) -> io::Result<()> {
    asyncio::run(async move {
        let server = asyncio::start_server_on(echo, listener).await?;
        server.serve_forever().await
    })
}

async fn echo(mut reader: StreamReader, mut writer: StreamWriter) -> io::Result<()> {
    loop {
        let data = reader.read(BUF_SIZE as isize).await?;
        if data.is_empty() {
            return Ok(());
        }
        writer.write(&data)?;
        writer.drain().await?;
    }
}
