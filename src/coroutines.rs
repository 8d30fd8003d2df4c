//! Generator-style coroutines (`yield`, `send`, `close`) and async generators
//! (`async for`), built on `async`/`await` with no event loop.
//!
//! Python had coroutines before it had `async def`: a function containing `yield` is a
//! *generator*, and a generator that receives values through `send()` is a coroutine.
//! Stable Rust has no `yield` keyword, but an `async` block is already a state machine that
//! can stop in the middle and be resumed later. This module turns one into the other:
//!
//! | Python                                   | Rust                                                        |
//! |------------------------------------------|-------------------------------------------------------------|
//! | `def gen(): ... x = yield y ...`         | `Coroutine::new(\|co\| async move { let x = co.yield_(y).await; })` |
//! | `next(g)`, `g.send(None)`                | [`g.next()`](Coroutine::next), [`g.start()`](Coroutine::start) |
//! | `g.send(v)`                              | [`g.send(v)`](Coroutine::send)                              |
//! | the value of `StopIteration`             | [`CoState::Returned`]                                       |
//! | `g.close()`                              | [`g.close()`](Coroutine::close)                             |
//! | `for x in g:`                            | `for x in g` ([`Coroutine`] is an [`Iterator`])             |
//! | `async def agen(): ... yield x ...`      | [`async_gen(\|co\| async move { co.yield_(x).await; })`](async_gen) |
//! | `async for x in agen:`                   | `while let Some(x) = agen.next().await` (`StreamExt`)       |
//! | `[x async for x in agen]`                | `agen.collect::<Vec<_>>().await`                            |
//!
//! # How a coroutine runs
//!
//! The body is a future that owns a [`Yielder`]. [`Coroutine`] polls it once per resume, with
//! [`Waker::noop()`](std::task::Waker::noop): nothing will ever wake it, because the only
//! thing it is allowed to wait for is the caller's next `send`. Both sides share one slot:
//!
//! ```text
//!   caller (Coroutine)                 slot                       body (async block)
//!   send(v) ── resume = Some(Some(v)) ──> [resume] ──> yield_(..).await returns Some(v)
//!   Yielded(y) <── yielded.take() <────── [yielded] <── co.yield_(y).await parks y, Pending
//! ```
//!
//! The states, and the calls that move between them (Python's `inspect.getgeneratorstate`
//! calls them `GEN_CREATED`, `GEN_SUSPENDED` and `GEN_CLOSED`):
//!
//! ```text
//!                next() / start()               send(v) / next()
//!   CREATED ──────────────────────> SUSPENDED ───────────────────> SUSPENDED
//!      │                                │
//!      │ close(), or a first next()     │ body returns -> Returned(r)
//!      │ whose body returns at once     │ close()
//!      │                                │ body awaited something else -> Err(ForeignAwait)
//!      v                                v
//!   FINISHED <──────────────────────────┘        any resume from here -> Err(Finished)
//! ```
//!
//! An [`AsyncGenerator`] shares the slot and the [`Yielder`], but its body is polled with the
//! real [`Context`] of whoever consumes the stream, so between two yields it may await
//! anything: a timer, a lock, another task.
#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::iter::FusedIterator;
use std::mem;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use ::futures::stream::{FusedStream, Stream};

/// A body future, type-erased so that `Coroutine<Y, S, R>` names no closure type.
type Body<R> = Pin<Box<dyn Future<Output = R>>>;

/// The mailbox shared by a [`Yielder`] (the body's side) and its driver ([`Coroutine`] or
/// [`AsyncGenerator`]). Borrows of it are short and never held while user code runs.
struct Slot<Y, S> {
    /// True only while the driver is polling the body. A [`Yield`] polled at any other time
    /// was smuggled out of its body, which is a bug we report instead of hanging.
    driving: bool,
    /// Body -> caller: the value passed to the `yield_` the body has just stopped at.
    yielded: Option<Y>,
    /// Caller -> body: what the pending `yield_` evaluates to. The outer `Option` says whether
    /// a resume has been delivered; the inner one is `None` for `next()`, `Some(v)` for `send(v)`.
    resume: Option<Option<S>>,
}

