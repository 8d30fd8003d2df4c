//! The virtual clock with real I/O: time jumps to the next timer only when no I/O is on its
//! way, so a peer on another thread is not "timed out" in no time.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

#[test]
fn a_virtual_wait_for_does_not_time_out_a_peer_answering_in_real_time() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // A peer on another thread that answers after 100 ms of real time.
    let peer = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        s.write_all(b"pong\n").unwrap();
    });
    let runner = asyncio::Runner::virtual_time();
    let (line, virtual_elapsed) = runner.run(async move {
        let lp = asyncio::get_running_loop().unwrap();
        let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
        w.write(b"ping\n").unwrap();
        let start = lp.time();
        let line = asyncio::wait_for(r.readline(), 30.0).await;
        (line, lp.time() - start)
    });
    assert_eq!(
        line.expect("timed out on the virtual clock").unwrap(),
        b"pong\n"
    );
    assert!(
        virtual_elapsed < 30.0,
        "no jump past the answer: {virtual_elapsed}"
    );
    peer.join().unwrap();
}

#[test]
fn a_virtual_timeout_on_a_silent_socket_fires_after_the_autojump_threshold() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _peer = std::thread::spawn(move || {
        // Accept and say nothing for longer than the test lasts.
        let conn = listener.accept();
        std::thread::sleep(Duration::from_secs(3));
        drop(conn);
    });
    let started = Instant::now();
    let runner = asyncio::Runner::virtual_time();
    let (timed_out, virtual_elapsed) = runner.run(async move {
        let lp = asyncio::get_running_loop().unwrap();
        let (mut r, _w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
        let start = lp.time();
        let res = asyncio::wait_for(r.readline(), 3600.0).await;
        (res.is_err(), lp.time() - start)
    });
    assert!(timed_out);
    assert_eq!(
        virtual_elapsed, 3600.0,
        "the clock jumped straight to the deadline"
    );
    // One wait of the threshold (250 ms), not an hour, and not the peer's 3 s.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn sleeps_next_to_idle_sockets_jump_at_once() {
    // Sockets that nobody waits on do not slow the virtual clock down.
    let started = Instant::now();
    let runner = asyncio::Runner::virtual_time();
    let elapsed = runner.run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0)
            .start_serving(false)
            .await
            .unwrap();
        let start = lp.time();
        for _ in 0..100 {
            asyncio::sleep(60).await;
        }
        server.close();
        lp.time() - start
    });
    assert_eq!(elapsed, 6000.0);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_virtual_clock_waits_for_a_thread_the_loop_awaits() {
    let runner = asyncio::Runner::virtual_time();
    let (answer, elapsed) = runner.run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let start = lp.time();
        let slow = asyncio::to_thread(|| {
            std::thread::sleep(Duration::from_millis(300));
            42
        });
        let answer = asyncio::wait_for(slow, 5.0).await;
        (answer, lp.time() - start)
    });
    assert_eq!(
        answer.expect("the thread's answer, not a timeout").unwrap(),
        42
    );
    assert!(elapsed < 5.0);
}
