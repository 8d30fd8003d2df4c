//! Transports and protocols over loopback: create_server / create_connection, the callback
//! order, flow control both ways, EOF, errors and panics.
//!
//! Every wait is bounded by `wait_for`, so a broken transport fails a test instead of
//! hanging it.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use asyncio::{Buffered, BufferedProtocol, Protocol, Transport};

/// Every wait of these tests, in seconds.
const BOUND: f64 = 10.0;

/// What a protocol saw, in order.
type Log = Rc<RefCell<Vec<String>>>;

/// Waits (polling the loop) until `done()` holds; fails the test after `BOUND`.
async fn until(what: &str, done: impl Fn() -> bool) {
    let waited = asyncio::wait_for(
        async {
            while !done() {
                asyncio::sleep(0.001).await;
            }
        },
        BOUND,
    )
    .await;
    assert!(waited.is_ok(), "timed out waiting for {what}");
}

/// Echoes every chunk and logs every callback.
struct Echo {
    log: Log,
    transport: Option<Transport>,
}

impl Protocol for Echo {
    fn connection_made(&mut self, transport: Transport) {
        self.log.borrow_mut().push("made".into());
        self.transport = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        self.log
            .borrow_mut()
            .push(format!("data {}", String::from_utf8_lossy(data)));
        self.transport.as_ref().unwrap().write(data);
    }

    fn eof_received(&mut self) -> bool {
        self.log.borrow_mut().push("eof".into());
        false
    }

    fn connection_lost(&mut self, exc: Option<io::Error>) {
        self.log.borrow_mut().push(match exc {
            None => "lost".into(),
            Some(e) => format!("lost {:?}", e.kind()),
        });
    }
}

/// Collects what arrives.
#[derive(Default)]
struct Collect {
    data: Vec<u8>,
    lost: Option<Option<io::ErrorKind>>,
    lost_calls: u32,
    transport: Option<Transport>,
}

impl Protocol for Collect {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        self.data.extend_from_slice(data);
    }

    fn connection_lost(&mut self, exc: Option<io::Error>) {
        self.lost_calls += 1;
        self.lost = Some(exc.map(|e| e.kind()));
    }
}

async fn echo_server(log: &Log) -> (asyncio::Server, u16) {
    let lp = asyncio::get_running_loop().unwrap();
    let log = log.clone();
    let server = lp
        .create_server(
            move || Echo {
                log: log.clone(),
                transport: None,
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
    let port = server.sockets()[0].inet().unwrap().port();
    (server, port)
}

#[test]
fn echo_over_create_server_and_create_connection() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let log = Log::default();
        let (server, port) = echo_server(&log).await;
        let (transport, client) = lp
            .create_connection(Collect::default, "127.0.0.1", port)
            .await
            .unwrap();
        transport.write(b"hello");
        until("the echo", || client.with(|c| c.data.len()) == Some(5)).await;
        transport.writelines([&b" wor"[..], b"ld"]);
        until("the second echo", || {
            client.with(|c| c.data.len()) == Some(11)
        })
        .await;
        assert_eq!(client.with(|c| c.data.clone()).unwrap(), b"hello world");
        // The client shuts its side: the server's eof_received returns false and closes.
        transport.write_eof();
        until("the server's close", || client.is_lost()).await;
        assert_eq!(client.with(|c| c.lost).unwrap(), Some(None));
        until("the server's connection_lost", || {
            log.borrow().last().map(String::as_str) == Some("lost")
        })
        .await;
        let log = log.borrow().clone();
        assert_eq!(log.first().map(String::as_str), Some("made"));
        assert_eq!(&log[log.len() - 2..], ["eof", "lost"]);
        let echoed: String = log[1..log.len() - 2]
            .iter()
            .map(|l| l.strip_prefix("data ").unwrap())
            .collect();
        assert_eq!(echoed, "hello world");
        server.close();
        server.wait_closed().await;
    });
}

