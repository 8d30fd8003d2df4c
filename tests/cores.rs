//! One loop per core: N loops each answer, a panic in one stops the others and reaches the
//! caller, SO_REUSEPORT spreads connections over the loops, and what closing one loop's
//! listener does to the connections queued on it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use asyncio::{MultiRunner, Protocol, Transport};

#[test]
fn n_loops_each_answer_on_their_own_thread() {
    let outputs = MultiRunner::new().loops(3).run(|index| async move {
        asyncio::sleep(0.01).await;
        let task = asyncio::create_task(async move { index * 10 });
        (task.await.unwrap(), std::thread::current().id())
    });
    let answers: Vec<usize> = outputs.iter().map(|(a, _)| *a).collect();
    assert_eq!(answers, [0, 10, 20], "in index order");
    let mut threads: Vec<_> = outputs.iter().map(|(_, t)| *t).collect();
    threads.dedup();
    assert_eq!(threads.len(), 3, "one thread per loop");
    assert_ne!(outputs[0].1, std::thread::current().id());
}

#[test]
fn run_on_cores_starts_one_loop_per_available_core() {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let indices = asyncio::run_on_cores(|index| async move { index });
    assert_eq!(indices, (0..cores).collect::<Vec<_>>());
}

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn one_loop_panicking_cancels_the_others_and_the_panic_reaches_the_caller() {
    let cleaned = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        MultiRunner::new().loops(3).run(|index| {
            let cleaned = cleaned.clone();
            async move {
                if index == 1 {
                    asyncio::sleep(0.05).await;
                    panic!("loop 1 gave up");
                }
                let _guard = SetOnDrop(cleaned);
                asyncio::sleep(3600).await; // only a cancellation ends this
            }
        })
    }));
    let payload = outcome.expect_err("the panic reaches the caller");
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned());
    assert_eq!(message.as_deref(), Some("loop 1 gave up"));
    assert!(
        cleaned.load(Ordering::SeqCst),
        "the others' destructors ran"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the others were cancelled, not waited for"
    );
}

/// Answers every connection with its loop's index, then closes.
struct Index(usize);

impl Protocol for Index {
    fn connection_made(&mut self, t: Transport) {
        t.write(self.0.to_string());
        t.close();
    }
}

/// A port for several SO_REUSEPORT listeners: bound (not listening) by a socket kept for
/// the test's length, so that no other program can take it meanwhile.
fn shared_port() -> (asyncio::Socket, u16) {
    let probe = asyncio::Socket::new(asyncio::Family::Inet, asyncio::Kind::Stream).unwrap();
    probe.set_reuse_address(true).unwrap();
    probe.set_reuse_port(true).unwrap();
    probe.bind(([127, 0, 0, 1], 0)).unwrap();
    let port = probe.local_addr().unwrap().port();
    (probe, port)
}

#[test]
fn reuse_port_spreads_connections_over_the_loops() {
    const CONNECTIONS: usize = 32;
    let (_probe, port) = shared_port();
    let ready = Arc::new(Barrier::new(3));
    let done = Arc::new(AtomicBool::new(false));
    let per_loop = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let client = {
        let (ready, done, per_loop) = (ready.clone(), done.clone(), per_loop.clone());
        std::thread::spawn(move || {
            ready.wait();
            for _ in 0..CONNECTIONS {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let mut answer = String::new();
                s.read_to_string(&mut answer).unwrap();
                let index: usize = answer.parse().unwrap();
                per_loop[index].fetch_add(1, Ordering::SeqCst);
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    MultiRunner::new().loops(2).run(|index| {
        let (ready, done) = (ready.clone(), done.clone());
        async move {
            let lp = asyncio::get_running_loop().unwrap();
            let server = lp
                .create_server(move || Index(index), "127.0.0.1", port)
                .reuse_port(true)
                .await
                .unwrap();
            asyncio::to_thread(move || ready.wait()).await.unwrap();
            while !done.load(Ordering::SeqCst) {
                asyncio::sleep(0.01).await;
            }
            server.close();
        }
    });
    client.join().unwrap();
    let counts = [
        per_loop[0].load(Ordering::SeqCst),
        per_loop[1].load(Ordering::SeqCst),
    ];
    assert_eq!(counts[0] + counts[1], CONNECTIONS);
    assert!(
        counts[0] > 0 && counts[1] > 0,
        "the kernel gave every connection to one loop: {counts:?}"
    );
}

/// Echoes once.
#[derive(Default)]
struct EchoOnce(Option<Transport>);

impl Protocol for EchoOnce {
    fn connection_made(&mut self, t: Transport) {
        self.0 = Some(t);
    }
    fn data_received(&mut self, data: &[u8]) {
        self.0.as_ref().unwrap().write(data);
    }
}

/// Sends `ping` and reads the echo: `Ok(true)` if echoed, `Ok(false)` if the connection was
/// reset.
fn ping(mut s: TcpStream) -> std::io::Result<bool> {
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let reset = |e: &std::io::Error| {
        matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
        )
    };
    if let Err(e) = s.write_all(b"ping") {
        return if reset(&e) { Ok(false) } else { Err(e) };
    }
    let mut buf = [0u8; 4];
    match s.read_exact(&mut buf) {
        Ok(()) => Ok(&buf == b"ping"),
        Err(e) if reset(&e) => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// What `cores.rs` documents: closing one of several SO_REUSEPORT listeners resets the
/// connections waiting in its own accept queue (unless `net.ipv4.tcp_migrate_req` is on,
/// which moves them to another listener); the rest of the port keeps serving.
#[test]
fn closing_one_reuse_port_listener_resets_only_the_connections_queued_on_it() {
    const QUEUED: usize = 32;
    let migrate = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_migrate_req")
        .map(|s| s.trim() == "1")
        .unwrap_or(false);
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let (_probe, port) = shared_port();
        // Two listeners on one port, not accepting yet: connections wait in their queues.
        let closing = lp
            .create_server(EchoOnce::default, "127.0.0.1", port)
            .reuse_port(true)
            .start_serving(false)
            .await
            .unwrap();
        let serving = lp
            .create_server(EchoOnce::default, "127.0.0.1", port)
            .reuse_port(true)
            .start_serving(false)
            .await
            .unwrap();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        // The handshakes complete in the kernel; the connections sit in the two queues.
        let queued: Vec<TcpStream> = (0..QUEUED)
            .map(|_| TcpStream::connect(addr).unwrap())
            .collect();
        closing.close();
        serving.start_serving().await.unwrap();
        let results = asyncio::to_thread(move || {
            queued
                .into_iter()
                .map(ping)
                .collect::<std::io::Result<Vec<bool>>>()
        })
        .await
        .unwrap()
        .unwrap();
        let served = results.iter().filter(|&&ok| ok).count();
        if migrate {
            assert_eq!(
                served, QUEUED,
                "tcp_migrate_req moves them to the open listener"
            );
        } else {
            assert!(
                served > 0 && served < QUEUED,
                "the queue of the closed listener is reset, the other's is served: \
                 {served} of {QUEUED} served"
            );
        }
        // New connections go to the listener still open: all are served.
        let fresh = asyncio::to_thread(move || {
            (0..8)
                .map(|_| TcpStream::connect(addr).and_then(ping))
                .collect::<std::io::Result<Vec<bool>>>()
        })
        .await
        .unwrap()
        .unwrap();
        assert!(fresh.iter().all(|&ok| ok), "{fresh:?}");
        serving.close();
    });
}
