//! Behaviour of asyncio.locks: Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier.
//!
//! Scenarios run on `futures::executor::LocalPool` (tasks spawned with `spawn_local`), or poll
//! futures by hand with counting wakers to assert exactly who was woken and how often.
//! Cancellation is simulated by dropping a future that is waiting.

use std::cell::RefCell;
use std::rc::Rc;
use std::task::Poll;

use asyncio::{
    Barrier, BoundedSemaphore, BrokenBarrierError, Condition, Event, Lock, Semaphore, ValueError,
};
use futures::executor::LocalSpawner;
use futures::task::LocalSpawnExt;

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Lock
// ---------------------------------------------------------------------------------------------

#[test]
fn lock_acquire_returns_guard_that_releases_on_drop() {
    let lock = Lock::new();
    let p = Probe::new();
    let guard = match p.poll(&mut lock.acquire()) {
        Poll::Ready(guard) => guard,
        Poll::Pending => panic!("a free lock is acquired at once"),
    };
    assert!(lock.locked());
    drop(guard);
    assert!(!lock.locked());
}

#[test]
fn lock_try_acquire_fails_while_held() {
    let lock = Lock::new();
    let guard = lock.try_acquire().unwrap();
    assert!(lock.try_acquire().is_none());
    drop(guard);
    assert!(lock.try_acquire().is_some());
}

#[test]
fn lock_clones_share_one_lock() {
    let lock = Lock::new();
    let other = lock.clone();
    let _guard = lock.try_acquire().unwrap();
    assert!(other.locked());
    assert!(other.try_acquire().is_none());
}

#[test]
fn lock_waiters_are_served_in_fifo_order() {
    let (mut pool, spawner) = pool();
    let lock = Lock::new();
    let order = log();
    let guard = lock.try_acquire().unwrap();
    for id in 0..4 {
        let (lock, order) = (lock.clone(), order.clone());
        spawner
            .spawn_local(async move {
                let _guard = lock.acquire().await;
                order.borrow_mut().push(id);
            })
            .unwrap();
    }
    pool.run_until_stalled();
    assert!(order.borrow().is_empty());
    drop(guard);
    pool.run_until_stalled();
    assert_eq!(*order.borrow(), [0, 1, 2, 3]);
    assert!(!lock.locked());
}

#[test]
fn lock_release_wakes_exactly_the_first_waiter() {
    let lock = Lock::new();
    let guard = lock.try_acquire().unwrap();
    let (p1, p2) = (Probe::new(), Probe::new());
    let (mut w1, mut w2) = (lock.acquire(), lock.acquire());
    assert!(p1.poll(&mut w1).is_pending());
    assert!(p2.poll(&mut w2).is_pending());
    drop(guard);
    assert_eq!((p1.wakes(), p2.wakes()), (1, 0));
    let g1 = p1.poll(&mut w1);
    assert!(g1.is_ready());
    assert!(lock.locked());
    drop(g1);
    assert_eq!(p2.wakes(), 1);
    assert!(p2.poll(&mut w2).is_ready());
}

#[test]
fn lock_new_acquire_does_not_barge_ahead_of_a_woken_waiter() {
    let lock = Lock::new();
    let guard = lock.try_acquire().unwrap();
    let p = Probe::new();
    let mut waiter = lock.acquire();
    assert!(p.poll(&mut waiter).is_pending());
    drop(guard);
    // asyncio: locked() is false until the woken waiter runs, yet nobody can jump the queue.
    assert!(!lock.locked());
    assert!(lock.try_acquire().is_none());
    let mut late = lock.acquire();
    assert!(Probe::new().poll(&mut late).is_pending());
    let guard = p.poll(&mut waiter);
    assert!(guard.is_ready());
    drop(guard);
    assert!(Probe::new().poll(&mut late).is_ready());
}

#[test]
fn lock_cancelled_waiter_that_was_never_woken_just_leaves() {
    let lock = Lock::new();
    let guard = lock.try_acquire().unwrap();
    let (p1, p2) = (Probe::new(), Probe::new());
    let (mut w1, mut w2) = (lock.acquire(), lock.acquire());
    assert!(p1.poll(&mut w1).is_pending());
    assert!(p2.poll(&mut w2).is_pending());
    drop(w1);
    drop(guard);
    assert_eq!((p1.wakes(), p2.wakes()), (0, 1));
    assert!(p2.poll(&mut w2).is_ready());
}

