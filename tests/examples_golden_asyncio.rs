//! Golden-output tests for the asyncio examples: each example prints the lines of the
//! tutorial program it mirrors, as recorded in `tests/golden/<name>.txt`, and takes as long as
//! the tutorial says it should (`say_after`: 4 s with tasks, 5 s without).
//!
//! Unlike the generator examples (`examples_golden_generators.rs`), these print clock readings
//! and sleep for real, so:
//!
//! - Output is normalised before it is compared: timestamps, thread ids and potato ids become
//!   placeholders (`<ctime>`, `<datetime>`, `<time>`, `<unix>`, `<tid>`, `<id>`). The scanners
//!   that do it are at the bottom of this file, with a test of their own.
//! - Wall time is measured around the example binary, never around `cargo run` (which may
//!   compile first). The examples are built once, by whichever test gets there first, with the
//!   same `cargo` and profile (debug) as the tests; the binaries are then run straight from
//!   `<target dir>/debug/examples/`.
//! - The slow examples (1 to 10 s each, almost all of it asleep) are all started together
//!   right after that build, each timed on its own thread, and every test collects its own
//!   run. The file takes about as long as the slowest example (`display_date`, 10 s) rather
//!   than the sum of them, however many test threads there are. When the test binary is given
//!   a filter (`cargo test --test examples_golden_asyncio dispatcher`), nothing is started
//!   ahead and each test runs its example itself.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// Every example this file runs; only these are built.
const EXAMPLES: &[&str] = &[
    "hello_world",
    "say_after",
    "display_date",
    "compute_sum",
    "future_result",
    "hello_tasks",
    "dispatcher",
    "potatoes",
    "future_await",
    "locked_counter",
    "queue_pipeline",
    "timeouts",
    "task_group",
    "slow_callback",
];

/// The runs that sleep for a second or more: started all at once, see the file's docs.
const SLOW_RUNS: &[(&str, &[&str])] = &[
    ("display_date", &[]),
    ("say_after", &["--sequential"]),
    ("say_after", &[]),
    ("dispatcher", &[]),
    ("hello_world", &[]),
    ("compute_sum", &[]),
    ("future_result", &[]),
    ("future_result", &["--forever"]),
    ("hello_tasks", &[]),
    ("future_await", &[]),
];

/// What one run of an example printed, and how long it took.
#[derive(Debug)]
struct Run {
    stdout: String,
    elapsed: Duration,
}

impl Run {
    fn seconds(&self) -> f64 {
        self.elapsed.as_secs_f64()
    }

