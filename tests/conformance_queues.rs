//! Ports of CPython's `Lib/test/test_asyncio/test_queues.py` (3.13) shutdown tests to this
//! crate's API, run for `Queue`, `LifoQueue` and `PriorityQueue`, and the queue faults of
//! issue 9 (user code that panics inside the queue).
//!
//! Each test names the CPython test it ports. What cannot be expressed here, and why:
//! `test_format` and the reprs (Python strings; `Debug` shows the same fields), the
//! `test_*_cancelled_*` races that catch `CancelledError` (a Rust getter cannot catch its
//! cancellation), and `test_why_are_*_queues_not_generic` (Python typing).

use std::cell::Cell;
use std::cmp::Ordering;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use asyncio::{LifoQueue, PriorityQueue, Queue, QueueShutDown, Runner};

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    Runner::virtual_time().run(f)
}

/// Runs one shutdown scenario for each of the three queue kinds.
macro_rules! for_each_queue {
    ($name:ident, |$Q:ident| $body:block) => {
        #[test]
        fn $name() {
            {
                type $Q<T> = Queue<T>;
                $body
            }
            {
                type $Q<T> = LifoQueue<T>;
                $body
            }
            {
                type $Q<T> = PriorityQueue<T>;
                $body
            }
        }
    };
}

// `test_queues.py::_QueueShutdownTestMixin::test_shutdown_empty`.
for_each_queue!(test_shutdown_empty, |Q| {
    run(async {
        let q: Q<&str> = Q::new(0);
        let q2 = q.clone();
        let get_task = asyncio::create_task(async move { q2.get().await });
        asyncio::sleep(0).await;
        q.shutdown(false);
        assert_eq!(q.qsize(), 0);
        q.join().await;
        asyncio::sleep(0).await;
        assert!(get_task.done());
        assert_eq!(get_task.await.unwrap(), Err(QueueShutDown(())));
        assert_eq!(q.put("data").await, Err(QueueShutDown("data")));
        assert!(q.put_nowait("data").unwrap_err().is_shutdown());
        assert_eq!(q.get().await, Err(QueueShutDown(())));
        assert!(q.get_nowait().unwrap_err().is_shutdown());
    });
});

// `test_queues.py::_QueueShutdownTestMixin::test_shutdown_nonempty`.
for_each_queue!(test_shutdown_nonempty, |Q| {
    run(async {
        let q: Q<&str> = Q::new(1);
        q.put_nowait("data").unwrap();
        let (q1, q2) = (q.clone(), q.clone());
        let join_task = asyncio::create_task(async move { q1.join().await });
        let put_task = asyncio::create_task(async move { q2.put("data2").await });
        asyncio::sleep(0).await;
        assert!(!put_task.done());
        q.shutdown(false);
        assert_eq!(q.qsize(), 1);
        asyncio::sleep(0).await;
        assert!(put_task.done());
        assert_eq!(put_task.await.unwrap(), Err(QueueShutDown("data2")));
        assert_eq!(q.get().await, Ok("data"));
        asyncio::sleep(0).await;
        assert!(!join_task.done());
        assert_eq!(q.put("data").await, Err(QueueShutDown("data")));
        assert_eq!(q.get().await, Err(QueueShutDown(())));
        q.task_done().unwrap();
        asyncio::sleep(0).await;
        assert!(join_task.done());
        join_task.await.unwrap();
        assert!(q.task_done().is_err(), "all tasks already marked done");
    });
});

// `test_queues.py::_QueueShutdownTestMixin::test_shutdown_immediate`.
for_each_queue!(test_shutdown_immediate, |Q| {
    run(async {
        let q: Q<&str> = Q::new(0);
        q.put_nowait("data").unwrap();
        let q1 = q.clone();
        let join_task = asyncio::create_task(async move { q1.join().await });
        q.shutdown(true);
        assert_eq!(q.qsize(), 0);
        asyncio::sleep(0).await;
        assert!(join_task.done());
        join_task.await.unwrap();
        assert_eq!(q.put("data").await, Err(QueueShutDown("data")));
        assert_eq!(q.get().await, Err(QueueShutDown(())));
        assert!(q.task_done().is_err());
    });
});

// `test_queues.py::_QueueShutdownTestMixin::test_shutdown_immediate_with_unfinished`.
for_each_queue!(test_shutdown_immediate_with_unfinished, |Q| {
    run(async {
        let q: Q<&str> = Q::new(0);
        q.put_nowait("data").unwrap();
        q.put_nowait("data").unwrap();
        let q1 = q.clone();
        let join_task = asyncio::create_task(async move { q1.join().await });
        assert_eq!(q.get().await, Ok("data"));
        q.shutdown(true);
        assert_eq!(q.qsize(), 0);
        asyncio::sleep(0).await;
        assert!(!join_task.done());
        assert_eq!(q.get().await, Err(QueueShutDown(())));
        q.task_done().unwrap();
        assert!(q.task_done().is_err());
        asyncio::sleep(0).await;
        assert!(join_task.done());
        join_task.await.unwrap();
    });
});

// ----- faults ---------------------------------------------------------------------------------

/// An item that counts its drops and may panic when dropped.
struct Item {
    drops: Rc<Cell<u32>>,
    bomb: bool,
}

impl Drop for Item {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
        if self.bomb {
            panic!("item destructor failed");
        }
    }
}

