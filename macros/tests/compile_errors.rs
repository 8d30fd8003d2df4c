//! The compile errors of `#[asyncio::main]` and `#[asyncio::test]`: for each function the
//! attributes refuse, rustc must report exactly one error, with our message, underlining the
//! tokens at fault.
//!
//! Each case is compiled by rustc itself (metadata only, so it is quick), with the macro
//! crate this test belongs to passed as `--extern asyncio=...`: `#[asyncio::main]` then
//! resolves to the macro directly, and no other crate is needed, because a refused function
//! expands to the error and a stand-in `fn` that names nothing. No `trybuild`: the checks are
//! the message and the underlined text, not a whole rendered `.stderr` file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::{env, fs};

/// One error as rustc reports it: the message and the source text it underlines.
#[derive(Debug, PartialEq)]
struct Reported {
    message: String,
    underlined: String,
}

#[test]
fn main_without_async_is_refused_at_the_fn_keyword() {
    assert_refused(
        "#[asyncio::main]\nfn main() {}\n",
        "`#[asyncio::main]` needs an async function: write `async fn main`",
        "fn",
    );
}

#[test]
fn main_with_arguments_is_refused_at_the_parameters() {
    assert_refused(
        "#[asyncio::main]\nasync fn main(count: u32, name: &str) {}\n",
        "`#[asyncio::main]` functions take no arguments \
         (a program reads its command line with `std::env::args()`)",
        "(count: u32, name: &str)",
    );
}

#[test]
fn generic_main_is_refused_at_the_generics_even_with_an_arrow_inside() {
    assert_refused(
        "#[asyncio::main]\nasync fn main<T: Default, F: Fn() -> T>() {}\n",
        "`#[asyncio::main]` functions cannot be generic: nothing would choose the generic \
         parameters",
        "<T: Default, F: Fn() -> T>",
    );
}

#[test]
fn main_takes_no_options_and_says_how_to_get_a_virtual_clock() {
    assert_refused(
        "#[asyncio::main(virtual_time)]\nasync fn main() {}\n",
        "`#[asyncio::main]` takes no options; for a program on a virtual clock, call \
         `asyncio::Runner::virtual_time().run(...)` in a plain `fn main`",
        "virtual_time",
    );
}

#[test]
fn unsafe_main_is_refused_at_the_qualifier() {
    assert_refused(
        "#[asyncio::main]\nasync unsafe fn main() {}\n",
        "`#[asyncio::main]` cannot be used on an `unsafe` function",
        "unsafe",
    );
}

#[test]
fn test_without_async_is_refused_at_the_fn_keyword() {
    assert_refused(
        "#[asyncio::test]\nfn adds() { assert_eq!(1 + 1, 2); }\n",
        "`#[asyncio::test]` needs an async function: write `async fn adds`",
        "fn",
    );
}

#[test]
fn test_with_arguments_is_refused_at_the_parameters() {
    assert_refused(
        "#[asyncio::test]\nasync fn adds(n: u32) { let _ = n; }\n",
        "`#[asyncio::test]` functions take no arguments",
        "(n: u32)",
    );
}

#[test]
fn generic_test_is_refused_at_the_generics() {
    assert_refused(
        "#[asyncio::test]\nasync fn adds<T>() {}\n",
        "`#[asyncio::test]` functions cannot be generic: nothing would choose the generic \
         parameters",
        "<T>",
    );
}

#[test]
fn an_unknown_test_option_is_refused_by_name() {
    assert_refused(
        "#[asyncio::test(virtual_time, start_paused)]\nasync fn adds() {}\n",
        "unknown option `start_paused` of `#[asyncio::test]`: the only option is `virtual_time`",
        "start_paused",
    );
}

#[test]
fn a_test_option_with_a_value_is_refused_whole() {
    assert_refused(
        "#[asyncio::test(virtual_time = true)]\nasync fn adds() {}\n",
        "the options of `#[asyncio::test]` are bare words: write \
         `#[asyncio::test(virtual_time)]`",
        "virtual_time = true",
    );
}

#[test]
fn virtual_time_given_twice_is_refused_the_second_time() {
    let source = "#[asyncio::test(virtual_time, virtual_time)]\nasync fn adds() {}\n";
    let reported = compile(source);
    assert_eq!(
        reported,
        [Reported {
            message: "`virtual_time` is given twice".to_owned(),
            underlined: "virtual_time".to_owned(),
        }]
    );
    let second = source.rfind("virtual_time").unwrap();
    assert_eq!(byte_ranges(source)[0].0, second, "the first one is fine");
}

