//! The results: every visit's client report, every syscall count, and what is printed from them
//! (medians over the rounds, as Markdown tables and `RESULT echo ...` lines).

use std::collections::HashMap;
use std::fmt::Write as _;

use super::syscalls::Counts;
use crate::client::Report;

/// The server the CPU ratios are taken against.
const REFERENCE: &str = "tokio";

/// A client whose own core was busier than this may have been the bottleneck.
const CLIENT_BUSY_PCT: f64 = 90.0;

/// Syscall counts of one (load, server), and the round trips they cover.
#[derive(Debug, Clone)]
pub(crate) struct SyscallSample {
    pub(crate) counts: Counts,
    pub(crate) rts: u64,
}

/// One (load, server)'s medians over the rounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Medians {
    /// Server `utime + stime` per round trip, µs.
    pub(crate) cpu_us: Option<f64>,
    /// Server scheduler run time per round trip, µs.
    pub(crate) sched_us: Option<f64>,
    /// Server run-queue wait, % of the window.
    pub(crate) wait_pct: Option<f64>,
    pub(crate) rps: f64,
    pub(crate) p50_us: f64,
    pub(crate) p99_us: f64,
    pub(crate) client_cpu_pct: f64,
}

/// Everything measured in one run.
#[derive(Debug, Default)]
pub(crate) struct Results {
    /// Load names, in order.
    pub(crate) loads: Vec<String>,
    /// Server names that took part, in order.
    pub(crate) servers: Vec<&'static str>,
    visits: HashMap<(String, String), Vec<Report>>,
    syscalls: HashMap<(String, String), SyscallSample>,
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

impl Results {
    /// No results yet, for these loads and servers (in table order).
    pub(crate) fn new(loads: Vec<String>, servers: Vec<&'static str>) -> Results {
        Results {
            loads,
            servers,
            ..Default::default()
        }
    }

    /// Records one visit's report.
    pub(crate) fn add_visit(&mut self, load: &str, server: &str, report: Report) {
        self.visits
            .entry((load.to_owned(), server.to_owned()))
            .or_default()
            .push(report);
    }

    /// Records the syscall counts of `(load, server)`.
    pub(crate) fn add_syscalls(&mut self, load: &str, server: &str, sample: SyscallSample) {
        self.syscalls
            .insert((load.to_owned(), server.to_owned()), sample);
    }

    /// The medians of `(load, server)`, if it was visited.
    pub(crate) fn medians(&self, load: &str, server: &str) -> Option<Medians> {
        let visits = self.visits.get(&(load.to_owned(), server.to_owned()))?;
        let per_rt = |f: fn(&Report) -> Option<f64>| {
            median(
                visits
                    .iter()
                    .filter_map(|r| Some(f(r)? / r.rts as f64))
                    .collect(),
            )
        };
        Some(Medians {
            cpu_us: per_rt(|r| r.server_cpu_us),
            sched_us: per_rt(|r| r.server_sched_us),
            wait_pct: median(visits.iter().filter_map(|r| r.server_wait_pct).collect()),
            rps: median(visits.iter().map(Report::rps).collect())?,
            p50_us: median(visits.iter().map(|r| r.p50_us).collect())?,
            p99_us: median(visits.iter().map(|r| r.p99_us).collect())?,
            client_cpu_pct: median(visits.iter().map(|r| r.client_cpu_pct).collect())?,
        })
    }

    /// Syscalls per round trip of `(load, server)`: the total and `(name, per rt)`.
    pub(crate) fn syscalls_per_rt(
        &self,
        load: &str,
        server: &str,
    ) -> Option<(f64, Vec<(String, f64)>)> {
        let s = self.syscalls.get(&(load.to_owned(), server.to_owned()))?;
        let rts = s.rts.max(1) as f64;
        let by_name = s
            .counts
            .by_name
            .iter()
            .map(|(n, c)| (n.clone(), *c as f64 / rts))
            .collect();
        Some((s.counts.total as f64 / rts, by_name))
    }

    /// `RESULT echo <load> <server> <metric> <value>` for every figure.
    pub(crate) fn result_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for load in &self.loads {
            for &server in &self.servers {
                let mut put = |metric: &str, value: f64| {
                    lines.push(format!("RESULT echo {load} {server} {metric} {value:.4}"));
                };
                if let Some(m) = self.medians(load, server) {
                    if let Some(v) = m.cpu_us {
                        put("cpu_us", v);
                    }
                    if let Some(v) = m.sched_us {
                        put("sched_us", v);
                    }
                    if let Some(v) = m.wait_pct {
                        put("server_wait_pct", v);
                    }
                    put("rps", m.rps);
                    put("p50_us", m.p50_us);
                    put("p99_us", m.p99_us);
                    put("client_cpu_pct", m.client_cpu_pct);
                }
                if let Some((total, by_name)) = self.syscalls_per_rt(load, server) {
                    put("syscalls", total);
                    for (name, v) in by_name {
                        put(&format!("sys_{name}"), v);
                    }
                }
            }
        }
        lines
    }

    fn table(&self, out: &mut String, cell: impl Fn(&str, &str) -> Option<String>) {
        let _ = writeln!(out, "| server | {} |", self.loads.join(" | "));
        let _ = writeln!(out, "|---|{}", "---:|".repeat(self.loads.len()));
        for &server in &self.servers {
            let cells: Vec<String> = self
                .loads
                .iter()
                .map(|load| cell(load, server).unwrap_or_else(|| "-".to_owned()))
                .collect();
            let _ = writeln!(out, "| {server} | {} |", cells.join(" | "));
        }
        out.push('\n');
    }