#[test]
fn lock_cancelled_waiter_that_was_granted_hands_the_lock_on() {
    let lock = Lock::new();
    let guard = lock.try_acquire().unwrap();
    let (p1, p2) = (Probe::new(), Probe::new());
    let (mut w1, mut w2) = (lock.acquire(), lock.acquire());
    assert!(p1.poll(&mut w1).is_pending());
    assert!(p2.poll(&mut w2).is_pending());
    drop(guard); // grants w1
    assert_eq!(p1.wakes(), 1);
    drop(w1); // cancelled before it ran
    assert_eq!(p2.wakes(), 1);
    assert!(p2.poll(&mut w2).is_ready());
}

#[test]
fn lock_cancelled_granted_waiter_with_nobody_behind_leaves_it_unlocked() {
    let lock = Lock::new();
    let guard = lock.try_acquire().unwrap();
    let mut w = lock.acquire();
    assert!(Probe::new().poll(&mut w).is_pending());
    drop(guard);
    drop(w);
    assert!(!lock.locked());
    assert!(lock.try_acquire().is_some());
}

#[test]
fn lock_cancellation_in_a_task_does_not_deadlock_the_others() {
    let (mut pool, spawner) = pool();
    let lock = Lock::new();
    let order = log();
    let guard = lock.try_acquire().unwrap();
    let mut handles = Vec::new();
    for id in 0..3 {
        let (lock, order) = (lock.clone(), order.clone());
        let (task, handle) = futures::future::abortable(async move {
            let _guard = lock.acquire().await;
            order.borrow_mut().push(id);
        });
        spawner
            .spawn_local(async move {
                let _aborted = task.await;
            })
            .unwrap();
        handles.push(handle);
    }
    pool.run_until_stalled();
    drop(guard); // grants task 0...
    handles[0].abort(); // ...which is cancelled before it runs
    pool.run_until_stalled();
    assert_eq!(*order.borrow(), [1, 2]);
    assert!(!lock.locked());
}

#[test]
fn lock_wakers_are_called_and_dropped_without_a_borrow_held() {
    let lock = Lock::new();
    let probe = lock.clone();
    set_hook(move || {
        let _ = probe.locked();
        drop(probe.try_acquire());
    });
    let guard = lock.try_acquire().unwrap();
    let mut w1 = lock.acquire();
    assert!(poll_with_hook(&mut w1).is_pending());
    let mut w2 = lock.acquire();
    assert!(poll_with_hook(&mut w2).is_pending());
    drop(w2); // drops w2's waker
    drop(guard); // wakes w1
    drop(w1); // hands the lock on (to nobody) and drops w1's waker
    assert!(!lock.locked());
}

#[test]
fn lock_debug_shows_state() {
    let lock = Lock::new();
    let _guard = lock.try_acquire();
    assert_eq!(format!("{lock:?}"), "Lock { locked: true, waiters: 0 }");
}

// ---------------------------------------------------------------------------------------------
// Event
// ---------------------------------------------------------------------------------------------

#[test]
fn event_starts_cleared_and_set_clear_toggle_the_flag() {
    let event = Event::new();
    assert!(!event.is_set());
    event.set();
    assert!(event.is_set());
    event.clear();
    assert!(!event.is_set());
}

#[test]
fn event_wait_returns_at_once_when_set() {
    let event = Event::new();
    event.set();
    assert!(Probe::new().poll(&mut event.wait()).is_ready());
}

#[test]
fn event_set_wakes_every_waiter_once() {
    let event = Event::new();
    let probes: Vec<Probe> = (0..3).map(|_| Probe::new()).collect();
    let mut waits: Vec<_> = (0..3).map(|_| event.wait()).collect();
    for (p, w) in probes.iter().zip(&mut waits) {
        assert!(p.poll(w).is_pending());
    }
    event.set();
    event.set(); // already set: wakes nobody again
    for (p, w) in probes.iter().zip(&mut waits) {
        assert_eq!(p.wakes(), 1);
        assert!(p.poll(w).is_ready());
    }
}

