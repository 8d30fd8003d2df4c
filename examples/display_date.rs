//! The tutorial's `display_date` program (section 5, "async和await"): two coroutines print the
//! date every 2 s until 10 s have passed on the loop's clock, gathered with
//! `run_until_complete`.
//!
//! ```python
//! async def display_date(num, loop):
//!     end_time = loop.time() + 10.0
//!     while True:
//!         print("Loop: {} Time: {}".format(num, datetime.datetime.now()))
//!         if (loop.time() + 1.0) >= end_time:
//!             break
//!         await asyncio.sleep(2)
//!
//! loop = asyncio.get_event_loop()
//! tasks = [display_date(1, loop), display_date(2, loop)]
//! loop.run_until_complete(asyncio.gather(*tasks))
//! loop.close()
//! ```
//!
//! Prints 12 `Loop: N Time: ...` lines, alternating 1 and 2, over 10 s.

mod support;

use asyncio::EventLoop;

async fn display_date(num: u32, lp: EventLoop) {
    let end_time = lp.time() + 10.0;
    loop {
        println!("Loop: {} Time: {}", num, support::datetime_now());
        if lp.time() + 1.0 >= end_time {
            break;
        }
        asyncio::sleep(2).await;
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lp = asyncio::get_event_loop();
    let tasks = [display_date(1, lp.clone()), display_date(2, lp.clone())];
    lp.run_until_complete(asyncio::gather(tasks))??;
    lp.close()?;
    Ok(())
}
