//! asyncio.streams over real loopback sockets: open_connection, start_server, StreamReader,
//! StreamWriter and Server, including their failure modes.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::time::Duration;

use asyncio::{IncompleteReadError, LimitOverrunError, StreamReader, StreamWriter};

/// An echo server's handler: read up to 64 KiB, write it back, drain, until EOF.
async fn echo(mut reader: StreamReader, mut writer: StreamWriter) -> io::Result<()> {
    loop {
        let data = reader.read(65536).await?;
        if data.is_empty() {
            return Ok(());
        }
        writer.write(&data)?;
        writer.drain().await?;
    }
}

fn port_of(server: &asyncio::Server) -> u16 {
    server.sockets()[0].inet().unwrap().port()
}

#[test]
fn echo_round_trip_and_clean_close() {
    asyncio::run(async {
        let server = asyncio::start_server(echo, "127.0.0.1", 0).await?;
        let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port_of(&server)).await?;
        for i in 0..100u32 {
            let msg = format!("message {i}\n");
            w.write(&msg)?;
            w.drain().await?;
            assert_eq!(r.readline().await?, msg.as_bytes());
        }
        w.close();
        w.wait_closed().await?;
        server.close();
        server.wait_closed().await;
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

#[test]
fn a_thousand_concurrent_connections_each_get_their_own_echo() {
    asyncio::run(async {
        let server = asyncio::start_server(echo, "127.0.0.1", 0)
            .backlog(1024)
            .await?;
        let port = port_of(&server);
        let clients = (0..1000u32).map(|i| {
            asyncio::create_task(async move {
                let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await?;
                let msg = format!("client {i} says hello\n");
                w.write(&msg)?;
                w.drain().await?;
                let line = r.readline().await?;
                w.close();
                Ok::<bool, io::Error>(line == msg.as_bytes())
            })
        });
        let results = asyncio::gather(clients).await.unwrap();
        let ok = results
            .into_iter()
            .filter(|r| matches!(r, Ok(true)))
            .count();
        assert_eq!(ok, 1000);
        server.close();
        server.wait_closed().await;
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

#[test]
fn partial_reads_readexactly_and_readuntil() {
    asyncio::run(async {
        // The server sends its bytes in small pieces with pauses between them.
        let server = asyncio::start_server(
            |_r, mut w: StreamWriter| async move {
                for piece in [&b"he"[..], b"llo\r", b"\nwor", b"ld|tail"] {
                    w.write(piece)?;
                    w.drain().await?;
                    asyncio::sleep(0.01).await;
                }
                Ok::<(), io::Error>(())
            },
            "127.0.0.1",
            0,
        )
        .await?;
        let (mut r, _w) = asyncio::open_connection("127.0.0.1", port_of(&server)).await?;
        assert_eq!(r.readexactly(3).await?, b"hel");
        assert_eq!(r.readuntil(b"\r\n").await?, b"lo\r\n");
        assert_eq!(r.readuntil(b"|").await?, b"world|");
        let err = r.readexactly(10).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let short = IncompleteReadError::of(&err).unwrap();
        assert_eq!(short.partial, b"tail");
        assert_eq!(short.expected, Some(10));
        assert!(r.at_eof());
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

#[test]
fn readuntil_past_the_limit_leaves_the_buffer_readable() {
    asyncio::run(async {
        let server = asyncio::start_server(
            |_r, mut w: StreamWriter| async move { w.write(b"0123456789abcdef\nrest\n") },
            "127.0.0.1",
            0,
        )
        .await?;
        let (mut r, _w) = asyncio::open_connection("127.0.0.1", port_of(&server))
            .limit(8)
            .await?;
        let err = r.readuntil(b"\n").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(LimitOverrunError::of(&err).is_some());
        // Nothing was consumed: the data is still there to read.
        assert_eq!(r.readexactly(4).await?, b"0123");
        // readline drops a line that is too long, as asyncio does, then carries on.
        let err = r.readline().await.unwrap_err();
        assert!(LimitOverrunError::of(&err).is_some());
        assert_eq!(r.readline().await?, b"rest\n");
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

#[test]
fn a_cancelled_read_loses_no_bytes() {
    asyncio::run(async {
        let server = asyncio::start_server(
            |_r, mut w: StreamWriter| async move {
                w.write(b"first half ")?;
                w.drain().await?;
                asyncio::sleep(0.1).await;
                w.write(b"second half\n")?;
                w.drain().await
            },
            "127.0.0.1",
            0,
        )
        .await?;
        let (mut r, _w) = asyncio::open_connection("127.0.0.1", port_of(&server)).await?;
        // The first readline times out after the first half arrived...
        let timed_out = asyncio::wait_for(r.readline(), 0.05).await;
        assert!(timed_out.is_err());
        // ... and what arrived is still buffered for the next one.
        assert_eq!(r.readline().await?, b"first half second half\n");
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

#[test]
fn drain_holds_back_a_writer_whose_peer_does_not_read() {
    asyncio::run(async {
        let release = asyncio::Event::new();
        let r2 = release.clone();
        let server = asyncio::start_server(
            move |mut r: StreamReader, _w| {
                let release = r2.clone();
                async move {
                    release.wait().await;
                    let mut total = 0;
                    loop {
                        let n = r.read(65536).await?.len();
                        if n == 0 {
                            return Ok::<usize, io::Error>(total);
                        }
                        total += n;
                    }
                }
            },
            "127.0.0.1",
            0,
        )
        .await?;
        let (_r, mut w) = asyncio::open_connection("127.0.0.1", port_of(&server)).await?;
        let written = Rc::new(Cell::new(0usize));
        let max_buffered = Rc::new(Cell::new(0usize));
        let (wr, mb) = (written.clone(), max_buffered.clone());
        let writer = asyncio::create_task(async move {
            let chunk = vec![7u8; 16 * 1024];
            for _ in 0..1024 {
                w.write(&chunk)?;
                mb.set(mb.get().max(w.get_write_buffer_size()));
                w.drain().await?;
                wr.set(wr.get() + chunk.len());
            }
            w.close();
            w.wait_closed().await
        });
        // With the peer not reading, the writer stalls once the kernel buffers and our high
        // water mark are full: far short of the 16 MiB it wants to send.
        asyncio::sleep(0.3).await;
        assert!(
            !writer.done(),
            "writer finished early after {} bytes",
            written.get()
        );
        assert!(written.get() < 16 * 1024 * 1024);
        assert!(
            max_buffered.get() <= 64 * 1024 + 16 * 1024,
            "buffer bounded by the high-water mark"
        );
        release.set();
        writer.await.unwrap()?;
        assert_eq!(written.get(), 16 * 1024 * 1024);
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

#[test]
fn server_close_stops_accepting_but_lets_clients_finish() {
    asyncio::run(async {
        let finished = Rc::new(Cell::new(0));
        let f2 = finished.clone();
        let server = asyncio::start_server(
            move |mut r: StreamReader, mut w: StreamWriter| {
                let finished = f2.clone();
                async move {
                    let line = r.readline().await?;
                    w.write(&line)?;
                    w.drain().await?;
                    finished.set(finished.get() + 1);
                    Ok::<(), io::Error>(())
                }
            },
            "127.0.0.1",
            0,
        )
        .await?;
        let port = port_of(&server);
        let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await?;
        asyncio::sleep(0.01).await; // accepted
        server.close();
        assert!(!server.is_serving());
        let refused = asyncio::open_connection("127.0.0.1", port).await;
        assert_eq!(
            refused.unwrap_err().kind(),
            io::ErrorKind::ConnectionRefused
        );
        // The connected client is still served.
        w.write(b"still here\n")?;
        assert_eq!(r.readline().await?, b"still here\n");
        server.wait_closed().await;
        assert_eq!(finished.get(), 1);
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

#[test]
fn errors_name_what_failed() {
    asyncio::run(async {
        let err = asyncio::open_connection("127.0.0.1", 1).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
        let err = asyncio::open_connection("no-such-host.invalid", 80)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no-such-host.invalid"), "{err}");
        // Binding a port that is taken.
        let server = asyncio::start_server(echo, "127.0.0.1", 0).await?;
        let taken = port_of(&server);
        let err = asyncio::start_server(echo, "127.0.0.1", taken)
            .reuse_address(false)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains(&taken.to_string()), "{err}");
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

#[test]
fn reading_after_eof_is_empty_and_writing_after_close_is_an_error() {
    asyncio::run(async {
        let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
        let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port_of(&server)).await?;
        assert!(r.read(10).await?.is_empty());
        assert!(r.read(10).await?.is_empty());
        assert_eq!(r.readline().await?, b"");
        w.close();
        let err = w.write(b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotConnected);
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

#[test]
fn drain_reports_a_peer_that_is_gone() {
    asyncio::run(async {
        // The server closes at once, leaving a client that keeps writing.
        let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
        let (_r, mut w) = asyncio::open_connection("127.0.0.1", port_of(&server)).await?;
        asyncio::sleep(0.05).await;
        let mut failed = None;
        for _ in 0..200 {
            let step = match w.write(vec![0u8; 64 * 1024]) {
                Ok(()) => w.drain().await,
                Err(e) => Err(e),
            };
            if let Err(e) = step {
                failed = Some(e);
                break;
            }
            asyncio::sleep(0.001).await;
        }
        let e = failed.expect("writing to a closed peer must fail");
        assert!(
            matches!(
                e.kind(),
                io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::NotConnected
            ),
            "{e:?}"
        );
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

#[test]
fn a_failing_callback_is_reported_to_the_exception_handler() {
    let lp = asyncio::EventLoop::new();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s2 = seen.clone();
    lp.set_exception_handler(Some(move |ctx: &asyncio::ExceptionContext| {
        s2.borrow_mut().push(ctx.message.clone());
    }));
    lp.run_until_complete(async {
        let server = asyncio::start_server(
            |_r, _w| async { Err::<(), _>(io::Error::other("handler broke")) },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        let (mut r, _w) = asyncio::open_connection("127.0.0.1", port_of(&server))
            .await
            .unwrap();
        assert!(r.read(1).await.unwrap().is_empty());
    })
    .unwrap();
    let seen = seen.borrow();
    assert!(
        seen.iter()
            .any(|m| m.contains("client_connected_cb") && m.contains("handler broke")),
        "{seen:?}"
    );
}

#[test]
fn unix_sockets_serve_and_connect() {
    let dir = std::env::temp_dir().join(format!("asyncio-streams-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("echo.sock");
    asyncio::run(async {
        let server = asyncio::start_unix_server(echo, &path).await?;
        let (mut r, mut w) = asyncio::open_unix_connection(&path).await?;
        w.write(b"over a unix socket\n")?;
        assert_eq!(r.readline().await?, b"over a unix socket\n");
        assert_eq!(w.peername().unwrap().path().unwrap(), path);
        server.close();
        Ok::<(), io::Error>(())
    })
    .unwrap();
    assert!(!path.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn futures_io_traits_work_on_streams() {
    use futures::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    asyncio::run(async {
        let server = asyncio::start_server(echo, "127.0.0.1", 0).await?;
        let (r, mut w) = asyncio::open_connection("127.0.0.1", port_of(&server)).await?;
        w.write_all(b"line one\nline two\n").await?;
        w.flush().await?;
        let mut r = r;
        let mut line = String::new();
        r.read_line(&mut line).await?;
        assert_eq!(line, "line one\n");
        let mut rest = [0u8; 9];
        r.read_exact(&mut rest).await?;
        assert_eq!(&rest, b"line two\n");
        AsyncWriteExt::close(&mut w).await?; // write_eof: the server sees EOF and ends
        let mut tail = Vec::new();
        r.read_to_end(&mut tail).await?;
        assert!(tail.is_empty());
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

#[test]
fn an_idle_loop_with_open_sockets_uses_no_cpu() {
    fn cpu() -> Duration {
        // utime + stime of this thread, from /proc (clock ticks of 10 ms are too coarse).
        let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
        Duration::from_nanos(stat.split_whitespace().next().unwrap().parse().unwrap())
    }
    asyncio::run(async {
        let server = asyncio::start_server(echo, "127.0.0.1", 0).await?;
        let (_r, _w) = asyncio::open_connection("127.0.0.1", port_of(&server)).await?;
        let before = cpu();
        asyncio::sleep(0.5).await;
        let used = cpu() - before;
        assert!(
            used < Duration::from_millis(50),
            "idle loop used {used:?} of CPU"
        );
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

#[test]
fn the_loops_own_tasks_are_not_in_all_tasks() {
    asyncio::run(async {
        let server = asyncio::start_server(echo, "127.0.0.1", 0).await?;
        let (_r, mut w) = asyncio::open_connection("127.0.0.1", port_of(&server)).await?;
        // A write too big for the kernel leaves a flusher running.
        w.write(vec![0u8; 8 << 20])?;
        asyncio::sleep(0.01).await;
        // Only the client handler the server started is a user task: the accept loop and
        // the flusher are the loop's machinery, as in asyncio (where they are callbacks).
        let names: Vec<String> = asyncio::all_tasks().iter().map(|t| t.get_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
        // So cancelling "every other task" leaves the server serving.
        for t in asyncio::all_tasks() {
            t.cancel();
        }
        asyncio::sleep(0.01).await;
        let (mut r2, mut w2) = asyncio::open_connection("127.0.0.1", port_of(&server)).await?;
        w2.write(b"still serving\n")?;
        assert_eq!(r2.readline().await?, b"still serving\n");
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

#[test]
fn dropping_the_last_server_handle_closes_it_but_not_its_clients() {
    asyncio::run(async {
        let server = asyncio::start_server(echo, "127.0.0.1", 0).await?;
        let port = port_of(&server);
        let (mut r, mut w) = asyncio::open_connection("127.0.0.1", port).await?;
        asyncio::sleep(0.01).await; // accepted
        let copy = server.clone();
        drop(server);
        // A clone still holds it: still serving.
        let (_r2, _w2) = asyncio::open_connection("127.0.0.1", port).await?;
        drop(copy);
        let refused = asyncio::open_connection("127.0.0.1", port).await;
        assert_eq!(
            refused.unwrap_err().kind(),
            io::ErrorKind::ConnectionRefused
        );
        // The connection accepted before is still served.
        w.write(b"still echoed\n")?;
        assert_eq!(r.readline().await?, b"still echoed\n");
        Ok::<(), io::Error>(())
    })
    .unwrap();
}
