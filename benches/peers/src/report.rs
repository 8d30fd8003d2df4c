//! Results: each printed as a `RESULT <workload> <runtime> <value>` line the moment it is known,
//! and all of them as a table at the end, with ratios to the best Rust peer.

use crate::runtimes::{RUST_PEERS, RUST_RUNTIMES};

/// The Python runtimes, after the Rust ones in the table.
const PYTHON_RUNTIMES: &[&str] = &["cpython", "uvloop"];

/// Every result of this invocation, in the order they came.
#[derive(Debug, Default)]
pub(crate) struct Results {
    rows: Vec<(String, String, f64)>,
}

/// What a workload's value counts.
fn unit(workload: &str) -> &'static str {
    match workload {
        "memory" => "B/task",
        "memory_allocs" => "allocs/spawn",
        "memory_heap" => "heap B/task",
        "timers" => "cpu ns/op",
        _ => "ns/op",
    }
}

/// A value, short: `12.3`, `1234`, `1.2e6`, `nan`.
fn short(value: f64) -> String {
    if !value.is_finite() {
        "nan".to_owned()
    } else if value.abs() >= 1e6 {
        format!("{value:.2e}")
    } else if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

impl Results {
    /// Records one result and prints its `RESULT` line.
    pub(crate) fn record(&mut self, workload: &str, runtime: &str, value: f64) {
        println!("RESULT {workload} {runtime} {value}");
        self.rows
            .push((workload.to_owned(), runtime.to_owned(), value));
    }

    /// Records a line `RESULT <workload> <runtime> <value>` from a child process; other lines
    /// are ignored. Returns whether it was a result.
    pub(crate) fn record_line(&mut self, line: &str) -> bool {
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next(), words.next()) {
            (Some("RESULT"), Some(workload), Some(runtime), Some(value)) => {
                let value = value.parse().unwrap_or(f64::NAN);
                self.record(workload, runtime, value);
                true
            }
            _ => false,
        }
    }

    fn get(&self, workload: &str, runtime: &str) -> Option<f64> {
        self.rows
            .iter()
            .rev()
            .find(|(w, r, _)| w == workload && r == runtime)
            .map(|&(_, _, v)| v)
    }

    /// The best (lowest) value among the Rust peers for `workload`.
    fn best_peer(&self, workload: &str) -> Option<f64> {
        RUST_PEERS
            .iter()
            .filter_map(|rt| self.get(workload, rt))
            .filter(|v| v.is_finite())
            .min_by(f64::total_cmp)
    }

    /// Prints the table: per workload, each runtime's value and its ratio to the best Rust peer
    /// (asyncio-rs excluded from "best"), then how many times faster asyncio-rs is than CPython.
    pub(crate) fn print_table(&self) {
        if self.rows.is_empty() {
            return;
        }
        let mut workloads: Vec<&str> = Vec::new();
        for (w, _, _) in &self.rows {
            if !workloads.contains(&w.as_str()) {
                workloads.push(w);
            }
        }
        let runtimes: Vec<&str> = RUST_RUNTIMES
            .iter()
            .chain(PYTHON_RUNTIMES)
            .copied()
            .filter(|rt| self.rows.iter().any(|(_, r, _)| r == rt))
            .collect();

        let mut header = vec!["workload".to_owned(), "unit".to_owned()];
        header.extend(runtimes.iter().map(|rt| rt.to_string()));
        header.push("cpython/asyncio-rs".to_owned());
        let mut lines = vec![header];
        for w in &workloads {
            let best = self.best_peer(w);
            let mut line = vec![w.to_string(), unit(w).to_owned()];
            for rt in &runtimes {
                line.push(match (self.get(w, rt), best) {
                    (None, _) => "-".to_owned(),
                    (Some(v), Some(best)) if best > 0.0 && v.is_finite() => {
                        format!("{} ({:.2}x)", short(v), v / best)
                    }
                    (Some(v), _) => short(v),
                });
            }
            line.push(match (self.get(w, "cpython"), self.get(w, "asyncio-rs")) {
                (Some(py), Some(rs)) if rs > 0.0 && py.is_finite() => format!("{:.1}x", py / rs),
                _ => "-".to_owned(),
            });
            lines.push(line);
        }

        let columns = lines[0].len();
        let widths: Vec<usize> = (0..columns)
            .map(|c| lines.iter().map(|l| l[c].len()).max().unwrap_or(0))
            .collect();
        println!();
        println!(
            "ratio = value / best Rust peer (tokio, tokio-localset, async-executor, localpool)"
        );
        for (i, line) in lines.iter().enumerate() {
            let cells: Vec<String> = line
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(c, (cell, &w))| {
                    if c < 2 {
                        format!("{cell:<w$}")
                    } else {
                        format!("{cell:>w$}")
                    }
                })
                .collect();
            println!("{}", cells.join("  "));
            if i == 0 {
                println!(
                    "{}",
                    "-".repeat(widths.iter().sum::<usize>() + 2 * (columns - 1))
                );
            }
        }
    }
}
