//! The loop's `sock_*` coroutines on real sockets: TCP and UDP on 127.0.0.1, Unix sockets.

use std::io::{self, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::rc::Rc;
use std::time::Duration;

use asyncio::{EventLoop, Family, Kind, Socket};

/// Runs `body` on a new loop, failing (not hanging) if it takes longer than 30 s.
fn run_io(body: impl std::future::Future<Output = ()> + 'static) {
    asyncio::run(async {
        asyncio::wait_for(body, 30.0)
            .await
            .expect("the test hung: some wait was never woken");
    });
}

fn lp() -> EventLoop {
    asyncio::get_running_loop().unwrap()
}

fn unix_pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Receives exactly `len` bytes.
async fn recv_exactly(sock: &impl std::os::fd::AsFd, len: usize) -> Vec<u8> {
    let mut got = Vec::with_capacity(len);
    while got.len() < len {
        let chunk = lp().sock_recv(sock, 65536).await.unwrap();
        assert!(!chunk.is_empty(), "EOF after {} of {len} bytes", got.len());
        got.extend_from_slice(&chunk);
    }
    got
}

#[test]
fn tcp_round_trip_through_socket_connect_and_accept_both_ways_at_once() {
    run_io(async move {
        let server = Socket::new(Family::Inet, Kind::Stream).unwrap();
        server.set_reuse_address(true).unwrap();
        server.bind(([127, 0, 0, 1], 0)).unwrap();
        server.listen(8).unwrap();
        let addr = server.local_addr().unwrap();

        let client = Socket::new(Family::Inet, Kind::Stream).unwrap();
        let accept = asyncio::create_task(async move { lp().sock_accept(&server).await });
        lp().sock_connect(&client, addr).await.unwrap();
        let (conn, peer) = accept.await.unwrap().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(conn.peer_addr().unwrap(), client.local_addr().unwrap());

        // 4 MiB each way, concurrently: far more than the socket buffers hold, so both
        // sendall and recv must wait for the other side again and again.
        const LEN: usize = 4 << 20;
        let (client, conn) = (Rc::new(client), Rc::new(conn));
        let up = asyncio::create_task({
            let client = client.clone();
            async move { lp().sock_sendall(&*client, &pattern(LEN, 1)).await }
        });
        let down = asyncio::create_task({
            let conn = conn.clone();
            async move { lp().sock_sendall(&*conn, &pattern(LEN, 2)).await }
        });
        let at_server = asyncio::create_task({
            let conn = conn.clone();
            async move { recv_exactly(&*conn, LEN).await }
        });
        let at_client = recv_exactly(&*client, LEN).await;
        assert!(
            at_client == pattern(LEN, 2),
            "the client got the server's bytes"
        );
        assert!(at_server.await.unwrap() == pattern(LEN, 1));
        up.await.unwrap().unwrap();
        down.await.unwrap().unwrap();

        client.shutdown(std::net::Shutdown::Write).unwrap();
        assert_eq!(lp().sock_recv(&*conn, 10).await.unwrap(), b"", "EOF");
    });
}

#[test]
fn std_listener_accepts_std_streams_that_are_nonblocking() {
    run_io(async move {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20)); // the accept waits first
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"from a thread").unwrap();
            s
        });
        let (conn, peer): (TcpStream, _) = lp().sock_accept(&listener).await.unwrap();
        // SAFETY: F_GETFL on an open fd; integer arguments only.
        let flags = unsafe { libc::fcntl(conn.as_raw_fd(), libc::F_GETFL) };
        assert_ne!(
            flags & libc::O_NONBLOCK,
            0,
            "accepted sockets are non-blocking"
        );
        let got = recv_exactly(&conn, 13).await;
        assert_eq!(got, b"from a thread");
        assert_eq!(peer, client.join().unwrap().local_addr().unwrap());
    });
}

