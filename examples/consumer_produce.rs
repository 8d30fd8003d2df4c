//! The tutorial's lock-free producer/consumer program, `consumer` and `produce` (section
//! "python|generator实现协程"; a second tutorial repeats it).
//!
//! The Python it mirrors:
//!
//! ```python
//! def consumer():
//!     r = ''
//!     while True:
//!         n = yield r
//!         if not n:
//!             return
//!         print('[CONSUMER] Consuming %s...' % n)
//!         r = '200 OK'
//!
//! def produce(c):
//!     c.send(None)
//!     n = 0
//!     while n < 5:
//!         n = n + 1
//!         print('[PRODUCER] Producing %s...' % n)
//!         r = c.send(n)
//!         print('[PRODUCER] Consumer return: %s' % r)
//!     c.close()
//!
//! c = consumer()
//! produce(c)
//! ```
//!
//! One thread, no lock: `send` switches to the consumer, the consumer's `yield` switches back.
//!
//! Run with `cargo run --example consumer_produce`.

use asyncio::{Coroutine, CoroutineError};

/// `def consumer()`: yields a status string, receives order numbers.
fn consumer() -> Coroutine<&'static str, i32, ()> {
    Coroutine::new(|co| async move {
        let mut r = "";
        loop {
            // `n = yield r` then `if not n: return`: resuming with a bare next() (Python's
            // None) ends the consumer.
            let Some(n) = co.yield_(r).await else {
                return;
            };
            println!("[CONSUMER] Consuming {n}...");
            r = "200 OK";
        }
    })
}

/// `def produce(c)`.
fn produce(mut c: Coroutine<&'static str, i32, ()>) -> Result<(), CoroutineError> {
    // `c.send(None)`: start the consumer.
    c.start()?;
    let mut n = 0;
    while n < 5 {
        n += 1;
        println!("[PRODUCER] Producing {n}...");
        // `r = c.send(n)`; the consumer returns (Python's StopIteration) only on a bare next().
        let r = c
            .send(n)?
            .yielded()
            .expect("the consumer only returns when resumed with nothing");
        println!("[PRODUCER] Consumer return: {r}");
    }
    c.close();
    Ok(())
}

fn main() -> Result<(), CoroutineError> {
    let c = consumer();
    produce(c)
}
