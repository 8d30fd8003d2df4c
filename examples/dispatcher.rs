//! The tutorial's dispatcher program (section "python 实现协程"): a hand-made dispatcher where
//! `func_a` sleeps 1 + 1 + 1 s and `func_b` sleeps 3 s, and the two finish together after 3 s,
//! not 6.
//!
//! ```python
//! def func_a():
//!     print("a函数开始执行: ", time.time())
//!     yield CoroutinueSleep(1)
//!     yield CoroutinueSleep(1)
//!     yield CoroutinueSleep(1)
//!     print('a函数执行结束: ', time.time())
//!
//! def func_b():
//!     print("b函数开始执行: ", time.time())
//!     yield CoroutinueSleep(3)
//!     print('b函数执行结束: ', time.time())
//!
//! t1 = time.time()
//! cm = CoroutinueManager([func_a(), func_b()])
//! cm.polling()
//! t2 = time.time()
//! print('总耗时: ', t2-t1)
//! ```
//!
//! The tutorial's `CoroutinueManager` polls a list of sleep objects every 10 ms; the event loop
//! does that job here, without polling: it sleeps until the next timer. With `-- --virtual`
//! the same program runs on a virtual clock: the loop's clock reads exactly 3.0 s at the end,
//! and no real time passes.

mod support;

use asyncio::EventLoop;

/// The time to print: wall-clock seconds like `time.time()`, or loop time on a virtual clock.
fn now(lp: &EventLoop, virtual_time: bool) -> f64 {
    if virtual_time {
        lp.time()
    } else {
        support::unix_time()
    }
}

async fn func_a(lp: EventLoop, v: bool) {
    println!("a函数开始执行:  {}", support::py_float(now(&lp, v)));
    asyncio::sleep(1).await;
    asyncio::sleep(1).await;
    asyncio::sleep(1).await;
    println!("a函数执行结束:  {}", support::py_float(now(&lp, v)));
}

async fn func_b(lp: EventLoop, v: bool) {
    println!("b函数开始执行:  {}", support::py_float(now(&lp, v)));
    asyncio::sleep(3).await;
    println!("b函数执行结束:  {}", support::py_float(now(&lp, v)));
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let v = std::env::args().any(|a| a == "--virtual");
    let lp = if v {
        EventLoop::builder().virtual_time().build()
    } else {
        EventLoop::new()
    };
    let t1 = now(&lp, v);
    let tasks = [
        lp.create_task(func_a(lp.clone(), v)),
        lp.create_task(func_b(lp.clone(), v)),
    ];
    lp.run_until_complete(asyncio::gather(tasks))??;
    let t2 = now(&lp, v);
    println!("总耗时:  {}", support::py_float(t2 - t1));
    lp.close()?;
    Ok(())
}
