//! `cargo run --release -p peers`: see the crate docs in `lib.rs`.

fn main() {
    peers::main();
}
