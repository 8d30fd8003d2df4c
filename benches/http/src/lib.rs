//! `http-bench`: HTTP hello-world under `wrk`, and TCP echo over protocols and streams, on
//! this crate beside tokio and uvloop, in one run.
//!
//! ```text
//! bash benches/http/run.sh                 # build (bench profile), then the full run
//! HTTP_QUICK=1 bash benches/http/run.sh    # short visits
//! ```
//!
//! Three programs take part: `http-server <runtime> <addr>` and `echo-server <runtime>
//! <addr>` serve on one runtime ([`servers`]); `uvloop_servers.py` serves the same on
//! uvloop; `http-bench` ([`driver`]) starts each server in turn (pinned to CPU 0, or to
//! every CPU for the two-thread servers), loads it (`wrk` for HTTP, [`load`] for echo,
//! pinned to the last CPU), reads the server's CPU time from `/proc` around the measured
//! window, counts its syscalls with `perf` in a second window, and prints Markdown tables.

#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]

pub mod driver;
pub mod hello;
pub mod load;
pub mod servers;