#[test]
fn a_buffered_protocol_receives_into_its_own_buffer() {
    struct Sum {
        buf: Vec<u8>,
        total: Rc<Cell<usize>>,
        calls: Rc<Cell<usize>>,
        transport: Option<Transport>,
    }
    impl BufferedProtocol for Sum {
        fn connection_made(&mut self, t: Transport) {
            self.transport = Some(t);
        }
        fn get_buffer(&mut self, sizehint: usize) -> &mut [u8] {
            assert!(sizehint > 0);
            &mut self.buf
        }
        fn buffer_updated(&mut self, nbytes: usize) {
            assert!(nbytes <= self.buf.len());
            self.total.set(self.total.get() + nbytes);
            self.calls.set(self.calls.get() + 1);
        }
        fn eof_received(&mut self) -> bool {
            let t = self.transport.as_ref().unwrap();
            t.write(self.total.get().to_string());
            false
        }
    }
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let (total, calls) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let (t, c) = (total.clone(), calls.clone());
        let server = lp
            .create_server(
                move || {
                    Buffered(Sum {
                        buf: vec![0; 100],
                        total: t.clone(),
                        calls: c.clone(),
                        transport: None,
                    })
                },
                "127.0.0.1",
                0,
            )
            .await
            .unwrap();
        let port = server.sockets()[0].inet().unwrap().port();
        let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
        w.write(vec![7u8; 1000]).unwrap();
        w.write_eof().unwrap();
        let answer = asyncio::wait_for(r.read(-1), BOUND).await.unwrap().unwrap();
        assert_eq!(answer, b"1000");
        assert_eq!(total.get(), 1000);
        assert!(
            calls.get() >= 10,
            "a 100-byte buffer takes 1000 bytes in 10 reads at least, took {}",
            calls.get()
        );
    });
}

/// Pauses reading after its first chunk; a task resumes it.
struct Pauser {
    chunks: Rc<RefCell<Vec<Vec<u8>>>>,
    transport: Rc<RefCell<Option<Transport>>>,
}

impl Protocol for Pauser {
    fn connection_made(&mut self, t: Transport) {
        *self.transport.borrow_mut() = Some(t);
    }
    fn data_received(&mut self, data: &[u8]) {
        self.chunks.borrow_mut().push(data.to_vec());
        let t = self.transport.borrow();
        let t = t.as_ref().unwrap();
        t.pause_reading();
        assert!(!t.is_reading());
    }
}

#[test]
fn pause_reading_stops_data_received_and_resume_reading_restarts_it() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let chunks = Rc::new(RefCell::new(Vec::new()));
        let transport = Rc::new(RefCell::new(None));
        let (c, t) = (chunks.clone(), transport.clone());
        let server = lp
            .create_server(
                move || Pauser {
                    chunks: c.clone(),
                    transport: t.clone(),
                },
                "127.0.0.1",
                0,
            )
            .await
            .unwrap();
        let port = server.sockets()[0].inet().unwrap().port();
        let (_r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
        w.write(b"first").unwrap();
        until("the first chunk", || chunks.borrow().len() == 1).await;
        w.write(b"second").unwrap();
        // The bytes are in the server's socket buffer; a paused transport leaves them there.
        asyncio::sleep(0.1).await;
        assert_eq!(chunks.borrow().len(), 1, "paused: no data_received");
        let t = transport.borrow().clone().unwrap();
        t.resume_reading();
        assert!(t.is_reading());
        until("the second chunk", || chunks.borrow().len() == 2).await;
        assert_eq!(chunks.borrow()[1], b"second");
    });
}

#[test]
fn eof_received_returning_true_keeps_the_transport_open_for_writing() {
    struct Answer(Option<Transport>);
    impl Protocol for Answer {
        fn connection_made(&mut self, t: Transport) {
            self.0 = Some(t);
        }
        fn eof_received(&mut self) -> bool {
            let t = self.0.clone().unwrap();
            // Answer a little later, from a task: the transport is still open.
            asyncio::create_task(async move {
                asyncio::sleep(0.01).await;
                assert!(!t.is_closing());
                t.write(b"late answer");
                t.close();
            });
            true
        }
    }
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let server = lp
            .create_server(|| Answer(None), "127.0.0.1", 0)
            .await
            .unwrap();
        let port = server.sockets()[0].inet().unwrap().port();
        let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
        w.write_eof().unwrap();
        let got = asyncio::wait_for(r.read(-1), BOUND).await.unwrap().unwrap();
        assert_eq!(got, b"late answer");
    });
}

