//! A program that runs until it is interrupted, and cleans up when it is: what
//! `asyncio.run` does on Ctrl-C since Python 3.11.
//!
//! ```python
//! import asyncio, os
//!
//! async def worker():
//!     try:
//!         while True:
//!             await asyncio.sleep(1)
//!     finally:
//!         print('worker cancelled')
//!
//! async def main():
//!     task = asyncio.create_task(worker())
//!     try:
//!         print(f'Running as pid {os.getpid()}; press Ctrl-C to stop', flush=True)
//!         await asyncio.Event().wait()   # forever
//!     finally:
//!         print('cleanup done')
//!
//! asyncio.run(main())
//! ```
//!
//! `cargo run --example graceful_shutdown`, then Ctrl-C (or `kill -INT <pid>`): the main
//! future is dropped, so the value it holds runs its destructor (`cleanup done`); the task it
//! left behind is cancelled (`worker cancelled`); then the program ends by the signal, exit
//! status 130 in a shell, as Python does. A second Ctrl-C during the cleanup ends it at once.

/// Something that must be released however the program ends (a connection, a lock file...).
struct Resource;

impl Drop for Resource {
    fn drop(&mut self) {
        println!("cleanup done");
    }
}

/// Prints when the task holding it is cancelled.
struct Worker;

impl Drop for Worker {
    fn drop(&mut self) {
        println!("worker cancelled");
    }
}

async fn worker() {
    let _guard = Worker;
    loop {
        asyncio::sleep(1).await;
    }
}

async fn main_coro() {
    let _resource = Resource;
    let _task = asyncio::create_task(worker());
    println!(
        "Running as pid {}; press Ctrl-C to stop",
        std::process::id()
    );
    asyncio::Event::new().wait().await; // forever
}

fn main() {
    asyncio::run(main_coro());
    unreachable!("asyncio::run ends the process when interrupted");
}
