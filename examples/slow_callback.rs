//! Debug mode catches a task that blocks the loop: asyncio's "Executing <Task ...> took
//! 0.250 seconds" warning.
//!
//! ```python
//! async def slow():
//!     time.sleep(0.25)            # blocks the whole loop
//!
//! async def main():
//!     await asyncio.create_task(slow(), name="slow")
//!
//! asyncio.run(main(), debug=True)   # or PYTHONASYNCIODEBUG=1
//! ```
//!
//! `ASYNCIO_DEBUG=1 cargo run --example slow_callback` prints, on stderr,
//! `Executing <Task name='slow'> took 0.250 seconds` (the figure may be a millisecond or two
//! over). Without `ASYNCIO_DEBUG` the loop is not in debug mode and says nothing.

use std::time::Duration;

fn main() {
    asyncio::run(async {
        let lp = asyncio::get_running_loop().unwrap();
        if !lp.get_debug() {
            println!("debug mode is off: run with ASYNCIO_DEBUG=1 to see the slow-task warning");
        }
        let slow = asyncio::create_task(async {
            // A blocking call inside a task holds up every other task and timer.
            std::thread::sleep(Duration::from_millis(250));
        });
        slow.set_name("slow");
        slow.await.unwrap();
        println!("slow finished (it held the loop for 250 ms)");
    });
}
