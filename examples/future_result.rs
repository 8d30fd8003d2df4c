//! The tutorial's `func(future)` program (section 6, "asyncio模块"): a task resolves a Future
//! after 1 s.
//!
//! ```python
//! async def func(future):
//!     await asyncio.sleep(1)
//!     future.set_result('Future is done!')
//!
//! loop = asyncio.get_event_loop()
//! future = asyncio.Future()
//! asyncio.ensure_future(func(future))
//! print(loop.is_running())
//! loop.run_until_complete(future)
//! print(future.result())
//! loop.close()
//! ```
//!
//! Prints `False`, then `Future is done!` after 1 s. With `-- --forever` it runs the tutorial's
//! second version: `run_forever` with a done callback that prints the result and stops the
//! loop.

use asyncio::Future;

async fn func(future: Future<&'static str>) {
    asyncio::sleep(1).await;
    future.set_result("Future is done!").unwrap();
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lp = asyncio::get_event_loop();
    let future = Future::new();
    asyncio::ensure_future(func(future.clone()));
    if std::env::args().any(|a| a == "--forever") {
        let stopper = lp.clone();
        future.add_done_callback(move |f| {
            println!("{}", f.result().unwrap());
            stopper.stop();
        });
        lp.run_forever()?;
    } else {
        println!("{}", if lp.is_running() { "True" } else { "False" });
        lp.run_until_complete(future.clone())??;
        println!("{}", future.result()?);
    }
    lp.close()?;
    Ok(())
}
