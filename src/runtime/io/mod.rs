//! What wakes a task waiting for I/O: the reactor ([`reactor`]), one readiness record per
//! registered file descriptor ([`scheduled_io::ScheduledIo`]), and [`source::Source`], the
//! handle an I/O object keeps.
//!
//! ```text
//!   socket --register once (edge-triggered, read + write)--> epoll
//!     |                                                        |
//!   try the syscall first when the readiness bit is set      epoll_wait (in run_once)
//!     |  WouldBlock / short read: clear the bit,               |
//!     |  store the task's waker                                v
//!     +<------------------ wake <----- event: set bits, take the wakers
//! ```
//!
//! Ground rules:
//! - A source is registered once, for both directions, edge-triggered, when its I/O object is
//!   made; it is deregistered when the object is dropped. In the steady state no `epoll_ctl`
//!   is made: readiness is remembered in bits and cleared only when a syscall says
//!   `WouldBlock` (or a stream read comes back short, which means the buffer was drained).
//! - Readiness starts "ready" for objects that are usually ready (an accepted or connected
//!   socket), so the first read or write tries the syscall at once instead of waiting a loop
//!   iteration for epoll to report what is already true.
//! - A token is a slab index and a generation: an event that arrives for a source already
//!   deregistered (its fd closed and perhaps reused) finds a different generation and wakes
//!   nothing.
//! - The reactor is made lazily at the first registration, so a loop that never does I/O
//!   makes no syscalls and parks on its thread as before.
//! - Wakers are taken out while the slab is borrowed and woken after the borrow ends.

pub(crate) mod fds;
pub(crate) mod reactor;
pub(crate) mod scheduled_io;
pub(crate) mod scratch;
pub(crate) mod source;
pub(crate) mod sys;

pub(crate) use scheduled_io::Direction;

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::io::{Read, Write};
    use std::time::Duration;

    use super::Direction;
    use super::scheduled_io::ready;
    use super::source::Source;
    use crate::EventLoop;

    #[test]
    fn a_loop_blocked_in_epoll_accepts_and_reads_from_another_thread() {
        let lp = EventLoop::new();
        let got = lp
            .run_until_complete(async {
                let listener = mio::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
                let addr = listener.local_addr().unwrap();
                let listener = Source::on_running_loop(listener, 0).unwrap();
                let client = std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(50));
                    let mut s = std::net::TcpStream::connect(addr).unwrap();
                    s.write_all(b"ping").unwrap();
                });
                let (conn, _) = poll_fn(|cx| listener.poll_io(Direction::Read, cx, |l| l.accept()))
                    .await
                    .unwrap();
                let conn =
                    Source::on_running_loop(conn, ready::READABLE | ready::WRITABLE).unwrap();
                let mut buf = [0u8; 16];
                let mut got = Vec::new();
                while got.len() < 4 {
                    let n =
                        poll_fn(|cx| conn.poll_io(Direction::Read, cx, |mut s| s.read(&mut buf)))
                            .await
                            .unwrap();
                    got.extend_from_slice(&buf[..n]);
                }
                client.join().unwrap();
                got
            })
            .unwrap();
        assert_eq!(got, b"ping");
    }

    #[test]
    fn a_cross_thread_wake_reaches_a_loop_blocked_in_epoll() {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let lp = EventLoop::new();
            let got = lp.run_until_complete(async {
                // Give the loop a reactor, then wait with no timer: only the wake can end it.
                let l = mio::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
                let _l = Source::on_running_loop(l, 0).unwrap();
                let (tx, rx) = futures::channel::oneshot::channel();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(50));
                    tx.send(7).unwrap();
                });
                rx.await.unwrap()
            });
            done_tx.send(got.unwrap()).unwrap();
        });
        let got = done_rx.recv_timeout(Duration::from_secs(10));
        assert_eq!(got, Ok(7), "the loop never woke up");
    }
}
