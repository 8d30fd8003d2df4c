//! Driving an `async fn` by hand, with no event loop: the tutorial's `await_coroutine` program
//! (section "第二部分 / 3. 异步函数（即协程）").
//!
//! The Python it mirrors:
//!
//! ```python
//! async def async_function():
//!     return 1
//!
//! async def await_coroutine():
//!     result = await async_function()
//!     print(result)
//!
//! def run(coroutine):
//!     try:
//!         coroutine.send(None)
//!     except StopIteration as e:
//!         return e.value
//!
//! run(await_coroutine())
//! ```
//!
//! A Python coroutine object is resumed with `send(None)`; a Rust future is resumed with
//! [`Future::poll`]. Nothing here ever waits, so ONE poll runs `await_coroutine` to the end,
//! the way one `send(None)` ends in `StopIteration`. The waker is [`Waker::noop()`]: with no
//! loop, there is nobody to wake.
//!
//! Run with `cargo run --example drive_by_hand`.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// `async def async_function(): return 1`
async fn async_function() -> i32 {
    1
}

/// `async def await_coroutine()`
async fn await_coroutine() {
    let result = async_function().await;
    println!("{result}");
}

/// `def run(coroutine)`: resume the coroutine once; if it finished, return its value
/// (`StopIteration.value`), otherwise `None`, as the Python function falls off its end.
fn run<F: Future>(coroutine: F) -> Option<F::Output> {
    let coroutine = pin!(coroutine);
    match coroutine.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => Some(value), // except StopIteration as e: return e.value
        Poll::Pending => None,             // it suspended: send(None) returned normally
    }
}

fn main() {
    run(await_coroutine());
}
