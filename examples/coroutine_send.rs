//! A coroutine that receives one value and finishes: the tutorial's `simple_coroutine` program
//! of section "3. send()".
//!
//! The Python it mirrors:
//!
//! ```python
//! def simple_coroutine():
//!     print('-> 启动协程')
//!     y = 10
//!     x = yield y
//!     print('-> 协程接收到了x的值:', x)
//!
//! my_coro = simple_coroutine()
//! ret = next(my_coro)
//! print(ret)
//! my_coro.send(10)
//! ```
//!
//! In Python the last `send` raises `StopIteration`, because the body ran off its end. Here
//! `send` returns `CoState::Returned(())` instead, and the program prints `StopIteration` to
//! show where Python's exception comes from.
//!
//! Run with `cargo run --example coroutine_send`.

use asyncio::{CoState, Coroutine, CoroutineError};

/// How Python's `print` shows a value that may be `None`.
fn show(x: Option<i32>) -> String {
    x.map_or_else(|| "None".to_string(), |x| x.to_string())
}

/// `def simple_coroutine()`: yields `y`, receives `x`, returns nothing.
fn simple_coroutine() -> Coroutine<i32, i32, ()> {
    Coroutine::new(|co| async move {
        println!("-> 启动协程");
        let y = 10;
        let x = co.yield_(y).await;
        println!("-> 协程接收到了x的值: {}", show(x));
    })
}

fn main() -> Result<(), CoroutineError> {
    let mut my_coro = simple_coroutine();
    // `ret = next(my_coro)`: Python would raise StopIteration if the body returned at once.
    let ret = my_coro
        .next()?
        .yielded()
        .expect("simple_coroutine yields once before returning");
    println!("{ret}");
    match my_coro.send(10)? {
        CoState::Yielded(value) => println!("yielded again: {value}"),
        CoState::Returned(()) => println!("StopIteration"),
    }
    Ok(())
}
