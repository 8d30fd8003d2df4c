//! Generator-style coroutines (`yield` / `send` / `close`) and async generators.

use std::cell::{Cell, RefCell};
use std::error::Error;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use asyncio::{AsyncGenerator, CoState, Coroutine, CoroutineError, Generator, Yielder, async_gen};
use futures::executor::block_on;
use futures::stream::{FusedStream, Stream, StreamExt};

/// Counts how many times it was dropped.
struct DropCounter(Rc<Cell<usize>>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// A future that is pending on its first poll (waking itself at once) and ready on the
/// second: the smallest stand-in for a timer or a socket.
#[derive(Default)]
struct PendingOnce {
    polled: bool,
}

impl Future for PendingOnce {
    type Output = &'static str;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        if self.polled {
            Poll::Ready("woken")
        } else {
            self.polled = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// A waker that counts its wake-ups.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// `result = 0; while True: data = yield result; result = data * data` (ends on a bare next()).
fn squarer() -> Coroutine<i32, i32, &'static str> {
    Coroutine::new(|co| async move {
        let mut result = 0;
        while let Some(data) = co.yield_(result).await {
            result = data * data;
        }
        "no more data"
    })
}

// ----- Coroutine: next / send / return -----------------------------------------------------

#[test]
fn creating_a_coroutine_runs_none_of_its_body() {
    let ran = Rc::new(Cell::new(0));
    let counter = ran.clone();
    let mut c: Generator<()> = Generator::new(|co| async move {
        counter.set(counter.get() + 1);
        co.yield_(()).await;
    });
    assert_eq!(ran.get(), 0);
    assert_eq!(c.next(), Ok(CoState::Yielded(())));
    assert_eq!(ran.get(), 1);
}

#[test]
fn next_runs_the_body_to_its_first_yield_and_returns_that_value() {
    let mut c = squarer();
    assert_eq!(c.next(), Ok(CoState::Yielded(0)));
    assert!(!c.is_finished());
}

#[test]
fn start_primes_a_coroutine_like_next() {
    let mut c = squarer();
    assert_eq!(c.start(), Ok(CoState::Yielded(0)));
    assert_eq!(c.send(5), Ok(CoState::Yielded(25)));
}

#[test]
fn send_resumes_the_yield_with_the_sent_value() {
    let mut c = squarer();
    c.next().unwrap();
    assert_eq!(c.send(1), Ok(CoState::Yielded(1)));
    assert_eq!(c.send(2), Ok(CoState::Yielded(4)));
    assert_eq!(c.send(3), Ok(CoState::Yielded(9)));
}

#[test]
fn next_after_start_resumes_the_yield_with_none() {
    let received = Rc::new(RefCell::new(Vec::new()));
    let log = received.clone();
    let mut c: Coroutine<(), &str, ()> = Coroutine::new(|co| async move {
        for _ in 0..3 {
            let value = co.yield_(()).await;
            log.borrow_mut().push(value);
        }
    });
    c.next().unwrap();
    c.send("a").unwrap();
    c.next().unwrap();
    c.send("b").unwrap();
    assert_eq!(*received.borrow(), [Some("a"), None, Some("b")]);
}

#[test]
fn the_return_value_comes_back_as_returned_and_finishes_the_coroutine() {
    let mut c = squarer();
    c.next().unwrap();
    c.send(7).unwrap();
    assert_eq!(c.next(), Ok(CoState::Returned("no more data")));
    assert!(c.is_finished());
}

#[test]
fn a_body_without_yields_returns_on_the_first_next() {
    let mut c: Generator<(), u8> = Generator::new(|_co| async move { 42 });
    assert_eq!(c.next(), Ok(CoState::Returned(42)));
    assert!(c.is_finished());
}

#[test]
fn values_held_across_yields_survive_every_suspension() {
    let mut c: Coroutine<String, char, Vec<char>> = Coroutine::new(|co| async move {
        let mut seen = Vec::new();
        let mut text = String::new();
        while let Some(letter) = co.yield_(text.clone()).await {
            seen.push(letter);
            text.push(letter);
        }
        seen
    });
    assert_eq!(c.next(), Ok(CoState::Yielded(String::new())));
    assert_eq!(c.send('a'), Ok(CoState::Yielded("a".to_string())));
    assert_eq!(c.send('b'), Ok(CoState::Yielded("ab".to_string())));
    assert_eq!(c.send('c'), Ok(CoState::Yielded("abc".to_string())));
    assert_eq!(c.next(), Ok(CoState::Returned(vec!['a', 'b', 'c'])));
}

#[test]
fn a_body_may_await_helpers_that_yield_through_its_yielder() {
    async fn pair(co: &Yielder<u32, u32>, first: u32) -> u32 {
        let a = co.yield_(first).await.unwrap_or(0);
        let b = co.yield_(first + 1).await.unwrap_or(0);
        a + b
    }
    let mut c: Coroutine<u32, u32, u32> = Coroutine::new(|co| async move {
        let x = pair(&co, 10).await;
        let y = pair(&co, 20).await;
        x * y
    });
    assert_eq!(c.next(), Ok(CoState::Yielded(10)));
    assert_eq!(c.send(1), Ok(CoState::Yielded(11)));
    assert_eq!(c.send(2), Ok(CoState::Yielded(20)));
    assert_eq!(c.send(3), Ok(CoState::Yielded(21)));
    assert_eq!(c.send(4), Ok(CoState::Returned(3 * 7)));
}

#[test]
fn a_body_may_await_futures_that_are_already_ready() {
    let mut c: Generator<i32> = Generator::new(|co| async move {
        let n = std::future::ready(5).await;
        co.yield_(n).await;
    });
    assert_eq!(c.next(), Ok(CoState::Yielded(5)));
    assert_eq!(c.next(), Ok(CoState::Returned(())));
}

#[test]
fn two_coroutines_take_turns_on_one_thread() {
    fn my_generator(n: u32) -> Generator<u32> {
        Generator::new(move |co| async move {
            for index in 0..n {
                co.yield_(index).await;
            }
        })
    }
    let mut gen_one = my_generator(5);
    let mut gen_two = my_generator(5);
    let mut trace = Vec::new();
    for _ in 0..2 {
        trace.push((gen_one.next().unwrap().yielded(), "gen_one"));
        trace.push((gen_two.next().unwrap().yielded(), "gen_two"));
    }
    assert_eq!(
        trace,
        [
            (Some(0), "gen_one"),
            (Some(0), "gen_two"),
            (Some(1), "gen_one"),
            (Some(1), "gen_two"),
        ]
    );
}

#[test]
fn co_state_accessors_pick_one_side() {
    assert_eq!(CoState::<i32, &str>::Yielded(1).yielded(), Some(1));
    assert_eq!(CoState::<i32, &str>::Yielded(1).returned(), None);
    assert_eq!(CoState::<i32, &str>::Returned("r").returned(), Some("r"));
    assert_eq!(CoState::<i32, &str>::Returned("r").yielded(), None);
}

// ----- errors ------------------------------------------------------------------------------

#[test]
fn send_to_unstarted_coroutine_is_an_error() {
    let mut c = squarer();
    assert_eq!(c.send(3), Err(CoroutineError::NotStarted));
}

#[test]
fn a_refused_send_leaves_the_coroutine_unstarted() {
    let ran = Rc::new(Cell::new(false));
    let flag = ran.clone();
    let mut c: Coroutine<i32, i32, ()> = Coroutine::new(|co| async move {
        flag.set(true);
        co.yield_(1).await;
    });
    assert_eq!(c.send(3), Err(CoroutineError::NotStarted));
    assert!(!ran.get());
    assert!(!c.is_finished());
    assert_eq!(c.next(), Ok(CoState::Yielded(1)));
}

#[test]
fn not_started_error_says_what_python_says() {
    assert_eq!(
        CoroutineError::NotStarted.to_string(),
        "can't send non-None value to a just-started coroutine"
    );
}

#[test]
fn resuming_a_finished_coroutine_is_an_error() {
    let mut c: Coroutine<(), i32, ()> = Coroutine::new(|_co| async move {});
    assert_eq!(c.next(), Ok(CoState::Returned(())));
    assert_eq!(c.next(), Err(CoroutineError::Finished));
    assert_eq!(c.send(1), Err(CoroutineError::Finished));
    assert_eq!(
        CoroutineError::Finished.to_string(),
        "cannot resume a finished coroutine"
    );
}

#[test]
fn resuming_a_closed_coroutine_is_an_error() {
    let mut c = squarer();
    c.next().unwrap();
    c.close();
    assert_eq!(c.send(2), Err(CoroutineError::Finished));
    assert_eq!(c.next(), Err(CoroutineError::Finished));
}

#[test]
fn sending_to_a_closed_unstarted_coroutine_reports_finished() {
    let mut c = squarer();
    c.close();
    assert!(c.is_finished());
    assert_eq!(c.send(2), Err(CoroutineError::Finished));
}

#[test]
fn coroutine_errors_are_std_errors_that_propagate_with_question_mark() {
    fn resume_three_times(g: &mut Generator<()>) -> Result<(), Box<dyn Error>> {
        g.next()?;
        g.next()?;
        g.next()?;
        Ok(())
    }
    let mut g: Generator<()> = Generator::new(|co| async move {
        co.yield_(()).await;
    });
    let error = resume_three_times(&mut g).unwrap_err();
    assert_eq!(error.to_string(), "cannot resume a finished coroutine");
    assert_eq!(
        error.downcast_ref::<CoroutineError>(),
        Some(&CoroutineError::Finished)
    );
    let boxed: Box<dyn Error> = Box::new(CoroutineError::ForeignAwait);
    assert!(boxed.to_string().contains("may only await its yielder"));
}

#[test]
fn a_body_awaiting_a_foreign_future_is_a_clear_error_not_a_hang() {
    let drops = Rc::new(Cell::new(0));
    let guard = DropCounter(drops.clone());
    let mut c: Generator<i32> = Generator::new(|co| async move {
        let _guard = guard;
        co.yield_(1).await;
        PendingOnce::default().await; // no event loop will ever wake this
        co.yield_(2).await;
    });
    assert_eq!(c.next(), Ok(CoState::Yielded(1)));
    let error = c.next().unwrap_err();
    assert_eq!(error, CoroutineError::ForeignAwait);
    assert!(
        error
            .to_string()
            .starts_with("a coroutine body may only await its yielder")
    );
    assert!(c.is_finished());
    assert_eq!(drops.get(), 1, "the failed body is dropped");
    assert_eq!(c.next(), Err(CoroutineError::Finished));
}

#[test]
#[should_panic(expected = "a coroutine body may only await its yielder")]
fn iterating_a_body_that_awaits_a_foreign_future_panics_with_the_clear_message() {
    let g: Generator<i32> = Generator::new(|_co| async move {
        PendingOnce::default().await;
    });
    for _ in g {}
}

#[test]
#[should_panic(expected = "may only be awaited inside the body")]
fn a_yielder_smuggled_out_of_its_body_panics_when_awaited() {
    let smuggled: Rc<RefCell<Option<Yielder<i32>>>> = Rc::default();
    let out = smuggled.clone();
    let mut g: Generator<i32> = Generator::new(move |co| {
        *out.borrow_mut() = Some(co);
        async move {}
    });
    g.next().unwrap();
    let co = smuggled.borrow_mut().take().unwrap();
    block_on(co.yield_(1));
}

#[test]
fn a_panicking_body_finishes_the_coroutine() {
    let mut g: Generator<i32> = Generator::new(|co| async move {
        co.yield_(1).await;
        panic!("boom");
    });
    g.next().unwrap();
    let outcome = catch_unwind(AssertUnwindSafe(|| g.next()));
    assert!(outcome.is_err());
    assert!(g.is_finished());
    assert_eq!(g.next(), Err(CoroutineError::Finished));
}

#[test]
#[should_panic(expected = "yielded twice without being resumed")]
fn yielding_twice_in_one_step_panics_with_a_clear_message() {
    let mut g: Generator<i32> = Generator::new(|co| async move {
        futures::future::join(co.yield_(1), co.yield_(2)).await;
    });
    let _ = g.next();
}

// ----- close and destructors ---------------------------------------------------------------

#[test]
fn close_runs_the_destructors_of_values_the_body_holds() {
    let drops = Rc::new(Cell::new(0));
    let guard = DropCounter(drops.clone());
    let mut g: Generator<u32> = Generator::new(|co| async move {
        let _held = guard;
        let _local = DropCounter(_held.0.clone());
        loop {
            co.yield_(1).await;
        }
    });
    g.next().unwrap();
    g.next().unwrap();
    assert_eq!(drops.get(), 0);
    g.close();
    assert_eq!(drops.get(), 2);
    assert!(g.is_finished());
}

#[test]
fn closing_twice_is_fine_and_drops_once() {
    let drops = Rc::new(Cell::new(0));
    let guard = DropCounter(drops.clone());
    let mut g: Generator<()> = Generator::new(|co| async move {
        let _held = guard;
        co.yield_(()).await;
    });
    g.next().unwrap();
    g.close();
    g.close();
    assert_eq!(drops.get(), 1);
}

#[test]
fn closing_an_unstarted_coroutine_drops_what_its_body_captured() {
    let drops = Rc::new(Cell::new(0));
    let guard = DropCounter(drops.clone());
    let mut g: Generator<()> = Generator::new(|_co| async move {
        let _held = guard;
    });
    g.close();
    assert_eq!(drops.get(), 1);
}

#[test]
fn dropping_a_suspended_coroutine_runs_the_destructors() {
    let drops = Rc::new(Cell::new(0));
    let guard = DropCounter(drops.clone());
    let mut g: Generator<()> = Generator::new(|co| async move {
        let _held = guard;
        co.yield_(()).await;
    });
    g.next().unwrap();
    drop(g);
    assert_eq!(drops.get(), 1);
}

#[test]
fn a_body_that_returns_drops_its_values_once() {
    let drops = Rc::new(Cell::new(0));
    let guard = DropCounter(drops.clone());
    let mut g: Generator<()> = Generator::new(|co| async move {
        let _held = guard;
        co.yield_(()).await;
    });
    g.next().unwrap();
    assert_eq!(g.next(), Ok(CoState::Returned(())));
    assert_eq!(drops.get(), 1);
    g.close();
    assert_eq!(drops.get(), 1);
}

// ----- Iterator ----------------------------------------------------------------------------

fn fib(n: usize) -> Generator<u64> {
    Generator::new(move |co| async move {
        let (mut a, mut b) = (0, 1);
        for _ in 0..n {
            co.yield_(b).await;
            (a, b) = (b, a + b);
        }
    })
}

#[test]
fn a_generator_is_an_iterator_usable_in_a_for_loop() {
    let mut seen = Vec::new();
    for item in fib(10) {
        seen.push(item);
    }
    assert_eq!(seen, [1, 1, 2, 3, 5, 8, 13, 21, 34, 55]);
}

#[test]
fn a_generator_works_with_iterator_adapters() {
    let evens: Vec<u64> = fib(10).filter(|n| n % 2 == 0).collect();
    assert_eq!(evens, [2, 8, 34]);
    let firsts: Vec<u64> = fib(1000).take(3).collect();
    assert_eq!(firsts, [1, 1, 2]);
}

#[test]
fn an_exhausted_generator_keeps_returning_none() {
    let mut g = fib(1);
    assert_eq!(Iterator::next(&mut g), Some(1));
    assert_eq!(Iterator::next(&mut g), None);
    assert_eq!(Iterator::next(&mut g), None);
    assert!(g.is_finished());
}

#[test]
fn iterating_a_coroutine_resumes_each_yield_with_none() {
    let received = Rc::new(RefCell::new(Vec::new()));
    let log = received.clone();
    let c: Coroutine<u8, u8, ()> = Coroutine::new(|co| async move {
        for n in 0..3 {
            let value = co.yield_(n).await;
            log.borrow_mut().push(value);
        }
    });
    assert_eq!(c.collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(*received.borrow(), [None, None, None]);
}

// ----- async generators --------------------------------------------------------------------

#[test]
fn an_async_generator_is_consumed_with_while_let_like_async_for() {
    let mut numbers = async_gen(|co| async move {
        for n in 1..=3 {
            co.yield_(n).await;
        }
    });
    let seen = block_on(async {
        let mut seen = Vec::new();
        while let Some(n) = numbers.next().await {
            seen.push(n);
        }
        seen
    });
    assert_eq!(seen, [1, 2, 3]);
}

#[test]
fn an_async_generator_collects_like_an_async_comprehension() {
    let squares = async_gen(|co| async move {
        for n in 0..5u32 {
            co.yield_(n * n).await;
        }
    });
    let all: Vec<u32> = block_on(squares.collect());
    assert_eq!(all, [0, 1, 4, 9, 16]);
}

#[test]
fn an_async_generator_body_may_await_pending_futures_between_yields() {
    let trace = Rc::new(RefCell::new(Vec::new()));
    let log = trace.clone();
    let stream = async_gen(|co| async move {
        for n in 0..3 {
            let woke = PendingOnce::default().await;
            log.borrow_mut().push(woke);
            co.yield_(n).await;
        }
    });
    let all: Vec<i32> = block_on(stream.collect());
    assert_eq!(all, [0, 1, 2]);
    assert_eq!(*trace.borrow(), ["woken", "woken", "woken"]);
}

#[test]
fn an_async_generator_passes_the_consumers_waker_to_what_it_awaits() {
    let wakes = Arc::new(CountingWaker::default());
    let waker = Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);
    let mut stream = async_gen(|co| async move {
        let word = PendingOnce::default().await;
        co.yield_(word).await;
    });
    assert_eq!(Pin::new(&mut stream).poll_next(&mut cx), Poll::Pending);
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
    assert_eq!(
        Pin::new(&mut stream).poll_next(&mut cx),
        Poll::Ready(Some("woken"))
    );
    assert_eq!(Pin::new(&mut stream).poll_next(&mut cx), Poll::Ready(None));
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
}

#[test]
fn an_async_generator_runs_nothing_until_polled() {
    let ran = Rc::new(Cell::new(false));
    let flag = ran.clone();
    let mut stream = AsyncGenerator::new(|co| async move {
        flag.set(true);
        co.yield_(()).await;
    });
    assert!(!ran.get());
    assert_eq!(block_on(stream.next()), Some(()));
    assert!(ran.get());
}

#[test]
fn an_async_generator_body_resumes_only_when_the_next_item_is_asked_for() {
    let steps = Rc::new(Cell::new(0));
    let counter = steps.clone();
    let mut stream = async_gen(|co| async move {
        for n in 0..3 {
            counter.set(counter.get() + 1);
            co.yield_(n).await;
        }
    });
    block_on(async {
        assert_eq!(stream.next().await, Some(0));
        assert_eq!(steps.get(), 1);
        assert_eq!(stream.next().await, Some(1));
        assert_eq!(steps.get(), 2);
    });
}

#[test]
fn a_finished_async_generator_is_terminated_and_stays_empty() {
    let mut stream = async_gen(|co| async move {
        co.yield_(1).await;
    });
    block_on(async {
        assert!(!stream.is_terminated());
        assert_eq!(stream.next().await, Some(1));
        assert_eq!(stream.next().await, None);
        assert!(stream.is_terminated());
        assert!(stream.is_finished());
        assert_eq!(stream.next().await, None);
    });
}

#[test]
fn closing_an_async_generator_drops_its_body() {
    let drops = Rc::new(Cell::new(0));
    let guard = DropCounter(drops.clone());
    let mut stream = async_gen(|co| async move {
        let _held = guard;
        loop {
            co.yield_(0).await;
        }
    });
    block_on(async {
        assert_eq!(stream.next().await, Some(0));
        assert_eq!(drops.get(), 0);
        stream.close();
        stream.close();
        assert_eq!(drops.get(), 1);
        assert_eq!(stream.next().await, None);
    });
}

#[test]
fn a_panicking_async_generator_body_ends_the_stream() {
    let mut stream = async_gen(|co| async move {
        co.yield_(1).await;
        panic!("boom");
    });
    assert_eq!(block_on(stream.next()), Some(1));
    let outcome = catch_unwind(AssertUnwindSafe(|| block_on(stream.next())));
    assert!(outcome.is_err());
    assert!(stream.is_finished());
    assert_eq!(block_on(stream.next()), None);
}
