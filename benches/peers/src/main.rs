//! `cargo run --profile bench -p peers`: see the crate docs in `lib.rs`. The bench profile
//! (fat LTO, one codegen unit) builds every runtime at its best; `--release` works too.

fn main() {
    peers::main();
}