#[test]
fn event_waiter_woken_by_set_returns_even_if_cleared_before_it_runs() {
    let event = Event::new();
    let p = Probe::new();
    let mut w = event.wait();
    assert!(p.poll(&mut w).is_pending());
    event.set();
    event.clear();
    assert!(p.poll(&mut w).is_ready());
    // A new wait after the clear blocks again.
    assert!(Probe::new().poll(&mut event.wait()).is_pending());
}

#[test]
fn event_cancelled_waiter_leaves_the_list() {
    let event = Event::new();
    let mut w = event.wait();
    assert!(Probe::new().poll(&mut w).is_pending());
    assert!(format!("{event:?}").contains("waiters: 1"));
    drop(w);
    assert!(format!("{event:?}").contains("waiters: 0"));
    event.set();
}

#[test]
fn event_wakes_tasks_on_a_local_pool() {
    let (mut pool, spawner) = pool();
    let event = Event::new();
    let done = log();
    for id in 0..3 {
        let (event, done) = (event.clone(), done.clone());
        spawner
            .spawn_local(async move {
                event.wait().await;
                done.borrow_mut().push(id);
            })
            .unwrap();
    }
    pool.run_until_stalled();
    assert!(done.borrow().is_empty());
    event.set();
    pool.run_until_stalled();
    assert_eq!(*done.borrow(), [0, 1, 2]);
}

#[test]
fn event_wakers_are_called_and_dropped_without_a_borrow_held() {
    let event = Event::new();
    let probe = event.clone();
    set_hook(move || {
        probe.clear();
        let _ = probe.is_set();
    });
    let mut w1 = event.wait();
    let mut w2 = event.wait();
    assert!(poll_with_hook(&mut w1).is_pending());
    assert!(poll_with_hook(&mut w2).is_pending());
    drop(w2);
    event.set();
    drop(w1);
}

// ---------------------------------------------------------------------------------------------
// Condition
// ---------------------------------------------------------------------------------------------

#[test]
fn condition_wait_releases_the_lock_and_returns_holding_it_again() {
    let cond = Condition::new();
    let p = Probe::new();
    let guard = cond.lock().try_acquire().unwrap();
    let mut wait = cond.wait(guard);
    assert!(p.poll(&mut wait).is_pending());
    assert!(!cond.locked(), "wait() releases the lock");
    let notifier = cond.lock().try_acquire().unwrap();
    cond.notify(1);
    assert_eq!(p.wakes(), 1);
    // Notified, but the notifier still holds the lock.
    assert!(p.poll(&mut wait).is_pending());
    drop(notifier);
    let guard = match p.poll(&mut wait) {
        Poll::Ready(guard) => guard,
        Poll::Pending => panic!("the lock is free again"),
    };
    assert!(cond.locked());
    drop(guard);
    assert!(!cond.locked());
}

#[test]
fn condition_notify_wakes_n_waiters_in_fifo_order() {
    let (mut pool, spawner) = pool();
    let cond = Condition::new();
    let woken = log();
    for id in 0..4 {
        let (cond, woken) = (cond.clone(), woken.clone());
        spawner
            .spawn_local(async move {
                let guard = cond.acquire().await;
                let _guard = cond.wait(guard).await;
                woken.borrow_mut().push(id);
            })
            .unwrap();
    }
    pool.run_until_stalled();
    {
        let _guard = cond.lock().try_acquire().unwrap();
        cond.notify(2);
    }
    pool.run_until_stalled();
    assert_eq!(*woken.borrow(), [0, 1]);
    {
        let _guard = cond.lock().try_acquire().unwrap();
        cond.notify(1);
    }
    pool.run_until_stalled();
    assert_eq!(*woken.borrow(), [0, 1, 2]);
}

