//! A plain function against a generator function: the tutorial's two `consumer` programs
//! (section "第一部分": 普通函数 / yield 函数).
//!
//! The Python it mirrors:
//!
//! ```python
//! def consumer():
//!     print('good')
//!     return 2
//!
//! b = consumer()            # runs at once: prints good
//! print(b)                  # 2
//!
//! def consumer():
//!     print('good')
//!     yield 5               # now a generator function
//!
//! a = consumer()            # runs nothing yet
//! print(a)                  # <generator object consumer at 0x0000000002433BF8>
//! ```
//!
//! Calling a generator function only creates the generator; its body waits for the first
//! `next()` / `send(None)`. The same holds for a [`Generator`]: creating it runs nothing.
//!
//! Run with `cargo run --example generator_object`.

use asyncio::Generator;

fn consumer_function() -> i32 {
    println!("good");
    2
}

fn consumer_generator() -> Generator<i32, ()> {
    Generator::new(|co| async move {
        println!("good");
        co.yield_(5).await;
    })
}

fn main() {
    let b = consumer_function();
    println!("{b}");
    let a = consumer_generator(); // prints nothing: the body has not started
    println!("<generator object consumer at {:p}>", &a);
}