    /// The Markdown report: `heading` (run description, machine, notes) first, then the tables.
    pub(crate) fn markdown(&self, heading: &str, syscall_method: Option<&str>) -> String {
        let mut out = String::new();
        out.push_str(heading);
        out.push('\n');

        let reference = |load: &str| self.medians(load, REFERENCE).and_then(|m| m.cpu_us);
        let _ = writeln!(
            out,
            "### Server CPU per round trip (µs: utime + stime from /proc/PID/stat; in brackets the ratio to {REFERENCE})\n"
        );
        self.table(&mut out, |load, server| {
            let cpu = self.medians(load, server)?.cpu_us?;
            Some(match reference(load) {
                Some(r) if r > 0.0 => format!("{} ({:.2}x)", short(cpu), cpu / r),
                _ => short(cpu),
            })
        });

        let _ = writeln!(
            out,
            "### Requests per second (closed loop; † the client used over {CLIENT_BUSY_PCT:.0}% of its core, so it may have been the limit)\n"
        );
        self.table(&mut out, |load, server| {
            let m = self.medians(load, server)?;
            let mark = if m.client_cpu_pct > CLIENT_BUSY_PCT {
                " †"
            } else {
                ""
            };
            Some(format!("{}{mark}", thousands(m.rps)))
        });

        out.push_str(
            "### Server waiting for its CPU (% of the window the server was runnable while another process had CPU 0; schedstat)\n\n",
        );
        self.table(&mut out, |load, server| {
            Some(format!("{:.1}", self.medians(load, server)?.wait_pct?))
        });

        out.push_str("### Latency p50 / p99 (µs)\n\n");
        self.table(&mut out, |load, server| {
            let m = self.medians(load, server)?;
            Some(format!("{} / {}", short(m.p50_us), short(m.p99_us)))
        });

        if let Some(method) = syscall_method {
            let _ = writeln!(out, "### Syscalls per round trip ({method})\n");
            self.table(&mut out, |load, server| {
                Some(format!("{:.2}", self.syscalls_per_rt(load, server)?.0))
            });
            out.push_str("### Syscall breakdown per round trip (those at 0.01 or more)\n\n");
            self.table(&mut out, |load, server| {
                let (_, by_name) = self.syscalls_per_rt(load, server)?;
                let parts: Vec<String> = by_name
                    .iter()
                    .filter(|(_, v)| *v >= 0.005)
                    .map(|(n, v)| format!("{n} {v:.2}"))
                    .collect();
                Some(parts.join(", "))
            });
        }
        out
    }
}

/// `12.3`, `1.23`, `1234`.
fn short(value: f64) -> String {
    if !value.is_finite() {
        "nan".to_owned()
    } else if value >= 1000.0 {
        thousands(value)
    } else if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// `123,457`.
fn thousands(value: f64) -> String {
    if !value.is_finite() {
        return "nan".to_owned();
    }
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0.0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(rts: u64, cpu_us: f64, p50: f64) -> Report {
        Report {
            rts,
            secs: 1.0,
            p50_us: p50,
            p99_us: p50 * 2.0,
            server_cpu_us: Some(cpu_us),
            server_sched_us: None,
            server_wait_pct: None,
            client_cpu_pct: 95.0,
            all_rts: rts,
        }
    }

    #[test]
    fn medians_are_per_metric_over_the_rounds() {
        let mut r = Results::default();
        r.add_visit("1k-c1", "tokio", report(1000, 5000.0, 10.0));
        r.add_visit("1k-c1", "tokio", report(1000, 7000.0, 30.0));
        r.add_visit("1k-c1", "tokio", report(2000, 8000.0, 20.0));
        let m = r.medians("1k-c1", "tokio").unwrap();
        assert_eq!(m.cpu_us, Some(5.0)); // 5, 7 and 4 us per round trip
        assert_eq!(m.rps, 1000.0);
        assert_eq!(m.p50_us, 20.0);
        assert_eq!(m.sched_us, None);
        assert!(r.medians("1k-c1", "c-epoll").is_none());
    }

    #[test]
    fn tables_show_ratios_to_tokio_and_mark_a_busy_client() {
        let mut r = Results::new(vec!["1k-c1".into()], vec!["tokio", "c-epoll"]);
        r.add_visit("1k-c1", "tokio", report(1000, 5000.0, 10.0));
        r.add_visit("1k-c1", "c-epoll", report(1000, 4000.0, 10.0));
        r.add_syscalls(
            "1k-c1",
            "c-epoll",
            SyscallSample {
                counts: Counts {
                    total: 3000,
                    by_name: vec![
                        ("read".into(), 1000),
                        ("write".into(), 1000),
                        ("epoll_wait".into(), 1000),
                    ],
                },
                rts: 1000,
            },
        );
        let md = r.markdown("## run\n", Some("perf"));
        assert!(md.contains("| c-epoll | 4.00 (0.80x) |"), "{md}");
        assert!(md.contains("| tokio | 1,000 † |"), "{md}");
        assert!(
            md.contains("| c-epoll | read 1.00, write 1.00, epoll_wait 1.00 |"),
            "{md}"
        );
        assert!(md.contains("| tokio | - |"), "{md}");
        let lines = r.result_lines();
        assert!(
            lines.contains(&"RESULT echo 1k-c1 c-epoll syscalls 3.0000".to_owned()),
            "{lines:?}"
        );
        assert!(lines.contains(&"RESULT echo 1k-c1 tokio cpu_us 5.0000".to_owned()));
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(short(1.23456), "1.23");
        assert_eq!(short(31.4159), "31.4");
        assert_eq!(short(12345.0), "12,345");
    }
}
