//! `cargo bench -p peers`: the same run as `cargo run --release -p peers`.

fn main() {
    peers::main();
}
