//! Golden-output tests for the generator examples: each example prints exactly the lines of the
//! tutorial program it mirrors, as recorded in `tests/golden/<example>.txt`.
//!
//! Cargo gives tests no path to example binaries, so each test runs
//! `cargo run --quiet --example NAME` with the same `cargo` that runs the tests. Examples that
//! sleep like their tutorial program get `--fast`, which shortens or skips the sleeps but
//! prints the same lines.

use std::path::Path;
use std::process::Command;

/// Runs an example to completion and returns its standard output.
fn run_example(name: &str, args: &[&str]) -> String {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .arg("run")
        .arg("--quiet")
        .arg("--manifest-path")
        .arg(&manifest)
        .args(["--example", name, "--"])
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("could not start cargo for example {name}: {error}"));
    assert!(
        output.status.success(),
        "example {name} exited with {}:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("examples print UTF-8")
}

/// The recorded output of the tutorial program for `name`.
fn golden(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.txt"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("could not read {}: {error}", path.display()))
}

fn assert_prints_golden(name: &str, args: &[&str]) {
    let actual = run_example(name, args);
    let expected = golden(name);
    assert!(
        actual == expected,
        "example {name} does not print its tutorial program's output\n--- expected\n{expected}--- actual\n{actual}---"
    );
}

#[test]
fn simple_coroutine_prints_the_tutorial_output() {
    assert_prints_golden("simple_coroutine", &["--fast"]);
}

#[test]
fn squares_prints_the_tutorial_output() {
    assert_prints_golden("squares", &[]);
}

#[test]
fn consumer_produce_prints_the_tutorial_output() {
    assert_prints_golden("consumer_produce", &[]);
}

#[test]
fn num_echo_prints_the_tutorial_output() {
    assert_prints_golden("num_echo", &[]);
}

#[test]
fn two_generators_prints_the_tutorial_output() {
    assert_prints_golden("two_generators", &[]);
}

#[test]
fn workers_prints_the_tutorial_output_in_three_rounds_by_default() {
    assert_prints_golden("workers", &["--fast"]);
}

#[test]
fn workers_stops_after_the_given_number_of_rounds() {
    let recorded: Vec<String> = golden("workers").lines().map(str::to_owned).collect();
    for rounds in [1, 2] {
        let actual = run_example("workers", &[&rounds.to_string(), "--fast"]);
        // Each full round prints 5 lines; the last one stops after 乙's 3.
        let expected = recorded[..5 * rounds - 2].join("\n") + "\n";
        assert_eq!(actual, expected, "workers {rounds} --fast");
    }
}

#[test]
fn fib_prints_the_tutorial_output() {
    assert_prints_golden("fib", &[]);
}

#[test]
fn coroutine_send_prints_the_tutorial_output() {
    assert_prints_golden("coroutine_send", &[]);
}

#[test]
fn status_consumer_prints_the_tutorial_output() {
    assert_prints_golden("status_consumer", &[]);
}

#[test]
fn drive_by_hand_prints_the_tutorial_output() {
    assert_prints_golden("drive_by_hand", &[]);
}

#[test]
fn interleave_prints_the_tutorial_output() {
    assert_prints_golden("interleave", &[]);
}

#[test]
fn generator_object_runs_the_function_but_not_the_generator_body() {
    let out = run_example("generator_object", &[]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(&lines[..2], ["good", "2"]);
    // The tutorial prints `<generator object consumer at 0x0000000002433BF8>`: only the address
    // differs, and "good" is printed once, by the function, not by the unstarted generator.
    assert!(
        lines[2].starts_with("<generator object consumer at 0x") && lines[2].ends_with('>'),
        "{out}"
    );
}
