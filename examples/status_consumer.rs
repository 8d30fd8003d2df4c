//! A consumer reporting its status through a producer generator: the tutorial's
//! `consumer`/`producer` status program (section "生产者－消费者的协程").
//!
//! The Python it mirrors:
//!
//! ```python
//! def consumer():
//!     status = True
//!     while True:
//!         nr = yield status
//!         print("我拿到了{}!".format(nr))
//!         if nr == 3:
//!             status = False
//!
//! def producer(consumer):
//!     n = 5
//!     while n > 0:
//!         yield consumer.send(n)
//!         n -= 1
//!
//! if __name__ == '__main__':
//!     c = consumer()
//!     c.send(None)
//!     p = producer(c)
//!     for status in p:
//!         if status == False:
//!             print("我只要3,4,5就行啦")
//!             break
//!     print("程序结束")
//! ```
//!
//! Three parties on one thread: `main` iterates the producer (a [`Generator`], so a `for` loop
//! drives it), the producer's body drives the consumer [`Coroutine`] with `send`, and each
//! status travels back through two `yield`s.
//!
//! Run with `cargo run --example status_consumer`.

use std::convert::Infallible;

use asyncio::{CoState, Coroutine, CoroutineError, Generator};

/// How Python's `format` shows a value that may be `None`.
fn show(nr: Option<i32>) -> String {
    nr.map_or_else(|| "None".to_string(), |nr| nr.to_string())
}

/// `def consumer()`: yields its status, receives numbers; happy until it gets a 3.
fn consumer() -> Coroutine<bool, i32, Infallible> {
    Coroutine::new(|co| async move {
        let mut status = true;
        loop {
            let nr = co.yield_(status).await; // nr = yield status
            println!("我拿到了{}!", show(nr));
            if nr == Some(3) {
                status = false;
            }
        }
    })
}

/// `def producer(consumer)`: sends 5, 4, 3, 2, 1 and yields each status it gets back.
fn producer(mut consumer: Coroutine<bool, i32, Infallible>) -> Generator<bool> {
    Generator::new(move |co| async move {
        let mut n = 5;
        while n > 0 {
            // `yield consumer.send(n)`; a failed send would propagate as an exception in Python.
            let CoState::Yielded(status) = consumer.send(n).expect("the consumer was started");
            co.yield_(status).await;
            n -= 1;
        }
    })
}

fn main() -> Result<(), CoroutineError> {
    let mut c = consumer();
    c.start()?; // c.send(None): run to the first `yield`
    let p = producer(c);
    for status in p {
        if !status {
            println!("我只要3,4,5就行啦");
            break;
        }
    }
    println!("程序结束");
    Ok(())
}
