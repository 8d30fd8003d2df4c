//! The tutorials' producer/consumer program ("生产者－消费者"), which two of them build by hand
//! from generators, on an `asyncio::Queue` that does the hand-over.
//!
//! The tutorials' generator version (section `python|generator实现协程`):
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
//! ```
//!
//! The same pipeline with asyncio, which this example mirrors: a bounded queue between one
//! producer and two consumers, `task_done`/`join` to know when every item was handled, and
//! Python 3.13's `shutdown` to send the consumers home:
//!
//! ```python
//! async def producer(queue, n):
//!     for i in range(1, n + 1):
//!         print(f'[PRODUCER] Producing {i}...')
//!         await queue.put(i)            # waits while the queue holds 2 items
//!
//! async def consumer(name, queue):
//!     consumed = 0
//!     while True:
//!         try:
//!             n = await queue.get()
//!         except asyncio.QueueShutDown:
//!             return consumed
//!         print(f'[CONSUMER {name}] Consuming {n}...')
//!         await asyncio.sleep(0)        # the work
//!         consumed += 1
//!         queue.task_done()
//!
//! async def main(n=5):
//!     queue = asyncio.Queue(2)
//!     consumers = [asyncio.create_task(consumer(name, queue)) for name in 'ab']
//!     await producer(queue, n)
//!     await queue.join()                # every item got its task_done()
//!     queue.shutdown()                  # consumers' get() now raises QueueShutDown
//!     a, b = await asyncio.gather(*consumers)
//!     print(f'[PRODUCER] Consumer return: 200 OK ({n} items: a {a}, b {b})')
//!
//! asyncio.run(main())
//! ```
//!
//! The last line is this example's own: the tutorial's `Consumer return: 200 OK`, said once for
//! the whole batch, with how many items each consumer handled. The order of every line is
//! fixed: one thread runs the loop, and tasks switch only at an `await`.
//!
//! `cargo run --example queue_pipeline` produces 5 items; `-- N` produces N.

use asyncio::Queue;

/// Puts 1..=n into the queue, waiting whenever it is full.
async fn producer(queue: Queue<u32>, n: u32) {
    for i in 1..=n {
        println!("[PRODUCER] Producing {i}...");
        queue
            .put(i)
            .await
            .expect("the queue is shut down only after the producer is done");
    }
}

/// Takes items until the queue is shut down; returns how many it handled.
async fn consumer(name: &'static str, queue: Queue<u32>) -> u32 {
    let mut consumed = 0;
    // `get` fails with QueueShutDown once the queue is shut down and empty.
    while let Ok(n) = queue.get().await {
        println!("[CONSUMER {name}] Consuming {n}...");
        asyncio::sleep(0).await; // the work
        consumed += 1;
        queue.task_done().expect("one task_done per item taken");
    }
    consumed
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .map_err(|_| format!("expected a number of items, not {arg:?}"))?,
        None => 5,
    };
    asyncio::run(async move {
        let queue = Queue::new(2);
        let consumers = ["a", "b"].map(|name| asyncio::create_task(consumer(name, queue.clone())));
        producer(queue.clone(), n).await;
        queue.join().await;
        queue.shutdown(false);
        let [a, b] = consumers;
        let (a, b) = (a.await?, b.await?);
        println!("[PRODUCER] Consumer return: 200 OK ({n} items: a {a}, b {b})");
        Ok(())
    })
}
