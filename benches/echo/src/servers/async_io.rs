//! smol's pieces: async-executor's `LocalExecutor`, run by `async_io::block_on` (so the thread
//! that runs the tasks also drives async-io's reactor), and `Async<TcpStream>`.

use std::io;
use std::net::{TcpListener, TcpStream};

use async_executor::LocalExecutor;
use async_io::Async;
use futures_lite::{AsyncReadExt, AsyncWriteExt};

use super::BUF_SIZE;

/// Accepts forever on a `LocalExecutor`.
///
/// The accept loop is a task of its own rather than the future given to `run`: `run` polls its
/// future again whenever any task has run (it races the future against the executor's loop), so
/// an accept loop there would call `accept4` (`EAGAIN`) and re-arm the listener's one-shot
/// registration (`epoll_ctl`) on every round trip of every connection. As a task it is polled
/// only when a connection arrives: async-io at its best.
pub(crate) fn serve(listener: TcpListener) -> io::Result<()> {
    // The accept task spawns onto the executor that runs it, so the executor must outlive every
    // task: it lives for the rest of the process (which this server never leaves while it works).
    let executor: &'static LocalExecutor<'static> = Box::leak(Box::new(LocalExecutor::new()));
    let accepting = executor.spawn(async move {
        let listener = Async::new(listener)?;
        loop {
            let (stream, _) = listener.accept().await?;
            stream.get_ref().set_nodelay(true)?;
            executor.spawn(echo(stream)).detach();
        }
    });
    async_io::block_on(executor.run(accepting))
}

/// Echoes until the peer closes or the connection fails.
async fn echo(mut stream: Async<TcpStream>) {
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}
