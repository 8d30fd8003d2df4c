//! `cargo bench -p peers`: the same run as `cargo run --profile bench -p peers`.

fn main() {
    peers::main();
}
