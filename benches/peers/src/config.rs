//! What to run and how big: the workload list, their sizes, and the `PEERS_*` environment knobs.

/// How big each workload is, and how often it is repeated.
#[derive(Clone, Debug)]
pub(crate) struct Sizes {
    /// Repetitions per workload and runtime; the median is reported.
    pub(crate) reps: usize,
    /// `spawn_many`: tasks spawned.
    pub(crate) spawn_many: usize,
    /// `yield_many`: tasks, and yields per task.
    pub(crate) yield_tasks: usize,
    pub(crate) yields: usize,
    /// `ping_pong`: pairs, and round trips per pair.
    pub(crate) pairs: usize,
    pub(crate) round_trips: usize,
    /// `chained_spawn`: tasks per chain, and chains.
    pub(crate) chain_len: usize,
    pub(crate) chains: usize,
    /// `timers`: sleeping tasks.
    pub(crate) timers: usize,
    /// `timer_churn`: the sizes, one workload each.
    pub(crate) churn: Vec<usize>,
    /// `gather`: children per gather, and gathers per repetition.
    pub(crate) gather: usize,
    pub(crate) gather_rounds: usize,
    /// `call_soon`: callbacks (asyncio-rs only).
    #[cfg_attr(not(feature = "asyncio-rs"), allow(dead_code))]
    pub(crate) call_soon: usize,
    /// `memory`: pending tasks.
    pub(crate) memory: usize,
}

impl Sizes {
    /// The sizes of the full run, or of the quick one (`PEERS_QUICK=1`).
    pub(crate) fn new(quick: bool) -> Self {
        Sizes {
            reps: if quick { 3 } else { 7 },
            spawn_many: 100_000,
            yield_tasks: 1_000,
            yields: 1_000,
            pairs: 1_000,
            round_trips: 100,
            chain_len: 1_000,
            chains: 100,
            timers: 100_000,
            churn: if quick {
                vec![1_000, 10_000, 100_000]
            } else {
                vec![1_000, 10_000, 100_000, 1_000_000]
            },
            gather: 10_000,
            gather_rounds: 10,
            call_soon: 1_000_000,
            memory: if quick { 100_000 } else { 1_000_000 },
        }
    }
}

/// The name of `timer_churn` at size `n`: `timer_churn_1e3` for 1000.
pub(crate) fn churn_name(n: usize) -> String {
    let exp = (n as f64).log10().round() as u32;
    if 10usize.pow(exp) == n {
        format!("timer_churn_1e{exp}")
    } else {
        format!("timer_churn_{n}")
    }
}

/// Everything one invocation was asked to do.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    /// `PEERS_QUICK=1`: the reduced run.
    pub(crate) quick: bool,
    pub(crate) sizes: Sizes,
    /// `PEERS_ONLY=spawn_many,timers`: run only these workloads (`timer_churn` selects every
    /// size, `memory` also reports `memory_allocs`).
    only: Option<Vec<String>>,
    /// `PEERS_RUNTIMES=asyncio-rs,tokio`: run only these runtimes (`cpython` and `uvloop` pick
    /// the Python side).
    runtimes: Option<Vec<String>>,
    /// `PEERS_PYTHON=0`: do not run `asyncio_bench.py`.
    pub(crate) python: bool,
}

fn list(var: &str) -> Option<Vec<String>> {
    let value = std::env::var(var).ok()?;
    let items: Vec<String> = value
        .split(',')
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect();
    (!items.is_empty()).then_some(items)
}

impl Config {
    /// Reads the `PEERS_*` environment variables.
    pub(crate) fn from_env() -> Self {
        let quick = std::env::var("PEERS_QUICK").is_ok_and(|v| v != "0" && !v.is_empty());
        Config {
            quick,
            sizes: Sizes::new(quick),
            only: list("PEERS_ONLY"),
            runtimes: list("PEERS_RUNTIMES"),
            python: std::env::var("PEERS_PYTHON").map_or(true, |v| v != "0"),
        }
    }

    /// Whether the workload `name` was asked for.
    pub(crate) fn wants_workload(&self, name: &str) -> bool {
        self.only.as_ref().is_none_or(|only| {
            only.iter()
                .any(|w| w == name || (w == "timer_churn" && name.starts_with("timer_churn_")))
        })
    }

    /// Whether the runtime `name` was asked for.
    pub(crate) fn wants_runtime(&self, name: &str) -> bool {
        self.runtimes
            .as_ref()
            .is_none_or(|runtimes| runtimes.iter().any(|r| r == name))
    }
}