/// Issue 9: `shutdown(immediate=True)` dropped the items before waking the waiters, so an item
/// whose destructor panics left every blocked `put` and `join` asleep forever. Now they are
/// woken first, every item is dropped exactly once, and the panic reaches the caller.
#[test]
fn shutdown_immediate_wakes_waiters_before_dropping_items() {
    run(async {
        let drops = Rc::new(Cell::new(0));
        let q: Queue<Item> = Queue::new(3);
        for bomb in [false, true, false] {
            q.put_nowait(Item {
                drops: drops.clone(),
                bomb,
            })
            .ok()
            .unwrap();
        }
        let (q1, q2) = (q.clone(), q.clone());
        let d = drops.clone();
        let putter = asyncio::create_task(async move {
            let item = Item {
                drops: d,
                bomb: false,
            };
            q1.put(item).await.is_err()
        });
        let joiner = asyncio::create_task(async move { q2.join().await });
        asyncio::sleep(0).await;
        let q3 = q.clone();
        let panicked = catch_unwind(AssertUnwindSafe(|| q3.shutdown(true))).unwrap_err();
        assert_eq!(
            panicked.downcast_ref::<&str>(),
            Some(&"item destructor failed")
        );
        assert_eq!(drops.get(), 3, "each queued item dropped exactly once");
        assert_eq!(q.qsize(), 0);
        assert!(putter.await.unwrap(), "the blocked put got QueueShutDown");
        joiner.await.unwrap();
        assert_eq!(drops.get(), 4, "and the refused item once");
    });
}

/// An item whose comparison panics (a user `Ord`), and counts its drops.
#[derive(Debug)]
struct Prio {
    key: u32,
    bomb: bool,
    drops: Rc<Cell<u32>>,
}

impl PartialEq for Prio {
    fn eq(&self, other: &Prio) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Prio {}
impl PartialOrd for Prio {
    fn partial_cmp(&self, other: &Prio) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Prio {
    fn cmp(&self, other: &Prio) -> Ordering {
        assert!(!self.bomb && !other.bomb, "Ord panicked");
        self.key.cmp(&other.key)
    }
}
impl Drop for Prio {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

/// Issue 9: `PriorityQueue::put_nowait` with an `Ord` that panics left `qsize`, the unfinished
/// count and the getters out of step. The item the heap kept is counted, a waiting getter is
/// told, `join` still finishes, and every item is dropped exactly once.
#[test]
fn priority_put_nowait_with_a_panicking_ord_keeps_the_queue_consistent() {
    run(async {
        let drops = Rc::new(Cell::new(0));
        let prio = |key, bomb| Prio {
            key,
            bomb,
            drops: drops.clone(),
        };
        let q: PriorityQueue<Prio> = PriorityQueue::new(0);
        let getters: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                asyncio::create_task(async move {
                    let item = q.get().await.unwrap();
                    q.task_done().unwrap();
                    item.key
                })
            })
            .collect();
        asyncio::sleep(0).await;
        q.put_nowait(prio(1, false)).unwrap();
        let q2 = q.clone();
        let bomb = prio(2, true);
        let err = catch_unwind(AssertUnwindSafe(move || q2.put_nowait(bomb))).unwrap_err();
        assert_eq!(err.downcast_ref::<&str>(), Some(&"Ord panicked"));
        assert_eq!(q.qsize(), 2, "the heap kept the item");
        // Both getters were told: each takes an item (a pop from a heap of one compares
        // nothing), and join() sees both marked done.
        let mut keys = asyncio::gather(getters).await.unwrap();
        keys.sort_unstable();
        assert_eq!(keys, [1, 2]);
        q.join().await;
        assert_eq!(q.qsize(), 0);
        assert!(q.task_done().is_err());
        assert_eq!(drops.get(), 2);
    });
}

/// The same through `put().await`, and a `get` whose `Ord` panics: the item the heap was moving
/// is lost (dropped), which frees its slot for a blocked putter and counts as done, so `join`
/// does not wait for it forever.
#[test]
fn priority_put_and_get_with_a_panicking_ord_keep_the_queue_consistent() {
    run(async {
        let drops = Rc::new(Cell::new(0));
        let prio = |key, bomb| Prio {
            key,
            bomb,
            drops: drops.clone(),
        };
        let q: PriorityQueue<Prio> = PriorityQueue::new(3);
        q.put_nowait(prio(1, false)).unwrap();
        let (q2, bomb) = (q.clone(), prio(9, true));
        let err = asyncio::create_task(async move {
            let _ = q2.put(bomb).await;
        })
        .await
        .unwrap_err();
        assert_eq!(err.panic_message(), Some("Ord panicked"));
        assert_eq!(q.qsize(), 2, "the heap kept the item, and counts it");
        q.put_nowait(prio(2, false)).unwrap(); // compares with 1 only
        assert!(q.full());
        let (q3, item) = (q.clone(), prio(0, false));
        let putter = asyncio::create_task(async move {
            let _ = q3.put(item).await;
        });
        asyncio::sleep(0).await;
        assert!(!putter.done(), "the queue is full");
        // Taking the top has to compare 2 with the bomb: it panics, and the item being moved
        // (the 1) is dropped.
        let q4 = q.clone();
        assert!(catch_unwind(AssertUnwindSafe(move || q4.get_nowait())).is_err());
        assert_eq!(q.qsize(), 2);
        assert_eq!(drops.get(), 1);
        // The freed slot went to the putter (whose own push then meets the bomb and panics:
        // it was woken, not left asleep).
        let err = putter.await.unwrap_err();
        assert_eq!(err.panic_message(), Some("Ord panicked"));
        assert_eq!(q.qsize(), 3);
        // Nothing is waited for that nobody holds: dropping the three left lets join() finish.
        q.shutdown(true);
        q.join().await;
        assert_eq!(drops.get(), 4, "every item dropped exactly once");
    });
}