type SharedSlot<Y, S> = Rc<RefCell<Slot<Y, S>>>;

fn new_slot<Y, S>() -> SharedSlot<Y, S> {
    Rc::new(RefCell::new(Slot {
        driving: false,
        yielded: None,
        resume: None,
    }))
}

// ---------------------------------------------------------------------------------------------
// Yielder and Yield: the body's side
// ---------------------------------------------------------------------------------------------

/// The body's handle for `yield`: Python's `x = yield value` is `let x = co.yield_(value).await`.
///
/// A [`Coroutine`] or [`AsyncGenerator`] creates one and passes it to the body closure; it is
/// the only thing a [`Coroutine`] body may await. `S` is the type of the values sent in with
/// [`Coroutine::send`]; async generators use the default `S = ()`.
///
/// # Examples
///
/// ```
/// use asyncio::{CoState, Coroutine, Yielder};
///
/// // A helper that yields twice, shared by any body that holds a `&Yielder`.
/// async fn twice(co: &Yielder<&'static str, i32>) -> i32 {
///     let a = co.yield_("first").await.unwrap_or(0);
///     let b = co.yield_("second").await.unwrap_or(0);
///     a + b
/// }
///
/// let mut c = Coroutine::new(|co| async move { twice(&co).await });
/// assert_eq!(c.next(), Ok(CoState::Yielded("first")));
/// assert_eq!(c.send(2), Ok(CoState::Yielded("second")));
/// assert_eq!(c.send(3), Ok(CoState::Returned(5)));
/// ```
pub struct Yielder<Y, S = ()> {
    slot: SharedSlot<Y, S>,
}

impl<Y, S> Yielder<Y, S> {
    /// Python's `yield value`: hands `value` to the caller and suspends the body until the
    /// caller resumes it.
    ///
    /// The returned [`Yield`] future evaluates to what the caller resumed with:
    /// `Some(v)` after [`Coroutine::send(v)`](Coroutine::send), `None` after
    /// [`Coroutine::next`] (Python's `x = yield y` gives `None` after `next()`). In an
    /// [`AsyncGenerator`] it always evaluates to `None`.
    ///
    /// Nothing happens until the future is awaited, and it must be awaited inside the body
    /// this yielder was given to (it panics anywhere else).
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{CoState, Coroutine};
    ///
    /// let mut echo: Coroutine<String, String, &str> = Coroutine::new(|co| async move {
    ///     let mut received: Option<String> = co.yield_("ready".to_string()).await;
    ///     while let Some(text) = received {
    ///         received = co.yield_(text.to_uppercase()).await;
    ///     }
    ///     "bye"
    /// });
    /// assert_eq!(echo.next(), Ok(CoState::Yielded("ready".to_string())));
    /// assert_eq!(echo.send("hi".into()), Ok(CoState::Yielded("HI".to_string())));
    /// // A bare next() makes `yield_` evaluate to None, which ends the loop.
    /// assert_eq!(echo.next(), Ok(CoState::Returned("bye")));
    /// ```
    pub fn yield_(&self, value: Y) -> Yield<'_, Y, S> {
        Yield {
            yielder: self,
            state: YieldState::NotYet(value),
        }
    }
}

impl<Y, S> fmt::Debug for Yielder<Y, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Yielder").finish_non_exhaustive()
    }
}

