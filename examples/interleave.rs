//! Subroutines A and B interleaved as coroutines: the opening example of the tutorial's
//! chapter "协程".
//!
//! The Python it mirrors:
//!
//! ```python
//! def A():
//!     print('1')
//!     print('2')
//!     print('3')
//!
//! def B():
//!     print('x')
//!     print('y')
//!     print('z')
//! ```
//!
//! "Run by coroutines, A may be interrupted at any point to run B, and B to run A; the result
//! may be `1 2 x y 3 z`", although A never calls B. Here A and B are generators that give up
//! control after each line, and a tiny dispatcher resumes them in the order the tutorial shows.
//!
//! Run with `cargo run --example interleave`.

use asyncio::{CoState, Generator};

/// A subroutine that yields control after printing each of its lines.
fn subroutine(lines: [&'static str; 3]) -> Generator<(), ()> {
    Generator::new(move |co| async move {
        for line in lines {
            println!("{line}");
            co.yield_(()).await;
        }
    })
}

fn main() -> Result<(), asyncio::CoroutineError> {
    let mut a = subroutine(["1", "2", "3"]);
    let mut b = subroutine(["x", "y", "z"]);
    // The order of the tutorial's output: two steps of A, two of B, then one of each.
    for which in ['A', 'A', 'B', 'B', 'A', 'B'] {
        let step = if which == 'A' { a.next()? } else { b.next()? };
        assert!(matches!(step, CoState::Yielded(())));
    }
    Ok(())
}