#[test]
fn connection_lost_is_called_once_with_the_error_of_a_reset() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let calls = Rc::new(RefCell::new(Vec::new()));
        let c = calls.clone();
        struct Lost(Rc<RefCell<Vec<Option<io::ErrorKind>>>>);
        impl Protocol for Lost {
            fn connection_lost(&mut self, exc: Option<io::Error>) {
                self.0.borrow_mut().push(exc.map(|e| e.kind()));
            }
        }
        let server = lp
            .create_server(move || Lost(c.clone()), "127.0.0.1", 0)
            .await
            .unwrap();
        let port = server.sockets()[0].inet().unwrap().port();
        // A client that resets: SO_LINGER 0, then close sends RST instead of FIN.
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        asyncio::sleep(0.05).await; // accepted
        set_linger_zero(&client);
        drop(client);
        until("connection_lost", || !calls.borrow().is_empty()).await;
        asyncio::sleep(0.05).await; // a second call would come now
        assert_eq!(
            *calls.borrow(),
            [Some(io::ErrorKind::ConnectionReset)],
            "exactly once, with the reset"
        );
    });
}

fn set_linger_zero(s: &std::net::TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a live `linger` whose size is passed; the kernel only reads it.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
}

#[test]
fn pause_writing_and_resume_writing_come_around_the_high_water_mark() {
    /// Writes to a peer that does not read, until the kernel's buffers are full and its own
    /// buffer is over the high-water mark.
    struct Flood {
        log: Log,
        written: Rc<Cell<usize>>,
        transport: Option<Transport>,
    }
    impl Protocol for Flood {
        fn connection_made(&mut self, t: Transport) {
            t.set_write_buffer_limits(Some(64 * 1024), Some(16 * 1024));
            let chunk = vec![b'x'; 64 * 1024];
            for _ in 0..4096 {
                t.write(&chunk);
                self.written.set(self.written.get() + chunk.len());
                if t.get_write_buffer_size() > 64 * 1024 {
                    break;
                }
            }
            self.log
                .borrow_mut()
                .push(format!("buffered {}", t.get_write_buffer_size()));
            self.transport = Some(t);
        }
        fn pause_writing(&mut self) {
            let size = self.transport.as_ref().map(|t| t.get_write_buffer_size());
            self.log.borrow_mut().push(format!("pause {size:?}"));
        }
        fn resume_writing(&mut self) {
            let size = self.transport.as_ref().unwrap().get_write_buffer_size();
            assert!(
                size <= 16 * 1024,
                "resumed at {size}, above the low-water mark"
            );
            self.log.borrow_mut().push("resume".into());
        }
    }
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let log = Log::default();
        let written = Rc::new(Cell::new(0));
        let (l, n) = (log.clone(), written.clone());
        let server = lp
            .create_server(
                move || Flood {
                    log: l.clone(),
                    written: n.clone(),
                    transport: None,
                },
                "127.0.0.1",
                0,
            )
            .await
            .unwrap();
        let port = server.sockets()[0].inet().unwrap().port();
        let (mut r, _w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
        until("pause_writing", || log.borrow().len() >= 2).await;
        {
            let log = log.borrow();
            // pause_writing came due during connection_made's own writes: right after it.
            assert!(log[0].starts_with("buffered "), "{log:?}");
            let buffered: usize = log[0]["buffered ".len()..].parse().unwrap();
            assert!(buffered > 64 * 1024, "buffered only {buffered}");
            assert!(log[1].starts_with("pause"), "{log:?}");
        }
        asyncio::sleep(0.05).await;
        assert_eq!(
            log.borrow().len(),
            2,
            "no resume while the peer reads nothing"
        );
        // Now read everything: the buffer drains and resume_writing comes once.
        let mut got = 0;
        while got < written.get() {
            got += asyncio::wait_for(r.read(65536), BOUND)
                .await
                .unwrap()
                .unwrap()
                .len();
        }
        until("resume_writing", || log.borrow().len() == 3).await;
        assert_eq!(log.borrow()[2], "resume");
    });
}