/// The future returned by [`Yielder::yield_`]: the `yield` expression itself.
///
/// Its first poll parks the value in the shared slot and returns `Pending`, which is how the
/// body stops; the poll after the caller's resume returns what was sent.
///
/// # Examples
///
/// ```
/// use asyncio::{CoState, Generator};
///
/// let mut g: Generator<u8> = Generator::new(|co| async move {
///     let pending = co.yield_(7); // nothing is yielded yet...
///     pending.await;              // ...only here
/// });
/// assert_eq!(g.next(), Ok(CoState::Yielded(7)));
/// assert_eq!(g.next(), Ok(CoState::Returned(())));
/// ```
#[must_use = "nothing is yielded until the `yield_` future is awaited"]
pub struct Yield<'a, Y, S = ()> {
    yielder: &'a Yielder<Y, S>,
    state: YieldState<Y>,
}

/// Where one `yield` expression is in its life.
enum YieldState<Y> {
    /// Not polled yet: still holds the value to hand out.
    NotYet(Y),
    /// The value was handed out; waiting for the caller to resume the body.
    Suspended,
    /// The resume value was returned.
    Done,
}

// `Yield` never pins its value in place (it only moves it into the slot), so it is `Unpin`
// whatever `Y` is. Implementing `Unpin` is safe; it is what lets `poll` take `get_mut()`.
impl<Y, S> Unpin for Yield<'_, Y, S> {}

impl<Y, S> Future for Yield<'_, Y, S> {
    type Output = Option<S>;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<S>> {
        let this = self.get_mut();
        let mut slot = this.yielder.slot.borrow_mut();
        assert!(
            slot.driving,
            "a Yielder may only be awaited inside the body of the coroutine or async generator \
             it was given to"
        );
        match mem::replace(&mut this.state, YieldState::Suspended) {
            YieldState::NotYet(value) => {
                assert!(
                    slot.yielded.is_none(),
                    "a coroutine body yielded twice without being resumed (two `yield_` futures \
                     awaited concurrently); await one `yield_` at a time"
                );
                slot.yielded = Some(value);
                Poll::Pending
            }
            YieldState::Suspended => match slot.resume.take() {
                Some(received) => {
                    this.state = YieldState::Done;
                    Poll::Ready(received)
                }
                None => Poll::Pending,
            },
            YieldState::Done => panic!("`Yield` future polled after it completed"),
        }
    }
}

impl<Y, S> fmt::Debug for Yield<'_, Y, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            YieldState::NotYet(_) => "not yet yielded",
            YieldState::Suspended => "suspended",
            YieldState::Done => "done",
        };
        f.debug_struct("Yield").field("state", &state).finish()
    }
}

// ---------------------------------------------------------------------------------------------
// Coroutine: the caller's side
// ---------------------------------------------------------------------------------------------

/// What a resumed coroutine did: stopped at a `yield`, or returned.
///
/// Python's `send()` returns the yielded value or raises `StopIteration(value)`; in Rust both
/// outcomes are values of this enum.
///
/// # Examples
///
/// ```
/// use asyncio::{CoState, Generator};
///
/// let mut g: Generator<&str, usize> = Generator::new(|co| async move {
///     co.yield_("a").await;
///     1
/// });
/// assert_eq!(g.next().unwrap().yielded(), Some("a"));
/// assert_eq!(g.next().unwrap(), CoState::Returned(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoState<Y, R> {
    /// The body stopped at `yield value`; it can be resumed again.
    Yielded(Y),
    /// The body returned this value (Python's `StopIteration.value`); the coroutine is
    /// finished.
    Returned(R),
}

impl<Y, R> CoState<Y, R> {
    /// The yielded value, or `None` if the coroutine returned.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::CoState;
    ///
    /// assert_eq!(CoState::<i32, ()>::Yielded(3).yielded(), Some(3));
    /// assert_eq!(CoState::<i32, ()>::Returned(()).yielded(), None);
    /// ```
    pub fn yielded(self) -> Option<Y> {
        match self {
            CoState::Yielded(value) => Some(value),
            CoState::Returned(_) => None,
        }
    }

