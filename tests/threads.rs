//! Threads: `to_thread`, `run_in_executor`, the default executor (its bound, keep-alive and
//! shutdown), `ConcurrentFuture` and its faults (a loop that goes away), `wrap_future`, and
//! `getaddrinfo`/`getnameinfo` without a network.

use std::cell::Cell;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use asyncio::{ConcurrentFuture, EventLoop, RuntimeError, ThreadPoolExecutor};

/// Waits (really) until `cond` holds, for at most 10 s; false if it never did.
fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        thread::sleep(Duration::from_millis(1));
    }
    cond()
}

/// Counts drops, to prove a value was dropped (and when).
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

// ----- to_thread and run_in_executor -----------------------------------------------------------

#[test]
fn to_thread_returns_the_value_computed_on_another_thread() {
    let loop_thread = thread::current().id();
    let (value, ran_on) = asyncio::run(async {
        asyncio::to_thread(|| (6 * 7, thread::current().id()))
            .await
            .unwrap()
    });
    assert_eq!(value, 42);
    assert_ne!(ran_on, loop_thread);
}

#[test]
fn a_panic_in_to_thread_is_an_error_and_the_worker_survives() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let pool = ThreadPoolExecutor::builder().max_workers(1).build();
        lp.set_default_executor(pool.clone());
        let first = asyncio::to_thread(|| thread::current().id()).await.unwrap();
        let err = asyncio::to_thread(|| -> u8 { panic!("bad job {}", 7) })
            .await
            .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.panic_message(), Some("bad job 7"));
        let after = asyncio::to_thread(|| thread::current().id()).await.unwrap();
        assert_eq!(
            after, first,
            "the same worker thread ran the job after the panic"
        );
        assert_eq!(pool.thread_count(), 1);
    });
}

#[test]
fn the_loop_keeps_ticking_while_a_to_thread_job_blocks() {
    let ticks = Arc::new(AtomicUsize::new(0));
    let t = ticks.clone();
    let job_saw_ticks = asyncio::run(async move {
        let ticker = {
            let ticks = t.clone();
            asyncio::create_task(async move {
                loop {
                    asyncio::sleep(0.01).await;
                    ticks.fetch_add(1, Ordering::SeqCst);
                }
            })
        };
        // The job blocks for 200 ms, and then until the loop has ticked five times: if the
        // loop were blocked by the job, it would never see them.
        let seen = asyncio::to_thread(move || {
            thread::sleep(Duration::from_millis(200));
            eventually(|| t.load(Ordering::SeqCst) >= 5)
        })
        .await
        .unwrap();
        ticker.cancel();
        seen
    });
    assert!(job_saw_ticks, "timers must fire while the job blocks");
    assert!(ticks.load(Ordering::SeqCst) >= 5);
}

#[test]
fn to_thread_does_nothing_until_awaited() {
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    asyncio::run(async move {
        let pending = asyncio::to_thread(move || r.store(true, Ordering::SeqCst));
        asyncio::to_thread(|| thread::sleep(Duration::from_millis(20)))
            .await
            .unwrap();
        assert!(
            !ran.load(Ordering::SeqCst),
            "not submitted before its first poll"
        );
        pending.await.unwrap();
        assert!(ran.load(Ordering::SeqCst));
    });
}

#[test]
fn run_in_executor_results_come_back_while_other_tasks_run() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let jobs: Vec<_> = (0..10u64)
            .map(|i| {
                lp.run_in_executor(move || {
                    thread::sleep(Duration::from_millis(10 - i));
                    i * i
                })
                .unwrap()
            })
            .collect();
        let mut results = Vec::new();
        for job in jobs {
            results.push(job.await.unwrap());
        }
        assert_eq!(results, (0..10).map(|i| i * i).collect::<Vec<_>>());
    });
}

