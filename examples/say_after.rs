//! The tutorial's `say_after` program: two `say_after` coroutines, awaited one after the other
//! (5 s) or run concurrently as tasks (4 s).
//!
//! ```python
//! async def say_after(delay, what):
//!     await asyncio.sleep(delay)
//!     print("%s %s" % (time.ctime(), what))
//!
//! async def main():
//!     print(f"started at {time.strftime('%X')}")
//!     task1 = asyncio.create_task(say_after(1, "Hello"))
//!     task2 = asyncio.create_task(say_after(4, " world!"))
//!     await task1
//!     await task2
//!     print(f"finished at {time.strftime('%X')}")
//!
//! asyncio.run(main())
//! ```
//!
//! `cargo run --example say_after` runs the task version: `Hello` after 1 s, ` world!` after
//! 4 s, finished after 4 s. `cargo run --example say_after -- --sequential` runs the tutorial's
//! first version, `await say_after(1, 'hello'); await say_after(4, 'world')`, printing
//! `[time] hello` and `[time] world`, finished after 5 s.

mod support;

async fn say_after(delay: f64, what: &str) {
    asyncio::sleep(delay).await;
    println!("{} {}", support::ctime(), what);
}

async fn say_after_bracketed(delay: f64, what: &str) {
    asyncio::sleep(delay).await;
    println!("[{}] {}", support::ctime(), what);
}

fn main() -> Result<(), asyncio::TaskError> {
    let sequential = std::env::args().any(|a| a == "--sequential");
    asyncio::run(async {
        println!("started at {}", support::clock());
        if sequential {
            say_after_bracketed(1.0, "hello").await;
            say_after_bracketed(4.0, "world").await;
        } else {
            let task1 = asyncio::create_task(say_after(1.0, "Hello"));
            let task2 = asyncio::create_task(say_after(4.0, " world!"));
            // wait until both tasks are completed (4 s, not 5 s)
            task1.await?;
            task2.await?;
        }
        println!("finished at {}", support::clock());
        Ok(())
    })
}
