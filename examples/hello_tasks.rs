//! The tutorial's `hello1`/`hello2` program (section "asyncio"): two coroutines print hello
//! with the current thread, sleep 1 s together, and print again.
//!
//! ```python
//! @asyncio.coroutine
//! def hello1():
//!     print('Hello1 world! (%s)' % threading.currentThread())
//!     yield from asyncio.sleep(1)
//!     print('Hello1 again! (%s)' % threading.currentThread())
//! # hello2 likewise
//! loop = asyncio.get_event_loop()
//! tasks = [hello1(), hello2()]
//! loop.run_until_complete(asyncio.wait(tasks))
//! loop.close()
//! ```
//!
//! Both "world" lines come at once, both "again" lines one second later, all on one thread.

fn current_thread() -> String {
    let t = std::thread::current();
    format!("<Thread({}, {:?})>", t.name().unwrap_or("unnamed"), t.id())
}

async fn hello(n: u32) {
    println!("Hello{n} world! ({})", current_thread());
    asyncio::sleep(1).await;
    println!("Hello{n} again! ({})", current_thread());
}

fn main() -> Result<(), asyncio::RuntimeError> {
    let lp = asyncio::get_event_loop();
    let tasks = [hello(1), hello(2)].map(|h| lp.create_task(h));
    lp.run_until_complete(asyncio::wait(tasks))?;
    lp.close()
}