    /// The returned value (Python's `StopIteration.value`), or `None` if the coroutine
    /// yielded.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::CoState;
    ///
    /// assert_eq!(CoState::<(), &str>::Returned("done").returned(), Some("done"));
    /// assert_eq!(CoState::<(), &str>::Yielded(()).returned(), None);
    /// ```
    pub fn returned(self) -> Option<R> {
        match self {
            CoState::Yielded(_) => None,
            CoState::Returned(value) => Some(value),
        }
    }
}

/// Why a coroutine could not be resumed.
///
/// # Examples
///
/// ```
/// use asyncio::{Coroutine, CoroutineError};
///
/// let mut c: Coroutine<(), i32, ()> = Coroutine::new(|co| async move {
///     co.yield_(()).await;
/// });
/// assert_eq!(c.send(1), Err(CoroutineError::NotStarted));
/// c.close();
/// assert_eq!(c.next(), Err(CoroutineError::Finished));
/// assert_eq!(
///     CoroutineError::Finished.to_string(),
///     "cannot resume a finished coroutine"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CoroutineError {
    /// [`Coroutine::send`] with a value before the body has reached its first `yield`; there
    /// is no `yield` to receive it yet. Start the coroutine with [`Coroutine::next`] first
    /// (Python's `TypeError` for `send(x)` on a new generator).
    NotStarted,
    /// The coroutine has returned or was closed, so it cannot be resumed (Python raises
    /// `StopIteration` again).
    Finished,
    /// The body awaited a future other than its [`Yielder`] and that future was not ready. A
    /// [`Coroutine`] has no event loop to wait with, so the body was dropped and the coroutine
    /// is finished. Use [`async_gen`] for a body that awaits timers or I/O.
    ForeignAwait,
}

impl fmt::Display for CoroutineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CoroutineError::NotStarted => "can't send non-None value to a just-started coroutine",
            CoroutineError::Finished => "cannot resume a finished coroutine",
            CoroutineError::ForeignAwait => {
                "a coroutine body may only await its yielder, but it awaited another future \
                 that was not ready; the coroutine was closed (use async_gen for a body that \
                 awaits timers or I/O)"
            }
        })
    }
}

impl Error for CoroutineError {}

/// A Python generator-based coroutine: a body that stops at each `yield`, hands a value out,
/// and is resumed with a value sent in.
///
/// `Y` is the type yielded, `S` the type sent in, `R` the type returned. The body is a
/// closure taking a [`Yielder`] and returning a future (usually an `async move` block);
/// calling [`new`](Coroutine::new) runs none of it, just like calling a generator function in
/// Python.
///
/// # Resuming with nothing
///
/// Python's `x = yield y` evaluates to `None` after `next(g)` and to `v` after `g.send(v)`.
/// The faithful Rust type for "`None` or a value" is `Option<S>`, so
/// [`co.yield_(y).await`](Yielder::yield_) evaluates to `Option<S>`: `None` after
/// [`next`](Coroutine::next), `Some(v)` after [`send(v)`](Coroutine::send). This asks nothing
/// of `S` (no `Default`) and lets a body tell "resumed with no value" from every real value,
/// as the tutorials' programs do with `if not n: return`.
///
/// # Examples
///
/// The producer/consumer pair from the tutorials, where the consumer is a coroutine:
///
/// ```
/// use asyncio::{CoState, Coroutine};
///
/// let mut consumer: Coroutine<i32, i32, &str> = Coroutine::new(|co| async move {
///     let mut result = 0;
///     // `data = yield result`; a bare next() ends the consumer.
///     while let Some(data) = co.yield_(result).await {
///         result = data * data;
///     }
///     "done"
/// });
/// assert_eq!(consumer.next(), Ok(CoState::Yielded(0))); // prime it: run to the first yield
/// assert_eq!(consumer.send(3), Ok(CoState::Yielded(9)));
/// assert_eq!(consumer.send(4), Ok(CoState::Yielded(16)));
/// assert_eq!(consumer.next(), Ok(CoState::Returned("done")));
/// assert!(consumer.is_finished());
/// ```
pub struct Coroutine<Y, S, R> {
    slot: SharedSlot<Y, S>,
    /// `None` once finished: returned, closed, or failed.
    body: Option<Body<R>>,
    /// Whether the body has been polled at least once (Python's `GEN_CREATED` is `!started`).
    started: bool,
}

