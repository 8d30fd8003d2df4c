//! The tutorial's `coro1`/`coro2` program (section "asyncio 中 Future"): one coroutine sets a Future
//! after 1 s, another awaits it.
//!
//! ```python
//! future = asyncio.Future()
//!
//! async def coro1():
//!     print("wait 1 second")
//!     await asyncio.sleep(1)
//!     print("set_result")
//!     future.set_result('data')
//!
//! async def coro2():
//!     result = await future
//!     print(result)
//!
//! loop = asyncio.get_event_loop()
//! loop.run_until_complete(asyncio.wait([
//!     coro1()
//!     coro2()
//! ]))
//! loop.close()
//! ```
//!
//! (The tutorial forgot the comma between `coro1()` and `coro2()`; this is the program it meant.)
//!
//! Prints `wait 1 second`, then one second later `set_result` and `data`: `coro2` is
//! suspended on the future until `coro1` sets it.

use asyncio::Future;

async fn coro1(future: Future<&'static str>) {
    println!("wait 1 second");
    asyncio::sleep(1).await;
    println!("set_result");
    future
        .set_result("data")
        .expect("only coro1 sets the future");
}

async fn coro2(future: Future<&'static str>) {
    let result = future.await.expect("nobody cancels the future");
    println!("{result}");
}

fn main() -> Result<(), asyncio::RuntimeError> {
    // Made before the loop runs, at module level in the tutorial: it belongs to the loop that
    // `get_event_loop` returns.
    let future = Future::new();

    let lp = asyncio::get_event_loop();
    let tasks = [
        lp.create_task(coro1(future.clone())),
        lp.create_task(coro2(future)),
    ];
    lp.run_until_complete(asyncio::wait(tasks))?;
    lp.close()
}
