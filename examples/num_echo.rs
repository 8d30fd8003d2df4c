//! `send` is both "resume" and "pass a value in": the tutorial's `num` program (the part on
//! `c.send(n)`).
//!
//! The Python it mirrors:
//!
//! ```python
//! >>> def num():
//!         a = yield 1
//!         while True:
//!             a = yield a
//!
//! >>> c = num()
//! >>> c.send(None)    # yield 1
//! 1
//! >>> c.send(5)       # a = 5, then yield a
//! 5
//! >>> c.send(100)
//! 100
//! ```
//!
//! In Python `a` is "an int or None" (it is `None` after a bare `next()`), so the Rust coroutine
//! yields `Option<i32>`, and never returns ([`Infallible`]).
//!
//! Run with `cargo run --example num_echo`.

use std::convert::Infallible;

use asyncio::{CoState, Coroutine, CoroutineError};

/// How the Python REPL shows a value that may be `None`.
fn show(a: Option<i32>) -> String {
    a.map_or_else(|| "None".to_string(), |a| a.to_string())
}

/// `def num()`: echoes back whatever it is sent.
fn num() -> Coroutine<Option<i32>, i32, Infallible> {
    Coroutine::new(|co| async move {
        let mut a = co.yield_(Some(1)).await;
        loop {
            a = co.yield_(a).await;
        }
    })
}

fn main() -> Result<(), CoroutineError> {
    let mut c = num();
    // `c.send(None)`: a bare resume, which starts the coroutine.
    let CoState::Yielded(a) = c.next()?;
    println!("{}", show(a));
    let CoState::Yielded(a) = c.send(5)?;
    println!("{}", show(a));
    let CoState::Yielded(a) = c.send(100)?;
    println!("{}", show(a));
    Ok(())
}