#[test]
fn a_hundred_concurrent_jobs_never_exceed_the_pool_bound() {
    let bound = 4;
    let active = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let threads = Arc::new(Mutex::new(HashSet::new()));
    let pool = ThreadPoolExecutor::builder().max_workers(bound).build();
    let (a, p, t, pl) = (active.clone(), peak.clone(), threads.clone(), pool.clone());
    asyncio::run(async move {
        let lp = asyncio::get_running_loop().unwrap();
        lp.set_default_executor(pl.clone());
        let jobs: Vec<_> = (0..100)
            .map(|_| {
                let (a, p, t) = (a.clone(), p.clone(), t.clone());
                asyncio::create_task(asyncio::to_thread(move || {
                    let now = a.fetch_add(1, Ordering::SeqCst) + 1;
                    p.fetch_max(now, Ordering::SeqCst);
                    t.lock().unwrap().insert(thread::current().id());
                    thread::sleep(Duration::from_millis(5));
                    a.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for outcome in asyncio::gather(jobs).await.unwrap() {
            outcome.unwrap();
        }
        assert!(pl.thread_count() <= bound);
    });
    let peak = peak.load(Ordering::SeqCst);
    assert!(
        peak <= bound,
        "{peak} jobs ran at once; the bound is {bound}"
    );
    assert!(peak >= 2, "the jobs ran concurrently (peak {peak})");
    assert!(threads.lock().unwrap().len() <= bound);
    assert_eq!(pool.thread_count(), 0, "run() shut the pool down");
}

#[test]
fn the_default_bound_is_cpythons() {
    let cpus = thread::available_parallelism().unwrap().get();
    assert_eq!(ThreadPoolExecutor::new().max_workers(), (cpus + 4).min(32));
}

#[test]
fn idle_threads_exit_after_the_keep_alive_and_busy_ones_are_reused() {
    // Three threads at most, so a job submitted while they are busy or idle must reuse one
    // of them; a thread that had exited would be replaced by a new one (a new id).
    let pool = ThreadPoolExecutor::builder()
        .max_workers(3)
        .keep_alive(0.5)
        .build();
    let barrier = Arc::new(Barrier::new(3));
    let jobs: Vec<_> = (0..3)
        .map(|_| {
            let b = barrier.clone();
            pool.submit(move || {
                b.wait(); // all three at once: three threads
                thread::current().id()
            })
            .unwrap()
        })
        .collect();
    let ids: HashSet<_> = jobs.into_iter().map(|j| j.result().unwrap()).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(pool.thread_count(), 3);
    let again = pool
        .submit(|| thread::current().id())
        .unwrap()
        .result()
        .unwrap();
    assert!(
        ids.contains(&again),
        "a thread idle for less than the keep-alive was reused"
    );
    assert!(eventually(|| pool.thread_count() == 0), "idle threads exit");
    // The pool still works afterwards: it starts a thread again.
    assert_eq!(pool.submit(|| 5).unwrap().result().unwrap(), 5);
}

thread_local! {
    static ON_EXIT: Cell<Option<DropCount>> = const { Cell::new(None) };
}

/// A job that proves its thread was joined: the thread-local it sets is dropped when the
/// thread exits, before `join` returns.
fn job_that_marks_its_thread(exits: Arc<AtomicUsize>, started: Arc<AtomicBool>) -> impl FnOnce() {
    move || {
        started.store(true, Ordering::SeqCst);
        ON_EXIT.with(|slot| slot.set(Some(DropCount(exits))));
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn shutdown_default_executor_waits_for_jobs_and_joins_the_threads() {
    let exits = Arc::new(AtomicUsize::new(0));
    let e = exits.clone();
    asyncio::run(async move {
        let lp = asyncio::get_running_loop().unwrap();
        let started = Arc::new(AtomicBool::new(false));
        let job = lp
            .run_in_executor(job_that_marks_its_thread(e.clone(), started.clone()))
            .unwrap();
        while !started.load(Ordering::SeqCst) {
            asyncio::sleep(0.001).await;
        }
        lp.shutdown_default_executor().await;
        assert_eq!(e.load(Ordering::SeqCst), 1, "the worker thread has exited");
        assert!(job.done());
        job.await.unwrap();

        let late = lp.run_in_executor(|| ()).unwrap_err();
        assert_eq!(late, RuntimeError::ExecutorShutdown);
        let err = asyncio::to_thread(|| ()).await.unwrap_err();
        assert!(err.to_string().contains("Executor shutdown"), "{err}");
        lp.shutdown_default_executor().await; // twice is fine
    });
    assert_eq!(exits.load(Ordering::SeqCst), 1);
}

#[test]
fn run_shuts_the_default_executor_down_on_exit() {
    let exits = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let (e, f) = (exits.clone(), finished.clone());
    asyncio::run(async move {
        let started = Arc::new(AtomicBool::new(false));
        let mark = job_that_marks_its_thread(e, started.clone());
        // Not awaited: main returns while the job still runs.
        asyncio::create_task(asyncio::to_thread(move || {
            mark();
            f.store(true, Ordering::SeqCst);
        }));
        while !started.load(Ordering::SeqCst) {
            asyncio::sleep(0.001).await;
        }
    });
    assert!(
        finished.load(Ordering::SeqCst),
        "run() waited for the running job"
    );
    assert_eq!(exits.load(Ordering::SeqCst), 1, "and joined its thread");
}

#[test]
fn each_loop_has_its_own_default_executor() {
    let a = EventLoop::new();
    let b = EventLoop::new();
    a.run_until_complete(a.shutdown_default_executor()).unwrap();
    assert_eq!(
        a.run_in_executor(|| ()).unwrap_err(),
        RuntimeError::ExecutorShutdown
    );
    let on_b = b.run_in_executor(|| "b still works").unwrap();
    assert_eq!(
        b.run_until_complete(on_b).unwrap().unwrap(),
        "b still works"
    );
}

#[test]
fn a_closed_loop_refuses_run_in_executor() {
    let lp = EventLoop::new();
    lp.close().unwrap();
    assert_eq!(lp.run_in_executor(|| ()).unwrap_err(), RuntimeError::Closed);
}

#[test]
fn dropping_a_wrapped_future_cancels_a_queued_job() {
    let pool = ThreadPoolExecutor::builder().max_workers(1).build();
    let (release, gate) = mpsc::channel::<()>();
    let blocker = pool.submit(move || gate.recv().unwrap()).unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let queued = pool
        .submit(move || r.store(true, Ordering::SeqCst))
        .unwrap();
    let wrapped = asyncio::wrap_future(queued);
    drop(wrapped); // asyncio: cancelling the wrapper cancels the concurrent future
    release.send(()).unwrap();
    blocker.result().unwrap();
    pool.shutdown(true);
    assert!(!ran.load(Ordering::SeqCst), "the cancelled job never ran");
}

#[test]
fn wait_for_on_to_thread_times_out_without_blocking_the_loop() {
    asyncio::run(async {
        let (release, gate) = mpsc::channel::<()>();
        let started = Instant::now();
        let slow = asyncio::to_thread(move || gate.recv_timeout(Duration::from_secs(10)).is_ok());
        let timed_out = asyncio::wait_for(slow, 0.05).await;
        assert!(timed_out.is_err());
        assert!(started.elapsed() < Duration::from_secs(5), "3 s, not 10 s");
        release.send(()).ok(); // let the thread go; shutdown waits for it
    });
}

// ----- ConcurrentFuture ------------------------------------------------------------------------

/// Runs `result()` on another thread so a hang fails the test instead of freezing it.
fn result_within<T: Send + 'static>(
    cf: ConcurrentFuture<T>,
    limit: Duration,
) -> Option<Result<T, asyncio::TaskError>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(cf.result());
    });
    rx.recv_timeout(limit).ok()
}

#[test]
fn result_returns_an_error_when_the_loop_is_dropped_before_running_it() {
    let lp = EventLoop::new();
    let handle = lp.threadsafe_handle();
    let cf = handle.run_coroutine_threadsafe(|| async { 1 });
    assert!(!cf.done());
    drop(lp);
    let outcome = result_within(cf, Duration::from_secs(10)).expect("result() must not hang");
    assert!(outcome.unwrap_err().is_cancelled());
    // Posting after the loop is gone: settled at once.
    let late = handle.run_coroutine_threadsafe(|| async { 2 });
    assert!(late.done() && late.cancelled());
}

#[test]
fn a_thread_blocked_in_result_is_released_when_the_loop_is_dropped() {
    let lp = EventLoop::new();
    let cf = lp
        .threadsafe_handle()
        .run_coroutine_threadsafe(|| async { 1 });
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        tx.send(()).unwrap();
        cf.result()
    });
    rx.recv().unwrap();
    thread::sleep(Duration::from_millis(20)); // let it block in result()
    drop(lp);
    assert!(eventually(|| waiter.is_finished()), "result() returned");
    assert!(waiter.join().unwrap().unwrap_err().is_cancelled());
}

#[test]
fn a_coroutine_pending_when_the_loop_closes_settles_as_cancelled() {
    let lp = EventLoop::builder().virtual_time().build();
    let handle = lp.threadsafe_handle();
    let dropped = Arc::new(AtomicUsize::new(0));
    let d = dropped.clone();
    let cf = handle.run_coroutine_threadsafe(move || async move {
        let _guard = DropCount(d);
        asyncio::sleep(3600).await;
    });
    lp.run_until_complete(asyncio::sleep(1)).unwrap(); // the coroutine starts and waits
    assert!(!cf.done());
    lp.close().unwrap();
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "closing dropped the coroutine"
    );
    assert!(cf.cancelled());
    assert!(cf.result().unwrap_err().is_cancelled());
}

