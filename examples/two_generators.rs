//! Two generators taking turns: the tutorial's `my_generator` program (the part
//! "@教程|酷python / yield").
//!
//! The Python it mirrors:
//!
//! ```python
//! def my_generator(n):
//!     index = 0
//!     while index < n:
//!         yield index
//!         index += 1
//!
//! gen_one = my_generator(5)
//! gen_two = my_generator(5)
//!
//! value = next(gen_one)
//! print(value, 'gen_one')
//! value = next(gen_two)
//! print(value, 'gen_two')
//! value = next(gen_one)
//! print(value, 'gen_one')
//! value = next(gen_two)
//! print(value, 'gen_two')
//! ```
//!
//! A generator that is never sent anything is, in Rust, just an [`Iterator`]: here one made
//! with [`std::iter::from_fn`], whose closure keeps `index` between calls the way the
//! generator's frame keeps it between `next()`s. Each `next()` runs one step of one of them;
//! neither knows about the other, and one thread runs both.
//!
//! Run with `cargo run --example two_generators`.

/// `def my_generator(n)`.
fn my_generator(n: u32) -> impl Iterator<Item = u32> {
    let mut index = 0;
    std::iter::from_fn(move || {
        if index < n {
            let value = index; // yield index
            index += 1;
            Some(value)
        } else {
            None // StopIteration
        }
    })
}

fn main() {
    let mut gen_one = my_generator(5);
    let mut gen_two = my_generator(5);

    // run gen_one (`next(gen_one)`)
    let value = gen_one.next().expect("gen_one yields 5 values");
    println!("{value} gen_one");

    // run gen_two
    let value = gen_two.next().expect("gen_two yields 5 values");
    println!("{value} gen_two");

    // run gen_one
    let value = gen_one.next().expect("gen_one yields 5 values");
    println!("{value} gen_one");

    // run gen_two
    let value = gen_two.next().expect("gen_two yields 5 values");
    println!("{value} gen_two");
}
