//! `echo-bench`: TCP echo on loopback, every server side by side in one run.
//!
//! ```text
//! bash benches/echo/run.sh                      # build (bench profile), then the full run
//! ECHO_QUICK=1 bash benches/echo/run.sh         # one short round, well under two minutes
//! ECHO_SERVERS=tokio,c-epoll ECHO_CONFIGS=1k-c10 bash benches/echo/run.sh
//! ```
//!
//! The story of one run. Three programs take part, each a separate process:
//!
//! - `echo-server <runtime> <addr>` ([`servers`]) serves on one Rust runtime: tokio's
//!   `current_thread`, async-executor with async-io, and this crate's own servers. Next to it
//!   stand a hand-written C epoll server (`c/echo_epoll.c`) and `echo_server.py` (CPython's
//!   asyncio and uvloop, streams and protocols). Every server prints `listening on <addr>` once
//!   it is bound, then echoes every byte until the peer closes.
//! - `echo-client` ([`client`]) is the load: N connections in a closed loop (send S bytes, read
//!   the S-byte echo, send again), warm-up first, then a measured window. It samples the
//!   server's CPU time at both ends of the window and, when asked, switches `perf stat` on and
//!   off at exactly those moments.
//! - `echo-bench` ([`driver`]) starts every server at once, pinned to CPU 0, and visits them in
//!   turn with the client pinned to CPU 1, round after round, so that a busy moment of the
//!   machine hits every server alike. Then one more visit each with `perf stat` attached counts
//!   syscalls, and the report prints the medians as Markdown tables and
//!   `RESULT echo <config> <server> <metric> <value>` lines.

#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub mod client;
pub mod driver;
pub mod procfs;
pub mod servers;
