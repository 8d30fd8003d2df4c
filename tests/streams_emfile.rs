//! A server that runs out of file descriptors: it reports the error to the exception
//! handler, backs off, keeps serving the connections it has, and accepts again once
//! descriptors are free. In its own test binary because it lowers the process's fd limit.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::rc::Rc;
use std::time::Duration;

/// The fd limit that leaves exactly `free` descriptors to allocate (new descriptors take the
/// lowest free numbers, and the limit bounds the number, not the count).
fn limit_leaving(free: usize) -> u64 {
    let open: std::collections::BTreeSet<u64> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let mut left = free;
    let mut n = 0;
    loop {
        if !open.contains(&n) {
            if left == 0 {
                return n;
            }
            left -= 1;
        }
        n += 1;
    }
}

#[test]
fn accept_out_of_descriptors_is_reported_and_serving_goes_on() {
    let lp = asyncio::EventLoop::new();
    let reports = Rc::new(RefCell::new(Vec::new()));
    let r2 = reports.clone();
    lp.set_exception_handler(Some(move |ctx: &asyncio::ExceptionContext| {
        r2.borrow_mut().push(ctx.message.clone());
    }));
    let served = lp
        .run_until_complete(async {
            let server = asyncio::start_server(
                |mut r: asyncio::StreamReader, mut w: asyncio::StreamWriter| async move {
                    let line = r.readline().await?;
                    w.write(&line)?;
                    w.drain().await?;
                    // Hold the connection until the client goes away.
                    r.read(-1).await.map(drop)
                },
                "127.0.0.1",
                0,
            )
            .start_serving(false)
            .await
            .unwrap();
            let port = server.sockets()[0].inet().unwrap().port();
            // Six clients connect before the server accepts anything (the kernel queues them
            // in the backlog), each with a line to echo.
            let mut socks = Vec::new();
            for i in 0..6 {
                let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.write_all(format!("client {i}\n").as_bytes()).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                socks.push(s);
            }
            // Room for two (or three) accepted connections only.
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit/setrlimit with a live, correctly typed struct.
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) };
            let old = limit.rlim_cur;
            limit.rlim_cur = limit_leaving(2);
            // SAFETY: as above.
            assert_eq!(
                unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const limit) },
                0
            );

            server.start_serving().await.unwrap();
            // The server can accept only some of them at first; each client that got its
            // echo hangs up (on a thread: blocking reads), which frees a descriptor of the
            // server's for the next one.
            let clients = std::thread::spawn(move || {
                let mut echoed = 0;
                let mut buf = [0u8; 64];
                for mut s in socks {
                    if s.read(&mut buf).unwrap() > 0 {
                        echoed += 1;
                    }
                }
                echoed
            });
            let echoed = loop {
                if clients.is_finished() {
                    break clients.join().unwrap();
                }
                asyncio::sleep(0.01).await;
            };
            limit.rlim_cur = old;
            // SAFETY: as above.
            unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const limit) };
            server.close();
            echoed
        })
        .unwrap();
    assert_eq!(served, 6, "every client was served in the end");
    let reports = reports.borrow();
    assert!(
        reports
            .iter()
            .any(|m| m.contains("out of system resource") && m.contains("Too many open files")),
        "{reports:?}"
    );
}
