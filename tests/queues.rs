//! Behaviour of asyncio.queues: Queue, LifoQueue, PriorityQueue and their errors.
//!
//! Scenarios run on `futures::executor::LocalPool` (tasks spawned with `spawn_local`), or poll
//! futures by hand with counting wakers to assert exactly who was woken and how often.
//! Cancellation is simulated by dropping a future that is waiting.

use std::cell::Cell;
use std::rc::Rc;
use std::task::Poll;

use asyncio::{
    GetNowaitError, LifoQueue, PriorityQueue, PutNowaitError, Queue, QueueEmpty, QueueFull,
    QueueShutDown,
};
use futures::task::LocalSpawnExt;

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// An item that counts its drops.
struct Tracked {
    id: u32,
    drops: Rc<Cell<usize>>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

fn tracked(id: u32, drops: &Rc<Cell<usize>>) -> Tracked {
    Tracked {
        id,
        drops: drops.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Orderings
// ---------------------------------------------------------------------------------------------

#[test]
fn queue_returns_items_first_in_first_out() {
    let q = Queue::new(0);
    for i in [3, 1, 2] {
        q.put_nowait(i).unwrap();
    }
    let got: Vec<_> = (0..3).map(|_| q.get_nowait().unwrap()).collect();
    assert_eq!(got, [3, 1, 2]);
}

#[test]
fn lifo_queue_returns_items_last_in_first_out() {
    let q = LifoQueue::new(0);
    for i in [3, 1, 2] {
        q.put_nowait(i).unwrap();
    }
    let got: Vec<_> = (0..3).map(|_| q.get_nowait().unwrap()).collect();
    assert_eq!(got, [2, 1, 3]);
}

#[test]
fn priority_queue_returns_smallest_item_first() {
    let q = PriorityQueue::new(0);
    for item in [(5, "e"), (1, "a"), (3, "c"), (2, "b"), (4, "d")] {
        q.put_nowait(item).unwrap();
    }
    let got: Vec<_> = (0..5).map(|_| q.get_nowait().unwrap().1).collect();
    assert_eq!(got, ["a", "b", "c", "d", "e"]);
}

#[test]
fn priority_queue_orders_items_put_while_a_getter_waits() {
    let (mut pool, spawner) = pool();
    let q = PriorityQueue::new(0);
    let got = log();
    {
        let (q, got) = (q.clone(), got.clone());
        spawner
            .spawn_local(async move {
                for _ in 0..3 {
                    let item = q.get().await.unwrap();
                    got.borrow_mut().push(item);
                }
            })
            .unwrap();
    }
    pool.run_until_stalled();
    for i in [9, 7, 8] {
        q.put_nowait(i).unwrap();
    }
    pool.run_until_stalled();
    assert_eq!(*got.borrow(), [7, 8, 9]);
}

#[test]
fn lifo_and_priority_queues_share_the_full_api() {
    let lifo = LifoQueue::new(1);
    lifo.put_nowait(1).unwrap();
    assert!(lifo.full());
    assert!(lifo.put_nowait(2).unwrap_err().is_full());
    lifo.shutdown(true);
    assert_eq!(lifo.qsize(), 0);
    assert!(lifo.get_nowait().unwrap_err().is_shutdown());

    let prio = PriorityQueue::new(1);
    prio.put_nowait(1).unwrap();
    prio.get_nowait().unwrap();
    prio.task_done().unwrap();
    assert!(Probe::new().poll(&mut prio.join()).is_ready());
    assert_eq!(prio.maxsize(), 1);
}

// ---------------------------------------------------------------------------------------------
// Sizes and the nowait methods
// ---------------------------------------------------------------------------------------------

#[test]
fn qsize_empty_full_and_maxsize_track_the_contents() {
    let q = Queue::new(2);
    assert_eq!(
        (q.qsize(), q.empty(), q.full(), q.maxsize()),
        (0, true, false, 2)
    );
    q.put_nowait('a').unwrap();
    assert_eq!((q.qsize(), q.empty(), q.full()), (1, false, false));
    q.put_nowait('b').unwrap();
    assert_eq!((q.qsize(), q.empty(), q.full()), (2, false, true));
    q.get_nowait().unwrap();
    assert_eq!((q.qsize(), q.empty(), q.full()), (1, false, false));
}

#[test]
fn unbounded_queue_is_never_full() {
    let q = Queue::new(0);
    for i in 0..10_000 {
        q.put_nowait(i).unwrap();
    }
    assert!(!q.full());
    assert_eq!(q.qsize(), 10_000);
}

#[test]
fn put_nowait_on_a_full_queue_gives_the_item_back() {
    let q = Queue::new(1);
    q.put_nowait(String::from("first")).unwrap();
    match q.put_nowait(String::from("second")) {
        Err(PutNowaitError::Full(QueueFull(item))) => assert_eq!(item, "second"),
        other => panic!("expected QueueFull, got {other:?}"),
    }
    assert_eq!(q.qsize(), 1);
    assert_eq!(q.get_nowait().unwrap(), "first");
}

#[test]
fn get_nowait_on_an_empty_queue_is_queue_empty() {
    let q: Queue<i32> = Queue::new(0);
    assert_eq!(q.get_nowait(), Err(GetNowaitError::Empty(QueueEmpty)));
    assert!(q.get_nowait().unwrap_err().is_empty());
}

#[test]
fn queue_clones_share_one_queue() {
    let q = Queue::new(0);
    let other = q.clone();
    q.put_nowait(1).unwrap();
    assert_eq!(other.qsize(), 1);
    assert_eq!(other.get_nowait(), Ok(1));
    assert!(q.empty());
}

#[test]
fn queue_debug_shows_sizes_without_needing_item_debug() {
    struct Opaque;
    let q = Queue::new(3);
    q.put_nowait(Opaque).unwrap();
    assert_eq!(
        format!("{q:?}"),
        "Queue { qsize: 1, maxsize: 3, getters: 0, putters: 0, unfinished: 1, shut_down: false }"
    );
    let lifo: LifoQueue<Opaque> = LifoQueue::new(0);
    assert!(format!("{lifo:?}").starts_with("LifoQueue {"));
}

// ---------------------------------------------------------------------------------------------
// Waiting put and get
// ---------------------------------------------------------------------------------------------

#[test]
fn get_waits_while_empty_and_resumes_after_a_put() {
    let q = Queue::new(0);
    let p = Probe::new();
    let mut get = q.get();
    assert!(p.poll(&mut get).is_pending());
    q.put_nowait(7).unwrap();
    assert_eq!(p.wakes(), 1);
    assert_eq!(p.poll(&mut get), Poll::Ready(Ok(7)));
}

#[test]
fn put_waits_while_full_and_resumes_after_a_get() {
    let q = Queue::new(1);
    q.put_nowait(1).unwrap();
    let p = Probe::new();
    let mut put = q.put(2);
    assert!(p.poll(&mut put).is_pending());
    assert_eq!(q.qsize(), 1);
    assert_eq!(q.get_nowait(), Ok(1));
    assert_eq!(p.wakes(), 1);
    assert_eq!(p.poll(&mut put), Poll::Ready(Ok(())));
    assert_eq!(q.get_nowait(), Ok(2));
}

#[test]
fn blocked_getters_are_served_in_fifo_order() {
    let (mut pool, spawner) = pool();
    let q = Queue::new(0);
    let got = log();
    for id in 0..3 {
        let (q, got) = (q.clone(), got.clone());
        spawner
            .spawn_local(async move {
                let item = q.get().await.unwrap();
                got.borrow_mut().push((id, item));
            })
            .unwrap();
    }
    pool.run_until_stalled();
    for item in ["x", "y", "z"] {
        q.put_nowait(item).unwrap();
    }
    pool.run_until_stalled();
    assert_eq!(*got.borrow(), [(0, "x"), (1, "y"), (2, "z")]);
}

#[test]
fn blocked_putters_are_served_in_fifo_order() {
    let (mut pool, spawner) = pool();
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    for item in 1..=3 {
        let q = q.clone();
        spawner
            .spawn_local(async move { q.put(item).await.unwrap() })
            .unwrap();
    }
    pool.run_until_stalled();
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(q.get_nowait().unwrap());
        pool.run_until_stalled();
    }
    assert_eq!(got, [0, 1, 2, 3]);
}

#[test]
fn each_put_wakes_exactly_one_getter() {
    let q = Queue::new(0);
    let (p1, p2) = (Probe::new(), Probe::new());
    let (mut g1, mut g2) = (q.get(), q.get());
    assert!(p1.poll(&mut g1).is_pending());
    assert!(p2.poll(&mut g2).is_pending());
    q.put_nowait(1).unwrap();
    assert_eq!((p1.wakes(), p2.wakes()), (1, 0));
    q.put_nowait(2).unwrap();
    assert_eq!((p1.wakes(), p2.wakes()), (1, 1));
    assert_eq!(p1.poll(&mut g1), Poll::Ready(Ok(1)));
    assert_eq!(p2.poll(&mut g2), Poll::Ready(Ok(2)));
}

#[test]
fn woken_getter_whose_item_was_taken_first_waits_again() {
    // As in asyncio, a wake-up is a hint: a get_nowait that runs before the woken getter takes
    // the item, and the getter goes back to waiting.
    let q = Queue::new(0);
    let p = Probe::new();
    let mut get = q.get();
    assert!(p.poll(&mut get).is_pending());
    q.put_nowait(1).unwrap();
    assert_eq!(q.get_nowait(), Ok(1));
    assert!(p.poll(&mut get).is_pending());
    q.put_nowait(2).unwrap();
    assert_eq!(p.wakes(), 2);
    assert_eq!(p.poll(&mut get), Poll::Ready(Ok(2)));
}

#[test]
fn ping_pong_between_tasks_over_capacity_one_queues() {
    let (mut pool, spawner) = pool();
    let (ping, pong) = (Queue::new(1), Queue::new(1));
    let rounds = 1000;
    {
        let (ping, pong) = (ping.clone(), pong.clone());
        spawner
            .spawn_local(async move {
                while let Ok(n) = ping.get().await {
                    pong.put(n + 1).await.unwrap();
                }
            })
            .unwrap();
    }
    let result = Rc::new(Cell::new(0));
    {
        let result = result.clone();
        spawner
            .spawn_local(async move {
                let mut n = 0;
                for _ in 0..rounds {
                    ping.put(n).await.unwrap();
                    n = pong.get().await.unwrap();
                }
                ping.shutdown(false);
                result.set(n);
            })
            .unwrap();
    }
    pool.run();
    assert_eq!(result.get(), rounds);
}

// ---------------------------------------------------------------------------------------------
// Cancellation
// ---------------------------------------------------------------------------------------------

#[test]
fn cancelled_get_that_was_never_woken_just_leaves() {
    let q = Queue::new(0);
    let (p1, p2) = (Probe::new(), Probe::new());
    let (mut g1, mut g2) = (q.get(), q.get());
    assert!(p1.poll(&mut g1).is_pending());
    assert!(p2.poll(&mut g2).is_pending());
    drop(g1);
    q.put_nowait(5).unwrap();
    assert_eq!(p2.wakes(), 1);
    assert_eq!(p2.poll(&mut g2), Poll::Ready(Ok(5)));
}

#[test]
fn cancelled_get_after_its_wakeup_never_loses_the_item() {
    let q = Queue::new(0);
    let (p1, p2) = (Probe::new(), Probe::new());
    let (mut g1, mut g2) = (q.get(), q.get());
    assert!(p1.poll(&mut g1).is_pending());
    assert!(p2.poll(&mut g2).is_pending());
    q.put_nowait(5).unwrap(); // wakes g1
    drop(g1); // cancelled before it ran
    assert_eq!(q.qsize(), 1, "the item is still in the queue");
    assert_eq!(p2.wakes(), 1, "and the next getter was told about it");
    assert_eq!(p2.poll(&mut g2), Poll::Ready(Ok(5)));
}

#[test]
fn cancelled_get_with_nobody_behind_leaves_the_item_queued() {
    let q = Queue::new(0);
    let mut g = q.get();
    assert!(Probe::new().poll(&mut g).is_pending());
    q.put_nowait(5).unwrap();
    drop(g);
    assert_eq!(q.get_nowait(), Ok(5));
}

#[test]
fn cancelled_get_task_does_not_lose_items_for_other_tasks() {
    let (mut pool, spawner) = pool();
    let q = Queue::new(0);
    let got = log();
    let mut handles = Vec::new();
    for id in 0..3 {
        let (q, got) = (q.clone(), got.clone());
        let (task, handle) = futures::future::abortable(async move {
            let item = q.get().await.unwrap();
            got.borrow_mut().push((id, item));
        });
        spawner
            .spawn_local(async move {
                let _aborted = task.await;
            })
            .unwrap();
        handles.push(handle);
    }
    pool.run_until_stalled();
    q.put_nowait("a").unwrap(); // hint to getter 0...
    handles[0].abort(); // ...which is cancelled before it runs
    q.put_nowait("b").unwrap();
    pool.run_until_stalled();
    assert_eq!(*got.borrow(), [(1, "a"), (2, "b")]);
    assert!(q.empty());
}

#[test]
fn cancelled_put_never_inserts_its_item() {
    let drops = Rc::new(Cell::new(0));
    let q = Queue::new(1);
    q.put_nowait(tracked(1, &drops)).unwrap();
    let mut put = q.put(tracked(2, &drops));
    assert!(Probe::new().poll(&mut put).is_pending());
    drop(put);
    assert_eq!(drops.get(), 1, "the cancelled put dropped its item");
    assert_eq!(q.qsize(), 1);
    assert_eq!(q.get_nowait().unwrap().id, 1);
    assert!(q.empty());
}

#[test]
fn cancelled_put_after_its_wakeup_passes_the_free_slot_on() {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let (p1, p2) = (Probe::new(), Probe::new());
    let (mut put1, mut put2) = (q.put(1), q.put(2));
    assert!(p1.poll(&mut put1).is_pending());
    assert!(p2.poll(&mut put2).is_pending());
    assert_eq!(q.get_nowait(), Ok(0)); // wakes put1
    assert_eq!((p1.wakes(), p2.wakes()), (1, 0));
    drop(put1);
    assert_eq!(p2.wakes(), 1);
    assert_eq!(p2.poll(&mut put2), Poll::Ready(Ok(())));
    assert_eq!(q.get_nowait(), Ok(2));
    assert!(q.empty());
}

#[test]
fn cancelled_put_that_was_never_woken_just_leaves() {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let (p1, p2) = (Probe::new(), Probe::new());
    let (mut put1, mut put2) = (q.put(1), q.put(2));
    assert!(p1.poll(&mut put1).is_pending());
    assert!(p2.poll(&mut put2).is_pending());
    drop(put1);
    assert_eq!(q.get_nowait(), Ok(0));
    assert_eq!(p2.wakes(), 1);
    assert_eq!(p2.poll(&mut put2), Poll::Ready(Ok(())));
}

#[test]
fn cancelled_join_leaves_quietly() {
    let q = Queue::new(0);
    q.put_nowait(1).unwrap();
    let (p1, p2) = (Probe::new(), Probe::new());
    let (mut j1, mut j2) = (q.join(), q.join());
    assert!(p1.poll(&mut j1).is_pending());
    assert!(p2.poll(&mut j2).is_pending());
    drop(j1);
    q.get_nowait().unwrap();
    q.task_done().unwrap();
    assert_eq!((p1.wakes(), p2.wakes()), (0, 1));
    assert!(p2.poll(&mut j2).is_ready());
}

#[test]
fn queue_wakers_are_called_and_dropped_without_a_borrow_held() {
    let q = Queue::new(1);
    let probe = q.clone();
    set_hook(move || {
        let _ = (probe.qsize(), probe.full(), format!("{probe:?}"));
    });
    let mut g1 = q.get();
    let mut g2 = q.get();
    assert!(poll_with_hook(&mut g1).is_pending());
    assert!(poll_with_hook(&mut g2).is_pending());
    drop(g2); // drops g2's waker
    q.put_nowait(1).unwrap(); // wakes g1
    drop(g1); // passes the hint on (to nobody), drops its waker
    let mut put = q.put(2);
    assert!(poll_with_hook(&mut put).is_pending());
    let mut join = q.join();
    assert!(poll_with_hook(&mut join).is_pending());
    q.get_nowait().unwrap(); // wakes the putter
    q.shutdown(true); // wakes the joiner
    drop((put, join));
}

// ---------------------------------------------------------------------------------------------
// task_done and join
// ---------------------------------------------------------------------------------------------

#[test]
fn join_returns_at_once_when_nothing_is_unfinished() {
    let q: Queue<()> = Queue::new(0);
    assert!(Probe::new().poll(&mut q.join()).is_ready());
}

#[test]
fn join_waits_until_every_item_is_marked_done() {
    let q = Queue::new(0);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    let p = Probe::new();
    let mut join = q.join();
    assert!(p.poll(&mut join).is_pending());
    q.get_nowait().unwrap();
    q.get_nowait().unwrap();
    assert!(
        p.poll(&mut join).is_pending(),
        "taking items is not finishing them"
    );
    q.task_done().unwrap();
    assert_eq!(p.wakes(), 0);
    q.task_done().unwrap();
    assert_eq!(p.wakes(), 1);
    assert!(p.poll(&mut join).is_ready());
}

#[test]
fn join_wakes_every_joiner_on_a_local_pool() {
    let (mut pool, spawner) = pool();
    let q = Queue::new(0);
    let joined = log();
    q.put_nowait("job").unwrap();
    for id in 0..2 {
        let (q, joined) = (q.clone(), joined.clone());
        spawner
            .spawn_local(async move {
                q.join().await;
                joined.borrow_mut().push(id);
            })
            .unwrap();
    }
    {
        let q = q.clone();
        spawner
            .spawn_local(async move {
                let _job = q.get().await.unwrap();
                q.task_done().unwrap();
            })
            .unwrap();
    }
    pool.run_until_stalled();
    assert_eq!(*joined.borrow(), [0, 1]);
}

#[test]
fn task_done_called_too_many_times_is_a_value_error() {
    let q = Queue::new(0);
    q.put_nowait(1).unwrap();
    q.get_nowait().unwrap();
    q.task_done().unwrap();
    let err = q.task_done().unwrap_err();
    assert_eq!(err.message(), "task_done() called too many times");
    assert!(
        err.to_string()
            .starts_with("task_done() called too many times; ")
    );
}

// ---------------------------------------------------------------------------------------------
// shutdown
// ---------------------------------------------------------------------------------------------

#[test]
fn put_after_shutdown_fails_and_gives_the_item_back() {
    let q = Queue::new(0);
    q.shutdown(false);
    assert_eq!(
        q.put_nowait(1),
        Err(PutNowaitError::ShutDown(QueueShutDown(1)))
    );
    assert_eq!(
        Probe::new().poll(&mut q.put(2)),
        Poll::Ready(Err(QueueShutDown(2)))
    );
    assert!(q.empty());
}

#[test]
fn get_after_shutdown_drains_the_remaining_items_then_fails() {
    let q = Queue::new(0);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    q.shutdown(false);
    let p = Probe::new();
    assert_eq!(p.poll(&mut q.get()), Poll::Ready(Ok(1)));
    assert_eq!(q.get_nowait(), Ok(2));
    assert_eq!(p.poll(&mut q.get()), Poll::Ready(Err(QueueShutDown(()))));
    assert_eq!(
        q.get_nowait(),
        Err(GetNowaitError::ShutDown(QueueShutDown(())))
    );
}

#[test]
fn shutdown_wakes_blocked_getters_with_the_error() {
    let q: Queue<i32> = Queue::new(0);
    let (p1, p2) = (Probe::new(), Probe::new());
    let (mut g1, mut g2) = (q.get(), q.get());
    assert!(p1.poll(&mut g1).is_pending());
    assert!(p2.poll(&mut g2).is_pending());
    q.shutdown(false);
    assert_eq!((p1.wakes(), p2.wakes()), (1, 1));
    assert_eq!(p1.poll(&mut g1), Poll::Ready(Err(QueueShutDown(()))));
    assert_eq!(p2.poll(&mut g2), Poll::Ready(Err(QueueShutDown(()))));
}

#[test]
fn shutdown_wakes_blocked_putters_with_the_error_and_their_items() {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let (p1, p2) = (Probe::new(), Probe::new());
    let (mut put1, mut put2) = (q.put(1), q.put(2));
    assert!(p1.poll(&mut put1).is_pending());
    assert!(p2.poll(&mut put2).is_pending());
    q.shutdown(false);
    assert_eq!((p1.wakes(), p2.wakes()), (1, 1));
    assert_eq!(p1.poll(&mut put1), Poll::Ready(Err(QueueShutDown(1))));
    assert_eq!(p2.poll(&mut put2), Poll::Ready(Err(QueueShutDown(2))));
    assert_eq!(
        q.get_nowait(),
        Ok(0),
        "items already queued stay for the getters"
    );
}

#[test]
fn shutdown_stops_a_consumer_task_after_it_drains_the_queue() {
    let (mut pool, spawner) = pool();
    let q = Queue::new(0);
    let got = log();
    {
        let (q, got) = (q.clone(), got.clone());
        spawner
            .spawn_local(async move {
                while let Ok(item) = q.get().await {
                    got.borrow_mut().push(item);
                }
                got.borrow_mut().push(-1); // saw QueueShutDown
            })
            .unwrap();
    }
    pool.run_until_stalled();
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    q.shutdown(false);
    pool.run_until_stalled();
    assert_eq!(*got.borrow(), [1, 2, -1]);
}

#[test]
fn shutdown_immediate_drops_the_items_and_counts_them_done() {
    let drops = Rc::new(Cell::new(0));
    let q = Queue::new(0);
    for id in 0..3 {
        q.put_nowait(tracked(id, &drops)).unwrap();
    }
    let taken = q.get_nowait().unwrap(); // taken but not yet done
    let p = Probe::new();
    let mut join = q.join();
    assert!(p.poll(&mut join).is_pending());
    q.shutdown(true);
    assert_eq!(drops.get(), 2, "the two queued items were dropped");
    assert!(q.empty());
    assert!(
        p.poll(&mut join).is_pending(),
        "the taken item is still unfinished"
    );
    q.task_done().unwrap();
    assert_eq!(p.wakes(), 1);
    assert!(p.poll(&mut join).is_ready());
    drop(taken);
}

#[test]
fn shutdown_immediate_releases_joiners_when_nothing_else_is_unfinished() {
    let q = Queue::new(0);
    q.put_nowait(1).unwrap();
    let p = Probe::new();
    let mut join = q.join();
    assert!(p.poll(&mut join).is_pending());
    q.shutdown(true);
    assert_eq!(p.wakes(), 1);
    assert!(p.poll(&mut join).is_ready());
    assert!(
        q.task_done().is_err(),
        "the dropped item was already counted done"
    );
}

#[test]
fn shutdown_immediate_makes_getters_fail_at_once() {
    let q = Queue::new(0);
    q.put_nowait(1).unwrap();
    q.shutdown(true);
    assert_eq!(
        Probe::new().poll(&mut q.get()),
        Poll::Ready(Err(QueueShutDown(())))
    );
    assert!(q.get_nowait().unwrap_err().is_shutdown());
}

#[test]
fn shutdown_immediate_drops_items_with_no_borrow_held() {
    // An item whose destructor uses the queue: would panic if dropped under the borrow.
    struct UsesQueue(Queue<UsesQueue>, Rc<Cell<bool>>);
    impl Drop for UsesQueue {
        fn drop(&mut self) {
            let _ = self.0.qsize();
            let _ = self.0.task_done(); // needs a mutable borrow
            self.1.set(true);
        }
    }
    let q = Queue::new(0);
    let dropped = Rc::new(Cell::new(false));
    assert!(q.put_nowait(UsesQueue(q.clone(), dropped.clone())).is_ok());
    q.shutdown(true);
    assert!(dropped.get());
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

#[test]
fn error_messages_say_what_went_wrong_and_what_to_do() {
    assert!(QueueFull(1).to_string().contains("await put()"));
    assert!(QueueEmpty.to_string().contains("await get()"));
    assert!(QueueShutDown(()).to_string().contains("shut down"));
    let full: PutNowaitError<i32> = QueueFull(1).into();
    assert_eq!(full.to_string(), QueueFull(1).to_string());
    let empty: GetNowaitError = QueueEmpty.into();
    assert_eq!(empty.to_string(), QueueEmpty.to_string());
    // Usable as std errors, even for items that are not Debug.
    struct Opaque;
    let errors: Vec<Box<dyn std::error::Error>> = vec![
        Box::new(QueueFull(Opaque)),
        Box::new(QueueShutDown(Opaque)),
        Box::new(PutNowaitError::Full(QueueFull(Opaque))),
        Box::new(QueueEmpty),
        Box::new(GetNowaitError::Empty(QueueEmpty)),
    ];
    assert_eq!(format!("{:?}", errors[0]), "QueueFull { .. }");
    assert_eq!(errors.len(), 5);
}

#[test]
fn put_nowait_error_gives_the_item_back_either_way() {
    assert_eq!(PutNowaitError::Full(QueueFull(1)).into_inner(), 1);
    assert_eq!(PutNowaitError::ShutDown(QueueShutDown(2)).into_inner(), 2);
    assert_eq!(QueueFull(3).into_inner(), 3);
    assert_eq!(QueueShutDown(4).into_inner(), 4);
}