#[test]
fn a_panicking_data_received_is_reported_and_only_its_connection_is_closed() {
    struct Fragile {
        transport: Option<Transport>,
        lost: Rc<RefCell<Vec<String>>>,
    }
    impl Protocol for Fragile {
        fn connection_made(&mut self, t: Transport) {
            self.transport = Some(t);
        }
        fn data_received(&mut self, data: &[u8]) {
            if data == b"boom" {
                panic!("bad request");
            }
            self.transport.as_ref().unwrap().write(data);
        }
        fn connection_lost(&mut self, exc: Option<io::Error>) {
            self.lost
                .borrow_mut()
                .push(exc.map(|e| e.to_string()).unwrap_or_default());
        }
    }
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let reports = Rc::new(RefCell::new(Vec::new()));
        let r = reports.clone();
        lp.set_exception_handler(Some(move |ctx: &asyncio::ExceptionContext| {
            r.borrow_mut().push(ctx.message.clone())
        }));
        let lost = Rc::new(RefCell::new(Vec::new()));
        let l = lost.clone();
        let server = lp
            .create_server(
                move || Fragile {
                    transport: None,
                    lost: l.clone(),
                },
                "127.0.0.1",
                0,
            )
            .await
            .unwrap();
        let port = server.sockets()[0].inet().unwrap().port();
        let (mut good_r, mut good_w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
        let (mut bad_r, mut bad_w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
        bad_w.write(b"boom").unwrap();
        let closed = asyncio::wait_for(bad_r.read(10), BOUND).await.unwrap();
        assert!(
            closed.map_or(true, |d| d.is_empty()),
            "the panicking connection is closed"
        );
        good_w.write(b"still here").unwrap();
        let echoed = asyncio::wait_for(good_r.read(100), BOUND)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(echoed, b"still here", "the other connection is served");
        assert_eq!(reports.borrow().len(), 1, "{:?}", reports.borrow());
        assert!(
            reports.borrow()[0]
                .contains("Exception in protocol.data_received(): panicked: bad request"),
            "{:?}",
            reports.borrow()
        );
        assert_eq!(lost.borrow().len(), 1);
        assert!(
            lost.borrow()[0].contains("panicked: bad request"),
            "{:?}",
            lost.borrow()
        );
        assert!(server.is_serving());
    });
}

#[test]
fn a_protocol_that_keeps_its_transport_is_dropped_after_connection_lost() {
    struct Keeper {
        _transport: Option<Transport>,
        drops: Rc<Cell<u32>>,
    }
    impl Protocol for Keeper {
        fn connection_made(&mut self, t: Transport) {
            self._transport = Some(t);
        }
    }
    impl Drop for Keeper {
        fn drop(&mut self) {
            self.drops.set(self.drops.get() + 1);
        }
    }
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let drops = Rc::new(Cell::new(0));
        let d = drops.clone();
        let server = lp
            .create_server(
                move || Keeper {
                    _transport: None,
                    drops: d.clone(),
                },
                "127.0.0.1",
                0,
            )
            .await
            .unwrap();
        let port = server.sockets()[0].inet().unwrap().port();
        let (_r, mut w) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
        asyncio::sleep(0.02).await;
        assert_eq!(drops.get(), 0);
        w.close();
        until("the protocol's drop", || drops.get() == 1).await;
        server.close();
        server.wait_closed().await;
    });
}

#[test]
fn close_flushes_then_calls_connection_lost_and_abort_drops_the_buffer() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let log = Log::default();
        let (_server, port) = echo_server(&log).await;
        let (t, client) = lp
            .create_connection(Collect::default, "127.0.0.1", port)
            .await
            .unwrap();
        t.write(b"x");
        t.close();
        assert!(t.is_closing());
        assert!(!t.is_reading());
        t.write(b"dropped after close");
        until("connection_lost", || client.is_lost()).await;
        assert_eq!(
            client.with(|c| (c.lost, c.lost_calls)).unwrap(),
            (Some(None), 1)
        );
        assert!(t.is_closing(), "a lost transport stays closing");

        let (t, client) = lp
            .create_connection(Collect::default, "127.0.0.1", port)
            .await
            .unwrap();
        t.abort();
        until("connection_lost after abort", || client.is_lost()).await;
        assert_eq!(client.with(|c| c.lost).unwrap(), Some(None));
    });
}