#[test]
fn posts_to_a_dead_loop_are_dropped_at_once() {
    for close_only in [true, false] {
        let lp = EventLoop::new();
        let handle = lp.threadsafe_handle();
        let dropped = Arc::new(AtomicUsize::new(0));
        let d = dropped.clone();
        handle.call_soon_threadsafe(move || drop(d)); // waiting when the loop dies
        if close_only {
            lp.close().unwrap();
        } else {
            drop(lp);
        }
        let before = Arc::strong_count(&dropped);
        assert_eq!(before, 1, "the queued callback was dropped with the loop");
        let poster = thread::spawn(move || {
            for _ in 0..10_000 {
                let guard = DropCount(dropped.clone());
                handle.call_soon_threadsafe(move || drop(guard));
            }
            dropped
        });
        let dropped = poster.join().unwrap();
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            10_000,
            "every post was dropped, none kept (close_only: {close_only})"
        );
    }
}

#[test]
fn a_handle_made_after_close_drops_its_posts_too() {
    let lp = EventLoop::new();
    lp.close().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let guard = DropCount(count.clone());
    lp.threadsafe_handle()
        .call_soon_threadsafe(move || drop(guard));
    assert_eq!(count.load(Ordering::SeqCst), 1, "dropped at once");
}

#[test]
fn cancel_cancels_the_loop_side_task() {
    let lp = EventLoop::new();
    let handle = lp.threadsafe_handle();
    let dropped = Arc::new(AtomicUsize::new(0));
    let d = dropped.clone();
    let worker = thread::spawn(move || {
        let (started_tx, started) = mpsc::channel();
        let cf = handle.run_coroutine_threadsafe(move || async move {
            let _guard = DropCount(d);
            started_tx.send(()).unwrap();
            asyncio::sleep(3600).await;
            "never"
        });
        started.recv().unwrap();
        assert!(!cf.running(), "a coroutine is never 'running' (as asyncio)");
        assert!(cf.cancel());
        assert!(cf.cancel(), "cancelling again is still true");
        assert!(cf.cancelled() && cf.done());
        let outcome = cf.result();
        thread::sleep(Duration::from_millis(20)); // let the loop drop the task
        handle.stop();
        outcome
    });
    lp.run_forever().unwrap();
    assert!(worker.join().unwrap().unwrap_err().is_cancelled());
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "the coroutine was dropped"
    );
    let left = lp.run_until_complete(async { asyncio::all_tasks().len() });
    assert_eq!(left.unwrap(), 0, "no task left on the loop");
}