/// A plain Python generator: a [`Coroutine`] that is never sent anything.
///
/// It is an [`Iterator`] over the yielded values. (For an ordinary generator, an ordinary
/// Rust [`Iterator`] such as [`std::iter::from_fn`] is usually simpler; this alias is for code
/// that reads better with `yield`.)
///
/// # Examples
///
/// ```
/// use asyncio::Generator;
///
/// fn countdown(from: u32) -> Generator<u32> {
///     Generator::new(move |co| async move {
///         for n in (1..=from).rev() {
///             co.yield_(n).await;
///         }
///     })
/// }
/// assert_eq!(countdown(3).collect::<Vec<_>>(), [3, 2, 1]);
/// ```
pub type Generator<Y, R = ()> = Coroutine<Y, (), R>;

impl<Y, S, R> Coroutine<Y, S, R> {
    /// Creates a coroutine from its body, without running any of it (Python: calling a
    /// generator function).
    ///
    /// `body` receives the [`Yielder`] and returns the future to drive; it may await only that
    /// yielder (see [`CoroutineError::ForeignAwait`]). The future must be `'static`: like a
    /// Python generator's frame, the body owns what it uses (move values in, or share them
    /// through `Rc`).
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{CoState, Coroutine};
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// let ran = Rc::new(Cell::new(false));
    /// let flag = ran.clone();
    /// let mut c: Coroutine<(), (), ()> = Coroutine::new(|_co| async move { flag.set(true) });
    /// assert!(!ran.get()); // nothing runs until the first resume
    /// assert_eq!(c.next(), Ok(CoState::Returned(())));
    /// assert!(ran.get());
    /// ```
    pub fn new<F, Fut>(body: F) -> Self
    where
        F: FnOnce(Yielder<Y, S>) -> Fut,
        Fut: Future<Output = R> + 'static,
    {
        let slot = new_slot();
        let future = body(Yielder { slot: slot.clone() });
        Coroutine {
            slot,
            body: Some(Box::pin(future)),
            started: false,
        }
    }

    /// Python's `g.send(value)`: resumes the body, making its pending `yield_` evaluate to
    /// `Some(value)`, and runs it to the next `yield` or to its end.
    ///
    /// # Errors
    ///
    /// [`CoroutineError::NotStarted`] if the body has not run yet (call
    /// [`next`](Coroutine::next) first), [`CoroutineError::Finished`] if it has finished, and
    /// [`CoroutineError::ForeignAwait`] if it awaited something other than its yielder.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{CoState, Coroutine};
    ///
    /// // `a = yield 1; while True: a = yield a`
    /// let mut num: Coroutine<Option<i32>, i32, ()> = Coroutine::new(|co| async move {
    ///     let mut a = co.yield_(Some(1)).await;
    ///     loop {
    ///         a = co.yield_(a).await;
    ///     }
    /// });
    /// assert_eq!(num.next(), Ok(CoState::Yielded(Some(1))));
    /// assert_eq!(num.send(5), Ok(CoState::Yielded(Some(5))));
    /// assert_eq!(num.send(100), Ok(CoState::Yielded(Some(100))));
    /// ```
    pub fn send(&mut self, value: S) -> Result<CoState<Y, R>, CoroutineError> {
        if self.body.is_some() && !self.started {
            return Err(CoroutineError::NotStarted);
        }
        self.resume(Some(value))
    }