    /// Fails the test unless the run took between `min` and `max` seconds.
    fn assert_took(&self, what: &str, min: f64, max: f64) {
        let t = self.seconds();
        assert!(
            (min..=max).contains(&t),
            "{what} took {t:.3} s, expected {min}..{max} s; it printed:\n{}",
            self.stdout
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Building and running the examples
// ---------------------------------------------------------------------------------------------

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where cargo puts the debug example binaries: `$CARGO_TARGET_DIR` if set (relative to the
/// package, where cargo runs tests), else `<package>/target`.
fn examples_dir() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => manifest_dir().join(dir),
        None => manifest_dir().join("target"),
    };
    target.join("debug").join("examples")
}

/// `cargo build --examples`, for the examples of this file only (so that an example someone
/// is still writing cannot break these tests).
fn build_examples() {
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args(["build", "--quiet", "--manifest-path"])
        .arg(manifest_dir().join("Cargo.toml"));
    for name in EXAMPLES {
        cargo.args(["--example", name]);
    }
    let output = cargo
        .output()
        .unwrap_or_else(|error| panic!("could not start cargo build: {error}"));
    assert!(
        output.status.success(),
        "cargo build --examples failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs an already-built example to completion, timing it.
fn run_binary(name: &str, args: &[&str]) -> Result<Run, String> {
    let binary = examples_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let start = Instant::now();
    let output = Command::new(&binary)
        .args(args)
        .output()
        .map_err(|error| format!("could not start {}: {error}", binary.display()))?;
    let elapsed = start.elapsed();
    if !output.status.success() {
        return Err(format!(
            "example {name} {args:?} exited with {}:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let stdout = String::from_utf8(output.stdout)
        .map_err(|_| format!("example {name} {args:?} printed invalid UTF-8"))?;
    Ok(Run { stdout, elapsed })
}

fn run_key(name: &str, args: &[&str]) -> String {
    format!("{name} {}", args.join(" "))
}

/// The slow runs already under way, by [`run_key`]; each test removes and waits for its own.
type Started = Mutex<HashMap<String, Receiver<Result<Run, String>>>>;

/// Builds the examples, then (unless the tests were filtered) starts every slow run.
fn build_and_start() -> Started {
    build_examples();
    let mut started = HashMap::new();
    let filtered = std::env::args().skip(1).any(|arg| !arg.starts_with('-'));
    if !filtered {
        for &(name, args) in SLOW_RUNS {
            let (send, receive) = channel();
            thread::spawn(move || send.send(run_binary(name, args)));
            started.insert(run_key(name, args), receive);
        }
    }
    Mutex::new(started)
}

/// Runs example `name` with `args` (or collects the run started ahead for it).
fn run_example(name: &str, args: &[&str]) -> Run {
    static STARTED: OnceLock<Started> = OnceLock::new();
    let started = STARTED.get_or_init(build_and_start);
    let ahead = started
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .remove(&run_key(name, args));
    let result = match ahead {
        Some(receive) => receive
            .recv()
            .unwrap_or_else(|_| Err(format!("the thread running {name} {args:?} died"))),
        None => run_binary(name, args),
    };
    result.unwrap_or_else(|error| panic!("{error}"))
}

/// The recorded, normalised output of the tutorial program mirrored by `cargo run --example
/// <golden>` (for a variant, `<example>_<variant>`).
fn golden(golden: &str) -> String {
    let path = manifest_dir()
        .join("tests/golden")
        .join(format!("{golden}.txt"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("could not read {}: {error}", path.display()))
}

/// Fails unless `actual` (already normalised) is exactly the golden file's text.
fn assert_golden(golden_name: &str, actual: &str) {
    let expected = golden(golden_name);
    assert!(
        actual == expected,
        "output differs from tests/golden/{golden_name}.txt\n--- expected\n{expected}--- actual\n{actual}---"
    );
}

/// Runs an example, compares its normalised output with `tests/golden/<golden_name>.txt`, and
/// returns the run for further checks.
fn assert_prints_golden(golden_name: &str, name: &str, args: &[&str]) -> Run {
    let run = run_example(name, args);
    assert_golden(golden_name, &normalise(&run.stdout));
    run
}

// ---------------------------------------------------------------------------------------------
// Issue 2: the tutorial programs on the event loop
// ---------------------------------------------------------------------------------------------

#[test]
fn hello_world_says_world_one_second_after_hello() {
    let run = assert_prints_golden("hello_world", "hello_world", &[]);
    run.assert_took("hello_world", 1.0, 1.5);
}

#[test]
fn say_after_with_tasks_finishes_in_four_seconds_not_five() {
    let run = assert_prints_golden("say_after", "say_after", &[]);
    run.assert_took("say_after", 4.0, 4.6);
}

#[test]
fn say_after_sequential_awaits_take_five_seconds() {
    let run = assert_prints_golden("say_after_sequential", "say_after", &["--sequential"]);
    run.assert_took("say_after --sequential", 5.0, 5.6);
}

#[test]
fn display_date_prints_twelve_lines_over_ten_seconds() {
    let run = assert_prints_golden("display_date", "display_date", &[]);
    let loops = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("Loop: "))
        .count();
    assert_eq!(loops, 12, "Loop: lines in\n{}", run.stdout);
    run.assert_took("display_date", 10.0, 10.6);
}

#[test]
fn compute_sum_computes_three_sums_in_one_second() {
    let run = assert_prints_golden("compute_sum", "compute_sum", &[]);
    run.assert_took("compute_sum", 1.0, 1.5);
}

#[test]
fn future_result_prints_false_then_the_result_after_one_second() {
    let run = assert_prints_golden("future_result", "future_result", &[]);
    run.assert_took("future_result", 1.0, 1.5);
}

#[test]
fn future_result_forever_is_stopped_by_the_done_callback() {
    let run = assert_prints_golden("future_result_forever", "future_result", &["--forever"]);
    run.assert_took("future_result --forever", 1.0, 1.5);
}

#[test]
fn hello_tasks_sleep_together_on_one_thread() {
    let run = assert_prints_golden("hello_tasks", "hello_tasks", &[]);
    run.assert_took("hello_tasks", 1.0, 1.5);
    let threads: Vec<&str> = run
        .stdout
        .lines()
        .map(|l| l.split_once(" (").map_or("", |(_, thread)| thread))
        .collect();
    assert!(
        threads.iter().all(|t| *t == threads[0]),
        "all four lines name the same thread:\n{}",
        run.stdout
    );
}

#[test]
fn dispatcher_runs_both_functions_in_three_seconds_not_six() {
    const TOTAL: &str = "总耗时:  ";
    let run = run_example("dispatcher", &[]);
    let total: f64 = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix(TOTAL))
        .unwrap_or_else(|| panic!("no total line in\n{}", run.stdout))
        .parse()
        .expect("the total is a number");
    assert!(
        (3.0..=3.5).contains(&total),
        "the dispatcher reports {total} s"
    );
    run.assert_took("dispatcher", 3.0, 3.5);
    let normalised = replace_number_after(&normalise(&run.stdout), TOTAL, "<elapsed>");
    assert_golden("dispatcher", &normalised);
}

#[test]
fn dispatcher_on_a_virtual_clock_takes_exactly_three_seconds_and_no_real_time() {
    // Exact: virtual times need no normalising, and the total is `3.0`.
    let run = run_example("dispatcher", &["--virtual"]);
    assert_golden("dispatcher_virtual", &run.stdout);
    assert!(run.seconds() < 1.0, "took {:.3} s", run.seconds());
}

// ---------------------------------------------------------------------------------------------
// Futures, locks, queues and async generators
// ---------------------------------------------------------------------------------------------

#[test]
fn potatoes_buyers_each_get_ten_different_potatoes() {
    let run = run_example("potatoes", &["--fast", "--seed", "42"]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let count = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(count("Got potato "), 10, "potato lines in\n{}", run.stdout);
    assert_eq!(count("Got tomato "), 10, "tomato lines in\n{}", run.stdout);
    assert_eq!(lines.len(), 20, "nothing else is printed:\n{}", run.stdout);

    // Every potato is taken once: the pool is shared, never copied.
    let mut ids: Vec<&str> = lines
        .iter()
        .map(|l| l[11..].trim_end_matches("..."))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 20, "a potato was taken twice:\n{}", run.stdout);

    // Which buyer gets which potato depends on the random restocking times racing on the real
    // clock, so compare the lines as a multiset, not in order.
    let sorted = |text: &str| {
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines.sort();
        lines
    };
    assert_eq!(
        sorted(&normalise(&run.stdout)),
        sorted(&golden("potatoes")),
        "potatoes --fast --seed 42, sorted and normalised"
    );
    run.assert_took("potatoes --fast", 0.0, 2.0);
}

#[test]
fn future_await_prints_data_once_coro1_sets_the_future() {
    let run = assert_prints_golden("future_await", "future_await", &[]);
    run.assert_took("future_await", 1.0, 1.5);
}

#[test]
fn timeouts_example_prints_exact_virtual_times() {
    let run = assert_prints_golden("timeouts", "timeouts", &[]);
    run.assert_took("timeouts", 0.0, 1.0);
}

#[test]
fn task_group_example_cancels_the_siblings_and_reports_the_failure() {
    assert_prints_golden("task_group", "task_group", &[]);
}

#[test]
fn slow_callback_example_warns_in_debug_mode_only() {
    build_and_start();
    let binary = examples_dir().join("slow_callback");
    let run = |debug: bool| {
        let mut cmd = Command::new(&binary);
        cmd.env_remove("ASYNCIO_DEBUG");
        if debug {
            cmd.env("ASYNCIO_DEBUG", "1");
        }
        let out = cmd.output().expect("run slow_callback");
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let debug = run(true);
    assert!(
        debug.contains("Executing <Task name='slow'> took 0.2"),
        "with ASYNCIO_DEBUG=1 the slow step is reported:\n{debug}"
    );
    assert!(!run(false).contains("Executing <Task"));
}

#[test]
fn locked_counter_with_the_lock_counts_every_increment() {
    assert_prints_golden("locked_counter", "locked_counter", &[]);
}

#[test]
fn locked_counter_without_the_lock_loses_all_but_one_update() {
    let run = assert_prints_golden("locked_counter_no_lock", "locked_counter", &["--no-lock"]);
    assert!(run.stdout.contains("counter = 1\n"), "{}", run.stdout);
}

#[test]
fn queue_pipeline_hands_five_items_to_two_consumers_in_a_fixed_order() {
    assert_prints_golden("queue_pipeline", "queue_pipeline", &[]);
}

#[test]
fn queue_pipeline_consumes_every_item_it_produces() {
    let run = run_example("queue_pipeline", &["8"]);
    let count = |prefix: &str| run.stdout.lines().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(count("[PRODUCER] Producing "), 8, "{}", run.stdout);
    assert_eq!(count("[CONSUMER a] Consuming "), 4, "{}", run.stdout);
    assert_eq!(count("[CONSUMER b] Consuming "), 4, "{}", run.stdout);
    assert!(
        run.stdout
            .ends_with("[PRODUCER] Consumer return: 200 OK (8 items: a 4, b 4)\n"),
        "{}",
        run.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// The normaliser: small scanners, no regex
// ---------------------------------------------------------------------------------------------

/// Replaces what changes from run to run with placeholders, line by line.
fn normalise(text: &str) -> String {
    text.lines()
        .map(|line| {
            // Longest shapes first: a ctime or a datetime contains an `HH:MM:SS`.
            let line = replace_shape(line, "@@@ @@@ ~# ##:##:## ####", "<ctime>");
            let line = replace_shape(&line, "####-##-## ##:##:##.######", "<datetime>");
            let line = replace_shape(&line, "##:##:##", "<time>");
            let line = replace_unix_times(&line);
            let line = replace_number_after(&line, "ThreadId(", "<tid>");
            let line = replace_number_after(&line, "Got potato ", "<id>");
            replace_number_after(&line, "Got tomato ", "<id>") + "\n"
        })
        .collect()
}

/// Whether character `c` fits shape character `s`: `#` a digit, `@` an ASCII letter, `~` a
/// digit or a space (ctime pads the day with one), anything else itself.
fn fits(c: char, s: char) -> bool {
    match s {
        '#' => c.is_ascii_digit(),
        '@' => c.is_ascii_alphabetic(),
        '~' => c == ' ' || c.is_ascii_digit(),
        _ => c == s,
    }
}

/// Replaces every run of characters that has `shape` (see [`fits`]), and no digit right
/// before or after it, with `placeholder`.
fn replace_shape(line: &str, shape: &str, placeholder: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let shape: Vec<char> = shape.chars().collect();
    let digit_at = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit);
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        let end = i + shape.len();
        let here = end <= chars.len()
            && chars[i..end].iter().zip(&shape).all(|(&c, &s)| fits(c, s))
            && !(i > 0 && digit_at(i - 1))
            && !digit_at(end);
        if here {
            out.push_str(placeholder);
            i = end;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Replaces `time.time()` readings (at least 9 integer digits, a dot, a fraction) with `<unix>`.
fn replace_unix_times(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let digits_from = |i: usize| chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        let whole = digits_from(i);
        if whole == 0 {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let dot = i + whole;
        let fraction = if chars.get(dot) == Some(&'.') {
            digits_from(dot + 1)
        } else {
            0
        };
        if whole >= 9 && fraction > 0 {
            out.push_str("<unix>");
            i = dot + 1 + fraction;
        } else {
            out.extend(&chars[i..dot]);
            i = dot;
        }
    }
    out
}

/// Replaces the number (digits and dots) right after each `prefix` with `placeholder`.
fn replace_number_after(text: &str, prefix: &str, placeholder: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let after = at + prefix.len();
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        let number = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        // "Got potato 12..." ends in dots that are not part of the number.
        let number = rest[..number].trim_end_matches('.').len();
        if number > 0 {
            out.push_str(placeholder);
            rest = &rest[number..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn normaliser_replaces_every_clock_format_and_id_but_nothing_else() {
    let cases = [
        ("[Mon Nov 23 02:00:35 2026] hello", "[<ctime>] hello"),
        ("Sun Jun  3 21:48:03 2019  world!", "<ctime>  world!"),
        ("started at 21:56:59", "started at <time>"),
        (
            "Loop: 1 Time: 2026-11-23 02:00:35.123456",
            "Loop: 1 Time: <datetime>",
        ),
        (
            "a函数开始执行:  1795399989.066407",
            "a函数开始执行:  <unix>",
        ),
        ("b函数执行结束:  1795400063.0", "b函数执行结束:  <unix>"),
        (
            "Hello1 world! (<Thread(main, ThreadId(1))>)",
            "Hello1 world! (<Thread(main, ThreadId(<tid>))>)",
        ),
        ("Got potato 140234...", "Got potato <id>..."),
        ("Got tomato 7...", "Got tomato <id>..."),
        // Left alone: short numbers, floats, and times inside longer digit runs.
        ("111 + 112 = 223", "111 + 112 = 223"),
        ("总耗时:  3.0", "总耗时:  3.0"),
        ("12:34:567", "12:34:567"),
        ("[PRODUCER] Producing 5...", "[PRODUCER] Producing 5..."),
    ];
    for (raw, expected) in cases {
        assert_eq!(
            normalise(raw),
            format!("{expected}\n"),
            "normalising {raw:?}"
        );
    }
    assert_eq!(
        replace_number_after("总耗时:  3.0030882358551025\n", "总耗时:  ", "<elapsed>"),
        "总耗时:  <elapsed>\n"
    );
}