#[test]
fn cancel_after_done_is_false_and_keeps_the_result() {
    let pool = ThreadPoolExecutor::new();
    let cf = pool.submit(|| "kept").unwrap();
    assert!(eventually(|| cf.done()));
    assert!(!cf.cancel());
    assert!(!cf.cancelled());
    assert_eq!(cf.result().unwrap(), "kept");
}

#[test]
fn cancel_while_running_in_a_thread_is_refused() {
    let pool = ThreadPoolExecutor::new();
    let (release, gate) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel();
    let cf = pool
        .submit(move || {
            started_tx.send(()).unwrap();
            gate.recv().unwrap();
            3
        })
        .unwrap();
    started.recv().unwrap();
    assert!(cf.running());
    assert!(!cf.cancel(), "a running job cannot be cancelled");
    release.send(()).unwrap();
    assert_eq!(cf.result().unwrap(), 3);
}

#[test]
fn result_timeout_is_none_until_the_loop_has_run_the_coroutine() {
    let lp = EventLoop::new();
    let cf = lp.threadsafe_handle().run_coroutine_threadsafe(|| async {
        asyncio::sleep(0.01).await;
        "done"
    });
    assert!(
        cf.result_timeout(0.02).is_none(),
        "the loop has not run yet"
    );
    assert!(!cf.done());
    lp.run_until_complete(asyncio::sleep(0.05)).unwrap();
    assert!(cf.done());
    assert_eq!(cf.result_timeout(10).unwrap().unwrap(), "done");
}