    /// Python's `next(g)` or `g.send(None)`: resumes the body with no value (its pending
    /// `yield_` evaluates to `None`), or starts it if it has not run yet.
    ///
    /// # Errors
    ///
    /// [`CoroutineError::Finished`] if the coroutine has finished, and
    /// [`CoroutineError::ForeignAwait`] if the body awaited something other than its yielder.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{CoState, Generator};
    ///
    /// let mut g: Generator<char> = Generator::new(|co| async move {
    ///     co.yield_('x').await;
    /// });
    /// assert_eq!(g.next(), Ok(CoState::Yielded('x')));
    /// assert_eq!(g.next(), Ok(CoState::Returned(())));
    /// ```
    #[allow(clippy::should_implement_trait)] // Python's name; `Iterator` is implemented too.
    pub fn next(&mut self) -> Result<CoState<Y, R>, CoroutineError> {
        self.resume(None)
    }

    /// Primes a new coroutine: runs the body to its first `yield` and returns that value.
    ///
    /// This is the same call as [`next`](Coroutine::next) (Python spells it `c.send(None)` or
    /// `next(c)`); the name says why it is there.
    ///
    /// # Errors
    ///
    /// As for [`next`](Coroutine::next).
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{CoState, Coroutine};
    ///
    /// let mut doubler: Coroutine<i32, i32, ()> = Coroutine::new(|co| async move {
    ///     let mut out = 0;
    ///     while let Some(n) = co.yield_(out).await {
    ///         out = 2 * n;
    ///     }
    /// });
    /// assert_eq!(doubler.start(), Ok(CoState::Yielded(0)));
    /// assert_eq!(doubler.send(21), Ok(CoState::Yielded(42)));
    /// ```
    pub fn start(&mut self) -> Result<CoState<Y, R>, CoroutineError> {
        self.resume(None)
    }

    /// Python's `g.close()`: finishes the coroutine where it stands, dropping the body and
    /// everything it holds (their destructors run now, like `finally` blocks do in Python).
    /// Closing a finished coroutine does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{CoState, CoroutineError, Generator};
    ///
    /// let mut g: Generator<i32> = Generator::new(|co| async move {
    ///     loop {
    ///         co.yield_(1).await;
    ///     }
    /// });
    /// assert_eq!(g.next(), Ok(CoState::Yielded(1)));
    /// g.close();
    /// g.close(); // twice is fine
    /// assert!(g.is_finished());
    /// assert_eq!(g.next(), Err(CoroutineError::Finished));
    /// ```
    pub fn close(&mut self) {
        // Take the body out first so that its destructors run with `self` consistent.
        let body = self.body.take();
        drop(body);
    }

    /// Whether the coroutine has finished: returned, been closed, or failed with
    /// [`CoroutineError::ForeignAwait`]. A finished coroutine cannot be resumed.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::Generator;
    ///
    /// let mut g: Generator<()> = Generator::new(|_co| async move {});
    /// assert!(!g.is_finished());
    /// g.next().unwrap();
    /// assert!(g.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.body.is_none()
    }

    /// Runs the body until it yields, returns or waits on something foreign.
    fn resume(&mut self, received: Option<S>) -> Result<CoState<Y, R>, CoroutineError> {
        // Taken out for the duration of the poll: if the body panics, it is dropped during
        // unwinding and the coroutine stays finished, as a Python generator does after raising.
        let Some(mut body) = self.body.take() else {
            return Err(CoroutineError::Finished);
        };
        {
            let mut slot = self.slot.borrow_mut();
            slot.driving = true;
            // The very first poll runs from the top of the body: no `yield` is waiting.
            slot.resume = if self.started { Some(received) } else { None };
        }
        self.started = true;

        let poll = body.as_mut().poll(&mut Context::from_waker(Waker::noop()));

        let yielded = {
            let mut slot = self.slot.borrow_mut();
            slot.driving = false;
            slot.resume = None;
            slot.yielded.take()
        };
        match (poll, yielded) {
            // A value yielded in the same step as returning (only possible with concurrency
            // inside the body) has nobody to go to: like Python, the return wins.
            (Poll::Ready(value), _) => Ok(CoState::Returned(value)),
            (Poll::Pending, Some(value)) => {
                self.body = Some(body);
                Ok(CoState::Yielded(value))
            }
            // Pending without a yield: the body waits for something only an event loop could
            // deliver. Waiting here would hang forever, so fail loudly; `body` drops here.
            (Poll::Pending, None) => Err(CoroutineError::ForeignAwait),
        }
    }
}