#[test]
fn condition_notify_all_wakes_every_waiter() {
    let (mut pool, spawner) = pool();
    let cond = Condition::new();
    let woken = log();
    for id in 0..3 {
        let (cond, woken) = (cond.clone(), woken.clone());
        spawner
            .spawn_local(async move {
                let guard = cond.acquire().await;
                let _guard = cond.wait(guard).await;
                woken.borrow_mut().push(id);
            })
            .unwrap();
    }
    pool.run_until_stalled();
    {
        let _guard = cond.lock().try_acquire().unwrap();
        cond.notify_all();
    }
    pool.run_until_stalled();
    assert_eq!(*woken.borrow(), [0, 1, 2]);
}

#[test]
fn condition_notify_with_nobody_waiting_is_not_remembered() {
    let cond = Condition::new();
    let guard = cond.lock().try_acquire().unwrap();
    cond.notify(5);
    let mut wait = cond.wait(guard);
    assert!(Probe::new().poll(&mut wait).is_pending());
}

#[test]
fn condition_wait_for_rechecks_the_predicate_after_each_wakeup() {
    let (mut pool, spawner) = pool();
    let cond = Condition::new();
    let value = Rc::new(RefCell::new(0));
    let checks = Rc::new(RefCell::new(0));
    let done = Rc::new(RefCell::new(false));
    {
        let (cond, value, checks, done) =
            (cond.clone(), value.clone(), checks.clone(), done.clone());
        spawner
            .spawn_local(async move {
                let guard = cond.acquire().await;
                let _guard = cond
                    .wait_for(guard, || {
                        *checks.borrow_mut() += 1;
                        *value.borrow() >= 2
                    })
                    .await;
                *done.borrow_mut() = true;
            })
            .unwrap();
    }
    for step in 1..=2 {
        pool.run_until_stalled();
        assert!(!*done.borrow());
        let _guard = cond.lock().try_acquire().unwrap();
        *value.borrow_mut() = step;
        cond.notify_all();
    }
    pool.run_until_stalled();
    assert!(*done.borrow());
    assert_eq!(*checks.borrow(), 3); // before waiting, after step 1, after step 2
}

#[test]
fn condition_notified_waiter_that_is_cancelled_passes_the_notification_on() {
    let cond = Condition::new();
    let (p1, p2) = (Probe::new(), Probe::new());
    let mut w1 = cond.wait(cond.lock().try_acquire().unwrap());
    assert!(p1.poll(&mut w1).is_pending());
    let mut w2 = cond.wait(cond.lock().try_acquire().unwrap());
    assert!(p2.poll(&mut w2).is_pending());
    {
        let _guard = cond.lock().try_acquire().unwrap();
        cond.notify(1);
    }
    assert_eq!((p1.wakes(), p2.wakes()), (1, 0));
    drop(w1); // cancelled after being notified
    assert_eq!(p2.wakes(), 1);
    assert!(p2.poll(&mut w2).is_ready());
}

#[test]
fn condition_waiter_cancelled_while_reacquiring_passes_the_notification_on() {
    let cond = Condition::new();
    let (p1, p2) = (Probe::new(), Probe::new());
    let mut w1 = cond.wait(cond.lock().try_acquire().unwrap());
    assert!(p1.poll(&mut w1).is_pending());
    let mut w2 = cond.wait(cond.lock().try_acquire().unwrap());
    assert!(p2.poll(&mut w2).is_pending());
    let guard = cond.lock().try_acquire().unwrap();
    cond.notify(1);
    assert!(p1.poll(&mut w1).is_pending()); // now queued for the lock
    drop(w1);
    assert_eq!(p2.wakes(), 1, "w2 got the notification w1 could not use");
    drop(guard);
    assert!(p2.poll(&mut w2).is_ready());
    assert!(!cond.locked());
}

#[test]
fn condition_cancelled_waiter_that_was_never_notified_just_leaves() {
    let cond = Condition::new();
    let (p1, p2) = (Probe::new(), Probe::new());
    let mut w1 = cond.wait(cond.lock().try_acquire().unwrap());
    assert!(p1.poll(&mut w1).is_pending());
    let mut w2 = cond.wait(cond.lock().try_acquire().unwrap());
    assert!(p2.poll(&mut w2).is_pending());
    drop(w1);
    assert_eq!(p2.wakes(), 0);
    {
        let _guard = cond.lock().try_acquire().unwrap();
        cond.notify(1);
    }
    assert_eq!(p2.wakes(), 1);
    assert!(p2.poll(&mut w2).is_ready());
}

