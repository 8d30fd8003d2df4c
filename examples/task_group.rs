//! A TaskGroup whose child fails: the group cancels the other children (their destructors
//! run, printing a line), waits for them to go, and reports the failure.
//!
//! ```python
//! async def worker(name, delay):
//!     try:
//!         await asyncio.sleep(delay)
//!         print(f"{name}: done")
//!     finally:
//!         print(f"{name}: cleaning up")
//!
//! async def broken():
//!     await asyncio.sleep(1)
//!     raise RuntimeError("the disk is full")
//!
//! try:
//!     async with asyncio.TaskGroup() as tg:
//!         tg.create_task(worker("fetch", 2), name="fetch")
//!         tg.create_task(worker("index", 5), name="index")
//!         tg.create_task(broken(), name="store")
//! except* RuntimeError as eg:
//!     print(f"the group failed: {eg.exceptions}")
//! ```
//!
//! Runs on the virtual clock: the loop times are exact, and it takes no real time. The
//! failing child panics, so Rust's panic message for it appears on stderr too.

use std::cell::RefCell;
use std::rc::Rc;

fn now() -> f64 {
    asyncio::get_running_loop().unwrap().time()
}

/// Prints when dropped: the cancelled children's destructors run.
struct CleanUp(&'static str);

impl Drop for CleanUp {
    fn drop(&mut self) {
        println!("[t={:.3}] {}: cleaning up", now(), self.0);
    }
}

async fn worker(name: &'static str, delay: f64) -> &'static str {
    let _clean_up = CleanUp(name);
    println!("[t={:.3}] {name}: started, needs {delay} s", now());
    asyncio::sleep(delay).await;
    println!("[t={:.3}] {name}: done", now());
    name
}

async fn broken() -> &'static str {
    asyncio::sleep(1).await;
    println!("[t={:.3}] store: failing", now());
    panic!("the disk is full");
}

fn main() {
    asyncio::Runner::virtual_time().run(async {
        // The children's handles, to look at each one's fate afterwards (the body's own
        // output is dropped when the group fails).
        let handles = Rc::new(RefCell::new(Vec::new()));
        let out = asyncio::TaskGroup::run(|tg| {
            let handles = handles.clone();
            async move {
                for (name, child) in [
                    ("fetch", tg.create_task(worker("fetch", 2.0))),
                    ("index", tg.create_task(worker("index", 5.0))),
                    ("store", tg.create_task(broken())),
                ] {
                    child.set_name(name);
                    handles.borrow_mut().push(child);
                }
            }
        })
        .await;
        match out {
            Ok(_) => println!("[t={:.3}] every child finished", now()),
            Err(eg) => {
                println!("[t={:.3}] the group failed: {eg}", now());
                for failure in eg.exceptions() {
                    println!(
                        "  - {}: {}",
                        failure.task_name().unwrap_or("body"),
                        failure.error()
                    );
                }
            }
        }
        for child in handles.take() {
            let name = child.get_name();
            match child.await {
                Ok(v) => println!("{name}: returned {v:?}"),
                Err(e) => println!("{name}: {e}"),
            }
        }
    });
}