impl<Y, S, R> fmt::Debug for Coroutine<Y, S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match (self.started, self.body.is_some()) {
            (false, true) => "created",
            (true, true) => "suspended",
            (_, false) => "finished",
        };
        f.debug_struct("Coroutine").field("state", &state).finish()
    }
}

/// Python's `for x in g:`: iterates over the yielded values, resuming with `next()` each time,
/// and stops when the body returns (its return value is dropped, as a `for` loop drops
/// `StopIteration.value`).
///
/// # Panics
///
/// `next` panics if the body awaits something other than its yielder
/// ([`CoroutineError::ForeignAwait`]); an `Iterator` has no way to return that error.
///
/// # Examples
///
/// ```
/// use asyncio::Generator;
///
/// let squares: Generator<u32> = Generator::new(|co| async move {
///     for n in 1..=4 {
///         co.yield_(n * n).await;
///     }
/// });
/// let mut seen = Vec::new();
/// for square in squares {
///     seen.push(square);
/// }
/// assert_eq!(seen, [1, 4, 9, 16]);
/// ```
impl<Y, S, R> Iterator for Coroutine<Y, S, R> {
    type Item = Y;

    fn next(&mut self) -> Option<Y> {
        match self.resume(None) {
            Ok(CoState::Yielded(value)) => Some(value),
            Ok(CoState::Returned(_)) | Err(CoroutineError::Finished) => None,
            Err(error) => panic!("{error}"),
        }
    }
}

impl<Y, S, R> FusedIterator for Coroutine<Y, S, R> {}

// ---------------------------------------------------------------------------------------------
// Async generators
// ---------------------------------------------------------------------------------------------

/// Python's async generator (`async def` with `yield`): a [`Stream`] whose body may await
/// anything between two yields.
///
/// Unlike [`Coroutine`], the body is polled with the consumer's real [`Context`], so awaiting
/// a timer or any other future parks the consumer until that future wakes it. Consume it with
/// [`StreamExt::next`](futures::StreamExt::next) (Python's `async for`) or
/// [`StreamExt::collect`](futures::StreamExt::collect) (an async comprehension). Dropping it or
/// calling [`close`](AsyncGenerator::close) drops the body (Python's `aclose()`).
///
/// # Examples
///
/// ```
/// use asyncio::async_gen;
/// use futures::StreamExt;
///
/// async fn fetch(n: u32) -> u32 {
///     n * 10 // stands in for real I/O
/// }
///
/// let mut pages = async_gen(|co| async move {
///     for n in 1..=3 {
///         let page = fetch(n).await; // awaiting between yields is fine here
///         co.yield_(page).await;
///     }
/// });
/// asyncio::run(async {
///     // async for page in pages:
///     while let Some(page) = pages.next().await {
///         assert_eq!(page % 10, 0);
///     }
/// });
/// ```
pub struct AsyncGenerator<Y> {
    slot: SharedSlot<Y, ()>,
    /// `None` once the body has returned or the generator was closed.
    body: Option<Body<()>>,
}

/// Creates an [`AsyncGenerator`]: Python's `async def` function with `yield` in it.
///
/// `body` receives a [`Yielder`]; `co.yield_(value).await` hands `value` to the consumer of
/// the stream and resumes when the consumer asks for the next item. Nothing runs until the
/// first item is requested.
///
/// # Examples
///
/// ```
/// use asyncio::async_gen;
/// use futures::StreamExt;
///
/// // [x async for x in numbers()]
/// let numbers = async_gen(|co| async move {
///     for n in 0..4 {
///         co.yield_(n).await;
///     }
/// });
/// let all: Vec<i32> = asyncio::run(numbers.collect());
/// assert_eq!(all, [0, 1, 2, 3]);
/// ```
pub fn async_gen<Y, F, Fut>(body: F) -> AsyncGenerator<Y>
where
    F: FnOnce(Yielder<Y>) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    AsyncGenerator::new(body)
}

