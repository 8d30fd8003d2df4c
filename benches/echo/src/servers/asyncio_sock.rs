//! This crate's low-level socket API, as asyncio's `loop.sock_*` coroutines are used:
//! `sock_accept` in a loop, a task per connection doing `sock_recv` then `sock_sendall`.

use std::io;
use std::net::TcpStream;

use super::BUF_SIZE;

/// Accepts on `listener` forever.
pub(crate) fn serve(listener: std::net::TcpListener) -> io::Result<()> {
    asyncio::run(async move {
        let lp = asyncio::get_running_loop().map_err(io::Error::other)?;
        loop {
            let (conn, _): (TcpStream, _) = lp.sock_accept(&listener).await?;
            conn.set_nodelay(true)?;
            conn.set_nonblocking(true)?;
            let lp = lp.clone();
            asyncio::create_task(async move {
                loop {
                    match lp.sock_recv(&conn, BUF_SIZE).await {
                        Ok(data) if !data.is_empty() => {
                            if lp.sock_sendall(&conn, &data).await.is_err() {
                                return;
                            }
                        }
                        _ => return,
                    }
                }
            });
        }
    })
}
