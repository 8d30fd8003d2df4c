//! A generator coroutine that receives values with `send`: the tutorial's `simple_coroutine`
//! program (section "什么是协程", what is a coroutine).
//!
//! The Python it mirrors (the tutorial's `__main__` calls `callsimeple_conroutine()`, a typo for
//! `callsimple_coroutine()`; its output block shows the corrected program):
//!
//! ```python
//! def simple_coroutine():
//!   print("---> start ...")
//!   for i in [1, 2, 3, 4, 5]:
//!       x = yield
//!       print("The current function: %s" % (sys._getframe().f_code.co_name))
//!       print("---> I am yielding, %s ..." % i)
//!       time.sleep(1)
//!       print("---> received ...", x)
//!   print("[End] The current function: %s" % (sys._getframe().f_code.co_name))
//!
//! def callsimple_coroutine():
//!   sc = simple_coroutine()
//!   sc.send(None)
//!   for i in [6, 7, 8, 9]:
//!       print("The current function: %s" % (sys._getframe().f_code.co_name))
//!       sc.send(i)
//!   print("[End] The current function: %s" % (sys._getframe().f_code.co_name))
//!
//! if __name__ == "__main__":
//!   print("[Start] The current function: %s" % (sys._getframe().f_code.co_name))
//!   callsimple_coroutine()
//!   print("[End] The current function: %s" % (sys._getframe().f_code.co_name))
//! ```
//!
//! The two functions take turns on one thread: each `send` jumps into `simple_coroutine`,
//! which runs to its next `yield` and jumps back. The coroutine is left suspended at its fifth
//! `yield`, so its own `[End]` line never prints, exactly as in Python.
//!
//! Run with `cargo run --example simple_coroutine`; add `-- --fast` to skip the 1 s pauses.

use std::thread;
use std::time::Duration;

use asyncio::{Coroutine, CoroutineError};

/// Python's `sys._getframe().f_code.co_name`: the name of the Rust function this is written
/// in (closures and async blocks belong to their function), with `main` shown as Python's
/// `<module>`.
macro_rules! current_function {
    () => {{
        fn here() {}
        let path = std::any::type_name_of_val(&here);
        let name = path
            .split("::")
            .filter(|part| *part != "here" && *part != "{{closure}}")
            .last()
            .unwrap_or("?");
        if name == "main" { "<module>" } else { name }
    }};
}

/// How Python's `print` shows a value that may be `None`.
fn show(x: Option<i32>) -> String {
    x.map_or_else(|| "None".to_string(), |x| x.to_string())
}

/// `def simple_coroutine()`: yields nothing (`x = yield`), receives an `i32`, never returns a
/// value. `pause` is the tutorial's `time.sleep(1)`.
fn simple_coroutine(pause: Duration) -> Coroutine<(), i32, ()> {
    Coroutine::new(move |co| async move {
        println!("---> start ...");
        for i in [1, 2, 3, 4, 5] {
            // `x = yield`: None after a bare next(), Some(v) after send(v).
            let x = co.yield_(()).await;
            println!("The current function: {}", current_function!());
            println!("---> I am yielding, {i} ...");
            thread::sleep(pause);
            println!("---> received ... {}", show(x));
        }
        println!("[End] The current function: {}", current_function!());
    })
}

/// `def callsimple_coroutine()`.
fn callsimple_coroutine(pause: Duration) -> Result<(), CoroutineError> {
    let mut sc = simple_coroutine(pause);
    // `sc.send(None)`: run the body to its first `yield`.
    sc.start()?;
    for i in [6, 7, 8, 9] {
        println!("The current function: {}", current_function!());
        sc.send(i)?;
    }
    println!("[End] The current function: {}", current_function!());
    Ok(())
}

fn main() -> Result<(), CoroutineError> {
    let fast = std::env::args().skip(1).any(|arg| arg == "--fast");
    let pause = if fast {
        Duration::ZERO
    } else {
        Duration::from_secs(1)
    };
    println!("[Start] The current function: {}", current_function!());
    callsimple_coroutine(pause)?;
    println!("[End] The current function: {}", current_function!());
    Ok(())
}