impl<Y> AsyncGenerator<Y> {
    /// Creates an async generator from its body; the same as [`async_gen`].
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::AsyncGenerator;
    /// use futures::StreamExt;
    ///
    /// let mut letters = AsyncGenerator::new(|co| async move {
    ///     co.yield_('a').await;
    ///     co.yield_('b').await;
    /// });
    /// asyncio::run(async {
    ///     assert_eq!(letters.next().await, Some('a'));
    ///     assert_eq!(letters.next().await, Some('b'));
    ///     assert_eq!(letters.next().await, None);
    /// });
    /// ```
    pub fn new<F, Fut>(body: F) -> Self
    where
        F: FnOnce(Yielder<Y>) -> Fut,
        Fut: Future<Output = ()> + 'static,
    {
        let slot = new_slot();
        let future = body(Yielder { slot: slot.clone() });
        AsyncGenerator {
            slot,
            body: Some(Box::pin(future)),
        }
    }

    /// Python's `await agen.aclose()`: finishes the generator now, dropping its body (its
    /// destructors run). Later polls yield `None`. Closing twice is fine.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::async_gen;
    /// use futures::StreamExt;
    ///
    /// let mut forever = async_gen(|co| async move {
    ///     loop {
    ///         co.yield_(1).await;
    ///     }
    /// });
    /// asyncio::run(async {
    ///     assert_eq!(forever.next().await, Some(1));
    ///     forever.close();
    ///     assert_eq!(forever.next().await, None);
    /// });
    /// ```
    pub fn close(&mut self) {
        let body = self.body.take();
        drop(body);
    }

    /// Whether the body has returned or the generator was closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::async_gen;
    /// use futures::StreamExt;
    ///
    /// let mut one = async_gen(|co| async move {
    ///     co.yield_(1).await;
    /// });
    /// asyncio::run(async {
    ///     assert_eq!(one.next().await, Some(1));
    ///     assert!(!one.is_finished());
    ///     assert_eq!(one.next().await, None);
    ///     assert!(one.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.body.is_none()
    }
}

impl<Y> Stream for AsyncGenerator<Y> {
    type Item = Y;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Y>> {
        let this = self.get_mut();
        // Taken out while it runs, as in `Coroutine::resume`: a body that panics is dropped
        // during unwinding and the generator stays finished.
        let Some(mut body) = this.body.take() else {
            return Poll::Ready(None);
        };
        this.slot.borrow_mut().driving = true;
        let poll = body.as_mut().poll(cx);
        let yielded = {
            let mut slot = this.slot.borrow_mut();
            slot.driving = false;
            let yielded = slot.yielded.take();
            if yielded.is_some() {
                // The consumer's next `poll_next` is the resume: leave the answer in the slot
                // now, since nothing polls the body before then.
                slot.resume = Some(None);
            }
            yielded
        };
        match poll {
            // The body returned; it drops here, outside any borrow. A value yielded in that
            // same step is still delivered, and the next poll ends the stream.
            Poll::Ready(()) => Poll::Ready(yielded),
            Poll::Pending => {
                this.body = Some(body);
                match yielded {
                    Some(value) => Poll::Ready(Some(value)),
                    // The body waits on a real future, which now holds `cx`'s waker.
                    None => Poll::Pending,
                }
            }
        }
    }
}

impl<Y> FusedStream for AsyncGenerator<Y> {
    fn is_terminated(&self) -> bool {
        self.body.is_none()
    }
}

impl<Y> fmt::Debug for AsyncGenerator<Y> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncGenerator")
            .field("finished", &self.is_finished())
            .finish()
    }
}