#[test]
fn condition_wait_future_dropped_before_polling_releases_the_lock() {
    let cond = Condition::new();
    let wait = cond.wait(cond.lock().try_acquire().unwrap());
    assert!(cond.locked());
    drop(wait);
    assert!(!cond.locked());
}

#[test]
fn condition_with_lock_uses_the_given_lock() {
    let lock = Lock::new();
    let cond = Condition::with_lock(lock.clone());
    let guard = lock.try_acquire().unwrap();
    assert!(cond.locked());
    let mut wait = cond.wait(guard); // a guard of the shared lock is accepted
    assert!(Probe::new().poll(&mut wait).is_pending());
    assert!(!lock.locked());
}

#[test]
#[should_panic(expected = "without holding the condition's lock")]
fn condition_notify_without_the_lock_panics() {
    Condition::new().notify(1);
}

#[test]
#[should_panic(expected = "without holding the condition's lock")]
fn condition_notify_all_without_the_lock_panics() {
    Condition::new().notify_all();
}

#[test]
#[should_panic(expected = "guard of a different lock")]
fn condition_wait_with_another_locks_guard_panics() {
    let cond = Condition::new();
    let other = Lock::new();
    let guard = other.try_acquire().unwrap();
    drop(cond.wait(guard));
}

#[test]
fn condition_wakers_are_called_and_dropped_without_a_borrow_held() {
    let cond = Condition::new();
    let probe = cond.clone();
    set_hook(move || {
        let _ = probe.locked();
        let _ = format!("{probe:?}");
    });
    let mut w1 = cond.wait(cond.lock().try_acquire().unwrap());
    assert!(poll_with_hook(&mut w1).is_pending());
    let mut w2 = cond.wait(cond.lock().try_acquire().unwrap());
    assert!(poll_with_hook(&mut w2).is_pending());
    let guard = cond.lock().try_acquire().unwrap();
    cond.notify_all();
    drop(w1); // passes its notification on (to w2, already notified: nobody)
    drop(guard);
    drop(w2);
}

// ---------------------------------------------------------------------------------------------
// Semaphore and BoundedSemaphore
// ---------------------------------------------------------------------------------------------

#[test]
fn semaphore_admits_value_holders_and_makes_the_next_wait() {
    let sem = Semaphore::new(2);
    let p = Probe::new();
    let a = p.poll(&mut sem.acquire());
    let b = p.poll(&mut sem.acquire());
    assert!(a.is_ready() && b.is_ready());
    assert!(sem.locked());
    let mut c = sem.acquire();
    assert!(p.poll(&mut c).is_pending());
    drop(a);
    assert_eq!(p.wakes(), 1);
    assert!(p.poll(&mut c).is_ready());
}

#[test]
fn semaphore_waiters_are_served_in_fifo_order() {
    let (mut pool, spawner) = pool();
    let sem = Semaphore::new(0);
    let order = log();
    for id in 0..4 {
        let (sem, order) = (sem.clone(), order.clone());
        spawner
            .spawn_local(async move {
                sem.acquire().await.forget();
                order.borrow_mut().push(id);
            })
            .unwrap();
    }
    pool.run_until_stalled();
    sem.release();
    sem.release();
    pool.run_until_stalled();
    assert_eq!(*order.borrow(), [0, 1]);
    sem.release();
    sem.release();
    pool.run_until_stalled();
    assert_eq!(*order.borrow(), [0, 1, 2, 3]);
}

#[test]
fn semaphore_release_beyond_the_initial_value_adds_permits() {
    let sem = Semaphore::new(1);
    sem.release();
    let a = sem.try_acquire();
    let b = sem.try_acquire();
    assert!(a.is_some() && b.is_some());
    assert!(sem.try_acquire().is_none());
}

#[test]
fn semaphore_forget_keeps_the_permit_until_release() {
    let sem = Semaphore::new(1);
    sem.try_acquire().unwrap().forget();
    assert!(sem.locked());
    sem.release();
    assert!(!sem.locked());
}