#[test]
fn udp_datagrams_round_trip_with_the_receiver_waiting_first() {
    run_io(async move {
        let a = Rc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
        let b = Socket::new(Family::Inet, Kind::Datagram).unwrap();
        b.bind(([127, 0, 0, 1], 0)).unwrap();
        a.set_nonblocking(true).unwrap();
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let sender = asyncio::create_task({
            let a = a.clone();
            async move {
                asyncio::sleep(0.01).await;
                lp().sock_sendto(&*a, b"one", b_addr).await.unwrap();
                lp().sock_sendto(&*a, b"two", b_addr).await.unwrap()
            }
        });
        let (first, from) = lp().sock_recvfrom(&b, 1500).await.unwrap();
        assert_eq!((first.as_slice(), from), (&b"one"[..], a_addr));
        let mut buf = [0u8; 2]; // shorter than the datagram: it is cut
        let (n, from) = lp().sock_recvfrom_into(&b, &mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"tw"[..], a_addr));
        assert_eq!(sender.await.unwrap(), 3);
        // And back, to the std socket.
        lp().sock_sendto(&b, b"reply", a_addr).await.unwrap();
        assert_eq!(lp().sock_recv(&*a, 100).await.unwrap(), b"reply");
    });
}

#[test]
fn unix_socket_pair_round_trip_then_eof() {
    run_io(async move {
        let (a, b) = unix_pair();
        let b = Rc::new(b);
        let reader = asyncio::create_task({
            let b = b.clone();
            async move {
                let mut buf = [0u8; 5];
                let n = lp().sock_recv_into(&*b, &mut buf).await.unwrap();
                buf[..n].to_vec()
            }
        });
        asyncio::sleep(0.01).await; // the reader is waiting now
        lp().sock_sendall(&a, b"hello").await.unwrap();
        assert_eq!(reader.await.unwrap(), b"hello");
        drop(a);
        assert!(lp().sock_recv(&*b, 10).await.unwrap().is_empty());
        // The peer is gone: sending fails with an error, never a SIGPIPE.
        let err = lp().sock_sendall(&*b, b"x").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    });
}

