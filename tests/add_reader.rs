//! `loop.add_reader` / `add_writer`: level-triggered fd callbacks, on pipes and sockets.

use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;

use asyncio::EventLoop;

/// Runs `body` on a new loop, failing (not hanging) if it takes longer than 30 s.
fn run_io(body: impl std::future::Future<Output = ()> + 'static) {
    asyncio::run(async {
        asyncio::wait_for(body, 30.0)
            .await
            .expect("the test hung: some callback was never called");
    });
}

fn lp() -> EventLoop {
    asyncio::get_running_loop().unwrap()
}

/// Lets the loop run `n` iterations (each `sleep(0)` yields for exactly one).
async fn iterations(n: usize) {
    for _ in 0..n {
        asyncio::sleep(0).await;
    }
}

fn counter() -> (Rc<Cell<usize>>, impl Fn() -> usize) {
    let count = Rc::new(Cell::new(0));
    let c = count.clone();
    (count, move || c.get())
}

#[test]
fn a_reader_runs_once_per_iteration_while_data_is_unread_and_stops_after_remove_reader() {
    run_io(async {
        let (rx, mut tx) = io::pipe().unwrap();
        let rx = Rc::new(rx);
        let drain = Rc::new(Cell::new(false));
        let (count, calls) = counter();
        tx.write_all(b"unread").unwrap();
        lp().add_reader(&*rx, {
            let (rx, drain, count) = (rx.clone(), drain.clone(), count.clone());
            move || {
                count.set(count.get() + 1);
                if drain.get() {
                    let mut buf = [0u8; 1024];
                    let n = (&*rx).read(&mut buf).unwrap(); // readable: does not block
                    assert!(n > 0);
                }
            }
        })
        .unwrap();
        iterations(10).await;
        // Level-triggered: the data stays unread, so every iteration after the one that
        // registered it (2..=10) called the reader once. Edge-triggered would give 1.
        assert_eq!(calls(), 9);

        drain.set(true);
        iterations(10).await;
        assert_eq!(
            calls(),
            10,
            "one more call read the data; then nothing is readable"
        );

        tx.write_all(b"more").unwrap();
        iterations(3).await;
        assert_eq!(calls(), 11, "new data: called again (and drained)");

        assert!(lp().remove_reader(&*rx));
        tx.write_all(b"ignored").unwrap();
        iterations(5).await;
        assert_eq!(calls(), 11, "removed: never called again");
        assert!(!lp().remove_reader(&*rx), "nothing left to remove");
    });
}

#[test]
fn a_writer_runs_every_iteration_while_writable_until_remove_writer() {
    run_io(async {
        let (_rx, tx) = io::pipe().unwrap();
        let (count, calls) = counter();
        lp().add_writer(&tx, move || count.set(count.get() + 1))
            .unwrap();
        iterations(6).await;
        assert_eq!(calls(), 5, "an empty pipe is writable: once per iteration");
        assert!(lp().remove_writer(&tx));
        iterations(5).await;
        assert_eq!(calls(), 5);
    });
}

#[test]
fn a_reader_and_a_writer_on_one_socket_both_run() {
    run_io(async {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let (reads, read_calls) = counter();
        let (writes, write_calls) = counter();
        lp().add_reader(&a, move || reads.set(reads.get() + 1))
            .unwrap();
        lp().add_writer(&a, move || writes.set(writes.get() + 1))
            .unwrap();
        iterations(4).await;
        assert_eq!((read_calls(), write_calls()), (0, 3), "nothing to read yet");
        (&b).write_all(b"x").unwrap();
        iterations(4).await;
        // Written before this iteration's dispatch, whose re-arm then reported it: read in
        // the next three iterations, and written in every one.
        assert_eq!((read_calls(), write_calls()), (3, 7));
        assert!(lp().remove_reader(&a) && lp().remove_writer(&a));
    });
}

#[test]
fn replacing_a_reader_drops_the_old_callback() {
    run_io(async {
        let (rx, mut tx) = io::pipe().unwrap();
        let old_token = Rc::new(());
        let hits = Rc::new(RefCell::new(Vec::new()));
        lp().add_reader(&rx, {
            let (t, h) = (old_token.clone(), hits.clone());
            move || {
                let _ = &t;
                h.borrow_mut().push("old");
            }
        })
        .unwrap();
        lp().add_reader(&rx, {
            let h = hits.clone();
            move || h.borrow_mut().push("new")
        })
        .unwrap();
        assert_eq!(Rc::strong_count(&old_token), 1, "the old callback is gone");
        tx.write_all(b"x").unwrap();
        iterations(3).await;
        assert!(!hits.borrow().is_empty());
        assert!(
            hits.borrow().iter().all(|h| *h == "new"),
            "{:?}",
            hits.borrow()
        );
        assert!(lp().remove_reader(&rx));
    });
}

