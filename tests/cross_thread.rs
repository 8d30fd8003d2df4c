//! Wakes from many threads at once: none is lost, and a flood of them costs no memory.

use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

const THREADS: u64 = 8;
const WAKES: u64 = 100_000;

#[test]
fn eight_threads_waking_one_task_lose_no_wake() {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let polls = asyncio::run(async {
            let count = Arc::new(AtomicU64::new(0));
            let mut threads = Vec::new();
            let mut polls = 0u64;
            poll_fn(|cx| {
                polls += 1;
                if threads.is_empty() {
                    for _ in 0..THREADS {
                        let waker = cx.waker().clone();
                        let count = count.clone();
                        threads.push(std::thread::spawn(move || {
                            for _ in 0..WAKES {
                                count.fetch_add(1, Ordering::SeqCst);
                                waker.wake_by_ref();
                            }
                        }));
                    }
                }
                // Done only once every increment is seen: a wake lost after the last one
                // would leave this pending forever.
                if count.load(Ordering::SeqCst) == THREADS * WAKES {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
            .await;
            for t in threads {
                t.join().unwrap();
            }
            polls
        });
        done_tx.send(polls).unwrap();
    });
    let polls = done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("a wake was lost: the task never saw the last increment");
    // Wakes of a task already queued coalesce: far fewer polls than wakes.
    assert!(polls < THREADS * WAKES, "{polls} polls");
}

#[test]
fn wakes_from_threads_reach_many_tasks_on_a_loop_blocked_in_epoll() {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let total = asyncio::run(async {
            // A socket gives the loop a reactor: it then blocks in epoll_wait, woken by eventfd.
            let _server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0)
                .await
                .unwrap();
            let tasks: Vec<_> = (0..64)
                .map(|_| {
                    asyncio::create_task(async {
                        let (tx, rx) = futures::channel::oneshot::channel();
                        std::thread::spawn(move || {
                            std::thread::sleep(Duration::from_millis(5));
                            tx.send(1u32).unwrap();
                        });
                        rx.await.unwrap()
                    })
                })
                .collect();
            asyncio::gather(tasks)
                .await
                .unwrap()
                .into_iter()
                .sum::<u32>()
        });
        done_tx.send(total).unwrap();
    });
    assert_eq!(done_rx.recv_timeout(Duration::from_secs(30)), Ok(64));
}
