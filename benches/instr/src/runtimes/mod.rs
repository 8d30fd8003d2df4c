//! One module per runtime, each giving the primitives [`crate::ops`] needs and expanding
//! `ops!()` to its own `run`.

mod async_executor;
#[cfg(feature = "asyncio-rs")]
mod asyncio_rs;
mod tokio;

use crate::ops::Unsupported;

/// The runtimes, in table order.
pub(crate) const NAMES: &[&str] = &[
    #[cfg(feature = "asyncio-rs")]
    "asyncio-rs",
    "tokio",
    "tokio-localset",
    "async-executor",
];

/// Runs `op` `n` times on `runtime`; `None` for a runtime this build does not know.
pub(crate) fn run(runtime: &str, op: &str, n: usize) -> Option<Result<(), Unsupported>> {
    Some(match runtime {
        #[cfg(feature = "asyncio-rs")]
        "asyncio-rs" => asyncio_rs::run(op, n),
        "tokio" => tokio::plain::run(op, n),
        "tokio-localset" => tokio::localset::run(op, n),
        "async-executor" => async_executor::run(op, n),
        _ => return None,
    })
}
