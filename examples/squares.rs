//! Producer and consumer as coroutines: the tutorial's consumer-of-squares program (section
//! "用协程实现生产者和消费者模型").
//!
//! The Python it mirrors:
//!
//! ```python
//! def consumer():
//!   print("---> [Start] Consumer ...")
//!   result = 0
//!   while True:
//!       data = yield result
//!       print("---> [Consumer] Consume the producer: %s" % data)
//!       result = data * data
//!
//! def producer(c):
//!   print("---> [Start] Producer ...")
//!   # active the consumer
//!   c.send(None)
//!   for i in [1, 2, 3]:
//!       print("---> [Producer] Produce: %s" % i)
//!       result = c.send(i)
//!       print("---> [Producer] Got the result from the consumer: %s" % result)
//!
//! c = consumer()
//! producer(c)
//! ```
//!
//! The consumer loops forever, so its return type is [`Infallible`]: a `send` can only come
//! back as `CoState::Yielded`, and the compiler knows it (no `StopIteration` to handle).
//!
//! Run with `cargo run --example squares`.

use std::convert::Infallible;

use asyncio::{CoState, Coroutine, CoroutineError};

/// `def consumer()`: yields the last square, receives the next number.
fn consumer() -> Coroutine<i32, i32, Infallible> {
    Coroutine::new(|co| async move {
        println!("---> [Start] Consumer ...");
        let mut result = 0;
        loop {
            // `data = yield result`; Python would fail on `None * None`, we fail here.
            let data = co
                .yield_(result)
                .await
                .expect("the producer sends a number");
            println!("---> [Consumer] Consume the producer: {data}");
            result = data * data;
        }
    })
}

/// `def producer(c)`.
fn producer(mut c: Coroutine<i32, i32, Infallible>) -> Result<(), CoroutineError> {
    println!("---> [Start] Producer ...");
    // active the consumer (`c.send(None)`)
    c.start()?;
    for i in [1, 2, 3] {
        println!("---> [Producer] Produce: {i}");
        let CoState::Yielded(result) = c.send(i)?;
        println!("---> [Producer] Got the result from the consumer: {result}");
    }
    Ok(())
}

fn main() -> Result<(), CoroutineError> {
    let c = consumer();
    producer(c)
}