#[test]
fn unix_server_and_connection() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let dir = std::env::temp_dir().join(format!("asyncio-proto-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("echo.sock");
        let log = Log::default();
        let l = log.clone();
        let server = lp
            .create_unix_server(
                move || Echo {
                    log: l.clone(),
                    transport: None,
                },
                &path,
            )
            .await
            .unwrap();
        let (t, client) = lp
            .create_unix_connection(Collect::default, &path)
            .await
            .unwrap();
        assert!(t.get_extra_info("peername").is_some());
        t.write(b"over a unix socket");
        until("the echo", || client.with(|c| c.data.len()) == Some(18)).await;
        server.close();
        assert!(!path.exists());
        let _ = std::fs::remove_dir(&dir);
    });
}

#[test]
fn connect_accepted_socket_takes_a_stream_and_refuses_a_datagram_socket() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"abc").unwrap();
            let mut buf = [0u8; 3];
            s.read_exact(&mut buf).unwrap();
            buf
        });
        let (accepted, _) = listener.accept().unwrap(); // blocking, but the client is ready
        let log = Log::default();
        let l = log.clone();
        let (t, _p) = lp
            .connect_accepted_socket(
                move || Echo {
                    log: l,
                    transport: None,
                },
                accepted,
            )
            .await
            .unwrap();
        let peer = t.get_extra_info("peername").unwrap();
        assert!(peer.address().unwrap().inet().unwrap().ip().is_loopback());
        let echoed = asyncio::to_thread(move || client.join().unwrap())
            .await
            .unwrap();
        assert_eq!(&echoed, b"abc");

        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let err = lp
            .connect_accepted_socket(Collect::default, udp)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("not a stream socket"), "{err}");
    });
}

#[test]
fn bad_input_gives_clear_errors() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let err = lp
            .create_connection(Collect::default, "127.0.0.1", 1)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        assert!(err.to_string().contains("127.0.0.1:1"), "{err}");

        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = lp
            .create_server(Collect::default, "127.0.0.1", port)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");

        // A loop that is not the running one refuses, instead of hanging.
        let other = asyncio::new_event_loop();
        let err = other
            .create_connection(Collect::default, "127.0.0.1", port)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not running"), "{err}");
    });
}

#[test]
fn a_panicking_factory_is_reported_and_the_server_keeps_serving() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let reports = Rc::new(RefCell::new(Vec::new()));
        let r = reports.clone();
        lp.set_exception_handler(Some(move |ctx: &asyncio::ExceptionContext| {
            r.borrow_mut().push(ctx.message.clone())
        }));
        let n = Rc::new(Cell::new(0));
        let log = Log::default();
        let server = lp
            .create_server(
                move || {
                    n.set(n.get() + 1);
                    assert!(n.get() != 1, "the first one fails");
                    Echo {
                        log: log.clone(),
                        transport: None,
                    }
                },
                "127.0.0.1",
                0,
            )
            .await
            .unwrap();
        let port = server.sockets()[0].inet().unwrap().port();
        let (mut r1, _w1) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
        let first = asyncio::wait_for(r1.read(10), BOUND).await.unwrap();
        assert!(first.map_or(true, |d| d.is_empty()), "closed");
        let (mut r2, mut w2) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
        w2.write(b"ok").unwrap();
        assert_eq!(
            asyncio::wait_for(r2.read(10), BOUND)
                .await
                .unwrap()
                .unwrap(),
            b"ok"
        );
        assert!(
            reports.borrow()[0].contains("protocol_factory()"),
            "{:?}",
            reports.borrow()
        );
    });
}

#[test]
fn local_addr_binds_the_client_first() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let log = Log::default();
        let (_server, port) = echo_server(&log).await;
        let (t, _p) = lp
            .create_connection(Collect::default, "127.0.0.1", port)
            .local_addr("127.0.0.1:0".parse::<SocketAddr>().unwrap())
            .await
            .unwrap();
        let local = t.get_extra_info("sockname").unwrap();
        assert!(local.address().unwrap().inet().unwrap().ip().is_loopback());
        assert!(t.can_write_eof());
    });
}