#[test]
fn a_panicking_reader_is_reported_and_the_loop_keeps_running() {
    let seen = Rc::new(RefCell::new(Vec::<String>::new()));
    let lp = EventLoop::new();
    let s = seen.clone();
    lp.set_exception_handler(Some(move |ctx: &asyncio::ExceptionContext| {
        s.borrow_mut().push(ctx.message.clone())
    }));
    let inner = lp.clone();
    lp.run_until_complete(async move {
        let (rx, mut tx) = io::pipe().unwrap();
        let (count, calls) = counter();
        inner
            .add_reader(&rx, move || {
                count.set(count.get() + 1);
                if count.get() == 1 {
                    panic!("reader blew up");
                }
            })
            .unwrap();
        tx.write_all(b"x").unwrap();
        iterations(5).await;
        assert!(
            calls() >= 3,
            "still registered after the panic: {}",
            calls()
        );
        assert!(inner.remove_reader(&rx));
    })
    .unwrap();
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].contains("add_reader"), "{}", seen[0]);
    assert!(seen[0].contains("reader blew up"), "{}", seen[0]);
}

#[test]
fn a_reader_can_remove_itself() {
    run_io(async {
        let (rx, mut tx) = io::pipe().unwrap();
        let rx = Rc::new(rx);
        let fd = rx.as_raw_fd();
        let got = lp().create_future::<Vec<u8>>();
        lp().add_reader(fd, {
            let (rx, got) = (rx.clone(), got.clone());
            move || {
                let mut buf = [0u8; 16];
                let n = (&*rx).read(&mut buf).unwrap();
                assert!(lp().remove_reader(fd));
                got.set_result(buf[..n].to_vec()).unwrap();
            }
        })
        .unwrap();
        tx.write_all(b"once").unwrap();
        assert_eq!(got.await.unwrap(), b"once");
    });
}

#[test]
fn a_regular_file_or_a_closed_fd_is_a_clear_error() {
    run_io(async {
        let path = std::env::temp_dir().join(format!("asyncio-add-reader-{}", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        let err = lp().add_reader(&file, || {}).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert!(err.to_string().contains("regular file"), "{err}");
        std::fs::remove_file(&path).unwrap();

        let err = lp().add_writer(1_000_000, || {}).unwrap_err();
        assert!(
            err.to_string().contains("not an open file descriptor"),
            "{err}"
        );
    });
}

#[test]
fn one_fd_has_one_reader_a_callback_or_a_sock_recv() {
    run_io(async {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let a = Rc::new(a);
        let waiting = asyncio::create_task({
            let a = a.clone();
            async move { lp().sock_recv(&*a, 10).await }
        });
        iterations(2).await; // the receive is waiting
        let err = lp().add_reader(&*a, || {}).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ResourceBusy);
        assert!(err.to_string().contains("sock_"), "{err}");
        (&b).write_all(b"ok").unwrap();
        assert_eq!(waiting.await.unwrap().unwrap(), b"ok");

        lp().add_reader(&*a, || {}).unwrap();
        let err = lp().sock_recv(&*a, 10).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ResourceBusy);
        assert!(err.to_string().contains("add_reader"), "{err}");
        assert!(lp().remove_reader(&*a));
        (&b).write_all(b"again").unwrap();
        assert_eq!(lp().sock_recv(&*a, 10).await.unwrap(), b"again");
    });
}

#[test]
fn closing_a_watched_fd_without_remove_reader_is_reported_not_fatal() {
    let seen = Rc::new(RefCell::new(Vec::<String>::new()));
    let lp = EventLoop::new();
    let s = seen.clone();
    lp.set_exception_handler(Some(move |ctx: &asyncio::ExceptionContext| {
        s.borrow_mut().push(ctx.message.clone())
    }));
    let inner = lp.clone();
    lp.run_until_complete(async move {
        let (rx, mut tx) = io::pipe().unwrap();
        let slot = Rc::new(RefCell::new(Some(rx)));
        let fd = slot.borrow().as_ref().unwrap().as_raw_fd();
        let (count, calls) = counter();
        inner
            .add_reader(fd, {
                let slot = slot.clone();
                move || {
                    count.set(count.get() + 1);
                    drop(slot.borrow_mut().take()); // closes the fd, no remove_reader
                }
            })
            .unwrap();
        tx.write_all(b"x").unwrap();
        iterations(5).await;
        assert_eq!(calls(), 1, "the callback went with its fd");
        assert!(!inner.remove_reader(fd));
    })
    .unwrap();
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].contains("was closed"), "{}", seen[0]);
}

#[test]
fn a_reader_added_before_the_loop_runs_fires_once_it_runs() {
    let lp = EventLoop::new();
    let (rx, mut tx) = io::pipe().unwrap();
    let hit = lp.create_future::<()>();
    let h = hit.clone();
    lp.add_reader(&rx, move || {
        let _ = h.set_result(());
    })
    .unwrap();
    tx.write_all(b"x").unwrap();
    lp.run_until_complete(asyncio::wait_for(hit, 10.0))
        .unwrap()
        .expect("the reader never ran")
        .unwrap();
    assert!(lp.remove_reader(&rx));
}

#[test]
fn closing_the_loop_drops_its_callbacks() {
    let lp = EventLoop::new();
    let (rx, _tx) = io::pipe().unwrap();
    let token = Rc::new(());
    let (t, inner) = (token.clone(), lp.clone());
    // The callback holds the loop: without close dropping it, loop and callback would keep
    // each other alive forever.
    lp.add_reader(&rx, move || {
        let _ = (&t, &inner);
    })
    .unwrap();
    assert_eq!(Rc::strong_count(&token), 2);
    lp.close().unwrap();
    assert_eq!(Rc::strong_count(&token), 1, "close() dropped the callback");
    assert!(
        lp.add_reader(&rx, || {}).is_err(),
        "a closed loop refuses readers"
    );
}
