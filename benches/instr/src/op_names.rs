//! The operations the benchmark counts, in table order: one list for the `instr` binary and
//! the `instr-report` driver (which includes this file by path). `pending_rss` (memory, run
//! natively) is not among them.

/// The operation names, as `instr <runtime> <op> <n>` takes them.
pub(crate) const OPS: &[&str] = &[
    "yield_sleep0",
    "yield_wake",
    "spawn_await",
    "spawn_detached",
    "timer_fire",
    "timer_fire_virtual",
    "timer_cancel",
    "call_soon",
    "queue_ping_pong",
    "cross_thread_wake",
];
