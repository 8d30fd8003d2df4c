//! Two workers, 甲 and 乙, taking turns on one thread: the tutorial's `task1`/`task2` program
//! (section "1. 协程").
//!
//! The Python it mirrors:
//!
//! ```python
//! def task1():
//!     while True:
//!         yield "<甲>也累了，让<乙>工作一会儿"
//!         time.sleep(1)
//!         print("<甲>工作了一段时间.....")
//!
//! def task2(t):
//!     next(t)
//!     while True:
//!         print("-----------------------------------")
//!         print("<乙>工作了一段时间.....")
//!         time.sleep(2)
//!         print("<乙>累了，让<甲>工作一会儿....")
//!         ret = t.send(None)
//!         print(ret)
//!     t.close()
//!
//! if __name__ == '__main__':
//!     t = task1()
//!     task2(t)
//! ```
//!
//! The tutorial's program loops forever; its output block ends where it was stopped with
//! Ctrl-C, during the third round, after `<乙>累了，让<甲>工作一会儿....` and before 甲 finished working.
//! This program stops at the same place after `ROUNDS` rounds (default 3, which prints exactly
//! the tutorial's lines) and then reaches the `t.close()` that the tutorial's run never got to.
//! The `KeyboardInterrupt` traceback is not printed: nothing interrupts this program.
//!
//! Run with `cargo run --example workers -- [ROUNDS] [--fast]`; the tutorial sleeps 1 s (甲) and
//! 2 s (乙), `--fast` shortens that to 10 ms and 20 ms.

use std::convert::Infallible;
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use asyncio::{CoState, CoroutineError, Generator};

/// `def task1()`: 甲 works, then yields the turn to 乙. `second` stands for the tutorial's 1 s.
fn task1(second: Duration) -> Generator<&'static str, Infallible> {
    Generator::new(move |co| async move {
        loop {
            co.yield_("<甲>也累了，让<乙>工作一会儿").await;
            thread::sleep(second);
            println!("<甲>工作了一段时间.....");
        }
    })
}

/// `def task2(t)`: 乙 works, then resumes 甲; stops after `rounds` rounds, where the
/// tutorial's run was interrupted.
fn task2(
    mut t: Generator<&'static str, Infallible>,
    rounds: u32,
    second: Duration,
) -> Result<(), CoroutineError> {
    t.next()?; // next(t)
    for round in 1..=rounds {
        println!("-----------------------------------");
        println!("<乙>工作了一段时间.....");
        thread::sleep(2 * second);
        println!("<乙>累了，让<甲>工作一会儿....");
        if round == rounds {
            break; // the tutorial's Ctrl-C landed here, while 甲 was at work
        }
        let CoState::Yielded(ret) = t.next()?; // ret = t.send(None)
        println!("{ret}");
    }
    t.close();
    Ok(())
}

fn main() -> ExitCode {
    let mut rounds = 3;
    let mut fast = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--fast" => fast = true,
            number => match number.parse() {
                Ok(n) => rounds = n,
                Err(_) => {
                    eprintln!("usage: workers [ROUNDS] [--fast]  (ROUNDS defaults to 3)");
                    return ExitCode::from(2);
                }
            },
        }
    }
    let second = if fast {
        Duration::from_millis(10)
    } else {
        Duration::from_secs(1)
    };
    let t = task1(second);
    match task2(t, rounds, second) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("workers: {error}");
            ExitCode::FAILURE
        }
    }
}