#[test]
fn a_second_test_attribute_is_refused() {
    assert_refused(
        "#[asyncio::test]\n#[test]\nasync fn adds() {}\n",
        "remove this `#[test]`: `#[asyncio::test]` already makes the function a test",
        "#[test]",
    );
}

#[test]
fn an_item_that_is_not_a_function_is_refused() {
    assert_refused(
        "#[asyncio::test]\nstruct Adds;\n",
        "`#[asyncio::test]` goes on an `async fn`",
        "struct",
    );
}

#[test]
fn every_fault_of_one_function_is_reported() {
    let reported = compile("#[asyncio::main]\nfn main<T>(n: T) {}\n");
    let underlined: Vec<&str> = reported.iter().map(|r| r.underlined.as_str()).collect();
    assert_eq!(underlined, ["fn", "<T>", "(n: T)"], "{reported:#?}");
}

/// Compiles `source` and asserts it is refused with exactly one error, `message`, under
/// `underlined`.
fn assert_refused(source: &str, message: &str, underlined: &str) {
    assert_eq!(
        compile(source),
        [Reported {
            message: message.to_owned(),
            underlined: underlined.to_owned(),
        }],
        "for:\n{source}"
    );
}

/// The errors rustc reports for `source`, in order (the closing "aborting due to ..." and
/// any warnings left out).
fn compile(source: &str) -> Vec<Reported> {
    let output = run_rustc(source);
    let mut reported = Vec::new();
    for line in output.lines().filter(|line| line.starts_with('{')) {
        let message = json_string(line, "message").expect("a diagnostic has a message");
        let is_error = json_string(line, "level").as_deref() == Some("error");
        if !is_error || message.starts_with("aborting due to") {
            continue; // warnings (an unused struct, say) are not what this file tests
        }
        let start = json_number(line, "byte_start").expect("our errors have a span");
        let end = json_number(line, "byte_end").expect("our errors have a span");
        reported.push(Reported {
            message,
            underlined: source[start..end].to_owned(),
        });
    }
    reported
}

/// The byte ranges of the errors rustc reports for `source`.
fn byte_ranges(source: &str) -> Vec<(usize, usize)> {
    run_rustc(source)
        .lines()
        .filter(|line| {
            line.starts_with("{\"$message_type\":\"diagnostic\"") && line.contains("\"byte_start\"")
        })
        .map(|line| {
            let start = json_number(line, "byte_start").unwrap();
            (start, json_number(line, "byte_end").unwrap())
        })
        .collect()
}

/// rustc's JSON diagnostics for `source`, compiled as a library against the macro crate.
fn run_rustc(source: &str) -> String {
    static CASES: AtomicUsize = AtomicUsize::new(0);
    let dir = env::temp_dir().join(format!(
        "asyncio-macros-compile-errors-{}-{}",
        std::process::id(),
        CASES.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("case.rs");
    fs::write(&file, source).unwrap();
    let output = Command::new(env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .args(["--edition=2024", "--crate-type=lib", "--crate-name=case"])
        .args(["--emit=metadata", "--error-format=json", "--out-dir"])
        .arg(&dir)
        .arg("--extern")
        .arg(format!("asyncio={}", macro_library().display()))
        .arg(&file)
        .output()
        .expect("rustc runs");
    fs::remove_dir_all(&dir).unwrap();
    assert!(!output.status.success(), "rustc accepted:\n{source}");
    String::from_utf8(output.stderr).unwrap()
}

/// The macro crate as a compiled proc-macro library: cargo puts it in the `deps` directory
/// beside this test's executable (the newest one, should older builds linger there).
fn macro_library() -> PathBuf {
    let exe = env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let prefix = format!("{}asyncio_macros-", env::consts::DLL_PREFIX);
    let newest = fs::read_dir(deps)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with(&prefix) && name.ends_with(env::consts::DLL_SUFFIX)
        })
        .max_by_key(|path| modified(path));
    newest.unwrap_or_else(|| {
        panic!(
            "no {prefix}*{} in {}",
            env::consts::DLL_SUFFIX,
            deps.display()
        )
    })
}

fn modified(path: &Path) -> std::time::SystemTime {
    fs::metadata(path).and_then(|m| m.modified()).unwrap()
}

/// The first string value of `"key"` in a line of JSON (enough for rustc's diagnostics,
/// whose top-level `message` and `level` come before any nested ones).
fn json_string(json: &str, key: &str) -> Option<String> {
    let start = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut value = String::new();
    let mut chars = json[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}

/// The first number value of `"key"` in a line of JSON.
fn json_number(json: &str, key: &str) -> Option<usize> {
    let start = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let digits: String = json[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}
