//! A plain generator: the tutorial's `fib` program (section "2. yield").
//!
//! The Python it mirrors:
//!
//! ```python
//! def fib(n):
//!     a, b = 0, 1
//!     i = 0
//!     while i < n:
//!         yield b
//!         a, b = b, a+b
//!         i += 1
//!
//! if __name__ == '__main__':
//!     f = fib(10)
//!     for item in f:
//!         print(item)
//! ```
//!
//! A generator that only yields is, in Rust, an [`Iterator`]: the generator's local variables
//! become the fields of a struct, and the code between two `yield`s becomes `next()`.
//!
//! Run with `cargo run --example fib`.

/// The state of `fib(n)` between two `yield`s.
struct Fib {
    a: u64,
    b: u64,
    i: u32,
    n: u32,
}

/// `def fib(n)`.
fn fib(n: u32) -> Fib {
    Fib {
        a: 0,
        b: 1,
        i: 0,
        n,
    }
}

impl Iterator for Fib {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.i >= self.n {
            return None; // the loop ends: StopIteration
        }
        let item = self.b; // yield b
        (self.a, self.b) = (self.b, self.a + self.b);
        self.i += 1;
        Some(item)
    }
}

fn main() {
    let f = fib(10);
    for item in f {
        println!("{item}");
    }
}