#[test]
fn semaphore_new_acquire_does_not_barge_ahead_of_a_woken_waiter() {
    let sem = Semaphore::new(0);
    let p = Probe::new();
    let mut waiter = sem.acquire();
    assert!(p.poll(&mut waiter).is_pending());
    sem.release(); // goes straight to the waiter
    assert!(sem.locked());
    assert!(sem.try_acquire().is_none());
    assert!(p.poll(&mut waiter).is_ready());
}

#[test]
fn semaphore_cancelled_waiter_that_was_never_woken_just_leaves() {
    let sem = Semaphore::new(0);
    let mut w = sem.acquire();
    assert!(Probe::new().poll(&mut w).is_pending());
    drop(w);
    sem.release();
    assert!(
        sem.try_acquire().is_some(),
        "the permit was not given to the departed waiter"
    );
}

#[test]
fn semaphore_cancelled_waiter_that_was_granted_hands_the_permit_on() {
    let sem = Semaphore::new(0);
    let (p1, p2) = (Probe::new(), Probe::new());
    let (mut w1, mut w2) = (sem.acquire(), sem.acquire());
    assert!(p1.poll(&mut w1).is_pending());
    assert!(p2.poll(&mut w2).is_pending());
    sem.release();
    assert_eq!((p1.wakes(), p2.wakes()), (1, 0));
    drop(w1);
    assert_eq!(p2.wakes(), 1);
    assert!(p2.poll(&mut w2).is_ready());
}

#[test]
fn semaphore_cancelled_granted_waiter_with_nobody_behind_returns_the_permit() {
    let sem = Semaphore::new(0);
    let mut w = sem.acquire();
    assert!(Probe::new().poll(&mut w).is_pending());
    sem.release();
    drop(w);
    assert!(!sem.locked());
    assert!(sem.try_acquire().is_some());
}

#[test]
fn semaphore_wakers_are_called_and_dropped_without_a_borrow_held() {
    let sem = Semaphore::new(0);
    let probe = sem.clone();
    set_hook(move || {
        let _ = probe.locked();
        drop(probe.try_acquire());
    });
    let mut w1 = sem.acquire();
    let mut w2 = sem.acquire();
    assert!(poll_with_hook(&mut w1).is_pending());
    assert!(poll_with_hook(&mut w2).is_pending());
    sem.release();
    drop(w1); // hands its permit to w2
    drop(w2); // and w2 hands it back to the counter
    assert!(!sem.locked());
}

#[test]
fn bounded_semaphore_release_above_the_initial_value_is_a_value_error() {
    let sem = BoundedSemaphore::new(2);
    let err: ValueError = sem.release().unwrap_err();
    assert_eq!(err.message(), "BoundedSemaphore released too many times");
    assert!(
        err.to_string()
            .starts_with("BoundedSemaphore released too many times; ")
    );
    // Nothing changed: still exactly two permits.
    let (a, b) = (sem.try_acquire(), sem.try_acquire());
    assert!(a.is_some() && b.is_some());
    assert!(sem.try_acquire().is_none());
}

#[test]
fn bounded_semaphore_release_of_a_forgotten_permit_is_fine() {
    let sem = BoundedSemaphore::new(1);
    sem.try_acquire().unwrap().forget();
    assert!(sem.locked());
    assert_eq!(sem.release(), Ok(()));
    assert!(!sem.locked());
    assert!(sem.release().is_err());
}

#[test]
fn bounded_semaphore_release_goes_to_a_waiter_first() {
    let sem = BoundedSemaphore::new(1);
    sem.try_acquire().unwrap().forget();
    let p = Probe::new();
    let mut w = sem.acquire();
    assert!(p.poll(&mut w).is_pending());
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(p.wakes(), 1);
    assert!(p.poll(&mut w).is_ready());
}

#[test]
fn bounded_semaphore_permit_drop_never_exceeds_the_bound() {
    let sem = BoundedSemaphore::new(1);
    let permit = sem.try_acquire().unwrap();
    assert_eq!(sem.release(), Ok(())); // a manual release while holding the permit...
    drop(permit); // ...makes the permit's own release a no-op instead of a panic
    assert!(!sem.locked());
    assert!(
        sem.release().is_err(),
        "the counter is back at its bound, not above it"
    );
}

