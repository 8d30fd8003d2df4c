//! The tutorial's note on asynchronous context managers:
//!
//! ```python
//! 上下文管理器
//! async with lock:
//!     ...
//! ```
//!
//! The tutorial names `async with lock` without a program; this is the program that shows why it
//! matters. A hundred tasks each read a shared counter, await something (here `sleep(0)`, the
//! shortest possible await), and write the counter back plus one:
//!
//! ```python
//! async def increment(lock, counter):
//!     async with lock:
//!         value = counter['value']
//!         await asyncio.sleep(0)
//!         counter['value'] = value + 1
//!
//! async def main():
//!     print("100 tasks: read the counter, await sleep(0), write it back + 1 (async with lock)")
//!     lock = asyncio.Lock()
//!     counter = {'value': 0}
//!     await asyncio.gather(*(increment(lock, counter) for _ in range(100)))
//!     print(f"counter = {counter['value']}")
//!     print(f"lost {100 - counter['value']} updates")
//!
//! asyncio.run(main())
//! ```
//!
//! With the lock, each read-await-write is done before the next task reads, so the counter
//! ends at exactly 100:
//!
//! ```text
//! 100 tasks: read the counter, await sleep(0), write it back + 1 (async with lock)
//! counter = 100
//! lost 0 updates
//! ```
//!
//! `cargo run --example locked_counter -- --no-lock` drops the `async with lock:`. Then every
//! task reads 0 before any of them writes (each one's `sleep(0)` lets all the others run), so
//! they all write 1: `counter = 1`, `lost 99 updates`. A single-threaded loop switches tasks
//! only at an `await`, so the result is the same on every run.

use std::cell::Cell;
use std::rc::Rc;

const TASKS: u32 = 100;

/// One read-await-write increment, under the lock if there is one.
async fn increment(lock: Option<asyncio::Lock>, counter: Rc<Cell<u32>>) {
    // `async with lock:` -- the guard releases the lock when it is dropped at the end.
    let _guard = match &lock {
        Some(lock) => Some(lock.acquire().await),
        None => None,
    };
    let value = counter.get();
    asyncio::sleep(0).await; // every other ready task runs here
    counter.set(value + 1);
}

fn main() -> Result<(), asyncio::TaskError> {
    let use_lock = !std::env::args().any(|a| a == "--no-lock");
    asyncio::run(async {
        let how = if use_lock {
            "async with lock"
        } else {
            "no lock"
        };
        println!("{TASKS} tasks: read the counter, await sleep(0), write it back + 1 ({how})");

        let lock = use_lock.then(asyncio::Lock::new);
        let counter = Rc::new(Cell::new(0));
        let increments = (0..TASKS).map(|_| increment(lock.clone(), counter.clone()));
        asyncio::gather(increments).await?;

        println!("counter = {}", counter.get());
        println!("lost {} updates", TASKS - counter.get());
        Ok(())
    })
}
