//! Ports of CPython's `Lib/test/test_asyncio/test_base_events.py` (3.13) timer tests to this
//! crate's API.
//!
//! Each test names the CPython test it ports. The mock-clock tests (`test__run_once*`,
//! `test_time_and_call_at` with a patched `time()`) have no equivalent: the virtual clock does
//! what their mocks do.

use std::cell::RefCell;
use std::rc::Rc;

use asyncio::EventLoop;

fn loop_() -> EventLoop {
    EventLoop::builder().virtual_time().build()
}

/// `test_base_events.py::test_call_later`: a timer fires at its time, not before.
#[test]
fn test_call_later() {
    let lp = loop_();
    let fired_at = Rc::new(RefCell::new(None));
    let (f, inner) = (fired_at.clone(), lp.clone());
    lp.call_later(0.1, move || *f.borrow_mut() = Some(inner.time()));
    lp.run_until_complete(asyncio::sleep(0.2)).unwrap();
    assert_eq!(*fired_at.borrow(), Some(0.1));
}

/// Timers with different deadlines fire in deadline order whatever the order they were
/// created in; equal deadlines fire in creation order (`test_base_events.py`'s heap order).
#[test]
fn timers_fire_in_deadline_order_and_fifo_among_equals() {
    let lp = loop_();
    let log = Rc::new(RefCell::new(Vec::new()));
    for (delay, name) in [(0.3, "c"), (0.1, "a"), (0.2, "b1"), (0.2, "b2")] {
        let log = log.clone();
        lp.call_later(delay, move || log.borrow_mut().push(name));
    }
    lp.run_until_complete(asyncio::sleep(1)).unwrap();
    assert_eq!(*log.borrow(), ["a", "b1", "b2", "c"]);
}

/// `test_base_events.py::test_call_later_negative_delays`: timers already in the past keep
/// their deadline order: `call_later`/`call_at` keep a past deadline as it is
/// (`Clock::deadline_at`) and the wheel fires overdue timers in deadline order.
#[test]
fn test_call_later_negative_delays() {
    let lp = loop_();
    let calls = Rc::new(RefCell::new(Vec::new()));
    let c = calls.clone();
    lp.call_later(-1.0, move || c.borrow_mut().push("a"));
    let c = calls.clone();
    lp.call_later(-2.0, move || c.borrow_mut().push("b"));
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    assert_eq!(*calls.borrow(), ["b", "a"]);
    // call_at the same way, with `when()` reporting the past deadline.
    let calls = Rc::new(RefCell::new(Vec::new()));
    let now = lp.time();
    let c = calls.clone();
    let h = lp.call_at(now - 1.0, move || c.borrow_mut().push("a"));
    let c = calls.clone();
    lp.call_at(now - 2.0, move || c.borrow_mut().push("b"));
    assert_eq!(h.when(), now - 1.0);
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    assert_eq!(*calls.borrow(), ["b", "a"]);
}

/// `test_base_events.py::test_call_soon`-like: callbacks run FIFO in the next iteration.
#[test]
fn test_call_soon_fifo() {
    let lp = loop_();
    let log = Rc::new(RefCell::new(Vec::new()));
    for n in 0..5 {
        let log = log.clone();
        lp.call_soon(move || log.borrow_mut().push(n));
    }
    lp.run_until_complete(asyncio::sleep(0)).unwrap();
    assert_eq!(*log.borrow(), [0, 1, 2, 3, 4]);
}