// ---------------------------------------------------------------------------------------------
// Barrier
// ---------------------------------------------------------------------------------------------

fn spawn_barrier_waiters(
    spawner: &LocalSpawner,
    barrier: &Barrier,
    names: impl IntoIterator<Item = &'static str>,
) -> Log<(&'static str, Result<usize, BrokenBarrierError>)> {
    let results = log();
    for name in names {
        let (barrier, results) = (barrier.clone(), results.clone());
        spawner
            .spawn_local(async move {
                let r = barrier.wait().await;
                results.borrow_mut().push((name, r));
            })
            .unwrap();
    }
    results
}

#[test]
fn barrier_returns_arrival_indices_once_all_parties_arrive() {
    let (mut pool, spawner) = pool();
    let barrier = Barrier::new(3);
    let results = spawn_barrier_waiters(&spawner, &barrier, ["a", "b"]);
    pool.run_until_stalled();
    assert!(results.borrow().is_empty());
    assert_eq!(barrier.n_waiting(), 2);
    let more = spawn_barrier_waiters(&spawner, &barrier, ["c"]);
    pool.run_until_stalled();
    assert_eq!(*more.borrow(), [("c", Ok(2))]);
    assert_eq!(*results.borrow(), [("a", Ok(0)), ("b", Ok(1))]);
    assert_eq!(barrier.n_waiting(), 0);
}

#[test]
fn barrier_is_reusable_for_the_next_round() {
    let (mut pool, spawner) = pool();
    let barrier = Barrier::new(2);
    let round1 = spawn_barrier_waiters(&spawner, &barrier, ["a", "b"]);
    pool.run_until_stalled();
    let round2 = spawn_barrier_waiters(&spawner, &barrier, ["c", "d"]);
    pool.run_until_stalled();
    assert_eq!(*round1.borrow(), [("b", Ok(1)), ("a", Ok(0))]);
    assert_eq!(*round2.borrow(), [("d", Ok(1)), ("c", Ok(0))]);
}

#[test]
fn barrier_with_one_party_passes_at_once() {
    let barrier = Barrier::new(1);
    assert_eq!(Probe::new().poll(&mut barrier.wait()), Poll::Ready(Ok(0)));
    assert_eq!(Probe::new().poll(&mut barrier.wait()), Poll::Ready(Ok(0)));
}

#[test]
fn barrier_reports_parties_and_n_waiting() {
    let barrier = Barrier::new(3);
    assert_eq!(barrier.parties(), 3);
    assert_eq!(barrier.n_waiting(), 0);
    let mut w = barrier.wait();
    assert!(Probe::new().poll(&mut w).is_pending());
    assert_eq!(barrier.n_waiting(), 1);
}

#[test]
fn barrier_abort_breaks_waiters_and_every_later_wait() {
    let (mut pool, spawner) = pool();
    let barrier = Barrier::new(3);
    let results = spawn_barrier_waiters(&spawner, &barrier, ["a", "b"]);
    pool.run_until_stalled();
    barrier.abort();
    assert!(barrier.broken());
    assert_eq!(barrier.n_waiting(), 0);
    pool.run_until_stalled();
    assert_eq!(
        *results.borrow(),
        [
            ("a", Err(BrokenBarrierError)),
            ("b", Err(BrokenBarrierError))
        ]
    );
    let later = spawn_barrier_waiters(&spawner, &barrier, ["c", "d", "e"]);
    pool.run_until_stalled();
    assert!(
        later
            .borrow()
            .iter()
            .all(|(_, r)| *r == Err(BrokenBarrierError))
    );
}