#[test]
fn result_timeout_gives_the_value_once_it_arrives() {
    let pool = ThreadPoolExecutor::new();
    let (release, gate) = mpsc::channel::<()>();
    let cf = pool.submit(move || gate.recv().map(|()| 9)).unwrap();
    assert!(cf.result_timeout(Duration::from_millis(20)).is_none());
    release.send(()).unwrap();
    assert_eq!(cf.result_timeout(10).unwrap().unwrap(), Ok(9));
}

#[test]
#[should_panic(expected = "already taken")]
fn taking_a_result_twice_is_a_clear_panic() {
    let pool = ThreadPoolExecutor::new();
    let cf = pool.submit(|| 1).unwrap();
    assert_eq!(cf.result_timeout(10).unwrap().unwrap(), 1);
    let _ = cf.result();
}

#[test]
fn a_concurrent_future_is_awaitable_on_another_loop() {
    let producer = EventLoop::new();
    let handle = producer.threadsafe_handle();
    let consumer = thread::spawn(move || {
        asyncio::run(async move {
            let cf = handle.run_coroutine_threadsafe(|| async {
                asyncio::sleep(0.01).await;
                "made on the other loop"
            });
            let got = cf.await;
            handle.stop();
            got
        })
    });
    producer.run_forever().unwrap();
    assert_eq!(consumer.join().unwrap().unwrap(), "made on the other loop");
}

#[test]
fn wrap_future_awaits_a_pool_job_on_the_loop() {
    let pool = ThreadPoolExecutor::builder()
        .thread_name_prefix("custom")
        .build();
    let name = asyncio::run(async move {
        let cf = pool
            .submit(|| thread::current().name().map(str::to_owned))
            .unwrap();
        asyncio::wrap_future(cf).await.unwrap()
    });
    assert_eq!(name.as_deref(), Some("custom_0"));
}