#[test]
fn unix_listener_accepts_unix_streams() {
    let dir = std::env::temp_dir().join(format!("asyncio-sock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("listener.sock");
    let _ = std::fs::remove_file(&path);
    run_io(async move {
        let listener = UnixListener::bind(&path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let client = UnixStream::connect(&path).unwrap();
        let (conn, _peer) = lp().sock_accept(&listener).await.unwrap();
        (&client).write_all(b"unix").unwrap();
        assert_eq!(recv_exactly(&conn, 4).await, b"unix");
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_blocking_socket_is_invalid_input_not_a_blocked_loop() {
    run_io(async move {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap(); // blocking, as std makes it
        let err = lp().sock_recv(&udp, 10).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("set_nonblocking(true)"), "{err}");

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let err = lp().sock_accept(&listener).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);

        let sock = Socket::new(Family::Inet, Kind::Stream).unwrap();
        sock.set_nonblocking(false).unwrap();
        let err = lp()
            .sock_connect(&sock, listener.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    });
}

#[test]
fn a_refused_connect_names_the_address() {
    run_io(async move {
        // A port nobody listens on: bind one, then let it go.
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let sock = Socket::new(Family::Inet, Kind::Stream).unwrap();
        let err = lp().sock_connect(&sock, addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        assert!(
            err.to_string()
                .contains(&format!("connection refused: {addr}")),
            "{err}"
        );
    });
}

#[test]
fn a_cancelled_sock_recv_leaves_the_socket_usable() {
    run_io(async move {
        let (a, b) = unix_pair();
        let timed_out = asyncio::wait_for(lp().sock_recv(&b, 10), 0.02).await;
        assert!(timed_out.is_err(), "nothing was sent yet");
        // The next receive must wait too (the data comes later), and be woken.
        let a = Rc::new(a);
        let sender = asyncio::create_task({
            let a = a.clone();
            async move {
                asyncio::sleep(0.02).await;
                lp().sock_sendall(&*a, b"after").await.unwrap();
            }
        });
        let got = asyncio::wait_for(lp().sock_recv(&b, 10), 5.0).await;
        assert_eq!(got.unwrap().unwrap(), b"after");
        sender.await.unwrap();
    });
}

#[test]
fn a_new_socket_with_a_closed_sockets_fd_number_still_works() {
    run_io(async move {
        let (old, _old_peer) = unix_pair();
        // Make the loop register the old socket's fd: a receive that has to wait.
        let timed_out = asyncio::wait_for(lp().sock_recv(&old, 10), 0.01).await;
        assert!(timed_out.is_err());

        // Put a new socket at the old socket's number: dup2 closes the old one (the kernel
        // drops its epoll registration) and installs the new one, in one step.
        let (new, new_peer) = unix_pair();
        let number = old.into_raw_fd();
        // SAFETY: `number` is ours (from into_raw_fd) and `new` is open; dup2 replaces
        // `number` atomically, so no other thread of this process can get it in between.
        let ret = unsafe { libc::dup2(new.as_raw_fd(), number) };
        assert_eq!(ret, number, "{}", io::Error::last_os_error());
        // SAFETY: `number` now names a duplicate of `new`'s socket, owned by nothing else.
        let reused = unsafe { UnixStream::from_raw_fd(number) };
        drop(new);

        let new_peer = Rc::new(new_peer);
        let sender = asyncio::create_task({
            let p = new_peer.clone();
            async move {
                asyncio::sleep(0.02).await;
                lp().sock_sendall(&*p, b"new").await.unwrap();
            }
        });
        let got = asyncio::wait_for(lp().sock_recv(&reused, 10), 5.0).await;
        assert_eq!(
            got.expect("the reused fd number was never reported ready")
                .unwrap(),
            b"new"
        );
        sender.await.unwrap();
    });
}

#[test]
fn a_second_task_reading_the_same_socket_gets_a_clear_error() {
    run_io(async move {
        let (a, b) = unix_pair();
        let b = Rc::new(b);
        let first = asyncio::create_task({
            let b = b.clone();
            async move { lp().sock_recv(&*b, 10).await }
        });
        asyncio::sleep(0.01).await; // first is waiting now
        let err = lp().sock_recv(&*b, 10).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ResourceBusy);
        assert!(err.to_string().contains("another task"), "{err}");
        lp().sock_sendall(&a, b"first").await.unwrap();
        assert_eq!(first.await.unwrap().unwrap(), b"first");
    });
}

#[test]
fn sock_recv_and_sock_sendall_on_one_socket_from_two_tasks() {
    run_io(async move {
        let (a, b) = unix_pair();
        let a = Rc::new(a);
        let reader = asyncio::create_task({
            let a = a.clone();
            async move { recv_exactly(&*a, 3).await }
        });
        asyncio::sleep(0.01).await;
        lp().sock_sendall(&*a, b"out").await.unwrap(); // the other direction: no conflict
        assert_eq!(recv_exactly(&b, 3).await, b"out");
        lp().sock_sendall(&b, b"in!").await.unwrap();
        assert_eq!(reader.await.unwrap(), b"in!");
    });
}

#[test]
fn sock_ops_on_a_loop_that_is_not_running_are_an_error() {
    let other = EventLoop::new();
    run_io(async move {
        let (_a, b) = unix_pair();
        let err = other.sock_recv(&b, 10).await.unwrap_err();
        assert!(err.to_string().contains("not running"), "{err}");
    });
}

#[test]
fn on_a_virtual_clock_a_slow_peer_still_answers_before_the_timeout() {
    asyncio::Runner::virtual_time().run(async {
        let (a, b) = unix_pair();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            (&a).write_all(b"late").unwrap();
            a
        });
        let got = asyncio::wait_for(lp().sock_recv(&b, 10), 30.0).await;
        assert_eq!(
            got.expect("the virtual clock jumped past real I/O")
                .unwrap(),
            b"late"
        );
        writer.join().unwrap();
    });
}

#[test]
fn an_impossible_buffer_size_is_an_error_not_an_abort() {
    run_io(async move {
        let (_a, b) = unix_pair();
        let err = lp().sock_recv(&b, usize::MAX).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::OutOfMemory);
    });
}
