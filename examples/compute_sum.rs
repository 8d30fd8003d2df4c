//! The tutorial's `print_sum` program (section "再来一例"): three `print_sum` coroutines, each
//! awaiting a `compute` that sleeps 1 s, all finished after 1 s, not 3.
//!
//! ```python
//! async def compute(x, y):
//!     print("Compute %s + %s ..." % (x, y))
//!     await asyncio.sleep(1.0)
//!     return x + y
//!
//! async def print_sum(x, y):
//!     result = await compute(x, y)
//!     print("%s + %s = %s" % (x, y, result))
//!
//! loop = asyncio.get_event_loop()
//! loop.run_until_complete(asyncio.wait([print_sum(1, 2), print_sum(11, 12), print_sum(111, 112)]))
//! loop.close()
//! ```
//!
//! Python's `wait()` turned that list into a set, and the tutorial's recorded run iterated the
//! set as 11, 111, 1; the tasks are created in that order here so the output matches it.

async fn compute(x: u32, y: u32) -> u32 {
    println!("Compute {x} + {y} ...");
    asyncio::sleep(1.0).await;
    x + y
}

async fn print_sum(x: u32, y: u32) {
    let result = compute(x, y).await;
    println!("{x} + {y} = {result}");
}

fn main() -> Result<(), asyncio::RuntimeError> {
    let lp = asyncio::get_event_loop();
    let tasks = [(11, 12), (111, 112), (1, 2)].map(|(x, y)| lp.create_task(print_sum(x, y)));
    lp.run_until_complete(asyncio::wait(tasks))?;
    lp.close()
}