#[test]
fn public_thread_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<ConcurrentFuture<Vec<u8>>>();
    send_sync::<ThreadPoolExecutor>();
    send_sync::<asyncio::ThreadsafeHandle>();
    send_sync::<asyncio::WrappedFuture<u8>>();
    send::<asyncio::ToThread<u8>>();
}

#[test]
fn a_panicking_callback_drop_on_a_dead_loop_is_contained() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("bomb in a dropped callback");
        }
    }
    let lp = EventLoop::new();
    let handle = lp.threadsafe_handle();
    let bomb = Bomb;
    handle.call_soon_threadsafe(move || drop(bomb));
    lp.close().unwrap(); // must not panic: the panic is reported
    let late = Bomb;
    handle.call_soon_threadsafe(move || drop(late)); // nor must this
}

// ----- getaddrinfo / getnameinfo -------------------------------------------------------------

#[test]
fn getaddrinfo_answers_numeric_hosts_without_a_thread() {
    let pool = ThreadPoolExecutor::new();
    let p = pool.clone();
    asyncio::run(async move {
        let lp = asyncio::get_running_loop().unwrap();
        lp.set_default_executor(p.clone());
        let v4 = lp.getaddrinfo("127.0.0.1", 80).await.unwrap();
        assert_eq!(v4, ["127.0.0.1:80".parse().unwrap()]);
        let v6 = lp.getaddrinfo("::1", 443).await.unwrap();
        assert_eq!(v6, ["[::1]:443".parse().unwrap()]);
        let bracketed = lp.getaddrinfo("[::1]", 443).await.unwrap();
        assert_eq!(bracketed, v6);
        assert_eq!(p.thread_count(), 0, "no thread for numeric addresses");
        let named = lp.getaddrinfo("localhost", 8080).await.unwrap();
        assert!(!named.is_empty());
        assert!(
            named
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 8080)
        );
        assert_eq!(p.thread_count(), 1, "a name goes to the executor");
    });
}

#[test]
fn getaddrinfo_of_an_unknown_name_is_an_error_naming_the_host() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let err = lp
            .getaddrinfo("no-such-host.invalid", 80)
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("no-such-host.invalid"), "{text}");
        let err = lp.getaddrinfo("bad\0name", 80).await.unwrap_err();
        assert!(err.to_string().contains("bad\\0name"), "{err}");
    });
}

#[test]
fn getaddrinfo_on_a_closed_loop_is_an_error() {
    let lp = EventLoop::new();
    let lookup = lp.getaddrinfo("localhost", 80);
    lp.close().unwrap();
    let other = EventLoop::new();
    let err = other.run_until_complete(lookup).unwrap().unwrap_err();
    assert!(err.to_string().contains("closed"), "{err}");
}

#[test]
fn getnameinfo_turns_addresses_into_names_and_numbers() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let numeric = libc::NI_NUMERICHOST | libc::NI_NUMERICSERV;
        let v4 = lp
            .getnameinfo("127.0.0.1:8080".parse().unwrap(), numeric)
            .await
            .unwrap();
        assert_eq!(v4, ("127.0.0.1".to_owned(), "8080".to_owned()));
        let v6 = lp
            .getnameinfo("[::1]:443".parse().unwrap(), numeric)
            .await
            .unwrap();
        assert_eq!(v6, ("::1".to_owned(), "443".to_owned()));
        // Names come from /etc/hosts and /etc/services where they exist; something comes back.
        let (host, port) = lp
            .getnameinfo("127.0.0.1:80".parse().unwrap(), 0)
            .await
            .unwrap();
        assert!(!host.is_empty() && !port.is_empty());
    });
}

#[test]
fn getnameinfo_with_bad_flags_is_an_invalid_input_error() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        let err = lp
            .getnameinfo("127.0.0.1:80".parse().unwrap(), 0x7fff_0000)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("127.0.0.1:80"), "{err}");
    });
}