#[test]
fn barrier_reset_breaks_current_waiters_but_not_the_barrier() {
    let (mut pool, spawner) = pool();
    let barrier = Barrier::new(2);
    let results = spawn_barrier_waiters(&spawner, &barrier, ["a"]);
    pool.run_until_stalled();
    barrier.reset();
    pool.run_until_stalled();
    assert_eq!(*results.borrow(), [("a", Err(BrokenBarrierError))]);
    assert!(!barrier.broken());
    let next = spawn_barrier_waiters(&spawner, &barrier, ["b", "c"]);
    pool.run_until_stalled();
    assert_eq!(*next.borrow(), [("c", Ok(1)), ("b", Ok(0))]);
}

#[test]
fn barrier_reset_after_abort_mends_it() {
    let barrier = Barrier::new(1);
    barrier.abort();
    assert_eq!(
        Probe::new().poll(&mut barrier.wait()),
        Poll::Ready(Err(BrokenBarrierError))
    );
    barrier.reset();
    assert!(!barrier.broken());
    assert_eq!(Probe::new().poll(&mut barrier.wait()), Poll::Ready(Ok(0)));
}

#[test]
fn barrier_cancelled_waiter_leaves_the_round() {
    let barrier = Barrier::new(2);
    let p = Probe::new();
    let mut w1 = barrier.wait();
    assert!(p.poll(&mut w1).is_pending());
    drop(w1);
    assert_eq!(barrier.n_waiting(), 0);
    assert!(
        !barrier.broken(),
        "as in asyncio, cancelling a waiter does not break the barrier"
    );
    let mut w2 = barrier.wait();
    assert!(p.poll(&mut w2).is_pending()); // still needs a second party
    assert_eq!(p.poll(&mut barrier.wait()), Poll::Ready(Ok(1)));
    assert_eq!(p.poll(&mut w2), Poll::Ready(Ok(0)));
}

#[test]
fn barrier_indices_after_a_cancelled_waiter_are_asyncios() {
    // asyncio hands out `_count` at arrival: after a cancellation the next arrival reuses an
    // index, and a waiter keeps the index it arrived with.
    let barrier = Barrier::new(3);
    let p = Probe::new();
    let (mut a, mut b) = (barrier.wait(), barrier.wait());
    assert!(p.poll(&mut a).is_pending());
    assert!(p.poll(&mut b).is_pending());
    drop(a);
    let mut c = barrier.wait();
    assert!(p.poll(&mut c).is_pending());
    assert_eq!(p.poll(&mut barrier.wait()), Poll::Ready(Ok(2)));
    assert_eq!(p.poll(&mut b), Poll::Ready(Ok(1)));
    assert_eq!(p.poll(&mut c), Poll::Ready(Ok(1)));
}

#[test]
fn barrier_waiter_dropped_after_release_does_not_disturb_the_next_round() {
    let barrier = Barrier::new(2);
    let p = Probe::new();
    let mut w1 = barrier.wait();
    assert!(p.poll(&mut w1).is_pending());
    assert_eq!(p.poll(&mut barrier.wait()), Poll::Ready(Ok(1)));
    drop(w1); // released but never resumed
    assert_eq!(barrier.n_waiting(), 0);
    let mut w3 = barrier.wait();
    assert!(p.poll(&mut w3).is_pending());
    assert_eq!(p.poll(&mut barrier.wait()), Poll::Ready(Ok(1)));
    assert_eq!(p.poll(&mut w3), Poll::Ready(Ok(0)));
}

#[test]
#[should_panic(expected = "parties must be > 0")]
fn barrier_with_zero_parties_panics() {
    let _ = Barrier::new(0);
}

#[test]
fn barrier_wakers_are_called_and_dropped_without_a_borrow_held() {
    let barrier = Barrier::new(3);
    let probe = barrier.clone();
    set_hook(move || {
        let _ = (probe.n_waiting(), probe.broken(), probe.parties());
    });
    let mut w1 = barrier.wait();
    let mut w2 = barrier.wait();
    assert!(poll_with_hook(&mut w1).is_pending());
    assert!(poll_with_hook(&mut w2).is_pending());
    drop(w2);
    barrier.abort();
    drop(w1);
}

#[test]
fn broken_barrier_error_says_what_to_do() {
    let message = BrokenBarrierError.to_string();
    assert!(message.contains("aborted"));
    assert!(message.contains("reset()"));
    let _: &dyn std::error::Error = &BrokenBarrierError;
}
